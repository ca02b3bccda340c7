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

/* ------------------------------------------------------------ commands */

/* Parses ACTION with one or two (name, value) parameters through the
 * command table, as the bus does, and applies it.  Returns twin_apply's
 * result (−1 also for a parse error); ERR gets the reason. */
static int
s_cmd (twin_t *t, const char *action, const twin_param_t *params, size_t n, char *err, size_t len)
{
    const twin_cmd_info_t *info = twin_cmd_by_action (action);
    cr_assert_not_null (info, "no action %s", action);
    twin_cmd_t c;
    if (twin_cmd_parse (t, info, params, n, &c, err, len))
        return -1;
    return twin_apply (t, &c, err, len);
}

#define S_NUM(n, v)  { .name = (n), .type = TWIN_VAL_NUM, .num = (v) }
#define S_TEXT(n, v) { .name = (n), .type = TWIN_VAL_TEXT, .text = (v) }

static double
s_run_cmd (const char *yaml, uint64_t seed, double hours, const char *action, const twin_param_t *p,
           size_t n, twin_kpi_t *k)
{
    twin_t *t = s_twin (yaml, seed);
    char err[256] = "";
    if (action)
        cr_assert_eq (s_cmd (t, action, p, n, err, sizeof err), 0, "%s: %s", action, err);
    twin_run (t, hours, NULL);
    twin_kpis (t, k);
    twin_destroy (&t);
    return k->units;
}

static const char s_open_line[] =
    "factory: {name: open, warmup_h: 10}\n"
    "arrivals: {mode: poisson, rate_per_h: 50}\n"
    "stations:\n"
    "  - {name: s1, process_s: {dist: exponential, mean: 55}, buffer_cap: 10}\n"
    "  - {name: s2, process_s: {dist: exponential, mean: 60}, buffer_cap: 10}\n"
    "  - {name: s3, process_s: {dist: exponential, mean: 50}, buffer_cap: 10}\n";

/* The free lunch of the issue: holding work before the line shortens cycle
 * time on the line, but the order's lead time from arrival gets longer. */
Test (twin_flow_phys, wip_cap_trades_cycle_time_for_lead_time)
{
    twin_kpi_t free_k, cap_k;
    s_run_cmd (s_open_line, 3, 600, NULL, NULL, 0, &free_k);
    twin_param_t p[] = { S_NUM ("wip_cap", 3) };
    s_run_cmd (s_open_line, 3, 600, "set_release", p, 1, &cap_k);
    cr_log_info ("no cap: cycle %.1f lead %.1f min, line wip %.2f; cap 3: cycle %.1f lead %.1f min, "
                 "line wip %.2f", free_k.cycle_time_mean_min, free_k.lead_time_mean_min, free_k.wip_line_mean,
                 cap_k.cycle_time_mean_min, cap_k.lead_time_mean_min, cap_k.wip_line_mean);
    cr_assert (cap_k.wip_line_mean <= 3.0 + 1e-9);
    cr_assert (cap_k.cycle_time_mean_min < 0.8 * free_k.cycle_time_mean_min);
    cr_assert (cap_k.lead_time_mean_min > free_k.lead_time_mean_min, "holding work won lead time: %g vs %g",
               cap_k.lead_time_mean_min, free_k.lead_time_mean_min);
}

Test (twin_flow_phys, release_refuses_a_bad_cap)
{
    twin_t *t = s_twin (s_open_line, 1);
    char err[256] = "";
    twin_param_t neg[] = { S_NUM ("wip_cap", -1) }, big[] = { S_NUM ("wip_cap", 1e7) }, txt[] = { S_TEXT ("wip_cap", "x") };
    cr_assert_eq (s_cmd (t, "set_release", neg, 1, err, sizeof err), -1);
    cr_assert (strstr (err, "WIP cap"), "%s", err);
    cr_assert_eq (s_cmd (t, "set_release", big, 1, err, sizeof err), -1);
    cr_assert_eq (s_cmd (t, "set_release", txt, 1, err, sizeof err), -1);
    cr_assert_eq (s_cmd (t, "set_release", NULL, 0, err, sizeof err), -1, "wip_cap is required");
    twin_destroy (&t);
}

