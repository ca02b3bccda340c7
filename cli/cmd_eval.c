/*  autofab eval — compare policies over seeds with confidence intervals
 *  (DESIGN §5, issue 10 item 7; the method is in docs/eval.md).
 *
 *  For every config and seed it runs `autofab run --policy both` (baseline
 *  then autonomous on the same seed: common random numbers) with a warm-up,
 *  up to --jobs of them at a time, each supervised in its own process group;
 *  and, where the twin has one, the perfect-information bound
 *  (`autofab-twin --policy bound`, offline).  Then it reads every run's
 *  kpi.json and reports per KPI the means, the change in % and the
 *  half-width of its paired 95 % interval (eval.c), as a table, eval.json
 *  and eval.html in --out.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "af_args.h"
#include "af_clock.h"
#include "af_log.h"
#include "af_supervisor.h"
#include "cli.h"
#include "eval.h"
#include "twin.h"

#define EVAL_DEFAULT_CONFIG "deploy/factories/gigafactory.yaml"
#define EVAL_MAX_CONFIGS 16
#define EVAL_MAX_SEEDS 1000
#define EVAL_DEFAULT_SEEDS 5
/* Four weeks measured after eight: docs/eval.md says why eight. */
#define EVAL_DEFAULT_HOURS 672.0
#define EVAL_DEFAULT_WARMUP_H 1344.0
/* autofab run itself gives each of its children 3 s to stop. */
#define EVAL_STOP_GRACE_MS 10000
#define EVAL_POLL_MS 50

static const char s_usage[] =
    "Usage: autofab eval [OPTIONS]\n"
    "\n"
    "Compares the autonomous policy with the baseline (DESIGN §5) on common\n"
    "random numbers: for every config and seed 1..N it runs both on the same\n"
    "seed (autofab run --policy both), measures H hours after a W-hour warm-up,\n"
    "and prints per KPI the mean of each policy, the change of the means in %,\n"
    "and the half-width of its paired 95 % confidence interval in percentage\n"
    "points; beside them the perfect-information bound where the twin has one.\n"
    "Writes eval.json and eval.html to --out, each run under --out/<config>/<seed>.\n"
    "\n"
    "  -c, --configs F1,F2…  factory configs [" EVAL_DEFAULT_CONFIG "]\n"
    "  -n, --seeds N         seeds 1..N [5]\n"
    "  -H, --hours H         measured simulated hours per run [672, four weeks]\n"
    "  -w, --warmup-h W      warm-up before the measured hours [1344, eight weeks]\n"
    "  -j, --jobs J          runs at a time [the number of cores]\n"
    "  -o, --out DIR         output folder [runs/eval-<UTC time>]\n"
    "      --json            print eval.json on stdout instead of the table\n"
    "  -h, --help\n"
    "\n"
    "Exit status: 0 done, 1 a run failed (the line names its log), 2 bad usage\n"
    "or a bad config, 130 interrupted (Ctrl-C stops every run).\n";

typedef struct {
    const char *configs[EVAL_MAX_CONFIGS];
    int n_configs;
    long seeds, jobs;
    double hours, warmup_h;
    const char *out_dir;
    bool json;
    char bin_dir[PATH_MAX];
} s_opts_t;

typedef enum { S_TASK_RUN, S_TASK_BOUND } s_task_kind_t;
typedef enum { S_PENDING, S_RUNNING, S_DONE, S_SKIPPED } s_task_state_t;

/* One child: a seed's `autofab run`, or its bound. */
typedef struct {
    int config, seed_i;
    s_task_kind_t kind;
    s_task_state_t state;
    af_supervisor_t *sup;
    int exit_code;
    int64_t started_ms;
    char dir[PATH_MAX];          /* <out>/<config name>/<seed> */
    char log[PATH_MAX + 32];
} s_task_t;

static volatile sig_atomic_t s_interrupted;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_interrupted = 1;
}

/* ------------------------------------------------------------- helpers */

