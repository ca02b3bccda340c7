/*  The plant model through its public API: determinism, commands,
 *  telemetry, series, vibration snippets, what-if forks and shadow mode.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"

static twin_t *
s_factory (const char *name, uint64_t seed, bool baseline)
{
    const char *src = getenv ("AF_SRC");
    char path[512], err[512] = "";
    snprintf (path, sizeof path, "%s/deploy/factories/%s.yaml", src ? src : ".", name);
    twin_t *t = twin_new_from_file (path, seed, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    if (baseline) {
        twin_policy_t p;
        cr_assert_eq (twin_policy_baseline (t, &p), 0);
        twin_set_policy (t, &p);
    }
    return t;
}

static void
s_json (twin_t *t, char *buf, size_t len)
{
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert (twin_kpi_json (&k, buf, len) > 0);
}

Test (twin_model, determinism)
{
    char a[4096], b[4096], c[4096];
    twin_t *t = s_factory ("gigafactory", 7, true);
    twin_run (t, 336, NULL);
    s_json (t, a, sizeof a);
    twin_destroy (&t);
    t = s_factory ("gigafactory", 7, true);
    /* Stepping in pieces must not change anything either. */
    twin_start (t);
    for (int i = 1; i <= 336; i++)
        twin_iterate (t, i * 3600.0, 0);
    s_json (t, b, sizeof b);
    twin_destroy (&t);
    t = s_factory ("gigafactory", 8, true);
    twin_run (t, 336, NULL);
    s_json (t, c, sizeof c);
    twin_destroy (&t);
    cr_assert_str_eq (a, b, "same seed, different KPIs:\n%s\n%s", a, b);
    cr_assert_str_neq (a, c, "a different seed gave identical KPIs");
}