/* Stand-by saves idle power but every wake-up costs time and energy: on a
 * lightly loaded station 'auto' stand-by lowers energy and raises lead time. */
static const char s_light[] =
    "factory: {name: light, warmup_h: 2}\n"
    "arrivals: {mode: poisson, rate_per_h: 12}\n"
    "stations:\n"
    "  - name: oven\n"
    "    process_s: {dist: exponential, mean: 60}\n"
    "    power_kw: {idle: 10, busy: 30, standby: 1, wake: 25}\n"
    "    wake_s: 90\n";

Test (twin_flow_phys, standby_trades_energy_for_lead_time)
{
    twin_kpi_t awake, saving;
    s_run_cmd (s_light, 4, 300, NULL, NULL, 0, &awake);
    twin_param_t p[] = { S_TEXT ("station", "oven"), S_TEXT ("mode", "auto") };
    s_run_cmd (s_light, 4, 300, "set_standby", p, 2, &saving);
    cr_log_info ("awake: %.0f kWh, lead %.2f min; auto stand-by: %.0f kWh, lead %.2f min",
                 awake.energy_kwh, awake.lead_time_mean_min, saving.energy_kwh, saving.lead_time_mean_min);
    cr_assert_float_eq (saving.units, awake.units, 0.02 * awake.units, "stand-by lost orders");
    cr_assert (saving.energy_kwh < 0.8 * awake.energy_kwh);
    /* Most orders find the oven asleep and wait its 1.5 min wake-up. */
    cr_assert (saving.lead_time_mean_min > awake.lead_time_mean_min + 0.5);
}

/* 'standby' holds the station until it is woken; units wait in its buffer. */
Test (twin_flow_phys, standby_holds_until_woken)
{
    twin_t *t = s_twin (s_light, 4);
    char err[256] = "";
    twin_param_t hold[] = { S_TEXT ("station", "oven"), S_TEXT ("mode", "standby") };
    twin_param_t wake[] = { S_TEXT ("station", "oven"), S_TEXT ("mode", "wake") };
    cr_assert_eq (s_cmd (t, "set_standby", wake, 2, err, sizeof err), -1, "woke an awake station");
    cr_assert (strstr (err, "not in stand-by"), "%s", err);
    cr_assert_eq (s_cmd (t, "set_standby", hold, 2, err, sizeof err), 0, "%s", err);
    twin_start (t);
    twin_iterate (t, 4 * 3600.0, 0);
    const twin_obs_t *o = twin_observe (t);
    cr_assert_eq (o->stations[0].state, TWIN_ST_STANDBY);
    cr_assert_eq (o->stations[0].processed, 0);
    cr_assert (o->stations[0].buffer_level > 20, "orders waited: %d", o->stations[0].buffer_level);
    cr_assert_eq (s_cmd (t, "set_standby", wake, 2, err, sizeof err), 0, "%s", err);
    twin_iterate (t, 8 * 3600.0, 0);
    o = twin_observe (t);
    cr_assert (o->stations[0].processed > 40);
    twin_param_t bad[] = { S_TEXT ("station", "oven"), S_TEXT ("mode", "sleepy") };
    cr_assert_eq (s_cmd (t, "set_standby", bad, 2, err, sizeof err), -1);
    twin_param_t nost[] = { S_TEXT ("station", "nope"), S_TEXT ("mode", "auto") };
    cr_assert_eq (s_cmd (t, "set_standby", nost, 2, err, sizeof err), -1);
    twin_destroy (&t);
}

