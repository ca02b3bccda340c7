/* sched_main.c — autofab-sched: solve, check and benchmark job-shop plans. */

#include "sched.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_PROG "autofab-sched"
/* Families the benchmark reports a mean gap for. */
static const char *const s_families[] = { "ft", "la", "ta" };
#define S_N_FAMILIES 3
#define S_DEFAULT_BENCH_SET "ft10,ft20,la,ta"

static const char s_usage[] =
"usage: " S_PROG " [options] INSTANCE          solve one instance\n"
"       " S_PROG " check INSTANCE PLAN.json     check a plan (exit 1 if infeasible)\n"
"       " S_PROG " bench [options] DIR           benchmark DIR/instances against DIR/bounds.csv\n"
"       " S_PROG " repair-bench [options] DIR    re-planning after a change: repair vs. scratch\n"
"\n"
"options:\n"
"  -b, --budget-ms N    time budget per solve in ms (default 1000; bench 10000)\n"
"  -t, --threads N      parallel searches, 1..64 (default 1)\n"
"  -s, --seed N         random seed (default 1)\n"
"  -r, --rule R         tabu (default) | fifo | edd | spt\n"
"  -O, --objective O    makespan (default; ties by weighted tardiness) | wtard\n"
"  -T, --target N       stop as soon as the objective reaches N\n"
"  -C, --clock C        wall (default; bench: cpu): what the budget and the times\n"
"                       count; cpu = each search thread's own CPU time\n"
"  -i, --iterations N   stop each search thread after N iterations (0: no limit)\n"
"  -f, --format F       auto (default) | orlib | taillard\n"
"  -p, --repair PLAN    start from a previous plan (JSON) of this or an older instance\n"
"  -j, --json FILE      write the plan as JSON ('-' for stdout)\n"
"  -g, --svg FILE       write the plan as an SVG Gantt chart\n"
"  -o, --only LIST      bench: comma-separated names or prefixes (default " S_DEFAULT_BENCH_SET ")\n"
"  -J, --bench-json F   bench: write the summary as JSON to F\n"
"  -q, --quiet          solve: no progress lines on stderr\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 ok, 1 bad input or infeasible plan, 2 bad usage.\n"
"Instance formats and the extensions (release, due, setup, down, flexible\n"
"machines) are described in docs/sched.md.\n";

typedef struct {
    sched_opts_t so;
    int budget_set, clock_set;
    sched_fmt_t fmt;
    const char *repair, *json, *svg, *only, *bench_json;
    int quiet;
} s_args_t;

static int s_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, S_PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see --help)\n");
    return 2;
}

static int s_long(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return s_usage_error("%s: expected an integer in %ld..%ld, got '%s'",
                             opt, lo, hi, v);
    *out = x;
    return 0;
}

