/*  energy rule — the simple battery rule the MPC is measured against:
 *  charge when the price is at or below a threshold (without pushing the
 *  import above the peak threshold), store surplus solar, and discharge
 *  whatever the net load exceeds the peak threshold.  One step, no state.
 */
#ifndef ENERGY_RULE_H
#define ENERGY_RULE_H

#include "mpc.h"

typedef struct {
    double charge_below_price;          /* per kWh */
    double peak_threshold_kw;           /* import above this is shaved */
} energy_rule_t;

/* The set point (+ discharge, − charge) for a step with NET_KW = load −
 * solar, at PRICE, with SOC_KWH stored.  Limits are left to the plant. */
double energy_rule_setpoint_kw (const energy_rule_t *rule, const energy_battery_t *batt,
                                double net_kw, double price_per_kwh, double soc_kwh, double dt_h);

#endif
