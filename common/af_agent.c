/*  af_agent — agent runtime: registration, heartbeats, reconnection, service
 *  dispatch, timers and subscriptions (see af_agent.h).  */
#include "af_agent.h"

#include <czmq.h>
#include <stdarg.h>

#include "af_log.h"

#define AF_AGENT_MAX_SERVICES 32
#define AF_AGENT_MAX_TIMERS 32
#define AF_AGENT_MAX_SUBS 32
#define AF_AGENT_MAX_PARAMS 64
/* Answers to recent commands kept for retries (commands are idempotent by id). */
#define AF_AGENT_REPLY_CACHE 128
/* The broker is presumed gone after this many heartbeat intervals of silence. */
#define AF_AGENT_BROKER_SILENCE 3

typedef struct {
    char *name;
    af_service_fn *fn;
    void *arg;
} s_service_t;

typedef struct {
    int interval_ms;
    int64_t due_ms;
    af_timer_fn *fn;
    void *arg;
} s_timer_t;

typedef struct {
    char *pattern;
    af_message_fn *fn;
    void *arg;
} s_sub_t;

typedef struct {
    uint8_t msg_id[16];
    int status;
    char *error;
    uint8_t *body;
    size_t body_len;
} s_cached_reply_t;

struct af_reply {
    Autofab__Param params[AF_AGENT_MAX_PARAMS];
    Autofab__Param *ptrs[AF_AGENT_MAX_PARAMS];
    size_t n_params;
    char *texts[AF_AGENT_MAX_PARAMS * 2 + 1];  /* strings we own: 2 per param + typed */
    size_t n_texts;
    Autofab__Typed typed;
    bool has_typed;
    size_t typed_text_slot_;     /* 1 + index in texts[] of the typed type, 0: none */
    char error[256];
};

struct af_agent {
    char *name, *kind, *cell, *version, *factory;
    char **capabilities;
    size_t n_capabilities;
    int heartbeat_ms;
    af_bus_t *bus;
    af_stamper_t *reply_stamper;
    char control[256];
    zsock_t *dealer;
    bool started, registered, ever_registered, stopping;
    int exit_code;
    uint64_t registrations;
    char broker_id[32];
    int64_t last_heard_ms, last_sent_ms, last_register_ms;
    s_service_t services[AF_AGENT_MAX_SERVICES];
    size_t n_services;
    s_timer_t timers[AF_AGENT_MAX_TIMERS];
    size_t n_timers;
    s_sub_t subs[AF_AGENT_MAX_SUBS];
    size_t n_subs;
    s_cached_reply_t replies[AF_AGENT_REPLY_CACHE];
    size_t next_reply;
};

static char *
s_dup (const char *text, const char *dflt)
{
    return strdup (text ? text : dflt);
}

af_agent_t *
af_agent_new (const af_agent_opts_t *opts, char *err, size_t err_len)
{
    if (!opts || !opts->name || !opts->name[0] || strchr (opts->name, '.')
        || !af_topic_valid (opts->name, strlen (opts->name))) {
        snprintf (err, err_len, "agent name must be letters, digits, '_' or '-'");
        return NULL;
    }
    af_agent_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->name = s_dup (opts->name, "");
    self->kind = s_dup (opts->kind, "agent");
    self->cell = s_dup (opts->cell, "");
    self->version = s_dup (opts->version, AF_VERSION);
    self->factory = s_dup (opts->factory, "factory");
    self->heartbeat_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : 1000;
    for (size_t i = 0; opts->capabilities && opts->capabilities[i]; i++)
        self->n_capabilities++;
    self->capabilities = calloc (self->n_capabilities + 1, sizeof (char *));
    for (size_t i = 0; self->capabilities && i < self->n_capabilities; i++)
        self->capabilities[i] = strdup (opts->capabilities[i]);
    /* What a turn of the loop publishes on one topic leaves as one frame;
     * the loop flushes before it waits (af_agent_iterate). */
    af_bus_opts_t bus_opts = { .broker = opts->broker, .source = opts->name,
                               .factory = self->factory, .clock = opts->clock,
                               .coalesce = AF_BUS_COALESCE };
    self->bus = af_bus_new (&bus_opts, err, err_len);
    self->reply_stamper = af_stamper_new (self->name, self->factory);
    if (!self->bus || !self->reply_stamper) {
        af_agent_destroy (&self);
        return NULL;
    }
    const char *broker = opts->broker ? opts->broker : getenv ("AUTOFAB_BROKER");
    snprintf (self->control, sizeof self->control, "%s",
              broker && *broker ? broker : AF_DEFAULT_BROKER);
    return self;
}

