/*  broker/journal — the broker's historian (DESIGN §2 "Journal").
 *
 *  The relay offers every message it forwards; those under the configured
 *  topic prefixes are handed, by reference (zmq_msg_copy: no byte is
 *  copied), to a writer thread through a bounded single-producer
 *  single-consumer ring, and the writer appends them to an af_journal
 *  (SQLite, WAL, batched commits).  The relay never waits for the disk: when
 *  the ring is full the message is dropped from the journal (not from the
 *  bus) and counted.  Format and durability: docs/journal.md.
 */
#ifndef BROKER_JOURNAL_H
#define BROKER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

/* Slots in the ring between the relay and the writer (a power of two). */
#define BROKER_JOURNAL_QUEUE 16384

typedef struct broker_journal broker_journal_t;

/* What a journal has done since it was created. */
typedef struct {
    uint64_t offered;        /* messages under the prefixes the relay offered */
    uint64_t dropped;        /* not journaled: the writer was behind (ring full) */
    uint64_t written;        /* appended (committed by the end of their batch) */
    uint64_t refused;        /* bodies that are not well-formed envelopes */
    uint64_t failed;         /* lost to a database error (disk full, …) */
} broker_journal_stats_t;

/* Opens (or creates) the journal PATH and starts its writer.  PREFIXES is a
 * NULL-terminated list of topic prefixes, matched on whole segments ("tel"
 * and "tel." both match "tel.f1.c1…", "tel.f1" does not match "tel.f10…");
 * NULL, an empty list or "" record everything.  NULL with one line in ERR. */
broker_journal_t *broker_journal_new (const char *path, const char *const prefixes[], char *err,
                                      size_t len);
/* The same with the prefixes as one comma-separated string ("tel.,alm."),
 * as a config file or command line gives them; NULL or "" for everything. */
broker_journal_t *broker_journal_new_csv (const char *path, const char *prefixes_csv, char *err,
                                          size_t len);
/* The same with a ring of QUEUE_SLOTS slots (rounded up to a power of two). */
broker_journal_t *broker_journal_new_sized (const char *path, const char *const prefixes[],
                                            size_t queue_slots, char *err, size_t len);
/* Flushes everything offered, stops the writer and closes the file;
 * NULL-safe, nulls the caller's pointer. */
void broker_journal_destroy (broker_journal_t **self_p);

/* Offers a relayed message: TOPIC (TOPIC_LEN bytes, already validated) and
 * BODY, one envelope or a batch of RECORDS (the relay has counted them),
 * which keeps belonging to the caller (the journal takes its own
 * reference).  Never blocks.  Call from one thread only (the relay's). */
void broker_journal_offer (broker_journal_t *self, const void *topic, size_t topic_len,
                           zmq_msg_t *body, size_t records);
/* Copies the counters; safe from the relay's thread while the writer runs. */
void broker_journal_stats (const broker_journal_t *self, broker_journal_stats_t *out);

#endif
