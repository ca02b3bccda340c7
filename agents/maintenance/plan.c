/*  plan.c — estimated wear, age-replacement thresholds, RUL and breakdown
 *  attribution for the maintenance agent (model and choices in plan.h).
 */
#include "agents/maintenance/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_STATIONS 256
/* Grid of the threshold search, in multiples of the rated limit. */
#define S_GRID_N 1200
#define S_GRID_MAX 3.0

typedef struct {
    plan_comp_spec_t spec;
    double cv;                          /* life_cv widened by the model's */
    double wear;                        /* estimated, rated units */
    double threshold;                   /* w*, rated units */
    double rate_now;                    /* wear per busy hour at the last speed */
} s_comp_t;

typedef struct {
    char name[64];
    double mtbf_h;
    double speed;
    s_comp_t comp[PLAN_MAX_COMP];
    size_t n;
    int lube;                           /* index of the lube component, -1 */
} s_station_t;

struct plan {
    plan_opts_t o;
    s_station_t *st;
    size_t n;
};

plan_opts_t
plan_opts_default (void)
{
    return (plan_opts_t) { .failure_cost_ratio = 20, .model_cv = 0.1, .lead_h = 1, .lube_accel = 2 };
}

/* ------------------------------------------------------------ the life law */

static void
s_lognormal (double limit, double cv, double *mu, double *s)
{
    double s2 = log1p (cv * cv);
    *s = sqrt (s2);
    *mu = log (limit) - 0.5 * s2;
}

double
plan_life_cdf (double w, double limit, double cv)
{
    if (!(w > 0))
        return 0;
    if (!(cv > 0))
        return w >= limit ? 1 : 0;
    double mu, s;
    s_lognormal (limit, cv, &mu, &s);
    return 0.5 * erfc (-(log (w) - mu) / (s * M_SQRT2));
}

static double
s_life_pdf (double w, double limit, double cv)
{
    if (!(w > 0) || !(cv > 0))
        return 0;
    double mu, s;
    s_lognormal (limit, cv, &mu, &s);
    double z = (log (w) - mu) / s;
    return exp (-0.5 * z * z) / (w * s * sqrt (2 * M_PI));
}

/* The wear at which the lognormal's CDF reaches P (bisection on log w: the
 * CDF is monotone, 80 steps are below double precision). */
static double
s_life_quantile (double p, double limit, double cv)
{
    double lo = log (limit) - 40 * fmax (cv, 1e-3), hi = log (limit) + 40 * fmax (cv, 1e-3);
    for (int k = 0; k < 80; k++) {
        double mid = 0.5 * (lo + hi);
        if (plan_life_cdf (exp (mid), limit, cv) < p)
            lo = mid;
        else
            hi = mid;
    }
    return exp (0.5 * (lo + hi));
}

double
plan_age_threshold (double limit, double cv, double ratio)
{
    if (!(limit > 0) || !(cv > 0) || !(ratio > 1))
        return limit * S_GRID_MAX;      /* nothing to gain: run to failure */
    double dw = limit * S_GRID_MAX / S_GRID_N, area = 0, r_prev = 1, best_w = limit * S_GRID_MAX;
    double best_g = INFINITY;
    for (int k = 1; k <= S_GRID_N; k++) {
        double w = k * dw, f = plan_life_cdf (w, limit, cv), r = 1 - f;
        area += 0.5 * (r + r_prev) * dw;
        r_prev = r;
        double g = (r + ratio * f) / area;
        if (g < best_g) {
            best_g = g;
            best_w = w;
        }
    }
    return best_w;
}

/* ------------------------------------------------------------ stations */

plan_t *
plan_new (const plan_opts_t *opts)
{
    plan_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->o = opts ? *opts : plan_opts_default ();
    self->st = calloc (S_MAX_STATIONS, sizeof *self->st);
    if (!self->st) {
        free (self);
        return NULL;
    }
    return self;
}

void
plan_destroy (plan_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->st);
    free (*self_p);
    *self_p = NULL;
}

static bool
s_spec_ok (const plan_comp_spec_t *c)
{
    return isfinite (c->rate_per_h) && c->rate_per_h > 0 && isfinite (c->limit) && c->limit > 0
           && isfinite (c->life_cv) && c->life_cv >= 0 && c->life_cv < 5;
}

int
plan_add_station (plan_t *self, const char *name, double mtbf_h, const plan_comp_spec_t *comps, size_t n)
{
    if (!self || !name || self->n >= S_MAX_STATIONS || n > PLAN_MAX_COMP || (n && !comps))
        return -1;
    for (size_t c = 0; c < n; c++)
        if (!s_spec_ok (&comps[c]))
            return -1;
    s_station_t *s = &self->st[self->n];
    memset (s, 0, sizeof *s);
    snprintf (s->name, sizeof s->name, "%s", name);
    s->mtbf_h = isfinite (mtbf_h) && mtbf_h > 0 ? mtbf_h : INFINITY;
    s->speed = 1;
    s->lube = -1;
    s->n = n;
    for (size_t c = 0; c < n; c++) {
        s_comp_t *k = &s->comp[c];
        k->spec = comps[c];
        k->spec.name[sizeof k->spec.name - 1] = 0;
        k->cv = sqrt (comps[c].life_cv * comps[c].life_cv + self->o.model_cv * self->o.model_cv);
        k->threshold = plan_age_threshold (k->spec.limit, k->cv, self->o.failure_cost_ratio);
        k->rate_now = k->spec.rate_per_h;
        if (strcmp (k->spec.name, "lube") == 0)
            s->lube = (int) c;
    }
    return (int) self->n++;
}