static void
s_reply_cache_clear (s_cached_reply_t *r)
{
    free (r->error);
    free (r->body);
    memset (r, 0, sizeof *r);
}

/* Tells the broker we leave, so the death notice goes out at once. */
static void
s_goodbye (af_agent_t *self)
{
    if (!self->registered || !self->dealer)
        return;
    Autofab__Goodbye bye = AUTOFAB__GOODBYE__INIT;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_GOODBYE;
    ctl.goodbye = &bye;
    af_control_send (zsock_resolve (self->dealer), NULL, 0, &ctl, NULL, 0);
    self->registered = false;
    /* Give the goodbye a moment to leave before the socket closes. */
    zsock_set_linger (self->dealer, 200);
}

void
af_agent_destroy (af_agent_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    af_agent_t *self = *self_p;
    s_goodbye (self);
    zsock_destroy (&self->dealer);
    af_bus_destroy (&self->bus);
    af_stamper_destroy (&self->reply_stamper);
    for (size_t i = 0; i < self->n_services; i++)
        free (self->services[i].name);
    for (size_t i = 0; i < self->n_subs; i++)
        free (self->subs[i].pattern);
    for (size_t i = 0; i < AF_AGENT_REPLY_CACHE; i++)
        s_reply_cache_clear (&self->replies[i]);
    for (size_t i = 0; self->capabilities && i < self->n_capabilities; i++)
        free (self->capabilities[i]);
    free (self->capabilities);
    free (self->name);
    free (self->kind);
    free (self->cell);
    free (self->version);
    free (self->factory);
    free (self);
    *self_p = NULL;
}

int
af_agent_service (af_agent_t *self, const char *service, af_service_fn *fn, void *arg)
{
    if (self->started || self->n_services == AF_AGENT_MAX_SERVICES || !service
        || !af_topic_valid (service, strlen (service)) || !fn)
        return -1;
    self->services[self->n_services++] = (s_service_t) { strdup (service), fn, arg };
    return 0;
}

int
af_agent_timer (af_agent_t *self, int interval_ms, af_timer_fn *fn, void *arg)
{
    if (self->n_timers == AF_AGENT_MAX_TIMERS || interval_ms <= 0 || !fn)
        return -1;
    self->timers[self->n_timers++] = (s_timer_t) { interval_ms, zclock_mono () + interval_ms, fn, arg };
    return 0;
}

int
af_agent_subscribe (af_agent_t *self, const char *pattern, af_message_fn *fn, void *arg)
{
    if (self->n_subs == AF_AGENT_MAX_SUBS || !fn || af_bus_subscribe (self->bus, pattern) != 0)
        return -1;
    self->subs[self->n_subs++] = (s_sub_t) { strdup (pattern), fn, arg };
    return 0;
}

/* ------------------------------------------------------------ control link */

static int
s_send (af_agent_t *self, Autofab__Control *ctl, const void *body, size_t len)
{
    if (!self->dealer)
        return -1;
    self->last_sent_ms = zclock_mono ();
    return af_control_send (zsock_resolve (self->dealer), NULL, 0, ctl, body, len);
}

static void
s_send_register (af_agent_t *self)
{
    char *services[AF_AGENT_MAX_SERVICES];
    for (size_t i = 0; i < self->n_services; i++)
        services[i] = self->services[i].name;
    Autofab__Register reg = AUTOFAB__REGISTER__INIT;
    reg.name = self->name;
    reg.kind = self->kind;
    reg.cell = self->cell;
    reg.version = self->version;
    reg.factory = self->factory;
    reg.heartbeat_ms = (uint32_t) self->heartbeat_ms;
    reg.services = services;
    reg.n_services = self->n_services;
    reg.capabilities = self->capabilities;
    reg.n_capabilities = self->n_capabilities;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_REGISTER;
    ctl.register_ = &reg;
    self->last_register_ms = zclock_mono ();
    s_send (self, &ctl, NULL, 0);
}

