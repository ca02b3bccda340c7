/* test_energy_forecast.c — load and solar forecasts, the rule policy and the
 * bill that scores every policy. */

#include <criterion/criterion.h>
#include <math.h>

#include "agents/energy/bill.h"
#include "agents/energy/forecast.h"
#include "agents/energy/rule.h"

static const energy_solar_site_t SITE = { .peak_kw = 400, .latitude_deg = 52, .tilt_deg = 23.44,
                                          .day_h = 24, .year_days = 365 };

static double
s_load (double t_h)
{
    return 500 + 200 * sin (2 * M_PI * fmod (t_h, 24) / 24);
}

Test (energy_forecast, clear_sky_shape)
{
    /* Midsummer noon at 52° N: elevation 61.4°, so sin ≈ 0.878. */
    double noon = 171 * 24 + 12;
    cr_assert_float_eq (energy_clear_sky_kw (&SITE, noon), 400 * sin (61.44 * M_PI / 180), 2.0);
    cr_assert_eq (energy_clear_sky_kw (&SITE, 171 * 24 + 0), 0, "dark at midnight");
    /* Noon beats 9 h, and winter noon is lower than summer noon. */
    cr_assert_gt (energy_clear_sky_kw (&SITE, noon), energy_clear_sky_kw (&SITE, noon - 3));
    cr_assert_gt (energy_clear_sky_kw (&SITE, noon), energy_clear_sky_kw (&SITE, 355 * 24 + 12));
}

Test (energy_forecast, seasonal_naive_and_weather)
{
    energy_forecast_t *f = energy_forecast_new (&SITE, 0.25, 7);
    cr_assert_not_null (f);
    double lf[96], sf[96];
    double t0 = 100 * 24;
    /* Less than a day of history: no forecast. */
    cr_assert_eq (energy_forecast_observe (f, t0, s_load (t0), 0), 0);
    cr_assert_eq (energy_forecast_predict (f, t0, 4, lf, sf), -1);
    /* Three days of a daily load; the sun at 60 % of clear sky each day. */
    double t = t0;
    for (int k = 1; k < 3 * 96; k++) {
        t = t0 + k * 0.25;
        cr_assert_eq (energy_forecast_observe (f, t, s_load (t), 0.6 * energy_clear_sky_kw (&SITE, t)), 0);
    }
    cr_assert_eq (energy_forecast_predict (f, t, 96, lf, sf), 0);
    for (int i = 0; i < 96; i++) {
        double ti = t + (i + 1) * 0.25;
        cr_assert_float_eq (lf[i], s_load (ti), 1e-9, "load at step %d", i);
        cr_assert_float_eq (sf[i], 0.6 * energy_clear_sky_kw (&SITE, ti), 1e-6, "solar at step %d", i);
    }
    /* The load jumps 100 kW for the last hour: the forecast starts near the
     * new level and fades back to the profile. */
    for (int k = 0; k < 4; k++) {
        t += 0.25;
        energy_forecast_observe (f, t, s_load (t) + 100, 0.6 * energy_clear_sky_kw (&SITE, t));
    }
    cr_assert_eq (energy_forecast_predict (f, t, 96, lf, sf), 0);
    double d0 = lf[0] - s_load (t + 0.25), d_half = lf[47] - s_load (t + 12);
    cr_assert (d0 > 80 && d0 <= 100, "first step deviation %g", d0);
    cr_assert (fabs (d_half) < 5, "deviation half a day ahead %g", d_half);
    energy_forecast_destroy (&f);
    cr_assert_null (f);
}

