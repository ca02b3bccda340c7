/*  Unit tests: af_weibull — the MLE recovers known parameters from
 *  complete and right-censored samples, and refuses too little data. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "af_weibull.h"

#define N 4000

static double
s_uniform (unsigned long long *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((*state >> 11) + 0.5) / 9007199254740992.0;
}

/* Weibull draws by inversion: t = eta * (-ln U)^(1/beta). */
static void
s_draw (double *t, int n, double shape, double scale, unsigned long long seed)
{
    for (int i = 0; i < n; i++)
        t[i] = scale * pow (-log (s_uniform (&seed)), 1 / shape);
}

Test (weibull, recovers_parameters_complete)
{
    static double t[N];
    const double cases[][2] = { { 0.8, 100 }, { 1.0, 5000 }, { 2.5, 800 }, { 4.0, 12 } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        s_draw (t, N, cases[c][0], cases[c][1], 42 + c);
        af_weibull_t w;
        cr_assert_eq (af_weibull_fit (t, NULL, N, &w), 0);
        cr_assert_float_eq (w.shape, cases[c][0], 0.05 * cases[c][0], "shape %g vs %g", w.shape,
                            cases[c][0]);
        cr_assert_float_eq (w.scale, cases[c][1], 0.05 * cases[c][1], "scale %g vs %g", w.scale,
                            cases[c][1]);
        cr_assert_eq (w.failures, N);
    }
}

Test (weibull, recovers_parameters_with_censoring)
{
    static double t[N];
    static bool failed[N];
    const double shape = 2.0, scale = 1000, stop = 900;
    s_draw (t, N, shape, scale, 7);
    /* The observation stops at 900 h: about 55 % of the units have not
     * failed yet; they are censored, not dropped. */
    int censored = 0;
    for (int i = 0; i < N; i++) {
        failed[i] = t[i] <= stop;
        if (!failed[i]) {
            t[i] = stop;
            censored++;
        }
    }
    cr_assert_gt (censored, N / 3);
    af_weibull_t w;
    cr_assert_eq (af_weibull_fit (t, failed, N, &w), 0);
    cr_assert_float_eq (w.shape, shape, 0.08 * shape, "shape %g", w.shape);
    cr_assert_float_eq (w.scale, scale, 0.06 * scale, "scale %g", w.scale);
    cr_assert_eq (w.failures, N - censored);
    /* Dropping the censored units instead biases the life low: the reason
     * censoring is handled. */
    af_weibull_t naive;
    int k = 0;
    for (int i = 0; i < N; i++)
        if (failed[i])
            t[k++] = t[i];
    cr_assert_eq (af_weibull_fit (t, NULL, (size_t) k, &naive), 0);
    cr_assert_lt (naive.scale, 0.8 * scale);

    cr_assert_float_eq (af_weibull_mttf (&(af_weibull_t) { .shape = 1, .scale = 50 }), 50, 1e-9);
    af_weibull_t w2 = { .shape = 2, .scale = 1000 };
    cr_assert_float_eq (af_weibull_reliability (&w2, 1000), exp (-1), 1e-12);
    cr_assert_float_eq (af_weibull_fail_within (&w2, 0, 1000), 1 - exp (-1), 1e-12);
    cr_assert_gt (af_weibull_fail_within (&w2, 1000, 100), af_weibull_fail_within (&w2, 0, 100),
                  "wear-out: an old part is more likely to fail in the next 100 h");
}

Test (weibull, refuses_bad_data)
{
    af_weibull_t w = { .shape = -1 };
    double one[] = { 5 };
    cr_assert_eq (af_weibull_fit (one, NULL, 1, &w), -1);
    double same[] = { 5, 5, 5 };
    cr_assert_eq (af_weibull_fit (same, NULL, 3, &w), -1);
    double neg[] = { 5, -1, 7 };
    cr_assert_eq (af_weibull_fit (neg, NULL, 3, &w), -1);
    double nan_t[] = { 5, NAN, 7 };
    cr_assert_eq (af_weibull_fit (nan_t, NULL, 3, &w), -1);
    double cen[] = { 5, 6, 7 };
    bool f[] = { true, false, false };
    cr_assert_eq (af_weibull_fit (cen, f, 3, &w), -1, "one failure is not enough");
    cr_assert_eq (w.shape, -1, "OUT untouched on failure");
}