Test (twin_model, kpis_are_plausible)
{
    twin_t *t = s_factory ("gigafactory", 1, true);
    twin_record_series (t, true);
    twin_run (t, 24 * 28, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert (k.throughput_uph > 30 && k.throughput_uph < 70, "throughput %g", k.throughput_uph);
    cr_assert (k.oee_pct > 40 && k.oee_pct <= 100, "oee %g", k.oee_pct);
    /* Downtime is planned + unplanned by definition (kpi.c); what can be
     * wrong is the bookkeeping behind it: the causes must add up to it. */
    double causes[TWIN_CAUSE_COUNT], by_cause = 0;
    twin_downtime_by_cause (t, causes);
    for (int c = 0; c < TWIN_CAUSE_COUNT; c++)
        by_cause += causes[c];
    cr_assert (fabs (k.downtime_h - by_cause) < 1e-6 * (1 + k.downtime_h), "downtime %g h, causes %g h",
               k.downtime_h, by_cause);
    cr_assert (k.planned_downtime_h > 0, "the baseline does PM at the maker's interval");
    cr_assert (k.breakdowns > 0 && k.mtbf_h > 0 && k.mttr_h > 0);
    cr_assert (k.manual_interventions >= k.breakdowns, "each repair is a manual intervention");
    cr_assert (k.energy_kwh_per_unit > 0 && k.energy_cost_per_unit > 0 && k.peak_kw > 0);
    cr_assert (k.robot_utilisation_pct > 0 && k.robot_utilisation_pct < 100);
    cr_assert (k.cycle_time_mean_min > 0);
    const twin_series_t *s = twin_series (t);
    cr_assert_eq (s->n, (size_t) (24 * 28 * 3600 / twin_epoch_s (t)), "one row per epoch, got %zu", s->n);
    cr_assert_eq (s->n_stations, 8);
    size_t n_mev;
    const twin_maint_event_t *m = twin_maint_events (t, &n_mev);
    cr_assert (n_mev > 0 && m[0].t_h >= 0 && m[0].station >= 0);
    twin_destroy (&t);
}

Test (twin_model, commands_validated)
{
    twin_t *t = s_factory ("gigafactory", 1, false);
    twin_run (t, 1, NULL);
    char err[256];
    const twin_cmd_t bad[] = {
        { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { 0, 5.0 } },
        { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { 99, 1.0 } },
        { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { -1, NAN } },
        { .kind = TWIN_CMD_BATTERY, .u.battery = { 1e6 } },
        { .kind = TWIN_CMD_HVAC, .u.hvac = { 3 } },
        { .kind = TWIN_CMD_INSPECTION, .u.inspection = { 0 } },
        { .kind = TWIN_CMD_REORDER, .u.reorder = { 17, 10 } },
        { .kind = TWIN_CMD_REORDER, .u.reorder = { 0, -10 } },
        { .kind = TWIN_CMD_ROUTING, .u.routing = { 0, 1 } },     /* no alt_route */
        { .kind = TWIN_CMD_TASK_ASSIGN, .u.task = { 9, TWIN_TASK_INSPECT, 0, -1 } },
        { .kind = TWIN_CMD_BATCH_SEQUENCE, .u.batch = { TWIN_SEQ_BATCH, 0 } },
        { .kind = (twin_cmd_kind_t) 77 },
    };
    char before[4096], after[4096];
    s_json (t, before, sizeof before);
    const twin_obs_t *o = twin_observe (t);
    double speed0 = o->stations[0].speed;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        cr_assert_eq (twin_apply (t, &bad[i], err, sizeof err), -1, "bad command %zu accepted", i);
        cr_assert (err[0], "bad command %zu: no error text", i);
    }
    s_json (t, after, sizeof after);
    cr_assert_str_eq (before, after);
    /* The observation refreshes at an epoch: run one, then look again. */
    twin_run (t, 0.25, NULL);
    o = twin_observe (t);
    cr_assert_eq (o->stations[0].speed, speed0);

    twin_cmd_t ok = { .kind = TWIN_CMD_MAINTENANCE, .u.maintenance = { 2, false } };
    cr_assert_eq (twin_apply (t, &ok, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &ok, err, sizeof err), -1, "a second PM order is refused");
    cr_assert (strstr (err, "already"), "%s", err);
    ok = (twin_cmd_t) { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { -1, 1.1 } };
    cr_assert_eq (twin_apply (t, &ok, err, sizeof err), 0, "%s", err);
    ok = (twin_cmd_t) { .kind = TWIN_CMD_BATTERY, .u.battery = { -200 } };
    cr_assert_eq (twin_apply (t, &ok, err, sizeof err), 0, "%s", err);
    ok = (twin_cmd_t) { .kind = TWIN_CMD_TASK_ASSIGN, .u.task = { 0, TWIN_TASK_INSPECT, 2, -1 } };
    cr_assert_eq (twin_apply (t, &ok, err, sizeof err), 0, "%s", err);
    twin_run (t, 2, NULL);
    o = twin_observe (t);
    cr_assert_float_eq (o->stations[0].speed, 1.1, 1e-12);
    cr_assert (o->stations[2].hours_since_pm < 2.5, "PM done: %g h since", o->stations[2].hours_since_pm);
    cr_assert (o->stations[2].inspected_wear >= 0, "the robot's inspection reported a condition");
    cr_assert (o->battery_kw < 0, "battery charging");
    twin_destroy (&t);
}

typedef struct {
    int samples, stations;
    bool energy;
} s_tel_t;

static void
s_count (void *ctx, const twin_sample_t *s)
{
    s_tel_t *c = ctx;
    c->samples++;
    c->stations += !strncmp (s->topic, "station.", 8);
    c->energy |= !strcmp (s->topic, "energy");
    cr_assert (s->n > 0 && s->n <= TWIN_SAMPLE_MAX);
}

static int s_epochs;
static void
s_on_epoch (void *ctx, twin_t *twin, const twin_obs_t *obs)
{
    (void) twin;
    (void) ctx;
    cr_assert_eq (obs->epoch, s_epochs);
    s_epochs++;
}

Test (twin_model, telemetry_and_epochs)
{
    twin_t *t = s_factory ("two-line", 1, true);
    s_epochs = 0;
    twin_set_epoch_cb (t, s_on_epoch, NULL);
    twin_run (t, 10, NULL);
    cr_assert_eq (s_epochs, (int) (10 * 3600 / twin_epoch_s (t)) + 1, "epochs at 0, 1, 2 … 600 min: %d", s_epochs);
    s_tel_t c = { 0 };
    twin_telemetry_foreach (t, s_count, &c);
    cr_assert_eq (c.stations, 6);
    cr_assert (c.energy);
    /* issue 11 added the order book and a flow.<station> topic per station. */
    cr_assert_eq (c.samples, 6 + 2 + 2 + 3 + 1 + 6, "stations, parts, robots, energy, quality, line, orders, flow");
    twin_destroy (&t);
}

