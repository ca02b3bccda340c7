/*  bridge — autofab-bridge: real equipment on the bus (issue 20).
 *
 *  An agent that polls the Modbus TCP devices of its map and publishes
 *  their points as telemetry on tel.<factory>.<cell>.<name>.<topic>, offers
 *  the map's write commands as its service "<name>", reports each device's
 *  health on tel.….device.<dev> (and a STALE device as an event and an
 *  alarm on evt/alm.….device.<dev>), and runs the Sparkplug B edge node and
 *  host application of the map (sparkplug.h).  Shaped like the broker:
 *  bridge_new / _start / _iterate / _run / _stop so tests can step it.
 */
#ifndef BRIDGE_H
#define BRIDGE_H

#include "map.h"

typedef struct bridge bridge_t;

typedef struct {
    const char *broker;          /* NULL: $AUTOFAB_BROKER or the default */
    const char *factory;         /* NULL: the map's */
    int heartbeat_ms;            /* 0: 1000 */
} bridge_opts_t;

/* A bridge for MAP (not copied: it must outlive the bridge).  NULL with a
 * reason in ERR. */
bridge_t *bridge_new (const bm_map_t *map, const bridge_opts_t *opts, char *err, size_t err_len);
void bridge_destroy (bridge_t **self_p);
int bridge_start (bridge_t *self);
/* One turn: bus, Modbus polls that are due, MQTT.  0, or -1 to stop. */
int bridge_iterate (bridge_t *self, int timeout_ms);
/* start + iterate until stopped (signal or bridge_stop); the exit code. */
int bridge_run (bridge_t *self);
void bridge_stop (bridge_t *self);

#endif
