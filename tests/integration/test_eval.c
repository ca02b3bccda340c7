/*  End-to-end tests of autofab eval: on a tiny plant over 2 seeds × a few
 *  hours, both policies agree (no agent exists yet) so every change and
 *  every interval is 0, and eval.json has the four keys of every KPI of
 *  docs/kpi.md; a twin with a bound fills the bound column; a failed run is
 *  named with its log; Ctrl-C stops every run
 *  and leaves no process behind; bad usage is one line and exit 2.  */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "af_test.h"
#include "cli/eval.h"

static char s_tmp[256];

/* Two stations that break down and get PM within hours, so the KPIs differ
 * from seed to seed: an interval of 0 then means the policies agree.  No
 * speed above nameplate and no defects (the default): the line agent has
 * nothing to change, so the policies are the same plant. */
static const char s_tiny_yaml[] =
    "factory: {name: tiny}\n"
    "arrivals: {mode: poisson, rate_per_h: 40}\n"
    "stations:\n"
    "  - {name: a, process_s: {dist: exponential, mean: 60}, mtbf_h: 2, pm_interval_h: 3, max_speed: 1}\n"
    "  - {name: b, process_s: {dist: exponential, mean: 50}, mtbf_h: 3, max_speed: 1}\n";

static void
s_setup (void)
{
    /* Anything eval leaves behind is re-parented to us, so we see it. */
    prctl (PR_SET_CHILD_SUBREAPER, 1);
    cr_assert (aft_tmpdir (s_tmp, sizeof s_tmp, "autofab-eval-test"));
}

static void
s_teardown (void)
{
    if (!aft_rmtree (s_tmp))
        cr_log_warn ("could not remove %s", s_tmp);
}

static void
s_write (const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen (path, "w");
    cr_assert (f, "cannot write %s", path);
    fputs (text, f);
    fclose (f);
    chmod (path, mode);
}

/* Starts `autofab ARGS` with output to OUT_FILE; AUTOFAB_BIN=BIN_DIR when
 * given.  Returns the pid. */