/* (Re)creates the control socket: a fresh connection gets a fresh identity,
 * so a broker that lost us sees a new peer and takes our registration. */
static int
s_connect (af_agent_t *self)
{
    zsock_destroy (&self->dealer);
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer)
        return -1;
    zsock_set_maxmsgsize (self->dealer, (int) (AF_MAX_MSG_BYTES + 4096));
    zsock_set_linger (self->dealer, 0);
    /* Send only over a live connection: while the broker is away, Registers
     * and heartbeats fail (and are retried) instead of queueing up and
     * arriving as a burst when it comes back. */
    zsock_set_immediate (self->dealer, 1);
    zsock_set_sndhwm (self->dealer, 10000);
    if (zsock_connect (self->dealer, "%s", self->control) != 0) {
        af_error ("agent %s: cannot connect to %s", self->name, self->control);
        return -1;
    }
    self->registered = false;
    self->last_heard_ms = zclock_mono ();
    s_send_register (self);
    return 0;
}

int
af_agent_start (af_agent_t *self)
{
    if (self->started)
        return 0;
    self->started = true;
    return s_connect (self);
}

/* --------------------------------------------------------------- services */

/* Room for N more owned strings? */
static bool
s_reply_room (const af_reply_t *reply, size_t n)
{
    return reply->n_texts + n <= sizeof reply->texts / sizeof reply->texts[0];
}

void
af_reply_num (af_reply_t *reply, const char *name, double value)
{
    if (reply->n_params == AF_AGENT_MAX_PARAMS || !s_reply_room (reply, 1))
        return;
    Autofab__Param *p = &reply->params[reply->n_params];
    autofab__param__init (p);
    p->name = reply->texts[reply->n_texts++] = strdup (name);
    p->value_case = AUTOFAB__PARAM__VALUE_NUM;
    p->num = value;
    reply->ptrs[reply->n_params++] = p;
}

void
af_reply_text (af_reply_t *reply, const char *name, const char *text)
{
    if (reply->n_params == AF_AGENT_MAX_PARAMS || !s_reply_room (reply, 2))
        return;
    Autofab__Param *p = &reply->params[reply->n_params];
    autofab__param__init (p);
    p->name = reply->texts[reply->n_texts++] = strdup (name);
    p->value_case = AUTOFAB__PARAM__VALUE_TEXT;
    p->text = reply->texts[reply->n_texts++] = strdup (text ? text : "");
    reply->ptrs[reply->n_params++] = p;
}

void
af_reply_typed (af_reply_t *reply, const char *type, const void *data, size_t len)
{
    /* One typed body per reply: a second call replaces the first. */
    if (reply->has_typed) {
        free (reply->typed.data.data);
        reply->has_typed = false;
    }
    else if (!s_reply_room (reply, 1))
        return;
    char *type_copy = strdup (type);
    if (!type_copy)
        return;
    autofab__typed__init (&reply->typed);
    /* The type string is owned in texts[]; on replacement the slot of the
     * previous one is reused. */
    if (reply->typed_text_slot_ > 0) {
        free (reply->texts[reply->typed_text_slot_ - 1]);
        reply->texts[reply->typed_text_slot_ - 1] = type_copy;
    }
    else {
        reply->texts[reply->n_texts++] = type_copy;
        reply->typed_text_slot_ = reply->n_texts;
    }
    reply->typed.type = type_copy;
    uint8_t *copy = malloc (len ? len : 1);
    if (copy && len)
        memcpy (copy, data, len);
    reply->typed.data.data = copy;
    reply->typed.data.len = copy ? len : 0;
    reply->has_typed = true;
}

void
af_reply_error (af_reply_t *reply, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (reply->error, sizeof reply->error, fmt, ap);
    va_end (ap);
}

static void
s_reply_free (af_reply_t *reply)
{
    for (size_t i = 0; i < reply->n_texts; i++)
        free (reply->texts[i]);
    if (reply->has_typed)
        free (reply->typed.data.data);
}

