/*  energy forecast — seasonal-naive load with recent level, clear-sky solar
 *  with a weather factor (see forecast.h).
 */
#include "forecast.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Below this share of the array's peak the sun is too low to say anything
 * about the weather (a ratio of two small numbers is noise). */
#define S_DAYLIGHT_SHARE 0.1
/* The recent load level's deviation fades with this time constant. */
#define S_LEVEL_TAU_H 3.0
/* Steps of recent history that set the level. */
#define S_LEVEL_STEPS 4
/* Weight of a finished day in the running weather factor. */
#define S_WEATHER_ALPHA 0.2
/* Timestamps beyond ± this many hours are refused (keeps step arithmetic
 * far from integer overflow). */
#define S_MAX_ABS_T_H 1e9

struct energy_forecast {
    energy_solar_site_t site;
    double dt_h;
    int steps_per_day, days;
    double *load;                       /* ring of days × steps_per_day, NaN = missing */
    int64_t last_step;                  /* absolute step index of the last observation */
    int64_t first_step;
    /* Weather: today's measured and clear-sky sums, and the running factor. */
    int64_t day;
    double sun_meas, sun_clear, factor_today, factor_avg;
    size_t rejected;
};

double
energy_clear_sky_kw (const energy_solar_site_t *s, double t_h)
{
    if (s->peak_kw <= 0 || s->day_h <= 0 || s->year_days <= 0)
        return 0;
    double days = t_h / s->day_h;
    double doy = fmod (days, s->year_days);
    double hour = fmod (days, 1.0) * 24.0;
    double decl = s->tilt_deg * M_PI / 180.0 * sin (2 * M_PI * (doy - 81.0) / s->year_days);
    double lat = s->latitude_deg * M_PI / 180.0;
    double ha = (hour - 12.0) * 15.0 * M_PI / 180.0;
    double sin_el = sin (lat) * sin (decl) + cos (lat) * cos (decl) * cos (ha);
    return sin_el > 0 ? s->peak_kw * sin_el : 0;
}

energy_forecast_t *
energy_forecast_new (const energy_solar_site_t *site, double dt_h, int days)
{
    if (!site || !(dt_h > 0) || !isfinite (dt_h) || days < 1 || days > 366 || !(site->day_h > 0))
        return NULL;
    double spd = site->day_h / dt_h;
    if (fabs (spd - round (spd)) > 1e-6 || spd < 1 || spd > 100000)
        return NULL;
    energy_forecast_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->site = *site;
    self->dt_h = dt_h;
    self->steps_per_day = (int) round (spd);
    self->days = days;
    self->load = malloc ((size_t) days * (size_t) self->steps_per_day * sizeof *self->load);
    if (!self->load)
        goto fail;
    for (int i = 0; i < days * self->steps_per_day; i++)
        self->load[i] = NAN;
    self->last_step = self->first_step = INT64_MIN;
    self->day = INT64_MIN;
    self->factor_today = self->factor_avg = NAN;
    return self;
fail:
    free (self);
    return NULL;
}

void
energy_forecast_destroy (energy_forecast_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->load);
    free (*self_p);
    *self_p = NULL;
}

size_t energy_forecast_rejected (const energy_forecast_t *self) { return self->rejected; }

static int64_t
s_step (const energy_forecast_t *self, double t_h)
{
    return (int64_t) llround (t_h / self->dt_h);
}

static double *
s_slot (const energy_forecast_t *self, int64_t step)
{
    int64_t n = (int64_t) self->days * self->steps_per_day;
    return &self->load[((step % n) + n) % n];
}

/* Folds a finished day's weather into the running factor. */
static void
s_new_day (energy_forecast_t *self, int64_t day)
{
    if (isfinite (self->factor_today))
        self->factor_avg = isfinite (self->factor_avg)
                           ? (1 - S_WEATHER_ALPHA) * self->factor_avg + S_WEATHER_ALPHA * self->factor_today
                           : self->factor_today;
    self->day = day;
    self->sun_meas = self->sun_clear = 0;
    self->factor_today = NAN;
}

