/* health.c — health detectors and the health index (see health.h). */
#include "health.h"

#include <math.h>
#include <string.h>

static double
s_clamp01 (double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

void
health_cusum_init (health_cusum_t *c, double k_sd, double h_sd)
{
    *c = (health_cusum_t) { .k_sd = k_sd, .h_sd = h_sd };
}

bool
health_cusum_update (health_cusum_t *c, double z)
{
    if (!isfinite (z))
        return c->alarm;
    c->sum = fmax (0, c->sum + z - c->k_sd);
    c->alarm = c->sum > c->h_sd;
    return c->alarm;
}

/* CUSUM design: k = 0.5 sd, h = 8 sd.  By Siegmund's approximation the
 * in-control run length is about 19,000 readings (a false alarm every two
 * weeks at one reading a minute; h = 5, the textbook value, gives about
 * 900: several a day) and a 1-sd shift is found in about 18 readings, a
 * 3-sd shift in about 4. */
#define S_CUSUM_K 0.5
#define S_CUSUM_H 8.0

void
health_thermal_init (health_thermal_t *d, double rise_full_load_c, double sd_c, double limit_c)
{
    *d = (health_thermal_t) { .rise_full_load_c = rise_full_load_c, .sd_c = sd_c, .limit_c = limit_c };
    health_cusum_init (&d->cusum, S_CUSUM_K, S_CUSUM_H);
}

double
health_thermal_update (health_thermal_t *d, double temp_c, double ambient_c, double load_frac)
{
    if (!isfinite (temp_c) || !isfinite (ambient_c) || !isfinite (load_frac) || !(d->sd_c > 0))
        return -1;
    double expected = ambient_c + d->rise_full_load_c * s_clamp01 (load_frac);
    d->last_temp_c = temp_c;
    d->last_residual_c = temp_c - expected;
    bool drifting = health_cusum_update (&d->cusum, d->last_residual_c / d->sd_c);
    if (temp_c >= d->limit_c)
        return 1;
    if (!drifting)
        return 0;
    double margin = d->limit_c - expected;
    return margin > 0 ? s_clamp01 (d->last_residual_c / margin) : 1;
}

/* Weight of the newest slope in the depletion-rate EWMA. */
#define S_LUBE_ALPHA 0.2

void
health_lube_init (health_lube_t *d, double min_frac)
{
    *d = (health_lube_t) { .min_frac = min_frac, .alpha = S_LUBE_ALPHA };
}

double
health_lube_update (health_lube_t *d, double t_h, double level_frac, double *hours_left)
{
    if (!isfinite (t_h) || !isfinite (level_frac) || level_frac < 0 || level_frac > 1.5)
        return -1;
    if (d->have_last && t_h > d->last_t_h) {
        double slope = (d->last_frac - level_frac) / (t_h - d->last_t_h);
        /* A refill (level jumps up) restarts the rate estimate. */
        if (slope < 0 && level_frac > d->last_frac + 0.05)
            d->rate_per_h = 0;
        else
            d->rate_per_h = d->rate_per_h == 0 ? slope
                                               : d->alpha * slope + (1 - d->alpha) * d->rate_per_h;
    }
    d->last_t_h = t_h;
    d->last_frac = level_frac;
    d->have_last = true;
    if (hours_left)
        *hours_left = d->rate_per_h > 0 ? fmax (0, (level_frac - d->min_frac) / d->rate_per_h)
                                        : INFINITY;
    return s_clamp01 ((1 - level_frac) / (1 - d->min_frac));
}

void
health_drag_init (health_drag_t *d, int baseline_n)
{
    *d = (health_drag_t) { .baseline_n = baseline_n > 2 ? baseline_n : 2, .last_ratio = 1 };
    health_cusum_init (&d->cusum, S_CUSUM_K, S_CUSUM_H);
}

double
health_drag_update (health_drag_t *d, double power_kw, double speed_mps)
{
    if (!isfinite (power_kw) || !isfinite (speed_mps) || speed_mps <= 0 || power_kw < 0)
        return -1;
    double x = power_kw / speed_mps;
    if (d->n < d->baseline_n) {
        d->n++;
        double delta = x - d->mean;
        d->mean += delta / d->n;
        d->m2 += delta * (x - d->mean);
        return 0;
    }
    double sd = sqrt (d->m2 / (d->n - 1));
    if (!(sd > 0))
        sd = fmax (1e-9, 0.01 * fabs (d->mean));
    d->last_ratio = d->mean > 0 ? x / d->mean : 1;
    if (!health_cusum_update (&d->cusum, (x - d->mean) / sd))
        return 0;
    /* Doubling the drag (ratio 2) is taken as failed: the drive trips on
     * overload well before that on typical sizing. */
    return s_clamp01 (d->last_ratio - 1);
}

int
health_miner_init (health_miner_t *d, double s_ref, double n_ref, double m, double endurance)
{
    if (!(s_ref > 0 && n_ref > 0 && m > 0 && endurance >= 0))
        return -1;
    *d = (health_miner_t) { .s_ref = s_ref, .n_ref = n_ref, .m = m, .endurance = endurance };
    return 0;
}

size_t
health_miner_add (health_miner_t *d, const double *amps, size_t n)
{
    size_t skipped = 0;
    for (size_t i = 0; amps && i < n; i++) {
        double s = amps[i];
        if (!isfinite (s) || s < 0) {
            skipped++;
            continue;
        }
        d->cycles++;
        if (s <= d->endurance || s == 0)
            continue;
        d->damage += 1 / (d->n_ref * pow (d->s_ref / s, d->m));
    }
    return skipped;
}

int
health_index_add (health_index_t *hi, const char *name, double severity)
{
    if (!hi || !name || !isfinite (severity))
        return -1;
    for (int i = 0; i < hi->n; i++)
        if (!strcmp (hi->evidence[i].name, name)) {
            hi->evidence[i].severity = s_clamp01 (severity);
            return 0;
        }
    if (hi->n == HEALTH_EVIDENCE_MAX)
        return -1;
    hi->evidence[hi->n++] = (health_evidence_t) { .name = name, .severity = s_clamp01 (severity) };
    return 0;
}

double
health_index_value (const health_index_t *hi, const health_evidence_t **worst)
{
    const health_evidence_t *w = NULL;
    for (int i = 0; hi && i < hi->n; i++)
        if (!w || hi->evidence[i].severity > w->severity)
            w = &hi->evidence[i];
    if (worst)
        *worst = w;
    return w ? 1 - w->severity : 1;
}
