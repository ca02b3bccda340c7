/* test_energy_mpc.c — the battery / HVAC LP: hand-computed optima, a month
 * of rolling-horizon dispatch that breaks no limit, and the safe fallback
 * on bad data. */

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "agents/energy/bill.h"
#include "agents/energy/mpc.h"

#define EPS 1e-6

static energy_battery_t
s_ideal (double cap_kwh, double kw)
{
    return (energy_battery_t) { .capacity_kwh = cap_kwh, .max_charge_kw = kw, .max_discharge_kw = kw,
                                .eff_charge = 1, .eff_discharge = 1 };
}

static energy_mpc_t *
s_mpc (const energy_battery_t *b, const energy_hvac_t *h)
{
    char err[160] = "";
    energy_mpc_t *m = energy_mpc_new (b, h, err, sizeof err);
    cr_assert_not_null (m, "energy_mpc_new: %s", err);
    return m;
}

/* Two hours, cheap then dear, 5 kW load: buy the second hour's energy in
 * the first.  Lossless: cost 10 kWh × 0.1 = 1.0 (idle would pay 2.0). */
Test (energy_mpc, arbitrage_lossless)
{
    energy_battery_t b = s_ideal (10, 10);
    energy_mpc_t *m = s_mpc (&b, NULL);
    double load[] = { 5, 5 }, solar[] = { 0, 0 }, price[] = { 0.1, 0.3 };
    energy_mpc_input_t in = { .n = 2, .dt_h = 1, .load_kw = load, .solar_kw = solar, .price_per_kwh = price };
    const energy_plan_t *p;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK, "%s", energy_mpc_error (m));
    cr_assert_float_eq (p->cost, 1.0, EPS);
    cr_assert_float_eq (p->power_kw[0], -5, EPS);
    cr_assert_float_eq (p->power_kw[1], 5, EPS);
    cr_assert_float_eq (p->grid_kw[1], 0, EPS);
    energy_mpc_destroy (&m);
    cr_assert_null (m);
}

/* The same with 0.9 per leg and 0.01 per kWh of wear: 5 kWh out needs
 * 5/0.81 = 6.1728 kWh in; cost = (5 + 6.1728) × 0.1 + 0.01 × (6.1728 + 5). */
Test (energy_mpc, arbitrage_losses_and_wear)
{
    energy_battery_t b = s_ideal (10, 10);
    b.eff_charge = b.eff_discharge = 0.9;
    b.cycle_cost_per_kwh = 0.01;
    energy_mpc_t *m = s_mpc (&b, NULL);
    double load[] = { 5, 5 }, solar[] = { 0, 0 }, price[] = { 0.1, 0.3 };
    energy_mpc_input_t in = { .n = 2, .dt_h = 1, .load_kw = load, .solar_kw = solar, .price_per_kwh = price };
    const energy_plan_t *p;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK);
    double in_kwh = 5 / 0.81;
    cr_assert_float_eq (p->cost, (5 + in_kwh) * 0.1 + 0.01 * (in_kwh + 5), 1e-6);
    cr_assert_float_eq (p->charge_kw[0], in_kwh, 1e-6);
    cr_assert_float_eq (p->soc_kwh[0], 5 / 0.9, 1e-6);
    cr_assert_float_eq (p->soc_kwh[1], 0, 1e-6);
    energy_mpc_destroy (&m);
}

/* Peak shaving: loads 10, 30, 10 kW, flat price 0.1, 10 per kW of peak.
 * Charging 10 kW in hour 0 and giving it back in hour 1 flattens the peak
 * to 20 kW: cost 20 × 10 + 50 kWh × 0.1 = 205.  With a month-to-date peak
 * of 25 kW already set, the peak costs 250 whatever the battery does. */
