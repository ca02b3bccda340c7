/*  Integration: autofab-bridge's Sparkplug B side against mosquitto (a
 *  generated config on a free loopback port) and peers written with
 *  python3-paho-mqtt (tests/integration/bridge_spb_peer.py).  As an edge
 *  node: births, data by alias, seq and bdSeq, a rebirth on request, a
 *  DDEATH for a silent device, and the NDEATH will when the bridge is
 *  killed.  As a host application: STATE, births and data onto the bus
 *  with units and types, malformed payloads and wrong types refused and
 *  counted, and a seq gap answered with a rebirth request.  */
#include "af_test.h"
#include "bridge_peers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_WAIT_MS 10000

typedef struct {
    char dir[256];
    aft_broker_t broker;
    pid_t mosquitto, bridge, peer;
    int mqtt_port;
    char peer_script[512], proto_dir[512];
} s_env_t;

/* Starts mosquitto and a broker; skips the test without mosquitto or Python. */
static void
s_env_start (s_env_t *e, const char *name)
{
    aft_zsys_init ();
    memset (e, 0, sizeof *e);
    const char *src = getenv ("AF_SRC");
    snprintf (e->peer_script, sizeof e->peer_script, "%s/tests/integration/bridge_spb_peer.py", src ? src : ".");
    snprintf (e->proto_dir, sizeof e->proto_dir, "%s/bridge", src ? src : ".");
    cr_assert (aft_tmpdir (e->dir, sizeof e->dir, name));
    if (access (BPEER_PYTHON, X_OK) != 0 || access (BPEER_MOSQUITTO, X_OK) != 0) {
        aft_rmtree (e->dir);
        cr_skip_test ("needs %s and %s (Debian mosquitto, python3-paho-mqtt)", BPEER_MOSQUITTO, BPEER_PYTHON);
    }
    e->mosquitto = bpeer_mosquitto (e->dir, &e->mqtt_port);
    cr_assert (e->mosquitto > 0, "mosquitto did not start (see %s/mosquitto.log)", e->dir);
    cr_assert (aft_broker_start (&e->broker, 0, 300));
}

static void
s_env_stop (s_env_t *e)
{
    if (e->bridge > 0)
        aft_stop (e->bridge, SIGKILL, 2000);
    if (e->peer > 0)
        aft_stop (e->peer, SIGKILL, 2000);
    aft_broker_stop (&e->broker);
    if (e->mosquitto > 0)
        aft_stop (e->mosquitto, SIGTERM, 3000);
    aft_rmtree (e->dir);
}

/* Runs the Python peer in MODE; ARG1 … ARG3 (may be NULL) follow the
 * peer's usage (bridge_spb_peer.py): the port first, except for "check". */
static pid_t
s_python (s_env_t *e, const char *mode, const char *arg1, const char *arg2, const char *arg3)
{
    char port[16], log[512];
    snprintf (port, sizeof port, "%d", e->mqtt_port);
    snprintf (log, sizeof log, "%s/peer-%s.log", e->dir, mode);
    bool check = !strcmp (mode, "check");
    const char *argv[] = { BPEER_PYTHON, e->peer_script, mode, e->proto_dir, e->dir,
                           check ? arg1 : port, check ? arg2 : arg1, check ? arg3 : NULL, NULL };
    return bpeer_spawn (BPEER_PYTHON, argv, log);
}

/* The contents of DIR/NAME (free it), or NULL. */
static char *
s_slurp (const char *dir, const char *name)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "r");
    if (!f)
        return NULL;
    char *buf = calloc (1, 1 << 20);
    size_t n = buf ? fread (buf, 1, (1 << 20) - 1, f) : 0;
    (void) n;
    fclose (f);
    return buf;
}

/* How many times NEEDLE occurs in DIR/NAME. */
static int
s_count (const char *dir, const char *name, const char *needle)
{
    char *text = s_slurp (dir, name);
    int n = 0;
    for (const char *p = text; p && (p = strstr (p, needle)); p++)
        n++;
    free (text);
    return n;
}

static void
s_write_map (s_env_t *e, const char *body, char *path, size_t len)
{
    snprintf (path, len, "%s/map.yaml", e->dir);
    FILE *f = fopen (path, "w");
    cr_assert (f);
    fputs (body, f);
    fclose (f);
}

static void
s_publish (af_bus_t *bus, double state)
{
    Autofab__Metric m[2] = { AUTOFAB__METRIC__INIT, AUTOFAB__METRIC__INIT };
    m[0].name = "state";
    m[0].value = state;
    m[1].name = "temp_c";
    m[1].value = 20 + state;
    m[1].unit = "degC";
    af_bus_publish_metrics (bus, "tel.factory.cell1.src.station.s1", m, 2);
}

