/*  af_codec — envelope stamping, encoding, decoding, peeking and sequence
 *  tracking (see af_codec.h).  */
#include "af_codec.h"
#include "af_topic.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

static const char *const s_reasons[AF_DECODE_REASONS] = {
    "ok", "empty frame", "too large", "malformed protobuf", "no header", "unknown schema version",
};

const char *
af_decode_str (af_decode_t reason)
{
    return (unsigned) reason < AF_DECODE_REASONS ? s_reasons[reason] : "?";
}

/* -------------------------------------------------------------- stamping */

struct af_stamper {
    char *source;
    char *factory;
    uint32_t session;
    uint64_t seq;            /* envelopes without a topic */
    uint32_t counter;
    af_seqtrack_t *topics;   /* topic → last sequence number used */
};

af_stamper_t *
af_stamper_new (const char *source, const char *factory)
{
    af_stamper_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->source = strdup (source ? source : "");
    self->factory = strdup (factory ? factory : "");
    self->topics = af_seqtrack_new ();
    if (!self->source || !self->factory || !self->topics) {
        af_stamper_destroy (&self);
        return NULL;
    }
    if (sodium_init () < 0)
        self->session = (uint32_t) random ();
    else
        self->session = randombytes_random ();
    if (self->session == 0)
        self->session = 1;
    return self;
}

void
af_stamper_destroy (af_stamper_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->source);
    free ((*self_p)->factory);
    af_seqtrack_destroy (&(*self_p)->topics);
    free (*self_p);
    *self_p = NULL;
}

static void
s_put_be (uint8_t *out, uint64_t value, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, value >>= 8)
        out[i] = (uint8_t) value;
}

void
af_stamper_stamp (af_stamper_t *self, Autofab__Envelope *env, Autofab__Header *hdr,
                  uint8_t msg_id[16], uint64_t t_ns)
{
    af_stamper_stamp_topic (self, env, hdr, msg_id, t_ns, NULL, 0);
}

void
af_stamper_stamp_topic (af_stamper_t *self, Autofab__Envelope *env, Autofab__Header *hdr,
                        uint8_t msg_id[16], uint64_t t_ns, const char *topic, size_t topic_len)
{
    uint64_t seq;
    af_source_stats_t *s = topic ? af_seqtrack_get (self->topics, topic, topic_len) : NULL;
    if (s) {
        seq = ++s->last_seq;
        s->msgs++;
    }
    else
        seq = ++self->seq;
    autofab__header__init (hdr);
    s_put_be (msg_id, t_ns, 8);
    s_put_be (msg_id + 8, self->session, 4);
    s_put_be (msg_id + 12, ++self->counter, 4);
    hdr->msg_id.data = msg_id;
    hdr->msg_id.len = 16;
    hdr->source = self->source;
    hdr->seq = seq;
    hdr->t_ns = t_ns;
    hdr->factory = self->factory;
    hdr->schema = AF_SCHEMA_VERSION;
    hdr->session = self->session;
    env->header = hdr;
}

void
af_stamper_unstamp_topic (af_stamper_t *self, const char *topic, size_t topic_len)
{
    af_source_stats_t *s = af_seqtrack_find (self->topics, topic, topic_len);
    if (s && s->last_seq > 0) {
        s->last_seq--;
        s->msgs--;
    }
}

uint32_t af_stamper_session (const af_stamper_t *self) { return self->session; }

/* -------------------------------------------------------------- encoding */

uint8_t *
af_envelope_encode (const Autofab__Envelope *env, size_t max_bytes, size_t *len_out)
{
    size_t len = autofab__envelope__get_packed_size (env);
    if (len > max_bytes)
        return NULL;
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return NULL;
    *len_out = autofab__envelope__pack (env, buf);
    return buf;
}

af_decode_t
af_envelope_decode (const void *data, size_t len, size_t max_bytes, Autofab__Envelope **out)
{
    return af_envelope_decode_with (data, len, max_bytes, NULL, out);
}

af_decode_t
af_envelope_decode_with (const void *data, size_t len, size_t max_bytes, ProtobufCAllocator *allocator,
                         Autofab__Envelope **out)
{
    *out = NULL;
    if (len == 0)
        return AF_DECODE_EMPTY;
    if (len > max_bytes)
        return AF_DECODE_TOO_LARGE;
    /* Check the schema before the full unpack: a newer schema may carry fields
     * whose meaning we would get wrong. */
    af_peek_t peek;
    af_decode_t why = af_envelope_peek (data, len, &peek);
    if (why != AF_DECODE_OK)
        return why;
    Autofab__Envelope *env = autofab__envelope__unpack (allocator, len, data);
    if (!env)
        return AF_DECODE_MALFORMED;
    if (env->header && (env->header->schema == 0 || env->header->schema > AF_SCHEMA_VERSION)) {
        autofab__envelope__free_unpacked (env, allocator);
        return AF_DECODE_SCHEMA;
    }
    if (!env->header || !env->header->source || !env->header->source[0]
        || strlen (env->header->source) != peek.source_len) {
        autofab__envelope__free_unpacked (env, allocator);
        return AF_DECODE_NO_HEADER;
    }
    *out = env;
    return AF_DECODE_OK;
}

