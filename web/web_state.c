/*  web_state — the dashboard's model of the plant, fed by bus messages and
 *  rendered as JSON and Prometheus text.  See web_state.h.  */
#include "web_state.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "twin.pb-c.h"

#define S_MAX_SEGMENTS 8
#define S_MAX_KPIS 32
#define S_MAX_BROKER 16
#define S_MAX_ALARMS 64
#define S_STATION_STATES 6

/* ------------------------------------------------------------ tables */

static const char *const s_class_names[WEB_CLASS_COUNT] = { "tel", "evt", "alm", "cmd", "sys", "other" };

/* autofab.twin.StationStatus order; the twin publishes the number. */
static const char *const s_station_states[S_STATION_STATES] = {
    "starved", "busy", "blocked", "down", "maintenance", "setup"
};

/* The energy values the twin publishes on tel.<f>.<cell>.twin.energy, with
 * the Prometheus name each is exported under. */
static const struct { const char *name, *metric, *help; } s_energy[] = {
    { "grid_kw", "autofab_energy_grid_kw", "Power drawn from the grid, kW" },
    { "load_kw", "autofab_energy_load_kw", "Plant load, kW" },
    { "solar_kw", "autofab_energy_solar_kw", "Solar generation, kW" },
    { "battery_kw", "autofab_energy_battery_kw", "Battery power, kW (+ discharge)" },
    { "battery_soc", "autofab_energy_battery_soc_ratio", "Battery state of charge, 0..1" },
    { "price_per_kwh", "autofab_energy_price_per_kwh", "Grid energy price per kWh" },
    { "hvac_kw", "autofab_energy_hvac_kw", "HVAC power, kW" },
    { "indoor_c", "autofab_energy_indoor_c", "Indoor temperature, degC" },
    { "ambient_c", "autofab_energy_ambient_c", "Ambient temperature, degC" },
};
#define S_ENERGY_N (sizeof s_energy / sizeof s_energy[0])

static const struct { const char *name, *metric, *help; } s_line[] = {
    { "units", "autofab_line_units", "Units finished by the line (as the twin reports)" },
    { "release_queue", "autofab_line_release_queue", "Orders waiting for release" },
    { "defects_found", "autofab_line_defects_found", "Defects found by inspection" },
    { "robots_busy", "autofab_robots_busy", "Mobile robots busy" },
};
#define S_LINE_N (sizeof s_line / sizeof s_line[0])

/* Station telemetry fields, by the metric names the twin uses. */
enum { S_ST_STATE, S_ST_BUFFER, S_ST_CAP, S_ST_SPEED, S_ST_VIB, S_ST_TEMP, S_ST_UTIL, S_ST_N };
static const struct { const char *name, *metric, *help; } s_station_fields[S_ST_N] = {
    { "state", NULL, NULL },
    { "buffer_level", "autofab_station_buffer_level", "Units in the station's input buffer" },
    { "buffer_cap", "autofab_station_buffer_capacity", "Input buffer capacity (-1 unbounded)" },
    { "speed", "autofab_station_speed_ratio", "Station speed, x nameplate" },
    { "vibration_rms_mm_s", "autofab_station_vibration_rms_mm_s", "Vibration RMS, mm/s" },
    { "temp_c", "autofab_station_temp_c", "Station temperature, degC" },
    { "utilisation", "autofab_station_utilisation_ratio", "Busy fraction, 0..1" },
};

/* ------------------------------------------------------------ structure */

typedef struct {
    char name[WEB_NAME_BYTES];
    char cell[WEB_NAME_BYTES];
    int state;                   /* -1 unknown */
    double v[S_ST_N];            /* NAN: not reported */
    uint64_t ver;
} s_station_t;

typedef struct {
    char name[WEB_NAME_BYTES];
    double warehouse, on_order, bin;
    uint64_t ver;
} s_part_t;

typedef struct {
    char name[WEB_NAME_BYTES];
    char kind[WEB_NAME_BYTES];
    char cell[WEB_NAME_BYTES];
    char service[WEB_NAME_BYTES];
    char reason[WEB_NAME_BYTES];
    bool alive;
    uint64_t ver;
} s_agent_t;

typedef struct {
    char name[WEB_NAME_BYTES];
    char unit[24];
    double value;
} s_metric_t;

typedef struct {
    char topic[AF_TOPIC_MAX_BYTES];
    char source[WEB_NAME_BYTES];
    uint64_t t_ns;
    int n;
    s_metric_t m[WEB_MAX_METRICS];
    uint64_t ver;
} s_generic_t;

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
} s_feed_t;

typedef struct {
    char key[AF_TOPIC_MAX_BYTES + WEB_NAME_BYTES];
    int severity;
    bool active;
} s_alarm_t;

typedef struct {
    uint64_t ver;
    double t_h;                  /* the sender's clock, hours */
    double grid_kw, solar_kw, battery_soc, price_per_kwh;
} s_point_t;

typedef struct {
    char name[WEB_NAME_BYTES];
    double value;
} s_pair_t;

typedef struct {
    uint64_t msgs, bytes, gaps;
    uint64_t msgs_at_tick;
    double per_s;
} s_rate_t;

struct web_state {
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    char factory[WEB_NAME_BYTES];
    uint64_t ver;

    s_station_t stations[WEB_MAX_STATIONS];
    int n_stations;
    s_part_t parts[WEB_MAX_PARTS];
    int n_parts;
    s_agent_t agents[WEB_MAX_AGENTS];
    int n_agents;
    s_generic_t generic[WEB_MAX_GENERIC];
    int n_generic;

    double energy[S_ENERGY_N];
    uint64_t energy_ver;
    s_point_t points[WEB_ENERGY_POINTS];
    uint64_t n_points;           /* ever added; ring index = n % LEN */

    double line[S_LINE_N];
    uint64_t line_ver;

    s_pair_t kpis[S_MAX_KPIS];
    int n_kpis;
    uint64_t kpis_ver;

    s_pair_t broker[S_MAX_BROKER];
    int n_broker;
    uint64_t broker_ver;

    uint64_t sim_epoch, sim_t_ns;
    uint64_t sim_ver;

