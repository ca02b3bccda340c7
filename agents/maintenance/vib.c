/* vib.c — vibration signal processing: checks, features, FFTW spectra,
 * envelope analysis and bearing fault frequencies (see vib.h). */
#include "vib.h"

#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Hann window coherent gain: a sinusoid of amplitude A shows as A*n/4 in the
 * one-sided DFT magnitude after windowing. */
#define S_HANN_GAIN 0.5

struct vib_analyzer {
    size_t n;
    double fs_hz;
    double *in;            /* n real samples */
    double *window;        /* n Hann coefficients */
    fftw_complex *spec;    /* n/2+1 bins of the r2c transform */
    fftw_complex *full;    /* n bins of the one-sided analytic spectrum */
    fftw_complex *analytic;/* n samples of the analytic signal */
    double *scratch;       /* n reals (band-passed / envelope) */
    fftw_plan r2c;
    fftw_plan c2c_inv;
};


const char *
vib_status_str (vib_status_t status)
{
    static const char *text[VIB_ERR_COUNT] = {
        [VIB_OK] = "ok",
        [VIB_ERR_ARG] = "bad argument",
        [VIB_ERR_RATE] = "sample rate missing, not positive or not the expected one",
        [VIB_ERR_NONFINITE] = "NaN or Inf sample",
        [VIB_ERR_SHORT] = "snippet too short for the FFT",
        [VIB_ERR_FLAT] = "flat signal (dead or disconnected sensor)",
        [VIB_ERR_BAND] = "band-pass edges outside (0, fs/2) or reversed",
    };
    if ((unsigned) status >= VIB_ERR_COUNT)
        return "unknown status";
    return text[status];
}

vib_status_t
vib_check (const double *x, size_t n, double fs_hz, size_t min_n)
{
    if (!x && n > 0)
        return VIB_ERR_ARG;
    if (!isfinite (fs_hz) || fs_hz <= 0)
        return VIB_ERR_RATE;
    if (n < min_n || n < 2)
        return VIB_ERR_SHORT;
    double sum = 0, peak = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite (x[i]))
            return VIB_ERR_NONFINITE;
        sum += x[i];
    }
    double mean = sum / (double) n, ss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        ss += d * d;
        if (fabs (x[i]) > peak)
            peak = fabs (x[i]);
    }
    double sd = sqrt (ss / (double) n);
    if (sd <= 0 || sd <= VIB_FLAT_REL * peak)
        return VIB_ERR_FLAT;
    return VIB_OK;
}

vib_status_t
vib_features (const double *x, size_t n, vib_features_t *out)
{
    if (!out)
        return VIB_ERR_ARG;
    vib_status_t st = vib_check (x, n, 1.0, 2);
    if (st != VIB_OK)
        return st;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    double mean = sum / (double) n, m2 = 0, m4 = 0, peak = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean, d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
        if (fabs (d) > peak)
            peak = fabs (d);
    }
    m2 /= (double) n;
    m4 /= (double) n;
    out->mean = mean;
    out->rms = sqrt (m2);
    out->peak = peak;
    out->crest = peak / out->rms;
    out->kurtosis = m4 / (m2 * m2);
    return VIB_OK;
}

vib_analyzer_t *
vib_analyzer_new (size_t n, double fs_hz)
{
    if (n < 16 || !isfinite (fs_hz) || fs_hz <= 0)
        return NULL;
    vib_analyzer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->n = n;
    self->fs_hz = fs_hz;
    self->in = fftw_alloc_real (n);
    self->window = malloc (n * sizeof (double));
    self->scratch = malloc (n * sizeof (double));
    self->spec = fftw_alloc_complex (n / 2 + 1);
    self->full = fftw_alloc_complex (n);
    self->analytic = fftw_alloc_complex (n);
    if (!self->in || !self->window || !self->scratch || !self->spec || !self->full
        || !self->analytic)
        goto fail;
    /* FFTW_ESTIMATE: plans in microseconds and never touches the buffers, so
     * results do not depend on timing (FFTW_MEASURE picks by timing). */
    self->r2c = fftw_plan_dft_r2c_1d ((int) n, self->in, self->spec, FFTW_ESTIMATE);
    self->c2c_inv = fftw_plan_dft_1d ((int) n, self->full, self->analytic, FFTW_BACKWARD,
                                      FFTW_ESTIMATE);
    if (!self->r2c || !self->c2c_inv)
        goto fail;
    for (size_t i = 0; i < n; i++)
        self->window[i] = 0.5 - 0.5 * cos (2 * M_PI * (double) i / (double) n);
    return self;
fail:
    vib_analyzer_destroy (&self);
    return NULL;
}

