/*  af_weibull — two-parameter Weibull fit by maximum likelihood with
 *  right-censored observations (units still running, or removed before
 *  failure), and what follows from it: MTTF, reliability, conditional
 *  failure probability.  Shared by every agent that reasons about a fleet's
 *  failure history.  Plain C, no allocation. */
#ifndef AF_WEIBULL_H
#define AF_WEIBULL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    double shape;     /* beta: < 1 infant mortality, 1 random, > 1 wear-out */
    double scale;     /* eta, in the unit of the times given */
    int failures;     /* uncensored observations used */
    double loglik;    /* log-likelihood at the fit */
} af_weibull_t;

/* Fits TIMES[i] > 0 (i < n), where FAILED[i] says whether unit i failed at
 * that time (false: still running or removed then, i.e. right-censored; a
 * NULL FAILED means every unit failed).  Needs at least 2 failures at 2
 * different times.  0, or -1 (OUT untouched) on too little or bad data. */
int af_weibull_fit (const double *times, const bool *failed, size_t n, af_weibull_t *out);

/* Mean time to failure: scale * Gamma(1 + 1/shape). */
double af_weibull_mttf (const af_weibull_t *w);

/* Probability of surviving past T. */
double af_weibull_reliability (const af_weibull_t *w, double t);

/* Probability that a unit that has survived AGE fails within the next
 * HORIZON: 1 - R(age + horizon) / R(age). */
double af_weibull_fail_within (const af_weibull_t *w, double age, double horizon);

#endif
