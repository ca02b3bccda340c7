/*  broker/broker.c — lifecycle, options and the poll loop of the broker.  */
#include "broker_internal.h"

#include "af_args.h"
#include "af_config.h"

#include <stddef.h>

/* Messages relayed per poll round: enough to amortise the poll, few enough
 * that control traffic (heartbeats) is never starved by a flood. */
#define BROKER_RELAY_BURST 4096
#define BROKER_CONTROL_BURST 256
/* Housekeeping (expiry, heartbeats, request deadlines) runs this often, ms. */
#define BROKER_HOUSEKEEPING_MIN_MS 10

/* The resource caps: one row each, read by the YAML loader and by
 * --limit KEY=N alike.  Defaults leave room for a large plant and keep any
 * one hostile client to tens of MiB. */
typedef struct {
    const char *key;
    size_t offset;
    long dflt, min, max;
} s_limit_t;

#define S_LIMIT(field, dflt, min, max) { #field, offsetof (broker_opts_t, field), dflt, min, max }
static const s_limit_t s_limits[] = {
    S_LIMIT (sub_max_bytes, 256, 16, 1L << 26),
    S_LIMIT (register_max_bytes, 16384, 256, 1L << 20),
    S_LIMIT (register_max_items, 256, 1, 100000),
    S_LIMIT (heartbeat_min_ms, 10, 10, 600000),
    S_LIMIT (heartbeat_max_ms, 60000, 10, 600000),
    S_LIMIT (max_agents, 4096, 1, 1000000),
    S_LIMIT (request_max_timeout_ms, 600000, 1, 3600000),
    S_LIMIT (request_max_inflight, 1024, 1, 1000000),
    S_LIMIT (request_max_inflight_bytes, 16L << 20, 1024, 1L << 34),
    S_LIMIT (cache_max_bytes, 256L << 20, 1024, 1L << 40),
};
#undef S_LIMIT
enum { S_LIMITS = sizeof s_limits / sizeof s_limits[0] };

static long *
s_limit_field (broker_opts_t *opts, const s_limit_t *limit)
{
    return (long *) ((char *) opts + limit->offset);
}

int
broker_opts_set_limit (broker_opts_t *opts, const char *key, const char *text, char *err, size_t err_len)
{
    for (size_t i = 0; i < S_LIMITS; i++)
        if (!strcmp (s_limits[i].key, key)) {
            char why[200];
            if (af_parse_long (text, s_limits[i].min, s_limits[i].max, s_limit_field (opts, &s_limits[i]),
                               why, sizeof why) != 0) {
                snprintf (err, err_len, "'%s' %s", key, why);
                return -1;
            }
            return 0;
        }
    snprintf (err, err_len, "unknown limit '%s' (docs/broker.md lists them)", key);
    return -1;
}

void
broker_opts_defaults (broker_opts_t *opts)
{
    memset (opts, 0, sizeof *opts);
    snprintf (opts->control, sizeof opts->control, "tcp://127.0.0.1:5550");
    snprintf (opts->ingress, sizeof opts->ingress, "tcp://127.0.0.1:5551");
    snprintf (opts->egress, sizeof opts->egress, "tcp://127.0.0.1:5552");
    snprintf (opts->factory, sizeof opts->factory, "factory");
    opts->heartbeat_ms = 1000;
    opts->cache_max_topics = 100000;
    opts->max_msg_bytes = AF_MAX_MSG_BYTES;
    opts->hwm = 100000;
    opts->request_timeout_ms = 5000;
    opts->stats_interval_ms = 1000;
    for (size_t i = 0; i < S_LIMITS; i++)
        *s_limit_field (opts, &s_limits[i]) = s_limits[i].dflt;
}

static void
s_copy (char *dst, size_t len, const char *src)
{
    if (src)
        snprintf (dst, len, "%s", src);
}

