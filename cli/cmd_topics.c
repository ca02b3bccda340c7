/*  cmd_topics — `autofab topics`: the live topics, with rates and kinds,
 *  like `ros2 topic list -v`.
 *
 *  The broker keeps no list of topics, only a last-value cache; what is
 *  live is what flows, so we listen for a while and count.  Every topic
 *  with a cached value but no traffic in the window is shown too (rate 0),
 *  so a topic whose only publisher died is not invisible.
 */
#include "cli.h"

#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "af_clock.h"

#define CLI_TOPICS_DEFAULT_MS 2000
/* Most topics listed; more are counted and said. */
#define CLI_TOPICS_MAX 4096

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_topics = {
    .name = "topics",
    .summary = "list live topics with message rates, kinds and sources",
    .usage = "usage: autofab topics [PATTERN] [-d DURATION] [-j] [--no-cache]\n"
             "\n"
             "Listens to PATTERN (default '>', everything) for DURATION and lists every\n"
             "topic seen: messages per second, kilobytes per second, payload kind (the\n"
             "type name of a typed body), number of sources and the last source.  Topics\n"
             "that only have a value in the broker's last-value cache are listed with\n"
             "rate 0 (their publisher may be gone).\n"
             "\n"
             "  -d, --duration D   how long to listen (default 2s; 500ms, 1m …)\n"
             "  -j, --json         one JSON object per topic and line\n"
             "      --no-cache     do not ask the cache, list only what flows\n",
    .run = s_run,
};

typedef struct {
    char topic[AF_TOPIC_MAX_BYTES];
    char kind[64];
    char source[64];
    uint64_t msgs, bytes;
    unsigned n_sources;
    bool cached;
} s_topic_t;

typedef struct {
    zhashx_t *topics;            /* topic → s_topic_t (owned) */
    zhashx_t *streams;           /* "topic\x1fsource" → 1, to count sources */
    uint64_t dropped;            /* topics beyond CLI_TOPICS_MAX */
} s_topics_t;

static void
s_kind (const Autofab__Envelope *env, char *out, size_t out_len)
{
    snprintf (out, out_len, "-");
    if (!env)
        return;
    if (env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_TYPED && env->typed && env->typed->type)
        cli_sanitize (env->typed->type, out, out_len);
    else {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field (
            &autofab__envelope__descriptor, (unsigned) env->payload_case);
        if (f)
            snprintf (out, out_len, "%s", f->name);
    }
}

static s_topic_t *
s_note (s_topics_t *self, const char *topic, const Autofab__Envelope *env)
{
    s_topic_t *row = zhashx_lookup (self->topics, topic);
    if (!row) {
        if (zhashx_size (self->topics) >= CLI_TOPICS_MAX) {
            self->dropped++;
            return NULL;
        }
        row = calloc (1, sizeof *row);
        if (!row)
            return NULL;
        snprintf (row->topic, sizeof row->topic, "%s", topic);
        zhashx_insert (self->topics, topic, row);
    }
    s_kind (env, row->kind, sizeof row->kind);
    const char *source = env && env->header && env->header->source ? env->header->source : "";
    cli_sanitize (source, row->source, sizeof row->source);
    char key[AF_TOPIC_MAX_BYTES + 80];
    snprintf (key, sizeof key, "%s\x1f%s", topic, row->source);
    if (!zhashx_lookup (self->streams, key)) {
        zhashx_insert (self->streams, key, (void *) 1);
        row->n_sources++;
    }
    return row;
}

static void
s_on_cached (const char *topic, const Autofab__Envelope *env, void *arg)
{
    s_topic_t *row = s_note (arg, topic, env);
    if (row)
        row->cached = true;
}

static int
s_compare (const void *a, const void *b)
{
    return strcmp ((*(s_topic_t *const *) a)->topic, (*(s_topic_t *const *) b)->topic);
}