/* |DFT| of X at frequency F (one bin, Goertzel-style direct sum). */
static double
s_tone (const double *x, size_t n, double fs, double f)
{
    double re = 0, im = 0;
    for (size_t i = 0; i < n; i++) {
        re += x[i] * cos (2 * M_PI * f * (double) i / fs);
        im -= x[i] * sin (2 * M_PI * f * (double) i / fs);
    }
    return 2 * sqrt (re * re + im * im) / (double) n;
}

Test (twin_model, vibration_snippet_shows_bearing_wear)
{
    twin_t *t = s_factory ("gigafactory", 3, false);
    twin_start (t);
    const size_t n = 8192;
    const double fs = 8192;
    double *x = malloc (n * sizeof *x), shaft;
    cr_assert_eq (twin_vibration_snippet (t, 0, fs, n, x, &shaft), 0);
    double bpfo = 9.0 / 2 * shaft * (1 - 0.3);
    double fresh = s_tone (x, n, fs, bpfo), one_x = s_tone (x, n, fs, shaft);
    cr_assert (one_x > 0.5, "shaft harmonic present: %g", one_x);
    /* An inspection finds the station at 80 % of its wear limit. */
    twin_plant_report_t r = { 0, twin_observe (t)->stations[0].state,
                              twin_observe (t)->stations[0].buffer_level, 0.8 };
    char err[256];
    twin_shadow_report (t, &r, err, sizeof err);
    cr_assert_eq (twin_vibration_snippet (t, 0, fs, n, x, &shaft), 0);
    double worn = s_tone (x, n, fs, 9.0 / 2 * shaft * (1 - 0.3));
    cr_assert (worn > fresh + 0.05, "BPFO tone grows with wear: %g → %g", fresh, worn);
    cr_assert_eq (twin_vibration_snippet (t, 99, fs, n, x, NULL), -1);
    cr_assert_eq (twin_vibration_snippet (t, 0, 1, n, x, NULL), -1);
    free (x);
    twin_destroy (&t);
}

Test (twin_model, fork_replays_exactly)
{
    twin_t *t = s_factory ("gigafactory", 5, true);
    twin_run (t, 100, NULL);
    char err[256];
    twin_cmd_t c = { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { -1, 1.1 } };
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0);
    /* Between epochs, mid-stream: a command and a shadow report. */
    twin_iterate (t, twin_now_s (t) + 1234.5, 0);
    c = (twin_cmd_t) { .kind = TWIN_CMD_BATTERY, .u.battery = { 100 } };
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0);
    twin_iterate (t, 1e12, 777);
    twin_plant_report_t r = { 2, twin_observe (t)->stations[2].state,
                              twin_observe (t)->stations[2].buffer_level, 0.5 };
    twin_shadow_report (t, &r, NULL, 0);
    twin_t *f = twin_fork (t, err, sizeof err);
    cr_assert_not_null (f, "%s", err);
    cr_assert_float_eq (twin_now_s (f), twin_now_s (t), 1e-9);
    cr_assert_eq (twin_events (f), twin_events (t));
    char a[4096], b[4096];
    s_json (t, a, sizeof a);
    s_json (f, b, sizeof b);
    cr_assert_str_eq (a, b, "fork differs at the fork point");
    /* Without a policy in the fork, both run on under the same commands. */
    twin_set_policy (t, NULL);
    twin_run (t, 50, NULL);
    twin_run (f, 50, NULL);
    s_json (t, a, sizeof a);
    s_json (f, b, sizeof b);
    cr_assert_str_eq (a, b, "fork diverged");
    twin_destroy (&f);
    twin_destroy (&t);
}

Test (twin_model, whatif_leaves_live_run_alone)
{
    twin_t *t = s_factory ("gigafactory", 5, true);
    twin_run (t, 48, NULL);
    char before[4096], after[4096], err[256];
    s_json (t, before, sizeof before);
    twin_kpi_t base, changed;
    twin_cmd_t slow = { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { -1, 0.6 } };
    cr_assert_eq (twin_whatif (t, 24, &slow, true, &base, &changed, err, sizeof err), 0, "%s", err);
    s_json (t, after, sizeof after);
    cr_assert_str_eq (before, after);
    cr_assert (changed.units < base.units * 0.8, "slower line, fewer units: %g vs %g",
               changed.units, base.units);
    cr_assert (fabs (base.sim_h - 24) < 1e-6);
    twin_cmd_t bad = { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { -1, 9 } };
    cr_assert_eq (twin_whatif (t, 24, &bad, true, &base, &changed, err, sizeof err), -1);
    twin_destroy (&t);
}

