/*  autofab-twin — the digital twin standalone: simulate a factory, print KPIs.
 *
 *  autofab-twin --config F --hours H [--seed S] [--policy baseline|bound|none]
 *               [--json] [--progress]
 *  autofab-twin --bus [--broker B] [--factory F] [--cell C] [--speed X]
 *               [--expect-controllers N] [--out DIR] --config F --hours H …
 *  runs the same model as the bus's time master (twin_bus.h).
 */
#include "twin.h"
#include "twin_bus.h"
#include "af_args.h"
#include "af_log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: autofab-twin --config FILE --hours H [--seed S] [--policy baseline|bound|none]\n"
             "                    [--json] [--progress] [--log-level LEVEL]\n"
             "Simulates the factory in FILE (deploy/factories/*.yaml) for H hours and\n"
             "prints its KPIs (docs/kpi.md) as a table, or one JSON object with --json.\n"
             "  --seed S       random seed (default 1); same seed + config = same KPIs\n"
             "  --policy P     baseline (DESIGN §5, default), none (no controller), or\n"
             "                 bound: the perfect-information bounds, which read the plant's\n"
             "                 hidden state (offline only; docs/eval.md), one KPI set per\n"
             "                 concern; bound:maintenance or bound:quality runs one\n"
             "  --progress     show progress on a terminal (stderr)\n"
             "  --commands     print the command table (Markdown, as in docs/twin.md) and exit\n"
             "  --describe     print the plant description controllers get (JSON) and exit\n"
             "  --warmup-h W   KPIs start after W hours (overrides factory.warmup_h; W < H)\n"
             "On the bus (DESIGN §3), as the time master of a factory's agents:\n"
             "  --bus                  run on the bus instead of printing KPIs\n"
             "  --broker ENDPOINT      broker control endpoint [$AUTOFAB_BROKER or tcp://127.0.0.1:5550]\n"
             "  --factory NAME         factory name in topics [factory]\n"
             "  --cell NAME            the twin's cell in topics [plant]\n"
             "  --name NAME            agent and service name [twin]\n"
             "  --speed X              X times wall-clock speed; 0 as fast as acks allow [0]\n"
             "  --realtime             same as --speed 1\n"
             "  --expect-controllers N wait for N controllers before the first epoch [0]\n"
             "  --out DIR              write kpi.json and series.json there at the end\n"
             "  --shadow               track a plant (or a replay) from its station reports\n"
             "                         instead of simulating alone (implies --bus; name 'shadow')\n"
             "  --idle-timeout-ms N    shadow: stop after N ms without a report [10000]\n"
             "  --ownership-grace-s S  plant time a dead agent's concerns wait for it [10 epochs]\n");
}

typedef struct {
    const char *config, *policy;
    double hours, warmup_h;
    unsigned long long seed;
    bool json, progress, bus, shadow, commands, describe;
    twin_bus_opts_t bus_opts;
} s_opts_t;

/* POLICY names one concern's bound (twin_bound_policies). */
static bool
s_is_bound (const char *policy)
{
    for (int i = 0; twin_bound_policies[i]; i++)
        if (!strcmp (policy, twin_bound_policies[i]))
            return true;
    return false;
}

/* Parses one option C (its argument in optarg) into O.  0 to go on, else the
 * exit code: 2 for a bad value (one line said), -1 for --help. */
