/*  bridge modbus — one Modbus TCP device polled with libmodbus.
 *
 *  The device reads its map's points in as few requests as the protocol
 *  allows (neighbouring addresses of one table share a read), hands each
 *  poll's values to a sink, and writes only through the map's commands,
 *  range-checked.  A connection that fails is retried with exponential
 *  back-off; after stale_after failures in a row the device is STALE and
 *  the sink hears of it once, and once more when it is back.  A Modbus
 *  exception (the device answered, but refused) is counted and marks the
 *  points of that read invalid; it does not make the device stale.
 *  Requests block for at most the map's timeout_ms.
 */
#ifndef BRIDGE_MODBUS_H
#define BRIDGE_MODBUS_H

#include "map.h"

#include <stdint.h>

typedef struct bmb_device bmb_device_t;

typedef struct {
    uint64_t polls;              /* polls that read every block */
    uint64_t poll_errors;        /* polls lost to a connection error or timeout */
    uint64_t exceptions;         /* Modbus exception replies */
    uint64_t connects, connect_failures;
    uint64_t late_polls;         /* polls that started a whole period late */
    uint64_t writes, writes_refused;
    uint64_t stale_events;
    double last_poll_ms, max_poll_ms;
} bmb_counters_t;

typedef struct {
    /* After each poll: VALUES[i] of point i, valid when VALID[i]. */
    void (*values) (void *arg, const bm_device_t *dev, const double *values, const bool *valid);
    /* The device went STALE (ONLINE false, WHY the last error) or came back. */
    void (*state) (void *arg, const bm_device_t *dev, bool online, const char *why);
    void *arg;
} bmb_sink_t;

/* A device for MAP (not copied: it must outlive the device). */
bmb_device_t *bmb_device_new (const bm_device_t *map, const bmb_sink_t *sink);
void bmb_device_destroy (bmb_device_t **self_p);
/* When (af_clock_mono_ms) the device next wants bmb_device_iterate. */
int64_t bmb_device_due_ms (const bmb_device_t *self);
/* Polls (or reconnects) if it is time at NOW_MS. */
void bmb_device_iterate (bmb_device_t *self, int64_t now_ms);
/* Writes VALUE through COMMAND: 0, or -1 with the reason in ERR (not
 * allowed by the map, out of range, device offline, write failed). */
int bmb_device_write (bmb_device_t *self, const char *command, double value, char *err,
                      size_t err_len);
bool bmb_device_online (const bmb_device_t *self);
const bmb_counters_t *bmb_device_counters (const bmb_device_t *self);
const bm_device_t *bmb_device_map (const bmb_device_t *self);

#endif
