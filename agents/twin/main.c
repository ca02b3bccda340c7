/*  autofab-twin — the digital twin standalone: simulate a factory, print KPIs.
 *
 *  autofab-twin --config F --hours H [--seed S] [--policy baseline|none]
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
             "usage: autofab-twin --config FILE --hours H [--seed S] [--policy baseline|none]\n"
             "                    [--json] [--progress] [--log-level LEVEL]\n"
             "Simulates the factory in FILE (deploy/factories/*.yaml) for H hours and\n"
             "prints its KPIs (docs/kpi.md) as a table, or one JSON object with --json.\n"
             "  --seed S       random seed (default 1); same seed + config = same KPIs\n"
             "  --policy P     baseline (DESIGN §5, default) or none (no controller)\n"
             "  --progress     show progress on a terminal (stderr)\n"
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
             "  --idle-timeout-ms N    shadow: stop after N ms without a report [10000]\n");
}

int
main (int argc, char **argv)
{
    af_log_init ("autofab-twin");
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "hours", required_argument, NULL, 'H' },
        { "seed", required_argument, NULL, 's' },   { "policy", required_argument, NULL, 'p' },
        { "json", no_argument, NULL, 'j' },         { "progress", no_argument, NULL, 'P' },
        { "log-level", required_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' },
        { "bus", no_argument, NULL, 'B' },          { "broker", required_argument, NULL, 'b' },
        { "factory", required_argument, NULL, 'f' }, { "cell", required_argument, NULL, 'C' },
        { "name", required_argument, NULL, 'n' },   { "speed", required_argument, NULL, 'x' },
        { "realtime", no_argument, NULL, 'R' },     { "expect-controllers", required_argument, NULL, 'e' },
        { "out", required_argument, NULL, 'o' },    { "shadow", no_argument, NULL, 'S' },
        { "idle-timeout-ms", required_argument, NULL, 'I' },
        { "warmup-h", required_argument, NULL, 'W' },
        { NULL, 0, NULL, 0 }
    };
    bool bus = false, shadow = false;
    long controllers = 0, idle_ms = 10000;
    twin_bus_opts_t bus_opts = { .factory = "factory", .cell = "plant", .name = "twin", .heartbeat_ms = 500 };
    const char *config = NULL, *policy = "baseline";
    double hours = -1, warmup_h = -1;
    unsigned long long seed = 1;
    bool json = false, progress = false;
    opterr = 0;
    int c;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'c': config = optarg; break;
        case 'H':
            hours = strtod (optarg, &end);
            if (*end || !(hours > 0) || hours > 1e6)
                return af_args_usage_error ("autofab-twin", "--hours must be a number of hours > 0, got '%s'", optarg);
            break;
        case 's':
            seed = strtoull (optarg, &end, 0);
            if (*end || !*optarg || *optarg == '-')
                return af_args_usage_error ("autofab-twin", "--seed must be a non-negative integer, got '%s'", optarg);
            break;
        case 'p': policy = optarg; break;
        case 'j': json = true; break;
        case 'W':
            if (!af_args_double ("autofab-twin", "--warmup-h", optarg, 0, 1e6, &warmup_h))
                return 2;
            break;
        case 'P': progress = true; break;
        case 'l':
            if (af_log_parse_level (optarg) < 0)
                return af_args_usage_error ("autofab-twin", "unknown log level '%s'", optarg);
            af_log_set_level ((af_log_level_t) af_log_parse_level (optarg));
            break;
        case 'h': s_usage (stdout); return 0;
        case 'B': bus = true; break;
        case 'b': bus_opts.broker = optarg; break;
        case 'f': bus_opts.factory = optarg; break;
        case 'C': bus_opts.cell = optarg; break;
        case 'n': bus_opts.name = optarg; break;
        case 'x':
            if (!af_args_double ("autofab-twin", "--speed", optarg, 0, 1e9, &bus_opts.speed))
                return 2;
            break;
        case 'R': bus_opts.speed = 1; break;
        case 'e':
            if (!af_args_long ("autofab-twin", "--expect-controllers", optarg, 0, 64, &controllers))
                return 2;
            bus_opts.expect_controllers = (int) controllers;
            break;
        case 'o': bus_opts.out_dir = optarg; break;
        case 'S': shadow = bus = true; break;
        case 'I':
            if (!af_args_long ("autofab-twin", "--idle-timeout-ms", optarg, 100, 86400000, &idle_ms))
                return 2;
            bus_opts.idle_timeout_ms = (int) idle_ms;
            break;
        default:
            return af_args_usage_error ("autofab-twin", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error ("autofab-twin", "unexpected argument '%s'", argv[optind]);
    if (!config)
        return af_args_usage_error ("autofab-twin", "--config FILE is required");
    if (hours < 0)
        return af_args_usage_error ("autofab-twin", "--hours H is required");
    if (strcmp (policy, "baseline") && strcmp (policy, "none"))
        return af_args_usage_error ("autofab-twin", "unknown policy '%s' (baseline or none)", policy);
    if (warmup_h >= hours)
        return af_args_usage_error ("autofab-twin", "--warmup-h %g must be shorter than --hours %g", warmup_h, hours);

    char err[512];
    twin_t *twin = twin_new_from_file (config, seed, err, sizeof err);
    if (!twin) {
        fprintf (stderr, "autofab-twin: %s\n", err);
        return 2;
    }
    if (warmup_h >= 0)
        twin_set_warmup_h (twin, warmup_h);
    if (!strcmp (policy, "baseline")) {
        twin_policy_t p;
        twin_policy_baseline (twin, &p);
        twin_set_policy (twin, &p);
    }
    if (shadow) {
        if (!strcmp (bus_opts.name, "twin"))
            bus_opts.name = "shadow";
        uint64_t reports = 0, disagreements = 0;
        int rc = twin_bus_shadow (twin, hours, &bus_opts, &reports, &disagreements);
        printf ("shadow: %llu station reports, %llu disagreements corrected, plant time %.2f h\n",
                (unsigned long long) reports, (unsigned long long) disagreements, twin_now_s (twin) / 3600.0);
        twin_destroy (&twin);
        return rc;
    }
    if (bus) {
        int rc = twin_bus_run (twin, hours, &bus_opts, progress ? stderr : NULL);
        twin_destroy (&twin);
        return rc;
    }
    twin_run (twin, hours, progress ? stderr : NULL);
    twin_kpi_t k;
    twin_kpis (twin, &k);
    if (json) {
        char buf[4096];
        if (twin_kpi_json (&k, buf, sizeof buf) < 0) {
            fprintf (stderr, "autofab-twin: KPI JSON too long\n");
            twin_destroy (&twin);
            return 1;
        }
        printf ("%s\n", buf);
    }
    else {
        printf ("factory %s, %.0f h, seed %llu, policy %s, %llu events\n\n", config, hours, seed,
                policy, (unsigned long long) twin_events (twin));
        twin_kpi_print (twin, &k, stdout);
    }
    twin_destroy (&twin);
    return 0;
}
