/*  eval — autofab eval's KPI reader, paired comparison and reports (see
 *  eval.h; the method is in docs/eval.md).  */
#include "eval.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "af_json.h"
#include "af_kpis.h"
#include "af_stats.h"

/* KPIs the twin reports that are not averaged: an index. */
static const char *const s_not_averaged[] = { "bottleneck", NULL };

/* Unit and which way is better (−1 lower, +1 higher, 0 neither) of each
 * KPI of docs/kpi.md: those of the report from af_kpis.h, then the rest.
 * A key the twin adds later still gets compared, without a unit. */
static const struct {
    const char *key, *unit;
    int better;
} s_kpi_info[] = {
#define X(id, key, unit, better) { #key, unit, better },
    AF_KPIS (X)
#undef X
    { "wip_mean", "units", -1 },        { "availability_pct", "%", 1 },
    { "performance_pct", "%", 1 },      { "quality_pct", "%", 1 },
    { "breakdowns", "count", -1 },      { "escaped_defects", "units", -1 },
    { "energy_kwh", "kWh", -1 },        { "energy_cost", "cost", -1 },
    { "solar_kwh", "kWh", 0 },          { "shortage_h", "h", -1 },
    { "damaged_parts", "items", 0 },    { "orders_lost", "orders", -1 },
    /* issue 11's physics */
    { "lead_time_mean_min", "min", -1 }, { "tardy_pct", "%", -1 },
    { "tardiness_mean_h", "h", -1 },    { "wip_line_mean", "units", -1 },
    { "fg_mean", "units", -1 },         { "maintenance_cost", "cost", -1 },
    { "lost_output_h", "h", -1 },       { "spares_used", "parts", -1 },
    { "labour_h", "h", -1 },            { "quality_cost", "cost", -1 },
    { "field_returns", "units", -1 },   { "battery_wear_cost", "cost", -1 },
    { "demand_cost", "cost", -1 },      { "holding_cost", "cost", -1 },
    { "unserved_kwh", "kWh", -1 },      { "robot_collisions", "count", -1 },
    { "robot_deadlocks", "count", -1 },
};
#define S_N_KPI_INFO (sizeof s_kpi_info / sizeof s_kpi_info[0])

/* The KPIs the twin's perfect-information bounds (maintenance, quality)
 * speak for, each with every other concern at the baseline (docs/eval.md).
 * Others have no bound yet: a line, energy or robot agent may rightly beat
 * the baseline values the bound runs show for them. */
static const char *const s_bounded[] = {
    "availability_pct", "downtime_h", "unplanned_downtime_h", "planned_downtime_h", "breakdowns",
    "mtbf_h", "escaped_defects_ppm", "escaped_defects", NULL,
};

static bool
s_is_bounded (const char *key)
{
    for (int i = 0; s_bounded[i]; i++)
        if (!strcmp (s_bounded[i], key))
            return true;
    return false;
}

static const char *const s_policy_names[EVAL_POLICY_COUNT] = { "baseline", "autonomous", "bound" };

struct eval {
    char *config, *name;
    int n_seeds;
    int n_kpis;
    char key[EVAL_MAX_KPIS][EVAL_KEY_MAX];
    const char *unit[EVAL_MAX_KPIS];
    int better[EVAL_MAX_KPIS];
    /* value[policy][kpi * n_seeds + seed] */
    double *value[EVAL_POLICY_COUNT];
    bool *set[EVAL_POLICY_COUNT];       /* [seed] */
    char bound_note[256];
};

/* -------------------------------------------------------- the KPI reader */

/* Writes one line to ERR; returns -1. */
static int __attribute__ ((format (printf, 3, 4)))
s_err (char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (err, err_len, fmt, args);
        va_end (args);
    }
    return -1;
}

