/*  Unit tests: envelope codec (stamping, hostile decoding, peek, sequence
 *  tracking), topic patterns, and config errors.  */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "af_codec.h"
#include "af_config.h"
#include "af_topic.h"
#include "af_test.h"

static uint8_t *
s_encode_telemetry (af_stamper_t *st, size_t *len)
{
    return aft_telemetry (st, "temp_c", 42.5, 123456789, len);
}

Test (codec, round_trip_and_sequence)
{
    af_stamper_t *st = af_stamper_new ("line1", "giga");
    size_t len;
    uint8_t *a = s_encode_telemetry (st, &len);
    free (a);
    uint8_t *b = s_encode_telemetry (st, &len);
    Autofab__Envelope *env;
    cr_assert_eq (af_envelope_decode (b, len, AF_MAX_MSG_BYTES, &env), AF_DECODE_OK);
    cr_assert_str_eq (env->header->source, "line1");
    cr_assert_str_eq (env->header->factory, "giga");
    cr_assert_eq (env->header->seq, 2);
    cr_assert_eq (env->header->t_ns, 123456789);
    cr_assert_eq (env->header->schema, AF_SCHEMA_VERSION);
    cr_assert_eq (env->header->msg_id.len, 16);
    cr_assert_float_eq (env->telemetry->metrics[0]->value, 42.5, 1e-12);
    af_peek_t peek;
    cr_assert_eq (af_envelope_peek (b, len, &peek), AF_DECODE_OK);
    cr_assert_eq (peek.seq, 2);
    cr_assert_eq (peek.session, af_stamper_session (st));
    cr_assert_eq (peek.source_len, 5);
    cr_assert_eq (memcmp (peek.source, "line1", 5), 0);
    autofab__envelope__free_unpacked (env, NULL);
    free (b);
    af_stamper_destroy (&st);
    cr_assert_null (st);
}

Test (codec, sequence_counts_per_topic)
{
    /* A subscriber to one topic of a source must see consecutive numbers:
     * each topic is its own stream. */
    af_stamper_t *st = af_stamper_new ("line1", "giga");
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    Autofab__Header hdr;
    uint8_t id[16];
    uint64_t seen[4];
    const char *topics[] = { "tel.a", "alm.b", "tel.a", "alm.b" };
    for (int i = 0; i < 4; i++) {
        af_stamper_stamp_topic (st, &env, &hdr, id, 1, topics[i], strlen (topics[i]));
        seen[i] = hdr.seq;
    }
    cr_assert_eq (seen[0], 1);
    cr_assert_eq (seen[1], 1);
    cr_assert_eq (seen[2], 2);
    cr_assert_eq (seen[3], 2);
    af_stamper_stamp (st, &env, &hdr, id, 1);    /* requests: their own counter */
    cr_assert_eq (hdr.seq, 1);
    af_stamper_destroy (&st);

    /* Stream keys, and per-source sums over a source's streams. */
    af_seqtrack_t *t = af_seqtrack_new ();
    char key[AF_STREAM_KEY_MAX];
    size_t len = af_stream_key (key, sizeof key, "src", 3, "tel.x", 5);
    cr_assert_eq (len, 9);
    af_seqtrack_note (t, key, len, 1, 1, 10, NULL);
    af_seqtrack_note (t, key, len, 1, 4, 10, NULL);             /* 2 missed */
    len = af_stream_key (key, sizeof key, "src", 3, "alm.y", 5);
    af_seqtrack_note (t, key, len, 1, 1, 5, NULL);
    len = af_stream_key (key, sizeof key, "src2", 4, "tel.x", 5);
    af_seqtrack_note (t, key, len, 1, 1, 7, NULL);
    af_source_stats_t sum;
    cr_assert_eq (af_seqtrack_source_sum (t, "src", &sum), 2);
    cr_assert_eq (sum.msgs, 3);
    cr_assert_eq (sum.bytes, 25);
    cr_assert_eq (sum.gaps, 2);
    cr_assert_eq (af_seqtrack_source_count (t), 2);
    cr_assert_eq (af_stream_key (key, 8, "src", 3, "tel.x", 5), 0, "too long for the buffer");
    af_seqtrack_destroy (&t);
}

