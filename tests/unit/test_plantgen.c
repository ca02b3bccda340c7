/*  Unit tests: cli/plantgen.c — the same seed gives the same YAML byte for
 *  byte and other seeds other plants; every row of the table is sound and
 *  sourced; the twin's own loader takes every generated plant and runs it
 *  (many seeds, a short horizon each, the baseline policy); --stations is
 *  honoured and out-of-range counts are refused with one line.  */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plantgen.h"
#include "twin.h"

/* The plant of OPTS as text (free() it); fails the test on error. */
static char *
s_plant (uint64_t seed, int stations, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream (&buf, &n);
    cr_assert_not_null (f);
    plantgen_opts_t o = { .seed = seed, .stations = stations };
    char err[256] = "";
    cr_assert_eq (plantgen_write (&o, f, err, sizeof err), 0, "seed %llu: %s", (unsigned long long) seed, err);
    fclose (f);
    if (len)
        *len = n;
    return buf;
}

Test (plantgen, same_seed_same_bytes_other_seed_other_plant)
{
    size_t n1, n2, n3;
    char *a = s_plant (7, 0, &n1), *b = s_plant (7, 0, &n2), *c = s_plant (8, 0, &n3);
    cr_assert_eq (n1, n2);
    cr_assert_eq (memcmp (a, b, n1), 0, "seed 7 gave two different plants");
    cr_assert (n1 != n3 || memcmp (a, c, n1) != 0, "seeds 7 and 8 gave the same plant");
    free (a);
    free (b);
    free (c);
}

Test (plantgen, every_row_is_sound_and_sourced)
{
    static const char *const tags[] = { "HS08", "SH85", "CO88", "GU06", "ISO10816", "SE12",
                                        "NR17", "EIA", "TM22", "AMR", "DEF", "JDG" };
    size_t n;
    const plantgen_row_t *rows = plantgen_rows (&n);
    cr_assert_gt (n, 50);
    for (size_t i = 0; i < n; i++) {
        const plantgen_row_t *r = &rows[i];
        bool known = false;
        for (size_t t = 0; t < sizeof tags / sizeof *tags; t++)
            known |= !strcmp (r->source, tags[t]);
        cr_assert (known, "row %s.%s: unknown source tag '%s'", r->scope, r->key, r->source);
        if (r->dist == PLANTGEN_CHANCE)
            cr_assert (r->lo > 0 && r->lo < 1, "row %s.%s: a chance in (0, 1)", r->scope, r->key);
        else
            cr_assert (r->lo <= r->hi, "row %s.%s: lo > hi", r->scope, r->key);
        if (r->dist == PLANTGEN_LOGUNIFORM)
            cr_assert_gt (r->lo, 0, "row %s.%s: log-uniform needs lo > 0", r->scope, r->key);
        for (size_t k = 0; k < i; k++)
            cr_assert (strcmp (rows[k].scope, r->scope) || strcmp (rows[k].key, r->key),
                       "row %s.%s twice", r->scope, r->key);
    }
}

/* The twin loads and runs every generated plant: 40 seeds, 48 h each after
 * a 24 h warm-up, and the line produces. */
Test (plantgen, the_twin_runs_every_generated_plant, .timeout = 120)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        size_t len;
        char *yaml = s_plant (seed, 0, &len);
        char err[512] = "";
        twin_t *twin = twin_new_from_text (yaml, len, "random", seed, err, sizeof err);
        cr_assert_not_null (twin, "seed %llu: the twin refused the plant: %s", (unsigned long long) seed, err);
        twin_set_warmup_h (twin, 24);
        twin_policy_t p;
        cr_assert_eq (twin_policy_baseline (twin, &p), 0);
        twin_set_policy (twin, &p);
        cr_assert_eq (twin_run (twin, 72, NULL), 0, "seed %llu: run failed", (unsigned long long) seed);
        twin_kpi_t k;
        twin_kpis (twin, &k);
        cr_assert_gt (k.units, 0, "seed %llu: nothing produced in 48 h", (unsigned long long) seed);
        cr_assert (k.oee_pct > 0 && k.oee_pct <= 100, "seed %llu: OEE %g", (unsigned long long) seed, k.oee_pct);
        twin_destroy (&twin);
        free (yaml);
    }
}

Test (plantgen, honours_stations_and_refuses_out_of_range)
{
    for (int k = PLANTGEN_MIN_STATIONS; k <= PLANTGEN_MAX_STATIONS; k += 7) {
        size_t len;
        char *yaml = s_plant (3, k, &len);
        char err[512] = "";
        twin_t *twin = twin_new_from_text (yaml, len, "random", 1, err, sizeof err);
        cr_assert_not_null (twin, "%d stations: %s", k, err);
        char name[32];
        snprintf (name, sizeof name, "s%02d-", k);
        cr_assert_not_null (strstr (yaml, name), "no station %d", k);
        snprintf (name, sizeof name, "s%02d-", k + 1);
        cr_assert_null (strstr (yaml, name), "more than %d stations", k);
        twin_destroy (&twin);
        free (yaml);
    }
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream (&buf, &n);
    char err[256] = "";
    plantgen_opts_t o = { .seed = 1, .stations = PLANTGEN_MAX_STATIONS + 1 };
    cr_assert_eq (plantgen_write (&o, f, err, sizeof err), -1);
    cr_assert_not_null (strstr (err, "--stations"), "%s", err);
    fclose (f);
    free (buf);
}