static void
s_print (s_topics_t *self, bool json, double window_s)
{
    size_t n = zhashx_size (self->topics);
    s_topic_t **rows = calloc (n ? n : 1, sizeof *rows);
    if (!rows)
        return;
    size_t i = 0;
    for (s_topic_t *row = zhashx_first (self->topics); row; row = zhashx_next (self->topics))
        rows[i++] = row;
    qsort (rows, n, sizeof *rows, s_compare);
    if (!json)
        printf ("%-44s %9s %9s %-24s %7s %s\n", "TOPIC", "MSGS/S", "KB/S", "KIND", "SOURCES",
                "LAST SOURCE");
    for (i = 0; i < n; i++) {
        const s_topic_t *r = rows[i];
        double rate = (double) r->msgs / window_s, kbps = (double) r->bytes / 1024.0 / window_s;
        if (json) {
            fputs ("{\"topic\":", stdout);
            cli_print_json_string (stdout, r->topic, strlen (r->topic));
            printf (",\"msgs_per_s\":%.3f,\"kb_per_s\":%.3f,\"msgs\":%" PRIu64 ",\"kind\":", rate,
                    kbps, r->msgs);
            cli_print_json_string (stdout, r->kind, strlen (r->kind));
            printf (",\"sources\":%u,\"last_source\":", r->n_sources);
            cli_print_json_string (stdout, r->source, strlen (r->source));
            printf (",\"cached\":%s}\n", r->cached ? "true" : "false");
        }
        else
            printf ("%-44s %9.1f %9.2f %-24s %7u %s\n", r->topic, rate, kbps, r->kind,
                    r->n_sources, r->source);
    }
    if (!json && !n)
        printf ("(no topics)\n");
    if (self->dropped)
        fprintf (stderr, "%s topics: more than %d topics; %" PRIu64 " messages on others not "
                 "listed\n", CLI_PROGRAM, CLI_TOPICS_MAX, self->dropped);
    free (rows);
}

static void
s_free_row (void **item)
{
    free (*item);
    *item = NULL;
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option s_options[] = {
        { "duration", required_argument, NULL, 'd' },
        { "timeout", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { "no-cache", no_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int64_t duration_ms = CLI_TOPICS_DEFAULT_MS;
    bool json = false, cache = true;
    char why[160];
    int c;
    while ((c = getopt_long (argc, argv, ":hd:t:j", s_options, NULL)) != -1) {
        switch (c) {
        case 'd':
        case 't':
            if (cli_parse_duration_ms (optarg, 50, 86400000, &duration_ms, why, sizeof why) != 0)
                return cli_usage_error ("topics", "--duration: %s", why);
            break;
        case 'j':
            json = true;
            break;
        case 'C':
            cache = false;
            break;
        case 'h':
            return cli_help (&cli_cmd_topics);
        default:
            return cli_bad_option (&cli_cmd_topics, c, argv);
        }
    }
    const char *pattern = optind < argc ? argv[optind] : ">";
    if (optind + 1 < argc)
        return cli_usage_error ("topics", "unexpected argument '%s' (see --help)",
                                argv[optind + 1]);
    if (!af_topic_pattern_valid (pattern))
        return cli_usage_error ("topics", "'%s' is not a valid topic pattern", pattern);

    af_bus_t *bus = cli_bus_open (ctx, "topics", NULL);
    if (!bus)
        return CLI_EXIT_FAIL;
    s_topics_t self = { .topics = zhashx_new (), .streams = zhashx_new () };
    int exit_code = CLI_EXIT_OK;
    if (!self.topics || !self.streams) {
        exit_code = cli_fail ("topics", "out of memory");
        goto done;
    }
    zhashx_set_destructor (self.topics, s_free_row);
    if ((exit_code = cli_broker_check (bus, ctx, "topics", CLI_CONNECT_MS)) != 0)
        goto done;
    if (af_bus_subscribe (bus, pattern) != 0) {
        exit_code = cli_fail ("topics", "cannot subscribe to '%s'", pattern);
        goto done;
    }
    char prefix[AF_TOPIC_MAX_BYTES];
    size_t prefix_len = af_topic_prefix (pattern, prefix, sizeof prefix);
    if (prefix_len && prefix[prefix_len - 1] == '.')
        prefix[--prefix_len] = 0;
    /* The cache answers by whole segments; "" asks for everything. */
    if (cache && af_bus_snapshot (bus, prefix, s_on_cached, &self, CLI_CONNECT_MS) < 0)
        fprintf (stderr, "%s topics: no snapshot from the broker; listing live traffic only\n",
                 CLI_PROGRAM);
    int64_t start_ms = af_clock_mono_ms (), end_ms = start_ms + duration_ms;
    while (!zsys_interrupted) {
        int64_t left = end_ms - af_clock_mono_ms ();
        if (left <= 0)
            break;
        af_msg_t msg;
        int rc = af_bus_recv (bus, &msg, (int) left);
        if (rc < 0)
            break;
        if (rc == 0)
            continue;
        if (af_topic_match (pattern, msg.topic, strlen (msg.topic))) {
            s_topic_t *row = s_note (&self, msg.topic, msg.env);
            if (row) {
                row->msgs++;
                row->bytes += msg.bytes + strlen (msg.topic);
            }
        }
        af_msg_clear (&msg);
    }
    double window_s = (double) (af_clock_mono_ms () - start_ms) / 1000.0;
    s_print (&self, json, window_s > 0.001 ? window_s : 0.001);
done:
    zhashx_destroy (&self.topics);
    zhashx_destroy (&self.streams);
    af_bus_destroy (&bus);
    return exit_code;
}
