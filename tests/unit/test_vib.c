/*  Unit tests: vib — bad snippets are refused with the right reason, time
 *  features and spectra match closed-form values, the envelope spectrum
 *  recovers the repetition rate of impacts on a resonance. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "agents/maintenance/vib.h"

#define FS 12000.0
#define N 12000

static double s_sig[N];

/* Deterministic Gaussian noise (Box-Muller on an LCG). */
static double
s_noise (unsigned *state)
{
    /* splitmix64 on a counter: an LCG's successive outputs are correlated
     * enough to put a trend into Box-Muller pairs. */
    uint64_t z = (uint64_t) (*state += 0x9e3779b9u) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    double u1 = ((double) (z >> 40) + 0.5) / 16777216.0;
    double u2 = (double) ((z >> 16) & 0xffffff) / 16777216.0;
    return sqrt (-2 * log (u1)) * cos (2 * M_PI * u2);
}

Test (vib, refuses_bad_snippets)
{
    unsigned st = 1;
    for (int i = 0; i < N; i++)
        s_sig[i] = s_noise (&st);
    cr_assert_eq (vib_check (s_sig, N, FS, N), VIB_OK);
    cr_assert_eq (vib_check (s_sig, N, 0, N), VIB_ERR_RATE);
    cr_assert_eq (vib_check (s_sig, N, -5, N), VIB_ERR_RATE);
    cr_assert_eq (vib_check (s_sig, N, NAN, N), VIB_ERR_RATE);
    cr_assert_eq (vib_check (s_sig, 100, FS, N), VIB_ERR_SHORT);
    s_sig[77] = NAN;
    cr_assert_eq (vib_check (s_sig, N, FS, N), VIB_ERR_NONFINITE);
    s_sig[77] = INFINITY;
    cr_assert_eq (vib_check (s_sig, N, FS, N), VIB_ERR_NONFINITE);
    for (int i = 0; i < N; i++)
        s_sig[i] = 2.5;
    cr_assert_eq (vib_check (s_sig, N, FS, N), VIB_ERR_FLAT, "a stuck sensor is a fault");
    vib_features_t f;
    cr_assert_eq (vib_features (s_sig, N, &f), VIB_ERR_FLAT);
    cr_assert_str_neq (vib_status_str (VIB_ERR_FLAT), "ok");
    cr_assert_str_eq (vib_status_str ((vib_status_t) 99), "unknown status");

    vib_analyzer_t *an = vib_analyzer_new (N, FS);
    double *amp = malloc ((N / 2 + 1) * sizeof (double));
    cr_assert_eq (vib_spectrum (an, s_sig, amp), VIB_ERR_FLAT);
    s_sig[0] = NAN;
    cr_assert_eq (vib_envelope_spectrum (an, s_sig, 2000, 5000, amp, NULL), VIB_ERR_NONFINITE);
    s_sig[0] = 1;
    for (int i = 1; i < N; i++)
        s_sig[i] = sin (i * 0.1);
    cr_assert_eq (vib_envelope_spectrum (an, s_sig, 5000, 2000, amp, NULL), VIB_ERR_BAND);
    cr_assert_eq (vib_envelope_spectrum (an, s_sig, 2000, 7000, amp, NULL), VIB_ERR_BAND);
    cr_assert_null (vib_analyzer_new (8, FS));
    cr_assert_null (vib_analyzer_new (N, 0));
    free (amp);
    vib_analyzer_destroy (&an);
    cr_assert_null (an);
    vib_analyzer_destroy (&an);
}

Test (vib, features_of_known_signals)
{
    vib_features_t f;
    for (int i = 0; i < N; i++)
        s_sig[i] = 3 + 2 * sin (2 * M_PI * 50 * i / FS);
    cr_assert_eq (vib_features (s_sig, N, &f), VIB_OK);
    cr_assert_float_eq (f.mean, 3, 1e-9);
    cr_assert_float_eq (f.rms, 2 / sqrt (2), 1e-6);
    cr_assert_float_eq (f.peak, 2, 1e-6);
    cr_assert_float_eq (f.crest, sqrt (2), 1e-5);
    cr_assert_float_eq (f.kurtosis, 1.5, 1e-4, "a sine has kurtosis 3/2");
    unsigned st = 7;
    for (int i = 0; i < N; i++)
        s_sig[i] = s_noise (&st);
    cr_assert_eq (vib_features (s_sig, N, &f), VIB_OK);
    cr_assert_float_eq (f.kurtosis, 3, 0.3, "Gaussian noise has kurtosis 3, got %g", f.kurtosis);
}

