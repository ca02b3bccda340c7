/*  cmd_record — `autofab record`: write a stream to a journal file.
 *
 *  The file is an af_journal (docs/journal.md), the same format the broker's
 *  historian writes, so `autofab replay` and `sqlite3` read both.  We keep
 *  every message's envelope bytes exactly as the broker relayed them: af_bus
 *  subscribes for us, but af_bus_recv hands out decoded envelopes only, so
 *  the frames are read from the bus's subscriber socket directly.
 */
#include "cli.h"
#include "af_args.h"

#include <czmq.h>
#include <getopt.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "af_clock.h"
#include "af_journal.h"

/* Longest single wait, so Ctrl-C and the batch timer are served promptly. */
#define CLI_RECORD_POLL_MS 200

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_record = {
    .name = "record",
    .summary = "record messages matching a pattern to a journal file (SQLite)",
    .usage = "usage: autofab record PATTERN FILE [-n N] [-d DURATION] [-a | -f]\n"
             "\n"
             "Writes every message whose topic matches PATTERN to FILE, an autofab journal\n"
             "(SQLite, WAL; see docs/journal.md): its topic, header time, receive time,\n"
             "source, session and sequence number, and the envelope bytes exactly as the\n"
             "broker relayed them.  Stops after N messages, S seconds or Ctrl-C, commits,\n"
             "and prints one line: messages, topics, sources, sequence gaps seen, refused.\n"
             "Play it back with `autofab replay FILE`; query it with `sqlite3 FILE`.\n"
             "\n"
             "  -n, --count N        stop after N messages\n"
             "  -d, --duration D     stop after D (30s, 5m …; default: until Ctrl-C)\n"
             "  -a, --append         add to an existing journal instead of refusing it\n"
             "  -f, --force          replace an existing FILE\n"
             "\n"
             "Exits 1 (leaving no new file behind) if the broker does not answer within\n"
             "2 s, and exits 1 after committing what it has if the broker stops answering\n"
             "while the stream is silent; says once on stderr when the broker is up but\n"
             "nothing matches yet.\n",
    .run = s_run,
};

typedef struct {
    const char *pattern;
    const char *path;
    af_journal_t *journal;
    af_seqtrack_t *sources;
    zhashx_t *topics;            /* topic → (void *) 1, to count distinct ones */
    long recorded;
    long limit;                  /* --count; 0: none */
    uint64_t gaps;
    uint64_t refused;            /* not a valid envelope, or wrong frames */
} s_record_t;

/* Keeps one envelope (DATA, LEN bytes) that came on topic T.  Returns 1
 * recorded, 0 refused, -1 on a journal error (already reported). */
static int
s_keep (s_record_t *self, const char *t, size_t t_len, const uint8_t *data, size_t len)
{
    /* Refuse what af_bus would refuse: the whole envelope must decode. */
    Autofab__Envelope *env;
    if (af_envelope_decode (data, len, AF_MAX_MSG_BYTES, &env) != AF_DECODE_OK) {
        self->refused++;
        return 0;
    }
    char stream[AF_STREAM_KEY_MAX];
    size_t stream_len = af_stream_key (stream, sizeof stream, env->header->source,
                                       strlen (env->header->source), t, t_len);
    if (stream_len)
        self->gaps += af_seqtrack_note (self->sources, stream, stream_len, env->header->session,
                                        env->header->seq, len, NULL);
    autofab__envelope__free_unpacked (env, NULL);
    int rc = af_journal_append (self->journal, t, t_len, data, len);
    if (rc < 0) {
        cli_fail ("record", "%s", af_journal_error (self->journal));
        return -1;
    }
    if (rc == 1) {
        self->refused++;
        return 0;
    }
    char key[AF_TOPIC_MAX_BYTES];
    memcpy (key, t, t_len);
    key[t_len] = 0;
    if (!zhashx_lookup (self->topics, key))
        zhashx_insert (self->topics, key, (void *) 1);
    self->recorded++;
    return 1;
}

