/* cmapss.c — C-MAPSS file reader (see cmapss.h). */
#include "cmapss.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest line accepted; real rows are about 170 characters. */
#define S_LINE_MAX 4096
/* Guards against absurd inputs (the real files have 100-260 units). */
#define S_UNITS_MAX 100000
#define S_CYCLES_MAX 100000

/* Splits LINE into at most MAX numbers; returns how many, -1 on a token that
 * is not a finite number. */
static int
s_numbers (char *line, double *out, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r (line, " \t\r\n", &save); tok; tok = strtok_r (NULL, " \t\r\n", &save)) {
        if (n == max)
            return max + 1;
        char *end;
        errno = 0;
        double v = strtod (tok, &end);
        if (*end || errno == ERANGE || !isfinite (v))
            return -1;
        out[n++] = v;
    }
    return n;
}

/* Appends one row to FLEET (a new unit when the id changes). */
static int
s_add_row (cmapss_fleet_t *fleet, const double *v, int *cap_units, int *cap_rows, char *why,
           size_t why_len)
{
    int id = (int) v[0], cycle = (int) v[1];
    if (v[0] != id || id < 1 || v[1] != cycle) {
        snprintf (why, why_len, "unit and cycle must be whole numbers >= 1");
        return -1;
    }
    cmapss_unit_t *u = fleet->n_units ? &fleet->units[fleet->n_units - 1] : NULL;
    if (!u || u->id != id) {
        for (int i = 0; i < fleet->n_units; i++)
            if (fleet->units[i].id == id) {
                snprintf (why, why_len, "unit %d comes back after other units", id);
                return -1;
            }
        if (fleet->n_units == S_UNITS_MAX) {
            snprintf (why, why_len, "more than %d units", S_UNITS_MAX);
            return -1;
        }
        if (fleet->n_units == *cap_units) {
            int cap = *cap_units ? 2 * *cap_units : 128;
            cmapss_unit_t *grown = realloc (fleet->units, (size_t) cap * sizeof *grown);
            if (!grown)
                goto oom;
            fleet->units = grown;
            *cap_units = cap;
        }
        u = &fleet->units[fleet->n_units++];
        *u = (cmapss_unit_t) { .id = id };
        *cap_rows = 0;
    }
    if (cycle != u->n_cycles + 1) {
        snprintf (why, why_len, "unit %d: cycle %d where %d was expected", id, cycle, u->n_cycles + 1);
        return -1;
    }
    if (u->n_cycles == S_CYCLES_MAX) {
        snprintf (why, why_len, "unit %d: more than %d cycles", id, S_CYCLES_MAX);
        return -1;
    }
    if (u->n_cycles == *cap_rows) {
        int cap = *cap_rows ? 2 * *cap_rows : 256;
        double *grown = realloc (u->x, (size_t) cap * CMAPSS_COLS * sizeof (double));
        if (!grown)
            goto oom;
        u->x = grown;
        *cap_rows = cap;
    }
    memcpy (u->x + (size_t) u->n_cycles * CMAPSS_COLS, v + 2, CMAPSS_COLS * sizeof (double));
    u->n_cycles++;
    return 0;
oom:
    snprintf (why, why_len, "out of memory");
    return -1;
}

cmapss_fleet_t *
cmapss_load (const char *path, char *err)
{
    char dummy[CMAPSS_ERR_LEN];
    if (!err)
        err = dummy;
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, CMAPSS_ERR_LEN, "%s: cannot open: %s", path, strerror (errno));
        return NULL;
    }
    cmapss_fleet_t *fleet = calloc (1, sizeof *fleet);
    char line[S_LINE_MAX], why[CMAPSS_ERR_LEN - 64];
    double v[2 + CMAPSS_COLS];
    int cap_units = 0, cap_rows = 0;
    long lineno = 0;
    if (!fleet)
        goto fail;
    while (fgets (line, sizeof line, f)) {
        lineno++;
        if (!strchr (line, '\n') && !feof (f)) {
            snprintf (why, sizeof why, "line longer than %d characters", S_LINE_MAX);
            goto bad;
        }
        int n = s_numbers (line, v, 2 + CMAPSS_COLS);
        if (n == 0)
            continue;
        if (n != 2 + CMAPSS_COLS) {
            snprintf (why, sizeof why, "expected %d numbers per row, got %s", 2 + CMAPSS_COLS,
                      n < 0 ? "a non-number" : n > 2 + CMAPSS_COLS ? "more" : "fewer");
            goto bad;
        }
        if (s_add_row (fleet, v, &cap_units, &cap_rows, why, sizeof why))
            goto bad;
    }
    fclose (f);
    if (fleet->n_units == 0) {
        snprintf (err, CMAPSS_ERR_LEN, "%s: no data rows", path);
        cmapss_destroy (&fleet);
    }
    return fleet;
bad:
    snprintf (err, CMAPSS_ERR_LEN, "%s:%ld: %s", path, lineno, why);
fail:
    fclose (f);
    cmapss_destroy (&fleet);
    return NULL;
}

void
cmapss_destroy (cmapss_fleet_t **p_fleet)
{
    if (!p_fleet || !*p_fleet)
        return;
    cmapss_fleet_t *fleet = *p_fleet;
    for (int i = 0; i < fleet->n_units; i++)
        free (fleet->units[i].x);
    free (fleet->units);
    free (fleet);
    *p_fleet = NULL;
}

double *
cmapss_load_rul (const char *path, int n, char *err)
{
    char dummy[CMAPSS_ERR_LEN];
    if (!err)
        err = dummy;
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (err, CMAPSS_ERR_LEN, "%s: cannot open: %s", path, strerror (errno));
        return NULL;
    }
    double *rul = n > 0 ? calloc ((size_t) n, sizeof (double)) : NULL;
    char line[S_LINE_MAX];
    int count = 0;
    long lineno = 0;
    while (rul && fgets (line, sizeof line, f)) {
        lineno++;
        double v[2];
        int k = s_numbers (line, v, 1);
        if (k == 0)
            continue;
        if (k != 1 || v[0] < 0 || v[0] != floor (v[0])) {
            snprintf (err, CMAPSS_ERR_LEN, "%s:%ld: expected one whole number >= 0", path, lineno);
            goto fail;
        }
        if (count == n) {
            snprintf (err, CMAPSS_ERR_LEN, "%s: more than %d values (one per test unit)", path, n);
            goto fail;
        }
        rul[count++] = v[0];
    }
    if (rul && count != n) {
        snprintf (err, CMAPSS_ERR_LEN, "%s: %d values for %d test units", path, count, n);
        goto fail;
    }
    if (!rul)
        snprintf (err, CMAPSS_ERR_LEN, "%s: no test units to match", path);
    fclose (f);
    return rul;
fail:
    fclose (f);
    free (rul);
    return NULL;
}
