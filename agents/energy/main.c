/*  autofab-energy — the energy agent on the bus (issue 15; docs/energy.md).
 *
 *  It takes over the plant's energy concern (capability owns:energy, so the
 *  conventional practice — battery idle — stops) and dispatches the battery
 *  with the model-predictive controller of controller.c: every step of the
 *  utility's demand interval (15 min) it feeds the step's mean load and
 *  solar, as the meters showed them, to the forecaster, solves the LP over
 *  the next day with GLPK against the tariff of the plant description, and
 *  sends the first step's set point (`set_battery power_kw=…`).  It learns
 *  the plant only from the `describe` request and telemetry: battery
 *  ratings, tariff and solar array from the description, load, solar and
 *  state of charge from tel.<factory>.<cell>.twin.energy.
 *
 *  When the solve fails or the data are bad the controller's safe set point
 *  (hold at the reserve) goes out and an alarm is raised once; on a grid
 *  outage (energy/grid_up = 0, where the plant reports it) the battery
 *  carries the load as far as its reserve allows.  A plant without a
 *  battery leaves it nothing to do: it says so and only acknowledges.
 *
 *    autofab-energy [--broker EP] [--factory F] [--cell C] [--twin NAME]
 *                   [--name NAME] [--horizon-h H] [--reserve PCT]
 */
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_args.h"
#include "af_log.h"
#include "agents/energy/controller.h"
#include "agents/ctl/ctl.h"

#define S_PROG "autofab-energy"
/* The billing month the twin's demand charge uses (energy.c: 730 h). */
#define S_MONTH_H 730.0
/* A set point change smaller than this is not worth a command. */
#define S_DEADBAND_KW 1.0

typedef struct {
    const char *broker, *factory, *cell, *twin, *name;
    double horizon_h, reserve_pct, cycle_cost;
} s_opts_t;

typedef struct {
    s_opts_t o;
    bool ready, idle;                   /* description read; no battery */
    energy_ctl_t *mpc;
    energy_battery_t batt;
    double step_s, step_h;              /* the decision step: the demand interval */
    double price_default;
    struct { double from_h, to_h, price; } tou[16];
    int n_tou;
    double step_start_s, load_sum, solar_sum;
    int step_n;
    double setpoint_kw;
    bool alarmed;
    unsigned long solves, fallbacks, outages;
} s_agent_t;

/* ------------------------------------------------------------ the plant */

static double
s_num (json_object *obj, const char *key, double dflt)
{
    json_object *v;
    if (!obj || !json_object_object_get_ex (obj, key, &v))
        return dflt;
    double x = json_object_get_double (v);
    return isfinite (x) ? x : dflt;
}

/* The tariff's price at plant time T_S (hours of the day; periods may wrap
 * midnight), as energy.c prices it. */
static double
s_price (const s_agent_t *a, double t_s)
{
    double h = fmod (t_s / 3600.0, 24.0);
    for (int i = 0; i < a->n_tou; i++) {
        double from = a->tou[i].from_h, to = a->tou[i].to_h;
        bool in = from <= to ? h >= from && h < to : h >= from || h < to;
        if (in)
            return a->tou[i].price;
    }
    return a->price_default;
}

