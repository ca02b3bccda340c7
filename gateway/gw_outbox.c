/*  gw_outbox — the link outbox and the importer's delivery record on SQLite
 *  (see gw_outbox.h).  */
#include "gw_outbox.h"
#include "af_log.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Statements prepared once, by index. */
enum {
    S_INSERT, S_FIND_KEY, S_FIND_UNSENT, S_REPLACE, S_NEXT, S_ACK_SUM, S_LANE_SAVE, S_META_SAVE,
    S_OLDEST_TEL, S_TOMBSTONE, S_PRUNE, S_STMTS
};

static const char *const s_sql[S_STMTS] = {
    [S_INSERT] = "INSERT OR IGNORE INTO outbox (lane, seq, topic, body, t_ns, source, session, sseq)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_FIND_KEY] = "SELECT 1 FROM outbox WHERE topic = ?1 AND source = ?2 AND session = ?3"
                   " AND sseq = ?4",
    [S_FIND_UNSENT] = "SELECT seq, length(body) FROM outbox WHERE lane = ?1 AND topic = ?2"
                      " AND seq > ?3 AND body IS NOT NULL ORDER BY seq DESC LIMIT 1",
    [S_REPLACE] = "UPDATE outbox SET body = ?3, t_ns = ?4, source = ?5, session = ?6, sseq = ?7"
                  " WHERE lane = ?1 AND seq = ?2",
    [S_NEXT] = "SELECT seq, topic, body FROM outbox WHERE lane = ?1 AND seq > ?2"
               " ORDER BY seq LIMIT 1",
    [S_ACK_SUM] = "SELECT count(*), coalesce(sum(length(body)), 0) FROM outbox"
                  " WHERE lane = ?1 AND seq > ?2 AND seq <= ?3",
    [S_LANE_SAVE] = "INSERT OR REPLACE INTO lanes (lane, last, acked) VALUES (?1, ?2, ?3)",
    [S_META_SAVE] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
    [S_OLDEST_TEL] = "SELECT seq, length(body) FROM outbox WHERE lane = ?1 AND seq > ?2"
                     " AND body IS NOT NULL ORDER BY seq LIMIT 64",
    [S_TOMBSTONE] = "UPDATE outbox SET body = NULL WHERE lane = ?1 AND seq = ?2",
    [S_PRUNE] = "DELETE FROM outbox WHERE lane = ?1 AND seq <= ?2 AND t_ns < ?3",
};

static const char s_schema[] =
    "PRAGMA journal_mode = WAL;"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);"
    "CREATE TABLE IF NOT EXISTS lanes (lane INTEGER PRIMARY KEY, last INTEGER, acked INTEGER);"
    "CREATE TABLE IF NOT EXISTS outbox (lane INTEGER, seq INTEGER, topic TEXT, body BLOB,"
    " t_ns INTEGER, source TEXT, session INTEGER, sseq INTEGER, PRIMARY KEY (lane, seq))"
    " WITHOUT ROWID;"
    "CREATE UNIQUE INDEX IF NOT EXISTS outbox_ukey ON outbox (topic, source, session, sseq);"
    "CREATE INDEX IF NOT EXISTS outbox_topic ON outbox (lane, topic, seq);";

typedef struct {
    uint64_t last, acked, sent;
    uint64_t pending, pending_bytes;
} s_lane_t;

struct gw_outbox {
    sqlite3 *db;
    sqlite3_stmt *st[S_STMTS];
    s_lane_t lanes[GW_LANES];
    uint64_t max_bytes, last_t_ns;
    bool in_tx, dirty;
    gw_outbox_counters_t counters;
    char error[256];
};

static int
s_fail (gw_outbox_t *self, const char *what)
{
    snprintf (self->error, sizeof self->error, "%s: %s", what, sqlite3_errmsg (self->db));
    AF_LOG_ONCE (AF_LOG_ERROR, "outbox: %s", self->error);
    return -1;
}

static int
s_step_done (gw_outbox_t *self, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : s_fail (self, what);
}

