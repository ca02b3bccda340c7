/*  End-to-end tests of autofab run: a short run completes with every process
 *  gone, kpi.json validates against docs/kpi.schema.json, report.html opens
 *  in headless Chromium without console errors, a killed broker is
 *  restarted by the supervisor and the run still completes, and bad flags or
 *  a broken config give one clear line and exit status 2.  */
#include <criterion/criterion.h>
#include <czmq.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "af_test.h"

static char s_tmp[256];

static void
s_setup (void)
{
    /* Anything autofab run leaves behind is re-parented to us, so we see it. */
    prctl (PR_SET_CHILD_SUBREAPER, 1);
    cr_assert (aft_tmpdir (s_tmp, sizeof s_tmp, "autofab-run-test"));
}

static void
s_teardown (void)
{
    if (!aft_rmtree (s_tmp))
        cr_log_warn ("could not remove %s", s_tmp);
}

static const char *
s_path (const char *env, const char *rel, char *buf, size_t len)
{
    const char *base = getenv (env);
    snprintf (buf, len, "%s/%s", base ? base : ".", rel);
    return buf;
}

/* Runs autofab with ARGS (NULL-terminated), output to OUT_FILE; returns the
 * pid without waiting. */
static pid_t
s_start (const char *out_file, const char *const args[])
{
    char bin[512];
    s_path ("AF_BIN", "autofab", bin, sizeof bin);
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
        execv (bin, (char *const *) argv);
        _exit (127);
    }
    return pid;
}

static int
s_run (const char *out_file, const char *const args[])
{
    pid_t pid = s_start (out_file, args);
    int rc = aft_wait_exit (pid, 100000);
    return rc;
}

/* After autofab run exited: no process of ours is left (no stray). */
static void
s_assert_no_strays (void)
{
    zclock_sleep (200);
    int status;
    pid_t left = waitpid (-1, &status, WNOHANG);
    cr_assert (left <= 0, "a stray process (pid %d) outlived autofab run", (int) left);
}

TestSuite (run, .init = s_setup, .fini = s_teardown, .timeout = 180);

Test (run, short_run_completes_with_valid_outputs)
{
    char out[512], log[512], config[512];
    snprintf (out, sizeof out, "%s/out", s_tmp);
    snprintf (log, sizeof log, "%s/run.log", s_tmp);
    s_path ("AF_SRC", "deploy/factories/gigafactory.yaml", config, sizeof config);
    const char *args[] = { "run", "--config", config, "--hours", "24", "--seed", "3", "--out", out,
                           "--no-web", "--quiet", NULL };
    int rc = s_run (log, args);
    char *text = aft_read_file (log);
    cr_assert_eq (rc, 0, "autofab run failed:\n%s", text);
    cr_assert (strstr (text, "throughput (units/h)") && strstr (text, "Targets of the vision"), "%s", text);
    /* The agents built so far ran in the autonomous run; the report says the
     * rest of the plant ran conventionally. */
    cr_assert (strstr (text, "The autonomous run had 3 agent(s)"),
               "%s", text);
    free (text);
    s_assert_no_strays ();

    /* kpi.json validates against its schema (Debian's python3-jsonschema). */
    char cmd[2048], schema[512];
    s_path ("AF_SRC", "docs/kpi.schema.json", schema, sizeof schema);
    snprintf (cmd, sizeof cmd,
              "/usr/bin/python3 -c 'import json,sys,jsonschema; "
              "d=json.load(open(sys.argv[1])); jsonschema.validate(d, json.load(open(sys.argv[2]))); "
              "assert d[\"baseline\"][\"throughput_uph\"] > 0; assert d[\"seed\"] == 3' '%s/kpi.json' '%s'",
              out, schema);
    cr_assert_eq (system (cmd), 0, "kpi.json does not validate");
    const char *expected[] = { "baseline/logs/broker.log", "baseline/logs/twin.log", "autonomous/logs/twin.log",
                               "autonomous/logs/energy.log", "baseline/series.json", "report.html" };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        char path[700];
        snprintf (path, sizeof path, "%s/%s", out, expected[i]);
        cr_assert_eq (access (path, R_OK), 0, "missing %s", path);
    }

    /* report.html opens in headless Chromium without a console message, and
     * the charts were drawn (Chart.js sets a canvas's style size). */
    cr_assert_eq (access ("/usr/bin/chromium", X_OK), 0, "chromium is missing: make deps installs it");
    snprintf (cmd, sizeof cmd,
              "timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
              "--disable-background-networking --disable-component-update --disable-sync "
              "--user-data-dir='%s/chromium' --enable-logging=stderr --v=0 --virtual-time-budget=3000 "
              "--dump-dom 'file://%s/report.html' > '%s/dom.html' 2> '%s/chromium.log'",
              s_tmp, out, s_tmp, s_tmp);
    cr_assert_eq (system (cmd), 0, "chromium failed");
    char path[700];
    snprintf (path, sizeof path, "%s/chromium.log", s_tmp);
    char *console = aft_read_file (path);
    cr_assert_null (strstr (console, "CONSOLE"), "console output from the report:\n%s", console);
    free (console);
    snprintf (path, sizeof path, "%s/dom.html", s_tmp);
    char *dom = aft_read_file (path);
    cr_assert (strstr (dom, "id=\"c-throughput\"") && strstr (dom, "style=\"display: block;"),
               "charts were not drawn");
    free (dom);
}

