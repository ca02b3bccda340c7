/*  gateway-bench — `make bench-gateway` (issue 16, docs/perf/gateway.md).
 *
 *  For each link profile: two brokers (factories fa and fb), two gateways,
 *  and autofab-linkemu with the profile between fa's gateway and fb's.  A
 *  publisher on fa sends 256-byte telemetry on 100 topics at 1.3x what the
 *  link carries, plus an alarm every 20 ms; a raw subscriber on fb (it
 *  hides no duplicate) measures:
 *  - goodput: application bytes (topic + envelope) delivered per second of
 *    link time, as a share of the emulated bandwidth; time the link was
 *    down (random disconnects, blackouts) is not counted as link time;
 *  - alarm latency (p50, p99: receive wall clock minus the alarm's header
 *    time, same machine) of alarms that did not wait through an outage;
 *    those that did are counted separately;
 *  - lost and duplicated: every alarm and telemetry message by its
 *    publisher sequence number, after the link drains; telemetry the
 *    gateway conflated or dropped under its cap (both counted by it) is
 *    not lost;
 *  - recovery: from the end of each outage to the first delivery after it.
 *  Then on an unlimited loopback link (no emulator): gateway throughput as
 *  a ratio of the broker's own relay, same publisher, same subscriber.
 */
#include "af_bus.h"
#include "af_codec.h"
#include "af_keys.h"
#include "af_args.h"
#include "gateway/linkemu.h"

#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_PROG "gateway-bench"
#define S_MSG_BYTES 256
#define S_TOPICS 100
#define S_ALARM_EVERY_MS 20
#define S_MAX_TEL (8u << 20)
#define S_MAX_ALARMS 100000
#define S_MAX_OUTAGES 512

static const char *s_bin = "build/bin";
static char s_dir[128];

/* ------------------------------------------------------------ processes */

static pid_t
s_spawn (const char *program, const char *const args[], const char *log)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", s_bin, program);
    const char *argv[40] = { path };
    int n = 1;
    for (int i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        FILE *f = freopen (log, "w", stderr);
        (void) f;
        execv (path, (char *const *) argv);
        _exit (127);
    }
    return pid;
}

static void
s_stop (pid_t pid)
{
    if (pid <= 0)
        return;
    kill (pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid (pid, NULL, WNOHANG) == pid)
            return;
        usleep (10000);
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
}

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* ------------------------------------------------------------ messages */

/* An encoded telemetry envelope of about S_MSG_BYTES from ST. */
static uint8_t *
s_message (af_stamper_t *st, size_t *len)
{
    static char pad[S_MSG_BYTES];
    if (!pad[0])
        memset (pad, 'u', 150);
    Autofab__Metric m = AUTOFAB__METRIC__INIT;
    m.name = "value";
    m.value = 1.5;
    m.unit = pad;
    Autofab__Metric *mp = &m;
    Autofab__Telemetry tel = AUTOFAB__TELEMETRY__INIT;
    tel.metrics = &mp;
    tel.n_metrics = 1;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY;
    env.telemetry = &tel;
    Autofab__Header hdr;
    uint8_t id[16];
    af_stamper_stamp (st, &env, &hdr, id, s_now_ns ());
    return af_envelope_encode (&env, AF_MAX_MSG_BYTES, len);
}

/* ------------------------------------------------------------ receiver */

typedef struct {
    zsock_t *sub;
    volatile bool stop;
    uint64_t window_from_ns, window_to_ns;  /* goodput window (wall) */
    uint64_t bytes_in_window;
    uint8_t *tel_seen;                      /* count per telemetry seq */
    uint32_t alarm_seen[S_MAX_ALARMS];
    uint64_t alarm_sent_ns[S_MAX_ALARMS], alarm_recv_ns[S_MAX_ALARMS];
    uint64_t tel_received, alarm_received, dups, alarm_dups;
    uint64_t last_recv_ns;
    uint64_t recv_log[1 << 16];             /* receive times, for recovery */
    size_t n_recv_log;
    uint64_t recv_log_every;
} s_rx_t;

