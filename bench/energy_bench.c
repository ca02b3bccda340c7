/*  energy-bench — `make bench-energy-offline`: battery dispatch policies
 *  scored offline on load, solar and price traces recorded from the twin.
 *
 *  For each seed the default factory runs under the baseline policy (battery
 *  idle, fixed HVAC set point) for --history-h + --hours hours, and every
 *  epoch's grid-side demand (stations + base load + HVAC), solar output and
 *  price are recorded.  The first --history-h hours are history (the
 *  forecaster's memory, and the rule's tuning week); the last --hours hours
 *  are one billing month on which four battery policies are scored by the
 *  same bill (agents/energy/bill.c), side by side:
 *    idle   the baseline: the battery does nothing;
 *    rule   charge at or below a price, shave above a peak threshold (both
 *           picked as the best pair on the history week, not on the month);
 *    mpc    the rolling-horizon LP every epoch with forecasts (seasonal-naive
 *           load + recent level, clear-sky solar × today's weather), never
 *           the truth; prices are the published tariff;
 *    bound  the same LP over the whole month on the realised data: no online
 *           dispatch of this battery can cost less.
 *  Costs include battery wear and credit the energy left in the battery at
 *  the end at --terminal-value per kWh, so a policy cannot look cheaper by
 *  ending empty.  This is OFFLINE: the battery does not act on the twin, so
 *  the load does not react (the twin's battery has no cycling cost yet and
 *  HVAC is not shifted here).
 */
#include "agents/twin/twin.h"
#include "agents/energy/bill.h"
#include "agents/energy/controller.h"
#include "agents/energy/forecast.h"
#include "agents/energy/mpc.h"
#include "agents/energy/rule.h"
#include "af_args.h"
#include "af_config.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_PROG "energy-bench"
#define S_MAX_SEEDS 20

typedef struct {
    const char *factory, *json, *csv_dir;
    double hours, history_h, horizon_h, cycle_cost, reserve_frac, terminal_value, envelope_share, dc_scale;
    double hvac_band_c;
    long seeds, oracle;
} s_opts_t;

typedef struct {
    energy_battery_t batt;
    double soc0_frac, demand_charge, dt_h;
    energy_solar_site_t site;
    energy_hvac_t hvac;                 /* comfort band from --hvac-band */
    double hvac_setpoint_c;
} s_plant_t;

typedef struct {
    size_t n, cap;
    double *t_h, *load_kw, *solar_kw, *price;
    double *base_kw, *ambient_c, *hvac_kw;  /* load without HVAC; for the HVAC bound */
} s_trace_t;

enum { P_IDLE, P_RULE, P_MPC, P_BOUND, P_BOUND_HVAC, P_COUNT };
static const char *const s_policy_name[P_COUNT] = { "idle", "rule", "mpc", "bound", "bound_hvac" };

typedef struct {
    double cost, energy_cost, demand_cost, cycle_cost, peak_kw, import_kwh, throughput_kwh, solar_used_kwh;
    size_t clipped;
    double soc_min_kwh, soc_max_kwh;
} s_score_t;

typedef struct {
    s_score_t score[P_COUNT];
    double mpc_solve_ms, bound_solve_ms, rule_price, rule_peak_kw, bound_replay_gap;
    size_t mpc_fallbacks;
    double load_mae_pct, load_rmse_kw, mpc_target_kw;
    double hvac_model_err_kw;           /* our zone model vs the twin's HVAC, fixed set point */
} s_seed_result_t;

