/*  Unit tests: af_stats — Student's t against published quantiles and the
 *  closed forms for 1 and 2 degrees of freedom, and paired comparisons
 *  against a case worked by hand.  */
#include <criterion/criterion.h>
#include <math.h>

#include "af_stats.h"

Test (stats, mean_and_sd)
{
    const double x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
    cr_assert_float_eq (af_stats_mean (x, 8), 5.0, 1e-12);
    /* Sum of squares 32, divisor 7. */
    cr_assert_float_eq (af_stats_sd (x, 8), sqrt (32.0 / 7.0), 1e-12);
    cr_assert (isnan (af_stats_mean (x, 0)));
    cr_assert (isnan (af_stats_sd (x, 1)));
}

Test (stats, t_cdf_matches_closed_forms)
{
    /* df 1 is Cauchy: 1/2 + atan(t)/π; df 2: 1/2 + t / (2 √(2 + t²)). */
    const double ts[] = { -30, -2.5, -0.3, 0, 0.7, 1, 4.2, 50 };
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        double t = ts[i];
        cr_assert_float_eq (af_stats_t_cdf (t, 1), 0.5 + atan (t) / M_PI, 1e-12, "df 1, t %g", t);
        cr_assert_float_eq (af_stats_t_cdf (t, 2), 0.5 + t / (2 * sqrt (2 + t * t)), 1e-12, "df 2, t %g", t);
    }
    /* Very many degrees of freedom: the normal distribution. */
    cr_assert_float_eq (af_stats_t_cdf (1.959963984540054, 1e7), 0.975, 1e-6);
}

Test (stats, t_quantiles_match_published_values)
{
    /* Two-sided 95 % factors and a few others, from the standard tables
     * (to 12 significant digits, each checked here by Simpson integration
     * of the t density to 1e-13). */
    const struct {
        double p, df, t;
    } cases[] = {
        { 0.975, 1, 12.7062047362 }, { 0.975, 2, 4.30265272975 }, { 0.975, 3, 3.18244630528 },
        { 0.975, 4, 2.77644510520 }, { 0.975, 9, 2.26215716280 }, { 0.975, 29, 2.04522964213 },
        { 0.95, 5, 2.01504837333 },  { 0.995, 10, 3.16927267262 }, { 0.9, 1, 3.07768353718 },
        { 0.025, 4, -2.77644510520 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double got = af_stats_t_quantile (cases[i].p, cases[i].df);
        cr_assert_float_eq (got, cases[i].t, 1e-9, "p %g df %g: got %.12g, want %.12g", cases[i].p,
                            cases[i].df, got, cases[i].t);
    }
    cr_assert_float_eq (af_stats_t_quantile (0.975, 1e7), 1.959964, 1e-5);
    cr_assert_eq (af_stats_t_quantile (0.5, 3), 0);
    cr_assert (isnan (af_stats_t_quantile (1, 3)));
    cr_assert (isnan (af_stats_t_quantile (0.9, 0)));
    cr_assert (isnan (af_stats_t_quantile (NAN, 3)));
}

Test (stats, beta_inc_edges_and_symmetry)
{
    cr_assert_eq (af_stats_beta_inc (2, 3, 0), 0);
    cr_assert_eq (af_stats_beta_inc (2, 3, 1), 1);
    /* I_x(1, 1) = x; I_x(a, b) = 1 − I_{1−x}(b, a). */
    cr_assert_float_eq (af_stats_beta_inc (1, 1, 0.3), 0.3, 1e-14);
    cr_assert_float_eq (af_stats_beta_inc (2.5, 0.7, 0.4), 1 - af_stats_beta_inc (0.7, 2.5, 0.6), 1e-13);
    /* I_x(2, 1) = x². */
    cr_assert_float_eq (af_stats_beta_inc (2, 1, 0.6), 0.36, 1e-14);
    cr_assert (isnan (af_stats_beta_inc (-1, 1, 0.5)));
    cr_assert (isnan (af_stats_beta_inc (1, 1, 1.5)));
}

Test (stats, paired_by_hand)
{
    /* Baseline 10, 12, 14; autonomous 11, 12, 16.  Differences 1, 0, 2:
     * mean 1, sd 1, so the half-width is t(0.975, 2) / √3.  Ratio
     * r = 1/12; residuals d − r·a = 1/6, −1, 5/6, sum of squares 31/18. */
    const double a[] = { 10, 12, 14 }, b[] = { 11, 12, 16 };
    af_paired_t p;
    cr_assert_eq (af_stats_paired (a, b, 3, 0.95, &p), 0);
    double t = 4.30265272975;
    cr_assert_float_eq (p.mean_a, 12, 1e-12);
    cr_assert_float_eq (p.mean_b, 13, 1e-12);
    cr_assert_float_eq (p.diff, 1, 1e-12);
    cr_assert_float_eq (p.diff_ci, t / sqrt (3), 1e-9);
    cr_assert_float_eq (p.change_pct, 100.0 / 12, 1e-9);
    cr_assert_float_eq (p.change_ci_pct, t * sqrt (31.0 / 36.0) / sqrt (3) / 12 * 100, 1e-8);
    cr_assert_float_eq (p.change_ci_pct, 19.2098519783, 1e-6);
}

Test (stats, paired_equal_policies_give_zero)
{
    /* Until agents exist both policies are the same: change 0, interval 0. */
    const double a[] = { 3.5, 0, 7.25, 1e6 };
    af_paired_t p;
    cr_assert_eq (af_stats_paired (a, a, 4, 0.95, &p), 0);
    cr_assert_eq (p.change_pct, 0);
    cr_assert_eq (p.change_ci_pct, 0);
    cr_assert_eq (p.diff_ci, 0);
    /* A baseline of 0 everywhere: 0 % when nothing changed, else no %. */
    const double zero[] = { 0, 0 }, some[] = { 0, 1 };
    cr_assert_eq (af_stats_paired (zero, zero, 2, 0.95, &p), 0);
    cr_assert_eq (p.change_pct, 0);
    cr_assert_eq (p.change_ci_pct, 0);
    cr_assert_eq (af_stats_paired (zero, some, 2, 0.95, &p), 0);
    cr_assert (isnan (p.change_pct));
    cr_assert_float_eq (p.diff, 0.5, 1e-12);
    /* One seed: a change but no interval. */
    cr_assert_eq (af_stats_paired (a, a, 1, 0.95, &p), 0);
    cr_assert (isnan (p.change_ci_pct));
    cr_assert_eq (af_stats_paired (a, a, 0, 0.95, &p), -1);
    cr_assert_eq (af_stats_paired (a, a, 2, 1.0, &p), -1);
}

Test (stats, paired_negative_baseline_keeps_sign_of_change)
{
    /* A KPI that can be negative (a cost with export credits): the change is
     * relative to |mean| so a rise stays positive. */
    const double a[] = { -10, -10 }, b[] = { -5, -5 };
    af_paired_t p;
    cr_assert_eq (af_stats_paired (a, b, 2, 0.95, &p), 0);
    cr_assert_float_eq (p.change_pct, 50, 1e-12);
    cr_assert_float_eq (p.change_ci_pct, 0, 1e-12);
}
