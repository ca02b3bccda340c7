/* sched_instance.c — job-shop instances: builder, indexes, accessors. */

#include "sched_internal.h"

#include <stdlib.h>
#include <string.h>

/* Largest instance we accept (operations), to fail cleanly on nonsense. */
#define SCHED_MAX_OPS 1000000

static int s_op(const sched_inst_t *in, int job, int k);

/* ---------------------------------------------------------------- builder */

static int s_grow(void **p, int *cap, int need, size_t elt)
{
    if (need <= *cap)
        return 0;
    int ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*p, (size_t)ncap * elt);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

sched_inst_t *sched_inst_new(int n_jobs, int n_machines)
{
    if (n_jobs < 0 || n_machines < 1 || n_jobs > SCHED_MAX_OPS
        || n_machines > SCHED_MAX_OPS)
        return NULL;
    sched_inst_t *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->n_machines = n_machines;
    for (int j = 0; j < n_jobs; j++)
        if (sched_inst_add_job(in) < 0)
            goto fail;
    return in;
fail:
    sched_inst_destroy(&in);
    return NULL;
}

void sched_inst_destroy(sched_inst_t **p_inst)
{
    if (!p_inst || !*p_inst)
        return;
    sched_inst_t *in = *p_inst;
    free(in->op_job); free(in->op_dur); free(in->op_alt_first);
    free(in->op_alt_n); free(in->alt_mach); free(in->job_first);
    free(in->release); free(in->job_nops); free(in->due); free(in->weight); free(in->setup);
    free(in->win_start); free(in->win_end); free(in->win_mach);
    free(in->win_first);
    free(in);
    *p_inst = NULL;
}

int sched_inst_add_job(sched_inst_t *in)
{
    if (!in)
        return -1;
    int j = in->n_jobs;
    int cap = in->job_cap;
    if (s_grow((void **)&in->release, &cap, j + 1, sizeof(int)) < 0)
        return -1;
    cap = in->job_cap;
    if (s_grow((void **)&in->due, &cap, j + 1, sizeof(int)) < 0)
        return -1;
    cap = in->job_cap;
    if (s_grow((void **)&in->weight, &cap, j + 1, sizeof(int)) < 0)
        return -1;
    cap = in->job_cap;
    if (s_grow((void **)&in->job_nops, &cap, j + 1, sizeof(int)) < 0)
        return -1;
    in->job_cap = cap;
    in->job_nops[j] = 0;
    in->release[j] = 0;
    in->due[j] = -1;
    in->weight[j] = 1;
    in->n_jobs++;
    in->ready = 0;
    if (in->setup) {
        /* The setup matrix is indexed by job: re-lay it out for one more. */
        int oj = in->setup_jobs, nj = in->n_jobs;
        int *ns = calloc((size_t)in->n_machines * nj * nj, sizeof(int));
        if (!ns)
            return -1;
        for (int m = 0; m < in->n_machines; m++)
            for (int a = 0; a < oj; a++)
                for (int b = 0; b < oj; b++)
                    ns[((size_t)m * nj + a) * nj + b] =
                        in->setup[((size_t)m * oj + a) * oj + b];
        free(in->setup);
        in->setup = ns;
        in->setup_jobs = nj;
    }
    return j;
}

int sched_inst_add_op(sched_inst_t *in, int job, const int *machines,
                      int n_alt, int dur_tu)
{
    if (!in || job < 0 || job >= in->n_jobs || !machines || n_alt < 1
        || dur_tu < 0 || dur_tu > SCHED_MAX_TIME_TU || in->n_ops >= SCHED_MAX_OPS)
        return -1;
    for (int i = 0; i < n_alt; i++)
        if (machines[i] < 0 || machines[i] >= in->n_machines)
            return -1;
    int n = in->n_ops, cap;
    cap = in->op_cap;
    if (s_grow((void **)&in->op_job, &cap, n + 1, sizeof(int)) < 0) return -1;
    cap = in->op_cap;
    if (s_grow((void **)&in->op_dur, &cap, n + 1, sizeof(int)) < 0) return -1;
    cap = in->op_cap;
    if (s_grow((void **)&in->op_alt_first, &cap, n + 1, sizeof(int)) < 0) return -1;
    cap = in->op_cap;
    if (s_grow((void **)&in->op_alt_n, &cap, n + 1, sizeof(int)) < 0) return -1;
    in->op_cap = cap;
    if (s_grow((void **)&in->alt_mach, &in->alt_cap, in->n_alts + n_alt,
               sizeof(int)) < 0)
        return -1;
    int k = in->job_nops[job]++;
    in->op_job[n] = job;
    in->op_dur[n] = dur_tu;
    in->op_alt_first[n] = in->n_alts;
    in->op_alt_n[n] = n_alt;
    memcpy(in->alt_mach + in->n_alts, machines, (size_t)n_alt * sizeof(int));
    in->n_alts += n_alt;
    in->n_ops++;
    in->ready = 0;
    return k;
}

