/* sched_repair.c — a start solution for a changed problem from the old plan. */

/*
 * Re-planning keeps what the previous plan decided wherever it still makes
 * sense: every operation that existed before keeps its machine (if still
 * allowed) and its place in that machine's order, given by its old start
 * time.  Operations that are new (new jobs, new steps) are first slotted in
 * where a most-work-remaining dispatch of the new problem would start them.  Keys
 * are made strictly increasing along each job, so the resulting machine
 * orders cannot contain a cycle.  New operations are then re-inserted one
 * by one at their best position; the decoder then pushes everything right
 * as far as the change (a breakdown window, longer times) requires, and the
 * search continues from there.
 */

#include "sched_internal.h"

#include <stdlib.h>

int sched__repair_start(const sched_inst_t *in, const sched_plan_t *prev,
                        sched_obj_t obj, sched_sol_t *s)
{
    int n = in->n_ops, rc = -1;
    sched_plan_t *disp = sched_plan_new(n);
    sched_plan_t *key = sched_plan_new(n);
    int *old = malloc(((size_t)n + 1) * sizeof(int));
    int *buf = malloc(3 * ((size_t)n + 1) * sizeof(int));
    if (!disp || !key || !old || !buf)
        goto done;
    if (sched__dispatch(in, SCHED__PRIO_MWKR, 1, 0, NULL, disp) < 0)
        goto done;
    for (int o = 0; o < n; o++)
        old[o] = -1;
    for (int i = 0; i < prev->n; i++) {
        const sched_entry_t *e = &prev->e[i];
        if (e->job < 0 || e->job >= in->n_jobs || e->op < 0
            || e->op >= in->job_first[e->job + 1] - in->job_first[e->job])
            continue;       /* a job or step that no longer exists */
        old[in->job_first[e->job] + e->op] = i;
    }
    for (int j = 0; j < in->n_jobs; j++) {
        long last = -1;
        for (int o = in->job_first[j]; o < in->job_first[j + 1]; o++) {
            sched_entry_t e = disp->e[o];
            if (old[o] >= 0) {
                const sched_entry_t *p = &prev->e[old[o]];
                int ok = 0;
                for (int a = 0; a < in->op_alt_n[o]; a++)
                    ok |= in->alt_mach[in->op_alt_first[o] + a] == p->machine;
                if (ok)
                    e.machine = p->machine;
                e.start_tu = p->start_tu;
            }
            if (e.start_tu <= last)
                e.start_tu = (int)last + 1;
            last = e.start_tu;
            key->e[o] = e;
        }
    }
    sched__sol_from_plan(s, in, key);
    /* New operations: take them out again and insert each, in job order,
     * at the best position of the best allowed machine (a cheap insertion
     * heuristic; operations not yet inserted do not occupy a machine). */
    for (int o = 0; o < n; o++)
        if (old[o] < 0)
            sched__sol_unlink(s, o);
    for (int o = 0; o < n; o++) {
        if (old[o] >= 0)
            continue;
        long long ba = -1, bb = 0;
        int bm = s->mach[o], bv = -1;
        for (int a = 0; a < in->op_alt_n[o]; a++) {
            int m = in->alt_mach[in->op_alt_first[o] + a];
            for (int v = -1;; v = v < 0 ? s->mfirst[m] : s->ms[v]) {
                sched__sol_insert_after(s, o, m, v);
                long long oa, ob;
                if (sched__decode(in, s, buf, buf + n + 1, buf + 2 * (n + 1)) == 0) {
                    sched__objective(in, obj, s, buf, &oa, &ob);
                    if (ba < 0 || oa < ba || (oa == ba && ob < bb)) {
                        ba = oa; bb = ob; bm = m; bv = v;
                    }
                }
                sched__sol_unlink(s, o);
                if ((v < 0 ? s->mfirst[m] : s->ms[v]) < 0)
                    break;
            }
        }
        sched__sol_insert_after(s, o, bm, bv);
    }
    if (sched__decode(in, s, buf, buf + n + 1, buf + 2 * (n + 1)) < 0)
        sched__sol_from_plan(s, in, disp);  /* cannot happen; stay safe */
    rc = 0;
done:
    sched_plan_destroy(&disp);
    sched_plan_destroy(&key);
    free(old);
    free(buf);
    return rc;
}
