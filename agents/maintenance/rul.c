/* rul.c — RUL by gradient-boosted trees on windowed features (see rul.h and
 * docs/maintenance.md for the choice and its measurements). */
#include "rul.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

/* Sensors that change with degradation in C-MAPSS FD001 (1-based; 1, 5, 6,
 * 10, 16, 18, 19 are constant or nearly so there). */
static const int s_sensors[] = { 2, 3, 4, 7, 8, 9, 11, 12, 13, 14, 15, 17, 20, 21 };
#define S_N_SENSORS ((int) (sizeof s_sensors / sizeof s_sensors[0]))
/* Per sensor: the window's least-squares line evaluated at the last cycle
 * (less noisy than the last readings, no lag on a trend), its slope, and
 * that endpoint minus the unit's own early baseline (the mean of its first
 * S_BASELINE cycles: engines start with different wear and build
 * tolerances, so the drift from their own start is the cleaner health
 * signal); plus the cycle count. */
#define S_BASELINE 20
#define S_FEATURES (3 * S_N_SENSORS + 1)
/* Predicted-RUL bands for the interval quantiles (errors grow with RUL). */
#define S_BANDS 3

struct rul_model {
    rul_params_t params;
    BoosterHandle booster;
    double band_edge[S_BANDS - 1];     /* predicted-RUL edges of the bands */
    double q_lo[S_BANDS], q_hi[S_BANDS]; /* residual quantiles (true - pred) */
};

rul_params_t
rul_params_default (void)
{
    return (rul_params_t) {
        .window_cycles = 30, .cap_cycles = 125, .rounds = 300, .max_depth = 4, .eta = 0.05,
        .threads = 2, .seed = 1, .calib_frac = 0.2, .coverage = 0.9,
    };
}

double
rul_phm08_score (double d)
{
    return d < 0 ? exp (-d / 13.0) - 1 : exp (d / 10.0) - 1;
}

static double
s_at (const cmapss_unit_t *unit, int row, int col)
{
    return unit->x[(size_t) row * CMAPSS_COLS + col];
}

/* Features of UNIT after its first T cycles (T >= 1) into OUT. */
static void
s_features (const cmapss_unit_t *unit, int t, int window, float *out)
{
    int w0 = t > window ? t - window : 0, m = t - w0;
    int nb = t < S_BASELINE ? t : S_BASELINE;
    double tbar = (m - 1) / 2.0, stt = 0;
    for (int i = 0; i < m; i++)
        stt += (i - tbar) * (i - tbar);
    for (int s = 0; s < S_N_SENSORS; s++) {
        int col = CMAPSS_SETTINGS + s_sensors[s] - 1;
        double sum = 0, sty = 0, base = 0;
        for (int i = w0; i < t; i++)
            sum += s_at (unit, i, col);
        double mean = sum / m;
        for (int i = w0; i < t; i++)
            sty += (i - w0 - tbar) * (s_at (unit, i, col) - mean);
        for (int i = 0; i < nb; i++)
            base += s_at (unit, i, col);
        double slope = stt > 0 ? sty / stt : 0, end = mean + slope * (m - 1 - tbar);
        out[3 * s] = (float) end;
        out[3 * s + 1] = (float) slope;
        out[3 * s + 2] = (float) (end - base / nb);
    }
    out[S_FEATURES - 1] = (float) t;
}

#define S_XGB(call, what)                                                                     \
    do {                                                                                      \
        if ((call) != 0) {                                                                    \
            snprintf (err, CMAPSS_ERR_LEN, "xgboost: %s: %s", what, XGBGetLastError ());      \
            goto fail;                                                                        \
        }                                                                                     \
    } while (0)

/* Trains a booster on the units of FLEET whose flag in USE is set (all if
 * USE is NULL). */