static int
s_option (s_opts_t *o, int c, const char *arg)
{
    long value;
    char *end = NULL;
    switch (c) {
    case 'c': o->config = arg; return 0;
    case 'H':
        o->hours = strtod (arg, &end);
        return *end || !(o->hours > 0) || o->hours > 1e6
                   ? af_args_usage_error ("autofab-twin", "--hours must be a number of hours > 0, got '%s'", arg) : 0;
    case 's':
        o->seed = strtoull (arg, &end, 0);
        return *end || !*arg || *arg == '-'
                   ? af_args_usage_error ("autofab-twin", "--seed must be a non-negative integer, got '%s'", arg) : 0;
    case 'p': o->policy = arg; return 0;
    case 'j': o->json = true; return 0;
    case 'W': return af_args_double ("autofab-twin", "--warmup-h", arg, 0, 1e6, &o->warmup_h) ? 0 : 2;
    case 'P': o->progress = true; return 0;
    case 'l':
        if (af_log_parse_level (arg) < 0)
            return af_args_usage_error ("autofab-twin", "unknown log level '%s'", arg);
        af_log_set_level ((af_log_level_t) af_log_parse_level (arg));
        return 0;
    case 'h': return -1;
    case 'M': o->commands = true; return 0;
    case 'D': o->describe = true; return 0;
    case 'B': o->bus = true; return 0;
    case 'b': o->bus_opts.broker = arg; return 0;
    case 'f': o->bus_opts.factory = arg; return 0;
    case 'C': o->bus_opts.cell = arg; return 0;
    case 'n': o->bus_opts.name = arg; return 0;
    case 'x': return af_args_double ("autofab-twin", "--speed", arg, 0, 1e9, &o->bus_opts.speed) ? 0 : 2;
    case 'R': o->bus_opts.speed = 1; return 0;
    case 'e':
        if (!af_args_long ("autofab-twin", "--expect-controllers", arg, 0, 64, &value))
            return 2;
        o->bus_opts.expect_controllers = (int) value;
        return 0;
    case 'o': o->bus_opts.out_dir = arg; return 0;
    case 'S': o->shadow = o->bus = true; return 0;
    case 'I':
        if (!af_args_long ("autofab-twin", "--idle-timeout-ms", arg, 100, 86400000, &value))
            return 2;
        o->bus_opts.idle_timeout_ms = (int) value;
        return 0;
    case 'G':
        return af_args_double ("autofab-twin", "--ownership-grace-s", arg, 1, 1e7, &o->bus_opts.ownership_grace_s) ? 0 : 2;
    default:
        return 2;
    }
}

/* Fills O from the command line; 0, or the exit code (-1: --help). */
static int
s_parse (s_opts_t *o, int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "hours", required_argument, NULL, 'H' },
        { "seed", required_argument, NULL, 's' },   { "policy", required_argument, NULL, 'p' },
        { "json", no_argument, NULL, 'j' },         { "progress", no_argument, NULL, 'P' },
        { "log-level", required_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' },
        { "commands", no_argument, NULL, 'M' }, { "describe", no_argument, NULL, 'D' },
        { "bus", no_argument, NULL, 'B' },          { "broker", required_argument, NULL, 'b' },
        { "factory", required_argument, NULL, 'f' }, { "cell", required_argument, NULL, 'C' },
        { "name", required_argument, NULL, 'n' },   { "speed", required_argument, NULL, 'x' },
        { "realtime", no_argument, NULL, 'R' },     { "expect-controllers", required_argument, NULL, 'e' },
        { "out", required_argument, NULL, 'o' },    { "shadow", no_argument, NULL, 'S' },
        { "idle-timeout-ms", required_argument, NULL, 'I' },
        { "ownership-grace-s", required_argument, NULL, 'G' },
        { "warmup-h", required_argument, NULL, 'W' },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;
    int c;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        if (c == '?' || c == ':')
            return af_args_usage_error ("autofab-twin", "unknown or incomplete option '%s'", argv[optind - 1]);
        int rc = s_option (o, c, optarg);
        if (rc)
            return rc;
    }
    if (o->commands)
        return 0;
    if (optind < argc)
        return af_args_usage_error ("autofab-twin", "unexpected argument '%s'", argv[optind]);
    if (!o->config)
        return af_args_usage_error ("autofab-twin", "--config FILE is required");
    if (o->describe)
        return 0;
    if (o->hours < 0)
        return af_args_usage_error ("autofab-twin", "--hours H is required");
    if (o->warmup_h >= o->hours)
        return af_args_usage_error ("autofab-twin", "--warmup-h %g must be shorter than --hours %g", o->warmup_h,
                                    o->hours);
    if (strcmp (o->policy, "baseline") && strcmp (o->policy, "bound") && strcmp (o->policy, "none")
        && !s_is_bound (o->policy))
        return af_args_usage_error ("autofab-twin", "unknown policy '%s' (baseline, none, bound, or one "
                                    "concern's bound: bound:maintenance, bound:quality)", o->policy);
    if (!strncmp (o->policy, "bound", 5) && (o->bus || o->shadow))
        return af_args_usage_error ("autofab-twin", "--policy bound is offline only: it reads the hidden "
                                    "state no controller on the bus may see");
    return 0;
}

