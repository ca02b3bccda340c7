/*  bridge-bench — `make bench-bridge` (issue 20, DESIGN §8).
 *
 *  Runs the real autofab-broker, autofab-bridge and mosquitto on loopback.
 *
 *  Modbus: one device (libmodbus's server, in a thread here) with 100
 *  holding registers, all mapped and polled every 10 ms onto one topic.
 *  Registers per second is what reaches a bus subscriber; latency is from
 *  a register change (made here, at a moment unrelated to the poll grid)
 *  to the bus subscriber seeing the new value: p50/p99 against the target
 *  of 2 poll periods + 5 ms.
 *
 *  Sparkplug: telemetry published on the bus (one metric per message),
 *  through the bridge's edge node into mosquitto and out to a libmosquitto
 *  subscriber here, against a plain libmosquitto publisher sending DDATA
 *  payloads of the same size to the same mosquitto and subscriber.  Both
 *  keep at most a window of messages in flight (sent − received), so the
 *  figure is the sustained rate with nothing dropped; runs alternate and
 *  the median of each is reported with their ratio (target ≥ 0.8).
 *
 *  bridge-bench --bin DIR --json FILE [--seconds S] [--samples N]
 *               [--messages N] [--runs N]
 */
#include "af_args.h"
#include "af_bus.h"
#include "af_log.h"
#include "bridge/spb.h"
#include "bridge_modbus_sim.h"

#include <czmq.h>
#include <fcntl.h>
#include <math.h>
#include <mosquitto.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_REGS 100
#define S_POLL_MS 10
#define S_WINDOW 20000
#define S_MOSQUITTO "/usr/sbin/mosquitto"

static const char *s_bin = "build/bin";
static char s_dir[256];

/* ------------------------------------------------------------- processes */

static pid_t
s_spawn (const char *path, const char *const argv[], const char *log)
{
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
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
        zclock_sleep (10);
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
}

static pid_t
s_program (const char *name, const char *const args[])
{
    char path[512], log[512];
    snprintf (path, sizeof path, "%s/%s", s_bin, name);
    snprintf (log, sizeof log, "%s/%s.log", s_dir, name);
    const char *argv[32] = { path };
    int n = 1;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return s_spawn (path, argv, log);
}

/* Waits until AGENT is listed by the broker behind BUS. */
static bool
s_wait_listed (af_bus_t *bus, const char *agent, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        Autofab__Control *reply;
        if (af_bus_list (bus, &reply, 200) == 0) {
            bool found = false;
            if (reply->msg_case == AUTOFAB__CONTROL__MSG_LIST_REPLY)
                for (size_t i = 0; i < reply->list_reply->n_agents; i++)
                    if (!strcmp (reply->list_reply->agents[i]->name, agent))
                        found = true;
            autofab__control__free_unpacked (reply, NULL);
            if (found)
                return true;
        }
        zclock_sleep (50);
    }
    return false;
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_percentile (double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort (v, n, sizeof *v, s_cmp_double);
    size_t i = (size_t) ceil (p * (double) n) - 1;
    return v[i < n ? i : n - 1];
}

static void
s_write_file (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    if (f) {
        fputs (text, f);
        fclose (f);
    }
}

/* ---------------------------------------------------------------- Modbus */

typedef struct {
    double regs_per_s, p50_ms, p99_ms, max_ms;
    size_t samples;
    double polls_per_s;
} s_modbus_t;

/* The value of metric "r0" in MSG, or -1. */
static double
s_r0 (const af_msg_t *msg, size_t *n_metrics)
{
    double v = -1;
    *n_metrics = 0;
    if (msg->env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY)
        return v;
    *n_metrics = msg->env->telemetry->n_metrics;
    for (size_t i = 0; i < msg->env->telemetry->n_metrics; i++)
        if (!strcmp (msg->env->telemetry->metrics[i]->name, "r0"))
            v = msg->env->telemetry->metrics[i]->value;
    return v;
}