/* Reads the battery, tariff and solar array from the plant description. */
static int
s_read_plant (s_agent_t *a, const char *text, char *err, size_t err_len)
{
    json_object *root = json_tokener_parse (text), *e = NULL, *tou = NULL;
    if (!root || !json_object_object_get_ex (root, "energy", &e)) {
        snprintf (err, err_len, "the plant description has no energy section");
        json_object_put (root);
        return -1;
    }
    double cap = s_num (e, "battery_capacity_kwh", 0), kw = s_num (e, "battery_max_kw", 0);
    double leg = sqrt (fmin (1, fmax (0.01, s_num (e, "battery_round_trip_eff", 0.9))));
    a->batt = (energy_battery_t) { .capacity_kwh = cap, .max_charge_kw = kw, .max_discharge_kw = kw,
                                   .eff_charge = leg, .eff_discharge = leg,
                                   .min_soc = fmin (1, fmax (0, s_num (e, "battery_min_soc", 0.1))),
                                   .reserve_kwh = a->o.reserve_pct / 100.0 * cap,
                                   .cycle_cost_per_kwh = s_num (e, "battery_cycle_cost_per_kwh", a->o.cycle_cost) };
    a->price_default = s_num (e, "price_per_kwh", 0.15);
    a->n_tou = 0;
    if (json_object_object_get_ex (e, "tou", &tou) && json_object_is_type (tou, json_type_array))
        for (size_t i = 0; i < json_object_array_length (tou) && a->n_tou < 16; i++) {
            json_object *p = json_object_array_get_idx (tou, i);
            a->tou[a->n_tou].from_h = s_num (p, "from_h", 0);
            a->tou[a->n_tou].to_h = s_num (p, "to_h", 0);
            a->tou[a->n_tou].price = s_num (p, "price_per_kwh", a->price_default);
            a->n_tou++;
        }
    /* Energy left at the horizon is worth at least the cheapest price it
     * could be bought back at. */
    double cheapest = a->price_default;
    for (int i = 0; i < a->n_tou; i++)
        cheapest = fmin (cheapest, a->tou[i].price);
    a->step_s = 60.0 * s_num (e, "demand_interval_min", 15);
    if (!(a->step_s >= 60))
        a->step_s = 900;
    a->step_h = a->step_s / 3600.0;
    energy_ctl_params_t cp = {
        .batt = a->batt,
        .site = { .peak_kw = s_num (e, "solar_peak_kw", 0), .latitude_deg = s_num (e, "latitude_deg", 45),
                  .tilt_deg = 23.44, .day_h = 24, .year_days = 365 },
        .dt_h = a->step_h, .horizon_h = a->o.horizon_h,
        .demand_charge_per_kw = s_num (e, "demand_charge_per_kw", 0),
        .month_h = s_num (e, "billing_month_h", S_MONTH_H),
        .terminal_value_per_kwh = cheapest, .envelope_share = 1, .dc_scale = 2,
        .history_days = 7, .envelope_window_steps = 4,
    };
    json_object_put (root);
    if (cap <= 0 || kw <= 0) {
        a->idle = true;
        return 0;
    }
    a->mpc = energy_ctl_new (&cp, err, err_len);
    return a->mpc ? 0 : -1;
}

/* ------------------------------------------------------------ each epoch */

static void
s_set_battery (s_agent_t *a, ctl_t *ctl, double kw)
{
    if (fabs (kw - a->setpoint_kw) < S_DEADBAND_KW && !(kw == 0 && a->setpoint_kw != 0))
        return;
    ctl_param_t p = { "power_kw", NULL, kw };
    if (ctl_command (ctl, "set_battery", &p, 1, NULL, 0) == 0)
        a->setpoint_kw = kw;
}

/* The end of a decision step: the step's means go to the forecaster, the
 * LP decides the next step. */
static void
s_decide (s_agent_t *a, ctl_t *ctl, double t_s)
{
    double t_h = t_s / 3600.0;
    energy_ctl_observe (a->mpc, t_h, a->load_sum / a->step_n, a->solar_sum / a->step_n);
    a->load_sum = a->solar_sum = 0;
    a->step_n = 0;
    a->step_start_s = t_s;
    double soc_kwh = ctl_metric (ctl, "energy", "battery_soc", NAN) * a->batt.capacity_kwh;
    size_t n = (size_t) llround (a->o.horizon_h / a->step_h);
    double price[24 * 31 * 4 + 1];
    if (n > sizeof price / sizeof price[0])
        n = sizeof price / sizeof price[0];
    for (size_t k = 0; k < n; k++)
        price[k] = s_price (a, t_s + (double) k * a->step_s);
    double month_h = fmod (t_h, S_MONTH_H), kw;
    if (fmod (t_h, S_MONTH_H) < a->step_h)
        energy_ctl_new_month (a->mpc);
    int rc = energy_ctl_decide (a->mpc, t_h, month_h, soc_kwh, price, n, NULL, NULL, &kw);
    a->solves++;
    if (rc != ENERGY_OK) {
        a->fallbacks++;
        if (!a->alarmed) {
            af_warn (S_PROG ": the battery holds its reserve: %s (later fallbacks are only counted)",
                     energy_ctl_error (a->mpc));
            a->alarmed = true;
        }
    }
    s_set_battery (a, ctl, kw);
}