static int s_parse(int argc, char **argv, s_args_t *a)
{
    static const struct option lo[] = {
        { "budget-ms", 1, 0, 'b' }, { "threads", 1, 0, 't' },
        { "seed", 1, 0, 's' }, { "rule", 1, 0, 'r' },
        { "objective", 1, 0, 'O' }, { "target", 1, 0, 'T' },
        { "format", 1, 0, 'f' }, { "repair", 1, 0, 'p' },
        { "json", 1, 0, 'j' }, { "svg", 1, 0, 'g' }, { "only", 1, 0, 'o' },
        { "bench-json", 1, 0, 'J' }, { "iterations", 1, 0, 'i' },
        { "clock", 1, 0, 'C' }, { "quiet", 0, 0, 'q' },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
    };
    long v;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:t:s:r:O:T:f:p:j:g:o:J:i:C:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (s_long("--budget-ms", optarg, 0, 86400000L, &v)) return 2;
            a->so.budget_ms = v;
            a->budget_set = 1;
            break;
        case 't':
            if (s_long("--threads", optarg, 1, SCHED_MAX_THREADS, &v)) return 2;
            a->so.threads = (int)v;
            break;
        case 's':
            if (s_long("--seed", optarg, 0, LONG_MAX, &v)) return 2;
            a->so.seed = (unsigned long)v;
            break;
        case 'T':
            if (s_long("--target", optarg, 0, LONG_MAX, &v)) return 2;
            a->so.target = v;
            break;
        case 'i':
            if (s_long("--iterations", optarg, 0, LONG_MAX, &v)) return 2;
            a->so.max_iters = v;
            break;
        case 'C':
            if (!strcmp(optarg, "cpu")) a->so.cpu_clock = 1;
            else if (!strcmp(optarg, "wall")) a->so.cpu_clock = 0;
            else return s_usage_error("--clock: expected cpu or wall, got '%s'", optarg);
            a->clock_set = 1;
            break;
        case 'r':
            if (!strcmp(optarg, "tabu")) a->so.rule = SCHED_RULE_TABU;
            else if (!strcmp(optarg, "fifo")) a->so.rule = SCHED_RULE_FIFO;
            else if (!strcmp(optarg, "edd")) a->so.rule = SCHED_RULE_EDD;
            else if (!strcmp(optarg, "spt")) a->so.rule = SCHED_RULE_SPT;
            else return s_usage_error("--rule: expected tabu, fifo, edd or spt, got '%s'", optarg);
            break;
        case 'O':
            if (!strcmp(optarg, "makespan")) a->so.objective = SCHED_OBJ_MAKESPAN;
            else if (!strcmp(optarg, "wtard")) a->so.objective = SCHED_OBJ_WTARD;
            else return s_usage_error("--objective: expected makespan or wtard, got '%s'", optarg);
            break;
        case 'f':
            if (!strcmp(optarg, "auto")) a->fmt = SCHED_FMT_AUTO;
            else if (!strcmp(optarg, "orlib")) a->fmt = SCHED_FMT_ORLIB;
            else if (!strcmp(optarg, "taillard")) a->fmt = SCHED_FMT_TAILLARD;
            else return s_usage_error("--format: expected auto, orlib or taillard, got '%s'", optarg);
            break;
        case 'p': a->repair = optarg; break;
        case 'j': a->json = optarg; break;
        case 'g': a->svg = optarg; break;
        case 'o': a->only = optarg; break;
        case 'J': a->bench_json = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h':
            fputs(s_usage, stdout);
            exit(0);
        case ':':
            return s_usage_error("%s needs a value", argv[optind - 1]);
        default:
            return s_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    return 0;
}

/* Writes via a temporary file renamed into place, so a failed run leaves
 * nothing behind. */