static void *
s_receiver (void *arg)
{
    s_rx_t *rx = arg;
    zpoller_t *p = zpoller_new (rx->sub, NULL);
    uint64_t n = 0;
    while (!rx->stop) {
        if (!zpoller_wait (p, 50))
            continue;
        zmsg_t *m = zmsg_recv (rx->sub);
        if (!m)
            break;
        zframe_t *topic = zmsg_first (m), *body = zmsg_next (m);
        uint64_t now = s_now_ns ();
        bool alarm = topic && zframe_size (topic) > 4 && memcmp (zframe_data (topic), "alm.", 4) == 0;
        af_batch_iter_t it;
        af_body_iter_init (&it, body ? zframe_data (body) : NULL, body ? zframe_size (body) : 0);
        const uint8_t *rec;
        size_t len;
        while (body && af_batch_next (&it, &rec, &len) == 1) {
            af_peek_t pk;
            if (af_envelope_peek (rec, len, &pk) != AF_DECODE_OK)
                continue;
            if (now >= rx->window_from_ns && now < rx->window_to_ns)
                rx->bytes_in_window += len + zframe_size (topic);
            if (alarm && pk.seq < S_MAX_ALARMS) {
                if (rx->alarm_seen[pk.seq]++)
                    rx->dups++, rx->alarm_dups++;
                else {
                    rx->alarm_sent_ns[pk.seq] = pk.t_ns;
                    rx->alarm_recv_ns[pk.seq] = now;
                }
                rx->alarm_received++;
            }
            else if (!alarm && pk.seq < S_MAX_TEL) {
                if (rx->tel_seen[pk.seq]++)
                    rx->dups++;
                rx->tel_received++;
            }
            rx->last_recv_ns = now;
            if (n++ % rx->recv_log_every == 0 && rx->n_recv_log < sizeof rx->recv_log / 8)
                rx->recv_log[rx->n_recv_log++] = now;
        }
        zmsg_destroy (&m);
    }
    zpoller_destroy (&p);
    return NULL;
}

/* ------------------------------------------------------------ setup */

typedef struct {
    const char *name;
    double rate_bps;         /* the emulated link; 0: loopback, unlimited */
    double time_scale;
    double seconds;
    const char *emu_extra[8];
} s_case_t;

typedef struct {
    int port;
    pid_t broker_a, broker_b, gw_a, gw_b, emu;
    char stats_a[320], emu_stats[320];
} s_fed_t;

static void
s_write_gw (const char *name, const char *factory, const char *peer, int broker, int bind,
            int link, const char *profile, double scale, double budget)
{
    char path[400];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen (path, "w");
    fprintf (f,
             "factory: %s\nbroker: tcp://127.0.0.1:%d\nbind: tcp://127.0.0.1:%d\n"
             "key: keys/%s.key_secret\nallow: allow-%s\nstate_dir: state-%s\n"
             "peers:\n  - factory: %s\n    key: keys/%s.key\n"
             "    export: [ \"alm.%s\", \"tel.%s\" ]\n    import: [ \"alm.%s\", \"tel.%s\" ]\n"
             "    budget_bps: %.0f\n    outbox_max_bytes: 200e6\n    links:\n"
             "      - { endpoint: \"tcp://127.0.0.1:%d\", profile: %s, time_scale: %g }\n",
             factory, broker, bind, factory, factory, factory, peer, peer, factory, factory, peer,
             peer, budget, link, profile, scale);
    fclose (f);
}