static int
s_bench_modbus (const char *control, double seconds, size_t samples, s_modbus_t *out)
{
    int port = af_free_port_block (1);
    bms_server_t *dev = bms_start (port, S_REGS);
    if (!dev)
        return -1;
    char map[512], text[8192];
    snprintf (map, sizeof map, "%s/modbus.yaml", s_dir);
    size_t off = (size_t) snprintf (text, sizeof text,
                                    "bridge: {name: bench-modbus, cell: bench}\n"
                                    "modbus:\n  - device: dev\n    port: %d\n    poll_ms: %d\n"
                                    "    timeout_ms: 200\n    topic: regs\n    points:\n",
                                    port, S_POLL_MS);
    for (int i = 0; i < S_REGS; i++)
        off += (size_t) snprintf (text + off, sizeof text - off, "      - {name: r%d, address: %d}\n", i, i);
    s_write_file (map, text);
    const char *args[] = { "--map", map, "--broker", control, "--log-level", "warn", NULL };
    pid_t bridge = s_program ("autofab-bridge", args);
    af_bus_opts_t bo = { .broker = control, .source = "bench" };
    char err[256];
    af_bus_t *bus = af_bus_new (&bo, err, sizeof err);
    af_bus_subscribe (bus, "tel.factory.bench.bench-modbus.regs");
    int rc = -1;
    af_msg_t msg;
    /* Wait for the first poll to arrive. */
    int64_t deadline = zclock_mono () + 10000;
    bool up = false;
    while (!up && zclock_mono () < deadline)
        if (af_bus_recv (bus, &msg, 100) == 1) {
            up = true;
            af_msg_clear (&msg);
        }
    if (!up)
        goto done;
    /* Registers per second over SECONDS of steady polling. */
    uint64_t regs = 0;
    int64_t t0 = zclock_usecs ();
    while (zclock_usecs () - t0 < (int64_t) (seconds * 1e6))
        if (af_bus_recv (bus, &msg, 50) == 1) {
            size_t n;
            s_r0 (&msg, &n);
            regs += n;
            af_msg_clear (&msg);
        }
    out->regs_per_s = (double) regs / ((double) (zclock_usecs () - t0) / 1e6);
    /* Latency: change r0 at a random phase of the poll grid, time its arrival. */
    double *lat = calloc (samples, sizeof *lat);
    size_t got = 0;
    for (size_t k = 0; k < samples; k++) {
        zclock_sleep (rand () % (2 * S_POLL_MS) + 1);
        uint16_t value = (uint16_t) (1000 + k);
        int64_t t_change = zclock_usecs ();
        bms_set_holding (dev, 0, value);
        int64_t until = zclock_mono () + 1000;
        while (zclock_mono () < until) {
            if (af_bus_recv (bus, &msg, 50) != 1)
                continue;
            size_t n;
            double v = s_r0 (&msg, &n);
            af_msg_clear (&msg);
            if (v == value) {
                lat[got++] = (double) (zclock_usecs () - t_change) / 1000.0;
                break;
            }
        }
    }
    out->samples = got;
    out->max_ms = got ? lat[0] : NAN;
    for (size_t i = 0; i < got; i++)
        out->max_ms = fmax (out->max_ms, lat[i]);
    out->p50_ms = s_percentile (lat, got, 0.50);
    out->p99_ms = s_percentile (lat, got, 0.99);
    free (lat);
    rc = got == samples ? 0 : -1;
done:
    af_bus_destroy (&bus);
    s_stop (bridge);
    bms_stop (&dev);
    return rc;
}

/* ------------------------------------------------------------- Sparkplug */

#define S_GROUP "benchg"
#define S_BRIDGE_NODE "bench-edge"
#define S_PLAIN_NODE "plain-edg1"      /* as long as the bridge's: same topic size */

typedef struct {
    atomic_ullong bridge, plain;
    atomic_ullong bridge_bytes;        /* payload size of the bridge's DDATA */
} s_counts_t;

