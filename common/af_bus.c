/*  af_bus — broker client: publish, subscribe, snapshot, request (see af_bus.h).  */
#include "af_bus.h"

#include <czmq.h>
#include <sodium.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "af_log.h"

#define AF_PATTERNS_MAX 64
/* How long a snapshot waits for its marker before it asks again. */
#define AF_SNAPSHOT_MARKER_MS 250
/* Streams a subscriber tracks for gaps (a sender inventing topics must not
 * grow it without end); beyond, messages are delivered untracked. */
#define AF_BUS_MAX_STREAMS 100000
/* How long a closing publisher may take to send what is queued. */
#define AF_BUS_PUB_LINGER_MS 1000

/* A message read while cutting a snapshot that belongs to another
 * subscription: kept for af_bus_recv. */
typedef struct {
    zmq_msg_t frames[2];
} s_pending_t;

static void
s_pending_destructor (void **item)
{
    s_pending_t *p = *item;
    if (!p)
        return;
    zmq_msg_close (&p->frames[0]);
    zmq_msg_close (&p->frames[1]);
    free (p);
    *item = NULL;
}

struct af_bus {
    char control[256], ingress[256], egress[256];
    char *source, *factory;
    size_t max_msg_bytes;
    int hwm;
    af_clock_t *clock, *own_clock;
    af_stamper_t *stamper;
    zsock_t *pub;            /* XPUB → broker ingress (XSUB): sees readiness */
    bool pub_ready;
    zsock_t *sub;            /* SUB ← broker egress */
    char *patterns[AF_PATTERNS_MAX];
    size_t n_patterns;
    zsock_t *dealer;         /* control requests */
    uint64_t next_request_id;
    af_seqtrack_t *seqs;
    zlistx_t *pending;       /* s_pending_t: other subscriptions' messages read
                                while a snapshot was being cut */
    /* Publishing side of coalescing: records on one topic not sent yet. */
    int spin_us;             /* control waits poll this long before sleeping */
    unsigned coalesce_max;
    size_t coalesce_bytes;
    uint8_t *out;            /* Batch records, each with its prefix */
    size_t out_len;
    unsigned out_count;
    size_t out_first_prefix; /* prefix length of the first record */
    char out_topic[AF_TOPIC_MAX_BYTES];
    size_t out_topic_len;
    char valid_topic[AF_TOPIC_MAX_BYTES];  /* the last topic published on */
    size_t valid_topic_len;
    af_source_stats_t *last_stream;        /* the stream received last */
    /* Receiving side: a batch being handed out record by record. */
    zmq_msg_t in;
    bool in_active;
    af_batch_iter_t in_it;
    char in_topic[AF_TOPIC_MAX_BYTES];
    size_t in_topic_len;
    af_bus_counters_t counters;
};

int
af_bus_endpoint_offset (const char *control, int offset, char *out, size_t out_len)
{
    const char *colon = strrchr (control, ':');
    if (!colon || strncmp (control, "tcp://", 6) != 0)
        return -1;
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (*end || port <= 0 || port + offset > 65535)
        return -1;
    int n = snprintf (out, out_len, "%.*s:%ld", (int) (colon - control), control, port + offset);
    return n > 0 && (size_t) n < out_len ? 0 : -1;
}

af_bus_t *
af_bus_new (const af_bus_opts_t *opts, char *err, size_t err_len)
{
    af_bus_opts_t none = { 0 };
    if (!opts)
        opts = &none;
    af_bus_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    const char *broker = opts->broker ? opts->broker : getenv ("AUTOFAB_BROKER");
    if (!broker || !*broker)
        broker = AF_DEFAULT_BROKER;
    snprintf (self->control, sizeof self->control, "%s", broker);
    if (opts->ingress)
        snprintf (self->ingress, sizeof self->ingress, "%s", opts->ingress);
    else if (af_bus_endpoint_offset (broker, 1, self->ingress, sizeof self->ingress) != 0)
        goto bad_endpoint;
    if (opts->egress)
        snprintf (self->egress, sizeof self->egress, "%s", opts->egress);
    else if (af_bus_endpoint_offset (broker, 2, self->egress, sizeof self->egress) != 0)
        goto bad_endpoint;
    self->source = strdup (opts->source ? opts->source : "");
    self->factory = strdup (opts->factory ? opts->factory : "factory");
    self->max_msg_bytes = opts->max_msg_bytes ? opts->max_msg_bytes : AF_MAX_MSG_BYTES;
    self->hwm = opts->hwm > 0 ? opts->hwm : AF_DEFAULT_HWM;
    self->spin_us = opts->request_spin_us;
    if (!self->spin_us) {
        const char *env = getenv ("AUTOFAB_REQUEST_SPIN_US");
        self->spin_us = env && *env ? atoi (env) : AF_BUS_REQUEST_SPIN_US;
        if (!self->spin_us)
            self->spin_us = -1;
    }
    if (self->spin_us > 100000)
        self->spin_us = 100000;
    self->coalesce_max = opts->coalesce > AF_BATCH_MAX_RECORDS ? AF_BATCH_MAX_RECORDS : opts->coalesce;
    /* Each record is held to max_msg_bytes; the frame to what every
     * receiver takes (AF_BATCH_MAX_BYTES). */
    self->coalesce_bytes = AF_BUS_COALESCE_BYTES;
    zmq_msg_init (&self->in);
    self->clock = opts->clock;
    if (!self->clock)
        self->clock = self->own_clock = af_clock_new_real ();
    self->stamper = af_stamper_new (self->source, self->factory);
    self->seqs = af_seqtrack_new ();
    self->pending = zlistx_new ();
    if (self->pending)
        zlistx_set_destructor (self->pending, s_pending_destructor);
    self->next_request_id = 1;
    if (!self->source || !self->factory || !self->clock || !self->stamper || !self->seqs || !self->pending) {
        snprintf (err, err_len, "out of memory");
        af_bus_destroy (&self);
        return NULL;
    }
    return self;
bad_endpoint:
    if (err && err_len)
        snprintf (err, err_len, "broker endpoint '%s' must look like tcp://host:port", broker);
    free (self);
    return NULL;
}

