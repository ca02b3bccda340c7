/*  The twin's energy physics (issue 11): the hall's thermal mass under a
 *  first-order HVAC loop, battery wear, grid outages, critical and
 *  deferrable loads with defer_load, and the demand charge pro-rated to the
 *  measured share of a month.  Each test shows a trade-off in the KPIs.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"

/* A two-station line; ENERGY is the energy section's body (indented 2). */
static const char s_plant_fmt[] =
    "factory: {name: ephys, epoch_s: 60, warmup_h: 0}\n"
    "arrivals: {mode: saturated}\n"
    "variants:\n"
    "  - {name: a, mix: 1, route: [s1, s2], bom: {p: 1}}\n"
    "stations:\n"
    "  - {name: s1, process_s: 60, power_kw: {idle: 10, busy: 40, blocked: 10}}\n"
    "  - {name: s2, process_s: 50, power_kw: {idle: 10, busy: 40, blocked: 10}}\n"
    "parts:\n"
    "  - {name: p, warehouse: 100000, bin_cap: 100, bin_refill_at: 50, lead_time_h: 24}\n"
    "robots: {mobile: 1}\n"
    "energy:\n"
    "  base_load_kw: 50\n"
    "%s";

static twin_t *
s_plant (const char *energy, uint64_t seed)
{
    char yaml[4096], err[512] = "";
    snprintf (yaml, sizeof yaml, s_plant_fmt, energy);
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "ephys", seed, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    return t;
}

static int
s_apply (twin_t *t, twin_cmd_t c, char *err, size_t len)
{
    return twin_apply (t, &c, err, len);
}

/* ------------------------------------------------------------ HVAC */

static const char s_hvac_slow[] =
    "  ambient: {mean_c: 21, day_amp_c: 0, season_amp_c: 0}\n"
    "  hvac: {setpoint_c: 21, cop: 3, max_kw: 400, ua_kw_per_c: 10, heat_cap_kwh_per_c: 400, response_h: 2}\n";
static const char s_hvac_snap[] =
    "  ambient: {mean_c: 21, day_amp_c: 0, season_amp_c: 0}\n"
    "  hvac: {setpoint_c: 21, cop: 3, max_kw: 400, ua_kw_per_c: 10, heat_cap_kwh_per_c: 400}\n";