    s_feed_t feed[WEB_FEED_LEN];
    uint64_t n_feed;             /* ever added; ring index = n % LEN */
    s_alarm_t alarms[S_MAX_ALARMS];
    int n_alarms;
    uint64_t alarms_total[3];

    s_rate_t rates[WEB_CLASS_COUNT];
    int64_t last_tick_ms;
    af_bus_counters_t bus;
    uint64_t dropped;            /* items a full table had no room for */
    uint64_t http[4];            /* 2xx, 404, 405, other */
    int sse_clients;
};

/* ------------------------------------------------------------ helpers */

static void
s_copy (char *dst, size_t len, const char *src)
{
    snprintf (dst, len, "%s", src ? src : "");
}

/* Splits a copy of TOPIC into at most S_MAX_SEGMENTS segments; their count. */
static int
s_split (const char *topic, char *copy, size_t len, char **seg)
{
    s_copy (copy, len, topic);
    int n = 0;
    char *save = NULL;
    for (char *s = strtok_r (copy, ".", &save); s && n < S_MAX_SEGMENTS; s = strtok_r (NULL, ".", &save))
        seg[n++] = s;
    return n;
}

static web_class_t
s_class (const char *name)
{
    for (int c = 0; c < WEB_CLASS_OTHER; c++)
        if (!strcmp (name, s_class_names[c]))
            return (web_class_t) c;
    return WEB_CLASS_OTHER;
}

static void
s_bump (web_state_t *self)
{
    self->ver++;
    pthread_cond_broadcast (&self->changed);
}

static s_station_t *
s_station (web_state_t *self, const char *name, const char *cell)
{
    for (int i = 0; i < self->n_stations; i++)
        if (!strcmp (self->stations[i].name, name))
            return &self->stations[i];
    if (self->n_stations == WEB_MAX_STATIONS || strlen (name) >= WEB_NAME_BYTES) {
        self->dropped++;
        return NULL;
    }
    s_station_t *s = &self->stations[self->n_stations++];
    memset (s, 0, sizeof *s);
    s_copy (s->name, sizeof s->name, name);
    s_copy (s->cell, sizeof s->cell, cell);
    s->state = -1;
    for (int f = 0; f < S_ST_N; f++)
        s->v[f] = NAN;
    return s;
}

static s_part_t *
s_part (web_state_t *self, const char *name)
{
    for (int i = 0; i < self->n_parts; i++)
        if (!strcmp (self->parts[i].name, name))
            return &self->parts[i];
    if (self->n_parts == WEB_MAX_PARTS || strlen (name) >= WEB_NAME_BYTES) {
        self->dropped++;
        return NULL;
    }
    s_part_t *p = &self->parts[self->n_parts++];
    memset (p, 0, sizeof *p);
    s_copy (p->name, sizeof p->name, name);
    p->warehouse = p->on_order = p->bin = NAN;
    return p;
}

static s_agent_t *
s_agent (web_state_t *self, const char *name)
{
    for (int i = 0; i < self->n_agents; i++)
        if (!strcmp (self->agents[i].name, name))
            return &self->agents[i];
    if (self->n_agents == WEB_MAX_AGENTS || strlen (name) >= WEB_NAME_BYTES || !name[0]) {
        self->dropped++;
        return NULL;
    }
    s_agent_t *a = &self->agents[self->n_agents++];
    memset (a, 0, sizeof *a);
    s_copy (a->name, sizeof a->name, name);
    return a;
}

/* Sets NAME in a bounded name/value table; false if it is full. */
static bool
s_pair_set (s_pair_t *pairs, int *n, int max, const char *name, double value)
{
    if (!name || !name[0] || strlen (name) >= WEB_NAME_BYTES)
        return false;
    for (int i = 0; i < *n; i++)
        if (!strcmp (pairs[i].name, name)) {
            pairs[i].value = value;
            return true;
        }
    if (*n == max)
        return false;
    s_copy (pairs[*n].name, sizeof pairs[*n].name, name);
    pairs[(*n)++].value = value;
    return true;
}

static s_feed_t *
s_feed_add (web_state_t *self, web_class_t cls, const char *topic, const Autofab__Envelope *env)
{
    s_feed_t *f = &self->feed[self->n_feed++ % WEB_FEED_LEN];
    memset (f, 0, sizeof *f);
    f->ver = self->ver;
    f->cls = cls;
    f->t_ns = env->header ? env->header->t_ns : 0;
    s_copy (f->topic, sizeof f->topic, topic);
    s_copy (f->source, sizeof f->source, env->header ? env->header->source : "");
    return f;
}

/* ------------------------------------------------------------ applying messages */

static void
s_station_metric (s_station_t *s, const char *name, double value)
{
    for (int f = 0; f < S_ST_N; f++)
        if (!strcmp (name, s_station_fields[f].name)) {
            if (f == S_ST_STATE)
                s->state = isfinite (value) && value >= 0 && value < S_STATION_STATES ? (int) value : -1;
            else
                s->v[f] = value;
        }
}

static void
s_on_station_tel (web_state_t *self, const char *name, const char *cell, const Autofab__Telemetry *tel)
{
    s_station_t *s = s_station (self, name, cell);
    if (!s)
        return;
    for (size_t i = 0; i < tel->n_metrics; i++)
        if (tel->metrics[i] && tel->metrics[i]->name)
            s_station_metric (s, tel->metrics[i]->name, tel->metrics[i]->value);
    s->ver = self->ver;
}

static void
s_on_part_tel (web_state_t *self, const char *name, const Autofab__Telemetry *tel)
{
    s_part_t *p = s_part (self, name);
    if (!p)
        return;
    for (size_t i = 0; i < tel->n_metrics; i++) {
        const Autofab__Metric *m = tel->metrics[i];
        if (!m || !m->name)
            continue;
        if (!strcmp (m->name, "warehouse"))
            p->warehouse = m->value;
        else if (!strcmp (m->name, "on_order"))
            p->on_order = m->value;
        else if (!strcmp (m->name, "bin"))
            p->bin = m->value;
    }
    p->ver = self->ver;
}

