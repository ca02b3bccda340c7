/*  gw_import — the importing half of the gateway: the CURVE server takes
 *  DATA and PROBE frames from peers that zauth let in, checks that each
 *  frame comes from the key of the peer it names, delivers each lane in
 *  order and once to the local broker, records what it delivered, then
 *  acknowledges (docs/gateway.md).  */
#include "gateway_internal.h"
#include "af_log.h"
#include "af_topic.h"

#include <stdio.h>
#include <string.h>

/* Distinct connections acknowledged per turn. */
#define GW_ACK_TARGETS 32
/* At most one refusal log line per this long, ns. */
#define GW_REFUSAL_LOG_NS (10ull * 1000000000ull)

typedef struct {
    uint8_t rid[256];
    size_t rid_len;
    gw_peer_t *peer;
    uint64_t echo_ns;
} s_ack_t;

typedef struct {
    s_ack_t to[GW_ACK_TARGETS];
    size_t n;
} s_acks_t;

static void
s_note_ack (s_acks_t *acks, zmq_msg_t *rid, gw_peer_t *peer, uint64_t echo_ns)
{
    size_t len = zmq_msg_size (rid);
    if (len > sizeof acks->to[0].rid)
        return;
    for (size_t i = 0; i < acks->n; i++)
        if (acks->to[i].rid_len == len && memcmp (acks->to[i].rid, zmq_msg_data (rid), len) == 0) {
            acks->to[i].echo_ns = echo_ns;
            return;
        }
    if (acks->n == GW_ACK_TARGETS)
        return;
    s_ack_t *a = &acks->to[acks->n++];
    memcpy (a->rid, zmq_msg_data (rid), len);
    a->rid_len = len;
    a->peer = peer;
    a->echo_ns = echo_ns;
}

/* Delivers record SEQ of LANE from PEER if it is the next of its lane.
 * False when the local broker did not take it (stop: the peer resends). */
static bool
s_deliver (gateway_t *self, gw_peer_t *peer, int lane, uint64_t seq, const char *topic, size_t tlen,
           const uint8_t *body, size_t blen)
{
    uint64_t *delivered = &peer->delivered[lane];
    if (seq <= *delivered) {
        self->counters.import_duplicates++;
        return true;
    }
    if (seq > *delivered + 1) {
        self->counters.import_out_of_order++;
        return true;
    }
    char tbuf[AF_TOPIC_MAX_BYTES], factory[GW_FACTORY_MAX + 1];
    af_peek_t peek;
    if (blen == 0) {
        self->counters.tombstones++;
        AF_LOG_ONCE (AF_LOG_WARN, "peer %s dropped telemetry under its outbox cap (counted as "
                     "tombstones)", peer->cfg->factory);
    }
    else if (tlen >= AF_TOPIC_MAX_BYTES || !af_topic_valid (topic, tlen)
             || af_envelope_peek (body, blen, &peek) != AF_DECODE_OK) {
        self->counters.bad_frames++;
        AF_LOG_ONCE (AF_LOG_WARN, "peer %s sent a malformed message (dropped, counted)",
                     peer->cfg->factory);
    }
    else {
        memcpy (tbuf, topic, tlen);
        tbuf[tlen] = 0;
        bool take = gw_topic_factory (tbuf, factory, sizeof factory)
                    && strcmp (factory, peer->cfg->factory) == 0;
        bool rule = false;
        for (size_t k = 0; take && k < peer->cfg->n_import && !rule; k++)
            rule = af_topic_match (peer->cfg->import[k], tbuf, tlen);
        if (!take || !rule) {
            self->counters.import_refused++;
            AF_LOG_ONCE (AF_LOG_WARN, "peer %s sent %s, outside its import rules (dropped, counted)",
                         peer->cfg->factory, tbuf);
        }
        else {
            const void *frames[2] = { tbuf, body };
            size_t lens[2] = { tlen, blen };
            if (af_bus_publish_frames (self->bus, frames, lens, 2) != 0) {
                self->counters.publish_failed++;
                return false;
            }
            self->counters.imported++;
        }
    }
    *delivered = seq;
    peer->delivered_dirty = true;
    return true;
}

/* Delivers the records of one DATA frame, numbered from HEAD's seq. */
static void
s_deliver_batch (gateway_t *self, gw_peer_t *peer, const gw_head_t *head, zmq_msg_t *records)
{
    gw_record_iter_t it;
    gw_record_iter_init (&it, zmq_msg_data (records), zmq_msg_size (records));
    const char *topic;
    const uint8_t *body;
    size_t tlen, blen;
    int rc;
    uint64_t seq = head->seq;
    while ((rc = gw_record_next (&it, &topic, &tlen, &body, &blen)) == 1)
        if (!s_deliver (self, peer, head->lane, seq++, topic, tlen, body, blen))
            return;
    if (rc < 0) {
        self->counters.bad_frames++;
        AF_LOG_ONCE (AF_LOG_WARN, "peer %s sent a malformed batch (rest dropped, counted)",
                     peer->cfg->factory);
    }
}

