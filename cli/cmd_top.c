/*  cmd_top — `autofab top`: live message rates per topic prefix, like
 *  `ros2 topic hz/bw`, with the broker's drop and refusal counters.
 */
#include "cli.h"
#include "af_args.h"

#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "af_clock.h"

/* Most distinct prefixes shown; the rest are counted under "(other)". */
#define CLI_TOP_MAX_ROWS 512
/* How long to wait for the broker's counters each interval. */
#define CLI_TOP_STATS_MS 500

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_top = {
    .name = "top",
    .summary = "live msgs/s, KB/s and gaps per topic prefix, and broker drops",
    .usage = "usage: autofab top [PATTERN] [-i DURATION] [-d N] [-o] [-s KEY]\n"
             "\n"
             "Subscribes to PATTERN (default '>', everything) and shows, per topic\n"
             "prefix of N segments, messages per second, kilobytes per second and\n"
             "sequence gaps, then the broker's drop and refusal counters.  On a\n"
             "terminal the table is redrawn in place; otherwise one table per interval\n"
             "is printed as plain lines.\n"
             "\n"
             "  -i, --interval D   time between updates (default 1s; 500ms, 2s …)\n"
             "  -d, --depth N      topic segments per row (default 4)\n"
             "  -o, --once         print one table after one interval and exit (exit 1\n"
             "                     if the broker does not answer)\n"
             "  -s, --sort KEY     order rows by name (default), rate, bytes, gaps or total\n"
             "                     (all but name: largest first)\n"
             "\n"
             "Exits 1 if the broker does not answer within 2 s at the start.\n",
    .run = s_run,
};

typedef struct {
    char prefix[AF_TOPIC_MAX_BYTES];
    uint64_t msgs, bytes, gaps;          /* this interval */
    uint64_t total_msgs;
} s_row_t;

typedef struct {
    s_row_t *rows;
    size_t n_rows;
    s_row_t other;
} s_table_t;

static s_row_t *
s_row (s_table_t *self, const char *prefix)
{
    for (size_t i = 0; i < self->n_rows; i++)
        if (strcmp (self->rows[i].prefix, prefix) == 0)
            return &self->rows[i];
    if (self->n_rows == CLI_TOP_MAX_ROWS)
        return &self->other;
    s_row_t *row = &self->rows[self->n_rows++];
    memset (row, 0, sizeof *row);
    snprintf (row->prefix, sizeof row->prefix, "%s", prefix);
    return row;
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp (((const s_row_t *) a)->prefix, ((const s_row_t *) b)->prefix);
}

/* Largest first; ties by name so the order is stable between redraws. */
#define S_BY_FIELD(name, field)                                                   \
    static int name (const void *a, const void *b)                                \
    {                                                                             \
        uint64_t x = ((const s_row_t *) a)->field, y = ((const s_row_t *) b)->field; \
        return x != y ? (x < y ? 1 : -1) : s_by_name (a, b);                      \
    }
S_BY_FIELD (s_by_rate, msgs)
S_BY_FIELD (s_by_bytes, bytes)
S_BY_FIELD (s_by_gaps, gaps)
S_BY_FIELD (s_by_total, total_msgs)

typedef int (s_compare_fn) (const void *, const void *);
static const struct {
    const char *key;
    s_compare_fn *fn;
} s_sort_keys[] = { { "name", s_by_name }, { "rate", s_by_rate }, { "bytes", s_by_bytes },
                    { "gaps", s_by_gaps }, { "total", s_by_total } };

static void
s_print_row (const s_row_t *row, double interval_s)
{
    printf ("%-40s %10.1f %10.2f %8" PRIu64 " %12" PRIu64 "\n", row->prefix,
            (double) row->msgs / interval_s, (double) row->bytes / 1024.0 / interval_s, row->gaps,
            row->total_msgs);
}