Test (vib, spectrum_amplitude_and_frequency)
{
    vib_analyzer_t *an = vib_analyzer_new (N, FS);
    cr_assert_not_null (an);
    cr_assert_eq (vib_analyzer_bins (an), N / 2 + 1);
    cr_assert_float_eq (vib_analyzer_bin_hz (an), 1.0, 1e-12);
    double *amp = malloc ((N / 2 + 1) * sizeof (double));
    for (int i = 0; i < N; i++)
        s_sig[i] = 0.7 * sin (2 * M_PI * 120 * i / FS) + 0.2 * sin (2 * M_PI * 1000 * i / FS);
    /* Twice: the plan is reused and must give the same answer. */
    for (int rep = 0; rep < 2; rep++) {
        cr_assert_eq (vib_spectrum (an, s_sig, amp), VIB_OK);
        cr_assert_float_eq (amp[120], 0.7, 1e-6);
        cr_assert_float_eq (amp[1000], 0.2, 1e-6);
        cr_assert_lt (amp[500], 1e-6);
    }
    free (amp);
    vib_analyzer_destroy (&an);
}

/* Impacts every 1/rate_hz s, each ringing a 3.5 kHz resonance, in noise. */
static void
s_impacts (double rate_hz, double noise_sd, unsigned seed)
{
    unsigned st = seed;
    for (int i = 0; i < N; i++)
        s_sig[i] = noise_sd * s_noise (&st);
    for (double t0 = 0.001; t0 < 1.0; t0 += 1.0 / rate_hz) {
        int i0 = (int) (t0 * FS);
        for (int i = i0; i < N && i < i0 + 240; i++) {
            double dt = (i - i0) / FS;
            s_sig[i] += exp (-dt * 1500) * sin (2 * M_PI * 3500 * dt);
        }
    }
}

Test (vib, envelope_finds_the_impact_rate)
{
    vib_analyzer_t *an = vib_analyzer_new (N, FS);
    double *env = malloc ((N / 2 + 1) * sizeof (double));
    double kurt = 0;
    s_impacts (107.0, 0.2, 3);
    cr_assert_eq (vib_envelope_spectrum (an, s_sig, 2000, 5000, env, &kurt), VIB_OK);
    cr_assert_gt (kurt, 3.5, "impacts make the band impulsive (kurtosis %g)", kurt);
    double snr = vib_line_snr (env, N / 2 + 1, 1.0, 107.0, 3, 0.01, 10);
    double off = vib_line_snr (env, N / 2 + 1, 1.0, 140.0, 3, 0.01, 10);
    cr_assert_gt (snr, 8, "line at the impact rate: SNR %g", snr);
    cr_assert_lt (off, 3.5, "no line where there are no impacts: SNR %g", off);
    cr_assert_gt (vib_line_energy (env, N / 2 + 1, 1.0, 107.0, 3, 0.01),
                  4 * vib_line_energy (env, N / 2 + 1, 1.0, 140.0, 3, 0.01));
    /* Pure noise: no line anywhere. */
    s_impacts (1e-3, 0.2, 4);
    cr_assert_eq (vib_envelope_spectrum (an, s_sig, 2000, 5000, env, &kurt), VIB_OK);
    cr_assert_lt (vib_line_snr (env, N / 2 + 1, 1.0, 107.0, 3, 0.01, 10), 3.5);
    cr_assert_float_eq (kurt, 3, 0.3);
    free (env);
    vib_analyzer_destroy (&an);
}

Test (vib, bearing_fault_frequencies)
{
    /* CWRU drive-end SKF 6205: multiples of shaft speed from its README. */
    bearing_geom_t g = { .n_balls = 9, .ball_d = 0.3126, .pitch_d = 1.537, .contact_deg = 0 };
    bearing_freqs_t f;
    cr_assert_eq (bearing_fault_freqs (&g, 1.0, &f), 0);
    cr_assert_float_eq (f.bpfi_hz, 5.4152, 1e-3);
    cr_assert_float_eq (f.bpfo_hz, 3.5848, 1e-3);
    cr_assert_float_eq (f.bsf_hz, 2.3567, 1e-3);
    cr_assert_float_eq (f.ftf_hz, 0.3983, 1e-3);
    cr_assert_float_eq (f.bpfi_hz + f.bpfo_hz, 9.0, 1e-9, "BPFI + BPFO = n x fr");
    bearing_geom_t bad = g;
    bad.ball_d = 2;
    cr_assert_eq (bearing_fault_freqs (&bad, 1.0, &f), -1);
    bad = g;
    bad.n_balls = 0;
    cr_assert_eq (bearing_fault_freqs (&bad, 1.0, &f), -1);
    cr_assert_eq (bearing_fault_freqs (&g, NAN, &f), -1);
}
