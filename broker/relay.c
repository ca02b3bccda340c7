/*  broker/relay.c — the pub/sub relay: ingress (XSUB) to egress (XPUB).
 *
 *  This is the hot path.  Frames are moved, never copied or fully decoded:
 *  the header is peeked in place for the per-source counters and gap
 *  detection, and the body is kept in the last-value cache by reference.
 *  ZeroMQ already coalesces queued messages into one write per batch, and the
 *  loop drains a burst of messages per poll so that it never adds delay when
 *  the queue is empty and never pays a poll per message when it is full.
 */
#include "broker_internal.h"
#include "af_clock.h"
#include "af_wire.h"

/* Reads and discards the rest of a multipart message. */
static void
s_drain (void *socket)
{
    int more = 1;
    while (more) {
        zmq_msg_t scratch;
        zmq_msg_init (&scratch);
        if (zmq_msg_recv (&scratch, socket, ZMQ_DONTWAIT) < 0)
            more = 0;
        else
            more = zmq_msg_more (&scratch);
        zmq_msg_close (&scratch);
    }
}

/* Counts and logs (once per reason) a refused message. */
static void
s_refuse (broker_t *self, af_decode_t why, zmq_msg_t *topic)
{
    switch (why) {
    case AF_DECODE_TOO_LARGE: self->counters.relay_too_large++; break;
    case AF_DECODE_NO_HEADER: self->counters.relay_no_header++; break;
    case AF_DECODE_SCHEMA: self->counters.relay_bad_schema++; break;
    default: self->counters.relay_malformed++; break;
    }
    static bool s_logged[AF_DECODE_REASONS];
    if (!s_logged[why]) {
        s_logged[why] = true;
        af_warn ("relay: refused a message on '%.*s': %s (counted; logged once)",
                 (int) (zmq_msg_size (topic) > 80 ? 80 : zmq_msg_size (topic)),
                 (const char *) zmq_msg_data (topic), af_decode_str (why));
    }
}

/* The stream a batch's previous record counted on: records of one batch
 * share the topic, and mostly the source, so one lookup serves them all. */
typedef struct {
    const char *source;      /* points into the batch */
    size_t source_len;
    af_source_stats_t *stream;
} s_last_t;

/* Checks one envelope (DATA, LEN bytes) on topic T and counts it against
 * its stream (gaps).  AF_DECODE_OK if it may be relayed.  LAST (may be
 * NULL) remembers the stream between records of one batch. */
static af_decode_t
s_admit (broker_t *self, const char *t, size_t t_len, const void *data, size_t len, s_last_t *last)
{
    if (len > self->opts.max_msg_bytes)
        return AF_DECODE_TOO_LARGE;
    af_peek_t peek;
    af_decode_t why = af_envelope_peek (data, len, &peek);
    if (why != AF_DECODE_OK)
        return why;
    /* A valid header over a garbage payload would be relayed, cached and
     * journaled, and refused by every subscriber: one walk of the bytes
     * (no decode, no allocation) finds it here instead. */
    if (!af_wire_check (&autofab__envelope__descriptor, data, len, NULL))
        return AF_DECODE_MALFORMED;
    af_source_stats_t *stream;
    if (last && last->stream && last->source_len == peek.source_len
        && memcmp (last->source, peek.source, peek.source_len) == 0)
        stream = last->stream;
    else {
        /* Gaps count per stream (source and topic): that is how senders number. */
        char key[AF_STREAM_KEY_MAX];
        size_t key_len = af_stream_key (key, sizeof key, peek.source, peek.source_len, t, t_len);
        stream = key_len ? af_seqtrack_get_capped (self->sources, key, key_len, BROKER_MAX_STREAMS)
                         : NULL;
        if (last)
            *last = (s_last_t) { peek.source, peek.source_len, stream };
    }
    if (stream)
        self->counters.relay_gaps += af_seqtrack_apply (self->sources, stream, peek.session, peek.seq,
                                                        len, NULL);
    else
        self->counters.streams_full++;
    return AF_DECODE_OK;
}

/* Replaces BODY (a batch) by a copy of the records KEEP marks (GOOD of
 * them, WIRE bytes as a batch), or by the one good record alone; 0 or -1. */
