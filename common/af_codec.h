/*  af_codec — the envelope on the wire: stamping, encoding, hostile-input
 *  decoding, a cheap header peek for the broker's hot path, and per-source
 *  sequence tracking for gap detection.
 *
 *  Every decoder here treats its input as hostile: sizes are checked before
 *  protobuf-c sees a byte (it has no size or depth limit of its own), unknown
 *  schema versions are refused, and each refusal returns a reason that the
 *  caller counts and logs once.
 */
#ifndef AF_CODEC_H
#define AF_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.pb-c.h"
#include "registry.pb-c.h"

/* Default cap on one message (envelope or control body), bytes. */
#define AF_MAX_MSG_BYTES (1u << 20)
/* Longest source (agent) name, bytes: the broker's name limit. */
#define AF_SOURCE_MAX 64
/* Schema version this build writes and the newest it accepts. */
#define AF_SCHEMA_VERSION 1u

typedef enum {
    AF_DECODE_OK = 0,
    AF_DECODE_EMPTY,         /* zero-length frame */
    AF_DECODE_TOO_LARGE,     /* over the size cap */
    AF_DECODE_MALFORMED,     /* protobuf-c refused it, or a truncated header */
    AF_DECODE_NO_HEADER,     /* envelope without a header or source */
    AF_DECODE_SCHEMA,        /* schema version newer than we know */
    AF_DECODE_REASONS
} af_decode_t;

/* A short human name for a decode result ("too large"). */
const char *af_decode_str (af_decode_t reason);

/* -------------------------------------------------------------- stamping */

typedef struct af_stamper af_stamper_t;

/* Creates a stamper for messages from SOURCE in FACTORY.  The session number
 * is random per creation, so a restarted agent's sequence is not mistaken for
 * a gap or a replay. */
af_stamper_t *af_stamper_new (const char *source, const char *factory);
void af_stamper_destroy (af_stamper_t **self_p);
/* Fills ENV's header (allocating it inside HDR, which must outlive ENV's use)
 * with a fresh msg_id, the next sequence number and T_NS.  The sequence
 * counts per TOPIC (a source's stream on one topic), so that a subscriber to
 * any subset of a source's topics sees every one of its streams whole and a
 * gap is a real loss; TOPIC NULL uses one counter for envelopes that are not
 * published (requests and replies). */
void af_stamper_stamp_topic (af_stamper_t *self, Autofab__Envelope *env, Autofab__Header *hdr,
                             uint8_t msg_id[16], uint64_t t_ns, const char *topic, size_t topic_len);
/* Gives back the sequence number the last stamp on TOPIC took, for a message
 * that was not sent after all. */
void af_stamper_unstamp_topic (af_stamper_t *self, const char *topic, size_t topic_len);
/* af_stamper_stamp_topic without a topic. */
void af_stamper_stamp (af_stamper_t *self, Autofab__Envelope *env, Autofab__Header *hdr,
                       uint8_t msg_id[16], uint64_t t_ns);
uint32_t af_stamper_session (const af_stamper_t *self);

/* -------------------------------------------------------------- encoding */

/* ENV's encoded size, and its encoding into OUT (that many bytes); the same
 * bytes as autofab__envelope__pack, faster (the header is written by hand). */
size_t af_envelope_packed_size (const Autofab__Envelope *env);
size_t af_envelope_pack (const Autofab__Envelope *env, uint8_t *out);
/* Encodes ENV into a malloc'd buffer; returns NULL on failure or when the
 * result would exceed MAX_BYTES. */
uint8_t *af_envelope_encode (const Autofab__Envelope *env, size_t max_bytes, size_t *len_out);
/* Decodes an envelope; *OUT must be freed with autofab__envelope__free_unpacked. */
af_decode_t af_envelope_decode (const void *data, size_t len, size_t max_bytes,
                                Autofab__Envelope **out);
/* The same with ALLOCATOR (NULL: malloc); free *OUT with the same one. */
af_decode_t af_envelope_decode_with (const void *data, size_t len, size_t max_bytes,
                                     ProtobufCAllocator *allocator, Autofab__Envelope **out);
/* Same for a control message (no header check: it has none). */
af_decode_t af_control_decode (const void *data, size_t len, size_t max_bytes,
                               Autofab__Control **out);

/* What af_envelope_peek reads without decoding the whole message. */
typedef struct {
    const char *source;      /* points into the message, not NUL-terminated */
    size_t source_len;
    uint64_t seq;
    uint32_t session;
    uint32_t schema;
    uint64_t t_ns;
    unsigned payload;        /* the payload's field number (10 … 19 in
                                envelope.proto), 0 if none; the last on the
                                wire, as protobuf reads a oneof */
} af_peek_t;

/* Reads the header fields of an encoded envelope in place: no allocation, no
 * copy; safe on any input.  Returns AF_DECODE_OK or why not. */
af_decode_t af_envelope_peek (const void *data, size_t len, af_peek_t *out);

/* --------------------------------------------------------------- batches */

/* Several envelopes of one topic in one frame (proto/envelope.proto, Batch):
 * each record is field 2047, length-delimited.  Its key encodes as the two
 * bytes 0xFA 0x7F, which no envelope starts with (Envelope reserves 2047 and
 * writers put the header, field 1, first), so the first two bytes of a body
 * tell a batch from an envelope. */
