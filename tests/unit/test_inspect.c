/* test_inspect.c — CSP-1: Dodge's AOQ formula, the clearance number for a
 * target AOQL, and the state machine against the formula by simulation. */

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "agents/line/inspect.h"

Test (inspect, aoq_formula)
{
    cr_assert_float_eq (insp_aoq (0.01, 1.0, 100), 0, 1e-15, "every unit inspected: nothing escapes");
    cr_assert_float_eq (insp_aoq (0.01, 0.2, 0), 0.01 * 0.8, 1e-15, "I = 0: plain 1-in-5 sampling");
    double q = pow (0.99, 50);
    cr_assert_float_eq (insp_aoq (0.01, 0.2, 50), 0.01 * 0.8 * q / (0.2 + 0.8 * q), 1e-15);
    cr_assert (isnan (insp_aoq (-0.1, 0.2, 50)));
    cr_assert (isnan (insp_aoq (0.1, 0, 50)));
}

Test (inspect, clearance_meets_the_aoql)
{
    cr_assert_lt (insp_aoql (0.2, 500), insp_aoql (0.2, 50), "a longer clear run lowers the AOQL");
    long i = insp_clearance (0.2, 100e-6);
    cr_assert_gt (i, 1);
    cr_assert_leq (insp_aoql (0.2, (double) i), 100e-6);
    cr_assert_gt (insp_aoql (0.2, (double) (i - 1)), 100e-6, "the smallest such I");
    /* For small AOQL, AOQL · I → ((1 − f)/f) · max x e^{−x}-like constant:
     * halving the target about doubles I. */
    long j = insp_clearance (0.2, 50e-6);
    cr_assert (j > 1.8 * i && j < 2.2 * i, "I(50 ppm) = %ld vs I(100 ppm) = %ld", j, i);
    cr_assert_eq (insp_clearance (1.0, 1e-4), -1);
    cr_assert_eq (insp_clearance (0.2, 0), -1);
}

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;
static double
s_uniform (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (double) (s_rng >> 11) / 9007199254740992.0;
}

/* The plant inspects 1 in k by its counter and rectifies what it finds; the
 * outgoing defect rate of the state machine must match Dodge's AOQ. */
Test (inspect, state_machine_matches_dodge)
{
    const double p = 0.01;
    insp_params_t ip = { .sample_every = 5, .clearance = 60 };
    char err[128];
    insp_t *plan = insp_new (&ip, err, sizeof err);
    cr_assert_not_null (plan, "%s", err);
    long n = 2000000, out_bad = 0, counter = 0;
    int k = insp_sample_every (plan);
    for (long u = 0; u < n; u++) {
        bool bad = s_uniform () < p;
        bool sampled = ++counter >= k;
        if (sampled)
            counter = 0;
        bool found = sampled && bad;
        if (bad && !found)
            out_bad++;
        k = insp_update (plan, 1, found ? 1 : 0);
    }
    double aoq = (double) out_bad / (double) n, theory = insp_aoq (p, 0.2, 60);
    cr_assert (fabs (aoq - theory) < 0.04 * theory, "simulated AOQ %g vs Dodge %g", aoq, theory);
    insp_destroy (&plan);
    cr_assert_null (plan);
}

Test (inspect, forced_and_refused)
{
    insp_params_t ip = { .sample_every = 4, .clearance = 10 };
    char err[128];
    insp_t *plan = insp_new (&ip, err, sizeof err);
    cr_assert_eq (insp_update (plan, 9, 0), 1);
    cr_assert_eq (insp_update (plan, 1, 0), 4, "10 clear units: sampling");
    insp_force (plan, 20);
    cr_assert_eq (insp_sample_every (plan), 1, "risk: every unit");
    cr_assert_eq (insp_update (plan, 15, 0), 1, "held for 20 units");
    cr_assert_eq (insp_update (plan, 5, 0), 1, "the clear run starts after the hold");
    cr_assert_eq (insp_update (plan, 10, 0), 4);
    cr_assert_eq (insp_update (plan, 3, 1), 1, "a defect found: every unit again");
    cr_assert_eq (insp_update (plan, NAN, 0), 1);
    cr_assert_eq (insp_update (plan, 1, -1), 1);
    cr_assert_eq (insp_rejected (plan), 2);
    insp_destroy (&plan);
    ip.sample_every = 1;
    cr_assert_null (insp_new (&ip, err, sizeof err));
    cr_assert_null (insp_new (NULL, err, sizeof err));
}