static int
s_batch_rebuild (zmq_msg_t *body, const bool keep[], size_t good, size_t wire)
{
    af_batch_iter_t it;
    af_batch_iter_init (&it, zmq_msg_data (body), zmq_msg_size (body));
    const uint8_t *rec;
    size_t len;
    zmq_msg_t out;
    if (good == 1) {
        for (size_t i = 0; af_batch_next (&it, &rec, &len) == 1; i++)
            if (keep[i])
                break;
        if (zmq_msg_init_size (&out, len) != 0)
            return -1;
        memcpy (zmq_msg_data (&out), rec, len);
    }
    else {
        if (zmq_msg_init_size (&out, wire) != 0)
            return -1;
        uint8_t *w = zmq_msg_data (&out);
        for (size_t i = 0; af_batch_next (&it, &rec, &len) == 1; i++)
            if (keep[i])
                w += af_batch_put (w, rec, len);
    }
    zmq_msg_close (body);
    zmq_msg_init (body);
    zmq_msg_move (body, &out);
    return 0;
}

/* True if TOPIC's messages go into the last-value cache. */
static bool
s_cacheable (const broker_t *self, zmq_msg_t *topic)
{
    return self->cache && zmq_msg_size (topic) >= self->cache_prefix_len
           && memcmp (zmq_msg_data (topic), self->opts.cache_prefix, self->cache_prefix_len) == 0;
}

/* Keeps BODY (one envelope) in the last-value cache, by reference. */
static void
s_cache (broker_t *self, zmq_msg_t *topic, zmq_msg_t *body)
{
    if (!s_cacheable (self, topic))
        return;
    int rc = cache_put (self->cache, zmq_msg_data (topic), zmq_msg_size (topic), body);
    if (rc == CACHE_FULL_TOPICS)
        self->counters.cache_full++;
    else if (rc == CACHE_FULL_BYTES) {
        self->counters.cache_bytes_full++;
        AF_LOG_ONCE (AF_LOG_WARN, "cache: cache_max_bytes (%ld) reached: topics that do not fit are not "
                     "cached (counted as cache_bytes_full; logged once)", self->opts.cache_max_bytes);
    }
}

/* Keeps a copy of REC (a batch's newest record, LEN bytes), so that the
 * cache does not pin the whole frame. */
static void
s_cache_copy (broker_t *self, zmq_msg_t *topic, const uint8_t *rec, size_t len)
{
    zmq_msg_t copy;
    if (!s_cacheable (self, topic) || zmq_msg_init_size (&copy, len) != 0)
        return;
    memcpy (zmq_msg_data (&copy), rec, len);
    s_cache (self, topic, &copy);
    zmq_msg_close (&copy);
}

/* Checks every record of a batch and caches the newest good one.  The frame
 * is relayed whole when all are good (no copy), rebuilt without the bad
 * ones otherwise.  Returns the number of good records (0: drop it) and
 * their size in *BYTES. */
static size_t
s_admit_batch (broker_t *self, zmq_msg_t *topic, zmq_msg_t *body, size_t *bytes)
{
    const char *t = zmq_msg_data (topic);
    size_t t_len = zmq_msg_size (topic);
    af_batch_iter_t it;
    af_batch_iter_init (&it, zmq_msg_data (body), zmq_msg_size (body));
    s_last_t last = { 0 };
    bool keep[AF_BATCH_MAX_RECORDS];
    size_t n = 0, good = 0, wire = 0;
    *bytes = 0;
    const uint8_t *rec, *newest = NULL;
    size_t len, newest_len = 0;
    int rc;
    while ((rc = af_batch_next (&it, &rec, &len)) == 1) {
        af_decode_t why = s_admit (self, t, t_len, rec, len, &last);
        keep[n++] = why == AF_DECODE_OK;
        if (why != AF_DECODE_OK) {
            s_refuse (self, why, topic);
            continue;
        }
        uint8_t prefix[AF_BATCH_PREFIX_MAX];
        good++;
        *bytes += len;
        wire += af_batch_prefix (prefix, len) + len;
        newest = rec;
        newest_len = len;
    }
    if (rc < 0)
        s_refuse (self, AF_DECODE_MALFORMED, topic);
    if (!good)
        return 0;
    s_cache_copy (self, topic, newest, newest_len);
    if ((good < n || rc < 0) && s_batch_rebuild (body, keep, good, wire) != 0)
        return 0;
    return good;
}

