/*  The twin's event calendar, random streams and distributions.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_config.h"
#include "agents/twin/des.h"
#include "agents/twin/rng.h"

typedef struct {
    double t[64];
    uint64_t arg[64];
    int n;
} s_trace_t;

static void
s_record (des_t *des, void *ctx, uint64_t arg)
{
    s_trace_t *tr = ctx;
    tr->t[tr->n] = des_now_s (des);
    tr->arg[tr->n++] = arg;
}

Test (twin_des, order_and_ties)
{
    des_t *d = des_new ();
    s_trace_t tr = { 0 };
    cr_assert_eq (des_schedule (d, 5, s_record, &tr, 1), 0);
    cr_assert_eq (des_schedule (d, 1, s_record, &tr, 2), 0);
    cr_assert_eq (des_schedule (d, 5, s_record, &tr, 3), 0);   /* tie: after arg 1 */
    cr_assert_eq (des_schedule (d, 0, s_record, &tr, 4), 0);
    cr_assert_eq (des_schedule (d, -1, s_record, &tr, 5), -1);
    cr_assert_eq (des_schedule (d, INFINITY, s_record, &tr, 5), -1);
    cr_assert_eq (des_iterate (d, 100, 0), 4);
    uint64_t want[] = { 4, 2, 1, 3 };
    for (int i = 0; i < 4; i++)
        cr_assert_eq (tr.arg[i], want[i], "event %d is %lu", i, (unsigned long) tr.arg[i]);
    cr_assert_float_eq (des_now_s (d), 100, 1e-12, "clock advances to the horizon");
    des_destroy (&d);
    cr_assert_null (d);
    des_destroy (&d);               /* NULL-safe */
}

Test (twin_des, iterate_by_count_and_time)
{
    des_t *d = des_new ();
    s_trace_t tr = { 0 };
    for (int i = 0; i < 50; i++)
        des_schedule (d, 50 - i, s_record, &tr, (uint64_t) i);
    cr_assert_eq (des_iterate (d, 1e9, 10), 10);
    cr_assert_float_eq (des_now_s (d), 10, 1e-12);
    cr_assert_eq (des_iterate (d, 20.5, 0), 10);
    cr_assert_float_eq (des_now_s (d), 20.5, 1e-12);
    cr_assert_eq (des_pending (d), 30);
    for (int i = 1; i < tr.n; i++)
        cr_assert (tr.t[i] >= tr.t[i - 1]);
    des_destroy (&d);
}

static void
s_chain (des_t *des, void *ctx, uint64_t arg)
{
    (*(int *) ctx)++;
    if (arg == 7)
        des_stop (des);
    des_schedule (des, 1, s_chain, ctx, arg + 1);
}

Test (twin_des, stop_inside_handler)
{
    des_t *d = des_new ();
    int n = 0;
    des_schedule (d, 0, s_chain, &n, 0);
    des_iterate (d, 1e9, 0);
    cr_assert_eq (n, 8);
    cr_assert (des_stopped (d));
    des_destroy (&d);
}

/* Heap stress: random times come out sorted. */
static void
s_check_sorted (des_t *des, void *ctx, uint64_t arg)
{
    (void) arg;
    double *last = ctx;
    cr_assert (des_now_s (des) >= *last);
    *last = des_now_s (des);
}

Test (twin_des, heap_stress)
{
    des_t *d = des_new ();
    twin_rng_t r;
    twin_rng_seed (&r, 1, "heap");
    double last = 0;
    for (int i = 0; i < 20000; i++)
        des_schedule (d, twin_rng_uniform (&r) * 1000, s_check_sorted, &last, 0);
    cr_assert_eq (des_iterate (d, 1e9, 0), 20000);
    des_destroy (&d);
}

Test (twin_rng, streams_repeat_and_differ)
{
    twin_rng_t a, b, c;
    twin_rng_seed (&a, 42, "weld");
    twin_rng_seed (&b, 42, "weld");
    twin_rng_seed (&c, 42, "paint");
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = twin_rng_u64 (&a);
        cr_assert_eq (x, twin_rng_u64 (&b));
        same_c += x == twin_rng_u64 (&c);
    }
    cr_assert_eq (same_c, 0);
    for (int i = 0; i < 100000; i++) {
        double u = twin_rng_uniform (&a);
        cr_assert (u > 0 && u < 1);
    }
}

static twin_dist_t
s_parse (const char *yaml)
{
    char err[256];
    af_config_t *root = af_config_parse (yaml, strlen (yaml), "d.yaml", err, sizeof err);
    cr_assert_not_null (root, "%s", err);
    twin_dist_t d;
    int rc = twin_dist_parse (&d, af_config_get (root, "t"), 1.0);
    cr_assert_eq (rc, 0, "%s", af_config_error (root));
    af_config_destroy (&root);
    return d;
}

