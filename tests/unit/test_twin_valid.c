/*  Validation of the twin against queueing theory nobody here wrote.
 *
 *  Every test runs the real plant model (model.c: the same station, buffer,
 *  blocking and failure code the factory configs use) from a YAML config,
 *  with fixed seeds, and compares with a closed-form or exactly computed
 *  value: Jackson's tandem M/M/1 line, the two-station finite-buffer Markov
 *  chain, Little's law, and availability MTBF / (MTBF + MTTR).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "agents/twin/twin.h"

static twin_t *
s_twin (const char *yaml, uint64_t seed)
{
    char err[512] = "";
    twin_t *t = twin_new_from_text (yaml, strlen (yaml), "test.yaml", seed, err, sizeof err);
    cr_assert_not_null (t, "config refused: %s", err);
    return t;
}

/* Open tandem line of three M/M/1 stations, λ = 1/s, μ = 2, 2.5, 3 per s:
 * by Jackson's theorem the mean sojourn is Σ 1 / (μᵢ − λ). */
Test (twin_valid, jackson_tandem_sojourn)
{
    const char *yaml =
        "factory: {name: tandem, warmup_h: 2}\n"
        "arrivals: {mode: poisson, rate_per_h: 3600}\n"
        "stations:\n"
        "  - {name: s1, process_s: {dist: exponential, mean: 0.5}}\n"
        "  - {name: s2, process_s: {dist: exponential, mean: 0.4}}\n"
        "  - {name: s3, process_s: {dist: exponential, mean: 0.3333333333333333}}\n";
    twin_t *t = s_twin (yaml, 11);
    twin_run (t, 120, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    double analytic_s = 1 / (2.0 - 1) + 1 / (2.5 - 1) + 1 / (3.0 - 1);
    double sim_s = k.cycle_time_mean_min * 60;
    double err_pct = 100 * fabs (sim_s - analytic_s) / analytic_s;
    cr_log_info ("jackson: sim %.5f s, analytic %.5f s (%.3f %%)", sim_s, analytic_s, err_pct);
    cr_assert (err_pct < 2.0, "sojourn %.4f s vs Jackson %.4f s: %.2f %% off", sim_s, analytic_s, err_pct);
    cr_assert (fabs (k.throughput_uph - 3600) / 3600 < 0.01, "throughput %.1f/h, λ = 3600/h", k.throughput_uph);
    twin_destroy (&t);
    cr_assert_null (t);
}

/* Exact throughput of a saturated line M0 → B1 → M1 → … with exponential
 * times and blocking after service, as a continuous-time Markov chain built
 * here from the line's rules (not from the twin's code): each machine is
 * idle, working or blocked (holding a finished unit); buffer i holds up to
 * CAP[i] units in front of machine i (CAP[i] = 0: a direct hand-over to an
 * idle machine); M0 is never starved.  States are enumerated from the empty
 * line, πQ = 0 with Σπ = 1 is solved by Gaussian elimination, and the
 * throughput is μ_last · P(last machine working). */
#define S_CTMC_MAX_M 4
#define S_CTMC_MAX_STATES 400
enum { S_IDLE, S_WORK, S_BLOCK };
typedef struct {
    int m[S_CTMC_MAX_M], b[S_CTMC_MAX_M];
} s_line_state_t;

typedef struct {
    int n_mach;
    const double *mu;
    const int *cap;
    s_line_state_t st[S_CTMC_MAX_STATES];
    int n;
} s_ctmc_t;

/* Machine I has just released its unit: it takes the next one from its
 * buffer (or, M0, from the endless supply; or directly from a blocked
 * upstream machine when it has no buffer), and what that frees upstream
 * moves on in turn. */
static void
s_line_free (s_ctmc_t *c, s_line_state_t *x, int i)
{
    if (i == 0) {
        x->m[0] = S_WORK;
        return;
    }
    if (x->b[i] > 0) {
        x->b[i]--;
        x->m[i] = S_WORK;
        if (x->m[i - 1] == S_BLOCK) {
            x->b[i]++;
            s_line_free (c, x, i - 1);
        }
    }
    else if (x->m[i - 1] == S_BLOCK) {
        x->m[i] = S_WORK;
        s_line_free (c, x, i - 1);
    }
    else
        x->m[i] = S_IDLE;
}

/* Machine I finishes: its unit leaves the line or moves on (to an idle
 * machine with an empty buffer, into the buffer, or it blocks). */
static s_line_state_t
s_line_done (s_ctmc_t *c, s_line_state_t x, int i)
{
    if (i == c->n_mach - 1) {
        s_line_free (c, &x, i);
        return x;
    }
    int j = i + 1;
    if (x.m[j] == S_IDLE && x.b[j] == 0)
        x.m[j] = S_WORK;
    else if (x.b[j] < c->cap[j])
        x.b[j]++;
    else {
        x.m[i] = S_BLOCK;
        return x;
    }
    s_line_free (c, &x, i);
    return x;
}

static int
s_ctmc_index (s_ctmc_t *c, const s_line_state_t *x)
{
    for (int k = 0; k < c->n; k++)
        if (!memcmp (&c->st[k], x, sizeof *x))
            return k;
    cr_assert_lt (c->n, S_CTMC_MAX_STATES);
    c->st[c->n] = *x;
    return c->n++;
}

static double
s_line_throughput (int n_mach, const double *mu, const int *cap)
{
    static s_ctmc_t c;
    static double A[S_CTMC_MAX_STATES][S_CTMC_MAX_STATES + 1];
    memset (&c, 0, sizeof c);
    memset (A, 0, sizeof A);
    c.n_mach = n_mach;
    c.mu = mu;
    c.cap = cap;
    s_line_state_t x0;
    memset (&x0, 0, sizeof x0);
    x0.m[0] = S_WORK;
    s_ctmc_index (&c, &x0);
    /* Breadth-first: A holds Qᵀ (A[to][from] += rate, A[from][from] −= rate). */
    for (int k = 0; k < c.n; k++)
        for (int i = 0; i < n_mach; i++)
            if (c.st[k].m[i] == S_WORK) {
                s_line_state_t y = s_line_done (&c, c.st[k], i);
                int to = s_ctmc_index (&c, &y);
                A[to][k] += mu[i];
                A[k][k] -= mu[i];
            }
    int n = c.n;
    for (int j = 0; j < n; j++)
        A[n - 1][j] = 1.0;          /* Σπ = 1 replaces the last balance equation */
    A[n - 1][n] = 1.0;
    for (int col = 0; col < n; col++) {
        int p = col;
        for (int r = col + 1; r < n; r++)
            if (fabs (A[r][col]) > fabs (A[p][col]))
                p = r;
        for (int j = 0; j <= n; j++) {
            double tmp = A[col][j];
            A[col][j] = A[p][j];
            A[p][j] = tmp;
        }
        for (int r = 0; r < n; r++) {
            if (r == col)
                continue;
            double f = A[r][col] / A[col][col];
            for (int j = col; j <= n; j++)
                A[r][j] -= f * A[col][j];
        }
    }
    double th = 0;
    for (int k = 0; k < n; k++)
        if (c.st[k].m[n_mach - 1] == S_WORK)
            th += mu[n_mach - 1] * A[k][n] / A[k][k];
    return th;
}

/* The twin's throughput on a saturated line of exponential machines with
 * MEAN_S and buffers CAP (cap[0] unused), against the exact chain. */
static void
s_check_line (int n, const double *mean_s, const int *cap, uint64_t seed)
{
    char yaml[1024];
    double mu[S_CTMC_MAX_M];
    for (int i = 0; i < n; i++)
        mu[i] = 1.0 / mean_s[i];
    /* A station's buffer_cap is the buffer in front of it. */
    int len;
    len = snprintf (yaml, sizeof yaml, "factory: {name: line, warmup_h: 5}\n"
                    "arrivals: {mode: saturated}\nstations:\n");
    for (int i = 0; i < n; i++)
        len += snprintf (yaml + len, sizeof yaml - (size_t) len,
                         "  - {name: m%d, process_s: {dist: exponential, mean: %.17g}, buffer_cap: %d}\n",
                         i, mean_s[i], i > 0 ? cap[i] : 0);
    twin_t *t = s_twin (yaml, seed);
    twin_run (t, 105, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    double exact_per_s = s_line_throughput (n, mu, cap);
    double sim_per_s = k.throughput_uph / 3600;
    double err_pct = 100 * fabs (sim_per_s - exact_per_s) / exact_per_s;
    cr_log_info ("line of %d, buffers %d %d %d: sim %.5f/s, Markov %.5f/s (%.3f %%)", n, cap[1],
                 n > 2 ? cap[2] : -1, n > 3 ? cap[3] : -1, sim_per_s, exact_per_s, err_pct);
    cr_assert (err_pct < 2.0, "throughput %.5f/s vs Markov chain %.5f/s: %.2f %% off",
               sim_per_s, exact_per_s, err_pct);
    twin_destroy (&t);
}

Test (twin_valid, finite_buffer_throughput)
{
    double mean_s[] = { 1.0, 0.9 };
    int cap[] = { 0, 2 };
    s_check_line (2, mean_s, cap, 5);
    /* The chain itself: with a large buffer it must tend to min(μ1, μ2). */
    double mu[] = { 1.0, 2.0 };
    int big[] = { 0, 12 };
    cr_assert (fabs (s_line_throughput (2, mu, big) - 1.0) < 1e-3);
}

/* No buffer at all (buffer_cap: 0, a direct hand-over): two machines, means
 * 1 s and 0.9 s, give exactly 0.7011/s; the twin once deadlocked here. */
Test (twin_valid, no_buffer_throughput)
{
    double mean_s[] = { 1.0, 0.9 };
    int cap[] = { 0, 0 };
    double mu[] = { 1.0, 1 / 0.9 };
    cr_assert (fabs (s_line_throughput (2, mu, cap) - 0.70111) < 1e-4,
               "chain %.6f", s_line_throughput (2, mu, cap));
    s_check_line (2, mean_s, cap, 5);
    double mean3[] = { 1.0, 0.8, 1.2 };
    int cap3[] = { 0, 0, 0 };
    s_check_line (3, mean3, cap3, 6);
    int mixed[] = { 0, 1, 0 };
    s_check_line (3, mean3, mixed, 7);
    double mean4[] = { 0.9, 1.0, 0.8, 1.1 };
    int cap4[] = { 0, 0, 1, 0 };
    s_check_line (4, mean4, cap4, 8);
}

/* Little's law L = λW on a line with three variants, per-variant times,
 * setups, a conveyor, finite buffers (blocking) and random failures. */
Test (twin_valid, littles_law_variants)
{
    const char *yaml =
        "factory: {name: little, warmup_h: 10}\n"
        "arrivals: {mode: poisson, rate_per_h: 40}\n"
        "variants:\n"
        "  - {name: a, mix: 0.5}\n"
        "  - {name: b, mix: 0.3}\n"
        "  - {name: c, mix: 0.2, route: [cut, paint]}\n"
        "stations:\n"
        "  - name: cut\n"
        "    process_s: {dist: exponential, mean: 50}\n"
        "    process_s_by_variant: {b: {dist: gamma, mean: 60, cv: 0.5}}\n"
        "    setup_s: 20\n"
        "    conveyor_s: 30\n"
        "  - name: weld\n"
        "    process_s: {dist: lognormal, mean: 55, sd: 20}\n"
        "    buffer_cap: 3\n"
        "    mtbf_h: 20\n"
        "    repair_min: {dist: exponential, mean: 10}\n"
        "  - name: paint\n"
        "    process_s: {dist: weibull, shape: 2, scale: 50}\n"
        "    buffer_cap: 2\n";
    twin_t *t = s_twin (yaml, 3);
    twin_run (t, 4010, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    double lambda_per_min = k.units / (k.sim_h * 60);
    double L = k.wip_mean, lw = lambda_per_min * k.lead_time_mean_min;   /* both from arrival */
    double err_pct = 100 * fabs (L - lw) / lw;
    cr_log_info ("little: L %.4f, lambda W %.4f (%.3f %%), %g units", L, lw, err_pct, k.units);
    cr_assert (k.units > 100000, "too few units: %g", k.units);
    cr_assert (err_pct < 1.0, "L = %.4f vs λW = %.4f: %.2f %% off", L, lw, err_pct);
    twin_destroy (&t);
}

/* One machine, always busy, exponential failures (MTBF 1 h) and repairs
 * (MTTR 15 min): availability = MTBF / (MTBF + MTTR) = 0.8. */
Test (twin_valid, availability)
{
    const char *yaml =
        "factory: {name: avail}\n"
        "stations:\n"
        "  - name: press\n"
        "    process_s: 60\n"
        "    mtbf_h: 1\n"
        "    repair_min: {dist: exponential, mean: 15}\n";
    twin_t *t = s_twin (yaml, 9);
    twin_run (t, 12000, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    double A = k.availability_pct / 100, exact = 1.0 / (1.0 + 0.25);
    double err_pct = 100 * fabs (A - exact) / exact;
    cr_log_info ("availability: sim %.4f, exact %.4f (%.3f %%)", A, exact, err_pct);
    cr_assert (err_pct < 2.0, "availability %.4f vs %.4f: %.2f %% off", A, exact, err_pct);
    cr_assert (fabs (k.mtbf_h - 1) < 0.05 && fabs (k.mttr_h - 0.25) < 0.0125,
               "MTBF %.3f h, MTTR %.3f h", k.mtbf_h, k.mttr_h);
    twin_destroy (&t);
}

/* Orders waiting in the release queue in front of a first station without
 * a buffer form that station's queue: M/M/1 again, W = 1 / (μ − λ) = 1 s. */
Test (twin_valid, release_queue_is_a_queue)
{
    const char *yaml =
        "factory: {name: mm1, warmup_h: 2}\n"
        "arrivals: {mode: poisson, rate_per_h: 3600, sequence: edd}\n"
        "stations:\n"
        "  - {name: s1, process_s: {dist: exponential, mean: 0.5}, buffer_cap: 0}\n";
    twin_t *t = s_twin (yaml, 21);
    twin_run (t, 82, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    double sim_s = k.lead_time_mean_min * 60, err_pct = 100 * fabs (sim_s - 1.0);
    cr_log_info ("release queue M/M/1: W %.5f s vs 1 s (%.3f %%)", sim_s, err_pct);
    cr_assert (err_pct < 2.0, "W %.4f s vs 1 s", sim_s);
    twin_destroy (&t);
}
