/*  eval — the pure part of `autofab eval` (cmd_eval.c runs the processes):
 *  reading a run's KPIs, the paired comparison of autonomous against
 *  baseline per KPI over seeds, and the table, eval.json and eval.html.
 *
 *  One eval_t holds one factory config: for every seed the KPIs of the
 *  baseline, the autonomous run and, where the twin has one, the
 *  perfect-information bound.  Nothing here starts a process or touches the
 *  bus, so tests feed it numbers directly (tests/unit/test_eval.c).  */
#ifndef CLI_EVAL_H
#define CLI_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define EVAL_MAX_KPIS 160
#define EVAL_KEY_MAX 48
/* A twin's kpi.json is about 1 kB; anything far larger is not one. */
#define EVAL_KPI_FILE_MAX (64 * 1024)
/* The confidence level of every interval. */
#define EVAL_LEVEL 0.95

typedef enum { EVAL_BASELINE, EVAL_AUTONOMOUS, EVAL_BOUND, EVAL_POLICY_COUNT } eval_policy_t;

/* "baseline", "autonomous", "bound". */
const char *eval_policy_name (eval_policy_t policy);

/* The numbers of one flat JSON object, in file order. */
typedef struct {
    int n;
    char key[EVAL_MAX_KPIS][EVAL_KEY_MAX];
    double value[EVAL_MAX_KPIS];   /* NAN for null */
} eval_kpis_t;

/* Parses TEXT (LEN bytes, hostile) as one flat JSON object whose values are
 * numbers or null, keys [A-Za-z0-9_]: 0, or -1 with one line in ERR. */
int eval_kpis_parse (const char *text, size_t len, eval_kpis_t *out, char *err, size_t err_len);
/* The same from a file (at most EVAL_KPI_FILE_MAX bytes); ERR names it. */
int eval_kpis_read (const char *path, eval_kpis_t *out, char *err, size_t err_len);
/* The value of KEY in K: true, or false when K has no such key. */
bool eval_kpis_get (const eval_kpis_t *k, const char *key, double *value);
/* Keeps in BEST, for each KPI with a better direction, the better of its
 * value and OTHER's (the bound of a KPI is the best any one concern's
 * perfect-information controller reaches on it); other KPIs stay. */
void eval_kpis_best (eval_kpis_t *best, const eval_kpis_t *other);

typedef struct eval eval_t;

/* An empty comparison of CONFIG (a path; its file name names it in the
 * output) over N_SEEDS seeds.  NULL on bad arguments. */
eval_t *eval_new (const char *config, int n_seeds);
void eval_destroy (eval_t **self_p);

/* Stores the KPIs of POLICY on seed number SEED_I (0 … n_seeds−1).  The
 * first set stored fixes the KPI list: every numeric KPI of the twin except
 * `bottleneck` (a station index, which has no mean); every later set must
 * have each of them.  0, or -1 with why in ERR. */
int eval_set (eval_t *self, int seed_i, eval_policy_t policy, const eval_kpis_t *kpis,
              char *err, size_t err_len);
/* No bound for this config, and why (shown under the table). */
void eval_set_bound_note (eval_t *self, const char *why);

/* The comparison of one KPI, after every seed's baseline and autonomous
 * KPIs are set.  Bound figures are NAN unless every seed has a bound. */
typedef struct {
    const char *key, *unit;
    double baseline, autonomous;       /* means over seeds */
    double change_pct;                 /* of the means; NAN: baseline 0 */
    double ci95_pct;                   /* paired half-width, percentage points */
    double diff, diff_ci95;            /* mean difference and half-width, KPI units */
    double baseline_ci95_pct;          /* half-width of the baseline's mean, % of it:
                                          the seed-to-seed noise an unpaired
                                          comparison would have to beat */
    double bound;                      /* mean of the bound; NAN: none */
    int bound_worse;                   /* seeds where the bound lost to autonomous */
} eval_row_t;

/* Number of KPIs (0 until something is set) and row I; -1 / NULL when
 * some seed lacks a baseline or autonomous set. */
int eval_rows (const eval_t *self);
int eval_row (const eval_t *self, int i, eval_row_t *row);
bool eval_has_bound (const eval_t *self);
const char *eval_name (const eval_t *self);

/* What every report states besides the rows. */
typedef struct {
    int seeds;
    double hours, warmup_h;
} eval_meta_t;

/* The table for a terminal. */
void eval_print (const eval_t *self, const eval_meta_t *meta, FILE *out);
/* One flat JSON object (DESIGN §8): seeds, hours, warmup_h, and for each
 * KPI K: K_baseline, K_autonomous, K_change_pct, K_ci95_pct, K_diff,
 * K_diff_ci95, K_baseline_ci95_pct, and with a bound K_bound and
 * K_bound_worse_seeds (seeds where it lost to autonomous: a bug).  With several configs every key but seeds, hours and
 * warmup_h is prefixed by the config's name and a dot ("stressed.units_…"). */
void eval_write_json (eval_t *const *evals, int n, const eval_meta_t *meta, FILE *out);
/* A self-contained page with one table per config. */
void eval_write_html (eval_t *const *evals, int n, const eval_meta_t *meta, FILE *out);

#endif