Test (codec, refuses_hostile_input)
{
    af_stamper_t *st = af_stamper_new ("src", "f");
    size_t len;
    uint8_t *good = s_encode_telemetry (st, &len);
    Autofab__Envelope *env;
    cr_assert_eq (af_envelope_decode (good, 0, AF_MAX_MSG_BYTES, &env), AF_DECODE_EMPTY);
    cr_assert_eq (af_envelope_decode (good, len, len - 1, &env), AF_DECODE_TOO_LARGE);
    /* Every truncation of a valid message is refused, never crashes. */
    for (size_t cut = 1; cut < len; cut++) {
        af_decode_t why = af_envelope_decode (good, cut, AF_MAX_MSG_BYTES, &env);
        if (why == AF_DECODE_OK)
            autofab__envelope__free_unpacked (env, NULL);
        af_peek_t peek;
        af_envelope_peek (good, cut, &peek);
    }
    uint8_t garbage[64];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t) (i * 37 + 11);
    cr_assert_neq (af_envelope_decode (garbage, sizeof garbage, AF_MAX_MSG_BYTES, &env), AF_DECODE_OK);
    cr_assert_null (env);
    /* An envelope without a header is refused. */
    uint8_t no_header[] = { 0x52, 0x00 };   /* field 10 (telemetry), empty */
    cr_assert_eq (af_envelope_decode (no_header, sizeof no_header, AF_MAX_MSG_BYTES, &env), AF_DECODE_NO_HEADER);
    free (good);
    af_stamper_destroy (&st);
}

Test (codec, refuses_unknown_schema)
{
    size_t len;
    uint8_t *buf = aft_future_envelope (AF_SCHEMA_VERSION + 1, &len);
    Autofab__Envelope *out;
    cr_assert_eq (af_envelope_decode (buf, len, AF_MAX_MSG_BYTES, &out), AF_DECODE_SCHEMA);
    free (buf);
}

Test (codec, refuses_hostile_headers)
{
    Autofab__Envelope *out;
    /* A source with a NUL inside (it once reached the broker's stream table
     * and read past a short key copy). */
    uint8_t nul_source[] = { 0x0a, 0x07, 0x12, 0x03, 'a', 0x00, 'b', 0x30, 0x01 };
    cr_assert_eq (af_envelope_decode (nul_source, sizeof nul_source, AF_MAX_MSG_BYTES, &out), AF_DECODE_NO_HEADER);
    /* A source that is not one name segment, or too long. */
    uint8_t dotted[] = { 0x0a, 0x07, 0x12, 0x03, 'a', '.', 'b', 0x30, 0x01 };
    cr_assert_eq (af_envelope_decode (dotted, sizeof dotted, AF_MAX_MSG_BYTES, &out), AF_DECODE_NO_HEADER);
    /* Two header fields: protobuf would merge them into a schema 9 header
     * the peek never saw. */
    uint8_t two_headers[] = { 0x0a, 0x05, 0x12, 0x01, 'a', 0x30, 0x01, 0x0a, 0x02, 0x30, 0x09 };
    cr_assert_eq (af_envelope_decode (two_headers, sizeof two_headers, AF_MAX_MSG_BYTES, &out), AF_DECODE_MALFORMED);
    af_peek_t peek;
    cr_assert_neq (af_envelope_peek (two_headers, sizeof two_headers, &peek), AF_DECODE_OK);
    /* The same single header is fine. */
    uint8_t good[] = { 0x0a, 0x05, 0x12, 0x01, 'a', 0x30, 0x01 };
    cr_assert_eq (af_envelope_decode (good, sizeof good, AF_MAX_MSG_BYTES, &out), AF_DECODE_OK);
    autofab__envelope__free_unpacked (out, NULL);
    /* A stream key with a NUL inside is still compared whole. */
    af_seqtrack_t *t = af_seqtrack_new ();
    af_seqtrack_note (t, "a\0bcdefghijklmnop", 17, 1, 1, 1, NULL);
    cr_assert_not_null (af_seqtrack_find (t, "a\0bcdefghijklmnop", 17));
    cr_assert_null (af_seqtrack_find (t, "a\0bcdefghijklmnoq", 17));
    cr_assert_null (af_seqtrack_get_capped (t, "new", 3, 1), "table full at 1");
    af_seqtrack_destroy (&t);
}

