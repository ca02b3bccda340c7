/* vib.h — vibration signal processing (ISO 13374 "signal processing"):
 * input checks, time features, FFTW spectrum, envelope spectrum, bearing
 * fault frequencies and the energy at them.  Plain C, no bus code. */
#ifndef AF_MAINT_VIB_H
#define AF_MAINT_VIB_H

#include <stddef.h>

/* Why a snippet was refused.  A refused snippet is a sensor or transport
 * fault, never evidence of a healthy machine. */
typedef enum {
    VIB_OK = 0,
    VIB_ERR_ARG,        /* NULL pointer or size mismatch (programmer error) */
    VIB_ERR_RATE,       /* sample rate zero, negative, NaN or not what the analyser was built for */
    VIB_ERR_NONFINITE,  /* a NaN or Inf sample */
    VIB_ERR_SHORT,      /* fewer samples than the FFT needs */
    VIB_ERR_FLAT,       /* (near) constant signal: dead or disconnected sensor */
    VIB_ERR_BAND,       /* band-pass edges outside (0, fs/2) or reversed */
    VIB_ERR_COUNT
} vib_status_t;

/* A one-line description of STATUS ("NaN or Inf sample", …). */
const char *vib_status_str (vib_status_t status);

/* Checks a snippet: fs_hz finite and > 0, n >= min_n, every sample finite,
 * standard deviation above VIB_FLAT_REL of the peak (and above zero). */
vib_status_t vib_check (const double *x, size_t n, double fs_hz, size_t min_n);

/* Relative standard deviation under which a signal counts as flat. */
#define VIB_FLAT_REL 1e-9

/* Time-domain condition indicators of one snippet (mean removed first). */
typedef struct {
    double mean;
    double rms;       /* of the zero-mean signal */
    double peak;      /* max |x - mean| */
    double crest;     /* peak / rms */
    double kurtosis;  /* 4th standardised moment; 3 for Gaussian noise */
} vib_features_t;

/* Fills OUT; refuses non-finite and flat input (status says why). */
vib_status_t vib_features (const double *x, size_t n, vib_features_t *out);

/* An analyser for snippets of exactly n samples at fs_hz: owns the FFTW
 * plans and buffers so that every call reuses them (planning is the slow
 * part of FFTW).  Not thread-safe; one per thread. */
typedef struct vib_analyzer vib_analyzer_t;

/* NULL if n < 16 or fs_hz is not finite and positive. */
vib_analyzer_t *vib_analyzer_new (size_t n, double fs_hz);
void vib_analyzer_destroy (vib_analyzer_t **p_self);
size_t vib_analyzer_bins (const vib_analyzer_t *self);     /* n/2 + 1 */
double vib_analyzer_bin_hz (const vib_analyzer_t *self);   /* fs / n */

/* One-sided amplitude spectrum (Hann window, amplitude-corrected) of X (n
 * samples) into AMP (n/2+1 values). */
vib_status_t vib_spectrum (vib_analyzer_t *self, const double *x, double *amp);

/* Envelope spectrum: X band-passed to [lo_hz, hi_hz] in the frequency domain,
 * Hilbert envelope (magnitude of the analytic signal), mean removed, Hann
 * window, one-sided amplitude spectrum into ENV_AMP (n/2+1 values).  If
 * BAND_KURT is not NULL it receives the kurtosis of the band-passed signal
 * (impulsiveness in the resonance band). */
vib_status_t vib_envelope_spectrum (vib_analyzer_t *self, const double *x, double lo_hz,
                                    double hi_hz, double *env_amp, double *band_kurt);

/* Rolling-element bearing geometry (any length unit, the same for both). */
typedef struct {
    int n_balls;
    double ball_d;
    double pitch_d;
    double contact_deg;
} bearing_geom_t;

/* Characteristic fault frequencies in Hz for a shaft at shaft_hz (outer race
 * fixed).  bsf is the ball spin frequency; a ball defect strikes both races,
 * so its envelope line is usually at 2 x bsf. */
typedef struct {
    double ftf_hz, bpfo_hz, bpfi_hz, bsf_hz;
} bearing_freqs_t;

/* -1 if the geometry is impossible (n < 1, d <= 0, d >= D, |angle| >= 90). */
int bearing_fault_freqs (const bearing_geom_t *geom, double shaft_hz, bearing_freqs_t *out);

/* Strength of a line family in a one-sided amplitude spectrum AMP (n_bins
 * bins of bin_hz): for each harmonic k = 1..harmonics, the largest amplitude
 * within +-tol_rel*k*f_hz of k*f_hz (slip makes real lines drift a little),
 * divided by the median amplitude of the surrounding +-noise_hz (the local
 * noise floor).  Returns the mean of those ratios over the harmonics that fit
 * under the Nyquist frequency, or 0 if none does.  A pure-noise spectrum
 * gives about 1.5-2.5; a clear line gives well over 4.  Bins set to NAN
 * are masked: ignored in both the peak search and the noise floor. */
double vib_line_snr (const double *amp, size_t n_bins, double bin_hz, double f_hz, int harmonics,
                     double tol_rel, double noise_hz);

/* Sum of AMP^2 over the same windows (energy at a line family, harmonics
 * included). */
double vib_line_energy (const double *amp, size_t n_bins, double bin_hz, double f_hz,
                        int harmonics, double tol_rel);

#endif