static int
s_run_shadow (twin_t *twin, s_opts_t *o)
{
    if (!strcmp (o->bus_opts.name, "twin"))
        o->bus_opts.name = "shadow";
    uint64_t reports = 0, disagreements = 0;
    int rc = twin_bus_shadow (twin, o->hours, &o->bus_opts, &reports, &disagreements);
    printf ("shadow: %llu station reports, %llu disagreements corrected, plant time %.2f h\n",
            (unsigned long long) reports, (unsigned long long) disagreements, twin_now_s (twin) / 3600.0);
    return rc;
}

static int
s_run_alone (twin_t *twin, const s_opts_t *o, const char *policy)
{
    twin_run (twin, o->hours, o->progress ? stderr : NULL);
    twin_kpi_t k;
    twin_kpis (twin, &k);
    if (!o->json) {
        printf ("factory %s, %.0f h, seed %llu, policy %s, %llu events\n\n", o->config, o->hours, o->seed,
                policy, (unsigned long long) twin_events (twin));
        twin_kpi_print (twin, &k, stdout);
        return 0;
    }
    char buf[4096];
    if (twin_kpi_json (&k, buf, sizeof buf) < 0) {
        fprintf (stderr, "autofab-twin: KPI JSON too long\n");
        return 1;
    }
    printf ("%s\n", buf);
    return 0;
}

/* A fresh twin of O's plant with POLICY installed; NULL after one line said. */
static twin_t *
s_twin (const s_opts_t *o, const char *policy)
{
    char err[512];
    twin_t *twin = twin_new_from_file (o->config, o->seed, err, sizeof err);
    if (!twin) {
        fprintf (stderr, "autofab-twin: %s\n", err);
        return NULL;
    }
    if (o->warmup_h >= 0)
        twin_set_warmup_h (twin, o->warmup_h);
    twin_policy_t p;
    if (twin_policy_by_name (twin, policy, &p) != 0) {
        fprintf (stderr, "autofab-twin: cannot set up policy '%s'\n", policy);
        twin_destroy (&twin);
        return NULL;
    }
    if (p.on_epoch)
        twin_set_policy (twin, &p);
    return twin;
}

/* --policy bound: every concern's bound in turn, each from the same seed,
 * one KPI set each (autofab eval takes the best of them per KPI). */
static int
s_run_bounds (const s_opts_t *o)
{
    for (int i = 0; twin_bound_policies[i]; i++) {
        twin_t *twin = s_twin (o, twin_bound_policies[i]);
        if (!twin)
            return 2;
        int rc = s_run_alone (twin, o, twin_bound_policies[i]);
        twin_destroy (&twin);
        if (rc)
            return rc;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    af_log_init ("autofab-twin");
    s_opts_t o = { .policy = "baseline", .hours = -1, .warmup_h = -1, .seed = 1,
                   .bus_opts = { .factory = "factory", .cell = "plant", .name = "twin", .heartbeat_ms = 500 } };
    int rc = s_parse (&o, argc, argv);
    if (rc == -1) {
        s_usage (stdout);
        return 0;
    }
    if (rc)
        return rc;
    if (o.commands) {
        twin_cmd_help (stdout, true);
        return 0;
    }
    if (!strcmp (o.policy, "bound"))
        return s_run_bounds (&o);
    twin_t *twin = s_twin (&o, o.describe ? "none" : o.policy);
    if (!twin)
        return 2;
    if (o.describe) {
        rc = twin_describe (twin, stdout) ? 1 : 0;
        twin_destroy (&twin);
        return rc;
    }
    rc = o.shadow ? s_run_shadow (twin, &o)
         : o.bus  ? twin_bus_run (twin, o.hours, &o.bus_opts, o.progress ? stderr : NULL)
                  : s_run_alone (twin, &o, o.policy);
    twin_destroy (&twin);
    return rc;
}