Test (codec, seqtrack_counts_gaps_and_restarts)
{
    af_seqtrack_t *t = af_seqtrack_new ();
    cr_assert_eq (af_seqtrack_note (t, "a", 1, 7, 1, 10, NULL), 0);
    cr_assert_eq (af_seqtrack_note (t, "a", 1, 7, 2, 10, NULL), 0);
    cr_assert_eq (af_seqtrack_note (t, "a", 1, 7, 5, 10, NULL), 2);
    cr_assert_eq (af_seqtrack_note (t, "a", 1, 7, 4, 10, NULL), 0);   /* stale */
    cr_assert_eq (af_seqtrack_note (t, "a", 1, 9, 1, 10, NULL), 0);   /* restart */
    af_source_stats_t *s = af_seqtrack_find (t, "a", 1);
    cr_assert_eq (s->gaps, 2);
    cr_assert_eq (s->stale, 1);
    cr_assert_eq (s->sessions, 1);
    cr_assert_eq (s->msgs, 5);
    /* Many sources force the table to grow and keep every one. */
    char name[16];
    for (int i = 0; i < 1000; i++) {
        snprintf (name, sizeof name, "s%d", i);
        af_seqtrack_note (t, name, strlen (name), 1, 1, 1, NULL);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf (name, sizeof name, "s%d", i);
        cr_assert_not_null (af_seqtrack_find (t, name, strlen (name)));
    }
    cr_assert_eq (af_seqtrack_total_gaps (t), 2);
    af_seqtrack_destroy (&t);
}

Test (topic, validity)
{
    cr_assert (af_topic_valid ("tel.giga.cell3.line1.speed", 26));
    cr_assert_not (af_topic_valid ("tel..x", 6));
    cr_assert_not (af_topic_valid ("tel.x.", 6));
    cr_assert_not (af_topic_valid ("tel.*.x", 7));
    cr_assert_not (af_topic_valid ("tel x", 5));
    cr_assert_not (af_topic_valid ("", 0));
    cr_assert (af_topic_pattern_valid ("alm.*.cell3.>"));
    cr_assert_not (af_topic_pattern_valid ("alm.>.x"));
    cr_assert_not (af_topic_pattern_valid ("alm.c*"));
}

static bool
s_match (const char *pattern, const char *topic)
{
    return af_topic_match (pattern, topic, strlen (topic));
}

Test (topic, matching)
{
    cr_assert (s_match ("alm.*.cell3.>", "alm.giga.cell3.robot.jam"));
    cr_assert (s_match ("alm.*.cell3.>", "alm.giga.cell3.robot"));
    cr_assert_not (s_match ("alm.*.cell3.>", "alm.giga.cell3"));
    cr_assert_not (s_match ("alm.*.cell3.>", "alm.giga.cell4.robot"));
    cr_assert (s_match ("tel.*.*.*.speed", "tel.f.c.a.speed"));
    cr_assert_not (s_match ("tel.*.*.*.speed", "tel.f.c.a.speed.x"));
    cr_assert (s_match ("tel.f1", "tel.f1.c2.line.speed"));     /* literal: subtree */
    cr_assert (s_match ("tel.f1", "tel.f1"));
    cr_assert_not (s_match ("tel.f1", "tel.f10.c2"));
    cr_assert (s_match (">", "anything.at.all"));
    char prefix[64];
    cr_assert_eq (af_topic_prefix ("alm.*.cell3.>", prefix, sizeof prefix), 4);
    cr_assert_str_eq (prefix, "alm.");
    af_topic_prefix ("tel.f1", prefix, sizeof prefix);
    cr_assert_str_eq (prefix, "tel.f1");
}

