/*  af_journal — the historian and record file: one SQLite format for both
 *  (DESIGN §2 "Journal", docs/journal.md).
 *
 *  A journal is a SQLite database in WAL mode holding a `meta` table (format
 *  version, creation time, factory, pattern) and a `messages` table with one
 *  row per pub/sub message: its topic, the header fields that queries need
 *  (t_ns, source, session, seq), the payload kind, and the encoded Envelope
 *  bytes exactly as they were received.  Appends are batched into
 *  transactions: a batch commits when it holds `batch_msgs` messages or its
 *  oldest message is `batch_ms` old, whichever comes first, or when
 *  af_journal_flush is called.  What a commit acknowledges survives a process
 *  crash and a power loss (synchronous=FULL; see docs/journal.md).
 *
 *  Everything read from a file is hostile: a file that is not SQLite, has no
 *  `meta` table or an unknown format version is refused at open with one
 *  line in ERR, and a row whose topic or body is not valid is skipped and
 *  counted by the iterator.  A journal is used by one thread at a time.
 */
#ifndef AF_JOURNAL_H
#define AF_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The format version this build writes, and the only one it reads. */
#define AF_JOURNAL_VERSION 1
/* `meta.format`: tells an autofab journal from any other SQLite file. */
#define AF_JOURNAL_FORMAT "autofab-journal"
/* Default batch: commit every this many messages … */
#define AF_JOURNAL_BATCH_MSGS 1000
/* … or when the oldest uncommitted message is this old, ms. */
#define AF_JOURNAL_BATCH_MS 200
/* Largest body accepted, bytes (the broker's max_msg_bytes is at most this). */
#define AF_JOURNAL_MAX_BODY_BYTES (256u << 20)

typedef struct af_journal af_journal_t;
typedef struct af_journal_iter af_journal_iter_t;

typedef enum {
    AF_JOURNAL_READ,         /* an existing journal, never written */
    AF_JOURNAL_WRITE,        /* a new journal; refuses a file that exists */
    AF_JOURNAL_APPEND,       /* an existing journal, or a new one if absent */
} af_journal_mode_t;

/* Opens PATH.  Returns NULL with one line in ERR (e.g. "x.db: not an autofab
 * journal (file is not a database)") on any failure. */
af_journal_t *af_journal_open (const char *path, af_journal_mode_t mode, char *err,
                               size_t err_len);
/* Commits what is pending and closes; NULL-safe, nulls the caller's pointer. */
void af_journal_close (af_journal_t **self_p);

/* Sets the batch limits (0 keeps the current value). */
void af_journal_set_batch (af_journal_t *self, size_t batch_msgs, int batch_ms);
/* Writes a `meta` value ("factory", "pattern", …); 0 or -1.  Not in READ mode. */
int af_journal_set_meta (af_journal_t *self, const char *key, const char *value);
/* Copies a `meta` value into OUT; 0, or -1 if absent. */
int af_journal_get_meta (af_journal_t *self, const char *key, char *out, size_t out_len);

/* Appends one message: TOPIC (TOPIC_LEN bytes) and BODY, an encoded Envelope
 * stored as it is.  RECV_NS is when it was received (wall clock, ns);
 * af_journal_append uses now.  Returns 0; 1 if the message was refused (bad
 * topic, or a body that is not a well-formed envelope: counted, nothing
 * written); -1 on a database error (af_journal_error says why). */
int af_journal_append (af_journal_t *self, const char *topic, size_t topic_len,
                       const void *body, size_t len);
int af_journal_append_at (af_journal_t *self, const char *topic, size_t topic_len,
                          const void *body, size_t len, uint64_t recv_ns);
/* Commits the open batch.  When it returns 0, everything appended so far is
 * acknowledged: durable across a crash.  0 or -1. */
int af_journal_flush (af_journal_t *self);
/* Commits the open batch if it is due (batch_ms old).  Returns the ms until
 * the next commit falls due, -1 if nothing is pending, or -2 on error: a
 * writer that goes idle uses it as its poll timeout. */
int af_journal_tick (af_journal_t *self);

/* Messages in the file (committed ones and this connection's own). */
int64_t af_journal_count (af_journal_t *self);
/* Bodies refused by af_journal_append since open. */
uint64_t af_journal_refused (const af_journal_t *self);
/* The last error, one line ("" if none). */
const char *af_journal_error (const af_journal_t *self);
const char *af_journal_path (const af_journal_t *self);

/* ------------------------------------------------------------- reading */

/* One row, as the iterator returns it; pointers valid until the next call. */
typedef struct {
    int64_t id;              /* rowid: arrival order */
    const char *topic;       /* NUL-terminated */
    size_t topic_len;
    const void *body;        /* the encoded Envelope */
    size_t len;
    uint64_t t_ns;           /* header time (sender's clock) */
    uint64_t recv_ns;        /* when it was recorded (recorder's wall clock) */
    const char *source;      /* NUL-terminated */
    uint32_t session;
    uint64_t seq;
} af_journal_row_t;

/* Iterates over the messages in arrival order whose topic matches PATTERN
 * (af_topic.h; NULL: all) and whose header time is in [FROM_NS, TO_NS)
 * (TO_NS 0: no upper bound).  NULL with the reason in af_journal_error. */
af_journal_iter_t *af_journal_iter_new (af_journal_t *journal, const char *pattern,
                                        uint64_t from_ns, uint64_t to_ns);
void af_journal_iter_destroy (af_journal_iter_t **self_p);
/* The next message: 1 with its topic, body and header time (any pointer
 * argument may be NULL); 0 at the end; -1 on a database error.  Rows whose
 * topic or body is not valid are skipped and counted. */
int af_journal_iter_next (af_journal_iter_t *self, const char **topic, const void **body,
                          size_t *len, uint64_t *t_ns);
/* The whole current row (after af_journal_iter_next returned 1). */
const af_journal_row_t *af_journal_iter_row (const af_journal_iter_t *self);
/* Rows skipped as invalid so far. */
uint64_t af_journal_iter_skipped (const af_journal_iter_t *self);

/* The payload kind of an encoded envelope ("telemetry", "event", … "none"),
 * as stored in `messages.kind`; NULL if the bytes are not an envelope
 * af_envelope_peek accepts (truncated, garbage, no header). */
const char *af_journal_kind (const void *body, size_t len);

#endif