static int s_write(const char *path, const sched_plan_t *plan,
                   const sched_inst_t *in, int svg)
{
    if (!strcmp(path, "-"))
        return svg ? sched_plan_write_svg(plan, in, stdout)
                   : sched_plan_write_json(plan, in, stdout);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, S_PROG ": %s: cannot write: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = svg ? sched_plan_write_svg(plan, in, f) : sched_plan_write_json(plan, in, f);
    if (fclose(f) != 0 || rc != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, S_PROG ": %s: write failed: %s\n", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static void s_progress(void *ctx, long cmax, long long twt, double t_s)
{
    (void)ctx;
    fprintf(stderr, "  %8.3f s  makespan %ld  weighted tardiness %lld\n", t_s,
            cmax, twt);
}

/* ------------------------------------------------------------------ solve */

static int s_cmd_solve(s_args_t *a, const char *path)
{
    char err[SCHED_ERR_LEN];
    int rc = 1;
    sched_plan_t *prev = NULL, *plan = NULL;
    sched_inst_t *in = sched_inst_load(path, a->fmt, err);
    if (!in) {
        fprintf(stderr, S_PROG ": %s\n", err);
        return 1;
    }
    if (a->repair && !(prev = sched_plan_load_json(a->repair, err))) {
        fprintf(stderr, S_PROG ": %s\n", err);
        goto done;
    }
    a->so.start = prev;
    if (!a->quiet)
        a->so.progress = s_progress;
    sched_stats_t st;
    plan = sched_solve(in, &a->so, &st, err);
    if (!plan) {
        fprintf(stderr, S_PROG ": %s: %s\n", path, err);
        goto done;
    }
    if (sched_check(in, plan, 1, err) < 0) {
        fprintf(stderr, S_PROG ": %s: internal error, infeasible plan: %s\n", path, err);
        goto done;
    }
    FILE *o = a->json && !strcmp(a->json, "-") ? stderr : stdout;
    fprintf(o, "%s: %d jobs x %d machines  makespan %ld  weighted tardiness %lld"
            "  (lower bound %ld, found at %.3f s of %.3f s, %lld iterations)\n",
            sched_inst_name(in), sched_inst_jobs(in), sched_inst_machines(in),
            sched_plan_makespan(plan), sched_plan_wtard(plan),
            sched_inst_lower_bound(in), st.t_best_s, st.t_total_s, st.iterations);
    if (a->json && s_write(a->json, plan, in, 0) < 0)
        goto done;
    if (a->svg && s_write(a->svg, plan, in, 1) < 0)
        goto done;
    rc = 0;
done:
    sched_plan_destroy(&plan);
    sched_plan_destroy(&prev);
    sched_inst_destroy(&in);
    return rc;
}

static int s_cmd_check(s_args_t *a, const char *ipath, const char *ppath)
{
    char err[SCHED_ERR_LEN];
    sched_inst_t *in = sched_inst_load(ipath, a->fmt, err);
    sched_plan_t *plan = NULL;
    int rc = 1;
    if (!in) {
        fprintf(stderr, S_PROG ": %s\n", err);
        return 1;
    }
    if (!(plan = sched_plan_load_json(ppath, err))) {
        fprintf(stderr, S_PROG ": %s\n", err);
        goto done;
    }
    sched_plan_score(plan, in);
    if (sched_check(in, plan, 0, err) < 0) {
        printf("%s: infeasible: %s\n", ppath, err);
        goto done;
    }
    printf("%s: feasible, makespan %ld, weighted tardiness %lld\n", ppath,
           sched_plan_makespan(plan), sched_plan_wtard(plan));
    rc = 0;
done:
    sched_plan_destroy(&plan);
    sched_inst_destroy(&in);
    return rc;
}

/* ------------------------------------------------------------------ bench */

typedef struct {
    char name[64];
    long bks;
} s_bound_t;

static double s_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int s_in_set(const char *name, const char *only)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", only);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save))
        if (!strncmp(name, t, strlen(t)))
            return 1;
    return 0;
}

/* Reads name and upper_bound (best known) from DIR/bounds.csv. */
static int s_bounds(const char *dir, const char *only, s_bound_t **out)
{
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/bounds.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, S_PROG ": bench: %s: %s (the instance folder needs "
                "bounds.csv and instances/)\n", path, strerror(errno));
        return -1;
    }
    int n = 0, cap = 0, col = -1, lineno = 0;
    s_bound_t *b = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *fld[16];
        int nf = 0;
        for (char *save = NULL, *t = strtok_r(line, ",\n\r", &save); t && nf < 16;
             t = strtok_r(NULL, ",\n\r", &save))
            fld[nf++] = t;
        if (lineno == 1) {
            for (int i = 0; i < nf; i++)
                if (!strcmp(fld[i], "upper_bound"))
                    col = i;
            if (col < 0) {
                fprintf(stderr, S_PROG ": bench: %s: no upper_bound column\n", path);
                goto fail;
            }
            continue;
        }
        if (nf <= col || !s_in_set(fld[0], only))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            s_bound_t *nb = realloc(b, (size_t)cap * sizeof *nb);
            if (!nb)
                goto fail;
            b = nb;
        }
        snprintf(b[n].name, sizeof b[n].name, "%s", fld[0]);
        b[n].bks = strtol(fld[col], NULL, 10);
        n++;
    }
    fclose(f);
    *out = b;
    return n;
fail:
    fclose(f);
    free(b);
    return -1;
}

typedef struct {
    long bks;
    double t_bks_s;     /* first time the best known value was reached; -1 */
    double t0_s;
} s_track_t;

static void s_track(void *ctx, long cmax, long long twt, double t_s)
{
    (void)twt;
    s_track_t *t = ctx;
    if (cmax <= t->bks && t->t_bks_s < 0)
        t->t_bks_s = t_s;
}

