/*  Unit tests: broker/journal — the relay's side (offer by reference, prefix
 *  filter on whole segments, a full ring drops and counts) and the writer's
 *  (everything offered and not dropped is in the file after destroy).  */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "af_clock.h"
#include "af_codec.h"
#include "af_journal.h"
#include "broker/journal.h"
#include "af_test.h"

static char s_dir[256];

static void
s_setup (void)
{
    cr_assert (aft_tmpdir (s_dir, sizeof s_dir, "af-bjournal"));
}

static void
s_teardown (void)
{
    cr_assert (aft_rmtree (s_dir));
}

/* Offers one telemetry message on TOPIC as the relay would: a zmq_msg_t
 * that the caller closes (or, in the relay, sends) right after. */
static void
s_offer (broker_journal_t *j, af_stamper_t *st, const char *topic)
{
    size_t len;
    uint8_t *buf = aft_telemetry (st, "x", 1, 42, &len);
    zmq_msg_t body;
    zmq_msg_init_size (&body, len);
    memcpy (zmq_msg_data (&body), buf, len);
    free (buf);
    broker_journal_offer (j, topic, strlen (topic), &body, 1);
    zmq_msg_close (&body);
}

/* Waits until the writer has dealt with everything offered. */
static broker_journal_stats_t
s_settle (broker_journal_t *j)
{
    broker_journal_stats_t st;
    int64_t deadline = af_clock_mono_ms () + 20000;
    do {
        broker_journal_stats (j, &st);
        if (st.written + st.dropped + st.refused + st.failed == st.offered)
            break;
        usleep (2000);
    } while (af_clock_mono_ms () < deadline);
    cr_assert_eq (st.written + st.dropped + st.refused + st.failed, st.offered,
                  "the writer did not catch up");
    return st;
}

static int64_t
s_count (const char *path, const char *pattern)
{
    char err[600];
    af_journal_t *j = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_journal_iter_t *it = af_journal_iter_new (j, pattern, 0, 0);
    int64_t n = 0;
    while (af_journal_iter_next (it, NULL, NULL, NULL, NULL) == 1)
        n++;
    af_journal_iter_destroy (&it);
    af_journal_close (&j);
    return n;
}

TestSuite (broker_journal, .init = s_setup, .fini = s_teardown, .timeout = 60);

