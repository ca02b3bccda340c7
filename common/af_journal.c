/*  af_journal — the SQLite historian and record file (see af_journal.h and
 *  docs/journal.md for the format).  */
#include "af_journal.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "af_clock.h"
#include "af_codec.h"
#include "af_topic.h"

#ifndef AF_VERSION
#define AF_VERSION "unknown"
#endif

/* How long a statement waits for another connection's lock, ms. */
#define AF_JOURNAL_BUSY_MS 5000

/* The schema of format version 1; docs/journal.md explains every column. */
static const char s_schema[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"      /* rowid: arrival order */
    "  t_ns INTEGER NOT NULL,"       /* header t_ns: the sender's clock */
    "  recv_ns INTEGER NOT NULL,"    /* recorder's wall clock at receipt */
    "  topic TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  session INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"          /* payload kind: telemetry, event, … */
    "  size INTEGER NOT NULL,"       /* length(body) */
    "  body BLOB NOT NULL"           /* the encoded Envelope, as received */
    ");"
    "CREATE INDEX messages_topic_t ON messages (topic, t_ns);"
    "CREATE INDEX messages_source_seq ON messages (source, session, seq);";

struct af_journal {
    sqlite3 *db;
    char *path;
    af_journal_mode_t mode;
    sqlite3_stmt *insert;
    bool in_batch;
    size_t pending;              /* messages in the open batch */
    int64_t batch_start_ms;      /* monotonic time of its first message */
    size_t batch_msgs;
    int batch_ms;
    uint64_t refused;
    char error[512];
};

struct af_journal_iter {
    af_journal_t *journal;
    sqlite3_stmt *stmt;
    char *pattern;
    uint64_t skipped;
    char source[AF_TOPIC_MAX_BYTES];
    af_journal_row_t row;
};

/* Records "PATH: why" as the journal's last error; returns -1. */
static int
s_fail (af_journal_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_fail (af_journal_t *self, const char *fmt, ...)
{
    int n = snprintf (self->error, sizeof self->error, "%s: ", self->path);
    if (n < 0 || (size_t) n >= sizeof self->error)
        n = 0;
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error + n, sizeof self->error - (size_t) n, fmt, args);
    va_end (args);
    /* SQLite quotes pieces of a damaged schema in its messages: keep the
     * line printable whatever the file holds. */
    for (char *p = self->error + n; *p; p++)
        if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
            *p = '?';
    return -1;
}

static int
s_fail_db (af_journal_t *self, const char *what)
{
    return s_fail (self, "%s: %s", what, sqlite3_errmsg (self->db));
}

/* ------------------------------------------------------- envelope shape */

/* The payload kind of a peeked envelope, as stored in `messages.kind`. */
static const char *
s_kind (const af_peek_t *peek)
{
    /* Envelope's payload oneof, fields 10 … 19 in envelope.proto. */
    static const char *const s_kinds[] = {
        "telemetry", "event", "alarm", "command", "result",
        "presence", "tick", "tick_ack", "typed", "raw",
    };
    return peek->payload >= 10 && peek->payload <= 19 ? s_kinds[peek->payload - 10] : "none";
}

const char *
af_journal_kind (const void *body, size_t len)
{
    af_peek_t peek;
    return body && af_envelope_peek (body, len, &peek) == AF_DECODE_OK ? s_kind (&peek) : NULL;
}

/* --------------------------------------------------------------- opening */

static int
s_exec (af_journal_t *self, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec (self->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        s_fail (self, "%s: %s", what, msg ? msg : sqlite3_errmsg (self->db));
        sqlite3_free (msg);
        return -1;
    }
    return 0;
}

/* Reads meta[KEY] into OUT; 1 found, 0 absent, -1 error (recorded). */
static int
s_meta_read (af_journal_t *self, const char *key, char *out, size_t out_len)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (self->db, "SELECT value FROM meta WHERE key = ?", -1, &stmt, NULL)
        != SQLITE_OK) {
        int code = sqlite3_errcode (self->db);
        if (code == SQLITE_NOTADB)
            return s_fail (self, "not an autofab journal (not a SQLite database)");
        if (code == SQLITE_ERROR && strstr (sqlite3_errmsg (self->db), "no such table"))
            return s_fail (self, "not an autofab journal (no meta table)");
        return s_fail_db (self, "cannot read meta");
    }
    sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    int found = 0;
    if (rc == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text (stmt, 0);
        snprintf (out, out_len, "%s", text ? (const char *) text : "");
        found = 1;
    }
    else if (rc != SQLITE_DONE)
        found = s_fail_db (self, "cannot read meta");
    sqlite3_finalize (stmt);
    return found;
}

