/* test_energy_controller.c — the MPC loop the agent runs: a week of
 * decisions within every limit, a committed peak that noise does not
 * ratchet, and the fallback when data go bad. */

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "agents/energy/bill.h"
#include "agents/energy/controller.h"

static energy_ctl_params_t
s_params (void)
{
    return (energy_ctl_params_t) {
        .batt = { .capacity_kwh = 400, .max_charge_kw = 100, .max_discharge_kw = 100, .eff_charge = 0.95,
                  .eff_discharge = 0.95, .min_soc = 0.1, .reserve_kwh = 80, .cycle_cost_per_kwh = 0.02 },
        .site = { .peak_kw = 100, .latitude_deg = 52, .tilt_deg = 23.44, .day_h = 24, .year_days = 365 },
        .dt_h = 0.25, .horizon_h = 12, .demand_charge_per_kw = 14, .month_h = 720,
        .terminal_value_per_kwh = 0.09, .envelope_share = 1, .dc_scale = 2, .history_days = 7,
        .envelope_window_steps = 4 };
}

static double
s_price (double t_h)
{
    double h = fmod (t_h, 24);
    return h >= 17 && h < 21 ? 0.31 : h >= 23 || h < 6 ? 0.09 : 0.14;
}

/* Load: a day shape plus uniform noise of ±NOISE kW (bounded, as a plant's is). */
static double
s_load (double t_h, double noise)
{
    double h = fmod (t_h, 24);
    return (h >= 6 && h < 22 ? 300 : 150) + noise * (2.0 * rand () / RAND_MAX - 1);
}

Test (energy_ctl, week_within_limits, .timeout = 120)
{
    char err[200];
    energy_ctl_params_t p = s_params ();
    p.month_h = 168;                    /* the test bills one week */
    energy_ctl_t *c = energy_ctl_new (&p, err, sizeof err);
    cr_assert_not_null (c, "%s", err);
    srand (3);
    double price[48], sp;
    /* Before a day of history there is no forecast: fallback, counted. */
    energy_ctl_observe (c, 0, 200, 0);
    for (int i = 0; i < 48; i++)
        price[i] = s_price (0.25 * (i + 1));
    cr_assert_eq (energy_ctl_decide (c, 0, 0, 200, price, 48, NULL, NULL, &sp), ENERGY_EBADDATA);
    cr_assert_float_eq (sp, 0, 1e-9);
    cr_assert_eq (energy_ctl_fallbacks (c), 1);
    for (int k = 1; k < 2 * 96; k++)
        energy_ctl_observe (c, 0.25 * k, s_load (0.25 * k, 40), energy_clear_sky_kw (&p.site, 0.25 * k) * 0.5);
    energy_bill_t bill, idle;
    energy_bill_init (&bill, &p.batt, 200, 0.25, 14, 168);
    energy_bill_init (&idle, &p.batt, 200, 0.25, 14, 168);
    for (int k = 2 * 96; k < 9 * 96; k++) {
        double t = 0.25 * k, load = s_load (t, 40), solar = energy_clear_sky_kw (&p.site, t) * 0.5;
        for (int i = 0; i < 48; i++)
            price[i] = s_price (t + 0.25 * i);
        int rc = energy_ctl_decide (c, t - 0.25, t - 48, bill.soc_kwh, price, 48, NULL, NULL, &sp);
        cr_assert_eq (rc, ENERGY_OK, "step %d: %s", k, energy_ctl_error (c));
        cr_assert_leq (fabs (sp), 100 + 1e-6);
        energy_bill_step (&bill, load, solar, price[0], 0, sp);
        energy_bill_step (&idle, load, solar, price[0], 0, 0);
        energy_ctl_observe (c, t, load, solar);
        cr_assert_geq (bill.soc_kwh, 80 - 1e-6, "reserve kept");
        cr_assert_leq (bill.soc_kwh, 400 + 1e-6);
    }
    /* Robust peak: the realised peak stays within a few kW of the committed
     * target (the envelope seen in the history is a sample maximum of the
     * ±40 kW noise, so a little can still get through; without it a step
     * could overshoot by up to 80 kW). */
    cr_assert_leq (bill.peak_kw, energy_ctl_target_kw (c) + 10, "peak %g above target %g", bill.peak_kw,
                   energy_ctl_target_kw (c));
    cr_assert_lt (energy_bill_total (&bill), energy_bill_total (&idle));
    cr_assert_eq (bill.clipped, 0);
    energy_ctl_destroy (&c);
    cr_assert_null (c);
}

