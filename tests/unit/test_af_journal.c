/*  Unit tests: af_journal — round trip, batched commits, reopen and append,
 *  pattern and time filters, refusal of foreign and unknown-version files,
 *  hostile bodies on the way in and corrupt rows on the way out, and nothing
 *  acknowledged lost when the writer is killed.  */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "af_codec.h"
#include "af_journal.h"
#include "af_topic.h"
#include "af_test.h"

static char s_dir[256];

static void
s_setup (void)
{
    cr_assert (aft_tmpdir (s_dir, sizeof s_dir, "af-journal"));
}

static void
s_teardown (void)
{
    cr_assert (aft_rmtree (s_dir));
}

static void
s_path (char *out, size_t len, const char *name)
{
    snprintf (out, len, "%s/%s", s_dir, name);
}

/* An encoded telemetry envelope from ST at T_NS; free() it. */
static uint8_t *
s_envelope (af_stamper_t *st, uint64_t t_ns, double value, size_t *len)
{
    uint8_t *buf = aft_telemetry (st, "temp_c", value, t_ns, len);
    cr_assert_not_null (buf);
    return buf;
}

/* Appends one message from ST on TOPIC; asserts it was taken. */
static void
s_append (af_journal_t *j, af_stamper_t *st, const char *topic, uint64_t t_ns)
{
    size_t len;
    uint8_t *buf = s_envelope (st, t_ns, (double) t_ns, &len);
    cr_assert_eq (af_journal_append (j, topic, strlen (topic), buf, len), 0, "%s",
                  af_journal_error (j));
    free (buf);
}

static int64_t
s_count_file (const char *path)
{
    char err[600];
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    int64_t n = af_journal_count (j);
    af_journal_close (&j);
    return n;
}