Test (energy_mpc, peak_shaving_and_floor)
{
    energy_battery_t b = s_ideal (20, 20);
    energy_mpc_t *m = s_mpc (&b, NULL);
    double load[] = { 10, 30, 10 }, solar[] = { 0, 0, 0 }, price[] = { 0.1, 0.1, 0.1 };
    energy_mpc_input_t in = { .n = 3, .dt_h = 1, .load_kw = load, .solar_kw = solar, .price_per_kwh = price,
                              .demand_charge_per_kw = 10 };
    const energy_plan_t *p;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK);
    cr_assert_float_eq (p->cost, 205, 1e-6);
    cr_assert_float_eq (p->peak_kw, 20, 1e-6);
    cr_assert_leq (p->grid_kw[1], 20 + 1e-6);
    in.peak_floor_kw = 25;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK);
    cr_assert_float_eq (p->cost, 255, 1e-6);
    cr_assert_float_eq (p->peak_kw, 25, 1e-6);
    energy_mpc_destroy (&m);
}

/* Outage reserve: the battery never goes below it, even when prices beg. */
Test (energy_mpc, reserve_is_floor)
{
    energy_battery_t b = s_ideal (10, 10);
    b.reserve_kwh = 6;
    energy_mpc_t *m = s_mpc (&b, NULL);
    double load[] = { 5, 5 }, solar[] = { 0, 0 }, price[] = { 0.5, 0.5 };
    energy_mpc_input_t in = { .n = 2, .dt_h = 1, .load_kw = load, .solar_kw = solar, .price_per_kwh = price,
                              .soc_kwh = 10 };
    const energy_plan_t *p;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK);
    for (size_t t = 0; t < 2; t++)
        cr_assert_geq (p->soc_kwh[t], 6 - EPS);
    /* 4 kWh above the reserve can be used: cost (10 − 4) × 0.5. */
    cr_assert_float_eq (p->cost, 3.0, 1e-6);
    energy_mpc_destroy (&m);
}

/* Surplus solar with no export tariff is stored rather than curtailed when
 * it saves a later purchase. */
Test (energy_mpc, solar_self_consumption)
{
    energy_battery_t b = s_ideal (10, 10);
    energy_mpc_t *m = s_mpc (&b, NULL);
    double load[] = { 2, 6 }, solar[] = { 8, 0 }, price[] = { 0.2, 0.2 };
    energy_mpc_input_t in = { .n = 2, .dt_h = 1, .load_kw = load, .solar_kw = solar, .price_per_kwh = price };
    const energy_plan_t *p;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK);
    cr_assert_float_eq (p->cost, 0, 1e-6);
    cr_assert_float_eq (p->charge_kw[0], 6, 1e-6);
    energy_mpc_destroy (&m);
}

/* HVAC pre-cooling: 10 kW of internal gain, C = 10 kWh/°C, COP 1, band
 * 20–24 °C from 22 °C, two cheap hours (0.1) then two dear ones (0.5).
 * 40 kWh of heat minus the 2 °C of headroom (20 kWh) must be removed, all
 * of it in the cheap hours: cost 20 × 0.1 = 2.0 (holding 22 °C: 12.0). */
Test (energy_mpc, hvac_precooling)
{
    energy_battery_t b = s_ideal (0, 0);
    energy_hvac_t h = { .enabled = true, .ua_kw_per_c = 0, .heat_cap_kwh_per_c = 10, .cop = 1,
                        .max_kw = 30, .min_c = 20, .max_c = 24, .violation_cost_per_ch = 100 };
    energy_mpc_t *m = s_mpc (&b, &h);
    double zero[] = { 0, 0, 0, 0 }, gain[] = { 10, 10, 10, 10 }, amb[] = { 30, 30, 30, 30 };
    double price[] = { 0.1, 0.1, 0.5, 0.5 };
    energy_mpc_input_t in = { .n = 4, .dt_h = 1, .load_kw = zero, .solar_kw = zero, .price_per_kwh = price,
                              .ambient_c = amb, .heat_gain_kw = gain, .indoor_c = 22 };
    const energy_plan_t *p;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK, "%s", energy_mpc_error (m));
    cr_assert_float_eq (p->cost, 2.0, 1e-6);
    cr_assert_float_eq (p->hvac_kw[2] + p->hvac_kw[3], 0, 1e-6);
    for (size_t t = 0; t < 4; t++) {
        cr_assert_leq (p->indoor_c[t], 24 + 1e-6);
        cr_assert_geq (p->indoor_c[t], 20 - 1e-6);
        cr_assert_float_eq (p->grid_kw[t], p->hvac_kw[t], 1e-6);
    }
    energy_mpc_destroy (&m);
}

