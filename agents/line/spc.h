/*  spc — statistical process control charts for in-line measurements.
 *
 *  Three charts on individual observations, each standardised with the
 *  in-control mean and sigma it is given:
 *    Shewhart  with any of the Western Electric rules: (1) one point beyond
 *              3σ, (2) two of three beyond 2σ on one side, (3) four of five
 *              beyond 1σ on one side, (4) eight in a row on one side;
 *    EWMA      z = λx + (1 − λ)z, limits ±L σ √(λ / (2 − λ)) (asymptotic);
 *    CUSUM     tabular, two-sided, reference k and decision interval h (σ).
 *  A chart signals at most once per observation and restarts after a signal
 *  (the caller corrects the process).  A NaN or infinite observation is
 *  refused: counted, and the chart state is left as it was.
 *
 *  Theory for the in-control and shifted average run length (ARL), used by
 *  the tests and to state false-alarm rates: spc_arl_shewhart1 (exact,
 *  1 / P(|Z + δ| > 3)), spc_arl_cusum (Siegmund's approximation, two-sided),
 *  spc_arl_ewma (Brook & Evans' Markov chain).  See docs/line.md.
 */
#ifndef LINE_SPC_H
#define LINE_SPC_H

#include <stddef.h>

typedef enum { SPC_SHEWHART, SPC_EWMA, SPC_CUSUM } spc_kind_t;

/* Western Electric rules, as a bit set for spc_params_t.we_rules. */
enum { SPC_WE1 = 1, SPC_WE2 = 2, SPC_WE3 = 4, SPC_WE4 = 8, SPC_WE_ALL = 15 };

typedef struct {
    spc_kind_t kind;
    double mean, sigma;                 /* in control, of one observation */
    unsigned we_rules;                  /* Shewhart: SPC_WE* bits (0 = rule 1 only) */
    double lambda, limit_l;             /* EWMA: weight (0, 1] and width L */
    double k, h;                        /* CUSUM: in sigmas */
} spc_params_t;

/* Signals returned by spc_update: 0 none, SPC_SIG_UP / SPC_SIG_DOWN for the
 * direction of the shift, and for Shewhart the rule in SPC_SIG_RULE(x). */
enum { SPC_SIG_UP = 1 << 8, SPC_SIG_DOWN = 1 << 9 };
#define SPC_SIG_RULE(x) ((x) & 0xff)
#define SPC_EBADINPUT (-1)

typedef struct spc spc_t;

/* A chart, or NULL with why in ERR (sigma ≤ 0, λ outside (0, 1] …). */
spc_t *spc_new (const spc_params_t *params, char *err, size_t err_len);
void spc_destroy (spc_t **self_p);

/* Adds observation X.  Returns 0, a signal (see above), or SPC_EBADINPUT. */
int spc_update (spc_t *self, double x);
/* Restarts the chart (after a correction). */
void spc_reset (spc_t *self);
/* The chart statistic now (standardised z for Shewhart, EWMA z, max of
 * the two CUSUM sums), observations seen and refused. */
double spc_statistic (const spc_t *self);
size_t spc_count (const spc_t *self);
size_t spc_rejected (const spc_t *self);

/* Average run length to the first signal for a mean shift of DELTA sigmas. */
double spc_arl_shewhart1 (double delta);
double spc_arl_cusum (double k, double h, double delta);
/* M (odd, e.g. 151) Markov states; −1 if M is out of range. */
double spc_arl_ewma (double lambda, double limit_l, double delta, int m);

#endif