static pid_t
s_start (const char *out_file, const char *bin_dir, const char *const args[])
{
    const char *base = getenv ("AF_BIN");
    char bin[512];
    snprintf (bin, sizeof bin, "%s/autofab", base ? base : ".");
    const char *argv[40] = { bin };
    int n = 1;
    for (int i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (out_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2 (fd, 1);
        dup2 (fd, 2);
        if (bin_dir)
            setenv ("AUTOFAB_BIN", bin_dir, 1);
        execv (bin, (char *const *) argv);
        _exit (127);
    }
    return pid;
}

/* Whether any process still running names TEXT in its command line. */
static bool
s_process_mentions (const char *text)
{
    DIR *proc = opendir ("/proc");
    struct dirent *d;
    bool found = false;
    while (proc && !found && (d = readdir (proc))) {
        char path[300], cmd[4096];
        if (d->d_name[0] < '1' || d->d_name[0] > '9')
            continue;
        snprintf (path, sizeof path, "/proc/%s/cmdline", d->d_name);
        int fd = open (path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t n = read (fd, cmd, sizeof cmd - 1);
        close (fd);
        for (ssize_t i = 0; i < n; i++)
            if (!cmd[i])
                cmd[i] = ' ';
        cmd[n > 0 ? n : 0] = 0;
        found = strstr (cmd, text) != NULL;
    }
    if (proc)
        closedir (proc);
    return found;
}

/* The KPI keys of docs/kpi.md's table: lines "| `key` | …". */
static int
s_doc_kpis (char keys[][64], int max)
{
    const char *src = getenv ("AF_SRC");
    char path[512];
    snprintf (path, sizeof path, "%s/docs/kpi.md", src ? src : ".");
    FILE *in = fopen (path, "r");
    cr_assert (in, "cannot read %s", path);
    char line[1024];
    int n = 0;
    while (fgets (line, sizeof line, in) && n < max)
        if (!strncmp (line, "| `", 3)) {
            char *end = strchr (line + 3, '`');
            if (end && end - (line + 3) < 64) {
                memcpy (keys[n], line + 3, (size_t) (end - (line + 3)));
                keys[n++][end - (line + 3)] = 0;
            }
        }
    fclose (in);
    return n;
}

TestSuite (eval, .init = s_setup, .fini = s_teardown, .timeout = 180);

Test (eval, equal_policies_give_zero_change_and_complete_keys)
{
    char config[300], out[300], log[300];
    snprintf (config, sizeof config, "%s/tiny.yaml", s_tmp);
    snprintf (out, sizeof out, "%s/out", s_tmp);
    snprintf (log, sizeof log, "%s/eval.log", s_tmp);
    s_write (config, s_tiny_yaml, 0644);
    /* Programs without any agent: both policies are then the twin's
     * baseline, whatever agents the build has (an agent that owns a concern
     * changes the autonomous run even on this tiny plant). */
    char bin[300];
    snprintf (bin, sizeof bin, "%s/no-agents", s_tmp);
    mkdir (bin, 0755);
    const char *base = getenv ("AF_BIN");
    const char *progs[] = { "autofab", "autofab-twin", "autofab-broker", "autofab-web" };
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        char from[400], to[400];
        snprintf (from, sizeof from, "%s/%s", base ? base : ".", progs[i]);
        snprintf (to, sizeof to, "%s/%s", bin, progs[i]);
        if (from[0] != '/') {
            char cwd[300];
            cr_assert (getcwd (cwd, sizeof cwd));
            snprintf (from, sizeof from, "%s/%s/%s", cwd, base ? base : ".", progs[i]);
        }
        cr_assert_eq (symlink (from, to), 0);
    }
    const char *args[] = { "eval", "--configs", config, "--seeds", "2", "--hours", "4", "--warmup-h", "1",
                           "--jobs", "2", "--out", out, NULL };
    int rc = aft_wait_exit (s_start (log, bin, args), 120000);
    char *text = aft_read_file (log);
    cr_assert_eq (rc, 0, "autofab eval failed:\n%s", text);
    cr_assert (strstr (text, "ci95"), "the table: %s", text);
    free (text);

    char path[400];
    snprintf (path, sizeof path, "%s/eval.json", out);
    char *json = aft_read_file (path);
    cr_assert (strstr (json, "\"seeds\":2") && strstr (json, "\"hours\":4") && strstr (json, "\"warmup_h\":1"),
               "%s", json);
    /* The warm-up is not measured: each run's window is the 4 hours. */
    cr_assert (strstr (json, "\"sim_h_baseline\":4,"), "%s", json);
    char keys[64][64];
    int n = s_doc_kpis (keys, 64);
    cr_assert (n >= 20, "docs/kpi.md lists %d KPIs", n);
    bool bound = strstr (json, "\"bound_available\":true") != NULL;
    for (int i = 0; i < n; i++) {
        /* A station index has no mean (docs/eval.md). */
        if (!strcmp (keys[i], "bottleneck"))
            continue;
        const char *suffixes[] = { "_baseline\":", "_autonomous\":", "_change_pct\":0,", "_ci95_pct\":0,",
                                   bound ? "_bound\":" : NULL };
        for (size_t j = 0; j < 5 && suffixes[j]; j++) {
            char key[200];
            cr_assert (snprintf (key, sizeof key, "\"%s%s", keys[i], suffixes[j]) < (int) sizeof key);
            cr_assert (strstr (json, key), "eval.json lacks %s…", key);
        }
    }
    free (json);
    /* Each seed's own autofab run output, and the page. */
    const char *expected[] = { "eval.html", "tiny/1/kpi.json", "tiny/2/baseline/kpi.json",
                               "tiny/2/autonomous/kpi.json", "tiny/1/eval.log" };
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        snprintf (path, sizeof path, "%s/%s", out, expected[i]);
        cr_assert_eq (access (path, R_OK), 0, "missing %s", path);
    }
    /* Seeds differ (or the interval of 0 would prove nothing). */
    char p1[400], p2[400];
    snprintf (p1, sizeof p1, "%s/tiny/1/baseline/kpi.json", out);
    snprintf (p2, sizeof p2, "%s/tiny/2/baseline/kpi.json", out);
    char *k1 = aft_read_file (p1), *k2 = aft_read_file (p2);
    cr_assert (strcmp (k1, k2) != 0, "seeds 1 and 2 gave identical KPIs");
    free (k1);
    free (k2);
}

/* A fake `autofab` in a private bin folder beside the real twin. */
static void
s_fake_bin (char *dir, size_t len, const char *script)
{
    snprintf (dir, len, "%s/bin", s_tmp);
    mkdir (dir, 0755);
    char path[400], twin[400];
    snprintf (path, sizeof path, "%s/autofab", dir);
    s_write (path, script, 0755);
    const char *base = getenv ("AF_BIN");
    snprintf (twin, sizeof twin, "%s/autofab-twin", base ? base : ".");
    snprintf (path, sizeof path, "%s/autofab-twin", dir);
    cr_assert_eq (symlink (twin, path), 0);
}