static void
s_on_sub_message (struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
    (void) m;
    s_counts_t *c = arg;
    if (strstr (msg->topic, "/DDATA/" S_BRIDGE_NODE "/")) {
        atomic_store (&c->bridge_bytes, (unsigned long long) msg->payloadlen);
        atomic_fetch_add (&c->bridge, 1);
    } else if (strstr (msg->topic, "/DDATA/" S_PLAIN_NODE "/"))
        atomic_fetch_add (&c->plain, 1);
}

/* N messages through the bus and the bridge; messages per second. */
static double
s_run_bridge (af_bus_t *bus, s_counts_t *c, uint64_t n)
{
    Autofab__Metric m = AUTOFAB__METRIC__INIT;
    m.name = "v";
    m.unit = "x";
    uint64_t base = atomic_load (&c->bridge), sent = 0;
    int64_t t0 = zclock_usecs (), deadline = zclock_mono () + 120000;
    while (atomic_load (&c->bridge) - base < n && zclock_mono () < deadline) {
        /* Sends on until N arrived: the first message of a device may
         * come out as its DBIRTH, which is not counted. */
        if (sent - (atomic_load (&c->bridge) - base) < S_WINDOW) {
            m.value = (double) sent++;
            af_bus_publish_metrics (bus, "tel.factory.bench.src.m", &m, 1);
        } else {
            af_bus_flush (bus);
            sched_yield ();
        }
    }
    af_bus_flush (bus);
    uint64_t got = atomic_load (&c->bridge) - base;
    return (double) got / ((double) (zclock_usecs () - t0) / 1e6);
}

/* N DDATA payloads like the bridge's straight from libmosquitto, served
 * the way the bridge serves it (no thread: publish writes at once). */
static double
s_run_plain (struct mosquitto *pub, s_counts_t *c, uint64_t n, size_t *payload_bytes)
{
    uint64_t base = atomic_load (&c->plain), sent = 0;
    uint8_t buf[512];
    const char *topic = "spBv1.0/" S_GROUP "/DDATA/" S_PLAIN_NODE "/d";
    int64_t t0 = zclock_usecs (), deadline = zclock_mono () + 120000;
    while (atomic_load (&c->plain) - base < n && zclock_mono () < deadline) {
        if (sent - (atomic_load (&c->plain) - base) < S_WINDOW) {
            /* The same message the bridge builds: seq, timestamp, one
             * metric by alias with its timestamp and a Double. */
            Sparkplug__Metric m = SPARKPLUG__METRIC__INIT;
            m.has_alias = m.has_timestamp = true;
            m.alias = 1;
            m.timestamp = (uint64_t) (af_clock_now_ns (NULL) / 1000000u);
            m.value_case = SPARKPLUG__METRIC__VALUE_DOUBLE_VALUE;
            m.double_value = (double) sent;
            Sparkplug__Metric *mp = &m;
            Sparkplug__Payload pl = SPARKPLUG__PAYLOAD__INIT;
            pl.has_timestamp = pl.has_seq = true;
            pl.timestamp = m.timestamp;
            pl.seq = sent % 256;
            pl.n_metrics = 1;
            pl.metrics = &mp;
            size_t len = sparkplug__payload__pack (&pl, buf);
            *payload_bytes = len;
            int prc = mosquitto_publish (pub, NULL, topic, (int) len, buf, 0, false);
            if (prc != MOSQ_ERR_SUCCESS) {
                fprintf (stderr, "bridge-bench: plain publish failed: %s\n", mosquitto_strerror (prc));
                return 0;
            }
            sent++;
        } else {
            /* Window full: yield as the bus publisher does (a sleep would
             * idle this one-stage pipeline far longer than asked on a
             * loaded machine). */
            mosquitto_loop (pub, 0, 1);
            sched_yield ();
        }
        if (sent % 64 == 0)
            mosquitto_loop (pub, 0, 1);
    }
    uint64_t got = atomic_load (&c->plain) - base;
    return (double) got / ((double) (zclock_usecs () - t0) / 1e6);
}