static double
s_wall (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ plant and trace */

/* Battery, tariff and solar site from the plant description. */
static int
s_plant_read (const char *path, const s_opts_t *o, s_plant_t *p)
{
    char err[512];
    af_config_t *doc = af_config_load (path, err, sizeof err);
    if (!doc) {
        fprintf (stderr, S_PROG ": %s\n", err);
        return -1;
    }
    af_config_t *fac = af_config_get (doc, "factory"), *bat = af_config_get (doc, "energy.battery");
    af_config_t *tar = af_config_get (doc, "energy.tariff"), *sol = af_config_get (doc, "energy.solar");
    af_config_t *hv = af_config_get (doc, "energy.hvac");
    p->hvac_setpoint_c = af_config_num (hv, "setpoint_c", 21, -50, 60);
    p->hvac = (energy_hvac_t) { .enabled = true, .ua_kw_per_c = af_config_num (hv, "ua_kw_per_c", 0, 0, 1e6),
                                .heat_cap_kwh_per_c = af_config_num (hv, "heat_cap_kwh_per_c", 1, 1e-3, 1e9),
                                .cop = af_config_num (hv, "cop", 3, 0.1, 20),
                                .max_kw = af_config_num (hv, "max_kw", 0, 0, 1e7),
                                .min_c = p->hvac_setpoint_c - o->hvac_band_c,
                                .max_c = p->hvac_setpoint_c + o->hvac_band_c,
                                .violation_cost_per_ch = 100 };
    double cap = af_config_num (bat, "capacity_kwh", 0, 0, 1e7);
    double kw = af_config_num (bat, "max_kw", 0, 0, 1e6);
    double leg = sqrt (af_config_num (bat, "round_trip_eff", 0.9, 0.01, 1));
    double min_soc = af_config_num (bat, "min_soc", 0.1, 0, 1);
    p->batt = (energy_battery_t) { .capacity_kwh = cap, .max_charge_kw = kw, .max_discharge_kw = kw,
                                   .eff_charge = leg, .eff_discharge = leg, .min_soc = min_soc,
                                   .reserve_kwh = o->reserve_frac * cap,
                                   .cycle_cost_per_kwh = o->cycle_cost };
    p->soc0_frac = af_config_num (bat, "soc", 0.5, 0, 1);
    p->demand_charge = af_config_num (tar, "demand_charge_per_kw", 0, 0, 1e4);
    p->dt_h = af_config_num (fac, "epoch_s", 900, 1, 86400) / 3600.0;
    p->site = (energy_solar_site_t) { .peak_kw = af_config_num (sol, "peak_kw", 0, 0, 1e7),
                                      .latitude_deg = af_config_num (sol, "latitude_deg", 45, -90, 90),
                                      .tilt_deg = 23.44, .day_h = 24, .year_days = 365 };
    int rc = 0;
    if (af_config_error (doc)) {
        fprintf (stderr, S_PROG ": %s\n", af_config_error (doc));
        rc = -1;
    }
    else if (cap <= 0 || kw <= 0) {
        fprintf (stderr, S_PROG ": %s has no battery (energy.battery.capacity_kwh, max_kw)\n", path);
        rc = -1;
    }
    af_config_destroy (&doc);
    return rc;
}

static void
s_trace_free (s_trace_t *tr)
{
    free (tr->t_h);
    free (tr->load_kw);
    free (tr->solar_kw);
    free (tr->price);
    free (tr->base_kw);
    free (tr->ambient_c);
    free (tr->hvac_kw);
    memset (tr, 0, sizeof *tr);
}

/* Epoch hook: one row of what a meter would show. */
static void
s_record (void *ctx, twin_t *twin, const twin_obs_t *obs)
{
    (void) twin;
    s_trace_t *tr = ctx;
    if (tr->n == tr->cap || obs->t_s <= 0)
        return;
    tr->t_h[tr->n] = obs->t_s / 3600.0;
    tr->load_kw[tr->n] = obs->load_kw + obs->hvac_kw;
    tr->solar_kw[tr->n] = obs->solar_kw;
    tr->price[tr->n] = obs->price_per_kwh;
    tr->base_kw[tr->n] = obs->load_kw;
    tr->ambient_c[tr->n] = obs->ambient_c;
    tr->hvac_kw[tr->n] = obs->hvac_kw;
    tr->n++;
}

/* Runs the twin under its baseline for HOURS and records every epoch. */
static int
s_trace_record (const char *factory, uint64_t seed, double hours, double dt_h, s_trace_t *tr)
{
    char err[512];
    tr->cap = (size_t) ceil (hours / dt_h) + 2;
    tr->n = 0;
    tr->t_h = calloc (tr->cap, sizeof (double));
    tr->load_kw = calloc (tr->cap, sizeof (double));
    tr->solar_kw = calloc (tr->cap, sizeof (double));
    tr->price = calloc (tr->cap, sizeof (double));
    tr->base_kw = calloc (tr->cap, sizeof (double));
    tr->ambient_c = calloc (tr->cap, sizeof (double));
    tr->hvac_kw = calloc (tr->cap, sizeof (double));
    twin_t *twin = twin_new_from_file (factory, seed, err, sizeof err);
    if (!twin || !tr->t_h || !tr->load_kw || !tr->solar_kw || !tr->price || !tr->base_kw || !tr->ambient_c
        || !tr->hvac_kw) {
        fprintf (stderr, S_PROG ": %s\n", twin ? "out of memory" : err);
        twin_destroy (&twin);
        return -1;
    }
    twin_policy_t pol;
    twin_policy_baseline (twin, &pol);
    twin_set_policy (twin, &pol);
    twin_set_epoch_cb (twin, s_record, tr);
    int rc = twin_start (twin) == 0 && twin_run (twin, hours, NULL) == 0 ? 0 : -1;
    twin_destroy (&twin);
    if (rc < 0)
        fprintf (stderr, S_PROG ": the twin failed to run %s\n", factory);
    return rc;
}

static int
s_trace_csv (const char *dir, long seed, const s_trace_t *tr)
{
    char path[512];
    snprintf (path, sizeof path, "%s/energy_trace_seed%ld.csv", dir, seed);
    FILE *f = fopen (path, "w");
    if (!f) {
        fprintf (stderr, S_PROG ": cannot write %s\n", path);
        return -1;
    }
    fprintf (f, "t_h,load_kw,solar_kw,price_per_kwh\n");
    for (size_t i = 0; i < tr->n; i++)
        fprintf (f, "%.4f,%.3f,%.3f,%.4f\n", tr->t_h[i], tr->load_kw[i], tr->solar_kw[i], tr->price[i]);
    fclose (f);
    return 0;
}

/* ------------------------------------------------------------ scoring */

typedef struct {
    const s_plant_t *plant;
    const s_trace_t *tr;
    size_t start, n;                    /* the scored window */
    double terminal_value;
} s_window_t;

static void
s_bill_start (const s_window_t *w, energy_bill_t *bill)
{
    const s_plant_t *p = w->plant;
    energy_bill_init (bill, &p->batt, p->soc0_frac * p->batt.capacity_kwh, p->dt_h, p->demand_charge,
                      (double) w->n * p->dt_h);
}

/* The bill with the energy left at the end credited (and the energy there
 * at the start charged) at the terminal value. */
static s_score_t
s_score (const s_window_t *w, const energy_bill_t *b)
{
    double soc0 = w->plant->soc0_frac * w->plant->batt.capacity_kwh;
    return (s_score_t) {
        .cost = energy_bill_total (b) - w->terminal_value * (b->soc_kwh - soc0),
        .energy_cost = b->energy_cost, .demand_cost = b->demand_cost + b->month_peak_kw * b->demand_charge_per_kw,
        .cycle_cost = b->cycle_cost, .peak_kw = b->peak_kw, .import_kwh = b->import_kwh,
        .throughput_kwh = b->throughput_kwh, .solar_used_kwh = b->solar_used_kwh, .clipped = b->clipped,
        .soc_min_kwh = b->soc_min_kwh, .soc_max_kwh = b->soc_max_kwh,
    };
}

/* Scores a rule (or, with RULE NULL, the idle battery) on the window. */
static s_score_t
s_run_rule (const s_window_t *w, const energy_rule_t *rule)
{
    energy_bill_t bill;
    s_bill_start (w, &bill);
    const s_trace_t *tr = w->tr;
    for (size_t k = w->start; k < w->start + w->n; k++) {
        double sp = rule ? energy_rule_setpoint_kw (rule, &w->plant->batt, tr->load_kw[k] - tr->solar_kw[k],
                                                    tr->price[k], bill.soc_kwh, w->plant->dt_h)
                         : 0;
        energy_bill_step (&bill, tr->load_kw[k], tr->solar_kw[k], tr->price[k], 0, sp);
    }
    return s_score (w, &bill);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* The rule's two thresholds: the best pair on the history window among the
 * tariff's prices and the 50th … 100th percentiles of the net load. */
static energy_rule_t
s_rule_tune (const s_window_t *hist)
{
    size_t n = hist->n;
    double *net = malloc (n * sizeof *net), *prices = malloc (n * sizeof *prices);
    for (size_t i = 0; i < n; i++) {
        net[i] = hist->tr->load_kw[hist->start + i] - hist->tr->solar_kw[hist->start + i];
        prices[i] = hist->tr->price[hist->start + i];
    }
    qsort (net, n, sizeof *net, s_cmp_double);
    qsort (prices, n, sizeof *prices, s_cmp_double);
    energy_rule_t best = { .charge_below_price = -1, .peak_threshold_kw = net[n - 1] };
    double best_cost = s_run_rule (hist, &best).cost;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && prices[i] == prices[i - 1])
            continue;
        for (int q = 50; q <= 100; q += 2) {
            energy_rule_t r = { .charge_below_price = prices[i],
                                .peak_threshold_kw = net[(size_t) ((n - 1) * q / 100.0)] };
            double c = s_run_rule (hist, &r).cost;
            if (c < best_cost) {
                best_cost = c;
                best = r;
            }
        }
    }
    free (net);
    free (prices);
    return best;
}

