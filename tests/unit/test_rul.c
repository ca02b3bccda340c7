/*  Unit tests: cmapss reader and rul — hostile C-MAPSS files get one clear
 *  line each; on a synthetic fleet with a known wear law the model's
 *  predictions beat a constant guess and carry an interval; the PHM08
 *  score has its published shape. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agents/maintenance/rul.h"

static char s_path[64];

static const char *
s_write (const char *text)
{
    snprintf (s_path, sizeof s_path, "/tmp/af-test-cmapss-%d.txt", (int) getpid ());
    FILE *f = fopen (s_path, "w");
    fputs (text, f);
    fclose (f);
    return s_path;
}

/* One C-MAPSS row with fill values. */
static void
s_row (char *buf, size_t len, const char *unit, const char *cycle, const char *last)
{
    snprintf (buf, len, "%s %s -0.0007 -0.0004 100.0 518.67 641.82 1589.70 1400.60 14.62 21.61 "
              "554.36 2388.06 9046.19 1.30 47.47 521.66 2388.02 8138.62 8.4195 0.03 392 2388 "
              "100.00 39.06 %s  \n", unit, cycle, last);
}

Test (cmapss, reads_and_refuses)
{
    char a[512], b[512], c[512], text[2048], err[CMAPSS_ERR_LEN];
    s_row (a, sizeof a, "1", "1", "23.4190");
    s_row (b, sizeof b, "1", "2", "23.4236");
    s_row (c, sizeof c, "2", "1", "23.3442");
    snprintf (text, sizeof text, "%s%s\n%s", a, b, c);
    cmapss_fleet_t *f = cmapss_load (s_write (text), err);
    cr_assert_not_null (f, "%s", err);
    cr_assert_eq (f->n_units, 2);
    cr_assert_eq (f->units[0].n_cycles, 2);
    cr_assert_float_eq (f->units[0].x[CMAPSS_COLS + CMAPSS_COLS - 1], 23.4236, 1e-9);
    cmapss_destroy (&f);
    cr_assert_null (f);

    const struct {
        const char *rows[3];
        const char *why;
    } bad[] = {
        { { "1", "1", "1 2 3\n" }, "expected 26 numbers" },
        { { "1", "3", NULL }, "cycle 3 where 1 was expected" },
        { { "1", "1", "nan" }, "non-number" },
        { { "x", "1", NULL }, "non-number" },
        { { "0", "1", NULL }, "whole numbers >= 1" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_row (a, sizeof a, bad[i].rows[0], bad[i].rows[1],
               bad[i].rows[2] && strcmp (bad[i].rows[2], "1 2 3\n") ? bad[i].rows[2] : "1.0");
        if (bad[i].rows[2] && !strcmp (bad[i].rows[2], "1 2 3\n"))
            snprintf (a, sizeof a, "1 2 3\n");
        err[0] = 0;
        cr_assert_null (cmapss_load (s_write (a), err), "case %zu accepted", i);
        cr_assert (strstr (err, bad[i].why), "case %zu: '%s' lacks '%s'", i, err, bad[i].why);
        cr_assert (strstr (err, ":1:"), "the line number is given: %s", err);
    }
    s_row (a, sizeof a, "1", "1", "1");
    s_row (b, sizeof b, "2", "1", "1");
    s_row (c, sizeof c, "1", "2", "1");
    snprintf (text, sizeof text, "%s%s%s", a, b, c);
    cr_assert_null (cmapss_load (s_write (text), err));
    cr_assert (strstr (err, "comes back"), "%s", err);
    cr_assert_null (cmapss_load (s_write ("\n\n"), err));
    cr_assert (strstr (err, "no data rows"), "%s", err);
    cr_assert_null (cmapss_load ("/nonexistent/test.txt", err));
    cr_assert (strstr (err, "cannot open"), "%s", err);

    double *rul = cmapss_load_rul (s_write ("112\n98\n"), 2, err);
    cr_assert_not_null (rul, "%s", err);
    cr_assert_float_eq (rul[1], 98, 1e-12);
    free (rul);
    cr_assert_null (cmapss_load_rul (s_write ("112\n98\n"), 3, err));
    cr_assert (strstr (err, "2 values for 3 test units"), "%s", err);
    cr_assert_null (cmapss_load_rul (s_write ("112\n-4\n"), 2, err));
    cr_assert_null (cmapss_load_rul (s_write ("1\n2\n3\n"), 2, err));
    unlink (s_path);
}

Test (rul, phm08_score_shape)
{
    cr_assert_float_eq (rul_phm08_score (0), 0, 1e-12);
    cr_assert_float_eq (rul_phm08_score (-13), M_E - 1, 1e-9);
    cr_assert_float_eq (rul_phm08_score (10), M_E - 1, 1e-9);
    cr_assert_gt (rul_phm08_score (20), rul_phm08_score (-20), "late costs more than early");
}

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

/* A synthetic fleet: every sensor drifts as (t/life)^2 on top of a unit
 * offset and noise, so the remaining life is readable from the signals. */
static cmapss_fleet_t *
s_fleet (int n, unsigned seed)
{
    cmapss_fleet_t *f = calloc (1, sizeof *f);
    f->units = calloc ((size_t) n, sizeof *f->units);
    f->n_units = n;
    unsigned st = seed;
    for (int u = 0; u < n; u++) {
        cmapss_unit_t *unit = &f->units[u];
        unit->id = u + 1;
        unit->n_cycles = 120 + (int) ((st = st * 1664525u + 1013904223u) >> 25);
        unit->x = calloc ((size_t) unit->n_cycles * CMAPSS_COLS, sizeof (double));
        double offset = 0.3 * s_noise (&st);
        for (int t = 0; t < unit->n_cycles; t++) {
            double w = pow ((t + 1.0) / unit->n_cycles, 2);
            for (int c = CMAPSS_SETTINGS; c < CMAPSS_COLS; c++)
                unit->x[(size_t) t * CMAPSS_COLS + c] = 10 * c + offset + 3 * w + 0.3 * s_noise (&st);
        }
    }
    return f;
}

Test (rul, learns_a_synthetic_wear_law, .timeout = 120)
{
    cmapss_fleet_t *train = s_fleet (40, 1), *test = s_fleet (15, 2);
    rul_params_t p = rul_params_default ();
    p.rounds = 80;
    p.threads = 1;
    char err[CMAPSS_ERR_LEN];
    rul_model_t *m = rul_model_train (train, &p, err);
    cr_assert_not_null (m, "%s", err);
    double se = 0, se_const = 0;
    int n = 0;
    for (int u = 0; u < test->n_units; u++) {
        const cmapss_unit_t *unit = &test->units[u];
        for (int left = 10; left <= 100; left += 30) {
            double pred, lo, hi;
            cr_assert_eq (rul_model_predict (m, unit, unit->n_cycles - left, &pred, &lo, &hi), 0);
            cr_assert (lo <= pred && pred <= hi && lo >= 0, "[%g, %g] around %g", lo, hi, pred);
            se += (pred - left) * (pred - left);
            se_const += (55.0 - left) * (55.0 - left);
            n++;
        }
    }
    double rmse = sqrt (se / n), rmse_const = sqrt (se_const / n);
    cr_assert_lt (rmse, 0.5 * rmse_const, "RMSE %g vs a constant guess %g", rmse, rmse_const);
    rul_model_destroy (&m);
    cr_assert_null (m);
    cmapss_fleet_t small = { .units = train->units, .n_units = 3 };
    cr_assert_null (rul_model_train (&small, &p, err));
    cr_assert (strstr (err, "at least 6"), "%s", err);
    cmapss_destroy (&train);
    cmapss_destroy (&test);
}
