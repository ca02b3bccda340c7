/*  broker/services.c — requests routed to named services.
 *
 *  A service is offered by the live agents that registered it; a request goes
 *  to the least recently used one.  Every request ends in exactly one reply to
 *  the client: the worker's answer, or an error when no worker offers the
 *  service, when the worker died and no other could take the request over, or
 *  when the deadline passed.  Re-sending to another worker is safe because
 *  commands are idempotent by message id.
 */
#include "broker_internal.h"

/* What one client has in flight: capped per client (issue 17), so that a
 * client whose worker never answers cannot pin the broker's memory. */
typedef struct {
    size_t count, bytes;
} s_client_t;

typedef struct {
    uint64_t token;
    char key[24];
    s_client_t *owner;       /* in self->clients; not owned */
    uint8_t client[BROKER_RID_MAX];
    size_t client_len;
    uint64_t request_id;
    char *service;
    agent_t *worker;         /* not owned; cleared when it goes */
    zmq_msg_t body;          /* kept for a re-send to another worker */
    int64_t deadline_ms;
    int attempts;
} s_inflight_t;

static void
s_inflight_destructor (void **item)
{
    s_inflight_t *f = *item;
    if (!f)
        return;
    zmq_msg_close (&f->body);
    free (f->service);
    free (f);
    *item = NULL;
}

static void
s_client_destructor (s_client_t **item)
{
    free (*item);
    *item = NULL;
}

/* Forgets F (answered, failed or timed out) and what it counted for its client. */
static void
s_inflight_end (broker_t *self, s_inflight_t *f)
{
    s_client_t *owner = f->owner;
    if (owner) {
        owner->count--;
        owner->bytes -= zmq_msg_size (&f->body);
        if (!owner->count) {
            char key[BROKER_RID_MAX * 2 + 1];
            broker__rid_key (f->client, f->client_len, key);
            zhashx_delete (self->clients, key);
        }
    }
    zhashx_delete (self->inflight, f->key);
}

static void
s_list_destructor (void **item)
{
    zlistx_destroy ((zlistx_t **) item);
}

void
broker__services_init (broker_t *self)
{
    self->services = zhashx_new ();
    zhashx_set_destructor (self->services, s_list_destructor);
    self->inflight = zhashx_new ();
    zhashx_set_destructor (self->inflight, s_inflight_destructor);
    self->clients = zhashx_new ();
    zhashx_set_destructor (self->clients, (zhashx_destructor_fn *) s_client_destructor);
    self->next_token = 1;
}

void
broker__services_add (broker_t *self, agent_t *agent)
{
    for (size_t i = 0; i < agent->n_services; i++) {
        zlistx_t *workers = zhashx_lookup (self->services, agent->services[i]);
        if (!workers) {
            workers = zlistx_new ();
            zhashx_insert (self->services, agent->services[i], workers);
        }
        if (!zlistx_find (workers, agent))
            zlistx_add_end (workers, agent);
    }
}

void
broker__services_drop (broker_t *self, agent_t *agent)
{
    for (size_t i = 0; i < agent->n_services; i++) {
        zlistx_t *workers = zhashx_lookup (self->services, agent->services[i]);
        if (workers && zlistx_find (workers, agent))
            zlistx_delete (workers, zlistx_cursor (workers));
        if (workers && zlistx_size (workers) == 0)
            zhashx_delete (self->services, agent->services[i]);
    }
}

static void
s_reply (broker_t *self, const s_inflight_t *f, int status, const char *error, const char *worker,
         zmq_msg_t *body)
{
    Autofab__Reply r = AUTOFAB__REPLY__INIT;
    r.request_id = f->request_id;
    r.status = status;
    r.error = (char *) (error ? error : "");
    r.worker = (char *) (worker ? worker : "");
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_REPLY;
    ctl.reply = &r;
    bool has_body = body && zmq_msg_size (body) > 0;
    broker__send (self, f->client, f->client_len, &ctl, has_body ? zmq_msg_data (body) : NULL,
                  has_body ? zmq_msg_size (body) : 0);
}

/* Picks the least recently used live worker for F's service other than
 * EXCEPT, moves it to the back of the line and delivers F to it.  Returns
 * false if there is none. */