Test (config, reads_values_and_reports_errors_with_lines)
{
    const char *text = "name: giga\nrate_per_h: 12.5\nstations:\n  - id: a\n    count: 3\n  - id: b\n    count: -2\n";
    char err[300];
    af_config_t *root = af_config_parse (text, strlen (text), "f.yaml", err, sizeof err);
    cr_assert_not_null (root);
    cr_assert_str_eq (af_config_str (root, "name", NULL), "giga");
    cr_assert_float_eq (af_config_num (root, "rate_per_h", 0, 0, 1e9), 12.5, 1e-12);
    af_config_t *stations = af_config_seq (root, "stations");
    cr_assert_eq (af_config_size (stations), 2);
    cr_assert_eq (af_config_int (af_config_at (stations, 0, NULL), "count", 0, 0, 10), 3);
    cr_assert_null (af_config_error (root));
    af_config_int (af_config_at (stations, 1, NULL), "count", 0, 0, 10);
    cr_assert_str_eq (af_config_error (root), "f.yaml:7: 'count' must be between 0 and 10, got -2");
    af_config_destroy (&root);
    cr_assert_null (root);
}

Test (config, missing_unknown_and_malformed)
{
    char err[300];
    const char *text = "a: 1\nspeed: fast\ntypo_key: 3\n";
    af_config_t *root = af_config_parse (text, strlen (text), "x.yaml", err, sizeof err);
    af_config_num_req (root, "b", 0, 10);
    cr_assert_str_eq (af_config_error (root), "x.yaml:1: missing required key 'b'");
    af_config_destroy (&root);

    root = af_config_parse (text, strlen (text), "x.yaml", err, sizeof err);
    af_config_num (root, "speed", 1, 0, 10);
    cr_assert_str_eq (af_config_error (root), "x.yaml:2: 'speed' must be a number, got 'fast'");
    af_config_destroy (&root);

    root = af_config_parse (text, strlen (text), "x.yaml", err, sizeof err);
    static const char *const keys[] = { "a", "speed", NULL };
    cr_assert_eq (af_config_known_keys (root, keys), -1);
    cr_assert_str_eq (af_config_error (root), "x.yaml:3: unknown key 'typo_key'");
    af_config_destroy (&root);

    const char *bad = "a: [1, 2\nb: 3\n";
    cr_assert_null (af_config_parse (bad, strlen (bad), "bad.yaml", err, sizeof err));
    cr_assert (strncmp (err, "bad.yaml:", 9) == 0, "got '%s'", err);
    const char *dup = "a: 1\na: 2\n";
    cr_assert_null (af_config_parse (dup, strlen (dup), "dup.yaml", err, sizeof err));
    cr_assert_str_eq (err, "dup.yaml:2: duplicate key 'a'");
    cr_assert_null (af_config_load ("/nonexistent/x.yaml", err, sizeof err));
    cr_assert (strstr (err, "cannot open") != NULL);
}

/* ----------------------------------------------------------------- batches */

Test (codec, batch_records_come_back_in_order)
{
    af_stamper_t *st = af_stamper_new ("line1", "giga");
    uint8_t *recs[3];
    size_t lens[3];
    for (int i = 0; i < 3; i++)
        recs[i] = s_encode_telemetry (st, &lens[i]);
    uint8_t batch[1024];
    size_t len = aft_batch (batch, sizeof batch, recs, lens, 3);
    cr_assert_gt (len, 0);
    cr_assert (af_batch_is (batch, len));
    cr_assert_not (af_batch_is (recs[0], lens[0]), "an envelope is not a batch");
    cr_assert_not (af_batch_is (batch, 1));
    /* An envelope's decoder does not mistake a batch for an envelope. */
    Autofab__Envelope *env;
    cr_assert_neq (af_envelope_decode (batch, len, AF_MAX_MSG_BYTES, &env), AF_DECODE_OK);
    af_batch_iter_t it;
    af_batch_iter_init (&it, batch, len);
    const uint8_t *rec;
    size_t rec_len;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq (af_batch_next (&it, &rec, &rec_len), 1);
        cr_assert_eq (rec_len, lens[i]);
        cr_assert_eq (memcmp (rec, recs[i], rec_len), 0);
        cr_assert_eq (af_envelope_decode (rec, rec_len, AF_MAX_MSG_BYTES, &env), AF_DECODE_OK);
        cr_assert_eq (env->header->seq, (uint64_t) i + 1);
        autofab__envelope__free_unpacked (env, NULL);
        free (recs[i]);
    }
    cr_assert_eq (af_batch_next (&it, &rec, &rec_len), 0);
    af_stamper_destroy (&st);
}

