/*  Integration tests: `autofab record` and `autofab replay` with real
 *  processes.  A demo agent publishes through broker A; `record` writes N
 *  messages to a journal; `replay` plays the file onto broker B, where a
 *  subscriber gets the same topics and the same envelope bytes (original
 *  sources and sequence numbers).  And bad files get one clear line.  */
#include <criterion/criterion.h>
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_journal.h"
#include "af_test.h"

#define HB_MS 300
/* Messages recorded in the round trip. */
#define S_N 60

static aft_broker_t s_a, s_b;
static char s_dir[256];

static void
s_setup (void)
{
    aft_zsys_init ();
    cr_assert (aft_tmpdir (s_dir, sizeof s_dir, "af-record"));
}

static void
s_teardown (void)
{
    aft_broker_stop (&s_a);
    aft_broker_stop (&s_b);
    cr_assert (aft_rmtree (s_dir));
}

/* Runs `autofab ARGS…` to completion; its exit code, and its output (stdout
 * and stderr) in OUT if not NULL. */
static int
s_autofab (const char *const argv[], int timeout_ms, char *out, size_t out_len)
{
    pid_t pid = aft_spawn ("autofab", argv);
    int rc = aft_wait_exit (pid, timeout_ms);
    if (rc < 0) {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
    }
    if (out && out_len) {
        out[0] = 0;
        char log[512];
        const char *tmp = getenv ("TMPDIR");
        snprintf (log, sizeof log, "%s/autofab-test-%d-autofab.log", tmp ? tmp : "/tmp",
                  (int) pid);
        FILE *f = fopen (log, "r");
        if (f) {
            size_t n = fread (out, 1, out_len - 1, f);
            out[n] = 0;
            fclose (f);
        }
    }
    return rc;
}


static pid_t
s_demo (const aft_broker_t *broker, const char *name)
{
    char hb[16];
    snprintf (hb, sizeof hb, "%d", HB_MS);
    const char *argv[] = { "--broker", broker->control, "--name", name, "--cell", "cell1",
                           "--service", name, "--heartbeat-ms", hb, "--rate-hz", "50", NULL };
    return aft_spawn ("autofab-demo-agent", argv);
}

TestSuite (record, .init = s_setup, .fini = s_teardown, .timeout = 90);


/* Last sequence number seen per topic: senders number each topic's stream. */
typedef struct {
    char topic[AF_TOPIC_MAX_BYTES];
    uint64_t last;
} s_stream_t;

static uint64_t *
s_stream_last (s_stream_t *streams, int *n, int max, const char *topic)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp (streams[i].topic, topic))
            return &streams[i].last;
    cr_assert_lt (*n, max, "too many topics");
    snprintf (streams[*n].topic, sizeof streams[*n].topic, "%s", topic);
    streams[*n].last = 0;
    return &streams[(*n)++].last;
}