void
af_bus_destroy (af_bus_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    af_bus_t *self = *self_p;
    /* What was published still leaves, within the publisher's linger. */
    int64_t deadline = af_clock_mono_ms () + AF_BUS_PUB_LINGER_MS;
    while (af_bus_flush (self) != 0 && af_clock_mono_ms () < deadline) {
        zmq_pollitem_t item = { zsock_resolve (self->pub), 0, ZMQ_POLLOUT, 0 };
        zmq_poll (&item, 1, 10);
    }
    if (self->out_count) {
        af_warn ("bus: %u published messages could not leave before close (high-water mark)",
                 self->out_count);
        self->counters.publish_failed += self->out_count;
    }
    free (self->out);
    zmq_msg_close (&self->in);
    zsock_destroy (&self->pub);
    zsock_destroy (&self->sub);
    zsock_destroy (&self->dealer);
    for (size_t i = 0; i < self->n_patterns; i++)
        free (self->patterns[i]);
    af_stamper_destroy (&self->stamper);
    af_seqtrack_destroy (&self->seqs);
    zlistx_destroy (&self->pending);
    af_clock_destroy (&self->own_clock);
    free (self->source);
    free (self->factory);
    free (self);
    *self_p = NULL;
}

/* Every socket that faces the network gets a size cap (libzmq's default is
 * unlimited), a deliberate high-water mark and no linger at close. */
static zsock_t *
s_socket (af_bus_t *self, int type, const char *endpoint)
{
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return NULL;
    zsock_set_maxmsgsize (sock, (int) (AF_BATCH_FRAME_CAP (self->max_msg_bytes) + 4096));
    zsock_set_sndhwm (sock, self->hwm);
    zsock_set_rcvhwm (sock, self->hwm);
    zsock_set_linger (sock, 0);
    if (zsock_connect (sock, "%s", endpoint) != 0) {
        af_error ("bus: cannot connect to %s", endpoint);
        zsock_destroy (&sock);
    }
    return sock;
}

/* ------------------------------------------------------------- publishing */

static int
s_pub_open (af_bus_t *self)
{
    if (self->pub)
        return 0;
    if (!self->source[0]) {
        AF_LOG_ONCE (AF_LOG_ERROR, "bus: cannot publish without a source name");
        return -1;
    }
    self->pub = s_socket (self, ZMQ_XPUB, self->ingress);
    /* What was published just before the bus is destroyed still leaves.
     * At the high-water mark an XPUB drops silently; with NODROP the send
     * fails instead (we never block: DONTWAIT), so every drop is counted. */
    if (self->pub) {
        zsock_set_linger (self->pub, AF_BUS_PUB_LINGER_MS);
        zsock_set_xpub_nodrop (self->pub, 1);
    }
    return self->pub ? 0 : -1;
}

/* Reads subscription notices from the broker's XSUB; any means it is there. */
static void
s_pub_drain (af_bus_t *self)
{
    void *handle = zsock_resolve (self->pub);
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (zmq_msg_recv (&msg, handle, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_size (&msg) >= 1 && ((uint8_t *) zmq_msg_data (&msg))[0] == 1)
            self->pub_ready = true;
    }
    zmq_msg_close (&msg);
}

int
af_bus_wait_ready (af_bus_t *self, int timeout_ms)
{
    if (s_pub_open (self) != 0)
        return -1;
    int64_t deadline = af_clock_mono_ms () + timeout_ms;
    while (!self->pub_ready) {
        s_pub_drain (self);
        if (self->pub_ready)
            break;
        int64_t left = deadline - af_clock_mono_ms ();
        if (left <= 0)
            return -1;
        zmq_pollitem_t item = { zsock_resolve (self->pub), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, left) < 0 && errno == EINTR)
            return -1;
    }
    return 0;
}

/* Counts a send that failed (at the high-water mark: EAGAIN, logged once);
 * returns -1 for the caller to pass on. */
static int
s_publish_failed (af_bus_t *self)
{
    self->counters.publish_failed++;
    if (errno == EAGAIN)
        AF_LOG_ONCE (AF_LOG_WARN, "bus: publisher high-water mark reached; dropping (counted as "
                     "publish_failed; logged once)");
    return -1;
}

