/* test_spc.c — SPC charts: in-control false-alarm rates and detection of a
 * 1-sigma shift against ARL theory, over many seeded runs.
 *
 * Published values checked: Shewhart rule 1 ARL0 = 370.4 and ARL(1σ) = 43.9 (exact); all four
 * Western Electric rules ARL0 = 91.75 (Champ & Woodall 1987, Technometrics
 * 29(4)); EWMA λ = 0.2, L = 2.962: ARL0 ≈ 500, ARL(1σ) ≈ 10.5 (Lucas &
 * Saccucci 1990, Technometrics 32(1), as tabled in Montgomery, Introduction
 * to SQC, table 9.11); CUSUM k = 0.5, h = 5: ARL0 ≈ 465, ARL(1σ) ≈ 10.4
 * (Montgomery table 9.3; Siegmund's approximation gives 469 and 10.3). */

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "agents/line/spc.h"

/* xoshiro-style generator with Box–Muller, private to the test so that the
 * run lengths do not depend on libc's rand(). */
typedef struct { uint64_t s; int have; double spare; } s_rng_t;

static uint64_t
s_next (s_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double
s_normal (s_rng_t *r)
{
    if (r->have) {
        r->have = 0;
        return r->spare;
    }
    double u1 = ((double) (s_next (r) >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double) (s_next (r) >> 11) + 0.5) / 9007199254740992.0;
    double m = sqrt (-2 * log (u1));
    r->spare = m * sin (2 * M_PI * u2);
    r->have = 1;
    return m * cos (2 * M_PI * u2);
}

/* Mean run length to the first signal over RUNS runs, shift DELTA σ, on a
 * process with mean 10 and σ 2 (the chart standardises). */
static double
s_arl (const spc_params_t *p, double delta, int runs, uint64_t seed)
{
    char err[128];
    spc_t *c = spc_new (p, err, sizeof err);
    cr_assert_not_null (c, "%s", err);
    s_rng_t rng = { .s = seed };
    double total = 0;
    for (int r = 0; r < runs; r++) {
        spc_reset (c);
        long n = 0;
        do
            n++;
        while (spc_update (c, 10 + 2 * (delta + s_normal (&rng))) == 0 && n < 100000);
        total += (double) n;
    }
    spc_destroy (&c);
    return total / runs;
}

static void
s_close (double got, double want, double rel, const char *what)
{
    cr_assert (fabs (got / want - 1) <= rel, "%s: %.2f, theory %.2f (±%.0f %%)", what, got, want, 100 * rel);
}

Test (spc, theory_matches_published_tables)
{
    s_close (spc_arl_shewhart1 (0), 370.4, 0.001, "Shewhart ARL0");
    s_close (spc_arl_shewhart1 (1), 43.89, 0.001, "Shewhart ARL(1σ)");
    s_close (spc_arl_cusum (0.5, 5, 0), 465, 0.02, "CUSUM ARL0");
    s_close (spc_arl_cusum (0.5, 5, 1), 10.4, 0.02, "CUSUM ARL(1σ)");
    s_close (spc_arl_ewma (0.2, 2.962, 0, 201), 500, 0.02, "EWMA ARL0");
    s_close (spc_arl_ewma (0.2, 2.962, 1, 201), 10.5, 0.03, "EWMA ARL(1σ)");
    cr_assert_eq (spc_arl_ewma (0.2, 3, 0, 4), -1, "even state count refused");
}

/* Standard errors: a run length is roughly geometric, so the mean of R runs
 * has a relative error ≈ 1/√R: 4000 runs → 1.6 %; the bounds below are
 * about 3 standard errors. */
Test (spc, shewhart_rule1_arl, .timeout = 60)
{
    spc_params_t p = { .kind = SPC_SHEWHART, .mean = 10, .sigma = 2, .we_rules = SPC_WE1 };
    s_close (s_arl (&p, 0, 4000, 1), spc_arl_shewhart1 (0), 0.05, "rule 1 in control");
    s_close (s_arl (&p, 1, 4000, 2), spc_arl_shewhart1 (1), 0.05, "rule 1, 1σ shift");
}

Test (spc, western_electric_arl0, .timeout = 60)
{
    spc_params_t p = { .kind = SPC_SHEWHART, .mean = 10, .sigma = 2, .we_rules = SPC_WE_ALL };
    s_close (s_arl (&p, 0, 6000, 3), 91.75, 0.04, "WE rules 1-4 in control (Champ & Woodall)");
    /* A 1σ shift: the supplementary rules make detection much faster than
     * rule 1 alone (43.96). */
    double a1 = s_arl (&p, 1, 4000, 4);
    cr_assert_lt (a1, 0.35 * spc_arl_shewhart1 (1), "WE ARL(1σ) %.2f", a1);
}

Test (spc, ewma_arl, .timeout = 60)
{
    spc_params_t p = { .kind = SPC_EWMA, .mean = 10, .sigma = 2, .lambda = 0.2, .limit_l = 2.962 };
    s_close (s_arl (&p, 0, 3000, 5), spc_arl_ewma (0.2, 2.962, 0, 201), 0.06, "EWMA in control");
    s_close (s_arl (&p, 1, 4000, 6), spc_arl_ewma (0.2, 2.962, 1, 201), 0.05, "EWMA 1σ shift");
}

Test (spc, cusum_arl, .timeout = 60)
{
    spc_params_t p = { .kind = SPC_CUSUM, .mean = 10, .sigma = 2, .k = 0.5, .h = 5 };
    s_close (s_arl (&p, 0, 3000, 7), spc_arl_cusum (0.5, 5, 0), 0.06, "CUSUM in control");
    s_close (s_arl (&p, 1, 4000, 8), spc_arl_cusum (0.5, 5, 1), 0.05, "CUSUM 1σ shift");
}

Test (spc, rules_and_direction)
{
    char err[128];
    spc_params_t p = { .kind = SPC_SHEWHART, .mean = 0, .sigma = 1, .we_rules = SPC_WE_ALL };
    spc_t *c = spc_new (&p, err, sizeof err);
    cr_assert_eq (spc_update (c, -3.5), 1 | SPC_SIG_DOWN);
    cr_assert_eq (spc_update (c, 2.5), 0);
    cr_assert_eq (spc_update (c, 0), 0);
    cr_assert_eq (spc_update (c, 2.2), 2 | SPC_SIG_UP, "two of three beyond 2σ");
    double five[] = { 1.5, 1.2, -0.5, 1.1, 1.3 };
    for (int i = 0; i < 4; i++)
        cr_assert_eq (spc_update (c, five[i]), 0);
    cr_assert_eq (spc_update (c, five[4]), 3 | SPC_SIG_UP, "four of five beyond 1σ");
    for (int i = 0; i < 7; i++)
        cr_assert_eq (spc_update (c, -0.3), 0);
    cr_assert_eq (spc_update (c, -0.3), 4 | SPC_SIG_DOWN, "eight in a row below");
    cr_assert_eq (spc_update (c, NAN), SPC_EBADINPUT);
    cr_assert_eq (spc_update (c, INFINITY), SPC_EBADINPUT);
    cr_assert_eq (spc_rejected (c), 2);
    cr_assert_eq (spc_count (c), 17);
    spc_destroy (&c);
    cr_assert_null (c);
    p.sigma = 0;
    cr_assert_null (spc_new (&p, err, sizeof err));
    p = (spc_params_t) { .kind = SPC_EWMA, .mean = 0, .sigma = 1, .lambda = 1.5, .limit_l = 3 };
    cr_assert_null (spc_new (&p, err, sizeof err));
    p = (spc_params_t) { .kind = SPC_CUSUM, .mean = 0, .sigma = 1, .k = 0.5, .h = NAN };
    cr_assert_null (spc_new (&p, err, sizeof err));
}
