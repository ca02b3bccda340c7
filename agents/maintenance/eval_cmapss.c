/* eval_cmapss.c — `autofab-maint-eval cmapss TRAIN TEST RUL` and
 * `cmapss-cv TRAIN`: RMSE and PHM08 score of the RUL model (rul.c). */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_args.h"
#include "eval.h"
#include "rul.h"

typedef struct {
    rul_params_t params;
    long holdout, repeat;
    const char *json_path;
    int verbose;
} s_opts_t;

/* Running totals over predictions. */
typedef struct {
    long n, covered;
    double se, se_capped, score, width;
} s_tally_t;

static void
s_add (s_tally_t *t, double pred, double truth, double lo, double hi, double cap)
{
    double d = pred - truth, dc = pred - fmin (truth, cap);
    t->n++;
    t->se += d * d;
    t->se_capped += dc * dc;
    t->score += rul_phm08_score (d);
    t->width += hi - lo;
    t->covered += truth >= lo && truth <= hi;
}

static void
s_report (const s_opts_t *o, const s_tally_t *t, const char *what)
{
    double n = t->n ? (double) t->n : 1;
    double rmse = sqrt (t->se / n), rmse_c = sqrt (t->se_capped / n);
    printf ("\n%s: %ld predictions\n", what, t->n);
    printf ("  RMSE (true RUL as given)      %8.2f cycles\n", rmse);
    printf ("  RMSE (true RUL capped at %3.0f) %8.2f cycles\n", o->params.cap_cycles, rmse_c);
    printf ("  PHM08 score (sum)             %8.1f   (%.2f per unit)\n", t->score, t->score / n);
    printf ("  %2.0f %% interval: covers %.1f %%, mean width %.1f cycles\n",
            100 * o->params.coverage, 100.0 * (double) t->covered / n, t->width / n);
    if (!o->json_path)
        return;
    FILE *f = fopen (o->json_path, "w");
    if (!f) {
        fprintf (stderr, EVAL_PROGRAM ": cannot write %s\n", o->json_path);
        return;
    }
    fprintf (f, "{\n  \"cmapss_predictions\": %ld,\n  \"cmapss_rmse\": %.3f,\n"
             "  \"cmapss_rmse_capped\": %.3f,\n  \"cmapss_score\": %.2f,\n"
             "  \"cmapss_score_per_unit\": %.3f,\n  \"cmapss_interval_coverage_pct\": %.1f,\n"
             "  \"cmapss_interval_width_cycles\": %.2f\n}\n", t->n, rmse, rmse_c, t->score,
             t->score / n, 100.0 * (double) t->covered / n, t->width / n);
    fclose (f);
}

/* Options shared by both commands; returns -1 after --help, 2 on bad
 * usage, 0 ok.  POSITIONAL is how many arguments must follow. */
