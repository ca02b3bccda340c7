/*  cmd_sub — `autofab sub`: print decoded messages matching a pattern.  */
#include "cli.h"
#include "af_args.h"

#include <czmq.h>
#include <getopt.h>
#include <string.h>

#include "af_clock.h"

/* How long the snapshot (last-value cache) may take. */
#define CLI_SUB_SNAPSHOT_MS 3000

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_sub = {
    .name = "sub",
    .summary = "print messages on topics matching a pattern (human or --json)",
    .usage = "usage: autofab sub PATTERN [--json] [--count N] [--snapshot] [--timeout S]\n"
             "\n"
             "Prints every message whose topic matches PATTERN, one line each: topic,\n"
             "source#seq, time (UTC), payload kind and fields.  PATTERN is a topic, a\n"
             "prefix of one (\"tel.f1\"), or a glob: '*' is one segment, a final '>' is\n"
             "one or more (\"alm.*.cell3.>\", \">\" for everything).\n"
             "\n"
             "  --json        one JSON object per line: topic, source, seq, t_ns, session,\n"
             "                factory, msg_id, gap, kind, payload\n"
             "  --count N     exit after N messages\n"
             "  --snapshot    first print the broker's last value of every topic under the\n"
             "                pattern's literal prefix, then continue live without a gap\n"
             "  --timeout S   exit after S seconds (default: run until Ctrl-C)\n",
    .run = s_run,
};

typedef struct {
    const char *pattern;
    cli_fmt_t fmt;
    long count;                  /* 0: unlimited */
    long printed;
} s_sub_t;

static void
s_on_snapshot (const char *topic, const Autofab__Envelope *env, void *arg)
{
    s_sub_t *self = arg;
    /* The cache answers for the whole literal prefix; the glob's other
     * segments are ours to check. */
    if (!af_topic_match (self->pattern, topic, strlen (topic)))
        return;
    if (self->count && self->printed >= self->count)
        return;
    cli_print_envelope (stdout, self->fmt, topic, env, 0);
    self->printed++;
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option s_options[] = {
        { "json", no_argument, NULL, 'j' },
        { "count", required_argument, NULL, 'n' },
        { "snapshot", no_argument, NULL, 's' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    s_sub_t self = { .fmt = CLI_FMT_HUMAN };
    bool snapshot = false;
    double timeout_s = 0;
    char why[128];
    int c;
    while ((c = getopt_long (argc, argv, ":h", s_options, NULL)) != -1) {
        switch (c) {
        case 'j':
            self.fmt = CLI_FMT_JSON;
            break;
        case 'n':
            if (af_parse_long (optarg, 1, 1000000000, &self.count, why, sizeof why) != 0)
                return cli_usage_error ("sub", "--count: %s", why);
            break;
        case 's':
            snapshot = true;
            break;
        case 't':
            if (af_parse_double (optarg, 0.001, 1e6, &timeout_s, why, sizeof why) != 0)
                return cli_usage_error ("sub", "--timeout: %s", why);
            break;
        case 'h':
            return cli_help (&cli_cmd_sub);
        default:
            return cli_bad_option (&cli_cmd_sub, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error ("sub", "missing PATTERN (see --help)");
    if (optind + 1 < argc)
        return cli_usage_error ("sub", "unexpected argument '%s' (see --help)", argv[optind + 1]);
    self.pattern = argv[optind];
    if (!af_topic_pattern_valid (self.pattern))
        return cli_usage_error ("sub", "'%s' is not a valid topic pattern (segments of letters, "
                                "digits, '_', '-'; '*' one segment; '>' last)", self.pattern);
    /* The cache is asked by literal prefix, whole segments only. */
    char prefix[AF_TOPIC_MAX_BYTES];
    size_t prefix_len = af_topic_prefix (self.pattern, prefix, sizeof prefix);
    if (prefix_len && prefix[prefix_len - 1] == '.')
        prefix[--prefix_len] = 0;
    if (snapshot && prefix_len == 0)
        return cli_usage_error ("sub", "--snapshot needs a pattern that starts with a literal "
                                "segment (e.g. tel.>), not '%s'", self.pattern);

    af_bus_t *bus = cli_bus_open (ctx, "sub", NULL);
    if (!bus)
        return CLI_EXIT_FAIL;
    int exit_code = CLI_EXIT_OK;
    if (af_bus_subscribe (bus, self.pattern) != 0) {
        exit_code = cli_fail ("sub", "cannot subscribe to '%s'", self.pattern);
        goto done;
    }
    int64_t deadline_ms = timeout_s > 0 ? af_clock_mono_ms () + (int64_t) (timeout_s * 1000) : -1;
    if (snapshot) {
        int snap_ms = CLI_SUB_SNAPSHOT_MS;
        if (deadline_ms >= 0 && deadline_ms - af_clock_mono_ms () < snap_ms)
            snap_ms = (int) (deadline_ms - af_clock_mono_ms ());
        if (af_bus_snapshot (bus, prefix, s_on_snapshot, &self, snap_ms > 0 ? snap_ms : 1) < 0) {
            exit_code = cli_fail ("sub", "no snapshot from the broker at %s within %d ms",
                                  cli_broker_endpoint (ctx), snap_ms);
            goto done;
        }
    }
    while (!self.count || self.printed < self.count) {
        int wait_ms = -1;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - af_clock_mono_ms ();
            if (left <= 0)
                break;
            wait_ms = (int) left;
        }
        af_msg_t msg;
        int rc = af_bus_recv (bus, &msg, wait_ms);
        if (rc < 0)
            break;               /* Ctrl-C: a normal way to stop */
        if (rc == 0)
            continue;
        /* The snapshot's wider subscription lets more through than asked. */
        if (af_topic_match (self.pattern, msg.topic, strlen (msg.topic))) {
            cli_print_envelope (stdout, self.fmt, msg.topic, msg.env, msg.gap);
            self.printed++;
        }
        af_msg_clear (&msg);
    }
done:
    af_bus_destroy (&bus);
    return exit_code;
}