Test (eval, a_failed_run_names_its_log)
{
    char bin[300], out[300], log[300];
    s_fake_bin (bin, sizeof bin, "#!/bin/sh\necho 'the twin exploded'\nexit 1\n");
    snprintf (out, sizeof out, "%s/out", s_tmp);
    snprintf (log, sizeof log, "%s/eval.log", s_tmp);
    const char *src = getenv ("AF_SRC");
    char config[400];
    snprintf (config, sizeof config, "%s/deploy/factories/gigafactory.yaml", src ? src : ".");
    const char *args[] = { "eval", "--configs", config, "--seeds", "2", "--hours", "2", "--out", out, NULL };
    int rc = aft_wait_exit (s_start (log, bin, args), 60000);
    char *text = aft_read_file (log);
    cr_assert_eq (rc, 1, "exit %d: %s", rc, text);
    cr_assert (strstr (text, "gigafactory/1/eval.log") || strstr (text, "gigafactory/2/eval.log"), "%s", text);
    cr_assert (strstr (text, "the twin exploded"), "the reason from the log: %s", text);
    free (text);
    /* The same --out again: refused, the earlier runs are not mixed in. */
    rc = aft_wait_exit (s_start (log, bin, args), 60000);
    text = aft_read_file (log);
    cr_assert_eq (rc, 1, "exit %d: %s", rc, text);
    cr_assert (strstr (text, "holds an earlier evaluation"), "%s", text);
    free (text);
}

Test (eval, the_bound_column_fills_from_the_twin_s_bounds)
{
    /* The real twin's bounds (one KPI set per concern); the harness takes
     * the best per KPI, and none may lose to autonomous (= baseline here). */
    char path[400], out[300], log[300], config[300];
    snprintf (config, sizeof config, "%s/tiny.yaml", s_tmp);
    snprintf (out, sizeof out, "%s/out", s_tmp);
    snprintf (log, sizeof log, "%s/eval.log", s_tmp);
    s_write (config, s_tiny_yaml, 0644);
    const char *args[] = { "eval", "--configs", config, "--seeds", "2", "--hours", "3", "--warmup-h", "1",
                           "--out", out, NULL };
    int rc = aft_wait_exit (s_start (log, NULL, args), 120000);
    char *text = aft_read_file (log);
    cr_assert_eq (rc, 0, "exit %d: %s", rc, text);
    cr_assert (!strstr (text, "bound: none") && !strstr (text, "a bug"), "%s", text);
    free (text);
    snprintf (path, sizeof path, "%s/eval.json", out);
    char *json = aft_read_file (path);
    cr_assert (strstr (json, "\"bound_available\":true"), "%s", json);
    cr_assert (strstr (json, "\"units_bound\":") && strstr (json, "\"units_bound_worse_seeds\":0"), "%s", json);
    cr_assert (strstr (json, "\"escaped_defects_bound_worse_seeds\":0"), "%s", json);
    free (json);
    snprintf (path, sizeof path, "%s/tiny/2/bound/kpi.json", out);
    char *kpi = aft_read_file (path);
    eval_kpis_t k;
    char err[200];
    cr_assert_eq (eval_kpis_parse (kpi, strlen (kpi), &k, err, sizeof err), 0, "%s: %s", path, err);
    free (kpi);
}