/* The relay's own coalescing (DESIGN §2): plain envelopes that are already
 * queued on the ingress for one topic leave the egress as one Batch, so a
 * publisher that does not coalesce still costs each subscriber one ZeroMQ
 * message per run.  Nothing waits for more than the burst being drained:
 * the run is sent when the topic changes, when it is full, and at the end
 * of the burst (an empty queue). */
typedef struct {
    zmq_msg_t topic, first;  /* the run's topic frame, and its body while alone */
    size_t count, bytes;     /* envelopes in the run, and their bytes */
    size_t len;              /* bytes of self->run_buf used, once count > 1 */
} s_run_t;

/* Sends TOPIC and BODY (one envelope, or a batch of MSGS envelopes of BYTES
 * bytes) on the egress, counting them. */
static void
s_send (broker_t *self, zmq_msg_t *topic, zmq_msg_t *body, size_t msgs, size_t bytes)
{
    if (zmq_msg_send (topic, self->egress_h, ZMQ_SNDMORE) < 0
        || zmq_msg_send (body, self->egress_h, 0) < 0) {
        self->counters.relay_send_failed += msgs;
        zmq_msg_close (topic);
        zmq_msg_close (body);
        return;
    }
    self->counters.relayed_msgs += msgs;
    self->counters.relayed_bytes += bytes;
    self->counters.relayed_batches += msgs > 1;
}

static void
s_run_flush (broker_t *self, s_run_t *run)
{
    if (!run->count)
        return;
    if (run->count == 1)
        s_send (self, &run->topic, &run->first, 1, run->bytes);
    else {
        zmq_msg_t batch;
        if (zmq_msg_init_size (&batch, run->len) == 0) {
            memcpy (zmq_msg_data (&batch), self->run_buf, run->len);
            s_send (self, &run->topic, &batch, run->count, run->bytes);
        }
        else {
            self->counters.relay_send_failed += run->count;
            zmq_msg_close (&run->topic);
        }
    }
    run->count = run->bytes = run->len = 0;
}

/* Adds an admitted plain envelope (TOPIC, BODY; both taken) to the run,
 * sending the run first if it is on another topic or full. */
static void
s_run_add (broker_t *self, s_run_t *run, zmq_msg_t *topic, zmq_msg_t *body)
{
    size_t t_len = zmq_msg_size (topic), b_len = zmq_msg_size (body);
    if (run->count
        && (t_len != zmq_msg_size (&run->topic)
            || memcmp (zmq_msg_data (topic), zmq_msg_data (&run->topic), t_len) != 0
            || run->count >= AF_BUS_COALESCE
            || (run->count > 1 ? run->len : AF_BATCH_PREFIX_MAX + zmq_msg_size (&run->first))
                       + AF_BATCH_PREFIX_MAX + b_len
                   > AF_BATCH_MAX_BYTES
            || (!self->run_buf && !(self->run_buf = malloc (AF_BATCH_MAX_BYTES)))))
        s_run_flush (self, run);
    if (!run->count) {
        zmq_msg_init (&run->topic);
        zmq_msg_move (&run->topic, topic);
        zmq_msg_init (&run->first);
        zmq_msg_move (&run->first, body);
        run->count = 1;
        run->bytes = b_len;
        zmq_msg_close (topic);
        zmq_msg_close (body);
        return;
    }
    if (run->count == 1) {
        /* The second envelope: the run becomes a batch. */
        run->len += af_batch_put (self->run_buf + run->len, zmq_msg_data (&run->first),
                                  zmq_msg_size (&run->first));
        zmq_msg_close (&run->first);
    }
    run->len += af_batch_put (self->run_buf + run->len, zmq_msg_data (body), b_len);
    run->count++;
    run->bytes += b_len;
    zmq_msg_close (topic);
    zmq_msg_close (body);
}

