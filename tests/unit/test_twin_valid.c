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

/* Exact throughput of M1 → buffer K → M2, exponential times, M1 never starved,
 * blocking after service: a continuous-time Markov chain on n = units in the
 * buffer and at M2 (0 … K+1) plus "M1 blocked", solved here by Gaussian
 * elimination on πQ = 0, Σπ = 1.  Throughput = μ2 · P(M2 busy). */
static double
s_finite_buffer_throughput (double mu1, double mu2, int K)
{
    int n = K + 3;                  /* states 0..K+1, and K+2 = blocked */
    double Q[16][17];
    memset (Q, 0, sizeof Q);
    for (int s = 0; s <= K + 1; s++) {
        int up = s < K + 1 ? s + 1 : K + 2;
        Q[s][up] += mu1;
        if (s > 0)
            Q[s][s - 1] += mu2;
    }
    Q[K + 2][K + 1] += mu2;        /* M2 finishes; the blocked unit moves in */
    for (int s = 0; s < n; s++) {
        double out = 0;
        for (int j = 0; j < n; j++)
            out += j != s ? Q[s][j] : 0;
        Q[s][s] = -out;
    }
    /* Solve A x = b with A = Qᵀ, last equation replaced by Σπ = 1. */
    double A[16][17];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++)
            A[i][j] = i == n - 1 ? 1.0 : Q[j][i];
        A[i][n] = i == n - 1 ? 1.0 : 0.0;
    }
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabs (A[r][c]) > fabs (A[p][c]))
                p = r;
        for (int j = 0; j <= n; j++) {
            double tmp = A[c][j];
            A[c][j] = A[p][j];
            A[p][j] = tmp;
        }
        for (int r = 0; r < n; r++) {
            if (r == c)
                continue;
            double f = A[r][c] / A[c][c];
            for (int j = c; j <= n; j++)
                A[r][j] -= f * A[c][j];
        }
    }
    double p0 = A[0][n] / A[0][0];
    return mu2 * (1 - p0);
}

Test (twin_valid, finite_buffer_throughput)
{
    const char *yaml =
        "factory: {name: fb, warmup_h: 5}\n"
        "arrivals: {mode: saturated}\n"
        "stations:\n"
        "  - {name: m1, process_s: {dist: exponential, mean: 1.0}, buffer_cap: 0}\n"
        "  - {name: m2, process_s: {dist: exponential, mean: 0.9}, buffer_cap: 2}\n";
    twin_t *t = s_twin (yaml, 5);
    twin_run (t, 105, NULL);
    twin_kpi_t k;
    twin_kpis (t, &k);
    double exact_per_s = s_finite_buffer_throughput (1.0, 1 / 0.9, 2);
    double sim_per_s = k.throughput_uph / 3600;
    double err_pct = 100 * fabs (sim_per_s - exact_per_s) / exact_per_s;
    cr_log_info ("finite buffer: sim %.5f/s, Markov %.5f/s (%.3f %%)", sim_per_s, exact_per_s, err_pct);
    cr_assert (err_pct < 2.0, "throughput %.5f/s vs Markov chain %.5f/s: %.2f %% off",
               sim_per_s, exact_per_s, err_pct);
    /* The chain itself: with K → ∞ it must tend to min(μ1, μ2). */
    cr_assert (fabs (s_finite_buffer_throughput (1.0, 2.0, 12) - 1.0) < 1e-3);
    twin_destroy (&t);
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
    double L = k.wip_mean, lw = lambda_per_min * k.cycle_time_mean_min;
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
    double sim_s = k.cycle_time_mean_min * 60, err_pct = 100 * fabs (sim_s - 1.0);
    cr_log_info ("release queue M/M/1: W %.5f s vs 1 s (%.3f %%)", sim_s, err_pct);
    cr_assert (err_pct < 2.0, "W %.4f s vs 1 s", sim_s);
    twin_destroy (&t);
}
