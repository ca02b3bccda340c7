/*  Unit tests: cli/eval.c — the KPI reader takes hostile input without
 *  crashing and says why in one line; the comparison of equal policies gives
 *  change 0 and interval 0; a known difference gives the paired interval;
 *  the JSON has every key, flat; a bound that loses to autonomous is
 *  flagged.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/eval.h"

static eval_kpis_t s_k;

Test (eval_core, reads_a_flat_kpi_object)
{
    const char *text = " {\"units\": 1226, \"oee_pct\":85.69,\"mttr_h\":null,\n\"neg\":-1.5e-3}\n";
    char err[200] = "";
    cr_assert_eq (eval_kpis_parse (text, strlen (text), &s_k, err, sizeof err), 0, "%s", err);
    cr_assert_eq (s_k.n, 4);
    double v;
    cr_assert (eval_kpis_get (&s_k, "units", &v));
    cr_assert_eq (v, 1226);
    cr_assert (eval_kpis_get (&s_k, "neg", &v));
    cr_assert_float_eq (v, -1.5e-3, 1e-15);
    cr_assert (eval_kpis_get (&s_k, "mttr_h", &v) && isnan (v));
    cr_assert (!eval_kpis_get (&s_k, "nope", &v));
    cr_assert_eq (eval_kpis_parse ("{}", 2, &s_k, err, sizeof err), 0);
    cr_assert_eq (s_k.n, 0);
}

Test (eval_core, refuses_hostile_input_with_one_line)
{
    const struct {
        const char *text, *why;
    } cases[] = {
        { "", "not a JSON object" },
        { "[1,2]", "not a JSON object" },
        { "{\"a\":1", "expected ',' or '}'" },
        { "{\"a\":{\"b\":1}}", "not a number" },
        { "{\"a\":\"text\"}", "not a number" },
        { "{\"a\":true}", "not a number" },
        { "{\"a\":1e999}", "not a number" },
        { "{\"a\":1.2.3}", "not a number" },
        { "{\"a\":1,\"a\":2}", "twice" },
        { "{\"a b\":1}", "bad key" },
        { "{\"\":1}", "bad key" },
        { "{\"\\u0041\":1}", "bad key" },
        { "{a:1}", "expected a key" },
        { "{\"a\" 1}", "expected ':'" },
        { "{\"a\":1} x", "text after" },
        { "{\"a\":1,}", "expected a key" },
        { "{\"a\":nul}", "not a number" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[200] = "";
        cr_assert_eq (eval_kpis_parse (cases[i].text, strlen (cases[i].text), &s_k, err, sizeof err), -1,
                      "case %zu accepted", i);
        cr_assert (strstr (err, cases[i].why), "case %zu: '%s' lacks '%s'", i, err, cases[i].why);
        cr_assert (!strchr (err, '\n'), "one line");
    }
    /* A key too long, too many keys, a NUL inside, truncated everywhere. */
    char big[8192];
    int n = snprintf (big, sizeof big, "{\"%060d\":1}", 0);
    char err[200];
    cr_assert_eq (eval_kpis_parse (big, (size_t) n, &s_k, err, sizeof err), -1);
    n = sprintf (big, "{");
    for (int i = 0; i < EVAL_MAX_KPIS + 1; i++)
        n += sprintf (big + n, "%s\"k%d\":%d", i ? "," : "", i, i);
    n += sprintf (big + n, "}");
    cr_assert_eq (eval_kpis_parse (big, (size_t) n, &s_k, err, sizeof err), -1);
    cr_assert (strstr (err, "more than"), "%s", err);
    const char with_nul[] = "{\"a\":1\0}";
    cr_assert_eq (eval_kpis_parse (with_nul, sizeof with_nul - 1, &s_k, err, sizeof err), -1);
    const char *whole = "{\"units\": 12, \"oee_pct\": 85.5}";
    for (size_t len = 0; len < strlen (whole); len++)
        cr_assert_eq (eval_kpis_parse (whole, len, &s_k, err, sizeof err), -1, "prefix %zu", len);
}

Test (eval_core, reads_files_and_names_them)
{
    char err[600];
    cr_assert_eq (eval_kpis_read ("/nonexistent/kpi.json", &s_k, err, sizeof err), -1);
    cr_assert (strstr (err, "/nonexistent/kpi.json"), "%s", err);
    char path[] = "/tmp/test-eval-XXXXXX";
    int fd = mkstemp (path);
    cr_assert (fd >= 0);
    FILE *f = fdopen (fd, "w");
    fputs ("{\"units\": oops}", f);
    fclose (f);
    cr_assert_eq (eval_kpis_read (path, &s_k, err, sizeof err), -1);
    cr_assert (strstr (err, path) && strstr (err, "units"), "%s", err);
    unlink (path);
}

