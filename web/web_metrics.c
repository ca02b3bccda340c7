/*  web_metrics — web_state in the Prometheus text exposition format
 *  (version 0.0.4): a HELP and a TYPE line before every metric, label
 *  values escaped with web_buf_prom_label.  */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "web_state_int.h"


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
        s_prom_1 (out, "autofab_messages_total", "class", web__class_names[c], (double) self->rates[c].msgs);
    s_prom_head (out, "autofab_message_bytes_total", "counter", "Bytes of bus messages received, by topic class");
    for (int c = 0; c < WEB_CLASS_COUNT; c++)
        s_prom_1 (out, "autofab_message_bytes_total", "class", web__class_names[c], (double) self->rates[c].bytes);
    s_prom_head (out, "autofab_messages_per_second", "gauge", "Message rate over the last second, by topic class");
    for (int c = 0; c < WEB_CLASS_COUNT; c++)
        s_prom_1 (out, "autofab_messages_per_second", "class", web__class_names[c], self->rates[c].per_s);
    s_prom_head (out, "autofab_gaps_total", "counter", "Messages missed (sequence gaps), by topic class");
    for (int c = 0; c < WEB_CLASS_COUNT; c++)
        s_prom_1 (out, "autofab_gaps_total", "class", web__class_names[c], (double) self->rates[c].gaps);
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
        const web__agent_t *a = &self->agents[i];
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
        for (int st = 0; st < WEB__STATION_STATES; st++) {
            web_buf_puts (out, "autofab_station_state{station=\"");
            web_buf_prom_label (out, self->stations[i].name);
            web_buf_printf (out, "\",state=\"%s\"} %d\n", web__station_states[st],
                            self->stations[i].state == st ? 1 : 0);
        }
    for (int f = 1; f < WEB__ST_N; f++) {
        s_prom_head (out, web__station_fields[f].metric, "gauge", web__station_fields[f].help);
        double scale = web__station_fields[f].to_base ? web__station_fields[f].to_base : 1;
        for (int i = 0; i < self->n_stations; i++)
            if (!isnan (self->stations[i].v[f]))
                s_prom_1 (out, web__station_fields[f].metric, "station", self->stations[i].name,
                          self->stations[i].v[f] * scale);
    }
}

static void
s_prom_plant (web_state_t *self, web_buf_t *out)
{
    if (self->energy_ver)
        for (size_t e = 0; e < WEB__ENERGY_N; e++) {
            s_prom_head (out, web__energy[e].metric, "gauge", web__energy[e].help);
            s_prom_0 (out, web__energy[e].metric, self->energy[e]);
        }
    if (self->line_ver)
        for (size_t l = 0; l < WEB__LINE_N; l++) {
            s_prom_head (out, web__line[l].metric, "gauge", web__line[l].help);
            s_prom_0 (out, web__line[l].metric, self->line[l]);
        }
    s_prom_head (out, "autofab_inventory_units", "gauge", "Parts on hand: warehouse, line-side bin, on order");
    for (int i = 0; i < self->n_parts; i++) {
        const web__part_t *p = &self->parts[i];
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
    static const struct { const char *metric, *help; size_t offset; } robot[] = {
        { "autofab_robot_busy", "1 if the mobile robot is on a task", offsetof (web__robot_t, busy) },
        { "autofab_robot_tasks_queued", "Tasks waiting for the robot", offsetof (web__robot_t, tasks_queued) },
        { "autofab_robot_utilisation_ratio", "Busy fraction, 0..1", offsetof (web__robot_t, utilisation) },
    };
    for (size_t k = 0; k < sizeof robot / sizeof robot[0]; k++) {
        s_prom_head (out, robot[k].metric, "gauge", robot[k].help);
        for (int i = 0; i < self->n_robots; i++) {
            double v;
            memcpy (&v, (const char *) &self->robots[i] + robot[k].offset, sizeof v);
            if (!isnan (v))
                s_prom_1 (out, robot[k].metric, "robot", self->robots[i].name, v);
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