int
broker_opts_load (broker_opts_t *opts, const char *path, char *err, size_t err_len)
{
    af_config_t *root = af_config_load (path, err, err_len);
    if (!root)
        return -1;
    static const char *const base_keys[] = {
        "control", "ingress", "egress", "factory", "heartbeat_ms", "cache_max_topics",
        "cache_prefix", "max_msg_bytes", "hwm", "request_timeout_ms", "stats_interval_ms",
        "log_level", "journal", "journal_prefixes",
    };
    enum { N_BASE = sizeof base_keys / sizeof base_keys[0] };
    const char *keys[N_BASE + S_LIMITS + 1];
    memcpy (keys, base_keys, sizeof base_keys);
    for (size_t i = 0; i < S_LIMITS; i++)
        keys[N_BASE + i] = s_limits[i].key;
    keys[N_BASE + S_LIMITS] = NULL;
    af_config_known_keys (root, keys);
    for (size_t i = 0; i < S_LIMITS; i++) {
        long *field = s_limit_field (opts, &s_limits[i]);
        *field = af_config_int (root, s_limits[i].key, *field, s_limits[i].min, s_limits[i].max);
    }
    s_copy (opts->control, sizeof opts->control, af_config_str (root, "control", NULL));
    s_copy (opts->ingress, sizeof opts->ingress, af_config_str (root, "ingress", NULL));
    s_copy (opts->egress, sizeof opts->egress, af_config_str (root, "egress", NULL));
    s_copy (opts->factory, sizeof opts->factory, af_config_str (root, "factory", NULL));
    s_copy (opts->cache_prefix, sizeof opts->cache_prefix, af_config_str (root, "cache_prefix", NULL));
    s_copy (opts->journal, sizeof opts->journal, af_config_str (root, "journal", NULL));
    s_copy (opts->journal_prefixes, sizeof opts->journal_prefixes, af_config_str (root, "journal_prefixes", NULL));
    opts->heartbeat_ms = (int) af_config_int (root, "heartbeat_ms", opts->heartbeat_ms, 10, 600000);
    opts->cache_max_topics = (size_t) af_config_int (root, "cache_max_topics",
                                                     (long) opts->cache_max_topics, 0, 100000000);
    opts->max_msg_bytes = (size_t) af_config_int (root, "max_msg_bytes", (long) opts->max_msg_bytes,
                                                  1024, 256L << 20);
    opts->hwm = (int) af_config_int (root, "hwm", opts->hwm, 1, 100000000);
    opts->request_timeout_ms = (int) af_config_int (root, "request_timeout_ms",
                                                    opts->request_timeout_ms, 1, 3600000);
    opts->stats_interval_ms = (int) af_config_int (root, "stats_interval_ms",
                                                   opts->stats_interval_ms, 0, 3600000);
    const char *level = af_config_str (root, "log_level", NULL);
    if (level && af_log_parse_level (level) < 0)
        af_config_fail (af_config_get (root, "log_level"), "log_level must be debug, info, warn, error or off");
    else if (level)
        af_log_set_level ((af_log_level_t) af_log_parse_level (level));
    int rc = 0;
    if (af_config_error (root)) {
        snprintf (err, err_len, "%s", af_config_error (root));
        rc = -1;
    }
    af_config_destroy (&root);
    return rc;
}

/* Binds a socket of TYPE; MAX_IN_BYTES caps each message it receives (set
 * before the bind: a listener copies its options then). */