/* Sets "units", "bottleneck" and "downtime_h" for one seed and policy. */
static void
s_set (eval_t *e, int seed, eval_policy_t p, double units, double down)
{
    char text[200], err[200] = "";
    int n = snprintf (text, sizeof text, "{\"units\":%g,\"bottleneck\":%d,\"downtime_h\":%g}", units, seed, down);
    cr_assert_eq (eval_kpis_parse (text, (size_t) n, &s_k, err, sizeof err), 0, "%s", err);
    cr_assert_eq (eval_set (e, seed, p, &s_k, err, sizeof err), 0, "%s", err);
}

Test (eval_core, equal_policies_give_zero_change_and_interval)
{
    eval_t *e = eval_new ("deploy/factories/tiny.yaml", 3);
    cr_assert (e);
    cr_assert_str_eq (eval_name (e), "tiny");
    cr_assert_eq (eval_rows (e), -1, "nothing set yet");
    const double units[] = { 100, 120, 90 }, down[] = { 0, 2.5, 1 };
    for (int s = 0; s < 3; s++) {
        s_set (e, s, EVAL_BASELINE, units[s], down[s]);
        if (s < 2)
            cr_assert_eq (eval_rows (e), -1, "autonomous missing");
        s_set (e, s, EVAL_AUTONOMOUS, units[s], down[s]);
    }
    /* bottleneck is an index: not averaged. */
    cr_assert_eq (eval_rows (e), 2);
    eval_row_t r;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq (eval_row (e, i, &r), 0);
        cr_assert_eq (r.change_pct, 0, "%s", r.key);
        cr_assert_eq (r.ci95_pct, 0, "%s", r.key);
        cr_assert (isnan (r.bound));
    }
    cr_assert_eq (eval_row (e, 0, &r), 0);
    cr_assert_str_eq (r.key, "units");
    cr_assert_float_eq (r.baseline, 310.0 / 3, 1e-9);
    /* Units 100, 120, 90: t(0.975, 2) · sd / √3, in % of the mean. */
    double sd = sqrt ((pow (100 - 310.0 / 3, 2) + pow (120 - 310.0 / 3, 2) + pow (90 - 310.0 / 3, 2)) / 2);
    cr_assert_float_eq (r.baseline_ci95_pct, 4.30265272975 * sd / sqrt (3) / (310.0 / 3) * 100, 1e-6);
    cr_assert (!eval_has_bound (e));
    eval_destroy (&e);
    cr_assert_null (e);
    eval_destroy (&e);
}

Test (eval_core, a_known_difference_and_a_missing_kpi)
{
    eval_t *e = eval_new ("x.yaml", 3);
    /* The hand-worked case of test_af_stats: change 8.33 %, ±19.21 pp. */
    const double a[] = { 10, 12, 14 }, b[] = { 11, 12, 16 };
    for (int s = 0; s < 3; s++) {
        s_set (e, s, EVAL_BASELINE, a[s], 1);
        s_set (e, s, EVAL_AUTONOMOUS, b[s], 1);
    }
    eval_row_t r;
    cr_assert_eq (eval_row (e, 0, &r), 0);
    cr_assert_float_eq (r.change_pct, 100.0 / 12, 1e-9);
    cr_assert_float_eq (r.ci95_pct, 19.2098519783, 1e-6);
    char err[200] = "";
    const char *text = "{\"units\":1}";
    cr_assert_eq (eval_kpis_parse (text, strlen (text), &s_k, err, sizeof err), 0);
    cr_assert_eq (eval_set (e, 0, EVAL_BOUND, &s_k, err, sizeof err), -1);
    cr_assert (strstr (err, "downtime_h"), "names the missing KPI: %s", err);
    cr_assert_eq (eval_set (e, 3, EVAL_BOUND, &s_k, err, sizeof err), -1);
    eval_destroy (&e);
}