Test (broker_journal, offers_under_prefixes_reach_the_file)
{
    char path[300], err[600];
    snprintf (path, sizeof path, "%s/hist.db", s_dir);
    const char *const prefixes[] = { "tel.f1", "alm.", NULL };
    broker_journal_t *j = broker_journal_new (path, prefixes, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_stamper_t *st = af_stamper_new ("press", "f1");
    for (int i = 0; i < 500; i++) {
        s_offer (j, st, "tel.f1.c1.press.temp");
        s_offer (j, st, "tel.f10.c1.press.temp");   /* not under tel.f1 */
        if (i % 5 == 0)
            s_offer (j, st, "alm.f1.c1.press.hot");
        if (i % 7 == 0)
            s_offer (j, st, "evt.f1.c1.press.done");  /* no prefix */
    }
    broker_journal_stats_t stats = s_settle (j);
    cr_assert_eq (stats.offered, 600);
    cr_assert_eq (stats.written + stats.dropped, 600);
    broker_journal_destroy (&j);
    cr_assert_null (j);
    cr_assert_eq (s_count (path, NULL), (int64_t) stats.written);
    cr_assert_eq (s_count (path, "tel.f10"), 0);
    cr_assert_eq (s_count (path, "evt"), 0);
    /* The file says what it holds. */
    af_journal_t *r = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    char pattern[64];
    cr_assert_eq (af_journal_get_meta (r, "pattern", pattern, sizeof pattern), 0);
    cr_assert_str_eq (pattern, "tel.f1,alm.");
    af_journal_close (&r);
    /* A restarted broker appends to its history. */
    int64_t before = s_count (path, NULL);
    j = broker_journal_new_csv (path, "tel, alm", err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    s_offer (j, st, "tel.f10.c1.press.temp");
    stats = s_settle (j);
    cr_assert_eq (stats.written, 1);
    broker_journal_destroy (&j);
    cr_assert_eq (s_count (path, NULL), before + 1);
    af_stamper_destroy (&st);
}

Test (broker_journal, full_ring_drops_and_counts)
{
    char path[300], err[600];
    snprintf (path, sizeof path, "%s/small.db", s_dir);
    broker_journal_t *j = broker_journal_new_sized (path, NULL, 2, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_stamper_t *st = af_stamper_new ("flood", "f");
    for (int i = 0; i < 20000; i++)
        s_offer (j, st, "tel.f.c.flood.k");
    broker_journal_stats_t stats = s_settle (j);
    cr_assert_eq (stats.offered, 20000);
    cr_assert_gt (stats.dropped, 0, "a 2-slot ring cannot keep up with a flood");
    cr_assert_gt (stats.written, 0);
    broker_journal_destroy (&j);
    cr_assert_eq (s_count (path, NULL), (int64_t) stats.written);
    af_stamper_destroy (&st);
}

Test (broker_journal, refuses_bad_prefixes_and_bodies)
{
    char path[300], err[600];
    snprintf (path, sizeof path, "%s/bad.db", s_dir);
    const char *const bad[] = { "tel..x", NULL };
    cr_assert_null (broker_journal_new (path, bad, err, sizeof err));
    cr_assert (strstr (err, "prefix 'tel..x'"), "%s", err);
    cr_assert_null (broker_journal_new_csv (path, "tel,a*", err, sizeof err));
    snprintf (path, sizeof path, "%s/no/such/dir/x.db", s_dir);
    cr_assert_null (broker_journal_new (path, NULL, err, sizeof err));
    cr_assert (strstr (err, "x.db"), "%s", err);
    snprintf (path, sizeof path, "%s/bad.db", s_dir);
    broker_journal_t *j = broker_journal_new (path, NULL, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    zmq_msg_t body;
    zmq_msg_init_size (&body, 40);
    memset (zmq_msg_data (&body), 0xee, 40);
    broker_journal_offer (j, "tel.f.c.a.k", 11, &body, 1);
    broker_journal_offer (NULL, "tel.f.c.a.k", 11, &body, 1);   /* no journal: nothing */
    zmq_msg_close (&body);
    broker_journal_stats_t stats = s_settle (j);
    cr_assert_eq (stats.refused, 1);
    cr_assert_eq (stats.written, 0);
    broker_journal_destroy (&j);
    broker_journal_destroy (&j);
    cr_assert_eq (s_count (path, NULL), 0);
}

Test (broker_journal, a_batch_is_a_row_per_record)
{
    char path[300], err[600];
    snprintf (path, sizeof path, "%s/batch.db", s_dir);
    broker_journal_t *j = broker_journal_new (path, NULL, err, sizeof err);
    cr_assert_not_null (j, "%s", err);
    af_stamper_t *st = af_stamper_new ("press", "f1");
    uint8_t *recs[10];
    size_t lens[10];
    for (int i = 0; i < 10; i++)
        recs[i] = aft_telemetry (st, "x", i, 42, &lens[i]);
    uint8_t batch[4096];
    size_t len = aft_batch (batch, sizeof batch, recs, lens, 10);
    zmq_msg_t body;
    zmq_msg_init_size (&body, len);
    memcpy (zmq_msg_data (&body), batch, len);
    broker_journal_offer (j, "tel.f1.c1.press.temp", 20, &body, 10);
    zmq_msg_close (&body);
    broker_journal_stats_t stats = s_settle (j);
    cr_assert_eq (stats.offered, 10);
    cr_assert_eq (stats.written, 10);
    broker_journal_destroy (&j);
    /* Each row is one envelope, in order. */
    af_journal_t *r = af_journal_open (path, AF_JOURNAL_READ, err, sizeof err);
    cr_assert_not_null (r, "%s", err);
    af_journal_iter_t *it = af_journal_iter_new (r, NULL, 0, 0);
    const void *data;
    size_t data_len;
    for (int i = 0; i < 10; i++) {
        cr_assert_eq (af_journal_iter_next (it, NULL, &data, &data_len, NULL), 1);
        cr_assert_eq (data_len, lens[i]);
        cr_assert_eq (memcmp (data, recs[i], data_len), 0);
        free (recs[i]);
    }
    cr_assert_eq (af_journal_iter_next (it, NULL, NULL, NULL, NULL), 0);
    af_journal_iter_destroy (&it);
    af_journal_close (&r);
    af_stamper_destroy (&st);
}