/* The rolling-horizon MPC on the window (agents/energy/controller.c, as the
 * agent runs it), with forecasts from the history before it and from what
 * each step shows as it passes. */
static int
s_run_mpc (const s_window_t *w, const s_opts_t *o, s_seed_result_t *res)
{
    const s_plant_t *p = w->plant;
    const s_trace_t *tr = w->tr;
    char err[200];
    energy_ctl_params_t cp = { .batt = p->batt, .site = p->site, .dt_h = p->dt_h, .horizon_h = o->horizon_h,
                               .demand_charge_per_kw = p->demand_charge, .month_h = (double) w->n * p->dt_h,
                               .terminal_value_per_kwh = w->terminal_value, .envelope_share = o->envelope_share,
                               .dc_scale = o->dc_scale, .history_days = 7, .envelope_window_steps = 4 };
    energy_ctl_t *ctl = energy_ctl_new (&cp, err, sizeof err);
    if (!ctl) {
        fprintf (stderr, S_PROG ": %s\n", err);
        return -1;
    }
    for (size_t k = 0; k < w->start; k++)
        energy_ctl_observe (ctl, tr->t_h[k], tr->load_kw[k], tr->solar_kw[k]);
    energy_bill_t bill;
    s_bill_start (w, &bill);
    double solve_s = 0, load_err = 0, load_sum = 0, sq_err = 0;
    size_t h = (size_t) llround (o->horizon_h / p->dt_h), end = w->start + w->n;
    for (size_t k = w->start; k < end; k++) {
        size_t n = end - k < h ? end - k : h;
        double sp, t0 = s_wall ();
        bool oracle = o->oracle != 0;   /* diagnostic: what forecast errors cost */
        int rc = energy_ctl_decide (ctl, tr->t_h[k - 1], (double) (k - w->start) * p->dt_h, bill.soc_kwh,
                                    &tr->price[k], n, oracle ? &tr->load_kw[k] : NULL,
                                    oracle ? &tr->solar_kw[k] : NULL, &sp);
        solve_s += s_wall () - t0;
        if (rc != ENERGY_OK && res->mpc_fallbacks++ == 0)
            fprintf (stderr, S_PROG ": MPC fallback at step %zu: %s\n", k, energy_ctl_error (ctl));
        if (rc == ENERGY_OK) {
            double e = energy_ctl_load_forecast (ctl)[0] - tr->load_kw[k];
            load_err += fabs (e);
            sq_err += e * e;
            load_sum += tr->load_kw[k];
        }
        energy_bill_step (&bill, tr->load_kw[k], tr->solar_kw[k], tr->price[k], 0, sp);
        energy_ctl_observe (ctl, tr->t_h[k], tr->load_kw[k], tr->solar_kw[k]);
    }
    res->score[P_MPC] = s_score (w, &bill);
    res->mpc_solve_ms = solve_s * 1e3 / (double) w->n;
    res->load_mae_pct = load_sum > 0 ? 100 * load_err / load_sum : 0;
    res->load_rmse_kw = sqrt (sq_err / (double) w->n);
    res->mpc_target_kw = energy_ctl_target_kw (ctl);
    energy_ctl_destroy (&ctl);
    return 0;
}