Test (codec, an_envelope_never_carries_the_batch_field)
{
    /* Field 2047 before (it would look like a batch on its own) or after
     * the envelope's fields is refused, by the peek and by the decoder. */
    af_stamper_t *st = af_stamper_new ("line1", "giga");
    size_t len;
    uint8_t *rec = s_encode_telemetry (st, &len);
    uint8_t both[600];
    uint8_t *front = both, *back = both + 300;
    front[0] = 0xFA, front[1] = 0x7F, front[2] = 0x00;
    memcpy (front + 3, rec, len);
    memcpy (back, rec, len);
    back[len] = 0xFA, back[len + 1] = 0x7F, back[len + 2] = 0x00;
    af_peek_t peek;
    Autofab__Envelope *env;
    cr_assert_eq (af_envelope_peek (front, len + 3, &peek), AF_DECODE_MALFORMED);
    cr_assert_eq (af_envelope_decode (front, len + 3, AF_MAX_MSG_BYTES, &env), AF_DECODE_MALFORMED);
    cr_assert_eq (af_envelope_peek (back, len + 3, &peek), AF_DECODE_MALFORMED);
    cr_assert_eq (af_envelope_decode (back, len + 3, AF_MAX_MSG_BYTES, &env), AF_DECODE_MALFORMED);
    cr_assert_eq (af_envelope_peek (rec, len, &peek), AF_DECODE_OK);
    free (rec);
    af_stamper_destroy (&st);
}

Test (codec, batch_prefix_lengths)
{
    uint8_t p[AF_BATCH_PREFIX_MAX];
    cr_assert_eq (af_batch_prefix (p, 0), 3);
    cr_assert_eq (af_batch_prefix (p, 127), 3);
    cr_assert_eq (af_batch_prefix (p, 128), 4);
    cr_assert_eq (p[0], 0xFA);
    cr_assert_eq (p[1], 0x7F);
    cr_assert_eq (p[2], 0x80);
    cr_assert_eq (p[3], 0x01);
    cr_assert_eq (af_batch_prefix (p, AF_MAX_MSG_BYTES), 5);
}

Test (codec, batch_refuses_what_it_cannot_read)
{
    af_stamper_t *st = af_stamper_new ("line1", "giga");
    size_t len;
    uint8_t *rec = s_encode_telemetry (st, &len);
    uint8_t batch[4096];
    uint8_t *recs[2] = { rec, rec };
    size_t lens[2] = { len, len };
    size_t blen = aft_batch (batch, sizeof batch, recs, lens, 2);
    af_batch_iter_t it;
    const uint8_t *r;
    size_t rl;
    /* Truncated: the second record's length runs past the end. */
    af_batch_iter_init (&it, batch, blen - 1);
    cr_assert_eq (af_batch_next (&it, &r, &rl), 1);
    cr_assert_eq (af_batch_next (&it, &r, &rl), -1);
    cr_assert_eq (af_batch_next (&it, &r, &rl), 0, "nothing after a bad record");
    /* Another field where a record should be. */
    size_t second = blen - len - 3;
    batch[second] = 0x0A;
    af_batch_iter_init (&it, batch, blen);
    cr_assert_eq (af_batch_next (&it, &r, &rl), 1);
    cr_assert_eq (af_batch_next (&it, &r, &rl), -1);
    /* A length varint that never ends. */
    uint8_t endless[16] = { 0xFA, 0x7F };
    memset (endless + 2, 0xFF, sizeof endless - 2);
    af_batch_iter_init (&it, endless, sizeof endless);
    cr_assert_eq (af_batch_next (&it, &r, &rl), -1);
    /* More records than a batch may carry (empty ones: 3 bytes each). */
    size_t many = (AF_BATCH_MAX_RECORDS + 1) * 3;
    uint8_t *lots = malloc (many);
    for (size_t i = 0; i < many; i += 3)
        af_batch_prefix (lots + i, 0);
    af_batch_iter_init (&it, lots, many);
    size_t got = 0;
    int rc;
    while ((rc = af_batch_next (&it, &r, &rl)) == 1)
        got++;
    cr_assert_eq (got, AF_BATCH_MAX_RECORDS);
    cr_assert_eq (rc, -1);
    free (lots);
    free (rec);
    af_stamper_destroy (&st);
}