/* Checks and handles one message from the server socket (N frames). */
static void
s_handle (gateway_t *self, zmq_msg_t *f, int n, s_acks_t *acks)
{
    gw_head_t head;
    if (n < 3 || zmq_msg_size (&f[1]) != GW_TAG_LEN || memcmp (zmq_msg_data (&f[1]), GW_TAG, GW_TAG_LEN) != 0
        || !gw_head_decode (zmq_msg_data (&f[2]), zmq_msg_size (&f[2]), &head)
        || (head.type == GW_MSG_DATA && n != 4) || (head.type == GW_MSG_PROBE && n != 3)
        || head.type == GW_MSG_ACK) {
        self->counters.bad_frames++;
        AF_LOG_ONCE (AF_LOG_WARN, "malformed frame from a peer (dropped, counted)");
        return;
    }
    gw_peer_t *peer = gw_peer_by_factory (self, head.factory);
    /* zauth let the key in; it must also be the key of the peer named. */
    const char *user = zmq_msg_gets (&f[2], "User-Id");
    if (!peer || !user || strcmp (user, peer->key_txt) != 0) {
        self->counters.unknown_peer++;
        AF_LOG_ONCE (AF_LOG_WARN, "frames naming factory '%s' from key %s, which is not its key "
                     "(dropped, counted)", head.factory, user ? user : "(none)");
        return;
    }
    s_note_ack (acks, &f[0], peer, head.t_ns);
    if (head.type == GW_MSG_DATA)
        s_deliver_batch (self, peer, &head, &f[3]);
}

static void
s_send_acks (gateway_t *self, s_acks_t *acks)
{
    void *s = zsock_resolve (self->server);
    for (size_t i = 0; i < acks->n; i++) {
        s_ack_t *a = &acks->to[i];
        gw_head_t head = { .type = GW_MSG_ACK, .t_ns = a->echo_ns };
        memcpy (head.acks, a->peer->delivered, sizeof head.acks);
        snprintf (head.factory, sizeof head.factory, "%s", self->cfg.factory);
        uint8_t buf[GW_HEAD_MAX];
        size_t len = gw_head_encode (&head, buf);
        if (zmq_send (s, a->rid, a->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            continue;
        zmq_send (s, GW_TAG, GW_TAG_LEN, ZMQ_SNDMORE);
        zmq_send (s, buf, len, 0);
    }
}

int
gw_import_drain (gateway_t *self)
{
    s_acks_t acks = { .n = 0 };
    int taken = 0;
    for (; taken < GW_BURST; taken++) {
        zmq_msg_t f[5];
        for (int i = 0; i < 5; i++)
            zmq_msg_init (&f[i]);
        int n = af_recv_frames (zsock_resolve (self->server), f, 5);
        if (n > 5) {
            self->counters.bad_frames++;
        }
        else if (n > 0)
            s_handle (self, f, n, &acks);
        for (int i = 0; i < 5; i++)
            zmq_msg_close (&f[i]);
        if (n <= 0)
            break;
    }
    /* What we acknowledge is recorded first: a restart never takes again
     * what it already delivered. */
    if (taken > 0)
        af_bus_flush (self->bus);
    for (size_t i = 0; i < self->n_peers; i++) {
        gw_peer_t *peer = &self->peers[i];
        if (!peer->delivered_dirty)
            continue;
        if (gw_inbox_put (self->inbox, peer->cfg->factory, peer->delivered) != 0) {
            AF_LOG_ONCE (AF_LOG_ERROR, "cannot record deliveries; not acknowledging");
            return taken;
        }
        peer->delivered_dirty = false;
    }
    s_send_acks (self, &acks);
    return taken;
}

void
gw_import_monitor (gateway_t *self)
{
    for (int i = 0; i < GW_BURST; i++) {
        zmq_msg_t f[2];
        zmq_msg_init (&f[0]);
        zmq_msg_init (&f[1]);
        int n = af_recv_frames (zsock_resolve (self->monitor), f, 2);
        uint16_t event = 0;
        uint32_t value = 0;
        if (n == 2 && zmq_msg_size (&f[0]) >= 6) {
            memcpy (&event, zmq_msg_data (&f[0]), 2);
            memcpy (&value, (uint8_t *) zmq_msg_data (&f[0]) + 2, 4);
        }
        zmq_msg_close (&f[0]);
        zmq_msg_close (&f[1]);
        if (n <= 0)
            break;
        const char *what = NULL;
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            self->counters.auth_refused++;
            what = "a peer whose key is not in the allow-list";
        }
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                 || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            self->counters.plaintext_refused++;
            what = "a peer that does not speak CURVE (plaintext or a wrong server key)";
        }
        uint64_t now = gw_now_ns ();
        if (what && (self->refusal_log_ns == 0 || now - self->refusal_log_ns > GW_REFUSAL_LOG_NS)) {
            self->refusal_log_ns = now;
            af_warn ("refused %s (status %u; counted, logged at most every 10 s)", what, value);
        }
    }
}