const Autofab__Param *
af_command_param (const Autofab__Envelope *request, const char *name)
{
    if (!request || request->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_COMMAND || !request->command)
        return NULL;
    for (size_t i = 0; i < request->command->n_params; i++) {
        const Autofab__Param *p = request->command->params[i];
        if (p && p->name && strcmp (p->name, name) == 0)
            return p;
    }
    return NULL;
}

bool
af_command_num (const Autofab__Envelope *request, const char *name, double *out)
{
    const Autofab__Param *p = af_command_param (request, name);
    if (!p || p->value_case != AUTOFAB__PARAM__VALUE_NUM)
        return false;
    *out = p->num;
    return true;
}

const char *
af_command_text (const Autofab__Envelope *request, const char *name)
{
    const Autofab__Param *p = af_command_param (request, name);
    return p && p->value_case == AUTOFAB__PARAM__VALUE_TEXT ? p->text : NULL;
}

static s_cached_reply_t *
s_cached (af_agent_t *self, const Autofab__Envelope *req)
{
    if (!req->header || req->header->msg_id.len != 16)
        return NULL;
    for (size_t i = 0; i < AF_AGENT_REPLY_CACHE; i++)
        if (self->replies[i].body && memcmp (self->replies[i].msg_id, req->header->msg_id.data, 16) == 0)
            return &self->replies[i];
    return NULL;
}

static void
s_worker_reply (af_agent_t *self, uint64_t token, int status, const char *error, const void *body,
                size_t len)
{
    Autofab__WorkerReply wr = AUTOFAB__WORKER_REPLY__INIT;
    wr.token = token;
    wr.status = status;
    wr.error = (char *) (error ? error : "");
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_WORKER_REPLY;
    ctl.worker_reply = &wr;
    s_send (self, &ctl, body, len);
}

static void
s_on_deliver (af_agent_t *self, const Autofab__Deliver *d, zmq_msg_t *body)
{
    Autofab__Envelope *req;
    af_decode_t why = af_envelope_decode (zmq_msg_data (body), zmq_msg_size (body), AF_MAX_MSG_BYTES, &req);
    if (why != AF_DECODE_OK) {
        AF_LOG_ONCE (AF_LOG_WARN, "agent: refused a request: %s (logged once)", af_decode_str (why));
        char error[80];
        snprintf (error, sizeof error, "request refused: %s", af_decode_str (why));
        s_worker_reply (self, d->token, AUTOFAB__STATUS__STATUS_BAD_REQUEST, error, NULL, 0);
        return;
    }
    s_cached_reply_t *cached = s_cached (self, req);
    if (cached) {
        /* A retry of a command we already carried out: answer, don't redo. */
        s_worker_reply (self, d->token, cached->status, cached->error, cached->body, cached->body_len);
        autofab__envelope__free_unpacked (req, NULL);
        return;
    }
    s_service_t *service = NULL;
    for (size_t i = 0; i < self->n_services && !service; i++)
        if (d->service && strcmp (self->services[i].name, d->service) == 0)
            service = &self->services[i];
    af_reply_t reply;
    memset (&reply, 0, sizeof reply);
    int status = AUTOFAB__STATUS__STATUS_NOT_FOUND;
    if (service)
        status = service->fn (self, req, &reply, service->arg);
    else
        snprintf (reply.error, sizeof reply.error, "this agent does not offer '%s'", d->service);
    Autofab__CommandResult result = AUTOFAB__COMMAND_RESULT__INIT;
    result.command_id = req->header->msg_id;
    result.status = status;
    result.error = reply.error;
    result.n_results = reply.n_params;
    result.results = reply.ptrs;
    if (reply.has_typed)
        result.body = &reply.typed;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_RESULT;
    env.result = &result;
    Autofab__Header hdr;
    uint8_t msg_id[16];
    /* Replies have their own sequence: they never travel on the pub/sub
     * stream, where they would look like gaps. */
    af_stamper_stamp (self->reply_stamper, &env, &hdr, msg_id, af_clock_now_ns (af_bus_clock (self->bus)));
    size_t len = 0;
    uint8_t *buf = af_envelope_encode (&env, AF_MAX_MSG_BYTES, &len);
    s_worker_reply (self, d->token, status, reply.error, buf, buf ? len : 0);
    /* Remember the answer for retries of the same command. */
    s_cached_reply_t *slot = &self->replies[self->next_reply];
    self->next_reply = (self->next_reply + 1) % AF_AGENT_REPLY_CACHE;
    s_reply_cache_clear (slot);
    if (buf && req->header->msg_id.len == 16) {
        memcpy (slot->msg_id, req->header->msg_id.data, 16);
        slot->status = status;
        slot->error = strdup (reply.error);
        slot->body = buf;
        slot->body_len = len;
    }
    else
        free (buf);
    s_reply_free (&reply);
    autofab__envelope__free_unpacked (req, NULL);
}

