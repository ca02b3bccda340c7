/*  cmd_plant — `autofab plant --random`: a plausible plant nobody tuned on
 *  (DESIGN §5), as factory YAML the twin runs.  The generator is
 *  cli/plantgen.c; its ranges and their sources are in docs/plant.md.  */
#include "cli.h"
#include "plantgen.h"
#include "af_args.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define S_STR(x) #x
#define S_XSTR(x) S_STR (x)

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_plant = {
    .name = "plant",
    .summary = "print a random plausible plant as factory YAML (--random --seed N)",
    .usage = "usage: autofab plant --random [--seed N] [--stations K] [--out FILE]\n"
             "       autofab plant --table\n"
             "\n"
             "Prints a plausible plant as factory YAML on standard output: stations with\n"
             "processing-time distributions, changeovers, buffers, failures, wear,\n"
             "quality and power; variants with routes and bills of materials; parts\n"
             "with supplier lead times; people, robots and energy.  Every value is\n"
             "drawn from a range sourced in docs/plant.md (\"Random plants\"); the same\n"
             "seed gives the same file byte for byte.  Run it with\n"
             "  autofab-twin --config FILE --hours 168\n"
             "\n"
             "  -r, --random       draw a random plant\n"
             "  -s, --seed N       seed, a non-negative integer [1]\n"
             "  -k, --stations K   number of stations, " S_XSTR (PLANTGEN_MIN_STATIONS) ".." S_XSTR (
                 PLANTGEN_MAX_STATIONS) " [drawn: 4..12]\n"
             "  -o, --out FILE     write FILE instead of standard output\n"
             "  -t, --table        print the ranges drawn from, with source tags (Markdown)\n"
             "  -h, --help\n"
             "\n"
             "Exit status: 0 written, 1 the file could not be written, 2 bad usage.\n",
    .run = s_run,
};

typedef struct {
    bool random, table;
    plantgen_opts_t gen;
    const char *out;
} s_opts_t;

/* Parses the options into O: 0, -1 for --help, else the exit code. */
static int
s_parse (int argc, char **argv, s_opts_t *o)
{
    static const struct option s_options[] = {
        { "random", no_argument, NULL, 'r' },   { "seed", required_argument, NULL, 's' },
        { "stations", required_argument, NULL, 'k' }, { "out", required_argument, NULL, 'o' },
        { "table", no_argument, NULL, 't' },    { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char err[256];
    long value;
    int c;
    while ((c = getopt_long (argc, argv, ":rs:k:o:th", s_options, NULL)) != -1) {
        switch (c) {
        case 'r': o->random = true; break;
        case 's': {
            /* The whole 64-bit range, decimal only: a seed is a name, not a number to compute with. */
            char *end = NULL;
            errno = 0;
            unsigned long long seed = strtoull (optarg, &end, 10);
            if (!*optarg || *end || *optarg == '-' || errno)
                return cli_usage_error ("plant", "--seed must be a non-negative integer, got '%s'", optarg);
            o->gen.seed = seed;
            break;
        }
        case 'k':
            if (af_parse_long (optarg, PLANTGEN_MIN_STATIONS, PLANTGEN_MAX_STATIONS, &value, err, sizeof err))
                return cli_usage_error ("plant", "--stations: %s", err);
            o->gen.stations = (int) value;
            break;
        case 'o': o->out = optarg; break;
        case 't': o->table = true; break;
        case 'h': return -1;
        default: return cli_bad_option (&cli_cmd_plant, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error ("plant", "unexpected argument '%s'", argv[optind]);
    if (o->random && o->table)
        return cli_usage_error ("plant", "--random and --table exclude each other");
    if (!o->random && !o->table)
        return cli_usage_error ("plant", "say --random (a plant drawn from sourced ranges) or --table (the ranges)");
    return 0;
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    (void) ctx;
    s_opts_t o = { .gen = { .seed = 1 } };
    int rc = s_parse (argc, argv, &o);
    if (rc == -1)
        return cli_help (&cli_cmd_plant);
    if (rc)
        return rc;
    if (o.table) {
        plantgen_print_table (stdout);
        return CLI_EXIT_OK;
    }
    FILE *out = o.out ? fopen (o.out, "w") : stdout;
    if (!out)
        return cli_fail ("plant", "cannot write '%s': %s", o.out, strerror (errno));
    char err[256] = "";
    rc = plantgen_write (&o.gen, out, err, sizeof err);
    if (o.out && fclose (out) != 0 && rc == 0) {
        snprintf (err, sizeof err, "cannot write '%s': %s", o.out, strerror (errno));
        rc = -1;
    }
    return rc ? cli_fail ("plant", "%s", err) : CLI_EXIT_OK;
}
