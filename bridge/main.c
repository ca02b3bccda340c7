/*  autofab-bridge — real equipment on the bus: Modbus TCP devices and
 *  MQTT Sparkplug B edge nodes, as a map file says (docs/bridges.md).
 *
 *  autofab-bridge --map FILE [--broker B] [--factory F] [--check]
 */
#include "bridge.h"

#include "af_args.h"
#include "af_log.h"

#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: autofab-bridge --map FILE [--broker ENDPOINT] [--factory NAME] [--check]\n"
             "Bridges the Modbus TCP devices and Sparkplug B edge nodes of the map FILE\n"
             "(deploy/bridges/*.yaml, docs/bridges.md) to the autofab bus.\n"
             "  --map FILE          the map: devices, registers, commands, Sparkplug side\n"
             "  --broker ENDPOINT   broker control endpoint [$AUTOFAB_BROKER or tcp://127.0.0.1:5550]\n"
             "  --factory NAME      factory name in topics [the map's, else 'factory']\n"
             "  --heartbeat-ms N    heartbeat to the broker [1000]\n"
             "  --check             check the map, print a summary and exit (0 good, 2 bad)\n"
             "  --log-level LEVEL   debug, info, warn or error [info]\n"
             "  --help              this text\n");
}

int
main (int argc, char **argv)
{
    af_log_init ("autofab-bridge");
    static const struct option opts[] = {
        { "map", required_argument, NULL, 'm' },      { "broker", required_argument, NULL, 'b' },
        { "factory", required_argument, NULL, 'f' },  { "heartbeat-ms", required_argument, NULL, 'H' },
        { "check", no_argument, NULL, 'c' },          { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
    };
    const char *map_path = NULL;
    bridge_opts_t bo = { 0 };
    bool check = false;
    long hb = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': map_path = optarg; break;
        case 'b': bo.broker = optarg; break;
        case 'f': bo.factory = optarg; break;
        case 'H':
            if (!af_args_long ("autofab-bridge", "--heartbeat-ms", optarg, 10, 600000, &hb))
                return 2;
            bo.heartbeat_ms = (int) hb;
            break;
        case 'c': check = true; break;
        case 'l':
            if (af_log_parse_level (optarg) < 0)
                return af_args_usage_error ("autofab-bridge", "unknown log level '%s'", optarg);
            af_log_set_level ((af_log_level_t) af_log_parse_level (optarg));
            break;
        case 'h': s_usage (stdout); return 0;
        default:
            return af_args_usage_error ("autofab-bridge", "unknown or incomplete option '%s'",
                                        argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error ("autofab-bridge", "unexpected argument '%s'", argv[optind]);
    if (!map_path)
        return af_args_usage_error ("autofab-bridge", "--map FILE is required");
    char err[512];
    bm_map_t *map = bm_map_load (map_path, err, sizeof err);
    if (!map) {
        fprintf (stderr, "autofab-bridge: %s\n", err);
        return 2;
    }
    if (check) {
        size_t points = 0, cmds = 0;
        for (size_t i = 0; i < map->n_devices; i++) {
            points += map->devices[i].n_points;
            cmds += map->devices[i].n_commands;
        }
        printf ("%s: bridge %s, %zu modbus device(s), %zu point(s), %zu command(s), sparkplug %s\n",
                map_path, map->name, map->n_devices, points, cmds,
                map->spb.enabled ? (*map->spb.edge_node && *map->spb.host_id ? "edge node + host"
                                    : *map->spb.edge_node ? "edge node" : "host") : "off");
        bm_map_destroy (&map);
        return 0;
    }
    zsys_init ();
    bridge_t *bridge = bridge_new (map, &bo, err, sizeof err);
    if (!bridge) {
        fprintf (stderr, "autofab-bridge: %s\n", err);
        bm_map_destroy (&map);
        return 1;
    }
    int rc = bridge_run (bridge);
    bridge_destroy (&bridge);
    bm_map_destroy (&map);
    return rc;
}