Test (energy_ctl, bad_price_or_bad_params)
{
    char err[200];
    energy_ctl_params_t p = s_params ();
    energy_ctl_t *c = energy_ctl_new (&p, err, sizeof err);
    for (int k = 0; k < 2 * 96; k++)
        energy_ctl_observe (c, 0.25 * k, 200, 0);
    double price[4] = { 0.1, NAN, 0.1, 0.1 }, sp = 99;
    cr_assert_eq (energy_ctl_decide (c, 47.75, 0, 60, price, 4, NULL, NULL, &sp), ENERGY_EBADDATA);
    cr_assert_lt (sp, 0, "below the reserve: charge back towards it");
    cr_assert_str_not_empty (energy_ctl_error (c));
    cr_assert_eq (energy_ctl_decide (c, 47.75, 0, 200, NULL, 4, NULL, NULL, &sp), ENERGY_EBADDATA);
    cr_assert_float_eq (sp, 0, 1e-9, "hold at or above the reserve");
    cr_assert_eq (energy_ctl_decide (c, 47.75, 0, 200, price, 1000, NULL, NULL, &sp), ENERGY_EBADDATA,
                  "longer than the horizon");
    price[1] = 0.2;
    cr_assert_eq (energy_ctl_decide (c, 47.75, 0, 200, price, 4, NULL, NULL, &sp), ENERGY_OK,
                  "%s", energy_ctl_error (c));
    cr_assert_eq (energy_ctl_fallbacks (c), 3);
    energy_ctl_destroy (&c);
    p.horizon_h = 0;
    cr_assert_null (energy_ctl_new (&p, err, sizeof err));
    p = s_params ();
    p.dt_h = 0.7;
    cr_assert_null (energy_ctl_new (&p, err, sizeof err), "0.7 h does not divide the day");
}

/* Outage: the reserve is there to be used; shed when power or energy run out. */
Test (energy_ctl, outage_carries_critical_load)
{
    energy_battery_t b = s_params ().batt;      /* 400 kWh, 100 kW, 0.95 per leg, min SoC 10 % */
    double sp, hours;
    cr_assert_eq (energy_outage_setpoint (&b, 200, 60, 0.25, &sp, &hours), 0);
    cr_assert_float_eq (sp, 60, 1e-9);
    cr_assert_float_eq (hours, (200 - 40) * 0.95 / 60, 1e-9);
    /* Above the power rating: give 100 kW and ask to shed the rest. */
    cr_assert_eq (energy_outage_setpoint (&b, 200, 150, 0.25, &sp, &hours), 1);
    cr_assert_float_eq (sp, 100, 1e-9);
    /* Almost empty: 5 kWh usable × 0.95 in a quarter hour is 19 kW. */
    cr_assert_eq (energy_outage_setpoint (&b, 45, 60, 0.25, &sp, &hours), 1);
    cr_assert_float_eq (sp, 19, 1e-9);
    cr_assert_eq (energy_outage_setpoint (&b, 30, 60, 0.25, &sp, &hours), 1, "at min SoC");
    cr_assert_float_eq (sp, 0, 1e-9);
    cr_assert_eq (energy_outage_setpoint (&b, 200, NAN, 0.25, &sp, &hours), -1);
    cr_assert_float_eq (sp, 0, 1e-9);
    cr_assert_eq (energy_outage_setpoint (&b, 200, 0, 0.25, &sp, &hours), 0);
    cr_assert (isinf (hours));
}
