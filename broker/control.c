/*  broker/control.c — the control socket: one handler per message type and
 *  one dispatcher that validates frames and maps errors to replies.
 *
 *  Frames: [routing id][ "AFC1" ][ Control ][ body? ] (proto/README.md).
 */
#include "broker_internal.h"

#include <stdarg.h>

typedef struct {
    const uint8_t *rid;
    size_t rid_len;
    agent_t *agent;          /* the registered sender, or NULL */
    zmq_msg_t *body;         /* empty when there was no body frame */
    size_t ctl_bytes;        /* size of the encoded Control */
} s_peer_t;

/* A handler returns 0, or a Status with a reason in ERR for the dispatcher
 * to send back as an Error. */
typedef int (s_handler_fn) (broker_t *self, s_peer_t *peer, const Autofab__Control *ctl,
                            char *err, size_t err_len);

int
broker__send (broker_t *self, const uint8_t *rid, size_t rid_len, Autofab__Control *ctl,
              const void *body, size_t body_len)
{
    return af_control_send (self->control_h, rid, rid_len, ctl, body, body_len);
}

void
broker__send_error (broker_t *self, const uint8_t *rid, size_t rid_len, int status, const char *fmt, ...)
{
    char text[300];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    Autofab__Error e = AUTOFAB__ERROR__INIT;
    e.status = status;
    e.text = text;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_ERROR;
    ctl.error = &e;
    broker__send (self, rid, rid_len, &ctl, NULL, 0);
}

static int
s_on_register (broker_t *self, s_peer_t *peer, const Autofab__Control *ctl, char *err, size_t err_len)
{
    if (peer->ctl_bytes > (size_t) self->opts.register_max_bytes) {
        self->counters.register_too_large++;
        AF_LOG_ONCE (AF_LOG_WARN, "presence: refused a Register of %zu bytes (register_max_bytes %ld; "
                     "counted; logged once)", peer->ctl_bytes, self->opts.register_max_bytes);
        snprintf (err, err_len, "Register of %zu bytes is over register_max_bytes %ld", peer->ctl_bytes,
                  self->opts.register_max_bytes);
        return AUTOFAB__STATUS__STATUS_TOO_LARGE;
    }
    int status = broker__register (self, peer->rid, peer->rid_len, ctl->register_, err, err_len);
    if (status)
        return status;
    Autofab__Registered r = AUTOFAB__REGISTERED__INIT;
    agent_t *a = broker__agent (self, peer->rid, peer->rid_len);
    r.heartbeat_ms = (uint32_t) (a ? a->heartbeat_ms : self->opts.heartbeat_ms);
    r.broker = self->id;
    Autofab__Control reply = AUTOFAB__CONTROL__INIT;
    reply.msg_case = AUTOFAB__CONTROL__MSG_REGISTERED;
    reply.registered = &r;
    broker__send (self, peer->rid, peer->rid_len, &reply, NULL, 0);
    return 0;
}

static int
s_on_heartbeat (broker_t *self, s_peer_t *peer, const Autofab__Control *ctl, char *err, size_t err_len)
{
    (void) ctl;
    if (peer->agent)
        return 0;
    /* Typically an agent whose broker restarted: the error makes it register again. */
    self->counters.unregistered_heartbeats++;
    AF_LOG_ONCE (AF_LOG_INFO, "control: heartbeat from an unregistered peer (told to register; logged once)");
    snprintf (err, err_len, "not registered: register first");
    return AUTOFAB__STATUS__STATUS_NOT_REGISTERED;
}

static int
s_on_goodbye (broker_t *self, s_peer_t *peer, const Autofab__Control *ctl, char *err, size_t err_len)
{
    (void) ctl, (void) err, (void) err_len;
    if (peer->agent)
        broker__agent_remove (self, peer->agent, "goodbye");
    return 0;
}