/* Runs SQL on PATH with plain SQLite, as an operator (or an attacker) would. */
static void
s_sql (const char *path, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq (sqlite3_open (path, &db), SQLITE_OK);
    char *msg = NULL;
    cr_assert_eq (sqlite3_exec (db, sql, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
    sqlite3_close (db);
}

TestSuite (journal, .init = s_setup, .fini = s_teardown, .timeout = 60);

Test (journal, round_trip_keeps_topics_bytes_and_sequence)
{
    char path[300], err[600];
    s_path (path, sizeof path, "rt.db");
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_WRITE, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    cr_assert_eq (af_journal_set_meta (j, "factory", "giga"), 0);
    af_stamper_t *a = af_stamper_new ("press1", "giga");
    af_stamper_t *b = af_stamper_new ("robot2", "giga");
    enum { N = 300 };
    uint8_t *bodies[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) {
        af_stamper_t *st = i % 3 ? a : b;
        const char *topic = i % 3 ? "tel.giga.c1.press1.temp" : "evt.giga.c2.robot2.done";
        bodies[i] = s_envelope (st, 1000 + (uint64_t) i, i, &lens[i]);
        cr_assert_eq (af_journal_append (j, topic, strlen (topic), bodies[i], lens[i]), 0);
    }
    af_journal_close (&j);
    cr_assert_null (j);

    j = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    cr_assert_eq (af_journal_count (j), N);
    char value[64];
    cr_assert_eq (af_journal_get_meta (j, "factory", value, sizeof value), 0);
    cr_assert_str_eq (value, "giga");
    cr_assert_eq (af_journal_get_meta (j, "version", value, sizeof value), 0);
    cr_assert_str_eq (value, "1");
    cr_assert_neq (af_journal_append (j, "tel.x", 5, bodies[0], lens[0]), 0,
                   "a reader must not write");
    af_journal_iter_t *it = af_journal_iter_new (j, NULL, 0, 0);
    cr_assert_not_null (it);
    uint64_t seq_a = 0, seq_b = 0;
    for (int i = 0; i < N; i++) {
        const char *topic;
        const void *body;
        size_t len;
        uint64_t t_ns;
        cr_assert_eq (af_journal_iter_next (it, &topic, &body, &len, &t_ns), 1);
        cr_assert_str_eq (topic, i % 3 ? "tel.giga.c1.press1.temp" : "evt.giga.c2.robot2.done");
        cr_assert_eq (len, lens[i]);
        cr_assert_eq (memcmp (body, bodies[i], len), 0, "row %d: bytes differ", i);
        cr_assert_eq (t_ns, 1000 + (uint64_t) i);
        const af_journal_row_t *row = af_journal_iter_row (it);
        cr_assert_str_eq (row->source, i % 3 ? "press1" : "robot2");
        uint64_t *last = i % 3 ? &seq_a : &seq_b;
        cr_assert_eq (row->seq, *last + 1, "sequence preserved");
        *last = row->seq;
        cr_assert_gt (row->recv_ns, 0);
        free (bodies[i]);
    }
    cr_assert_eq (af_journal_iter_next (it, NULL, NULL, NULL, NULL), 0);
    cr_assert_eq (af_journal_iter_skipped (it), 0);
    af_journal_iter_destroy (&it);
    af_journal_close (&j);
    af_stamper_destroy (&a);
    af_stamper_destroy (&b);
}

Test (journal, commits_in_batches_and_on_flush)
{
    char path[300], err[600];
    s_path (path, sizeof path, "batch.db");
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_WRITE, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    /* Ten messages per batch; the time limit is out of reach. */
    af_journal_set_batch (j, 10, 3600 * 1000);
    af_stamper_t *st = af_stamper_new ("s", "f");
    for (int i = 0; i < 25; i++)
        s_append (j, st, "tel.f.c.s.k", (uint64_t) i + 1);
    /* Another connection sees the committed batches only. */
    cr_assert_eq (s_count_file (path), 20);
    cr_assert_gt (af_journal_tick (j), 0, "the open batch is not due yet");
    cr_assert_eq (af_journal_flush (j), 0);
    cr_assert_eq (af_journal_tick (j), -1, "nothing pending after a flush");
    cr_assert_eq (s_count_file (path), 25);
    /* The time limit: a batch older than batch_ms commits on the next tick. */
    af_journal_set_batch (j, 1000, 1);
    s_append (j, st, "tel.f.c.s.k", 100);
    usleep (5000);
    cr_assert_eq (af_journal_tick (j), -1);
    cr_assert_eq (s_count_file (path), 26);
    af_journal_close (&j);
    af_stamper_destroy (&st);
}

Test (journal, reopen_and_append)
{
    char path[300], err[600];
    s_path (path, sizeof path, "re.db");
    af_stamper_t *st = af_stamper_new ("s", "f");
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_WRITE, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_journal_set_meta (j, "pattern", "tel.>");
    for (int i = 0; i < 5; i++)
        s_append (j, st, "tel.f.c.s.k", (uint64_t) i + 1);
    af_journal_close (&j);
    /* WRITE refuses to overwrite a recording. */
    cr_assert_null (af_journal_open (path, AF_JOURNAL_WRITE, err, sizeof err));
    cr_assert (strstr (err, "already exists"), "%s", err);
    j = af_journal_open (path, AF_JOURNAL_APPEND, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    cr_assert_eq (af_journal_count (j), 5);
    for (int i = 0; i < 5; i++)
        s_append (j, st, "tel.f.c.s.k", (uint64_t) i + 6);
    af_journal_close (&j);
    cr_assert_eq (s_count_file (path), 10);
    j = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    char value[64];
    cr_assert_eq (af_journal_get_meta (j, "pattern", value, sizeof value), 0);
    cr_assert_str_eq (value, "tel.>");
    cr_assert_eq (af_journal_get_meta (j, "no-such-key", value, sizeof value), -1);
    af_journal_close (&j);
    /* APPEND creates what is not there; READ does not. */
    s_path (path, sizeof path, "new.db");
    cr_assert_null (af_journal_open (path, AF_JOURNAL_READ, err, sizeof err));
    cr_assert (strstr (err, "no such file"), "%s", err);
    j = af_journal_open (path, AF_JOURNAL_APPEND, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    cr_assert_eq (af_journal_count (j), 0);
    af_journal_close (&j);
    af_stamper_destroy (&st);
}

static int
s_iter_count (af_journal_t *j, const char *pattern, uint64_t from_ns, uint64_t to_ns)
{
    af_journal_iter_t *it = af_journal_iter_new (j, pattern, from_ns, to_ns);
    cr_assert_not_null (it, "%s", af_journal_error (j));
    int n = 0;
    const char *topic;
    while (af_journal_iter_next (it, &topic, NULL, NULL, NULL) == 1) {
        cr_assert (!pattern || af_topic_match (pattern, topic, strlen (topic)));
        n++;
    }
    af_journal_iter_destroy (&it);
    return n;
}

Test (journal, pattern_and_time_filters)
{
    char path[300], err[600];
    s_path (path, sizeof path, "filter.db");
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_WRITE, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_stamper_t *st = af_stamper_new ("s", "f");
    const char *topics[] = { "tel.f1.c1.a.temp", "tel.f1.c2.b.temp", "tel.f10.c1.a.temp",
                             "alm.f1.c1.a.hot", "tel.f1.c1.a.speed" };
    for (int i = 0; i < 5; i++)
        s_append (j, st, topics[i], 100 * ((uint64_t) i + 1));
    af_journal_flush (j);
    cr_assert_eq (s_iter_count (j, NULL, 0, 0), 5);
    cr_assert_eq (s_iter_count (j, ">", 0, 0), 5);
    cr_assert_eq (s_iter_count (j, "tel", 0, 0), 4);
    cr_assert_eq (s_iter_count (j, "tel.f1", 0, 0), 3, "tel.f1 must not match tel.f10");
    cr_assert_eq (s_iter_count (j, "tel.*.c1.>", 0, 0), 3);
    cr_assert_eq (s_iter_count (j, "*.f1.c1.a.*", 0, 0), 3);
    cr_assert_eq (s_iter_count (j, "alm.>", 0, 0), 1);
    cr_assert_eq (s_iter_count (j, "evt.>", 0, 0), 0);
    /* [from, to) on the header time. */
    cr_assert_eq (s_iter_count (j, NULL, 200, 400), 2);
    cr_assert_eq (s_iter_count (j, NULL, 300, 0), 3);
    cr_assert_eq (s_iter_count (j, "tel", 0, 300), 2);
    cr_assert_null (af_journal_iter_new (j, "tel..x", 0, 0));
    cr_assert (strstr (af_journal_error (j), "not a valid topic pattern"));
    af_journal_close (&j);
    af_stamper_destroy (&st);
}

Test (journal, refuses_unknown_version_and_foreign_files)
{
    char path[300], err[600];
    s_path (path, sizeof path, "v.db");
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_WRITE, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_journal_close (&j);
    s_sql (path, "UPDATE meta SET value = '99' WHERE key = 'version'");
    for (int mode = AF_JOURNAL_READ; mode <= AF_JOURNAL_APPEND; mode += 2) {
        err[0] = 0;
        cr_assert_null (af_journal_open (path, (af_journal_mode_t) mode, err, sizeof err));
        cr_assert (strstr (err, "journal format version '99' is not supported"), "%s", err);
        cr_assert_null (strchr (err, '\n'), "one line");
    }
    /* A SQLite file of somebody else's. */
    s_path (path, sizeof path, "other.db");
    s_sql (path, "CREATE TABLE t (x)");
    cr_assert_null (af_journal_open (path, AF_JOURNAL_READ, err, sizeof err));
    cr_assert (strstr (err, "not an autofab journal (no meta table)"), "%s", err);
    s_sql (path, "CREATE TABLE meta (key, value); INSERT INTO meta VALUES ('format', 'x')");
    cr_assert_null (af_journal_open (path, AF_JOURNAL_APPEND, err, sizeof err));
    cr_assert (strstr (err, "not an autofab journal"), "%s", err);
    /* Not SQLite at all. */
    s_path (path, sizeof path, "text.db");
    FILE *f = fopen (path, "w");
    for (int i = 0; i < 200; i++)
        fputs ("this is not a database, just some text\n", f);
    fclose (f);
    for (int mode = AF_JOURNAL_READ; mode <= AF_JOURNAL_APPEND; mode += 2) {
        err[0] = 0;
        cr_assert_null (af_journal_open (path, (af_journal_mode_t) mode, err, sizeof err));
        cr_assert (strstr (err, "not an autofab journal (not a SQLite database)"), "%s", err);
        cr_assert (strstr (err, path) == err, "the line names the file: %s", err);
    }
    /* A directory. */
    cr_assert_null (af_journal_open (s_dir, AF_JOURNAL_READ, err, sizeof err));
    cr_assert (strstr (err, "not a regular file"), "%s", err);
    cr_assert_null (af_journal_open (NULL, AF_JOURNAL_READ, err, sizeof err));
    cr_assert_null (af_journal_open ("", AF_JOURNAL_READ, err, sizeof err));
}

Test (journal, hostile_bodies_refused_and_corrupt_rows_skipped)
{
    char path[300], err[600];
    s_path (path, sizeof path, "bad.db");
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_WRITE, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_stamper_t *st = af_stamper_new ("s", "f");
    size_t len;
    uint8_t *good = s_envelope (st, 5, 1.5, &len);
    const char *topic = "tel.f.c.s.k";
    size_t tl = strlen (topic);
    uint8_t garbage[64];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t) (0xff - i * 7);
    cr_assert_eq (af_journal_append (j, topic, tl, good, len - 3), 1, "truncated");
    cr_assert_eq (af_journal_append (j, topic, tl, garbage, sizeof garbage), 1, "garbage");
    cr_assert_eq (af_journal_append (j, topic, tl, good, 0), 1, "empty");
    cr_assert_eq (af_journal_append (j, topic, tl, NULL, 10), 1, "NULL");
    cr_assert_eq (af_journal_append (j, "tel..x", 6, good, len), 1, "bad topic");
    cr_assert_eq (af_journal_append (j, "tel.*", 5, good, len), 1, "wildcard topic");
    cr_assert_eq (af_journal_refused (j), 6);
    cr_assert_eq (af_journal_count (j), 0);
    cr_assert_str_eq (af_journal_kind (good, len), "telemetry");
    cr_assert_null (af_journal_kind (good, len - 1));
    for (int i = 0; i < 4; i++)
        s_append (j, st, topic, 10 + (uint64_t) i);
    af_journal_close (&j);
    /* Damage rows on disk: a body, a topic, a type. */
    s_sql (path, "UPDATE messages SET body = x'0a05ff' WHERE id = 1;"
                 "UPDATE messages SET topic = 'no..good' WHERE id = 2;"
                 "UPDATE messages SET body = 'text, not a blob' WHERE id = 3;");
    j = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_journal_iter_t *it = af_journal_iter_new (j, NULL, 0, 0);
    int n = 0;
    while (af_journal_iter_next (it, NULL, NULL, NULL, NULL) == 1)
        n++;
    cr_assert_eq (n, 1);
    cr_assert_eq (af_journal_iter_skipped (it), 3);
    af_journal_iter_destroy (&it);
    af_journal_close (&j);
    free (good);
    af_stamper_destroy (&st);
}

Test (journal, flushed_data_survives_kill)
{
    char path[300], err[600];
    s_path (path, sizeof path, "crash.db");
    int pipe_fd[2];
    cr_assert_eq (pipe (pipe_fd), 0);
    pid_t child = fork ();
    cr_assert_geq (child, 0);
    if (child == 0) {
        close (pipe_fd[0]);
        af_journal_t *j = af_journal_open (path, AF_JOURNAL_WRITE, err, sizeof err);
        if (!j)
            _exit (3);
        af_journal_set_batch (j, 100000, 3600 * 1000);
        af_stamper_t *st = af_stamper_new ("s", "f");
        for (int i = 0; i < 100; i++) {
            size_t len;
            uint8_t *buf = s_envelope (st, (uint64_t) i + 1, i, &len);
            af_journal_append (j, "tel.f.c.s.k", 11, buf, len);
            free (buf);
        }
        if (af_journal_flush (j) != 0)
            _exit (4);
        /* Acknowledged: tell the parent, then keep writing until killed. */
        if (write (pipe_fd[1], "a", 1) != 1)
            _exit (5);
        for (int i = 0; i < 5; i++) {
            size_t len;
            uint8_t *buf = s_envelope (st, 1000 + (uint64_t) i, i, &len);
            af_journal_append (j, "tel.f.c.s.k", 11, buf, len);
            free (buf);
        }
        while (true)
            pause ();
    }
    close (pipe_fd[1]);
    char ack;
    cr_assert_eq (read (pipe_fd[0], &ack, 1), 1, "the child did not acknowledge");
    close (pipe_fd[0]);
    kill (child, SIGKILL);
    int status;
    cr_assert_eq (waitpid (child, &status, 0), child);
    cr_assert (WIFSIGNALED (status));
    /* Everything acknowledged is there, nothing unacknowledged half-there. */
    cr_assert_eq (s_count_file (path), 100);
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_APPEND, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    cr_assert_eq (af_journal_count (j), 100);
    af_journal_close (&j);
}
