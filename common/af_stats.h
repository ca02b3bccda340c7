/*  af_stats — the statistics that comparisons of policies need (DESIGN §5):
 *  means, the Student-t distribution and paired confidence intervals.
 *
 *  Pure functions on arrays; nothing here allocates or logs.  The t quantile
 *  is computed (by inverting the CDF, itself the regularised incomplete beta
 *  function), so any confidence level and any number of seeds work, not only
 *  the few of a printed table.  Bad arguments give NAN, never an abort.  */
#ifndef AF_STATS_H
#define AF_STATS_H

#include <stddef.h>

/* Mean of X[0..N-1]; NAN when N is 0. */
double af_stats_mean (const double *x, size_t n);
/* Sample standard deviation (divisor N − 1); NAN when N < 2. */
double af_stats_sd (const double *x, size_t n);

/* Regularised incomplete beta function I_x(a, b), a, b > 0, 0 ≤ x ≤ 1. */
double af_stats_beta_inc (double a, double b, double x);
/* P(T ≤ t) for Student's t with DF > 0 degrees of freedom (DF may be real). */
double af_stats_t_cdf (double t, double df);
/* The t with P(T ≤ t) = P, 0 < P < 1: e.g. af_stats_t_quantile (0.975, 4)
 * = 2.776…, the factor of a two-sided 95 % interval from 5 samples. */
double af_stats_t_quantile (double p, double df);
/* Half-width of the two-sided LEVEL (0.95) confidence interval of the mean
 * of N samples with sample standard deviation SD: t · SD / √N; NAN, N < 2. */
double af_stats_ci_half_width (double sd, size_t n, double level);

/* A paired comparison of policy B against policy A over the same N seeds
 * (common random numbers: A[i] and B[i] share seed i). */
typedef struct {
    size_t n;
    double mean_a, mean_b;
    double diff;             /* mean of B[i] − A[i] (= mean_b − mean_a) */
    double diff_ci;          /* half-width of its paired t interval, in the KPI's unit */
    double change_pct;       /* diff / |mean_a| × 100: the change of the means, in % */
    double change_ci_pct;    /* half-width of its interval, in percentage points */
} af_paired_t;

/* Compares B with A at confidence LEVEL.  The change in % is a ratio of
 * means; its interval linearises the ratio (delta method): with
 * r = diff / mean_a, the per-seed residuals e[i] = (B[i] − A[i]) − r·A[i]
 * have mean 0 and r's standard error is sd(e) / (√N · |mean_a|), which also
 * counts the spread of the baseline.  When mean_a is 0 the change is 0 if
 * every pair is equal, else NAN (no percentage of nothing).  Returns 0, or
 * −1 when N is 0 or LEVEL is not in (0, 1). */
int af_stats_paired (const double *a, const double *b, size_t n, double level, af_paired_t *out);

#endif
