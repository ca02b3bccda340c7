/*  Integration: a Modbus cell drives the twin's shadow mode through the
 *  bridge.  The map puts a PLC's registers on the station topics the twin
 *  tracks (tel.<factory>.*.*.station.<name>, metrics "state" and
 *  "buffer_level"); when the plant's PLC says station "stack" is down with
 *  two units waiting, `autofab-twin --shadow` reports the disagreement and
 *  takes the plant's word — so a what_if would start from the live cell.  */
#include "af_test.h"
#include "bridge_modbus_sim.h"
#include "twin.pb-c.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test (bridge_shadow, modbus_cell_drives_twin_shadow, .timeout = 90)
{
    aft_zsys_init ();
    aft_broker_t broker;
    cr_assert (aft_broker_start (&broker, 0, 300));
    int port = aft_free_ports (1);
    bms_server_t *plc = bms_start (port, 64);
    cr_assert (plc);
    /* At first stack is starved and empty, as the model starts; weld-a is
     * busy (a disagreement the twin reports but does not force). */
    bms_set_holding (plc, 0, 0);
    bms_set_holding (plc, 1, 0);
    bms_set_holding (plc, 2, 1);
    bms_set_holding (plc, 3, 0);
    char dir[256], map[300], config[512];
    cr_assert (aft_tmpdir (dir, sizeof dir, "bridge-shadow"));
    snprintf (map, sizeof map, "%s/cell.yaml", dir);
    FILE *f = fopen (map, "w");
    fprintf (f,
             "bridge: {name: bridge-cell1, cell: cell1}\n"
             "modbus:\n"
             "  - device: plc\n"
             "    port: %d\n"
             "    poll_ms: 100\n"
             "    points:\n"
             "      - {name: state, topic: station.stack, address: 0}\n"
             "      - {name: buffer_level, topic: station.stack, address: 1}\n"
             "      - {name: state, topic: station.weld-a, address: 2}\n"
             "      - {name: buffer_level, topic: station.weld-a, address: 3}\n",
             port);
    fclose (f);
    const char *src = getenv ("AF_SRC");
    snprintf (config, sizeof config, "%s/deploy/factories/two-line.yaml", src ? src : ".");

    af_bus_t *bus = aft_bus (&broker, "tester");
    af_bus_subscribe (bus, "evt.factory.plant.shadow.shadow");
    const char *targv[] = { "--shadow", "--broker", broker.control, "--config", config, "--hours", "1",
                            "--idle-timeout-ms", "1500", NULL };
    pid_t twin = aft_spawn ("autofab-twin", targv);
    cr_assert (aft_wait_listed (bus, "shadow", true, 10000), "the shadow twin did not register");
    const char *bargv[] = { "--map", map, "--broker", broker.control, "--heartbeat-ms", "300", NULL };
    pid_t bridge = aft_spawn ("autofab-bridge", bargv);

    /* Once the twin has reported anything (its publisher has joined the
     * broker: the very first publication of a process can be lost to
     * ZeroMQ's slow joiner), the PLC says stack broke down with 2 units
     * waiting (state 3 = down in twin_state_t). */
    bool stack_down = false, changed = false;
    int64_t deadline = zclock_mono () + 15000;
    while (!stack_down && zclock_mono () < deadline) {
        af_msg_t msg;
        if (af_bus_recv (bus, &msg, 100) != 1)
            continue;
        if (!changed) {
            bms_set_holding (plc, 1, 2);
            bms_set_holding (plc, 0, 3);
            changed = true;
        }
        if (msg.env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_TYPED) {
            Autofab__Twin__ShadowDisagreement *d = autofab__twin__shadow_disagreement__unpack (
                NULL, msg.env->typed->data.len, msg.env->typed->data.data);
            if (d && !strcmp (d->station, "stack") && strstr (d->text, "plant=down"))
                stack_down = true;
            if (d)
                autofab__twin__shadow_disagreement__free_unpacked (d, NULL);
        }
        af_msg_clear (&msg);
    }
    cr_assert (stack_down, "the twin never took the PLC's word that 'stack' is down");
    /* The cell goes quiet: the twin stops on its idle timeout and says how
     * many reports it tracked. */
    cr_assert_eq (aft_stop (bridge, SIGTERM, 5000), 0);
    cr_assert_eq (aft_wait_exit (twin, 10000), 0);
    char *log = aft_child_log (twin, "autofab-twin");
    unsigned long long reports = 0, corrected = 0;
    const char *line = log ? strstr (log, "shadow: ") : NULL;
    while (line && sscanf (line, "shadow: %llu station reports, %llu disagreements", &reports, &corrected) != 2)
        line = strstr (line + 1, "shadow: ");
    cr_assert (reports >= 4 && corrected >= 1, "twin said: %s", log ? log : "");
    free (log);
    af_bus_destroy (&bus);
    bms_stop (&plc);
    aft_broker_stop (&broker);
    aft_rmtree (dir);
}
