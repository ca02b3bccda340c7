/*  broker/journal.c — the broker's historian: relay → ring → writer thread →
 *  af_journal (see journal.h).
 *
 *  The ring is single-producer (the relay's thread) single-consumer (the
 *  writer): the producer owns `tail`, the consumer `head`, and each publishes
 *  its index with a release store that the other reads with an acquire load,
 *  so the hot path takes no lock and makes no system call.  The writer sleeps
 *  briefly when the ring is empty instead of being woken: a wake-up would
 *  cost the relay a system call per message, and the journal commits in
 *  batches of af_journal's batch_ms anyway.
 */
#include "journal.h"
#include "af_clock.h"
#include "af_codec.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "af_journal.h"
#include "af_log.h"
#include "af_topic.h"

/* The writer's nap when the ring is empty, ms. */
#define BROKER_JOURNAL_IDLE_MS 2
/* Most prefixes one journal takes. */
#define BROKER_JOURNAL_PREFIXES_MAX 64

typedef struct {
    zmq_msg_t body;              /* a reference to the relayed frame */
    uint64_t recv_ns;
    size_t topic_len;
    char topic[AF_TOPIC_MAX];
} s_slot_t;

struct broker_journal {
    af_journal_t *journal;       /* the writer thread's once it runs */
    char *prefixes[BROKER_JOURNAL_PREFIXES_MAX];
    size_t prefix_lens[BROKER_JOURNAL_PREFIXES_MAX];
    size_t n_prefixes;
    s_slot_t *ring;
    size_t mask;                 /* slots - 1 */
    _Atomic size_t head;         /* next slot the writer reads */
    _Atomic size_t tail;         /* next slot the relay fills */
    atomic_bool stop;
    pthread_t thread;
    bool started;
    /* Each counter has one writing thread; atomics let the other read. */
    _Atomic uint64_t offered, dropped, written, refused, failed;
};

/* Adds N to a counter only one thread writes: a plain load and store. */
static inline void
s_add (_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit (counter, atomic_load_explicit (counter, memory_order_relaxed) + n,
                           memory_order_relaxed);
}

static void
s_bump (_Atomic uint64_t *counter)
{
    s_add (counter, 1);
}

/* True if TOPIC is under one of the prefixes, on a segment boundary. */
static bool
s_wanted (const broker_journal_t *self, const char *topic, size_t len)
{
    if (self->n_prefixes == 0)
        return true;
    for (size_t i = 0; i < self->n_prefixes; i++) {
        size_t n = self->prefix_lens[i];
        if (n == 0)
            return true;
        if (len >= n && memcmp (topic, self->prefixes[i], n) == 0
            && (len == n || self->prefixes[i][n - 1] == '.' || topic[n] == '.'))
            return true;
    }
    return false;
}

/* "" or a topic, optionally ending in '.'. */
static bool
s_prefix_valid (const char *prefix)
{
    size_t len = strlen (prefix);
    if (len && prefix[len - 1] == '.')
        len--;
    return len == 0 ? prefix[0] == 0 : af_topic_valid (prefix, len);
}

/* Writes one envelope of SLOT's message as a row, counting the outcome. */
static void
s_append (broker_journal_t *self, const s_slot_t *slot, const uint8_t *data, size_t len)
{
    int rc = af_journal_append_at (self->journal, slot->topic, slot->topic_len, data, len,
                                   slot->recv_ns);
    if (rc == 0)
        s_bump (&self->written);
    else if (rc == 1) {
        s_bump (&self->refused);
        AF_LOG_ONCE (AF_LOG_WARN, "journal: refused a malformed body on '%.*s' (counted; "
                     "logged once)", (int) slot->topic_len, slot->topic);
    }
    else {
        s_bump (&self->failed);
        AF_LOG_ONCE (AF_LOG_ERROR, "journal: %s (messages lost are counted; logged once)",
                     af_journal_error (self->journal));
    }
}