/* ------------------------------------------------------------ event loop */

static void
s_on_error (af_agent_t *self, const Autofab__Error *e)
{
    const char *text = e->text ? e->text : "";
    if (e->status == AUTOFAB__STATUS__STATUS_NOT_REGISTERED) {
        /* The broker restarted and forgot us: register again at once. */
        if (self->registered)
            af_info ("agent %s: broker does not know us any more; registering again", self->name);
        self->registered = false;
        s_send_register (self);
    }
    else if (e->status == AUTOFAB__STATUS__STATUS_CONFLICT && !self->ever_registered) {
        af_error ("agent %s: %s", self->name, text);
        self->exit_code = 2;
        self->stopping = true;
    }
    else if (e->status == AUTOFAB__STATUS__STATUS_BAD_REQUEST && !self->ever_registered
             && zclock_mono () - self->last_register_ms < 1000 && strstr (text, "name")) {
        af_error ("agent %s: registration refused: %s", self->name, text);
        self->exit_code = 2;
        self->stopping = true;
    }
    else
        AF_LOG_ONCE (AF_LOG_WARN, "agent %s: broker said: %s (logged once)", self->name, text);
}

/* Handles what the broker sent on the control link. */
static void
s_control_input (af_agent_t *self)
{
    void *handle = zsock_resolve (self->dealer);
    for (int burst = 0; burst < 256; burst++) {
        zmq_msg_t frames[3];
        for (int i = 0; i < 3; i++)
            zmq_msg_init (&frames[i]);
        int n = af_recv_frames (handle, frames, 3);
        Autofab__Control *ctl = NULL;
        if (n >= 2 && n <= 3 && zmq_msg_size (&frames[0]) == 4
            && memcmp (zmq_msg_data (&frames[0]), AF_CONTROL_TAG, 4) == 0
            && af_control_decode (zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]),
                                  AF_MAX_MSG_BYTES, &ctl) == AF_DECODE_OK) {
            self->last_heard_ms = zclock_mono ();
            switch (ctl->msg_case) {
            case AUTOFAB__CONTROL__MSG_REGISTERED:
                if (self->broker_id[0] && strcmp (self->broker_id, ctl->registered->broker ? ctl->registered->broker : ""))
                    af_info ("agent %s: registered with a restarted broker", self->name);
                snprintf (self->broker_id, sizeof self->broker_id, "%s",
                          ctl->registered->broker ? ctl->registered->broker : "");
                self->registered = self->ever_registered = true;
                self->registrations++;
                break;
            case AUTOFAB__CONTROL__MSG_DELIVER:
                s_on_deliver (self, ctl->deliver, &frames[2]);
                break;
            case AUTOFAB__CONTROL__MSG_ERROR:
                s_on_error (self, ctl->error);
                break;
            default:
                break;       /* heartbeats: hearing them is all that matters */
            }
            autofab__control__free_unpacked (ctl, NULL);
        }
        else if (n > 0)
            AF_LOG_ONCE (AF_LOG_WARN, "agent %s: refused a malformed control message (logged once)", self->name);
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&frames[i]);
        if (n <= 0)
            break;
    }
}

static void
s_bus_input (af_agent_t *self)
{
    af_msg_t msg;
    for (int burst = 0; burst < 1024 && af_bus_recv (self->bus, &msg, 0) == 1; burst++) {
        for (size_t i = 0; i < self->n_subs; i++)
            if (af_topic_match (self->subs[i].pattern, msg.topic, strlen (msg.topic)))
                self->subs[i].fn (self, &msg, self->subs[i].arg);
        af_msg_clear (&msg);
    }
}