/* Substrings that mark a broker counter as a drop or a refusal.  The broker
 * names its counters after what happened (relay_too_large, cache_full …);
 * matching words keeps new counters visible without a new release of this
 * tool. */
static const char *const s_drop_words[] = { "drop", "send_failed", "full", "timed_out",
                                            "unavailable", "no_worker" };
static const char *const s_refusal_words[] = { "refus", "bad", "too_large", "malformed",
                                               "no_header", "schema", "unknown", "duplicate" };

static bool
s_has_word (const char *name, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strstr (name, words[i]))
            return true;
    return false;
}

/* One line: relayed total, drops and refusals summed, then the non-zero
 * drop and refusal counters by name (all counters would drown the table). */
static int
s_print_broker (af_bus_t *bus)
{
    Autofab__Control *ctl = NULL;
    if (af_bus_stats (bus, &ctl, CLI_TOP_STATS_MS) != 0 || !ctl || !ctl->stats_reply) {
        printf ("broker: no answer to a stats request within %d ms\n", CLI_TOP_STATS_MS);
        if (ctl)
            autofab__control__free_unpacked (ctl, NULL);
        return -1;
    }
    const Autofab__StatsReply *stats = ctl->stats_reply;
    uint64_t relayed = 0, dropped = 0, refused = 0;
    char details[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < stats->n_counters && stats->counters; i++) {
        const Autofab__Counter *counter = stats->counters[i];
        if (!counter || !counter->name)
            continue;
        bool drop = s_has_word (counter->name, s_drop_words,
                                sizeof s_drop_words / sizeof s_drop_words[0]);
        bool refusal = !drop && s_has_word (counter->name, s_refusal_words,
                                            sizeof s_refusal_words / sizeof s_refusal_words[0]);
        if (strcmp (counter->name, "relayed_msgs") == 0)
            relayed = counter->value;
        dropped += drop ? counter->value : 0;
        refused += refusal ? counter->value : 0;
        if ((drop || refusal) && counter->value && used < sizeof details) {
            char name[64];
            cli_sanitize (counter->name, name, sizeof name);
            used += (size_t) snprintf (details + used, sizeof details - used, " %s=%" PRIu64,
                                       name, counter->value);
        }
    }
    printf ("broker: relayed_msgs=%" PRIu64 " dropped=%" PRIu64 " refused=%" PRIu64 "%s%s%s\n",
            relayed, dropped, refused, used ? " (" : "", used ? details + 1 : "", used ? ")" : "");
    autofab__control__free_unpacked (ctl, NULL);
    return 0;
}

