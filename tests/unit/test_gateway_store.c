/*  Unit tests: the gateway's wire head (hostile decoding), its outbox
 *  (sequence numbers, de-duplication, conflation, the cap's tombstones,
 *  acknowledgements across a reopen), the delivery record, and the config's
 *  loop rule and lane classes.  */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "gateway/gw_config.h"
#include "gateway/gw_outbox.h"
#include "gateway/gw_wire.h"

static char s_dir[256];

static void
s_setup (void)
{
    cr_assert (aft_tmpdir (s_dir, sizeof s_dir, "gw-store"));
}

static void
s_teardown (void)
{
    aft_rmtree (s_dir);
}

/* ------------------------------------------------------------ wire */

Test (gw_wire, head_round_trip_and_hostile_input)
{
    gw_head_t h = { .type = GW_MSG_ACK, .lane = 2, .seq = 1ull << 40, .t_ns = 123,
                    .acks = { 1, 2, 3, 4 } };
    strcpy (h.factory, "plant-b");
    uint8_t buf[GW_HEAD_MAX];
    size_t len = gw_head_encode (&h, buf);
    gw_head_t out;
    cr_assert (gw_head_decode (buf, len, &out));
    cr_assert_eq (out.type, GW_MSG_ACK);
    cr_assert_eq (out.lane, 2);
    cr_assert_eq (out.seq, 1ull << 40);
    cr_assert_eq (out.acks[3], 4);
    cr_assert_str_eq (out.factory, "plant-b");
    /* Truncated, extended, bad type, bad lane, bad factory. */
    for (size_t cut = 0; cut < len; cut++)
        cr_assert_not (gw_head_decode (buf, cut, &out), "decoded %zu of %zu bytes", cut, len);
    uint8_t big[GW_HEAD_MAX + 8];
    memcpy (big, buf, len);
    cr_assert_not (gw_head_decode (big, len + 1, &out));
    uint8_t bad[GW_HEAD_MAX];
    memcpy (bad, buf, len);
    bad[0] = 'Z';
    cr_assert_not (gw_head_decode (bad, len, &out));
    memcpy (bad, buf, len);
    bad[1] = GW_LANES;
    cr_assert_not (gw_head_decode (bad, len, &out));
    memcpy (bad, buf, len);
    bad[len - 1] = '.';
    cr_assert_not (gw_head_decode (bad, len, &out));
    cr_assert_not (gw_head_decode (NULL, 0, &out));
    /* Random bytes never crash it. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        uint8_t junk[GW_HEAD_MAX];
        size_t n = (size_t) (i % (GW_HEAD_MAX + 1));
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            junk[k] = (uint8_t) x;
        }
        gw_head_decode (junk, n, &out);
    }
    cr_assert_eq (gw_lane_parse ("telemetry"), GW_LANE_TELEMETRY);
    cr_assert_eq (gw_lane_parse ("nope"), -1);
}

Test (gw_wire, record_batches_round_trip_and_refuse_truncation)
{
    uint8_t buf[256];
    size_t used = gw_record_put (buf, "alm.f.a", 7, "body", 4);
    used += gw_record_put (buf + used, "tel.f.t", 7, NULL, 0);
    gw_record_iter_t it;
    gw_record_iter_init (&it, buf, used);
    const char *topic;
    const uint8_t *body;
    size_t tl, bl;
    cr_assert_eq (gw_record_next (&it, &topic, &tl, &body, &bl), 1);
    cr_assert_eq (tl, 7);
    cr_assert_eq (memcmp (topic, "alm.f.a", 7), 0);
    cr_assert_eq (bl, 4);
    cr_assert_eq (gw_record_next (&it, &topic, &tl, &body, &bl), 1);
    cr_assert_eq (bl, 0, "a tombstone has no body");
    cr_assert_eq (gw_record_next (&it, &topic, &tl, &body, &bl), 0);
    for (size_t cut = 1; cut < used; cut++) {
        if (cut == GW_RECORD_OVERHEAD + 7 + 4)
            continue;                /* a whole first record */
        gw_record_iter_init (&it, buf, cut);
        int rc;
        while ((rc = gw_record_next (&it, &topic, &tl, &body, &bl)) == 1)
            ;
        cr_assert_eq (rc, -1, "truncation at %zu not refused", cut);
    }
    /* A length that points past the end. */
    buf[1] = 200;
    gw_record_iter_init (&it, buf, used);
    cr_assert_eq (gw_record_next (&it, &topic, &tl, &body, &bl), -1);
}

/* ------------------------------------------------------------ outbox */

TestSuite (gw_outbox, .init = s_setup, .fini = s_teardown);

