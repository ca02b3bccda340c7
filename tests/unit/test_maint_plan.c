/*  Unit tests of agents/maintenance/plan.c: the lognormal life law, the
 *  age-replacement threshold, wear estimation, RUL intervals and breakdown
 *  attribution. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "agents/maintenance/plan.h"

static const plan_comp_spec_t s_bearing = { "bearing", 0.001, 1.0, 0.25 };
static const plan_comp_spec_t s_lube = { "lube", 0.004, 1.0, 0.25 };

Test (maint_plan, life_law_has_the_rated_mean)
{
    /* Mean of the lognormal by quadrature: the rated limit. */
    double mean = 0, dw = 1e-3;
    for (double w = dw; w < 5; w += dw)
        mean += (1 - plan_life_cdf (w, 2.0, 0.3)) * dw;
    cr_assert (fabs (mean - 2.0) < 0.01, "mean %g", mean);
    cr_assert_eq (plan_life_cdf (0, 1, 0.25), 0);
    cr_assert_eq (plan_life_cdf (1.5, 1, 0), 1);
}

/* The threshold minimises g(w) = (R + k F) / ∫R: check it against a
 * brute-force evaluation on a finer grid, and that it moves as it must. */
static double
s_cost_rate (double w, double cv, double k)
{
    double area = 0, dw = w / 4000;
    for (int i = 0; i < 4000; i++)
        area += (1 - plan_life_cdf ((i + 0.5) * dw, 1, cv)) * dw;
    double f = plan_life_cdf (w, 1, cv);
    return (1 - f + k * f) / area;
}

Test (maint_plan, age_threshold_is_the_cost_minimum)
{
    double w = plan_age_threshold (1, 0.27, 20);
    cr_assert (w > 0.3 && w < 0.95, "w* %g", w);
    double g = s_cost_rate (w, 0.27, 20);
    cr_assert (g <= s_cost_rate (w * 0.9, 0.27, 20) + 1e-9);
    cr_assert (g <= s_cost_rate (w * 1.1, 0.27, 20) + 1e-9);
    /* Dearer failures: replace earlier; wider spread: earlier too. */
    cr_assert (plan_age_threshold (1, 0.27, 100) < w);
    cr_assert (plan_age_threshold (1, 0.5, 20) < w);
    /* A failure costing no more than a swap: run to failure. */
    cr_assert (plan_age_threshold (1, 0.27, 1) >= 2.9);
}

Test (maint_plan, wear_accrues_with_busy_time_and_speed)
{
    plan_t *p = plan_new (NULL);
    plan_comp_spec_t c[] = { s_bearing };
    int st = plan_add_station (p, "a", 100, c, 1);
    cr_assert_eq (st, 0);
    for (int k = 0; k < 600; k++)
        cr_assert_eq (plan_observe (p, st, 0.5, 1.2, 1.0 / 60), 0);
    /* 10 h × 0.5 busy × 1.2 speed × 0.001 */
    cr_assert (fabs (plan_wear (p, st, 0) - 0.006) < 1e-9, "%g", plan_wear (p, st, 0));
    cr_assert_eq (plan_observe (p, st, NAN, 1, 1), -1);
    cr_assert (fabs (plan_wear (p, st, 0) - 0.006) < 1e-9);
    plan_renewed (p, st, 0);
    cr_assert_eq (plan_wear (p, st, 0), 0);
    plan_destroy (&p);
    cr_assert_null (p);
}

Test (maint_plan, dry_lube_speeds_bearing_wear)
{
    plan_t *p = plan_new (NULL);
    plan_comp_spec_t c[] = { s_bearing, s_lube };
    int st = plan_add_station (p, "a", 100, c, 2);
    for (int k = 0; k < 100; k++)
        plan_observe (p, st, 1, 1, 1);
    /* Lube reaches 0.4 after 100 h: the bearing has worn more than 0.1. */
    cr_assert (fabs (plan_wear (p, st, 1) - 0.4) < 1e-9);
    cr_assert (plan_wear (p, st, 0) > 0.13 && plan_wear (p, st, 0) < 0.15, "%g", plan_wear (p, st, 0));
    plan_destroy (&p);
}