static int s_cmd_bench(s_args_t *a, const char *dir)
{
    s_bound_t *b = NULL;
    const char *only = a->only ? a->only : S_DEFAULT_BENCH_SET;
    if (!a->budget_set)
        a->so.budget_ms = 10000;
    if (!a->clock_set)
        a->so.cpu_clock = 1;    /* "10 s on one core", even on a busy machine */
    int n = s_bounds(dir, only, &b);
    if (n < 0)
        return 1;
    if (n == 0) {
        fprintf(stderr, S_PROG ": bench: no instance of %s/bounds.csv matches '%s'\n", dir, only);
        free(b);
        return 1;
    }
    double sum[S_N_FAMILIES] = { 0 };
    int cnt[S_N_FAMILIES] = { 0 }, bad = 0, at_bks = 0;
    long ft10 = -1;
    double ft10_t = -1;
    FILE *js = NULL;
    if (a->bench_json && !(js = fopen(a->bench_json, "w"))) {
        fprintf(stderr, S_PROG ": %s: %s\n", a->bench_json, strerror(errno));
        free(b);
        return 1;
    }
    printf("# autofab-sched bench: budget %ld ms %s time per instance, %d thread(s), "
           "seed %lu; times in s of that clock\n", a->so.budget_ms,
           a->so.cpu_clock ? "CPU (per search thread)" : "wall-clock", a->so.threads,
           a->so.seed);
    double wall0 = s_wall_s();
    printf("%-6s %7s %9s %9s %7s %10s %10s %12s\n", "name", "size", "makespan",
           "best", "gap%", "t_final_s", "t_best_s", "iterations");
    if (js)
        fprintf(js, "{\n  \"budget_ms\": %ld,\n  \"clock\": \"%s\",\n  \"threads\": %d,\n"
                "  \"seed\": %lu,\n  \"instances\": [\n", a->so.budget_ms,
                a->so.cpu_clock ? "cpu" : "wall", a->so.threads, a->so.seed);
    int first = 1;
    for (int i = 0; i < n; i++) {
        char path[4096], err[SCHED_ERR_LEN];
        snprintf(path, sizeof path, "%s/instances/%s", dir, b[i].name);
        sched_inst_t *in = sched_inst_load(path, a->fmt, err);
        if (!in) {
            fprintf(stderr, S_PROG ": bench: %s\n", err);
            bad++;
            continue;
        }
        s_track_t tr = { b[i].bks, -1, 0 };
        sched_opts_t so = a->so;
        so.progress = s_track;
        so.progress_ctx = &tr;
        sched_stats_t st;
        sched_plan_t *plan = sched_solve(in, &so, &st, err);
        if (!plan || sched_check(in, plan, 1, err) < 0) {
            fprintf(stderr, S_PROG ": bench: %s: %s\n", b[i].name, err);
            bad++;
            sched_plan_destroy(&plan);
            sched_inst_destroy(&in);
            continue;
        }
        long mk = sched_plan_makespan(plan);
        double gap = 100.0 * (mk - b[i].bks) / b[i].bks;
        char size[16];
        snprintf(size, sizeof size, "%dx%d", sched_inst_jobs(in), sched_inst_machines(in));
        char tb[16] = "-";
        if (tr.t_bks_s >= 0)
            snprintf(tb, sizeof tb, "%.3f", tr.t_bks_s);
        printf("%-6s %7s %9ld %9ld %7.2f %10.3f %10s %12lld\n", b[i].name, size,
               mk, b[i].bks, gap, st.t_best_s, tb, st.iterations);
        fflush(stdout);
        at_bks += mk <= b[i].bks;
        for (int f = 0; f < S_N_FAMILIES; f++)
            if (!strncmp(b[i].name, s_families[f], 2)) {
                sum[f] += gap;
                cnt[f]++;
            }
        if (!strcmp(b[i].name, "ft10")) {
            ft10 = mk;
            ft10_t = tr.t_bks_s;
        }
        if (js) {
            fprintf(js, "%s    {\"name\": \"%s\", \"makespan\": %ld, \"best_known\": %ld, "
                    "\"gap_pct\": %.3f, \"t_final_s\": %.3f, \"t_best_known_s\": %.3f}",
                    first ? "" : ",\n", b[i].name, mk, b[i].bks, gap, st.t_best_s,
                    tr.t_bks_s);
            first = 0;
        }
        sched_plan_destroy(&plan);
        sched_inst_destroy(&in);
    }
    printf("# mean gap per family:");
    for (int f = 0; f < S_N_FAMILIES; f++)
        if (cnt[f])
            printf("  %s %.3f %% (%d)", s_families[f], sum[f] / cnt[f], cnt[f]);
    printf("\n# at best known: %d of %d; failures: %d; wall-clock %.0f s\n", at_bks, n,
           bad, s_wall_s() - wall0);
    if (ft10 >= 0)
        printf("# ft10: makespan %ld, time to 930: %s%.3f s\n", ft10,
               ft10_t < 0 ? "not reached " : "", ft10_t < 0 ? 0.0 : ft10_t);
    if (js) {
        if (ft10 >= 0)
            fprintf(js, "\n  ],\n  \"ft10_makespan\": %ld,\n  \"ft10_time_to_930_s\": %.3f",
                    ft10, ft10_t);
        else
            fprintf(js, "\n  ],\n  \"ft10_makespan\": null,\n  \"ft10_time_to_930_s\": null");
        /* Every family key is always there: null when none was run. */
        for (int f = 0; f < S_N_FAMILIES; f++) {
            if (cnt[f])
                fprintf(js, ",\n  \"%s_mean_gap_pct\": %.3f", s_families[f],
                        sum[f] / cnt[f]);
            else
                fprintf(js, ",\n  \"%s_mean_gap_pct\": null", s_families[f]);
            fprintf(js, ",\n  \"%s_count\": %d", s_families[f], cnt[f]);
        }
        fprintf(js, ",\n  \"failures\": %d\n}\n", bad);
        fclose(js);
    }
    free(b);
    return bad ? 1 : 0;
}