/* Receives one message if one is waiting.  Returns 1 recorded, 0 nothing
 * waiting or skipped, -1 on a journal error (already reported). */
static int
s_take (s_record_t *self, void *handle)
{
    zmq_msg_t frames[2];
    zmq_msg_init (&frames[0]);
    zmq_msg_init (&frames[1]);
    int result = 0;
    int n = af_recv_frames (handle, frames, 2);
    const char *t = zmq_msg_data (&frames[0]);
    size_t t_len = zmq_msg_size (&frames[0]);
    if (n != 2 || !af_topic_valid (t, t_len)) {
        /* Not two frames, or no topic: not ours to keep. */
        self->refused += n > 0;
        goto done;
    }
    /* ZeroMQ filtered on the literal prefix; the glob's rest is ours. */
    if (!af_topic_match (self->pattern, t, t_len))
        goto done;
    /* An envelope, or a batch of them: each record is kept on its own. */
    af_batch_iter_t it;
    af_body_iter_init (&it, zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]));
    const uint8_t *data;
    size_t len;
    int more;
    while ((more = af_batch_next (&it, &data, &len)) == 1) {
        int rc = s_keep (self, t, t_len, data, len);
        if (rc < 0) {
            result = -1;
            goto done;
        }
        if (rc == 1)
            result = 1;
        if (self->limit && self->recorded >= self->limit)
            break;
    }
    if (more < 0)
        self->refused++;
done:
    zmq_msg_close (&frames[0]);
    zmq_msg_close (&frames[1]);
    return result;
}

