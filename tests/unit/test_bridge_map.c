/*  Unit tests: bridge/map.c — map files, good and bad (file:line errors).  */
#include "bridge/map.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_good[] =
    "bridge: {name: b1, cell: c1}\n"
    "modbus:\n"
    "  - device: plc\n"
    "    port: 5020\n"
    "    poll_ms: 50\n"
    "    points:\n"
    "      - {name: state, topic: station.s1, address: 0}\n"
    "      - {name: temp_c, table: input, address: 4, type: f32, word_order: little, unit: degC}\n"
    "      - {name: run, table: coil, address: 3}\n"
    "      - {name: speed, address: 9, scale: 0.01}\n"
    "    commands:\n"
    "      - {name: set_speed, point: speed, min: 0.5, max: 1.2}\n";

static bm_map_t *
s_parse (const char *text, char *err, size_t len)
{
    return bm_map_parse (text, strlen (text), "m.yaml", err, len);
}

Test (bridge_map, good_map)
{
    char err[256] = "";
    bm_map_t *m = s_parse (s_good, err, sizeof err);
    cr_assert (m, "%s", err);
    cr_assert_eq (m->n_devices, 1);
    const bm_device_t *d = &m->devices[0];
    cr_assert_eq (d->n_points, 4);
    cr_assert_str_eq (d->points[0].topic, "station.s1");
    cr_assert_str_eq (d->points[1].topic, "plc", "points without a topic use the device's");
    cr_assert_eq (d->points[1].fmt.type, BV_F32);
    cr_assert (d->points[1].fmt.word_swap);
    cr_assert_eq (d->points[2].fmt.type, BV_BOOL, "coils default to bool");
    cr_assert_eq (d->poll_ms, 50);
    const bm_command_t *c = bm_device_command (d, "set_speed");
    cr_assert (c && c->point == 3);
    cr_assert_null (bm_device_command (d, "set_state"));
    cr_assert (!m->spb.enabled);
    bm_map_destroy (&m);
    cr_assert_null (m);
}

/* Each bad map: text and what its error must say, with its line. */
static const struct {
    const char *text, *want;
} s_bad[] = {
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, address: 70000}\n",
      "m.yaml:5:" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, address: 65535, type: u32}\n",
      "address" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, address: 1, type: float}\n",
      "'type' must be one of" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, table: coil, address: 1, type: u16}\n",
      "bit tables hold bool only" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, table: input, address: 1}\n"
      "    commands:\n      - {name: w, point: x, min: 0, max: 1}\n",
      "cannot be written" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, address: 1}\n"
      "    commands:\n      - {name: w, point: nope, min: 0, max: 1}\n",
      "m.yaml:7: command 'w': no point 'nope'" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, address: 1}\n"
      "    commands:\n      - {name: w, point: x, min: 0, max: 70000}\n",
      "does not fit point 'x'" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    pionts: []\n", "pionts" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points: []\n", "non-empty 'points'" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, address: 1, topic: 'a..b'}\n",
      "topic segments" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, address: 1}\n      - {name: x, address: 2}\n",
      "already mapped at line 5" },
    { "bridge: {name: b}\nmodbus:\n  - device: d\n    points:\n      - {name: x, address: 1, byte_order: middle}\n",
      "big or little" },
    { "bridge: {name: b}\n", "nothing to bridge" },
    { "modbus: []\n", "missing 'bridge'" },
    { "bridge: {name: b}\nsparkplug: {group: g}\n", "'edge_node' or a 'host_application'" },
    { "bridge: {name: b}\nsparkplug: {group: g, edge_node: 'a/b'}\n", "must not contain" },
    { "bridge: {name: b}\nsparkplug:\n  group: g\n  edge_node: e\n  publish:\n    - {pattern: 'tel.>.x', device: d}\n",
      "not a valid topic pattern" },
    { "bridge: {name: b}\nsparkplug:\n  group: g\n  edge_node: e\n  publish:\n    - {pattern: 'tel.a', device: d}\n"
      "    - {pattern: 'tel.b', device: d}\n", "m.yaml:7: device 'd' is already published" },
    { "bridge: {name: b}\nmodbus: [\n", "m.yaml:" },
};

Test (bridge_map, bad_maps_say_file_and_line)
{
    for (size_t i = 0; i < sizeof s_bad / sizeof s_bad[0]; i++) {
        char err[300] = "";
        bm_map_t *m = s_parse (s_bad[i].text, err, sizeof err);
        cr_assert_null (m, "bad map %zu was accepted", i);
        cr_assert (strstr (err, s_bad[i].want), "map %zu: error '%s' lacks '%s'", i, err, s_bad[i].want);
        cr_assert (!strncmp (err, "m.yaml:", 7), "map %zu: error '%s' has no file:line", i, err);
    }
}

Test (bridge_map, example_maps_load)
{
    const char *src = getenv ("AF_SRC");
    static const char *const maps[] = { "deploy/bridges/cell-modbus.yaml", "deploy/bridges/sparkplug.yaml" };
    for (size_t i = 0; i < 2; i++) {
        char path[512], err[300];
        snprintf (path, sizeof path, "%s/%s", src ? src : ".", maps[i]);
        bm_map_t *m = bm_map_load (path, err, sizeof err);
        cr_assert (m, "%s", err);
        bm_map_destroy (&m);
    }
}