Test (twin_energy_phys, hvac_has_thermal_mass)
{
    twin_t *slow = s_plant (s_hvac_slow, 1), *snap = s_plant (s_hvac_snap, 1);
    char err[256] = "";
    twin_start (slow);
    twin_start (snap);
    twin_iterate (slow, 3600, 0);
    twin_iterate (snap, 3600, 0);
    cr_assert (fabs (twin_observe (slow)->indoor_c - 21) < 0.2, "holds its set point: %g",
               twin_observe (slow)->indoor_c);
    twin_cmd_t c = { .kind = TWIN_CMD_HVAC, .u.hvac = { 18 } };
    cr_assert_eq (s_apply (slow, c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (s_apply (snap, c, err, sizeof err), 0, "%s", err);
    twin_iterate (slow, 3600 + 120, 0);
    twin_iterate (snap, 3600 + 120, 0);
    /* The old model snaps; the first-order loop lags by its response time. */
    cr_assert (fabs (twin_observe (snap)->indoor_c - 18) < 1e-9, "snap: %g", twin_observe (snap)->indoor_c);
    cr_assert (twin_observe (slow)->indoor_c > 20.5, "one-order lag: %g after 2 min", twin_observe (slow)->indoor_c);
    twin_iterate (slow, 3600 + 12 * 3600, 0);
    cr_assert (fabs (twin_observe (slow)->indoor_c - 18) < 0.1, "reaches it in 6 time constants: %g",
               twin_observe (slow)->indoor_c);
    twin_destroy (&slow);
    twin_destroy (&snap);
}

/* Pre-cooling is possible and costs energy: a hall held 3 °C cooler draws
 * more HVAC power, and after the set point goes back up the hall stays cool
 * for a while with the HVAC drawing less than it does in steady state. */
Test (twin_energy_phys, precooling_stores_cold_at_a_cost)
{
    twin_t *a = s_plant (s_hvac_slow, 1), *b = s_plant (s_hvac_slow, 1);
    char err[256] = "";
    twin_start (a);
    twin_start (b);
    twin_iterate (a, 3600, 0);
    twin_iterate (b, 3600, 0);
    cr_assert_eq (s_apply (b, (twin_cmd_t) { .kind = TWIN_CMD_HVAC, .u.hvac = { 18 } }, err, sizeof err), 0);
    twin_iterate (a, 10 * 3600, 0);
    twin_iterate (b, 10 * 3600, 0);
    twin_kpi_t ka, kb;
    twin_kpis (a, &ka);
    twin_kpis (b, &kb);
    cr_assert (kb.energy_kwh > ka.energy_kwh + 10, "pre-cooling costs energy: %g vs %g kWh", kb.energy_kwh,
               ka.energy_kwh);
    double steady_kw = twin_observe (a)->hvac_kw;
    cr_assert_eq (s_apply (b, (twin_cmd_t) { .kind = TWIN_CMD_HVAC, .u.hvac = { 21 } }, err, sizeof err), 0);
    twin_iterate (b, 10 * 3600 + 300, 0);
    cr_assert (twin_observe (b)->indoor_c < 20.5, "the stored cold lasts: %g", twin_observe (b)->indoor_c);
    cr_assert (twin_observe (b)->hvac_kw < steady_kw, "HVAC eased off %g < %g kW", twin_observe (b)->hvac_kw,
               steady_kw);
    twin_destroy (&a);
    twin_destroy (&b);
}

/* ------------------------------------------------------------ battery */

static const char s_batt[] =
    "  battery: {capacity_kwh: 1000, max_kw: 200, round_trip_eff: 0.9, soc: 0.9, min_soc: 0.1,"
    " wear_cost_per_kwh: 0.05}\n";

Test (twin_energy_phys, battery_cycling_wears_and_costs)
{
    twin_t *idle = s_plant (s_batt, 1), *cyc = s_plant (s_batt, 1);
    char err[256] = "";
    twin_start (idle);
    twin_start (cyc);
    cr_assert_eq (s_apply (cyc, (twin_cmd_t) { .kind = TWIN_CMD_BATTERY, .u.battery = { 100 } }, err, sizeof err),
                  0, "%s", err);
    twin_iterate (idle, 4 * 3600, 0);
    twin_iterate (cyc, 4 * 3600, 0);
    twin_kpi_t ki, kc;
    twin_kpis (idle, &ki);
    twin_kpis (cyc, &kc);
    cr_assert_eq (ki.battery_wear_cost, 0);
    /* 100 kW for 4 h (one epoch's power lands at each epoch's end). */
    cr_assert (fabs (kc.battery_wear_cost - 0.05 * 400) < 0.05 * 100 * 2 / 60.0 + 1e-6, "wear %g",
               kc.battery_wear_cost);
    cr_assert (fabs (kc.energy_cost - ki.energy_cost) < ki.energy_cost, "energy cost includes the wear");
    double soc = twin_observe (cyc)->battery_soc;
    cr_assert (soc < 0.9 - 0.4 && soc >= 0.1, "discharged within limits: %g", soc);
    /* Beyond min_soc it stops: the limits hold. */
    twin_iterate (cyc, 20 * 3600, 0);
    cr_assert (twin_observe (cyc)->battery_soc >= 0.1 - 1e-9, "%g", twin_observe (cyc)->battery_soc);
    twin_kpis (cyc, &kc);
    cr_assert (kc.battery_wear_cost <= 0.05 * 0.8 * 1000 * sqrt (0.9) + 1e-6, "no wear once empty: %g",
               kc.battery_wear_cost);
    twin_destroy (&idle);
    twin_destroy (&cyc);
}

/* ------------------------------------------------------------ demand charge */

Test (twin_energy_phys, demand_charge_is_pro_rated)
{
    twin_t *t = s_plant ("  tariff: {price_per_kwh: 0.1, demand_charge_per_kw: 10}\n", 1);
    twin_run (t, 168, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    double expect = k.peak_kw * 10 * 168.0 / 730.0;
    cr_assert (k.peak_kw > 50, "%g", k.peak_kw);
    cr_assert (fabs (k.demand_cost - expect) < 1e-6 * expect + 1e-9, "a week's share: %g, not %g (%g)", k.demand_cost,
               k.peak_kw * 10, expect);
    cr_assert (k.energy_cost > k.demand_cost);
    twin_destroy (&t);
}

/* ------------------------------------------------------------ grid outages */

static const char s_outages[] =
    "  grid: {outages_per_year: 400, outage_h: {dist: lognormal, mean: 2, sd: 1}}\n";
static const char s_outages_batt[] =
    "  grid: {outages_per_year: 400, outage_h: {dist: lognormal, mean: 2, sd: 1}}\n"
    "  battery: {capacity_kwh: 4000, max_kw: 400, round_trip_eff: 0.9, soc: 0.9, min_soc: 0.1,"
    " wear_cost_per_kwh: 0.05}\n";

Test (twin_energy_phys, outages_stop_the_line_unless_the_battery_carries_it)
{
    twin_t *none = s_plant ("", 3), *out = s_plant (s_outages, 3), *batt = s_plant (s_outages_batt, 3);
    twin_run (none, 168, NULL);
    twin_run (out, 168, NULL);
    twin_run (batt, 168, NULL);
    twin_kpi_t kn, ko, kb;
    twin_kpis (none, &kn);
    twin_kpis (out, &ko);
    twin_kpis (batt, &kb);
    cr_assert_eq (kn.grid_outages, 0);
    cr_assert (ko.grid_outages >= 2 && ko.grid_outage_h > 1, "outages %g, %g h", ko.grid_outages, ko.grid_outage_h);
    cr_assert (ko.unserved_kwh > 0, "critical load unserved without a battery");
    cr_assert (ko.units < kn.units - 10, "the line stopped: %g vs %g units", ko.units, kn.units);
    /* Same outages (own stream); the battery carries the line through them. */
    cr_assert_eq (kb.grid_outages, ko.grid_outages);
    cr_assert (kb.units > ko.units, "battery rides through: %g vs %g", kb.units, ko.units);
    cr_assert (kb.battery_wear_cost > 0, "and wears doing it");
    twin_destroy (&none);
    twin_destroy (&out);
    twin_destroy (&batt);
}

Test (twin_energy_phys, outages_leave_other_streams_alone)
{
    /* The line's draws do not move: with no outage inside the first hours
     * the units match a plant without the key. */
    twin_t *a = s_plant ("", 5), *b = s_plant ("  grid: {outages_per_year: 0.001, outage_h: 2}\n", 5);
    twin_run (a, 48, NULL);
    twin_run (b, 48, NULL);
    twin_kpi_t ka, kb;
    twin_kpis (a, &ka);
    twin_kpis (b, &kb);
    cr_assert_eq (ka.units, kb.units);
    cr_assert_eq (ka.energy_kwh, kb.energy_kwh);
    twin_destroy (&a);
    twin_destroy (&b);
}

/* ------------------------------------------------------------ loads */

static const char s_loads[] =
    "  loads:\n"
    "    - {name: compressors, kw: 30, critical: true}\n"
    "    - {name: robot_charging, kw: 20, critical: false, catch_up_kw: 40, max_defer_h: 3}\n";

Test (twin_energy_phys, defer_load_shifts_energy)
{
    twin_t *t = s_plant (s_loads, 1), *ref = s_plant (s_loads, 1);
    char err[256] = "";
    twin_start (t);
    twin_start (ref);
    twin_iterate (t, 3600, 0);
    twin_iterate (ref, 3600, 0);
    cr_assert_eq (s_apply (t, (twin_cmd_t) { .kind = TWIN_CMD_DEFER_LOAD, .u.defer = { 1, 2 } }, err, sizeof err),
                  0, "%s", err);
    twin_iterate (t, 2 * 3600, 0);
    twin_iterate (ref, 2 * 3600, 0);
    double held = twin_observe (ref)->load_kw - twin_observe (t)->load_kw;
    cr_assert (fabs (held - 20) < 1e-6, "the held load draws nothing: %g kW less", held);
    cr_assert (fabs (twin_observe (t)->deferred_backlog_kwh - 20) < 0.5, "owes %g kWh",
               twin_observe (t)->deferred_backlog_kwh);
    twin_iterate (t, 3 * 3600 + 120, 0);
    twin_iterate (ref, 3 * 3600 + 120, 0);
    double more = twin_observe (t)->load_kw - twin_observe (ref)->load_kw;
    cr_assert (fabs (more - 20) < 1e-6, "it catches up at catch_up_kw: %g kW more", more);
    twin_iterate (t, 8 * 3600, 0);
    twin_iterate (ref, 8 * 3600, 0);
    twin_kpi_t k, kr;
    twin_kpis (t, &k);
    twin_kpis (ref, &kr);
    cr_assert (k.deferred_kwh > 39, "%g", k.deferred_kwh);
    cr_assert (fabs (k.energy_kwh - kr.energy_kwh) < 1, "shifted, not saved: %g vs %g", k.energy_kwh, kr.energy_kwh);
    twin_destroy (&t);
    twin_destroy (&ref);
}

Test (twin_energy_phys, defer_load_refuses_bad_parameters)
{
    twin_t *t = s_plant (s_loads, 1);
    char err[256] = "";
    twin_start (t);
    twin_cmd_t c = { .kind = TWIN_CMD_DEFER_LOAD, .u.defer = { 0, 1 } };
    cr_assert_eq (s_apply (t, c, err, sizeof err), -1);
    cr_assert (strstr (err, "critical"), "%s", err);
    c.u.defer = (typeof (c.u.defer)) { 1, 3.5 };
    cr_assert_eq (s_apply (t, c, err, sizeof err), -1);
    cr_assert (strstr (err, "held"), "%s", err);
    c.u.defer = (typeof (c.u.defer)) { 7, 1 };
    cr_assert_eq (s_apply (t, c, err, sizeof err), -1);
    cr_assert (strstr (err, "unknown load"), "%s", err);
    c.u.defer = (typeof (c.u.defer)) { 1, -1 };
    cr_assert_eq (s_apply (t, c, err, sizeof err), -1);
    /* The wire form by name: a number for the load index. */
    const twin_cmd_info_t *info = twin_cmd_by_action ("defer_load");
    cr_assert_not_null (info);
    twin_param_t p[] = { { .name = "load", .type = TWIN_VAL_NUM, .num = 1 },
                         { .name = "hours", .type = TWIN_VAL_NUM, .num = 1.5 } };
    twin_cmd_t parsed;
    cr_assert_eq (twin_cmd_parse (t, info, p, 2, &parsed, err, sizeof err), 0, "%s", err);
    cr_assert_eq (twin_apply (t, &parsed, err, sizeof err), 0, "%s", err);
    twin_destroy (&t);
}

Test (twin_energy_phys, bad_energy_config_is_refused)
{
    static const char *const bad[] = {
        "  loads:\n    - {name: x, kw: 10, critical: false, max_defer_h: 0}\n",
        "  loads:\n    - {kw: 10}\n",
        "  grid: {outages_per_year: -1}\n",
        "  hvac: {response_h: -2}\n",
        "  battery: {capacity_kwh: 10, max_kw: 5, wear_cost_per_kwh: 1000}\n",
        "  loads: 3\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char yaml[4096], err[512] = "";
        snprintf (yaml, sizeof yaml, s_plant_fmt, bad[i]);
        twin_t *t = twin_new_from_text (yaml, strlen (yaml), "bad", 1, err, sizeof err);
        cr_assert_null (t, "accepted:\n%s", bad[i]);
        cr_assert (err[0], "no reason given for:\n%s", bad[i]);
    }
}

/* A fork replays exactly (outages included); a what-if draws the grid's
 * future again, so its forecast is not the plant's own future. */
Test (twin_energy_phys, forks_are_exact_and_what_if_redraws_outages)
{
    twin_t *t = s_plant (s_outages_batt, 9);
    twin_start (t);
    twin_iterate (t, 24 * 3600, 0);
    char err[256] = "", a[4096], b[4096];
    twin_t *f = twin_fork (t, err, sizeof err);
    cr_assert_not_null (f, "%s", err);
    twin_iterate (t, 96 * 3600, 0);
    twin_iterate (f, 96 * 3600, 0);
    twin_kpi_t ka, kb;
    twin_kpis (t, &ka);
    twin_kpis (f, &kb);
    cr_assert (twin_kpi_json (&ka, a, sizeof a) > 0 && twin_kpi_json (&kb, b, sizeof b) > 0);
    cr_assert_str_eq (a, b, "a fork is exact");
    twin_kpi_t base, changed, truth;
    cr_assert_eq (twin_whatif (t, 72, NULL, true, &base, &changed, err, sizeof err), 0, "%s", err);
    twin_iterate (t, (96 + 72) * 3600, 0);
    twin_kpis (t, &truth);
    /* Outage times come from the grid's stream alone: without the redraw
     * the forecast's outage hours would be the plant's to the minute. */
    cr_assert (truth.grid_outage_h - ka.grid_outage_h > 0, "outages in the forecast window");
    cr_assert (fabs (base.grid_outage_h - (truth.grid_outage_h - ka.grid_outage_h)) > 1e-6,
               "the forecast knew the grid's future: %g h", base.grid_outage_h);
    twin_destroy (&t);
    twin_destroy (&f);
}
