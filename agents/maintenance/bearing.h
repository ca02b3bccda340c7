/* bearing.h — rolling-element bearing diagnosis (ISO 13374 "state
 * detection"): normal / outer race / inner race / ball from the envelope
 * spectrum of one vibration snippet.  Plain C, no bus code. */
#ifndef AF_MAINT_BEARING_H
#define AF_MAINT_BEARING_H

#include "vib.h"

typedef enum {
    BEARING_NORMAL = 0,
    BEARING_OUTER,
    BEARING_INNER,
    BEARING_BALL,
    BEARING_CLASSES
} bearing_class_t;

/* "normal", "outer", "inner", "ball". */
const char *bearing_class_name (bearing_class_t cls);

/* Decision parameters; bearing_params_default() gives the documented ones
 * (docs/maintenance.md says where each number comes from). */
typedef struct {
    double band_lo_hz, band_hi_hz; /* resonance band demodulated */
    int harmonics;                 /* harmonics of each fault line scored */
    double tol_rel;                /* line search half-width, relative (slip) */
    double noise_hz;               /* half-width of the noise-floor window */
    double snr_strong;             /* line SNR of a race defect in the load zone */
    double kurt_impulsive;         /* band kurtosis above which impacts are present */
} bearing_params_t;

bearing_params_t bearing_params_default (void);

/* What a decision rests on: the line SNR of each fault family in the
 * envelope spectrum (see vib_line_snr), the fault frequencies used, and
 * time features of the raw snippet. */
typedef struct {
    double snr_bpfo, snr_bpfi, snr_ball; /* ball: 2 x BSF */
    double snr_ftf;                      /* cage: modulation of ball impacts */
    bearing_freqs_t freqs;
    vib_features_t raw;
    double band_kurtosis;
} bearing_evidence_t;

typedef struct bearing_clf bearing_clf_t;

/* A classifier for snippets of n samples at fs_hz from a bearing of GEOM;
 * NULL on impossible geometry, band or size. */
bearing_clf_t *bearing_clf_new (size_t n, double fs_hz, const bearing_geom_t *geom,
                                const bearing_params_t *params);
void bearing_clf_destroy (bearing_clf_t **p_self);

/* Classifies X (n samples) taken at shaft speed shaft_hz.  Returns VIB_OK
 * and fills *CLS and (if not NULL) *EV, or the reason the snippet was
 * refused (then *CLS is untouched: a refused snippet is a sensor fault). */
vib_status_t bearing_clf_classify (bearing_clf_t *self, const double *x, double shaft_hz,
                                   bearing_class_t *cls, bearing_evidence_t *ev);

#endif
