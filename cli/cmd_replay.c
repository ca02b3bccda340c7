/*  cmd_replay — `autofab replay`: play a journal back onto a broker.
 *
 *  Each recorded message is published on its original topic with its
 *  original envelope bytes, so subscribers see the original stream: the
 *  original source, session and sequence numbers (docs/journal.md says what
 *  that means for gap detection and for --loop).  Pacing follows the
 *  recording's receive times, one clock for the whole file, scaled by
 *  --speed; the header times are the senders' clocks, possibly simulated.
 */
#include "cli.h"
#include "af_args.h"

#include <czmq.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "af_clock.h"
#include "af_journal.h"

/* How long we wait for the broker's ingress to accept us, ms. */
#define CLI_REPLAY_READY_MS 3000
/* Time for the last messages to leave before the socket closes, ms. */
#define CLI_REPLAY_FLUSH_MS 200
/* Longest single sleep, so that Ctrl-C is served promptly, ms. */
#define CLI_REPLAY_NAP_MS 100
/* How long a full publisher queue may block the replay before it gives up, ms. */
#define CLI_REPLAY_STALL_MS 10000

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_replay = {
    .name = "replay",
    .summary = "publish a recorded journal file onto the broker, as it was recorded",
    .usage = "usage: autofab replay FILE [-s X | -m] [-p PATTERN] [-l]\n"
             "\n"
             "Publishes the messages of FILE (from `autofab record` or the broker's\n"
             "journal; docs/journal.md) on their original topics, with their original\n"
             "envelope bytes: subscribers see the original sources and sequence numbers.\n"
             "The pauses between messages are the recorded ones divided by X.\n"
             "\n"
             "  -s, --speed X      play X times as fast (default 1; 0.5 is half speed)\n"
             "  -m, --max          as fast as possible, no pauses\n"
             "  -p, --pattern P    only messages whose topic matches P\n"
             "  -l, --loop         start again at the end, until Ctrl-C (subscribers that\n"
             "                     drop repeated sequence numbers see only the first pass)\n"
             "\n"
             "Exits 1, naming the endpoint, if the broker does not answer within 2 s.\n",
    .run = s_run,
};

typedef struct {
    double speed;                /* 0: --max */
    bool loop;
    const char *pattern;
    long published;
    uint64_t skipped;            /* corrupt rows */
    zhashx_t *topics;
} s_replay_t;

/* Sleeps until the monotonic time TARGET_NS; false if interrupted. */
static bool
s_sleep_until (int64_t target_ns)
{
    while (!zsys_interrupted) {
        struct timespec now;
        clock_gettime (CLOCK_MONOTONIC, &now);
        int64_t left = target_ns - ((int64_t) now.tv_sec * 1000000000LL + now.tv_nsec);
        if (left <= 0)
            return true;
        if (left > CLI_REPLAY_NAP_MS * 1000000LL)
            left = CLI_REPLAY_NAP_MS * 1000000LL;
        struct timespec nap = { left / 1000000000LL, left % 1000000000LL };
        nanosleep (&nap, NULL);
    }
    return false;
}

static int64_t
s_mono_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* Publishes one message, waiting while the publisher's queue is full: a
 * replay should lose nothing, so at the high-water mark (af_bus fails the
 * send rather than dropping it) we back off and try again.  0, or -1 if
 * nothing could be sent for CLI_REPLAY_STALL_MS or we were interrupted. */
static int
s_publish (af_bus_t *bus, const void *const frames[2], const size_t lens[2])
{
    int64_t give_up_ms = -1;
    while (af_bus_publish_frames (bus, frames, lens, 2) != 0) {
        int64_t now_ms = af_clock_mono_ms ();
        if (give_up_ms < 0)
            give_up_ms = now_ms + CLI_REPLAY_STALL_MS;
        if (now_ms >= give_up_ms || zsys_interrupted)
            return -1;
        zclock_sleep (1);
    }
    return 0;
}

