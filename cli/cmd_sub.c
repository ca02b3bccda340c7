/*  cmd_sub — `autofab sub`: print decoded messages matching a pattern.  */
#include "cli.h"
#include "af_args.h"

#include <czmq.h>
#include <getopt.h>
#include <string.h>

#include "af_clock.h"

/* Longest single wait for a message while the stream is silent. */
#define CLI_SUB_SLICE_MS 250
/* How long the snapshot (last-value cache) may take. */
#define CLI_SUB_SNAPSHOT_MS 3000

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

/* Most --field options. */
#define CLI_SUB_MAX_FIELDS 16

const cli_command_t cli_cmd_sub = {
    .name = "sub",
    .summary = "print messages on topics matching a pattern (human, --json or -F)",
    .usage = "usage: autofab sub PATTERN [-j] [-n N] [-s] [-t DURATION] [-f NAME]... [-F FORMAT]\n"
             "                   [-S SOURCE] [-r]\n"
             "\n"
             "Prints every message whose topic matches PATTERN, one line each: topic,\n"
             "source#seq, header time, payload kind and fields.  PATTERN is a topic, a\n"
             "prefix of one (\"tel.f1\"), or a glob: '*' is one segment, a final '>' is\n"
             "one or more (\"alm.*.cell3.>\", \">\" for everything).  Header times are UTC\n"
             "wall clock (\"14:03:07.120Z\") or, from a simulated plant, time since the\n"
             "simulation started (\"sim+23:30:00.000\").\n"
             "\n"
             "  -j, --json           one JSON object per line: topic, source, seq, t_ns,\n"
             "                       clock (\"sim\" for simulated time), session, factory,\n"
             "                       msg_id, gap, kind, payload\n"
             "  -n, --count N        exit after N messages\n"
             "  -s, --snapshot       first print the broker's last value of every topic under\n"
             "                       the pattern's literal prefix, then continue live\n"
             "  -t, --timeout D      exit after D (2s, 500ms, 1m; default: until Ctrl-C)\n"
             "  -f, --field NAME     print only this value: a metric of that name, or a\n"
             "                       payload field (repeat for several)\n"
             "  -F, --format FMT     print FMT per message: {topic} {source} {seq} {time}\n"
             "                       {rx} {kind} {gap} {payload} or any value name, e.g.\n"
             "                       -F '{time} {source} rpm={rpm}'\n"
             "  -S, --source NAME    only messages from this source ('*' ends a prefix:\n"
             "                       'press*')\n"
             "  -r, --rx-time        also show when each message was received (wall clock)\n"
             "\n"
             "Exits 1 if the broker does not answer within 2 s (or --timeout), or stops\n"
             "answering while the stream is silent; says once on stderr when the broker\n"
             "is up but nothing matches yet.\n",
    .run = s_run,
};

typedef struct {
    const char *pattern;
    const char *source;          /* --source; NULL: any */
    cli_print_opts_t print;
    bool rx_time;
    long count;                  /* 0: unlimited */
    long printed;
} s_sub_t;

/* --source: an exact name, or a prefix ending in '*'. */
static bool
s_source_ok (const s_sub_t *self, const Autofab__Envelope *env)
{
    if (!self->source)
        return true;
    const char *source = env && env->header && env->header->source ? env->header->source : "";
    size_t len = strlen (self->source);
    if (len && self->source[len - 1] == '*')
        return strncmp (source, self->source, len - 1) == 0;
    return strcmp (source, self->source) == 0;
}

static void
s_emit (s_sub_t *self, const char *topic, const Autofab__Envelope *env, uint64_t gap)
{
    if (!s_source_ok (self, env))
        return;
    if (self->rx_time || (self->print.format && strstr (self->print.format, "{rx}")))
        self->print.rx_ns = af_clock_now_ns (NULL);
    cli_print_envelope_opts (stdout, &self->print, topic, env, gap);
    self->printed++;
}

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
    s_emit (self, topic, env, 0);
}

/* Parses the options into SELF; 0, or the exit code of a usage error or
 * of --help (-1 then means "exit 0"). */