static gw_outbox_t *
s_open (uint64_t cap)
{
    char path[400], err[256];
    snprintf (path, sizeof path, "%s/outbox.db", s_dir);
    gw_outbox_t *ob = gw_outbox_open (path, cap, false, err, sizeof err);
    cr_assert_not_null (ob, "%s", err);
    return ob;
}

static int
s_add (gw_outbox_t *ob, int lane, const char *topic, uint64_t seq, const char *body, bool conflate)
{
    gw_msg_key_t key = { .topic = topic, .source = "src", .source_len = 3, .session = 9,
                         .seq = seq, .t_ns = 1000 + seq };
    return gw_outbox_add (ob, lane, &key, body, strlen (body), conflate);
}

Test (gw_outbox, lanes_number_from_one_and_duplicates_are_kept_once)
{
    gw_outbox_t *ob = s_open (0);
    cr_assert_eq (s_add (ob, GW_LANE_ALARM, "alm.f.a", 1, "a1", false), 0);
    cr_assert_eq (s_add (ob, GW_LANE_TELEMETRY, "tel.f.t", 2, "t1", false), 0);
    cr_assert_eq (s_add (ob, GW_LANE_ALARM, "alm.f.a", 3, "a2", false), 0);
    cr_assert_eq (s_add (ob, GW_LANE_ALARM, "alm.f.a", 1, "a1", false), 1, "duplicate added");
    cr_assert_eq (gw_outbox_commit (ob), 0);
    cr_assert_eq (gw_outbox_last (ob, GW_LANE_ALARM), 2);
    cr_assert_eq (gw_outbox_last (ob, GW_LANE_TELEMETRY), 1);
    gw_row_t row;
    cr_assert_eq (gw_outbox_next (ob, GW_LANE_ALARM, 0, &row), 1);
    cr_assert_eq (row.seq, 1);
    cr_assert_eq (memcmp (row.body, "a1", 2), 0);
    cr_assert_eq (gw_outbox_next (ob, GW_LANE_ALARM, 1, &row), 1);
    cr_assert_eq (memcmp (row.body, "a2", 2), 0);
    cr_assert_eq (gw_outbox_next (ob, GW_LANE_ALARM, 2, &row), 0);
    cr_assert_eq (gw_outbox_counters (ob)->duplicates, 1);
    gw_outbox_close (&ob);
    cr_assert_null (ob);
}

Test (gw_outbox, acks_survive_a_reopen_and_nothing_is_renumbered)
{
    gw_outbox_t *ob = s_open (0);
    for (int i = 1; i <= 10; i++)
        cr_assert_eq (s_add (ob, GW_LANE_COMMAND, "cmd.f.x", (uint64_t) i, "c", false), 0);
    gw_outbox_commit (ob);
    gw_outbox_begin (ob);
    cr_assert_eq (gw_outbox_ack (ob, GW_LANE_COMMAND, 4), 0);
    cr_assert_eq (gw_outbox_ack (ob, GW_LANE_COMMAND, 11), -1, "acked beyond what exists");
    gw_outbox_commit (ob);
    cr_assert_eq (gw_outbox_pending (ob, GW_LANE_COMMAND), 6);
    gw_outbox_close (&ob);
    ob = s_open (0);
    cr_assert_eq (gw_outbox_acked (ob, GW_LANE_COMMAND), 4);
    cr_assert_eq (gw_outbox_last (ob, GW_LANE_COMMAND), 10);
    cr_assert_eq (gw_outbox_pending (ob, GW_LANE_COMMAND), 6);
    /* Still recognised as duplicates after the reopen. */
    cr_assert_eq (s_add (ob, GW_LANE_COMMAND, "cmd.f.x", 3, "c", false), 1);
    cr_assert_eq (s_add (ob, GW_LANE_COMMAND, "cmd.f.x", 11, "c", false), 0);
    gw_outbox_commit (ob);
    cr_assert_eq (gw_outbox_last (ob, GW_LANE_COMMAND), 11);
    gw_outbox_close (&ob);
}