void
vib_analyzer_destroy (vib_analyzer_t **p_self)
{
    if (!p_self || !*p_self)
        return;
    vib_analyzer_t *self = *p_self;
    if (self->r2c)
        fftw_destroy_plan (self->r2c);
    if (self->c2c_inv)
        fftw_destroy_plan (self->c2c_inv);
    fftw_free (self->in);
    fftw_free (self->spec);
    fftw_free (self->full);
    fftw_free (self->analytic);
    free (self->window);
    free (self->scratch);
    free (self);
    *p_self = NULL;
}

size_t
vib_analyzer_bins (const vib_analyzer_t *self)
{
    return self ? self->n / 2 + 1 : 0;
}

double
vib_analyzer_bin_hz (const vib_analyzer_t *self)
{
    return self ? self->fs_hz / (double) self->n : 0;
}

/* Hann-windowed, amplitude-corrected one-sided spectrum of self->in (which
 * holds zero-mean samples) into AMP. */
static void
s_amplitude (vib_analyzer_t *self, double *amp)
{
    size_t n = self->n, bins = n / 2 + 1;
    for (size_t i = 0; i < n; i++)
        self->in[i] *= self->window[i];
    fftw_execute (self->r2c);
    double scale = 2.0 / ((double) n * S_HANN_GAIN);
    for (size_t k = 0; k < bins; k++)
        amp[k] = scale * cabs (self->spec[k]);
    amp[0] *= 0.5;
    if (n % 2 == 0)
        amp[bins - 1] *= 0.5;
}

static void
s_load_zero_mean (vib_analyzer_t *self, const double *x)
{
    double sum = 0;
    for (size_t i = 0; i < self->n; i++)
        sum += x[i];
    double mean = sum / (double) self->n;
    for (size_t i = 0; i < self->n; i++)
        self->in[i] = x[i] - mean;
}

vib_status_t
vib_spectrum (vib_analyzer_t *self, const double *x, double *amp)
{
    if (!self || !amp)
        return VIB_ERR_ARG;
    vib_status_t st = vib_check (x, self->n, self->fs_hz, self->n);
    if (st != VIB_OK)
        return st;
    s_load_zero_mean (self, x);
    s_amplitude (self, amp);
    return VIB_OK;
}

static double
s_kurtosis (const double *x, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    double mean = sum / (double) n, m2 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++) {
        double d2 = (x[i] - mean) * (x[i] - mean);
        m2 += d2;
        m4 += d2 * d2;
    }
    m2 /= (double) n;
    return m2 > 0 ? (m4 / (double) n) / (m2 * m2) : 0;
}

vib_status_t
vib_envelope_spectrum (vib_analyzer_t *self, const double *x, double lo_hz, double hi_hz,
                       double *env_amp, double *band_kurt)
{
    if (!self || !env_amp)
        return VIB_ERR_ARG;
    vib_status_t st = vib_check (x, self->n, self->fs_hz, self->n);
    if (st != VIB_OK)
        return st;
    double nyq = self->fs_hz / 2;
    if (!(lo_hz > 0 && hi_hz > lo_hz && hi_hz <= nyq))
        return VIB_ERR_BAND;
    size_t n = self->n;
    /* Band-pass and Hilbert transform in one step: keep the positive
     * frequencies inside the band, doubled, and drop the negative ones; the
     * inverse transform is then the analytic signal of the band-passed x. */
    s_load_zero_mean (self, x);
    fftw_execute (self->r2c);
    double bin_hz = self->fs_hz / (double) n;
    memset (self->full, 0, n * sizeof (fftw_complex));
    size_t k_lo = (size_t) ceil (lo_hz / bin_hz), k_hi = (size_t) floor (hi_hz / bin_hz);
    if (k_hi > n / 2)
        k_hi = n / 2;
    if (k_lo < 1)
        k_lo = 1;
    if (k_hi < k_lo)
        return VIB_ERR_BAND;
    for (size_t k = k_lo; k <= k_hi; k++)
        self->full[k] = 2.0 * self->spec[k] / (double) n;
    fftw_execute (self->c2c_inv);
    for (size_t i = 0; i < n; i++)
        self->scratch[i] = creal (self->analytic[i]);
    if (band_kurt)
        *band_kurt = s_kurtosis (self->scratch, n);
    for (size_t i = 0; i < n; i++)
        self->scratch[i] = cabs (self->analytic[i]);
    s_load_zero_mean (self, self->scratch);
    s_amplitude (self, env_amp);
    return VIB_OK;
}

