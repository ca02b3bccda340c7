/*  energy bill — applies battery set points to realised load and solar, one
 *  step at a time, the way the plant executes them (clipped to power, SoC
 *  floor and headroom), and keeps the bill: energy bought, export earned,
 *  demand charge on each billing month's highest step-average import, and
 *  battery wear per kWh of throughput.  Used to score every policy on the
 *  same footing and to check that a dispatch broke no limit.
 */
#ifndef ENERGY_BILL_H
#define ENERGY_BILL_H

#include <stddef.h>

#include "mpc.h"

typedef struct {
    /* configuration */
    energy_battery_t batt;
    double dt_h, demand_charge_per_kw, month_h;
    /* state */
    double soc_kwh, t_h, month, month_peak_kw;
    /* totals */
    double energy_cost, export_revenue, demand_cost, cycle_cost;
    double import_kwh, export_kwh, throughput_kwh, solar_used_kwh, load_kwh;
    double peak_kw;
    double soc_min_kwh, soc_max_kwh;    /* extremes reached */
    size_t steps, clipped;              /* set points the limits cut back */
} energy_bill_t;

/* Starts a bill with SOC_KWH stored; MONTH_H is the billing month. */
void energy_bill_init (energy_bill_t *bill, const energy_battery_t *batt, double soc_kwh,
                       double dt_h, double demand_charge_per_kw, double month_h);

/* Runs one step: the battery follows SETPOINT_KW (+ discharge, − charge)
 * within its limits.  Returns the battery power actually delivered. */
double energy_bill_step (energy_bill_t *bill, double load_kw, double solar_kw,
                         double price_per_kwh, double export_price_per_kwh, double setpoint_kw);

/* Closes the current billing month (adds its demand charge). */
void energy_bill_close (energy_bill_t *bill);

/* Energy + demand + wear − export revenue. */
double energy_bill_total (const energy_bill_t *bill);

#endif