#define AF_BATCH_FIELD 2047u
/* Most records one batch may carry; receivers refuse the rest. */
#define AF_BATCH_MAX_RECORDS 4096u
/* Largest batch frame a publisher writes.  Every receiver takes a batch
 * frame this large whatever its own message cap (which bounds each record),
 * so that lowering the cap never makes whole batches bounce. */
#define AF_BATCH_MAX_BYTES (64u * 1024u)
/* The frame cap for batches of a receiver whose message cap is CAP. */
#define AF_BATCH_FRAME_CAP(cap) ((cap) > AF_BATCH_MAX_BYTES ? (size_t) (cap) : (size_t) AF_BATCH_MAX_BYTES)
/* Longest record prefix (key + length varint) a writer puts down. */
#define AF_BATCH_PREFIX_MAX 7u

/* True if DATA (LEN bytes) is a batch rather than one envelope. */
bool af_batch_is (const void *data, size_t len);
/* Writes the prefix of a record of LEN bytes into OUT; returns its length. */
size_t af_batch_prefix (uint8_t out[AF_BATCH_PREFIX_MAX], size_t len);
/* Writes a whole record (prefix and REC's LEN bytes) at OUT, which has room
 * for AF_BATCH_PREFIX_MAX + LEN; returns the bytes written. */
size_t af_batch_put (uint8_t *out, const void *rec, size_t len);

/* Walks the records of a batch in place (no copy, no allocation). */
typedef struct {
    const uint8_t *at, *end;
    size_t count;            /* records returned so far */
    bool whole;              /* the body is one envelope, returned as is */
} af_batch_iter_t;

void af_batch_iter_init (af_batch_iter_t *it, const void *data, size_t len);
/* The envelopes of a pub/sub body, whichever it is: a batch's records, or
 * the one envelope it is. */
void af_body_iter_init (af_batch_iter_t *it, const void *data, size_t len);
/* 1: the next record in *REC (*LEN bytes, pointing into the batch); 0: no
 * more; -1: the rest is malformed (a bad key or length, or more than
 * AF_BATCH_MAX_RECORDS records) and must be refused.  Records are not
 * checked here: each is an envelope for af_envelope_peek or _decode. */
int af_batch_next (af_batch_iter_t *it, const uint8_t **rec, size_t *len);

/* ----------------------------------------------------- sequence tracking */

/* Sequence numbers count per stream: one source on one topic.  A stream key
 * is "<source>\x1f<topic>"; af_stream_key writes it into BUF and returns its
 * length (0 if it does not fit). */
#define AF_STREAM_SEP '\x1f'
#define AF_STREAM_KEY_MAX 512
size_t af_stream_key (char *buf, size_t buf_len, const char *source, size_t source_len,
                      const char *topic, size_t topic_len);

typedef struct af_seqtrack af_seqtrack_t;

/* Per-stream state kept by a seqtrack; callers may read the counters. */
typedef struct {
    char *source;            /* the stream key (or any key the caller uses) */
    size_t source_len;
    uint32_t session;
    uint64_t last_seq;
    uint64_t msgs;
    uint64_t bytes;
    uint64_t gaps;           /* sequence numbers missed */
    uint64_t stale;          /* duplicates or out-of-order messages */
    uint64_t sessions;       /* restarts of the source seen */
} af_source_stats_t;

af_seqtrack_t *af_seqtrack_new (void);
void af_seqtrack_destroy (af_seqtrack_t **self_p);
/* Records a message from SOURCE; returns the number of messages missed just
 * before it (0 in order).  Returns the source's stats in *STATS if not NULL.
 * A new session resets the expected sequence. */
uint64_t af_seqtrack_note (af_seqtrack_t *self, const char *source, size_t source_len,
                           uint32_t session, uint64_t seq, size_t bytes,
                           af_source_stats_t **stats);
/* Stats for SOURCE, or NULL if never seen. */
af_source_stats_t *af_seqtrack_find (af_seqtrack_t *self, const char *source, size_t source_len);
/* Streams tracked so far. */
size_t af_seqtrack_size (const af_seqtrack_t *self);
/* Stats for KEY: found, or created while fewer than MAX_STREAMS are tracked
 * (NULL when the table is full: a hostile sender inventing topics must not
 * grow it without end).  One hash lookup for a known key. */
af_source_stats_t *af_seqtrack_get_capped (af_seqtrack_t *self, const char *key, size_t key_len,
                                           size_t max_streams);
/* Stats for SOURCE, created when new (NULL only when out of memory). */
af_source_stats_t *af_seqtrack_get (af_seqtrack_t *self, const char *source, size_t source_len);
/* af_seqtrack_note on stats already looked up: one hash lookup per message
 * on hot paths.  Sets *STALE (if not NULL) when SEQ was already seen. */
uint64_t af_seqtrack_apply (af_seqtrack_t *self, af_source_stats_t *stats, uint32_t session,
                            uint64_t seq, size_t bytes, bool *stale);
uint64_t af_seqtrack_total_gaps (const af_seqtrack_t *self);
/* Sums the counters of every stream of SOURCE (keys "<source>\x1f…");
 * returns the number of streams. */
size_t af_seqtrack_source_sum (af_seqtrack_t *self, const char *source, af_source_stats_t *sum);
/* Number of distinct sources among stream keys. */
size_t af_seqtrack_source_count (af_seqtrack_t *self);

#endif
