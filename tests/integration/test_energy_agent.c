/*  Integration: autofab-energy on the bus against the real twin.  It takes
 *  the energy concern, learns battery and tariff from the plant description,
 *  and its battery dispatch lowers the energy bill against the idle battery
 *  of the baseline on the same seed; a plant without a battery leaves it
 *  nothing to do, and bad options are refused.  */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "af_test.h"
#include "cli/eval.h"

/* A small plant with a battery, a wide time-of-use spread and no demand
 * charge: arbitrage alone must pay.  Quarter-hour epochs keep it quick. */
static const char s_plant[] =
    "factory: {name: etest, epoch_s: 900}\n"
    "arrivals: {mode: poisson, rate_per_h: 40}\n"
    "stations:\n"
    "  - {name: a, process_s: {dist: exponential, mean: 60}, power_kw: {idle: 20, busy: 80}}\n"
    "  - {name: b, process_s: {dist: exponential, mean: 50}, power_kw: {idle: 10, busy: 40}}\n"
    "energy:\n"
    "  base_load_kw: 50\n"
    "  battery: {capacity_kwh: 400, max_kw: 100, round_trip_eff: 0.9, soc: 0.5, min_soc: 0.1}\n"
    "  tariff:\n"
    "    price_per_kwh: 0.15\n"
    "    tou:\n"
    "      - {from_h: 17, to_h: 21, price_per_kwh: 0.40}\n"
    "      - {from_h: 0, to_h: 6, price_per_kwh: 0.08}\n";

static const char s_no_battery[] =
    "factory: {name: etest, epoch_s: 900}\n"
    "stations:\n"
    "  - {name: a, process_s: 60}\n";

static char s_tmp[256];
static aft_broker_t s_broker;

static void
s_setup (void)
{
    cr_assert (aft_tmpdir (s_tmp, sizeof s_tmp, "autofab-energy-test"));
    cr_assert (aft_broker_start (&s_broker, 0, 200));
}

static void
s_teardown (void)
{
    aft_broker_stop (&s_broker);
    aft_rmtree (s_tmp);
}

TestSuite (energy_agent, .init = s_setup, .fini = s_teardown, .timeout = 180);

static void
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    cr_assert (f, "cannot write %s", path);
    fputs (text, f);
    fclose (f);
}

/* Runs the twin on the bus for HOURS with the energy agent; the agent's log
 * in *LOG (free it) and the run's energy cost. */
static double
s_run_with_agent (const char *config, const char *hours, char **log)
{
    char out[300], kpi[340];
    snprintf (out, sizeof out, "%s/run", s_tmp);
    mkdir (out, 0755);
    const char *agent_argv[] = { "--broker", s_broker.control, NULL };
    pid_t agent = aft_spawn ("autofab-energy", agent_argv);
    cr_assert_gt (agent, 0);
    af_bus_t *probe = aft_bus (&s_broker, "probe");
    cr_assert (aft_wait_listed (probe, "energy", true, 30000), "the agent did not register");
    af_bus_destroy (&probe);
    const char *twin_argv[] = { "--bus", "--broker", s_broker.control, "--config", config,
                                "--hours", hours, "--expect-controllers", "1", "--out", out, NULL };
    pid_t twin = aft_spawn ("autofab-twin", twin_argv);
    cr_assert_eq (aft_wait_exit (twin, 120000), 0, "the twin failed: %s", aft_child_log (twin, "autofab-twin"));
    cr_assert_eq (aft_wait_exit (agent, 30000), 0, "the agent did not end cleanly");
    *log = aft_child_log (agent, "autofab-energy");
    snprintf (kpi, sizeof kpi, "%s/kpi.json", out);
    eval_kpis_t k;
    char err[200];
    cr_assert_eq (eval_kpis_read (kpi, &k, err, sizeof err), 0, "%s", err);
    double cost = NAN;
    cr_assert (eval_kpis_get (&k, "energy_cost", &cost));
    return cost;
}

/* The same plant and seed under the twin's own baseline (battery idle). */
static double
s_baseline_cost (const char *config, const char *hours)
{
    char log_path[300];
    snprintf (log_path, sizeof log_path, "%s/baseline.json", s_tmp);
    const char *argv[] = { "--config", config, "--hours", hours, "--json", NULL };
    pid_t pid = aft_spawn ("autofab-twin", argv);
    cr_assert_eq (aft_wait_exit (pid, 60000), 0);
    char *text = aft_child_log (pid, "autofab-twin");
    const char *json = strchr (text, '{');
    cr_assert_not_null (json, "%s", text);
    eval_kpis_t k;
    char err[200];
    cr_assert_eq (eval_kpis_parse (json, strcspn (json, "\n"), &k, err, sizeof err), 0, "%s", err);
    double cost = NAN;
    cr_assert (eval_kpis_get (&k, "energy_cost", &cost));
    free (text);
    return cost;
}

Test (energy_agent, battery_dispatch_lowers_the_bill)
{
    char config[300];
    snprintf (config, sizeof config, "%s/plant.yaml", s_tmp);
    s_write (config, s_plant);
    char *log = NULL;
    double agent = s_run_with_agent (config, "72", &log);
    double base = s_baseline_cost (config, "72");
    cr_assert (strstr (log, "commands applied") && !strstr (log, " 0 commands applied"), "%s", log);
    cr_assert_lt (agent, base, "energy cost with the agent %.1f, baseline %.1f\n%s", agent, base, log);
    free (log);
}

Test (energy_agent, a_plant_without_battery_leaves_nothing_to_do)
{
    char config[300];
    snprintf (config, sizeof config, "%s/plant.yaml", s_tmp);
    s_write (config, s_no_battery);
    char *log = NULL;
    s_run_with_agent (config, "4", &log);
    cr_assert (strstr (log, "no battery"), "%s", log);
    cr_assert (strstr (log, " 0 commands applied"), "%s", log);
    free (log);
}

Test (energy_agent, bad_options_are_refused)
{
    const char *bad[][3] = { { "--horizon-h", "0", NULL }, { "--reserve", "150", NULL }, { "--bogus", NULL, NULL },
                             { "stray", NULL, NULL } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pid_t pid = aft_spawn ("autofab-energy", bad[i]);
        cr_assert_eq (aft_wait_exit (pid, 10000), 2, "%s %s", bad[i][0], bad[i][1] ? bad[i][1] : "");
    }
    const char *help[] = { "--help", NULL };
    pid_t pid = aft_spawn ("autofab-energy", help);
    cr_assert_eq (aft_wait_exit (pid, 10000), 0);
    char *text = aft_child_log (pid, "autofab-energy");
    cr_assert (strstr (text, "usage: autofab-energy"), "%s", text);
    free (text);
}
