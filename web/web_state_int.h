/*  web_state_int — web_state's internals, shared by its three files:
 *  web_state.c (the model: applying messages), web_json.c and
 *  web_metrics.c (the two renderings).  Not for use outside web_state.  */
#ifndef WEB_STATE_INT_H
#define WEB_STATE_INT_H

#include <pthread.h>

#include "web_state.h"

#define WEB__MAX_KPIS 32
#define WEB__MAX_BROKER 16
#define WEB__MAX_ALARMS 64
#define WEB__STATION_STATES 6
#define WEB__ENERGY_N 9
#define WEB__LINE_N 4

/* A value the plant reports, with the Prometheus name it is exported under. */
/* NAME as the twin sends it; METRIC its Prometheus name, in base units
 * (seconds, meters, celsius …, as promtool's lint wants); TO_BASE converts
 * the twin's unit to it (0: the same unit). */
typedef struct {
    const char *name, *metric, *help;
    double to_base;
} web__field_t;

/* Indices into web__energy that the chart uses. */
enum { WEB__EN_GRID = 0, WEB__EN_SOLAR = 2, WEB__EN_SOC = 4, WEB__EN_PRICE = 5 };

enum { WEB__ST_STATE, WEB__ST_BUFFER, WEB__ST_CAP, WEB__ST_SPEED, WEB__ST_VIB, WEB__ST_TEMP, WEB__ST_UTIL,
       WEB__ST_N };

extern const char *const web__class_names[WEB_CLASS_COUNT];
extern const char *const web__station_states[WEB__STATION_STATES];
extern const web__field_t web__energy[WEB__ENERGY_N];
extern const web__field_t web__line[WEB__LINE_N];
extern const web__field_t web__station_fields[WEB__ST_N];

/* Every item carries `ver`, the state version of its last change, so that
 * a rendering since version V holds only items with ver > V. */

/* A station (tel.<f>.<cell>.<agent>.station.<name>, or a StationState). */
typedef struct {
    char name[WEB_NAME_BYTES];
    char cell[WEB_NAME_BYTES];
    int state;                   /* -1 unknown */
    double v[WEB__ST_N];         /* NAN: not reported */
    uint64_t ver;
} web__station_t;

typedef struct {
    char name[WEB_NAME_BYTES];
    double warehouse, on_order, bin;
    uint64_t ver;
} web__part_t;

/* A mobile robot (tel.<f>.<cell>.<agent>.robot.<name>). */
typedef struct {
    char name[WEB_NAME_BYTES];
    double busy, node, tasks_queued, utilisation;
    uint64_t ver;
} web__robot_t;

/* An agent, from its presence notices. */
typedef struct {
    char name[WEB_NAME_BYTES];
    char kind[WEB_NAME_BYTES];
    char cell[WEB_NAME_BYTES];
    char service[WEB_NAME_BYTES];
    char reason[WEB_NAME_BYTES];
    bool alive;
    uint64_t ver;
} web__agent_t;

/* Any other telemetry: the newest metrics of one topic. */
typedef struct {
    char name[WEB_NAME_BYTES];
    char unit[24];
    double value;
} web__metric_t;

typedef struct {
    char topic[AF_TOPIC_MAX_BYTES];
    char source[WEB_NAME_BYTES];
    uint64_t t_ns;
    int n;
    web__metric_t m[WEB_MAX_METRICS];
    uint64_t ver;
} web__generic_t;

/* One line of the alarms and events feed. */
typedef struct {
    uint64_t ver;
    uint64_t t_ns;
    web_class_t cls;
    char topic[AF_TOPIC_MAX_BYTES];
    char source[WEB_NAME_BYTES];
    char severity[16];           /* alarms: info, warning, critical */
    char code[WEB_NAME_BYTES];   /* alarm code, event kind, presence state */
    char text[WEB_TEXT_BYTES];
    bool active;
} web__feed_t;

/* A standing alarm, keyed by "topic|code". */
typedef struct {
    char key[AF_TOPIC_MAX_BYTES + WEB_NAME_BYTES];
    int severity;
    bool active;
} web__alarm_t;

/* A point of the energy chart. */
typedef struct {
    uint64_t ver;
    double t_h;                  /* the sender's clock, hours */
    double grid_kw, solar_kw, battery_soc, price_per_kwh;
} web__point_t;

typedef struct {
    char name[WEB_NAME_BYTES];
    double value;
} web__pair_t;

/* Traffic of one topic class. */
typedef struct {
    uint64_t msgs, bytes, gaps;
    uint64_t msgs_at_tick;
    double per_s;
} web__rate_t;

struct web_state {
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    char factory[WEB_NAME_BYTES];
    uint64_t ver;

    web__station_t stations[WEB_MAX_STATIONS];
    int n_stations;
    web__part_t parts[WEB_MAX_PARTS];
    int n_parts;
    web__robot_t robots[WEB_MAX_ROBOTS];
    int n_robots;
    web__agent_t agents[WEB_MAX_AGENTS];
    int n_agents;
    web__generic_t generic[WEB_MAX_GENERIC];
    int n_generic;

    double energy[WEB__ENERGY_N];
    uint64_t energy_ver;
    web__point_t points[WEB_ENERGY_POINTS];
    uint64_t n_points;           /* ever added; ring index = n % LEN */

    double line[WEB__LINE_N];
    uint64_t line_ver;

    web__pair_t kpis[WEB__MAX_KPIS];
    int n_kpis;
    uint64_t kpis_ver;

    web__pair_t broker[WEB__MAX_BROKER];
    int n_broker;
    uint64_t broker_ver;

    uint64_t sim_epoch, sim_t_ns;
    uint64_t sim_ver;

    web__feed_t feed[WEB_FEED_LEN];
    uint64_t n_feed;             /* ever added; ring index = n % LEN */
    web__alarm_t alarms[WEB__MAX_ALARMS];
    int n_alarms;
    uint64_t alarms_total[3];

    web__rate_t rates[WEB_CLASS_COUNT];
    int64_t last_tick_ms;
    af_bus_counters_t bus;
    uint64_t dropped;            /* items a full table had no room for */
    uint64_t http[4];            /* 2xx, 404, 405, other */
    int sse_clients;
};

#endif