static int
s_parse (s_sub_t *self, const char **fields, bool *snapshot, int64_t *timeout_ms, int argc,
         char **argv)
{
    static const struct option s_options[] = {
        { "json", no_argument, NULL, 'j' },
        { "count", required_argument, NULL, 'n' },
        { "snapshot", no_argument, NULL, 's' },
        { "timeout", required_argument, NULL, 't' },
        { "field", required_argument, NULL, 'f' },
        { "format", required_argument, NULL, 'F' },
        { "source", required_argument, NULL, 'S' },
        { "rx-time", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char why[160];
    int c;
    while ((c = getopt_long (argc, argv, ":hjn:st:f:F:S:r", s_options, NULL)) != -1) {
        switch (c) {
        case 'j':
            self->print.fmt = CLI_FMT_JSON;
            break;
        case 'n':
            if (af_parse_long (optarg, 1, 1000000000, &self->count, why, sizeof why) != 0)
                return cli_usage_error ("sub", "--count: %s", why);
            break;
        case 's':
            *snapshot = true;
            break;
        case 't':
            if (cli_parse_duration_ms (optarg, 1, 1000000000, timeout_ms, why, sizeof why) != 0)
                return cli_usage_error ("sub", "--timeout: %s", why);
            break;
        case 'f':
            if (self->print.n_fields == CLI_SUB_MAX_FIELDS)
                return cli_usage_error ("sub", "at most %d --field options", CLI_SUB_MAX_FIELDS);
            if (!*optarg)
                return cli_usage_error ("sub", "--field needs a name");
            fields[self->print.n_fields++] = optarg;
            break;
        case 'F':
            self->print.format = optarg;
            break;
        case 'S':
            if (!*optarg)
                return cli_usage_error ("sub", "--source needs a name");
            self->source = optarg;
            break;
        case 'r':
            self->rx_time = true;
            break;
        case 'h':
            cli_help (&cli_cmd_sub);
            return -1;
        default:
            return cli_bad_option (&cli_cmd_sub, c, argv);
        }
    }
    if (self->print.format && (self->print.n_fields || self->print.fmt == CLI_FMT_JSON))
        return cli_usage_error ("sub", "--format cannot be combined with --field or --json");
    if (optind >= argc)
        return cli_usage_error ("sub", "missing PATTERN (see --help)");
    if (optind + 1 < argc)
        return cli_usage_error ("sub", "unexpected argument '%s' (see --help)", argv[optind + 1]);
    self->pattern = argv[optind];
    if (!af_topic_pattern_valid (self->pattern))
        return cli_usage_error ("sub", "'%s' is not a valid topic pattern (segments of letters, "
                                "digits, '_', '-'; '*' one segment; '>' last)", self->pattern);
    return 0;
}

/* The live loop: prints until --count, the deadline, Ctrl-C or the broker's
 * loss.  Returns the exit code. */
static int
s_stream (s_sub_t *self, af_bus_t *bus, const cli_ctx_t *ctx, int64_t deadline_ms)
{
    cli_watch_t watch;
    cli_watch_init (&watch, ctx, "sub", self->pattern);
    while (!self->count || self->printed < self->count) {
        /* Short slices, so the watch asks the broker on time. */
        int wait_ms = CLI_SUB_SLICE_MS;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - af_clock_mono_ms ();
            if (left <= 0)
                break;
            if (left < wait_ms)
                wait_ms = (int) left;
        }
        af_msg_t msg;
        int rc = af_bus_recv (bus, &msg, wait_ms);
        if (rc < 0)
            break;               /* Ctrl-C: a normal way to stop */
        if (rc == 0) {
            if (cli_watch_idle (&watch, bus) != 0)
                return CLI_EXIT_FAIL;
            continue;
        }
        cli_watch_saw (&watch);
        /* The snapshot's wider subscription lets more through than asked. */
        if (af_topic_match (self->pattern, msg.topic, strlen (msg.topic)))
            s_emit (self, msg.topic, msg.env, msg.gap);
        af_msg_clear (&msg);
    }
    return CLI_EXIT_OK;
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    s_sub_t self = { .print.fmt = CLI_FMT_HUMAN };
    const char *fields[CLI_SUB_MAX_FIELDS];
    self.print.fields = fields;
    bool snapshot = false;
    int64_t timeout_ms = 0;
    int bad = s_parse (&self, fields, &snapshot, &timeout_ms, argc, argv);
    if (bad)
        return bad < 0 ? CLI_EXIT_OK : bad;
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
    int64_t deadline_ms = timeout_ms > 0 ? af_clock_mono_ms () + timeout_ms : -1;
    int connect_ms = timeout_ms > 0 && timeout_ms < CLI_CONNECT_MS ? (int) timeout_ms
                                                                   : CLI_CONNECT_MS;
    int exit_code = cli_broker_check (bus, ctx, "sub", connect_ms);
    if (exit_code != 0)
        goto done;
    if (af_bus_subscribe (bus, self.pattern) != 0) {
        exit_code = cli_fail ("sub", "cannot subscribe to '%s'", self.pattern);
        goto done;
    }
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
    exit_code = s_stream (&self, bus, ctx, deadline_ms);
done:
    af_bus_destroy (&bus);
    return exit_code;
}