/* ------------------------------------------------- hand-written header */

/* Packs ENV both ways and checks the bytes are the same; returns them. */
static uint8_t *
s_pack_both (const Autofab__Envelope *env, size_t *len)
{
    size_t want = autofab__envelope__get_packed_size (env);
    cr_assert_eq (af_envelope_packed_size (env), want);
    uint8_t *a = malloc (want + 1), *b = malloc (want + 1);
    cr_assert_eq (autofab__envelope__pack (env, a), want);
    cr_assert_eq (af_envelope_pack (env, b), want);
    cr_assert_eq (memcmp (a, b, want), 0, "hand-packed header differs from protobuf-c's");
    free (a);
    *len = want;
    return b;
}

/* Decodes DATA with af_envelope_decode and with protobuf-c alone; the two
 * must re-encode to the same bytes. */
static void
s_decode_both (const uint8_t *data, size_t len)
{
    Autofab__Envelope *fast, *slow = autofab__envelope__unpack (NULL, len, data);
    cr_assert_not_null (slow);
    cr_assert_eq (af_envelope_decode (data, len, AF_MAX_MSG_BYTES, &fast), AF_DECODE_OK);
    size_t n = autofab__envelope__get_packed_size (slow);
    cr_assert_eq (autofab__envelope__get_packed_size (fast), n);
    uint8_t *a = malloc (n + 1), *b = malloc (n + 1);
    autofab__envelope__pack (slow, a);
    autofab__envelope__pack (fast, b);
    cr_assert_eq (memcmp (a, b, n), 0, "decoded envelopes differ");
    free (a);
    free (b);
    autofab__envelope__free_unpacked (fast, NULL);
    autofab__envelope__free_unpacked (slow, NULL);
}

Test (codec, hand_header_matches_protobuf_c)
{
    uint8_t id[16], sig[64];
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t) (i * 37);
    for (int i = 0; i < 64; i++)
        sig[i] = (uint8_t) (255 - i);
    const uint64_t values[] = { 0, 1, 127, 128, 16383, 16384, UINT32_MAX, 1ull << 40, UINT64_MAX };
    const char *strings[] = { NULL, "", "a", "press-7" };
    Autofab__Metric m = AUTOFAB__METRIC__INIT;
    m.name = "temp_c";
    m.value = 71.5;
    m.unit = "degC";
    Autofab__Metric *mp = &m;
    Autofab__Telemetry tel = AUTOFAB__TELEMETRY__INIT;
    tel.metrics = &mp;
    tel.n_metrics = 1;
    Autofab__Event ev = AUTOFAB__EVENT__INIT;
    ev.kind = "started";
    int cases = 0;
    for (size_t v = 0; v < sizeof values / sizeof *values; v++)
        for (size_t s = 0; s < sizeof strings / sizeof *strings; s++)
            for (int payload = 0; payload < 3; payload++) {
                Autofab__Header h = AUTOFAB__HEADER__INIT;
                h.msg_id.data = v % 2 ? id : NULL;
                h.msg_id.len = v % 2 ? 16 : 0;
                h.source = (char *) (s ? "line-1" : strings[s]);
                h.seq = values[v];
                h.t_ns = values[(v + 3) % 9];
                h.factory = (char *) strings[s];
                h.schema = v % 4 == 3 ? (uint32_t) values[v] : AF_SCHEMA_VERSION;
                h.session = (uint32_t) values[(v + 5) % 7];
                h.key_id = (char *) strings[(s + 1) % 4];
                h.signature.data = payload == 2 ? sig : NULL;
                h.signature.len = payload == 2 ? 64 : 0;
                Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
                env.header = &h;
                if (payload == 1) {
                    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY;
                    env.telemetry = &tel;
                }
                else if (payload == 2) {
                    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_EVENT;
                    env.event = &ev;
                }
                size_t len;
                uint8_t *bytes = s_pack_both (&env, &len);
                /* Whatever af_envelope_decode accepts, it reads as protobuf-c does. */
                Autofab__Envelope *d;
                if (af_envelope_decode (bytes, len, AF_MAX_MSG_BYTES, &d) == AF_DECODE_OK) {
                    autofab__envelope__free_unpacked (d, NULL);
                    s_decode_both (bytes, len);
                    cases++;
                }
                free (bytes);
            }
    cr_assert_gt (cases, 20, "too few cases decoded to compare");
    /* No header at all: protobuf-c's own path. */
    Autofab__Envelope bare = AUTOFAB__ENVELOPE__INIT;
    size_t len;
    free (s_pack_both (&bare, &len));
}