static void
s_link_tick (af_agent_t *self, int64_t now)
{
    if (now - self->last_heard_ms > (int64_t) self->heartbeat_ms * AF_AGENT_BROKER_SILENCE) {
        if (self->registered)
            af_warn ("agent %s: no word from the broker for %d ms; reconnecting", self->name,
                     (int) (now - self->last_heard_ms));
        s_connect (self);
        return;
    }
    if (!self->registered && now - self->last_register_ms >= self->heartbeat_ms)
        s_send_register (self);
    else if (self->registered && now - self->last_sent_ms >= self->heartbeat_ms) {
        Autofab__Heartbeat hb = AUTOFAB__HEARTBEAT__INIT;
        Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
        ctl.msg_case = AUTOFAB__CONTROL__MSG_HEARTBEAT;
        ctl.heartbeat = &hb;
        s_send (self, &ctl, NULL, 0);
    }
}

int
af_agent_iterate (af_agent_t *self, int timeout_ms)
{
    if (!self->started && af_agent_start (self) != 0)
        return -1;
    if (self->stopping || zsys_interrupted)
        return -1;
    int64_t now = zclock_mono ();
    /* Wake for the next timer or the next heartbeat, whichever is first. */
    int64_t wake = now + self->heartbeat_ms / 4 + 1;
    for (size_t i = 0; i < self->n_timers; i++)
        if (self->timers[i].due_ms < wake)
            wake = self->timers[i].due_ms;
    int wait = (int) (wake - now);
    if (wait < 0)
        wait = 0;
    if (timeout_ms >= 0 && timeout_ms < wait)
        wait = timeout_ms;
    /* What this turn published leaves before we wait; if the high-water
     * mark holds it back, look again soon rather than sleep on it. */
    if (af_bus_flush (self->bus) != 0 && wait > 1)
        wait = 1;
    /* Records already read (the rest of a batch) are not in the socket. */
    if (self->n_subs && af_bus_has_buffered (self->bus))
        wait = 0;
    zmq_pollitem_t items[2] = { { zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0 } };
    int n_items = 1;
    if (self->n_subs) {
        items[1] = (zmq_pollitem_t) { af_bus_sub_handle (self->bus), 0, ZMQ_POLLIN, 0 };
        n_items = 2;
    }
    if (zmq_poll (items, n_items, wait) < 0 && errno == EINTR)
        return -1;
    if (zsys_interrupted)
        return -1;
    if (items[0].revents & ZMQ_POLLIN)
        s_control_input (self);
    if (n_items == 2 && ((items[1].revents & ZMQ_POLLIN) || af_bus_has_buffered (self->bus)))
        s_bus_input (self);
    now = zclock_mono ();
    for (size_t i = 0; i < self->n_timers; i++)
        if (now >= self->timers[i].due_ms) {
            self->timers[i].due_ms = now + self->timers[i].interval_ms;
            self->timers[i].fn (self, self->timers[i].arg);
        }
    s_link_tick (self, now);
    return self->stopping ? -1 : 0;
}

int
af_agent_wait_registered (af_agent_t *self, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!self->registered) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0 || af_agent_iterate (self, (int) left) != 0)
            return self->registered ? 0 : -1;
    }
    return 0;
}

int
af_agent_run (af_agent_t *self)
{
    if (af_agent_start (self) != 0)
        return 1;
    af_info ("agent %s (%s) starting; broker %s", self->name, self->kind, self->control);
    while (af_agent_iterate (self, -1) == 0)
        ;
    s_goodbye (self);
    af_info ("agent %s stopping", self->name);
    return self->exit_code;
}

void af_agent_stop (af_agent_t *self) { self->stopping = true; }
bool af_agent_registered (const af_agent_t *self) { return self->registered; }
uint64_t af_agent_registrations (const af_agent_t *self) { return self->registrations; }
af_bus_t *af_agent_bus (af_agent_t *self) { return self->bus; }
const char *af_agent_name (const af_agent_t *self) { return self->name; }
const char *af_agent_cell (const af_agent_t *self) { return self->cell; }

const char *
af_agent_topic (const af_agent_t *self, const char *cls, const char *kind, char *buf, size_t len)
{
    snprintf (buf, len, "%s.%s.%s.%s.%s", cls, self->factory, self->cell[0] ? self->cell : "none",
              self->name, kind);
    return buf;
}
