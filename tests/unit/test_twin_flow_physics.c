/*  Flow physics of the twin (issue 11): lead time from the order's arrival
 *  beside cycle time on the line, due dates (tardiness against finished
 *  goods), OEE performance against the maximum rated speed, and the flow
 *  commands (release / WIP cap, buffer size, stand-by and wake-up, design
 *  changes), each with a trade-off that shows in the KPIs.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/twin/twin.h"

static twin_t *
s_twin (const char *yaml, uint64_t seed)
{
    char err[512] = "";
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "test.yaml", seed, err, sizeof err);
    cr_assert_not_null (t, "config refused: %s", err);
    return t;
}

static void
s_run (const char *yaml, uint64_t seed, double hours, twin_kpi_t *k)
{
    twin_t *t = s_twin (yaml, seed);
    twin_run (t, hours, NULL);
    twin_kpis (t, k);
    twin_destroy (&t);
}

/* ------------------------------------------------------------ lead time, cycle time */

/* Orders waiting in front of a first station without a buffer are in the
 * plant (lead time) but not yet on the line (cycle time). */
Test (twin_flow_phys, lead_time_counts_the_wait_before_the_line)
{
    const char *yaml =
        "factory: {name: lead, warmup_h: 2}\n"
        "arrivals: {mode: poisson, rate_per_h: 50}\n"
        "stations:\n"
        "  - {name: s1, process_s: {dist: exponential, mean: 60}, buffer_cap: 0}\n"
        "  - {name: s2, process_s: {dist: exponential, mean: 30}, buffer_cap: 0}\n";
    twin_kpi_t k;
    s_run (yaml, 5, 400, &k);
    cr_log_info ("lead %.2f min, cycle %.2f min, wip %.2f, line wip %.2f", k.lead_time_mean_min,
                 k.cycle_time_mean_min, k.wip_mean, k.wip_line_mean);
    cr_assert (k.units > 15000);
    cr_assert (k.arrivals >= k.units);
    /* M/M/1-like first station at ρ ≈ 0.83: most of the lead time is the wait. */
    cr_assert (k.lead_time_mean_min > 2 * k.cycle_time_mean_min, "lead %g, cycle %g",
               k.lead_time_mean_min, k.cycle_time_mean_min);
    cr_assert (k.wip_line_mean < k.wip_mean);
    /* Little's law on the line alone: line WIP = throughput × cycle time. */
    double lw = k.units / (k.sim_h * 60) * k.cycle_time_mean_min;
    cr_assert (fabs (k.wip_line_mean - lw) / lw < 0.02, "line wip %g vs λW %g", k.wip_line_mean, lw);
}

/* A saturated line has no order book: the order is taken to arrive when it
 * is released, so lead time and cycle time agree. */
Test (twin_flow_phys, saturated_lead_equals_cycle)
{
    const char *yaml =
        "factory: {name: sat}\n"
        "stations:\n"
        "  - {name: s1, process_s: {dist: exponential, mean: 60}, buffer_cap: 2}\n"
        "  - {name: s2, process_s: {dist: exponential, mean: 50}, buffer_cap: 2}\n";
    twin_kpi_t k;
    s_run (yaml, 2, 100, &k);
    cr_assert (k.units > 1000);
    cr_assert_float_eq (k.lead_time_mean_min, k.cycle_time_mean_min, 1e-9);
    cr_assert_eq (k.arrivals, 0);
}

/* ------------------------------------------------------------ due dates */

/* Tight due dates make orders late; generous ones make finished goods wait
 * for their ship date.  Same arrivals and processing (common random numbers),
 * only the promise differs. */
Test (twin_flow_phys, due_dates_trade_tardiness_for_finished_goods)
{
    const char *fmt =
        "factory: {name: due, warmup_h: 5}\n"
        "arrivals: {mode: poisson, rate_per_h: 50}\n"
        "variants: [{name: a, mix: 1, due_h: %g}]\n"
        "stations:\n"
        "  - {name: s1, process_s: {dist: exponential, mean: 60}}\n";
    char tight[512], loose[512];
    snprintf (tight, sizeof tight, fmt, 0.1);
    snprintf (loose, sizeof loose, fmt, 2.0);
    twin_kpi_t kt, kl;
    s_run (tight, 7, 300, &kt);
    s_run (loose, 7, 300, &kl);
    cr_log_info ("tight: tardy %.1f %%, %.3f h, fg %.2f; loose: tardy %.2f %%, fg %.2f",
                 kt.tardy_pct, kt.tardiness_mean_h, kt.fg_mean, kl.tardy_pct, kl.fg_mean);
    cr_assert_float_eq (kt.lead_time_mean_min, kl.lead_time_mean_min, 1e-9, "the promise changed the flow");
    cr_assert (kt.tardy_pct > 20 && kt.tardiness_mean_h > 0.01);
    cr_assert (kl.tardy_pct < kt.tardy_pct && kl.tardiness_mean_h < kt.tardiness_mean_h);
    cr_assert (kl.fg_mean > 10 * kt.fg_mean + 1, "finished goods %g vs %g", kl.fg_mean, kt.fg_mean);
}

/* ------------------------------------------------------------ OEE */

/* Performance is measured against the maximum rated speed: a saturated
 * station at nameplate shows nameplate / max speed, at its max speed 100 %;
 * overspeed no longer inflates it beyond what the machine is rated for. */
Test (twin_flow_phys, performance_against_max_speed)
{
    const char *yaml =
        "factory: {name: perf}\n"
        "stations:\n"
        "  - {name: s1, process_s: 60, max_speed: 1.25}\n";
    twin_t *t = s_twin (yaml, 1);
    twin_run (t, 50, NULL);
    twin_kpi_t nameplate;
    twin_kpis (t, &nameplate);
    twin_destroy (&t);
    cr_assert_float_eq (nameplate.performance_pct, 80.0, 0.5, "performance %g", nameplate.performance_pct);

    t = s_twin (yaml, 1);
    twin_cmd_t c = { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { -1, 1.25 } };
    char err[256];
    cr_assert_eq (twin_apply (t, &c, err, sizeof err), 0, "%s", err);
    twin_run (t, 50, NULL);
    twin_kpi_t fast;
    twin_kpis (t, &fast);
    twin_destroy (&t);
    cr_assert_float_eq (fast.performance_pct, 100.0, 0.5, "performance %g", fast.performance_pct);
    cr_assert (fast.units > 1.2 * nameplate.units);
}