static int
s_fed_start (s_fed_t *fed, const s_case_t *c)
{
    char cmd[2048], err[256], keys[320];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'/* && mkdir -p '%s/keys' '%s/allow-fa' '%s/allow-fb'", s_dir,
              s_dir, s_dir, s_dir);
    if (system (cmd) != 0)
        return -1;
    snprintf (keys, sizeof keys, "%s/keys", s_dir);
    if (af_keys_generate (keys, "fa", false, NULL, err, sizeof err) != 0
        || af_keys_generate (keys, "fb", false, NULL, err, sizeof err) != 0)
        return -1;
    snprintf (cmd, sizeof cmd, "cp '%s/keys/fb.key' '%s/allow-fa/' && cp '%s/keys/fa.key' '%s/allow-fb/'",
              s_dir, s_dir, s_dir, s_dir);
    if (system (cmd) != 0)
        return -1;
    fed->port = af_free_port_block (12);
    int p = fed->port;
    bool emu = c->rate_bps > 0;
    /* Budget: 95 % of the link, so no queue builds in front of alarms. */
    double budget = emu ? c->rate_bps * 0.95 : 0;
    s_write_gw ("gw-fa.yaml", "fa", "fb", p, p + 6, emu ? p + 8 : p + 7, emu ? c->name : "fibre",
                c->time_scale, budget);
    s_write_gw ("gw-fb.yaml", "fb", "fa", p + 3, p + 7, p + 6, "fibre", 1, 0);
    char pa[16], pb[16], log[400], cfg[400], cfgb[400], l[16], t[32];
    snprintf (pa, sizeof pa, "%d", p);
    snprintf (pb, sizeof pb, "%d", p + 3);
    snprintf (log, sizeof log, "%s/broker-a.log", s_dir);
    fed->broker_a = s_spawn ("autofab-broker", (const char *[]) { "-p", pa, "-f", "fa", "--log-level", "warn", NULL }, log);
    snprintf (log, sizeof log, "%s/broker-b.log", s_dir);
    fed->broker_b = s_spawn ("autofab-broker", (const char *[]) { "-p", pb, "-f", "fb", "--log-level", "warn", NULL }, log);
    if (emu) {
        snprintf (l, sizeof l, "%d", p + 8);
        snprintf (t, sizeof t, "127.0.0.1:%d", p + 7);
        snprintf (fed->emu_stats, sizeof fed->emu_stats, "%s/emu.json", s_dir);
        char scale[32];
        snprintf (scale, sizeof scale, "%g", c->time_scale);
        const char *args[24] = { "--listen", l, "--target", t, "--profile", c->name, "--time-scale",
                                 scale, "--seed", "1", "--stats", fed->emu_stats };
        int n = 12;
        for (int i = 0; c->emu_extra[i]; i++)
            args[n++] = c->emu_extra[i];
        args[n] = NULL;
        snprintf (log, sizeof log, "%s/emu.log", s_dir);
        fed->emu = s_spawn ("autofab-linkemu", args, log);
    }
    usleep (300000);
    snprintf (cfg, sizeof cfg, "%s/gw-fa.yaml", s_dir);
    snprintf (cfgb, sizeof cfgb, "%s/gw-fb.yaml", s_dir);
    snprintf (fed->stats_a, sizeof fed->stats_a, "%s/stats-a.json", s_dir);
    snprintf (log, sizeof log, "%s/gw-a.log", s_dir);
    fed->gw_a = s_spawn ("autofab-gateway", (const char *[]) { "--config", cfg, "--stats", fed->stats_a, NULL }, log);
    snprintf (log, sizeof log, "%s/gw-b.log", s_dir);
    char stats_b[340];
    snprintf (stats_b, sizeof stats_b, "%s/stats-b.json", s_dir);
    fed->gw_b = s_spawn ("autofab-gateway", (const char *[]) { "--config", cfgb, "--stats", stats_b, NULL }, log);
    return 0;
}

static void
s_fed_stop (s_fed_t *fed)
{
    s_stop (fed->gw_a);
    s_stop (fed->gw_b);
    s_stop (fed->emu);
    s_stop (fed->broker_a);
    s_stop (fed->broker_b);
}