/* One pass over the file.  0 done, 1 interrupted, -1 failed (reported). */
static int
s_pass (s_replay_t *self, af_journal_t *journal, af_bus_t *bus)
{
    af_journal_iter_t *it = af_journal_iter_new (journal, self->pattern, 0, 0);
    if (!it) {
        cli_fail ("replay", "%s", af_journal_error (journal));
        return -1;
    }
    int result = 0;
    int64_t start_ns = s_mono_ns ();
    double offset_ns = 0;        /* where in the recording we are, scaled */
    uint64_t prev_ns = 0;
    bool first = true;
    while (true) {
        int rc = af_journal_iter_next (it, NULL, NULL, NULL, NULL);
        if (rc == 0)
            break;
        if (rc < 0) {
            cli_fail ("replay", "%s", af_journal_error (journal));
            result = -1;
            break;
        }
        const af_journal_row_t *row = af_journal_iter_row (it);
        uint64_t at_ns = row->recv_ns ? row->recv_ns : row->t_ns;
        if (self->speed > 0) {
            /* Time never runs backwards here: an appended file may restart
             * its clock, and that must not stall or rush the replay. */
            if (!first && at_ns > prev_ns)
                offset_ns += (double) (at_ns - prev_ns) / self->speed;
            prev_ns = at_ns;
            first = false;
            if (!s_sleep_until (start_ns + (int64_t) offset_ns)) {
                result = 1;
                break;
            }
        }
        else if (zsys_interrupted) {
            result = 1;
            break;
        }
        const void *frames[2] = { row->topic, row->body };
        size_t lens[2] = { row->topic_len, row->len };
        if (s_publish (bus, frames, lens) != 0) {
            cli_fail ("replay", "the broker took nothing for %d ms (message %ld, on %s)",
                      CLI_REPLAY_STALL_MS, self->published + 1, row->topic);
            result = -1;
            break;
        }
        self->published++;
        if (!zhashx_lookup (self->topics, row->topic))
            zhashx_insert (self->topics, row->topic, (void *) 1);
    }
    self->skipped += af_journal_iter_skipped (it);
    af_journal_iter_destroy (&it);
    return result;
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option s_options[] = {
        { "speed", required_argument, NULL, 's' },
        { "max", no_argument, NULL, 'm' },
        { "pattern", required_argument, NULL, 'p' },
        { "loop", no_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    s_replay_t self = { .speed = 1.0 };
    bool speed_given = false, max = false;
    char why[128];
    int c;
    while ((c = getopt_long (argc, argv, ":hs:mp:l", s_options, NULL)) != -1) {
        switch (c) {
        case 's':
            if (af_parse_double (optarg, 1e-6, 1e9, &self.speed, why, sizeof why) != 0)
                return cli_usage_error ("replay", "--speed: %s", why);
            speed_given = true;
            break;
        case 'm':
            max = true;
            break;
        case 'p':
            self.pattern = optarg;
            break;
        case 'l':
            self.loop = true;
            break;
        case 'h':
            return cli_help (&cli_cmd_replay);
        default:
            return cli_bad_option (&cli_cmd_replay, c, argv);
        }
    }
    if (speed_given && max)
        return cli_usage_error ("replay", "give --speed or --max, not both");
    if (max)
        self.speed = 0;
    if (optind >= argc)
        return cli_usage_error ("replay", "missing FILE (see --help)");
    if (optind + 1 < argc)
        return cli_usage_error ("replay", "unexpected argument '%s' (see --help)",
                                argv[optind + 1]);
    if (self.pattern && !af_topic_pattern_valid (self.pattern))
        return cli_usage_error ("replay", "--pattern '%s' is not a valid topic pattern",
                                self.pattern);
    const char *path = argv[optind];
    char err[600];
    af_journal_t *journal = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    if (!journal)
        return cli_fail ("replay", "%s", err);
    int exit_code = CLI_EXIT_OK;
    self.topics = zhashx_new ();
    af_bus_t *bus = cli_bus_open (ctx, "replay", NULL);
    if (!bus || !self.topics) {
        exit_code = CLI_EXIT_FAIL;
        goto done;
    }
    if ((exit_code = cli_broker_check (bus, ctx, "replay", CLI_CONNECT_MS)) != 0)
        goto done;
    /* Without this the first messages vanish: ZeroMQ drops what is sent
     * before the broker's subscription has reached us. */
    if (af_bus_wait_ready (bus, CLI_REPLAY_READY_MS) != 0) {
        exit_code = cli_fail ("replay", "the broker's ingress at %s did not accept us within "
                              "%d ms", cli_broker_endpoint (ctx), CLI_REPLAY_READY_MS);
        goto done;
    }
    int64_t start_ms = af_clock_mono_ms ();
    int rc;
    do {
        long before = self.published;
        rc = s_pass (&self, journal, bus);
        /* A file with nothing to play would loop without end. */
        if (self.published == before)
            break;
    } while (rc == 0 && self.loop);
    if (rc < 0)
        exit_code = CLI_EXIT_FAIL;
    zclock_sleep (CLI_REPLAY_FLUSH_MS);
    if (exit_code == CLI_EXIT_OK)
        printf ("replayed %ld message%s on %zu topic%s from %s in %.3f s (%llu corrupt row%s "
                "skipped)\n", self.published, self.published == 1 ? "" : "s",
                zhashx_size (self.topics), zhashx_size (self.topics) == 1 ? "" : "s", path,
                (double) (af_clock_mono_ms () - start_ms) / 1000.0,
                (unsigned long long) self.skipped, self.skipped == 1 ? "" : "s");
done:
    zhashx_destroy (&self.topics);
    af_bus_destroy (&bus);
    af_journal_close (&journal);
    return exit_code;
}