/* Appends what the ring holds; returns how many slots it consumed. */
static size_t
s_drain (broker_journal_t *self)
{
    size_t head = atomic_load_explicit (&self->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit (&self->tail, memory_order_acquire);
    size_t done = 0;
    for (; head != tail; head++, done++) {
        s_slot_t *slot = &self->ring[head & self->mask];
        /* An envelope, or a batch: each record is a row of its own. */
        af_batch_iter_t it;
        af_body_iter_init (&it, zmq_msg_data (&slot->body), zmq_msg_size (&slot->body));
        const uint8_t *data;
        size_t len;
        while (af_batch_next (&it, &data, &len) == 1)
            s_append (self, slot, data, len);
        zmq_msg_close (&slot->body);
        /* Hand the slot back to the relay only once we are done with it. */
        atomic_store_explicit (&self->head, head + 1, memory_order_release);
    }
    return done;
}

static void *
s_writer (void *arg)
{
    broker_journal_t *self = arg;
    while (true) {
        if (s_drain (self))
            continue;
        /* Empty.  The stop flag is set after the relay's last offer, so
         * seeing it here (then draining once more) loses nothing. */
        if (atomic_load_explicit (&self->stop, memory_order_acquire)) {
            s_drain (self);
            break;
        }
        int due_ms = af_journal_tick (self->journal);
        if (due_ms == -2)
            AF_LOG_ONCE (AF_LOG_ERROR, "journal: %s", af_journal_error (self->journal));
        int nap_ms = due_ms >= 0 && due_ms < BROKER_JOURNAL_IDLE_MS ? due_ms
                                                                    : BROKER_JOURNAL_IDLE_MS;
        struct timespec ts = { 0, (long) (nap_ms > 0 ? nap_ms : 1) * 1000000L };
        nanosleep (&ts, NULL);
    }
    if (af_journal_flush (self->journal) != 0)
        af_error ("journal: %s", af_journal_error (self->journal));
    return NULL;
}

broker_journal_t *
broker_journal_new_sized (const char *path, const char *const prefixes[], size_t queue_slots,
                          char *err, size_t len)
{
    broker_journal_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, len, "journal: out of memory");
        return NULL;
    }
    for (size_t i = 0; prefixes && prefixes[i]; i++) {
        if (self->n_prefixes == BROKER_JOURNAL_PREFIXES_MAX) {
            snprintf (err, len, "journal: more than %d prefixes", BROKER_JOURNAL_PREFIXES_MAX);
            goto fail;
        }
        if (!s_prefix_valid (prefixes[i])) {
            snprintf (err, len, "journal: prefix '%s' is not a topic prefix (segments of "
                      "letters, digits, '_', '-')", prefixes[i]);
            goto fail;
        }
        self->prefixes[self->n_prefixes] = strdup (prefixes[i]);
        if (!self->prefixes[self->n_prefixes]) {
            snprintf (err, len, "journal: out of memory");
            goto fail;
        }
        self->prefix_lens[self->n_prefixes] = strlen (prefixes[i]);
        self->n_prefixes++;
    }
    size_t slots = 2;
    while (slots < queue_slots && slots < ((size_t) 1 << 30))
        slots <<= 1;
    self->ring = calloc (slots, sizeof *self->ring);
    self->mask = slots - 1;
    if (!self->ring) {
        snprintf (err, len, "journal: out of memory for %zu slots", slots);
        goto fail;
    }
    self->journal = af_journal_open (path, AF_JOURNAL_APPEND, err, len);
    if (!self->journal)
        goto fail;
    /* What this file holds, for whoever opens it with sqlite3 later. */
    char pattern[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < self->n_prefixes && used < sizeof pattern; i++)
        used += (size_t) snprintf (pattern + used, sizeof pattern - used, "%s%s", i ? "," : "",
                                   self->prefixes[i]);
    af_journal_set_meta (self->journal, "pattern", self->n_prefixes ? pattern : ">");
    af_journal_set_meta (self->journal, "writer", "autofab-broker");
    if (pthread_create (&self->thread, NULL, s_writer, self) != 0) {
        snprintf (err, len, "journal: cannot start the writer thread");
        goto fail;
    }
    self->started = true;
    return self;
fail:
    broker_journal_destroy (&self);
    return NULL;
}

broker_journal_t *
broker_journal_new (const char *path, const char *const prefixes[], char *err, size_t len)
{
    return broker_journal_new_sized (path, prefixes, BROKER_JOURNAL_QUEUE, err, len);
}

broker_journal_t *
broker_journal_new_csv (const char *path, const char *prefixes_csv, char *err, size_t len)
{
    char *copy = strdup (prefixes_csv ? prefixes_csv : "");
    if (!copy) {
        snprintf (err, len, "journal: out of memory");
        return NULL;
    }
    const char *list[BROKER_JOURNAL_PREFIXES_MAX + 2];
    size_t n = 0;
    char *save = NULL;
    for (char *item = strtok_r (copy, ", ", &save); item && n <= BROKER_JOURNAL_PREFIXES_MAX;
         item = strtok_r (NULL, ", ", &save))
        list[n++] = item;
    list[n] = NULL;
    broker_journal_t *self = broker_journal_new (path, list, err, len);
    free (copy);
    return self;
}

void
broker_journal_destroy (broker_journal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_journal_t *self = *self_p;
    if (self->started) {
        atomic_store_explicit (&self->stop, true, memory_order_release);
        pthread_join (self->thread, NULL);
    }
    /* Not started: nothing can be in the ring. */
    af_journal_close (&self->journal);
    for (size_t i = 0; i < self->n_prefixes; i++)
        free (self->prefixes[i]);
    free (self->ring);
    free (self);
    *self_p = NULL;
}

void
broker_journal_offer (broker_journal_t *self, const void *topic, size_t topic_len,
                      zmq_msg_t *body, size_t records)
{
    if (!self || !s_wanted (self, topic, topic_len))
        return;
    /* Counted in envelopes: a batch is as many as it carries. */
    uint64_t n = records;
    s_add (&self->offered, n);
    size_t tail = atomic_load_explicit (&self->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit (&self->head, memory_order_acquire);
    if (tail - head > self->mask || topic_len > AF_TOPIC_MAX) {
        s_add (&self->dropped, n);
        AF_LOG_ONCE (AF_LOG_WARN, "journal: the writer is behind; dropping messages from the "
                     "journal (not from the bus; counted, logged once)");
        return;
    }
    s_slot_t *slot = &self->ring[tail & self->mask];
    zmq_msg_init (&slot->body);
    if (zmq_msg_copy (&slot->body, body) != 0) {
        zmq_msg_close (&slot->body);
        s_add (&self->dropped, n);
        return;
    }
    memcpy (slot->topic, topic, topic_len);
    slot->topic_len = topic_len;
    slot->recv_ns = af_clock_now_ns (NULL);
    atomic_store_explicit (&self->tail, tail + 1, memory_order_release);
}

void
broker_journal_stats (const broker_journal_t *self, broker_journal_stats_t *out)
{
    memset (out, 0, sizeof *out);
    if (!self)
        return;
    out->offered = atomic_load_explicit (&self->offered, memory_order_relaxed);
    out->dropped = atomic_load_explicit (&self->dropped, memory_order_relaxed);
    out->written = atomic_load_explicit (&self->written, memory_order_relaxed);
    out->refused = atomic_load_explicit (&self->refused, memory_order_relaxed);
    out->failed = atomic_load_explicit (&self->failed, memory_order_relaxed);
}
