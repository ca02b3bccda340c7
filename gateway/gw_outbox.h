/*  gw_outbox — one link's on-disk outbox (SQLite, WAL) and the importer's
 *  delivery record (docs/gateway.md "Nothing lost, nothing twice").
 *
 *  The outbox holds every exported message until the peer acknowledges it,
 *  in four lanes, each with its own sequence numbers from 1.  Rows are added
 *  in batches (gw_outbox_begin / _commit): a row may be sent only once its
 *  batch is committed, so a sequence number the peer has seen always names
 *  the same message, across a crash.  Acknowledged rows stay a while
 *  (GW_OUTBOX_KEEP_NS) so that a message offered twice (live and again from
 *  the broker's journal after a restart) is recognised by its stream key
 *  (topic, source, session, seq) and kept once.
 *
 *  Policies, each counted:
 *  - conflation: a telemetry message whose topic already has a row that was
 *    never sent replaces that row's body (latest value per topic) instead
 *    of queueing behind it; only when the caller says the link is congested;
 *  - cap: when unacknowledged bodies exceed max_bytes, the oldest telemetry
 *    rows become tombstones (body dropped, sequence number kept, so the peer
 *    learns of the drop); alarms, commands and bulk are never dropped, and
 *    an outbox over its cap with nothing left to drop keeps growing (logged).
 *
 *  Durability: synchronous=NORMAL in WAL mode survives a killed process
 *  (kill -9); FULL (sync_full) survives a power loss as well.
 */
#ifndef GW_OUTBOX_H
#define GW_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_wire.h"

/* How long acknowledged rows stay for de-duplication, ns. */
#define GW_OUTBOX_KEEP_NS (120ull * 1000000000ull)

typedef struct gw_outbox gw_outbox_t;

typedef struct {
    uint64_t added, duplicates, conflated, dropped_cap, over_cap;
} gw_outbox_counters_t;

/* Opens (creating) the outbox at PATH.  NULL with one line in ERR. */
gw_outbox_t *gw_outbox_open (const char *path, uint64_t max_bytes, bool sync_full, char *err,
                             size_t err_len);
void gw_outbox_close (gw_outbox_t **self_p);

/* Starts a batch (nested calls are no-ops); 0 or -1. */
int gw_outbox_begin (gw_outbox_t *self);
/* Commits the batch: its rows may now be sent.  0 or -1. */
int gw_outbox_commit (gw_outbox_t *self);

/* What identifies a message across offers (its stream key). */
typedef struct {
    const char *topic;
    const char *source;
    size_t source_len;
    uint32_t session;
    uint64_t seq;
    uint64_t t_ns;
} gw_msg_key_t;

/* Adds BODY (LEN bytes) on LANE.  CONFLATE lets a telemetry row replace an
 * unsent row of its topic.  Returns 0 added, 1 a duplicate (ignored), 2
 * conflated into an existing row, -1 on a database error.  Inside a batch. */
int gw_outbox_add (gw_outbox_t *self, int lane, const gw_msg_key_t *key, const void *body,
                   size_t len, bool conflate);

/* A row to send; the body points into the outbox, valid until its next call. */
typedef struct {
    uint64_t seq;
    const char *topic;
    const void *body;        /* NULL with len 0: a tombstone */
    size_t len;
} gw_row_t;

/* The first row of LANE with a sequence number above AFTER: 1 and *ROW, 0
 * if none, -1 on error. */
int gw_outbox_next (gw_outbox_t *self, int lane, uint64_t after, gw_row_t *row);
/* Records the peer's cumulative acknowledgement of LANE up to SEQ (a lower
 * one than known is ignored; one above the last assigned is refused: -1). */
int gw_outbox_ack (gw_outbox_t *self, int lane, uint64_t seq);
/* Marks the highest sequence number of LANE ever handed to the link: rows
 * at or below it are never conflated (the peer may hold the old value). */
void gw_outbox_sent (gw_outbox_t *self, int lane, uint64_t seq);
/* Deletes acknowledged rows older than NOW_NS - GW_OUTBOX_KEEP_NS.  0 or -1. */
int gw_outbox_prune (gw_outbox_t *self, uint64_t now_ns);

uint64_t gw_outbox_acked (const gw_outbox_t *self, int lane);
uint64_t gw_outbox_last (const gw_outbox_t *self, int lane);
/* Unacknowledged rows and body bytes of LANE (all lanes if LANE < 0). */
uint64_t gw_outbox_pending (const gw_outbox_t *self, int lane);
uint64_t gw_outbox_pending_bytes (const gw_outbox_t *self);
/* Header time of the newest message added (0 if none): where a restarted
 * gateway resumes reading the broker's journal. */
uint64_t gw_outbox_last_t_ns (const gw_outbox_t *self);
const gw_outbox_counters_t *gw_outbox_counters (const gw_outbox_t *self);
const char *gw_outbox_error (const gw_outbox_t *self);

/* ------------------------------------------------------ delivery record */

/* The importer's side: per peer factory and lane, the highest sequence
 * number delivered (published to the local broker), in one SQLite file. */
typedef struct gw_inbox gw_inbox_t;

gw_inbox_t *gw_inbox_open (const char *path, bool sync_full, char *err, size_t err_len);
void gw_inbox_close (gw_inbox_t **self_p);
/* Delivered sequence numbers of FACTORY (zeros when new) into OUT. */
int gw_inbox_get (gw_inbox_t *self, const char *factory, uint64_t out[GW_LANES]);
/* Records them durably (one transaction); 0 or -1. */
int gw_inbox_put (gw_inbox_t *self, const char *factory, const uint64_t delivered[GW_LANES]);

#endif
