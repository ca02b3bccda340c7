/*  bus_bench — one role of the bus benchmark (DESIGN §2, §8).
 *
 *  Each invocation plays one role (pub, sub, req, rep, or a bare zmq_proxy
 *  relay) against one system (autofab, zmq, nats, mqtt) so that bench/bus.sh
 *  can run publisher, server and subscriber as separate processes, as a real
 *  deployment would.  Every system carries the same workload: a 256-byte
 *  encoded autofab Envelope with a Telemetry payload.  Results are printed
 *  as key=value lines on stdout for the script to collect; diagnostics go to
 *  stderr.
 *
 *  Raw libzmq sockets rather than CZMQ's on purpose: the zmq rows measure
 *  libzmq itself, and the autofab worker is the thinnest possible speaker of
 *  the control protocol, so that its row measures the broker and af_bus.
 *
 *    bus_bench sub  --system S --endpoint E --count N [--bind]
 *    bus_bench pub  --system S --endpoint E --count N [--bind]
 *    bus_bench rep  --system S --endpoint E
 *    bus_bench req  --system S --endpoint E --count N [--warmup W]
 *    bus_bench proxy --endpoint XSUB --xpub XPUB
 *    bus_bench stats --endpoint E   the autofab broker's counters
 *    bus_bench size      prints the encoded message size
 */
#include <czmq.h>
#include <mosquitto.h>
#include <nats/nats.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "af_agent.h"
#include "af_bus.h"
#include "af_codec.h"
#include "af_log.h"

/* The workload: every message is exactly this many encoded bytes. */
#define BENCH_MSG_BYTES 256
/* Topics (autofab/zmq/NATS spelling, and MQTT's). */
#define BENCH_TOPIC "tel.bench.cell1.pub.metrics"
#define BENCH_TOPIC_MQTT "tel/bench/cell1/pub/metrics"
#define BENCH_SERVICE "bench.echo"
#define BENCH_REQ_MQTT "bench/req"
#define BENCH_REP_MQTT "bench/rep"
#define BENCH_SOURCE "bench-pub"
#define BENCH_FACTORY "bench"
/* The same high-water mark as autofab's client, for every ZeroMQ socket, so
 * that raw ZeroMQ and autofab differ only by the broker in between. */
#define BENCH_HWM AF_DEFAULT_HWM
/* A subscriber stops this long after its last message (loss is then what
 * never came), or if nothing at all arrives within the start timeout. */
#define BENCH_IDLE_MS 2000
#define BENCH_START_TIMEOUT_MS 30000
/* Hard cap on any role's run time: loops are bounded in time as well. */
#define BENCH_MAX_RUN_MS 300000
/* How long a request waits for its reply before it counts as failed. */
#define BENCH_REQUEST_TIMEOUT_MS 1000
/* Time for a ZeroMQ subscription to reach a publisher that cannot see it. */
#define BENCH_SETTLE_MS 500
#define BENCH_HEARTBEAT_MS 1000
/* Attempts (1 ms apart) to publish one message past a full high-water mark. */
#define BENCH_PUBLISH_TRIES 5000

typedef struct {
    const char *role, *system, *endpoint, *xpub;
    const char *dump;        /* req: append every round trip (ns) to this file */
    bool bind;
    long count, warmup;
} bench_opts_t;

/* What a subscriber saw. */
typedef struct {
    uint64_t count, bytes;
    int64_t first_ns, last_ns;
    uint64_t dropped;        /* drops the client library itself reports */
} bench_sub_t;

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
    nanosleep (&ts, NULL);
}