/* A plain run in a process of its own, as the bridge is: the counts live
 * in memory shared with the subscriber's process. */
typedef struct {
    s_counts_t counts;
    double plain_rate;
    size_t plain_bytes;
} s_shared_t;

static double
s_run_plain_process (int port, s_shared_t *sh, uint64_t n)
{
    sh->plain_rate = 0;
    pid_t pid = fork ();
    if (pid == 0) {
        struct mosquitto *pub = mosquitto_new (NULL, true, NULL);
        if (!pub || mosquitto_connect (pub, "127.0.0.1", port, 120) != MOSQ_ERR_SUCCESS)
            _exit (1);
        /* Served by hand: let the CONNACK in before timing. */
        for (int i = 0; i < 20; i++)
            mosquitto_loop (pub, 10, 1);
        sh->plain_rate = s_run_plain (pub, &sh->counts, n, &sh->plain_bytes);
        mosquitto_disconnect (pub);
        mosquitto_destroy (pub);
        _exit (0);
    }
    if (pid < 0)
        return 0;
    waitpid (pid, NULL, 0);
    return sh->plain_rate;
}

typedef struct {
    double bridge_msgs_per_s, plain_msgs_per_s, ratio;
    size_t payload_bytes, plain_payload_bytes;
} s_spb_t;

static int
s_bench_sparkplug (const char *control, uint64_t n, int runs, s_spb_t *out)
{
    if (access (S_MOSQUITTO, X_OK) != 0) {
        fprintf (stderr, "bridge-bench: %s is missing (Debian mosquitto)\n", S_MOSQUITTO);
        return -1;
    }
    int port = af_free_port_block (1);
    char conf[512], log[512], map[512], text[1024];
    snprintf (conf, sizeof conf, "%s/mosquitto.conf", s_dir);
    snprintf (log, sizeof log, "%s/mosquitto.log", s_dir);
    snprintf (text, sizeof text, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                                 "max_queued_messages 0\n", port);
    s_write_file (conf, text);
    const char *margv[] = { S_MOSQUITTO, "-c", conf, NULL };
    pid_t mosq = s_spawn (S_MOSQUITTO, margv, log);
    snprintf (map, sizeof map, "%s/spb.yaml", s_dir);
    snprintf (text, sizeof text,
              "bridge: {name: bench-spb, cell: bench}\n"
              "sparkplug:\n  port: %d\n  group: " S_GROUP "\n  edge_node: " S_BRIDGE_NODE "\n"
              "  publish:\n    - {pattern: 'tel.factory.bench.src.>', device: d}\n", port);
    s_write_file (map, text);
    mosquitto_lib_init ();
    s_shared_t *sh = mmap (NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return -1;
    memset (sh, 0, sizeof *sh);
    s_counts_t *counts = &sh->counts;
    struct mosquitto *sub = mosquitto_new ("bench-sub", true, counts);
    pid_t bridge = -1;
    af_bus_t *bus = NULL;
    int rc = -1;
    mosquitto_message_callback_set (sub, s_on_sub_message);
    bool up = false;
    for (int i = 0; i < 100 && !up; i++) {
        up = mosquitto_connect (sub, "127.0.0.1", port, 30) == MOSQ_ERR_SUCCESS;
        if (!up)
            zclock_sleep (50);
    }
    if (!up)
        goto done;
    mosquitto_subscribe (sub, NULL, "spBv1.0/" S_GROUP "/DDATA/#", 0);
    mosquitto_loop_start (sub);
    const char *bargs[] = { "--map", map, "--broker", control, "--log-level", "warn", NULL };
    bridge = s_program ("autofab-bridge", bargs);
    af_bus_opts_t bo = { .broker = control, .source = "src", .coalesce = AF_BUS_COALESCE };
    char err[256];
    bus = af_bus_new (&bo, err, sizeof err);
    if (!bus || !s_wait_listed (bus, "bench-spb", 10000) || af_bus_wait_ready (bus, 5000) != 0)
        goto done;
    /* Warm up: the DBIRTH, then DDATA flowing. */
    if (s_run_bridge (bus, counts, 100) <= 0 || s_run_plain_process (port, sh, 100) <= 0)
        goto done;
    double rb[16], rp[16];
    runs = runs > 16 ? 16 : runs;
    for (int r = 0; r < runs; r++) {
        rb[r] = s_run_bridge (bus, counts, n);
        rp[r] = s_run_plain_process (port, sh, n);
        printf ("  sparkplug run %d: bridge %.0f msg/s, plain libmosquitto %.0f msg/s\n", r + 1, rb[r], rp[r]);
    }
    out->bridge_msgs_per_s = s_percentile (rb, (size_t) runs, 0.5);
    out->plain_msgs_per_s = s_percentile (rp, (size_t) runs, 0.5);
    if (!(out->plain_msgs_per_s > 0 && out->bridge_msgs_per_s > 0))
        goto done;
    out->ratio = out->bridge_msgs_per_s / out->plain_msgs_per_s;
    out->payload_bytes = (size_t) atomic_load (&counts->bridge_bytes);
    out->plain_payload_bytes = sh->plain_bytes;
    rc = 0;
done:
    af_bus_destroy (&bus);
    s_stop (bridge);
    mosquitto_loop_stop (sub, true);
    mosquitto_destroy (sub);
    mosquitto_lib_cleanup ();
    munmap (sh, sizeof *sh);
    s_stop (mosq);
    return rc;
}

/* ------------------------------------------------------------------ main */

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: bridge-bench --bin DIR --json FILE [--seconds S] [--samples N]\n"
                  "                    [--messages N] [--runs N]\n"
                  "Benchmarks autofab-bridge (Modbus poll rate and latency, Sparkplug throughput\n"
                  "against a plain libmosquitto publisher) with the real programs on loopback.\n");
}