af_decode_t
af_control_decode (const void *data, size_t len, size_t max_bytes, Autofab__Control **out)
{
    *out = NULL;
    if (len == 0)
        return AF_DECODE_EMPTY;
    if (len > max_bytes)
        return AF_DECODE_TOO_LARGE;
    *out = autofab__control__unpack (NULL, len, data);
    return *out ? AF_DECODE_OK : AF_DECODE_MALFORMED;
}

/* Reads a protobuf varint; returns bytes used, 0 if truncated or too long. */
static size_t
s_varint (const uint8_t *p, const uint8_t *end, uint64_t *value)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        v |= (uint64_t) (p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *value = v;
            return i + 1;
        }
    }
    return 0;
}

/* Skips a field of WIRE_TYPE at P; returns the new position or NULL. */
static const uint8_t *
s_skip (const uint8_t *p, const uint8_t *end, unsigned wire_type)
{
    uint64_t v;
    size_t n;
    switch (wire_type) {
    case 0:
        n = s_varint (p, end, &v);
        return n ? p + n : NULL;
    case 1:
        return end - p >= 8 ? p + 8 : NULL;
    case 5:
        return end - p >= 4 ? p + 4 : NULL;
    case 2:
        n = s_varint (p, end, &v);
        if (!n || v > (uint64_t) (end - p - (ptrdiff_t) n))
            return NULL;
        return p + n + v;
    default:
        return NULL;                /* groups and unknown wire types */
    }
}

/* --------------------------------------------------------------- batches */

/* The key of field AF_BATCH_FIELD, wire type 2 (length-delimited), as a
 * varint: (2047 << 3 | 2) = 16378 = 0xFA 0x7F. */
#define S_BATCH_KEY0 0xFA
#define S_BATCH_KEY1 0x7F

bool
af_batch_is (const void *data, size_t len)
{
    const uint8_t *p = data;
    return len >= 2 && p[0] == S_BATCH_KEY0 && p[1] == S_BATCH_KEY1;
}