int
bearing_fault_freqs (const bearing_geom_t *geom, double shaft_hz, bearing_freqs_t *out)
{
    if (!geom || !out || geom->n_balls < 1 || !(geom->ball_d > 0)
        || !(geom->pitch_d > geom->ball_d) || !(fabs (geom->contact_deg) < 90)
        || !isfinite (shaft_hz) || shaft_hz < 0)
        return -1;
    double r = geom->ball_d / geom->pitch_d * cos (geom->contact_deg * M_PI / 180);
    double n = geom->n_balls;
    out->ftf_hz = 0.5 * shaft_hz * (1 - r);
    out->bpfo_hz = 0.5 * n * shaft_hz * (1 - r);
    out->bpfi_hz = 0.5 * n * shaft_hz * (1 + r);
    out->bsf_hz = geom->pitch_d / (2 * geom->ball_d) * shaft_hz * (1 - r * r);
    return 0;
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Index range [lo, hi] of bins within +-half_hz of f_hz, clipped. */
static int
s_range (size_t n_bins, double bin_hz, double f_hz, double half_hz, size_t *lo, size_t *hi)
{
    double a = (f_hz - half_hz) / bin_hz, b = (f_hz + half_hz) / bin_hz;
    if (b < 1 || a > (double) (n_bins - 1))
        return -1;
    *lo = a < 1 ? 1 : (size_t) floor (a);
    *hi = b > (double) (n_bins - 1) ? n_bins - 1 : (size_t) ceil (b);
    return 0;
}

double
vib_line_snr (const double *amp, size_t n_bins, double bin_hz, double f_hz, int harmonics,
              double tol_rel, double noise_hz)
{
    if (!amp || n_bins < 4 || !(bin_hz > 0) || !(f_hz > 0) || harmonics < 1)
        return 0;
    double nyq = bin_hz * (double) (n_bins - 1);
    size_t cap = (size_t) (2 * noise_hz / bin_hz) + 3;
    double *buf = malloc (cap * sizeof (double));
    if (!buf)
        return 0;
    double total = 0;
    int used = 0;
    for (int k = 1; k <= harmonics; k++) {
        double fk = k * f_hz;
        size_t lo, hi, nlo, nhi;
        if (fk + noise_hz > nyq || s_range (n_bins, bin_hz, fk, fmax (tol_rel * fk, bin_hz), &lo, &hi)
            || s_range (n_bins, bin_hz, fk, noise_hz, &nlo, &nhi))
            break;
        double peak = 0;
        for (size_t i = lo; i <= hi; i++)
            if (!isnan (amp[i]))
                peak = fmax (peak, amp[i]);
        size_t m = 0;
        for (size_t i = nlo; i <= nhi && m < cap; i++)
            if (!isnan (amp[i]))
                buf[m++] = amp[i];
        if (m == 0)
            continue;
        qsort (buf, m, sizeof (double), s_cmp_double);
        double floor_amp = buf[m / 2];
        total += floor_amp > 0 ? peak / floor_amp : 0;
        used++;
    }
    free (buf);
    return used ? total / used : 0;
}

double
vib_line_energy (const double *amp, size_t n_bins, double bin_hz, double f_hz, int harmonics,
                 double tol_rel)
{
    if (!amp || n_bins < 2 || !(bin_hz > 0) || !(f_hz > 0))
        return 0;
    double e = 0;
    for (int k = 1; k <= harmonics; k++) {
        size_t lo, hi;
        double fk = k * f_hz;
        if (s_range (n_bins, bin_hz, fk, fmax (tol_rel * fk, bin_hz), &lo, &hi))
            break;
        for (size_t i = lo; i <= hi; i++)
            if (!isnan (amp[i]))
                e += amp[i] * amp[i];
    }
    return e;
}
