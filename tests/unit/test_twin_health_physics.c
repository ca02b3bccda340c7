/*  Health physics of the twin (issue 11; agents/twin/health.c, upkeep.c):
 *  parts that start at a running plant's ages, random failures that show
 *  first in a P-F interval, spares with stock and lead time, labour cost,
 *  and the maintenance commands — each a trade-off visible in the KPIs.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"

static twin_t *
s_plant (const char *yaml, uint64_t seed)
{
    char err[512] = "";
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "health.yaml", seed, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    return t;
}

static twin_t *
s_giga (uint64_t seed)
{
    const char *src = getenv ("AF_SRC");
    char path[512], err[512] = "";
    snprintf (path, sizeof path, "%s/deploy/factories/gigafactory.yaml", src ? src : ".");
    twin_t *t = twin_new_from_file (path, seed, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    return t;
}

static int
s_cmd (twin_t *t, const char *action, const twin_param_t *p, size_t n, char *err, size_t len)
{
    twin_cmd_t c;
    if (twin_cmd_parse (t, twin_cmd_by_action (action), p, n, &c, err, len))
        return -1;
    return twin_apply (t, &c, err, len);
}

#define S_TEXT(n, v) ((twin_param_t) { .name = (n), .type = TWIN_VAL_TEXT, .text = (v) })
#define S_NUM(n, v)  ((twin_param_t) { .name = (n), .type = TWIN_VAL_NUM, .num = (v) })
#define S_FLAG(n, v) ((twin_param_t) { .name = (n), .type = TWIN_VAL_FLAG, .flag = (v) })

/* ------------------------------------------------------------ initial ages */

/* Four stations whose bearing and belt last ~1000 busy hours: from new, a
 * week never wears one out; at a running plant's ages some are near their
 * end, and wear breakdowns come in the first week. */
static double
s_wear_breakdowns (const char *age, uint64_t seed)
{
    char yaml[2048];
    const char *st = "process_s: 30, wear: {bearing: {rate_per_h: 0.001}, belt: {rate_per_h: 0.001}}";
    snprintf (yaml, sizeof yaml,
              "factory: {name: age}\narrivals: {mode: saturated}\n"
              "stations:\n  - {name: a, %s}\n  - {name: b, %s}\n  - {name: c, %s}\n  - {name: d, %s}\n"
              "health: {initial_age: %s}\n", st, st, st, st, age);
    twin_t *t = s_plant (yaml, seed);
    twin_run (t, 168, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    twin_destroy (&t);
    return k.breakdowns;
}

Test (twin_health_phys, steady_state_ages_bring_wear_breakdowns_in_the_first_week)
{
    double fresh = 0, aged = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        fresh += s_wear_breakdowns ("new", seed);
        aged += s_wear_breakdowns ("steady_state", seed);
    }
    cr_assert_eq (fresh, 0, "new parts wore out within a week: %g breakdowns", fresh);
    /* 8 seeds × 8 parts, each with ~168/1000 of a life left to run out on
     * average: several. */
    cr_assert_geq (aged, 3, "only %g wear breakdowns at steady-state ages", aged);
}

Test (twin_health_phys, bad_health_keys_are_refused_with_a_line)
{
    static const char *const bad[] = {
        "health: {initial_age: old}\n",
        "health: {pf: {share: 0.5}}\n",
        "health: {robot_skills: [welding]}\n",
        "health: {spares: {bearing: {stock: 2, min: 3, max: 1}}}\n",
        "health: {spares: {gearbox: {stock: 1}}}\n",
        "health: {labour: {technician_per_h: -4}}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char yaml[512], err[512] = "";
        snprintf (yaml, sizeof yaml, "factory: {name: bad}\nstations:\n  - {name: a, process_s: 30}\n%s", bad[i]);
        twin_t *t = twin_new_from_text (yaml, strlen (yaml), "bad.yaml", 1, err, sizeof err);
        cr_assert_null (t, "accepted: %s", bad[i]);
        cr_assert (strstr (err, "bad.yaml:") != NULL, "no file:line in '%s'", err);
    }
}