int
energy_forecast_observe (energy_forecast_t *self, double t_h, double load_kw, double solar_kw)
{
    if (!isfinite (t_h) || fabs (t_h) > S_MAX_ABS_T_H)
        return self->rejected++, -1;
    int64_t step = s_step (self, t_h);
    /* A reading older than the last one is out of order: refused, so that it
     * cannot overwrite a newer day's slot in the ring. */
    if (self->last_step != INT64_MIN && step < self->last_step)
        return self->rejected++, -1;
    /* Slots skipped since the last observation are missing, not stale. */
    if (self->last_step != INT64_MIN && step > self->last_step) {
        int64_t gap = step - self->last_step - 1;
        int64_t ring = (int64_t) self->days * self->steps_per_day;
        for (int64_t k = 1; k <= gap && k <= ring; k++)
            *s_slot (self, self->last_step + k) = NAN;
    }
    if (self->first_step == INT64_MIN)
        self->first_step = step;
    if (step > self->last_step)
        self->last_step = step;
    int64_t day = (int64_t) floor (t_h / self->site.day_h);
    if (day != self->day)
        s_new_day (self, day);
    bool ok = isfinite (load_kw) && load_kw >= 0 && isfinite (solar_kw) && solar_kw >= 0;
    *s_slot (self, step) = ok ? load_kw : NAN;
    if (!ok)
        return self->rejected++, -1;
    double clear = energy_clear_sky_kw (&self->site, t_h);
    if (clear > S_DAYLIGHT_SHARE * self->site.peak_kw) {
        self->sun_meas += solar_kw;
        self->sun_clear += clear;
        self->factor_today = fmin (1.0, self->sun_meas / self->sun_clear);
    }
    return 0;
}

/* Mean load at STEP's time of day over the days in the ring, NaN if none. */
static double
s_profile (const energy_forecast_t *self, int64_t step)
{
    double sum = 0;
    int n = 0;
    for (int d = 1; d <= self->days; d++) {
        int64_t past = step - (int64_t) d * self->steps_per_day;
        if (past > self->last_step || past < self->first_step || past <= self->last_step - (int64_t) self->days * self->steps_per_day)
            continue;
        double v = *s_slot (self, past);
        if (isfinite (v)) {
            sum += v;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

int
energy_forecast_predict (const energy_forecast_t *self, double t_h, size_t n,
                         double *load_kw, double *solar_kw)
{
    if (!isfinite (t_h) || fabs (t_h) > S_MAX_ABS_T_H || self->last_step == INT64_MIN
        || self->last_step - self->first_step + 1 < self->steps_per_day || n > 1000000)
        return -1;
    int64_t now = s_step (self, t_h);
    /* The recent level: how far the last hour ran above its profile. */
    double dev = 0;
    int nd = 0;
    for (int k = 0; k < S_LEVEL_STEPS; k++) {
        int64_t s = now - k;
        if (s > self->last_step || s < self->first_step)
            continue;
        double v = *s_slot (self, s), p = s_profile (self, s);
        if (isfinite (v) && isfinite (p)) {
            dev += v - p;
            nd++;
        }
    }
    dev = nd ? dev / nd : 0;
    double factor_later = isfinite (self->factor_avg) ? self->factor_avg
                          : isfinite (self->factor_today) ? self->factor_today : 0.7;
    int64_t today = (int64_t) floor (t_h / self->site.day_h);
    for (size_t i = 0; i < n; i++) {
        double t = t_h + (double) (i + 1) * self->dt_h;
        int64_t step = now + (int64_t) i + 1;
        double p = s_profile (self, step);
        if (!isfinite (p))
            return -1;
        double fade = exp (-(double) (i + 1) * self->dt_h / S_LEVEL_TAU_H);
        load_kw[i] = fmax (0, p + dev * fade);
        bool same_day = (int64_t) floor (t / self->site.day_h) == today && today == self->day;
        double f = same_day && isfinite (self->factor_today) ? self->factor_today : factor_later;
        solar_kw[i] = energy_clear_sky_kw (&self->site, t) * f;
    }
    return 0;
}

int
energy_forecast_upper (const energy_forecast_t *self, double t_h, size_t n, int window_steps,
                       double *upper_kw)
{
    if (!isfinite (t_h) || fabs (t_h) > S_MAX_ABS_T_H || window_steps < 0 || window_steps > 10000
        || n > 1000000 || self->last_step == INT64_MIN
        || self->last_step - self->first_step + 1 < self->steps_per_day)
        return -1;
    int64_t now = s_step (self, t_h), ring = (int64_t) self->days * self->steps_per_day;
    for (size_t i = 0; i < n; i++) {
        int64_t step = now + (int64_t) i + 1;
        double hi = NAN;
        for (int d = 1; d <= self->days; d++)
            for (int w = -window_steps; w <= window_steps; w++) {
                int64_t past = step - (int64_t) d * self->steps_per_day + w;
                if (past > self->last_step || past < self->first_step || past <= self->last_step - ring)
                    continue;
                double v = *s_slot (self, past);
                if (isfinite (v) && !(v <= hi))
                    hi = v;
            }
        if (!isfinite (hi))
            return -1;
        upper_kw[i] = hi;
    }
    return 0;
}
