/*  gw_export — the exporting half of the gateway: what the local broker
 *  publishes goes into the peers' outboxes, and from there over each peer's
 *  preferred live link, lane by lane under the bandwidth budget, until it is
 *  acknowledged (docs/gateway.md).  */
#include "gateway_internal.h"
#include "af_journal.h"
#include "af_log.h"
#include "af_topic.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* In-flight window with no budget (loopback), messages. */
#define GW_WINDOW_UNLIMITED 20000u
#define GW_WINDOW_MIN 256u
/* Average message size assumed when turning a byte window into messages. */
#define GW_AVG_MSG_BYTES 128.0

gw_peer_t *
gw_peer_by_factory (gateway_t *self, const char *factory)
{
    for (size_t i = 0; i < self->n_peers; i++)
        if (strcmp (self->peers[i].cfg->factory, factory) == 0)
            return &self->peers[i];
    return NULL;
}

/* ------------------------------------------------------------ opening */

static int
s_sub_open (gateway_t *self, char *err, size_t err_len)
{
    char egress[256];
    if (af_bus_endpoint_offset (self->cfg.broker, 2, egress, sizeof egress) != 0) {
        snprintf (err, err_len, "bad broker endpoint '%s'", self->cfg.broker);
        return -1;
    }
    self->sub = zsock_new (ZMQ_SUB);
    self->sub_alarms = zsock_new (ZMQ_SUB);
    if (!self->sub || !self->sub_alarms)
        return -1;
    zsock_set_rcvhwm (self->sub, AF_DEFAULT_HWM);
    zsock_set_rcvhwm (self->sub_alarms, AF_DEFAULT_HWM);
    for (size_t i = 0; i < self->n_peers; i++)
        for (size_t k = 0; k < self->peers[i].cfg->n_export; k++) {
            char prefix[256];
            af_topic_prefix (self->peers[i].cfg->export_[k], prefix, sizeof prefix);
            /* A prefix that covers alarms and more feeds both sockets; the
             * outbox keeps an alarm offered twice once. */
            bool alarms_only = strncmp (prefix, "alm.", 4) == 0;
            zsock_set_subscribe (alarms_only ? self->sub_alarms : self->sub, prefix);
            if (!alarms_only && strncmp ("alm.", prefix, strlen (prefix)) == 0)
                zsock_set_subscribe (self->sub_alarms, "alm.");
        }
    if (zsock_connect (self->sub, "%s", egress) != 0 || zsock_connect (self->sub_alarms, "%s", egress) != 0) {
        snprintf (err, err_len, "cannot connect to the broker's egress %s", egress);
        return -1;
    }
    char source[96];
    snprintf (source, sizeof source, "gateway-%s", self->cfg.factory);
    af_bus_opts_t opts = { .broker = self->cfg.broker, .source = source, .factory = self->cfg.factory };
    self->bus = af_bus_new (&opts, err, err_len);
    if (!self->bus)
        return -1;
    if (af_bus_wait_ready (self->bus, 5000) != 0)
        af_warn ("the broker's ingress did not subscribe within 5 s; imports wait for it");
    return 0;
}

static void
s_peer_timing (gateway_t *self, gw_peer_t *peer)
{
    (void) self;
    double rtt_max_s = 0;
    for (size_t k = 0; k < peer->n_links; k++) {
        gw_link_t *link = &peer->links[k];
        const linkemu_profile_t *p = &link->cfg->profile;
        double one_way_ns = p->delay_max_ms / p->time_scale * 1e6;
        double jitter_ns = p->jitter_ms / p->time_scale * 1e6;
        double probe = fmin (fmax (one_way_ns / 2, GW_PROBE_MIN_NS), GW_PROBE_MAX_NS);
        link->probe_ivl_ns = (uint64_t) probe;
        link->live_ns = (uint64_t) (2 * one_way_ns + 2 * jitter_ns + 3 * probe) + GW_SLACK_NS;
        double rtt_s = (2 * one_way_ns + 2 * jitter_ns) / 1e9;
        /* Room for the window's queueing at the budget (three round trips). */
        link->rto_ns = (uint64_t) (3 * rtt_s * 1e9) + 2 * GW_SLACK_NS;
        rtt_max_s = fmax (rtt_max_s, rtt_s);
    }
    double budget_Bps = peer->cfg->budget_bps / 8;
    double batch = budget_Bps > 0 ? budget_Bps * GW_BATCH_NS / 1e9 : GW_BATCH_MAX_BYTES;
    peer->batch_bytes = (size_t) fmin (fmax (batch, GW_BATCH_MIN_BYTES), GW_BATCH_MAX_BYTES);
    if (budget_Bps <= 0)
        peer->window_msgs = GW_WINDOW_UNLIMITED;
    else {
        double bdp = budget_Bps * (rtt_max_s + GW_SLACK_NS / 1e9) * 2 / GW_AVG_MSG_BYTES;
        peer->window_msgs = bdp < GW_WINDOW_MIN ? GW_WINDOW_MIN : (uint64_t) bdp;
    }
}

