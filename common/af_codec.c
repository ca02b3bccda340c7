/*  af_codec — envelope stamping, encoding, decoding, peeking and sequence
 *  tracking (see af_codec.h).  */
#include "af_codec.h"
#include "af_wire.h"
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
    af_source_stats_t *last; /* the topic stamped last (entries never move) */
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
    /* Publishers mostly stamp the same topic again: skip the lookup then. */
    af_source_stats_t *s = self->last;
    if (!topic)
        s = NULL;
    else if (!s || s->source_len != topic_len || memcmp (s->source, topic, topic_len) != 0)
        s = self->last = af_seqtrack_get (self->topics, topic, topic_len);
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

/* The header is on every message and its layout is fixed, so it is written
 * here by hand (protobuf-c's generic packer walks the descriptor, twice);
 * the payload is left to protobuf-c.  The bytes are the ones protobuf-c
 * writes: fields in number order, proto3 zero values left out. */

static size_t
s_varint_size (uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *
s_put_varint (uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t) (v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t) v;
    return p;
}

/* Size of a length-delimited field (one-byte key) holding LEN bytes. */
static size_t
s_ld_size (size_t len)
{
    return len ? 1 + s_varint_size (len) + len : 0;
}

static uint8_t *
s_put_ld (uint8_t *p, unsigned field, const void *data, size_t len)
{
    if (!len)
        return p;
    *p++ = (uint8_t) (field << 3 | 2);
    p = s_put_varint (p, len);
    memcpy (p, data, len);
    return p + len;
}

static uint8_t *
s_put_u64 (uint8_t *p, unsigned field, uint64_t v)
{
    if (!v)
        return p;
    *p++ = (uint8_t) (field << 3);
    return s_put_varint (p, v);
}

static size_t
s_strlen0 (const char *s)
{
    return s ? strlen (s) : 0;
}

/* Size of HDR's encoding (without its own key and length). */
static size_t
s_header_size (const Autofab__Header *h)
{
    return s_ld_size (h->msg_id.data ? h->msg_id.len : 0) + s_ld_size (s_strlen0 (h->source))
           + (h->seq ? 1 + s_varint_size (h->seq) : 0) + (h->t_ns ? 1 + s_varint_size (h->t_ns) : 0)
           + s_ld_size (s_strlen0 (h->factory)) + (h->schema ? 1 + s_varint_size (h->schema) : 0)
           + (h->session ? 1 + s_varint_size (h->session) : 0) + s_ld_size (s_strlen0 (h->key_id))
           + s_ld_size (h->signature.data ? h->signature.len : 0);
}

static uint8_t *
s_header_write (const Autofab__Header *h, uint8_t *p)
{
    p = s_put_ld (p, 1, h->msg_id.data, h->msg_id.data ? h->msg_id.len : 0);
    p = s_put_ld (p, 2, h->source, s_strlen0 (h->source));
    p = s_put_u64 (p, 3, h->seq);
    p = s_put_u64 (p, 4, h->t_ns);
    p = s_put_ld (p, 5, h->factory, s_strlen0 (h->factory));
    p = s_put_u64 (p, 6, h->schema);
    p = s_put_u64 (p, 7, h->session);
    p = s_put_ld (p, 8, h->key_id, s_strlen0 (h->key_id));
    return s_put_ld (p, 9, h->signature.data, h->signature.data ? h->signature.len : 0);
}

/* True when the hand-written header path applies (a header without
 * unknown fields, as every stamped one is). */
static bool
s_header_by_hand (const Autofab__Envelope *env)
{
    return env->header && env->header->base.n_unknown_fields == 0;
}

size_t
af_envelope_packed_size (const Autofab__Envelope *env)
{
    if (!s_header_by_hand (env))
        return autofab__envelope__get_packed_size (env);
    Autofab__Envelope rest = *env;
    rest.header = NULL;
    size_t h = s_header_size (env->header);
    return 1 + s_varint_size (h) + h + autofab__envelope__get_packed_size (&rest);
}

