/*  af_bus — a client of one factory's broker (DESIGN §2).
 *
 *  Connects lazily to the broker's three endpoints: ingress (publish),
 *  egress (subscribe) and control (requests, lists, snapshots).  Everything
 *  received is decoded as hostile input: refused messages are counted by
 *  reason and skipped, never returned.  Not thread-safe: one bus per thread.
 */
#ifndef AF_BUS_H
#define AF_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "af_clock.h"
#include "af_codec.h"
#include "af_topic.h"
#include <zmq.h>

/* The control protocol's first frame; bump on an incompatible change. */
#define AF_CONTROL_TAG "AFC1"
/* Default broker control endpoint; ingress and egress are the next ports. */
#define AF_DEFAULT_BROKER "tcp://127.0.0.1:5550"
/* Default high-water mark (messages) of pub/sub sockets. */
#define AF_DEFAULT_HWM 100000

typedef struct af_bus af_bus_t;

typedef struct {
    const char *broker;      /* control endpoint; NULL: $AUTOFAB_BROKER or the default */
    const char *ingress;     /* NULL: broker's port + 1 */
    const char *egress;      /* NULL: broker's port + 2 */
    const char *source;      /* name written in headers; needed to publish */
    const char *factory;     /* NULL: "factory" */
    size_t max_msg_bytes;    /* 0: AF_MAX_MSG_BYTES */
    int hwm;                 /* 0: AF_DEFAULT_HWM */
    af_clock_t *clock;       /* NULL: wall clock; not owned */
    unsigned coalesce;       /* envelopes per frame when publishing on one
                                topic in a row (see af_bus_flush); 0 or 1:
                                each leaves at once */
    int request_spin_us;     /* how long a request polls for its reply before
                                it sleeps; 0: $AUTOFAB_REQUEST_SPIN_US or
                                AF_BUS_REQUEST_SPIN_US; < 0: never polls */
} af_bus_opts_t;

/* A reply through the broker takes four ZeroMQ hops, each waking a thread,
 * and on a virtual machine a sleeping requester is woken late (tens of us
 * per wake).  Polling for the reply this long before sleeping halves the
 * round trip, at the cost of at most that much CPU per request. */
#define AF_BUS_REQUEST_SPIN_US 1000

/* Coalescing (DESIGN §2): up to this many envelopes, and this many bytes,
 * share one frame; the agent runtime publishes with AF_BUS_COALESCE. */
#define AF_BUS_COALESCE 256u
#define AF_BUS_COALESCE_BYTES AF_BATCH_MAX_BYTES

/* Bytes of the per-message decode arena: a typical envelope decodes into it
 * without a single malloc; a larger one spills over to malloc. */
#define AF_MSG_ARENA_BYTES 4096

/* A received message; release with af_msg_clear.  It owns its decoded
 * envelope (in its own arena), so never copy an af_msg_t by value. */
typedef struct {
    char topic[AF_TOPIC_MAX_BYTES];
    Autofab__Envelope *env;
    size_t bytes;
    uint64_t gap;            /* messages of this stream missed just before it */
    /* private */
    size_t arena_used_, arena_spilled_;
    _Alignas (16) unsigned char arena_[AF_MSG_ARENA_BYTES];
} af_msg_t;

/* Counters a bus keeps; read with af_bus_counters. */
typedef struct {
    uint64_t published;
    uint64_t publish_failed;         /* encode failure, too large, or HWM */
    uint64_t batches;                /* frames sent carrying several envelopes */
    uint64_t flush_failed;           /* flushes held back by the HWM (kept, retried) */
    uint64_t received;
    uint64_t refused[AF_DECODE_REASONS]; /* by af_decode_t reason */
    uint64_t bad_frames;             /* wrong frame count or bad topic */
    uint64_t gaps;                   /* sequence numbers missed */
    uint64_t stale;                  /* duplicates and pre-snapshot messages */
    uint64_t requests, request_retries, request_timeouts;
} af_bus_counters_t;

/* Creates a bus client.  Returns NULL with a reason in ERR on bad options. */
af_bus_t *af_bus_new (const af_bus_opts_t *opts, char *err, size_t err_len);
void af_bus_destroy (af_bus_t **self_p);

/* Derives "tcp://host:port+OFFSET" from a control endpoint; 0 or -1. */
int af_bus_endpoint_offset (const char *control, int offset, char *out, size_t out_len);

/* ------------------------------------------------------------- publishing */

/* Stamps ENV's header (source, sequence, time, id) and publishes it on
 * TOPIC.  ENV's header pointer is left pointing at stack memory that is no
 * longer valid: do not reuse it before stamping again.  0 or -1. */
