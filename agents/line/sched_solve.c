/* sched_solve.c — the solve entry point: baselines, construction, threads. */

#include "sched_internal.h"

#include <stdlib.h>
#include <string.h>

/* Randomised constructions tried per search thread; the best one starts. */
#define S_CONSTRUCT_TRIES 24
/* Priority noise of those constructions (relative). */
#define S_CONSTRUCT_NOISE 0.3

void sched_opts_default(sched_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->rule = SCHED_RULE_TABU;
    o->objective = SCHED_OBJ_MAKESPAN;
    o->budget_ms = 1000;
    o->threads = 1;
    o->seed = 1;
    o->target = -1;
}

static void s_err(char *err, const char *msg)
{
    if (err)
        snprintf(err, SCHED_ERR_LEN, "%s", msg);
}

static void s_plan_obj(const sched_plan_t *p, sched_obj_t obj, long long *a,
                       long long *b)
{
    *a = obj == SCHED_OBJ_WTARD ? p->wtard : p->makespan;
    *b = obj == SCHED_OBJ_WTARD ? p->makespan : p->wtard;
}

/* Best of several dispatch constructions (deterministic and randomised). */
static int s_construct(const sched_inst_t *in, sched_obj_t obj, uint64_t seed,
                       sched_sol_t *out)
{
    sched_plan_t *p = sched_plan_new(in->n_ops);
    sched_plan_t *best = sched_plan_new(in->n_ops);
    int rc = -1, have = 0;
    uint64_t rng = seed * 0xD1B54A32D192ED03ULL + 1;
    long long ba = 0, bb = 0;
    if (!p || !best)
        goto done;
    for (int t = 0; t < S_CONSTRUCT_TRIES; t++) {
        sched__prio_t prio = obj == SCHED_OBJ_WTARD && t % 2
                             ? SCHED__PRIO_EDD : SCHED__PRIO_MWKR;
        double noise = t < 4 ? 0 : S_CONSTRUCT_NOISE;
        if (sched__dispatch(in, prio, t % 4 != 1, noise, &rng, p) < 0)
            goto done;
        long long a, b;
        s_plan_obj(p, obj, &a, &b);
        if (!have || a < ba || (a == ba && b < bb)) {
            sched_plan_t *t2 = best;
            best = p;
            p = t2;
            ba = a;
            bb = b;
            have = 1;
        }
    }
    sched__sol_from_plan(out, in, best);
    rc = 0;
done:
    sched_plan_destroy(&p);
    sched_plan_destroy(&best);
    return rc;
}

typedef struct {
    sched__shared_t *sh;
    const sched_sol_t *start;   /* NULL: construct our own */
    uint64_t seed;
    int rc;
    long long start_a;
} s_worker_t;

static void *s_worker(void *arg)
{
    s_worker_t *w = arg;
    const sched_inst_t *in = w->sh->in;
    sched_sol_t own;
    double t0_cpu = sched__thread_cpu_s();    /* construction counts too */
    w->rc = -1;
    if (sched__sol_init(&own, in->n_ops, in->n_machines) < 0)
        return NULL;
    if (w->start)
        sched__sol_copy(&own, w->start);
    else if (s_construct(in, w->sh->obj, w->seed, &own) < 0)
        goto done;
    w->rc = sched__tabu_run(w->sh, &own, w->seed, t0_cpu);
done:
    sched__sol_free(&own);
    return NULL;
}

static sched_plan_t *s_dispatch_only(const sched_inst_t *in, sched_rule_t rule,
                                     sched_stats_t *st, char *err)
{
    static const sched__prio_t map[] = {
        [SCHED_RULE_FIFO] = SCHED__PRIO_FIFO,
        [SCHED_RULE_EDD] = SCHED__PRIO_EDD,
        [SCHED_RULE_SPT] = SCHED__PRIO_SPT,
    };
    double t0 = sched__now_s();
    sched_plan_t *p = sched_plan_new(in->n_ops);
    if (!p || sched__dispatch(in, map[rule], 0, 0, NULL, p) < 0) {
        s_err(err, "out of memory");
        sched_plan_destroy(&p);
        return NULL;
    }
    if (st) {
        st->t_best_s = st->t_total_s = sched__now_s() - t0;
        st->initial_makespan = p->makespan;
    }
    return p;
}