/* ------------------------------------------------------------ P-F interval */

typedef struct {
    double ring[240];
    int n;
    twin_state_t last;
    double before_sum, all_sum;
    int before_n, all_n;
    double threshold;                   /* > 0: order a PM when vibration passes it */
} s_watch_t;

static void
s_watch_epoch (void *ctx, twin_t *t, const twin_obs_t *obs)
{
    s_watch_t *w = ctx;
    const twin_station_obs_t *s = &obs->stations[0];
    if (s->state == TWIN_ST_DOWN && w->last != TWIN_ST_DOWN && w->n >= 240) {
        double sum = 0;
        for (int i = 0; i < 60; i++)         /* the hour before the failure */
            sum += w->ring[(w->n - 1 - i) % 240];
        w->before_sum += sum / 60;
        w->before_n++;
    }
    if (s->state == TWIN_ST_BUSY) {
        w->ring[w->n++ % 240] = s->vibration_rms_mm_s;
        w->all_sum += s->vibration_rms_mm_s;
        w->all_n++;
    }
    w->last = s->state;
    if (w->threshold > 0 && s->vibration_rms_mm_s > w->threshold && !s->pm_pending
        && s->state != TWIN_ST_DOWN && s->state != TWIN_ST_MAINT) {
        twin_cmd_t c = { .kind = TWIN_CMD_MAINTENANCE, .u.maintenance = { 0, false } };
        char err[256];
        twin_apply (t, &c, err, sizeof err);
    }
}

static void
s_pf_run (double share, double threshold, s_watch_t *w, twin_kpi_t *k)
{
    char yaml[1024];
    snprintf (yaml, sizeof yaml,
              "factory: {name: pf}\narrivals: {mode: saturated}\n"
              "stations:\n  - {name: m, process_s: 30, mtbf_h: 40, repair_min: 60, pm_min: 30,"
              " vibration: {base_mm_s: 1.0}}\n"
              "people: {technicians: 1, response_min: 5}\n"
              "health: {pf: {share: %g, interval_h: 12, vib_mm_s: 4, temp_c: 5}}\n", share);
    twin_t *t = s_plant (yaml, 3);
    memset (w, 0, sizeof *w);
    w->threshold = threshold;
    twin_policy_t p = { "watch", w, s_watch_epoch, NULL };
    twin_set_policy (t, &p);
    twin_run (t, 2000, NULL);
    twin_kpis (t, k);
    twin_destroy (&t);
}

/* With every failure announced, the hour before a breakdown vibrates well
 * above the station's normal level; with none announced it does not. */
Test (twin_health_phys, announced_failures_show_in_vibration_first)
{
    s_watch_t w;
    twin_kpi_t k;
    s_pf_run (1.0, 0, &w, &k);
    cr_assert_gt (w.before_n, 10, "only %d breakdowns seen", w.before_n);
    double before = w.before_sum / w.before_n, all = w.all_sum / w.all_n;
    cr_assert_gt (before, all + 2.0, "before a failure %g mm/s, overall %g mm/s", before, all);
    s_pf_run (0.0, 0, &w, &k);
    before = w.before_sum / w.before_n;
    all = w.all_sum / w.all_n;
    cr_assert_lt (before, all + 0.3, "unannounced failures showed: %g vs %g mm/s", before, all);
}

/* Acting on the symptoms (a PM when vibration rises) averts most announced
 * failures, at the price of planned stops; the same rule cannot avert
 * failures that give no warning. */