static int
s_parse (int argc, char **argv, s_opts_t *o, int positional, const char *usage)
{
    static const struct option longopts[] = {
        { "holdout", 1, 0, 'o' }, { "seed", 1, 0, 's' },   { "repeat", 1, 0, 'r' },
        { "cap", 1, 0, 'c' },     { "rounds", 1, 0, 'n' }, { "window", 1, 0, 'w' },
        { "depth", 1, 0, 'd' },   { "threads", 1, 0, 't' }, { "json", 1, 0, 'j' },
        { "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' },   { 0, 0, 0, 0 },
    };
    char p[64];
    snprintf (p, sizeof p, EVAL_PROGRAM " %s", argv[0]);
    long v;
    int c;
    while ((c = getopt_long (argc, argv, "hv", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': if (!af_args_long (p, "--holdout", optarg, 1, 100000, &o->holdout)) return 2; break;
        case 's': if (!af_args_long (p, "--seed", optarg, 0, 1L << 31, &v)) return 2;
                  o->params.seed = (unsigned) v; break;
        case 'r': if (!af_args_long (p, "--repeat", optarg, 1, 1000, &o->repeat)) return 2; break;
        case 'c': if (!af_args_double (p, "--cap", optarg, 1, 1e6, &o->params.cap_cycles)) return 2; break;
        case 'n': if (!af_args_long (p, "--rounds", optarg, 1, 100000, &v)) return 2;
                  o->params.rounds = (int) v; break;
        case 'w': if (!af_args_long (p, "--window", optarg, 2, 10000, &v)) return 2;
                  o->params.window_cycles = (int) v; break;
        case 'd': if (!af_args_long (p, "--depth", optarg, 1, 20, &v)) return 2;
                  o->params.max_depth = (int) v; break;
        case 't': if (!af_args_long (p, "--threads", optarg, 1, 256, &v)) return 2;
                  o->params.threads = (int) v; break;
        case 'j': o->json_path = optarg; break;
        case 'v': o->verbose = 1; break;
        case 'h': printf ("%s", usage); return -1;
        default: return af_args_usage_error (p, "bad option");
        }
    }
    if (argc - optind != positional)
        return af_args_usage_error (p, "wants %d file argument%s", positional, positional > 1 ? "s" : "");
    return 0;
}

#define S_COMMON_HELP                                                                     \
    "  --cap N        RUL cap of the piecewise-linear target (125)\n"                     \
    "  --rounds N     boosting rounds (300)   --depth N  tree depth (4)\n"                \
    "  --window N     trend window in cycles (30)   --threads N (2)   --seed S (1)\n"     \
    "  --json FILE    write the figures as flat JSON   -v  one line per unit\n"

int
eval_cmapss (int argc, char **argv)
{
    s_opts_t o = { .params = rul_params_default (), .holdout = 20, .repeat = 1 };
    int rc = s_parse (argc, argv, &o, 3,
                      "usage: " EVAL_PROGRAM " cmapss TRAIN TEST RUL [options]\n"
                      "Trains on every unit of TRAIN (run to failure), predicts the RUL at the last\n"
                      "cycle of every unit of TEST and scores it against RUL (one line per test\n"
                      "unit, in order): RMSE and the PHM08 score (Saxena et al., PHM08, 2008).\n"
                      S_COMMON_HELP);
    if (rc)
        return rc < 0 ? 0 : rc;
    char err[CMAPSS_ERR_LEN];
    cmapss_fleet_t *train = cmapss_load (argv[optind], err), *test = NULL;
    double *truth = NULL;
    rul_model_t *model = NULL;
    rc = 1;
    if (!train || !(test = cmapss_load (argv[optind + 1], err))
        || !(truth = cmapss_load_rul (argv[optind + 2], test->n_units, err))) {
        fprintf (stderr, EVAL_PROGRAM ": %s\n", err);
        goto done;
    }
    model = rul_model_train (train, &o.params, err);
    if (!model) {
        fprintf (stderr, EVAL_PROGRAM ": %s\n", err);
        goto done;
    }
    s_tally_t t = { 0 };
    for (int u = 0; u < test->n_units; u++) {
        double pred, lo, hi;
        if (rul_model_predict (model, &test->units[u], 0, &pred, &lo, &hi)) {
            fprintf (stderr, EVAL_PROGRAM ": unit %d: no prediction\n", test->units[u].id);
            goto done;
        }
        s_add (&t, pred, truth[u], lo, hi, o.params.cap_cycles);
        if (o.verbose)
            printf ("unit %3d seen %3d true %5.0f pred %6.1f [%6.1f, %6.1f]\n", test->units[u].id,
                    test->units[u].n_cycles, truth[u], pred, lo, hi);
    }
    s_report (&o, &t, "test");
    rc = 0;
done:
    rul_model_destroy (&model);
    cmapss_destroy (&train);
    cmapss_destroy (&test);
    free (truth);
    return rc;
}

static uint64_t
s_next (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The RUL left at the cut of a held-out unit of LIFE cycles: uniform over
 * the official FD001 test's range (7-145 cycles left, at least 31 seen). */
static int
s_cut_rul (uint64_t *state, int life)
{
    int hi = life - 31 < 145 ? life - 31 : 145, lo = 7;
    if (hi < lo)
        return life > 1 ? (life - 1 < lo ? life - 1 : lo) : 0;
    return lo + (int) (s_next (state) % (uint64_t) (hi - lo + 1));
}

/* One fold: HOLDOUT units drawn with SEED are held out and cut; the model
 * is trained on the rest. */
static int
s_fold (const cmapss_fleet_t *all, const s_opts_t *o, unsigned seed, s_tally_t *t)
{
    int n = all->n_units, k = (int) o->holdout;
    int *order = malloc ((size_t) n * sizeof (int));
    cmapss_unit_t *kept = malloc ((size_t) n * sizeof *kept);
    if (!order || !kept) {
        free (order);
        free (kept);
        return -1;
    }
    uint64_t state = seed;
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int) (s_next (&state) % (uint64_t) (i + 1)), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (int i = k; i < n; i++)
        kept[i - k] = all->units[order[i]];
    cmapss_fleet_t train = { .units = kept, .n_units = n - k };
    rul_params_t p = o->params;
    p.seed = seed;
    char err[CMAPSS_ERR_LEN];
    rul_model_t *model = rul_model_train (&train, &p, err);
    int rc = -1;
    if (!model)
        fprintf (stderr, EVAL_PROGRAM ": %s\n", err);
    for (int i = 0; model && i < k; i++) {
        const cmapss_unit_t *u = &all->units[order[i]];
        int left = s_cut_rul (&state, u->n_cycles);
        double pred, lo, hi;
        if (rul_model_predict (model, u, u->n_cycles - left, &pred, &lo, &hi))
            goto done;
        s_add (t, pred, left, lo, hi, o->params.cap_cycles);
        if (o->verbose)
            printf ("seed %u unit %3d seen %3d true %4d pred %6.1f [%6.1f, %6.1f]\n", seed, u->id,
                    u->n_cycles - left, left, pred, lo, hi);
    }
    rc = model ? 0 : -1;
done:
    rul_model_destroy (&model);
    free (order);
    free (kept);
    return rc;
}

int
eval_cmapss_cv (int argc, char **argv)
{
    s_opts_t o = { .params = rul_params_default (), .holdout = 20, .repeat = 1 };
    int rc = s_parse (argc, argv, &o, 1,
                      "usage: " EVAL_PROGRAM " cmapss-cv TRAIN [options]\n"
                      "Holds --holdout units of TRAIN out (drawn with --seed), cuts each at a random\n"
                      "point (7-145 cycles before failure, at least 31 seen, like the official\n"
                      "FD001 test), trains on the rest and scores the predictions; --repeat R runs R\n"
                      "folds with seeds S, S+1, … and reports them together.\n"
                      "  --holdout N    units held out per fold (20)   --repeat R (1)\n"
                      S_COMMON_HELP);
    if (rc)
        return rc < 0 ? 0 : rc;
    char err[CMAPSS_ERR_LEN];
    cmapss_fleet_t *all = cmapss_load (argv[optind], err);
    if (!all) {
        fprintf (stderr, EVAL_PROGRAM ": %s\n", err);
        return 1;
    }
    rc = 1;
    if (o.holdout > all->n_units - 6) {
        fprintf (stderr, EVAL_PROGRAM ": --holdout %ld leaves fewer than 6 of %d units to train on\n",
                 o.holdout, all->n_units);
        goto done;
    }
    s_tally_t t = { 0 };
    for (long r = 0; r < o.repeat; r++)
        if (s_fold (all, &o, o.params.seed + (unsigned) r, &t))
            goto done;
    s_report (&o, &t, "held-out units");
    rc = 0;
done:
    cmapss_destroy (&all);
    return rc;
}