static BoosterHandle
s_train (const cmapss_fleet_t *fleet, const char *use, const rul_params_t *p, char *err)
{
    size_t rows = 0;
    for (int u = 0; u < fleet->n_units; u++)
        if (!use || use[u])
            rows += (size_t) fleet->units[u].n_cycles;
    float *x = malloc (rows * S_FEATURES * sizeof (float)), *y = malloc (rows * sizeof (float));
    DMatrixHandle dm = NULL;
    BoosterHandle b = NULL;
    if (!x || !y) {
        snprintf (err, CMAPSS_ERR_LEN, "out of memory");
        goto fail;
    }
    size_t r = 0;
    for (int u = 0; u < fleet->n_units; u++) {
        const cmapss_unit_t *unit = &fleet->units[u];
        if (use && !use[u])
            continue;
        for (int t = 1; t <= unit->n_cycles; t++, r++) {
            s_features (unit, t, p->window_cycles, x + r * S_FEATURES);
            y[r] = (float) fmin (unit->n_cycles - t, p->cap_cycles);
        }
    }
    S_XGB (XGDMatrixCreateFromMat (x, rows, S_FEATURES, NAN, &dm), "matrix");
    S_XGB (XGDMatrixSetFloatInfo (dm, "label", y, rows), "labels");
    S_XGB (XGBoosterCreate (&dm, 1, &b), "booster");
    char text[32];
    const struct {
        const char *key;
        double value;
        int is_int;
    } params[] = {
        { "max_depth", p->max_depth, 1 }, { "eta", p->eta, 0 },       { "nthread", p->threads, 1 },
        { "seed", p->seed, 1 },           { "subsample", 0.8, 0 },     { "colsample_bytree", 0.8, 0 },
        { "min_child_weight", 5, 1 },
    };
    S_XGB (XGBoosterSetParam (b, "objective", "reg:squarederror"), "objective");
    S_XGB (XGBoosterSetParam (b, "tree_method", "hist"), "tree_method");
    S_XGB (XGBoosterSetParam (b, "verbosity", "0"), "verbosity");
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        snprintf (text, sizeof text, params[i].is_int ? "%.0f" : "%g", params[i].value);
        S_XGB (XGBoosterSetParam (b, params[i].key, text), params[i].key);
    }
    for (int it = 0; it < p->rounds; it++)
        S_XGB (XGBoosterUpdateOneIter (b, it, dm), "training");
    XGDMatrixFree (dm);
    free (x);
    free (y);
    return b;
fail:
    if (b)
        XGBoosterFree (b);
    if (dm)
        XGDMatrixFree (dm);
    free (x);
    free (y);
    return NULL;
}

static double
s_predict (BoosterHandle b, const cmapss_unit_t *unit, int t, int window)
{
    float f[S_FEATURES];
    s_features (unit, t, window, f);
    DMatrixHandle dm = NULL;
    bst_ulong len = 0;
    const float *out = NULL;
    double v = NAN;
    if (XGDMatrixCreateFromMat (f, 1, S_FEATURES, NAN, &dm) == 0
        && XGBoosterPredict (b, dm, 0, 0, 0, &len, &out) == 0 && len == 1)
        v = fmax (0, out[0]);
    if (dm)
        XGDMatrixFree (dm);
    return v;
}