Test (gw_outbox, conflation_replaces_only_unsent_telemetry)
{
    gw_outbox_t *ob = s_open (0);
    cr_assert_eq (s_add (ob, GW_LANE_TELEMETRY, "tel.f.speed", 1, "v1", true), 0);
    gw_outbox_commit (ob);
    gw_outbox_sent (ob, GW_LANE_TELEMETRY, 1);
    /* Row 1 was sent: the peer may hold it, so a new value queues. */
    cr_assert_eq (s_add (ob, GW_LANE_TELEMETRY, "tel.f.speed", 2, "v2", true), 0);
    /* Row 2 was never sent: the newest value takes its place. */
    cr_assert_eq (s_add (ob, GW_LANE_TELEMETRY, "tel.f.speed", 3, "v3", true), 2);
    cr_assert_eq (s_add (ob, GW_LANE_TELEMETRY, "tel.f.other", 4, "o1", true), 0);
    /* Without congestion nothing conflates; alarms never do. */
    cr_assert_eq (s_add (ob, GW_LANE_TELEMETRY, "tel.f.speed", 5, "v5", false), 0);
    cr_assert_eq (s_add (ob, GW_LANE_ALARM, "alm.f.a", 6, "a", true), 0);
    cr_assert_eq (s_add (ob, GW_LANE_ALARM, "alm.f.a", 7, "b", true), 0);
    gw_outbox_commit (ob);
    gw_row_t row;
    cr_assert_eq (gw_outbox_next (ob, GW_LANE_TELEMETRY, 1, &row), 1);
    cr_assert_eq (row.seq, 2);
    cr_assert_eq (memcmp (row.body, "v3", 2), 0);
    cr_assert_eq (gw_outbox_last (ob, GW_LANE_TELEMETRY), 4);
    cr_assert_eq (gw_outbox_last (ob, GW_LANE_ALARM), 2);
    cr_assert_eq (gw_outbox_counters (ob)->conflated, 1);
    gw_outbox_close (&ob);
}

Test (gw_outbox, cap_tombstones_oldest_telemetry_never_alarms)
{
    gw_outbox_t *ob = s_open (100);
    char body[21];
    memset (body, 'x', 20);
    body[20] = 0;
    cr_assert_eq (s_add (ob, GW_LANE_ALARM, "alm.f.a", 1, body, false), 0);
    for (int i = 2; i <= 9; i++)
        cr_assert_eq (s_add (ob, GW_LANE_TELEMETRY, "tel.f.t", (uint64_t) i, body, false), 0);
    gw_outbox_commit (ob);
    cr_assert_leq (gw_outbox_pending_bytes (ob), 100);
    /* 20 + 8 x 20 bytes: four telemetry rows must go to get back to 100. */
    cr_assert_eq (gw_outbox_counters (ob)->dropped_cap, 4);
    gw_row_t row;
    /* The oldest telemetry became tombstones, keeping their numbers. */
    cr_assert_eq (gw_outbox_next (ob, GW_LANE_TELEMETRY, 0, &row), 1);
    cr_assert_eq (row.seq, 1);
    cr_assert_eq (row.len, 0);
    cr_assert_eq (gw_outbox_next (ob, GW_LANE_TELEMETRY, 3, &row), 1);
    cr_assert_eq (row.seq, 4);
    cr_assert_eq (row.len, 0);
    cr_assert_eq (gw_outbox_next (ob, GW_LANE_TELEMETRY, 4, &row), 1);
    cr_assert_eq (row.seq, 5);
    cr_assert_eq (row.len, 20);
    cr_assert_eq (gw_outbox_next (ob, GW_LANE_ALARM, 0, &row), 1);
    cr_assert_eq (row.len, 20);
    /* Alarms alone beyond the cap are kept, and counted. */
    for (int i = 10; i <= 20; i++)
        cr_assert_eq (s_add (ob, GW_LANE_ALARM, "alm.f.a", (uint64_t) i, body, false), 0);
    gw_outbox_commit (ob);
    cr_assert_eq (gw_outbox_last (ob, GW_LANE_ALARM), 12);
    cr_assert_gt (gw_outbox_counters (ob)->over_cap, 0);
    gw_outbox_close (&ob);
}

Test (gw_outbox, delivery_record_round_trip)
{
    char path[400], err[256];
    snprintf (path, sizeof path, "%s/inbox.db", s_dir);
    gw_inbox_t *in = gw_inbox_open (path, false, err, sizeof err);
    cr_assert_not_null (in, "%s", err);
    uint64_t d[GW_LANES];
    cr_assert_eq (gw_inbox_get (in, "fb", d), 0);
    cr_assert_eq (d[0] + d[1] + d[2] + d[3], 0);
    uint64_t w[GW_LANES] = { 5, 6, 7, 8 };
    cr_assert_eq (gw_inbox_put (in, "fb", w), 0);
    gw_inbox_close (&in);
    in = gw_inbox_open (path, true, err, sizeof err);
    cr_assert_eq (gw_inbox_get (in, "fb", d), 0);
    cr_assert_eq (d[2], 7);
    gw_inbox_close (&in);
    char junk[400];
    snprintf (junk, sizeof junk, "%s/junk.db", s_dir);
    FILE *f = fopen (junk, "w");
    fputs ("this is not a database at all, not even close......................", f);
    fclose (f);
    cr_assert_null (gw_inbox_open (junk, false, err, sizeof err));
    cr_assert_null (gw_outbox_open (junk, 0, false, err, sizeof err));
}