Test (twin_health_phys, acting_on_symptoms_trades_breakdowns_for_planned_stops)
{
    s_watch_t w;
    twin_kpi_t none, acted, blind;
    s_pf_run (1.0, 0, &w, &none);
    s_pf_run (1.0, 2.5, &w, &acted);
    s_pf_run (0.0, 2.5, &w, &blind);
    cr_assert_lt (acted.breakdowns, 0.5 * none.breakdowns, "breakdowns %g acting, %g not", acted.breakdowns,
                  none.breakdowns);
    cr_assert_gt (acted.planned_downtime_h, none.planned_downtime_h, "the averted failures cost planned stops");
    cr_assert_gt (blind.breakdowns, 0.8 * none.breakdowns, "failures without warning were averted: %g vs %g",
                  blind.breakdowns, none.breakdowns);
}

/* ------------------------------------------------------------ spares and labour */

/* A motor that wears out in ~25 busy hours, spares with a 48 h lead time. */
static void
s_spares_run (int stock, bool baseline, twin_kpi_t *k)
{
    char yaml[1024];
    snprintf (yaml, sizeof yaml,
              "factory: {name: sp}\narrivals: {mode: saturated}\n"
              "stations:\n  - {name: m, process_s: 30, wear: {motor: {rate_per_h: 0.04, life_cv: 0.1,"
              " repair_min: 60}}}\n"
              "people: {technicians: 1, response_min: 10}\n"
              "health: {labour: {technician_per_h: 50},"
              " spares: {motor: {stock: %d, unit_cost: 1000, lead_time_h: 48, min: 0, max: 2}}}\n", stock);
    twin_t *t = s_plant (yaml, 5);
    if (baseline) {
        twin_policy_t p;
        cr_assert_eq (twin_policy_baseline (t, &p), 0);
        twin_set_policy (t, &p);
    }
    twin_run (t, 200, NULL);
    twin_kpis (t, k);
    twin_destroy (&t);
}

/* No spare in stock: the broken station waits for the supplier (for ever
 * when nobody orders); the baseline's min/max rule orders, so the wait is
 * the lead time; a stocked spare makes the repair only the labour. */
Test (twin_health_phys, a_missing_spare_stops_the_station_for_the_lead_time)
{
    twin_kpi_t stocked, short_base, short_none;
    s_spares_run (8, true, &stocked);
    s_spares_run (0, true, &short_base);
    s_spares_run (0, false, &short_none);
    cr_assert_gt (stocked.spares_used, 3, "%g motors used", stocked.spares_used);
    cr_assert_gt (short_base.downtime_h, stocked.downtime_h + 24, "waiting for spares: %g h vs %g h stocked",
                  short_base.downtime_h, stocked.downtime_h);
    cr_assert_gt (short_none.downtime_h, 150, "nobody ordered, yet the station ran: %g h down",
                  short_none.downtime_h);
    cr_assert_gt (stocked.units, short_base.units);
    /* Cost: parts at their price plus the technician's hours. */
    cr_assert_float_eq (stocked.maintenance_cost, stocked.spares_used * 1000 + stocked.labour_h * 50, 1e-6,
                        "cost %g", stocked.maintenance_cost);
    cr_assert_leq (stocked.lost_output_h, stocked.downtime_h + 1e-9);
    cr_assert_gt (stocked.lost_output_h, 0);
}

/* ------------------------------------------------------------ commands */

static const char s_cmd_plant[] =
    "factory: {name: cmds}\narrivals: {mode: saturated}\n"
    "stations:\n"
    "  - {name: a, process_s: 30, wear: {bearing: {rate_per_h: 0.001, repair_min: 90},"
    " lube: {rate_per_h: 0.01, repair_min: 15}, joint: {rate_per_h: 0.001}}}\n"
    "  - {name: b, process_s: 20}\n"
    "people: {technicians: 2, response_min: 5}\n"
    "robots: {mobile: 1}\n"
    "health: {robot_skills: [lube], lube_min: 10, realign_min: 20,"
    " spares: {bearing: {stock: 1, unit_cost: 100, lead_time_h: 24}}}\n";

