/*  plant-bench — `make bench-plant`: what the baseline achieves on the
 *  default plant and on random plants nobody tuned on (issue 11).
 *
 *  For the default factory and for --plants random plants (cli/plantgen.c,
 *  seeds 1…M, the same YAML `autofab plant --random --seed P` prints) it
 *  runs the real `autofab-twin --json` under the baseline for --seeds seeds,
 *  --hours measured after a --warmup-h warm-up, --jobs processes at a time,
 *  and the perfect-information bound (`--policy bound`) on the same seeds
 *  where the twin accepts it.  Per plant and KPI it prints the mean over
 *  seeds with the half-width of its 95 % Student-t interval (af_stats), the
 *  bound's mean and the change it could win over the baseline, and writes
 *  the same figures as flat JSON (DESIGN §8).  KPI files are read with
 *  cli/eval.c's hostile-input reader.
 */
#include "af_args.h"
#include "af_stats.h"
#include "cli/eval.h"
#include "cli/plantgen.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_PLANTS 21          /* the default plant and up to 20 random ones */
#define S_MAX_SEEDS 50
#define S_LEVEL 0.95

extern char **environ;

/* The KPIs reported, in table order; FALLBACK is read when the twin has no
 * KEY yet (then the table says which one it used). */
static const struct {
    const char *key, *fallback, *label;
} s_kpis[] = {
    { "oee_pct", NULL, "OEE %" },
    { "throughput_uph", NULL, "throughput units/h" },
    { "lead_time_mean_min", "cycle_time_mean_min", "lead time min" },
    { "downtime_h", NULL, "downtime h" },
    { "lost_output_h", NULL, "lost output h" },
    { "escaped_defects_ppm", NULL, "escapes ppm" },
    { "energy_kwh_per_unit", NULL, "energy kWh/unit" },
    { "manual_interventions", NULL, "manual interventions" },
};
#define S_N_KPIS (sizeof s_kpis / sizeof s_kpis[0])

typedef enum { S_BASE, S_BOUND, S_N_POLICIES } s_policy_t;
static const char *const s_policy_names[S_N_POLICIES] = { "baseline", "bound" };

typedef struct {
    const char *bin, *factory, *work, *json;
    long seeds, plants, jobs;
    double hours, warmup_h;
} s_opts_t;

typedef struct {
    char name[32];                              /* "default", "random1" … */
    char config[PATH_MAX];
    double v[S_N_POLICIES][S_N_KPIS][S_MAX_SEEDS];   /* NAN: missing */
    const char *used[S_N_KPIS];                 /* key actually read, NULL: none */
    int ok[S_N_POLICIES];                       /* seeds that ran to the end */
} s_plant_t;

typedef struct {
    int plant, seed;
    s_policy_t policy;
    pid_t pid;
    char out[PATH_MAX + 64], err[PATH_MAX + 64];
} s_run_t;

/* ------------------------------------------------------------- options */

static void
s_usage (FILE *out)
{
    fputs ("usage: plant-bench --bin DIR --factory FILE --work DIR --json FILE\n"
           "                   [--seeds N] [--plants M] [--hours H] [--warmup-h W] [--jobs J]\n"
           "Runs autofab-twin (baseline, and --policy bound where accepted) on FILE and on\n"
           "M random plants (autofab plant --random --seed 1..M), N seeds each, H hours\n"
           "measured after W hours of warm-up; prints mean ± 95 % CI per KPI and plant.\n"
           "  defaults: --seeds 5 --plants 5 --hours 672 --warmup-h 1344 --jobs 2\n", out);
}