int
gw_export_open (gateway_t *self, char *err, size_t err_len)
{
    if (mkdir (self->cfg.state_dir, 0700) != 0 && errno != EEXIST) {
        snprintf (err, err_len, "%s: %s", self->cfg.state_dir, strerror (errno));
        return -1;
    }
    char path[GW_PATH_MAX + 128];
    snprintf (path, sizeof path, "%s/inbox.db", self->cfg.state_dir);
    self->inbox = gw_inbox_open (path, self->cfg.sync_full, err, err_len);
    if (!self->inbox)
        return -1;
    for (size_t i = 0; i < self->n_peers; i++) {
        gw_peer_t *peer = &self->peers[i];
        snprintf (path, sizeof path, "%s/outbox-%s.db", self->cfg.state_dir, peer->cfg->factory);
        peer->outbox = gw_outbox_open (path, peer->cfg->outbox_max_bytes, self->cfg.sync_full, err,
                                       err_len);
        if (!peer->outbox || gw_inbox_get (self->inbox, peer->cfg->factory, peer->delivered) != 0)
            return -1;
        for (int l = 0; l < GW_LANES; l++) {
            peer->next_sent[l] = gw_outbox_acked (peer->outbox, l);
            peer->max_sent[l] = gw_outbox_last (peer->outbox, l);
        }
        peer->n_links = peer->cfg->n_links;
        for (size_t k = 0; k < peer->n_links; k++)
            peer->links[k].cfg = &peer->cfg->links[k];
        peer->active = -1;
        peer->tokens_ns = gw_now_ns ();
        peer->batch = malloc (GW_BATCH_ROOM);
        if (!peer->batch) {
            snprintf (err, err_len, "out of memory");
            return -1;
        }
        s_peer_timing (self, peer);
    }
    return s_sub_open (self, err, err_len);
}

void
gw_export_close (gateway_t *self)
{
    for (size_t i = 0; i < self->n_peers; i++) {
        gw_outbox_close (&self->peers[i].outbox);
        free (self->peers[i].batch);
        self->peers[i].batch = NULL;
    }
    gw_inbox_close (&self->inbox);
    zsock_destroy (&self->sub);
    zsock_destroy (&self->sub_alarms);
    af_bus_destroy (&self->bus);
}

/* Creates LINK's socket with our key and the peer's, and dials. */
static int
s_dial (gateway_t *self, gw_peer_t *peer, gw_link_t *link, char *err, size_t err_len)
{
    zsock_destroy (&link->dealer);
    link->dealer = zsock_new (ZMQ_DEALER);
    if (!link->dealer) {
        snprintf (err, err_len, "cannot create a link socket");
        return -1;
    }
    zcert_apply (self->cert, link->dealer);
    zsock_set_curve_serverkey (link->dealer, peer->key_txt);
    /* Nothing queues for a link that is not connected: what is not sent
     * stays in the outbox, where it is safe. */
    zsock_set_immediate (link->dealer, 1);
    zsock_set_linger (link->dealer, 0);
    zsock_set_sndhwm (link->dealer, (int) peer->window_msgs + 64);
    zsock_set_rcvhwm (link->dealer, AF_DEFAULT_HWM);
    zsock_set_reconnect_ivl (link->dealer, 100);
    zsock_set_reconnect_ivl_max (link->dealer, 1000);
    if (zsock_connect (link->dealer, "%s", link->cfg->endpoint) != 0) {
        snprintf (err, err_len, "peer %s: bad link endpoint '%s'", peer->cfg->factory,
                  link->cfg->endpoint);
        return -1;
    }
    link->heard_ns = link->probe_ns = 0;
    link->alive = false;
    link->dialed_ns = gw_now_ns ();
    return 0;
}