/* A smaller buffer between unbalanced random stations costs throughput. */
static const char s_sat_buffers[] =
    "factory: {name: buf, warmup_h: 2}\n"
    "stations:\n"
    "  - {name: s1, process_s: {dist: exponential, mean: 60}}\n"
    "  - {name: s2, process_s: {dist: exponential, mean: 60}, buffer_cap: 6, buffer_max: 10}\n";

Test (twin_flow_phys, buffer_size_trades_wip_for_throughput)
{
    twin_kpi_t big, small;
    twin_param_t p10[] = { S_TEXT ("station", "s2"), S_NUM ("capacity", 10) };
    twin_param_t p0[] = { S_TEXT ("station", "s2"), S_NUM ("capacity", 0) };
    s_run_cmd (s_sat_buffers, 5, 300, "set_buffer", p10, 2, &big);
    s_run_cmd (s_sat_buffers, 5, 300, "set_buffer", p0, 2, &small);
    cr_log_info ("buffer 10: %.1f u/h, wip %.2f; buffer 0: %.1f u/h, wip %.2f", big.throughput_uph, big.wip_line_mean,
                 small.throughput_uph, small.wip_line_mean);
    cr_assert (small.throughput_uph < 0.85 * big.throughput_uph);
    cr_assert (small.wip_line_mean < big.wip_line_mean);

    twin_t *t = s_twin (s_sat_buffers, 1);
    char err[256] = "";
    twin_param_t over[] = { S_TEXT ("station", "s2"), S_NUM ("capacity", 11) };
    twin_param_t unb[] = { S_TEXT ("station", "s1"), S_NUM ("capacity", 3) };
    cr_assert_eq (s_cmd (t, "set_buffer", over, 2, err, sizeof err), -1);
    cr_assert (strstr (err, "physical maximum"), "%s", err);
    cr_assert_eq (s_cmd (t, "set_buffer", unb, 2, err, sizeof err), -1);
    cr_assert (strstr (err, "unbounded"), "%s", err);
    twin_destroy (&t);
}

/* A design change that shortens a variant's work at the bottleneck raises
 * throughput; a station off the route or a silly time is refused. */
static const char s_two_variants[] =
    "factory: {name: design}\n"
    "variants:\n"
    "  - {name: a, mix: 1, route: [s1, s2]}\n"
    "  - {name: b, mix: 0, route: [s1]}\n"
    "stations:\n"
    "  - {name: s1, process_s: {dist: gamma, mean: 40, cv: 0.2}, process_s_by_variant: {b: 20}}\n"
    "  - {name: s2, process_s: {dist: gamma, mean: 60, cv: 0.2}}\n";

Test (twin_flow_phys, design_change_moves_the_bottleneck)
{
    twin_kpi_t before, after;
    twin_param_t p[] = { S_TEXT ("variant", "a"), S_TEXT ("station", "s2"), S_NUM ("process_s", 30) };
    s_run_cmd (s_two_variants, 2, 100, NULL, NULL, 0, &before);
    s_run_cmd (s_two_variants, 2, 100, "change_design", p, 3, &after);
    cr_log_info ("design: %.1f -> %.1f u/h", before.throughput_uph, after.throughput_uph);
    cr_assert_float_eq (before.throughput_uph, 60.0, 2.0);
    cr_assert_float_eq (after.throughput_uph, 90.0, 3.0, "s1 (40 s) paces the line now");

    twin_t *t = s_twin (s_two_variants, 1);
    char err[256] = "";
    twin_param_t off[] = { S_TEXT ("variant", "b"), S_TEXT ("station", "s2"), S_NUM ("process_s", 30) };
    twin_param_t zero[] = { S_TEXT ("variant", "a"), S_TEXT ("station", "s2"), S_NUM ("process_s", 0) };
    cr_assert_eq (s_cmd (t, "change_design", off, 3, err, sizeof err), -1);
    cr_assert (strstr (err, "does not visit"), "%s", err);
    cr_assert_eq (s_cmd (t, "change_design", zero, 3, err, sizeof err), -1);
    twin_destroy (&t);
}

