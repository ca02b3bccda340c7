/*  gateway_internal — state shared by the gateway's files: gateway.c
 *  (lifecycle, sockets, loop), gw_export.c (outboxes, lanes, links) and
 *  gw_import.c (the CURVE server side).  Not installed.  */
#ifndef GATEWAY_INTERNAL_H
#define GATEWAY_INTERNAL_H

#include "gateway.h"
#include "gw_outbox.h"
#include "af_bus.h"
#include "af_keys.h"

#include <czmq.h>

/* Most messages one turn of the loop reads from one socket, so that no
 * socket starves the others. */
#define GW_BURST 1024
/* Telemetry taken per turn: small, so the alarm socket is looked at often. */
#define GW_INTAKE_BURST 256
/* Probes: at least this often, ns … */
#define GW_PROBE_MIN_NS (50ull * 1000000ull)
/* … and at most this rarely. */
#define GW_PROBE_MAX_NS (1000ull * 1000000ull)
/* Slack added to timeouts computed from a profile, ns. */
#define GW_SLACK_NS (200ull * 1000000ull)
/* How far before the outbox's newest message a restart rereads the journal. */
#define GW_JOURNAL_BACK_NS (5ull * 1000000000ull)
/* A second journal pass after this long catches rows the broker had not yet
 * committed at the first (its batches commit every 200 ms). */
#define GW_JOURNAL_SECOND_PASS_NS (2ull * 1000000000ull)
/* Token bucket depth: this long of budget, bytes at least GW_BUCKET_MIN. */
#define GW_BUCKET_NS (5ull * 1000000ull)
#define GW_BUCKET_MIN 4096.0
/* A DATA frame carries about this long of budget, so an alarm never waits
 * behind more than that, within [GW_BATCH_MIN_BYTES, GW_BATCH_MAX_BYTES]. */
#define GW_BATCH_NS (8ull * 1000000ull)
#define GW_BATCH_MIN_BYTES 1024u
#define GW_BATCH_MAX_BYTES (64u * 1024u)
/* Room for a batch: the largest batch plus one message of the largest size. */
#define GW_BATCH_ROOM (GW_BATCH_MAX_BYTES + AF_MAX_MSG_BYTES + AF_TOPIC_MAX_BYTES + GW_RECORD_OVERHEAD)
/* Bytes a DATA frame costs on the wire beyond topic and body (tag, head,
 * ZMTP framing, CURVE box). */
#define GW_FRAME_OVERHEAD 96
/* A link silent this long (and at least 4 liveness windows) is dialled
 * again with a fresh socket: libzmq stops reconnecting after the peer
 * refused our key, and the peer may have rotated its key meanwhile. */
#define GW_REDIAL_NS (5ull * 1000000000ull)
/* A link that refused a frame (not connected, or full) is retried after, ns. */
#define GW_BLOCKED_RETRY_NS (5ull * 1000000ull)

typedef struct {
    const gw_link_cfg_t *cfg;
    zsock_t *dealer;
    uint64_t heard_ns;       /* last ACK on this link (monotonic) */
    uint64_t probe_ns;       /* last probe sent */
    uint64_t probe_ivl_ns, live_ns, rto_ns;
    uint64_t dialed_ns;      /* when the socket was (re)created */
    bool alive, dark;
} gw_link_t;

typedef struct {
    const gw_peer_cfg_t *cfg;
    char key_txt[41];        /* the peer's public key (its CURVE server key and its client identity) */
    gw_outbox_t *outbox;
    gw_link_t links[GW_MAX_LINKS];
    size_t n_links;
    int active;              /* index of the link in use, -1: none live */
    uint64_t next_sent[GW_LANES];   /* highest seq handed to the link per lane */
    uint64_t max_sent[GW_LANES];    /* highest seq ever sent: beyond it a send is a first */
    uint64_t progress_ns;    /* last ack progress (or start of sending) */
    double tokens;
    uint64_t tokens_ns;
    uint64_t window_msgs;
    uint64_t blocked_until_ns; /* the link refused a frame: retry then */
    size_t batch_bytes;      /* records per DATA frame, bytes (see GW_BATCH_NS) */
    uint8_t *batch;          /* room for one batch */
    /* import side: what we delivered of this peer's lanes */
    uint64_t delivered[GW_LANES];
    bool delivered_dirty;
} gw_peer_t;

struct gateway {
    gw_config_t cfg;
    zcert_t *cert;
    af_keyfile_t keyfile;
    zactor_t *auth;
    zsock_t *server;         /* ROUTER, CURVE server */
    zsock_t *monitor;        /* PAIR: the server's handshake failures */
    zsock_t *sub;            /* SUB on the broker's egress: all but alarms */
    zsock_t *sub_alarms;     /* SUB for alarms alone, read first: an alarm
                                never queues behind telemetry, even when
                                the gateway cannot keep up with the intake */
    af_bus_t *bus;           /* publishes imports on the broker's ingress */
    gw_inbox_t *inbox;
    gw_peer_t peers[GW_MAX_PEERS];
    size_t n_peers;
    gw_counters_t counters;
    uint64_t started_ns, housekeeping_ns, second_pass_ns;
    uint64_t refusal_log_ns; /* last log line about a refused handshake */
    bool second_pass_done;
};

uint64_t gw_now_ns (void);
uint64_t gw_wall_ns (void);

/* gw_export.c */
int gw_export_open (gateway_t *self, char *err, size_t err_len);
void gw_export_close (gateway_t *self);
int gw_export_drain_sub (gateway_t *self, zsock_t *sub, int burst);
int gw_export_catch_up (gateway_t *self);
void gw_export_link_recv (gateway_t *self, gw_peer_t *peer, gw_link_t *link);
void gw_export_tick (gateway_t *self, gw_peer_t *peer, uint64_t now_ns);
int gw_export_open_links (gateway_t *self, gw_peer_t *peer, char *err, size_t err_len);
void gw_export_close_links (gw_peer_t *peer);
/* When the export side next needs a turn (ms), for the poll timeout. */
int gw_export_timeout_ms (gateway_t *self, uint64_t now_ns);

/* gw_import.c */
int gw_import_drain (gateway_t *self);
void gw_import_monitor (gateway_t *self);
gw_peer_t *gw_peer_by_factory (gateway_t *self, const char *factory);

#endif