static int
s_parse (int argc, char **argv, s_opts_t *o)
{
    static const struct option opts[] = {
        { "bin", required_argument, NULL, 'b' },    { "factory", required_argument, NULL, 'f' },
        { "work", required_argument, NULL, 'w' },   { "json", required_argument, NULL, 'o' },
        { "seeds", required_argument, NULL, 'n' },  { "plants", required_argument, NULL, 'p' },
        { "hours", required_argument, NULL, 'H' },  { "warmup-h", required_argument, NULL, 'W' },
        { "jobs", required_argument, NULL, 'j' },   { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *p = "plant-bench";
    int c;
    opterr = 0;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'b': o->bin = optarg; break;
        case 'f': o->factory = optarg; break;
        case 'w': o->work = optarg; break;
        case 'o': o->json = optarg; break;
        case 'n': ok = af_args_long (p, "--seeds", optarg, 2, S_MAX_SEEDS, &o->seeds); break;
        case 'p': ok = af_args_long (p, "--plants", optarg, 0, S_MAX_PLANTS - 1, &o->plants); break;
        case 'j': ok = af_args_long (p, "--jobs", optarg, 1, 64, &o->jobs); break;
        case 'H': ok = af_args_double (p, "--hours", optarg, 1, 1e5, &o->hours); break;
        case 'W': ok = af_args_double (p, "--warmup-h", optarg, 0, 1e5, &o->warmup_h); break;
        case 'h': s_usage (stdout); exit (0);
        default: return af_args_usage_error (p, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (!ok)
            return 2;
    }
    if (optind < argc)
        return af_args_usage_error (p, "unexpected argument '%s'", argv[optind]);
    if (!o->bin || !o->factory || !o->work || !o->json)
        return af_args_usage_error (p, "--bin, --factory, --work and --json are required");
    if (access (o->factory, R_OK) != 0)
        return af_args_usage_error (p, "cannot read the factory '%s': %s", o->factory, strerror (errno));
    return 0;
}

/* ------------------------------------------------------------- runs */

static int
s_mkdir (const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s", path) >= (int) sizeof tmp)
        return -1;
    for (char *q = tmp + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            if (mkdir (tmp, 0755) && errno != EEXIST)
                return -1;
            *q = '/';
        }
    return mkdir (tmp, 0755) && errno != EEXIST ? -1 : 0;
}

/* Writes random plant number P (its generator seed) to PATH. */
static int
s_write_random_plant (int p, const char *path)
{
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    plantgen_opts_t o = { .seed = (uint64_t) p };
    char err[256];
    int rc = plantgen_write (&o, f, err, sizeof err);
    if (fclose (f) || rc) {
        fprintf (stderr, "plant-bench: random plant %d: %s\n", p, rc ? err : strerror (errno));
        return -1;
    }
    return 0;
}

/* Starts one autofab-twin with stdout and stderr to the run's files. */
static int
s_start (s_run_t *r, const s_plant_t *plant, const s_opts_t *o)
{
    char twin[PATH_MAX + 16], hours[32], warmup[32], seed[16];
    snprintf (twin, sizeof twin, "%s/autofab-twin", o->bin);
    snprintf (hours, sizeof hours, "%g", o->hours + o->warmup_h);
    snprintf (warmup, sizeof warmup, "%g", o->warmup_h);
    snprintf (seed, sizeof seed, "%d", r->seed);
    snprintf (r->out, sizeof r->out, "%s/%s/%s-%d.json", o->work, plant->name, s_policy_names[r->policy], r->seed);
    snprintf (r->err, sizeof r->err, "%s/%s/%s-%d.log", o->work, plant->name, s_policy_names[r->policy], r->seed);
    char *argv[] = { twin, "--config", (char *) plant->config, "--hours", hours, "--warmup-h", warmup,
                     "--seed", seed, "--policy", (char *) s_policy_names[r->policy], "--json", NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    posix_spawn_file_actions_addopen (&fa, 1, r->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen (&fa, 2, r->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn (&r->pid, twin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy (&fa);
    if (rc) {
        fprintf (stderr, "plant-bench: cannot start %s: %s\n", twin, strerror (rc));
        return -1;
    }
    return 0;
}

/* The first line of PATH (why a run failed), into OUT. */
static void
s_first_line (const char *path, char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    if (fgets (out, (int) len, f))
        out[strcspn (out, "\n")] = 0;
    fclose (f);
}

/* Reads a finished run's KPIs into its plant.  A run counts as done when
 * the twin exited 0 and measured the whole horizon. */
static void
s_collect (const s_run_t *r, int status, s_plant_t *plant, const s_opts_t *o, char *bound_note, size_t note_len)
{
    int code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
    char why[512];
    if (code != 0) {
        s_first_line (r->err, why, sizeof why);
        if (r->policy == S_BOUND) {
            if (!bound_note[0])
                snprintf (bound_note, note_len, "autofab-twin refused --policy bound (exit %d): %s", code, why);
        }
        else
            fprintf (stderr, "plant-bench: %s seed %d failed (exit %d): %s\n", plant->name, r->seed, code, why);
        return;
    }
    eval_kpis_t k;
    if (eval_kpis_read (r->out, &k, why, sizeof why) != 0) {
        fprintf (stderr, "plant-bench: %s\n", why);
        return;
    }
    double sim_h;
    if (!eval_kpis_get (&k, "sim_h", &sim_h) || !(sim_h >= o->hours - 1e-6)) {
        fprintf (stderr, "plant-bench: %s seed %d stopped early\n", plant->name, r->seed);
        return;
    }
    for (size_t i = 0; i < S_N_KPIS; i++) {
        double v = NAN;
        if (eval_kpis_get (&k, s_kpis[i].key, &v))
            plant->used[i] = s_kpis[i].key;
        else if (s_kpis[i].fallback && eval_kpis_get (&k, s_kpis[i].fallback, &v))
            plant->used[i] = s_kpis[i].fallback;
        plant->v[r->policy][i][r->seed - 1] = v;
    }
    plant->ok[r->policy]++;
}

/* Runs every (plant, policy, seed), JOBS at a time. */
static int
s_run_all (s_plant_t *plants, int n_plants, const s_opts_t *o, char *bound_note, size_t note_len)
{
    int n = n_plants * S_N_POLICIES * (int) o->seeds, next = 0, running = 0;
    s_run_t *runs = calloc ((size_t) n, sizeof *runs);
    if (!runs)
        return -1;
    for (int i = 0; i < n; i++) {
        runs[i].plant = i / (S_N_POLICIES * (int) o->seeds);
        runs[i].policy = (s_policy_t) (i / (int) o->seeds % S_N_POLICIES);
        runs[i].seed = i % (int) o->seeds + 1;
    }
    while (next < n || running > 0) {
        while (next < n && running < o->jobs) {
            if (s_start (&runs[next], &plants[runs[next].plant], o) == 0)
                running++;
            next++;
        }
        int status;
        pid_t pid = wait (&status);
        if (pid < 0)
            break;
        for (int i = 0; i < next; i++)
            if (runs[i].pid == pid) {
                running--;
                s_collect (&runs[i], status, &plants[runs[i].plant], o, bound_note, note_len);
                runs[i].pid = 0;
            }
    }
    free (runs);
    return 0;
}

/* ------------------------------------------------------------- report */

typedef struct {
    double mean, ci95, bound, bound_change_pct;
} s_stat_t;

/* Mean and CI over the seeds of one KPI; the bound only with every seed. */
static s_stat_t
s_stat (const s_plant_t *p, size_t k, int seeds)
{
    s_stat_t s = { NAN, NAN, NAN, NAN };
    double x[S_MAX_SEEDS];
    int n = 0;
    for (int i = 0; i < seeds; i++)
        if (!isnan (p->v[S_BASE][k][i]))
            x[n++] = p->v[S_BASE][k][i];
    if (n == 0)
        return s;
    s.mean = af_stats_mean (x, (size_t) n);
    s.ci95 = af_stats_ci_half_width (af_stats_sd (x, (size_t) n), (size_t) n, S_LEVEL);
    if (p->ok[S_BOUND] == seeds) {
        double b[S_MAX_SEEDS];
        for (int i = 0; i < seeds; i++)
            b[i] = p->v[S_BOUND][k][i];
        s.bound = af_stats_mean (b, (size_t) seeds);
        s.bound_change_pct = s.mean != 0 ? 100.0 * (s.bound - s.mean) / fabs (s.mean) : NAN;
    }
    return s;
}

static void
s_print (const s_plant_t *plants, int n_plants, const s_opts_t *o, const char *bound_note)
{
    printf ("\nbench-plant: baseline, %ld seeds x %.0f h after %.0f h warm-up (mean ± 95 %% CI half-width)\n",
            o->seeds, o->hours, o->warmup_h);
    for (int p = 0; p < n_plants; p++) {
        const s_plant_t *pl = &plants[p];
        printf ("\n%s (%s): %d/%ld seeds ran to the end\n", pl->name, pl->config, pl->ok[S_BASE], o->seeds);
        printf ("  %-22s %12s %10s %12s %10s\n", "kpi", "baseline", "± 95 %", "bound", "bound Δ%");
        for (size_t k = 0; k < S_N_KPIS; k++) {
            s_stat_t s = s_stat (pl, k, (int) o->seeds);
            char label[64];
            snprintf (label, sizeof label, "%s%s", s_kpis[k].label,
                      pl->used[k] && strcmp (pl->used[k], s_kpis[k].key) ? " (cycle)" : "");
            if (isnan (s.mean)) {
                printf ("  %-22s %12s   (the twin has no %s yet)\n", label, "-", s_kpis[k].key);
                continue;
            }
            char bound[32] = "-", change[32] = "-";
            if (!isnan (s.bound)) {
                snprintf (bound, sizeof bound, "%.4g", s.bound);
                snprintf (change, sizeof change, "%+.3g", s.bound_change_pct);
            }
            printf ("  %-22s %12.4g %10.3g %12s %10s\n", label, s.mean, s.ci95, bound, change);
        }
    }
    if (bound_note[0])
        printf ("\nbound column empty: %s\n", bound_note);
    for (size_t k = 0; k < S_N_KPIS; k++)
        if (plants[0].used[k] && s_kpis[k].fallback && !strcmp (plants[0].used[k], s_kpis[k].fallback))
            printf ("%s: the twin has no %s yet, so this is %s (on the line, not from order arrival)\n",
                    s_kpis[k].label, s_kpis[k].key, s_kpis[k].fallback);
}

/* One number, or null. */
static void
s_json_num (FILE *f, const char *prefix, const char *key, const char *suffix, double v)
{
    fprintf (f, ",\n  \"%s%s%s\": ", prefix, key, suffix);
    if (isnan (v) || isinf (v))
        fputs ("null", f);
    else
        fprintf (f, "%.6g", v);
}

static int
s_write_json (const s_plant_t *plants, int n_plants, const s_opts_t *o, const char *bound_note)
{
    FILE *f = fopen (o->json, "w");
    if (!f)
        return -1;
    int random_ok = 0;
    for (int p = 1; p < n_plants; p++)
        random_ok += plants[p].ok[S_BASE] == o->seeds;
    fprintf (f, "{\n  \"seeds\": %ld,\n  \"hours\": %g,\n  \"warmup_h\": %g,\n  \"random_plants\": %d,\n"
                "  \"random_plants_ok\": %d,\n  \"bound_available\": %d",
             o->seeds, o->hours, o->warmup_h, n_plants - 1, random_ok, bound_note[0] ? 0 : 1);
    for (int p = 0; p < n_plants; p++) {
        char prefix[48];
        snprintf (prefix, sizeof prefix, "%s_baseline_", plants[p].name);
        for (size_t k = 0; k < S_N_KPIS; k++) {
            s_stat_t s = s_stat (&plants[p], k, (int) o->seeds);
            /* Named after what was read: cycle_time_mean_min is not a lead time. */
            const char *key = plants[p].used[k] ? plants[p].used[k] : s_kpis[k].key;
            s_json_num (f, prefix, key, "", s.mean);
            s_json_num (f, prefix, key, "_ci95", s.ci95);
            snprintf (prefix, sizeof prefix, "%s_bound_", plants[p].name);
            s_json_num (f, prefix, key, "", s.bound);
            s_json_num (f, prefix, key, "_change_pct", s.bound_change_pct);
            snprintf (prefix, sizeof prefix, "%s_baseline_", plants[p].name);
        }
    }
    fputs ("\n}\n", f);
    return fclose (f) ? -1 : 0;
}

int
main (int argc, char **argv)
{
    s_opts_t o = { .seeds = 5, .plants = 5, .jobs = 2, .hours = 672, .warmup_h = 1344 };
    int rc = s_parse (argc, argv, &o);
    if (rc)
        return rc;
    int n_plants = 1 + (int) o.plants;
    s_plant_t *plants = calloc ((size_t) n_plants, sizeof *plants);
    if (!plants)
        return 1;
    for (int p = 0; p < n_plants; p++) {
        s_plant_t *pl = &plants[p];
        for (size_t i = 0; i < S_N_POLICIES * S_N_KPIS * S_MAX_SEEDS; i++)
            (&pl->v[0][0][0])[i] = NAN;
        snprintf (pl->name, sizeof pl->name, p ? "random%d" : "default", p);
        char dir[PATH_MAX / 2];
        if (snprintf (dir, sizeof dir, "%s/%s", o.work, pl->name) >= (int) sizeof dir) {
            fprintf (stderr, "plant-bench: --work path too long\n");
            return 2;
        }
        if (s_mkdir (dir)) {
            fprintf (stderr, "plant-bench: cannot create %s: %s\n", dir, strerror (errno));
            return 1;
        }
        if (p == 0)
            snprintf (pl->config, sizeof pl->config, "%s", o.factory);
        else {
            snprintf (pl->config, sizeof pl->config, "%s/plant.yaml", dir);
            if (s_write_random_plant (p, pl->config))
                return 1;
        }
    }
    char bound_note[600] = "";
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    if (s_run_all (plants, n_plants, &o, bound_note, sizeof bound_note))
        return 1;
    clock_gettime (CLOCK_MONOTONIC, &t1);
    s_print (plants, n_plants, &o, bound_note);
    printf ("\n%d runs in %.1f s wall\n", n_plants * S_N_POLICIES * (int) o.seeds,
            (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (s_write_json (plants, n_plants, &o, bound_note)) {
        fprintf (stderr, "plant-bench: cannot write %s: %s\n", o.json, strerror (errno));
        return 1;
    }
    printf ("wrote %s\n", o.json);
    rc = plants[0].ok[S_BASE] == o.seeds ? 0 : 1;
    free (plants);
    return rc;
}