Test (twin_model, shadow_reports_and_corrects)
{
    twin_t *t = s_factory ("gigafactory", 2, true);
    twin_run (t, 5, NULL);
    const twin_obs_t *o = twin_observe (t);
    char diff[512];
    twin_plant_report_t r = { 2, o->stations[2].state, o->stations[2].buffer_level, -1 };
    /* Observation is as of the last epoch, and we are exactly on one. */
    cr_assert_eq (twin_shadow_report (t, &r, diff, sizeof diff), 0, "%s", diff);
    r.measured_wear = 0.9;
    cr_assert_eq (twin_shadow_report (t, &r, diff, sizeof diff), 1);
    cr_assert (strstr (diff, "wear"), "%s", diff);
    r.measured_wear = 0.9;
    cr_assert_eq (twin_shadow_report (t, &r, diff, sizeof diff), 0, "corrected: %s", diff);
    r.state = TWIN_ST_DOWN;
    r.measured_wear = -1;
    cr_assert_eq (twin_shadow_report (t, &r, diff, sizeof diff), 1);
    cr_assert (strstr (diff, "state"), "%s", diff);
    twin_run (t, 0.25, NULL);
    cr_assert (twin_observe (t)->stations[2].state == TWIN_ST_DOWN
               || twin_observe (t)->stations[2].hours_since_pm < 1, "the plant's breakdown was taken over");
    r.station = 99;
    cr_assert_eq (twin_shadow_report (t, &r, diff, sizeof diff), -1);
    twin_destroy (&t);
}

