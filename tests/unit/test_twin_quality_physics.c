/*  Quality physics of the twin (issue 11, agents/twin/quality.c): process
 *  and gauge drift behind the defects, recalibration, diverts on noisy
 *  readings, inspection capacity and cost, skipped steps and delayed field
 *  returns.  Each test shows a trade-off in the KPIs, on a one- or
 *  two-station line so that the physics, not the plant, decides.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"

static twin_t *
s_twin (const char *yaml, uint64_t seed)
{
    char err[512];
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "quality-test", seed, err, sizeof err);
    cr_assert_not_null (t, "config refused: %s", err);
    return t;
}

static void
s_policy (twin_t *t, const char *name)
{
    twin_policy_t p;
    cr_assert_eq (twin_policy_by_name (t, name, &p), 0);
    twin_set_policy (t, &p);
}

/* One nutrunner station feeding an end-of-line test; QUALITY is the press's
 * quality map, PLANT the plant's quality section. */
static twin_t *
s_line (const char *station_quality, const char *plant_quality, uint64_t seed)
{
    char yaml[2048];
    snprintf (yaml, sizeof yaml,
              "factory: {name: q, epoch_s: 60}\n"
              "arrivals: {mode: saturated}\n"
              "quality: {%s}\n"
              "stations:\n"
              "  - {name: press, process_s: 30, conveyor_s: 120, quality: {torque_nm: 10, %s}}\n"
              "  - {name: eol, process_s: 20}\n",
              plant_quality, station_quality);
    return s_twin (yaml, seed);
}

static double
s_defective (const twin_kpi_t *k)
{
    return k->escaped_defects + k->scrap_units + k->rework_units;
}

/* ------------------------------------------------------------ drift and recalibration */

/* A drifting process makes more and more defects; the baseline's
 * recalibration at the maker's interval holds them down, at the price of
 * planned stops. */
Test (twin_quality_phys, drift_makes_defects_recalibration_costs_downtime)
{
    const char *drift = "torque_tol_pct: 10, cp: 1.33, drift_pct_per_h: 5, drift_sd_pct_per_h: 5, "
                        "grr_pct: 10, recal_min: 10";
    char with_recal[256];
    snprintf (with_recal, sizeof with_recal, "%s, recal_every_units: 500", drift);
    twin_kpi_t k[2];
    for (int i = 0; i < 2; i++) {
        twin_t *t = s_line (i ? with_recal : drift, "sample_every: 1, detect_p: 1, rework_p: 1", 3);
        s_policy (t, "baseline");
        twin_run (t, 72, NULL);
        twin_kpis (t, &k[i]);
        twin_destroy (&t);
    }
    cr_assert_eq (k[0].recalibrations, 0);
    cr_assert_gt (k[1].recalibrations, 5, "recalibrated %g times", k[1].recalibrations);
    cr_assert_gt (s_defective (&k[0]), 4 * s_defective (&k[1]) + 10,
                  "drifting %g defective vs recalibrated %g", s_defective (&k[0]), s_defective (&k[1]));
    cr_assert_gt (k[1].planned_downtime_h, k[0].planned_downtime_h + 0.5,
                  "recalibration stops: %g vs %g h", k[1].planned_downtime_h, k[0].planned_downtime_h);
}

/* A plant that sets none of the new keys costs nothing new and publishes no
 * in-line topics. */
static void
s_count_inline (void *ctx, const twin_sample_t *s)
{
    if (!strncmp (s->topic, "inline.", 7) || !strncmp (s->topic, "defects.", 8))
        ++*(int *) ctx;
}