static int
s_mkdirs (const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s", path) >= (int) sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir (tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir (tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* The folder of this program (its siblings autofab-twin … are there), or
 * $AUTOFAB_BIN. */
static void
s_bin_dir (char *out, size_t len)
{
    const char *env = getenv ("AUTOFAB_BIN");
    char self[PATH_MAX];
    ssize_t n = env && *env ? -1 : readlink ("/proc/self/exe", self, sizeof self - 1);
    if (env && *env)
        snprintf (out, len, "%s", env);
    else if (n <= 0)
        snprintf (out, len, ".");
    else {
        self[n] = 0;
        char *slash = strrchr (self, '/');
        if (slash)
            *slash = 0;
        snprintf (out, len, "%s", self);
    }
}

/* The last non-empty line of the file at PATH (a failed run's reason). */
static void
s_last_line (const char *path, char *out, size_t len)
{
    out[0] = 0;
    FILE *in = fopen (path, "r");
    if (!in)
        return;
    char line[512];
    while (fgets (line, sizeof line, in)) {
        line[strcspn (line, "\r\n")] = 0;
        if (line[0])
            cli_sanitize (line, out, len);
    }
    fclose (in);
}

/* The config's name in paths and JSON keys: its file name without ".yaml". */
static void
s_config_name (const char *config, char *out, size_t len)
{
    const char *base = strrchr (config, '/');
    snprintf (out, len, "%s", base ? base + 1 : config);
    char *dot = strrchr (out, '.');
    if (dot && dot != out)
        *dot = 0;
}

/* ------------------------------------------------------------- options */

/* Splits the comma list TEXT (modified) into O->configs; 0 or exit code. */
static int
s_parse_configs (char *text, s_opts_t *o)
{
    o->n_configs = 0;
    for (char *save = NULL, *tok = strtok_r (text, ",", &save); tok; tok = strtok_r (NULL, ",", &save)) {
        if (o->n_configs == EVAL_MAX_CONFIGS)
            return cli_usage_error ("eval", "--configs takes at most %d files", EVAL_MAX_CONFIGS);
        o->configs[o->n_configs++] = tok;
    }
    if (o->n_configs == 0)
        return cli_usage_error ("eval", "--configs needs at least one file");
    return 0;
}

/* Each config loads (the twin's own loader) and has a distinct name. */
static int
s_check_configs (const s_opts_t *o)
{
    char err[600], name[PATH_MAX], other[PATH_MAX];
    for (int i = 0; i < o->n_configs; i++) {
        twin_t *check = twin_new_from_file (o->configs[i], 1, err, sizeof err);
        if (!check)
            return cli_usage_error ("eval", "%s", err);
        twin_destroy (&check);
        s_config_name (o->configs[i], name, sizeof name);
        for (int j = 0; j < i; j++) {
            s_config_name (o->configs[j], other, sizeof other);
            if (!strcmp (name, other))
                return cli_usage_error ("eval", "configs %s and %s share the name '%s'; rename one",
                                        o->configs[j], o->configs[i], name);
        }
    }
    return 0;
}

static int
s_parse (int argc, char **argv, s_opts_t *o, char *configs_buf, size_t configs_len)
{
    static const struct option options[] = {
        { "configs", required_argument, 0, 'c' }, { "seeds", required_argument, 0, 'n' },
        { "hours", required_argument, 0, 'H' },   { "warmup-h", required_argument, 0, 'w' },
        { "jobs", required_argument, 0, 'j' },    { "out", required_argument, 0, 'o' },
        { "json", no_argument, 0, 'J' },          { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    *o = (s_opts_t) { .configs = { EVAL_DEFAULT_CONFIG }, .n_configs = 1, .seeds = EVAL_DEFAULT_SEEDS,
                      .jobs = cores > 0 ? cores : 1, .hours = EVAL_DEFAULT_HOURS,
                      .warmup_h = EVAL_DEFAULT_WARMUP_H };
    optind = 1;
    opterr = 0;
    int c, rc;
    while ((c = getopt_long (argc, argv, ":c:n:H:w:j:o:h", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (strlen (optarg) >= configs_len)
                return cli_usage_error ("eval", "--configs is longer than %zu bytes", configs_len - 1);
            snprintf (configs_buf, configs_len, "%s", optarg);
            if ((rc = s_parse_configs (configs_buf, o)) != 0)
                return rc;
            break;
        case 'n':
            if (!af_args_long ("autofab eval", "--seeds", optarg, 1, EVAL_MAX_SEEDS, &o->seeds))
                return CLI_EXIT_USAGE;
            break;
        case 'H':
            if (!af_args_double ("autofab eval", "--hours", optarg, 0.25, 24 * 366 * 10, &o->hours))
                return CLI_EXIT_USAGE;
            break;
        case 'w':
            if (!af_args_double ("autofab eval", "--warmup-h", optarg, 0, 24 * 366 * 10, &o->warmup_h))
                return CLI_EXIT_USAGE;
            break;
        case 'j':
            if (!af_args_long ("autofab eval", "--jobs", optarg, 1, 256, &o->jobs))
                return CLI_EXIT_USAGE;
            break;
        case 'o': o->out_dir = optarg; break;
        case 'J': o->json = true; break;
        case 'h': return -1;
        default: return cli_bad_option (&cli_cmd_eval, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error ("eval", "unexpected argument '%s'", argv[optind]);
    return s_check_configs (o);
}

/* ------------------------------------------------------------- children */

/* Starts TASK; 0, or -1 with a line on stderr. */
static int
s_task_start (s_task_t *t, const s_opts_t *o)
{
    char seed[32], total[64], warmup[64], path[PATH_MAX + 16];
    snprintf (seed, sizeof seed, "%d", t->seed_i + 1);
    snprintf (total, sizeof total, "%.17g", o->hours + o->warmup_h);
    snprintf (warmup, sizeof warmup, "%.17g", o->warmup_h);
    const char *config = o->configs[t->config];
    bool bound = t->kind == S_TASK_BOUND;
    char bound_dir[PATH_MAX + 8];
    snprintf (bound_dir, sizeof bound_dir, "%s/bound", t->dir);
    if (s_mkdirs (bound ? bound_dir : t->dir) != 0) {
        fprintf (stderr, "autofab eval: cannot create %s: %s\n", t->dir, strerror (errno));
        return -1;
    }
    snprintf (t->log, sizeof t->log, "%s/%s", bound ? bound_dir : t->dir, bound ? "twin.log" : "eval.log");
    unlink (t->log);
    /* The bound is offline: the twin alone, reading its own hidden state. */
    const char *run_argv[] = { "run", "--config", config, "--policy", "both", "--no-web", "--quiet",
                               "--seed", seed, "--hours", total, "--warmup-h", warmup, "--out", t->dir, NULL };
    const char *bound_argv[] = { "--config", config, "--policy", "bound", "--seed", seed, "--hours", total,
                                 "--warmup-h", warmup, "--json", "--log-level", "warn", NULL };
    snprintf (path, sizeof path, "%s/%s", o->bin_dir, bound ? "autofab-twin" : "autofab");
    t->sup = af_supervisor_new ();
    af_child_spec_t spec = { bound ? "bound" : "run", path, bound ? bound_argv : run_argv, t->log, false };
    if (!t->sup || af_supervisor_start (t->sup, &spec) < 0) {
        fprintf (stderr, "autofab eval: cannot start %s\n", path);
        af_supervisor_destroy (&t->sup);
        return -1;
    }
    t->state = S_RUNNING;
    t->started_ms = af_clock_mono_ms ();
    return 0;
}

/* True when TASK's child has exited; its exit code is then in TASK. */
static bool
s_task_done (s_task_t *t)
{
    if (af_supervisor_poll (t->sup, 0) != 0)
        return false;
    t->exit_code = af_supervisor_exit_code (t->sup, 0);
    t->state = S_DONE;
    af_supervisor_destroy (&t->sup);
    return true;
}

/* Stops every running child: all get one SIGTERM at once (autofab run then
 * stops its own processes in order), then they are waited for together; one
 * still there after the grace period is killed.  A second SIGTERM is never
 * sent early: it could cut short a run that is already cleaning up. */
static void
s_stop_all (s_task_t *tasks, int n)
{
    for (int i = 0; i < n; i++)
        if (tasks[i].state == S_RUNNING && af_supervisor_pid (tasks[i].sup, 0) > 0)
            kill (-af_supervisor_pid (tasks[i].sup, 0), SIGTERM);
    int64_t deadline = af_clock_mono_ms () + EVAL_STOP_GRACE_MS;
    for (bool left = true; left && af_clock_mono_ms () < deadline;) {
        left = false;
        for (int i = 0; i < n; i++)
            if (tasks[i].state == S_RUNNING && !s_task_done (&tasks[i]))
                left = true;
        struct timespec pause = { 0, 20 * 1000000L };
        if (left)
            nanosleep (&pause, NULL);
    }
    for (int i = 0; i < n; i++)
        if (tasks[i].state == S_RUNNING) {
            af_supervisor_stop_all (tasks[i].sup, 1000);
            af_supervisor_destroy (&tasks[i].sup);
            tasks[i].state = S_SKIPPED;
        }
}

/* The bound's KPIs: every line of its log that is a JSON object is one
 * concern's bound (the twin prints them with --json; log lines go to the
 * same file); per KPI the best of them. */
static int
s_read_bound (const s_task_t *t, eval_kpis_t *kpis, char *err, size_t err_len)
{
    FILE *in = fopen (t->log, "r");
    if (!in) {
        snprintf (err, err_len, "cannot read %s: %s", t->log, strerror (errno));
        return -1;
    }
    char *line = malloc (EVAL_KPI_FILE_MAX);
    eval_kpis_t one;
    int n = 0;
    char why[256] = "";
    while (line && fgets (line, EVAL_KPI_FILE_MAX, in)) {
        if (line[0] != '{')
            continue;
        if (eval_kpis_parse (line, strlen (line), n ? &one : kpis, why, sizeof why) != 0)
            break;
        if (n++)
            eval_kpis_best (kpis, &one);
    }
    fclose (in);
    free (line);
    if (!n || why[0]) {
        snprintf (err, err_len, "%s: no KPI object from the bound run%s%s", t->log, why[0] ? ": " : "", why);
        return -1;
    }
    /* Beside the runs' own kpi.json, for whoever looks later. */
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/bound/kpi.json", t->dir);
    FILE *out = fopen (path, "w");
    if (out) {
        fputc ('{', out);
        for (int i = 0; i < kpis->n; i++)
            if (isnan (kpis->value[i]))
                fprintf (out, "%s\"%s\":null", i ? "," : "", kpis->key[i]);
            else
                fprintf (out, "%s\"%s\":%.17g", i ? "," : "", kpis->key[i], kpis->value[i]);
        fputs ("}\n", out);
        fclose (out);
    }
    return 0;
}

/* Reacts to the exit of task I: 0 fine, 1 failed (one line said). */
static int
s_task_finished (s_task_t *tasks, int n, int i, int *done, char *bound_note, size_t note_len)
{
    s_task_t *t = &tasks[i];
    double wall_s = (double) (af_clock_mono_ms () - t->started_ms) / 1000.0;
    char why[512];
    if (t->kind == S_TASK_BOUND && t->exit_code == CLI_EXIT_USAGE) {
        /* The twin has no bound (yet): leave the column empty, say why. */
        s_last_line (t->log, why, sizeof why);
        snprintf (bound_note, note_len, "autofab-twin refused --policy bound: %s", why[0] ? why : "no reason given");
        t->state = S_SKIPPED;
        for (int j = 0; j < n; j++)
            if (tasks[j].kind == S_TASK_BOUND && tasks[j].state == S_PENDING)
                tasks[j].state = S_SKIPPED;
        return 0;
    }
    if (t->exit_code != 0) {
        s_last_line (t->log, why, sizeof why);
        fprintf (stderr, "autofab eval: %s of %s, seed %d, failed (exit %d; see %s)%s%s\n",
                 t->kind == S_TASK_BOUND ? "the bound" : "the run", t->dir, t->seed_i + 1, t->exit_code,
                 t->log, why[0] ? ": " : "", why);
        return 1;
    }
    (*done)++;
    fprintf (stderr, "  %-6s %s  %.1f s\n", t->kind == S_TASK_BOUND ? "bound" : "run", t->dir, wall_s);
    return 0;
}

/* Runs every task, up to JOBS at a time: 0, 1 (a task failed, the rest
 * stopped) or 130 (interrupted, everything stopped). */
static int
s_run_tasks (s_task_t *tasks, int n, const s_opts_t *o, char *bound_note, size_t note_len)
{
    int running = 0, done = 0, rc = 0;
    for (;;) {
        for (int i = 0; i < n && running < o->jobs && !s_interrupted && rc == 0; i++)
            if (tasks[i].state == S_PENDING) {
                if (s_task_start (&tasks[i], o) != 0)
                    rc = 1;
                else
                    running++;
            }
        if (running == 0 || s_interrupted || rc != 0)
            break;
        struct timespec pause = { 0, EVAL_POLL_MS * 1000000L };
        nanosleep (&pause, NULL);
        for (int i = 0; i < n && rc == 0; i++)
            if (tasks[i].state == S_RUNNING && s_task_done (&tasks[i])) {
                running--;
                rc = s_task_finished (tasks, n, i, &done, bound_note, note_len);
            }
    }
    if (s_interrupted)
        rc = 130;
    s_stop_all (tasks, n);
    return rc;
}

/* ------------------------------------------------------------ collecting */

/* Fills EVAL with config C's runs; 0, or -1 with a line on stderr. */
static int
s_collect (eval_t *eval, int c, const s_task_t *tasks, int n, const char *bound_note)
{
    char path[PATH_MAX + 64], err[PATH_MAX + 256];
    eval_kpis_t *kpis = malloc (sizeof *kpis);
    int rc = kpis ? 0 : -1;
    for (int i = 0; i < n && rc == 0; i++) {
        const s_task_t *t = &tasks[i];
        if (t->config != c || t->state != S_DONE)
            continue;
        if (t->kind == S_TASK_BOUND) {
            if (s_read_bound (t, kpis, err, sizeof err) != 0
                || eval_set (eval, t->seed_i, EVAL_BOUND, kpis, err, sizeof err) != 0)
                rc = -1;
            continue;
        }
        for (int p = EVAL_BASELINE; p <= EVAL_AUTONOMOUS && rc == 0; p++) {
            snprintf (path, sizeof path, "%s/%s/kpi.json", t->dir, eval_policy_name ((eval_policy_t) p));
            char why[256];
            if (eval_kpis_read (path, kpis, err, sizeof err) != 0)
                rc = -1;
            else if (eval_set (eval, t->seed_i, (eval_policy_t) p, kpis, why, sizeof why) != 0) {
                if (snprintf (err, sizeof err, "%s: %s", path, why) >= (int) sizeof err)
                    err[sizeof err - 1] = 0;
                rc = -1;
            }
        }
    }
    if (rc != 0)
        fprintf (stderr, "autofab eval: %s\n", kpis ? err : "out of memory");
    free (kpis);
    if (rc != 0)
        return -1;
    if (!eval_has_bound (eval))
        eval_set_bound_note (eval, bound_note[0] ? bound_note : "the bound runs did not complete");
    return 0;
}

/* ------------------------------------------------------------- reports */

/* eval.json and eval.html in the output folder; 0 or -1 (line said). */
static int
s_write_reports (eval_t *const *evals, int n, const eval_meta_t *meta, const char *out_dir)
{
    static const char *const names[] = { "eval.json", "eval.html" };
    for (int i = 0; i < 2; i++) {
        char path[PATH_MAX + 16];
        snprintf (path, sizeof path, "%s/%s", out_dir, names[i]);
        FILE *out = fopen (path, "w");
        if (!out) {
            fprintf (stderr, "autofab eval: cannot write %s: %s\n", path, strerror (errno));
            return -1;
        }
        if (i == 0)
            eval_write_json (evals, n, meta, out);
        else
            eval_write_html (evals, n, meta, out);
        if (fclose (out) != 0) {
            fprintf (stderr, "autofab eval: cannot write %s\n", path);
            return -1;
        }
    }
    return 0;
}

/* Builds the task list: every seed's run, then the bounds (so a twin that
 * refuses the bound has cost nothing when the first bound starts). */
static s_task_t *
s_make_tasks (const s_opts_t *o, int *n_out)
{
    int n = o->n_configs * (int) o->seeds * 2;
    s_task_t *tasks = calloc ((size_t) n, sizeof *tasks);
    if (!tasks)
        return NULL;
    int i = 0;
    for (int kind = S_TASK_RUN; kind <= S_TASK_BOUND; kind++)
        for (int c = 0; c < o->n_configs; c++)
            for (int s = 0; s < o->seeds; s++, i++) {
                char name[PATH_MAX];
                s_config_name (o->configs[c], name, sizeof name);
                tasks[i] = (s_task_t) { .config = c, .seed_i = s, .kind = (s_task_kind_t) kind };
                if (snprintf (tasks[i].dir, sizeof tasks[i].dir, "%s/%s/%d", o->out_dir, name, s + 1)
                    >= (int) sizeof tasks[i].dir) {
                    free (tasks);
                    return NULL;
                }
            }
    *n_out = n;
    return tasks;
}

/* Collects, prints and writes; 0 or an exit code. */
static int
s_report (const s_opts_t *o, const s_task_t *tasks, int n_tasks, const char *bound_note)
{
    eval_t *evals[EVAL_MAX_CONFIGS] = { 0 };
    eval_meta_t meta = { .seeds = (int) o->seeds, .hours = o->hours, .warmup_h = o->warmup_h };
    int rc = CLI_EXIT_OK;
    for (int c = 0; c < o->n_configs && rc == CLI_EXIT_OK; c++) {
        evals[c] = eval_new (o->configs[c], (int) o->seeds);
        if (!evals[c] || s_collect (evals[c], c, tasks, n_tasks, bound_note) != 0)
            rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_EXIT_OK && s_write_reports (evals, o->n_configs, &meta, o->out_dir) != 0)
        rc = CLI_EXIT_FAIL;
    for (int c = 0; c < o->n_configs && rc == CLI_EXIT_OK; c++)
        if (!o->json)
            eval_print (evals[c], &meta, stdout);
    if (rc == CLI_EXIT_OK && o->json)
        eval_write_json (evals, o->n_configs, &meta, stdout);
    if (rc == CLI_EXIT_OK && !o->json)
        printf ("\nwrote %s/eval.json and %s/eval.html; each run under %s/<config>/<seed>/\n", o->out_dir,
                o->out_dir, o->out_dir);
    for (int c = 0; c < o->n_configs; c++)
        eval_destroy (&evals[c]);
    return rc;
}

/* ------------------------------------------------------------- command */

static int
s_eval (const cli_ctx_t *ctx, int argc, char **argv)
{
    (void) ctx;
    static char configs_buf[8192];
    s_opts_t o;
    int rc = s_parse (argc, argv, &o, configs_buf, sizeof configs_buf);
    if (rc < 0)
        return cli_help (&cli_cmd_eval);
    if (rc != 0)
        return rc;
    char out_dir[PATH_MAX], path[PATH_MAX + 16];
    if (!o.out_dir) {
        time_t now = time (NULL);
        struct tm tm;
        gmtime_r (&now, &tm);
        strftime (out_dir, sizeof out_dir, "runs/eval-%Y%m%dT%H%M%SZ", &tm);
        o.out_dir = out_dir;
    }
    s_bin_dir (o.bin_dir, sizeof o.bin_dir);
    snprintf (path, sizeof path, "%s/autofab-twin", o.bin_dir);
    if (access (path, X_OK) != 0)
        return cli_fail ("eval", "autofab-twin must be in %s (set AUTOFAB_BIN)", o.bin_dir);
    /* Runs of an earlier evaluation would mix with ours (journals append). */
    for (int c = 0; c < o.n_configs; c++) {
        char name[PATH_MAX];
        s_config_name (o.configs[c], name, sizeof name);
        if (snprintf (path, sizeof path, "%s/%s", o.out_dir, name) < (int) sizeof path && access (path, F_OK) == 0)
            return cli_fail ("eval", "%s holds an earlier evaluation; choose another --out or remove it", path);
    }
    if (s_mkdirs (o.out_dir) != 0)
        return cli_fail ("eval", "cannot create %s: %s", o.out_dir, strerror (errno));
    int n_tasks;
    s_task_t *tasks = s_make_tasks (&o, &n_tasks);
    if (!tasks)
        return cli_fail ("eval", "out of memory or an output path too long");
    fprintf (stderr, "autofab eval: %d config(s) x %ld seeds, %g h after %g h warm-up, %ld at a time -> %s\n",
             o.n_configs, o.seeds, o.hours, o.warmup_h, o.jobs, o.out_dir);
    s_interrupted = 0;
    struct sigaction sa = { .sa_handler = s_on_signal }, old_int, old_term;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, &old_int);
    sigaction (SIGTERM, &sa, &old_term);
    char bound_note[600] = "";
    /* Every exit is reported here in one line of our own; the supervisor's
     * warnings would only repeat it (more detail stays with --log-level). */
    af_log_level_t level = af_log_level ();
    if (level == AF_LOG_WARN)
        af_log_set_level (AF_LOG_ERROR);
    rc = s_run_tasks (tasks, n_tasks, &o, bound_note, sizeof bound_note);
    af_log_set_level (level);
    sigaction (SIGINT, &old_int, NULL);
    sigaction (SIGTERM, &old_term, NULL);
    if (rc == 130)
        fprintf (stderr, "autofab eval: interrupted; every run stopped\n");
    else if (rc != 0)
        rc = CLI_EXIT_FAIL;
    else {
        if (bound_note[0])
            fprintf (stderr, "autofab eval: no perfect-information bound: %s\n", bound_note);
        rc = s_report (&o, tasks, n_tasks, bound_note);
    }
    free (tasks);
    return rc;
}

const cli_command_t cli_cmd_eval = {
    .name = "eval",
    .summary = "compare autonomous with baseline over seeds, with 95 % intervals",
    .usage = s_usage,
    .run = s_eval,
};
