/*  energy forecast — short-term load and solar forecasts from history.
 *
 *  Solar: a clear-sky model (sun elevation from declination and hour angle
 *  at the site's latitude, times the array's peak) times a weather factor:
 *  the ratio of measured to clear-sky output over today's recent daylight
 *  steps, and for later days a running average of past days' factors.
 *  Load: seasonal naive by time of day (mean of the same slot over the last
 *  DAYS days) plus the recent level (the last hour's deviation from that
 *  profile), fading with a time constant of a few hours.
 *
 *  Observations arrive once per step; a NaN, infinite or negative value is
 *  refused (counted, energy_forecast_observe returns -1) and the slot is
 *  treated as missing; so is a reading older than the last one.  With too little history energy_forecast_predict
 *  returns -1: the caller falls back (mpc.h) rather than plan on nothing.
 */
#ifndef ENERGY_FORECAST_H
#define ENERGY_FORECAST_H

#include <stddef.h>

typedef struct {
    double peak_kw;                     /* array output at the sun's zenith, clear sky */
    double latitude_deg;
    double tilt_deg;                    /* the planet's axial tilt: 23.44 on Earth */
    double day_h, year_days;            /* 24 and 365 on Earth */
} energy_solar_site_t;

/* Clear-sky output (kW) at T_H hours after midnight of day 0 (1 January). */
double energy_clear_sky_kw (const energy_solar_site_t *site, double t_h);

typedef struct energy_forecast energy_forecast_t;

/* A forecaster for steps of DT_H over a history of DAYS days.  NULL on bad
 * arguments (DT_H must divide the day into whole steps). */
energy_forecast_t *energy_forecast_new (const energy_solar_site_t *site, double dt_h, int days);
void energy_forecast_destroy (energy_forecast_t **self_p);

/* Records the step whose values refer to time T_H.  Returns 0, or -1 when a
 * value is not a finite non-negative number (the slot stays missing). */
int energy_forecast_observe (energy_forecast_t *self, double t_h, double load_kw, double solar_kw);

/* Forecasts N steps at T_H + DT_H, T_H + 2 DT_H … (T_H: the last observed
 * step).  Returns 0, or -1 when less than one day of load history is there. */
int energy_forecast_predict (const energy_forecast_t *self, double t_h, size_t n,
                             double *load_kw, double *solar_kw);

/* The high envelope of the load for the same N steps: the largest value
 * seen in the history at that time of day ± WINDOW_STEPS steps.  Peak
 * shaving plans against it, since a 15-minute load is largely unpredictable
 * noise on its profile, but bounded.  Returns 0 or -1 as predict does. */
int energy_forecast_upper (const energy_forecast_t *self, double t_h, size_t n, int window_steps,
                           double *upper_kw);

size_t energy_forecast_rejected (const energy_forecast_t *self);

#endif