Test (twin_model, downtime_by_cause_adds_up)
{
    twin_t *t = s_factory ("stressed", 4, true);
    twin_run (t, 24 * 14, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    double h[TWIN_CAUSE_COUNT], sum = 0;
    twin_downtime_by_cause (t, h);
    for (int c = 0; c < TWIN_CAUSE_COUNT; c++) {
        cr_assert (h[c] >= 0);
        sum += h[c];
    }
    cr_assert (fabs (sum - k.downtime_h) < 1e-6 * (1 + k.downtime_h), "causes %g h, downtime %g h",
               sum, k.downtime_h);
    cr_assert (h[5] > 0 && h[6] > 0, "random failures and PM both cost time");
    cr_assert_str_eq (twin_cause_name (6), "pm");
    cr_assert_str_eq (twin_cause_name (0), "bearing");
    twin_destroy (&t);
}

Test (twin_model, shadow_takes_over_buffers_and_repairs)
{
    twin_t *t = s_factory ("gigafactory", 2, true);
    twin_run (t, 3, NULL);
    char diff[512];
    const twin_obs_t *o = twin_observe (t);
    int lvl = o->stations[4].buffer_level;
    twin_plant_report_t r = { 4, o->stations[4].state, lvl + 2 <= 3 ? lvl + 2 : 0, -1 };
    int want = r.buffer_level;
    cr_assert_eq (twin_shadow_report (t, &r, diff, sizeof diff), 1);
    cr_assert (strstr (diff, "buffer"), "%s", diff);
    /* Now the model holds what the plant holds (the station may have pulled one). */
    /* The same report right after agrees on the buffer (the state it
     * carries is stale by now: the refilled station has started). */
    twin_shadow_report (t, &r, diff, sizeof diff);
    cr_assert_null (strstr (diff, "buffer"), "the buffer was not taken over: %s", diff);
    twin_run (t, 0.25, NULL);   /* refresh the observation at the next epoch */
    cr_assert (twin_observe (t)->stations[4].buffer_level <= 3);
    cr_assert_geq (want, 0);
    /* A breakdown, then the plant reports the station running again. */
    r = (twin_plant_report_t) { 1, TWIN_ST_DOWN, twin_observe (t)->stations[1].buffer_level, -1 };
    twin_shadow_report (t, &r, diff, sizeof diff);
    r.state = TWIN_ST_BUSY;
    cr_assert_eq (twin_shadow_report (t, &r, diff, sizeof diff), 1);
    twin_run (t, 0.25, NULL);
    cr_assert_neq (twin_observe (t)->stations[1].state, TWIN_ST_DOWN);
    /* The model's own repair event, now stale, must not disturb the run. */
    twin_run (t, 24, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert (k.units > 0);
    twin_destroy (&t);
}

Test (twin_model, torque_curve)
{
    twin_t *t = s_factory ("gigafactory", 3, false);
    double a[200], q[200];
    cr_assert_eq (twin_torque_curve (t, 1, 200, a, q), 0);
    cr_assert (fabs (q[199] - 12) < 1.5, "final torque %g N·m near nominal 12", q[199]);
    cr_assert (q[10] < 2, "free run is soft: %g", q[10]);
    for (int i = 1; i < 200; i++)
        cr_assert (a[i] > a[i - 1]);
    cr_assert_eq (twin_torque_curve (t, -1, 200, a, q), -1);
    cr_assert_eq (twin_torque_curve (t, 1, 2, a, q), -1);
    twin_destroy (&t);
}

/* The levers controllers have move the KPIs the way physics says. */
Test (twin_model, inspecting_every_unit_cuts_escapes)
{
    twin_t *t = s_factory ("stressed", 6, true);
    twin_run (t, 24 * 60, NULL);     /* two months in: parts have worn */
    char err[256];
    twin_kpi_t base, changed;
    twin_cmd_t all = { .kind = TWIN_CMD_INSPECTION, .u.inspection = { 1 } };
    cr_assert_eq (twin_whatif (t, 24 * 7, &all, true, &base, &changed, err, sizeof err), 0, "%s", err);
    cr_assert (base.escaped_defects > 10, "baseline escapes: %g", base.escaped_defects);
    cr_assert (changed.escaped_defects_ppm < 0.4 * base.escaped_defects_ppm, "escapes %g → %g ppm",
               base.escaped_defects_ppm, changed.escaped_defects_ppm);
    cr_assert (changed.rework_units + changed.scrap_units > base.rework_units + base.scrap_units);
    twin_destroy (&t);
}

Test (twin_model, shadow_inventory)
{
    twin_t *t = s_factory ("gigafactory", 2, true);
    twin_run (t, 2, NULL);
    int cell = twin_part_index (t, "cell");
    cr_assert (cell >= 0);
    const twin_part_obs_t *p = &twin_observe (t)->parts[cell];
    char diff[256];
    cr_assert_eq (twin_shadow_inventory (t, cell, p->warehouse, -1, diff, sizeof diff), 0, "%s", diff);
    cr_assert_eq (twin_shadow_inventory (t, cell, 1234, -1, diff, sizeof diff), 1);
    cr_assert (strstr (diff, "warehouse"), "%s", diff);
    cr_assert_eq (twin_shadow_inventory (t, cell, 1234, -1, diff, sizeof diff), 0, "taken over: %s", diff);
    cr_assert_eq (twin_shadow_inventory (t, 99, 1, 1, diff, sizeof diff), -1);
    cr_assert_eq (twin_shadow_inventory (t, cell, 1, 1e9, diff, sizeof diff), -1);
    /* A fork starts from the shadowed counts. */
    char err[256];
    twin_t *f = twin_fork (t, err, sizeof err);
    cr_assert_not_null (f, "%s", err);
    cr_assert_eq (twin_shadow_inventory (f, cell, 1234, -1, diff, sizeof diff), 0, "fork: %s", diff);
    twin_destroy (&f);
    twin_destroy (&t);
}

Test (twin_model, series_csv_and_policy_by_name)
{
    twin_t *t = s_factory ("two-line", 1, false);
    twin_policy_t p;
    cr_assert_eq (twin_policy_by_name (t, "none", &p), 0);
    cr_assert_null (p.on_epoch);
    cr_assert_eq (twin_policy_by_name (t, "magic", &p), -1);
    cr_assert_eq (twin_policy_by_name (t, "baseline", &p), 0);
    twin_set_policy (t, &p);
    twin_record_series (t, true);
    twin_run (t, 5, NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream (&buf, &len);
    cr_assert_eq (twin_series_write_csv (t, m), 0);
    fclose (m);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    cr_assert_eq (lines, 1 + (int) (5 * 3600 / twin_epoch_s (t)), "header + a row per epoch: %d", lines);
    cr_assert (strstr (buf, "util_weld-a"), "%.200s", buf);
    free (buf);
    twin_destroy (&t);
}