/* Launching variant b (declared with mix 0, a shorter route) changes what
 * the line makes; the sole variant cannot be withdrawn. */
Test (twin_flow_phys, mix_launches_a_variant)
{
    twin_kpi_t before, after;
    twin_param_t p[] = { S_TEXT ("variant", "b"), S_NUM ("mix", 1) };
    s_run_cmd (s_two_variants, 2, 100, NULL, NULL, 0, &before);
    s_run_cmd (s_two_variants, 2, 100, "set_mix", p, 2, &after);
    cr_log_info ("mix: %.1f -> %.1f u/h", before.throughput_uph, after.throughput_uph);
    cr_assert_float_eq (after.throughput_uph, 180.0, 3.0, "only b (20 s at s1) is built");

    twin_t *t = s_twin (s_two_variants, 1);
    char err[256] = "";
    twin_param_t sole[] = { S_TEXT ("variant", "a"), S_NUM ("mix", 0.5) };
    twin_param_t over[] = { S_TEXT ("variant", "b"), S_NUM ("mix", 1.5) };
    cr_assert_eq (s_cmd (t, "set_mix", sole, 2, err, sizeof err), -1);
    cr_assert (strstr (err, "only one"), "%s", err);
    cr_assert_eq (s_cmd (t, "set_mix", over, 2, err, sizeof err), -1);
    twin_param_t half[] = { S_TEXT ("variant", "b"), S_NUM ("mix", 0.5) };
    cr_assert_eq (s_cmd (t, "set_mix", half, 2, err, sizeof err), 0, "%s", err);
    twin_destroy (&t);
}

/* ------------------------------------------------------------ telemetry */

typedef struct {
    int orders, flows;
    double waiting, share_sum, standby_share;
} s_tel_t;

static void
s_tel (void *ctx, const twin_sample_t *t)
{
    s_tel_t *c = ctx;
    if (!strcmp (t->topic, "orders")) {
        c->orders++;
        c->waiting = t->values[0];
        cr_assert_str_eq (t->names[0], "waiting");
    }
    if (!strncmp (t->topic, "flow.", 5)) {
        c->flows++;
        for (int k = 0; k < TWIN_ST_COUNT; k++)
            c->share_sum += t->values[k];
        c->standby_share += t->values[TWIN_ST_STANDBY];
    }
}

/* The order book and each station's state shares of the last epoch reach
 * the bus; the shares of one station add up to the whole epoch. */
Test (twin_flow_phys, telemetry_has_the_order_book_and_state_shares)
{
    twin_t *t = s_twin (s_light, 4);
    char err[256] = "";
    twin_param_t hold[] = { S_TEXT ("station", "oven"), S_TEXT ("mode", "standby") };
    cr_assert_eq (s_cmd (t, "set_standby", hold, 2, err, sizeof err), 0, "%s", err);
    twin_start (t);
    twin_iterate (t, 3600.0, 0);
    const twin_obs_t *o = twin_observe (t);
    cr_assert (o->release_queue == 0 && o->stations[0].buffer_level > 3, "orders wait in the buffer");
    cr_assert_eq (o->stations[0].standby_mode, TWIN_STANDBY_HOLD);
    cr_assert_float_eq (o->arrival_rate_per_h, 12, 1e-9);
    s_tel_t c = { 0 };
    twin_telemetry_foreach (t, s_tel, &c);
    cr_assert_eq (c.orders, 1);
    cr_assert_eq (c.flows, 1);
    cr_assert_float_eq (c.share_sum, 1.0, 1e-9);
    cr_assert_float_eq (c.standby_share, 1.0, 1e-9);
    twin_destroy (&t);
}

/* A first station without a buffer keeps orders in the book: the
 * observation shows how long the oldest has waited and when it is due. */