/* A number after "KEY": in FILE, or -1. */
static double
s_json_num (const char *file, const char *key)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen (file, "r");
    if (!f)
        return -1;
    double v = -1;
    if (getdelim (&text, &len, 0, f) > 0) {
        char k[96];
        snprintf (k, sizeof k, "\"%s\":", key);
        char *at = strstr (text, k);
        if (at)
            v = strtod (at + strlen (k), NULL);
    }
    free (text);
    fclose (f);
    return v;
}

/* The outage intervals linkemu logged: count, into OUT. */
static size_t
s_outages (const char *file, uint64_t out[][2], size_t max)
{
    char *text = NULL;
    size_t len = 0, n = 0;
    FILE *f = fopen (file, "r");
    if (!f)
        return 0;
    if (getdelim (&text, &len, 0, f) > 0) {
        char *at = strstr (text, "\"outage_ns\":[");
        at = at ? at + 13 : NULL;
        while (at && n < max && (at = strchr (at, '[')) != NULL) {
            unsigned long long a, b;
            if (sscanf (at, "[%llu,%llu]", &a, &b) != 2)
                break;
            out[n][0] = a;
            out[n++][1] = b;
            at++;
        }
    }
    free (text);
    fclose (f);
    return n;
}

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------ one profile */

typedef struct {
    double goodput_share, alarm_p50_ms, alarm_p99_ms, one_way_ms, recovery_ms;
    double tel_offered_per_s;
    long long lost, duplicated, alarms_waited, outages, conflated, dropped_cap, alarms;
} s_result_t;

static zsock_t *
s_sub (int broker_port)
{
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", broker_port + 2);
    zsock_t *s = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (s, 1000000);
    /* Only what the publisher sent: the brokers' own sys.* messages would
     * be counted as duplicates of its sequence numbers. */
    zsock_set_subscribe (s, "tel.fa.");
    zsock_set_subscribe (s, "alm.fa.");
    zsock_connect (s, "%s", ep);
    return s;
}

/* Publishes for SECONDS: telemetry at TEL_PER_S on S_TOPICS topics and an
 * alarm every S_ALARM_EVERY_MS.  Returns the telemetry count. */
static uint64_t
s_publish (af_bus_t *bus, af_stamper_t *tel, af_stamper_t *alm, double tel_per_s, double seconds,
           uint64_t *alarms)
{
    uint64_t start = s_now_ns (), sent = 0;
    uint64_t end = start + (uint64_t) (seconds * 1e9), next_alarm = start;
    char topic[64];
    while (s_now_ns () < end) {
        uint64_t now = s_now_ns ();
        uint64_t due = (uint64_t) ((double) (now - start) / 1e9 * tel_per_s);
        while (sent < due && sent < S_MAX_TEL - 1) {
            size_t len;
            uint8_t *body = s_message (tel, &len);
            snprintf (topic, sizeof topic, "tel.fa.c1.m%02d.value", (int) (sent % S_TOPICS));
            const void *frames[2] = { topic, body };
            size_t lens[2] = { strlen (topic), len };
            if (af_bus_publish_frames (bus, frames, lens, 2) == 0)
                sent++;
            free (body);
            if (sent % 64 == 0)
                break;
        }
        if (now >= next_alarm && *alarms < S_MAX_ALARMS - 1) {
            size_t len;
            uint8_t *body = s_message (alm, &len);
            const char *at = "alm.fa.c1.press.jam";
            const void *frames[2] = { at, body };
            size_t lens[2] = { strlen (at), len };
            if (af_bus_publish_frames (bus, frames, lens, 2) == 0)
                (*alarms)++;
            free (body);
            next_alarm += S_ALARM_EVERY_MS * 1000000ull;
        }
        if (sent >= due)
            usleep (200);
    }
    return sent;
}

