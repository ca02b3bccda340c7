/*  bridge — autofab-bridge's component: the agent, its Modbus devices and
 *  its Sparkplug B side (see bridge.h).  */
#include "bridge.h"

#include "af_agent.h"
#include "af_log.h"
#include "modbus.h"
#include "sparkplug.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest a turn waits while MQTT is on: libmosquitto is served between
 * turns (its socket is not in the agent's poll). */
#define S_MQTT_TURN_MS 2

struct bridge {
    const bm_map_t *map;
    af_agent_t *agent;
    bmb_device_t **devices;
    bspb_t *spb;
};

/* ---------------------------------------------------------------- publishing */

/* One Telemetry per topic of the device, with the points valid this poll. */
static void
s_on_values (void *arg, const bm_device_t *dev, const double *values, const bool *valid)
{
    bridge_t *self = arg;
    Autofab__Metric ms[dev->n_points];
    bool done[dev->n_points];
    memset (done, 0, sizeof done);
    for (size_t i = 0; i < dev->n_points; i++) {
        if (done[i])
            continue;
        size_t n = 0;
        for (size_t j = i; j < dev->n_points; j++) {
            if (done[j] || strcmp (dev->points[j].topic, dev->points[i].topic))
                continue;
            done[j] = true;
            if (!valid[j])
                continue;
            autofab__metric__init (&ms[n]);
            ms[n].name = (char *) dev->points[j].name;
            ms[n].value = values[j];
            ms[n].unit = (char *) dev->points[j].unit;
            n++;
        }
        if (n == 0)
            continue;
        char topic[AF_TOPIC_MAX_BYTES];
        af_agent_topic (self->agent, "tel", dev->points[i].topic, topic, sizeof topic);
        af_bus_publish_metrics (af_agent_bus (self->agent), topic, ms, n);
    }
}

/* The device's health as telemetry; STALE is online = 0. */
static void
s_publish_status (bridge_t *self, const bmb_device_t *d)
{
    const bm_device_t *dev = bmb_device_map (d);
    const bmb_counters_t *c = bmb_device_counters (d);
    struct { const char *name; double value; const char *unit; } rows[] = {
        { "online", bmb_device_online (d), "" },
        { "polls", (double) c->polls, "" },
        { "poll_errors", (double) c->poll_errors, "" },
        { "exceptions", (double) c->exceptions, "" },
        { "connects", (double) c->connects, "" },
        { "connect_failures", (double) c->connect_failures, "" },
        { "late_polls", (double) c->late_polls, "" },
        { "writes", (double) c->writes, "" },
        { "writes_refused", (double) c->writes_refused, "" },
        { "stale_events", (double) c->stale_events, "" },
        { "poll_ms", c->last_poll_ms, "ms" },
        { "poll_max_ms", c->max_poll_ms, "ms" },
        { "poll_period_ms", dev->poll_ms, "ms" },
    };
    size_t n = sizeof rows / sizeof rows[0];
    Autofab__Metric ms[n];
    for (size_t i = 0; i < n; i++) {
        autofab__metric__init (&ms[i]);
        ms[i].name = (char *) rows[i].name;
        ms[i].value = rows[i].value;
        ms[i].unit = (char *) rows[i].unit;
    }
    char kind[AF_TOPIC_MAX_BYTES], topic[AF_TOPIC_MAX_BYTES];
    snprintf (kind, sizeof kind, "device.%s", dev->name);
    af_agent_topic (self->agent, "tel", kind, topic, sizeof topic);
    af_bus_publish_metrics (af_agent_bus (self->agent), topic, ms, n);
}

/* STALE or back: an event, the alarm raised or cleared, and the status at
 * once rather than at the next status period. */
static void
s_on_state (void *arg, const bm_device_t *dev, bool online, const char *why)
{
    bridge_t *self = arg;
    char kind[AF_TOPIC_MAX_BYTES], topic[AF_TOPIC_MAX_BYTES], text[300];
    snprintf (kind, sizeof kind, "device.%s", dev->name);
    snprintf (text, sizeof text, "modbus device %s (%s:%d) %s: %s", dev->name, dev->host, dev->port,
              online ? "online" : "STALE", why);
    Autofab__Event ev = AUTOFAB__EVENT__INIT;
    ev.kind = online ? "online" : "stale";
    ev.text = text;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_EVENT;
    env.event = &ev;
    af_bus_publish (af_agent_bus (self->agent), af_agent_topic (self->agent, "evt", kind, topic, sizeof topic), &env);
    Autofab__Alarm alarm = AUTOFAB__ALARM__INIT;
    alarm.severity = AUTOFAB__ALARM__SEVERITY__SEVERITY_CRITICAL;
    alarm.code = "modbus_stale";
    alarm.text = text;
    alarm.active = !online;
    Autofab__Envelope aenv = AUTOFAB__ENVELOPE__INIT;
    aenv.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_ALARM;
    aenv.alarm = &alarm;
    af_bus_publish (af_agent_bus (self->agent), af_agent_topic (self->agent, "alm", kind, topic, sizeof topic), &aenv);
    for (size_t i = 0; i < self->map->n_devices; i++)
        if (bmb_device_map (self->devices[i]) == dev)
            s_publish_status (self, self->devices[i]);
}

static void
s_on_status_timer (af_agent_t *agent, void *arg)
{
    (void) agent;
    bridge_t *self = arg;
    for (size_t i = 0; i < self->map->n_devices; i++)
        s_publish_status (self, self->devices[i]);
}

/* ------------------------------------------------------------------ commands */

/* A write: action = the map's command name, param "value", and "device"
 * when two devices offer a command of that name. */
static int
s_on_command (af_agent_t *agent, const Autofab__Envelope *req, af_reply_t *reply, void *arg)
{
    (void) agent;
    bridge_t *self = arg;
    if (req->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_COMMAND || !req->command->action) {
        af_reply_error (reply, "expected a Command");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    const char *action = req->command->action;
    const char *device = af_command_text (req, "device");
    double value;
    bmb_device_t *target = NULL;
    for (size_t i = 0; i < self->map->n_devices && !target; i++) {
        const bm_device_t *dev = bmb_device_map (self->devices[i]);
        if ((!device || !strcmp (device, dev->name)) && bm_device_command (dev, action))
            target = self->devices[i];
    }
    if (!target) {
        af_reply_error (reply, "command '%s' is not allowed by the map%s%s", action,
                        device ? " of device " : "", device ? device : "");
        af_warn ("refused command '%s': not in the map", action);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    if (!af_command_num (req, "value", &value)) {
        af_reply_error (reply, "%s: needs a numeric parameter 'value'", action);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    char err[256];
    if (bmb_device_write (target, action, value, err, sizeof err) != 0) {
        af_reply_error (reply, "%s", err);
        af_warn ("refused command: %s", err);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    af_info ("command %s = %g written", action, value);
    af_reply_num (reply, "value", value);
    return 0;
}

/* ----------------------------------------------------------------- life cycle */

bridge_t *
bridge_new (const bm_map_t *map, const bridge_opts_t *opts, char *err, size_t err_len)
{
    bridge_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->map = map;
    static const char *const caps[] = { "bridge", NULL };
    af_agent_opts_t ao = {
        .name = map->name, .kind = "bridge", .cell = map->cell,
        .factory = opts && opts->factory ? opts->factory : map->factory,
        .broker = opts ? opts->broker : NULL, .heartbeat_ms = opts ? opts->heartbeat_ms : 0,
        .capabilities = caps, .version = AF_VERSION,
    };
    self->agent = af_agent_new (&ao, err, err_len);
    if (!self->agent)
        goto fail;
    self->devices = calloc (map->n_devices + 1, sizeof *self->devices);
    if (!self->devices)
        goto fail;
    bmb_sink_t sink = { .values = s_on_values, .state = s_on_state, .arg = self };
    for (size_t i = 0; i < map->n_devices; i++)
        if (!(self->devices[i] = bmb_device_new (&map->devices[i], &sink))) {
            snprintf (err, err_len, "device %s: could not set up libmodbus", map->devices[i].name);
            goto fail;
        }
    if (map->n_devices
        && (af_agent_service (self->agent, map->name, s_on_command, self) != 0
            || af_agent_timer (self->agent, map->status_ms, s_on_status_timer, self) != 0)) {
        snprintf (err, err_len, "could not add the bridge's service or timer");
        goto fail;
    }
    if (map->spb.enabled && !(self->spb = bspb_new (&map->spb, self->agent, err, err_len)))
        goto fail;
    return self;
fail:
    bridge_destroy (&self);
    return NULL;
}

void
bridge_destroy (bridge_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bridge_t *self = *self_p;
    bspb_destroy (&self->spb);
    for (size_t i = 0; self->devices && i < self->map->n_devices; i++)
        bmb_device_destroy (&self->devices[i]);
    free (self->devices);
    af_agent_destroy (&self->agent);
    free (self);
    *self_p = NULL;
}

/* Waits (bounded) for the broker to take our publications before any
 * device or edge node is heard: births and first values published before
 * ZeroMQ has joined would be dropped. */
#define S_READY_MS 3000

int
bridge_start (bridge_t *self)
{
    if (af_agent_start (self->agent) != 0)
        return -1;
    if (af_bus_wait_ready (af_agent_bus (self->agent), S_READY_MS) != 0)
        af_warn ("bridge %s: the broker has not joined our publisher after %d ms; going on",
                 self->map->name, S_READY_MS);
    return 0;
}

int
bridge_iterate (bridge_t *self, int timeout_ms)
{
    int64_t now = af_clock_mono_ms ();
    int64_t due = now + (timeout_ms >= 0 ? timeout_ms : 1000);
    for (size_t i = 0; i < self->map->n_devices; i++)
        if (bmb_device_due_ms (self->devices[i]) < due)
            due = bmb_device_due_ms (self->devices[i]);
    int wait = due > now ? (int) (due - now) : 0;
    if (self->spb && wait > S_MQTT_TURN_MS)
        wait = S_MQTT_TURN_MS;
    if (af_agent_iterate (self->agent, wait) != 0)
        return -1;
    now = af_clock_mono_ms ();
    for (size_t i = 0; i < self->map->n_devices; i++)
        bmb_device_iterate (self->devices[i], now);
    if (self->spb)
        bspb_iterate (self->spb, now);
    return 0;
}

int
bridge_run (bridge_t *self)
{
    if (bridge_start (self) != 0)
        return 1;
    af_info ("bridge %s: %zu modbus device(s)%s", self->map->name, self->map->n_devices,
             self->spb ? ", sparkplug on" : "");
    while (bridge_iterate (self, -1) == 0)
        ;
    bspb_shutdown (self->spb);
    af_agent_stop (self->agent);
    return 0;
}

void
bridge_stop (bridge_t *self)
{
    af_agent_stop (self->agent);
}
