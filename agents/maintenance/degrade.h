/* degrade.h — degradation model with Bayesian update for one component
 * (ISO 13374 "prognosis" where no fleet of run-to-failure histories
 * exists): the condition indicator follows
 *     y(t) = theta0 + theta1 * t + e,  e ~ N(0, noise_sd^2)
 * (or ln y(t) for exponential growth, as in Gebraeel et al., IIE Trans.
 * 37, 2005), with a Gaussian prior on (theta0, theta1) from the component
 * type; every observation updates the posterior exactly (conjugate normal
 * model), and the RUL is the time to the failure threshold, with an
 * interval from the posterior.  Plain C, no bus code. */
#ifndef AF_MAINT_DEGRADE_H
#define AF_MAINT_DEGRADE_H

#include <stdbool.h>

typedef struct {
    double prior_mean[2];    /* theta0, theta1 */
    double prior_cov[2][2];
    double noise_sd;         /* observation noise (in ln units if log_scale) */
    double threshold;        /* failure threshold on y (raw units) */
    bool log_scale;          /* model ln y (exponential degradation) */
} degrade_params_t;

typedef struct degrade degrade_t;

/* NULL on a non-positive-definite prior, noise_sd <= 0, or (log_scale) a
 * threshold <= 0. */
degrade_t *degrade_new (const degrade_params_t *params);
void degrade_destroy (degrade_t **p_self);

/* Adds the reading Y at time T.  -1 (ignored) on a non-finite value or,
 * with log_scale, Y <= 0. */
int degrade_observe (degrade_t *self, double t, double y);

/* Posterior mean and covariance of (theta0, theta1). */
void degrade_posterior (const degrade_t *self, double mean[2], double cov[2][2]);

/* RUL after T_NOW: the median and the central COVERAGE interval of the
 * time until the mean path crosses the threshold, over N_DRAWS posterior
 * draws (deterministic: a fixed seed).  Draws that never reach the
 * threshold count as HORIZON.  0, or -1 on bad arguments. */
int degrade_rul (const degrade_t *self, double t_now, double coverage, double horizon,
                 double *median, double *lo, double *hi);

#define DEGRADE_DRAWS 4000

#endif