int
af_bus_publish_frames (af_bus_t *self, const void *const *frames, const size_t *lens, size_t n)
{
    if (s_pub_open (self) != 0)
        return -1;
    if (!self->pub_ready)
        s_pub_drain (self);
    /* Raw frames go after what is already waiting, never before it. */
    if (af_bus_flush (self) != 0)
        return s_publish_failed (self);
    void *handle = zsock_resolve (self->pub);
    for (size_t i = 0; i < n; i++)
        if (zmq_send (handle, frames[i], lens[i], (i + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
            return s_publish_failed (self);
    self->counters.published++;
    return 0;
}

int
af_bus_flush (af_bus_t *self)
{
    if (!self->out_count)
        return 0;
    /* One record goes as a plain envelope: the wire only carries a Batch
     * when it saves frames. */
    const uint8_t *data = self->out;
    size_t len = self->out_len;
    if (self->out_count == 1) {
        data += self->out_first_prefix;
        len -= self->out_first_prefix;
    }
    zmq_msg_t body;
    if (zmq_msg_init_size (&body, len) != 0)
        return -1;
    memcpy (zmq_msg_data (&body), data, len);
    void *handle = zsock_resolve (self->pub);
    if (zmq_send (handle, self->out_topic, self->out_topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_msg_send (&body, handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&body);
        self->counters.flush_failed++;
        return -1;
    }
    if (self->out_count > 1)
        self->counters.batches++;
    self->out_count = 0;
    self->out_len = 0;
    return 0;
}

/* Appends the stamped ENV (LEN bytes packed) to the batch on TOPIC, after
 * sending the batch that is there if it is on another topic or full.
 * 1 appended, 0 too large for a batch (the caller sends it alone, the
 * batch having been sent), -1 the batch could not leave (HWM). */
static int
s_coalesce (af_bus_t *self, const char *topic, size_t topic_len, const Autofab__Envelope *env,
            size_t len)
{
    bool same = self->out_count && topic_len == self->out_topic_len
                && memcmp (topic, self->out_topic, topic_len) == 0;
    size_t need = AF_BATCH_PREFIX_MAX + len;
    if (self->out_count
        && (!same || self->out_count >= self->coalesce_max || self->out_len + need > self->coalesce_bytes)
        && af_bus_flush (self) != 0)
        return -1;
    if (need > self->coalesce_bytes)
        return 0;
    if (!self->out) {
        self->out = malloc (self->coalesce_bytes);
        if (!self->out)
            return 0;
    }
    if (!self->out_count) {
        memcpy (self->out_topic, topic, topic_len);
        self->out_topic_len = topic_len;
    }
    size_t prefix = af_batch_prefix (self->out + self->out_len, len);
    if (!self->out_count)
        self->out_first_prefix = prefix;
    af_envelope_pack (env, self->out + self->out_len + prefix);
    self->out_len += prefix + len;
    self->out_count++;
    return 1;
}

int
af_bus_publish (af_bus_t *self, const char *topic, Autofab__Envelope *env)
{
    size_t topic_len = strlen (topic);
    /* The topic validated last needs no second look. */
    if (!self->valid_topic_len || topic_len != self->valid_topic_len
        || memcmp (topic, self->valid_topic, topic_len) != 0) {
        if (!af_topic_valid (topic, topic_len)) {
            AF_LOG_ONCE (AF_LOG_ERROR, "bus: refusing to publish on invalid topic '%s'", topic);
            self->counters.publish_failed++;
            return -1;
        }
        memcpy (self->valid_topic, topic, topic_len);
        self->valid_topic_len = topic_len;
    }
    if (s_pub_open (self) != 0)
        return -1;
    Autofab__Header hdr;
    uint8_t msg_id[16];
    af_stamper_stamp_topic (self->stamper, env, &hdr, msg_id, af_clock_now_ns (self->clock), topic,
                            topic_len);
    size_t len = af_envelope_packed_size (env);
    if (len > self->max_msg_bytes) {
        env->header = NULL;
        af_stamper_unstamp_topic (self->stamper, topic, topic_len);
        AF_LOG_ONCE (AF_LOG_ERROR, "bus: message on %s is %zu bytes, over the %zu-byte cap",
                     topic, len, self->max_msg_bytes);
        self->counters.publish_failed++;
        return -1;
    }
    if (!self->pub_ready)
        s_pub_drain (self);
    if (self->coalesce_max > 1) {
        int rc = s_coalesce (self, topic, topic_len, env, len);
        if (rc != 0) {
            env->header = NULL;
            if (rc < 0) {
                /* The batch before it is held back: so is this one. */
                af_stamper_unstamp_topic (self->stamper, topic, topic_len);
                return s_publish_failed (self);
            }
            self->counters.published++;
            return 0;
        }
    }
    /* Pack straight into the message ZeroMQ will send: no copy. */
    zmq_msg_t body;
    if (zmq_msg_init_size (&body, len) != 0) {
        env->header = NULL;
        af_stamper_unstamp_topic (self->stamper, topic, topic_len);
        return -1;
    }
    af_envelope_pack (env, zmq_msg_data (&body));
    env->header = NULL;
    void *handle = zsock_resolve (self->pub);
    if (zmq_send (handle, topic, topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_msg_send (&body, handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&body);
        /* Not sent, and the caller is told: the number is free again, so
         * receivers see no gap for a message that never left. */
        af_stamper_unstamp_topic (self->stamper, topic, topic_len);
        return s_publish_failed (self);
    }
    self->counters.published++;
    return 0;
}

int
af_bus_publish_metrics (af_bus_t *self, const char *topic, const Autofab__Metric *metrics, size_t n)
{
    Autofab__Metric *ptrs[n ? n : 1];
    for (size_t i = 0; i < n; i++)
        ptrs[i] = (Autofab__Metric *) &metrics[i];
    Autofab__Telemetry tel = AUTOFAB__TELEMETRY__INIT;
    tel.n_metrics = n;
    tel.metrics = ptrs;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY;
    env.telemetry = &tel;
    return af_bus_publish (self, topic, &env);
}

/* ------------------------------------------------------------ subscribing */

static int
s_sub_open (af_bus_t *self)
{
    if (!self->sub)
        self->sub = s_socket (self, ZMQ_SUB, self->egress);
    return self->sub ? 0 : -1;
}

int
af_bus_subscribe (af_bus_t *self, const char *pattern)
{
    if (!af_topic_pattern_valid (pattern) || self->n_patterns == AF_PATTERNS_MAX)
        return -1;
    if (s_sub_open (self) != 0)
        return -1;
    char prefix[AF_TOPIC_MAX_BYTES];
    af_topic_prefix (pattern, prefix, sizeof prefix);
    zsock_set_subscribe (self->sub, prefix);
    self->patterns[self->n_patterns++] = strdup (pattern);
    return 0;
}

void *
af_bus_sub_handle (af_bus_t *self)
{
    return s_sub_open (self) == 0 ? zsock_resolve (self->sub) : NULL;
}

static bool
s_wanted (af_bus_t *self, const char *topic, size_t len)
{
    for (size_t i = 0; i < self->n_patterns; i++)
        if (af_topic_match (self->patterns[i], topic, len))
            return true;
    return false;
}

/* The decode arena of an af_msg_t: a bump allocator over its buffer that
 * spills over to malloc; freeing arena memory is a no-op. */
static void *
s_arena_alloc (void *data, size_t size)
{
    af_msg_t *msg = data;
    size_t at = (msg->arena_used_ + 15) & ~(size_t) 15;
    if (size <= AF_MSG_ARENA_BYTES && at <= AF_MSG_ARENA_BYTES - size) {
        msg->arena_used_ = at + size;
        return msg->arena_ + at;
    }
    msg->arena_spilled_++;
    return malloc (size);
}

static void
s_arena_free (void *data, void *pointer)
{
    af_msg_t *msg = data;
    unsigned char *p = pointer;
    if (p && !(p >= msg->arena_ && p < msg->arena_ + AF_MSG_ARENA_BYTES))
        free (p);
}

void
af_msg_clear (af_msg_t *msg)
{
    if (!msg)
        return;
    if (msg->env && msg->arena_spilled_) {
        /* Only spilled parts need freeing: walk the message for them. */
        ProtobufCAllocator allocator = { s_arena_alloc, s_arena_free, msg };
        autofab__envelope__free_unpacked (msg->env, &allocator);
    }
    msg->env = NULL;
    msg->arena_used_ = msg->arena_spilled_ = 0;
}

int
af_recv_frames (void *handle, zmq_msg_t *frames, int max)
{
    int count = 0;
    int more = 1;
    while (more) {
        zmq_msg_t *target = count < max ? &frames[count] : NULL;
        zmq_msg_t scratch;
        if (!target) {
            zmq_msg_init (&scratch);
            target = &scratch;
        }
        if (zmq_msg_recv (target, handle, count == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            if (target == &scratch)
                zmq_msg_close (&scratch);
            return count == 0 && errno == EAGAIN ? 0 : (count ? count : -1);
        }
        more = zmq_msg_more (target);
        if (target == &scratch)
            zmq_msg_close (&scratch);
        count++;
    }
    return count;
}

/* Decodes one envelope (BODY, LEN bytes) that came on TOPIC; 1 if returned
 * in MSG, 0 if refused or stale. */
static int
s_accept_one (af_bus_t *self, const char *topic, size_t topic_len, const void *body, size_t len,
              af_msg_t *msg)
{
    Autofab__Envelope *env;
    msg->arena_used_ = msg->arena_spilled_ = 0;
    ProtobufCAllocator allocator = { s_arena_alloc, s_arena_free, msg };
    af_decode_t why = af_envelope_decode_with (body, len, self->max_msg_bytes, &allocator, &env);
    if (why != AF_DECODE_OK) {
        self->counters.refused[why]++;
        AF_LOG_ONCE (AF_LOG_WARN, "bus: refused a message on %.*s: %s", (int) topic_len, topic,
                     af_decode_str (why));
        return 0;
    }
    msg->env = env;
    /* Streams come in runs (a batch is one): skip the lookup for the same
     * stream as last time (entries never move). */
    const char *source = env->header->source;
    size_t source_len = strlen (source);
    af_source_stats_t *stats = self->last_stream;
    if (!stats || stats->source_len != source_len + 1 + topic_len
        || memcmp (stats->source + source_len + 1, topic, topic_len) != 0
        || memcmp (stats->source, source, source_len) != 0 || stats->source[source_len] != AF_STREAM_SEP) {
        char key[AF_STREAM_KEY_MAX];
        size_t key_len = af_stream_key (key, sizeof key, source, source_len, topic, topic_len);
        stats = key_len ? af_seqtrack_get_capped (self->seqs, key, key_len, AF_BUS_MAX_STREAMS) : NULL;
        self->last_stream = stats;
    }
    bool stale = false;
    uint64_t gap = stats ? af_seqtrack_apply (self->seqs, stats, env->header->session, env->header->seq,
                                              len, &stale)
                         : 0;
    if (stale) {
        /* Already seen (a duplicate, or covered by a snapshot): skip it. */
        self->counters.stale++;
        af_msg_clear (msg);
        return 0;
    }
    self->counters.gaps += gap;
    self->counters.received++;
    memcpy (msg->topic, topic, topic_len);
    msg->topic[topic_len] = 0;
    msg->bytes = len;
    msg->gap = gap;
    return 1;
}

/* Hands out the next good record of the batch being read; 1 if one is in
 * MSG, 0 when the batch is done (or the rest of it was refused). */
static int
s_batch_next (af_bus_t *self, af_msg_t *msg)
{
    while (self->in_active) {
        const uint8_t *rec;
        size_t len;
        int rc = af_batch_next (&self->in_it, &rec, &len);
        if (rc == 1) {
            if (s_accept_one (self, self->in_topic, self->in_topic_len, rec, len, msg))
                return 1;
            continue;
        }
        if (rc < 0) {
            self->counters.refused[AF_DECODE_MALFORMED]++;
            AF_LOG_ONCE (AF_LOG_WARN, "bus: refused the rest of a malformed batch on %.*s",
                         (int) self->in_topic_len, self->in_topic);
        }
        zmq_msg_close (&self->in);
        zmq_msg_init (&self->in);
        self->in_active = false;
    }
    return 0;
}

/* Decodes a pub/sub message (an envelope, or a batch of them, which is then
 * handed out one record per call); 1 if returned in MSG, 0 if refused or
 * filtered. */
static int
s_accept (af_bus_t *self, zmq_msg_t *frames, int n, af_msg_t *msg)
{
    if (n != 2) {
        self->counters.bad_frames++;
        AF_LOG_ONCE (AF_LOG_WARN, "bus: refused a message of %d frames (want 2)", n);
        return 0;
    }
    const char *topic = zmq_msg_data (&frames[0]);
    size_t topic_len = zmq_msg_size (&frames[0]);
    if (!af_topic_valid (topic, topic_len)) {
        self->counters.bad_frames++;
        AF_LOG_ONCE (AF_LOG_WARN, "bus: refused a message with an invalid topic");
        return 0;
    }
    if (!s_wanted (self, topic, topic_len))
        return 0;
    const void *body = zmq_msg_data (&frames[1]);
    size_t len = zmq_msg_size (&frames[1]);
    if (!af_batch_is (body, len))
        return s_accept_one (self, topic, topic_len, body, len, msg);
    /* A batch: keep the frame and hand its records out one per call. */
    memcpy (self->in_topic, topic, topic_len);
    self->in_topic_len = topic_len;
    zmq_msg_close (&self->in);
    zmq_msg_init (&self->in);
    zmq_msg_move (&self->in, &frames[1]);
    af_batch_iter_init (&self->in_it, zmq_msg_data (&self->in), zmq_msg_size (&self->in));
    self->in_active = true;
    return s_batch_next (self, msg);
}

bool
af_bus_has_buffered (const af_bus_t *self)
{
    return self->in_active || zlistx_size (self->pending) > 0;
}

int
af_bus_recv (af_bus_t *self, af_msg_t *msg, int timeout_ms)
{
    msg->env = NULL;
    msg->arena_used_ = msg->arena_spilled_ = 0;
    af_bus_flush (self);
    if (s_sub_open (self) != 0)
        return -1;
    void *handle = zsock_resolve (self->sub);
    /* The clock is read only once we may have to wait. */
    int64_t deadline = 0;
    /* First the rest of a batch, then what a snapshot put aside for the
     * other subscriptions. */
    if (s_batch_next (self, msg))
        return 1;
    s_pending_t *p;
    while ((p = zlistx_first (self->pending))) {
        int got = s_accept (self, p->frames, 2, msg);
        zlistx_delete (self->pending, zlistx_cursor (self->pending));
        if (got)
            return 1;
    }
    while (true) {
        zmq_msg_t frames[3];
        for (int i = 0; i < 3; i++)
            zmq_msg_init (&frames[i]);
        int n = af_recv_frames (handle, frames, 3);
        int got = n > 0 ? s_accept (self, frames, n, msg) : 0;
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&frames[i]);
        if (got)
            return 1;
        if (n < 0 && errno == EINTR)
            return -1;
        /* The deadline holds even while unwanted messages keep coming. */
        if (!deadline)
            deadline = timeout_ms >= 0 ? af_clock_mono_ms () + timeout_ms : INT64_MAX;
        int64_t left = deadline - af_clock_mono_ms ();
        if (left <= 0)
            return 0;
        if (n > 0)
            continue;
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, left > INT32_MAX ? -1 : (long) left) < 0 && errno == EINTR)
            return -1;
        if (zsys_interrupted)
            return -1;
    }
}

/* --------------------------------------------------------------- control */

int
af_control_send (void *socket, const void *routing_id, size_t routing_id_len,
                 const Autofab__Control *ctl, const void *body, size_t body_len)
{
    uint8_t stack_buf[512];
    size_t len = autofab__control__get_packed_size (ctl);
    uint8_t *buf = len <= sizeof stack_buf ? stack_buf : malloc (len);
    if (!buf)
        return -1;
    autofab__control__pack (ctl, buf);
    /* Never block: a DEALER with nothing to send to (no connection yet, or
     * ZMQ_IMMEDIATE and the broker away) blocks in zmq_send, which would
     * freeze an agent's loop.  The first frame fails with EAGAIN then; once
     * it is queued, the rest follow. */
    int rc = 0;
    if (routing_id && zmq_send (socket, routing_id, routing_id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        rc = -1;
    if (rc == 0 && zmq_send (socket, AF_CONTROL_TAG, 4, ZMQ_SNDMORE | (routing_id ? 0 : ZMQ_DONTWAIT)) < 0)
        rc = -1;
    if (rc == 0 && zmq_send (socket, buf, len, body ? ZMQ_SNDMORE : 0) < 0)
        rc = -1;
    if (rc == 0 && body && zmq_send (socket, body, body_len, 0) < 0)
        rc = -1;
    if (buf != stack_buf)
        free (buf);
    return rc;
}

/* Sends a control message on the client's DEALER, waiting up to TIMEOUT_MS
 * for the connection when there is none yet.  0 or -1. */
static int
s_control_send_wait (void *dealer, const Autofab__Control *ctl, const void *body, size_t body_len,
                     int timeout_ms)
{
    int64_t deadline = af_clock_mono_ms () + timeout_ms;
    while (af_control_send (dealer, NULL, 0, ctl, body, body_len) != 0) {
        int64_t left = deadline - af_clock_mono_ms ();
        if (errno != EAGAIN || left <= 0 || zsys_interrupted)
            return -1;
        zmq_pollitem_t item = { dealer, 0, ZMQ_POLLOUT, 0 };
        zmq_poll (&item, 1, (long) left);
    }
    return 0;
}

static int
s_dealer_open (af_bus_t *self)
{
    if (!self->dealer) {
        self->dealer = s_socket (self, ZMQ_DEALER, self->control);
        /* Requests go only over a live connection (no stale queue). */
        if (self->dealer)
            zsock_set_immediate (self->dealer, 1);
    }
    return self->dealer ? 0 : -1;
}

/* Waits for a control message accepted by MATCH (other ones, e.g. late
 * replies to an earlier attempt, are dropped).  Returns 1 with *CTL (and
 * *BODY, a zmq_msg the caller closes) set, 0 on timeout, -1 if interrupted. */
typedef bool (s_match_fn) (const Autofab__Control *ctl, uint64_t id);

static int
s_control_wait (af_bus_t *self, s_match_fn *match, uint64_t id, int timeout_ms,
                Autofab__Control **ctl, zmq_msg_t *body)
{
    void *handle = zsock_resolve (self->dealer);
    int64_t deadline = af_clock_mono_ms () + timeout_ms;
    bool spun = false;
    while (true) {
        zmq_msg_t frames[3];
        for (int i = 0; i < 3; i++)
            zmq_msg_init (&frames[i]);
        int n = af_recv_frames (handle, frames, 3);
        if (n >= 2 && n <= 3 && zmq_msg_size (&frames[0]) == 4
            && memcmp (zmq_msg_data (&frames[0]), AF_CONTROL_TAG, 4) == 0) {
            Autofab__Control *c;
            if (af_control_decode (zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]),
                                   self->max_msg_bytes, &c) == AF_DECODE_OK) {
                if (match (c, id)) {
                    *ctl = c;
                    zmq_msg_move (body, &frames[2]);
                    for (int i = 0; i < 3; i++)
                        zmq_msg_close (&frames[i]);
                    return 1;
                }
                autofab__control__free_unpacked (c, NULL);
            }
            else
                self->counters.refused[AF_DECODE_MALFORMED]++;
        }
        else if (n > 0)
            self->counters.bad_frames++;
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&frames[i]);
        int64_t left = deadline - af_clock_mono_ms ();
        if (left <= 0)
            return 0;
        if (n > 0)
            continue;
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        /* Poll a little before sleeping: the answer is usually near. */
        if (!spun && self->spin_us > 0) {
            spun = true;
            int64_t until = zclock_usecs () + (left * 1000 < self->spin_us ? left * 1000 : self->spin_us);
            while (zmq_poll (&item, 1, 0) == 0 && zclock_usecs () < until && !zsys_interrupted)
                ;
            if (zsys_interrupted)
                return -1;
            if (item.revents & ZMQ_POLLIN)
                continue;
            left = deadline - af_clock_mono_ms ();
            if (left <= 0)
                return 0;
        }
        if ((zmq_poll (&item, 1, (long) left) < 0 && errno == EINTR) || zsys_interrupted)
            return -1;
    }
}

/* The reply for this call: ID packs the first and the current attempt's
 * request ids (32 bits each).  An answer to any attempt is taken — the same
 * command was re-sent with the same msg_id — except the broker's timeout of
 * an earlier attempt, which says nothing about the current one. */
static bool
s_is_reply (const Autofab__Control *ctl, uint64_t id)
{
    uint64_t first = id >> 32, current = id & 0xffffffffu;
    if (ctl->msg_case != AUTOFAB__CONTROL__MSG_REPLY)
        return false;
    uint64_t got = ctl->reply->request_id & 0xffffffffu;
    if (got < first || got > current)
        return false;
    return !(got != current && ctl->reply->status == AUTOFAB__STATUS__STATUS_TIMEOUT);
}

int
af_bus_request (af_bus_t *self, const char *service, Autofab__Envelope *req, int timeout_ms,
                int retries, Autofab__Envelope **reply, char *err, size_t err_len)
{
    *reply = NULL;
    af_bus_flush (self);
    if (s_dealer_open (self) != 0) {
        snprintf (err, err_len, "cannot connect to %s", self->control);
        return AUTOFAB__STATUS__STATUS_UNAVAILABLE;
    }
    Autofab__Header hdr;
    uint8_t msg_id[16];
    af_stamper_stamp (self->stamper, req, &hdr, msg_id, af_clock_now_ns (self->clock));
    size_t body_len;
    uint8_t *body = af_envelope_encode (req, self->max_msg_bytes, &body_len);
    req->header = NULL;
    if (!body) {
        snprintf (err, err_len, "request too large (cap %zu bytes)", self->max_msg_bytes);
        return AUTOFAB__STATUS__STATUS_TOO_LARGE;
    }
    Autofab__Request rq = AUTOFAB__REQUEST__INIT;
    rq.service = (char *) service;
    rq.timeout_ms = (uint32_t) timeout_ms;
    /* Request ids of one call must fit in 32 bits each (see s_is_reply). */
    if (self->next_request_id + (uint64_t) retries + 1 > 0xffffffffu)
        self->next_request_id = 1;
    uint64_t first_id = self->next_request_id;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_REQUEST;
    ctl.request = &rq;
    int status = AUTOFAB__STATUS__STATUS_TIMEOUT;
    snprintf (err, err_len, "no answer from the broker at %s within %d ms", self->control,
              timeout_ms);
    self->counters.requests++;
    for (int attempt = 0; attempt <= retries; attempt++) {
        if (attempt)
            self->counters.request_retries++;
        /* A fresh id per attempt, so that the broker's answer to an earlier
         * attempt is told apart from the answer to this one. */
        rq.request_id = self->next_request_id++;
        if (s_control_send_wait (zsock_resolve (self->dealer), &ctl, body, body_len, timeout_ms) != 0)
            continue;
        Autofab__Control *answer;
        zmq_msg_t answer_body;
        zmq_msg_init (&answer_body);
        int rc = s_control_wait (self, s_is_reply, first_id << 32 | rq.request_id, timeout_ms, &answer,
                                 &answer_body);
        if (rc < 0) {
            snprintf (err, err_len, "interrupted");
            zmq_msg_close (&answer_body);
            status = AUTOFAB__STATUS__STATUS_UNAVAILABLE;
            break;
        }
        if (rc == 0) {
            zmq_msg_close (&answer_body);
            continue;
        }
        status = answer->reply->status;
        if (status == 0) {
            err[0] = 0;
            if (zmq_msg_size (&answer_body)) {
                af_decode_t why = af_envelope_decode (zmq_msg_data (&answer_body),
                                                      zmq_msg_size (&answer_body),
                                                      self->max_msg_bytes, reply);
                if (why != AF_DECODE_OK) {
                    status = AUTOFAB__STATUS__STATUS_BAD_REQUEST;
                    snprintf (err, err_len, "reply refused: %s", af_decode_str (why));
                }
            }
        }
        else
            snprintf (err, err_len, "%s", answer->reply->error ? answer->reply->error : "error");
        autofab__control__free_unpacked (answer, NULL);
        zmq_msg_close (&answer_body);
        break;
    }
    if (status == AUTOFAB__STATUS__STATUS_TIMEOUT)
        self->counters.request_timeouts++;
    free (body);
    return status;
}

static bool
s_is_case (const Autofab__Control *ctl, uint64_t wanted_case)
{
    return (uint64_t) ctl->msg_case == wanted_case;
}

/* One control exchange without a request id (list, stats). */
static int
s_control_call (af_bus_t *self, Autofab__Control *ctl, int wanted_case, int timeout_ms,
                Autofab__Control **out)
{
    *out = NULL;
    af_bus_flush (self);
    if (s_dealer_open (self) != 0)
        return -1;
    int64_t start = af_clock_mono_ms ();
    if (s_control_send_wait (zsock_resolve (self->dealer), ctl, NULL, 0, timeout_ms) != 0)
        return -1;
    timeout_ms -= (int) (af_clock_mono_ms () - start);
    if (timeout_ms < 1)
        timeout_ms = 1;
    zmq_msg_t body;
    zmq_msg_init (&body);
    int rc = s_control_wait (self, s_is_case, (uint64_t) wanted_case, timeout_ms, out, &body);
    zmq_msg_close (&body);
    return rc == 1 ? 0 : -1;
}

int
af_bus_list (af_bus_t *self, Autofab__Control **out, int timeout_ms)
{
    Autofab__ListRequest lr = AUTOFAB__LIST_REQUEST__INIT;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_LIST_REQUEST;
    ctl.list_request = &lr;
    return s_control_call (self, &ctl, AUTOFAB__CONTROL__MSG_LIST_REPLY, timeout_ms, out);
}

static bool
s_is_stats_reply (const Autofab__Control *ctl, uint64_t id)
{
    return ctl->msg_case == AUTOFAB__CONTROL__MSG_STATS_REPLY && ctl->stats_reply->request_id == id;
}

/* Stats carry a request id: after a timeout (a broker outage), the late
 * reply to the earlier call is dropped, never shown as current. */
int
af_bus_stats (af_bus_t *self, Autofab__Control **out, int timeout_ms)
{
    *out = NULL;
    af_bus_flush (self);
    if (s_dealer_open (self) != 0)
        return -1;
    Autofab__StatsRequest sr = AUTOFAB__STATS_REQUEST__INIT;
    sr.request_id = self->next_request_id++;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_STATS_REQUEST;
    ctl.stats_request = &sr;
    int64_t start = af_clock_mono_ms ();
    if (s_control_send_wait (zsock_resolve (self->dealer), &ctl, NULL, 0, timeout_ms) != 0)
        return -1;
    timeout_ms -= (int) (af_clock_mono_ms () - start);
    zmq_msg_t body;
    zmq_msg_init (&body);
    int rc = s_control_wait (self, s_is_stats_reply, sr.request_id, timeout_ms < 1 ? 1 : timeout_ms,
                             out, &body);
    zmq_msg_close (&body);
    return rc == 1 ? 0 : -1;
}

/* ------------------------------------------------------------- snapshots */

static bool
s_is_snapshot_part (const Autofab__Control *ctl, uint64_t id)
{
    return (ctl->msg_case == AUTOFAB__CONTROL__MSG_SNAPSHOT_ITEM && ctl->snapshot_item->request_id == id)
           || (ctl->msg_case == AUTOFAB__CONTROL__MSG_SNAPSHOT_END && ctl->snapshot_end->request_id == id);
}

/* Reads the subscriber until the marker arrives.  What came before it on
 * PATTERN is already in the snapshot: its sequence is noted (so gaps count
 * from there) and it is dropped.  Anything else is another subscription's
 * and is kept for af_bus_recv.  1 found, 0 not within TIMEOUT_MS. */
static int
s_skip_to_marker (af_bus_t *self, const char *marker, const char *pattern, int timeout_ms)
{
    void *handle = zsock_resolve (self->sub);
    int64_t deadline = af_clock_mono_ms () + timeout_ms;
    size_t marker_len = strlen (marker);
    while (true) {
        zmq_msg_t frames[3];
        for (int i = 0; i < 3; i++)
            zmq_msg_init (&frames[i]);
        int n = af_recv_frames (handle, frames, 3);
        const char *topic = n >= 1 ? zmq_msg_data (&frames[0]) : NULL;
        size_t topic_len = n >= 1 ? zmq_msg_size (&frames[0]) : 0;
        bool is_marker = n >= 1 && topic_len == marker_len && memcmp (topic, marker, marker_len) == 0;
        if (n == 2 && !is_marker && af_topic_match (pattern, topic, topic_len)) {
            /* An envelope, or every record of a batch. */
            af_batch_iter_t it;
            af_body_iter_init (&it, zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]));
            const uint8_t *body;
            size_t len;
            while (af_batch_next (&it, &body, &len) == 1) {
                af_peek_t peek;
                char key[AF_STREAM_KEY_MAX];
                size_t key_len = 0;
                if (af_envelope_peek (body, len, &peek) == AF_DECODE_OK)
                    key_len = af_stream_key (key, sizeof key, peek.source, peek.source_len, topic,
                                             topic_len);
                af_source_stats_t *stream = key_len ? af_seqtrack_get_capped (self->seqs, key, key_len,
                                                                              AF_BUS_MAX_STREAMS) : NULL;
                if (stream)
                    af_seqtrack_apply (self->seqs, stream, peek.session, peek.seq, len, NULL);
            }
        }
        else if (n == 2 && !is_marker) {
            s_pending_t *p = malloc (sizeof *p);
            if (p) {
                zmq_msg_init (&p->frames[0]);
                zmq_msg_init (&p->frames[1]);
                zmq_msg_move (&p->frames[0], &frames[0]);
                zmq_msg_move (&p->frames[1], &frames[1]);
                zlistx_add_end (self->pending, p);
            }
        }
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&frames[i]);
        if (is_marker)
            return 1;
        int64_t left = deadline - af_clock_mono_ms ();
        if (left <= 0 || zsys_interrupted)
            return 0;
        if (n > 0)
            continue;
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, (long) left);
    }
}