Test (twin_quality_phys, absent_keys_change_nothing)
{
    twin_t *t = s_line ("defect_p: 0.001", "sample_every: 5", 1);
    s_policy (t, "baseline");
    twin_run (t, 24, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert_eq (k.quality_cost, 0);
    cr_assert_eq (k.field_returns + k.skipped_steps + k.recalibrations + k.inspections_missed, 0);
    cr_assert_gt (k.inspections, 0);
    int n = 0;
    twin_telemetry_foreach (t, s_count_inline, &n);
    cr_assert_eq (n, 0, "%d in-line topics on a plant without gauges", n);
    twin_destroy (&t);
}

/* ------------------------------------------------------------ diverts on raw readings */

typedef struct {
    double lo_nm, hi_nm;
    double last_serial, last_nm;
    int diverts, refused;
} s_alarm_t;

static void
s_read_inline (void *ctx, const twin_sample_t *s)
{
    s_alarm_t *a = ctx;
    if (strcmp (s->topic, "inline.press"))
        return;
    for (int i = 0; i < s->n; i++) {
        if (!strcmp (s->names[i], "last_serial"))
            a->last_serial = s->values[i];
        if (!strcmp (s->names[i], "torque_nm_last"))
            a->last_nm = s->values[i];
    }
}

/* A controller that scraps every unit whose last raw reading is outside the
 * tolerance window. */
static void
s_alarm_epoch (void *ctx, twin_t *t, const twin_obs_t *obs)
{
    (void) obs;
    s_alarm_t *a = ctx;
    a->last_serial = 0;
    twin_telemetry_foreach (t, s_read_inline, a);
    if (a->last_serial <= 0 || (a->last_nm >= a->lo_nm && a->last_nm <= a->hi_nm))
        return;
    twin_cmd_t c = { .kind = TWIN_CMD_DIVERT, .u.divert = { -1, a->last_serial, 1 } };
    char err[256];
    if (twin_apply (t, &c, err, sizeof err) == 0)
        a->diverts++;
    else
        a->refused++;
}

/* Gauges that drift make alarms on raw readings divert good units; a clean
 * gauge on the same process does not. */
Test (twin_quality_phys, drifting_gauges_give_false_alarms)
{
    const char *gauges[2] = { "torque_tol_pct: 10, cp: 2, grr_pct: 1",
                              "torque_tol_pct: 10, cp: 2, grr_pct: 30, sensor_drift_pct_per_h: 20" };
    twin_kpi_t k[2];
    s_alarm_t a[2];
    for (int i = 0; i < 2; i++) {
        twin_t *t = s_line (gauges[i], "sample_every: 0", 5);
        a[i] = (s_alarm_t) { .lo_nm = 9.0, .hi_nm = 11.0 };
        twin_set_epoch_cb (t, s_alarm_epoch, &a[i]);
        twin_run (t, 48, NULL);
        twin_kpis (t, &k[i]);
        twin_destroy (&t);
    }
    cr_assert_eq (a[1].refused, 0, "a unit on the conveyor can be diverted");
    cr_assert_eq (k[0].false_diverts, 0, "a clean gauge on a capable process: %g false alarms", k[0].false_diverts);
    cr_assert_gt (k[1].false_diverts, 20, "a drifting gauge: %g false alarms", k[1].false_diverts);
    cr_assert_eq (k[1].scrap_units, k[1].diverted_units);
    cr_assert_lt (k[1].units, k[0].units, "scrapping good units loses output");
}

/* ------------------------------------------------------------ commands */

Test (twin_quality_phys, recalibrate_command_acts_and_refuses)
{
    twin_t *t = s_line ("torque_tol_pct: 10, drift_pct_per_h: 20, recal_min: 30", "sample_every: 0", 2);
    cr_assert_eq (twin_start (t), 0);
    twin_iterate (t, 3600, 0);
    char err[256] = "";
    twin_cmd_t bad = { .kind = TWIN_CMD_RECALIBRATE, .u.recal = { 7 } };
    cr_assert_eq (twin_apply (t, &bad, err, sizeof err), -1);
    cr_assert (strstr (err, "unknown station"), "%s", err);
    bad.u.recal.station = 1;    /* eol has no gauges */
    cr_assert_eq (twin_apply (t, &bad, err, sizeof err), -1);
    cr_assert (strstr (err, "no in-line gauges"), "%s", err);
    twin_cmd_t c = { .kind = TWIN_CMD_RECALIBRATE, .u.recal = { 0 } };
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1, "a second one while pending");
    cr_assert (strstr (err, "pending"), "%s", err);
    twin_iterate (t, 3600 + 120, 0);
    cr_assert_eq (twin_observe (t)->stations[0].state, TWIN_ST_MAINT, "stopped for its recalibration");
    twin_iterate (t, 3600 + 3600, 0);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert_eq (k.recalibrations, 1);
    cr_assert_gt (k.planned_downtime_h, 0.45);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "done, so it can be ordered again: %s", err);
    twin_destroy (&t);
}