/* ------------------------------------------------------------ config */

TestSuite (gw_config, .init = s_setup, .fini = s_teardown);

static int
s_load (const char *text, gw_config_t *cfg, char *err, size_t len)
{
    char path[400];
    snprintf (path, sizeof path, "%s/gw.yaml", s_dir);
    FILE *f = fopen (path, "w");
    fputs (text, f);
    fclose (f);
    return gw_config_load (path, cfg, err, len);
}

#define S_HEAD "factory: fa\nbind: tcp://127.0.0.1:1\nkey: k\nallow: a\nstate_dir: s\n"

Test (gw_config, loads_peers_links_and_lane_rules)
{
    static gw_config_t cfg;
    char err[512];
    int rc = s_load (S_HEAD "peers:\n  - factory: fb\n    key: fb.key\n"
                     "    export: [ \"alm.fa\", \"tel.fa.c1.>\" ]\n    import: [ \"alm.fb\" ]\n"
                     "    budget_bps: 2e6\n    links:\n"
                     "      - { endpoint: \"tcp://h:1\", profile: fibre }\n"
                     "      - { endpoint: \"tcp://h:2\", profile: mars, time_scale: 1000 }\n"
                     "lanes:\n  - { prefix: \"evt.fa.c1.ota\", lane: bulk }\n",
                     &cfg, err, sizeof err);
    cr_assert_eq (rc, 0, "%s", err);
    cr_assert_eq (cfg.n_peers, 1);
    cr_assert_eq (cfg.peers[0].n_links, 2);
    cr_assert_float_eq (cfg.peers[0].links[1].profile.time_scale, 1000, 1e-9);
    cr_assert_float_eq (cfg.peers[0].budget_bps, 2e6, 1);
    cr_assert (strstr (cfg.peers[0].key_path, "/fb.key"));
    cr_assert_eq (gw_config_lane (&cfg, "alm.fa.c1.x.y"), GW_LANE_ALARM);
    cr_assert_eq (gw_config_lane (&cfg, "cmd.fa.c1.x.y"), GW_LANE_COMMAND);
    cr_assert_eq (gw_config_lane (&cfg, "tel.fa.c1.x.y"), GW_LANE_TELEMETRY);
    cr_assert_eq (gw_config_lane (&cfg, "evt.fa.c1.ota.chunk"), GW_LANE_BULK);
    cr_assert_eq (gw_config_lane (&cfg, "evt.fa.c1.line.done"), GW_LANE_COMMAND);
}

Test (gw_config, refuses_loops_typos_and_bad_links)
{
    static gw_config_t cfg;
    char err[512];
    static const char *const bad[] = {
        /* exports another factory's topics: would loop */
        S_HEAD "peers:\n  - factory: fb\n    key: k\n    export: [ \"alm.fc\" ]\n"
               "    links: [ { endpoint: \"tcp://h:1\" } ]\n",
        /* a wildcard factory segment would export imports too */
        S_HEAD "peers:\n  - factory: fb\n    key: k\n    export: [ \"alm.*.x\" ]\n"
               "    links: [ { endpoint: \"tcp://h:1\" } ]\n",
        /* imports must name the peer */
        S_HEAD "peers:\n  - factory: fb\n    key: k\n    import: [ \"alm.fa\" ]\n"
               "    links: [ { endpoint: \"tcp://h:1\" } ]\n",
        S_HEAD "peers:\n  - factory: fb\n    key: k\n    links: []\n",
        S_HEAD "peers:\n  - factory: fb\n    key: k\n    links: [ { endpoint: \"x\", profile: moon } ]\n",
        S_HEAD "peers:\n  - factory: fa\n    key: k\n    links: [ { endpoint: \"x\" } ]\n",
        S_HEAD "typo: 1\n",
        "bind: x\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq (s_load (bad[i], &cfg, err, sizeof err), -1, "config %zu accepted", i);
    cr_assert (strstr (err, "factory"), "%s", err);
}

Test (gw_config, the_example_config_loads)
{
    static gw_config_t cfg;
    char err[512], path[600];
    const char *src = getenv ("AF_SRC");
    snprintf (path, sizeof path, "%s/deploy/gateway.yaml", src ? src : ".");
    cr_assert_eq (gw_config_load (path, &cfg, err, sizeof err), 0, "%s", err);
    cr_assert_eq (cfg.peers[0].n_links, 2);
    cr_assert_eq (gw_config_lane (&cfg, "evt.plant-a.ota.x"), GW_LANE_BULK);
}
