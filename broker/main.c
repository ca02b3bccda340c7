/*  autofab-broker — one factory's broker: parses options, runs the broker.  */
#include <czmq.h>
#include <getopt.h>

#include "af_args.h"
#include "af_log.h"
#include "broker.h"

#define PROGRAM "autofab-broker"

static const char s_usage[] =
    "Usage: " PROGRAM " [OPTIONS]\n"
    "\n"
    "Runs one factory's broker: agent registration and presence (birth/death on\n"
    "sys.* topics), the pub/sub relay with its last-value cache, and request\n"
    "routing to named services.  See docs/broker.md.\n"
    "\n"
    "Options (flags override the config file):\n"
    "  -c, --config FILE          YAML config (see deploy/broker.yaml)\n"
    "      --control ENDPOINT     ROUTER for control        [tcp://127.0.0.1:5550]\n"
    "      --ingress ENDPOINT     XSUB publishers connect to [control port + 1]\n"
    "      --egress ENDPOINT      XPUB subscribers connect to [control port + 2]\n"
    "  -p, --port N               control on N, ingress N+1, egress N+2\n"
    "      --host HOST            interface for --port       [127.0.0.1; * for all]\n"
    "  -f, --factory NAME         factory name in sys.* topics [factory]\n"
    "      --heartbeat-ms N       expected agent heartbeat; death after 1.5x [1000]\n"
    "      --cache-max-topics N   last-value cache size, 0 disables [100000]\n"
    "      --cache-prefix P       cache only topics under P  [all]\n"
    "      --max-msg-bytes N      refuse larger messages     [1048576]\n"
    "      --hwm N                high-water mark per socket, messages [100000]\n"
    "      --request-timeout-ms N default request deadline   [5000]\n"
    "      --stats-interval-ms N  publish counters on sys.<factory>.broker.broker.stats; 0 off [1000]\n"
    "      --log-level LEVEL      debug, info, warn, error   [info]\n"
    "      --log-file FILE        append logs here instead of stderr\n"
    "      --journal FILE         record relayed messages in FILE (SQLite; docs/journal.md) [off]\n"
    "      --journal-prefixes L   comma-separated topic prefixes to record [all]\n"
    "  -l, --limit KEY=N          a resource cap, e.g. max_agents=100 (docs/broker.md;\n"
    "                             repeatable)\n"
    "  -h, --help                 this text\n"
    "  -V, --version              version\n";

enum { OPT_CONTROL = 256, OPT_INGRESS, OPT_EGRESS, OPT_HOST, OPT_HB, OPT_CACHE, OPT_CACHE_PREFIX,
       OPT_MAXMSG, OPT_HWM, OPT_REQ_TIMEOUT, OPT_STATS, OPT_LOG_LEVEL, OPT_LOG_FILE, OPT_JOURNAL,
       OPT_JOURNAL_PREFIXES };

/* Applies one --limit KEY=N; 0, or 2 after a usage error. */
static int
s_limit (broker_opts_t *opts, const char *arg)
{
    const char *eq = strchr (arg, '=');
    if (!eq || eq == arg)
        return af_args_usage_error (PROGRAM, "--limit wants KEY=N, got '%s'", arg);
    char key[64], err[300];
    snprintf (key, sizeof key, "%.*s", (int) (eq - arg), arg);
    if (broker_opts_set_limit (opts, key, eq + 1, err, sizeof err) != 0)
        return af_args_usage_error (PROGRAM, "--limit: %s", err);
    return 0;
}

static const struct option s_options[] = {
    { "config", required_argument, 0, 'c' },
    { "control", required_argument, 0, OPT_CONTROL },
    { "ingress", required_argument, 0, OPT_INGRESS },
    { "egress", required_argument, 0, OPT_EGRESS },
    { "port", required_argument, 0, 'p' },
    { "host", required_argument, 0, OPT_HOST },
    { "factory", required_argument, 0, 'f' },
    { "heartbeat-ms", required_argument, 0, OPT_HB },
    { "cache-max-topics", required_argument, 0, OPT_CACHE },
    { "cache-prefix", required_argument, 0, OPT_CACHE_PREFIX },
    { "max-msg-bytes", required_argument, 0, OPT_MAXMSG },
    { "hwm", required_argument, 0, OPT_HWM },
    { "request-timeout-ms", required_argument, 0, OPT_REQ_TIMEOUT },
    { "stats-interval-ms", required_argument, 0, OPT_STATS },
    { "log-level", required_argument, 0, OPT_LOG_LEVEL },
    { "log-file", required_argument, 0, OPT_LOG_FILE },
    { "journal", required_argument, 0, OPT_JOURNAL },
    { "journal-prefixes", required_argument, 0, OPT_JOURNAL_PREFIXES },
    { "limit", required_argument, 0, 'l' },
    { "help", no_argument, 0, 'h' },
    { "version", no_argument, 0, 'V' },
    { 0, 0, 0, 0 },
};

