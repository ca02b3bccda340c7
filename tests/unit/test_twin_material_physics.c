/*  The twin's material physics (issue 11): warehouse capacity (deliveries
 *  beyond it go back), holding cost, and intake inspection at the dock that
 *  takes time and money and misses some damage, which then surfaces at the
 *  line.  Each test shows a trade-off in the KPIs.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"

/* A one-station line using part p; PART is the rest of p's mapping, MORE
 * top-level sections. */
static const char s_plant_fmt[] =
    "factory: {name: mphys, epoch_s: 60, warmup_h: 0}\n"
    "arrivals: {mode: saturated}\n"
    "variants:\n"
    "  - {name: a, mix: 1, route: [s1], bom: {p: 2}}\n"
    "stations:\n"
    "  - {name: s1, process_s: 60}\n"
    "parts:\n"
    "  - {name: p, bin_cap: 100, bin_refill_at: 50, lead_time_h: 1%s}\n"
    "robots: {mobile: 1}\n"
    "%s";

static twin_t *
s_plant (const char *part, const char *more, uint64_t seed)
{
    char yaml[4096], err[512] = "";
    snprintf (yaml, sizeof yaml, s_plant_fmt, part, more);
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "mphys", seed, err, sizeof err);
    cr_assert_not_null (t, "%s", err);
    return t;
}

static void
s_reorder (twin_t *t, double qty)
{
    char err[256] = "";
    twin_cmd_t c = { .kind = TWIN_CMD_REORDER, .u.reorder = { 0, qty } };
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
}

Test (twin_material_phys, warehouse_capacity_returns_the_excess)
{
    twin_t *t = s_plant (", warehouse: 1000, warehouse_cap: 5000", "", 1);
    twin_start (t);
    s_reorder (t, 10000);
    twin_iterate (t, 3 * 3600, 0);
    twin_kpi_t k;
    twin_kpis (t, &k);
    const twin_obs_t *o = twin_observe (t);
    cr_assert (o->parts[0].warehouse <= 5000 + 1e-9, "%g", o->parts[0].warehouse);
    cr_assert (k.parts_returned > 5000, "returned %g", k.parts_returned);
    cr_assert_eq (o->parts[0].warehouse_cap, 5000);
    twin_destroy (&t);
    /* Unbounded (no key): all of it comes in. */
    t = s_plant (", warehouse: 1000", "", 1);
    twin_start (t);
    s_reorder (t, 10000);
    twin_iterate (t, 3 * 3600, 0);
    twin_kpis (t, &k);
    cr_assert_eq (k.parts_returned, 0);
    cr_assert (twin_observe (t)->parts[0].warehouse > 5000);
    twin_destroy (&t);
}

Test (twin_material_phys, stock_costs_holding)
{
    /* About 20 000 units worth 10 each at 25 %/yr (5.7 per hour), less the
     * 2 × 60 units an hour the line takes: the mean stock is 20 100 − 1 440. */
    twin_t *big = s_plant (", warehouse: 20000, unit_cost: 10", "inventory: {holding_pct_per_year: 25}\n", 1);
    twin_t *small = s_plant (", warehouse: 4000, unit_cost: 10", "inventory: {holding_pct_per_year: 25}\n", 1);
    twin_run (big, 24, NULL);
    twin_run (small, 24, NULL);
    twin_kpi_t kb, ks;
    twin_kpis (big, &kb);
    twin_kpis (small, &ks);
    double expect = (20100 - 1440) * 10 * 0.25 / 8760 * 24;
    cr_assert (fabs (kb.holding_cost - expect) < 0.05 * expect, "%g vs about %g", kb.holding_cost, expect);
    cr_assert (ks.holding_cost < kb.holding_cost / 5, "less stock, less cost: %g", ks.holding_cost);
    cr_assert_eq (kb.units, ks.units, "both had stock enough");
    twin_destroy (&big);
    twin_destroy (&small);
}

static const char s_intake_fmt[] =
    "inventory: {intake: {inspect_min: 45, cost_per_delivery: 80, detect_p: %g}}\n";

/* Intake inspection costs and takes time; a careless one lets damage
 * through to the line, where it wastes parts. */
Test (twin_material_phys, intake_inspection_trades_cost_for_damage)
{
    char careful[256], careless[256];
    snprintf (careful, sizeof careful, s_intake_fmt, 1.0);
    snprintf (careless, sizeof careless, s_intake_fmt, 0.0);
    twin_t *a = s_plant (", warehouse: 0, damage_p: 0.05", careful, 2);
    twin_t *b = s_plant (", warehouse: 0, damage_p: 0.05", careless, 2);
    twin_start (a);
    twin_start (b);
    s_reorder (a, 4000);
    s_reorder (b, 4000);
    /* The lead time is 1 h; inspection holds the stock 45 min more. */
    twin_iterate (a, 3600 + 600, 0);
    cr_assert_eq (twin_observe (a)->parts[0].warehouse, 0, "still at the dock");
    twin_iterate (a, 3600 + 50 * 60, 0);
    cr_assert (twin_observe (a)->parts[0].warehouse > 3000, "in stock: %g", twin_observe (a)->parts[0].warehouse);
    twin_iterate (a, 30 * 3600, 0);
    twin_iterate (b, 30 * 3600, 0);
    twin_kpi_t ka, kb;
    twin_kpis (a, &ka);
    twin_kpis (b, &kb);
    cr_assert_eq (ka.intake_cost, 80);
    cr_assert_eq (kb.intake_cost, 80);
    cr_assert (ka.damaged_parts > 100 && ka.damaged_at_line == 0, "found at the dock: %g, at the line %g",
               ka.damaged_parts, ka.damaged_at_line);
    cr_assert (kb.damaged_parts == 0 && kb.damaged_at_line > 20, "missed: %g at the line", kb.damaged_at_line);
    twin_destroy (&a);
    twin_destroy (&b);
}

Test (twin_material_phys, telemetry_has_capacity_and_lead_time_statistics)
{
    twin_t *t = s_plant (", warehouse: 1000, warehouse_cap: 3000", "", 1);
    twin_start (t);
    s_reorder (t, 100);
    twin_iterate (t, 2 * 3600, 0);
    const twin_part_obs_t *p = &twin_observe (t)->parts[0];
    cr_assert_eq (p->bin_cap, 100);
    cr_assert_eq (p->warehouse_cap, 3000);
    cr_assert (fabs (p->lead_time_seen_h - 1) < 1e-9, "%g", p->lead_time_seen_h);
    cr_assert (p->use_per_h > 50 && p->use_per_h < 130, "2 per unit, ~60 units/h: %g", p->use_per_h);
    twin_destroy (&t);
}

Test (twin_material_phys, bad_material_config_is_refused)
{
    static const char *const bad[][2] = {
        { ", warehouse: 5000, warehouse_cap: 100", "" },
        { ", unit_cost: -1", "" },
        { "", "inventory: {holding_pct_per_year: -5}\n" },
        { "", "inventory: {intake: {detect_p: 2}}\n" },
        { "", "inventory: {intake: 3}\n" },
        { "", "inventory: {shelves: 3}\n" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char yaml[4096], err[512] = "";
        snprintf (yaml, sizeof yaml, s_plant_fmt, bad[i][0], bad[i][1]);
        twin_t *t = twin_new_from_text (yaml, strlen (yaml), "bad", 1, err, sizeof err);
        cr_assert_null (t, "accepted: %s %s", bad[i][0], bad[i][1]);
        cr_assert (err[0]);
    }
}
