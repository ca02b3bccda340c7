/*  Unit tests: bearing — synthetic vibration with known fault frequencies
 *  (impacts ringing a resonance, as a spall does) is classified correctly
 *  at two shaft speeds; noise with shaft harmonics is normal; a dead
 *  sensor is refused, not called healthy. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "agents/maintenance/bearing.h"

#define FS 12000.0
#define N 12000

static const bearing_geom_t s_geom = { .n_balls = 9, .ball_d = 0.3126, .pitch_d = 1.537 };
static double s_sig[N];

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

/* Healthy machine: noise plus shaft harmonics (unbalance, misalignment);
 * then impacts at RATE_HZ (0: none) whose amplitude is modulated at MOD_HZ
 * (shaft for an inner race turning through the load zone, cage for a
 * ball), each ringing a 3.2 kHz resonance. */
static void
s_make (double shaft_hz, double rate_hz, double mod_hz, unsigned seed)
{
    unsigned st = seed;
    for (int i = 0; i < N; i++) {
        double t = i / FS;
        s_sig[i] = 0.3 * s_noise (&st) + 0.5 * sin (2 * M_PI * shaft_hz * t)
                   + 0.2 * sin (2 * M_PI * 2 * shaft_hz * t + 1);
    }
    if (rate_hz <= 0)
        return;
    for (double t0 = 0.0005; t0 < 1.0; t0 += 1.0 / rate_hz) {
        double a = mod_hz > 0 ? 0.75 + 0.25 * cos (2 * M_PI * mod_hz * t0) : 1.0;
        int i0 = (int) (t0 * FS);
        for (int i = i0; i < N && i < i0 + 240; i++) {
            double dt = (i - i0) / FS;
            s_sig[i] += 1.5 * a * exp (-dt * 1200) * sin (2 * M_PI * 3200 * dt);
        }
    }
}

static bearing_class_t
s_classify (bearing_clf_t *clf, double shaft_hz, bearing_evidence_t *ev)
{
    bearing_class_t cls = BEARING_CLASSES;
    cr_assert_eq (bearing_clf_classify (clf, s_sig, shaft_hz, &cls, ev), VIB_OK);
    return cls;
}

Test (bearing, synthetic_faults_at_two_speeds)
{
    bearing_params_t p = bearing_params_default ();
    bearing_clf_t *clf = bearing_clf_new (N, FS, &s_geom, &p);
    cr_assert_not_null (clf);
    const double speeds[] = { 29.95, 20.0 };
    for (int s = 0; s < 2; s++) {
        double fr = speeds[s];
        bearing_freqs_t f;
        cr_assert_eq (bearing_fault_freqs (&s_geom, fr, &f), 0);
        bearing_evidence_t ev;
        for (unsigned seed = 1; seed <= 3; seed++) {
            s_make (fr, 0, 0, seed);
            cr_assert_eq (s_classify (clf, fr, &ev), BEARING_NORMAL, "fr %g: normal", fr);
            s_make (fr, f.bpfo_hz, 0, seed);
            cr_assert_eq (s_classify (clf, fr, &ev), BEARING_OUTER, "fr %g: outer", fr);
            cr_assert_gt (ev.snr_bpfo, ev.snr_bpfi);
            /* 0.5 % slip: the real line drifts from the kinematic one. */
            s_make (fr, f.bpfi_hz * 0.995, fr, seed);
            cr_assert_eq (s_classify (clf, fr, &ev), BEARING_INNER, "fr %g: inner (bpfo %g bpfi %g ball %g kurt %g)", fr,
                          ev.snr_bpfo, ev.snr_bpfi, ev.snr_ball, ev.band_kurtosis);
            s_make (fr, 2 * f.bsf_hz, f.ftf_hz, seed);
            cr_assert_eq (s_classify (clf, fr, &ev), BEARING_BALL, "fr %g: ball", fr);
        }
    }
    bearing_clf_destroy (&clf);
    cr_assert_null (clf);
}

Test (bearing, refuses_dead_sensor_and_bad_speed)
{
    bearing_params_t p = bearing_params_default ();
    bearing_clf_t *clf = bearing_clf_new (N, FS, &s_geom, &p);
    for (int i = 0; i < N; i++)
        s_sig[i] = 0.01;
    bearing_class_t cls = BEARING_BALL;
    cr_assert_eq (bearing_clf_classify (clf, s_sig, 30, &cls, NULL), VIB_ERR_FLAT);
    cr_assert_eq (cls, BEARING_BALL, "a refused snippet leaves the class untouched");
    s_make (30, 0, 0, 1);
    cr_assert_eq (bearing_clf_classify (clf, s_sig, 0, &cls, NULL), VIB_ERR_RATE);
    cr_assert_eq (bearing_clf_classify (clf, s_sig, NAN, &cls, NULL), VIB_ERR_RATE);
    s_sig[5] = NAN;
    cr_assert_eq (bearing_clf_classify (clf, s_sig, 30, &cls, NULL), VIB_ERR_NONFINITE);
    bearing_clf_destroy (&clf);

    p.band_hi_hz = 9000;   /* above Nyquist */
    cr_assert_null (bearing_clf_new (N, FS, &s_geom, &p));
    bearing_geom_t bad = s_geom;
    bad.ball_d = 5;
    p = bearing_params_default ();
    cr_assert_null (bearing_clf_new (N, FS, &bad, &p));
    cr_assert_str_eq (bearing_class_name (BEARING_INNER), "inner");
}