/* Splits "scheme://host:port" into HOST and PORT; 0 or -1. */
static int
s_host_port (const char *endpoint, char *host, size_t host_len, int *port)
{
    const char *start = strstr (endpoint, "://");
    start = start ? start + 3 : endpoint;
    const char *colon = strrchr (start, ':');
    if (!colon || (size_t) (colon - start) >= host_len)
        return -1;
    memcpy (host, start, (size_t) (colon - start));
    host[colon - start] = 0;
    *port = atoi (colon + 1);
    return *port > 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- payload */

/* The telemetry message every system carries.  The header is filled by
 * af_bus_publish for autofab, and with fixed reference values for the
 * byte string the peers send. */
typedef struct {
    Autofab__Envelope env;
    Autofab__Telemetry tel;
    Autofab__Metric metric;
    Autofab__Metric *metrics[1];
    char unit[BENCH_MSG_BYTES];
} bench_payload_t;

static void
s_payload_init (bench_payload_t *self, size_t pad)
{
    autofab__envelope__init (&self->env);
    autofab__telemetry__init (&self->tel);
    autofab__metric__init (&self->metric);
    memset (self->unit, 'x', pad);
    self->unit[pad] = 0;
    self->metric.name = "vibration_rms_mm_s";
    self->metric.value = 3.14159;
    self->metric.unit = self->unit;
    self->metrics[0] = &self->metric;
    self->tel.n_metrics = 1;
    self->tel.metrics = self->metrics;
    self->env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY;
    self->env.telemetry = &self->tel;
}

/* A header like the one af_bus_publish writes in the middle of a 2 M run:
 * a 3-byte sequence number, a 5-byte session, a current nanosecond time.
 * Real headers differ from it by at most a byte or two (sequence numbers
 * below 16 384, sessions below 2^28); the subscriber reports the mean size
 * it actually received. */
static void
s_reference_header (Autofab__Header *hdr, uint8_t msg_id[16])
{
    autofab__header__init (hdr);
    memset (msg_id, 0xa5, 16);
    hdr->msg_id.data = msg_id;
    hdr->msg_id.len = 16;
    hdr->source = BENCH_SOURCE;
    hdr->seq = 1000000;
    hdr->t_ns = 1790000000000000000ull;
    hdr->factory = BENCH_FACTORY;
    hdr->schema = AF_SCHEMA_VERSION;
    hdr->session = 0xf1234567u;
}

/* Pads SELF so that it encodes to exactly BENCH_MSG_BYTES with the reference
 * header, and writes those bytes to OUT (the peers' message).  0 or -1. */
static int
s_payload_build (bench_payload_t *self, uint8_t out[BENCH_MSG_BYTES])
{
    Autofab__Header hdr;
    uint8_t msg_id[16];
    s_reference_header (&hdr, msg_id);
    for (size_t pad = 0; pad < BENCH_MSG_BYTES; pad++) {
        s_payload_init (self, pad);
        self->env.header = &hdr;
        size_t len = autofab__envelope__get_packed_size (&self->env);
        if (len == BENCH_MSG_BYTES) {
            autofab__envelope__pack (&self->env, out);
            self->env.header = NULL;
            return 0;
        }
    }
    return -1;
}

/* CPU time this process has used, all threads, ns. */
static int64_t
s_cpu_ns (void)
{
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    return ((int64_t) ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000
           + ((int64_t) ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static int
s_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of SORTED (N values), in µs. */
static double
s_pct_us (const int64_t *sorted, long n, double p)
{
    long rank = (long) (p / 100.0 * (double) n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double) sorted[rank - 1] / 1000.0;
}

static void
s_sub_note (bench_sub_t *st, size_t bytes)
{
    int64_t now = s_now_ns ();
    if (!st->count)
        st->first_ns = now;
    st->last_ns = now;
    st->count++;
    st->bytes += bytes;
}

/* True while a subscriber should keep reading. */
static bool
s_sub_going (const bench_sub_t *st, long want, int64_t start_ns)
{
    int64_t now = s_now_ns ();
    if (s_stop || (long) st->count >= want || now - start_ns > (int64_t) BENCH_MAX_RUN_MS * 1000000)
        return false;
    if (!st->count)
        return now - start_ns < (int64_t) BENCH_START_TIMEOUT_MS * 1000000;
    return now - st->last_ns < (int64_t) BENCH_IDLE_MS * 1000000;
}

static void
s_sub_report (const bench_sub_t *st)
{
    printf ("received=%llu\nbytes=%llu\nelapsed_ns=%lld\nclient_dropped=%llu\n",
            (unsigned long long) st->count, (unsigned long long) st->bytes,
            (long long) (st->count > 1 ? st->last_ns - st->first_ns : 0),
            (unsigned long long) st->dropped);
}

static void
s_ready (void)
{
    printf ("ready\n");
    fflush (stdout);
}

/* Requests: warm up, then time COUNT sequential round trips of CALL. */
typedef int (bench_call_fn) (void *ctx);

static int
s_req_run (const bench_opts_t *opts, bench_call_fn *call, void *ctx)
{
    int64_t *lat = malloc (sizeof (int64_t) * (size_t) (opts->count ? opts->count : 1));
    if (!lat)
        return 1;
    long failed = 0, n = 0;
    int64_t deadline = s_now_ns () + (int64_t) BENCH_MAX_RUN_MS * 1000000;
    for (long i = 0; i < opts->warmup && !s_stop && s_now_ns () < deadline; i++)
        failed += call (ctx) != 0;
    if (failed == opts->warmup && opts->warmup) {
        fprintf (stderr, "bus_bench: every warm-up request failed\n");
        free (lat);
        return 1;
    }
    failed = 0;
    for (long i = 0; i < opts->count && !s_stop && s_now_ns () < deadline; i++) {
        int64_t t0 = s_now_ns ();
        if (call (ctx) != 0) {
            failed++;
            continue;
        }
        lat[n++] = s_now_ns () - t0;
    }
    /* Raw round trips for bus.sh, which pools runs taken in turns. */
    FILE *dump = opts->dump ? fopen (opts->dump, "a") : NULL;
    if (opts->dump && !dump)
        fprintf (stderr, "bus_bench: cannot append to %s\n", opts->dump);
    for (long i = 0; dump && i < n; i++)
        fprintf (dump, "%lld\n", (long long) lat[i]);
    if (dump)
        fclose (dump);
    qsort (lat, (size_t) n, sizeof *lat, s_cmp_i64);
    printf ("requests=%ld\nfailed=%ld\n", n, failed);
    if (n)
        printf ("p50_us=%.2f\np99_us=%.2f\np999_us=%.2f\n", s_pct_us (lat, n, 50),
                s_pct_us (lat, n, 99), s_pct_us (lat, n, 99.9));
    free (lat);
    return n ? 0 : 1;
}

/* ---------------------------------------------------------------- autofab */

static af_bus_t *
s_af_bus (const bench_opts_t *opts, const char *source, unsigned coalesce)
{
    char err[256] = "";
    af_bus_opts_t bo = { .broker = opts->endpoint, .source = source, .factory = BENCH_FACTORY,
                         .coalesce = coalesce };
    af_bus_t *bus = af_bus_new (&bo, err, sizeof err);
    if (!bus)
        fprintf (stderr, "bus_bench: %s\n", err);
    return bus;
}

static int
s_af_pub (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) bytes;
    /* Publishes as an agent does: coalescing what one turn publishes on a
     * topic (af_agent's setting), flushed at the end. */
    af_bus_t *bus = s_af_bus (opts, BENCH_SOURCE, AF_BUS_COALESCE);
    if (!bus)
        return 1;
    if (af_bus_wait_ready (bus, 5000) != 0) {
        fprintf (stderr, "bus_bench: broker ingress never subscribed\n");
        af_bus_destroy (&bus);
        return 1;
    }
    long failed = 0, waits = 0;
    int64_t t0 = s_now_ns ();
    for (long i = 0; i < opts->count && !s_stop; i++) {
        /* At the high-water mark af_bus_publish fails (XPUB_NODROP) rather
         * than blocking: wait and publish again, as the raw ZeroMQ publisher
         * does, so that no publisher wins by dropping.  The topic and size
         * are valid, so a failure here is the high-water mark; give up on a
         * message only if the broker stops reading for seconds. */
        int tries = 0;
        while (af_bus_publish (bus, BENCH_TOPIC, &payload->env) != 0 && !s_stop) {
            if (++tries > BENCH_PUBLISH_TRIES) {
                failed++;
                break;
            }
            waits++;
            s_sleep_ms (1);
        }
    }
    for (int tries = 0; af_bus_flush (bus) != 0 && tries < BENCH_PUBLISH_TRIES; tries++, waits++)
        s_sleep_ms (1);
    int64_t t1 = s_now_ns ();
    printf ("sent=%ld\nfailed=%ld\nelapsed_ns=%lld\nhwm_waits=%ld\n", opts->count - failed, failed,
            (long long) (t1 - t0), waits);
    /* Give ZeroMQ's I/O thread time to flush before the socket closes. */
    s_sleep_ms (500);
    af_bus_destroy (&bus);
    return 0;
}

static int
s_af_sub (const bench_opts_t *opts)
{
    af_bus_t *bus = s_af_bus (opts, "bench-sub", 0);
    if (!bus || af_bus_subscribe (bus, BENCH_TOPIC) != 0)
        return 1;
    /* The subscription has to travel to the broker's XPUB before the
     * publisher starts; there is no acknowledgement to wait for. */
    s_sleep_ms (BENCH_SETTLE_MS);
    s_ready ();
    bench_sub_t st = { 0 };
    int64_t start = s_now_ns ();
    while (s_sub_going (&st, opts->count, start)) {
        af_msg_t msg;
        int rc = af_bus_recv (bus, &msg, 100);
        if (rc < 0)
            break;
        if (rc == 1) {
            s_sub_note (&st, msg.bytes);
            af_msg_clear (&msg);
        }
    }
    st.dropped = af_bus_counters (bus)->gaps;
    s_sub_report (&st);
    af_bus_destroy (&bus);
    return 0;
}

static int
s_af_call (void *ctx)
{
    void **args = ctx;
    af_bus_t *bus = args[0];
    bench_payload_t *payload = args[1];
    Autofab__Envelope *reply = NULL;
    char err[256];
    int rc = af_bus_request (bus, BENCH_SERVICE, &payload->env, BENCH_REQUEST_TIMEOUT_MS, 0,
                             &reply, err, sizeof err);
    if (rc != 0)
        AF_LOG_ONCE (AF_LOG_WARN, "bus_bench: request failed: %s", err);
    if (reply)
        autofab__envelope__free_unpacked (reply, NULL);
    return rc;
}

static int
s_af_req (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) bytes;
    af_bus_t *bus = s_af_bus (opts, "bench-req", 0);
    if (!bus)
        return 1;
    void *args[2] = { bus, payload };
    int rc = s_req_run (opts, s_af_call, args);
    af_bus_destroy (&bus);
    return rc;
}

/* Prints the broker's counters (relayed, gaps, send failures …) so that a
 * run's loss can be placed: before the broker, or after it. */
static int
s_af_stats (const bench_opts_t *opts)
{
    af_bus_t *bus = s_af_bus (opts, "bench-stats", 0);
    Autofab__Control *out = NULL;
    if (!bus || af_bus_stats (bus, &out, 2000) != 0) {
        fprintf (stderr, "bus_bench: no stats from %s\n", opts->endpoint);
        af_bus_destroy (&bus);
        return 1;
    }
    for (size_t i = 0; i < out->stats_reply->n_counters; i++)
        printf ("broker_%s=%llu\n", out->stats_reply->counters[i]->name,
                (unsigned long long) out->stats_reply->counters[i]->value);
    autofab__control__free_unpacked (out, NULL);
    af_bus_destroy (&bus);
    return 0;
}

/* The echo service: the reply carries the request's telemetry back as a
 * typed body, so replies are as large as requests (256 bytes). */
static int
s_af_echo (af_agent_t *agent, const Autofab__Envelope *request, af_reply_t *reply, void *arg)
{
    (void) agent, (void) arg;
    if (request->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY)
        return 0;
    uint8_t buf[BENCH_MSG_BYTES * 2];
    size_t len = autofab__telemetry__get_packed_size (request->telemetry);
    if (len <= sizeof buf)
        af_reply_typed (reply, "autofab.Telemetry", buf, autofab__telemetry__pack (request->telemetry, buf));
    return 0;
}

/* The worker: a real agent (af_agent) that registers the echo service. */
static int
s_af_rep (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload, (void) bytes;
    af_agent_opts_t agent_opts = { .name = "bench-worker", .kind = "bench", .cell = "cell1",
                                   .factory = BENCH_FACTORY, .broker = opts->endpoint,
                                   .heartbeat_ms = BENCH_HEARTBEAT_MS };
    char err[256];
    af_agent_t *agent = af_agent_new (&agent_opts, err, sizeof err);
    if (!agent || af_agent_service (agent, BENCH_SERVICE, s_af_echo, NULL) != 0) {
        fprintf (stderr, "bus_bench: %s\n", agent ? "cannot offer the echo service" : err);
        af_agent_destroy (&agent);
        return 1;
    }
    int rc = 0;
    if (af_agent_wait_registered (agent, 5000) != 0) {
        fprintf (stderr, "bus_bench: broker did not answer the registration\n");
        rc = 1;
    }
    else {
        s_ready ();
        int64_t start = s_now_ns ();
        while (!s_stop && s_now_ns () - start < (int64_t) BENCH_MAX_RUN_MS * 1000000
               && af_agent_iterate (agent, 100) == 0)
            ;
    }
    af_agent_destroy (&agent);
    return rc;
}

/* ------------------------------------------------------------- raw libzmq */

static void *
s_zmq_socket (void *ctx, int type, const char *endpoint, bool bind)
{
    void *sock = zmq_socket (ctx, type);
    int hwm = BENCH_HWM, zero = 0;
    zmq_setsockopt (sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero);
    int rc = bind ? zmq_bind (sock, endpoint) : zmq_connect (sock, endpoint);
    if (rc != 0) {
        fprintf (stderr, "bus_bench: cannot %s %s: %s\n", bind ? "bind" : "connect", endpoint,
                 zmq_strerror (errno));
        zmq_close (sock);
        return NULL;
    }
    return sock;
}

/* Waits (at most 5 s) for the first subscription to reach PUB (an XPUB):
 * from then on nothing it sends is lost for want of a subscriber. */
static int
s_zmq_wait_subscriber (void *pub)
{
    zmq_pollitem_t item = { pub, 0, ZMQ_POLLIN, 0 };
    uint8_t buf[256];
    int64_t deadline = s_now_ns () + 5000000000ll;
    while (!s_stop && s_now_ns () < deadline) {
        if (zmq_poll (&item, 1, 100) > 0 && zmq_recv (pub, buf, sizeof buf, ZMQ_DONTWAIT) >= 1
            && buf[0] == 1)
            return 0;
    }
    return -1;
}

/* Publishes the same two frames autofab does: [topic][envelope].  The
 * socket is an XPUB with XPUB_NODROP, i.e. a PUB that waits at the
 * high-water mark instead of dropping, so that the raw ZeroMQ rows measure
 * the lossless limit rather than how fast a publisher can throw messages
 * away (which, on two cores, also starves the subscriber). */
static int
s_zmq_pub (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload;
    void *ctx = zmq_ctx_new ();
    void *pub = s_zmq_socket (ctx, ZMQ_XPUB, opts->endpoint, opts->bind);
    if (!pub)
        return 1;
    int one = 1;
    zmq_setsockopt (pub, ZMQ_XPUB_NODROP, &one, sizeof one);
    if (s_zmq_wait_subscriber (pub) != 0) {
        fprintf (stderr, "bus_bench: no subscriber reached %s\n", opts->endpoint);
        return 1;
    }
    size_t topic_len = strlen (BENCH_TOPIC);
    long failed = 0, waits = 0;
    int64_t t0 = s_now_ns ();
    for (long i = 0; i < opts->count && !s_stop; i++) {
        /* The high-water mark is checked on a message's first frame only. */
        while (zmq_send (pub, BENCH_TOPIC, topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 && !s_stop) {
            if (errno != EAGAIN) {
                failed++;
                break;
            }
            /* XPUB has no POLLOUT for a full queue; 100 000 queued messages
             * are far more than 1 ms of work, so a short sleep costs nothing. */
            waits++;
            s_sleep_ms (1);
        }
        if (zmq_send (pub, bytes, BENCH_MSG_BYTES, 0) < 0)
            failed++;
    }
    int64_t t1 = s_now_ns ();
    printf ("sent=%ld\nfailed=%ld\nelapsed_ns=%lld\nhwm_waits=%ld\n", opts->count - failed,
            failed, (long long) (t1 - t0), waits);
    s_sleep_ms (500);
    zmq_close (pub);
    zmq_ctx_term (ctx);
    return 0;
}

static int
s_zmq_sub (const bench_opts_t *opts)
{
    void *ctx = zmq_ctx_new ();
    void *sub = s_zmq_socket (ctx, ZMQ_SUB, opts->endpoint, opts->bind);
    if (!sub)
        return 1;
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, BENCH_TOPIC, strlen (BENCH_TOPIC));
    s_sleep_ms (BENCH_SETTLE_MS);
    s_ready ();
    bench_sub_t st = { 0 };
    int64_t start = s_now_ns ();
    zmq_msg_t topic, body;
    zmq_msg_init (&topic);
    zmq_msg_init (&body);
    while (s_sub_going (&st, opts->count, start)) {
        if (zmq_msg_recv (&topic, sub, ZMQ_DONTWAIT) < 0) {
            zmq_pollitem_t item = { sub, 0, ZMQ_POLLIN, 0 };
            zmq_poll (&item, 1, 100);
            continue;
        }
        if (!zmq_msg_more (&topic) || zmq_msg_recv (&body, sub, 0) < 0)
            continue;
        /* The autofab broker may coalesce plain envelopes into a Batch:
         * a raw client counts its records (proto/README.md), nothing more. */
        const uint8_t *data = zmq_msg_data (&body);
        size_t len = zmq_msg_size (&body);
        if (!af_batch_is (data, len)) {
            s_sub_note (&st, len);
            continue;
        }
        af_batch_iter_t it;
        af_batch_iter_init (&it, data, len);
        const uint8_t *rec;
        size_t rec_len;
        while (af_batch_next (&it, &rec, &rec_len) == 1)
            s_sub_note (&st, rec_len);
    }
    zmq_msg_close (&topic);
    zmq_msg_close (&body);
    s_sub_report (&st);
    zmq_close (sub);
    zmq_ctx_term (ctx);
    return 0;
}

static int
s_zmq_call (void *ctx)
{
    void **args = ctx;
    if (zmq_send (args[0], args[1], BENCH_MSG_BYTES, 0) < 0)
        return -1;
    uint8_t buf[BENCH_MSG_BYTES * 2];
    return zmq_recv (args[0], buf, sizeof buf, 0) == BENCH_MSG_BYTES ? 0 : -1;
}

static int
s_zmq_req (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload;
    void *ctx = zmq_ctx_new ();
    void *req = s_zmq_socket (ctx, ZMQ_REQ, opts->endpoint, false);
    if (!req)
        return 1;
    int timeout = BENCH_REQUEST_TIMEOUT_MS;
    zmq_setsockopt (req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    void *args[2] = { req, (void *) bytes };
    int rc = s_req_run (opts, s_zmq_call, args);
    zmq_close (req);
    zmq_ctx_term (ctx);
    return rc;
}

static int
s_zmq_rep (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload;
    (void) bytes;
    void *ctx = zmq_ctx_new ();
    void *rep = s_zmq_socket (ctx, ZMQ_REP, opts->endpoint, true);
    if (!rep)
        return 1;
    s_ready ();
    int64_t start = s_now_ns ();
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (!s_stop && s_now_ns () - start < (int64_t) BENCH_MAX_RUN_MS * 1000000) {
        zmq_pollitem_t item = { rep, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 100) <= 0)
            continue;
        if (zmq_msg_recv (&msg, rep, 0) >= 0)
            zmq_msg_send (&msg, rep, 0);
    }
    zmq_msg_close (&msg);
    zmq_close (rep);
    zmq_ctx_term (ctx);
    return 0;
}

/* A bare XSUB/XPUB relay, the baseline DESIGN §2 quotes. */
static int
s_zmq_proxy (const bench_opts_t *opts)
{
    void *ctx = zmq_ctx_new ();
    void *xsub = s_zmq_socket (ctx, ZMQ_XSUB, opts->endpoint, true);
    void *xpub = opts->xpub ? s_zmq_socket (ctx, ZMQ_XPUB, opts->xpub, true) : NULL;
    if (!xsub || !xpub)
        return 1;
    s_ready ();
    zmq_proxy (xsub, xpub, NULL);   /* returns when the context is terminated */
    return 0;
}

/* ------------------------------------------------------------------- NATS */

static natsConnection *
s_nats_connect (const bench_opts_t *opts, bool send_asap)
{
    natsOptions *no = NULL;
    natsConnection *nc = NULL;
    natsStatus s = natsOptions_Create (&no);
    if (s == NATS_OK)
        s = natsOptions_SetURL (no, opts->endpoint);
    /* Request/reply flushes each message at once instead of waking the
     * flusher thread: faster for NATS, never slower. */
    if (s == NATS_OK && send_asap)
        s = natsOptions_SetSendAsap (no, true);
    if (s == NATS_OK)
        s = natsConnection_Connect (&nc, no);
    natsOptions_Destroy (no);
    if (s != NATS_OK)
        fprintf (stderr, "bus_bench: NATS %s: %s\n", opts->endpoint, natsStatus_GetText (s));
    return s == NATS_OK ? nc : NULL;
}

static int
s_nats_pub (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload;
    natsConnection *nc = s_nats_connect (opts, false);
    if (!nc)
        return 1;
    long failed = 0;
    int64_t t0 = s_now_ns ();
    for (long i = 0; i < opts->count && !s_stop; i++)
        failed += natsConnection_Publish (nc, BENCH_TOPIC, bytes, BENCH_MSG_BYTES) != NATS_OK;
    natsConnection_FlushTimeout (nc, 10000);
    int64_t t1 = s_now_ns ();
    printf ("sent=%ld\nfailed=%ld\nelapsed_ns=%lld\n", opts->count - failed, failed,
            (long long) (t1 - t0));
    natsConnection_Destroy (nc);
    return 0;
}

static int
s_nats_sub (const bench_opts_t *opts)
{
    natsConnection *nc = s_nats_connect (opts, false);
    natsSubscription *sub = NULL;
    if (!nc || natsConnection_SubscribeSync (&sub, nc, BENCH_TOPIC) != NATS_OK)
        return 1;
    /* The server has the subscription once a flush (PING/PONG) returns. */
    natsConnection_FlushTimeout (nc, 5000);
    s_ready ();
    bench_sub_t st = { 0 };
    int64_t start = s_now_ns ();
    while (s_sub_going (&st, opts->count, start)) {
        natsMsg *msg = NULL;
        natsStatus s = natsSubscription_NextMsg (&msg, sub, 100);
        if (s == NATS_OK) {
            s_sub_note (&st, (size_t) natsMsg_GetDataLength (msg));
            natsMsg_Destroy (msg);
        }
        else if (s != NATS_TIMEOUT && s != NATS_SLOW_CONSUMER)
            break;
    }
    int64_t dropped = 0;
    natsSubscription_GetDropped (sub, &dropped);
    st.dropped = (uint64_t) dropped;
    s_sub_report (&st);
    natsSubscription_Destroy (sub);
    natsConnection_Destroy (nc);
    return 0;
}

static int
s_nats_call (void *ctx)
{
    void **args = ctx;
    natsMsg *reply = NULL;
    natsStatus s = natsConnection_Request (&reply, args[0], BENCH_SERVICE, args[1], BENCH_MSG_BYTES,
                                           BENCH_REQUEST_TIMEOUT_MS);
    int rc = s == NATS_OK && natsMsg_GetDataLength (reply) == BENCH_MSG_BYTES ? 0 : -1;
    natsMsg_Destroy (reply);
    return rc;
}

static int
s_nats_req (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload;
    natsConnection *nc = s_nats_connect (opts, true);
    if (!nc)
        return 1;
    void *args[2] = { nc, (void *) bytes };
    int rc = s_req_run (opts, s_nats_call, args);
    natsConnection_Destroy (nc);
    return rc;
}

static int
s_nats_rep (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload;
    (void) bytes;
    natsConnection *nc = s_nats_connect (opts, true);
    natsSubscription *sub = NULL;
    if (!nc || natsConnection_SubscribeSync (&sub, nc, BENCH_SERVICE) != NATS_OK)
        return 1;
    natsConnection_FlushTimeout (nc, 5000);
    s_ready ();
    int64_t start = s_now_ns ();
    while (!s_stop && s_now_ns () - start < (int64_t) BENCH_MAX_RUN_MS * 1000000) {
        natsMsg *msg = NULL;
        if (natsSubscription_NextMsg (&msg, sub, 100) != NATS_OK)
            continue;
        if (natsMsg_GetReply (msg))
            natsConnection_Publish (nc, natsMsg_GetReply (msg), natsMsg_GetData (msg),
                                    natsMsg_GetDataLength (msg));
        natsMsg_Destroy (msg);
    }
    natsSubscription_Destroy (sub);
    natsConnection_Destroy (nc);
    return 0;
}

/* ------------------------------------------------------------------- MQTT */

/* State the libmosquitto callbacks write into. */
typedef struct {
    bool connected, subscribed, got;
    bench_sub_t st;
    uint8_t buf[BENCH_MSG_BYTES * 2];
    int len;
} bench_mqtt_t;

static void
s_mqtt_on_connect (struct mosquitto *mosq, void *arg, int rc)
{
    (void) mosq;
    if (rc == 0)
        ((bench_mqtt_t *) arg)->connected = true;
}

static void
s_mqtt_on_subscribe (struct mosquitto *mosq, void *arg, int mid, int n, const int *qos)
{
    (void) mosq, (void) mid, (void) n, (void) qos;
    ((bench_mqtt_t *) arg)->subscribed = true;
}

static void
s_mqtt_on_message (struct mosquitto *mosq, void *arg, const struct mosquitto_message *msg)
{
    (void) mosq;
    bench_mqtt_t *self = arg;
    s_sub_note (&self->st, (size_t) msg->payloadlen);
    self->got = true;
    self->len = msg->payloadlen < (int) sizeof self->buf ? msg->payloadlen : (int) sizeof self->buf;
    memcpy (self->buf, msg->payload, (size_t) self->len);
}

/* Loops until *FLAG is set or TIMEOUT_MS passes; 0 if set. */
static int
s_mqtt_wait (struct mosquitto *mosq, const bool *flag, int timeout_ms)
{
    int64_t deadline = s_now_ns () + (int64_t) timeout_ms * 1000000;
    while (!*flag && !s_stop && s_now_ns () < deadline)
        if (mosquitto_loop (mosq, 10, 1) != MOSQ_ERR_SUCCESS)
            return -1;
    return *flag ? 0 : -1;
}

/* Connects (and subscribes to TOPIC if not NULL), waiting for the acks. */
static struct mosquitto *
s_mqtt_connect (const bench_opts_t *opts, bench_mqtt_t *state, const char *topic)
{
    char host[128];
    int port;
    if (s_host_port (opts->endpoint, host, sizeof host, &port) != 0) {
        fprintf (stderr, "bus_bench: bad MQTT endpoint %s\n", opts->endpoint);
        return NULL;
    }
    mosquitto_lib_init ();
    struct mosquitto *mosq = mosquitto_new (NULL, true, state);
    if (!mosq)
        return NULL;
    /* No Nagle on the client: only ever faster for MQTT. */
    mosquitto_int_option (mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set (mosq, s_mqtt_on_connect);
    mosquitto_subscribe_callback_set (mosq, s_mqtt_on_subscribe);
    mosquitto_message_callback_set (mosq, s_mqtt_on_message);
    if (mosquitto_connect (mosq, host, port, 60) != MOSQ_ERR_SUCCESS
        || s_mqtt_wait (mosq, &state->connected, 5000) != 0) {
        fprintf (stderr, "bus_bench: cannot connect to MQTT %s\n", opts->endpoint);
        mosquitto_destroy (mosq);
        return NULL;
    }
    if (topic && (mosquitto_subscribe (mosq, NULL, topic, 0) != MOSQ_ERR_SUCCESS
                  || s_mqtt_wait (mosq, &state->subscribed, 5000) != 0)) {
        fprintf (stderr, "bus_bench: cannot subscribe to %s\n", topic);
        mosquitto_destroy (mosq);
        return NULL;
    }
    return mosq;
}

static int
s_mqtt_pub (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload;
    bench_mqtt_t state = { 0 };
    struct mosquitto *mosq = s_mqtt_connect (opts, &state, NULL);
    if (!mosq)
        return 1;
    long failed = 0;
    int64_t t0 = s_now_ns ();
    for (long i = 0; i < opts->count && !s_stop; i++) {
        failed += mosquitto_publish (mosq, NULL, BENCH_TOPIC_MQTT, BENCH_MSG_BYTES, bytes, 0, false)
                  != MOSQ_ERR_SUCCESS;
        /* What the socket did not take stays queued in libmosquitto: write it
         * out before queueing more (TCP back-pressure, as the other clients
         * get), so memory stays bounded. */
        while (mosquitto_want_write (mosq) && !s_stop)
            if (mosquitto_loop (mosq, 10, 1) != MOSQ_ERR_SUCCESS)
                break;
    }
    int64_t t1 = s_now_ns ();
    printf ("sent=%ld\nfailed=%ld\nelapsed_ns=%lld\n", opts->count - failed, failed,
            (long long) (t1 - t0));
    mosquitto_disconnect (mosq);
    mosquitto_loop (mosq, 10, 1);
    mosquitto_destroy (mosq);
    mosquitto_lib_cleanup ();
    return 0;
}

static int
s_mqtt_sub (const bench_opts_t *opts)
{
    bench_mqtt_t state = { 0 };
    struct mosquitto *mosq = s_mqtt_connect (opts, &state, BENCH_TOPIC_MQTT);
    if (!mosq)
        return 1;
    s_ready ();
    int64_t start = s_now_ns ();
    while (s_sub_going (&state.st, opts->count, start))
        if (mosquitto_loop (mosq, 100, 1) != MOSQ_ERR_SUCCESS)
            break;
    s_sub_report (&state.st);
    mosquitto_destroy (mosq);
    mosquitto_lib_cleanup ();
    return 0;
}

static int
s_mqtt_call (void *ctx)
{
    void **args = ctx;
    struct mosquitto *mosq = args[0];
    bench_mqtt_t *state = args[2];
    state->got = false;
    if (mosquitto_publish (mosq, NULL, BENCH_REQ_MQTT, BENCH_MSG_BYTES, args[1], 0, false)
        != MOSQ_ERR_SUCCESS)
        return -1;
    return s_mqtt_wait (mosq, &state->got, BENCH_REQUEST_TIMEOUT_MS);
}

static int
s_mqtt_req (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload;
    bench_mqtt_t state = { 0 };
    struct mosquitto *mosq = s_mqtt_connect (opts, &state, BENCH_REP_MQTT);
    if (!mosq)
        return 1;
    void *args[3] = { mosq, (void *) bytes, &state };
    int rc = s_req_run (opts, s_mqtt_call, args);
    mosquitto_destroy (mosq);
    mosquitto_lib_cleanup ();
    return rc;
}

static int
s_mqtt_rep (const bench_opts_t *opts, bench_payload_t *payload, const uint8_t *bytes)
{
    (void) payload;
    (void) bytes;
    bench_mqtt_t state = { 0 };
    struct mosquitto *mosq = s_mqtt_connect (opts, &state, BENCH_REQ_MQTT);
    if (!mosq)
        return 1;
    s_ready ();
    int64_t start = s_now_ns ();
    while (!s_stop && s_now_ns () - start < (int64_t) BENCH_MAX_RUN_MS * 1000000) {
        if (mosquitto_loop (mosq, 100, 1) != MOSQ_ERR_SUCCESS)
            break;
        /* Answer outside the callback so that the reply is written at once. */
        if (state.got) {
            state.got = false;
            mosquitto_publish (mosq, NULL, BENCH_REP_MQTT, state.len, state.buf, 0, false);
        }
    }
    mosquitto_destroy (mosq);
    mosquitto_lib_cleanup ();
    return 0;
}

/* ------------------------------------------------------------------ table */

typedef int (bench_send_fn) (const bench_opts_t *opts, bench_payload_t *payload,
                             const uint8_t *bytes);
typedef int (bench_recv_fn) (const bench_opts_t *opts);

typedef struct {
    const char *name;
    bench_send_fn *pub, *req, *rep;
    bench_recv_fn *sub;
} bench_system_t;

static const bench_system_t s_systems[] = {
    { "autofab", s_af_pub, s_af_req, s_af_rep, s_af_sub },
    { "zmq", s_zmq_pub, s_zmq_req, s_zmq_rep, s_zmq_sub },
    { "nats", s_nats_pub, s_nats_req, s_nats_rep, s_nats_sub },
    { "mqtt", s_mqtt_pub, s_mqtt_req, s_mqtt_rep, s_mqtt_sub },
};

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: bus_bench pub|sub|req|rep --system autofab|zmq|nats|mqtt --endpoint E\n"
             "                 [--count N] [--warmup N] [--bind] [--dump FILE]\n"
             "       bus_bench proxy --endpoint XSUB-ENDPOINT --xpub XPUB-ENDPOINT\n"
             "       bus_bench stats --endpoint CONTROL-ENDPOINT   (autofab broker counters)\n"
             "       bus_bench size | versions\n"
             "Runs one role of the bus benchmark (see bench/bus.sh); prints key=value lines.\n");
}

static void
s_versions (void)
{
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    printf ("libzmq=%d.%d.%d\n", major, minor, patch);
    printf ("libnats=%s\n", nats_GetVersion ());
    mosquitto_lib_version (&major, &minor, &patch);
    printf ("libmosquitto=%d.%d.%d\n", major, minor, patch);
}

int
main (int argc, char *argv[])
{
    bench_opts_t opts = { .count = 100000, .warmup = 1000 };
    static const struct option longs[] = {
        { "system", required_argument, NULL, 's' }, { "endpoint", required_argument, NULL, 'e' },
        { "count", required_argument, NULL, 'n' },  { "warmup", required_argument, NULL, 'w' },
        { "xpub", required_argument, NULL, 'x' },   { "bind", no_argument, NULL, 'b' },
        { "dump", required_argument, NULL, 'd' },   { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "s:e:n:w:x:d:bh", longs, NULL)) != -1) {
        switch (c) {
        case 's': opts.system = optarg; break;
        case 'e': opts.endpoint = optarg; break;
        case 'n': opts.count = atol (optarg); break;
        case 'w': opts.warmup = atol (optarg); break;
        case 'x': opts.xpub = optarg; break;
        case 'd': opts.dump = optarg; break;
        case 'b': opts.bind = true; break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        s_usage (stderr);
        return 2;
    }
    opts.role = argv[optind];
    af_log_init ("bus_bench");
    /* The script stops servers and stragglers with SIGTERM; every loop
     * checks s_stop.  CZMQ must not install its own handlers over ours. */
    zsys_handler_set (NULL);
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);

    static bench_payload_t payload;
    uint8_t bytes[BENCH_MSG_BYTES];
    if (s_payload_build (&payload, bytes) != 0) {
        fprintf (stderr, "bus_bench: cannot pad the envelope to %d bytes\n", BENCH_MSG_BYTES);
        return 1;
    }
    if (!strcmp (opts.role, "size")) {
        printf ("msg_bytes=%d\npad_bytes=%zu\n", BENCH_MSG_BYTES, strlen (payload.unit));
        return 0;
    }
    if (!strcmp (opts.role, "versions")) {
        s_versions ();
        return 0;
    }
    if (!opts.endpoint || opts.count <= 0 || opts.warmup < 0) {
        fprintf (stderr, "bus_bench: --endpoint and a positive --count are required\n");
        return 2;
    }
    if (!strcmp (opts.role, "proxy"))
        return s_zmq_proxy (&opts);
    if (!strcmp (opts.role, "stats"))
        return s_af_stats (&opts);
    const bench_system_t *sys = NULL;
    for (size_t i = 0; i < sizeof s_systems / sizeof s_systems[0]; i++)
        if (opts.system && !strcmp (opts.system, s_systems[i].name))
            sys = &s_systems[i];
    if (!sys) {
        fprintf (stderr, "bus_bench: --system must be autofab, zmq, nats or mqtt\n");
        return 2;
    }
    int rc = 2;
    if (!strcmp (opts.role, "pub"))
        rc = sys->pub (&opts, &payload, bytes);
    else if (!strcmp (opts.role, "sub"))
        rc = sys->sub (&opts);
    else if (!strcmp (opts.role, "req"))
        rc = sys->req (&opts, &payload, bytes);
    else if (!strcmp (opts.role, "rep"))
        rc = sys->rep (&opts, &payload, bytes);
    else
        fprintf (stderr, "bus_bench: unknown role '%s'\n", opts.role);
    /* The client's own cost per message, I/O threads included. */
    printf ("cpu_ns=%lld\n", (long long) s_cpu_ns ());
    fflush (stdout);
    return rc;
}