sched_plan_t *sched_solve(const sched_inst_t *cin, const sched_opts_t *opts,
                          sched_stats_t *st, char *err)
{
    sched_inst_t *in = (sched_inst_t *)cin;
    sched_opts_t o;
    if (opts)
        o = *opts;
    else
        sched_opts_default(&o);
    if (st)
        memset(st, 0, sizeof *st);
    if (!in || sched__inst_ready(in) < 0) {
        s_err(err, "no instance");
        return NULL;
    }
    if (o.threads < 1 || o.threads > SCHED_MAX_THREADS || o.budget_ms < 0) {
        s_err(err, "bad options: threads must be 1..64 and the budget >= 0");
        return NULL;
    }
    for (int j = 0; j < in->n_jobs; j++)
        if (in->job_first[j + 1] == in->job_first[j]) {
            if (err)
                snprintf(err, SCHED_ERR_LEN, "job %d has no operations", j);
            return NULL;
        }
    if (o.rule != SCHED_RULE_TABU)
        return s_dispatch_only(in, o.rule, st, err);

    sched__shared_t sh;
    memset(&sh, 0, sizeof sh);
    sched_sol_t rep;
    memset(&rep, 0, sizeof rep);
    s_worker_t w[SCHED_MAX_THREADS];
    pthread_t tid[SCHED_MAX_THREADS];
    int started = 0, failed = 0;
    sched_plan_t *plan = NULL;
    int *buf = NULL;
    pthread_mutex_init(&sh.mu, NULL);
    sh.in = in;
    sh.obj = o.objective;
    sh.t0_s = sched__now_s();
    sh.budget_s = o.budget_ms / 1000.0;
    sh.cpu_clock = o.cpu_clock;
    sh.target = o.target;
    sh.max_iters = o.max_iters;
    sh.lower_bound = sched_inst_lower_bound(in);
    sh.progress = o.progress;
    sh.progress_ctx = o.progress_ctx;
    if (sched__sol_init(&sh.best, in->n_ops, in->n_machines) < 0)
        goto oom;
    if (o.start) {
        if (sched_plan_size(o.start) < 0
            || sched__sol_init(&rep, in->n_ops, in->n_machines) < 0
            || sched__repair_start(in, o.start, o.objective, &rep) < 0)
            goto oom;
    }
    for (int t = 0; t < o.threads; t++) {
        w[t] = (s_worker_t){ &sh, o.start ? &rep : NULL,
                             (uint64_t)o.seed * 1000003ULL + (uint64_t)t, -1, 0 };
        if (o.threads == 1) {
            s_worker(&w[t]);
            started = 1;
            break;
        }
        if (pthread_create(&tid[t], NULL, s_worker, &w[t]) != 0)
            break;
        started++;
    }
    for (int t = 0; t < started && o.threads > 1; t++)
        pthread_join(tid[t], NULL);
    for (int t = 0; t < started; t++)
        failed |= w[t].rc < 0;
    if (!started || !sh.have_best || failed)
        goto oom;

    plan = sched_plan_new(in->n_ops);
    buf = malloc(3 * ((size_t)in->n_ops + 1) * sizeof(int));
    if (!plan || !buf)
        goto oom;
    if (sched__decode(in, &sh.best, buf, buf + in->n_ops + 1,
                      buf + 2 * (in->n_ops + 1)) < 0) {
        s_err(err, "internal error: best plan has a cycle");
        sched_plan_destroy(&plan);
        goto out;
    }
    sched__plan_fill(plan, in, &sh.best, buf);
    if (st) {
        st->t_best_s = sh.t_best_s;
        st->t_total_s = sched__now_s() - sh.t0_s;
        st->iterations = sh.iterations;
        st->initial_makespan = sh.initial_makespan;
    }
    goto out;
oom:
    s_err(err, "out of memory or no thread could start");
    sched_plan_destroy(&plan);
out:
    free(buf);
    sched__sol_free(&sh.best);
    sched__sol_free(&rep);
    pthread_mutex_destroy(&sh.mu);
    return plan;
}