Test (record, record_then_replay_onto_another_broker)
{
    cr_assert (aft_broker_start (&s_a, 0, HB_MS), "broker A did not start");
    cr_assert (aft_broker_start (&s_b, 0, HB_MS), "broker B did not start");
    pid_t agent = s_demo (&s_a, "press1");
    char path[300], count[16], out[4096];
    snprintf (path, sizeof path, "%s/run.db", s_dir);
    snprintf (count, sizeof count, "%d", S_N);
    const char *const record[] = { "--broker", s_a.control, "record", "tel.*.cell1.>", path,
                                   "--count", count, "--duration", "30", NULL };
    int rc = s_autofab (record, 40000, out, sizeof out);
    aft_stop (agent, SIGTERM, 3000);
    cr_assert_eq (rc, 0, "record failed: %s", out);
    cr_assert (strstr (out, "recorded 60 messages on 3 topics from 1 source"), "%s", out);

    /* The file: N rows, sequence numbers increasing per source. */
    char err[600];
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    cr_assert_eq (af_journal_count (j), S_N);
    char pattern[64];
    cr_assert_eq (af_journal_get_meta (j, "pattern", pattern, sizeof pattern), 0);
    cr_assert_str_eq (pattern, "tel.*.cell1.>");
    char topics[S_N][AF_TOPIC_MAX_BYTES];
    uint8_t *bodies[S_N];
    size_t lens[S_N];
    af_journal_iter_t *it = af_journal_iter_new (j, NULL, 0, 0);
    s_stream_t streams[16];
    int n_streams = 0;
    for (int i = 0; i < S_N; i++) {
        const char *topic;
        const void *body;
        cr_assert_eq (af_journal_iter_next (it, &topic, &body, &lens[i], NULL), 1);
        const af_journal_row_t *row = af_journal_iter_row (it);
        cr_assert_str_eq (row->source, "press1");
        uint64_t *last_seq = s_stream_last (streams, &n_streams, 16, topic);
        cr_assert_gt (row->seq, *last_seq, "%s: seq %lu after %lu", topic, (unsigned long) row->seq,
                      (unsigned long) *last_seq);
        *last_seq = row->seq;
        snprintf (topics[i], sizeof topics[i], "%s", topic);
        bodies[i] = malloc (lens[i]);
        memcpy (bodies[i], body, lens[i]);
    }
    af_journal_iter_destroy (&it);
    af_journal_close (&j);

    /* Replay onto broker B: a subscriber there gets the same stream. */
    af_bus_t *bus = aft_bus (&s_b, "watcher");
    cr_assert_eq (af_bus_subscribe (bus, "tel.>"), 0);
    af_msg_t msg;
    af_bus_recv (bus, &msg, 500);  /* connects; nothing is published yet */
    const char *const replay[] = { "--broker", s_b.control, "replay", path, "--speed", "10",
                                   NULL };
    pid_t player = aft_spawn ("autofab", replay);
    for (int i = 0; i < S_N; i++) {
        cr_assert_eq (af_bus_recv (bus, &msg, 10000), 1, "message %d of %d not replayed", i + 1,
                      S_N);
        cr_assert_str_eq (msg.topic, topics[i]);
        size_t len = autofab__envelope__get_packed_size (msg.env);
        uint8_t *buf = malloc (len);
        autofab__envelope__pack (msg.env, buf);
        cr_assert_eq (len, lens[i]);
        cr_assert_eq (memcmp (buf, bodies[i], len), 0, "message %d: bytes differ", i + 1);
        cr_assert_str_eq (msg.env->header->source, "press1", "the original source");
        free (buf);
        free (bodies[i]);
        af_msg_clear (&msg);
    }
    cr_assert_eq (aft_wait_exit (player, 10000), 0, "replay did not finish cleanly");
    cr_assert_eq (af_bus_counters (bus)->gaps, 0);
    af_bus_destroy (&bus);
}

/* Starts a broker that journals topics under PREFIXES into PATH. */
static bool
s_journal_broker_start (aft_broker_t *broker, const char *path, const char *prefixes)
{
    const char *const extra[] = { "--journal", path, "--journal-prefixes", prefixes, NULL };
    return aft_broker_start_with (broker, 0, HB_MS, extra);
}

Test (record, broker_journal_records_what_it_relays)
{
    char path[300], err[600];
    snprintf (path, sizeof path, "%s/history.db", s_dir);
    cr_assert (s_journal_broker_start (&s_a, path, "tel"), "broker A did not start");
    af_bus_t *bus = aft_bus (&s_a, "watcher");
    af_bus_subscribe (bus, "tel.>");
    pid_t agent = s_demo (&s_a, "mixer");
    /* Watch 30 messages go by live, then stop the broker. */
    af_msg_t msg;
    uint64_t last_live_seq = 0;
    char last_live_topic[AF_TOPIC_MAX_BYTES] = "";
    for (int i = 0; i < 30; i++) {
        cr_assert_eq (af_bus_recv (bus, &msg, 5000), 1);
        last_live_seq = msg.env->header->seq;
        snprintf (last_live_topic, sizeof last_live_topic, "%s", msg.topic);
        af_msg_clear (&msg);
    }
    /* The broker's journal counters (-1: the stats request failed). */
    long long dropped = aft_broker_counter (bus, "journal_dropped");
    cr_assert (dropped == 0, "journal dropped %lld at 150 msg/s", dropped);
    long long failed = aft_broker_counter (bus, "journal_failed");
    cr_assert (failed == 0, "journal failed %lld", failed);
    af_bus_destroy (&bus);
    aft_stop (agent, SIGTERM, 3000);
    aft_broker_stop (&s_a);
    /* Everything relayed under tel. is in the history (the journal commits
     * every 200 ms and at shutdown), and nothing else. */
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    char writer[64];
    cr_assert_eq (af_journal_get_meta (j, "writer", writer, sizeof writer), 0);
    cr_assert_str_eq (writer, "autofab-broker");
    af_journal_iter_t *it = af_journal_iter_new (j, NULL, 0, 0);
    s_stream_t streams[16];
    int n_streams = 0;
    int64_t n = 0;
    const char *topic;
    while (af_journal_iter_next (it, &topic, NULL, NULL, NULL) == 1) {
        cr_assert (!strncmp (topic, "tel.", 4), "%s is not under tel", topic);
        cr_assert_str_eq (af_journal_iter_row (it)->source, "mixer");
        uint64_t *last = s_stream_last (streams, &n_streams, 16, topic);
        cr_assert_gt (af_journal_iter_row (it)->seq, *last, "%s", topic);
        *last = af_journal_iter_row (it)->seq;
        n++;
    }
    cr_assert_geq (*s_stream_last (streams, &n_streams, 16, last_live_topic), last_live_seq,
                   "the history of %s stops before what we saw live", last_live_topic);
    cr_assert_geq (n, 30);
    af_journal_iter_destroy (&it);
    af_journal_close (&j);
    /* And the broker's history replays like a recording. */
    cr_assert (aft_broker_start (&s_b, 0, HB_MS), "broker B did not start");
    char out[4096];
    const char *const replay[] = { "--broker", s_b.control, "replay", path, "--max", NULL };
    cr_assert_eq (s_autofab (replay, 20000, out, sizeof out), 0, "%s", out);
    cr_assert (strstr (out, "replayed "), "%s", out);
}

