/* rul.h — remaining useful life from multivariate run-to-failure histories
 * (ISO 13374 "prognosis"): gradient-boosted trees (XGBoost's C API) on
 * windowed sensor features, trained on a piecewise-linear target (RUL capped
 * at cap_cycles), with a per-prediction interval calibrated on units held
 * out of the training fleet (split conformal).  Plain C, no bus code. */
#ifndef AF_MAINT_RUL_H
#define AF_MAINT_RUL_H

#include "cmapss.h"

typedef struct {
    int window_cycles;   /* trend window */
    double cap_cycles;   /* piecewise-linear target cap */
    int rounds;          /* boosting rounds */
    int max_depth;
    double eta;
    int threads;
    unsigned seed;
    double calib_frac;   /* share of training units held out to calibrate intervals */
    double coverage;     /* interval coverage wanted, e.g. 0.9 */
} rul_params_t;

rul_params_t rul_params_default (void);

typedef struct rul_model rul_model_t;

/* Trains on every cycle of every unit of FLEET (each run to failure).
 * NULL with why in ERR (CMAPSS_ERR_LEN bytes) on too few units or an
 * XGBoost failure. */
rul_model_t *rul_model_train (const cmapss_fleet_t *fleet, const rul_params_t *params, char *err);
void rul_model_destroy (rul_model_t **p_self);

/* Predicts the RUL (cycles) of UNIT after its first upto_cycles cycles (all
 * of them if upto_cycles <= 0 or larger), with an interval [*lo, *hi] of
 * the wanted coverage.  0, or -1 on an empty unit. */
int rul_model_predict (rul_model_t *self, const cmapss_unit_t *unit, int upto_cycles, double *rul,
                       double *lo, double *hi);

/* PHM08 asymmetric score of one prediction error d = predicted - true
 * (Saxena et al., PHM08): exp(-d/13) - 1 early, exp(d/10) - 1 late. */
double rul_phm08_score (double d);

#endif