/* Removes a journal and its WAL side files; 0 or -1 (errno set). */
static int
s_remove_journal (const char *path)
{
    char side[4096];
    static const char *const s_suffixes[] = { "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof s_suffixes / sizeof s_suffixes[0]; i++)
        if (snprintf (side, sizeof side, "%s%s", path, s_suffixes[i]) < (int) sizeof side)
            unlink (side);
    return unlink (path) == 0 || errno == ENOENT ? 0 : -1;
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option s_options[] = {
        { "count", required_argument, NULL, 'n' },
        { "duration", required_argument, NULL, 'd' },
        { "append", no_argument, NULL, 'a' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    s_record_t self = { 0 };
    long count = 0;
    int64_t duration_ms = 0;
    bool append = false, force = false;
    char why[160];
    int c;
    while ((c = getopt_long (argc, argv, ":hn:d:af", s_options, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (af_parse_long (optarg, 1, 1000000000000L, &count, why, sizeof why) != 0)
                return cli_usage_error ("record", "--count: %s", why);
            break;
        case 'd':
            if (cli_parse_duration_ms (optarg, 1, 1000000000000LL, &duration_ms, why,
                                       sizeof why) != 0)
                return cli_usage_error ("record", "--duration: %s", why);
            break;
        case 'a':
            append = true;
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            return cli_help (&cli_cmd_record);
        default:
            return cli_bad_option (&cli_cmd_record, c, argv);
        }
    }
    if (argc - optind < 2)
        return cli_usage_error ("record", "want PATTERN and FILE (see --help)");
    if (argc - optind > 2)
        return cli_usage_error ("record", "unexpected argument '%s' (see --help)",
                                argv[optind + 2]);
    self.pattern = argv[optind];
    self.path = argv[optind + 1];
    if (!af_topic_pattern_valid (self.pattern))
        return cli_usage_error ("record", "'%s' is not a valid topic pattern (segments of "
                                "letters, digits, '_', '-'; '*' one segment; '>' last)",
                                self.pattern);

    if (append && force)
        return cli_usage_error ("record", "--append and --force exclude each other");
    bool existed = access (self.path, F_OK) == 0;
    /* A journal is SQLite in WAL mode: replace its side files too. */
    if (force && existed && s_remove_journal (self.path) != 0)
        return cli_fail ("record", "cannot replace %s: %s", self.path, strerror (errno));
    existed = existed && !force;
    /* The file first: a bad path is reported before we touch the network. */
    char err[600];
    self.journal = af_journal_open (self.path, append ? AF_JOURNAL_APPEND : AF_JOURNAL_WRITE,
                                    err, sizeof err);
    if (!self.journal)
        return cli_fail ("record", "%s", err);
    int exit_code = CLI_EXIT_OK;
    af_bus_t *bus = cli_bus_open (ctx, "record", NULL);
    self.sources = af_seqtrack_new ();
    self.topics = zhashx_new ();
    if (!bus || !self.sources || !self.topics) {
        exit_code = CLI_EXIT_FAIL;
        goto done;
    }
    if ((exit_code = cli_broker_check (bus, ctx, "record", CLI_CONNECT_MS)) != 0) {
        /* Nothing was recorded: leave no empty journal behind, so the same
         * command works once the broker is there. */
        if (!existed) {
            af_journal_close (&self.journal);
            s_remove_journal (self.path);
        }
        goto done;
    }
    if (af_journal_set_meta (self.journal, "pattern", self.pattern) != 0
        || af_journal_set_meta (self.journal, "factory", af_bus_factory (bus)) != 0
        || af_journal_set_meta (self.journal, "broker", cli_broker_endpoint (ctx)) != 0
        || af_journal_set_meta (self.journal, "writer", "autofab record " CLI_VERSION) != 0
        || af_journal_flush (self.journal) != 0) {
        exit_code = cli_fail ("record", "%s", af_journal_error (self.journal));
        goto done;
    }
    void *handle;
    if (af_bus_subscribe (bus, self.pattern) != 0 || !(handle = af_bus_sub_handle (bus))) {
        exit_code = cli_fail ("record", "cannot subscribe to '%s' at %s", self.pattern,
                              cli_broker_endpoint (ctx));
        goto done;
    }
    int64_t deadline_ms = duration_ms > 0 ? af_clock_mono_ms () + duration_ms : -1;
    self.limit = count;
    cli_watch_t watch;
    cli_watch_init (&watch, ctx, "record", self.pattern);
    while (!zsys_interrupted && (!count || self.recorded < count)) {
        int rc = s_take (&self, handle);
        if (rc < 0) {
            exit_code = CLI_EXIT_FAIL;
            break;
        }
        if (rc > 0) {
            cli_watch_saw (&watch);
            continue;
        }
        if (cli_watch_idle (&watch, bus) != 0) {
            exit_code = CLI_EXIT_FAIL;
            break;
        }
        /* Nothing waiting: commit a due batch, then wait for more. */
        int due_ms = af_journal_tick (self.journal);
        if (due_ms == -2) {
            exit_code = cli_fail ("record", "%s", af_journal_error (self.journal));
            break;
        }
        int wait_ms = CLI_RECORD_POLL_MS;
        if (due_ms >= 0 && due_ms < wait_ms)
            wait_ms = due_ms;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - af_clock_mono_ms ();
            if (left <= 0)
                break;
            if (left < wait_ms)
                wait_ms = (int) left;
        }
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, wait_ms) < 0 && errno == EINTR)
            break;               /* Ctrl-C: a normal way to stop */
    }
    if (af_journal_flush (self.journal) != 0 && exit_code == CLI_EXIT_OK)
        exit_code = cli_fail ("record", "%s", af_journal_error (self.journal));
    if (exit_code == CLI_EXIT_OK) {
        size_t n_sources = af_seqtrack_source_count (self.sources);
        printf ("recorded %ld message%s on %zu topic%s from %zu source%s (%llu gap%s, %llu "
                "refused) to %s\n",
                self.recorded, self.recorded == 1 ? "" : "s", zhashx_size (self.topics),
                zhashx_size (self.topics) == 1 ? "" : "s", n_sources, n_sources == 1 ? "" : "s",
                (unsigned long long) self.gaps, self.gaps == 1 ? "" : "s",
                (unsigned long long) self.refused, self.path);
    }
done:
    zhashx_destroy (&self.topics);
    af_seqtrack_destroy (&self.sources);
    af_bus_destroy (&bus);
    af_journal_close (&self.journal);
    return exit_code;
}