static void
s_on_epoch (ctl_t *ctl, const ctl_tick_t *tick, void *arg)
{
    s_agent_t *a = arg;
    if (!a->ready) {
        char err[300];
        const char *text = ctl_describe (ctl, err, sizeof err);
        if (!text || s_read_plant (a, text, err, sizeof err) != 0) {
            af_error (S_PROG ": %s; the battery stays as it is", err);
            a->idle = true;
        }
        else if (a->idle)
            af_info (S_PROG ": the plant has no battery: nothing to dispatch");
        a->ready = true;
        a->step_start_s = tick->t_s;
    }
    if (a->idle)
        return;
    double load = ctl_metric (ctl, "energy", "load_kw", NAN), solar = ctl_metric (ctl, "energy", "solar_kw", NAN);
    if (ctl_metric (ctl, "energy", "grid_up", 1) < 0.5) {
        /* Outage: the battery carries the load down to its floor. */
        double kw, ride_h;
        double soc_kwh = ctl_metric (ctl, "energy", "battery_soc", 0) * a->batt.capacity_kwh;
        if (energy_outage_setpoint (&a->batt, soc_kwh, fmax (0, load - solar), tick->epoch_s / 3600.0, &kw,
                                    &ride_h) >= 0)
            s_set_battery (a, ctl, kw);
        a->outages++;
        return;
    }
    if (isfinite (load) && isfinite (solar)) {
        a->load_sum += load;
        a->solar_sum += solar;
        a->step_n++;
    }
    if (tick->t_s - a->step_start_s >= a->step_s - 1e-6 && a->step_n > 0)
        s_decide (a, ctl, tick->t_s);
}

/* ------------------------------------------------------------ main */

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: " S_PROG " [--broker EP] [--factory F] [--cell C] [--twin NAME] [--name NAME]\n"
             "                      [--horizon-h H] [--reserve PCT] [--log-level LEVEL]\n"
             "The energy agent: takes over the plant's energy concern and dispatches the\n"
             "battery with a model-predictive controller (an LP over the horizon, GLPK)\n"
             "against the tariff and the demand charge (docs/energy.md).\n"
             "  --broker EP     broker control endpoint [$AUTOFAB_BROKER or tcp://127.0.0.1:5550]\n"
             "  --factory F     factory name in topics [factory]\n"
             "  --cell C        the plant's cell [plant]\n"
             "  --twin NAME     the plant service [twin]\n"
             "  --name NAME     this agent's name [energy]\n"
             "  --horizon-h H   look-ahead of each solve, hours [24]\n"
             "  --reserve PCT   outage reserve kept in the battery, %% of capacity [20]\n");
}

static int
s_parse (s_opts_t *o, int argc, char **argv)
{
    static const struct option longs[] = {
        { "broker", required_argument, NULL, 'b' }, { "factory", required_argument, NULL, 'f' },
        { "cell", required_argument, NULL, 'c' },   { "twin", required_argument, NULL, 't' },
        { "name", required_argument, NULL, 'n' },   { "horizon-h", required_argument, NULL, 'H' },
        { "reserve", required_argument, NULL, 'r' }, { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    int c;
    opterr = 0;
    while ((c = getopt_long (argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'b': o->broker = optarg; break;
        case 'f': o->factory = optarg; break;
        case 'c': o->cell = optarg; break;
        case 't': o->twin = optarg; break;
        case 'n': o->name = optarg; break;
        case 'H':
            if (!af_args_double (S_PROG, "--horizon-h", optarg, 0.5, 24 * 31, &o->horizon_h))
                return 2;
            break;
        case 'r':
            if (!af_args_double (S_PROG, "--reserve", optarg, 0, 100, &o->reserve_pct))
                return 2;
            break;
        case 'l':
            if (!af_args_log_level (S_PROG, optarg))
                return 2;
            break;
        case 'h': return -1;
        default:
            return af_args_usage_error (S_PROG, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error (S_PROG, "unexpected argument '%s'", argv[optind]);
    return 0;
}

int
main (int argc, char **argv)
{
    af_log_init (S_PROG);
    /* Wear per kWh through the battery where the plant description gives
     * none: 0.02 / kWh, as bench-energy-offline assumes (docs/energy.md). */
    s_agent_t a = { .o = { .horizon_h = 24, .reserve_pct = 20, .cycle_cost = 0.02 } };
    int rc = s_parse (&a.o, argc, argv);
    if (rc == -1) {
        s_usage (stdout);
        return 0;
    }
    if (rc)
        return rc;
    static const char *const owns[] = { "energy", NULL };
    ctl_opts_t opts = { .prog = S_PROG, .name = a.o.name, .kind = "energy", .broker = a.o.broker,
                        .factory = a.o.factory, .cell = a.o.cell, .twin = a.o.twin, .owns = owns,
                        .on_epoch = s_on_epoch, .arg = &a };
    char err[300];
    ctl_t *ctl = ctl_new (&opts, err, sizeof err);
    if (!ctl) {
        fprintf (stderr, S_PROG ": %s\n", err);
        return 1;
    }
    rc = ctl_run (ctl);
    af_info (S_PROG ": %lu solves, %lu fallbacks to the reserve, %lu outage epochs", a.solves, a.fallbacks,
             a.outages);
    ctl_destroy (&ctl);
    energy_ctl_destroy (&a.mpc);
    return rc;
}
