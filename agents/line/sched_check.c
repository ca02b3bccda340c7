/* sched_check.c — independent feasibility checker for plans. */

/*
 * Deliberately uses only the public instance accessors and the plan's
 * entries, never the search's data structures or its decoder, so that a bug
 * in the search cannot hide itself here.
 */

#include "sched.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int s_fail(char *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, SCHED_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Does [s, e) clash with a window of machine m?  Zero-length operations only
 * clash strictly inside a window. */
static int s_in_window(const sched_inst_t *in, int m, int s, int e, int *ws,
                       int *we)
{
    for (int i = 0; i < sched_inst_windows(in, m); i++) {
        sched_inst_window(in, m, i, ws, we);
        if (e > s ? (s < *we && *ws < e) : (*ws < s && s < *we))
            return 1;
    }
    return 0;
}

/* Earliest start >= t of a run of length d on m, by repeated scanning. */
static int s_earliest(const sched_inst_t *in, int m, int t, int d)
{
    int ws, we;
    while (s_in_window(in, m, t, t + d, &ws, &we))
        t = we;
    return t;
}

typedef struct {
    int start, end, job, op, machine;
} s_row_t;

static int s_cmp(const void *a, const void *b)
{
    const s_row_t *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    if (x->job != y->job) return x->job < y->job ? -1 : 1;
    return (x->op > y->op) - (x->op < y->op);
}

int sched_check(const sched_inst_t *in, const sched_plan_t *plan,
                int semi_active, char *err)
{
    int nj = sched_inst_jobs(in), nm = sched_inst_machines(in);
    int n = sched_plan_size(plan), rc = -1;
    if (n != sched_inst_ops(in))
        return s_fail(err, "plan has %d operations, instance has %d", n,
                      sched_inst_ops(in));
    int *first = calloc((size_t)nj + 1, sizeof(int));
    int *idx = malloc(((size_t)n + 1) * sizeof(int));     /* (job,op) -> row */
    s_row_t *row = malloc(((size_t)n + 1) * sizeof *row);
    int *mend = malloc(((size_t)nm + 1) * sizeof(int));
    int *mjob = malloc(((size_t)nm + 1) * sizeof(int));
    int *cdone = malloc(((size_t)n + 1) * sizeof(int));
    if (!first || !idx || !row || !mend || !mjob || !cdone) {
        s_fail(err, "out of memory");
        goto done;
    }
    for (int j = 0; j < nj; j++)
        first[j + 1] = first[j] + sched_inst_job_ops(in, j);
    for (int i = 0; i < n; i++)
        idx[i] = -1;

    /* 1. Each operation exactly once, on an allowed machine, for its time. */
    for (int i = 0; i < n; i++) {
        sched_entry_t e = sched_plan_entry(plan, i);
        if (e.job < 0 || e.job >= nj || e.op < 0
            || e.op >= sched_inst_job_ops(in, e.job)) {
            s_fail(err, "entry %d: no operation %d of job %d", i, e.op, e.job);
            goto done;
        }
        int *slot = &idx[first[e.job] + e.op];
        if (*slot >= 0) {
            s_fail(err, "job %d op %d: scheduled twice", e.job, e.op);
            goto done;
        }
        *slot = i;
        int ok = 0;
        for (int a = 0; a < sched_inst_op_alts(in, e.job, e.op); a++)
            ok |= sched_inst_op_machine(in, e.job, e.op, a) == e.machine;
        if (!ok) {
            s_fail(err, "job %d op %d: machine %d is not allowed", e.job,
                   e.op, e.machine);
            goto done;
        }
        if (e.start_tu < 0
            || e.end_tu - e.start_tu != sched_inst_op_dur(in, e.job, e.op)) {
            s_fail(err, "job %d op %d: runs [%d, %d) but takes %d", e.job,
                   e.op, e.start_tu, e.end_tu, sched_inst_op_dur(in, e.job, e.op));
            goto done;
        }
        int ws, we;
        if (s_in_window(in, e.machine, e.start_tu, e.end_tu, &ws, &we)) {
            s_fail(err, "job %d op %d: runs [%d, %d) on machine %d, which is "
                   "down during [%d, %d)", e.job, e.op, e.start_tu, e.end_tu,
                   e.machine, ws, we);
            goto done;
        }
        row[i] = (s_row_t){ e.start_tu, e.end_tu, e.job, e.op, e.machine };
    }

    /* 2. Release times and job precedence. */
    long cmax = 0;
    long long twt = 0;
    for (int j = 0; j < nj; j++) {
        int prev_end = sched_inst_release(in, j);
        for (int k = 0; k < sched_inst_job_ops(in, j); k++) {
            const s_row_t *r = &row[idx[first[j] + k]];
            if (r->start < prev_end) {
                if (k)
                    s_fail(err, "job %d op %d: starts at %d before op %d ends "
                           "at %d", j, k, r->start, k - 1, prev_end);
                else
                    s_fail(err, "job %d op 0: starts at %d before its release "
                           "%d", j, r->start, prev_end);
                goto done;
            }
            prev_end = r->end;
        }
        if (prev_end > cmax)
            cmax = prev_end;
        int due = sched_inst_due(in, j);
        if (due >= 0 && prev_end > due)
            twt += (long long)sched_inst_weight(in, j) * (prev_end - due);
    }

    /* 3. Machine capacity with setups, in start order; then recompute the
     * earliest start of every operation under the same orders. */
    qsort(row, (size_t)n, sizeof *row, s_cmp);
    for (int m = 0; m < nm; m++) {
        mend[m] = 0;
        mjob[m] = -1;
    }
    for (int i = 0; i < n; i++) {
        const s_row_t *r = &row[i];
        int m = r->machine;
        int setup = mjob[m] >= 0 ? sched_inst_setup(in, m, mjob[m], r->job) : 0;
        if (mjob[m] >= 0 && r->start < mend[m] + setup) {
            s_fail(err, "machine %d: job %d op %d starts at %d, before the "
                   "previous job %d ends (%d) plus setup %d", m, r->job, r->op,
                   r->start, mjob[m], mend[m], setup);
            goto done;
        }
        if (semi_active) {
            int t = r->op ? cdone[first[r->job] + r->op - 1]
                          : sched_inst_release(in, r->job);
            if (mjob[m] >= 0 && mend[m] + setup > t)
                t = mend[m] + setup;
            t = s_earliest(in, m, t, r->end - r->start);
            if (t != r->start) {
                s_fail(err, "job %d op %d: starts at %d but could start at %d "
                       "(plan is not semi-active)", r->job, r->op, r->start, t);
                goto done;
            }
        }
        cdone[first[r->job] + r->op] = r->end;
        mend[m] = r->end;
        mjob[m] = r->job;
    }

    /* 4. The plan's stated objective values. */
    if (sched_plan_makespan(plan) != cmax || sched_plan_wtard(plan) != twt) {
        s_fail(err, "plan states makespan %ld and weighted tardiness %lld, "
               "recomputed %ld and %lld", sched_plan_makespan(plan),
               sched_plan_wtard(plan), cmax, twt);
        goto done;
    }
    rc = 0;
done:
    free(first); free(idx); free(row); free(mend); free(mjob); free(cdone);
    return rc;
}
