/*  Integration: autofab-line on the bus against the real twin.  It takes
 *  the line and quality concerns, finds the constraint of a small line and
 *  paces it within its max_speed, and its inspection finds what the
 *  baseline's 1-in-20 sampling lets through: more units and fewer escaped
 *  defects than the baseline on the same seed.  Bad options are refused. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "af_test.h"
#include "cli/eval.h"

/* Three stations, the middle one the constraint (60 s vs 40 s), a defect
 * rate high enough to count escapes in a day. */
static const char s_plant[] =
    "factory: {name: ltest, epoch_s: 60}\n"
    "stations:\n"
    "  - {name: a, process_s: {dist: gamma, mean: 40, cv: 0.1}, buffer_cap: 4, quality: {defect_p: 0.01}}\n"
    "  - {name: b, process_s: {dist: gamma, mean: 60, cv: 0.1}, buffer_cap: 4, max_speed: 1.2,\n"
    "     quality: {defect_p: 0.01}}\n"
    "  - {name: c, process_s: {dist: gamma, mean: 40, cv: 0.1}, buffer_cap: 4, quality: {defect_p: 0.01}}\n";

static char s_tmp[256];
static aft_broker_t s_broker;

static void
s_setup (void)
{
    cr_assert (aft_tmpdir (s_tmp, sizeof s_tmp, "autofab-line-test"));
    cr_assert (aft_broker_start (&s_broker, 0, 200));
}

static void
s_teardown (void)
{
    aft_broker_stop (&s_broker);
    aft_rmtree (s_tmp);
}

TestSuite (line_agent, .init = s_setup, .fini = s_teardown, .timeout = 180);

static void
s_kpis (const char *path_or_json, bool is_json, double *units, double *escaped)
{
    eval_kpis_t k;
    char err[200];
    if (is_json)
        cr_assert_eq (eval_kpis_parse (path_or_json, strcspn (path_or_json, "\n"), &k, err, sizeof err), 0, "%s",
                      err);
    else
        cr_assert_eq (eval_kpis_read (path_or_json, &k, err, sizeof err), 0, "%s", err);
    cr_assert (eval_kpis_get (&k, "units", units));
    cr_assert (eval_kpis_get (&k, "escaped_defects", escaped));
}

Test (line_agent, paces_the_constraint_and_inspects_by_risk)
{
    char config[300], out[300], kpi[340];
    snprintf (config, sizeof config, "%s/plant.yaml", s_tmp);
    FILE *f = fopen (config, "w");
    cr_assert (f);
    fputs (s_plant, f);
    fclose (f);
    snprintf (out, sizeof out, "%s/run", s_tmp);
    mkdir (out, 0755);
    const char *agent_argv[] = { "--broker", s_broker.control, NULL };
    pid_t agent = aft_spawn ("autofab-line", agent_argv);
    cr_assert_gt (agent, 0);
    af_bus_t *probe = aft_bus (&s_broker, "probe");
    cr_assert (aft_wait_listed (probe, "line", true, 30000), "the agent did not register");
    cr_assert_eq (af_bus_subscribe (probe, "alm.>"), 0);
    const char *twin_argv[] = { "--bus", "--broker", s_broker.control, "--config", config, "--hours", "24",
                                "--expect-controllers", "1", "--out", out, NULL };
    pid_t twin = aft_spawn ("autofab-twin", twin_argv);
    cr_assert_eq (aft_wait_exit (twin, 150000), 0, "the twin failed: %s", aft_child_log (twin, "autofab-twin"));
    cr_assert_eq (aft_wait_exit (agent, 30000), 0, "the agent did not end cleanly");
    char *log = aft_child_log (agent, "autofab-line");
    /* Its SPC alarms reached the bus as alarms, one per log line. */
    /* Static: an af_msg_t carries its own decode arena (~200 kB). */
    static af_msg_t msg_store;
    af_msg_t *msg = &msg_store;
    int alarms = 0;
    while (af_bus_recv (probe, msg, 500) == 1) {
        if (msg->env && msg->env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_ALARM
            && !strcmp (msg->env->alarm->code, "spc"))
            alarms++;
        af_msg_clear (msg);
    }
    af_bus_destroy (&probe);
    cr_assert_gt (alarms, 0, "no SPC alarm on alm.\n%s", log);
    cr_assert (strstr (log, "SPC alarm at "), "%s", log);
    cr_assert (!strstr (log, "(0 published)"), "%s", log);
    cr_assert (strstr (log, "constraint now b"), "%s", log);
    cr_assert (strstr (log, "b speed 1.00 -> 1.20"), "%s", log);
    cr_assert (strstr (log, "inspection 1 in 20 -> 1 in 1"), "%s", log);
    double units, escaped, base_units, base_escaped;
    snprintf (kpi, sizeof kpi, "%s/kpi.json", out);
    s_kpis (kpi, false, &units, &escaped);

    const char *argv[] = { "--config", config, "--hours", "24", "--json", NULL };
    pid_t pid = aft_spawn ("autofab-twin", argv);
    cr_assert_eq (aft_wait_exit (pid, 60000), 0);
    char *text = aft_child_log (pid, "autofab-twin");
    const char *json = strchr (text, '{');
    cr_assert_not_null (json, "%s", text);
    s_kpis (json, true, &base_units, &base_escaped);
    cr_assert_gt (units, base_units * 1.05, "units %.0f, baseline %.0f\n%s", units, base_units, log);
    cr_assert_lt (escaped, base_escaped * 0.5, "escaped %.0f, baseline %.0f\n%s", escaped, base_escaped, log);
    free (text);
    free (log);
}

Test (line_agent, bad_options_are_refused)
{
    const char *bad[][3] = { { "--speed-cap", "3", NULL }, { "--sample-every", "1", NULL },
                             { "--sample-every", "2.5", NULL }, { "--aoql-ppm", "0", NULL },
                             { "--bogus", NULL, NULL }, { "stray", NULL, NULL } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pid_t pid = aft_spawn ("autofab-line", bad[i]);
        cr_assert_eq (aft_wait_exit (pid, 10000), 2, "%s %s", bad[i][0], bad[i][1] ? bad[i][1] : "");
    }
    const char *help[] = { "--help", NULL };
    pid_t pid = aft_spawn ("autofab-line", help);
    cr_assert_eq (aft_wait_exit (pid, 10000), 0);
    char *text = aft_child_log (pid, "autofab-line");
    cr_assert (strstr (text, "usage: autofab-line"), "%s", text);
    free (text);
}