/* The perfect-foresight LP over the window, replayed through the bill (the
 * replay must agree with the LP's own objective: RES->bound_replay_gap).
 * With HVAC the hall's cooling is a decision too (pre-cooling within the
 * comfort band), on the load without the recorded HVAC. */
static int
s_run_bound (const s_window_t *w, bool hvac, s_seed_result_t *res)
{
    const s_plant_t *p = w->plant;
    const s_trace_t *tr = w->tr;
    char err[160];
    energy_mpc_t *mpc = energy_mpc_new (&p->batt, hvac ? &p->hvac : NULL, err, sizeof err);
    if (!mpc) {
        fprintf (stderr, S_PROG ": %s\n", err);
        return -1;
    }
    double soc0 = p->soc0_frac * p->batt.capacity_kwh;
    const double *load = hvac ? tr->base_kw : tr->load_kw;
    energy_mpc_input_t in = { .n = w->n, .dt_h = p->dt_h, .load_kw = &load[w->start],
                              .solar_kw = &tr->solar_kw[w->start], .price_per_kwh = &tr->price[w->start],
                              .ambient_c = &tr->ambient_c[w->start], .indoor_c = p->hvac_setpoint_c,
                              .soc_kwh = soc0, .demand_charge_per_kw = p->demand_charge,
                              .terminal_value_per_kwh = w->terminal_value };
    const energy_plan_t *plan;
    double t0 = s_wall ();
    int rc = energy_mpc_solve (mpc, &in, &plan);
    if (!hvac)
        res->bound_solve_ms = (s_wall () - t0) * 1e3;
    if (rc != ENERGY_OK) {
        fprintf (stderr, S_PROG ": the month LP failed: %s\n", energy_mpc_error (mpc));
        energy_mpc_destroy (&mpc);
        return -1;
    }
    energy_bill_t bill;
    s_bill_start (w, &bill);
    for (size_t i = 0; i < w->n; i++) {
        size_t k = w->start + i;
        energy_bill_step (&bill, load[k] + (hvac ? plan->hvac_kw[i] : 0), tr->solar_kw[k], tr->price[k], 0,
                          plan->power_kw[i]);
    }
    res->score[hvac ? P_BOUND_HVAC : P_BOUND] = s_score (w, &bill);
    if (!hvac)
        res->bound_replay_gap = res->score[P_BOUND].cost - (plan->cost + w->terminal_value * soc0);
    energy_mpc_destroy (&mpc);
    return 0;
}