int sched_inst_set_job(sched_inst_t *in, int job, int release_tu, int due_tu,
                       int weight)
{
    if (!in || job < 0 || job >= in->n_jobs || release_tu < 0
        || release_tu > SCHED_MAX_TIME_TU || due_tu < -1
        || due_tu > SCHED_MAX_TIME_TU || weight < 0 || weight > 1000000)
        return -1;
    in->release[job] = release_tu;
    in->due[job] = due_tu;
    in->weight[job] = weight;
    return 0;
}

int sched_inst_set_setup(sched_inst_t *in, int m, int from, int to, int t)
{
    if (!in || m < 0 || m >= in->n_machines || from < 0 || from >= in->n_jobs
        || to < 0 || to >= in->n_jobs || t < 0 || t > SCHED_MAX_TIME_TU)
        return -1;
    if (!in->setup) {
        in->setup = calloc((size_t)in->n_machines * in->n_jobs * in->n_jobs,
                           sizeof(int));
        if (!in->setup)
            return -1;
        in->setup_jobs = in->n_jobs;
    }
    in->setup[((size_t)m * in->setup_jobs + from) * in->setup_jobs + to] = t;
    return 0;
}

int sched_inst_add_window(sched_inst_t *in, int m, int start, int end)
{
    if (!in || m < 0 || m >= in->n_machines || start < 0 || end <= start
        || end > SCHED_MAX_TIME_TU)
        return -1;
    int n = in->n_win, cap;
    cap = in->win_cap;
    if (s_grow((void **)&in->win_start, &cap, n + 1, sizeof(int)) < 0) return -1;
    cap = in->win_cap;
    if (s_grow((void **)&in->win_end, &cap, n + 1, sizeof(int)) < 0) return -1;
    cap = in->win_cap;
    if (s_grow((void **)&in->win_mach, &cap, n + 1, sizeof(int)) < 0) return -1;
    in->win_cap = cap;
    in->win_start[n] = start;
    in->win_end[n] = end;
    in->win_mach[n] = m;
    in->n_win++;
    in->ready = 0;
    return 0;
}

int sched_inst_set_dur(sched_inst_t *in, int job, int k, int dur_tu)
{
    int o = s_op(in, job, k);
    if (o < 0 || dur_tu < 0 || dur_tu > SCHED_MAX_TIME_TU)
        return -1;
    in->op_dur[o] = dur_tu;
    return 0;
}

void sched_inst_set_name(sched_inst_t *in, const char *name)
{
    if (!in || !name)
        return;
    snprintf(in->name, sizeof in->name, "%s", name);
}

sched_inst_t *sched_inst_clone(const sched_inst_t *src)
{
    if (!src)
        return NULL;
    sched_inst_t *in = sched_inst_new(src->n_jobs, src->n_machines);
    if (!in)
        return NULL;
    sched_inst_set_name(in, src->name);
    for (int o = 0; o < src->n_ops; o++)
        if (sched_inst_add_op(in, src->op_job[o],
                              src->alt_mach + src->op_alt_first[o],
                              src->op_alt_n[o], src->op_dur[o]) < 0)
            goto fail;
    for (int j = 0; j < src->n_jobs; j++)
        sched_inst_set_job(in, j, src->release[j], src->due[j], src->weight[j]);
    if (src->setup) {
        size_t sz = (size_t)src->n_machines * src->n_jobs * src->n_jobs;
        in->setup = malloc(sz * sizeof(int));
        if (!in->setup)
            goto fail;
        memcpy(in->setup, src->setup, sz * sizeof(int));
        in->setup_jobs = src->setup_jobs;
    }
    for (int w = 0; w < src->n_win; w++)
        if (sched_inst_add_window(in, src->win_mach[w], src->win_start[w],
                                  src->win_end[w]) < 0)
            goto fail;
    return in;
fail:
    sched_inst_destroy(&in);
    return NULL;
}