static zsock_t *
s_bind (const broker_opts_t *opts, int type, const char *endpoint, size_t max_in_bytes, char *err,
        size_t err_len)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        snprintf (err, err_len, "cannot create a socket");
        return NULL;
    }
    /* Size cap on every socket that faces the network: libzmq's default is
     * unlimited.  A bit of slack over the envelope cap lets the relay count
     * and refuse slightly-too-large messages itself instead of libzmq just
     * dropping the connection. */
    zsock_set_maxmsgsize (sock, (int) max_in_bytes);
    zsock_set_sndhwm (sock, opts->hwm);
    zsock_set_rcvhwm (sock, opts->hwm);
    zsock_set_linger (sock, 0);
    if (type == ZMQ_ROUTER)
        zsock_set_router_mandatory (sock, 0);
    if (zsock_bind (sock, "%s", endpoint) < 0) {
        snprintf (err, err_len, "cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

broker_t *
broker_new (const broker_opts_t *opts, char *err, size_t err_len)
{
    broker_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    self->opts = *opts;
    if (opts->heartbeat_min_ms > opts->heartbeat_max_ms) {
        snprintf (err, err_len, "heartbeat_min_ms (%ld) is over heartbeat_max_ms (%ld)",
                  opts->heartbeat_min_ms, opts->heartbeat_max_ms);
        goto fail;
    }
    if (!af_topic_valid (self->opts.factory, strlen (self->opts.factory))
        || strchr (self->opts.factory, '.')) {
        snprintf (err, err_len, "factory name '%s' must be letters, digits, '_' or '-'",
                  self->opts.factory);
        goto fail;
    }
    size_t max_in = AF_BATCH_FRAME_CAP (opts->max_msg_bytes) * 2;
    self->control = s_bind (opts, ZMQ_ROUTER, opts->control, max_in, err, err_len);
    if (!self->control)
        goto fail;
    self->ingress = s_bind (opts, ZMQ_XSUB, opts->ingress, max_in, err, err_len);
    if (!self->ingress)
        goto fail;
    /* What a subscriber sends the egress is subscriptions: the cap drops
     * the connection of one that sends a longer one before libzmq stores
     * it (topics are at most 255 bytes, so none could match anyway). */
    self->egress = s_bind (opts, ZMQ_XPUB, opts->egress, (size_t) opts->sub_max_bytes + 1, err, err_len);
    if (!self->egress)
        goto fail;
    self->control_h = zsock_resolve (self->control);
    self->ingress_h = zsock_resolve (self->ingress);
    self->egress_h = zsock_resolve (self->egress);
    /* The broker takes everything in: the cache and counters need it all, and
     * the egress does the per-subscriber filtering. */
    uint8_t subscribe_all = 1;
    zmq_send (self->ingress_h, &subscribe_all, 1, 0);
    snprintf (self->id, sizeof self->id, "%08x%08x", randombytes_random (), randombytes_random ());
    self->stamper = af_stamper_new ("broker", self->opts.factory);
    self->sources = af_seqtrack_new ();
    self->cache = self->opts.cache_max_topics
                      ? cache_new (self->opts.cache_max_topics, (size_t) self->opts.cache_max_bytes)
                      : NULL;
    self->cache_prefix_len = strlen (self->opts.cache_prefix);
    if (!self->stamper || !self->sources || (self->opts.cache_max_topics && !self->cache)) {
        snprintf (err, err_len, "out of memory");
        goto fail;
    }
    if (self->opts.journal[0]) {
        self->journal = broker_journal_new_csv (self->opts.journal, self->opts.journal_prefixes, err, err_len);
        if (!self->journal)
            goto fail;
    }
    broker__presence_init (self);
    broker__services_init (self);
    self->next_housekeeping_ms = zclock_mono ();
    self->next_stats_ms = zclock_mono () + self->opts.stats_interval_ms;
    return self;
fail:
    broker_destroy (&self);
    return NULL;
}

void
broker_destroy (broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    /* Services first: in-flight requests point at agents. */
    zhashx_destroy (&self->inflight);
    zhashx_destroy (&self->clients);
    zhashx_destroy (&self->services);
    zhashx_destroy (&self->names);
    zhashx_destroy (&self->agents);
    broker_journal_destroy (&self->journal);
    cache_destroy (&self->cache);
    free (self->run_buf);
    af_seqtrack_destroy (&self->sources);
    af_stamper_destroy (&self->stamper);
    zsock_destroy (&self->control);
    zsock_destroy (&self->ingress);
    zsock_destroy (&self->egress);
    free (self);
    *self_p = NULL;
}

/* Counts subscriptions arriving on the egress (XPUB); nothing else to do. */
static void
s_egress_drain (broker_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (zmq_msg_recv (&msg, self->egress_h, ZMQ_DONTWAIT) >= 0)
        if (zmq_msg_size (&msg) >= 1 && ((uint8_t *) zmq_msg_data (&msg))[0] == 1)
            self->counters.subscriptions++;
    zmq_msg_close (&msg);
}

static void
s_publish_stats (broker_t *self)
{
    char topic[AF_TOPIC_MAX_BYTES];
    snprintf (topic, sizeof topic, "sys.%s.broker.broker.stats", self->opts.factory);
    const struct { const char *name; double value; } values[] = {
        { "relayed_msgs", (double) self->counters.relayed_msgs },
        { "relayed_bytes", (double) self->counters.relayed_bytes },
        { "relay_gaps", (double) self->counters.relay_gaps },
        { "agents", (double) zhashx_size (self->agents) },
        { "cache_topics", self->cache ? (double) cache_size (self->cache) : 0 },
        { "requests", (double) self->counters.requests },
    };
    enum { N = sizeof values / sizeof values[0] };
    Autofab__Metric metrics[N], *ptrs[N];
    for (size_t i = 0; i < N; i++) {
        autofab__metric__init (&metrics[i]);
        metrics[i].name = (char *) values[i].name;
        metrics[i].value = values[i].value;
        ptrs[i] = &metrics[i];
    }
    Autofab__Telemetry tel = AUTOFAB__TELEMETRY__INIT;
    tel.metrics = ptrs;
    tel.n_metrics = N;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY;
    env.telemetry = &tel;
    broker__publish (self, topic, &env);
}

static int
s_housekeeping_interval (const broker_t *self)
{
    int ms = self->opts.heartbeat_ms / 10;
    return ms < BROKER_HOUSEKEEPING_MIN_MS ? BROKER_HOUSEKEEPING_MIN_MS : ms;
}

int
broker_iterate (broker_t *self, int timeout_ms)
{
    int64_t now = zclock_mono ();
    int wait = (int) (self->next_housekeeping_ms - now);
    if (wait < 0)
        wait = 0;
    if (timeout_ms >= 0 && timeout_ms < wait)
        wait = timeout_ms;
    zmq_pollitem_t items[] = {
        { self->ingress_h, 0, ZMQ_POLLIN, 0 },
        { self->control_h, 0, ZMQ_POLLIN, 0 },
        { self->egress_h, 0, ZMQ_POLLIN, 0 },
    };
    int rc = zmq_poll (items, 3, wait);
    if ((rc < 0 && errno == EINTR) || zsys_interrupted)
        return -1;
    /* Control first: heartbeats must not wait behind a flood of telemetry. */
    if (items[1].revents & ZMQ_POLLIN)
        broker__control (self, BROKER_CONTROL_BURST);
    if (items[0].revents & ZMQ_POLLIN)
        broker__relay (self, BROKER_RELAY_BURST);
    if (items[2].revents & ZMQ_POLLIN)
        s_egress_drain (self);
    now = zclock_mono ();
    if (now >= self->next_housekeeping_ms) {
        broker__presence_tick (self, now);
        broker__services_tick (self, now);
        self->next_housekeeping_ms = now + s_housekeeping_interval (self);
    }
    if (self->opts.stats_interval_ms > 0 && now >= self->next_stats_ms) {
        s_publish_stats (self);
        self->next_stats_ms = now + self->opts.stats_interval_ms;
    }
    return 0;
}

int
broker_run (broker_t *self)
{
    af_info ("broker %s: factory '%s', control %s, ingress %s, egress %s, heartbeat %d ms",
             self->id, self->opts.factory, self->opts.control, self->opts.ingress,
             self->opts.egress, self->opts.heartbeat_ms);
    while (!self->stopping && broker_iterate (self, -1) == 0)
        ;
    af_info ("broker: stopping (relayed %" PRIu64 " messages)", self->counters.relayed_msgs);
    return 0;
}

void
broker_stop (broker_t *self)
{
    self->stopping = true;
}