size_t
af_envelope_pack (const Autofab__Envelope *env, uint8_t *out)
{
    if (!s_header_by_hand (env))
        return autofab__envelope__pack (env, out);
    Autofab__Envelope rest = *env;
    rest.header = NULL;
    uint8_t *p = out;
    *p++ = 1 << 3 | 2;
    p = s_put_varint (p, s_header_size (env->header));
    p = s_header_write (env->header, p);
    return (size_t) (p - out) + autofab__envelope__pack (&rest, p);
}

uint8_t *
af_envelope_encode (const Autofab__Envelope *env, size_t max_bytes, size_t *len_out)
{
    size_t len = af_envelope_packed_size (env);
    if (len > max_bytes)
        return NULL;
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return NULL;
    *len_out = af_envelope_pack (env, buf);
    return buf;
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

size_t
af_batch_put (uint8_t *out, const void *rec, size_t len)
{
    size_t n = af_batch_prefix (out, len);
    memcpy (out + n, rec, len);
    return n + len;
}

void
af_batch_iter_init (af_batch_iter_t *it, const void *data, size_t len)
{
    it->at = data;
    it->end = it->at + len;
    it->count = 0;
    it->whole = false;
}

void
af_body_iter_init (af_batch_iter_t *it, const void *data, size_t len)
{
    af_batch_iter_init (it, data, len);
    it->whole = !af_batch_is (data, len);
}

int
af_batch_next (af_batch_iter_t *it, const uint8_t **rec, size_t *len)
{
    if (it->whole) {
        /* One envelope (even an empty one, for the caller to refuse). */
        if (it->count)
            return 0;
        *rec = it->at;
        *len = (size_t) (it->end - it->at);
        it->count = 1;
        return 1;
    }
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

/* An encoded envelope's header, read in place: where its field lies and
 * what it holds (strings and bytes point into the message). */
typedef struct {
    const uint8_t *field, *field_end;  /* the header field: key, length, body */
    const uint8_t *msg_id, *factory, *key_id, *signature;
    size_t msg_id_len, factory_len, key_id_len, signature_len;
    /* Each known field once, with its own wire type, no unknown field, and
     * the header the envelope's first field: what the stamper writes, and
     * what s_decode_fast takes. */
    bool canonical;
} s_header_t;

/* Reads the header of an encoded envelope; fills OUT (the peek) and HDR. */
static af_decode_t
s_header_read (const void *data, size_t len, af_peek_t *out, s_header_t *hdr_out)
{
    memset (out, 0, sizeof *out);
    memset (hdr_out, 0, sizeof *hdr_out);
    if (len == 0)
        return AF_DECODE_EMPTY;
    const uint8_t *p = data;
    const uint8_t *end = p + len;
    const uint8_t *hdr = NULL, *hdr_end = NULL;
    bool canonical = true;
    /* Find field 1 (header) among the top-level fields. */
    while (p < end) {
        const uint8_t *field = p;
        uint64_t key;
        size_t n = s_varint (p, end, &key);
        if (!n)
            return AF_DECODE_MALFORMED;
        p += n;
        unsigned wire = key & 7;
        /* Field 0 does not exist (protobuf-c refuses it too).  Field 2047
         * is a batch's: an envelope that carries it could pass for a batch
         * once it travels alone (reserved in envelope.proto). */
        if ((key >> 3) == 0 || (key >> 3) == AF_BATCH_FIELD)
            return AF_DECODE_MALFORMED;
        if ((key >> 3) >= 10 && (key >> 3) <= 19)
            out->payload = (unsigned) (key >> 3);
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
            hdr_out->field = field;
            hdr_out->field_end = hdr_end;
            canonical = canonical && field == (const uint8_t *) data;
            p = hdr_end;
            continue;
        }
        p = s_skip (p, end, wire);
        if (!p)
            return AF_DECODE_MALFORMED;
    }
    if (!hdr)
        return AF_DECODE_NO_HEADER;
    unsigned seen = 0;
    for (p = hdr; p < hdr_end;) {
        uint64_t key, value;
        size_t n = s_varint (p, hdr_end, &key);
        if (!n)
            return AF_DECODE_MALFORMED;
        p += n;
        unsigned field = (unsigned) (key >> 3), wire = key & 7;
        if (field >= 1 && field <= 9) {
            canonical = canonical && !(seen & 1u << field) && n == 1;
            seen |= 1u << field;
        }
        else
            canonical = false;
        if (wire == 0 && (field == 3 || field == 4 || field == 6 || field == 7)) {
            n = s_varint (p, hdr_end, &value);
            if (!n)
                return AF_DECODE_MALFORMED;
            p += n;
            if (field == 3)
                out->seq = value;
            else if (field == 4)
                out->t_ns = value;
            else {
                canonical = canonical && value <= UINT32_MAX;
                if (field == 6)
                    out->schema = (uint32_t) value;
                else
                    out->session = (uint32_t) value;
            }
        }
        else if (wire == 2 && (field == 1 || field == 2 || field == 5 || field == 8 || field == 9)) {
            n = s_varint (p, hdr_end, &value);
            if (!n || value > (uint64_t) (hdr_end - p - (ptrdiff_t) n))
                return AF_DECODE_MALFORMED;
            const uint8_t *at = p + n;
            size_t at_len = (size_t) value;
            p += n + value;
            switch (field) {
            case 1: hdr_out->msg_id = at, hdr_out->msg_id_len = at_len; break;
            case 2: out->source = (const char *) at, out->source_len = at_len; break;
            case 5: hdr_out->factory = at, hdr_out->factory_len = at_len; break;
            case 8: hdr_out->key_id = at, hdr_out->key_id_len = at_len; break;
            default: hdr_out->signature = at, hdr_out->signature_len = at_len; break;
            }
        }
        else {
            canonical = false;
            p = s_skip (p, hdr_end, wire);
            if (!p)
                return AF_DECODE_MALFORMED;
        }
    }
    hdr_out->canonical = canonical;
    /* A source is an agent name: one topic segment, at most 64 bytes. */
    if (out->source_len == 0 || out->source_len > AF_SOURCE_MAX
        || !af_topic_valid (out->source, out->source_len) || memchr (out->source, '.', out->source_len))
        return AF_DECODE_NO_HEADER;
    if (out->schema > AF_SCHEMA_VERSION || out->schema == 0)
        return AF_DECODE_SCHEMA;
    return AF_DECODE_OK;
}

af_decode_t
af_envelope_peek (const void *data, size_t len, af_peek_t *out)
{
    s_header_t hdr;
    return s_header_read (data, len, out, &hdr);
}

static void *
s_alloc (ProtobufCAllocator *allocator, size_t size)
{
    return allocator ? allocator->alloc (allocator->allocator_data, size) : malloc (size);
}

/* A NUL-terminated copy of LEN bytes at P (protobuf-c's empty string for
 * none, as its unpack leaves it); NULL when out of memory. */
static char *
s_string (ProtobufCAllocator *allocator, const uint8_t *p, size_t len)
{
    if (!len)
        return (char *) protobuf_c_empty_string;
    char *s = s_alloc (allocator, len + 1);
    if (s) {
        memcpy (s, p, len);
        s[len] = 0;
    }
    return s;
}

static bool
s_bytes (ProtobufCAllocator *allocator, ProtobufCBinaryData *out, const uint8_t *p, size_t len)
{
    out->len = len;
    out->data = NULL;
    if (!len)
        return true;
    out->data = s_alloc (allocator, len);
    if (out->data)
        memcpy (out->data, p, len);
    return out->data != NULL;
}

/* Decodes an envelope whose header (HDR, PEEK) is canonical: protobuf-c
 * unpacks the payload after it, the header is built from what was read. */
static af_decode_t
s_decode_fast (const uint8_t *data, size_t len, const af_peek_t *peek, const s_header_t *hdr,
               ProtobufCAllocator *allocator, Autofab__Envelope **out)
{
    size_t rest = len - (size_t) (hdr->field_end - data);
    Autofab__Envelope *env = autofab__envelope__unpack (allocator, rest, hdr->field_end);
    if (!env)
        return AF_DECODE_MALFORMED;
    Autofab__Header *h = s_alloc (allocator, sizeof *h);
    if (!h) {
        autofab__envelope__free_unpacked (env, allocator);
        return AF_DECODE_MALFORMED;
    }
    autofab__header__init (h);
    env->header = h;
    h->seq = peek->seq;
    h->t_ns = peek->t_ns;
    h->schema = peek->schema;
    h->session = peek->session;
    bool ok = s_bytes (allocator, &h->msg_id, hdr->msg_id, hdr->msg_id_len)
              && s_bytes (allocator, &h->signature, hdr->signature, hdr->signature_len);
    if (ok && !(h->source = s_string (allocator, (const uint8_t *) peek->source, peek->source_len)))
        ok = false;
    if (ok && !(h->factory = s_string (allocator, hdr->factory, hdr->factory_len)))
        ok = false;
    if (ok && !(h->key_id = s_string (allocator, hdr->key_id, hdr->key_id_len)))
        ok = false;
    if (!ok) {
        /* Leave nothing half-built for free_unpacked to trip on. */
        if (!h->source)
            h->source = (char *) protobuf_c_empty_string;
        if (!h->factory)
            h->factory = (char *) protobuf_c_empty_string;
        if (!h->key_id)
            h->key_id = (char *) protobuf_c_empty_string;
        autofab__envelope__free_unpacked (env, allocator);
        return AF_DECODE_MALFORMED;
    }
    *out = env;
    return AF_DECODE_OK;
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
    s_header_t hdr;
    af_decode_t why = s_header_read (data, len, &peek, &hdr);
    if (why != AF_DECODE_OK)
        return why;
    if (!af_wire_check (&autofab__envelope__descriptor, data, len, NULL))
        return AF_DECODE_MALFORMED;
    /* The header just read need not be parsed again: protobuf-c unpacks
     * the rest, the header is filled from what was read. */
    if (hdr.canonical)
        return s_decode_fast (data, len, &peek, &hdr, allocator, out);
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

/* A Control whose one field is NUMBER, a message type without fields,
 * built as protobuf-c's unpack would (malloc'd, freed by free_unpacked). */
static af_decode_t
s_control_empty (unsigned number, Autofab__Control **out)
{
    const ProtobufCFieldDescriptor *field
        = protobuf_c_message_descriptor_get_field (&autofab__control__descriptor, number);
    const ProtobufCMessageDescriptor *type = field ? field->descriptor : NULL;
    Autofab__Control *ctl = malloc (sizeof *ctl);
    ProtobufCMessage *sub = type ? malloc (type->sizeof_message) : NULL;
    if (!ctl || !sub) {
        free (ctl);
        free (sub);
        return AF_DECODE_MALFORMED;
    }
    autofab__control__init (ctl);
    protobuf_c_message_init (type, sub);
    *(ProtobufCMessage **) ((char *) ctl + field->offset) = sub;
    *(uint32_t *) ((char *) ctl + field->quantifier_offset) = number;
    *out = ctl;
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
    af_wire_info_t info;
    if (!af_wire_check (&autofab__control__descriptor, data, len, &info))
        return AF_DECODE_MALFORMED;
    if (info.empty_count) {
        /* A field-less message (Heartbeat, StatsRequest …): protobuf-c may
         * not unpack its type, so it is built here; it must be alone. */
        if (info.fields != 1)
            return AF_DECODE_MALFORMED;
        return s_control_empty (info.empty_field, out);
    }
    *out = autofab__control__unpack (NULL, len, data);
    return *out ? AF_DECODE_OK : AF_DECODE_MALFORMED;
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