size_t
af_batch_prefix (uint8_t out[AF_BATCH_PREFIX_MAX], size_t len)
{
    size_t n = 0;
    out[n++] = S_BATCH_KEY0;
    out[n++] = S_BATCH_KEY1;
    uint64_t v = len;
    while (v >= 0x80 && n < AF_BATCH_PREFIX_MAX - 1) {
        out[n++] = (uint8_t) (v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t) v;
    return n;
}

void
af_batch_iter_init (af_batch_iter_t *it, const void *data, size_t len)
{
    it->at = data;
    it->end = it->at + len;
    it->count = 0;
}

int
af_batch_next (af_batch_iter_t *it, const uint8_t **rec, size_t *len)
{
    if (it->at >= it->end)
        return 0;
    uint64_t key, rec_len;
    size_t n = s_varint (it->at, it->end, &key);
    if (!n || key != (AF_BATCH_FIELD << 3 | 2) || it->count >= AF_BATCH_MAX_RECORDS)
        goto bad;
    const uint8_t *p = it->at + n;
    n = s_varint (p, it->end, &rec_len);
    if (!n || rec_len > (uint64_t) (it->end - p - (ptrdiff_t) n))
        goto bad;
    *rec = p + n;
    *len = (size_t) rec_len;
    it->at = p + n + rec_len;
    it->count++;
    return 1;
bad:
    it->at = it->end;        /* nothing after a bad record can be trusted */
    return -1;
}

af_decode_t
af_envelope_peek (const void *data, size_t len, af_peek_t *out)
{
    memset (out, 0, sizeof *out);
    if (len == 0)
        return AF_DECODE_EMPTY;
    const uint8_t *p = data;
    const uint8_t *end = p + len;
    const uint8_t *hdr = NULL, *hdr_end = NULL;
    /* Find field 1 (header) among the top-level fields. */
    while (p < end) {
        uint64_t key;
        size_t n = s_varint (p, end, &key);
        if (!n)
            return AF_DECODE_MALFORMED;
        p += n;
        unsigned wire = key & 7;
        if ((key >> 3) == 1 && wire == 2) {
            /* protobuf merges repeated message fields: a second header could
             * change what the full decode sees (a newer schema, another
             * source) behind this peek's back, so it is refused. */
            if (hdr)
                return AF_DECODE_MALFORMED;
            uint64_t sub_len;
            n = s_varint (p, end, &sub_len);
            if (!n || sub_len > (uint64_t) (end - p - (ptrdiff_t) n))
                return AF_DECODE_MALFORMED;
            hdr = p + n;
            hdr_end = hdr + sub_len;
            p = hdr_end;
            continue;
        }
        p = s_skip (p, end, wire);
        if (!p)
            return AF_DECODE_MALFORMED;
    }
    if (!hdr)
        return AF_DECODE_NO_HEADER;
    for (p = hdr; p < hdr_end;) {
        uint64_t key, value;
        size_t n = s_varint (p, hdr_end, &key);
        if (!n)
            return AF_DECODE_MALFORMED;
        p += n;
        unsigned field = (unsigned) (key >> 3), wire = key & 7;
        if (wire == 0 && (field == 3 || field == 4 || field == 6 || field == 7)) {
            n = s_varint (p, hdr_end, &value);
            if (!n)
                return AF_DECODE_MALFORMED;
            p += n;
            if (field == 3)
                out->seq = value;
            else if (field == 4)
                out->t_ns = value;
            else if (field == 6)
                out->schema = (uint32_t) value;
            else
                out->session = (uint32_t) value;
        }
        else if (wire == 2 && field == 2) {
            n = s_varint (p, hdr_end, &value);
            if (!n || value > (uint64_t) (hdr_end - p - (ptrdiff_t) n))
                return AF_DECODE_MALFORMED;
            out->source = (const char *) p + n;
            out->source_len = (size_t) value;
            p += n + value;
        }
        else {
            p = s_skip (p, hdr_end, wire);
            if (!p)
                return AF_DECODE_MALFORMED;
        }
    }
    /* A source is an agent name: one topic segment, at most 64 bytes. */
    if (out->source_len == 0 || out->source_len > AF_SOURCE_MAX
        || !af_topic_valid (out->source, out->source_len) || memchr (out->source, '.', out->source_len))
        return AF_DECODE_NO_HEADER;
    if (out->schema > AF_SCHEMA_VERSION || out->schema == 0)
        return AF_DECODE_SCHEMA;
    return AF_DECODE_OK;
}

/* ----------------------------------------------------- sequence tracking */

struct af_seqtrack {
    af_source_stats_t **slots;      /* open addressing, power-of-two size */
    size_t cap, count;
    af_source_stats_t **order;      /* insertion order, for iteration */
    uint64_t total_gaps;
};

static uint64_t
s_hash (const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t) s[i]) * 1099511628211ull;
    return h;
}

af_seqtrack_t *
af_seqtrack_new (void)
{
    af_seqtrack_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 64;
    self->slots = calloc (self->cap, sizeof *self->slots);
    self->order = calloc (self->cap, sizeof *self->order);
    if (!self->slots || !self->order)
        af_seqtrack_destroy (&self);
    return self;
}

void
af_seqtrack_destroy (af_seqtrack_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    af_seqtrack_t *self = *self_p;
    for (size_t i = 0; self->order && i < self->count; i++) {
        free (self->order[i]->source);
        free (self->order[i]);
    }
    free (self->slots);
    free (self->order);
    free (self);
    *self_p = NULL;
}

static af_source_stats_t **
s_slot (af_seqtrack_t *self, const char *source, size_t len)
{
    size_t i = (size_t) s_hash (source, len) & (self->cap - 1);
    while (self->slots[i]) {
        af_source_stats_t *s = self->slots[i];
        if (s->source_len == len && memcmp (s->source, source, len) == 0)
            break;
        i = (i + 1) & (self->cap - 1);
    }
    return &self->slots[i];
}

static int
s_grow (af_seqtrack_t *self)
{
    size_t cap = self->cap * 2;
    af_source_stats_t **slots = calloc (cap, sizeof *slots);
    af_source_stats_t **order = realloc (self->order, cap * sizeof *order);
    if (!slots || !order) {
        free (slots);
        if (order)
            self->order = order;
        return -1;
    }
    self->order = order;
    free (self->slots);
    self->slots = slots;
    self->cap = cap;
    for (size_t i = 0; i < self->count; i++)
        *s_slot (self, order[i]->source, order[i]->source_len) = order[i];
    return 0;
}