static int
s_on_request (broker_t *self, s_peer_t *peer, const Autofab__Control *ctl, char *err, size_t err_len)
{
    (void) err, (void) err_len;
    broker__request (self, peer->rid, peer->rid_len, ctl->request, peer->body);
    return 0;
}

static int
s_on_worker_reply (broker_t *self, s_peer_t *peer, const Autofab__Control *ctl, char *err, size_t err_len)
{
    if (!peer->agent) {
        self->counters.unregistered_heartbeats++;
        snprintf (err, err_len, "not registered: a reply from an unknown worker was dropped");
        return AUTOFAB__STATUS__STATUS_NOT_REGISTERED;
    }
    broker__worker_reply (self, peer->agent, ctl->worker_reply, peer->body);
    return 0;
}

static int
s_on_list (broker_t *self, s_peer_t *peer, const Autofab__Control *ctl, char *err, size_t err_len)
{
    (void) ctl, (void) err, (void) err_len;
    size_t n = zhashx_size (self->agents);
    Autofab__AgentInfo *infos = calloc (n ? n : 1, sizeof *infos);
    Autofab__AgentInfo **ptrs = calloc (n ? n : 1, sizeof *ptrs);
    if (!infos || !ptrs) {
        free (infos);
        free (ptrs);
        return AUTOFAB__STATUS__STATUS_INTERNAL;
    }
    int64_t now = zclock_mono ();
    size_t i = 0;
    for (agent_t *a = zhashx_first (self->agents); a && i < n; a = zhashx_next (self->agents), i++) {
        Autofab__AgentInfo *info = &infos[i];
        autofab__agent_info__init (info);
        info->name = a->name;
        info->kind = a->kind;
        info->cell = a->cell;
        info->version = a->version;
        info->services = a->services;
        info->n_services = a->n_services;
        info->uptime_s = (double) (now - a->registered_ms) / 1000.0;
        info->requests = a->requests;
        af_source_stats_t sum;
        af_seqtrack_source_sum (self->sources, a->name, &sum);
        info->msgs = sum.msgs;
        info->bytes = sum.bytes;
        info->gaps = sum.gaps;
        ptrs[i] = info;
    }
    Autofab__ListReply lr = AUTOFAB__LIST_REPLY__INIT;
    lr.agents = ptrs;
    lr.n_agents = i;
    Autofab__Control reply = AUTOFAB__CONTROL__INIT;
    reply.msg_case = AUTOFAB__CONTROL__MSG_LIST_REPLY;
    reply.list_reply = &lr;
    broker__send (self, peer->rid, peer->rid_len, &reply, NULL, 0);
    free (infos);
    free (ptrs);
    return 0;
}

typedef struct {
    broker_t *self;
    s_peer_t *peer;
    uint64_t request_id;
} s_snapshot_ctx_t;

static int
s_snapshot_item (const char *topic, zmq_msg_t *body, void *arg)
{
    s_snapshot_ctx_t *ctx = arg;
    Autofab__SnapshotItem item = AUTOFAB__SNAPSHOT_ITEM__INIT;
    item.request_id = ctx->request_id;
    item.topic = (char *) topic;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_SNAPSHOT_ITEM;
    ctl.snapshot_item = &item;
    broker__send (ctx->self, ctx->peer->rid, ctx->peer->rid_len, &ctl, zmq_msg_data (body),
                  zmq_msg_size (body));
    return 0;
}