int
broker__relay (broker_t *self, int burst)
{
    int relayed = 0;
    s_run_t run = { .count = 0 };
    for (int i = 0; i < burst; i++) {
        zmq_msg_t topic, body;
        zmq_msg_init (&topic);
        if (zmq_msg_recv (&topic, self->ingress_h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&topic);
            break;
        }
        if (!zmq_msg_more (&topic)) {
            self->counters.relay_bad_frames++;
            AF_LOG_ONCE (AF_LOG_WARN, "relay: refused a 1-frame message (want [topic][envelope])");
            zmq_msg_close (&topic);
            continue;
        }
        zmq_msg_init (&body);
        zmq_msg_recv (&body, self->ingress_h, 0);
        if (zmq_msg_more (&body)) {
            s_drain (self->ingress_h);
            self->counters.relay_bad_frames++;
            AF_LOG_ONCE (AF_LOG_WARN, "relay: refused a message of 3+ frames (want 2)");
            goto drop;
        }
        const char *t = zmq_msg_data (&topic);
        size_t t_len = zmq_msg_size (&topic);
        if (!af_topic_valid (t, t_len)) {
            self->counters.relay_bad_topic++;
            AF_LOG_ONCE (AF_LOG_WARN, "relay: refused a message with an invalid topic");
            goto drop;
        }
        size_t msgs = 1, bytes = zmq_msg_size (&body);
        bool batch = af_batch_is (zmq_msg_data (&body), bytes);
        if (batch) {
            /* Each record is held to the cap; the frame to the batch cap. */
            if (bytes > AF_BATCH_FRAME_CAP (self->opts.max_msg_bytes)) {
                s_refuse (self, AF_DECODE_TOO_LARGE, &topic);
                goto drop;
            }
            msgs = s_admit_batch (self, &topic, &body, &bytes);
            if (!msgs)
                goto drop;
        }
        else {
            af_decode_t why = s_admit (self, t, t_len, zmq_msg_data (&body), bytes, NULL);
            if (why != AF_DECODE_OK) {
                s_refuse (self, why, &topic);
                goto drop;
            }
            s_cache (self, &topic, &body);
        }
        if (self->journal)
            broker_journal_offer (self->journal, t, t_len, &body, msgs);
        relayed++;
        if (af_batch_is (zmq_msg_data (&body), zmq_msg_size (&body))) {
            /* Already a batch: after the run before it, whole, no copy (a
             * rebuilt batch left with one record is a plain envelope). */
            s_run_flush (self, &run);
            s_send (self, &topic, &body, msgs, bytes);
        }
        else
            s_run_add (self, &run, &topic, &body);
        continue;
drop:
        zmq_msg_close (&topic);
        zmq_msg_close (&body);
    }
    s_run_flush (self, &run);
    return relayed;
}

/* Stamps ENV and sends it on the egress; CACHE: keep it in the last-value
 * cache too; MARKER: a snapshot marker (topic-less numbering). */
static int
s_publish (broker_t *self, const char *topic, Autofab__Envelope *env, bool cache, bool marker)
{
    Autofab__Header hdr;
    uint8_t msg_id[16];
    af_stamper_stamp_topic (self->stamper, env, &hdr, msg_id, af_clock_now_ns (NULL),
                            marker ? NULL : topic, strlen (topic));
    size_t len;
    uint8_t *buf = af_envelope_encode (env, self->opts.max_msg_bytes, &len);
    env->header = NULL;
    if (!buf)
        return -1;
    zmq_msg_t t, b;
    zmq_msg_init_size (&t, strlen (topic));
    memcpy (zmq_msg_data (&t), topic, strlen (topic));
    zmq_msg_init_size (&b, len);
    memcpy (zmq_msg_data (&b), buf, len);
    free (buf);
    if (self->cache && cache)
        cache_put (self->cache, topic, strlen (topic), &b);
    int rc = 0;
    if (zmq_msg_send (&t, self->egress_h, ZMQ_SNDMORE) < 0 || zmq_msg_send (&b, self->egress_h, 0) < 0) {
        zmq_msg_close (&t);
        zmq_msg_close (&b);
        rc = -1;
    }
    return rc;
}

int
broker__publish (broker_t *self, const char *topic, Autofab__Envelope *env)
{
    return s_publish (self, topic, env, true, false);
}

int
broker__publish_marker (broker_t *self, const char *topic)
{
    /* Every snapshot brings a new marker topic: number markers with the
     * topic-less counter so that they leave nothing behind. */
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    return s_publish (self, topic, &env, false, true);
}