Test (twin_health_phys, replace_component_stops_the_station_and_uses_a_spare)
{
    twin_t *t = s_plant (s_cmd_plant, 1);
    twin_run (t, 2, NULL);
    char err[256] = "";
    twin_param_t p[] = { S_TEXT ("station", "a"), S_TEXT ("component", "bearing") };
    cr_assert_eq (s_cmd (t, "replace_component", p, 2, err, sizeof err), 0, "%s", err);
    twin_run (t, 4, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_assert_gt (k.planned_downtime_h, 1.0, "a 90-minute replacement, %g h planned", k.planned_downtime_h);
    cr_assert_eq (k.spares_used, 1);
    cr_assert_float_eq (twin_observe (t)->spares_stock[0], 0, 1e-9);
    /* The only spare is used: a second replacement is refused with a reason. */
    cr_assert_eq (s_cmd (t, "replace_component", p, 2, err, sizeof err), -1);
    cr_assert (strstr (err, "no bearing spare") != NULL, "%s", err);
    twin_param_t bad[] = { S_TEXT ("station", "a"), S_TEXT ("component", "belt") };
    cr_assert_eq (s_cmd (t, "replace_component", bad, 2, err, sizeof err), -1);
    cr_assert (strstr (err, "no such component") != NULL, "%s", err);
    twin_param_t robot[] = { S_TEXT ("station", "a"), S_TEXT ("component", "joint"), S_FLAG ("by_robot", true) };
    cr_assert_eq (s_cmd (t, "replace_component", robot, 3, err, sizeof err), -1);
    cr_assert (strstr (err, "skill") != NULL, "%s", err);
    twin_destroy (&t);
}

Test (twin_health_phys, lubricate_and_realign_are_short_planned_stops)
{
    twin_t *t = s_plant (s_cmd_plant, 1);
    twin_run (t, 24, NULL);
    cr_assert_gt (twin_observe (t)->stations[0].hours_since_lube, 20);
    char err[256] = "";
    twin_param_t a[] = { S_TEXT ("station", "a"), S_FLAG ("by_robot", true) };
    cr_assert_eq (s_cmd (t, "lubricate", a, 2, err, sizeof err), 0, "%s", err);
    twin_run (t, 1, NULL);              /* hours from now */
    cr_assert_lt (twin_observe (t)->stations[0].hours_since_lube, 1.0);
    twin_kpi_t k1;
    twin_kpis (t, &k1);
    cr_assert_gt (k1.planned_downtime_h, 0);
    cr_assert_eq (s_cmd (t, "realign", a, 1, err, sizeof err), 0, "%s", err);
    twin_run (t, 1, NULL);
    twin_kpi_t k2;
    twin_kpis (t, &k2);
    cr_assert_gt (k2.planned_downtime_h, k1.planned_downtime_h + 0.2, "a 20-minute realignment");
    /* Refusals: b has no lube point and nothing to realign; robots lack the joint skill. */
    twin_param_t b[] = { S_TEXT ("station", "b") };
    cr_assert_eq (s_cmd (t, "lubricate", b, 1, err, sizeof err), -1);
    cr_assert (strstr (err, "lubrication") != NULL, "%s", err);
    cr_assert_eq (s_cmd (t, "realign", b, 1, err, sizeof err), -1);
    cr_assert (strstr (err, "realign") != NULL, "%s", err);
    cr_assert_eq (s_cmd (t, "realign", a, 2, err, sizeof err), -1);
    cr_assert (strstr (err, "skill") != NULL, "%s", err);
    twin_destroy (&t);
}

Test (twin_health_phys, order_spares_arrive_after_the_lead_time)
{
    twin_t *t = s_plant (s_cmd_plant, 1);
    twin_run (t, 1, NULL);
    char err[256] = "";
    twin_param_t p[] = { S_TEXT ("component", "bearing"), S_NUM ("qty", 3) };
    cr_assert_eq (s_cmd (t, "order_spares", p, 2, err, sizeof err), 0, "%s", err);
    twin_run (t, 2, NULL);
    cr_assert_float_eq (twin_observe (t)->spares_on_order[0], 3, 1e-9);
    cr_assert_float_eq (twin_observe (t)->spares_stock[0], 1, 1e-9);
    twin_run (t, 30, NULL);
    cr_assert_float_eq (twin_observe (t)->spares_on_order[0], 0, 1e-9);
    cr_assert_float_eq (twin_observe (t)->spares_stock[0], 4, 1e-9);
    cr_assert_float_eq (twin_observe (t)->spares_stock[1], -1, 1e-9, "belts are not stocked here");
    twin_param_t unmanaged[] = { S_TEXT ("component", "belt"), S_NUM ("qty", 1) };
    cr_assert_eq (s_cmd (t, "order_spares", unmanaged, 2, err, sizeof err), -1);
    cr_assert (strstr (err, "not stocked") != NULL, "%s", err);
    twin_param_t frac[] = { S_TEXT ("component", "bearing"), S_NUM ("qty", 1.5) };
    cr_assert_eq (s_cmd (t, "order_spares", frac, 2, err, sizeof err), -1);
    twin_param_t none[] = { S_TEXT ("component", "bearing"), S_NUM ("qty", 0) };
    cr_assert_eq (s_cmd (t, "order_spares", none, 2, err, sizeof err), -1);
    twin_param_t kind[] = { S_TEXT ("component", "gearbox"), S_NUM ("qty", 1) };
    cr_assert_eq (s_cmd (t, "order_spares", kind, 2, err, sizeof err), -1);
    twin_destroy (&t);
}

/* A robot may repair only what the plant's robot_skills list: the owner of
 * maintenance is told so when it sends one to anything else. */
Test (twin_health_phys, robots_repair_only_what_they_have_the_skill_for)
{
    const char *yaml = "factory: {name: sk}\narrivals: {mode: saturated}\n"
                       "stations:\n  - {name: a, process_s: 30, mtbf_h: 2, repair_min: 30}\n"
                       "people: {technicians: 1}\nrobots: {mobile: 1}\n"
                       "health: {robot_skills: [belt]}\n";
    twin_t *t = s_plant (yaml, 2);
    twin_set_owned (t, TWIN_OWN_MAINTENANCE, true);
    twin_run (t, 20, NULL);
    cr_assert_eq (twin_observe (t)->stations[0].state, TWIN_ST_DOWN, "no random failure in 20 h at MTBF 2 h");
    char err[256] = "";
    twin_param_t robot[] = { S_TEXT ("station", "a"), S_FLAG ("by_robot", true) };
    cr_assert_eq (s_cmd (t, "order_repair", robot, 2, err, sizeof err), -1);
    cr_assert (strstr (err, "skill") != NULL, "%s", err);
    twin_param_t tech[] = { S_TEXT ("station", "a") };
    cr_assert_eq (s_cmd (t, "order_repair", tech, 1, err, sizeof err), 0, "%s", err);
    twin_destroy (&t);
}

/* ------------------------------------------------------------ telemetry, forks, the default plant */

static void
s_count_health (void *ctx, const twin_sample_t *s)
{
    if (!strncmp (s->topic, "health.", 7))
        (*(int *) ctx)++;
}

Test (twin_health_phys, health_telemetry_only_for_plants_that_configure_it)
{
    twin_t *t = s_plant (s_cmd_plant, 1);
    twin_run (t, 1, NULL);
    int n = 0;
    twin_telemetry_foreach (t, s_count_health, &n);
    cr_assert_eq (n, 3, "a station topic each and the crew's: %d", n);
    twin_destroy (&t);
    const char *plain = "factory: {name: p}\nstations:\n  - {name: a, process_s: 30}\n";
    t = s_plant (plain, 1);
    twin_run (t, 1, NULL);
    n = 0;
    twin_telemetry_foreach (t, s_count_health, &n);
    cr_assert_eq (n, 0);
    twin_destroy (&t);
}

/* A fork replays to the same state: spares deliveries, P-F draws and
 * initial ages included, it runs on exactly as the live twin. */
Test (twin_health_phys, a_fork_of_the_default_plant_runs_on_identically)
{
    twin_t *t = s_giga (4);
    twin_run (t, 100, NULL);
    char err[256] = "";
    twin_t *f = twin_fork (t, err, sizeof err);
    cr_assert_not_null (f, "%s", err);
    twin_run (t, 100, NULL);
    twin_run (f, 100, NULL);
    twin_kpi_t a, b;
    twin_kpis (t, &a);
    twin_kpis (f, &b);
    char ja[4096], jb[4096];
    twin_kpi_json (&a, ja, sizeof ja);
    twin_kpi_json (&b, jb, sizeof jb);
    cr_assert_str_eq (ja, jb);
    twin_destroy (&f);
    twin_destroy (&t);
}

/* The default plant has been running before the horizon starts: over five
 * seeds, parts wear out in the first week (not only random failures). */
Test (twin_health_phys, the_default_plant_wears_out_parts_in_a_week)
{
    int seeds_with_wear = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        twin_t *t = s_giga (seed);
        twin_policy_t p;
        cr_assert_eq (twin_policy_baseline (t, &p), 0);
        twin_set_policy (t, &p);
        twin_run (t, 168, NULL);
        double h[TWIN_CAUSE_COUNT], wear = 0;
        twin_downtime_by_cause (t, h);
        for (int c = 0; c < 5; c++)
            wear += h[c];
        seeds_with_wear += wear > 0;
        twin_kpi_t k;
        twin_kpis (t, &k);
        cr_assert_gt (k.maintenance_cost, 0, "seed %lu: labour is paid", (unsigned long) seed);
        twin_destroy (&t);
    }
    cr_assert_geq (seeds_with_wear, 2, "wear breakdowns in %d of 5 seeds", seeds_with_wear);
}