static bool
s_overlaps (uint64_t a, uint64_t b, uint64_t out[][2], size_t n, uint64_t margin)
{
    for (size_t i = 0; i < n; i++)
        if (a < out[i][1] + margin && b + margin > out[i][0])
            return true;
    return false;
}

static void
s_analyse (s_rx_t *rx, const s_case_t *c, s_fed_t *fed, uint64_t tel_sent, uint64_t alarms,
           uint64_t pub_start, uint64_t pub_end, s_result_t *r)
{
    static uint64_t out[S_MAX_OUTAGES][2];
    size_t n_out = c->rate_bps > 0 ? s_outages (fed->emu_stats, out, S_MAX_OUTAGES) : 0;
    r->one_way_ms = c->rate_bps > 0 ? s_json_num (fed->emu_stats, "one_way_delay_ms") : 0;
    uint64_t one_way_ns = (uint64_t) (r->one_way_ms * 1e6);
    /* Link time in the goodput window, without outages. */
    double down_ns = 0;
    for (size_t i = 0; i < n_out; i++) {
        uint64_t a = out[i][0] > rx->window_from_ns ? out[i][0] : rx->window_from_ns;
        uint64_t b = out[i][1] < rx->window_to_ns ? out[i][1] : rx->window_to_ns;
        if (b > a)
            down_ns += (double) (b - a);
    }
    double link_s = ((double) (rx->window_to_ns - rx->window_from_ns) - down_ns) / 1e9;
    r->goodput_share = c->rate_bps > 0 && link_s > 0 ? rx->bytes_in_window * 8.0 / link_s / c->rate_bps : 0;
    static uint64_t lat[S_MAX_ALARMS];
    size_t n = 0;
    r->alarms_waited = 0;
    long long alarm_lost = 0;
    for (uint64_t s = 1; s <= alarms; s++) {
        if (!rx->alarm_seen[s]) {
            alarm_lost++;
            continue;
        }
        uint64_t a = rx->alarm_sent_ns[s], b = rx->alarm_recv_ns[s];
        if (s_overlaps (a, b, out, n_out, one_way_ns + 200000000ull))
            r->alarms_waited++;
        else
            lat[n++] = b > a ? b - a : 0;
    }
    qsort (lat, n, sizeof lat[0], s_cmp_u64);
    r->alarm_p50_ms = n ? lat[n / 2] / 1e6 : -1;
    r->alarm_p99_ms = n ? lat[(size_t) (n * 0.99)] / 1e6 : -1;
    long long tel_missing = 0;
    for (uint64_t s = 1; s <= tel_sent; s++)
        tel_missing += rx->tel_seen[s] == 0;
    r->conflated = (long long) s_json_num (fed->stats_a, "conflated");
    r->dropped_cap = (long long) s_json_num (fed->stats_a, "dropped_cap");
    long long excused = (r->conflated > 0 ? r->conflated : 0) + (r->dropped_cap > 0 ? r->dropped_cap : 0);
    r->lost = alarm_lost + (tel_missing > excused ? tel_missing - excused : 0);
    r->duplicated = (long long) rx->dups;
    r->outages = (long long) n_out;
    r->alarms = (long long) alarms;
    /* Recovery: outage end to the first delivery after it. */
    double sum = 0;
    int k = 0;
    for (size_t i = 0; i < n_out; i++) {
        if (out[i][1] < pub_start || out[i][1] > pub_end)
            continue;
        for (size_t j = 0; j < rx->n_recv_log; j++)
            if (rx->recv_log[j] > out[i][1]) {
                sum += (double) (rx->recv_log[j] - out[i][1]) / 1e6;
                k++;
                break;
            }
    }
    r->recovery_ms = k ? sum / k : -1;
}

