/*  web_json — web_state as JSON, whole or as a delta since a version
 *  (the server-sent events).  Every string goes through web_buf_json_str.  */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "web_state_int.h"


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
s_json_pairs (web_buf_t *out, const web__pair_t *pairs, int n)
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
        const web__station_t *s = &self->stations[i];
        if (s->ver <= since)
            continue;
        web_buf_puts (out, any ? ",{" : "{");
        any = true;
        bool first = true;
        s_json_str_field (out, &first, "name", s->name);
        s_json_str_field (out, &first, "cell", s->cell);
        s_json_str_field (out, &first, "state", web_station_state_name (s->state));
        for (int f = 1; f < WEB__ST_N; f++)
            s_json_num_field (out, &first, web__station_fields[f].name, s->v[f]);
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
        const web__feed_t *f = &self->feed[i % WEB_FEED_LEN];
        if (f->ver <= since)
            continue;
        web_buf_puts (out, any ? ",{" : "{");
        any = true;
        bool first = true;
        s_json_u64_field (out, &first, "id", i);
        s_json_u64_field (out, &first, "t_ns", f->t_ns);
        s_json_str_field (out, &first, "class", web__class_names[f->cls]);
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
        const web__generic_t *g = &self->generic[i];
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
        const web__agent_t *a = &self->agents[i];
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
        const web__part_t *p = &self->parts[i];
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
    s_json_key (out, &first, "robots");
    web_buf_puts (out, "[");
    any = false;
    for (int i = 0; i < self->n_robots; i++) {
        const web__robot_t *r = &self->robots[i];
        if (r->ver <= since)
            continue;
        web_buf_puts (out, any ? ",{" : "{");
        any = true;
        bool f2 = true;
        s_json_str_field (out, &f2, "name", r->name);
        s_json_num_field (out, &f2, "busy", r->busy);
        s_json_num_field (out, &f2, "node", r->node);
        s_json_num_field (out, &f2, "tasks_queued", r->tasks_queued);
        s_json_num_field (out, &f2, "utilisation", r->utilisation);
        web_buf_puts (out, "}");
    }
    web_buf_puts (out, "]");
    if (self->energy_ver > since) {
        s_json_key (out, &first, "energy");
        web_buf_puts (out, "{");
        bool f2 = true;
        for (size_t e = 0; e < WEB__ENERGY_N; e++)
            s_json_num_field (out, &f2, web__energy[e].name, self->energy[e]);
        web_buf_puts (out, "}");
    }
    s_json_key (out, &first, "energy_points");
    web_buf_puts (out, "[");
    any = false;
    uint64_t start = self->n_points > WEB_ENERGY_POINTS ? self->n_points - WEB_ENERGY_POINTS : 0;
    for (uint64_t i = start; i < self->n_points; i++) {
        const web__point_t *pt = &self->points[i % WEB_ENERGY_POINTS];
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
        for (size_t l = 0; l < WEB__LINE_N; l++)
            s_json_num_field (out, &f2, web__line[l].name, self->line[l]);
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
        const web__rate_t *r = &self->rates[c];
        s_json_key (out, &f2, web__class_names[c]);
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