/* A robot's part swap on a running station (assign_task repair with a
 * component) is no free renewal: it needs the skill and uses a spare. */
Test (twin_health_phys, a_robot_swap_needs_the_skill_and_a_spare)
{
    twin_t *t = s_plant (s_cmd_plant, 1);
    twin_run (t, 1, NULL);
    char err[256] = "";
    twin_param_t bearing[] = { S_NUM ("robot", 0), S_TEXT ("task", "repair"), S_TEXT ("station", "a"),
                               S_TEXT ("component", "bearing") };
    cr_assert_eq (s_cmd (t, "assign_task", bearing, 4, err, sizeof err), -1);
    cr_assert (strstr (err, "skill") != NULL, "%s", err);
    twin_param_t lube[] = { S_NUM ("robot", 0), S_TEXT ("task", "repair"), S_TEXT ("station", "a"),
                            S_TEXT ("component", "lube") };
    cr_assert_eq (s_cmd (t, "assign_task", lube, 4, err, sizeof err), 0, "%s", err);
    twin_destroy (&t);
    const char *yaml = "factory: {name: sw}\narrivals: {mode: saturated}\n"
                       "stations:\n  - {name: a, process_s: 30, wear: {bearing: {rate_per_h: 0.001}}}\n"
                       "robots: {mobile: 1}\n"
                       "health: {spares: {bearing: {stock: 1, unit_cost: 100, lead_time_h: 24}}}\n";
    t = s_plant (yaml, 1);
    twin_run (t, 1, NULL);
    cr_assert_eq (s_cmd (t, "assign_task", bearing, 4, err, sizeof err), 0, "%s", err);
    twin_run (t, 1, NULL);
    cr_assert_float_eq (twin_observe (t)->spares_stock[0], 0, 1e-9, "the swap took the spare");
    cr_assert_eq (s_cmd (t, "assign_task", bearing, 4, err, sizeof err), -1);
    cr_assert (strstr (err, "no bearing spare") != NULL, "%s", err);
    twin_destroy (&t);
}