static int
s_on_snapshot (broker_t *self, s_peer_t *peer, const Autofab__Control *ctl, char *err, size_t err_len)
{
    const Autofab__SnapshotRequest *sr = ctl->snapshot_request;
    const char *prefix = sr->prefix ? sr->prefix : "";
    if (strlen (prefix) > AF_TOPIC_MAX) {
        snprintf (err, err_len, "snapshot prefix too long");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    self->counters.snapshots++;
    /* The marker goes out first, on the same stream as the live messages: the
     * client knows that what it received before it is in this snapshot. */
    if (sr->marker_topic && af_topic_valid (sr->marker_topic, strlen (sr->marker_topic)))
        broker__publish_marker (self, sr->marker_topic);
    s_snapshot_ctx_t ctx = { self, peer, sr->request_id };
    int count = self->cache ? cache_visit (self->cache, prefix, s_snapshot_item, &ctx) : 0;
    Autofab__SnapshotEnd end = AUTOFAB__SNAPSHOT_END__INIT;
    end.request_id = sr->request_id;
    end.count = (uint32_t) count;
    Autofab__Control reply = AUTOFAB__CONTROL__INIT;
    reply.msg_case = AUTOFAB__CONTROL__MSG_SNAPSHOT_END;
    reply.snapshot_end = &end;
    broker__send (self, peer->rid, peer->rid_len, &reply, NULL, 0);
    return 0;
}

static int
s_on_stats (broker_t *self, s_peer_t *peer, const Autofab__Control *ctl, char *err, size_t err_len)
{
    (void) err, (void) err_len;
    static const char *const names[] = {
#define X(name) #name,
        BROKER_COUNTERS (X)
#undef X
        "agents", "cache_topics", "cache_bytes", "sources", "journal_written", "journal_dropped", "journal_refused",
        "journal_failed",
    };
    enum { N = sizeof names / sizeof names[0] };
    uint64_t values[N];
    size_t i = 0;
#define X(name) values[i++] = self->counters.name;
    BROKER_COUNTERS (X)
#undef X
    values[i++] = zhashx_size (self->agents);
    values[i++] = self->cache ? cache_size (self->cache) : 0;
    values[i++] = self->cache ? cache_bytes (self->cache) : 0;
    values[i++] = af_seqtrack_source_count (self->sources);
    broker_journal_stats_t journal;
    broker_journal_stats (self->journal, &journal);   /* zeros without a journal */
    values[i++] = journal.written;
    values[i++] = journal.dropped;
    values[i++] = journal.refused;
    values[i++] = journal.failed;
    Autofab__Counter counters[N];
    Autofab__Counter *ptrs[N];
    for (i = 0; i < N; i++) {
        autofab__counter__init (&counters[i]);
        counters[i].name = (char *) names[i];
        counters[i].value = values[i];
        ptrs[i] = &counters[i];
    }
    Autofab__StatsReply sr = AUTOFAB__STATS_REPLY__INIT;
    sr.request_id = ctl->stats_request->request_id;
    sr.counters = ptrs;
    sr.n_counters = N;
    Autofab__Control reply = AUTOFAB__CONTROL__INIT;
    reply.msg_case = AUTOFAB__CONTROL__MSG_STATS_REPLY;
    reply.stats_reply = &sr;
    broker__send (self, peer->rid, peer->rid_len, &reply, NULL, 0);
    return 0;
}

/* Message type → handler.  Types a client has no business sending (replies
 * the broker itself makes) are absent and get an error. */
static s_handler_fn *const s_handlers[] = {
    [AUTOFAB__CONTROL__MSG_REGISTER] = s_on_register,
    [AUTOFAB__CONTROL__MSG_HEARTBEAT] = s_on_heartbeat,
    [AUTOFAB__CONTROL__MSG_GOODBYE] = s_on_goodbye,
    [AUTOFAB__CONTROL__MSG_REQUEST] = s_on_request,
    [AUTOFAB__CONTROL__MSG_WORKER_REPLY] = s_on_worker_reply,
    [AUTOFAB__CONTROL__MSG_LIST_REQUEST] = s_on_list,
    [AUTOFAB__CONTROL__MSG_SNAPSHOT_REQUEST] = s_on_snapshot,
    [AUTOFAB__CONTROL__MSG_STATS_REQUEST] = s_on_stats,
};

static void
s_dispatch (broker_t *self, zmq_msg_t *frames, int n)
{
    const uint8_t *rid = zmq_msg_data (&frames[0]);
    size_t rid_len = zmq_msg_size (&frames[0]);
    if (n < 3 || n > 4) {
        self->counters.control_bad_frames++;
        AF_LOG_ONCE (AF_LOG_WARN, "control: refused a message of %d frames (want 3 or 4)", n - 1);
        broker__send_error (self, rid, rid_len, AUTOFAB__STATUS__STATUS_BAD_REQUEST,
                            "control messages are [\"AFC1\"][Control][body?]");
        return;
    }
    if (zmq_msg_size (&frames[1]) != 4 || memcmp (zmq_msg_data (&frames[1]), "AFC", 3) != 0) {
        self->counters.control_bad_frames++;
        AF_LOG_ONCE (AF_LOG_WARN, "control: refused a message without the AFC protocol tag");
        broker__send_error (self, rid, rid_len, AUTOFAB__STATUS__STATUS_BAD_REQUEST,
                            "control messages start with the frame \"AFC1\"");
        return;
    }
    if (memcmp (zmq_msg_data (&frames[1]), AF_CONTROL_TAG, 4) != 0) {
        self->counters.control_bad_tag++;
        AF_LOG_ONCE (AF_LOG_WARN, "control: refused an unknown protocol version %.4s",
                     (const char *) zmq_msg_data (&frames[1]));
        broker__send_error (self, rid, rid_len, AUTOFAB__STATUS__STATUS_UNSUPPORTED,
                            "protocol %.4s not supported; this broker speaks %s",
                            (const char *) zmq_msg_data (&frames[1]), AF_CONTROL_TAG);
        return;
    }
    Autofab__Control *ctl;
    af_decode_t why = af_control_decode (zmq_msg_data (&frames[2]), zmq_msg_size (&frames[2]),
                                         self->opts.max_msg_bytes, &ctl);
    if (why != AF_DECODE_OK) {
        self->counters.control_malformed++;
        AF_LOG_ONCE (AF_LOG_WARN, "control: refused a control message: %s (counted; logged once)",
                     af_decode_str (why));
        broker__send_error (self, rid, rid_len, AUTOFAB__STATUS__STATUS_BAD_REQUEST,
                            "control message refused: %s", af_decode_str (why));
        return;
    }
    s_peer_t peer = { rid, rid_len, broker__agent (self, rid, rid_len), n == 4 ? &frames[3] : NULL,
                      zmq_msg_size (&frames[2]) };
    zmq_msg_t empty;
    zmq_msg_init (&empty);
    if (!peer.body)
        peer.body = &empty;
    if (peer.agent)
        broker__agent_seen (self, peer.agent);
    size_t type = (size_t) ctl->msg_case;
    s_handler_fn *handler = type < sizeof s_handlers / sizeof s_handlers[0] ? s_handlers[type] : NULL;
    char err[300] = "";
    int status;
    if (handler)
        status = handler (self, &peer, ctl, err, sizeof err);
    else {
        self->counters.control_unknown++;
        status = AUTOFAB__STATUS__STATUS_BAD_REQUEST;
        snprintf (err, sizeof err, "control message type %zu is not a request", type);
    }
    if (status)
        broker__send_error (self, rid, rid_len, status, "%s", err);
    zmq_msg_close (&empty);
    autofab__control__free_unpacked (ctl, NULL);
}

int
broker__control (broker_t *self, int burst)
{
    int handled = 0;
    for (; handled < burst; handled++) {
        /* [routing id][tag][control][body]: one more would be refused. */
        zmq_msg_t frames[5];
        for (int i = 0; i < 5; i++)
            zmq_msg_init (&frames[i]);
        int n = af_recv_frames (self->control_h, frames, 5);
        if (n > 0) {
            self->counters.control_msgs++;
            s_dispatch (self, frames, n);
        }
        for (int i = 0; i < 5; i++)
            zmq_msg_close (&frames[i]);
        if (n <= 0)
            break;
    }
    return handled;
}