int
gw_export_open_links (gateway_t *self, gw_peer_t *peer, char *err, size_t err_len)
{
    for (size_t k = 0; k < peer->n_links; k++)
        if (s_dial (self, peer, &peer->links[k], err, err_len) != 0)
            return -1;
    return 0;
}

/* Dials a silent link again, with the peer's key read afresh. */
static void
s_redial (gateway_t *self, gw_peer_t *peer, gw_link_t *link)
{
    char err[700];
    zcert_t *pub = af_keys_load_public (peer->cfg->key_path, err, sizeof err);
    if (pub) {
        snprintf (peer->key_txt, sizeof peer->key_txt, "%s", zcert_public_txt (pub));
        zcert_destroy (&pub);
    }
    else
        af_warn ("peer %s: %s (keeping its old key)", peer->cfg->factory, err);
    af_debug ("peer %s: dialling %s again", peer->cfg->factory, link->cfg->endpoint);
    if (s_dial (self, peer, link, err, sizeof err) != 0)
        AF_LOG_ONCE (AF_LOG_ERROR, "%s", err);
}

void
gw_export_close_links (gw_peer_t *peer)
{
    for (size_t k = 0; k < peer->n_links; k++)
        zsock_destroy (&peer->links[k].dealer);
    peer->active = -1;
}

/* ------------------------------------------------------------ intake */

/* Offers one envelope published on TOPIC to every peer whose export rules
 * take it.  Only this factory's own topics leave: what we imported carries
 * its origin factory in the topic and never goes out again (no loops). */
static void
s_offer (gateway_t *self, const char *topic, size_t topic_len, const uint8_t *rec, size_t len,
         bool from_journal)
{
    af_peek_t peek;
    char factory[GW_FACTORY_MAX + 1];
    if (af_envelope_peek (rec, len, &peek) != AF_DECODE_OK) {
        self->counters.bad_frames++;
        AF_LOG_ONCE (AF_LOG_WARN, "refused a malformed envelope from the broker on %.*s",
                     (int) topic_len, topic);
        return;
    }
    if (!gw_topic_factory (topic, factory, sizeof factory) || strcmp (factory, self->cfg.factory) != 0)
        return;
    int lane = gw_config_lane (&self->cfg, topic);
    gw_msg_key_t key = { .topic = topic, .source = peek.source, .source_len = peek.source_len,
                         .session = peek.session, .seq = peek.seq, .t_ns = peek.t_ns };
    for (size_t i = 0; i < self->n_peers; i++) {
        gw_peer_t *peer = &self->peers[i];
        bool take = false;
        for (size_t k = 0; k < peer->cfg->n_export && !take; k++)
            take = af_topic_match (peer->cfg->export_[k], topic, topic_len);
        if (!take)
            continue;
        double backlog_limit = peer->cfg->budget_bps / 8 * peer->cfg->conflate_after_s;
        bool congested = peer->cfg->budget_bps > 0
                         && (double) gw_outbox_pending_bytes (peer->outbox) > backlog_limit;
        int rc = gw_outbox_add (peer->outbox, lane, &key, rec, len, congested);
        if (rc == 0 || rc == 2)
            self->counters.exported++;
        if (rc == 0 && from_journal)
            self->counters.journal_caught_up++;
    }
}

static void
s_commit_all (gateway_t *self)
{
    for (size_t i = 0; i < self->n_peers; i++)
        if (gw_outbox_commit (self->peers[i].outbox) != 0)
            AF_LOG_ONCE (AF_LOG_ERROR, "outbox commit failed: %s",
                         gw_outbox_error (self->peers[i].outbox));
}

int
gw_export_drain_sub (gateway_t *self, zsock_t *sub, int burst)
{
    int taken = 0;
    for (; taken < burst; taken++) {
        zmq_msg_t frames[2];
        zmq_msg_init (&frames[0]);
        zmq_msg_init (&frames[1]);
        int n = af_recv_frames (zsock_resolve (sub), frames, 2);
        if (n == 2 && zmq_msg_size (&frames[0]) < AF_TOPIC_MAX_BYTES
            && af_topic_valid (zmq_msg_data (&frames[0]), zmq_msg_size (&frames[0]))) {
            char topic[AF_TOPIC_MAX_BYTES];
            size_t tlen = zmq_msg_size (&frames[0]);
            memcpy (topic, zmq_msg_data (&frames[0]), tlen);
            topic[tlen] = 0;
            af_batch_iter_t it;
            af_body_iter_init (&it, zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]));
            const uint8_t *rec;
            size_t len;
            int r;
            while ((r = af_batch_next (&it, &rec, &len)) == 1)
                s_offer (self, topic, tlen, rec, len, false);
            if (r < 0)
                self->counters.bad_frames++;
        }
        else if (n > 0)
            self->counters.bad_frames++;
        zmq_msg_close (&frames[0]);
        zmq_msg_close (&frames[1]);
        if (n <= 0)
            break;
    }
    s_commit_all (self);
    return taken;
}