Test (twin_flow_phys, order_book_shows_waiting_orders)
{
    const char *yaml =
        "factory: {name: book}\n"
        "arrivals: {mode: poisson, rate_per_h: 120}\n"
        "variants: [{name: a, mix: 1, due_h: 1}]\n"
        "stations:\n"
        "  - {name: s1, process_s: 60, buffer_cap: 0}\n";
    twin_t *t = s_twin (yaml, 2);
    twin_start (t);
    twin_iterate (t, 2 * 3600.0, 0);
    const twin_obs_t *o = twin_observe (t);
    cr_log_info ("waiting %d, oldest %.1f min, next due %.2f h, late %d", o->release_queue, o->oldest_wait_min,
                 o->next_due_h, o->orders_late);
    cr_assert (o->release_queue > 30, "λ = 2 μ: orders pile up");
    cr_assert (o->oldest_wait_min > 30);
    cr_assert (o->next_due_h < 0 && o->orders_late > 0, "the oldest are late");
    cr_assert_str_eq (o->stations[0].variant, "a");
    twin_destroy (&t);
}

/* ------------------------------------------------------------ forks */

/* A fork replays the flow commands at the point they were given, so it runs
 * on exactly as the live twin does. */
Test (twin_flow_phys, fork_repeats_flow_commands)
{
    twin_t *t = s_twin (s_open_line, 9);
    char err[256] = "";
    twin_start (t);
    twin_iterate (t, 3600.0, 0);
    twin_param_t cap[] = { S_NUM ("wip_cap", 6) };
    twin_param_t sb[] = { S_TEXT ("station", "s3"), S_TEXT ("mode", "auto") };
    cr_assert_eq (s_cmd (t, "set_release", cap, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq (s_cmd (t, "set_standby", sb, 2, err, sizeof err), 0, "%s", err);
    twin_iterate (t, 2 * 3600.0, 0);
    twin_t *f = twin_fork (t, err, sizeof err);
    cr_assert_not_null (f, "%s", err);
    twin_iterate (t, 20 * 3600.0, 0);
    twin_iterate (f, 20 * 3600.0, 0);
    twin_kpi_t a, b;
    twin_kpis (t, &a);
    twin_kpis (f, &b);
    char ja[4096], jb[4096];
    cr_assert (twin_kpi_json (&a, ja, sizeof ja) > 0 && twin_kpi_json (&b, jb, sizeof jb) > 0);
    cr_assert_str_eq (ja, jb);
    twin_destroy (&f);
    twin_destroy (&t);
}

/* ------------------------------------------------------------ the default plant */

static char *
s_read_plant (const char *name)
{
    const char *src = getenv ("AF_SRC");
    char path[512];
    snprintf (path, sizeof path, "%s/deploy/factories/%s.yaml", src ? src : ".", name);
    FILE *f = fopen (path, "rb");
    cr_assert_not_null (f, "cannot open %s", path);
    static char buf[65536];
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = 0;
    return strdup (buf);
}

static void
s_giga (const char *yaml, bool hold_work, twin_kpi_t *k)
{
    twin_t *t = s_twin (yaml, 1);
    twin_policy_t p;
    cr_assert_eq (twin_policy_baseline (t, &p), 0);
    twin_set_policy (t, &p);
    if (hold_work) {
        /* The free lunch: slow the first station, release in huge batches. */
        twin_set_owned (t, TWIN_OWN_LINE, true);
        twin_set_owned (t, TWIN_OWN_SEQUENCING, true);
        char err[256];
        twin_cmd_t slow = { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { 0, 0.5 } };
        twin_cmd_t batch = { .kind = TWIN_CMD_BATCH_SEQUENCE, .u.batch = { TWIN_SEQ_BATCH, 1000 } };
        cr_assert_eq (twin_apply (t, &slow, err, sizeof err), 0, "%s", err);
        cr_assert_eq (twin_apply (t, &batch, err, sizeof err), 0, "%s", err);
    }
    twin_run (t, 168, NULL);
    twin_kpis (t, k);
    twin_destroy (&t);
}

/* On the default plant, holding work before the line may shorten the cycle
 * time on the line, but never the lead time the customer sees. */
Test (twin_flow_phys, default_plant_holding_work_does_not_pay)
{
    char *yaml = s_read_plant ("gigafactory");
    twin_kpi_t base, held;
    s_giga (yaml, false, &base);
    s_giga (yaml, true, &held);
    free (yaml);
    cr_log_info ("baseline: lead %.1f min, cycle %.1f min, %.1f u/h, OEE %.1f %%; held: lead %.1f, cycle %.1f, "
                 "%.1f u/h, OEE %.1f %%", base.lead_time_mean_min, base.cycle_time_mean_min, base.throughput_uph,
                 base.oee_pct, held.lead_time_mean_min, held.cycle_time_mean_min, held.throughput_uph, held.oee_pct);
    cr_assert (base.arrivals > 0, "the default plant has an order book");
    cr_assert (base.lead_time_mean_min > base.cycle_time_mean_min);
    cr_assert (held.lead_time_mean_min > 2 * base.lead_time_mean_min);
    cr_assert (held.tardy_pct > base.tardy_pct);
}

/* ------------------------------------------------------------ arrival pattern */

typedef struct {
    double day, night;
} s_arr_t;

static void
s_count_arrivals (void *ctx, twin_t *t, const twin_obs_t *o)
{
    (void) t;
    s_arr_t *c = ctx;
    /* The epoch just ended lies in the hour before o->t_s. */
    double h = fmod (o->t_s - 1, 86400.0) / 3600.0;
    if (h >= 8 && h < 16)
        c->day += o->arrivals_epoch;
    else
        c->night += o->arrivals_epoch;
}

/* arrivals.day_profile: orders come by the hour of the day (here only on the
 * day shift), the daily mean staying rate_per_h. */
Test (twin_flow_phys, day_profile_shapes_arrivals)
{
    const char *yaml =
        "factory: {name: shift}\n"
        "arrivals: {mode: poisson, rate_per_h: 10,\n"
        "           day_profile: [0,0,0,0,0,0,0,0, 1,1,1,1,1,1,1,1, 0,0,0,0,0,0,0,0]}\n"
        "stations:\n"
        "  - {name: s1, process_s: 60}\n";
    twin_t *t = s_twin (yaml, 6);
    s_arr_t c = { 0 };
    twin_set_epoch_cb (t, s_count_arrivals, &c);
    twin_run (t, 240, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    cr_log_info ("arrivals %.0f: day shift %.0f, outside %.0f", k.arrivals, c.day, c.night);
    cr_assert_float_eq (k.arrivals, 2400, 150, "the daily mean stays rate_per_h");
    cr_assert_eq (c.night, 0);
    cr_assert_float_eq (c.day, k.arrivals, 1);
    twin_destroy (&t);

    char err[256] = "";
    const char *bad[] = {
        "factory: {name: b}\narrivals: {mode: poisson, rate_per_h: 10, day_profile: [1, 2]}\n"
        "stations: [{name: s1, process_s: 60}]\n",
        "factory: {name: b}\narrivals: {day_profile: [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}\n"
        "stations: [{name: s1, process_s: 60}]\n",
        "factory: {name: b}\narrivals: {mode: poisson, rate_per_h: 10, "
        "day_profile: [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,-1]}\n"
        "stations: [{name: s1, process_s: 60}]\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        twin_t *b = twin_new_from_text (bad[i], strlen (bad[i]), "bad.yaml", 1, err, sizeof err);
        cr_assert_null (b, "case %zu accepted", i);
        cr_assert (strstr (err, "day_profile"), "case %zu: %s", i, err);
    }
}