/* How well the LP's zone model reproduces the twin's HVAC at its fixed set
 * point: mean |model − recorded| kW over the window. */
static double
s_hvac_model_err (const s_window_t *w)
{
    const energy_hvac_t *h = &w->plant->hvac;
    double sum = 0;
    for (size_t k = w->start; k < w->start + w->n; k++) {
        double need = w->tr->base_kw[k] + h->ua_kw_per_c * (w->tr->ambient_c[k] - w->plant->hvac_setpoint_c);
        double kw = fmin (h->max_kw, fabs (need) / h->cop);
        sum += fabs (kw - w->tr->hvac_kw[k]);
    }
    return sum / (double) w->n;
}

/* One seed: record, then score the four policies. */
static int
s_run_seed (const s_opts_t *o, const s_plant_t *plant, long seed, s_seed_result_t *res)
{
    s_trace_t tr = { 0 };
    memset (res, 0, sizeof *res);
    if (s_trace_record (o->factory, (uint64_t) seed, o->history_h + o->hours, plant->dt_h, &tr) < 0)
        goto fail;
    if (o->csv_dir && s_trace_csv (o->csv_dir, seed, &tr) < 0)
        goto fail;
    size_t hist = (size_t) llround (o->history_h / plant->dt_h);
    size_t n = (size_t) llround (o->hours / plant->dt_h);
    if (tr.n < hist + n) {
        fprintf (stderr, S_PROG ": the twin gave %zu epochs, %zu needed\n", tr.n, hist + n);
        goto fail;
    }
    s_window_t h = { plant, &tr, 0, hist, o->terminal_value };
    s_window_t w = { plant, &tr, hist, n, o->terminal_value };
    energy_rule_t rule = s_rule_tune (&h);
    res->rule_price = rule.charge_below_price;
    res->rule_peak_kw = rule.peak_threshold_kw;
    res->score[P_IDLE] = s_run_rule (&w, NULL);
    res->score[P_RULE] = s_run_rule (&w, &rule);
    if (s_run_mpc (&w, o, res) < 0 || s_run_bound (&w, false, res) < 0 || s_run_bound (&w, true, res) < 0)
        goto fail;
    res->hvac_model_err_kw = s_hvac_model_err (&w);
    s_trace_free (&tr);
    return 0;
fail:
    s_trace_free (&tr);
    return -1;
}

/* ------------------------------------------------------------ report */

typedef struct {
    const char *name;
    char kind;                          /* 's' string, 'd' real, 'l' whole */
    size_t off;
    double min, max;
    const char *help;
} s_opt_t;

