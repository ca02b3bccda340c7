/*  Integration: autofab-maintenance on the bus against the real twin.  It
 *  takes the maintenance concern, so every breakdown waits for its
 *  order_repair: the run must still end with every breakdown repaired by a
 *  robot (no manual intervention), and its part swaps on running stations
 *  must leave fewer wear breakdowns and less downtime than the baseline
 *  (interval PM, technician repairs) on the same seed.  Killed mid-run, the
 *  twin takes maintenance back (its technicians and PM resume); started
 *  again, the agent owns it again and acts.  Bad options exit 2. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "af_test.h"
#include "cli/eval.h"

/* Two stations whose bearings last about 60 busy hours (rated 0.016 / h,
 * spread 0.2), random failures rare: over 300 h the baseline sees several
 * wear breakdowns PM cannot prevent.  Quarter-hour epochs keep it quick. */
static const char s_plant[] =
    "factory: {name: mtest, epoch_s: 900}\n"
    "arrivals: {mode: poisson, rate_per_h: 40}\n"
    "stations:\n"
    "  - name: a\n"
    "    process_s: {dist: exponential, mean: 60}\n"
    "    mtbf_h: 5000\n"
    "    pm_interval_h: 48\n"
    "    wear:\n"
    "      bearing: {rate_per_h: 0.016, speed_exp: 1, threshold: 1.0, life_cv: 0.2, repair_min: 120}\n"
    "      lube: {rate_per_h: 0.01, speed_exp: 1, threshold: 1.0, repair_min: 20}\n"
    "  - name: b\n"
    "    process_s: {dist: exponential, mean: 50}\n"
    "    mtbf_h: 5000\n"
    "    pm_interval_h: 48\n"
    "    wear:\n"
    "      bearing: {rate_per_h: 0.016, speed_exp: 1, threshold: 1.0, life_cv: 0.2, repair_min: 120}\n"
    "people: {technicians: 1, response_min: 20}\n"
    "robots: {mobile: 2, can_repair: true}\n";

static char s_tmp[256];
static aft_broker_t s_broker;

static void
s_setup (void)
{
    cr_assert (aft_tmpdir (s_tmp, sizeof s_tmp, "autofab-maint-agent-test"));
    cr_assert (aft_broker_start (&s_broker, 0, 200));
}

static void
s_teardown (void)
{
    aft_broker_stop (&s_broker);
    aft_rmtree (s_tmp);
}

TestSuite (maintenance_agent, .init = s_setup, .fini = s_teardown, .timeout = 240);

static void
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    cr_assert (f, "cannot write %s", path);
    fputs (text, f);
    fclose (f);
}

static double
s_kpi (const eval_kpis_t *k, const char *name)
{
    double v = NAN;
    cr_assert (eval_kpis_get (k, name, &v), "no KPI %s", name);
    return v;
}

/* Health events of station A seen on PROBE: how many, and whether each
 * carried a bearing health index in [0, 1]. */
static int
s_health_events (af_bus_t *probe, bool *sane)
{
    int n = 0;
    *sane = true;
    af_msg_t *msg = calloc (1, sizeof *msg);
    while (af_bus_recv (probe, msg, 200) == 1) {
        if (strstr (msg->topic, ".health.a") && msg->env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY) {
            bool has = false;
            for (size_t i = 0; i < msg->env->telemetry->n_metrics; i++) {
                const Autofab__Metric *m = msg->env->telemetry->metrics[i];
                if (!strcmp (m->name, "bearing_health")) {
                    has = true;
                    *sane = *sane && m->value >= 0 && m->value <= 1;
                }
            }
            *sane = *sane && has;
            n++;
        }
        af_msg_clear (msg);
    }
    free (msg);
    return n;
}

/* The twin on the bus for HOURS with the agent; its KPIs in *K, the agent's
 * log in *LOG (free it). */
static void
s_run_with_agent (const char *config, const char *hours, eval_kpis_t *k, char **log)
{
    char out[300], kpi[340], err[200];
    snprintf (out, sizeof out, "%s/run", s_tmp);
    mkdir (out, 0755);
    const char *agent_argv[] = { "--broker", s_broker.control, NULL };
    pid_t agent = aft_spawn ("autofab-maintenance", agent_argv);
    cr_assert_gt (agent, 0);
    af_bus_t *probe = aft_bus (&s_broker, "probe");
    cr_assert (aft_wait_listed (probe, "maintenance", true, 30000), "the agent did not register");
    cr_assert_eq (af_bus_subscribe (probe, "evt.*.*.maintenance-advisor.>"), 0);
    const char *twin_argv[] = { "--bus", "--broker", s_broker.control, "--config", config,
                                "--hours", hours, "--expect-controllers", "1", "--out", out, NULL };
    pid_t twin = aft_spawn ("autofab-twin", twin_argv);
    cr_assert_eq (aft_wait_exit (twin, 180000), 0, "the twin failed: %s", aft_child_log (twin, "autofab-twin"));
    cr_assert_eq (aft_wait_exit (agent, 30000), 0, "the agent did not end cleanly");
    *log = aft_child_log (agent, "autofab-maintenance");
    bool sane;
    int events = s_health_events (probe, &sane);
    af_bus_destroy (&probe);
    /* One per hour of plant time: about HOURS of them. */
    cr_assert_gt (events, atoi (hours) / 2, "%d health events of station a\n%s", events, *log);
    cr_assert (sane, "a health event without a bearing health index in [0, 1]");
    snprintf (kpi, sizeof kpi, "%s/kpi.json", out);
    cr_assert_eq (eval_kpis_read (kpi, k, err, sizeof err), 0, "%s", err);
}