size_t
plan_stations (const plan_t *self)
{
    return self ? self->n : 0;
}

static const s_comp_t *
s_comp (const plan_t *self, int st, int c)
{
    if (!self || st < 0 || (size_t) st >= self->n || c < 0 || (size_t) c >= self->st[st].n)
        return NULL;
    return &self->st[st].comp[c];
}

size_t
plan_components (const plan_t *self, int st)
{
    return self && st >= 0 && (size_t) st < self->n ? self->st[st].n : 0;
}

const char *
plan_station_name (const plan_t *self, int st)
{
    return self && st >= 0 && (size_t) st < self->n ? self->st[st].name : NULL;
}

const char *
plan_comp_name (const plan_t *self, int st, int c)
{
    const s_comp_t *k = s_comp (self, st, c);
    return k ? k->spec.name : NULL;
}

/* Bearings and joints wear faster as the lubricant wears. */
static bool
s_lubricated (const char *name)
{
    return strcmp (name, "bearing") == 0 || strcmp (name, "joint") == 0;
}

int
plan_observe (plan_t *self, int st, double busy_frac, double speed, double dt_h)
{
    if (!self || st < 0 || (size_t) st >= self->n || !isfinite (busy_frac) || !isfinite (speed)
        || !isfinite (dt_h) || dt_h < 0 || speed < 0)
        return -1;
    s_station_t *s = &self->st[st];
    busy_frac = fmin (1, fmax (0, busy_frac));
    s->speed = speed > 0 ? speed : s->speed;
    double lube_w = s->lube >= 0 ? s->comp[s->lube].wear / s->comp[s->lube].spec.limit : 0;
    for (size_t c = 0; c < s->n; c++) {
        s_comp_t *k = &s->comp[c];
        double accel = s->lube >= 0 && s_lubricated (k->spec.name) ? 1 + self->o.lube_accel * lube_w : 1;
        k->rate_now = k->spec.rate_per_h * s->speed * accel;
        k->wear += k->rate_now * busy_frac * dt_h;
    }
    return 0;
}

void
plan_renewed (plan_t *self, int st, int c)
{
    const s_comp_t *k = s_comp (self, st, c);
    if (k)
        self->st[st].comp[c].wear = 0;
}

double
plan_wear (const plan_t *self, int st, int c)
{
    const s_comp_t *k = s_comp (self, st, c);
    return k ? k->wear / k->spec.limit : NAN;
}

double
plan_threshold (const plan_t *self, int st, int c)
{
    const s_comp_t *k = s_comp (self, st, c);
    return k ? k->threshold / k->spec.limit : NAN;
}

bool
plan_due (const plan_t *self, int st, int c)
{
    const s_comp_t *k = s_comp (self, st, c);
    return k && k->wear + k->rate_now * self->o.lead_h >= k->threshold;
}

/* ------------------------------------------------------------ prognosis */

/* The wear at which the life, conditioned on exceeding W0, reaches P. */
static double
s_cond_quantile (const s_comp_t *k, double w0, double p)
{
    double f0 = plan_life_cdf (w0, k->spec.limit, k->cv);
    return s_life_quantile (f0 + p * (1 - f0), k->spec.limit, k->cv);
}

int
plan_rul (const plan_t *self, int st, int c, double coverage, double *lo_h, double *mid_h, double *hi_h)
{
    const s_comp_t *k = s_comp (self, st, c);
    if (!k || !(coverage > 0 && coverage < 1) || !lo_h || !mid_h || !hi_h)
        return -1;
    double rate = fmax (k->rate_now, 1e-12), a = 0.5 * (1 - coverage);
    *lo_h = fmax (0, s_cond_quantile (k, k->wear, a) - k->wear) / rate;
    *mid_h = fmax (0, s_cond_quantile (k, k->wear, 0.5) - k->wear) / rate;
    *hi_h = fmax (0, s_cond_quantile (k, k->wear, 1 - a) - k->wear) / rate;
    return 0;
}

double
plan_health (const plan_t *self, int st, int c, double h_busy)
{
    const s_comp_t *k = s_comp (self, st, c);
    if (!k || !(h_busy >= 0))
        return NAN;
    double r0 = 1 - plan_life_cdf (k->wear, k->spec.limit, k->cv);
    double r1 = 1 - plan_life_cdf (k->wear + k->rate_now * h_busy, k->spec.limit, k->cv);
    return r0 > 1e-12 ? fmin (1, fmax (0, r1 / r0)) : 0;
}

int
plan_attribute_breakdown (const plan_t *self, int st)
{
    if (!self || st < 0 || (size_t) st >= self->n)
        return -1;
    const s_station_t *s = &self->st[st];
    /* Hazards per busy hour: the random rate, and each part's lognormal
     * hazard in wear units × its wear rate. */
    double total = 1.0 / s->mtbf_h, best = 0;
    int best_c = -1;
    for (size_t c = 0; c < s->n; c++) {
        const s_comp_t *k = &s->comp[c];
        double r = 1 - plan_life_cdf (k->wear, k->spec.limit, k->cv);
        double h = r > 1e-12 ? s_life_pdf (k->wear, k->spec.limit, k->cv) / r * k->rate_now : 1e6;
        total += h;
        if (h > best) {
            best = h;
            best_c = (int) c;
        }
    }
    return best_c >= 0 && best > 0.5 * total ? best_c : -1;
}
