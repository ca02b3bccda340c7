/*  gateway — autofab-gateway's engine: joins this factory's broker to peer
 *  factories over CURVE links (DESIGN §6, docs/gateway.md).
 *
 *  Export: subscribes to the local broker's egress, keeps what the export
 *  rules select (own-factory topics only) in one on-disk outbox per peer,
 *  and sends it over the peer's preferred live link in priority lanes under
 *  a bandwidth budget, retransmitting what is not acknowledged in time.
 *  Import: a CURVE server with a ZAP handler (zauth) and an allow-list of
 *  peer keys takes the peers' data, delivers each lane in order and once to
 *  the local broker, and acknowledges cumulatively.
 *
 *  Shape: gateway_new / gateway_iterate / gateway_run / gateway_destroy, as
 *  the broker; one thread.
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_config.h"

typedef struct gateway gateway_t;

/* Counters, declared once (X-macro): name, meaning. */
#define GW_COUNTERS(X)                                                                   \
    X (exported, "messages put in an outbox")                                            \
    X (sent, "DATA frames sent, first time")                                             \
    X (retransmitted, "DATA frames sent again")                                          \
    X (go_backs, "retransmission timeouts and link switches (resend from the ack)")      \
    X (failovers, "switches of a peer's active link")                                    \
    X (acks, "ACK frames received")                                                      \
    X (imported, "messages delivered to the local broker")                               \
    X (import_duplicates, "DATA frames already delivered (dropped)")                     \
    X (import_out_of_order, "DATA frames ahead of a gap (dropped, resent by the peer)")  \
    X (import_refused, "imported messages outside the import rules (dropped, counted)")  \
    X (tombstones, "messages the peer dropped under its outbox cap")                     \
    X (bad_frames, "malformed frames")                                                   \
    X (unknown_peer, "frames from a key that is not the named peer's")                   \
    X (auth_refused, "CURVE handshakes refused by the ZAP handler")                      \
    X (plaintext_refused, "handshakes refused for a wrong mechanism (plaintext peers)")  \
    X (publish_failed, "imports the local broker did not take (retried)")                \
    X (journal_caught_up, "messages taken from the broker's journal after a restart")    \
    X (key_reloads, "reloads of our own key after its file changed")

typedef struct {
#define GW_X_FIELD(name, doc) uint64_t name;
    GW_COUNTERS (GW_X_FIELD)
#undef GW_X_FIELD
} gw_counters_t;

/* Starts a gateway on CFG (copied).  NULL with one line in ERR: a key that
 * cannot be loaded or is readable by others, a ZAP handler that does not
 * start, a socket that does not bind, an outbox that does not open. */
gateway_t *gateway_new (const gw_config_t *cfg, char *err, size_t err_len);
void gateway_destroy (gateway_t **self_p);

/* One turn of the loop: waits at most TIMEOUT_MS for traffic.  0 or -1. */
int gateway_iterate (gateway_t *self, int timeout_ms);
/* Runs until *STOP is set. */
int gateway_run (gateway_t *self, volatile sig_atomic_t *stop);

const gw_counters_t *gateway_counters (const gateway_t *self);
/* Writes counters and per-peer state as one JSON object to PATH
 * (atomically: a temporary file renamed).  0 or -1. */
int gateway_write_stats (gateway_t *self, const char *path);

#endif
