/*  inspect — CSP-1 continuous sampling with forced 100 % inspection on risk
 *  (see inspect.h).
 */
#include "inspect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct insp {
    insp_params_t p;
    bool full;                          /* inspecting every unit */
    double clear_run;                   /* units in a row with no defect found, at 100 % */
    double hold_units;                  /* forced 100 % for this many more units */
    size_t rejected;
};

double
insp_aoq (double p, double f, double clearance)
{
    if (!(p >= 0 && p <= 1) || !(f > 0 && f <= 1) || !(clearance >= 0))
        return NAN;
    double qi = pow (1.0 - p, clearance);
    return p * (1.0 - f) * qi / (f + (1.0 - f) * qi);
}

double
insp_aoql (double f, double clearance)
{
    if (!(f > 0 && f <= 1) || !(clearance >= 0))
        return NAN;
    /* A log grid finds the hump; golden section around the best point. */
    double best_p = 1e-7, best = 0;
    for (double lp = -7; lp <= 0; lp += 0.02) {
        double p = pow (10, lp), a = insp_aoq (p, f, clearance);
        if (a > best) {
            best = a;
            best_p = p;
        }
    }
    double lo = best_p / pow (10, 0.02), hi = fmin (1, best_p * pow (10, 0.02));
    const double g = (sqrt (5) - 1) / 2;
    for (int it = 0; it < 60; it++) {
        double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
        if (insp_aoq (a, f, clearance) > insp_aoq (b, f, clearance))
            hi = b;
        else
            lo = a;
    }
    return fmax (best, insp_aoq ((lo + hi) / 2, f, clearance));
}

long
insp_clearance (double f, double target)
{
    if (!(f > 0 && f < 1) || !(target > 0 && target < 1))
        return -1;
    /* AOQL falls as I grows: bisection on I. */
    long lo = 1, hi = 10000000;
    if (insp_aoql (f, (double) hi) > target)
        return -1;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (insp_aoql (f, (double) mid) <= target)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

insp_t *
insp_new (const insp_params_t *params, char *err, size_t err_len)
{
    if (!params || params->sample_every < 2 || params->clearance < 1) {
        snprintf (err, err_len, "inspection plan: need 1 in k ≥ 2 and a clearance number ≥ 1");
        return NULL;
    }
    insp_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    self->p = *params;
    self->full = true;
    return self;
}

void
insp_destroy (insp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

int
insp_update (insp_t *self, double units, double found)
{
    if (!(units >= 0) || !(found >= 0) || !isfinite (units) || !isfinite (found)) {
        self->rejected++;
        return insp_sample_every (self);
    }
    if (found > 0) {
        /* A defect found: back to every unit, the clear run restarts. */
        self->full = true;
        self->clear_run = 0;
    }
    else if (self->full)
        self->clear_run += units;
    if (self->hold_units > 0) {
        self->hold_units = fmax (0, self->hold_units - units);
        self->clear_run = 0;
    }
    else if (self->full && self->clear_run >= (double) self->p.clearance)
        self->full = false;
    return insp_sample_every (self);
}

void
insp_force (insp_t *self, double hold_units)
{
    self->full = true;
    self->clear_run = 0;
    if (hold_units > self->hold_units)
        self->hold_units = hold_units;
}

int
insp_sample_every (const insp_t *self)
{
    return self->full ? 1 : self->p.sample_every;
}

double
insp_clear_run (const insp_t *self)
{
    return self->clear_run;
}

size_t
insp_rejected (const insp_t *self)
{
    return self->rejected;
}
