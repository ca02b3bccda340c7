/*  web_state — the dashboard's model of the plant, fed by bus messages.
 *  See web_state.h; the renderings are in web_json.c and web_metrics.c.  */
#include "web_state.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "af_kpis.h"
#include "twin.pb-c.h"
#include "web_state_int.h"

#define S_MAX_SEGMENTS 8

/* ------------------------------------------------------------ tables */

const char *const web__class_names[WEB_CLASS_COUNT] = { "tel", "evt", "alm", "cmd", "sys", "other" };

/* autofab.twin.StationStatus order; the twin publishes the number. */
const char *const web__station_states[WEB__STATION_STATES] = {
    "starved", "busy", "blocked", "down", "maintenance", "setup"
};

/* The energy values the twin publishes on tel.<f>.<cell>.twin.energy, with
 * the Prometheus name each is exported under. */
/* Keep in step with WEB__EN_* (web_state_int.h). */
const web__field_t web__energy[WEB__ENERGY_N] = {
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

const web__field_t web__line[WEB__LINE_N] = {
    { "units", "autofab_line_units", "Units finished by the line (as the twin reports)" },
    { "release_queue", "autofab_line_release_queue", "Orders waiting for release" },
    { "defects_found", "autofab_line_defects_found", "Defects found by inspection" },
    { "robots_busy", "autofab_robots_busy", "Mobile robots busy" },
};

/* Station telemetry fields, by the metric names the twin uses. */
const web__field_t web__station_fields[WEB__ST_N] = {
    { "state", NULL, NULL },
    { "buffer_level", "autofab_station_buffer_level", "Units in the station's input buffer" },
    { "buffer_cap", "autofab_station_buffer_capacity", "Input buffer capacity (-1 unbounded)" },
    { "speed", "autofab_station_speed_ratio", "Station speed, x nameplate" },
    { "vibration_rms_mm_s", "autofab_station_vibration_rms_meters_per_second",
      "Vibration RMS velocity, m/s (the twin sends mm/s)", 1e-3 },
    { "temp_c", "autofab_station_temperature_celsius", "Station temperature, degrees Celsius" },
    { "utilisation", "autofab_station_utilisation_ratio", "Busy fraction, 0..1" },
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
        if (!strcmp (name, web__class_names[c]))
            return (web_class_t) c;
    return WEB_CLASS_OTHER;
}

static void
s_bump (web_state_t *self)
{
    self->ver++;
    pthread_cond_broadcast (&self->changed);
}

static web__station_t *
s_station (web_state_t *self, const char *name, const char *cell)
{
    for (int i = 0; i < self->n_stations; i++)
        if (!strcmp (self->stations[i].name, name))
            return &self->stations[i];
    if (self->n_stations == WEB_MAX_STATIONS || strlen (name) >= WEB_NAME_BYTES) {
        self->dropped++;
        return NULL;
    }
    web__station_t *s = &self->stations[self->n_stations++];
    memset (s, 0, sizeof *s);
    s_copy (s->name, sizeof s->name, name);
    s_copy (s->cell, sizeof s->cell, cell);
    s->state = -1;
    for (int f = 0; f < WEB__ST_N; f++)
        s->v[f] = NAN;
    return s;
}

static web__part_t *
s_part (web_state_t *self, const char *name)
{
    for (int i = 0; i < self->n_parts; i++)
        if (!strcmp (self->parts[i].name, name))
            return &self->parts[i];
    if (self->n_parts == WEB_MAX_PARTS || strlen (name) >= WEB_NAME_BYTES) {
        self->dropped++;
        return NULL;
    }
    web__part_t *p = &self->parts[self->n_parts++];
    memset (p, 0, sizeof *p);
    s_copy (p->name, sizeof p->name, name);
    p->warehouse = p->on_order = p->bin = NAN;
    return p;
}

static web__robot_t *
s_robot (web_state_t *self, const char *name)
{
    for (int i = 0; i < self->n_robots; i++)
        if (!strcmp (self->robots[i].name, name))
            return &self->robots[i];
    if (self->n_robots == WEB_MAX_ROBOTS || strlen (name) >= WEB_NAME_BYTES) {
        self->dropped++;
        return NULL;
    }
    web__robot_t *r = &self->robots[self->n_robots++];
    memset (r, 0, sizeof *r);
    s_copy (r->name, sizeof r->name, name);
    r->busy = r->node = r->tasks_queued = r->utilisation = NAN;
    return r;
}

static web__agent_t *
s_agent (web_state_t *self, const char *name)
{
    for (int i = 0; i < self->n_agents; i++)
        if (!strcmp (self->agents[i].name, name))
            return &self->agents[i];
    if (self->n_agents == WEB_MAX_AGENTS || strlen (name) >= WEB_NAME_BYTES || !name[0]) {
        self->dropped++;
        return NULL;
    }
    web__agent_t *a = &self->agents[self->n_agents++];
    memset (a, 0, sizeof *a);
    s_copy (a->name, sizeof a->name, name);
    return a;
}

/* Sets NAME in a bounded name/value table; false if it is full. */
static bool
s_pair_set (web__pair_t *pairs, int *n, int max, const char *name, double value)
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

static web__feed_t *
s_feed_add (web_state_t *self, web_class_t cls, const char *topic, const Autofab__Envelope *env)
{
    web__feed_t *f = &self->feed[self->n_feed++ % WEB_FEED_LEN];
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
s_station_metric (web__station_t *s, const char *name, double value)
{
    for (int f = 0; f < WEB__ST_N; f++)
        if (!strcmp (name, web__station_fields[f].name)) {
            if (f == WEB__ST_STATE)
                s->state = isfinite (value) && value >= 0 && value < WEB__STATION_STATES ? (int) value : -1;
            else
                s->v[f] = value;
        }
}

static void
s_on_station_tel (web_state_t *self, const char *name, const char *cell, const Autofab__Telemetry *tel)
{
    web__station_t *s = s_station (self, name, cell);
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
    web__part_t *p = s_part (self, name);
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
s_on_robot_tel (web_state_t *self, const char *name, const Autofab__Telemetry *tel)
{
    web__robot_t *r = s_robot (self, name);
    if (!r)
        return;
    for (size_t i = 0; i < tel->n_metrics; i++) {
        const Autofab__Metric *m = tel->metrics[i];
        if (!m || !m->name)
            continue;
        if (!strcmp (m->name, "busy"))
            r->busy = m->value;
        else if (!strcmp (m->name, "node"))
            r->node = m->value;
        else if (!strcmp (m->name, "tasks_queued"))
            r->tasks_queued = m->value;
        else if (!strcmp (m->name, "utilisation"))
            r->utilisation = m->value;
    }
    r->ver = self->ver;
}

static void
s_on_energy_tel (web_state_t *self, const Autofab__Envelope *env)
{
    const Autofab__Telemetry *tel = env->telemetry;
    for (size_t i = 0; i < tel->n_metrics; i++)
        for (size_t e = 0; tel->metrics[i] && tel->metrics[i]->name && e < WEB__ENERGY_N; e++)
            if (!strcmp (tel->metrics[i]->name, web__energy[e].name))
                self->energy[e] = tel->metrics[i]->value;
    self->energy_ver = self->ver;
    /* The twin's report at simulated time 0 averages power over no time at
     * all: its zeros are not a reading, and as the chart's first point they
     * drew a false drop to 0 kW. */
    if (env->header && env->header->t_ns == 0)
        return;
    web__point_t *pt = &self->points[self->n_points++ % WEB_ENERGY_POINTS];
    pt->ver = self->ver;
    pt->t_h = env->header ? (double) env->header->t_ns / 3.6e12 : 0;
    pt->grid_kw = self->energy[WEB__EN_GRID];
    pt->solar_kw = self->energy[WEB__EN_SOLAR];
    pt->battery_soc = self->energy[WEB__EN_SOC];
    pt->price_per_kwh = self->energy[WEB__EN_PRICE];
}

static void
s_on_line_tel (web_state_t *self, const Autofab__Telemetry *tel)
{
    for (size_t i = 0; i < tel->n_metrics; i++)
        for (size_t l = 0; tel->metrics[i] && tel->metrics[i]->name && l < WEB__LINE_N; l++)
            if (!strcmp (tel->metrics[i]->name, web__line[l].name))
                self->line[l] = tel->metrics[i]->value;
    self->line_ver = self->ver;
}

static void
s_on_kpi_tel (web_state_t *self, const Autofab__Telemetry *tel)
{
    for (size_t i = 0; i < tel->n_metrics; i++)
        if (tel->metrics[i] && !s_pair_set (self->kpis, &self->n_kpis, WEB__MAX_KPIS, tel->metrics[i]->name,
                                            tel->metrics[i]->value))
            self->dropped++;
    self->kpis_ver = self->ver;
}

static void
s_on_broker_stats (web_state_t *self, const Autofab__Telemetry *tel)
{
    for (size_t i = 0; i < tel->n_metrics; i++)
        if (tel->metrics[i] && !s_pair_set (self->broker, &self->n_broker, WEB__MAX_BROKER,
                                            tel->metrics[i]->name, tel->metrics[i]->value))
            self->dropped++;
    self->broker_ver = self->ver;
}

/* Any other telemetry: kept per topic, the least recently updated topic
 * making room for a new one when the table is full. */
static void
s_on_generic_tel (web_state_t *self, const char *topic, const Autofab__Envelope *env)
{
    web__generic_t *g = NULL;
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
    else if (cls == WEB_CLASS_TEL && n == 6 && !strcmp (seg[4], "robot"))
        s_on_robot_tel (self, seg[5], env->telemetry);
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
    const web__pair_t values[] = {
#define X(id, key, unit, better) { #key, k->key },
        AF_KPIS (X)
#undef X
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        s_pair_set (self->kpis, &self->n_kpis, WEB__MAX_KPIS, values[i].name, values[i].value);
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
        web__station_t *s = st->station && st->station[0]
                         ? s_station (self, st->station, n > 2 ? seg[2] : "") : NULL;
        if (s) {
            s->state = st->status >= 0 && st->status < WEB__STATION_STATES ? (int) st->status : -1;
            s->v[WEB__ST_BUFFER] = st->buffer_level;
            s->v[WEB__ST_CAP] = st->buffer_cap;
            s->v[WEB__ST_SPEED] = st->speed;
            s->v[WEB__ST_VIB] = st->vibration_rms_mm_s;
            s->v[WEB__ST_TEMP] = st->temp_c;
            s->v[WEB__ST_UTIL] = st->utilisation;
            s->ver = self->ver;
        }
        autofab__twin__station_state__free_unpacked (st, NULL);
    }
    else if (!strcmp (t->type, "autofab.twin.MaintenanceEvent")) {
        Autofab__Twin__MaintenanceEvent *me
            = autofab__twin__maintenance_event__unpack (NULL, t->data.len, t->data.data);
        if (!me)
            return;
        web__feed_t *f = s_feed_add (self, s_class (seg[0]), topic, env);
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
    web__agent_t *a = s_agent (self, name);
    if (a) {
        a->alive = p->state == AUTOFAB__PRESENCE__STATE__STATE_BIRTH;
        s_copy (a->kind, sizeof a->kind, p->kind);
        s_copy (a->cell, sizeof a->cell, p->cell && p->cell[0] ? p->cell : n > 2 ? seg[2] : "");
        s_copy (a->reason, sizeof a->reason, p->reason);
        s_copy (a->service, sizeof a->service, p->n_services > 0 ? p->services[0] : "");
        a->ver = self->ver;
    }
    web__feed_t *f = s_feed_add (self, WEB_CLASS_SYS, topic, env);
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
    web__feed_t *f = s_feed_add (self, WEB_CLASS_ALM, topic, env);
    s_copy (f->severity, sizeof f->severity, names[sev]);
    s_copy (f->code, sizeof f->code, al->code);
    s_copy (f->text, sizeof f->text, al->text);
    f->active = al->active;
    if (al->active)
        self->alarms_total[sev]++;
    /* Which alarms are standing: keyed by topic and code. */
    char key[sizeof self->alarms[0].key];
    snprintf (key, sizeof key, "%s|%.60s", topic, al->code ? al->code : "");
    web__alarm_t *slot = NULL;
    for (int i = 0; i < self->n_alarms && !slot; i++)
        if (!strcmp (self->alarms[i].key, key))
            slot = &self->alarms[i];
    if (!slot && al->active) {
        if (self->n_alarms < WEB__MAX_ALARMS)
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
    web__feed_t *f = s_feed_add (self, WEB_CLASS_EVT, topic, env);
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
            web__rate_t *r = &self->rates[c];
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
        const web__agent_t *a = &self->agents[i];
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
    return state >= 0 && state < WEB__STATION_STATES ? web__station_states[state] : "unknown";
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
    for (size_t e = 0; e < WEB__ENERGY_N; e++)
        self->energy[e] = NAN;
    for (size_t l = 0; l < WEB__LINE_N; l++)
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