Test (twin_quality_phys, divert_command_acts_and_refuses)
{
    twin_t *t = s_line ("torque_tol_pct: 10", "sample_every: 0", 2);
    cr_assert_eq (twin_start (t), 0);
    char err[256] = "";
    twin_cmd_t c = { .kind = TWIN_CMD_DIVERT, .u.divert = { 0, 0, 1 } };
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1, "nothing finished yet");
    cr_assert (strstr (err, "no unit yet"), "%s", err);
    twin_iterate (t, 600, 0);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), -1, "twice the same unit");
    cr_assert (strstr (err, "already diverted"), "%s", err);
    twin_cmd_t gone = { .kind = TWIN_CMD_DIVERT, .u.divert = { -1, 1, 0 } };   /* serial 1 shipped long ago */
    cr_assert_eq (twin_apply (t, &gone, err, sizeof err), -1);
    cr_assert (strstr (err, "no longer on the line"), "%s", err);
    twin_cmd_t frac = { .kind = TWIN_CMD_DIVERT, .u.divert = { -1, 2.5, 0 } };
    cr_assert_eq (twin_apply (t, &frac, err, sizeof err), -1);
    twin_cmd_t where = { .kind = TWIN_CMD_DIVERT, .u.divert = { 0, 0, 2 } };
    cr_assert_eq (twin_apply (t, &where, err, sizeof err), -1);
    /* The action/params form: 'to' must be rework or scrap. */
    const twin_cmd_info_t *info = twin_cmd_by_action ("divert_unit");
    cr_assert_not_null (info);
    twin_param_t p[2] = { { .name = "to", .type = TWIN_VAL_TEXT, .text = "bin" },
                          { .name = "station", .type = TWIN_VAL_TEXT, .text = "press" } };
    twin_cmd_t parsed;
    cr_assert_eq (twin_cmd_parse (t, info, p, 2, &parsed, err, sizeof err), -1);
    p[0].text = "rework";
    cr_assert_eq (twin_cmd_parse (t, info, p, 2, &parsed, err, sizeof err), 0, "%s", err);
    cr_assert_eq (parsed.u.divert.station, 0);
    cr_assert_eq (parsed.u.divert.serial, 0);
    twin_iterate (t, 1200, 0);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert_eq (k.diverted_units, 1);
    cr_assert_eq (k.scrap_units, 1);
    twin_destroy (&t);
}

/* ------------------------------------------------------------ inspection, returns, skips */

/* Inspecting every unit needs inspectors: one inspector at 1 min per unit
 * cannot keep up with a unit every 30 s and skips samples; three can, at
 * three times the labour cost. */
Test (twin_quality_phys, inspection_has_capacity_and_cost)
{
    twin_kpi_t k[2];
    for (int i = 0; i < 2; i++) {
        char q[256];
        snprintf (q, sizeof q, "sample_every: 1, inspect_min: 1, inspectors: %d, inspect_queue: 2, "
                  "labour_per_h: 40", i ? 3 : 1);
        twin_t *t = s_line ("defect_p: 0.01", q, 4);
        twin_run (t, 24, NULL);
        twin_kpis (t, &k[i]);
        twin_destroy (&t);
    }
    cr_assert_gt (k[0].inspections_missed, 0.3 * k[0].units, "one inspector: %g missed", k[0].inspections_missed);
    cr_assert_eq (k[1].inspections_missed, 0);
    cr_assert_float_eq (k[1].inspection_cost, k[1].inspections / 60.0 * 40, 1e-6);
    cr_assert_gt (k[1].inspection_cost, 1.5 * k[0].inspection_cost);
    cr_assert_lt (k[1].escaped_defects, k[0].escaped_defects, "more inspected, fewer escapes");
}

/* Escapes come back from the field after the delay, with their kind and
 * where they were made; nothing comes back before it. */