/* Sample means and variances against the analytic moments. */
static void
s_moments (const char *yaml, double mean, double var)
{
    twin_dist_t d = s_parse (yaml);
    twin_rng_t r;
    twin_rng_seed (&r, 7, yaml);
    const int n = 400000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double x = twin_dist_sample (&d, &r);
        cr_assert (x >= 0, "%s gave %g", yaml, x);
        s += x;
        s2 += x * x;
    }
    double m = s / n, v = s2 / n - m * m;
    cr_assert (fabs (m - mean) / mean < 0.01, "%s: mean %g, want %g", yaml, m, mean);
    cr_assert (fabs (v - var) / var < 0.03, "%s: variance %g, want %g", yaml, v, var);
    cr_assert (fabs (d.mean - mean) / mean < 1e-9, "%s: analytic mean %g", yaml, d.mean);
    twin_dist_free (&d);
}

Test (twin_rng, distributions)
{
    s_moments ("t: {dist: exponential, mean: 3}", 3, 9);
    s_moments ("t: {dist: normal, mean: 10, sd: 2}", 10, 4);
    s_moments ("t: {dist: lognormal, mean: 5, sd: 2}", 5, 4);
    s_moments ("t: {dist: gamma, shape: 2.5, scale: 2}", 5, 10);
    s_moments ("t: {dist: gamma, mean: 4, cv: 0.5}", 4, 4);
    s_moments ("t: {dist: gamma, shape: 0.5, scale: 2}", 1, 2);
    s_moments ("t: {dist: weibull, shape: 2, scale: 3}", 3 * tgamma (1.5),
               9 * (tgamma (2) - tgamma (1.5) * tgamma (1.5)));
    s_moments ("t: {dist: empirical, values: [1, 2, 6]}", 3, 14.0 / 3);
    s_moments ("t: {dist: empirical, values: [1, 3], weights: [3, 1]}", 1.5, 0.75);
    twin_dist_t c = s_parse ("t: 12.5");
    twin_rng_t r;
    twin_rng_seed (&r, 1, "c");
    cr_assert_float_eq (twin_dist_sample (&c, &r), 12.5, 1e-12);
}

Test (twin_rng, bad_distributions)
{
    const char *bad[] = {
        "t: {dist: exponential, mean: -1}", "t: {dist: banana, mean: 1}",
        "t: {dist: normal, mean: 1}", "t: {dist: empirical, values: []}",
        "t: {dist: empirical, values: [1, 2], weights: [1]}", "t: -3", "t: [1, 2]",
        "t: {dist: gamma, mean: 1, cv: 0.5, colour: red}"
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[256];
        af_config_t *root = af_config_parse (bad[i], strlen (bad[i]), "d.yaml", err, sizeof err);
        cr_assert_not_null (root);
        twin_dist_t d;
        cr_assert_eq (twin_dist_parse (&d, af_config_get (root, "t"), 1.0), -1, "%s accepted", bad[i]);
        cr_assert_not_null (af_config_error (root));
        cr_assert (strncmp (af_config_error (root), "d.yaml:1:", 9) == 0, "%s", af_config_error (root));
        twin_dist_free (&d);
        af_config_destroy (&root);
    }
}

/* The calendar against a reference that scans every pending event for the
 * earliest (time, then scheduling order): a mix of ties, tiny, ordinary and
 * far-future delays, bursts that make its buckets grow, quiet stretches
 * that move its window, and events scheduled at "now" after the clock was
 * moved to a horizon.  Every event must come out exactly when the reference
 * says. */
#define S_REF_MAX 20000
typedef struct {
    des_t *des;
    twin_rng_t rng;
    double t[S_REF_MAX];
    uint64_t seq[S_REF_MAX];
    bool live[S_REF_MAX];
    int n_ids;
    uint64_t next_seq;
    int ran, mismatches, budget;
} s_ref_t;

static void s_ref_fire (des_t *des, void *ctx, uint64_t arg);

static double
s_ref_delay (s_ref_t *r)
{
    double u = twin_rng_uniform (&r->rng);
    if (u < 0.15)
        return 0;                                   /* a tie with now */
    if (u < 0.30)
        return 1e-7 * twin_rng_uniform (&r->rng);   /* nearly a tie */
    if (u < 0.95)
        return twin_rng_exponential (&r->rng, 1.0);
    return 1e4 * twin_rng_uniform (&r->rng);        /* far future */
}

static void
s_ref_schedule (s_ref_t *r, double delay)
{
    if (r->n_ids >= S_REF_MAX)
        return;
    int id = r->n_ids++;
    r->t[id] = des_now_s (r->des) + delay;
    r->seq[id] = r->next_seq++;
    r->live[id] = true;
    cr_assert_eq (des_schedule (r->des, delay, s_ref_fire, r, (uint64_t) id), 0);
}