static int
s_run_profile (const s_case_t *c, s_result_t *r)
{
    s_fed_t fed = { 0 };
    if (s_fed_start (&fed, c) != 0)
        return -1;
    static s_rx_t rx;
    uint8_t *tel_seen = rx.tel_seen ? rx.tel_seen : calloc (S_MAX_TEL, 1);
    memset (&rx, 0, sizeof rx);
    memset (tel_seen, 0, S_MAX_TEL);
    rx.tel_seen = tel_seen;
    rx.recv_log_every = 1;
    rx.sub = s_sub (fed.port + 3);
    char ctl[64];
    snprintf (ctl, sizeof ctl, "tcp://127.0.0.1:%d", fed.port);
    char err[256];
    af_bus_opts_t opts = { .broker = ctl, .source = "bench-pub", .factory = "fa" };
    af_bus_t *bus = af_bus_new (&opts, err, sizeof err);
    if (!bus || af_bus_wait_ready (bus, 5000) != 0) {
        af_bus_destroy (&bus);
        s_fed_stop (&fed);
        return -1;
    }
    /* Let the gateways link up (first probe answered). */
    for (int i = 0; i < 100 && s_json_num (fed.stats_a, "acks") < 1; i++)
        usleep (100000);
    af_stamper_t *tel = af_stamper_new ("tel-src", "fa"), *alm = af_stamper_new ("alarm-src", "fa");
    double tel_per_s = c->rate_bps > 0 ? 1.3 * c->rate_bps / 8 / (S_MSG_BYTES + 20) : 1e6;
    if (tel_per_s > 60000)
        tel_per_s = 60000;           /* what one publisher thread here keeps up */
    r->tel_offered_per_s = tel_per_s;
    uint64_t pub_start = s_now_ns ();
    double one_way_s = c->rate_bps > 0 ? 1.5 * linkemu_profile_find (c->name)->delay_max_ms / c->time_scale / 1e3 : 0;
    rx.window_from_ns = pub_start + (uint64_t) ((one_way_s + 2) * 1e9);
    rx.window_to_ns = pub_start + (uint64_t) (c->seconds * 1e9);
    pthread_t th;
    pthread_create (&th, NULL, s_receiver, &rx);
    uint64_t alarms = 0;
    uint64_t sent = s_publish (bus, tel, alm, tel_per_s, c->seconds, &alarms);
    uint64_t pub_end = s_now_ns ();
    /* Drain: until the gateway's outbox is empty and nothing came for a while. */
    for (int i = 0; i < 1200; i++) {
        usleep (100000);
        bool idle = s_now_ns () - rx.last_recv_ns > 2000000000ull;
        if (s_json_num (fed.stats_a, "pending") == 0 && idle)
            break;
    }
    rx.stop = true;
    pthread_join (th, NULL);
    if (getenv ("GW_BENCH_DEBUG")) {
        char cmd[400];
        snprintf (cmd, sizeof cmd, "cat %s/stats-a.json %s/stats-b.json", s_dir, s_dir);
        if (system (cmd) != 0)
            return -1;
        fprintf (stderr, "alarm dups %lu of %lu dups\n", (unsigned long) rx.alarm_dups, (unsigned long) rx.dups);
    }
    s_fed_stop (&fed);               /* linkemu writes its stats at exit */
    s_analyse (&rx, c, &fed, sent, alarms, pub_start, pub_end, r);
    zsock_destroy (&rx.sub);
    af_stamper_destroy (&tel);
    af_stamper_destroy (&alm);
    af_bus_destroy (&bus);
    return 0;
}

/* ------------------------------------------------------------ loopback */

/* Messages per second a subscriber on SUB_PORT's broker receives of N
 * published as fast as possible on PUB_PORT's broker. */