/* With the envelope: UA pulls the hall towards a hot ambient, so the LP must
 * cool every hour; it still never leaves the band. */
Test (energy_mpc, hvac_envelope_stays_in_band)
{
    energy_battery_t b = s_ideal (0, 0);
    energy_hvac_t h = { .enabled = true, .ua_kw_per_c = 2, .heat_cap_kwh_per_c = 50, .cop = 3,
                        .max_kw = 20, .min_c = 20, .max_c = 24, .violation_cost_per_ch = 100 };
    energy_mpc_t *m = s_mpc (&b, &h);
    enum { N = 24 };
    double zero[N] = { 0 }, gain[N], amb[N], price[N];
    for (int t = 0; t < N; t++) {
        gain[t] = 20;
        amb[t] = 25 + 8 * sin (2 * M_PI * t / 24);
        price[t] = t >= 16 && t < 20 ? 0.4 : 0.12;
    }
    energy_mpc_input_t in = { .n = N, .dt_h = 1, .load_kw = zero, .solar_kw = zero, .price_per_kwh = price,
                              .ambient_c = amb, .heat_gain_kw = gain, .indoor_c = 23 };
    const energy_plan_t *p;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK);
    double t_prev = 23, dear_kwh = 0;
    for (int t = 0; t < N; t++) {
        cr_assert_leq (p->indoor_c[t], 24 + 1e-6);
        cr_assert_geq (p->indoor_c[t], 20 - 1e-6);
        cr_assert_leq (p->hvac_kw[t], 20 + 1e-6);
        /* The plan obeys the thermal model it was given. */
        double next = t_prev + (2 * (amb[t] - t_prev) + gain[t] - 3 * p->hvac_kw[t]) / 50;
        cr_assert_float_eq (p->indoor_c[t], next, 1e-6);
        t_prev = p->indoor_c[t];
        if (price[t] > 0.2)
            dear_kwh += p->hvac_kw[t];
    }
    /* Pre-cooling: less cooling in the dear hours than the 4 h × (heat) / COP
     * a fixed set point would need there. */
    cr_assert_lt (dear_kwh, 4 * (20 + 2 * (33 - 22)) / 3.0);
    energy_mpc_destroy (&m);
}

/* ------------------------------------------------------------ bad data */

Test (energy_mpc, nan_price_falls_back)
{
    energy_battery_t b = s_ideal (10, 4);
    b.reserve_kwh = 5;
    energy_mpc_t *m = s_mpc (&b, NULL);
    double load[] = { 5, 5, 5 }, solar[] = { 0, 0, 0 }, price[] = { 0.1, NAN, 0.3 };
    energy_mpc_input_t in = { .n = 3, .dt_h = 1, .load_kw = load, .solar_kw = solar, .price_per_kwh = price,
                              .soc_kwh = 8 };
    const energy_plan_t *p;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_EBADDATA);
    cr_assert_not_null (strstr (energy_mpc_error (m), "price_per_kwh[1]"), "%s", energy_mpc_error (m));
    cr_assert_eq (energy_mpc_bad_inputs (m), 1);
    for (size_t t = 0; t < p->n; t++)
        cr_assert_float_eq (p->power_kw[t], 0, EPS, "hold above the reserve");
    /* Below the reserve the fallback charges towards it, never discharges. */
    in.soc_kwh = 2;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_EBADDATA);
    cr_assert_float_eq (p->power_kw[0], -3, EPS);
    cr_assert_float_eq (p->soc_kwh[0], 5, EPS);
    cr_assert_float_eq (p->power_kw[1], 0, EPS);
    energy_mpc_destroy (&m);
}