/* The same plant and seed under the twin's own baseline. */
static void
s_baseline (const char *config, const char *hours, eval_kpis_t *k)
{
    const char *argv[] = { "--config", config, "--hours", hours, "--json", NULL };
    pid_t pid = aft_spawn ("autofab-twin", argv);
    cr_assert_eq (aft_wait_exit (pid, 60000), 0);
    char *text = aft_child_log (pid, "autofab-twin");
    const char *json = strchr (text, '{');
    cr_assert_not_null (json, "%s", text);
    char err[200];
    cr_assert_eq (eval_kpis_parse (json, strcspn (json, "\n"), k, err, sizeof err), 0, "%s", err);
    free (text);
}

Test (maintenance_agent, repairs_by_robot_and_swaps_before_failure)
{
    char config[300];
    snprintf (config, sizeof config, "%s/plant.yaml", s_tmp);
    s_write (config, s_plant);
    eval_kpis_t agent, base;
    char *log = NULL;
    s_run_with_agent (config, "300", &agent, &log);
    s_baseline (config, "300", &base);
    /* The baseline's wear breakdowns are there to prevent. */
    cr_assert_geq (s_kpi (&base, "breakdowns"), 4, "the test plant wears too slowly");
    cr_assert (strstr (log, "preventive part swaps") && !strstr (log, " 0 preventive part swaps"), "%s", log);
    cr_assert_lt (s_kpi (&agent, "breakdowns"), 0.5 * s_kpi (&base, "breakdowns"), "%s", log);
    cr_assert_lt (s_kpi (&agent, "downtime_h"), s_kpi (&base, "downtime_h"), "%s", log);
    /* Nobody called: robots repaired what broke, and the plant kept running
     * (a breakdown left waiting for an order would starve the line). */
    cr_assert_eq (s_kpi (&agent, "manual_interventions"), 0, "%s", log);
    cr_assert_gt (s_kpi (&agent, "units"), 0.95 * s_kpi (&base, "units"), "%s", log);
    free (log);
}

Test (maintenance_agent, bad_options_are_refused)
{
    const char *bad[][3] = { { "--failure-cost-ratio", "0.5", NULL }, { "--model-cv", "x", NULL },
                             { "--bogus", NULL, NULL }, { "stray", NULL, NULL } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pid_t pid = aft_spawn ("autofab-maintenance", bad[i]);
        cr_assert_eq (aft_wait_exit (pid, 10000), 2, "%s %s", bad[i][0], bad[i][1] ? bad[i][1] : "");
    }
    const char *help[] = { "--help", NULL };
    pid_t pid = aft_spawn ("autofab-maintenance", help);
    cr_assert_eq (aft_wait_exit (pid, 10000), 0);
    char *text = aft_child_log (pid, "autofab-maintenance");
    cr_assert (strstr (text, "usage: autofab-maintenance"), "%s", text);
    free (text);
}

static int
s_count (const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr (text, what); p; p = strstr (p + 1, what))
        n++;
    return n;
}

Test (maintenance_agent, killed_it_hands_back_and_takes_again)
{
    char config[300], out[300];
    snprintf (config, sizeof config, "%s/plant.yaml", s_tmp);
    snprintf (out, sizeof out, "%s/kill", s_tmp);
    mkdir (out, 0755);
    s_write (config, s_plant);
    const char *agent_argv[] = { "--broker", s_broker.control, NULL };
    pid_t agent = aft_spawn ("autofab-maintenance", agent_argv);
    af_bus_t *probe = aft_bus (&s_broker, "probe");
    cr_assert (aft_wait_listed (probe, "maintenance", true, 30000), "the agent did not register");
    /* 300 h paced at 20 000 × the wall clock: about 54 s. */
    const char *twin_argv[] = { "--bus", "--broker", s_broker.control, "--config", config, "--hours", "300",
                                "--expect-controllers", "1", "--speed", "20000", "--out", out, NULL };
    pid_t twin = aft_spawn ("autofab-twin", twin_argv);
    sleep (8);
    aft_stop (agent, SIGKILL, 5000);
    cr_assert (aft_wait_listed (probe, "maintenance", false, 30000), "the broker did not notice the death");
    sleep (6);                          /* ~33 h of plant time without an owner */
    pid_t again = aft_spawn ("autofab-maintenance", agent_argv);
    cr_assert (aft_wait_listed (probe, "maintenance", true, 30000), "the agent did not register again");
    af_bus_destroy (&probe);
    cr_assert_eq (aft_wait_exit (twin, 180000), 0, "the twin failed: %s", aft_child_log (twin, "autofab-twin"));
    cr_assert_eq (aft_wait_exit (again, 30000), 0, "the second agent did not end cleanly");
    char *twin_log = aft_child_log (twin, "autofab-twin"), *log = aft_child_log (again, "autofab-maintenance");
    cr_assert (strstr (twin_log, "maintenance taken back from 'maintenance'"), "%s", twin_log);
    cr_assert_eq (s_count (twin_log, "'maintenance' owns maintenance"), 2, "%s", twin_log);
    /* The twin's practice ran in the gap (a technician's PM or repair)... */
    char kpi[340], err[200];
    snprintf (kpi, sizeof kpi, "%s/kpi.json", out);
    eval_kpis_t k;
    cr_assert_eq (eval_kpis_read (kpi, &k, err, sizeof err), 0, "%s", err);
    cr_assert_gt (s_kpi (&k, "manual_interventions"), 0, "%s", twin_log);
    /* ...and the agent back in charge acted: its commands were applied. */
    cr_assert (!strstr (log, " 0 commands applied"), "%s", log);
    free (twin_log);
    free (log);
}