static bool
s_dispatch (broker_t *self, s_inflight_t *f, agent_t *except)
{
    zlistx_t *workers = zhashx_lookup (self->services, f->service);
    agent_t *w = NULL;
    for (agent_t *a = workers ? zlistx_first (workers) : NULL; a; a = zlistx_next (workers))
        if (a != except) {
            w = a;
            zlistx_move_end (workers, zlistx_cursor (workers));
            break;
        }
    if (!w)
        return false;
    f->worker = w;
    f->attempts++;
    Autofab__Deliver d = AUTOFAB__DELIVER__INIT;
    d.token = f->token;
    d.service = f->service;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_DELIVER;
    ctl.deliver = &d;
    broker__send (self, w->routing_id, w->routing_id_len, &ctl, zmq_msg_data (&f->body),
                  zmq_msg_size (&f->body));
    return true;
}

/* Checks a request against the caps (issue 17) before the broker holds
 * anything for it: 0, or a Status with a reason in ERR.  *OWNER is the
 * client's record (created when new). */
static int
s_request_caps (broker_t *self, const uint8_t *rid, size_t rid_len, const Autofab__Request *req,
                size_t body_bytes, s_client_t **owner, char *err, size_t err_len)
{
    if (body_bytes > self->opts.max_msg_bytes) {
        /* A worker's socket drops a connection over its own cap, and the
         * broker would then declare a healthy worker dead. */
        self->counters.requests_too_large++;
        AF_LOG_ONCE (AF_LOG_WARN, "services: refused a request body of %zu bytes (max_msg_bytes %zu; "
                     "counted; logged once)", body_bytes, self->opts.max_msg_bytes);
        snprintf (err, err_len, "request body of %zu bytes is over max_msg_bytes %zu", body_bytes,
                  self->opts.max_msg_bytes);
        return AUTOFAB__STATUS__STATUS_TOO_LARGE;
    }
    if (req->timeout_ms > (uint64_t) self->opts.request_max_timeout_ms) {
        self->counters.requests_bad_timeout++;
        AF_LOG_ONCE (AF_LOG_WARN, "services: refused a request with timeout %u ms (request_max_timeout_ms "
                     "%ld; counted; logged once)", req->timeout_ms, self->opts.request_max_timeout_ms);
        snprintf (err, err_len, "timeout_ms %u is over request_max_timeout_ms %ld", req->timeout_ms,
                  self->opts.request_max_timeout_ms);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    char key[BROKER_RID_MAX * 2 + 1];
    broker__rid_key (rid, rid_len, key);
    s_client_t *c = zhashx_lookup (self->clients, key);
    if (c && (c->count >= (size_t) self->opts.request_max_inflight
              || c->bytes + body_bytes > (size_t) self->opts.request_max_inflight_bytes)) {
        self->counters.requests_over_limit++;
        AF_LOG_ONCE (AF_LOG_WARN, "services: refused a request: its client has %zu requests (%zu bytes) in "
                     "flight (request_max_inflight %ld, _bytes %ld; counted; logged once)", c->count,
                     c->bytes, self->opts.request_max_inflight, self->opts.request_max_inflight_bytes);
        snprintf (err, err_len, "%zu requests (%zu bytes) in flight already: over request_max_inflight "
                  "%ld or request_max_inflight_bytes %ld", c->count, c->bytes,
                  self->opts.request_max_inflight, self->opts.request_max_inflight_bytes);
        return AUTOFAB__STATUS__STATUS_LIMIT;
    }
    if (!c) {
        c = calloc (1, sizeof *c);
        if (!c || zhashx_insert (self->clients, key, c) != 0) {
            free (c);
            snprintf (err, err_len, "out of memory");
            return AUTOFAB__STATUS__STATUS_INTERNAL;
        }
    }
    *owner = c;
    return 0;
}

void
broker__request (broker_t *self, const uint8_t *rid, size_t rid_len, const Autofab__Request *req,
                 zmq_msg_t *body)
{
    self->counters.requests++;
    s_inflight_t *f = calloc (1, sizeof *f);
    if (!f)
        return;
    f->token = self->next_token++;
    snprintf (f->key, sizeof f->key, "%" PRIu64, f->token);
    f->client_len = rid_len > sizeof f->client ? sizeof f->client : rid_len;
    memcpy (f->client, rid, f->client_len);
    f->request_id = req->request_id;
    zmq_msg_init (&f->body);
    char error[300];
    int status = s_request_caps (self, rid, rid_len, req, body ? zmq_msg_size (body) : 0, &f->owner, error,
                                 sizeof error);
    if (status) {
        s_reply (self, f, status, error, NULL, NULL);
        void *item = f;
        s_inflight_destructor (&item);
        return;
    }
    f->service = strdup (req->service ? req->service : "");
    if (body)
        zmq_msg_move (&f->body, body);
    f->owner->count++;
    f->owner->bytes += zmq_msg_size (&f->body);
    int timeout_ms = req->timeout_ms > 0 ? (int) req->timeout_ms : self->opts.request_timeout_ms;
    f->deadline_ms = zclock_mono () + timeout_ms;
    zhashx_insert (self->inflight, f->key, f);
    if (!f->service || !s_dispatch (self, f, NULL)) {
        self->counters.requests_no_worker++;
        snprintf (error, sizeof error, "no live worker for service '%.100s'", f->service ? f->service : "");
        s_reply (self, f, AUTOFAB__STATUS__STATUS_NOT_FOUND, error, NULL, NULL);
        s_inflight_end (self, f);
    }
}

void
broker__worker_reply (broker_t *self, agent_t *worker, const Autofab__WorkerReply *wr, zmq_msg_t *body)
{
    char key[24];
    snprintf (key, sizeof key, "%" PRIu64, wr->token);
    s_inflight_t *f = zhashx_lookup (self->inflight, key);
    if (!f || f->worker != worker) {
        /* A late answer to a request that was re-sent or already answered. */
        self->counters.replies_stale++;
        return;
    }
    worker->requests++;
    if (body && zmq_msg_size (body) > self->opts.max_msg_bytes) {
        /* The client's socket would drop the connection over it. */
        self->counters.replies_too_large++;
        AF_LOG_ONCE (AF_LOG_WARN, "services: '%s' answered with %zu bytes, over max_msg_bytes "
                     "(counted; logged once)", worker->name, zmq_msg_size (body));
        char error[200];
        snprintf (error, sizeof error, "the answer of %zu bytes is over the broker's max_msg_bytes %zu",
                  zmq_msg_size (body), self->opts.max_msg_bytes);
        s_reply (self, f, AUTOFAB__STATUS__STATUS_TOO_LARGE, error, worker->name, NULL);
    }
    else
        s_reply (self, f, wr->status, wr->error, worker->name, body);
    s_inflight_end (self, f);
}

void
broker__services_worker_gone (broker_t *self, agent_t *agent)
{
    zlistx_t *orphans = zlistx_new ();
    for (s_inflight_t *f = zhashx_first (self->inflight); f; f = zhashx_next (self->inflight))
        if (f->worker == agent)
            zlistx_add_end (orphans, f);
    for (s_inflight_t *f = zlistx_first (orphans); f; f = zlistx_next (orphans)) {
        if (s_dispatch (self, f, agent)) {
            self->counters.requests_failed_over++;
            af_info ("services: request for '%s' re-sent from dead '%s' to '%s'", f->service,
                     agent->name, f->worker->name);
            continue;
        }
        self->counters.requests_unavailable++;
        char error[256];
        snprintf (error, sizeof error, "worker '%.60s' died and no other worker offers '%.100s'",
                  agent->name, f->service);
        s_reply (self, f, AUTOFAB__STATUS__STATUS_UNAVAILABLE, error, agent->name, NULL);
        s_inflight_end (self, f);
    }
    zlistx_destroy (&orphans);
}

void
broker__services_tick (broker_t *self, int64_t now_ms)
{
    zlistx_t *late = zlistx_new ();
    for (s_inflight_t *f = zhashx_first (self->inflight); f; f = zhashx_next (self->inflight))
        if (now_ms >= f->deadline_ms)
            zlistx_add_end (late, f);
    for (s_inflight_t *f = zlistx_first (late); f; f = zlistx_next (late)) {
        self->counters.requests_timed_out++;
        char error[256];
        snprintf (error, sizeof error, "service '%.100s' did not answer in time (worker '%.60s')",
                  f->service, f->worker ? f->worker->name : "?");
        s_reply (self, f, AUTOFAB__STATUS__STATUS_TIMEOUT, error, NULL, NULL);
        s_inflight_end (self, f);
    }
    zlistx_destroy (&late);
}