int
gw_export_catch_up (gateway_t *self)
{
    if (!self->cfg.journal[0])
        return 0;
    uint64_t from = UINT64_MAX;
    for (size_t i = 0; i < self->n_peers; i++) {
        uint64_t t = gw_outbox_last_t_ns (self->peers[i].outbox);
        if (t && t < from)
            from = t;
    }
    if (from == UINT64_MAX)
        return 0;                    /* fresh outboxes: nothing to resume */
    from = from > GW_JOURNAL_BACK_NS ? from - GW_JOURNAL_BACK_NS : 0;
    char err[256];
    af_journal_t *j = af_journal_open (self->cfg.journal, AF_JOURNAL_READ, err, sizeof err);
    if (!j) {
        af_warn ("journal catch-up skipped: %s", err);
        return -1;
    }
    af_journal_iter_t *it = af_journal_iter_new (j, NULL, from, 0);
    int n = 0, rc;
    const char *topic;
    const void *body;
    size_t len;
    while (it && (rc = af_journal_iter_next (it, &topic, &body, &len, NULL)) == 1) {
        s_offer (self, topic, strlen (topic), body, len, true);
        n++;
    }
    af_journal_iter_destroy (&it);
    af_journal_close (&j);
    s_commit_all (self);
    af_info ("journal catch-up: read %d message(s) from %s", n, self->cfg.journal);
    return n;
}

/* ------------------------------------------------------------ links */

void
gw_export_link_recv (gateway_t *self, gw_peer_t *peer, gw_link_t *link)
{
    uint64_t now = gw_now_ns ();
    gw_outbox_begin (peer->outbox);
    for (int i = 0; i < GW_BURST; i++) {
        zmq_msg_t frames[2];
        zmq_msg_init (&frames[0]);
        zmq_msg_init (&frames[1]);
        int n = af_recv_frames (zsock_resolve (link->dealer), frames, 2);
        gw_head_t head;
        bool ok = n == 2 && zmq_msg_size (&frames[0]) == GW_TAG_LEN
                  && memcmp (zmq_msg_data (&frames[0]), GW_TAG, GW_TAG_LEN) == 0
                  && gw_head_decode (zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]), &head)
                  && head.type == GW_MSG_ACK;
        zmq_msg_close (&frames[0]);
        zmq_msg_close (&frames[1]);
        if (n <= 0)
            break;
        if (!ok) {
            self->counters.bad_frames++;
            AF_LOG_ONCE (AF_LOG_WARN, "malformed frame on a link to %s (counted)", peer->cfg->factory);
            continue;
        }
        if (strcmp (head.factory, peer->cfg->factory) != 0) {
            self->counters.unknown_peer++;
            continue;
        }
        self->counters.acks++;
        link->heard_ns = now;
        for (int l = 0; l < GW_LANES; l++) {
            uint64_t a = head.acks[l];
            if (a <= gw_outbox_acked (peer->outbox, l))
                continue;
            if (gw_outbox_ack (peer->outbox, l, a) != 0) {
                AF_LOG_ONCE (AF_LOG_ERROR, "peer %s acknowledges lane %s up to %llu, beyond what "
                             "we sent: its state and our outbox disagree",
                             peer->cfg->factory, gw_lane_name (l), (unsigned long long) a);
                continue;
            }
            peer->progress_ns = now;
            if (peer->next_sent[l] < a)
                peer->next_sent[l] = a;
        }
    }
    gw_outbox_commit (peer->outbox);
}

static uint64_t
s_inflight (const gw_peer_t *peer)
{
    uint64_t n = 0;
    for (int l = 0; l < GW_LANES; l++) {
        uint64_t acked = gw_outbox_acked (peer->outbox, l);
        n += peer->next_sent[l] > acked ? peer->next_sent[l] - acked : 0;
    }
    return n;
}

