/* sched_dispatch.c — dispatch-rule schedules (FIFO, EDD, SPT baselines and
 * the randomised most-work-remaining construction for the search). */

/*
 * A dispatch schedule is built forward in time, one operation at a time.
 * Each step finds the machine m* and time t* at which the earliest possible
 * operation could start (non-delay) or finish (Giffler–Thompson "active"),
 * collects the competing operations whose job is ready on m* by then, and
 * lets the rule pick one.  With setups and windows the picked operation
 * starts at its own earliest time on m*.
 *
 * Baselines use non-delay with these exact rules, so that hand-checked
 * cases in the tests stay simple to reason about:
 *   FIFO  the operation that has waited longest (job ready earliest), then job index;
 *   EDD   earliest due date (no due date counts as last), then FIFO;
 *   SPT   shortest processing time, then FIFO.
 */

#include "sched_internal.h"

#include <limits.h>
#include <stdlib.h>

typedef struct {
    double key;             /* lower is better */
    int ready, job;
} s_prio_t;

static int s_better(const s_prio_t *a, const s_prio_t *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    if (a->ready != b->ready)
        return a->ready < b->ready;
    return a->job < b->job;
}

/* Earliest start of op o (job j) on machine m given the shop state. */
static int s_est(const sched_inst_t *in, int o, int m, int jready,
                 const int *mfree, const int *mjob)
{
    int t = jready;
    int tm = mfree[m] + sched__setup(in, m, mjob[m], in->op_job[o]);
    if (tm > t)
        t = tm;
    return sched__avail(in, m, t, in->op_dur[o]);
}

int sched__dispatch(const sched_inst_t *in, sched__prio_t prio, int active,
                    double noise, uint64_t *rng, sched_plan_t *plan)
{
    int nj = in->n_jobs, nm = in->n_machines, rc = -1;
    int *nxt = malloc(((size_t)nj + 1) * sizeof(int));
    int *jready = malloc(((size_t)nj + 1) * sizeof(int));
    long *work = malloc(((size_t)nj + 1) * sizeof(long));
    int *mfree = calloc((size_t)nm + 1, sizeof(int));
    int *mjob = malloc(((size_t)nm + 1) * sizeof(int));
    if (!nxt || !jready || !work || !mfree || !mjob)
        goto done;
    for (int j = 0; j < nj; j++) {
        nxt[j] = in->job_first[j];
        jready[j] = in->release[j];
        work[j] = 0;
        for (int o = in->job_first[j]; o < in->job_first[j + 1]; o++)
            work[j] += in->op_dur[o];
    }
    for (int m = 0; m < nm; m++)
        mjob[m] = -1;

    for (int step = 0; step < in->n_ops; step++) {
        /* Where and when does the earliest operation start (or finish)? */
        int best_t = INT_MAX, best_m = -1;
        for (int j = 0; j < nj; j++) {
            int o = nxt[j];
            if (o >= in->job_first[j + 1])
                continue;
            for (int a = 0; a < in->op_alt_n[o]; a++) {
                int m = in->alt_mach[in->op_alt_first[o] + a];
                int t = s_est(in, o, m, jready[j], mfree, mjob);
                if (active)
                    t += in->op_dur[o];
                if (t < best_t || (t == best_t && m < best_m)) {
                    best_t = t;
                    best_m = m;
                }
            }
        }
        if (best_m < 0)
            goto done;
        /* The rule picks among the jobs that compete for best_m by then. */
        int pick = -1, pick_t = 0;
        s_prio_t pick_p = { 0, 0, 0 };
        for (int j = 0; j < nj; j++) {
            int o = nxt[j], allowed = 0;
            if (o >= in->job_first[j + 1])
                continue;
            for (int a = 0; a < in->op_alt_n[o]; a++)
                allowed |= in->alt_mach[in->op_alt_first[o] + a] == best_m;
            if (!allowed)
                continue;
            int t = s_est(in, o, best_m, jready[j], mfree, mjob);
            if (active ? t >= best_t && t + in->op_dur[o] > best_t
                       : jready[j] > best_t)
                continue;
            s_prio_t p = { 0, jready[j], j };
            switch (prio) {
            case SCHED__PRIO_FIFO: p.key = 0; break;
            case SCHED__PRIO_EDD:
                p.key = in->due[j] >= 0 ? in->due[j] : 1e18;
                break;
            case SCHED__PRIO_SPT: p.key = in->op_dur[o]; break;
            case SCHED__PRIO_MWKR: p.key = -(double)work[j]; break;
            }
            if (noise > 0 && rng) {
                double u = (double)(sched__rand(rng) >> 11) / 9007199254740992.0;
                p.key *= 1.0 + noise * u;
            }
            if (pick < 0 || s_better(&p, &pick_p)) {
                pick = j;
                pick_p = p;
                pick_t = t;
            }
        }
        if (pick < 0)
            goto done;
        int o = nxt[pick];
        sched_entry_t e = { pick, o - in->job_first[pick], best_m, pick_t,
                            pick_t + in->op_dur[o] };
        plan->e[o] = e;
        jready[pick] = e.end_tu;
        work[pick] -= in->op_dur[o];
        mfree[best_m] = e.end_tu;
        mjob[best_m] = pick;
        nxt[pick]++;
    }
    sched_plan_score(plan, in);
    rc = 0;
done:
    free(nxt); free(jready); free(work); free(mfree); free(mjob);
    return rc;
}