/* splitmix64: a small, seedable generator for the calibration split. */
static uint64_t
s_next (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static double
s_quantile (double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort (v, n, sizeof *v, s_cmp_double);
    double pos = q * (double) (n - 1);
    size_t i = (size_t) floor (pos);
    double frac = pos - (double) i;
    return i + 1 < n ? v[i] * (1 - frac) + v[i + 1] * frac : v[n - 1];
}

static int
s_band (const rul_model_t *self, double pred)
{
    int b = 0;
    while (b < S_BANDS - 1 && pred >= self->band_edge[b])
        b++;
    return b;
}

/* Interval calibration (split conformal): a model trained without a
 * random share of the units predicts those units at every 5th cycle from
 * cycle 31 on (where the truth is within 1.2 x cap, the range a prognosis
 * is asked about); the residual quantiles per predicted-RUL band become
 * the interval around the final model's predictions. */
static int
s_calibrate (rul_model_t *self, const cmapss_fleet_t *fleet, char *err)
{
    const rul_params_t *p = &self->params;
    char *use = malloc ((size_t) fleet->n_units);
    size_t cap = 0;
    for (int u = 0; u < fleet->n_units; u++)
        cap += (size_t) fleet->units[u].n_cycles / 5 + 1;
    double *res[S_BANDS] = { 0 };
    size_t n_res[S_BANDS] = { 0 };
    BoosterHandle b = NULL;
    int rc = -1;
    for (int k = 0; k < S_BANDS; k++)
        res[k] = malloc (cap * sizeof (double));
    if (!use || !res[0] || !res[1] || !res[2]) {
        snprintf (err, CMAPSS_ERR_LEN, "out of memory");
        goto done;
    }
    uint64_t state = p->seed * 7919ULL + 17;
    int n_calib = 0;
    for (int u = 0; u < fleet->n_units; u++) {
        use[u] = (double) (s_next (&state) >> 11) / 9007199254740992.0 >= p->calib_frac;
        n_calib += !use[u];
    }
    if (n_calib < 3 || n_calib > fleet->n_units - 3) {
        snprintf (err, CMAPSS_ERR_LEN, "too few units to calibrate intervals (%d units)",
                  fleet->n_units);
        goto done;
    }
    b = s_train (fleet, use, p, err);
    if (!b)
        goto done;
    for (int u = 0; u < fleet->n_units; u++) {
        const cmapss_unit_t *unit = &fleet->units[u];
        if (use[u])
            continue;
        for (int t = 31; t < unit->n_cycles; t += 5) {
            double truth = unit->n_cycles - t, pred = s_predict (b, unit, t, p->window_cycles);
            if (truth > 1.2 * p->cap_cycles || !isfinite (pred))
                continue;
            int k = s_band (self, pred);
            res[k][n_res[k]++] = truth - pred;
        }
    }
    for (int k = 0; k < S_BANDS; k++) {
        self->q_lo[k] = s_quantile (res[k], n_res[k], (1 - p->coverage) / 2);
        self->q_hi[k] = s_quantile (res[k], n_res[k], (1 + p->coverage) / 2);
    }
    rc = 0;
done:
    if (b)
        XGBoosterFree (b);
    for (int k = 0; k < S_BANDS; k++)
        free (res[k]);
    free (use);
    return rc;
}

rul_model_t *
rul_model_train (const cmapss_fleet_t *fleet, const rul_params_t *params, char *err)
{
    char dummy[CMAPSS_ERR_LEN];
    if (!err)
        err = dummy;
    if (!fleet || !params || fleet->n_units < 6) {
        snprintf (err, CMAPSS_ERR_LEN, "need at least 6 run-to-failure units to train");
        return NULL;
    }
    if (params->window_cycles < 2 || !(params->cap_cycles > 0) || params->rounds < 1
        || !(params->coverage > 0 && params->coverage < 1)) {
        snprintf (err, CMAPSS_ERR_LEN, "bad RUL model parameters");
        return NULL;
    }
    rul_model_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->params = *params;
    for (int k = 0; k < S_BANDS - 1; k++)
        self->band_edge[k] = params->cap_cycles * (k + 1) / S_BANDS;
    if (s_calibrate (self, fleet, err))
        goto fail;
    self->booster = s_train (fleet, NULL, params, err);
    if (!self->booster)
        goto fail;
    return self;
fail:
    rul_model_destroy (&self);
    return NULL;
}

void
rul_model_destroy (rul_model_t **p_self)
{
    if (!p_self || !*p_self)
        return;
    rul_model_t *self = *p_self;
    if (self->booster)
        XGBoosterFree (self->booster);
    free (self);
    *p_self = NULL;
}

int
rul_model_predict (rul_model_t *self, const cmapss_unit_t *unit, int upto_cycles, double *rul,
                   double *lo, double *hi)
{
    if (!self || !unit || !rul || unit->n_cycles < 1)
        return -1;
    int t = upto_cycles <= 0 || upto_cycles > unit->n_cycles ? unit->n_cycles : upto_cycles;
    double pred = s_predict (self->booster, unit, t, self->params.window_cycles);
    if (!isfinite (pred))
        return -1;
    int k = s_band (self, pred);
    *rul = pred;
    if (lo)
        *lo = fmax (0, pred + self->q_lo[k]);
    if (hi)
        *hi = fmax (pred, pred + self->q_hi[k]);
    return 0;
}