static void
s_ref_fire (des_t *des, void *ctx, uint64_t arg)
{
    s_ref_t *r = ctx;
    int best = -1;
    for (int i = 0; i < r->n_ids; i++)
        if (r->live[i] && (best < 0 || r->t[i] < r->t[best]
                           || (r->t[i] == r->t[best] && r->seq[i] < r->seq[best])))
            best = i;
    if (best != (int) arg || des_now_s (des) != r->t[arg])
        r->mismatches++;
    r->live[arg] = false;
    r->ran++;
    /* Bursts: sometimes many children (the buckets grow), sometimes none. */
    int children = twin_rng_uniform (&r->rng) < 0.02 ? 40 : (int) (twin_rng_uniform (&r->rng) * 2.2);
    for (int k = 0; k < children && r->budget > 0; k++, r->budget--)
        s_ref_schedule (r, s_ref_delay (r));
}

Test (twin_des, calendar_matches_reference)
{
    static s_ref_t r;
    memset (&r, 0, sizeof r);
    r.des = des_new ();
    twin_rng_seed (&r.rng, 3, "calendar");
    r.budget = S_REF_MAX - 200;
    for (int i = 0; i < 100; i++)
        s_ref_schedule (&r, s_ref_delay (&r));
    /* Step to horizons, scheduling at "now" between steps as commands do. */
    for (double until = 0.5; des_pending (r.des) > 0 && until < 1e6; until *= 1.3) {
        des_iterate (r.des, until, 0);
        cr_assert_eq (des_advance (r.des, des_now_s (r.des)), 0);
        for (int k = 0; k < 3 && r.budget > 0; k++, r.budget--)
            s_ref_schedule (&r, k == 0 ? 0 : s_ref_delay (&r));
    }
    des_iterate (r.des, INFINITY, 0);
    cr_assert_eq (r.mismatches, 0, "%d of %d events out of order", r.mismatches, r.ran);
    cr_assert_eq (r.ran, r.n_ids, "every scheduled event ran (%d of %d)", r.ran, r.n_ids);
    cr_assert_eq (des_pending (r.des), 0);
    des_destroy (&r.des);
}

/* des_advance refuses to jump over a pending event, wherever it waits. */
Test (twin_des, advance_never_skips)
{
    des_t *d = des_new ();
    s_trace_t tr = { 0 };
    des_schedule (d, 1e6, s_record, &tr, 1);        /* beyond the first window */
    cr_assert_eq (des_advance (d, 2e6), -1);
    cr_assert_eq (des_advance (d, 5e5), 0);
    cr_assert_eq (des_advance (d, 1e5), -1, "the clock never goes back");
    cr_assert_eq (des_iterate (d, 2e6, 0), 1);
    cr_assert_float_eq (tr.t[0], 1e6, 1e-9);
    des_destroy (&d);
}

/* twin_dist_sd against the spread of 200 000 draws, for every kind. */
Test (twin_rng, dist_sd_matches_samples)
{
    const char *yaml[] = {
        "{dist: exponential, mean: 3}", "{dist: normal, mean: 50, sd: 4}",
        "{dist: lognormal, mean: 10, sd: 3}", "{dist: gamma, mean: 72, cv: 0.3}",
        "{dist: weibull, shape: 1.7, scale: 20}", "{dist: empirical, values: [1, 2, 9], weights: [1, 3, 1]}",
    };
    for (size_t k = 0; k < sizeof yaml / sizeof *yaml; k++) {
        char err[256];
        char doc[128];
        snprintf (doc, sizeof doc, "d: %s\n", yaml[k]);
        af_config_t *root = af_config_parse (doc, strlen (doc), "t", err, sizeof err);
        cr_assert_not_null (root, "%s", err);
        twin_dist_t d;
        cr_assert_eq (twin_dist_parse (&d, af_config_get (root, "d"), 1.0), 0, "%s", yaml[k]);
        twin_rng_t r;
        twin_rng_seed (&r, 7, "sd");
        double sum = 0, sum2 = 0;
        int n = 200000;
        for (int i = 0; i < n; i++) {
            double x = twin_dist_sample (&d, &r);
            sum += x;
            sum2 += x * x;
        }
        double sd = sqrt (sum2 / n - (sum / n) * (sum / n));
        cr_assert (fabs (sd - twin_dist_sd (&d)) < 0.02 * twin_dist_sd (&d), "%s: sampled %g, twin_dist_sd %g",
                   yaml[k], sd, twin_dist_sd (&d));
        twin_dist_free (&d);
        af_config_destroy (&root);
    }
}
