/*  Integration: autofab-bridge against a scripted Modbus TCP device (a
 *  libmodbus server in the test) and a real broker: mapped values and units
 *  arrive on the bus, allowed writes land in the register, others are
 *  refused with a reason, a dead device turns STALE with an alarm and
 *  recovers, and Modbus exceptions are counted.  */
#include "af_test.h"
#include "bridge_modbus_sim.h"

#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_WAIT_MS 8000

static aft_broker_t s_broker;

static void
s_setup (void)
{
    aft_zsys_init ();
    cr_assert (aft_broker_start (&s_broker, 0, 300));
}

static void
s_teardown (void)
{
    aft_broker_stop (&s_broker);
}

/* Writes the map for a device on PORT into DIR/map.yaml. */
static void
s_write_map (const char *dir, int port, char *path, size_t len)
{
    snprintf (path, len, "%s/map.yaml", dir);
    FILE *f = fopen (path, "w");
    cr_assert (f);
    fprintf (f,
             "bridge: {name: bridge-t, cell: cell1, status_ms: 200}\n"
             "modbus:\n"
             "  - device: plc\n"
             "    port: %d\n"
             "    poll_ms: 20\n"
             "    timeout_ms: 200\n"
             "    stale_after: 2\n"
             "    backoff_min_ms: 50\n"
             "    backoff_max_ms: 400\n"
             "    points:\n"
             "      - {name: state, topic: station.s1, address: 0}\n"
             "      - {name: buffer_level, topic: station.s1, address: 1}\n"
             "      - {name: speed, address: 20, scale: 0.001, unit: x}\n"
             "      - {name: temp_c, table: input, address: 0, type: f32, word_order: little, unit: degC}\n"
             "      - {name: level_s, address: 2, type: s16}\n"
             "      - {name: running, table: coil, address: 0}\n"
             "      - {name: ghost, topic: far, address: 150}\n"
             "    commands:\n"
             "      - {name: set_speed, point: speed, min: 0.5, max: 1.2}\n"
             "      - {name: run, point: running, min: 0, max: 1}\n",
             port);
    fclose (f);
}

/* Waits for telemetry on TOPIC whose metric NAME is WANT (± 1e-6); true
 * if it came.  *UNIT gets its unit when UNIT is not NULL. */
static bool
s_wait_metric (af_bus_t *bus, const char *topic, const char *name, double want, char *unit, size_t ulen)
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

/* Waits for an alarm on TOPIC with CODE and ACTIVE. */
static bool
s_wait_alarm (af_bus_t *bus, const char *topic, const char *code, bool active)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (zclock_mono () < deadline) {
        af_msg_t msg;
        if (af_bus_recv (bus, &msg, 100) != 1)
            continue;
        bool hit = !strcmp (msg.topic, topic) && msg.env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_ALARM
                   && !strcmp (msg.env->alarm->code, code) && msg.env->alarm->active == active;
        af_msg_clear (&msg);
        if (hit)
            return true;
    }
    return false;
}

static int
s_command (af_bus_t *bus, const char *action, double value, char *err, size_t len)
{
    Autofab__Param p = AUTOFAB__PARAM__INIT;
    Autofab__Param *pp = &p;
    p.name = "value";
    p.value_case = AUTOFAB__PARAM__VALUE_NUM;
    p.num = value;
    Autofab__Command cmd = AUTOFAB__COMMAND__INIT;
    cmd.action = (char *) action;
    cmd.params = &pp;
    cmd.n_params = 1;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_COMMAND;
    env.command = &cmd;
    Autofab__Envelope *reply = NULL;
    int status = af_bus_request (bus, "bridge-t", &env, 3000, 1, &reply, err, len);
    if (reply)
        autofab__envelope__free_unpacked (reply, NULL);
    return status;
}

/* The last value of metric NAME seen on TOPIC within WAIT_MS, or NAN. */
static double
s_last_metric (af_bus_t *bus, const char *topic, const char *name, int wait_ms)
{
    double v = NAN;
    int64_t deadline = zclock_mono () + wait_ms;
    while (zclock_mono () < deadline) {
        af_msg_t msg;
        if (af_bus_recv (bus, &msg, 50) != 1)
            continue;
        if (!strcmp (msg.topic, topic) && msg.env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY)
            for (size_t i = 0; i < msg.env->telemetry->n_metrics; i++)
                if (!strcmp (msg.env->telemetry->metrics[i]->name, name))
                    v = msg.env->telemetry->metrics[i]->value;
        af_msg_clear (&msg);
    }
    return v;
}