/* The pid of PARENT's child whose command line contains NAME, or 0. */
static pid_t
s_child_named (pid_t parent, const char *name)
{
    DIR *proc = opendir ("/proc");
    pid_t found = 0;
    struct dirent *e;
    while (proc && !found && (e = readdir (proc))) {
        pid_t pid = (pid_t) atoi (e->d_name);
        if (pid <= 0)
            continue;
        char path[64], stat[512];
        snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
        FILE *f = fopen (path, "r");
        if (!f)
            continue;
        size_t n = fread (stat, 1, sizeof stat - 1, f);
        fclose (f);
        stat[n] = 0;
        char *close = strrchr (stat, ')');
        int ppid = 0;
        if (close && sscanf (close + 2, "%*c %d", &ppid) == 1 && ppid == parent && strstr (stat, name))
            found = pid;
    }
    if (proc)
        closedir (proc);
    return found;
}

Test (run, supervisor_restarts_a_killed_process_and_the_run_completes)
{
    char out[512], log[512], config[512];
    snprintf (out, sizeof out, "%s/out", s_tmp);
    snprintf (log, sizeof log, "%s/run.log", s_tmp);
    s_path ("AF_SRC", "deploy/factories/gigafactory.yaml", config, sizeof config);
    /* 8 simulated hours at 2 h per second: about 4 s of wall time. */
    const char *args[] = { "run", "--config", config, "--hours", "8", "--speed", "7200", "--policy",
                           "baseline", "--out", out, "--no-web", "--quiet", NULL };
    pid_t run = s_start (log, args);
    pid_t broker = 0;
    for (int i = 0; i < 100 && !broker; i++) {
        zclock_sleep (20);
        broker = s_child_named (run, "autofab-broker");
    }
    cr_assert_gt (broker, 0, "no broker child found");
    zclock_sleep (1000);
    kill (broker, SIGKILL);
    int rc = aft_wait_exit (run, 100000);
    char *text = aft_read_file (log);
    cr_assert_eq (rc, 0, "run failed after the broker was killed:\n%s", text);
    cr_assert (strstr (text, "supervised restart") != NULL, "no restart reported:\n%s", text);
    free (text);
    char twin_log[700];
    snprintf (twin_log, sizeof twin_log, "%s/baseline/logs/broker.log", out);
    cr_assert_eq (access (twin_log, R_OK), 0);
    s_assert_no_strays ();
}

