/*  autofab-gateway — joins this factory to peer factories over CURVE links
 *  (DESIGN §6, docs/gateway.md).  main only parses options and runs the
 *  engine in gateway.c.  */
#include "gateway.h"
#include "af_args.h"
#include "af_log.h"

#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define S_PROG "autofab-gateway"
/* How often the stats file is rewritten, ms. */
#define S_STATS_EVERY_MS 500

static const char s_usage[] =
    "usage: autofab-gateway --config FILE [--stats FILE] [--log-level LEVEL]\n"
    "\n"
    "Joins this factory's broker to peer factories: exports the topics its\n"
    "rules select over CURVE links with an on-disk outbox, imports the peers'\n"
    "(see docs/gateway.md and deploy/gateway.yaml).\n"
    "\n"
    "  --config FILE       gateway configuration (YAML)\n"
    "  --stats FILE        write counters as JSON here, twice a second and at exit\n"
    "  --log-level LEVEL   debug, info, warn, error   [info]\n"
    "  --log-file FILE     append logs here instead of stderr\n";

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

int
main (int argc, char **argv)
{
    af_log_init (S_PROG);
    static const struct option opts[] = {
        { "config", required_argument, 0, 'c' }, { "stats", required_argument, 0, 's' },
        { "log-level", required_argument, 0, 'l' }, { "log-file", required_argument, 0, 'f' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *config = NULL, *stats = NULL;
    int c;
    while ((c = getopt_long (argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 's':
            stats = optarg;
            break;
        case 'l': {
            int lvl = af_log_parse_level (optarg);
            if (lvl < 0)
                return af_args_usage_error (S_PROG, "unknown log level '%s'", optarg);
            af_log_set_level ((af_log_level_t) lvl);
            break;
        }
        case 'f':
            if (af_log_set_file (optarg) != 0)
                return af_args_usage_error (S_PROG, "cannot open log file '%s'", optarg);
            break;
        case 'h':
            fputs (s_usage, stdout);
            return 0;
        default:
            return af_args_usage_error (S_PROG, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error (S_PROG, "unexpected argument '%s'", argv[optind]);
    if (!config)
        return af_args_usage_error (S_PROG, "--config FILE is required");
    static gw_config_t cfg;
    char err[1024];
    if (gw_config_load (config, &cfg, err, sizeof err) != 0) {
        fprintf (stderr, S_PROG ": %s\n", err);
        return 2;
    }
    zsys_handler_set (NULL);
    zsys_init ();
    zsys_set_logstream (NULL);
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    gateway_t *gw = gateway_new (&cfg, err, sizeof err);
    if (!gw) {
        fprintf (stderr, S_PROG ": %s\n", err);
        return 1;
    }
    int rc = 0;
    int64_t next_stats = zclock_mono ();
    while (!s_stop && rc == 0) {
        rc = gateway_iterate (gw, 100);
        if (stats && zclock_mono () >= next_stats) {
            gateway_write_stats (gw, stats);
            next_stats = zclock_mono () + S_STATS_EVERY_MS;
        }
    }
    if (stats)
        gateway_write_stats (gw, stats);
    gateway_destroy (&gw);
    return rc == 0 ? 0 : 1;
}
