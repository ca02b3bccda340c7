/* sched_plan.c — plans, search solutions, and semi-active decoding. */

#include "sched_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double sched__now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double sched__thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ plans */

sched_plan_t *sched_plan_new(int n_ops)
{
    if (n_ops < 0)
        return NULL;
    sched_plan_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->e = calloc((size_t)n_ops + 1, sizeof *p->e);
    if (!p->e) {
        free(p);
        return NULL;
    }
    p->n = n_ops;
    return p;
}

void sched_plan_destroy(sched_plan_t **pp)
{
    if (!pp || !*pp)
        return;
    free((*pp)->e);
    free(*pp);
    *pp = NULL;
}

int sched_plan_size(const sched_plan_t *p) { return p->n; }
long sched_plan_makespan(const sched_plan_t *p) { return p->makespan; }
long long sched_plan_wtard(const sched_plan_t *p) { return p->wtard; }

sched_entry_t sched_plan_entry(const sched_plan_t *p, int i)
{
    sched_entry_t none = { -1, -1, -1, 0, 0 };
    return i >= 0 && i < p->n ? p->e[i] : none;
}

int sched_plan_set_entry(sched_plan_t *p, int i, sched_entry_t e)
{
    if (!p || i < 0 || i >= p->n)
        return -1;
    p->e[i] = e;
    return 0;
}

void sched_plan_score(sched_plan_t *p, const sched_inst_t *in)
{
    long cmax = 0;
    long long twt = 0;
    int nj = in->n_jobs;
    long *done = calloc((size_t)nj + 1, sizeof(long));
    for (int i = 0; i < p->n; i++) {
        const sched_entry_t *e = &p->e[i];
        if (e->end_tu > cmax)
            cmax = e->end_tu;
        if (done && e->job >= 0 && e->job < nj && e->end_tu > done[e->job])
            done[e->job] = e->end_tu;
    }
    for (int j = 0; done && j < nj; j++)
        if (in->due[j] >= 0 && done[j] > in->due[j])
            twt += (long long)in->weight[j] * (done[j] - in->due[j]);
    free(done);
    p->makespan = cmax;
    p->wtard = twt;
}

/* -------------------------------------------------------------- solutions */

int sched__sol_init(sched_sol_t *s, int n, int m)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->m = m;
    s->mach = malloc(((size_t)n + 1) * sizeof(int));
    s->dur = malloc(((size_t)n + 1) * sizeof(int));
    s->mp = malloc(((size_t)n + 1) * sizeof(int));
    s->ms = malloc(((size_t)n + 1) * sizeof(int));
    s->mfirst = malloc(((size_t)m + 1) * sizeof(int));
    s->mlast = malloc(((size_t)m + 1) * sizeof(int));
    if (!s->mach || !s->dur || !s->mp || !s->ms || !s->mfirst || !s->mlast) {
        sched__sol_free(s);
        return -1;
    }
    return 0;
}

void sched__sol_free(sched_sol_t *s)
{
    free(s->mach); free(s->dur); free(s->mp); free(s->ms);
    free(s->mfirst); free(s->mlast);
    memset(s, 0, sizeof *s);
}

void sched__sol_copy(sched_sol_t *d, const sched_sol_t *s)
{
    size_t n = (size_t)s->n * sizeof(int), m = (size_t)s->m * sizeof(int);
    memcpy(d->mach, s->mach, n);
    memcpy(d->dur, s->dur, n);
    memcpy(d->mp, s->mp, n);
    memcpy(d->ms, s->ms, n);
    memcpy(d->mfirst, s->mfirst, m);
    memcpy(d->mlast, s->mlast, m);
}

void sched__sol_unlink(sched_sol_t *s, int u)
{
    int p = s->mp[u], n = s->ms[u], m = s->mach[u];
    if (p >= 0) s->ms[p] = n; else if (s->mfirst[m] == u) s->mfirst[m] = n;
    if (n >= 0) s->mp[n] = p; else if (s->mlast[m] == u) s->mlast[m] = p;
    s->mp[u] = s->ms[u] = -1;
}

void sched__sol_insert_after(sched_sol_t *s, int u, int m, int v)
{
    int n = v >= 0 ? s->ms[v] : s->mfirst[m];
    s->mach[u] = m;
    s->mp[u] = v;
    s->ms[u] = n;
    if (v >= 0) s->ms[v] = u; else s->mfirst[m] = u;
    if (n >= 0) s->mp[n] = u; else s->mlast[m] = u;
}

typedef struct {
    int m, start, o;
} s_key_t;

static int s_cmp_key(const void *a, const void *b)
{
    const s_key_t *x = a, *y = b;
    if (x->m != y->m)
        return x->m < y->m ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->o > y->o) - (x->o < y->o);
}

/* Orders each machine's operations by (start, op id).  The plan must list
 * operations in instance order (as every plan this module makes does). */
void sched__sol_from_plan(sched_sol_t *s, const sched_inst_t *in,
                          const sched_plan_t *plan)
{
    int n = in->n_ops;
    s_key_t *key = malloc(((size_t)n + 1) * sizeof *key);
    for (int m = 0; m < s->m; m++)
        s->mfirst[m] = s->mlast[m] = -1;
    if (!key)
        return;
    for (int o = 0; o < n; o++) {
        const sched_entry_t *e = &plan->e[o];
        s->mach[o] = e->machine;
        s->dur[o] = in->op_dur[o];
        key[o] = (s_key_t){ e->machine, e->start_tu, o };
    }
    qsort(key, (size_t)n, sizeof *key, s_cmp_key);
    for (int i = 0; i < n; i++) {
        int o = key[i].o, m = s->mach[o];
        s->mp[o] = s->mlast[m];
        s->ms[o] = -1;
        if (s->mlast[m] >= 0)
            s->ms[s->mlast[m]] = o;
        else
            s->mfirst[m] = o;
        s->mlast[m] = o;
    }
    free(key);
}

int sched__decode(const sched_inst_t *in, const sched_sol_t *s, int *start,
                  int *order, int *indeg)
{
    int n = in->n_ops, head = 0, tail = 0;
    const int *job = in->op_job, *jf = in->job_first;
    for (int o = 0; o < n; o++) {
        indeg[o] = (o != jf[job[o]]) + (s->mp[o] >= 0);
        if (!indeg[o])
            order[tail++] = o;
    }
    while (head < tail) {
        int o = order[head++], j = job[o], m = s->mach[o];
        int t = o == jf[j] ? in->release[j] : start[o - 1] + s->dur[o - 1];
        int p = s->mp[o];
        if (p >= 0) {
            int tm = start[p] + s->dur[p] + sched__setup(in, m, job[p], j);
            if (tm > t)
                t = tm;
        }
        start[o] = sched__avail(in, m, t, s->dur[o]);
        if (o + 1 < n && job[o + 1] == j && --indeg[o + 1] == 0)
            order[tail++] = o + 1;
        if (s->ms[o] >= 0 && --indeg[s->ms[o]] == 0)
            order[tail++] = s->ms[o];
    }
    return tail == n ? 0 : -1;
}

void sched__plan_fill(sched_plan_t *plan, const sched_inst_t *in,
                      const sched_sol_t *s, const int *start)
{
    for (int o = 0; o < in->n_ops; o++) {
        int j = in->op_job[o];
        sched_entry_t e = { j, o - in->job_first[j], s->mach[o], start[o],
                            start[o] + s->dur[o] };
        plan->e[o] = e;
    }
    sched_plan_score(plan, in);
}