static void
s_on_energy_tel (web_state_t *self, const Autofab__Envelope *env)
{
    const Autofab__Telemetry *tel = env->telemetry;
    for (size_t i = 0; i < tel->n_metrics; i++)
        for (size_t e = 0; tel->metrics[i] && tel->metrics[i]->name && e < S_ENERGY_N; e++)
            if (!strcmp (tel->metrics[i]->name, s_energy[e].name))
                self->energy[e] = tel->metrics[i]->value;
    self->energy_ver = self->ver;
    s_point_t *pt = &self->points[self->n_points++ % WEB_ENERGY_POINTS];
    pt->ver = self->ver;
    pt->t_h = env->header ? (double) env->header->t_ns / 3.6e12 : 0;
    pt->grid_kw = self->energy[0];
    pt->solar_kw = self->energy[2];
    pt->battery_soc = self->energy[4];
    pt->price_per_kwh = self->energy[5];
}

static void
s_on_line_tel (web_state_t *self, const Autofab__Telemetry *tel)
{
    for (size_t i = 0; i < tel->n_metrics; i++)
        for (size_t l = 0; tel->metrics[i] && tel->metrics[i]->name && l < S_LINE_N; l++)
            if (!strcmp (tel->metrics[i]->name, s_line[l].name))
                self->line[l] = tel->metrics[i]->value;
    self->line_ver = self->ver;
}

static void
s_on_kpi_tel (web_state_t *self, const Autofab__Telemetry *tel)
{
    for (size_t i = 0; i < tel->n_metrics; i++)
        if (tel->metrics[i] && !s_pair_set (self->kpis, &self->n_kpis, S_MAX_KPIS, tel->metrics[i]->name,
                                            tel->metrics[i]->value))
            self->dropped++;
    self->kpis_ver = self->ver;
}

static void
s_on_broker_stats (web_state_t *self, const Autofab__Telemetry *tel)
{
    for (size_t i = 0; i < tel->n_metrics; i++)
        if (tel->metrics[i] && !s_pair_set (self->broker, &self->n_broker, S_MAX_BROKER,
                                            tel->metrics[i]->name, tel->metrics[i]->value))
            self->dropped++;
    self->broker_ver = self->ver;
}

/* Any other telemetry: kept per topic, the least recently updated topic
 * making room for a new one when the table is full. */
static void
s_on_generic_tel (web_state_t *self, const char *topic, const Autofab__Envelope *env)
{
    s_generic_t *g = NULL;
    for (int i = 0; i < self->n_generic && !g; i++)
        if (!strcmp (self->generic[i].topic, topic))
            g = &self->generic[i];
    if (!g && self->n_generic < WEB_MAX_GENERIC)
        g = &self->generic[self->n_generic++];
    else if (!g) {
        g = &self->generic[0];
        for (int i = 1; i < self->n_generic; i++)
            if (self->generic[i].ver < g->ver)
                g = &self->generic[i];
        self->dropped++;
    }
    memset (g, 0, sizeof *g);
    s_copy (g->topic, sizeof g->topic, topic);
    s_copy (g->source, sizeof g->source, env->header ? env->header->source : "");
    g->t_ns = env->header ? env->header->t_ns : 0;
    const Autofab__Telemetry *tel = env->telemetry;
    for (size_t i = 0; i < tel->n_metrics && g->n < WEB_MAX_METRICS; i++) {
        const Autofab__Metric *m = tel->metrics[i];
        if (!m)
            continue;
        s_copy (g->m[g->n].name, sizeof g->m[g->n].name, m->name);
        s_copy (g->m[g->n].unit, sizeof g->m[g->n].unit, m->unit);
        g->m[g->n++].value = m->value;
    }
    g->ver = self->ver;
}

static void
s_on_telemetry (web_state_t *self, const char *topic, char **seg, int n, const Autofab__Envelope *env)
{
    web_class_t cls = s_class (seg[0]);
    if (cls == WEB_CLASS_SYS && n == 5 && !strcmp (seg[3], "broker") && !strcmp (seg[4], "stats"))
        s_on_broker_stats (self, env->telemetry);
    else if (cls == WEB_CLASS_TEL && n == 6 && !strcmp (seg[4], "station"))
        s_on_station_tel (self, seg[5], seg[2], env->telemetry);
    else if (cls == WEB_CLASS_TEL && n == 6 && !strcmp (seg[4], "inventory"))
        s_on_part_tel (self, seg[5], env->telemetry);
    else if (cls == WEB_CLASS_TEL && n == 5 && !strcmp (seg[4], "energy"))
        s_on_energy_tel (self, env);
    else if (cls == WEB_CLASS_TEL && n == 5 && !strcmp (seg[4], "line"))
        s_on_line_tel (self, env->telemetry);
    else if (cls == WEB_CLASS_TEL && n == 5 && (!strcmp (seg[4], "kpis") || !strcmp (seg[4], "kpi")))
        s_on_kpi_tel (self, env->telemetry);
    else
        s_on_generic_tel (self, topic, env);
}