/* Refuses anything but an autofab journal of the version we know. */
static int
s_check_format (af_journal_t *self)
{
    char value[64];
    int rc = s_meta_read (self, "format", value, sizeof value);
    if (rc < 0)
        return -1;
    if (rc == 0 || strcmp (value, AF_JOURNAL_FORMAT) != 0)
        return s_fail (self, "not an autofab journal (meta.format is not '%s')",
                       AF_JOURNAL_FORMAT);
    rc = s_meta_read (self, "version", value, sizeof value);
    if (rc < 0)
        return -1;
    char *end;
    errno = 0;
    long version = rc ? strtol (value, &end, 10) : -1;
    if (rc == 0 || errno || end == value || *end || version != AF_JOURNAL_VERSION)
        return s_fail (self, "journal format version '%s' is not supported (this build reads "
                       "version %d)", rc ? value : "(none)", AF_JOURNAL_VERSION);
    return 0;
}

static int
s_create_schema (af_journal_t *self)
{
    if (s_exec (self, "BEGIN IMMEDIATE", "cannot create the journal") != 0)
        return -1;
    if (s_exec (self, s_schema, "cannot create the journal") != 0)
        goto fail;
    char created[32], created_ns[32], version[16];
    uint64_t now = af_clock_now_ns (NULL);
    time_t secs = (time_t) (now / 1000000000ull);
    struct tm tm;
    gmtime_r (&secs, &tm);
    strftime (created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf (created_ns, sizeof created_ns, "%" PRIu64, now);
    snprintf (version, sizeof version, "%d", AF_JOURNAL_VERSION);
    const char *const rows[][2] = {
        { "format", AF_JOURNAL_FORMAT }, { "version", version }, { "created", created },
        { "created_ns", created_ns }, { "writer", "autofab " AF_VERSION },
        { "factory", "" }, { "pattern", "" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (af_journal_set_meta (self, rows[i][0], rows[i][1]) != 0)
            goto fail;
    if (s_exec (self, "COMMIT", "cannot create the journal") != 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* WAL so that readers (sqlite3, replay) never block the writer; FULL so that
 * a commit is on disk when it returns (docs/journal.md, "Durability"). */
static int
s_writer_pragmas (af_journal_t *self)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (self->db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL) != SQLITE_OK)
        return s_fail_db (self, "cannot set WAL mode");
    int rc = sqlite3_step (stmt);
    const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text (stmt, 0) : NULL;
    bool wal = mode && strcmp ((const char *) mode, "wal") == 0;
    sqlite3_finalize (stmt);
    if (!wal)
        return rc == SQLITE_ROW ? s_fail (self, "cannot set WAL mode (file system?)")
                                : s_fail_db (self, "cannot set WAL mode");
    return s_exec (self, "PRAGMA synchronous=FULL", "cannot set synchronous");
}

af_journal_t *
af_journal_open (const char *path, af_journal_mode_t mode, char *err, size_t err_len)
{
    if (!path || !*path) {
        if (err && err_len)
            snprintf (err, err_len, "journal: no file name given");
        return NULL;
    }
    af_journal_t *self = calloc (1, sizeof *self);
    if (!self || !(self->path = strdup (path))) {
        if (err && err_len)
            snprintf (err, err_len, "%s: out of memory", path);
        free (self);
        return NULL;
    }
    self->mode = mode;
    self->batch_msgs = AF_JOURNAL_BATCH_MSGS;
    self->batch_ms = AF_JOURNAL_BATCH_MS;
    struct stat st;
    bool exists = stat (path, &st) == 0;
    if (exists && !S_ISREG (st.st_mode)) {
        s_fail (self, "not a regular file");
        goto fail;
    }
    /* A zero-length file is what mktemp leaves: as good as absent. */
    bool fresh = !exists || st.st_size == 0;
    if (mode == AF_JOURNAL_READ && !exists) {
        s_fail (self, "no such file");
        goto fail;
    }
    if (mode == AF_JOURNAL_WRITE && exists && st.st_size > 0) {
        s_fail (self, "already exists (remove it, or append to it)");
        goto fail;
    }
    int flags = SQLITE_OPEN_READWRITE | (mode == AF_JOURNAL_READ ? 0 : SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2 (path, &self->db, flags, NULL) != SQLITE_OK) {
        s_fail (self, "cannot open: %s", self->db ? sqlite3_errmsg (self->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes (self->db, 0);
    sqlite3_busy_timeout (self->db, AF_JOURNAL_BUSY_MS);
    if (mode == AF_JOURNAL_READ) {
        if (s_check_format (self) != 0)
            goto fail;
        s_exec (self, "PRAGMA query_only=1", "cannot set query_only");
    }
    else {
        if (!fresh && s_check_format (self) != 0)
            goto fail;
        if (s_writer_pragmas (self) != 0)
            goto fail;
        if (fresh && s_create_schema (self) != 0)
            goto fail;
        if (sqlite3_prepare_v2 (self->db,
                                "INSERT INTO messages (t_ns, recv_ns, topic, source, session, "
                                "seq, kind, size, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                -1, &self->insert, NULL) != SQLITE_OK) {
            s_fail_db (self, "cannot prepare the insert");
            goto fail;
        }
    }
    return self;
fail:
    if (err && err_len)
        snprintf (err, err_len, "%s", self->error);
    af_journal_close (&self);
    return NULL;
}

void
af_journal_close (af_journal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    af_journal_t *self = *self_p;
    if (self->in_batch)
        af_journal_flush (self);
    sqlite3_finalize (self->insert);
    sqlite3_close_v2 (self->db);
    free (self->path);
    free (self);
    *self_p = NULL;
}

void
af_journal_set_batch (af_journal_t *self, size_t batch_msgs, int batch_ms)
{
    if (batch_msgs)
        self->batch_msgs = batch_msgs;
    if (batch_ms > 0)
        self->batch_ms = batch_ms;
}

int
af_journal_set_meta (af_journal_t *self, const char *key, const char *value)
{
    if (self->mode == AF_JOURNAL_READ)
        return s_fail (self, "opened for reading: cannot write meta '%s'", key);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (self->db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            -1, &stmt, NULL) != SQLITE_OK)
        return s_fail_db (self, "cannot write meta");
    sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, value ? value : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt) == SQLITE_DONE ? 0 : s_fail_db (self, "cannot write meta");
    sqlite3_finalize (stmt);
    return rc;
}

int
af_journal_get_meta (af_journal_t *self, const char *key, char *out, size_t out_len)
{
    return s_meta_read (self, key, out, out_len) == 1 ? 0 : -1;
}

/* ------------------------------------------------------------- writing */

static int
s_begin (af_journal_t *self)
{
    if (s_exec (self, "BEGIN IMMEDIATE", "cannot begin a batch") != 0)
        return -1;
    self->in_batch = true;
    self->pending = 0;
    self->batch_start_ms = af_clock_mono_ms ();
    return 0;
}

int
af_journal_flush (af_journal_t *self)
{
    if (!self->in_batch)
        return 0;
    if (s_exec (self, "COMMIT", "cannot commit") != 0) {
        /* SQLite may have rolled the batch back itself; keep our state true. */
        if (sqlite3_get_autocommit (self->db))
            self->in_batch = false;
        return -1;
    }
    self->in_batch = false;
    self->pending = 0;
    return 0;
}

int
af_journal_tick (af_journal_t *self)
{
    if (!self->in_batch)
        return -1;
    int64_t left = self->batch_start_ms + self->batch_ms - af_clock_mono_ms ();
    if (left > 0)
        return (int) left;
    return af_journal_flush (self) == 0 ? -1 : -2;
}

int
af_journal_append (af_journal_t *self, const char *topic, size_t topic_len, const void *body,
                   size_t len)
{
    return af_journal_append_at (self, topic, topic_len, body, len, af_clock_now_ns (NULL));
}

int
af_journal_append_at (af_journal_t *self, const char *topic, size_t topic_len, const void *body,
                      size_t len, uint64_t recv_ns)
{
    if (!self->insert)
        return s_fail (self, "opened for reading: cannot append");
    af_peek_t peek;
    const char *kind = NULL;
    if (!topic || !af_topic_valid (topic, topic_len) || !body || len > AF_JOURNAL_MAX_BODY_BYTES
        || af_envelope_peek (body, len, &peek) != AF_DECODE_OK) {
        self->refused++;
        return 1;
    }
    kind = s_kind (&peek);
    if (!self->in_batch && s_begin (self) != 0)
        return -1;
    sqlite3_stmt *st = self->insert;
    sqlite3_bind_int64 (st, 1, (sqlite3_int64) peek.t_ns);
    sqlite3_bind_int64 (st, 2, (sqlite3_int64) recv_ns);
    sqlite3_bind_text (st, 3, topic, (int) topic_len, SQLITE_STATIC);
    sqlite3_bind_text (st, 4, peek.source, (int) peek.source_len, SQLITE_STATIC);
    sqlite3_bind_int64 (st, 5, (sqlite3_int64) peek.session);
    sqlite3_bind_int64 (st, 6, (sqlite3_int64) peek.seq);
    sqlite3_bind_text (st, 7, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (st, 8, (sqlite3_int64) len);
    sqlite3_bind_blob64 (st, 9, body, len, SQLITE_STATIC);
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    if (rc != SQLITE_DONE) {
        s_fail_db (self, "cannot append");
        if (sqlite3_get_autocommit (self->db))
            self->in_batch = false;
        return -1;
    }
    self->pending++;
    if (self->pending >= self->batch_msgs
        || af_clock_mono_ms () - self->batch_start_ms >= self->batch_ms)
        return af_journal_flush (self);
    return 0;
}

int64_t
af_journal_count (af_journal_t *self)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (self->db, "SELECT count(*) FROM messages", -1, &stmt, NULL)
        != SQLITE_OK)
        return s_fail_db (self, "cannot count");
    int64_t count = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0)
                                                      : s_fail_db (self, "cannot count");
    sqlite3_finalize (stmt);
    return count;
}

uint64_t
af_journal_refused (const af_journal_t *self)
{
    return self->refused;
}

const char *
af_journal_error (const af_journal_t *self)
{
    return self->error;
}

const char *
af_journal_path (const af_journal_t *self)
{
    return self->path;
}

/* ------------------------------------------------------------- reading */

af_journal_iter_t *
af_journal_iter_new (af_journal_t *journal, const char *pattern, uint64_t from_ns, uint64_t to_ns)
{
    if (pattern && !af_topic_pattern_valid (pattern)) {
        s_fail (journal, "'%s' is not a valid topic pattern", pattern);
        return NULL;
    }
    af_journal_iter_t *self = calloc (1, sizeof *self);
    if (!self) {
        s_fail (journal, "out of memory");
        return NULL;
    }
    self->journal = journal;
    if (pattern && !(self->pattern = strdup (pattern))) {
        s_fail (journal, "out of memory");
        goto fail;
    }
    /* SQLite narrows by the pattern's literal prefix (topics hold no GLOB
     * metacharacters); af_topic_match does the rest per row. */
    char glob[AF_TOPIC_MAX_BYTES + 1] = "";
    if (pattern) {
        size_t n = af_topic_prefix (pattern, glob, sizeof glob - 1);
        glob[n] = '*';
        glob[n + 1] = 0;
    }
    /* Times are stored as signed 64-bit; no real clock reaches 2^63 ns. */
    if (from_ns > INT64_MAX)
        from_ns = INT64_MAX;
    if (to_ns > INT64_MAX)
        to_ns = INT64_MAX;
    char sql[256];
    snprintf (sql, sizeof sql,
              "SELECT id, topic, body, recv_ns FROM messages WHERE 1%s%s%s ORDER BY id",
              pattern ? " AND topic GLOB ?1" : "", from_ns ? " AND t_ns >= ?2" : "",
              to_ns ? " AND t_ns < ?3" : "");
    if (sqlite3_prepare_v2 (journal->db, sql, -1, &self->stmt, NULL) != SQLITE_OK) {
        s_fail_db (journal, "cannot read messages");
        goto fail;
    }
    if (pattern)
        sqlite3_bind_text (self->stmt, 1, glob, -1, SQLITE_TRANSIENT);
    if (from_ns)
        sqlite3_bind_int64 (self->stmt, 2, (sqlite3_int64) from_ns);
    if (to_ns)
        sqlite3_bind_int64 (self->stmt, 3, (sqlite3_int64) to_ns);
    return self;
fail:
    af_journal_iter_destroy (&self);
    return NULL;
}

void
af_journal_iter_destroy (af_journal_iter_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    af_journal_iter_t *self = *self_p;
    sqlite3_finalize (self->stmt);
    free (self->pattern);
    free (self);
    *self_p = NULL;
}

int
af_journal_iter_next (af_journal_iter_t *self, const char **topic, const void **body,
                      size_t *len, uint64_t *t_ns)
{
    while (true) {
        int rc = sqlite3_step (self->stmt);
        if (rc == SQLITE_DONE)
            return 0;
        if (rc != SQLITE_ROW)
            return s_fail_db (self->journal, "cannot read messages");
        /* The file is hostile: check the types and the bytes, and take the
         * header fields from the body itself, not from the other columns. */
        af_journal_row_t *row = &self->row;
        memset (row, 0, sizeof *row);
        /* Types first: reading a column may convert it. */
        bool typed = sqlite3_column_type (self->stmt, 1) == SQLITE_TEXT
                     && sqlite3_column_type (self->stmt, 2) == SQLITE_BLOB;
        row->id = sqlite3_column_int64 (self->stmt, 0);
        row->topic = (const char *) sqlite3_column_text (self->stmt, 1);
        row->topic_len = (size_t) sqlite3_column_bytes (self->stmt, 1);
        row->body = sqlite3_column_blob (self->stmt, 2);
        row->len = (size_t) sqlite3_column_bytes (self->stmt, 2);
        row->recv_ns = (uint64_t) sqlite3_column_int64 (self->stmt, 3);
        af_peek_t peek;
        if (!typed || !row->topic
            || !af_topic_valid (row->topic, row->topic_len) || !row->body
            || row->len > AF_JOURNAL_MAX_BODY_BYTES
            || af_envelope_peek (row->body, row->len, &peek) != AF_DECODE_OK) {
            self->skipped++;
            continue;
        }
        if (self->pattern && !af_topic_match (self->pattern, row->topic, row->topic_len))
            continue;
        size_t n = peek.source_len < sizeof self->source - 1 ? peek.source_len
                                                             : sizeof self->source - 1;
        memcpy (self->source, peek.source, n);
        self->source[n] = 0;
        row->source = self->source;
        row->session = peek.session;
        row->seq = peek.seq;
        row->t_ns = peek.t_ns;
        if (topic)
            *topic = row->topic;
        if (body)
            *body = row->body;
        if (len)
            *len = row->len;
        if (t_ns)
            *t_ns = row->t_ns;
        return 1;
    }
}

const af_journal_row_t *
af_journal_iter_row (const af_journal_iter_t *self)
{
    return &self->row;
}

uint64_t
af_journal_iter_skipped (const af_journal_iter_t *self)
{
    return self->skipped;
}