Test (eval_core, bound_column_and_its_check)
{
    eval_t *e = eval_new ("x.yaml", 2);
    for (int s = 0; s < 2; s++) {
        s_set (e, s, EVAL_BASELINE, 100, 10);
        s_set (e, s, EVAL_AUTONOMOUS, 110, 8);
    }
    eval_set_bound_note (e, "the twin has none");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&buf, &len);
    eval_meta_t meta = { .seeds = 2, .hours = 4, .warmup_h = 1 };
    eval_print (e, &meta, out);
    fclose (out);
    cr_assert (strstr (buf, "the twin has none"), "%s", buf);
    free (buf);
    /* Downtime (lower is better) has a bound, which loses to autonomous on
     * seed 1: flagged.  Units have none (the twin's bounds are maintenance
     * and quality; a line agent may rightly ship more): no figure, no flag. */
    s_set (e, 0, EVAL_BOUND, 120, 7);
    cr_assert (!eval_has_bound (e), "one seed is not a bound");
    s_set (e, 1, EVAL_BOUND, 130, 9);
    cr_assert (eval_has_bound (e));
    eval_row_t r;
    cr_assert_eq (eval_row (e, 0, &r), 0);
    cr_assert_str_eq (r.key, "units");
    cr_assert (isnan (r.bound), "units have no bound: %g", r.bound);
    cr_assert_eq (r.bound_worse, 0);
    cr_assert_eq (eval_row (e, 1, &r), 0);
    cr_assert_float_eq (r.bound, 8, 1e-12);
    cr_assert_eq (r.bound_worse, 1);
    out = open_memstream (&buf, &len);
    eval_print (e, &meta, out);
    fclose (out);
    cr_assert (strstr (buf, "a bug"), "%s", buf);
    free (buf);
    eval_t *one[] = { e };
    out = open_memstream (&buf, &len);
    eval_write_json (one, 1, &meta, out);
    fclose (out);
    cr_assert (strstr (buf, "\"downtime_h_bound\":8,") && strstr (buf, "\"downtime_h_bound_worse_seeds\":1")
               && strstr (buf, "\"bound_available\":true"), "%s", buf);
    free (buf);
    out = open_memstream (&buf, &len);
    eval_write_html (one, 1, &meta, out);
    fclose (out);
    cr_assert (strstr (buf, "a bug"), "%s", buf);
    free (buf);
    eval_destroy (&e);
}

Test (eval_core, json_is_flat_with_every_key)
{
    eval_t *e[2] = { eval_new ("a/one.yaml", 2), eval_new ("b/two.yml", 2) };
    for (int c = 0; c < 2; c++)
        for (int s = 0; s < 2; s++) {
            s_set (e[c], s, EVAL_BASELINE, 100 + s, 0);
            s_set (e[c], s, EVAL_AUTONOMOUS, 100 + s, 0);
        }
    eval_meta_t meta = { .seeds = 2, .hours = 4, .warmup_h = 1 };
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&buf, &len);
    eval_write_json (e, 1, &meta, out);
    fclose (out);
    const char *keys[] = { "\"seeds\":2", "\"hours\":4", "\"warmup_h\":1", "\"units_baseline\":100.5",
                           "\"units_autonomous\":100.5", "\"units_change_pct\":0", "\"units_ci95_pct\":0",
                           "\"downtime_h_change_pct\":0", "\"downtime_h_ci95_pct\":0",
                           "\"bound_available\":false" };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        cr_assert (strstr (buf, keys[i]), "%s in %s", keys[i], buf);
    cr_assert (!strstr (buf, "_bound\""), "no bound keys without a bound: %s", buf);
    cr_assert (!strstr (buf, "bottleneck"));
    cr_assert_eq (strchr (buf, '{'), strrchr (buf, '{'), "flat: one object");
    free (buf);
    out = open_memstream (&buf, &len);
    eval_write_json (e, 2, &meta, out);
    fclose (out);
    cr_assert (strstr (buf, "\"one.units_baseline\"") && strstr (buf, "\"two.units_ci95_pct\""), "%s", buf);
    free (buf);
    out = open_memstream (&buf, &len);
    eval_write_html (e, 2, &meta, out);
    fclose (out);
    cr_assert (strstr (buf, "<table") && strstr (buf, "b/two.yml"), "%s", buf);
    free (buf);
    eval_destroy (&e[0]);
    eval_destroy (&e[1]);
}

/* The bound of each KPI is the best of the concern bounds, in the KPI's own
 * direction; a KPI with no direction keeps the first value. */
Test (eval_core, best_of_the_concern_bounds_per_kpi)
{
    eval_kpis_t a, b;
    char err[200];
    const char *ja = "{\"units\":100,\"downtime_h\":5,\"escaped_defects\":9,\"solar_kwh\":3}";
    const char *jb = "{\"units\":90,\"downtime_h\":7,\"escaped_defects\":2,\"solar_kwh\":4}";
    cr_assert_eq (eval_kpis_parse (ja, strlen (ja), &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq (eval_kpis_parse (jb, strlen (jb), &b, err, sizeof err), 0, "%s", err);
    eval_kpis_best (&a, &b);
    double v;
    cr_assert (eval_kpis_get (&a, "units", &v) && v == 100);
    cr_assert (eval_kpis_get (&a, "downtime_h", &v) && v == 5);
    cr_assert (eval_kpis_get (&a, "escaped_defects", &v) && v == 2);
    cr_assert (eval_kpis_get (&a, "solar_kwh", &v) && v == 3);
}