Test (energy_forecast, bad_observations_refused)
{
    energy_forecast_t *f = energy_forecast_new (&SITE, 0.25, 2);
    cr_assert_eq (energy_forecast_observe (f, 0, NAN, 0), -1);
    cr_assert_eq (energy_forecast_observe (f, 0.25, 100, -5), -1);
    cr_assert_eq (energy_forecast_observe (f, INFINITY, 100, 0), -1);
    cr_assert_eq (energy_forecast_observe (f, 1e300, 100, 0), -1, "absurd time");
    cr_assert_eq (energy_forecast_observe (f, 10, 100, 0), 0);
    cr_assert_eq (energy_forecast_observe (f, 9, 100, 0), -1, "out of order");
    cr_assert_eq (energy_forecast_rejected (f), 5);
    double l[2], s[2];
    cr_assert_eq (energy_forecast_predict (f, 1e300, 2, l, s), -1);
    energy_forecast_destroy (&f);
    cr_assert_null (energy_forecast_new (&SITE, 0.7, 2), "0.7 h does not divide a day");
    cr_assert_null (energy_forecast_new (&SITE, 0.25, 0));
    cr_assert_null (energy_forecast_new (NULL, 0.25, 1));
}

static const energy_battery_t BATT = { .capacity_kwh = 100, .max_charge_kw = 50, .max_discharge_kw = 50,
                                       .eff_charge = 0.9, .eff_discharge = 0.9, .min_soc = 0.1,
                                       .reserve_kwh = 20, .cycle_cost_per_kwh = 0.01 };

Test (energy_rule, thresholds)
{
    energy_rule_t r = { .charge_below_price = 0.1, .peak_threshold_kw = 300 };
    /* Shave the excess over the threshold. */
    cr_assert_float_eq (energy_rule_setpoint_kw (&r, &BATT, 330, 0.3, 80, 0.25), 30, 1e-9);
    /* Cheap: charge, but not above the threshold. */
    cr_assert_float_eq (energy_rule_setpoint_kw (&r, &BATT, 280, 0.05, 50, 0.25), -20, 1e-9);
    cr_assert_float_eq (energy_rule_setpoint_kw (&r, &BATT, 100, 0.05, 50, 0.25), -50, 1e-9);
    /* Surplus solar is stored. */
    cr_assert_float_eq (energy_rule_setpoint_kw (&r, &BATT, -10, 0.3, 50, 0.25), -10, 1e-9);
    /* Neither: idle. At the reserve: no discharge. */
    cr_assert_float_eq (energy_rule_setpoint_kw (&r, &BATT, 200, 0.3, 50, 0.25), 0, 1e-9);
    cr_assert_float_eq (energy_rule_setpoint_kw (&r, &BATT, 400, 0.3, 20, 0.25), 0, 1e-9);
    /* Bad data: the fallback (hold, or charge back to the reserve). */
    cr_assert_float_eq (energy_rule_setpoint_kw (&r, &BATT, NAN, 0.3, 50, 0.25), 0, 1e-9);
    cr_assert_lt (energy_rule_setpoint_kw (&r, &BATT, 100, NAN, 10, 0.25), 0);
}

Test (energy_bill, clips_and_charges)
{
    energy_bill_t b;
    energy_bill_init (&b, &BATT, 100, 1, 10, 2);
    /* 100 kW asked, 50 kW rating: clipped. SoC 100 − 50/0.9. */
    double kw = energy_bill_step (&b, 200, 0, 0.2, 0, 100);
    cr_assert_float_eq (kw, 50, 1e-9);
    cr_assert_eq (b.clipped, 1);
    cr_assert_float_eq (b.soc_kwh, 100 - 50 / 0.9, 1e-9);
    /* Only (soc − floor) × η is left to give. */
    double left = (b.soc_kwh - 20) * 0.9;
    kw = energy_bill_step (&b, 200, 0, 0.2, 0, 50);
    cr_assert_float_eq (kw, left, 1e-9);
    cr_assert_float_eq (b.soc_kwh, 20, 1e-9);
    /* Month 1 closed with a peak of 200 − left; month 2 starts now. */
    energy_bill_step (&b, 100, 0, 0.1, 0, -10);
    cr_assert_float_eq (b.demand_cost, 10 * (200 - left), 1e-9);
    cr_assert_float_eq (b.soc_kwh, 20 + 9, 1e-9);
    double energy = (150 + (200 - left)) * 0.2 + 110 * 0.1;
    double wear = (50 + left + 10) * 0.01;
    cr_assert_float_eq (energy_bill_total (&b), energy + 10 * (200 - left) + 10 * 110 + wear, 1e-9);
    cr_assert_geq (b.soc_min_kwh, 20 - 1e-9);
}