int
af_bus_snapshot (af_bus_t *self, const char *prefix, af_snapshot_fn *fn, void *arg, int timeout_ms)
{
    /* "" means everything; "tel.f1" the topic and everything under it. */
    char pattern[AF_TOPIC_MAX_BYTES + 2];
    snprintf (pattern, sizeof pattern, "%s%s", prefix, prefix[0] ? "" : ">");
    af_bus_flush (self);
    if (af_bus_subscribe (self, pattern) != 0)
        return -1;
    if (s_dealer_open (self) != 0)
        return -1;
    char marker[64];
    snprintf (marker, sizeof marker, "sys.snapshot.m%08x%08x", randombytes_random (),
              randombytes_random ());
    zsock_set_subscribe (self->sub, marker);
    int64_t deadline = af_clock_mono_ms () + timeout_ms;
    int result = -1;
    while (af_clock_mono_ms () < deadline && !zsys_interrupted) {
        Autofab__SnapshotRequest sr = AUTOFAB__SNAPSHOT_REQUEST__INIT;
        sr.prefix = (char *) prefix;
        sr.request_id = self->next_request_id++;
        sr.marker_topic = marker;
        Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
        ctl.msg_case = AUTOFAB__CONTROL__MSG_SNAPSHOT_REQUEST;
        ctl.snapshot_request = &sr;
        int left_ms = (int) (deadline - af_clock_mono_ms ());
        if (left_ms <= 0 || s_control_send_wait (zsock_resolve (self->dealer), &ctl, NULL, 0, left_ms) != 0)
            break;
        /* Collect the items; hand them to FN only once the cut is known good. */
        zlistx_t *items = zlistx_new ();
        zlistx_set_destructor (items, (czmq_destructor *) zstr_free);
        int count = 0;
        bool ended = false;
        uint32_t items_seen = 0, expected_items = 0;
        while (!ended) {
            Autofab__Control *part;
            zmq_msg_t body;
            zmq_msg_init (&body);
            int left = (int) (deadline - af_clock_mono_ms ());
            if (left <= 0
                || s_control_wait (self, s_is_snapshot_part, sr.request_id, left, &part, &body) != 1) {
                zmq_msg_close (&body);
                break;
            }
            if (part->msg_case == AUTOFAB__CONTROL__MSG_SNAPSHOT_END) {
                ended = true;
                expected_items = part->snapshot_end->count;
            }
            else if (++items_seen && zmq_msg_size (&body) && af_topic_valid (part->snapshot_item->topic,
                                                              strlen (part->snapshot_item->topic))) {
                /* Keep topic and body together as "topic\0<len bytes>". */
                size_t tlen = strlen (part->snapshot_item->topic);
                size_t blen = zmq_msg_size (&body);
                char *rec = malloc (tlen + 1 + sizeof (size_t) + blen);
                if (rec) {
                    memcpy (rec, part->snapshot_item->topic, tlen + 1);
                    memcpy (rec + tlen + 1, &blen, sizeof blen);
                    memcpy (rec + tlen + 1 + sizeof blen, zmq_msg_data (&body), blen);
                    zlistx_add_end (items, rec);
                }
            }
            autofab__control__free_unpacked (part, NULL);
            zmq_msg_close (&body);
        }
        int marker_wait = (int) (deadline - af_clock_mono_ms ());
        if (marker_wait > AF_SNAPSHOT_MARKER_MS)
            marker_wait = AF_SNAPSHOT_MARKER_MS;
        /* Complete only if every item came (the broker's ROUTER drops at
         * its high-water mark) and the cut is known (the marker came). */
        bool complete = ended && items_seen == expected_items;
        if (complete && s_skip_to_marker (self, marker, pattern, marker_wait > 0 ? marker_wait : 1) == 1) {
            for (char *rec = zlistx_first (items); rec; rec = zlistx_next (items)) {
                size_t tlen = strlen (rec), blen;
                memcpy (&blen, rec + tlen + 1, sizeof blen);
                Autofab__Envelope *env;
                const uint8_t *data = (const uint8_t *) rec + tlen + 1 + sizeof blen;
                if (af_envelope_decode (data, blen, self->max_msg_bytes, &env) != AF_DECODE_OK)
                    continue;
                char key[AF_STREAM_KEY_MAX];
                size_t key_len = af_stream_key (key, sizeof key, env->header->source,
                                                strlen (env->header->source), rec, tlen);
                if (key_len)
                    af_seqtrack_note (self->seqs, key, key_len, env->header->session, env->header->seq,
                                      blen, NULL);
                if (fn)
                    fn (rec, env, arg);
                autofab__envelope__free_unpacked (env, NULL);
                count++;
            }
            result = count;
            zlistx_destroy (&items);
            break;
        }
        zlistx_destroy (&items);
        /* Items were lost, or the marker did not come (our subscription was
         * not active yet when the broker cut the snapshot): ask again. */
    }
    zsock_set_unsubscribe (self->sub, marker);
    return result;
}

const af_bus_counters_t *af_bus_counters (const af_bus_t *self) { return &self->counters; }
af_clock_t *af_bus_clock (af_bus_t *self) { return self->clock; }
const char *af_bus_factory (const af_bus_t *self) { return self->factory; }
const char *af_bus_source (const af_bus_t *self) { return self->source; }
