/*  bridge map — the map file of autofab-bridge (deploy/bridges/ YAML files).
 *
 *  One YAML file says which Modbus devices to poll, which registers and
 *  coils become which metrics on which topics, which writes are allowed as
 *  commands (and in what range), and how the Sparkplug B side runs (the
 *  bus topics it publishes as an edge node, the edge nodes it consumes as a
 *  host application).  Every key is checked; the first error comes back as
 *  "file:line: why".  A loaded map is immutable and owned by its caller.
 */
#ifndef BRIDGE_MAP_H
#define BRIDGE_MAP_H

#include "value.h"

#define BM_NAME_MAX 64
/* Largest span one Modbus read covers: 125 registers (the protocol's limit
 * for function 3/4), 2000 bits for coils and discrete inputs. */
#define BM_MAX_READ_REGS 125
#define BM_MAX_READ_BITS 2000

typedef struct {
    char name[BM_NAME_MAX];      /* metric name on the bus */
    char topic[BM_NAME_MAX];     /* topic kind: tel.<f>.<cell>.<bridge>.<topic> */
    char unit[24];
    bv_table_t table;
    unsigned address;            /* 0-based protocol address */
    bv_format_t fmt;
    int line;                    /* map file line, for messages */
} bm_point_t;

typedef struct {
    char name[BM_NAME_MAX];      /* the command's action */
    int point;                   /* index into the device's points */
    double min, max;             /* allowed values, engineering units */
} bm_command_t;

typedef struct {
    char name[BM_NAME_MAX];
    char host[128];
    int port;
    int unit_id;
    int poll_ms;
    int timeout_ms;              /* per request */
    int stale_after;             /* failed polls in a row before STALE */
    int backoff_min_ms, backoff_max_ms;
    bm_point_t *points;
    size_t n_points;
    bm_command_t *commands;
    size_t n_commands;
} bm_device_t;

typedef struct {
    char pattern[256];           /* bus pattern whose telemetry is published */
    char device[BM_NAME_MAX];    /* as this Sparkplug device */
    int stale_ms;                /* silence → DDEATH; 0 never */
} bm_publish_t;

typedef struct {
    bool enabled;
    char host[128];
    int port;
    char group[BM_NAME_MAX];     /* Sparkplug group id */
    char edge_node[BM_NAME_MAX]; /* our edge node id ("" : no edge node) */
    int keepalive_s;
    bm_publish_t *publish;
    size_t n_publish;
    char host_id[BM_NAME_MAX];   /* host application id ("" : no host) */
    char consume_group[BM_NAME_MAX]; /* group consumed as host ("+": all) */
} bm_sparkplug_t;

typedef struct {
    char name[BM_NAME_MAX];      /* agent and service name */
    char cell[BM_NAME_MAX];
    char factory[BM_NAME_MAX];
    int status_ms;               /* device status/counters period */
    bm_device_t *devices;
    size_t n_devices;
    bm_sparkplug_t spb;
} bm_map_t;

/* Loads and checks a map file; NULL with "file:line: why" in ERR. */
bm_map_t *bm_map_load (const char *path, char *err, size_t err_len);
/* The same from text; NAME stands for the file in messages. */
bm_map_t *bm_map_parse (const char *text, size_t len, const char *name, char *err, size_t err_len);
void bm_map_destroy (bm_map_t **self_p);

/* A command of DEVICE by name, or NULL. */
const bm_command_t *bm_device_command (const bm_device_t *device, const char *name);

#endif