af_source_stats_t *
af_seqtrack_find (af_seqtrack_t *self, const char *source, size_t source_len)
{
    return *s_slot (self, source, source_len);
}

af_source_stats_t *
af_seqtrack_get (af_seqtrack_t *self, const char *source, size_t source_len)
{
    af_source_stats_t **slot = s_slot (self, source, source_len);
    af_source_stats_t *s = *slot;
    if (s)
        return s;
    if ((self->count + 1) * 2 > self->cap) {
        if (s_grow (self) != 0)
            return NULL;
        slot = s_slot (self, source, source_len);
    }
    /* Keys are byte strings of known length: a NUL inside one must not cut
     * the copy short of what lookups compare. */
    s = calloc (1, sizeof *s);
    if (!s || !(s->source = malloc (source_len + 1))) {
        free (s);
        return NULL;
    }
    memcpy (s->source, source, source_len);
    s->source[source_len] = 0;
    s->source_len = source_len;
    *slot = s;
    self->order[self->count++] = s;
    return s;
}

uint64_t
af_seqtrack_note (af_seqtrack_t *self, const char *source, size_t source_len, uint32_t session,
                  uint64_t seq, size_t bytes, af_source_stats_t **stats)
{
    af_source_stats_t *s = af_seqtrack_get (self, source, source_len);
    if (stats)
        *stats = s;
    return s ? af_seqtrack_apply (self, s, session, seq, bytes, NULL) : 0;
}

uint64_t
af_seqtrack_apply (af_seqtrack_t *self, af_source_stats_t *s, uint32_t session, uint64_t seq,
                   size_t bytes, bool *stale)
{
    if (stale)
        *stale = false;
    uint64_t gap = 0;
    if (s->msgs == 0 || s->session != session) {
        /* First message of this source or of a new session: its sequence
         * starts here; a session that begins past 1 did lose messages, but we
         * cannot tell a late joiner from a loss, so only count in-session. */
        if (s->msgs)
            s->sessions++;
        s->session = session;
        s->last_seq = seq;
    }
    else if (seq > s->last_seq) {
        gap = seq - s->last_seq - 1;
        s->last_seq = seq;
    }
    else {
        s->stale++;
        if (stale)
            *stale = true;
    }
    s->gaps += gap;
    self->total_gaps += gap;
    s->msgs++;
    s->bytes += bytes;
    return gap;
}


uint64_t af_seqtrack_total_gaps (const af_seqtrack_t *self) { return self->total_gaps; }
size_t af_seqtrack_size (const af_seqtrack_t *self) { return self->count; }

af_source_stats_t *
af_seqtrack_get_capped (af_seqtrack_t *self, const char *key, size_t key_len, size_t max_streams)
{
    af_source_stats_t *s = *s_slot (self, key, key_len);
    if (s || self->count >= max_streams)
        return s;
    return af_seqtrack_get (self, key, key_len);
}

size_t
af_stream_key (char *buf, size_t buf_len, const char *source, size_t source_len, const char *topic,
               size_t topic_len)
{
    size_t len = source_len + 1 + topic_len;
    if (len + 1 > buf_len)
        return 0;
    memcpy (buf, source, source_len);
    buf[source_len] = AF_STREAM_SEP;
    memcpy (buf + source_len + 1, topic, topic_len);
    buf[len] = 0;
    return len;
}

size_t
af_seqtrack_source_sum (af_seqtrack_t *self, const char *source, af_source_stats_t *sum)
{
    memset (sum, 0, sizeof *sum);
    size_t len = strlen (source), streams = 0;
    for (size_t i = 0; i < self->count; i++) {
        const af_source_stats_t *s = self->order[i];
        if (strncmp (s->source, source, len) != 0 || s->source[len] != AF_STREAM_SEP)
            continue;
        streams++;
        sum->msgs += s->msgs;
        sum->bytes += s->bytes;
        sum->gaps += s->gaps;
        sum->stale += s->stale;
    }
    return streams;
}

size_t
af_seqtrack_source_count (af_seqtrack_t *self)
{
    /* Keys of one source are not adjacent, so count distinct prefixes with a
     * temporary table (this runs for stats requests, not per message). */
    af_seqtrack_t *seen = af_seqtrack_new ();
    if (!seen)
        return 0;
    for (size_t i = 0; i < self->count; i++) {
        const char *key = self->order[i]->source;
        const char *sep = strchr (key, AF_STREAM_SEP);
        af_seqtrack_note (seen, key, sep ? (size_t) (sep - key) : strlen (key), 0, 1, 0, NULL);
    }
    size_t sources = seen->count;
    af_seqtrack_destroy (&seen);
    return sources;
}