static double
s_relay_rate (int pub_port, int sub_port, uint64_t n, uint64_t *got)
{
    static s_rx_t rx;
    uint8_t *tel_seen = rx.tel_seen ? rx.tel_seen : calloc (S_MAX_TEL, 1);
    memset (&rx, 0, sizeof rx);
    memset (tel_seen, 0, S_MAX_TEL);
    rx.tel_seen = tel_seen;
    rx.recv_log_every = 1000;
    rx.sub = s_sub (sub_port);
    usleep (300000);
    char ctl[64], err[256];
    snprintf (ctl, sizeof ctl, "tcp://127.0.0.1:%d", pub_port);
    af_bus_opts_t opts = { .broker = ctl, .source = "bench-pub", .factory = "fa" };
    af_bus_t *bus = af_bus_new (&opts, err, sizeof err);
    af_bus_wait_ready (bus, 5000);
    af_stamper_t *st = af_stamper_new ("tel-src", "fa");
    pthread_t th;
    pthread_create (&th, NULL, s_receiver, &rx);
    uint64_t t0 = s_now_ns ();
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *body = s_message (st, &len);
        char topic[64];
        snprintf (topic, sizeof topic, "tel.fa.c1.m%02d.value", (int) (i % S_TOPICS));
        const void *frames[2] = { topic, body };
        size_t lens[2] = { strlen (topic), len };
        while (af_bus_publish_frames (bus, frames, lens, 2) != 0)
            usleep (100);
        free (body);
    }
    for (int i = 0; i < 600 && rx.tel_received < n; i++) {
        uint64_t before = rx.tel_received;
        usleep (100000);
        if (rx.tel_received == before && rx.tel_received > 0 && s_now_ns () - rx.last_recv_ns > 3000000000ull)
            break;
    }
    rx.stop = true;
    pthread_join (th, NULL);
    *got = rx.tel_received;
    double rate = rx.last_recv_ns > t0 ? rx.tel_received / ((double) (rx.last_recv_ns - t0) / 1e9) : 0;
    zsock_destroy (&rx.sub);
    af_stamper_destroy (&st);
    af_bus_destroy (&bus);
    return rate;
}

/* ------------------------------------------------------------ main */