#define S_OFF(f) offsetof (s_opts_t, f)
static const s_opt_t s_opt_table[] = {
    { "--factory", 's', S_OFF (factory), 0, 0, "plant YAML (deploy/factories/gigafactory.yaml)" },
    { "--json", 's', S_OFF (json), 0, 0, "write the figures there as flat JSON" },
    { "--csv-dir", 's', S_OFF (csv_dir), 0, 0, "also write each seed's trace as CSV there" },
    { "--hours", 'd', S_OFF (hours), 24, 8760, "scored window, one billing month (720)" },
    { "--history-h", 'd', S_OFF (history_h), 24, 8760, "history before it (168)" },
    { "--horizon-h", 'd', S_OFF (horizon_h), 1, 240, "MPC horizon (24)" },
    { "--cycle-cost", 'd', S_OFF (cycle_cost), 0, 10, "battery wear per kWh charged or discharged (0.02)" },
    { "--reserve", 'd', S_OFF (reserve_frac), 0, 1, "outage reserve, share of capacity (0.2)" },
    { "--terminal-value", 'd', S_OFF (terminal_value), 0, 10, "worth of stored energy per kWh (0.09)" },
    { "--envelope", 'd', S_OFF (envelope_share), 0, 1,
      "share of the gap to the load's high envelope kept under the peak (1)" },
    { "--dc-scale", 'd', S_OFF (dc_scale), 0.1, 100,
      "demand charge in the MPC: × horizon / rest of the month × this (2)" },
    { "--oracle", 'l', S_OFF (oracle), 0, 1, "1: the MPC gets the true load and solar (diagnostic) (0)" },
    { "--hvac-band", 'd', S_OFF (hvac_band_c), 0.1, 10,
      "comfort band ± around the HVAC set point for the HVAC bound, C (1)" },
    { "--seeds", 'l', S_OFF (seeds), 1, S_MAX_SEEDS, "seeds 1 … N (3)" },
};
#define S_N_OPTS (sizeof s_opt_table / sizeof s_opt_table[0])

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: " S_PROG " [options]\n"
                  "Scores battery dispatch (idle, rule, MPC with forecasts, perfect-foresight LP)\n"
                  "offline on load/solar/price traces recorded from the twin's baseline run.\n");
    for (size_t i = 0; i < S_N_OPTS; i++)
        fprintf (out, "  %-18s %s\n", s_opt_table[i].name, s_opt_table[i].help);
    fprintf (out, "  %-18s this text\n", "--help");
}

static int
s_parse (int argc, char **argv, s_opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            s_usage (stdout);
            exit (0);
        }
        const s_opt_t *opt = NULL;
        for (size_t j = 0; j < S_N_OPTS; j++)
            if (!strcmp (argv[i], s_opt_table[j].name))
                opt = &s_opt_table[j];
        if (!opt)
            return af_args_usage_error (S_PROG, "unknown option '%s'", argv[i]);
        if (i + 1 >= argc)
            return af_args_usage_error (S_PROG, "%s needs a value", argv[i]);
        const char *v = argv[++i];
        char *field = (char *) o + opt->off;
        if (opt->kind == 's')
            *(const char **) field = v;
        else if (opt->kind == 'd' && !af_args_double (S_PROG, opt->name, v, opt->min, opt->max, (double *) field))
            return 2;
        else if (opt->kind == 'l' && !af_args_long (S_PROG, opt->name, v, (long) opt->min, (long) opt->max, (long *) field))
            return 2;
    }
    return 0;
}

static double
s_mean (const s_seed_result_t *r, long n, size_t off_in_seed, int policy)
{
    double sum = 0;
    for (long s = 0; s < n; s++) {
        const char *base = policy >= 0 ? (const char *) &r[s].score[policy] : (const char *) &r[s];
        sum += *(const double *) (base + off_in_seed);
    }
    return sum / (double) n;
}
#define S_PMEAN(r, n, field, pol) s_mean (r, n, offsetof (s_score_t, field), pol)
#define S_SMEAN(r, n, field) s_mean (r, n, offsetof (s_seed_result_t, field), -1)

static size_t
s_clipped (const s_seed_result_t *r, long n, int policy)
{
    size_t sum = 0;
    for (long s = 0; s < n; s++)
        sum += r[s].score[policy].clipped;
    return sum;
}

static size_t
s_fallbacks (const s_seed_result_t *r, long n)
{
    size_t sum = 0;
    for (long s = 0; s < n; s++)
        sum += r[s].mpc_fallbacks;
    return sum;
}