int
main (int argc, char **argv)
{
    af_log_init ("bridge-bench");
    af_log_set_level (AF_LOG_WARN);
    const char *json = NULL;
    double seconds = 5;
    long samples = 300, messages = 100000, runs = 3;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp (argv[i], "--help")) {
            s_usage (stdout);
            return 0;
        }
        if (!v)
            return af_args_usage_error ("bridge-bench", "'%s' needs a value", argv[i]);
        if (!strcmp (argv[i], "--bin")) s_bin = v;
        else if (!strcmp (argv[i], "--json")) json = v;
        else if (!strcmp (argv[i], "--seconds")) {
            if (!af_args_double ("bridge-bench", "--seconds", v, 0.5, 600, &seconds)) return 2;
        } else if (!strcmp (argv[i], "--samples")) {
            if (!af_args_long ("bridge-bench", "--samples", v, 10, 100000, &samples)) return 2;
        } else if (!strcmp (argv[i], "--messages")) {
            if (!af_args_long ("bridge-bench", "--messages", v, 1000, 100000000, &messages)) return 2;
        } else if (!strcmp (argv[i], "--runs")) {
            if (!af_args_long ("bridge-bench", "--runs", v, 1, 16, &runs)) return 2;
        } else
            return af_args_usage_error ("bridge-bench", "unknown option '%s'", argv[i]);
        i++;
    }
    zsys_init ();
    zsys_set_linger (0);
    snprintf (s_dir, sizeof s_dir, "%s/bridge-bench-XXXXXX", getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp");
    if (!mkdtemp (s_dir)) {
        fprintf (stderr, "bridge-bench: cannot create a work folder\n");
        return 1;
    }
    int bport = af_free_port_block (3);
    char control[64], port_text[16];
    snprintf (control, sizeof control, "tcp://127.0.0.1:%d", bport);
    snprintf (port_text, sizeof port_text, "%d", bport);
    const char *brargs[] = { "--port", port_text, "--log-level", "warn", NULL };
    pid_t broker = s_program ("autofab-broker", brargs);
    int rc = 1;
    s_modbus_t mb = { 0 };
    s_spb_t sp = { 0 };
    printf ("bridge-bench: Modbus, 1 device, %d holding registers polled every %d ms (%.0f s, %ld changes)\n",
            S_REGS, S_POLL_MS, seconds, samples);
    if (s_bench_modbus (control, seconds, (size_t) samples, &mb) != 0) {
        fprintf (stderr, "bridge-bench: the Modbus run failed (logs in %s)\n", s_dir);
        goto done;
    }
    printf ("bridge-bench: Sparkplug, %ld messages of 1 metric per run, %ld runs each, window %d\n",
            messages, runs, S_WINDOW);
    if (s_bench_sparkplug (control, (uint64_t) messages, (int) runs, &sp) != 0) {
        fprintf (stderr, "bridge-bench: the Sparkplug run failed (logs in %s)\n", s_dir);
        goto done;
    }
    double target_ms = 2.0 * S_POLL_MS + 5.0;
    printf ("\n| figure | measured | reference |\n| --- | --- | --- |\n");
    printf ("| Modbus registers/s at %d ms polls | %.0f | %.0f nominal (%d regs / %d ms) |\n", S_POLL_MS,
            mb.regs_per_s, S_REGS * 1000.0 / S_POLL_MS, S_REGS, S_POLL_MS);
    printf ("| change → bus latency p50 | %.2f ms | — |\n", mb.p50_ms);
    printf ("| change → bus latency p99 | %.2f ms | target ≤ %.0f ms (%s) |\n", mb.p99_ms, target_ms,
            mb.p99_ms <= target_ms ? "met" : "MISSED");
    printf ("| change → bus latency max | %.2f ms | %zu samples |\n", mb.max_ms, mb.samples);
    printf ("| Sparkplug bus → bridge → mosquitto → subscriber | %.0f metrics/s | — |\n", sp.bridge_msgs_per_s);
    printf ("| plain libmosquitto publisher → mosquitto → subscriber | %.0f metrics/s | — |\n", sp.plain_msgs_per_s);
    printf ("| ratio bridge / plain | %.2f | target ≥ 0.8 (%s) |\n", sp.ratio, sp.ratio >= 0.8 ? "met" : "MISSED");
    printf ("| DDATA payload bytes, bridge / plain | %zu / %zu | — |\n", sp.payload_bytes, sp.plain_payload_bytes);
    if (json) {
        FILE *f = fopen (json, "w");
        if (!f) {
            fprintf (stderr, "bridge-bench: cannot write %s\n", json);
            goto done;
        }
        fprintf (f, "{\n  \"modbus_regs_per_s\": %.1f,\n  \"modbus_poll_ms\": %d,\n  \"modbus_registers\": %d,\n"
                    "  \"modbus_p50_ms\": %.3f,\n  \"modbus_p99_ms\": %.3f,\n  \"modbus_max_ms\": %.3f,\n"
                    "  \"modbus_target_p99_ms\": %.1f,\n  \"modbus_samples\": %zu,\n"
                    "  \"sparkplug_bridge_metrics_per_s\": %.1f,\n  \"sparkplug_plain_metrics_per_s\": %.1f,\n"
                    "  \"sparkplug_ratio_vs_mosquitto\": %.3f,\n  \"sparkplug_messages_per_run\": %ld,\n"
                    "  \"sparkplug_runs\": %ld,\n  \"sparkplug_payload_bytes\": %zu\n}\n",
                 mb.regs_per_s, S_POLL_MS, S_REGS, mb.p50_ms, mb.p99_ms, mb.max_ms, target_ms, mb.samples,
                 sp.bridge_msgs_per_s, sp.plain_msgs_per_s, sp.ratio, messages, runs, sp.payload_bytes);
        fclose (f);
        printf ("\nwrote %s\n", json);
    }
    rc = 0;
done:
    s_stop (broker);
    if (rc == 0) {
        char cmd[300];
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
        if (system (cmd) != 0)
            fprintf (stderr, "bridge-bench: could not remove %s\n", s_dir);
    }
    return rc;
}