Test (bridge_modbus, values_writes_stale_and_recovery, .init = s_setup, .fini = s_teardown, .timeout = 90)
{
    int port = aft_free_ports (1);
    bms_server_t *dev = bms_start (port, 100);
    cr_assert (dev, "no Modbus test device on port %d", port);
    bms_set_holding (dev, 0, 1);              /* state: busy */
    bms_set_holding (dev, 1, 3);              /* buffer_level */
    bms_set_holding (dev, 20, 1000);          /* speed 1.0 */
    bms_set_holding (dev, 2, 0xFFF6);         /* -10 as s16 */
    bms_set_input (dev, 0, 0x0000);           /* 71.5f = 0x428F0000, low word first */
    bms_set_input (dev, 1, 0x428F);
    bms_set_coil (dev, 0, 1);

    char dir[256], map[300];
    cr_assert (aft_tmpdir (dir, sizeof dir, "bridge-modbus"));
    s_write_map (dir, port, map, sizeof map);
    af_bus_t *bus = aft_bus (&s_broker, "tester");
    cr_assert (bus);
    af_bus_subscribe (bus, "tel.factory.cell1.bridge-t.>");
    af_bus_subscribe (bus, "alm.factory.cell1.bridge-t.>");
    const char *argv[] = { "--map", map, "--broker", s_broker.control, "--heartbeat-ms", "300", NULL };
    pid_t pid = aft_spawn ("autofab-bridge", argv);
    cr_assert (pid > 0);

    /* Values and units arrive as mapped. */
    char unit[32] = "";
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.station.s1", "state", 1, NULL, 0));
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.station.s1", "buffer_level", 3, NULL, 0));
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.plc", "speed", 1.0, unit, sizeof unit));
    cr_assert_str_eq (unit, "x");
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.plc", "temp_c", 71.5, unit, sizeof unit));
    cr_assert_str_eq (unit, "degC");
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.plc", "level_s", -10, NULL, 0));
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.plc", "running", 1, NULL, 0));
    /* A register change reaches the bus. */
    bms_set_holding (dev, 1, 5);
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.station.s1", "buffer_level", 5, NULL, 0));

    /* The point past the device's 100 registers: an exception, counted;
     * the device stays online. */
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.device.plc", "online", 1, NULL, 0));
    double exc = s_last_metric (bus, "tel.factory.cell1.bridge-t.device.plc", "exceptions", 500);
    cr_assert (exc >= 1, "exceptions counted: %g", exc);

    /* Allowed write lands; disallowed and out-of-range ones are refused. */
    char err[300] = "";
    cr_assert_eq (s_command (bus, "set_speed", 0.8, err, sizeof err), 0, "%s", err);
    cr_assert_eq (bms_get_holding (dev, 20), 800);
    cr_assert_eq (s_command (bus, "run", 0, err, sizeof err), 0, "%s", err);
    cr_assert_eq (bms_get_coil (dev, 0), 0);
    cr_assert_eq (s_command (bus, "set_speed", 5, err, sizeof err), AUTOFAB__STATUS__STATUS_BAD_REQUEST);
    cr_assert (strstr (err, "outside the allowed range"), "%s", err);
    cr_assert_eq (s_command (bus, "set_state", 1, err, sizeof err), AUTOFAB__STATUS__STATUS_BAD_REQUEST);
    cr_assert (strstr (err, "not allowed by the map"), "%s", err);
    cr_assert_eq (bms_get_holding (dev, 20), 800, "a refused write must not touch the register");

    /* The device dies: STALE, an alarm; the bridge lives on. */
    bms_stop (&dev);
    cr_assert (s_wait_alarm (bus, "alm.factory.cell1.bridge-t.device.plc", "modbus_stale", true));
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.device.plc", "online", 0, NULL, 0));
    cr_assert_eq (s_command (bus, "set_speed", 1.0, err, sizeof err), AUTOFAB__STATUS__STATUS_BAD_REQUEST);
    cr_assert (strstr (err, "offline"), "%s", err);
    cr_assert_eq (kill (pid, 0), 0, "the bridge died with its device");

    /* It comes back on the same port: recovery, alarm cleared, values. */
    dev = bms_start (port, 100);
    cr_assert (dev);
    bms_set_holding (dev, 1, 7);
    cr_assert (s_wait_alarm (bus, "alm.factory.cell1.bridge-t.device.plc", "modbus_stale", false));
    cr_assert (s_wait_metric (bus, "tel.factory.cell1.bridge-t.station.s1", "buffer_level", 7, NULL, 0));

    cr_assert_eq (aft_stop (pid, SIGTERM, 5000), 0);
    bms_stop (&dev);
    af_bus_destroy (&bus);
    aft_rmtree (dir);
}

Test (bridge_modbus, bad_map_exits_2_with_file_line, .init = aft_zsys_init)
{
    char dir[256], path[300];
    cr_assert (aft_tmpdir (dir, sizeof dir, "bridge-badmap"));
    snprintf (path, sizeof path, "%s/bad.yaml", dir);
    FILE *f = fopen (path, "w");
    fprintf (f, "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, address: 99999}\n");
    fclose (f);
    const char *argv[] = { "--map", path, NULL };
    pid_t pid = aft_spawn ("autofab-bridge", argv);
    cr_assert_eq (aft_wait_exit (pid, 5000), 2);
    char *log = aft_child_log (pid, "autofab-bridge");
    char want[320];
    snprintf (want, sizeof want, "%s:5:", path);
    cr_assert (strstr (log, want) && strstr (log, "address"), "got: %s", log);
    free (log);
    const char *usage[] = { "--mapp", path, NULL };
    pid = aft_spawn ("autofab-bridge", usage);
    cr_assert_eq (aft_wait_exit (pid, 5000), 2);
    aft_rmtree (dir);
}
