/*  bridge sparkplug — the Sparkplug B side of autofab-bridge (libmosquitto).
 *
 *  Edge node: bus telemetry matching the map's publish patterns becomes
 *  Sparkplug devices of our edge node.  NBIRTH (seq 0, bdSeq, "Node
 *  Control/Rebirth") on every connect, with the NDEATH carrying the same
 *  bdSeq registered as the MQTT will; a DBIRTH per device before its first
 *  DDATA (and again when a new metric appears); DDATA by alias; DDEATH
 *  when a device's topics fall silent for its stale_ms; a new NBIRTH and
 *  DBIRTHs when a host sets Node Control/Rebirth; NDEATH before a clean
 *  disconnect.  seq runs 0…255 over every message but NDEATH.
 *
 *  Host application: publishes STATE (retained, online true; the will says
 *  false), consumes every edge node of its group, resolves aliases and
 *  types from the births, and publishes the metrics on the bus on
 *  tel.<factory>.<cell>.<bridge>.spb.<group>.<node>[.<device>].  A seq
 *  gap, data before a birth, or an unknown alias makes it ask that node
 *  for a rebirth (at most once a second per node) and ignore the node's
 *  data until the NBIRTH.  Malformed payloads, bad topics and non-numeric
 *  metrics are refused, counted and logged once.
 *
 *  Single-threaded: libmosquitto is served by bspb_iterate from the
 *  bridge's loop, so its callbacks run on the bus's thread.
 */
#ifndef BRIDGE_SPARKPLUG_H
#define BRIDGE_SPARKPLUG_H

#include "af_agent.h"
#include "map.h"

typedef struct bspb bspb_t;

#define BSPB_COUNTERS(X) \
    X (edge_connects) X (births) X (data_sent) X (device_deaths) X (rebirths_honoured) \
    X (dropped_offline) X (publish_failed) X (host_connects) X (received) X (bad_topics) \
    X (bad_payloads) X (wrong_types) X (unknown_aliases) X (seq_gaps) X (rebirth_requests) \
    X (births_seen) X (deaths_seen) X (metrics_forwarded)

typedef struct {
#define X(name) uint64_t name;
    BSPB_COUNTERS (X)
#undef X
} bspb_counters_t;

/* The Sparkplug side for CFG (not copied), publishing on AGENT's bus;
 * subscriptions and a counters timer are added to AGENT, so call it before
 * the agent starts.  NULL with a reason in ERR. */
bspb_t *bspb_new (const bm_sparkplug_t *cfg, af_agent_t *agent, char *err, size_t err_len);
void bspb_destroy (bspb_t **self_p);
/* Serves MQTT (connects, reconnects with back-off, births, dead devices). */
void bspb_iterate (bspb_t *self, int64_t now_ms);
/* Clean goodbye: NDEATH / STATE offline, then disconnect.  NULL-safe. */
void bspb_shutdown (bspb_t *self);
const bspb_counters_t *bspb_counters (const bspb_t *self);

#endif