Test (codec, decode_takes_headers_in_any_order)
{
    /* A payload before the header, and header fields out of order and
     * repeated: not what we write, but valid protobuf; decoded as
     * protobuf-c decodes it. */
    af_stamper_t *st = af_stamper_new ("line1", "giga");
    size_t len;
    uint8_t *canon = s_encode_telemetry (st, &len);
    cr_assert_eq (canon[0], 0x0A);
    size_t hlen = canon[1];            /* short header: one-byte length */
    uint8_t moved[512];
    memcpy (moved, canon + 2 + hlen, len - 2 - hlen);       /* payload first */
    memcpy (moved + len - 2 - hlen, canon, 2 + hlen);       /* then header */
    s_decode_both (moved, len);
    Autofab__Envelope *env;
    cr_assert_eq (af_envelope_decode (moved, len, AF_MAX_MSG_BYTES, &env), AF_DECODE_OK);
    cr_assert_str_eq (env->header->source, "line1");
    autofab__envelope__free_unpacked (env, NULL);
    /* The header's seq twice (the last one counts) and an unknown field. */
    uint8_t odd[600];
    size_t n = 0;
    odd[n++] = 0x0A;
    odd[n++] = (uint8_t) (hlen + 4);
    memcpy (odd + n, canon + 2, hlen);
    n += hlen;
    odd[n++] = 3 << 3;                 /* seq = 9 */
    odd[n++] = 9;
    odd[n++] = 15 << 3;                /* unknown field 15 = 1 */
    odd[n++] = 1;
    memcpy (odd + n, canon + 2 + hlen, len - 2 - hlen);
    n += len - 2 - hlen;
    s_decode_both (odd, n);
    cr_assert_eq (af_envelope_decode (odd, n, AF_MAX_MSG_BYTES, &env), AF_DECODE_OK);
    cr_assert_eq (env->header->seq, 9);
    autofab__envelope__free_unpacked (env, NULL);
    free (canon);
    af_stamper_destroy (&st);
}

Test (config, files_are_read_whole_and_capped)
{
    char dir[256], path[300], err[400] = "";
    cr_assert (aft_tmpdir (dir, sizeof dir, "af-config"));
    snprintf (path, sizeof path, "%s/c.yaml", dir);
    FILE *f = fopen (path, "w");
    fputs ("a: 1\nb: [2, 3]\n", f);
    fclose (f);
    size_t len = 0;
    char *text = af_config_read (path, &len, err, sizeof err);
    cr_assert_not_null (text, "%s", err);
    cr_assert_eq (len, 15);
    cr_assert_str_eq (text, "a: 1\nb: [2, 3]\n");
    free (text);
    /* One byte over the cap: refused before parsing, with the path. */
    f = fopen (path, "w");
    char line[64];
    memset (line, ' ', sizeof line);
    line[0] = '#';
    line[63] = '\n';
    for (size_t i = 0; i <= AF_CONFIG_MAX_BYTES; i += sizeof line)
        fwrite (line, 1, sizeof line, f);
    fclose (f);
    cr_assert_null (af_config_load (path, err, sizeof err));
    cr_assert (strstr (err, "larger than") && strstr (err, "c.yaml"), "%s", err);
    snprintf (path, sizeof path, "%s/none.yaml", dir);
    cr_assert_null (af_config_read (path, &len, err, sizeof err));
    cr_assert (strstr (err, "cannot open"), "%s", err);
    cr_assert (aft_rmtree (dir));
}
