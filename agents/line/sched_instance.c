/* sched_instance.c — job-shop instances: builder, accessors, file parsers. */

#include "sched_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Largest time value we accept anywhere, so that sums over a whole schedule
 * stay far from INT_MAX (about 2e9). */
#define SCHED_MAX_TIME_TU 10000000
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

/* ---------------------------------------------------------------- parsing */

typedef struct {
    const char *name;
    char *err;
    int line;           /* current line number, 1-based */
} s_ctx_t;

static void s_err(s_ctx_t *c, const char *fmt, ...)
{
    if (!c->err)
        return;
    char msg[SCHED_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->line > 0)
        snprintf(c->err, SCHED_ERR_LEN, "%.100s:%d: %.140s", c->name, c->line, msg);
    else
        snprintf(c->err, SCHED_ERR_LEN, "%.100s: %.140s", c->name, msg);
}

/* Splits a line (modified in place) into at most max tokens; '#' starts a
 * comment.  Returns the token count, or max + 1 if there are more. */
static int s_tokens(char *line, char **tok, int max)
{
    int n = 0;
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    for (char *p = line; *p;) {
        while (*p && (isspace((unsigned char)*p) || *p == ','))
            p++;
        if (!*p)
            break;
        if (n == max)
            return max + 1;
        tok[n++] = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',')
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

/* Parses a whole token as a non-negative int in [lo, hi]. */
static int s_int(s_ctx_t *c, const char *tok, const char *what, long lo,
                 long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(tok, &end, 10);
    if (end == tok || *end || errno) {
        s_err(c, "%s: expected an integer, got \"%.40s\"", what, tok);
        return -1;
    }
    if (v < lo) {
        s_err(c, "%s %ld is %s", what, v, v < 0 ? "negative" : "too small");
        return -1;
    }
    if (v > hi) {
        s_err(c, "%s %ld out of range (max %ld)", what, v, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Line iterator over a mutable copy of the text. */
typedef struct {
    char *p;
    s_ctx_t *c;
} s_lines_t;

/* Next line that has tokens; returns the count (0 at end of text). */
static int s_next(s_lines_t *it, char **tok, int max)
{
    while (it->p && *it->p) {
        char *line = it->p;
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            it->p = nl + 1;
        } else {
            it->p = line + strlen(line);
        }
        it->c->line++;
        int n = s_tokens(line, tok, max);
        if (n > 0)
            return n;
    }
    return 0;
}

#define S_MAX_TOK 4096

static int s_machine_list(s_ctx_t *c, char *tok, int n_machines, int *alts,
                          int *n_alt)
{
    *n_alt = 0;
    for (char *save = NULL, *t = strtok_r(tok, "/", &save); t;
         t = strtok_r(NULL, "/", &save)) {
        if (*n_alt == n_machines) {
            s_err(c, "too many alternative machines");
            return -1;
        }
        int m;
        if (s_int(c, t, "machine", 0, n_machines - 1, &m) < 0)
            return -1;
        alts[(*n_alt)++] = m;
    }
    if (!*n_alt) {
        s_err(c, "empty machine list");
        return -1;
    }
    return 0;
}

/* One directive line of the extended format (after the job lines). */
static int s_directive(s_ctx_t *c, sched_inst_t *in, char **tok, int n)
{
    int v[4] = { 0 };
    long J = in->n_jobs - 1, M = in->n_machines - 1, T = SCHED_MAX_TIME_TU;
    const char *kw = tok[0];
    if (!strcmp(kw, "release") || !strcmp(kw, "weight")) {
        if (n != 3) { s_err(c, "%s takes 2 numbers: job value", kw); return -1; }
        if (s_int(c, tok[1], "job", 0, J, &v[0]) < 0
            || s_int(c, tok[2], kw, 0, !strcmp(kw, "weight") ? 1000000 : T, &v[1]) < 0)
            return -1;
        if (!strcmp(kw, "release"))
            in->release[v[0]] = v[1];
        else
            in->weight[v[0]] = v[1];
        return 0;
    }
    if (!strcmp(kw, "due")) {
        if (n != 3 && n != 4) { s_err(c, "due takes: job time [weight]"); return -1; }
        if (s_int(c, tok[1], "job", 0, J, &v[0]) < 0
            || s_int(c, tok[2], "due date", 0, T, &v[1]) < 0
            || (n == 4 && s_int(c, tok[3], "weight", 0, 1000000, &v[2]) < 0))
            return -1;
        in->due[v[0]] = v[1];
        if (n == 4)
            in->weight[v[0]] = v[2];
        return 0;
    }
    if (!strcmp(kw, "setup")) {
        if (n != 5) { s_err(c, "setup takes 4 numbers: machine from_job to_job time"); return -1; }
        if (s_int(c, tok[1], "machine", 0, M, &v[0]) < 0
            || s_int(c, tok[2], "job", 0, J, &v[1]) < 0
            || s_int(c, tok[3], "job", 0, J, &v[2]) < 0
            || s_int(c, tok[4], "setup time", 0, T, &v[3]) < 0)
            return -1;
        if (sched_inst_set_setup(in, v[0], v[1], v[2], v[3]) < 0) {
            s_err(c, "out of memory");
            return -1;
        }
        return 0;
    }
    if (!strcmp(kw, "down")) {
        if (n != 4) { s_err(c, "down takes 3 numbers: machine start end"); return -1; }
        if (s_int(c, tok[1], "machine", 0, M, &v[0]) < 0
            || s_int(c, tok[2], "window start", 0, T, &v[1]) < 0
            || s_int(c, tok[3], "window end", 0, T, &v[2]) < 0)
            return -1;
        if (v[2] <= v[1]) {
            s_err(c, "window end %d must be after its start %d", v[2], v[1]);
            return -1;
        }
        return sched_inst_add_window(in, v[0], v[1], v[2]);
    }
    s_err(c, "unexpected \"%.40s\" after the last job (expected release, due, "
          "weight, setup or down)", kw);
    return -1;
}

static sched_inst_t *s_parse_orlib(s_lines_t *it, s_ctx_t *c)
{
    char **tok = malloc(S_MAX_TOK * sizeof *tok);
    sched_inst_t *in = NULL;
    int alts[64];
    if (!tok) {
        s_err(c, "out of memory");
        return NULL;
    }
    int n = s_next(it, tok, S_MAX_TOK);
    if (n == 0) {
        s_err(c, "empty file: expected \"<jobs> <machines>\"");
        goto fail;
    }
    int nj, nm, ext = 0;
    if (n == 3 && !strcmp(tok[2], "ext"))
        ext = 1;
    else if (n != 2) {
        s_err(c, "header: expected \"<jobs> <machines>\" (or \"... ext\"), got %d fields", n);
        goto fail;
    }
    if (s_int(c, tok[0], "job count", 1, 100000, &nj) < 0
        || s_int(c, tok[1], "machine count", 1, 10000, &nm) < 0)
        goto fail;
    in = sched_inst_new(nj, nm);
    if (!in) {
        s_err(c, "out of memory");
        goto fail;
    }
    for (int j = 0; j < nj; j++) {
        n = s_next(it, tok, S_MAX_TOK);
        if (n == 0) {
            c->line = 0;
            s_err(c, "truncated: expected %d job lines, found %d", nj, j);
            goto fail;
        }
        if (n > S_MAX_TOK || n % 2) {
            s_err(c, "job %d: expected (machine time) pairs, got an odd number of fields (%d)", j, n);
            goto fail;
        }
        if (!ext && n != 2 * nm) {
            s_err(c, "job %d: expected %d (machine time) pairs, got %d", j, nm, n / 2);
            goto fail;
        }
        for (int k = 0; k < n; k += 2) {
            int n_alt = 1, d;
            if (ext) {
                if (s_machine_list(c, tok[k], nm < 64 ? nm : 64, alts, &n_alt) < 0)
                    goto fail;
            } else if (s_int(c, tok[k], "machine", 0, nm - 1, &alts[0]) < 0) {
                goto fail;
            }
            if (s_int(c, tok[k + 1], "processing time", 0, SCHED_MAX_TIME_TU, &d) < 0)
                goto fail;
            if (sched_inst_add_op(in, j, alts, n_alt, d) < 0) {
                s_err(c, "out of memory");
                goto fail;
            }
        }
    }
    while ((n = s_next(it, tok, 8)) > 0) {
        if (!ext) {
            s_err(c, "unexpected data after the last job (header says %d jobs)", nj);
            goto fail;
        }
        if (n > 8) {
            s_err(c, "too many fields");
            goto fail;
        }
        if (s_directive(c, in, tok, n) < 0)
            goto fail;
    }
    free(tok);
    return in;
fail:
    free(tok);
    sched_inst_destroy(&in);
    return NULL;
}

/* Taillard's own layout: a header, "Times" (jobs x machines durations),
 * "Machines" (jobs x machines, numbered from 1). */
static sched_inst_t *s_parse_taillard(s_lines_t *it, s_ctx_t *c)
{
    char **tok = malloc(S_MAX_TOK * sizeof *tok);
    sched_inst_t *in = NULL;
    int *dur = NULL;
    int nj = 0, nm = 0, n;
    if (!tok) {
        s_err(c, "out of memory");
        return NULL;
    }
    /* Header: skip wording lines until one that starts with two integers. */
    for (;;) {
        n = s_next(it, tok, S_MAX_TOK);
        if (n == 0) {
            c->line = 0;
            s_err(c, "truncated: no \"<jobs> <machines> ...\" line");
            goto fail;
        }
        if (isdigit((unsigned char)tok[0][0]))
            break;
    }
    if (n < 2 || s_int(c, tok[0], "job count", 1, 100000, &nj) < 0
        || s_int(c, tok[1], "machine count", 1, 10000, &nm) < 0) {
        if (n < 2)
            s_err(c, "header: expected \"<jobs> <machines> ...\"");
        goto fail;
    }
    dur = malloc((size_t)nj * nm * sizeof(int));
    in = sched_inst_new(nj, nm);
    if (!dur || !in) {
        s_err(c, "out of memory");
        goto fail;
    }
    for (int part = 0; part < 2; part++) {
        const char *want = part ? "machines" : "times";
        n = s_next(it, tok, S_MAX_TOK);
        if (n == 0) {
            c->line = 0;
            s_err(c, "truncated: missing the \"%s\" section", want);
            goto fail;
        }
        if (n != 1 || strcasecmp(tok[0], want)) {
            s_err(c, "expected a \"%s\" line", want);
            goto fail;
        }
        for (int j = 0; j < nj; j++) {
            n = s_next(it, tok, S_MAX_TOK);
            if (n == 0) {
                c->line = 0;
                s_err(c, "truncated: \"%s\" has %d of %d rows", want, j, nj);
                goto fail;
            }
            if (n != nm) {
                s_err(c, "job %d: expected %d %s, got %d", j, nm, want, n);
                goto fail;
            }
            for (int k = 0; k < nm; k++) {
                int v;
                if (!part) {
                    if (s_int(c, tok[k], "processing time", 0, SCHED_MAX_TIME_TU, &v) < 0)
                        goto fail;
                    dur[j * nm + k] = v;
                } else {
                    if (s_int(c, tok[k], "machine", 1, nm, &v) < 0)
                        goto fail;
                    v--;
                    if (sched_inst_add_op(in, j, &v, 1, dur[j * nm + k]) < 0) {
                        s_err(c, "out of memory");
                        goto fail;
                    }
                }
            }
        }
    }
    if (s_next(it, tok, S_MAX_TOK) > 0) {
        s_err(c, "unexpected data after the machines matrix");
        goto fail;
    }
    free(tok);
    free(dur);
    return in;
fail:
    free(tok);
    free(dur);
    sched_inst_destroy(&in);
    return NULL;
}

static int s_has_times_line(const char *text)
{
    for (const char *p = text; (p = strcasestr(p, "times"));) {
        const char *a = p, *b = p + 5;
        while (a > text && (a[-1] == ' ' || a[-1] == '\t'))
            a--;
        while (*b == ' ' || *b == '\t' || *b == '\r')
            b++;
        if ((a == text || a[-1] == '\n') && (*b == '\n' || !*b))
            return 1;
        p = b;
    }
    return 0;
}

sched_inst_t *sched_inst_parse(const char *text, const char *name,
                               sched_fmt_t fmt, char *err)
{
    s_ctx_t c = { name ? name : "<instance>", err, 0 };
    if (!text) {
        s_err(&c, "no text");
        return NULL;
    }
    char *copy = strdup(text);
    if (!copy) {
        s_err(&c, "out of memory");
        return NULL;
    }
    /* Treat CR as white space so files from Windows parse too. */
    for (char *p = copy; *p; p++)
        if (*p == '\r')
            *p = ' ';
    if (fmt == SCHED_FMT_AUTO)
        fmt = s_has_times_line(copy) ? SCHED_FMT_TAILLARD : SCHED_FMT_ORLIB;
    s_lines_t it = { copy, &c };
    sched_inst_t *in = fmt == SCHED_FMT_TAILLARD ? s_parse_taillard(&it, &c)
                                                 : s_parse_orlib(&it, &c);
    free(copy);
    if (!in)
        return NULL;
    if (sched__inst_ready(in) < 0) {
        c.line = 0;
        s_err(&c, "out of memory");
        sched_inst_destroy(&in);
        return NULL;
    }
    /* The name is the file's base name. */
    const char *base = strrchr(c.name, '/');
    sched_inst_set_name(in, base ? base + 1 : c.name);
    return in;
}

sched_inst_t *sched_inst_load(const char *path, sched_fmt_t fmt, char *err)
{
    s_ctx_t c = { path, err, 0 };
    FILE *f = fopen(path, "rb");
    if (!f) {
        s_err(&c, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        s_err(&c, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        s_err(&c, "binary data (NUL byte) in an instance file");
        free(buf);
        return NULL;
    }
    sched_inst_t *in = sched_inst_parse(buf, path, fmt, err);
    free(buf);
    return in;
}