static void
s_print (const s_opts_t *o, const s_seed_result_t *r, long n)
{
    printf ("\nenergy-bench (OFFLINE: battery policies on the twin's baseline traces, %s,\n"
            "%.0f h scored after %.0f h of history, %ld seed(s), means shown)\n\n",
            o->factory, o->hours, o->history_h, n);
    printf ("%-10s %12s %12s %12s %10s %10s %11s %9s %8s\n", "policy", "cost", "energy", "demand", "wear",
            "peak_kW", "import_MWh", "thru_MWh", "clipped");
    for (int p = 0; p < P_COUNT; p++)
        printf ("%-10s %12.0f %12.0f %12.0f %10.0f %10.1f %11.1f %9.1f %8.1f\n", s_policy_name[p],
                S_PMEAN (r, n, cost, p), S_PMEAN (r, n, energy_cost, p), S_PMEAN (r, n, demand_cost, p),
                S_PMEAN (r, n, cycle_cost, p), S_PMEAN (r, n, peak_kw, p),
                S_PMEAN (r, n, import_kwh, p) / 1e3, S_PMEAN (r, n, throughput_kwh, p) / 1e3,
                (double) s_clipped (r, n, p) / (double) n);
    printf ("\nper seed: cost  idle / rule / mpc / bound   ratio mpc/bound  rule/bound  captured\n");
    for (long s = 0; s < n; s++) {
        const s_score_t *sc = r[s].score;
        double cap = (sc[P_IDLE].cost - sc[P_MPC].cost) / (sc[P_IDLE].cost - sc[P_BOUND].cost);
        printf ("  seed %-2ld %9.0f %9.0f %9.0f %9.0f   %8.4f        %8.4f   %6.1f %%\n", s + 1,
                sc[P_IDLE].cost, sc[P_RULE].cost, sc[P_MPC].cost, sc[P_BOUND].cost,
                sc[P_MPC].cost / sc[P_BOUND].cost, sc[P_RULE].cost / sc[P_BOUND].cost, 100 * cap);
    }
    printf ("\nMPC: %.2f ms per decision (%.0f h horizon), %.1f fallbacks, peak target %.0f kW;\n"
            "one-step load forecast error: MAE %.1f %%, RMSE %.1f kW; month LP %.0f ms;\n"
            "rule (seed 1): charge at price <= %.3f, shave above %.0f kW;\n"
            "bound_hvac = bound with HVAC pre-cooling within ±%.1f C: %+.2f %% vs bound (zone model vs the\n"
            "twin's HVAC at its set point: mean error %.2f kW)\n",
            S_SMEAN (r, n, mpc_solve_ms), o->horizon_h, (double) s_fallbacks (r, n) / (double) n,
            S_SMEAN (r, n, mpc_target_kw), S_SMEAN (r, n, load_mae_pct), S_SMEAN (r, n, load_rmse_kw),
            S_SMEAN (r, n, bound_solve_ms), r[0].rule_price, r[0].rule_peak_kw, o->hvac_band_c,
            100 * (S_PMEAN (r, n, cost, P_BOUND_HVAC) / S_PMEAN (r, n, cost, P_BOUND) - 1),
            S_SMEAN (r, n, hvac_model_err_kw));
}