/* ----------------------------------------------------------- repair bench */

/* Re-plan budgets the repair bench compares at, in ms. */
static const long s_replan_ms[] = { 0, 50, 200, 1000 };
#define S_N_REPLAN 4

/* A change the line agent meets: a rush job (a copy of job 0) arrives and
 * three operations take 20 % longer; with `breakdown`, machine seed % m is
 * also down for a tenth of the old makespan from a third of it (which
 * takes the instance off the classic fast path). */
static sched_inst_t *s_perturb(const sched_inst_t *in, long cmax, unsigned seed,
                               int breakdown)
{
    sched_inst_t *c = sched_inst_clone(in);
    if (!c)
        return NULL;
    int nm = sched_inst_machines(in), nj = sched_inst_jobs(in);
    if (breakdown)
        sched_inst_add_window(c, (int)(seed % (unsigned)nm), (int)(cmax / 3),
                              (int)(cmax / 3 + cmax / 10));
    int j = sched_inst_add_job(c);
    for (int k = 0; k < sched_inst_job_ops(in, 0); k++) {
        int mm = sched_inst_op_machine(in, 0, k, 0);
        sched_inst_add_op(c, j, &mm, 1, sched_inst_op_dur(in, 0, k));
    }
    for (int i = 0; i < 3; i++) {
        int jj = (int)((seed * 7 + (unsigned)i * 13) % (unsigned)nj);
        int k = (int)((seed + (unsigned)i * 5) % (unsigned)sched_inst_job_ops(in, jj));
        sched_inst_set_dur(c, jj, k, sched_inst_op_dur(in, jj, k) * 6 / 5);
    }
    return c;
}

/* One row: makespans after each re-plan budget, repair vs. scratch; adds
 * the relative advantage of repair to adv[]. */
static void s_repair_row(const s_args_t *a, const char *name,
                         const sched_plan_t *old, const sched_inst_t *ch,
                         double *adv)
{
    char err[SCHED_ERR_LEN];
    printf("%-6s %8ld |", name, sched_plan_makespan(old));
    for (int r = 0; r < S_N_REPLAN; r++) {
        long mk[2];
        for (int rep = 0; rep < 2; rep++) {
            sched_opts_t s2 = a->so;
            s2.budget_ms = s_replan_ms[r];
            s2.start = rep ? NULL : old;
            sched_plan_t *p = sched_solve(ch, &s2, NULL, err);
            mk[rep] = p && sched_check(ch, p, 1, err) == 0 ? sched_plan_makespan(p) : -1;
            sched_plan_destroy(&p);
        }
        printf(" %7ld/%-7ld", mk[0], mk[1]);
        if (mk[0] > 0 && mk[1] > 0)
            adv[r] += 100.0 * (mk[1] - mk[0]) / mk[1];
    }
    printf("\n");
    fflush(stdout);
}