/* Publishes every 50 ms until NEEDLE has occurred N times in the log. */
static bool
s_feed_until (s_env_t *e, af_bus_t *bus, double *state, const char *needle, int n)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (zclock_mono () < deadline) {
        s_publish (bus, (*state)++);
        if (s_count (e->dir, "observed.jsonl", needle) >= n)
            return true;
        zclock_sleep (50);
    }
    return false;
}

Test (bridge_sparkplug, edge_node_births_data_rebirth_and_will, .timeout = 120)
{
    s_env_t e;
    s_env_start (&e, "bridge-spb-edge");
    char ready[600], map[600], body[1024];
    e.peer = s_python (&e, "observe", NULL, NULL, NULL);
    snprintf (ready, sizeof ready, "%s/observer.ready", e.dir);
    cr_assert (bpeer_wait_file (ready, 20000), "the Python observer did not start (see %s)", e.dir);
    snprintf (body, sizeof body,
              "bridge: {name: bridge-e, cell: cell1, status_ms: 200}\n"
              "sparkplug:\n"
              "  port: %d\n"
              "  group: g1\n"
              "  edge_node: e1\n"
              "  keepalive_s: 5\n"
              "  publish:\n"
              "    - {pattern: 'tel.factory.cell1.src.>', device: cell1, stale_ms: 700}\n",
              e.mqtt_port);
    s_write_map (&e, body, map, sizeof map);
    const char *argv[] = { "--map", map, "--broker", e.broker.control, "--heartbeat-ms", "300", NULL };
    e.bridge = aft_spawn ("autofab-bridge", argv);
    af_bus_t *bus = aft_bus (&e.broker, "src");
    cr_assert (aft_wait_listed (bus, "bridge-e", true, S_WAIT_MS));
    cr_assert_eq (af_bus_wait_ready (bus, 5000), 0);

    double state = 1;
    cr_assert (s_feed_until (&e, bus, &state, "\"NBIRTH\"", 1), "no NBIRTH");
    cr_assert (s_feed_until (&e, bus, &state, "\"DDATA\"", 3), "no DDATA");
    /* A host asks for a rebirth: NBIRTH and DBIRTH again. */
    char path[600];
    snprintf (path, sizeof path, "%s/rebirth", e.dir);
    FILE *f = fopen (path, "w");
    fputs ("g1 e1\n", f);
    fclose (f);
    cr_assert (s_feed_until (&e, bus, &state, "\"NBIRTH\"", 2), "rebirth not honoured");
    cr_assert (s_feed_until (&e, bus, &state, "\"DBIRTH\"", 2), "no DBIRTH after the rebirth");
    int ddata = s_count (e.dir, "observed.jsonl", "\"DDATA\"");
    cr_assert (s_feed_until (&e, bus, &state, "\"DDATA\"", ddata + 2));
    /* The device falls silent: DDEATH. */
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (s_count (e.dir, "observed.jsonl", "\"DDEATH\"") == 0 && zclock_mono () < deadline)
        zclock_sleep (50);
    cr_assert_gt (s_count (e.dir, "observed.jsonl", "\"DDEATH\""), 0, "no DDEATH for a silent device");
    /* The bridge dies without a goodbye: mosquitto sends its will. */
    kill (e.bridge, SIGKILL);
    aft_wait_exit (e.bridge, 3000);
    e.bridge = 0;
    deadline = zclock_mono () + S_WAIT_MS;
    while (s_count (e.dir, "observed.jsonl", "\"NDEATH\"") == 0 && zclock_mono () < deadline)
        zclock_sleep (50);
    cr_assert_gt (s_count (e.dir, "observed.jsonl", "\"NDEATH\""), 0, "no NDEATH via the will");
    snprintf (path, sizeof path, "%s/stop", e.dir);
    fclose (fopen (path, "w"));
    aft_wait_exit (e.peer, 5000);
    e.peer = 0;
    /* The whole conversation against the specification's rules. */
    pid_t check = s_python (&e, "check", "g1", "e1", "cell1");
    int rc = aft_wait_exit (check, 20000);
    char *verdict = s_slurp (e.dir, "peer-check.log");
    cr_assert_eq (rc, 0, "Sparkplug check: %s", verdict ? verdict : "(no output)");
    free (verdict);
    af_bus_destroy (&bus);
    s_env_stop (&e);
}