static int
s_json (const s_opts_t *o, const s_seed_result_t *r, long n)
{
    FILE *f = fopen (o->json, "w");
    if (!f) {
        fprintf (stderr, S_PROG ": cannot write %s\n", o->json);
        return -1;
    }
    double ratio = 0, ratio_max = 0, rule_ratio = 0, captured = 0;
    for (long s = 0; s < n; s++) {
        const s_score_t *sc = r[s].score;
        double q = sc[P_MPC].cost / sc[P_BOUND].cost;
        ratio += q / (double) n;
        ratio_max = fmax (ratio_max, q);
        rule_ratio += sc[P_RULE].cost / sc[P_BOUND].cost / (double) n;
        captured += 100 * (sc[P_IDLE].cost - sc[P_MPC].cost) / (sc[P_IDLE].cost - sc[P_BOUND].cost) / (double) n;
    }
    fprintf (f, "{\"offline_on_twin_traces\": 1, \"seeds\": %ld, \"hours\": %g, \"history_h\": %g, "
                "\"horizon_h\": %g, \"cycle_cost_per_kwh\": %g, \"reserve_share\": %g,\n",
             n, o->hours, o->history_h, o->horizon_h, o->cycle_cost, o->reserve_frac);
    fprintf (f, " \"ratio_vs_optimum\": %.6f, \"ratio_vs_optimum_max\": %.6f, \"rule_ratio_vs_optimum\": %.6f,"
                " \"mpc_savings_captured_pct\": %.3f,\n", ratio, ratio_max, rule_ratio, captured);
    for (int p = 0; p < P_COUNT; p++)
        fprintf (f, " \"%s_cost\": %.2f, \"%s_energy_cost\": %.2f, \"%s_demand_cost\": %.2f, \"%s_wear_cost\": %.2f,"
                    " \"%s_peak_kw\": %.2f, \"%s_import_kwh\": %.1f, \"%s_throughput_kwh\": %.1f,\n",
                 s_policy_name[p], S_PMEAN (r, n, cost, p), s_policy_name[p], S_PMEAN (r, n, energy_cost, p),
                 s_policy_name[p], S_PMEAN (r, n, demand_cost, p), s_policy_name[p], S_PMEAN (r, n, cycle_cost, p),
                 s_policy_name[p], S_PMEAN (r, n, peak_kw, p), s_policy_name[p], S_PMEAN (r, n, import_kwh, p),
                 s_policy_name[p], S_PMEAN (r, n, throughput_kwh, p));
    double idle = S_PMEAN (r, n, cost, P_IDLE);
    fprintf (f, " \"mpc_cost_change_pct\": %.3f, \"bound_cost_change_pct\": %.3f, \"rule_cost_change_pct\": %.3f,\n",
             100 * (S_PMEAN (r, n, cost, P_MPC) / idle - 1), 100 * (S_PMEAN (r, n, cost, P_BOUND) / idle - 1),
             100 * (S_PMEAN (r, n, cost, P_RULE) / idle - 1));
    fprintf (f, " \"peak_kw_change_pct\": %.3f, \"mpc_solve_ms\": %.3f, \"bound_solve_ms\": %.1f,"
                " \"mpc_fallbacks\": %zu, \"load_forecast_mae_pct\": %.3f, \"load_forecast_rmse_kw\": %.3f,"
                " \"mpc_peak_target_kw\": %.2f, \"oracle_forecasts\": %ld,\n"
                " \"hvac_band_c\": %g, \"hvac_bound_change_pct\": %.3f, \"hvac_model_err_kw\": %.3f}\n",
             100 * (S_PMEAN (r, n, peak_kw, P_MPC) / S_PMEAN (r, n, peak_kw, P_IDLE) - 1),
             S_SMEAN (r, n, mpc_solve_ms), S_SMEAN (r, n, bound_solve_ms), s_fallbacks (r, n),
             S_SMEAN (r, n, load_mae_pct), S_SMEAN (r, n, load_rmse_kw), S_SMEAN (r, n, mpc_target_kw), o->oracle,
             o->hvac_band_c, 100 * (S_PMEAN (r, n, cost, P_BOUND_HVAC) / S_PMEAN (r, n, cost, P_BOUND) - 1),
             S_SMEAN (r, n, hvac_model_err_kw));
    fclose (f);
    return 0;
}

int
main (int argc, char **argv)
{
    s_opts_t o = { .factory = "deploy/factories/gigafactory.yaml", .hours = 720, .history_h = 168,
                   .horizon_h = 24, .cycle_cost = 0.02, .reserve_frac = 0.2, .terminal_value = 0.09,
                   .envelope_share = 1, .dc_scale = 2, .hvac_band_c = 1, .seeds = 3 };
    int rc = s_parse (argc, argv, &o);
    if (rc)
        return rc;
    s_plant_t plant;
    if (s_plant_read (o.factory, &o, &plant) < 0)
        return 1;
    static s_seed_result_t res[S_MAX_SEEDS];
    for (long s = 0; s < o.seeds; s++) {
        fprintf (stderr, S_PROG ": seed %ld of %ld …\n", s + 1, o.seeds);
        if (s_run_seed (&o, &plant, s + 1, &res[s]) < 0)
            return 1;
        if (fabs (res[s].bound_replay_gap) > 1e-3 * fabs (res[s].score[P_BOUND].cost))
            fprintf (stderr, S_PROG ": warning: the month LP's replay differs from its objective by %.2f\n",
                     res[s].bound_replay_gap);
    }
    s_print (&o, res, o.seeds);
    if (o.json && s_json (&o, res, o.seeds) < 0)
        return 1;
    return 0;
}
