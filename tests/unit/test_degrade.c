/*  Unit tests: degrade — on synthetic degradation with known parameters the
 *  Bayesian update converges to the truth: the RUL interval holds the true
 *  RUL and narrows as readings arrive; exponential growth works in ln y. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "agents/maintenance/degrade.h"

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

Test (degrade, linear_converges_inside_interval)
{
    /* Truth: y = 0.05 + 0.01 t, noise 0.03, failure at y = 1.05 -> t = 100 h.
     * Prior from the component type: right order, wrong values, wide.  A 90 %
     * credible interval may miss now and then, so coverage is counted over
     * 40 runs and 3 check points. */
    degrade_params_t p = {
        .prior_mean = { 0.0, 0.006 },
        .prior_cov = { { 0.04, 0 }, { 0, 1e-4 } },
        .noise_sd = 0.03, .threshold = 1.05,
    };
    enum { RUNS = 40, CHECKS = 3 };
    int covered = 0;
    double width[CHECKS] = { 0 }, abs_err_end = 0;
    for (unsigned seed = 1; seed <= RUNS; seed++) {
        degrade_t *d = degrade_new (&p);
        cr_assert_not_null (d);
        unsigned st = seed * 1000;
        for (int t = 0; t <= 90; t++) {
            cr_assert_eq (degrade_observe (d, t, 0.05 + 0.01 * t + 0.03 * s_noise (&st)), 0);
            if (t % 30 != 0 || t == 0)
                continue;
            double med, lo, hi, truth = 100.0 - t;
            cr_assert_eq (degrade_rul (d, t, 0.9, 1000, &med, &lo, &hi), 0);
            cr_assert (lo <= med && med <= hi);
            covered += lo <= truth && truth <= hi;
            width[t / 30 - 1] += hi - lo;
            if (t == 90)
                abs_err_end += fabs (med - truth);
        }
        double mean[2], cov[2][2];
        degrade_posterior (d, mean, cov);
        cr_assert_float_eq (mean[1], 0.01, 1e-3, "slope %g", mean[1]);
        cr_assert_gt (cov[1][1], 0);
        degrade_destroy (&d);
        cr_assert_null (d);
    }
    double coverage = (double) covered / (RUNS * CHECKS);
    cr_assert_geq (coverage, 0.8, "90 %% intervals hold the truth %.0f %% of the time", 100 * coverage);
    cr_assert_lt (width[1], width[0], "the interval narrows with data");
    cr_assert_lt (width[2], width[1]);
    cr_assert_lt (abs_err_end / RUNS, 2.0, "median off by %g h at 10 h left", abs_err_end / RUNS);
}

Test (degrade, exponential_in_log_scale)
{
    /* y = exp(-3 + 0.03 t) * noise: threshold 1 -> t = 100. */
    degrade_params_t p = {
        .prior_mean = { -2.5, 0.02 },
        .prior_cov = { { 1, 0 }, { 0, 4e-4 } },
        .noise_sd = 0.1, .threshold = 1.0, .log_scale = true,
    };
    degrade_t *d = degrade_new (&p);
    unsigned st = 9;
    for (int t = 0; t <= 80; t += 2)
        degrade_observe (d, t, exp (-3 + 0.03 * t + 0.1 * s_noise (&st)));
    double med, lo, hi;
    cr_assert_eq (degrade_rul (d, 80, 0.9, 1000, &med, &lo, &hi), 0);
    cr_assert (lo <= 20 && 20 <= hi, "20 not in [%g, %g]", lo, hi);
    cr_assert_float_eq (med, 20, 4);
    cr_assert_eq (degrade_observe (d, 81, -1), -1, "ln of a non-positive reading is refused");
    cr_assert_eq (degrade_observe (d, 81, NAN), -1);
    degrade_destroy (&d);
}

Test (degrade, refuses_bad_parameters)
{
    degrade_params_t p = { .prior_cov = { { 1, 0 }, { 0, 1 } }, .noise_sd = 0, .threshold = 1 };
    cr_assert_null (degrade_new (&p));
    p.noise_sd = 1;
    p.prior_cov[1][1] = -1;
    cr_assert_null (degrade_new (&p));
    p.prior_cov[1][1] = 1;
    p.log_scale = true;
    p.threshold = 0;
    cr_assert_null (degrade_new (&p));
    p.threshold = 1;
    degrade_t *d = degrade_new (&p);
    double med;
    cr_assert_eq (degrade_rul (d, 0, 1.5, 100, &med, NULL, NULL), -1);
    degrade_destroy (&d);
    degrade_destroy (&d);
}