Test (maint_plan, due_at_the_threshold_less_the_lead)
{
    plan_opts_t o = plan_opts_default ();
    o.lead_h = 10;
    plan_t *p = plan_new (&o);
    plan_comp_spec_t c[] = { s_bearing };
    int st = plan_add_station (p, "a", 100, c, 1);
    double thr = plan_threshold (p, st, 0);
    int hours = 0;
    while (!plan_due (p, st, 0) && hours < 5000) {
        plan_observe (p, st, 1, 1, 1);
        hours++;
    }
    /* Due 10 busy hours (0.01 of wear) before w*. */
    cr_assert (fabs (plan_wear (p, st, 0) + 0.010 - thr) <= 0.0011, "wear %g thr %g", plan_wear (p, st, 0), thr);
    plan_destroy (&p);
}

Test (maint_plan, rul_interval_covers_the_truth)
{
    /* Parts whose lives are drawn from the law the plan assumes: the 90 %
     * interval from new covers about 90 % of them, and the median RUL
     * shrinks as wear accrues. */
    plan_opts_t o = plan_opts_default ();
    o.model_cv = 0;
    plan_t *p = plan_new (&o);
    plan_comp_spec_t c[] = { s_bearing };
    int st = plan_add_station (p, "a", 100, c, 1);
    double lo, mid, hi;
    cr_assert_eq (plan_rul (p, st, 0, 0.9, &lo, &mid, &hi), 0);
    cr_assert (lo < mid && mid < hi);
    cr_assert (mid > 900 && mid < 1000, "median %g h", mid);
    srand (7);
    int in = 0, n = 4000;
    double s2 = log1p (0.25 * 0.25);
    for (int i = 0; i < n; i++) {
        double u1 = (rand () + 1.0) / (RAND_MAX + 2.0), u2 = (rand () + 1.0) / (RAND_MAX + 2.0);
        double z = sqrt (-2 * log (u1)) * cos (2 * M_PI * u2);
        double life_h = exp (-0.5 * s2 + sqrt (s2) * z) / 0.001;
        in += life_h >= lo && life_h <= hi;
    }
    cr_assert (fabs ((double) in / n - 0.9) < 0.03, "coverage %g", (double) in / n);
    for (int k = 0; k < 500; k++)
        plan_observe (p, st, 1, 1, 1);
    double lo2, mid2, hi2;
    plan_rul (p, st, 0, 0.9, &lo2, &mid2, &hi2);
    cr_assert (mid2 < mid - 400 && mid2 > 300, "median after 500 h %g", mid2);
    cr_assert (plan_health (p, st, 0, 24) < 1 && plan_health (p, st, 0, 24) > 0.9);
    cr_assert_eq (plan_rul (p, st, 0, 1.5, &lo2, &mid2, &hi2), -1);
    plan_destroy (&p);
}

Test (maint_plan, breakdowns_are_attributed_by_hazard)
{
    plan_t *p = plan_new (NULL);
    plan_comp_spec_t c[] = { s_bearing, s_lube };
    int st = plan_add_station (p, "a", 100, c, 2);
    /* New parts: a breakdown is random. */
    cr_assert_eq (plan_attribute_breakdown (p, st), -1);
    /* The lube far beyond its rated life: it is the likely cause. */
    for (int k = 0; k < 300; k++)
        plan_observe (p, st, 1, 1, 1);
    cr_assert_eq (plan_attribute_breakdown (p, st), 1);
    cr_assert_eq (plan_attribute_breakdown (p, 5), -1);
    plan_destroy (&p);
}

Test (maint_plan, bad_figures_are_refused)
{
    plan_t *p = plan_new (NULL);
    plan_comp_spec_t bad = { "belt", -1, 1, 0.2 };
    cr_assert_eq (plan_add_station (p, "a", 100, &bad, 1), -1);
    bad.rate_per_h = NAN;
    cr_assert_eq (plan_add_station (p, "a", 100, &bad, 1), -1);
    cr_assert_eq (plan_add_station (p, "a", NAN, NULL, 0), 0);   /* no wearing parts: fine */
    cr_assert (isnan (plan_wear (p, 0, 0)));
    cr_assert_eq (plan_stations (p), 1);
    plan_destroy (&p);
}