int af_bus_publish (af_bus_t *self, const char *topic, Autofab__Envelope *env);
/* With coalescing on, envelopes published on one topic in a row wait in the
 * bus and leave as one frame (a Batch) when a publish on another topic comes,
 * when the batch is full, on af_bus_flush, and before anything that waits
 * (af_bus_recv, requests, lists, snapshots) or af_bus_destroy.  A loop that
 * publishes and then waits on its own must flush first; the agent runtime
 * does it before every poll, so nothing waits longer than the turn of the
 * loop that published it and an idle bus adds no delay.  Returns 0 when
 * nothing is left waiting, -1 when the high-water mark held the batch back
 * (it is kept, in order, for the next flush; meanwhile publishes on its
 * topic join it until it is full, and any other publish fails). */
int af_bus_flush (af_bus_t *self);
/* Publishes a Telemetry payload built from N metrics. */
int af_bus_publish_metrics (af_bus_t *self, const char *topic, const Autofab__Metric *metrics,
                            size_t n);
/* Sends FRAMES as they are (tools, benchmarks and hostile-input tests). */
int af_bus_publish_frames (af_bus_t *self, const void *const *frames, const size_t *lens,
                           size_t n);
/* Waits until the broker's ingress has subscribed to this publisher, so that
 * nothing published afterwards is dropped by ZeroMQ; 0, or -1 on timeout. */
int af_bus_wait_ready (af_bus_t *self, int timeout_ms);

/* ------------------------------------------------------------ subscribing */

/* Adds a pattern (af_topic.h); ZeroMQ filters on its literal prefix and the
 * bus on the rest.  0, or -1 if the pattern is invalid. */
int af_bus_subscribe (af_bus_t *self, const char *pattern);
/* Receives the next matching, valid message.  1: got one in *MSG; 0: timed
 * out; -1: interrupted.  TIMEOUT_MS < 0 waits forever. */
int af_bus_recv (af_bus_t *self, af_msg_t *msg, int timeout_ms);
void af_msg_clear (af_msg_t *msg);
/* The subscriber socket's raw handle, for zmq_poll in an event loop. */
void *af_bus_sub_handle (af_bus_t *self);
/* True when messages already read from the socket wait in the bus (the rest
 * of a batch, or what a snapshot put aside): an event loop must not block in
 * zmq_poll on the handle while this is so. */
bool af_bus_has_buffered (const af_bus_t *self);

/* Late joiners (Clone pattern): subscribes to PREFIX, then calls FN for the
 * newest cached message of every topic under it, and arranges for the live
 * stream read by af_bus_recv to continue exactly after the snapshot.
 * Returns the number of cached messages, or -1. */
typedef void (af_snapshot_fn) (const char *topic, const Autofab__Envelope *env, void *arg);
int af_bus_snapshot (af_bus_t *self, const char *prefix, af_snapshot_fn *fn, void *arg,
                     int timeout_ms);

/* --------------------------------------------------------------- requests */

/* Asks SERVICE to handle REQ (stamped here).  Waits TIMEOUT_MS per attempt,
 * retrying RETRIES more times with the same message id (commands are
 * idempotent by id).  On success returns 0 and the reply in *REPLY (free with
 * autofab__envelope__free_unpacked; may be NULL).  Otherwise returns an
 * Autofab__Status value and a reason in ERR. */
int af_bus_request (af_bus_t *self, const char *service, Autofab__Envelope *req, int timeout_ms,
                    int retries, Autofab__Envelope **reply, char *err, size_t err_len);
/* Who is registered; *OUT freed with autofab__control__free_unpacked.  0 or -1. */
int af_bus_list (af_bus_t *self, Autofab__Control **out, int timeout_ms);
/* The broker's counters; *OUT as above.  0 or -1.  The reply must carry
 * this call's request id: a late reply to an earlier call that timed out
 * (a broker outage) is dropped, never returned as current. */
int af_bus_stats (af_bus_t *self, Autofab__Control **out, int timeout_ms);

const af_bus_counters_t *af_bus_counters (const af_bus_t *self);
af_clock_t *af_bus_clock (af_bus_t *self);
const char *af_bus_factory (const af_bus_t *self);
const char *af_bus_source (const af_bus_t *self);

/* Reads one multipart message from SOCKET without waiting into FRAMES, MAX
 * initialised zmq_msg_t that the caller closes.  Returns how many frames the
 * message had (more than MAX: the rest were read and discarded, so a
 * hostile peer cannot make us keep them), 0 if none was waiting, -1 on
 * error. */
int af_recv_frames (void *socket, zmq_msg_t *frames, int max);

/* Helpers shared with the agent runtime and the broker: send a control
 * message (with optional body) on a DEALER or, with ROUTING_ID, a ROUTER. */
int af_control_send (void *socket, const void *routing_id, size_t routing_id_len,
                     const Autofab__Control *ctl, const void *body, size_t body_len);

#endif