static void
s_go_back (gateway_t *self, gw_peer_t *peer, const char *why)
{
    bool any = false;
    for (int l = 0; l < GW_LANES; l++) {
        uint64_t acked = gw_outbox_acked (peer->outbox, l);
        any = any || peer->next_sent[l] > acked;
        peer->next_sent[l] = acked;
    }
    if (any) {
        self->counters.go_backs++;
        af_debug ("peer %s: resending from the last acknowledgement (%s)", peer->cfg->factory, why);
    }
}

static void
s_probe (gateway_t *self, gw_peer_t *peer, gw_link_t *link, uint64_t now)
{
    gw_head_t head = { .type = GW_MSG_PROBE, .t_ns = gw_wall_ns () };
    snprintf (head.factory, sizeof head.factory, "%s", self->cfg.factory);
    uint8_t buf[GW_HEAD_MAX];
    size_t len = gw_head_encode (&head, buf);
    void *s = zsock_resolve (link->dealer);
    if (zmq_send (s, GW_TAG, GW_TAG_LEN, ZMQ_SNDMORE | ZMQ_DONTWAIT) == GW_TAG_LEN)
        zmq_send (s, buf, len, 0);
    link->probe_ns = now;
    (void) peer;
}

/* Liveness from the profile and the contact plan: a link is alive when it
 * answered within its window and its plan does not say it is dark.  The
 * preferred live link carries the traffic; a switch resends from the
 * acknowledgement, so nothing is lost across it. */
static void
s_links_update (gateway_t *self, gw_peer_t *peer, uint64_t now)
{
    uint64_t wall = gw_wall_ns ();
    int best = -1;
    for (size_t k = 0; k < peer->n_links; k++) {
        gw_link_t *link = &peer->links[k];
        link->dark = linkemu_blackout (&link->cfg->profile, wall, NULL);
        uint64_t redial = link->live_ns * 4 > GW_REDIAL_NS ? link->live_ns * 4 : GW_REDIAL_NS;
        uint64_t since = link->heard_ns ? link->heard_ns : link->dialed_ns;
        if (!link->dark && now - since > redial)
            s_redial (self, peer, link);
        link->alive = !link->dark && link->heard_ns && now - link->heard_ns < link->live_ns;
        if (!link->dark && now - link->probe_ns >= link->probe_ivl_ns)
            s_probe (self, peer, link, now);
        if (best < 0 && link->alive)
            best = (int) k;
    }
    if (best == peer->active)
        return;
    if (peer->active >= 0 && best >= 0)
        self->counters.failovers++;
    af_info ("peer %s: %s link %d (%s)", peer->cfg->factory, best < 0 ? "no live link, was" : "now on",
             best < 0 ? peer->active : best,
             best < 0 ? "waiting" : peer->links[best].cfg->endpoint);
    peer->active = best;
    s_go_back (self, peer, "link switch");
    peer->progress_ns = now;
}

/* Sends the batch of LANE records FIRST..LAST (USED bytes); false if the
 * link cannot take it now. */
static bool
s_send_batch (gateway_t *self, gw_peer_t *peer, gw_link_t *link, int lane, uint64_t first,
              uint64_t last, size_t used)
{
    gw_head_t head = { .type = GW_MSG_DATA, .lane = (uint8_t) lane, .seq = first,
                       .t_ns = gw_wall_ns () };
    snprintf (head.factory, sizeof head.factory, "%s", self->cfg.factory);
    uint8_t buf[GW_HEAD_MAX];
    size_t hlen = gw_head_encode (&head, buf);
    void *s = zsock_resolve (link->dealer);
    if (zmq_send (s, GW_TAG, GW_TAG_LEN, ZMQ_SNDMORE | ZMQ_DONTWAIT) != GW_TAG_LEN)
        return false;
    zmq_send (s, buf, hlen, ZMQ_SNDMORE);
    zmq_send (s, peer->batch, used, 0);
    for (uint64_t seq = first; seq <= last; seq++) {
        if (seq > peer->max_sent[lane]) {
            peer->max_sent[lane] = seq;
            self->counters.sent++;
        }
        else
            self->counters.retransmitted++;
    }
    gw_outbox_sent (peer->outbox, lane, last);
    return true;
}

static void
s_refill (gw_peer_t *peer, uint64_t now)
{
    double rate_Bps = peer->cfg->budget_bps / 8;
    double depth = fmax (GW_BUCKET_MIN, rate_Bps * GW_BUCKET_NS / 1e9);
    peer->tokens = fmin (depth, peer->tokens + rate_Bps * (double) (now - peer->tokens_ns) / 1e9);
    peer->tokens_ns = now;
}

