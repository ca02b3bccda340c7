/*  energy controller — forecasts + robust peak target + the LP, one
 *  decision per epoch (see controller.h).
 */
#include "controller.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct energy_ctl {
    energy_ctl_params_t p;
    size_t horizon;                     /* steps */
    energy_mpc_t *mpc;
    energy_forecast_t *fc;
    double *load, *solar, *margin;
    double target_kw;
    const energy_plan_t *plan;
    char err[200];
    size_t fallbacks;
};

energy_ctl_t *
energy_ctl_new (const energy_ctl_params_t *params, char *err, size_t err_len)
{
    if (!params || !(params->dt_h > 0) || !(params->horizon_h >= params->dt_h) || !isfinite (params->horizon_h)
        || params->horizon_h > 24 * 31 || !(params->month_h > 0) || !(params->demand_charge_per_kw >= 0)
        || !(params->envelope_share >= 0 && params->envelope_share <= 1) || !(params->dc_scale > 0)
        || !isfinite (params->terminal_value_per_kwh) || params->envelope_window_steps < 0) {
        snprintf (err, err_len, "energy controller: step, horizon, month, demand charge, envelope share or "
                                "demand charge scale invalid");
        return NULL;
    }
    energy_ctl_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "energy controller: out of memory");
        return NULL;
    }
    self->p = *params;
    self->horizon = (size_t) llround (params->horizon_h / params->dt_h);
    self->mpc = energy_mpc_new (&params->batt, NULL, err, err_len);
    if (!self->mpc)
        goto fail;
    self->fc = energy_forecast_new (&params->site, params->dt_h, params->history_days > 0 ? params->history_days : 7);
    self->load = calloc (self->horizon, sizeof (double));
    self->solar = calloc (self->horizon, sizeof (double));
    self->margin = calloc (self->horizon, sizeof (double));
    if (!self->fc || !self->load || !self->solar || !self->margin) {
        snprintf (err, err_len, "energy controller: the step must divide the day, or out of memory");
        goto fail;
    }
    return self;
fail:
    energy_ctl_destroy (&self);
    return NULL;
}

void
energy_ctl_destroy (energy_ctl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    energy_ctl_t *self = *self_p;
    energy_mpc_destroy (&self->mpc);
    energy_forecast_destroy (&self->fc);
    free (self->load);
    free (self->solar);
    free (self->margin);
    free (self);
    *self_p = NULL;
}

int
energy_ctl_observe (energy_ctl_t *self, double t_h, double load_kw, double solar_kw)
{
    return energy_forecast_observe (self->fc, t_h, load_kw, solar_kw);
}

void energy_ctl_new_month (energy_ctl_t *self) { self->target_kw = 0; }
double energy_ctl_target_kw (const energy_ctl_t *self) { return self->target_kw; }
const char *energy_ctl_error (const energy_ctl_t *self) { return self->err; }
size_t energy_ctl_fallbacks (const energy_ctl_t *self) { return self->fallbacks; }
const energy_plan_t *energy_ctl_plan (const energy_ctl_t *self) { return self->plan; }
const double *energy_ctl_load_forecast (const energy_ctl_t *self) { return self->load; }

/* Fills the forecasts and the peak headroom for N steps; -1 if missing. */
static int
s_forecast (energy_ctl_t *self, double t_h, size_t n, const double *load_fc, const double *solar_fc)
{
    if (load_fc && solar_fc) {
        memcpy (self->load, load_fc, n * sizeof *self->load);
        memcpy (self->solar, solar_fc, n * sizeof *self->solar);
    }
    else if (energy_forecast_predict (self->fc, t_h, n, self->load, self->solar) < 0) {
        snprintf (self->err, sizeof self->err, "energy controller: less than a day of load history");
        return -1;
    }
    if (energy_forecast_upper (self->fc, t_h, n, self->p.envelope_window_steps, self->margin) < 0)
        memcpy (self->margin, self->load, n * sizeof *self->margin);
    for (size_t i = 0; i < n; i++)
        self->margin[i] = isfinite (self->margin[i]) && isfinite (self->load[i])
                          ? self->p.envelope_share * fmax (0, self->margin[i] - self->load[i]) : 0;
    return 0;
}

int
energy_ctl_decide (energy_ctl_t *self, double t_h, double month_h, double soc_kwh, const double *price,
                   size_t n, const double *load_fc, const double *solar_fc, double *setpoint_kw)
{
    self->err[0] = 0;
    *setpoint_kw = energy_mpc_fallback_kw (&self->p.batt, soc_kwh, self->p.dt_h);
    if (n == 0 || n > self->horizon || !price || !isfinite (month_h)) {
        snprintf (self->err, sizeof self->err, "energy controller: no price for the horizon (%zu steps)", n);
        self->fallbacks++;
        return ENERGY_EBADDATA;
    }
    if (s_forecast (self, t_h, n, load_fc, solar_fc) < 0) {
        self->fallbacks++;
        return ENERGY_EBADDATA;
    }
    double rest_h = fmax (self->p.month_h - month_h, (double) n * self->p.dt_h);
    double dc = self->p.demand_charge_per_kw * fmin (1, self->p.dc_scale * (double) n * self->p.dt_h / rest_h);
    energy_mpc_input_t in = { .n = n, .dt_h = self->p.dt_h, .load_kw = self->load, .solar_kw = self->solar,
                              .price_per_kwh = price, .peak_margin_kw = self->margin, .soc_kwh = soc_kwh,
                              .peak_floor_kw = self->target_kw, .demand_charge_per_kw = dc,
                              .terminal_value_per_kwh = self->p.terminal_value_per_kwh };
    int rc = energy_mpc_solve (self->mpc, &in, &self->plan);
    if (rc != ENERGY_OK) {
        snprintf (self->err, sizeof self->err, "%s", energy_mpc_error (self->mpc));
        self->fallbacks++;
        return rc;
    }
    *setpoint_kw = self->plan->power_kw[0];
    self->target_kw = fmax (self->target_kw, self->plan->peak_kw);
    return ENERGY_OK;
}

int
energy_outage_setpoint (const energy_battery_t *b, double soc_kwh, double critical_kw, double dt_h,
                        double *setpoint_kw, double *ride_through_h)
{
    *setpoint_kw = 0;
    *ride_through_h = 0;
    if (!b || !isfinite (soc_kwh) || !isfinite (critical_kw) || critical_kw < 0 || !(dt_h > 0) || !isfinite (dt_h))
        return -1;
    double usable_kwh = fmax (0, soc_kwh - b->min_soc * b->capacity_kwh) * b->eff_discharge;
    double step_kw = fmin (b->max_discharge_kw, usable_kwh / dt_h);
    *setpoint_kw = fmin (critical_kw, step_kw);
    *ride_through_h = critical_kw > 0 ? usable_kwh / critical_kw : INFINITY;
    return critical_kw > step_kw + 1e-9 ? 1 : 0;
}