static int
s_load (gw_outbox_t *self)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (self->db, "SELECT lane, last, acked FROM lanes", -1, &st, NULL) != SQLITE_OK)
        return s_fail (self, "load lanes");
    while (sqlite3_step (st) == SQLITE_ROW) {
        int lane = sqlite3_column_int (st, 0);
        if (lane < 0 || lane >= GW_LANES)
            continue;
        self->lanes[lane].last = (uint64_t) sqlite3_column_int64 (st, 1);
        self->lanes[lane].acked = (uint64_t) sqlite3_column_int64 (st, 2);
    }
    sqlite3_finalize (st);
    for (int lane = 0; lane < GW_LANES; lane++) {
        s_lane_t *l = &self->lanes[lane];
        /* Whatever was handed out before a restart may be at the peer. */
        l->sent = l->last;
        sqlite3_stmt *sum = self->st[S_ACK_SUM];
        sqlite3_bind_int (sum, 1, lane);
        sqlite3_bind_int64 (sum, 2, (int64_t) l->acked);
        sqlite3_bind_int64 (sum, 3, INT64_MAX);
        if (sqlite3_step (sum) == SQLITE_ROW) {
            l->pending = (uint64_t) sqlite3_column_int64 (sum, 0);
            l->pending_bytes = (uint64_t) sqlite3_column_int64 (sum, 1);
        }
        sqlite3_reset (sum);
    }
    if (sqlite3_prepare_v2 (self->db, "SELECT value FROM meta WHERE key = 'last_t_ns'", -1, &st,
                            NULL) == SQLITE_OK) {
        if (sqlite3_step (st) == SQLITE_ROW)
            self->last_t_ns = (uint64_t) sqlite3_column_int64 (st, 0);
        sqlite3_finalize (st);
    }
    return 0;
}