/* Prints the table; -1 if the broker did not answer its stats request. */
static int
s_print_table (s_table_t *self, af_bus_t *bus, double interval_s, bool tty, s_compare_fn *order)
{
    if (tty)
        fputs ("\033[H\033[2J", stdout);
    else {
        time_t now = time (NULL);
        struct tm tm;
        gmtime_r (&now, &tm);
        printf ("--- %02d:%02d:%02dZ interval %.1fs\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
                interval_s);
    }
    printf ("%-40s %10s %10s %8s %12s\n", "PREFIX", "MSGS/S", "KB/S", "GAPS", "TOTAL");
    qsort (self->rows, self->n_rows, sizeof self->rows[0], order);
    for (size_t i = 0; i < self->n_rows; i++)
        s_print_row (&self->rows[i], interval_s);
    if (self->other.total_msgs)
        s_print_row (&self->other, interval_s);
    if (!self->n_rows)
        printf ("(no messages)\n");
    int rc = s_print_broker (bus);
    fflush (stdout);
    for (size_t i = 0; i < self->n_rows; i++)
        self->rows[i].msgs = self->rows[i].bytes = self->rows[i].gaps = 0;
    self->other.msgs = self->other.bytes = self->other.gaps = 0;
    return rc;
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option s_options[] = {
        { "interval", required_argument, NULL, 'i' },
        { "depth", required_argument, NULL, 'd' },
        { "once", no_argument, NULL, 'o' },
        { "sort", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int64_t interval_ms = 1000;
    long depth = 4;
    bool once = false;
    s_compare_fn *order = s_by_name;
    char why[160];
    int c;
    while ((c = getopt_long (argc, argv, ":hi:d:os:", s_options, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (cli_parse_duration_ms (optarg, 50, 3600000, &interval_ms, why, sizeof why) != 0)
                return cli_usage_error ("top", "--interval: %s", why);
            break;
        case 's': {
            size_t k = 0, n = sizeof s_sort_keys / sizeof s_sort_keys[0];
            while (k < n && strcmp (s_sort_keys[k].key, optarg) != 0)
                k++;
            if (k == n)
                return cli_usage_error ("top", "--sort '%s' must be name, rate, bytes, gaps or "
                                        "total", optarg);
            order = s_sort_keys[k].fn;
            break;
        }
        case 'd':
            if (af_parse_long (optarg, 1, 32, &depth, why, sizeof why) != 0)
                return cli_usage_error ("top", "--depth: %s", why);
            break;
        case 'o':
            once = true;
            break;
        case 'h':
            return cli_help (&cli_cmd_top);
        default:
            return cli_bad_option (&cli_cmd_top, c, argv);
        }
    }
    const char *pattern = optind < argc ? argv[optind] : ">";
    if (optind + 1 < argc)
        return cli_usage_error ("top", "unexpected argument '%s' (see --help)", argv[optind + 1]);
    if (!af_topic_pattern_valid (pattern))
        return cli_usage_error ("top", "'%s' is not a valid topic pattern", pattern);

    s_table_t table = { .rows = calloc (CLI_TOP_MAX_ROWS, sizeof (s_row_t)) };
    snprintf (table.other.prefix, sizeof table.other.prefix, "(other)");
    if (!table.rows)
        return cli_fail ("top", "out of memory");
    af_bus_t *bus = cli_bus_open (ctx, "top", NULL);
    if (!bus) {
        free (table.rows);
        return CLI_EXIT_FAIL;
    }
    int exit_code = cli_broker_check (bus, ctx, "top", CLI_CONNECT_MS);
    if (exit_code != 0)
        goto done;
    if (af_bus_subscribe (bus, pattern) != 0) {
        exit_code = cli_fail ("top", "cannot subscribe to '%s'", pattern);
        goto done;
    }
    bool tty = isatty (STDOUT_FILENO);
    int64_t start_ms = af_clock_mono_ms ();
    int64_t next_ms = start_ms + interval_ms;
    while (!zsys_interrupted) {
        int64_t left = next_ms - af_clock_mono_ms ();
        if (left <= 0) {
            int64_t now_ms = af_clock_mono_ms ();
            int rc = s_print_table (&table, bus, (double) (now_ms - start_ms) / 1000.0, tty, order);
            if (once) {
                if (rc != 0)
                    exit_code = cli_fail ("top", "the broker at %s did not answer a stats "
                                          "request within %d ms", cli_broker_endpoint (ctx),
                                          CLI_TOP_STATS_MS);
                break;
            }
            start_ms = now_ms;
            next_ms = now_ms + interval_ms;
            continue;
        }
        af_msg_t msg;
        int rc = af_bus_recv (bus, &msg, (int) left);
        if (rc < 0)
            break;
        if (rc == 0)
            continue;
        char head[AF_TOPIC_MAX_BYTES];
        cli_topic_head (msg.topic, (int) depth, head, sizeof head);
        s_row_t *row = s_row (&table, head);
        row->msgs++;
        row->total_msgs++;
        row->bytes += msg.bytes + strlen (msg.topic);
        row->gaps += msg.gap;
        af_msg_clear (&msg);
    }
done:
    af_bus_destroy (&bus);
    free (table.rows);
    return exit_code;
}