static void
s_kpis_from_proto (web_state_t *self, const Autofab__Twin__Kpis *k)
{
    const s_pair_t values[] = {
        { "sim_h", k->sim_h }, { "units", k->units }, { "throughput_uph", k->throughput_uph },
        { "cycle_time_mean_min", k->cycle_time_mean_min }, { "oee_pct", k->oee_pct },
        { "downtime_h", k->downtime_h }, { "unplanned_downtime_h", k->unplanned_downtime_h },
        { "planned_downtime_h", k->planned_downtime_h }, { "mtbf_h", k->mtbf_h },
        { "mttr_h", k->mttr_h }, { "escaped_defects_ppm", k->escaped_defects_ppm },
        { "scrap_units", k->scrap_units }, { "rework_units", k->rework_units },
        { "energy_kwh_per_unit", k->energy_kwh_per_unit },
        { "energy_cost_per_unit", k->energy_cost_per_unit }, { "peak_kw", k->peak_kw },
        { "manual_interventions", k->manual_interventions },
        { "robot_utilisation_pct", k->robot_utilisation_pct },
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        s_pair_set (self->kpis, &self->n_kpis, S_MAX_KPIS, values[i].name, values[i].value);
    self->kpis_ver = self->ver;
}

static void
s_on_typed (web_state_t *self, const char *topic, char **seg, int n, const Autofab__Envelope *env)
{
    const Autofab__Typed *t = env->typed;
    if (!t->type)
        return;
    if (!strcmp (t->type, "autofab.twin.StationState")) {
        Autofab__Twin__StationState *st = autofab__twin__station_state__unpack (NULL, t->data.len, t->data.data);
        if (!st)
            return;
        s_station_t *s = st->station && st->station[0]
                         ? s_station (self, st->station, n > 2 ? seg[2] : "") : NULL;
        if (s) {
            s->state = st->status >= 0 && st->status < S_STATION_STATES ? (int) st->status : -1;
            s->v[S_ST_BUFFER] = st->buffer_level;
            s->v[S_ST_CAP] = st->buffer_cap;
            s->v[S_ST_SPEED] = st->speed;
            s->v[S_ST_VIB] = st->vibration_rms_mm_s;
            s->v[S_ST_TEMP] = st->temp_c;
            s->v[S_ST_UTIL] = st->utilisation;
            s->ver = self->ver;
        }
        autofab__twin__station_state__free_unpacked (st, NULL);
    }
    else if (!strcmp (t->type, "autofab.twin.MaintenanceEvent")) {
        Autofab__Twin__MaintenanceEvent *me
            = autofab__twin__maintenance_event__unpack (NULL, t->data.len, t->data.data);
        if (!me)
            return;
        s_feed_t *f = s_feed_add (self, s_class (seg[0]), topic, env);
        s_copy (f->code, sizeof f->code, me->kind);
        snprintf (f->text, sizeof f->text, "%.60s: %.60s (%.30s)", me->station ? me->station : "",
                  me->kind ? me->kind : "", me->cause ? me->cause : "");
        autofab__twin__maintenance_event__free_unpacked (me, NULL);
    }
}

static void
s_on_presence (web_state_t *self, const char *topic, char **seg, int n, const Autofab__Envelope *env)
{
    const Autofab__Presence *p = env->presence;
    /* The name is in the message; the topic's agent segment is the fallback. */
    const char *name = p->name && p->name[0] ? p->name : n > 3 ? seg[3] : "";
    s_agent_t *a = s_agent (self, name);
    if (a) {
        a->alive = p->state == AUTOFAB__PRESENCE__STATE__STATE_BIRTH;
        s_copy (a->kind, sizeof a->kind, p->kind);
        s_copy (a->cell, sizeof a->cell, p->cell && p->cell[0] ? p->cell : n > 2 ? seg[2] : "");
        s_copy (a->reason, sizeof a->reason, p->reason);
        s_copy (a->service, sizeof a->service, p->n_services > 0 ? p->services[0] : "");
        a->ver = self->ver;
    }
    s_feed_t *f = s_feed_add (self, WEB_CLASS_SYS, topic, env);
    s_copy (f->code, sizeof f->code, p->state == AUTOFAB__PRESENCE__STATE__STATE_BIRTH ? "birth" : "death");
    snprintf (f->text, sizeof f->text, "%.60s %s%s%.40s", name,
              p->state == AUTOFAB__PRESENCE__STATE__STATE_BIRTH ? "joined" : "left",
              p->reason && p->reason[0] ? ": " : "", p->reason ? p->reason : "");
    f->active = a ? a->alive : false;
}

static void
s_on_alarm (web_state_t *self, const char *topic, const Autofab__Envelope *env)
{
    const Autofab__Alarm *al = env->alarm;
    int sev = al->severity >= 0 && al->severity <= 2 ? (int) al->severity : 0;
    static const char *const names[3] = { "info", "warning", "critical" };
    s_feed_t *f = s_feed_add (self, WEB_CLASS_ALM, topic, env);
    s_copy (f->severity, sizeof f->severity, names[sev]);
    s_copy (f->code, sizeof f->code, al->code);
    s_copy (f->text, sizeof f->text, al->text);
    f->active = al->active;
    if (al->active)
        self->alarms_total[sev]++;
    /* Which alarms are standing: keyed by topic and code. */
    char key[sizeof self->alarms[0].key];
    snprintf (key, sizeof key, "%s|%.60s", topic, al->code ? al->code : "");
    s_alarm_t *slot = NULL;
    for (int i = 0; i < self->n_alarms && !slot; i++)
        if (!strcmp (self->alarms[i].key, key))
            slot = &self->alarms[i];
    if (!slot && al->active) {
        if (self->n_alarms < S_MAX_ALARMS)
            slot = &self->alarms[self->n_alarms++];
        else {
            for (int i = 0; i < self->n_alarms && !slot; i++)
                if (!self->alarms[i].active)
                    slot = &self->alarms[i];
            if (!slot)
                self->dropped++;
        }
    }
    if (slot) {
        s_copy (slot->key, sizeof slot->key, key);
        slot->severity = sev;
        slot->active = al->active;
    }
}

static void
s_on_event (web_state_t *self, const char *topic, const Autofab__Envelope *env)
{
    const Autofab__Event *ev = env->event;
    s_feed_t *f = s_feed_add (self, WEB_CLASS_EVT, topic, env);
    s_copy (f->code, sizeof f->code, ev->kind);
    s_copy (f->text, sizeof f->text, ev->text);
}

void
web_state_apply (web_state_t *self, const char *topic, const Autofab__Envelope *env, size_t bytes,
                 uint64_t gap)
{
    if (!self || !topic || !env)
        return;
    char copy[AF_TOPIC_MAX_BYTES], *seg[S_MAX_SEGMENTS];
    int n = s_split (topic, copy, sizeof copy, seg);
    if (n < 2)
        return;
    pthread_mutex_lock (&self->mutex);
    if (self->factory[0] && strcmp (seg[1], self->factory)) {
        pthread_mutex_unlock (&self->mutex);
        return;
    }
    web_class_t cls = s_class (seg[0]);
    self->rates[cls].msgs++;
    self->rates[cls].bytes += bytes;
    self->rates[cls].gaps += gap;
    s_bump (self);
    switch (env->payload_case) {
    case AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY:
        if (env->telemetry)
            s_on_telemetry (self, topic, seg, n, env);
        break;
    case AUTOFAB__ENVELOPE__PAYLOAD_TYPED:
        if (env->typed && env->typed->type && !strcmp (env->typed->type, "autofab.twin.Kpis")) {
            Autofab__Twin__Kpis *k = autofab__twin__kpis__unpack (NULL, env->typed->data.len,
                                                                  env->typed->data.data);
            if (k) {
                s_kpis_from_proto (self, k);
                autofab__twin__kpis__free_unpacked (k, NULL);
            }
        }
        else if (env->typed)
            s_on_typed (self, topic, seg, n, env);
        break;
    case AUTOFAB__ENVELOPE__PAYLOAD_PRESENCE:
        if (env->presence)
            s_on_presence (self, topic, seg, n, env);
        break;
    case AUTOFAB__ENVELOPE__PAYLOAD_ALARM:
        if (env->alarm)
            s_on_alarm (self, topic, env);
        break;
    case AUTOFAB__ENVELOPE__PAYLOAD_EVENT:
        if (env->event)
            s_on_event (self, topic, env);
        break;
    case AUTOFAB__ENVELOPE__PAYLOAD_TICK:
        if (env->tick) {
            self->sim_epoch = env->tick->epoch;
            self->sim_t_ns = env->tick->sim_t_ns;
            self->sim_ver = self->ver;
        }
        break;
    default:
        break;
    }
    pthread_mutex_unlock (&self->mutex);
}

void
web_state_apply_kpis (web_state_t *self, const void *data, size_t len)
{
    if (!self || !data)
        return;
    Autofab__Twin__Kpis *k = autofab__twin__kpis__unpack (NULL, len, data);
    if (!k)
        return;
    pthread_mutex_lock (&self->mutex);
    s_bump (self);
    s_kpis_from_proto (self, k);
    pthread_mutex_unlock (&self->mutex);
    autofab__twin__kpis__free_unpacked (k, NULL);
}

void
web_state_tick (web_state_t *self, int64_t now_ms, const af_bus_counters_t *bus)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->mutex);
    if (bus)
        self->bus = *bus;
    int64_t dt_ms = now_ms - self->last_tick_ms;
    if (self->last_tick_ms > 0 && dt_ms > 0) {
        bool moved = false;
        for (int c = 0; c < WEB_CLASS_COUNT; c++) {
            s_rate_t *r = &self->rates[c];
            double per_s = (double) (r->msgs - r->msgs_at_tick) * 1000.0 / (double) dt_ms;
            moved |= per_s != r->per_s;
            r->per_s = per_s;
        }
        /* Falling to zero is news too, so bump whenever a rate moved. */
        if (moved)
            s_bump (self);
    }
    for (int c = 0; c < WEB_CLASS_COUNT; c++)
        self->rates[c].msgs_at_tick = self->rates[c].msgs;
    self->last_tick_ms = now_ms;
    pthread_mutex_unlock (&self->mutex);
}

