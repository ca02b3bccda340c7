/*  web_state — what the dashboard knows about the plant: the newest value of
 *  everything it heard on the bus (stations, energy, inventory, line, KPIs,
 *  agents' presence, alarms and events, broker counters, any other
 *  telemetry) plus message rates and gaps per topic class.
 *
 *  No I/O: the bus thread feeds messages in (web_state_apply), the HTTP
 *  threads read it out as JSON (web_state_json) or in the Prometheus text
 *  format (web_state_metrics).  Every call takes the object's mutex, so it
 *  may be shared between those threads.  Every table is bounded; a message
 *  that does not fit is counted in `dropped`, never stored past the bound.
 *
 *  Versions: each change bumps a version number and stamps the items it
 *  touched, so that a JSON rendering "since V" holds only what changed
 *  after V (the server-sent events are such deltas).
 */
#ifndef WEB_STATE_H
#define WEB_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "af_bus.h"
#include "web_buf.h"

/* Bounds of the tables (hostile input cannot make them grow further). */
#define WEB_MAX_STATIONS 128
#define WEB_MAX_PARTS 64
#define WEB_MAX_ROBOTS 64
#define WEB_MAX_AGENTS 256
#define WEB_MAX_GENERIC 128
#define WEB_MAX_METRICS 16
#define WEB_FEED_LEN 50
#define WEB_ENERGY_POINTS 240
#define WEB_NAME_BYTES 64
#define WEB_TEXT_BYTES 160

/* Topic classes counted separately (DESIGN §2), "other" last. */
typedef enum { WEB_CLASS_TEL, WEB_CLASS_EVT, WEB_CLASS_ALM, WEB_CLASS_CMD, WEB_CLASS_SYS,
               WEB_CLASS_OTHER, WEB_CLASS_COUNT } web_class_t;

typedef struct web_state web_state_t;

/* FACTORY: only messages of this factory are shown (NULL or "": all). */
web_state_t *web_state_new (const char *factory);
void web_state_destroy (web_state_t **self_p);

/* Takes in one message received on TOPIC (BYTES on the wire, GAP messages of
 * its source missed just before it). */
void web_state_apply (web_state_t *self, const char *topic, const Autofab__Envelope *env,
                      size_t bytes, uint64_t gap);
/* KPIs (autofab.twin.Kpis bytes, as the twin's "kpis" service returns them). */
void web_state_apply_kpis (web_state_t *self, const void *data, size_t len);
/* Once a second or so: recomputes the per-class message rates at NOW_MS
 * (monotonic) and records the bus client's own counters. */
void web_state_tick (web_state_t *self, int64_t now_ms, const af_bus_counters_t *bus);

/* The service name of a live twin agent, copied into BUF; false if none. */
bool web_state_twin_service (web_state_t *self, char *buf, size_t len);
/* Current version (0 before anything arrived). */
uint64_t web_state_version (web_state_t *self);
/* Waits up to TIMEOUT_MS for the version to pass SINCE; returns the version. */
uint64_t web_state_wait (web_state_t *self, uint64_t since, int timeout_ms);

/* Appends the state as one JSON object to OUT.  SINCE 0: everything; else
 * only what changed after version SINCE ("full": false).  Returns the
 * version rendered. */
uint64_t web_state_json (web_state_t *self, uint64_t since, web_buf_t *out);
/* Appends the Prometheus text exposition (version 0.0.4) to OUT. */
void web_state_metrics (web_state_t *self, web_buf_t *out);

/* HTTP bookkeeping shown in /metrics. */
void web_state_note_http (web_state_t *self, int status);
void web_state_note_sse (web_state_t *self, int delta_clients);

/* Station state names, in autofab.twin.StationStatus order. */
const char *web_station_state_name (int state);

#endif