/* Applies the options; the config file is read first, wherever it appears. */
static int
s_parse (int argc, char **argv, broker_opts_t *opts)
{
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if ((!strcmp (argv[i], "-c") || !strcmp (argv[i], "--config")) && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp (argv[i], "--config=", 9))
            path = argv[i] + 9;
        char err[600];
        if (path && broker_opts_load (opts, path, err, sizeof err) != 0) {
            fprintf (stderr, PROGRAM ": %s\n", err);
            return 2;
        }
    }
    long port = 0, value;
    const char *host = "127.0.0.1";
    bool explicit_ingress = false, explicit_egress = false;
    int c;
    opterr = 0;
    while ((c = getopt_long (argc, argv, ":c:p:f:l:hV", s_options, NULL)) != -1) {
        switch (c) {
        case 'c': break;
        case OPT_CONTROL: snprintf (opts->control, sizeof opts->control, "%s", optarg); break;
        case OPT_INGRESS: snprintf (opts->ingress, sizeof opts->ingress, "%s", optarg);
            explicit_ingress = true; break;
        case OPT_EGRESS: snprintf (opts->egress, sizeof opts->egress, "%s", optarg);
            explicit_egress = true; break;
        case 'p':
            if (!af_args_long (PROGRAM, "--port", optarg, 1, 65533, &port))
                return 2;
            break;
        case OPT_HOST: host = optarg; break;
        case 'f': snprintf (opts->factory, sizeof opts->factory, "%s", optarg); break;
        case OPT_HB:
            if (!af_args_long (PROGRAM, "--heartbeat-ms", optarg, 10, 600000, &value))
                return 2;
            opts->heartbeat_ms = (int) value;
            break;
        case OPT_CACHE:
            if (!af_args_long (PROGRAM, "--cache-max-topics", optarg, 0, 100000000, &value))
                return 2;
            opts->cache_max_topics = (size_t) value;
            break;
        case OPT_CACHE_PREFIX: snprintf (opts->cache_prefix, sizeof opts->cache_prefix, "%s", optarg); break;
        case OPT_MAXMSG:
            if (!af_args_long (PROGRAM, "--max-msg-bytes", optarg, 1024, 256L << 20, &value))
                return 2;
            opts->max_msg_bytes = (size_t) value;
            break;
        case OPT_HWM:
            if (!af_args_long (PROGRAM, "--hwm", optarg, 1, 100000000, &value))
                return 2;
            opts->hwm = (int) value;
            break;
        case OPT_REQ_TIMEOUT:
            if (!af_args_long (PROGRAM, "--request-timeout-ms", optarg, 1, 3600000, &value))
                return 2;
            opts->request_timeout_ms = (int) value;
            break;
        case OPT_STATS:
            if (!af_args_long (PROGRAM, "--stats-interval-ms", optarg, 0, 3600000, &value))
                return 2;
            opts->stats_interval_ms = (int) value;
            break;
        case OPT_LOG_LEVEL:
            if (af_log_parse_level (optarg) < 0)
                return af_args_usage_error (PROGRAM, "--log-level must be debug, info, warn, error or off");
            af_log_set_level ((af_log_level_t) af_log_parse_level (optarg));
            break;
        case OPT_LOG_FILE:
            if (af_log_set_file (optarg) != 0)
                return af_args_usage_error (PROGRAM, "cannot open log file '%s'", optarg);
            break;
        case OPT_JOURNAL: snprintf (opts->journal, sizeof opts->journal, "%s", optarg); break;
        case OPT_JOURNAL_PREFIXES:
            snprintf (opts->journal_prefixes, sizeof opts->journal_prefixes, "%s", optarg);
            break;
        case 'l':
            if (s_limit (opts, optarg) != 0)
                return 2;
            break;
        case 'h': fputs (s_usage, stdout); return 0;
        case 'V': printf (PROGRAM " %s\n", AF_VERSION); return 0;
        case ':': return af_args_usage_error (PROGRAM, "option '%s' needs a value", argv[optind - 1]);
        default: return af_args_usage_error (PROGRAM, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error (PROGRAM, "unexpected argument '%s'", argv[optind]);
    if (port) {
        snprintf (opts->control, sizeof opts->control, "tcp://%s:%ld", host, port);
        if (!explicit_ingress)
            snprintf (opts->ingress, sizeof opts->ingress, "tcp://%s:%ld", host, port + 1);
        if (!explicit_egress)
            snprintf (opts->egress, sizeof opts->egress, "tcp://%s:%ld", host, port + 2);
    }
    else {
        /* Only --control given: ingress and egress follow its port. */
        char *colon = strrchr (opts->control, ':');
        long cport = colon ? strtol (colon + 1, NULL, 10) : 0;
        if (cport > 0 && cport < 65534) {
            int host_len = (int) (colon - opts->control);
            if (!explicit_ingress)
                snprintf (opts->ingress, sizeof opts->ingress, "%.*s:%ld", host_len, opts->control, cport + 1);
            if (!explicit_egress)
                snprintf (opts->egress, sizeof opts->egress, "%.*s:%ld", host_len, opts->control, cport + 2);
        }
    }
    return -1;
}

int
main (int argc, char **argv)
{
    af_log_init (PROGRAM);
    broker_opts_t opts;
    broker_opts_defaults (&opts);
    int rc = s_parse (argc, argv, &opts);
    if (rc >= 0)
        return rc;
    /* We handle SIGINT/SIGTERM through zsys_interrupted; no CZMQ banner. */
    zsys_init ();
    zsys_set_logstream (NULL);
    char err[600];
    broker_t *broker = broker_new (&opts, err, sizeof err);
    if (!broker) {
        fprintf (stderr, PROGRAM ": %s\n", err);
        return 1;
    }
    broker_run (broker);
    broker_destroy (&broker);
    return 0;
}