Test (run, bad_flags_and_config_give_one_line_and_status_2)
{
    char log[512], bad[512];
    snprintf (log, sizeof log, "%s/bad.log", s_tmp);
    snprintf (bad, sizeof bad, "%s/broken.yaml", s_tmp);
    FILE *f = fopen (bad, "w");
    fputs ("name: broken\nstations:\n  - name: a\n    process_time_s: -3\n", f);
    fclose (f);
    const char *cases[][6] = {
        { "run", "--hours", "abc", NULL },
        { "run", "--policy", "sometimes", NULL },
        { "run", "--speed", "-1", NULL },
        { "run", "--no-such-flag", NULL },
        { "run", "--config", "/nonexistent/factory.yaml", NULL },
        { "run", "--config", bad, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = s_run (log, cases[i]);
        char *text = aft_read_file (log);
        cr_assert_eq (rc, 2, "case %zu: status %d, output:\n%s", i, rc, text);
        size_t lines = 0;
        for (char *p = text; *p; p++)
            lines += *p == '\n';
        cr_assert_eq (lines, 1, "case %zu: want one line, got:\n%s", i, text);
        cr_assert (strncmp (text, "autofab run: ", 13) == 0, "case %zu: %s", i, text);
        free (text);
    }
    char *text = aft_read_file (log);
    cr_assert (strstr (text, "broken.yaml:") != NULL, "the config error names file and line: %s", text);
    free (text);
    s_assert_no_strays ();
}

Test (run, journal_replay_drives_a_shadow_twin)
{
    char out[512], log[512], config[512], journal[700];
    snprintf (out, sizeof out, "%s/out", s_tmp);
    snprintf (log, sizeof log, "%s/run.log", s_tmp);
    s_path ("AF_SRC", "deploy/factories/gigafactory.yaml", config, sizeof config);
    const char *args[] = { "run", "--config", config, "--hours", "12", "--policy", "baseline", "--out", out,
                           "--no-web", "--quiet", NULL };
    cr_assert_eq (s_run (log, args), 0);
    snprintf (journal, sizeof journal, "%s/baseline/journal.sqlite", out);
    cr_assert_eq (access (journal, R_OK), 0, "the run wrote no journal");

    aft_broker_t broker;
    cr_assert (aft_broker_start (&broker, 0, 500));
    char shadow_log[512];
    snprintf (shadow_log, sizeof shadow_log, "%s/shadow.log", s_tmp);
    char twin[512];
    s_path ("AF_BIN", "autofab-twin", twin, sizeof twin);
    pid_t shadow = fork ();
    if (shadow == 0) {
        int fd = open (shadow_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2 (fd, 1);
        dup2 (fd, 2);
        execl (twin, twin, "--shadow", "--broker", broker.control, "--config", config, "--hours", "12",
               "--seed", "42", "--idle-timeout-ms", "3000", (char *) NULL);
        _exit (127);
    }
    af_bus_t *bus = aft_bus (&broker, "probe");
    cr_assert (aft_wait_listed (bus, "shadow", true, 15000), "the shadow twin did not register");
    af_bus_destroy (&bus);
    zclock_sleep (200);
    char replay_log[512];
    snprintf (replay_log, sizeof replay_log, "%s/replay.log", s_tmp);
    const char *replay[] = { "--broker", broker.control, "replay", journal, "--max", NULL };
    cr_assert_eq (s_run (replay_log, replay), 0);
    cr_assert_eq (aft_wait_exit (shadow, 30000), 0, "the shadow twin failed");
    aft_broker_stop (&broker);
    char *text = aft_read_file (shadow_log);
    unsigned long reports = 0, disagreements = 0;
    const char *line = strstr (text, "\nshadow: ");
    cr_assert (line && sscanf (line + 1, "shadow: %lu station reports, %lu disagreements", &reports, &disagreements) == 2,
               "%s", text);
    /* 12 h of 15-minute epochs, 8 stations: the whole recorded run was tracked. */
    cr_assert_geq (reports, 47 * 8, "%s", text);
    cr_assert_gt (disagreements, 0, "another seed must disagree somewhere: %s", text);
    free (text);
    s_assert_no_strays ();
}

/* Issue 18: a folder that holds a run is refused up front (it used to end
 * in "the broker did not start"); --linger keeps broker and dashboard up
 * for the stated time after the table, then everything stops; the broker's
 * address is printed so the run can be followed; the last progress line
 * agrees with the table. */
Test (run, second_run_into_one_folder_is_refused_and_linger_stops)
{
    char out[512], log[512], config[512];
    snprintf (out, sizeof out, "%s/one", s_tmp);
    snprintf (log, sizeof log, "%s/one.log", s_tmp);
    s_path ("AF_SRC", "deploy/factories/gigafactory.yaml", config, sizeof config);
    const char *args[] = { "run", "--config", config, "--hours", "2", "--policy", "baseline",
                           "--out", out, "--no-web", "--linger=1s", NULL };
    cr_assert_eq (s_run (log, args), 0);
    char *text = aft_read_file (log);
    cr_expect (strstr (text, "broker tcp://127.0.0.1:") && strstr (text, "sub 'evt.>'"),
               "no broker address to follow:\n%s", text);
    cr_expect (strstr (text, "2 simulated hours"), "%s", text);
    cr_expect (strstr (text, "stay up for 1 s"), "%s", text);
    /* The final progress line shows the table's units. */
    const char *row = strstr (text, "units shipped");
    double table_units = -1, line_units = -2;
    cr_assert (row && sscanf (row, "units shipped %lf", &table_units) == 1, "%s", text);
    const char *last = NULL;
    for (const char *p = strstr (text, "100%"); p; p = strstr (p + 1, "100%"))
        last = p;
    cr_assert (last && sscanf (strstr (last, "units "), "units %lf", &line_units) == 1, "%s",
               text);
    cr_expect_eq (line_units, table_units, "progress %g vs table %g", line_units, table_units);
    free (text);
    s_assert_no_strays ();

    int rc = s_run (log, args);
    text = aft_read_file (log);
    cr_expect_eq (rc, 1, "%s", text);
    cr_expect (strstr (text, "already holds a run"), "%s", text);
    free (text);
    s_assert_no_strays ();
}
