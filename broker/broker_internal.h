/*  Internals shared by the broker's files (broker.c, relay.c, cache.c,
 *  presence.c, services.c, control.c).  Not a public interface.  */
#ifndef BROKER_INTERNAL_H
#define BROKER_INTERNAL_H

#include <czmq.h>
#include <sodium.h>

#include "af_bus.h"
#include "af_codec.h"
#include "af_log.h"
#include "af_topic.h"
#include "broker.h"
#include "journal.h"

/* Counters the broker keeps; names match the StatsReply and /metrics. */
#define BROKER_COUNTERS(X) \
    X (relayed_msgs) X (relayed_bytes) X (relayed_batches) X (relay_bad_frames) X (relay_bad_topic) \
    X (relay_too_large) X (relay_malformed) X (relay_no_header) X (relay_bad_schema) \
    X (relay_send_failed) X (relay_gaps) X (cache_full) X (control_msgs) X (control_bad_frames) \
    X (control_malformed) X (control_bad_tag) X (control_unknown) X (registrations) \
    X (duplicate_names) X (unregistered_heartbeats) X (births) X (deaths) X (requests) \
    X (requests_no_worker) X (requests_failed_over) X (requests_unavailable) \
    X (requests_timed_out) X (replies_stale) X (snapshots) X (subscriptions) X (streams_full) \
    X (register_too_large) X (register_bad_heartbeat) X (agents_full) X (requests_too_large) \
    X (requests_bad_timeout) X (requests_over_limit) X (replies_too_large) X (cache_bytes_full)

/* Streams (source, topic) the relay tracks for gaps; beyond, new ones are
 * relayed but not tracked (counted as streams_full). */
#define BROKER_MAX_STREAMS 200000

typedef struct {
#define X(name) uint64_t name;
    BROKER_COUNTERS (X)
#undef X
} broker_counters_t;

/* ZeroMQ routing ids are 1 to 255 bytes. */
#define BROKER_RID_MAX 255

typedef struct cache cache_t;
typedef struct agent agent_t;

/* A registered agent. */
struct agent {
    char key[BROKER_RID_MAX * 2 + 1];  /* hex of the routing id */
    uint8_t routing_id[BROKER_RID_MAX];
    size_t routing_id_len;
    char *name, *kind, *cell, *version;
    char **services;
    size_t n_services;
    char **capabilities;
    size_t n_capabilities;
    int heartbeat_ms;
    int64_t registered_ms, last_seen_ms, last_sent_ms;
    uint64_t requests;
};

struct broker {
    broker_opts_t opts;
    zsock_t *control, *ingress, *egress;
    void *control_h, *ingress_h, *egress_h;
    char id[20];
    af_stamper_t *stamper;   /* the broker's own messages (presence, stats, markers) */
    af_seqtrack_t *sources;  /* per-source counters and gaps of relayed traffic */
    cache_t *cache;
    size_t cache_prefix_len;  /* strlen (opts.cache_prefix), once, off the hot path */
    uint8_t *run_buf;         /* the relay's batch being built (AF_BATCH_MAX_BYTES) */
    broker_journal_t *journal; /* the historian, or NULL */
    zhashx_t *agents;        /* key → agent_t */
    zhashx_t *names;         /* name → agent_t (not owned) */
    zhashx_t *services;      /* service name → zlistx_t of agent_t* in LRU order */
    zhashx_t *inflight;      /* token (as text) → inflight_t */
    zhashx_t *clients;       /* client routing id (hex) → its requests in flight */
    uint64_t next_token;
    int64_t next_housekeeping_ms, next_stats_ms;
    bool stopping;
    broker_counters_t counters;
};

/* relay.c: moves up to BURST messages from ingress to egress. */
int broker__relay (broker_t *self, int burst);
/* relay.c: publishes a broker-made envelope on the egress (and cache). */
int broker__publish (broker_t *self, const char *topic, Autofab__Envelope *env);
/* relay.c: publishes a snapshot marker (not cached). */
int broker__publish_marker (broker_t *self, const char *topic);

/* cache.c: the last-value cache, capped in topics and in bytes (bodies
 * and topic names). */
cache_t *cache_new (size_t max_topics, size_t max_bytes);
void cache_destroy (cache_t **self_p);
#define CACHE_FULL_TOPICS (-1)
#define CACHE_FULL_BYTES (-2)
/* Keeps a reference to BODY as TOPIC's newest message: 0, CACHE_FULL_TOPICS,
 * or CACHE_FULL_BYTES (and TOPIC's older value, if any, is dropped). */
int cache_put (cache_t *self, const void *topic, size_t topic_len, zmq_msg_t *body);
void cache_remove (cache_t *self, const char *topic);
void cache_remove_len (cache_t *self, const void *topic, size_t topic_len);
size_t cache_size (const cache_t *self);
size_t cache_bytes (const cache_t *self);
typedef int (cache_visit_fn) (const char *topic, zmq_msg_t *body, void *arg);
/* Calls FN for every cached topic under PREFIX (literal, af_topic rules). */
int cache_visit (cache_t *self, const char *prefix, cache_visit_fn *fn, void *arg);

/* presence.c */
void broker__presence_init (broker_t *self);
/* Writes the hex of a routing id (BROKER_RID_MAX * 2 + 1 bytes) into KEY. */
void broker__rid_key (const uint8_t *rid, size_t len, char *key);
int broker__register (broker_t *self, const uint8_t *rid, size_t rid_len,
                      const Autofab__Register *reg, char *err, size_t err_len);
agent_t *broker__agent (broker_t *self, const uint8_t *rid, size_t rid_len);
void broker__agent_seen (broker_t *self, agent_t *agent);
void broker__agent_remove (broker_t *self, agent_t *agent, const char *reason);
void broker__presence_tick (broker_t *self, int64_t now_ms);
void broker__agent_free (agent_t **agent_p);

/* services.c */
void broker__services_init (broker_t *self);
void broker__services_add (broker_t *self, agent_t *agent);
void broker__services_drop (broker_t *self, agent_t *agent);
/* Handles a client's Request (body may be empty); replies itself on error. */
void broker__request (broker_t *self, const uint8_t *rid, size_t rid_len,
                      const Autofab__Request *req, zmq_msg_t *body);
void broker__worker_reply (broker_t *self, agent_t *worker, const Autofab__WorkerReply *wr,
                           zmq_msg_t *body);
/* Re-sends or fails the requests in flight to AGENT (which is going away). */
void broker__services_worker_gone (broker_t *self, agent_t *agent);
void broker__services_tick (broker_t *self, int64_t now_ms);

/* control.c: handles up to BURST control messages. */
int broker__control (broker_t *self, int burst);
/* Sends a Control (with optional body) to the peer with routing id RID. */
int broker__send (broker_t *self, const uint8_t *rid, size_t rid_len, Autofab__Control *ctl,
                  const void *body, size_t body_len);
void broker__send_error (broker_t *self, const uint8_t *rid, size_t rid_len, int status,
                         const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

#endif