Test (twin_quality_phys, escapes_return_from_the_field_later)
{
    twin_t *t = s_line ("defect_p: 0.02", "sample_every: 0, field_return_p: 1, field_return_days: 1, "
                        "field_return_cost: 500", 6);
    twin_run (t, 23, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert_gt (k.escaped_defects, 10);
    cr_assert_eq (k.field_returns, 0, "none back within a day");
    twin_run (t, 25, NULL);
    twin_kpis (t, &k);
    size_t n = 0;
    const twin_field_return_t *r = twin_field_returns (t, &n);
    cr_assert_gt (n, 10);
    cr_assert_eq ((double) n, k.field_returns);
    cr_assert_float_eq (k.field_return_cost, 500 * k.field_returns, 1e-6);
    for (size_t i = 0; i < n; i++) {
        cr_assert_float_eq (r[i].t_h - r[i].shipped_h, 24, 1e-6);
        cr_assert_eq (r[i].station, 0, "made at the press");
        cr_assert_neq (r[i].kinds, 0);
        cr_assert (i == 0 || r[i].t_h >= r[i - 1].t_h, "in order of return");
    }
    twin_destroy (&t);
}

/* A skipped step leaves no in-line record and, found at the end of the
 * line, costs rework. */
Test (twin_quality_phys, skipped_steps_are_defects_without_records)
{
    twin_t *t = s_line ("torque_tol_pct: 10, cp: 3, skip_p: 0.02",
                        "sample_every: 1, detect_p: {skipped_step: 1, torque: 1}, rework_p: 1, rework_cost: 80", 7);
    twin_run (t, 24, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert_gt (k.skipped_steps, 20);
    cr_assert_eq (k.escaped_defects, 0, "every unit inspected, every skip found");
    cr_assert_geq (k.rework_units, k.skipped_steps - 2, "rework %g for %g skips", k.rework_units, k.skipped_steps);
    cr_assert_float_eq (k.rework_cost, 80 * k.rework_units, 1e-6);
    twin_destroy (&t);
}

/* Same seed, same run, with every quality feature on and commands given. */
Test (twin_quality_phys, runs_repeat_bit_for_bit)
{
    char json[2][4096];
    for (int i = 0; i < 2; i++) {
        twin_t *t = s_line ("torque_tol_pct: 10, align_tol_mm: 0.5, drift_pct_per_h: 5, drift_sd_pct_per_h: 5, "
                            "sensor_drift_pct_per_h: 5, temp_drift_c_per_h: 0.2, skip_p: 0.001, "
                            "recal_every_units: 400",
                            "sample_every: 3, inspect_min: 1, field_return_p: 0.5, "
                            "field_return_days: {dist: exponential, mean: 0.5}", 9);
        s_policy (t, "baseline");
        s_alarm_t a = { .lo_nm = 9.2, .hi_nm = 10.8 };
        twin_set_epoch_cb (t, s_alarm_epoch, &a);
        twin_run (t, 48, NULL);
        twin_kpi_t k;
        twin_kpis (t, &k);
        cr_assert_gt (twin_kpi_json (&k, json[i], sizeof json[i]), 0);
        twin_destroy (&t);
    }
    cr_assert_str_eq (json[0], json[1]);
    cr_assert (strstr (json[0], "\"quality_cost\":"), "%s", json[0]);
}

/* A forecast of a recalibration: both arms start from offsets drawn again
 * (not the plant's own), and the arm that recalibrates does so. */
Test (twin_quality_phys, what_if_recalibration)
{
    twin_t *t = s_line ("torque_tol_pct: 10, drift_pct_per_h: 5, drift_sd_pct_per_h: 5, sensor_drift_pct_per_h: 5",
                        "sample_every: 1, detect_p: 1, rework_p: 1", 8);
    twin_run (t, 24, NULL);
    twin_cmd_t c = { .kind = TWIN_CMD_RECALIBRATE, .u.recal = { 0 } };
    twin_kpi_t base, changed;
    char err[256] = "";
    cr_assert_eq (twin_whatif (t, 24, &c, false, &base, &changed, err, sizeof err), 0, "%s", err);
    cr_assert_eq (base.recalibrations, 0);
    cr_assert_eq (changed.recalibrations, 1);
    cr_assert_lt (s_defective (&changed), s_defective (&base), "%g vs %g", s_defective (&changed),
                  s_defective (&base));
    twin_destroy (&t);
}