static const char *
s_skip_ws (const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A number or null at *P; advances *P.  0 or -1. */
static int
s_parse_value (const char **p, const char *end, double *out)
{
    if (end - *p >= 4 && !memcmp (*p, "null", 4)) {
        *p += 4;
        *out = NAN;
        return 0;
    }
    /* strtod wants a terminated string: copy what can be a JSON number. */
    char buf[64];
    size_t n = 0;
    while (*p + n < end && n < sizeof buf - 1 && (*p)[n] && strchr ("+-0123456789.eE", (*p)[n]))
        n++;
    if (n == 0 || n == sizeof buf - 1)
        return -1;
    memcpy (buf, *p, n);
    buf[n] = 0;
    char *stop;
    errno = 0;
    double v = strtod (buf, &stop);
    if (*stop || errno == ERANGE || !isfinite (v))
        return -1;
    *p += n;
    *out = v;
    return 0;
}

int
eval_kpis_parse (const char *text, size_t len, eval_kpis_t *out, char *err, size_t err_len)
{
    memset (out, 0, sizeof *out);
    const char *p = text, *end = text + len;
    p = s_skip_ws (p, end);
    if (p == end || *p++ != '{')
        return s_err (err, err_len, "not a JSON object");
    p = s_skip_ws (p, end);
    if (p < end && *p == '}')
        p++;
    else
        for (;;) {
            p = s_skip_ws (p, end);
            if (p == end || *p++ != '"')
                return s_err (err, err_len, "expected a key at byte %ld", (long) (p - text));
            const char *key = p;
            while (p < end && (isalnum ((unsigned char) *p) || *p == '_'))
                p++;
            size_t key_len = (size_t) (p - key);
            if (p == end || *p != '"' || key_len == 0 || key_len >= EVAL_KEY_MAX)
                return s_err (err, err_len, "bad key at byte %ld (letters, digits, '_'; < %d)",
                              (long) (key - text), EVAL_KEY_MAX);
            p = s_skip_ws (p + 1, end);
            if (p == end || *p++ != ':')
                return s_err (err, err_len, "expected ':' at byte %ld", (long) (p - text));
            if (out->n == EVAL_MAX_KPIS)
                return s_err (err, err_len, "more than %d keys", EVAL_MAX_KPIS);
            char *slot = out->key[out->n];
            memcpy (slot, key, key_len);
            slot[key_len] = 0;
            for (int i = 0; i < out->n; i++)
                if (!strcmp (out->key[i], slot))
                    return s_err (err, err_len, "key '%s' twice", slot);
            p = s_skip_ws (p, end);
            if (s_parse_value (&p, end, &out->value[out->n]) != 0)
                return s_err (err, err_len, "the value of '%s' is not a number", slot);
            out->n++;
            p = s_skip_ws (p, end);
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return s_err (err, err_len, "expected ',' or '}' at byte %ld", (long) (p - text));
        }
    p = s_skip_ws (p, end);
    if (p != end)
        return s_err (err, err_len, "text after the object at byte %ld", (long) (p - text));
    return 0;
}

int
eval_kpis_read (const char *path, eval_kpis_t *out, char *err, size_t err_len)
{
    FILE *in = fopen (path, "rb");
    if (!in)
        return s_err (err, err_len, "cannot read %s: %s", path, strerror (errno));
    char *text = malloc (EVAL_KPI_FILE_MAX + 1);
    size_t n = text ? fread (text, 1, EVAL_KPI_FILE_MAX + 1, in) : 0;
    fclose (in);
    int rc = -1;
    char why[200];
    if (!text)
        snprintf (err, err_len, "%s: out of memory", path);
    else if (n > EVAL_KPI_FILE_MAX)
        snprintf (err, err_len, "%s: larger than %d bytes, not a KPI file", path, EVAL_KPI_FILE_MAX);
    else if (eval_kpis_parse (text, n, out, why, sizeof why) != 0)
        snprintf (err, err_len, "%s: %s", path, why);
    else
        rc = 0;
    free (text);
    return rc;
}

bool
eval_kpis_get (const eval_kpis_t *k, const char *key, double *value)
{
    for (int i = 0; i < k->n; i++)
        if (!strcmp (k->key[i], key)) {
            *value = k->value[i];
            return true;
        }
    return false;
}

void
eval_kpis_best (eval_kpis_t *best, const eval_kpis_t *other)
{
    for (int i = 0; i < best->n; i++) {
        int better = 0;
        for (size_t j = 0; j < S_N_KPI_INFO; j++)
            if (!strcmp (s_kpi_info[j].key, best->key[i]))
                better = s_kpi_info[j].better;
        double v;
        if (!better || !eval_kpis_get (other, best->key[i], &v) || isnan (v))
            continue;
        if (isnan (best->value[i]) || (v - best->value[i]) * better > 0)
            best->value[i] = v;
    }
}

/* ---------------------------------------------------------- the numbers */

eval_t *
eval_new (const char *config, int n_seeds)
{
    if (!config || n_seeds < 1)
        return NULL;
    eval_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = strdup (config);
    const char *base = strrchr (config, '/');
    self->name = strdup (base ? base + 1 : config);
    if (self->name) {
        char *dot = strrchr (self->name, '.');
        if (dot && dot != self->name)
            *dot = 0;
    }
    self->n_seeds = n_seeds;
    bool ok = self->config && self->name;
    for (int p = 0; p < EVAL_POLICY_COUNT; p++) {
        self->value[p] = calloc ((size_t) EVAL_MAX_KPIS * (size_t) n_seeds, sizeof (double));
        self->set[p] = calloc ((size_t) n_seeds, sizeof (bool));
        ok &= self->value[p] && self->set[p];
    }
    if (!ok)
        eval_destroy (&self);
    return self;
}

void
eval_destroy (eval_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    eval_t *self = *self_p;
    for (int p = 0; p < EVAL_POLICY_COUNT; p++) {
        free (self->value[p]);
        free (self->set[p]);
    }
    free (self->config);
    free (self->name);
    free (self);
    *self_p = NULL;
}

static bool
s_averaged (const char *key)
{
    for (int i = 0; s_not_averaged[i]; i++)
        if (!strcmp (s_not_averaged[i], key))
            return false;
    return true;
}

/* The first set of KPIs stored names the KPIs of this comparison. */
static void
s_take_keys (eval_t *self, const eval_kpis_t *kpis)
{
    for (int i = 0; i < kpis->n && self->n_kpis < EVAL_MAX_KPIS; i++) {
        if (!s_averaged (kpis->key[i]))
            continue;
        int k = self->n_kpis++;
        snprintf (self->key[k], EVAL_KEY_MAX, "%s", kpis->key[i]);
        self->unit[k] = "";
        for (size_t j = 0; j < S_N_KPI_INFO; j++)
            if (!strcmp (s_kpi_info[j].key, kpis->key[i])) {
                self->unit[k] = s_kpi_info[j].unit;
                self->better[k] = s_kpi_info[j].better;
            }
    }
}

int
eval_set (eval_t *self, int seed_i, eval_policy_t policy, const eval_kpis_t *kpis, char *err,
          size_t err_len)
{
    if (seed_i < 0 || seed_i >= self->n_seeds || policy < 0 || policy >= EVAL_POLICY_COUNT)
        return s_err (err, err_len, "no seed %d or policy %d", seed_i, (int) policy);
    if (self->n_kpis == 0)
        s_take_keys (self, kpis);
    if (self->n_kpis == 0)
        return s_err (err, err_len, "no KPI in the file");
    for (int k = 0; k < self->n_kpis; k++) {
        double v;
        if (!eval_kpis_get (kpis, self->key[k], &v))
            return s_err (err, err_len, "KPI '%s' is missing", self->key[k]);
        self->value[policy][k * self->n_seeds + seed_i] = v;
    }
    self->set[policy][seed_i] = true;
    return 0;
}

void
eval_set_bound_note (eval_t *self, const char *why)
{
    snprintf (self->bound_note, sizeof self->bound_note, "%s", why ? why : "");
}

static bool
s_all_set (const eval_t *self, eval_policy_t policy)
{
    for (int s = 0; s < self->n_seeds; s++)
        if (!self->set[policy][s])
            return false;
    return true;
}

int
eval_rows (const eval_t *self)
{
    if (!s_all_set (self, EVAL_BASELINE) || !s_all_set (self, EVAL_AUTONOMOUS))
        return -1;
    return self->n_kpis;
}

bool
eval_has_bound (const eval_t *self)
{
    return self->n_kpis > 0 && s_all_set (self, EVAL_BOUND);
}

const char *
eval_name (const eval_t *self)
{
    return self->name;
}

int
eval_row (const eval_t *self, int i, eval_row_t *row)
{
    if (i < 0 || i >= eval_rows (self))
        return -1;
    const double *base = &self->value[EVAL_BASELINE][i * self->n_seeds];
    const double *autonomous = &self->value[EVAL_AUTONOMOUS][i * self->n_seeds];
    af_paired_t p;
    if (af_stats_paired (base, autonomous, (size_t) self->n_seeds, EVAL_LEVEL, &p) != 0)
        return -1;
    *row = (eval_row_t) { .key = self->key[i], .unit = self->unit[i], .baseline = p.mean_a,
                          .autonomous = p.mean_b, .change_pct = p.change_pct,
                          .ci95_pct = p.change_ci_pct, .diff = p.diff, .diff_ci95 = p.diff_ci,
                          .bound = NAN };
    double base_hw = af_stats_ci_half_width (af_stats_sd (base, (size_t) self->n_seeds),
                                             (size_t) self->n_seeds, EVAL_LEVEL);
    row->baseline_ci95_pct = p.mean_a != 0 ? base_hw / fabs (p.mean_a) * 100.0 : base_hw == 0 ? 0 : NAN;
    if (eval_has_bound (self) && s_is_bounded (self->key[i])) {
        const double *bound = &self->value[EVAL_BOUND][i * self->n_seeds];
        row->bound = af_stats_mean (bound, (size_t) self->n_seeds);
        /* The bound reads the hidden state: losing to a controller that
         * cannot is a bug in one of them (issue 10). */
        for (int s = 0; s < self->n_seeds && self->better[i]; s++)
            if ((bound[s] - autonomous[s]) * self->better[i] < 0)
                row->bound_worse++;
    }
    return 0;
}

/* -------------------------------------------------------------- reports */

static void
s_print_num (FILE *out, const char *fmt, double v, int width)
{
    if (isfinite (v))
        fprintf (out, fmt, v);
    else
        fprintf (out, "%*s", width, isnan (v) ? "n/a" : "inf");
}

void
eval_print (const eval_t *self, const eval_meta_t *meta, FILE *out)
{
    fprintf (out, "\n%s: %d seeds x %g h after a %g h warm-up; change of the means and the\n"
                  "half-width of its paired 95 %% interval (percentage points)\n\n",
             self->config, meta->seeds, meta->hours, meta->warmup_h);
    fprintf (out, "%-24s %-7s %12s %12s %9s %9s %12s\n", "kpi", "unit", "baseline", "autonomous",
             "change", "ci95 +-", "bound");
    int n = eval_rows (self), worse = 0;
    for (int i = 0; i < n; i++) {
        eval_row_t r;
        if (eval_row (self, i, &r) != 0)
            continue;
        fprintf (out, "%-24s %-7s ", r.key, r.unit);
        s_print_num (out, "%12.5g", r.baseline, 12);
        fputc (' ', out);
        s_print_num (out, "%12.5g", r.autonomous, 12);
        fputc (' ', out);
        s_print_num (out, "%+8.2f%%", r.change_pct, 9);
        fputc (' ', out);
        s_print_num (out, "%8.2fpp", r.ci95_pct, 10);
        fputc (' ', out);
        if (eval_has_bound (self))
            s_print_num (out, "%12.5g", r.bound, 12);
        fputc ('\n', out);
        worse += r.bound_worse > 0;
        if (r.bound_worse)
            fprintf (out, "  ^ the bound is worse than autonomous on %d seed(s): a bug\n", r.bound_worse);
    }
    if (!eval_has_bound (self))
        fprintf (out, "\nbound: none (%s)\n", self->bound_note[0] ? self->bound_note : "not run");
}

static void
s_json_key (FILE *out, bool *first, const char *prefix, const char *key, const char *suffix)
{
    char name[512];
    if (snprintf (name, sizeof name, "%s%s%s", prefix, key, suffix) >= (int) sizeof name)
        name[sizeof name - 1] = 0;    /* a config name of hundreds of bytes: cut */
    fputs (*first ? "" : ",", out);
    *first = false;
    af_json_string (out, name);
    fputc (':', out);
}

void
eval_write_json (eval_t *const *evals, int n, const eval_meta_t *meta, FILE *out)
{
    bool first = true;
    fputc ('{', out);
    s_json_key (out, &first, "", "seeds", "");
    fprintf (out, "%d", meta->seeds);
    s_json_key (out, &first, "", "hours", "");
    af_json_number (out, meta->hours);
    s_json_key (out, &first, "", "warmup_h", "");
    af_json_number (out, meta->warmup_h);
    for (int c = 0; c < n; c++) {
        const eval_t *e = evals[c];
        char prefix[256];
        snprintf (prefix, sizeof prefix, "%s%s", n > 1 ? e->name : "", n > 1 ? "." : "");
        s_json_key (out, &first, prefix, "config", "");
        af_json_string (out, e->config);
        s_json_key (out, &first, prefix, "bound_available", "");
        fputs (eval_has_bound (e) ? "true" : "false", out);
        int rows = eval_rows (e);
        for (int i = 0; i < rows; i++) {
            eval_row_t r;
            if (eval_row (e, i, &r) != 0)
                continue;
            const struct {
                const char *suffix;
                double v;
            } cols[] = { { "_baseline", r.baseline }, { "_autonomous", r.autonomous },
                         { "_change_pct", r.change_pct }, { "_ci95_pct", r.ci95_pct },
                         { "_diff", r.diff }, { "_diff_ci95", r.diff_ci95 },
                         { "_baseline_ci95_pct", r.baseline_ci95_pct }, { "_bound", r.bound } };
            for (size_t j = 0; j < sizeof cols / sizeof cols[0]; j++) {
                if (!strcmp (cols[j].suffix, "_bound") && !eval_has_bound (e))
                    continue;
                s_json_key (out, &first, prefix, r.key, cols[j].suffix);
                af_json_number (out, cols[j].v);
            }
            if (eval_has_bound (e)) {
                s_json_key (out, &first, prefix, r.key, "_bound_worse_seeds");
                fprintf (out, "%d", r.bound_worse);
            }
        }
    }
    fputs ("}\n", out);
}

/* TEXT escaped for HTML element content and attribute values. */
static void
s_html (FILE *out, const char *text)
{
    for (const char *p = text; *p; p++)
        switch (*p) {
        case '<': fputs ("&lt;", out); break;
        case '>': fputs ("&gt;", out); break;
        case '&': fputs ("&amp;", out); break;
        case '"': fputs ("&quot;", out); break;
        default: fputc (*p, out);
        }
}

static void
s_html_num (FILE *out, const char *fmt, double v)
{
    fputs ("<td>", out);
    if (isfinite (v))
        fprintf (out, fmt, v);
    else
        fputs ("n/a", out);
    fputs ("</td>", out);
}

static const char s_css[] =
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}.note{color:#555}";

void
eval_write_html (eval_t *const *evals, int n, const eval_meta_t *meta, FILE *out)
{
    fprintf (out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<title>autofab eval</title>\n<style>%s</style>\n</head><body>\n"
                  "<h1>autofab eval</h1>\n<p>%d seeds &times; %g h after a %g h warm-up, "
                  "baseline and autonomous on common random numbers (same seed). Change of the "
                  "means, &plusmn; the half-width of its paired 95 %% confidence interval in "
                  "percentage points (docs/eval.md).</p>\n",
             s_css, meta->seeds, meta->hours, meta->warmup_h);
    for (int c = 0; c < n; c++) {
        const eval_t *e = evals[c];
        fputs ("<h2>", out);
        s_html (out, e->config);
        fputs ("</h2>\n<table class=\"eval\"><tr><th>kpi</th><th>unit</th><th>baseline</th>"
               "<th>autonomous</th><th>change %</th><th>&plusmn; ci95 pp</th><th>bound</th></tr>\n", out);
        int rows = eval_rows (e);
        for (int i = 0; i < rows; i++) {
            eval_row_t r;
            if (eval_row (e, i, &r) != 0)
                continue;
            fputs ("<tr><td>", out);
            s_html (out, r.key);
            fputs ("</td><td>", out);
            s_html (out, r.unit);
            fputs ("</td>", out);
            s_html_num (out, "%.5g", r.baseline);
            s_html_num (out, "%.5g", r.autonomous);
            s_html_num (out, "%+.2f", r.change_pct);
            s_html_num (out, "%.2f", r.ci95_pct);
            if (eval_has_bound (e) && r.bound_worse)
                fprintf (out, "<td>%.5g (worse than autonomous on %d seed(s): a bug)</td>", r.bound,
                         r.bound_worse);
            else if (eval_has_bound (e))
                s_html_num (out, "%.5g", r.bound);
            else
                fputs ("<td></td>", out);
            fputs ("</tr>\n", out);
        }
        fputs ("</table>\n", out);
        if (!eval_has_bound (e)) {
            fputs ("<p class=\"note\">No perfect-information bound: ", out);
            s_html (out, e->bound_note[0] ? e->bound_note : "not run");
            fputs ("</p>\n", out);
        }
    }
    fputs ("<p class=\"note\">Written by autofab eval. KPI definitions: docs/kpi.md.</p>\n"
           "</body></html>\n", out);
}

const char *
eval_policy_name (eval_policy_t policy)
{
    return policy >= 0 && policy < EVAL_POLICY_COUNT ? s_policy_names[policy] : "?";
}