/* Waits for telemetry on TOPIC with metric NAME = WANT; its unit in UNIT. */
static bool
s_wait_metric (af_bus_t *bus, const char *topic, const char *name, double want, char *unit, size_t ulen,
               bool *saw_99)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (zclock_mono () < deadline) {
        af_msg_t msg;
        if (af_bus_recv (bus, &msg, 100) != 1)
            continue;
        bool hit = false;
        if (!strcmp (msg.topic, topic) && msg.env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY)
            for (size_t i = 0; i < msg.env->telemetry->n_metrics; i++) {
                const Autofab__Metric *m = msg.env->telemetry->metrics[i];
                if (saw_99 && m->value == 99.0)
                    *saw_99 = true;
                if (!strcmp (m->name, name) && fabs (m->value - want) < 1e-6) {
                    hit = true;
                    if (unit)
                        snprintf (unit, ulen, "%s", m->unit);
                }
            }
        af_msg_clear (&msg);
        if (hit)
            return true;
    }
    return false;
}

Test (bridge_sparkplug, host_application_types_gaps_and_bad_input, .timeout = 120)
{
    s_env_t e;
    s_env_start (&e, "bridge-spb-host");
    char map[600], body[1024];
    snprintf (body, sizeof body,
              "bridge: {name: bridge-h, status_ms: 200}\n"
              "sparkplug:\n"
              "  port: %d\n"
              "  group: own\n"
              "  host_application: {id: h1, group: g1}\n",
              e.mqtt_port);
    s_write_map (&e, body, map, sizeof map);
    af_bus_t *bus = aft_bus (&e.broker, "tester");
    af_bus_subscribe (bus, "tel.factory.plant.bridge-h.>");
    const char *argv[] = { "--map", map, "--broker", e.broker.control, "--heartbeat-ms", "300", NULL };
    e.bridge = aft_spawn ("autofab-bridge", argv);
    cr_assert (aft_wait_listed (bus, "bridge-h", true, S_WAIT_MS));
    e.peer = s_python (&e, "edge", "h1", NULL, NULL);

    const char *dev = "tel.factory.plant.bridge-h.spb.g1.e1.d1";
    char unit[32] = "";
    bool saw_99 = false;
    cr_assert (s_wait_metric (bus, "tel.factory.plant.bridge-h.spb.g1.e1", "uptime_s", 12, NULL, 0, NULL),
               "node metrics of the NBIRTH not on the bus");
    cr_assert (s_wait_metric (bus, dev, "temp", 20.5, unit, sizeof unit, &saw_99), "DBIRTH values not on the bus");
    cr_assert_str_eq (unit, "degC", "the unit of the birth's engUnit property");
    cr_assert (s_wait_metric (bus, dev, "count", -7, NULL, 0, &saw_99), "Int32 -7 by alias not on the bus");
    cr_assert (s_wait_metric (bus, dev, "temp", 22.5, NULL, 0, &saw_99),
               "a wrong-typed metric must not hold back the rest of its payload");
    /* After the gap the edge node is asked for a rebirth and is born again. */
    cr_assert (s_wait_metric (bus, dev, "temp", 31.5, NULL, 0, &saw_99), "no data after the rebirth");
    cr_assert (!saw_99, "data after a seq gap was forwarded");
    int rc = aft_wait_exit (e.peer, S_WAIT_MS);
    char *log = s_slurp (e.dir, "edge.log");
    cr_assert_eq (rc, 0, "the Python edge node: exit %d, log: %s", rc, log ? log : "");
    cr_assert (log && strstr (log, "STATE {\"online\":true"), "no STATE online: %s", log ? log : "");
    free (log);
    e.peer = 0;
    /* Counters: every bad input refused and counted. */
    static const char *const want[] = { "bad_payloads", "wrong_types", "seq_gaps", "rebirth_requests", "bad_topics" };
    bool seen[5] = { false };
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    int n_seen = 0;
    while (n_seen < 5 && zclock_mono () < deadline) {
        af_msg_t msg;
        if (af_bus_recv (bus, &msg, 100) != 1)
            continue;
        if (!strcmp (msg.topic, "tel.factory.plant.bridge-h.sparkplug"))
            for (size_t i = 0; i < msg.env->telemetry->n_metrics; i++)
                for (int k = 0; k < 5; k++)
                    if (!seen[k] && !strcmp (msg.env->telemetry->metrics[i]->name, want[k])
                        && msg.env->telemetry->metrics[i]->value >= 1) {
                        seen[k] = true;
                        n_seen++;
                    }
        af_msg_clear (&msg);
    }
    for (int k = 0; k < 5; k++)
        cr_assert (seen[k], "counter %s never reached 1", want[k]);
    cr_assert_eq (kill (e.bridge, 0), 0, "the bridge died of bad input");
    af_bus_destroy (&bus);
    s_env_stop (&e);
}