gw_outbox_t *
gw_outbox_open (const char *path, uint64_t max_bytes, bool sync_full, char *err, size_t err_len)
{
    gw_outbox_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    self->max_bytes = max_bytes;
    if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK
        || sqlite3_exec (self->db, s_schema, NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_exec (self->db, sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                         NULL, NULL, NULL) != SQLITE_OK) {
        snprintf (err, err_len, "%s: %s", path, self->db ? sqlite3_errmsg (self->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout (self->db, 5000);
    for (int i = 0; i < S_STMTS; i++)
        if (sqlite3_prepare_v3 (self->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->st[i], NULL)
            != SQLITE_OK) {
            snprintf (err, err_len, "%s: %s", path, sqlite3_errmsg (self->db));
            goto fail;
        }
    if (s_load (self) != 0) {
        snprintf (err, err_len, "%s: %s", path, self->error);
        goto fail;
    }
    return self;
fail:
    gw_outbox_close (&self);
    return NULL;
}

void
gw_outbox_close (gw_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_outbox_t *self = *self_p;
    if (self->in_tx)
        gw_outbox_commit (self);
    for (int i = 0; i < S_STMTS; i++)
        sqlite3_finalize (self->st[i]);
    sqlite3_close (self->db);
    free (self);
    *self_p = NULL;
}

int
gw_outbox_begin (gw_outbox_t *self)
{
    if (self->in_tx)
        return 0;
    if (sqlite3_exec (self->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return s_fail (self, "begin");
    self->in_tx = true;
    return 0;
}

static int
s_save_lane (gw_outbox_t *self, int lane)
{
    sqlite3_stmt *st = self->st[S_LANE_SAVE];
    sqlite3_bind_int (st, 1, lane);
    sqlite3_bind_int64 (st, 2, (int64_t) self->lanes[lane].last);
    sqlite3_bind_int64 (st, 3, (int64_t) self->lanes[lane].acked);
    return s_step_done (self, st, "save lane");
}

int
gw_outbox_commit (gw_outbox_t *self)
{
    if (!self->in_tx)
        return 0;
    sqlite3_reset (self->st[S_NEXT]);
    int rc = 0;
    if (self->dirty) {
        for (int lane = 0; lane < GW_LANES && rc == 0; lane++)
            rc = s_save_lane (self, lane);
        sqlite3_stmt *st = self->st[S_META_SAVE];
        sqlite3_bind_text (st, 1, "last_t_ns", -1, SQLITE_STATIC);
        sqlite3_bind_int64 (st, 2, (int64_t) self->last_t_ns);
        if (rc == 0)
            rc = s_step_done (self, st, "save meta");
    }
    if (sqlite3_exec (self->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        rc = s_fail (self, "commit");
    self->in_tx = false;
    self->dirty = false;
    return rc;
}

static void
s_bind_key (sqlite3_stmt *st, int first, const gw_msg_key_t *key)
{
    sqlite3_bind_text (st, first, key->source, (int) key->source_len, SQLITE_STATIC);
    sqlite3_bind_int64 (st, first + 1, key->session);
    sqlite3_bind_int64 (st, first + 2, (int64_t) key->seq);
}

/* Replaces the newest never-sent row of KEY's topic; 1 if done, 0 if none. */
static int
s_conflate (gw_outbox_t *self, int lane, const gw_msg_key_t *key, const void *body, size_t len)
{
    s_lane_t *l = &self->lanes[lane];
    sqlite3_stmt *st = self->st[S_FIND_UNSENT];
    sqlite3_bind_int (st, 1, lane);
    sqlite3_bind_text (st, 2, key->topic, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (st, 3, (int64_t) l->sent);
    int found = sqlite3_step (st) == SQLITE_ROW;
    uint64_t seq = found ? (uint64_t) sqlite3_column_int64 (st, 0) : 0;
    uint64_t old_len = found ? (uint64_t) sqlite3_column_int64 (st, 1) : 0;
    sqlite3_reset (st);
    if (!found)
        return 0;
    st = self->st[S_REPLACE];
    sqlite3_bind_int (st, 1, lane);
    sqlite3_bind_int64 (st, 2, (int64_t) seq);
    sqlite3_bind_blob (st, 3, body, (int) len, SQLITE_STATIC);
    sqlite3_bind_int64 (st, 4, (int64_t) key->t_ns);
    s_bind_key (st, 5, key);
    if (s_step_done (self, st, "conflate") != 0)
        return -1;
    l->pending_bytes = l->pending_bytes - old_len + len;
    self->counters.conflated++;
    return 1;
}

/* Applies the cap: the oldest unacknowledged telemetry becomes tombstones. */
static int
s_enforce_cap (gw_outbox_t *self)
{
    if (!self->max_bytes || gw_outbox_pending_bytes (self) <= self->max_bytes)
        return 0;
    s_lane_t *l = &self->lanes[GW_LANE_TELEMETRY];
    while (gw_outbox_pending_bytes (self) > self->max_bytes) {
        uint64_t seqs[64], lens[64];
        size_t n = 0;
        sqlite3_stmt *st = self->st[S_OLDEST_TEL];
        sqlite3_bind_int (st, 1, GW_LANE_TELEMETRY);
        sqlite3_bind_int64 (st, 2, (int64_t) l->acked);
        while (n < 64 && sqlite3_step (st) == SQLITE_ROW) {
            seqs[n] = (uint64_t) sqlite3_column_int64 (st, 0);
            lens[n++] = (uint64_t) sqlite3_column_int64 (st, 1);
        }
        sqlite3_reset (st);
        if (n == 0) {
            self->counters.over_cap++;
            AF_LOG_ONCE (AF_LOG_WARN, "outbox over its cap with alarms, commands or bulk only: "
                                      "kept, never dropped");
            return 0;
        }
        for (size_t i = 0; i < n && gw_outbox_pending_bytes (self) > self->max_bytes; i++) {
            st = self->st[S_TOMBSTONE];
            sqlite3_bind_int (st, 1, GW_LANE_TELEMETRY);
            sqlite3_bind_int64 (st, 2, (int64_t) seqs[i]);
            if (s_step_done (self, st, "tombstone") != 0)
                return -1;
            l->pending_bytes -= lens[i];
            self->counters.dropped_cap++;
        }
        AF_LOG_ONCE (AF_LOG_WARN, "outbox full: dropping the oldest telemetry (counted; the peer "
                                  "is told by tombstones)");
    }
    return 0;
}

int
gw_outbox_add (gw_outbox_t *self, int lane, const gw_msg_key_t *key, const void *body, size_t len,
               bool conflate)
{
    if (lane < 0 || lane >= GW_LANES || gw_outbox_begin (self) != 0)
        return -1;
    sqlite3_stmt *st;
    if (conflate && lane == GW_LANE_TELEMETRY) {
        /* A duplicate must not replace anything: look first. */
        st = self->st[S_FIND_KEY];
        sqlite3_bind_text (st, 1, key->topic, -1, SQLITE_STATIC);
        s_bind_key (st, 2, key);
        int dup = sqlite3_step (st) == SQLITE_ROW;
        sqlite3_reset (st);
        if (dup) {
            self->counters.duplicates++;
            return 1;
        }
        int rc = s_conflate (self, lane, key, body, len);
        if (rc != 0) {
            self->dirty = true;
            if (key->t_ns > self->last_t_ns)
                self->last_t_ns = key->t_ns;
            return rc < 0 ? -1 : 2;
        }
    }
    s_lane_t *l = &self->lanes[lane];
    st = self->st[S_INSERT];
    sqlite3_bind_int (st, 1, lane);
    sqlite3_bind_int64 (st, 2, (int64_t) (l->last + 1));
    sqlite3_bind_text (st, 3, key->topic, -1, SQLITE_STATIC);
    sqlite3_bind_blob (st, 4, body, (int) len, SQLITE_STATIC);
    sqlite3_bind_int64 (st, 5, (int64_t) key->t_ns);
    s_bind_key (st, 6, key);
    if (s_step_done (self, st, "insert") != 0)
        return -1;
    /* The unique stream key refused it: offered twice (live and journal). */
    if (sqlite3_changes (self->db) == 0) {
        self->counters.duplicates++;
        return 1;
    }
    if (key->t_ns > self->last_t_ns)
        self->last_t_ns = key->t_ns;
    self->dirty = true;
    l->last++;
    l->pending++;
    l->pending_bytes += len;
    self->counters.added++;
    return s_enforce_cap (self) == 0 ? 0 : -1;
}

int
gw_outbox_next (gw_outbox_t *self, int lane, uint64_t after, gw_row_t *row)
{
    sqlite3_stmt *st = self->st[S_NEXT];
    sqlite3_reset (st);
    sqlite3_bind_int (st, 1, lane);
    sqlite3_bind_int64 (st, 2, (int64_t) after);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return s_fail (self, "next");
    row->seq = (uint64_t) sqlite3_column_int64 (st, 0);
    row->topic = (const char *) sqlite3_column_text (st, 1);
    row->body = sqlite3_column_blob (st, 2);
    row->len = (size_t) sqlite3_column_bytes (st, 2);
    if (!row->body)
        row->len = 0;
    /* The statement stays open (row points into it) until the next call. */
    return row->topic ? 1 : 0;
}

int
gw_outbox_ack (gw_outbox_t *self, int lane, uint64_t seq)
{
    if (lane < 0 || lane >= GW_LANES)
        return -1;
    s_lane_t *l = &self->lanes[lane];
    if (seq > l->last)
        return -1;
    if (seq <= l->acked)
        return 0;
    sqlite3_reset (self->st[S_NEXT]);
    sqlite3_stmt *st = self->st[S_ACK_SUM];
    sqlite3_bind_int (st, 1, lane);
    sqlite3_bind_int64 (st, 2, (int64_t) l->acked);
    sqlite3_bind_int64 (st, 3, (int64_t) seq);
    if (sqlite3_step (st) == SQLITE_ROW) {
        l->pending -= (uint64_t) sqlite3_column_int64 (st, 0);
        l->pending_bytes -= (uint64_t) sqlite3_column_int64 (st, 1);
    }
    sqlite3_reset (st);
    l->acked = seq;
    self->dirty = true;
    return 0;
}

void
gw_outbox_sent (gw_outbox_t *self, int lane, uint64_t seq)
{
    if (lane >= 0 && lane < GW_LANES && seq > self->lanes[lane].sent)
        self->lanes[lane].sent = seq;
}

int
gw_outbox_prune (gw_outbox_t *self, uint64_t now_ns)
{
    if (gw_outbox_begin (self) != 0)
        return -1;
    uint64_t before = now_ns > GW_OUTBOX_KEEP_NS ? now_ns - GW_OUTBOX_KEEP_NS : 0;
    for (int lane = 0; lane < GW_LANES; lane++) {
        sqlite3_stmt *st = self->st[S_PRUNE];
        sqlite3_bind_int (st, 1, lane);
        sqlite3_bind_int64 (st, 2, (int64_t) self->lanes[lane].acked);
        sqlite3_bind_int64 (st, 3, (int64_t) before);
        if (s_step_done (self, st, "prune") != 0)
            return -1;
    }
    self->dirty = true;
    return gw_outbox_commit (self);
}

uint64_t
gw_outbox_acked (const gw_outbox_t *self, int lane)
{
    return lane >= 0 && lane < GW_LANES ? self->lanes[lane].acked : 0;
}

uint64_t
gw_outbox_last (const gw_outbox_t *self, int lane)
{
    return lane >= 0 && lane < GW_LANES ? self->lanes[lane].last : 0;
}

uint64_t
gw_outbox_pending (const gw_outbox_t *self, int lane)
{
    uint64_t n = 0;
    for (int i = 0; i < GW_LANES; i++)
        if (lane < 0 || lane == i)
            n += self->lanes[i].pending;
    return n;
}

uint64_t
gw_outbox_pending_bytes (const gw_outbox_t *self)
{
    uint64_t n = 0;
    for (int i = 0; i < GW_LANES; i++)
        n += self->lanes[i].pending_bytes;
    return n;
}

uint64_t
gw_outbox_last_t_ns (const gw_outbox_t *self)
{
    return self->last_t_ns;
}

const gw_outbox_counters_t *
gw_outbox_counters (const gw_outbox_t *self)
{
    return &self->counters;
}

const char *
gw_outbox_error (const gw_outbox_t *self)
{
    return self->error;
}

/* ------------------------------------------------------ delivery record */

struct gw_inbox {
    sqlite3 *db;
    sqlite3_stmt *get, *put;
};

gw_inbox_t *
gw_inbox_open (const char *path, bool sync_full, char *err, size_t err_len)
{
    gw_inbox_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    const char *schema = "PRAGMA journal_mode = WAL;"
                         "CREATE TABLE IF NOT EXISTS delivered (factory TEXT, lane INTEGER,"
                         " seq INTEGER, PRIMARY KEY (factory, lane));";
    if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK
        || sqlite3_exec (self->db, schema, NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_exec (self->db, sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                         NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_prepare_v2 (self->db, "SELECT lane, seq FROM delivered WHERE factory = ?1", -1,
                               &self->get, NULL) != SQLITE_OK
        || sqlite3_prepare_v2 (self->db,
                               "INSERT OR REPLACE INTO delivered (factory, lane, seq) VALUES (?1, ?2, ?3)",
                               -1, &self->put, NULL) != SQLITE_OK) {
        snprintf (err, err_len, "%s: %s", path, self->db ? sqlite3_errmsg (self->db) : "cannot open");
        gw_inbox_close (&self);
        return NULL;
    }
    sqlite3_busy_timeout (self->db, 5000);
    return self;
}

void
gw_inbox_close (gw_inbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sqlite3_finalize ((*self_p)->get);
    sqlite3_finalize ((*self_p)->put);
    sqlite3_close ((*self_p)->db);
    free (*self_p);
    *self_p = NULL;
}

int
gw_inbox_get (gw_inbox_t *self, const char *factory, uint64_t out[GW_LANES])
{
    memset (out, 0, sizeof (uint64_t) * GW_LANES);
    sqlite3_bind_text (self->get, 1, factory, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step (self->get)) == SQLITE_ROW) {
        int lane = sqlite3_column_int (self->get, 0);
        if (lane >= 0 && lane < GW_LANES)
            out[lane] = (uint64_t) sqlite3_column_int64 (self->get, 1);
    }
    sqlite3_reset (self->get);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
gw_inbox_put (gw_inbox_t *self, const char *factory, const uint64_t delivered[GW_LANES])
{
    if (sqlite3_exec (self->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int rc = 0;
    for (int lane = 0; lane < GW_LANES && rc == 0; lane++) {
        sqlite3_bind_text (self->put, 1, factory, -1, SQLITE_STATIC);
        sqlite3_bind_int (self->put, 2, lane);
        sqlite3_bind_int64 (self->put, 3, (int64_t) delivered[lane]);
        rc = sqlite3_step (self->put) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset (self->put);
    }
    if (sqlite3_exec (self->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    return rc;
}