Test (record, replay_filters_and_bad_files_get_one_line)
{
    cr_assert (aft_broker_start (&s_a, 0, HB_MS), "broker A did not start");
    char path[300], out[4096];
    /* A journal written here, with two topics. */
    snprintf (path, sizeof path, "%s/two.db", s_dir);
    char err[600];
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_WRITE, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_stamper_t *st = af_stamper_new ("press9", "factory");
    for (int i = 0; i < 20; i++) {
        Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
        env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_RAW;
        env.raw.data = (uint8_t *) "x";
        env.raw.len = 1;
        Autofab__Header hdr;
        uint8_t id[16];
        af_stamper_stamp (st, &env, &hdr, id, 1000000 * (uint64_t) (i + 1));
        size_t len;
        uint8_t *buf = af_envelope_encode (&env, AF_MAX_MSG_BYTES, &len);
        const char *topic = i % 2 ? "tel.factory.c1.press9.a" : "evt.factory.c1.press9.b";
        cr_assert_eq (af_journal_append (j, topic, strlen (topic), buf, len), 0);
        free (buf);
    }
    af_journal_close (&j);
    af_stamper_destroy (&st);

    af_bus_t *bus = aft_bus (&s_a, "watcher");
    af_bus_subscribe (bus, ">");
    af_msg_t msg;
    af_bus_recv (bus, &msg, 300);
    const char *const replay[] = { "--broker", s_a.control, "replay", path, "--max",
                                   "--pattern", "evt.>", NULL };
    cr_assert_eq (s_autofab (replay, 20000, out, sizeof out), 0, "%s", out);
    cr_assert (strstr (out, "replayed 10 messages on 1 topic"), "%s", out);
    int got = 0;
    while (af_bus_recv (bus, &msg, 1000) == 1) {
        if (!strncmp (msg.topic, "sys.", 4)) {
            af_msg_clear (&msg);
            continue;            /* the broker's own counters */
        }
        cr_assert_str_eq (msg.topic, "evt.factory.c1.press9.b");
        got++;
        af_msg_clear (&msg);
    }
    cr_assert_eq (got, 10);
    af_bus_destroy (&bus);

    /* Files that are not journals: exit 1 and one line naming the file. */
    char text[300];
    snprintf (text, sizeof text, "%s/notes.txt", s_dir);
    FILE *f = fopen (text, "w");
    for (int i = 0; i < 100; i++)
        fputs ("shopping list: bolts, nuts, more bolts\n", f);
    fclose (f);
    const char *const bad[] = { "--broker", s_a.control, "replay", text, NULL };
    cr_assert_eq (s_autofab (bad, 10000, out, sizeof out), 1);
    cr_assert (strstr (out, "autofab replay: ") && strstr (out, "not an autofab journal"), "%s",
               out);
    cr_assert_eq (strchr (out, '\n'), out + strlen (out) - 1, "one line: %s", out);
    char missing[300];
    snprintf (missing, sizeof missing, "%s/missing.db", s_dir);
    const char *const none[] = { "replay", missing, NULL };
    cr_assert_eq (s_autofab (none, 10000, out, sizeof out), 1);
    cr_assert (strstr (out, "no such file"), "%s", out);
    /* record refuses to overwrite a recording, and a bad pattern is usage. */
    const char *const again[] = { "--broker", s_a.control, "record", ">", path, "--count", "1",
                                  NULL };
    cr_assert_eq (s_autofab (again, 10000, out, sizeof out), 1);
    cr_assert (strstr (out, "already exists"), "%s", out);
    const char *const badpat[] = { "record", "tel..x", path, NULL };
    cr_assert_eq (s_autofab (badpat, 10000, out, sizeof out), 2);
    const char *const both[] = { "replay", path, "--max", "--speed", "2", NULL };
    cr_assert_eq (s_autofab (both, 10000, out, sizeof out), 2);
}