Test (eval, ctrl_c_stops_every_run)
{
    char out[300], log[300], config[300];
    snprintf (out, sizeof out, "%s/out", s_tmp);
    snprintf (log, sizeof log, "%s/eval.log", s_tmp);
    snprintf (config, sizeof config, "%s/tiny.yaml", s_tmp);
    s_write (config, s_tiny_yaml, 0644);
    /* Long enough not to finish: the real runs, interrupted mid-way. */
    const char *args[] = { "eval", "--configs", config, "--seeds", "3", "--hours", "80000", "--warmup-h", "1",
                           "--jobs", "2", "--out", out, NULL };
    pid_t pid = s_start (log, NULL, args);
    /* Wait until both runs have their twins going. */
    char twin_log[400];
    snprintf (twin_log, sizeof twin_log, "%s/tiny/2/baseline/logs/twin.log", out);
    for (int i = 0; i < 100 && access (twin_log, R_OK) != 0; i++)
        usleep (100000);
    cr_assert (s_process_mentions (out), "no run started");
    kill (pid, SIGINT);
    int rc = aft_wait_exit (pid, 60000);
    char *text = aft_read_file (log);
    cr_assert_eq (rc, 130, "exit %d: %s", rc, text);
    cr_assert (strstr (text, "interrupted"), "%s", text);
    free (text);
    usleep (300000);
    cr_assert (!s_process_mentions (out), "a process of the runs outlived autofab eval");
    siginfo_t info = { 0 };
    char comm[64] = "";
    if (waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid > 0) {
        char path[64];
        snprintf (path, sizeof path, "/proc/%d/comm", (int) info.si_pid);
        FILE *f = fopen (path, "r");
        if (f) {
            if (!fgets (comm, sizeof comm, f))
                comm[0] = 0;
            fclose (f);
        }
    }
    int status;
    cr_assert (waitpid (-1, &status, WNOHANG) <= 0, "a stray process (%s) was re-parented to the test", comm);
}

Test (eval, bad_usage_is_one_line_and_exit_2)
{
    char bad[300];
    snprintf (bad, sizeof bad, "%s/broken.yaml", s_tmp);
    s_write (bad, "factory: {name: x}\nstations: [\n", 0644);
    const char *cases[][8] = {
        { "eval", "--seeds", "0", NULL },
        { "eval", "--seeds", "many", NULL },
        { "eval", "--hours", "-3", NULL },
        { "eval", "--warmup-h", "x", NULL },
        { "eval", "--jobs", "0", NULL },
        { "eval", "--bogus", NULL },
        { "eval", "stray", NULL },
        { "eval", "--configs", ",", NULL },
        { "eval", "--configs", "/nonexistent/factory.yaml", NULL },
        { "eval", "--configs", bad, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char log[400];
        snprintf (log, sizeof log, "%s/usage.log", s_tmp);
        int rc = aft_wait_exit (s_start (log, NULL, cases[i]), 20000);
        char *text = aft_read_file (log);
        cr_assert_eq (rc, 2, "case %zu: exit %d: %s", i, rc, text);
        cr_assert (strncmp (text, "autofab eval: ", 14) == 0, "case %zu: %s", i, text);
        cr_assert (strchr (text, '\n') == text + strlen (text) - 1, "case %zu: one line: %s", i, text);
        free (text);
    }
    char log[400];
    /* The option eval passes to autofab run is checked there too. */
    snprintf (log, sizeof log, "%s/run.log", s_tmp);
    const char *run[] = { "run", "--hours", "4", "--warmup-h", "4", NULL };
    cr_assert_eq (aft_wait_exit (s_start (log, NULL, run), 20000), 2);
    char *run_text = aft_read_file (log);
    cr_assert (strstr (run_text, "autofab run: --warmup-h 4 must be shorter than --hours 4"), "%s", run_text);
    free (run_text);
    snprintf (log, sizeof log, "%s/help.log", s_tmp);
    const char *help[] = { "eval", "--help", NULL };
    cr_assert_eq (aft_wait_exit (s_start (log, NULL, help), 20000), 0);
    char *text = aft_read_file (log);
    cr_assert (strstr (text, "--warmup-h") && strstr (text, "--configs"), "%s", text);
    free (text);
}

/* The bounds read the hidden state: autofab-twin runs them offline only,
 * and only for concerns that have one. */
Test (eval, the_twin_keeps_its_bounds_off_the_bus)
{
    char config[300];
    snprintf (config, sizeof config, "%s/tiny.yaml", s_tmp);
    s_write (config, s_tiny_yaml, 0644);
    const char *bus[] = { "--config", config, "--hours", "1", "--policy", "bound", "--bus", NULL };
    pid_t pid = aft_spawn ("autofab-twin", bus);
    cr_assert_eq (aft_wait_exit (pid, 20000), 2);
    char *log = aft_child_log (pid, "autofab-twin");
    cr_assert (strstr (log, "offline only"), "%s", log);
    free (log);
    const char *energy[] = { "--config", config, "--hours", "1", "--policy", "bound:energy", NULL };
    pid = aft_spawn ("autofab-twin", energy);
    cr_assert_eq (aft_wait_exit (pid, 20000), 2);
    log = aft_child_log (pid, "autofab-twin");
    cr_assert (strstr (log, "bound:maintenance"), "the known bounds are named: %s", log);
    free (log);
}