/* Appends ROW to the peer's batch at *USED; false if it does not fit
 * (a row alone always fits). */
static bool
s_batch_add (gw_peer_t *peer, const gw_row_t *row, size_t *used)
{
    size_t tlen = strlen (row->topic);
    size_t need = GW_RECORD_OVERHEAD + tlen + row->len;
    if (*used > 0 && *used + need > peer->batch_bytes)
        return false;
    if (*used + need > GW_BATCH_ROOM)
        return false;
    *used += gw_record_put (peer->batch + *used, row->topic, tlen, row->body, row->len);
    return true;
}

/* Sends what the budget, the window and the link allow, most urgent lane
 * first: each DATA frame is a batch of one lane, and the lanes are looked
 * at again from the top before every frame. */
static void
s_send (gateway_t *self, gw_peer_t *peer, uint64_t now)
{
    if (peer->active < 0 || now < peer->blocked_until_ns)
        return;
    gw_link_t *link = &peer->links[peer->active];
    bool budgeted = peer->cfg->budget_bps > 0;
    if (budgeted)
        s_refill (peer, now);
    for (int frames = 0; frames < GW_BURST; frames++) {
        if (budgeted && peer->tokens <= 0)
            return;
        uint64_t inflight = s_inflight (peer);
        if (inflight >= peer->window_msgs)
            return;
        int lane, rc = 0;
        gw_row_t row;
        for (lane = 0; lane < GW_LANES; lane++)
            if ((rc = gw_outbox_next (peer->outbox, lane, peer->next_sent[lane], &row)) != 0)
                break;
        if (rc <= 0)
            return;
        size_t used = 0;
        uint64_t first = row.seq, last = row.seq;
        s_batch_add (peer, &row, &used);
        while (inflight + (last - first + 1) < peer->window_msgs
               && last - first + 1 < GW_BATCH_MAX_RECORDS
               && gw_outbox_next (peer->outbox, lane, last, &row) == 1 && row.seq == last + 1
               && s_batch_add (peer, &row, &used))
            last = row.seq;
        if (inflight == 0)
            peer->progress_ns = now;
        if (!s_send_batch (self, peer, link, lane, first, last, used)) {
            peer->blocked_until_ns = now + GW_BLOCKED_RETRY_NS;
            return;
        }
        peer->next_sent[lane] = last;
        if (budgeted)
            peer->tokens -= (double) (used + GW_FRAME_OVERHEAD);
    }
}

void
gw_export_tick (gateway_t *self, gw_peer_t *peer, uint64_t now)
{
    s_links_update (self, peer, now);
    if (peer->active < 0) {
        peer->progress_ns = now;     /* nobody to hear from: no timeout runs */
        return;
    }
    gw_link_t *link = &peer->links[peer->active];
    if (s_inflight (peer) > 0 && now - peer->progress_ns > link->rto_ns) {
        s_go_back (self, peer, "no acknowledgement within the timeout");
        peer->progress_ns = now;
    }
    s_send (self, peer, now);
}

int
gw_export_timeout_ms (gateway_t *self, uint64_t now)
{
    int ms = 100;
    for (size_t i = 0; i < self->n_peers; i++) {
        gw_peer_t *peer = &self->peers[i];
        for (size_t k = 0; k < peer->n_links; k++) {
            uint64_t due = peer->links[k].probe_ns + peer->links[k].probe_ivl_ns;
            int wait = due > now ? (int) ((due - now) / 1000000) : 0;
            if (wait < ms)
                ms = wait;
        }
        if (peer->active < 0)
            continue;
        bool unsent = false;
        for (int l = 0; l < GW_LANES && !unsent; l++)
            unsent = peer->next_sent[l] < gw_outbox_last (peer->outbox, l);
        if (!unsent || s_inflight (peer) >= peer->window_msgs)
            continue;
        if (now < peer->blocked_until_ns) {
            int wait = (int) ((peer->blocked_until_ns - now) / 1000000) + 1;
            ms = wait < ms ? wait : ms;
            continue;
        }
        if (peer->cfg->budget_bps <= 0 || peer->tokens > 0)
            return 0;
        int wait = (int) ceil (-peer->tokens / (peer->cfg->budget_bps / 8) * 1000);
        if (wait < ms)
            ms = wait < 1 ? 1 : wait;
    }
    return ms;
}
