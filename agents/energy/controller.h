/*  energy controller — the battery MPC loop as the energy agent runs it each
 *  epoch: forecasts from what the meters showed, the LP over the horizon,
 *  the first step's set point, and a safe fallback when anything is off.
 *
 *  Peak shaving is planned robustly: the month's demand charge is paid on
 *  the highest 15-minute import, and most of a 15-minute load's deviation
 *  from its profile is noise no forecast removes.  So the LP keeps every
 *  step's planned import plus the gap to the load's high envelope (forecast.h)
 *  under its peak variable, and the peak it commits to (the target) becomes
 *  the floor of every later solve in the month: headroom the controller
 *  planned is reused, noise it did not plan for is not.  The demand charge is
 *  pro-rated to the horizon (× horizon / rest of the month, capped at 1),
 *  since raising the target buys cheaper charging on every remaining day,
 *  not only within the horizon.
 */
#ifndef ENERGY_CONTROLLER_H
#define ENERGY_CONTROLLER_H

#include <stddef.h>

#include "forecast.h"
#include "mpc.h"

typedef struct {
    energy_battery_t batt;
    energy_solar_site_t site;
    double dt_h, horizon_h;
    double demand_charge_per_kw, month_h;
    double terminal_value_per_kwh;      /* worth of energy left at the horizon */
    double envelope_share;              /* 0 … 1 of the gap to the high envelope (1) */
    double dc_scale;                    /* × the pro-rated demand charge (1) */
    int history_days;                   /* forecaster memory (7) */
    int envelope_window_steps;          /* ± steps around the time of day (4) */
} energy_ctl_params_t;

typedef struct energy_ctl energy_ctl_t;

energy_ctl_t *energy_ctl_new (const energy_ctl_params_t *params, char *err, size_t err_len);
void energy_ctl_destroy (energy_ctl_t **self_p);

/* The meters' reading for the step at T_H (see energy_forecast_observe). */
int energy_ctl_observe (energy_ctl_t *self, double t_h, double load_kw, double solar_kw);

/* Decides the set point for the step after T_H (the last observed step),
 * MONTH_H hours into the billing month, with SOC_KWH stored and the tariff's
 * PRICE for the next N steps (N ≤ the horizon; fewer near the end of a
 * run).  LOAD_FC / SOLAR_FC override the forecaster when not NULL (tests,
 * diagnostics).  Writes *SETPOINT_KW (+ discharge, − charge).  Returns
 * ENERGY_OK, or an error code with the fallback set point (battery held at
 * its reserve); energy_ctl_error() says why in one line. */
int energy_ctl_decide (energy_ctl_t *self, double t_h, double month_h, double soc_kwh,
                       const double *price, size_t n, const double *load_fc, const double *solar_fc,
                       double *setpoint_kw);

/* Grid outage: the battery alone carries the critical load CRITICAL_KW,
 * down to min_soc (the outage reserve exists for this).  Writes the
 * discharge set point and how many hours the stored energy lasts at that
 * load (infinite for no load).  Returns 0 when the battery covers this step,
 * 1 when the line must shed or slow work (the load exceeds the power rating
 * or the energy left in the step), -1 on bad input (set point 0). */
int energy_outage_setpoint (const energy_battery_t *batt, double soc_kwh, double critical_kw, double dt_h,
                            double *setpoint_kw, double *ride_through_h);

/* A new billing month: the committed peak starts again from 0. */
void energy_ctl_new_month (energy_ctl_t *self);
double energy_ctl_target_kw (const energy_ctl_t *self);
const char *energy_ctl_error (const energy_ctl_t *self);
size_t energy_ctl_fallbacks (const energy_ctl_t *self);
/* The last solve's plan (NULL before the first). */
const energy_plan_t *energy_ctl_plan (const energy_ctl_t *self);
/* The forecast the last decision used (N values each). */
const double *energy_ctl_load_forecast (const energy_ctl_t *self);

#endif
