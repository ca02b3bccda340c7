/*  energy bill — executes set points on realised data and keeps the bill
 *  (see bill.h).
 */
#include "bill.h"

#include <math.h>
#include <string.h>

void
energy_bill_init (energy_bill_t *b, const energy_battery_t *batt, double soc_kwh,
                  double dt_h, double demand_charge_per_kw, double month_h)
{
    memset (b, 0, sizeof *b);
    b->batt = *batt;
    b->soc_kwh = soc_kwh;
    b->dt_h = dt_h;
    b->demand_charge_per_kw = demand_charge_per_kw;
    b->month_h = month_h > 0 ? month_h : INFINITY;
    b->soc_min_kwh = b->soc_max_kwh = soc_kwh;
}

void
energy_bill_close (energy_bill_t *b)
{
    b->demand_cost += b->month_peak_kw * b->demand_charge_per_kw;
    b->month_peak_kw = 0;
}

/* Clips a set point to power, floor and headroom, as the plant would. */
static double
s_clip (const energy_bill_t *b, double sp)
{
    const energy_battery_t *bt = &b->batt;
    if (!isfinite (sp))
        return 0;
    if (sp > 0) {
        double avail = (b->soc_kwh - energy_battery_floor_kwh (bt)) * bt->eff_discharge / b->dt_h;
        return fmin (fmin (sp, bt->max_discharge_kw), fmax (0, avail));
    }
    double room = (bt->capacity_kwh - b->soc_kwh) / (bt->eff_charge * b->dt_h);
    return -fmin (fmin (-sp, bt->max_charge_kw), fmax (0, room));
}

double
energy_bill_step (energy_bill_t *b, double load_kw, double solar_kw,
                  double price, double export_price, double setpoint_kw)
{
    double dt = b->dt_h;
    /* A new billing month starts when this step begins past its end. */
    double month = floor ((b->t_h + 1e-9) / b->month_h);
    if (month != b->month) {
        energy_bill_close (b);
        b->month = month;
    }
    double kw = s_clip (b, setpoint_kw);
    if (fabs (kw - setpoint_kw) > 1e-6 * fmax (1, fabs (setpoint_kw)))
        b->clipped++;
    if (kw > 0)
        b->soc_kwh -= kw * dt / b->batt.eff_discharge;
    else
        b->soc_kwh -= kw * dt * b->batt.eff_charge;
    double grid_kw = load_kw - solar_kw - kw;
    double import_kw = fmax (0, grid_kw), export_kw = fmax (0, -grid_kw);
    b->energy_cost += import_kw * dt * price;
    b->export_revenue += export_kw * dt * export_price;
    b->cycle_cost += fabs (kw) * dt * b->batt.cycle_cost_per_kwh;
    b->import_kwh += import_kw * dt;
    b->export_kwh += export_kw * dt;
    b->throughput_kwh += fabs (kw) * dt;
    b->load_kwh += load_kw * dt;
    b->solar_used_kwh += fmin (solar_kw, load_kw + fmax (0, -kw)) * dt;
    if (import_kw > b->month_peak_kw)
        b->month_peak_kw = import_kw;
    if (import_kw > b->peak_kw)
        b->peak_kw = import_kw;
    b->soc_min_kwh = fmin (b->soc_min_kwh, b->soc_kwh);
    b->soc_max_kwh = fmax (b->soc_max_kwh, b->soc_kwh);
    b->t_h += dt;
    b->steps++;
    return kw;
}

double
energy_bill_total (const energy_bill_t *b)
{
    return b->energy_cost + b->demand_cost + b->month_peak_kw * b->demand_charge_per_kw
           + b->cycle_cost - b->export_revenue;
}