/* ------------------------------------------------------------ queries */

bool
web_state_twin_service (web_state_t *self, char *buf, size_t len)
{
    bool found = false;
    pthread_mutex_lock (&self->mutex);
    for (int i = 0; i < self->n_agents && !found; i++) {
        const s_agent_t *a = &self->agents[i];
        if (a->alive && !strcmp (a->kind, "twin")) {
            s_copy (buf, len, a->service[0] ? a->service : a->name);
            found = true;
        }
    }
    pthread_mutex_unlock (&self->mutex);
    return found;
}

uint64_t
web_state_version (web_state_t *self)
{
    pthread_mutex_lock (&self->mutex);
    uint64_t ver = self->ver;
    pthread_mutex_unlock (&self->mutex);
    return ver;
}

uint64_t
web_state_wait (web_state_t *self, uint64_t since, int timeout_ms)
{
    struct timespec until;
    clock_gettime (CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock (&self->mutex);
    while (self->ver <= since)
        if (pthread_cond_timedwait (&self->changed, &self->mutex, &until) != 0)
            break;
    uint64_t ver = self->ver;
    pthread_mutex_unlock (&self->mutex);
    return ver;
}

void
web_state_note_http (web_state_t *self, int status)
{
    pthread_mutex_lock (&self->mutex);
    self->http[status < 300 ? 0 : status == 404 ? 1 : status == 405 ? 2 : 3]++;
    pthread_mutex_unlock (&self->mutex);
}

void
web_state_note_sse (web_state_t *self, int delta_clients)
{
    pthread_mutex_lock (&self->mutex);
    self->sse_clients += delta_clients;
    pthread_mutex_unlock (&self->mutex);
}

const char *
web_station_state_name (int state)
{
    return state >= 0 && state < S_STATION_STATES ? s_station_states[state] : "unknown";
}

/* ------------------------------------------------------------ JSON */

static void
s_json_key (web_buf_t *out, bool *first, const char *key)
{
    if (!*first)
        web_buf_puts (out, ",");
    *first = false;
    web_buf_json_str (out, key);
    web_buf_puts (out, ":");
}

static void
s_json_num_field (web_buf_t *out, bool *first, const char *key, double value)
{
    s_json_key (out, first, key);
    web_buf_json_num (out, value);
}

/* Whole counters and nanosecond times, exactly (a double would round them). */
static void
s_json_u64_field (web_buf_t *out, bool *first, const char *key, uint64_t value)
{
    s_json_key (out, first, key);
    web_buf_printf (out, "%llu", (unsigned long long) value);
}

static void
s_json_str_field (web_buf_t *out, bool *first, const char *key, const char *value)
{
    s_json_key (out, first, key);
    web_buf_json_str (out, value);
}

static void
s_json_pairs (web_buf_t *out, const s_pair_t *pairs, int n)
{
    web_buf_puts (out, "{");
    bool first = true;
    for (int i = 0; i < n; i++)
        s_json_num_field (out, &first, pairs[i].name, pairs[i].value);
    web_buf_puts (out, "}");
}

static void
s_json_stations (web_state_t *self, uint64_t since, web_buf_t *out)
{
    web_buf_puts (out, "[");
    bool any = false;
    for (int i = 0; i < self->n_stations; i++) {
        const s_station_t *s = &self->stations[i];
        if (s->ver <= since)
            continue;
        web_buf_puts (out, any ? ",{" : "{");
        any = true;
        bool first = true;
        s_json_str_field (out, &first, "name", s->name);
        s_json_str_field (out, &first, "cell", s->cell);
        s_json_str_field (out, &first, "state", web_station_state_name (s->state));
        for (int f = 1; f < S_ST_N; f++)
            s_json_num_field (out, &first, s_station_fields[f].name, s->v[f]);
        web_buf_puts (out, "}");
    }
    web_buf_puts (out, "]");
}

static void
s_json_feed (web_state_t *self, uint64_t since, web_buf_t *out)
{
    web_buf_puts (out, "[");
    bool any = false;
    uint64_t start = self->n_feed > WEB_FEED_LEN ? self->n_feed - WEB_FEED_LEN : 0;
    for (uint64_t i = start; i < self->n_feed; i++) {
        const s_feed_t *f = &self->feed[i % WEB_FEED_LEN];
        if (f->ver <= since)
            continue;
        web_buf_puts (out, any ? ",{" : "{");
        any = true;
        bool first = true;
        s_json_u64_field (out, &first, "id", i);
        s_json_u64_field (out, &first, "t_ns", f->t_ns);
        s_json_str_field (out, &first, "class", s_class_names[f->cls]);
        s_json_str_field (out, &first, "topic", f->topic);
        s_json_str_field (out, &first, "source", f->source);
        s_json_str_field (out, &first, "severity", f->severity);
        s_json_str_field (out, &first, "code", f->code);
        s_json_str_field (out, &first, "text", f->text);
        s_json_key (out, &first, "active");
        web_buf_puts (out, f->active ? "true" : "false");
        web_buf_puts (out, "}");
    }
    web_buf_puts (out, "]");
}

static void
s_json_generic (web_state_t *self, uint64_t since, web_buf_t *out)
{
    web_buf_puts (out, "[");
    bool any = false;
    for (int i = 0; i < self->n_generic; i++) {
        const s_generic_t *g = &self->generic[i];
        if (g->ver <= since)
            continue;
        web_buf_puts (out, any ? ",{" : "{");
        any = true;
        bool first = true;
        s_json_str_field (out, &first, "topic", g->topic);
        s_json_str_field (out, &first, "source", g->source);
        s_json_u64_field (out, &first, "t_ns", g->t_ns);
        s_json_key (out, &first, "metrics");
        web_buf_puts (out, "[");
        for (int m = 0; m < g->n; m++) {
            web_buf_puts (out, m ? ",{" : "{");
            bool f2 = true;
            s_json_str_field (out, &f2, "name", g->m[m].name);
            s_json_num_field (out, &f2, "value", g->m[m].value);
            s_json_str_field (out, &f2, "unit", g->m[m].unit);
            web_buf_puts (out, "}");
        }
        web_buf_puts (out, "]}");
    }
    web_buf_puts (out, "]");
}

static void
s_json_agents (web_state_t *self, uint64_t since, web_buf_t *out)
{
    web_buf_puts (out, "[");
    bool any = false;
    for (int i = 0; i < self->n_agents; i++) {
        const s_agent_t *a = &self->agents[i];
        if (a->ver <= since)
            continue;
        web_buf_puts (out, any ? ",{" : "{");
        any = true;
        bool first = true;
        s_json_str_field (out, &first, "name", a->name);
        s_json_str_field (out, &first, "kind", a->kind);
        s_json_str_field (out, &first, "cell", a->cell);
        s_json_str_field (out, &first, "reason", a->reason);
        s_json_key (out, &first, "alive");
        web_buf_puts (out, a->alive ? "true" : "false");
        web_buf_puts (out, "}");
    }
    web_buf_puts (out, "]");
}

uint64_t
web_state_json (web_state_t *self, uint64_t since, web_buf_t *out)
{
    pthread_mutex_lock (&self->mutex);
    bool first = true;
    web_buf_puts (out, "{");
    s_json_u64_field (out, &first, "version", self->ver);
    s_json_key (out, &first, "full");
    web_buf_puts (out, since == 0 ? "true" : "false");
    s_json_str_field (out, &first, "factory", self->factory);
    if (self->sim_ver > since) {
        s_json_key (out, &first, "sim");
        web_buf_printf (out, "{\"epoch\":%llu,\"t_ns\":%llu}", (unsigned long long) self->sim_epoch,
                        (unsigned long long) self->sim_t_ns);
    }
    s_json_key (out, &first, "stations");
    s_json_stations (self, since, out);
    s_json_key (out, &first, "parts");
    web_buf_puts (out, "[");
    bool any = false;
    for (int i = 0; i < self->n_parts; i++) {
        const s_part_t *p = &self->parts[i];
        if (p->ver <= since)
            continue;
        web_buf_puts (out, any ? ",{" : "{");
        any = true;
        bool f2 = true;
        s_json_str_field (out, &f2, "name", p->name);
        s_json_num_field (out, &f2, "warehouse", p->warehouse);
        s_json_num_field (out, &f2, "on_order", p->on_order);
        s_json_num_field (out, &f2, "bin", p->bin);
        web_buf_puts (out, "}");
    }
    web_buf_puts (out, "]");
    if (self->energy_ver > since) {
        s_json_key (out, &first, "energy");
        web_buf_puts (out, "{");
        bool f2 = true;
        for (size_t e = 0; e < S_ENERGY_N; e++)
            s_json_num_field (out, &f2, s_energy[e].name, self->energy[e]);
        web_buf_puts (out, "}");
    }
    s_json_key (out, &first, "energy_points");
    web_buf_puts (out, "[");
    any = false;
    uint64_t start = self->n_points > WEB_ENERGY_POINTS ? self->n_points - WEB_ENERGY_POINTS : 0;
    for (uint64_t i = start; i < self->n_points; i++) {
        const s_point_t *pt = &self->points[i % WEB_ENERGY_POINTS];
        if (pt->ver <= since)
            continue;
        web_buf_puts (out, any ? ",[" : "[");
        any = true;
        web_buf_json_num (out, pt->t_h);
        web_buf_puts (out, ",");
        web_buf_json_num (out, pt->grid_kw);
        web_buf_puts (out, ",");
        web_buf_json_num (out, pt->solar_kw);
        web_buf_puts (out, ",");
        web_buf_json_num (out, pt->battery_soc);
        web_buf_puts (out, ",");
        web_buf_json_num (out, pt->price_per_kwh);
        web_buf_puts (out, "]");
    }
    web_buf_puts (out, "]");
    if (self->line_ver > since) {
        s_json_key (out, &first, "line");
        web_buf_puts (out, "{");
        bool f2 = true;
        for (size_t l = 0; l < S_LINE_N; l++)
            s_json_num_field (out, &f2, s_line[l].name, self->line[l]);
        web_buf_puts (out, "}");
    }
    if (self->kpis_ver > since) {
        s_json_key (out, &first, "kpis");
        s_json_pairs (out, self->kpis, self->n_kpis);
    }
    if (self->broker_ver > since) {
        s_json_key (out, &first, "broker");
        s_json_pairs (out, self->broker, self->n_broker);
    }
    s_json_key (out, &first, "agents");
    s_json_agents (self, since, out);
    s_json_key (out, &first, "feed");
    s_json_feed (self, since, out);
    s_json_key (out, &first, "generic");
    s_json_generic (self, since, out);
    s_json_key (out, &first, "rates");
    web_buf_puts (out, "{");
    bool f2 = true;
    for (int c = 0; c < WEB_CLASS_COUNT; c++) {
        const s_rate_t *r = &self->rates[c];
        s_json_key (out, &f2, s_class_names[c]);
        web_buf_printf (out, "{\"msgs\":%llu,\"bytes\":%llu,\"gaps\":%llu,\"per_s\":",
                        (unsigned long long) r->msgs, (unsigned long long) r->bytes,
                        (unsigned long long) r->gaps);
        web_buf_json_num (out, round (r->per_s * 10) / 10);
        web_buf_puts (out, "}");
    }
    web_buf_puts (out, "}");
    int alive = 0;
    for (int i = 0; i < self->n_agents; i++)
        alive += self->agents[i].alive;
    s_json_num_field (out, &first, "agents_alive", alive);
    s_json_u64_field (out, &first, "dropped", self->dropped);
    web_buf_puts (out, "}");
    uint64_t ver = self->ver;
    pthread_mutex_unlock (&self->mutex);
    return ver;
}

/* ------------------------------------------------------------ Prometheus */

static void
s_prom_head (web_buf_t *out, const char *name, const char *type, const char *help)
{
    web_buf_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{LABEL="VALUE"} V — one sample with one label. */
static void
s_prom_1 (web_buf_t *out, const char *name, const char *label, const char *value, double v)
{
    web_buf_printf (out, "%s{%s=\"", name, label);
    web_buf_prom_label (out, value);
    web_buf_puts (out, "\"} ");
    web_buf_prom_num (out, v);
    web_buf_puts (out, "\n");
}

static void
s_prom_0 (web_buf_t *out, const char *name, double v)
{
    web_buf_printf (out, "%s ", name);
    web_buf_prom_num (out, v);
    web_buf_puts (out, "\n");
}

static void
s_prom_traffic (web_state_t *self, web_buf_t *out)
{
    s_prom_head (out, "autofab_messages_total", "counter", "Bus messages received by the dashboard, by topic class");
    for (int c = 0; c < WEB_CLASS_COUNT; c++)
        s_prom_1 (out, "autofab_messages_total", "class", s_class_names[c], (double) self->rates[c].msgs);
    s_prom_head (out, "autofab_message_bytes_total", "counter", "Bytes of bus messages received, by topic class");
    for (int c = 0; c < WEB_CLASS_COUNT; c++)
        s_prom_1 (out, "autofab_message_bytes_total", "class", s_class_names[c], (double) self->rates[c].bytes);
    s_prom_head (out, "autofab_messages_per_second", "gauge", "Message rate over the last second, by topic class");
    for (int c = 0; c < WEB_CLASS_COUNT; c++)
        s_prom_1 (out, "autofab_messages_per_second", "class", s_class_names[c], self->rates[c].per_s);
    s_prom_head (out, "autofab_gaps_total", "counter", "Messages missed (sequence gaps), by topic class");
    for (int c = 0; c < WEB_CLASS_COUNT; c++)
        s_prom_1 (out, "autofab_gaps_total", "class", s_class_names[c], (double) self->rates[c].gaps);
    uint64_t refused = self->bus.bad_frames;
    for (int r = 0; r < AF_DECODE_REASONS; r++)
        refused += self->bus.refused[r];
    s_prom_head (out, "autofab_refused_total", "counter", "Messages refused as invalid (bad frames, bad envelopes)");
    s_prom_0 (out, "autofab_refused_total", (double) refused);
}

static void
s_prom_agents (web_state_t *self, web_buf_t *out)
{
    int alive = 0;
    for (int i = 0; i < self->n_agents; i++)
        alive += self->agents[i].alive;
    s_prom_head (out, "autofab_agents_alive", "gauge", "Agents whose last presence notice was a birth");
    s_prom_0 (out, "autofab_agents_alive", alive);
    s_prom_head (out, "autofab_agent_up", "gauge", "1 if the agent is alive, 0 after its death notice");
    for (int i = 0; i < self->n_agents; i++) {
        const s_agent_t *a = &self->agents[i];
        web_buf_puts (out, "autofab_agent_up{agent=\"");
        web_buf_prom_label (out, a->name);
        web_buf_puts (out, "\",kind=\"");
        web_buf_prom_label (out, a->kind);
        web_buf_puts (out, "\",cell=\"");
        web_buf_prom_label (out, a->cell);
        web_buf_printf (out, "\"} %d\n", a->alive ? 1 : 0);
    }
}

static void
s_prom_stations (web_state_t *self, web_buf_t *out)
{
    s_prom_head (out, "autofab_station_state", "gauge", "1 for the state the station is in, 0 for the others");
    for (int i = 0; i < self->n_stations; i++)
        for (int st = 0; st < S_STATION_STATES; st++) {
            web_buf_puts (out, "autofab_station_state{station=\"");
            web_buf_prom_label (out, self->stations[i].name);
            web_buf_printf (out, "\",state=\"%s\"} %d\n", s_station_states[st],
                            self->stations[i].state == st ? 1 : 0);
        }
    for (int f = 1; f < S_ST_N; f++) {
        s_prom_head (out, s_station_fields[f].metric, "gauge", s_station_fields[f].help);
        for (int i = 0; i < self->n_stations; i++)
            if (!isnan (self->stations[i].v[f]))
                s_prom_1 (out, s_station_fields[f].metric, "station", self->stations[i].name,
                          self->stations[i].v[f]);
    }
}

static void
s_prom_plant (web_state_t *self, web_buf_t *out)
{
    if (self->energy_ver)
        for (size_t e = 0; e < S_ENERGY_N; e++) {
            s_prom_head (out, s_energy[e].metric, "gauge", s_energy[e].help);
            s_prom_0 (out, s_energy[e].metric, self->energy[e]);
        }
    if (self->line_ver)
        for (size_t l = 0; l < S_LINE_N; l++) {
            s_prom_head (out, s_line[l].metric, "gauge", s_line[l].help);
            s_prom_0 (out, s_line[l].metric, self->line[l]);
        }
    s_prom_head (out, "autofab_inventory_units", "gauge", "Parts on hand: warehouse, line-side bin, on order");
    for (int i = 0; i < self->n_parts; i++) {
        const s_part_t *p = &self->parts[i];
        const struct { const char *where; double v; } v[] = {
            { "warehouse", p->warehouse }, { "bin", p->bin }, { "on_order", p->on_order }
        };
        for (size_t k = 0; k < 3; k++) {
            if (isnan (v[k].v))
                continue;
            web_buf_puts (out, "autofab_inventory_units{part=\"");
            web_buf_prom_label (out, p->name);
            web_buf_printf (out, "\",where=\"%s\"} ", v[k].where);
            web_buf_prom_num (out, v[k].v);
            web_buf_puts (out, "\n");
        }
    }
    s_prom_head (out, "autofab_kpi", "gauge", "Plant KPIs by name (docs/kpi.md)");
    for (int i = 0; i < self->n_kpis; i++)
        s_prom_1 (out, "autofab_kpi", "name", self->kpis[i].name, self->kpis[i].value);
    if (self->sim_ver) {
        s_prom_head (out, "autofab_sim_epoch", "gauge", "Last clock tick's decision epoch");
        s_prom_0 (out, "autofab_sim_epoch", (double) self->sim_epoch);
        s_prom_head (out, "autofab_sim_time_seconds", "gauge", "Simulated time of the last clock tick");
        s_prom_0 (out, "autofab_sim_time_seconds", (double) self->sim_t_ns / 1e9);
    }
    static const char *const sev[3] = { "info", "warning", "critical" };
    s_prom_head (out, "autofab_alarms_raised_total", "counter", "Alarms raised (active=true), by severity");
    for (int s = 0; s < 3; s++)
        s_prom_1 (out, "autofab_alarms_raised_total", "severity", sev[s], (double) self->alarms_total[s]);
    s_prom_head (out, "autofab_alarms_active", "gauge", "Alarms standing now, by severity");
    for (int s = 0; s < 3; s++) {
        int n = 0;
        for (int i = 0; i < self->n_alarms; i++)
            n += self->alarms[i].active && self->alarms[i].severity == s;
        s_prom_1 (out, "autofab_alarms_active", "severity", sev[s], n);
    }
}

/* The broker's counters (sys.<factory>.broker.broker.stats): cumulative
 * ones as counters, the rest as gauges. */
static void
s_prom_broker (web_state_t *self, web_buf_t *out)
{
    static const struct { const char *name, *metric, *type, *help; } known[] = {
        { "relayed_msgs", "autofab_broker_relayed_msgs_total", "counter", "Messages the broker relayed" },
        { "relayed_bytes", "autofab_broker_relayed_bytes_total", "counter", "Bytes the broker relayed" },
        { "relay_gaps", "autofab_broker_relay_gaps_total", "counter", "Sequence gaps the broker saw" },
        { "agents", "autofab_broker_agents", "gauge", "Agents registered with the broker" },
        { "cache_topics", "autofab_broker_cache_topics", "gauge", "Topics in the last-value cache" },
        { "requests", "autofab_broker_requests_total", "counter", "Service requests the broker routed" },
    };
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        for (int i = 0; i < self->n_broker; i++)
            if (!strcmp (self->broker[i].name, known[k].name)) {
                s_prom_head (out, known[k].metric, known[k].type, known[k].help);
                s_prom_0 (out, known[k].metric, self->broker[i].value);
            }
}

void
web_state_metrics (web_state_t *self, web_buf_t *out)
{
    pthread_mutex_lock (&self->mutex);
    s_prom_traffic (self, out);
    s_prom_agents (self, out);
    s_prom_stations (self, out);
    s_prom_plant (self, out);
    s_prom_broker (self, out);
    s_prom_head (out, "autofab_web_dropped_total", "counter", "Items the dashboard's full tables had no room for");
    s_prom_0 (out, "autofab_web_dropped_total", (double) self->dropped);
    s_prom_head (out, "autofab_web_http_requests_total", "counter", "HTTP requests answered, by status");
    static const char *const codes[4] = { "2xx", "404", "405", "other" };
    for (int i = 0; i < 4; i++)
        s_prom_1 (out, "autofab_web_http_requests_total", "code", codes[i], (double) self->http[i]);
    s_prom_head (out, "autofab_web_sse_clients", "gauge", "Browsers connected to /events");
    s_prom_0 (out, "autofab_web_sse_clients", self->sse_clients);
    pthread_mutex_unlock (&self->mutex);
}

/* ------------------------------------------------------------ lifecycle */

web_state_t *
web_state_new (const char *factory)
{
    web_state_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->mutex, NULL);
    /* Waits use the monotonic clock so a wall-clock step cannot stall them. */
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->changed, &attr);
    pthread_condattr_destroy (&attr);
    s_copy (self->factory, sizeof self->factory, factory);
    for (size_t e = 0; e < S_ENERGY_N; e++)
        self->energy[e] = NAN;
    for (size_t l = 0; l < S_LINE_N; l++)
        self->line[l] = NAN;
    return self;
}

void
web_state_destroy (web_state_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    web_state_t *self = *self_p;
    pthread_cond_destroy (&self->changed);
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}