int
main (int argc, char **argv)
{
    const char *json = NULL, *only = NULL;
    double seconds = 20;
    long loop_n = 200000;
    static const struct option opts[] = {
        { "bin", required_argument, 0, 'b' }, { "json", required_argument, 0, 'j' },
        { "seconds", required_argument, 0, 's' }, { "profiles", required_argument, 0, 'p' },
        { "loopback-msgs", required_argument, 0, 'n' }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': s_bin = optarg; break;
        case 'j': json = optarg; break;
        case 'p': only = optarg; break;
        case 's':
            if (!af_args_double (S_PROG, "--seconds", optarg, 3, 3600, &seconds))
                return 2;
            break;
        case 'n':
            if (!af_args_long (S_PROG, "--loopback-msgs", optarg, 1000, S_MAX_TEL - 1, &loop_n))
                return 2;
            break;
        case 'h':
            puts ("usage: gateway-bench --bin DIR [--json FILE] [--seconds S] [--profiles fibre,leo,mars]"
                  " [--loopback-msgs N]");
            return 0;
        default:
            return af_args_usage_error (S_PROG, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    snprintf (s_dir, sizeof s_dir, "/tmp/gateway-bench-%d", getpid ());
    mkdir (s_dir, 0700);
    /* leo: the profile's disconnects come every 3 minutes on average; the
     * bench forces one every 8 s so a 20-s run sees recovery. */
    s_case_t cases[] = {
        { .name = "fibre", .rate_bps = 1e9, .time_scale = 1, .seconds = seconds },
        { .name = "leo", .rate_bps = 50e6, .time_scale = 1, .seconds = seconds,
          .emu_extra = { "--disconnect-every-s", "8", NULL } },
        { .name = "mars", .rate_bps = 2e6, .time_scale = 1000, .seconds = seconds * 1.5 },
    };
    s_result_t res[3];
    bool ran[3] = { false };
    printf ("%-6s %10s %10s %9s %9s %9s %6s %6s %7s %8s %9s %9s\n", "link", "offered/s", "goodput%",
            "alarm p50", "alarm p99", "one-way", "lost", "dup", "waited", "outages", "recov ms",
            "conflated");
    for (int i = 0; i < 3; i++) {
        if (only && !strstr (only, cases[i].name))
            continue;
        if (s_run_profile (&cases[i], &res[i]) != 0) {
            fprintf (stderr, S_PROG ": profile %s failed to start (logs in %s)\n", cases[i].name, s_dir);
            continue;
        }
        ran[i] = true;
        s_result_t *r = &res[i];
        printf ("%-6s %10.0f %9.1f%% %8.2fms %8.2fms %7.1fms %6lld %6lld %7lld %8lld %9.0f %9lld\n",
                cases[i].name, r->tel_offered_per_s, r->goodput_share * 100, r->alarm_p50_ms,
                r->alarm_p99_ms, r->one_way_ms, r->lost, r->duplicated, r->alarms_waited,
                r->outages, r->recovery_ms, r->conflated);
        fflush (stdout);
    }
    /* Loopback: the broker's own relay, then the gateway path. */
    s_case_t lo = { .name = "loopback", .rate_bps = 0, .time_scale = 1, .seconds = 1 };
    s_fed_t fed = { 0 };
    double ratio = -1, broker_rate = 0, gw_rate = 0;
    uint64_t got_b = 0, got_g = 0;
    if (!only || strstr (only, "loopback")) {
        if (s_fed_start (&fed, &lo) == 0) {
            for (int i = 0; i < 100 && s_json_num (fed.stats_a, "acks") < 1; i++)
                usleep (100000);
            broker_rate = s_relay_rate (fed.port, fed.port, (uint64_t) loop_n, &got_b);
            gw_rate = s_relay_rate (fed.port, fed.port + 3, (uint64_t) loop_n, &got_g);
            ratio = broker_rate > 0 ? gw_rate / broker_rate : -1;
            s_fed_stop (&fed);
        }
        printf ("\nloopback, %ld msgs of %d B: broker relay %.0f msg/s (%" PRIu64 " received), "
                "through two gateways %.0f msg/s (%" PRIu64 " received): ratio %.3f\n",
                loop_n, S_MSG_BYTES, broker_rate, got_b, gw_rate, got_g, ratio);
    }
    if (json) {
        FILE *f = fopen (json, "w");
        if (!f)
            return 1;
        fputc ('{', f);
        for (int i = 0; i < 3; i++) {
            if (!ran[i])
                continue;
            const char *p = cases[i].name;
            s_result_t *r = &res[i];
            fprintf (f,
                     "\"goodput_share_%s\":%.4f,\"alarm_p50_ms_%s\":%.3f,\"alarm_p99_ms_%s\":%.3f,"
                     "\"one_way_delay_ms_%s\":%.3f,\"lost_%s\":%lld,\"duplicated_%s\":%lld,"
                     "\"alarms_waited_outage_%s\":%lld,\"outages_%s\":%lld,\"recovery_ms_%s\":%.1f,"
                     "\"conflated_%s\":%lld,\"telemetry_offered_per_s_%s\":%.0f,",
                     p, r->goodput_share, p, r->alarm_p50_ms, p, r->alarm_p99_ms, p, r->one_way_ms, p,
                     r->lost, p, r->duplicated, p, r->alarms_waited, p, r->outages, p, r->recovery_ms,
                     p, r->conflated, p, r->tel_offered_per_s);
        }
        fprintf (f, "\"broker_relay_msgs_per_s\":%.0f,\"gateway_loopback_msgs_per_s\":%.0f,"
                 "\"loopback_ratio_vs_broker\":%.4f}\n", broker_rate, gw_rate, ratio);
        fclose (f);
    }
    char cmd[300];
    snprintf (cmd, sizeof cmd, "%s '%s'", getenv ("GW_BENCH_DEBUG") ? "echo kept" : "rm -rf", s_dir);
    if (system (cmd) != 0)
        return 1;
    return 0;
}