/* ------------------------------------------------------------- finishing */

/* Sorts operations job-major (stable: order within a job is the order of
 * insertion) and windows by machine then start. */
int sched__inst_ready(sched_inst_t *in)
{
    if (in->ready)
        return 0;
    int n = in->n_ops;
    int *jf = calloc((size_t)in->n_jobs + 1, sizeof(int));
    int *perm = malloc(((size_t)n + 1) * sizeof(int));
    int *tmp = malloc(((size_t)n + 1) * sizeof(int) * 4);
    int *wf = calloc((size_t)in->n_machines + 1, sizeof(int));
    if (!jf || !perm || !tmp || !wf)
        goto fail;
    for (int o = 0; o < n; o++)
        jf[in->op_job[o] + 1]++;
    for (int j = 0; j < in->n_jobs; j++)
        jf[j + 1] += jf[j];
    int *fill = tmp;    /* reuse as cursor */
    memcpy(fill, jf, (size_t)in->n_jobs * sizeof(int));
    for (int o = 0; o < n; o++)
        perm[fill[in->op_job[o]]++] = o;
    int *a = tmp, *b = tmp + n, *c = tmp + 2 * n, *d = tmp + 3 * n;
    for (int i = 0; i < n; i++) {
        a[i] = in->op_job[perm[i]];
        b[i] = in->op_dur[perm[i]];
        c[i] = in->op_alt_first[perm[i]];
        d[i] = in->op_alt_n[perm[i]];
    }
    memcpy(in->op_job, a, (size_t)n * sizeof(int));
    memcpy(in->op_dur, b, (size_t)n * sizeof(int));
    memcpy(in->op_alt_first, c, (size_t)n * sizeof(int));
    memcpy(in->op_alt_n, d, (size_t)n * sizeof(int));
    free(in->job_first);
    in->job_first = jf;
    jf = NULL;

    /* Windows: insertion sort by (machine, start), then index per machine. */
    for (int i = 1; i < in->n_win; i++) {
        int ms = in->win_mach[i], st = in->win_start[i], en = in->win_end[i];
        int k = i - 1;
        while (k >= 0 && (in->win_mach[k] > ms
                          || (in->win_mach[k] == ms && in->win_start[k] > st))) {
            in->win_mach[k + 1] = in->win_mach[k];
            in->win_start[k + 1] = in->win_start[k];
            in->win_end[k + 1] = in->win_end[k];
            k--;
        }
        in->win_mach[k + 1] = ms;
        in->win_start[k + 1] = st;
        in->win_end[k + 1] = en;
    }
    for (int w = 0; w < in->n_win; w++)
        wf[in->win_mach[w] + 1]++;
    for (int m = 0; m < in->n_machines; m++)
        wf[m + 1] += wf[m];
    free(in->win_first);
    in->win_first = wf;
    free(perm);
    free(tmp);
    in->ready = 1;
    return 0;
fail:
    free(jf); free(perm); free(tmp); free(wf);
    return -1;
}

int sched__avail(const sched_inst_t *in, int m, int t, int d)
{
    if (!in->n_win)
        return t;
    /* Windows are sorted by start; a run that overlaps one moves to its end,
     * which can only overlap later windows. */
    for (int w = in->win_first[m]; w < in->win_first[m + 1]; w++) {
        if (in->win_end[w] <= t)
            continue;
        if (t + d > in->win_start[w] && !(d == 0 && t == in->win_start[w]))
            t = in->win_end[w];
        else if (in->win_start[w] >= t + d)
            break;
    }
    return t;
}

/* -------------------------------------------------------------- accessors */

/* Operation index of (job, k), or -1 if there is no such operation. */
static int s_op(const sched_inst_t *in, int job, int k)
{
    if (!in || job < 0 || job >= in->n_jobs || k < 0
        || sched__inst_ready((sched_inst_t *)in) < 0
        || k >= in->job_first[job + 1] - in->job_first[job])
        return -1;
    return in->job_first[job] + k;
}