static int s_cmd_repair_bench(s_args_t *a, const char *dir)
{
    static const char *const what[] = {
        "rush job + 3 longer operations (classic, fast path)",
        "breakdown window + rush job + 3 longer operations (exact path)",
    };
    s_bound_t *b = NULL;
    const char *only = a->only ? a->only : "ft10,la16,la21,la26,la36,ta01,ta11,ta21";
    long budget = a->budget_set ? a->so.budget_ms : 1000;
    if (!a->clock_set)
        a->so.cpu_clock = 1;
    int n = s_bounds(dir, only, &b);
    if (n <= 0) {
        if (n == 0)
            fprintf(stderr, S_PROG ": repair-bench: no instance matches '%s'\n", only);
        free(b);
        return 1;
    }
    printf("# repair bench: plan each instance with %ld ms (%s clock), change it, re-plan "
           "with a budget of 0/50/200/1000 ms from the old plan (repair) and from "
           "scratch; cells are makespans repair/scratch\n", budget,
           a->so.cpu_clock ? "CPU" : "wall");
    for (int sc = 0; sc < 2; sc++) {
        double adv[S_N_REPLAN] = { 0 };
        int cnt = 0;
        printf("# change: %s\n%-6s %8s |", what[sc], "name", "old");
        for (int r = 0; r < S_N_REPLAN; r++)
            printf(" %6ldms:rep/scr", s_replan_ms[r]);
        printf("\n");
        for (int i = 0; i < n; i++) {
            char path[4096], err[SCHED_ERR_LEN];
            snprintf(path, sizeof path, "%s/instances/%s", dir, b[i].name);
            sched_inst_t *in = sched_inst_load(path, a->fmt, err), *ch = NULL;
            sched_opts_t so = a->so;
            so.budget_ms = budget;
            sched_plan_t *old = in ? sched_solve(in, &so, NULL, err) : NULL;
            if (old)
                ch = s_perturb(in, sched_plan_makespan(old), (unsigned)i + 3, sc);
            if (ch) {
                s_repair_row(a, b[i].name, old, ch, adv);
                cnt++;
            } else {
                fprintf(stderr, S_PROG ": repair-bench: %s: %s\n", b[i].name, err);
            }
            sched_plan_destroy(&old);
            sched_inst_destroy(&ch);
            sched_inst_destroy(&in);
        }
        printf("# mean makespan advantage of repair over scratch:");
        for (int r = 0; r < S_N_REPLAN && cnt; r++)
            printf("  %ldms %.2f %%", s_replan_ms[r], adv[r] / cnt);
        printf("\n");
    }
    free(b);
    return 0;
}

int main(int argc, char **argv)
{
    s_args_t a;
    memset(&a, 0, sizeof a);
    sched_opts_default(&a.so);
    const char *cmd = argc > 1 ? argv[1] : "";
    int sub = !strcmp(cmd, "check") || !strcmp(cmd, "bench")
              || !strcmp(cmd, "repair-bench");
    int rc = s_parse(argc - sub, argv + sub, &a);
    if (rc)
        return rc;
    int npos = argc - sub - optind;
    char **pos = argv + sub + optind;
    if (!strcmp(cmd, "check")) {
        if (npos != 2)
            return s_usage_error("check takes INSTANCE PLAN.json");
        return s_cmd_check(&a, pos[0], pos[1]);
    }
    if (!strcmp(cmd, "bench") || !strcmp(cmd, "repair-bench")) {
        if (npos != 1)
            return s_usage_error("%s takes one instance folder", cmd);
        return cmd[0] == 'b' ? s_cmd_bench(&a, pos[0]) : s_cmd_repair_bench(&a, pos[0]);
    }
    if (npos != 1)
        return s_usage_error(npos ? "one instance file only" : "no instance file given");
    return s_cmd_solve(&a, pos[0]);
}