Test (energy_mpc, missing_or_hostile_input)
{
    energy_battery_t b = s_ideal (10, 4);
    energy_mpc_t *m = s_mpc (&b, NULL);
    double load[] = { 5, 5 }, solar[] = { 0, 0 }, price[] = { 0.1, 0.2 }, inf[] = { INFINITY, 1 };
    const energy_plan_t *p;
    energy_mpc_input_t in = { .n = 2, .dt_h = 1, .load_kw = load, .solar_kw = NULL, .price_per_kwh = price };
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_EBADDATA);
    cr_assert_not_null (strstr (energy_mpc_error (m), "solar_kw forecast missing"));
    in.solar_kw = solar;
    load[1] = -1;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_EBADDATA, "negative load");
    load[1] = 5;
    in.solar_kw = inf;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_EBADDATA, "infinite solar");
    in.solar_kw = solar;
    in.dt_h = NAN;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_EBADDATA, "NaN step");
    in.dt_h = 1;
    in.soc_kwh = 11;
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_EBADDATA, "SoC above capacity");
    in.soc_kwh = 1;
    cr_assert_eq (energy_mpc_solve (m, NULL, &p), ENERGY_EBADDATA, "no input at all");
    cr_assert_eq (energy_mpc_bad_inputs (m), 6);
    cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK, "good data again: %s", energy_mpc_error (m));
    cr_assert_str_empty (energy_mpc_error (m));
    energy_mpc_destroy (&m);
}

Test (energy_mpc, bad_ratings_refused)
{
    char err[160] = "";
    energy_battery_t b = s_ideal (10, 4);
    b.eff_charge = 1.5;
    cr_assert_null (energy_mpc_new (&b, NULL, err, sizeof err));
    cr_assert_str_not_empty (err);
    b = s_ideal (NAN, 4);
    cr_assert_null (energy_mpc_new (&b, NULL, err, sizeof err));
    b = s_ideal (10, 4);
    energy_hvac_t h = { .enabled = true, .heat_cap_kwh_per_c = 0, .cop = 3, .min_c = 20, .max_c = 24 };
    cr_assert_null (energy_mpc_new (&b, &h, err, sizeof err));
    energy_mpc_destroy (NULL);
}

/* ------------------------------------------------------------ a month */

/* A synthetic month of hourly steps: a two-shift load with noise, solar on a
 * day curve with random clouds, a three-period tariff. */
typedef struct { double load[720], solar[720], price[720]; } s_month_t;

static void
s_month (s_month_t *mo, unsigned seed)
{
    srand (seed);
    for (int t = 0; t < 720; t++) {
        int h = t % 24;
        double noise = (rand () / (double) RAND_MAX - 0.5) * 60;
        mo->load[t] = (h >= 6 && h < 22 ? 400 : 180) + noise;
        double cloud = (rand () / (double) RAND_MAX) * 0.6;
        mo->solar[t] = h >= 6 && h <= 18 ? 250 * sin (M_PI * (h - 6) / 12.0) * (1 - cloud) : 0;
        mo->price[t] = h >= 17 && h < 21 ? 0.31 : h >= 7 && h < 11 ? 0.26 : h >= 23 || h < 6 ? 0.09 : 0.14;
    }
}

static void
s_check_plan (const energy_plan_t *p, const energy_battery_t *b, const double *load, const double *solar)
{
    double floor_kwh = energy_battery_floor_kwh (b);
    for (size_t t = 0; t < p->n; t++) {
        cr_assert_geq (p->soc_kwh[t], floor_kwh - 1e-6, "SoC %g under floor at %zu", p->soc_kwh[t], t);
        cr_assert_leq (p->soc_kwh[t], b->capacity_kwh + 1e-6);
        cr_assert_leq (p->charge_kw[t], b->max_charge_kw + 1e-6);
        cr_assert_leq (p->discharge_kw[t], b->max_discharge_kw + 1e-6);
        cr_assert_geq (p->grid_kw[t], -1e-6);
        cr_assert_leq (p->grid_kw[t], p->peak_kw + 1e-6);
        double bal = p->grid_kw[t] - p->export_kw[t] - (load[t] - solar[t] + p->charge_kw[t] - p->discharge_kw[t]);
        cr_assert_float_eq (bal, 0, 1e-5, "power balance at %zu", t);
    }
}

