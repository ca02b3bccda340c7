/* bearing.c — bearing fault classification from the envelope spectrum
 * (see bearing.h and docs/maintenance.md for the method and its numbers). */
#include "bearing.h"

#include <math.h>
#include <stdlib.h>

struct bearing_clf {
    vib_analyzer_t *an;
    size_t n;
    bearing_geom_t geom;
    bearing_params_t params;
    double *env;    /* envelope spectrum, n/2+1 bins */
};

const char *
bearing_class_name (bearing_class_t cls)
{
    static const char *names[BEARING_CLASSES] = { "normal", "outer", "inner", "ball" };
    return (unsigned) cls < BEARING_CLASSES ? names[cls] : "unknown";
}

bearing_params_t
bearing_params_default (void)
{
    return (bearing_params_t) {
        .band_lo_hz = 2000,
        .band_hi_hz = 5000,
        .harmonics = 3,
        .tol_rel = 0.015,
        .noise_hz = 10,
        .snr_strong = 10,
        .kurt_impulsive = 3.3,
    };
}

bearing_clf_t *
bearing_clf_new (size_t n, double fs_hz, const bearing_geom_t *geom,
                 const bearing_params_t *params)
{
    bearing_freqs_t probe;
    if (!geom || !params || bearing_fault_freqs (geom, 1.0, &probe))
        return NULL;
    if (!(params->band_lo_hz > 0 && params->band_hi_hz > params->band_lo_hz
          && params->band_hi_hz <= fs_hz / 2) || params->harmonics < 1)
        return NULL;
    bearing_clf_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->geom = *geom;
    self->params = *params;
    self->n = n;
    self->an = vib_analyzer_new (n, fs_hz);
    if (!self->an)
        goto fail;
    self->env = malloc (vib_analyzer_bins (self->an) * sizeof (double));
    if (!self->env)
        goto fail;
    return self;
fail:
    bearing_clf_destroy (&self);
    return NULL;
}

void
bearing_clf_destroy (bearing_clf_t **p_self)
{
    if (!p_self || !*p_self)
        return;
    bearing_clf_t *self = *p_self;
    vib_analyzer_destroy (&self->an);
    free (self->env);
    free (self);
    *p_self = NULL;
}

/* Shaft-synchronous lines (k x shaft speed: unbalance, misalignment, a
 * loose fit) are in every machine's envelope and say nothing about the
 * bearing; at higher harmonics they fall inside the slip tolerance of a
 * fault line (16 x fr is within 2 % of 3 x BPFI for the CWRU bearing).  Zero
 * mask them (NAN), +-S_SHAFT_MASK_BINS, before the fault lines are scored. */
#define S_SHAFT_MASK_BINS 1

static void
s_mask_shaft_lines (double *env, size_t bins, double bin_hz, double shaft_hz)
{
    for (double f = shaft_hz; f < bin_hz * (double) bins; f += shaft_hz) {
        long c = lround (f / bin_hz);
        for (long i = c - S_SHAFT_MASK_BINS; i <= c + S_SHAFT_MASK_BINS; i++)
            if (i > 0 && i < (long) bins)
                env[i] = NAN;
    }
}

/* The decision, from physics first (docs/maintenance.md, "bearing"):
 * - a localised race defect in the load zone is struck on every pass, so
 *   its envelope line stands far above the floor (snr_strong): that race;
 * - otherwise, impacts show as an impulsive band signal without a clean
 *   race line: a rolling-element defect, whose impacts are modulated by
 *   the cage and spread over sidebands.  Impulsive means a kurtosis above
 *   kurt_impulsive = 3.3: Gaussian noise has 3 and the sample kurtosis of
 *   a 1-s window (about 6000 independent samples in a 3 kHz band) has a
 *   standard error near 0.06, so 3.3 is 5 standard errors above noise;
 *   tonal machine noise stays below 3;
 * - neither: normal.  A weak line alone, in a non-impulsive band, is
 *   machine noise (the CWRU baseline shows such lines near BPFI). */
static bearing_class_t
s_decide (const bearing_params_t *p, const bearing_evidence_t *e)
{
    bearing_class_t race = e->snr_bpfo >= e->snr_bpfi ? BEARING_OUTER : BEARING_INNER;
    double race_snr = fmax (e->snr_bpfo, e->snr_bpfi);
    if (race_snr >= p->snr_strong)
        return race;
    if (e->band_kurtosis >= p->kurt_impulsive)
        return BEARING_BALL;
    return BEARING_NORMAL;
}

vib_status_t
bearing_clf_classify (bearing_clf_t *self, const double *x, double shaft_hz,
                      bearing_class_t *cls, bearing_evidence_t *ev)
{
    if (!self || !cls)
        return VIB_ERR_ARG;
    bearing_evidence_t e = { 0 };
    if (!isfinite (shaft_hz) || shaft_hz <= 0 || bearing_fault_freqs (&self->geom, shaft_hz, &e.freqs))
        return VIB_ERR_RATE;
    const bearing_params_t *p = &self->params;
    vib_status_t st = vib_envelope_spectrum (self->an, x, p->band_lo_hz, p->band_hi_hz, self->env,
                                             &e.band_kurtosis);
    if (st != VIB_OK)
        return st;
    vib_features (x, self->n, &e.raw);
    size_t bins = vib_analyzer_bins (self->an);
    double bin_hz = vib_analyzer_bin_hz (self->an);
    s_mask_shaft_lines (self->env, bins, bin_hz, shaft_hz);
    e.snr_bpfo = vib_line_snr (self->env, bins, bin_hz, e.freqs.bpfo_hz, p->harmonics, p->tol_rel,
                               p->noise_hz);
    e.snr_bpfi = vib_line_snr (self->env, bins, bin_hz, e.freqs.bpfi_hz, p->harmonics, p->tol_rel,
                               p->noise_hz);
    e.snr_ball = vib_line_snr (self->env, bins, bin_hz, 2 * e.freqs.bsf_hz, p->harmonics,
                               p->tol_rel, p->noise_hz);
    e.snr_ftf = vib_line_snr (self->env, bins, bin_hz, e.freqs.ftf_hz, p->harmonics,
                              p->tol_rel, p->noise_hz / 2);
    *cls = s_decide (p, &e);
    if (ev)
        *ev = e;
    return VIB_OK;
}