static int s_job_ok(const sched_inst_t *in, int job)
{
    return in && job >= 0 && job < in->n_jobs;
}

static int s_mach_ok(const sched_inst_t *in, int m)
{
    return in && m >= 0 && m < in->n_machines
           && sched__inst_ready((sched_inst_t *)in) == 0;
}

/* Accessors return -1 (or 0 for counts) for out-of-range arguments. */
const char *sched_inst_name(const sched_inst_t *in) { return in ? in->name : ""; }
int sched_inst_jobs(const sched_inst_t *in) { return in ? in->n_jobs : 0; }
int sched_inst_machines(const sched_inst_t *in) { return in ? in->n_machines : 0; }
int sched_inst_ops(const sched_inst_t *in) { return in ? in->n_ops : 0; }
int sched_inst_job_ops(const sched_inst_t *in, int job)
{
    if (!s_job_ok(in, job) || sched__inst_ready((sched_inst_t *)in) < 0)
        return 0;
    return in->job_first[job + 1] - in->job_first[job];
}
int sched_inst_op_alts(const sched_inst_t *in, int job, int k)
{
    int o = s_op(in, job, k);
    return o < 0 ? 0 : in->op_alt_n[o];
}
int sched_inst_op_machine(const sched_inst_t *in, int job, int k, int i)
{
    int o = s_op(in, job, k);
    if (o < 0 || i < 0 || i >= in->op_alt_n[o])
        return -1;
    return in->alt_mach[in->op_alt_first[o] + i];
}
int sched_inst_op_dur(const sched_inst_t *in, int job, int k)
{
    int o = s_op(in, job, k);
    return o < 0 ? -1 : in->op_dur[o];
}
int sched_inst_release(const sched_inst_t *in, int job)
{
    return s_job_ok(in, job) ? in->release[job] : -1;
}
int sched_inst_due(const sched_inst_t *in, int job)
{
    return s_job_ok(in, job) ? in->due[job] : -1;
}
int sched_inst_weight(const sched_inst_t *in, int job)
{
    return s_job_ok(in, job) ? in->weight[job] : -1;
}
int sched_inst_setup(const sched_inst_t *in, int m, int from, int to)
{
    if (!s_mach_ok(in, m) || !s_job_ok(in, from) || !s_job_ok(in, to))
        return 0;
    return sched__setup(in, m, from, to);
}
int sched_inst_windows(const sched_inst_t *in, int m)
{
    if (!s_mach_ok(in, m))
        return 0;
    return in->win_first[m + 1] - in->win_first[m];
}
void sched_inst_window(const sched_inst_t *in, int m, int i, int *s, int *e)
{
    *s = *e = -1;
    if (i < 0 || i >= sched_inst_windows(in, m))
        return;
    *s = in->win_start[in->win_first[m] + i];
    *e = in->win_end[in->win_first[m] + i];
}

int sched_inst_is_classic(const sched_inst_t *in)
{
    if (in->n_win)
        return 0;
    for (int j = 0; j < in->n_jobs; j++)
        if (in->release[j] || in->due[j] >= 0)
            return 0;
    for (int o = 0; o < in->n_ops; o++)
        if (in->op_alt_n[o] != 1)
            return 0;
    if (in->setup) {
        size_t sz = (size_t)in->n_machines * in->setup_jobs * in->setup_jobs;
        for (size_t i = 0; i < sz; i++)
            if (in->setup[i])
                return 0;
    }
    return 1;
}

long sched_inst_lower_bound(const sched_inst_t *in)
{
    sched__inst_ready((sched_inst_t *)in);
    long lb = 0;
    long *load = calloc((size_t)in->n_machines, sizeof(long));
    for (int j = 0; j < in->n_jobs; j++) {
        long len = in->release[j];
        for (int o = in->job_first[j]; o < in->job_first[j + 1]; o++) {
            len += in->op_dur[o];
            /* Only single-machine operations load a machine for sure. */
            if (load && in->op_alt_n[o] == 1)
                load[in->alt_mach[in->op_alt_first[o]]] += in->op_dur[o];
        }
        if (len > lb)
            lb = len;
    }
    for (int m = 0; load && m < in->n_machines; m++)
        if (load[m] > lb)
            lb = load[m];
    free(load);
    return lb;
}