Test (energy_mpc, month_rolling_no_violation, .timeout = 120)
{
    energy_battery_t b = { .capacity_kwh = 2000, .max_charge_kw = 500, .max_discharge_kw = 500,
                           .eff_charge = sqrt (0.9), .eff_discharge = sqrt (0.9), .min_soc = 0.1,
                           .reserve_kwh = 400, .cycle_cost_per_kwh = 0.02 };
    energy_mpc_t *m = s_mpc (&b, NULL);
    static s_month_t mo;
    s_month (&mo, 7);
    enum { H = 24 };
    energy_bill_t bill, idle;
    energy_bill_init (&bill, &b, 1000, 1, 14, 730);
    energy_bill_init (&idle, &b, 1000, 1, 14, 730);
    double fl[H], fs[H], fp[H];
    srand (11);
    for (int k = 0; k < 720; k++) {
        size_t n = 720 - k < H ? (size_t) (720 - k) : H;
        /* Forecasts: the truth with ±10 % error. */
        for (size_t i = 0; i < n; i++) {
            fl[i] = mo.load[k + i] * (0.9 + 0.2 * rand () / (double) RAND_MAX);
            fs[i] = mo.solar[k + i] * (0.9 + 0.2 * rand () / (double) RAND_MAX);
            fp[i] = mo.price[k + i];
        }
        energy_mpc_input_t in = { .n = n, .dt_h = 1, .load_kw = fl, .solar_kw = fs, .price_per_kwh = fp,
                                  .soc_kwh = bill.soc_kwh, .peak_floor_kw = bill.month_peak_kw,
                                  .demand_charge_per_kw = 14, .terminal_value_per_kwh = 0.09 };
        const energy_plan_t *p;
        cr_assert_eq (energy_mpc_solve (m, &in, &p), ENERGY_OK, "step %d: %s", k, energy_mpc_error (m));
        s_check_plan (p, &b, fl, fs);
        energy_bill_step (&bill, mo.load[k], mo.solar[k], mo.price[k], 0, p->power_kw[0]);
        energy_bill_step (&idle, mo.load[k], mo.solar[k], mo.price[k], 0, 0);
        cr_assert_geq (bill.soc_kwh, energy_battery_floor_kwh (&b) - 1e-6);
        cr_assert_leq (bill.soc_kwh, b.capacity_kwh + 1e-6);
    }
    cr_assert_eq (energy_mpc_solver_failures (m), 0);
    cr_assert_lt (energy_bill_total (&bill), energy_bill_total (&idle), "MPC %g vs idle %g",
                  energy_bill_total (&bill), energy_bill_total (&idle));

    /* The perfect-foresight month, one LP: no worse than what the rolling
     * controller achieved on the same data, and within every limit. */
    energy_mpc_input_t all = { .n = 720, .dt_h = 1, .load_kw = mo.load, .solar_kw = mo.solar,
                               .price_per_kwh = mo.price, .soc_kwh = 1000, .demand_charge_per_kw = 14,
                               .terminal_value_per_kwh = 0.09 };
    const energy_plan_t *p;
    cr_assert_eq (energy_mpc_solve (m, &all, &p), ENERGY_OK, "%s", energy_mpc_error (m));
    s_check_plan (p, &b, mo.load, mo.solar);
    double mpc_cost = energy_bill_total (&bill) - 0.09 * bill.soc_kwh;
    cr_assert_leq (p->cost, mpc_cost + 1e-6, "bound %g above MPC %g", p->cost, mpc_cost);
    energy_mpc_destroy (&m);
}
