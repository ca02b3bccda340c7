/*  twin bus — the twin as the bus's time master (see twin_bus.h): the
 *  controllers it waits for, what it publishes every epoch, and the run.
 *  Its service is in bus_req.c, shadow mode in bus_shadow.c.  */
#include "bus_int.h"

#include <czmq.h>
#include <math.h>

#include "af_json.h"
#include "af_log.h"

#define TWIN_BUS_CAPABILITY "controller"
/* While controllers have not acknowledged, the tick goes out again this
 * often (a tick lost to a broker restart must not stall the plant), and a
 * stall is logged after this long. */
#define TWIN_BUS_TICK_RESEND_MS 1000
#define TWIN_BUS_STALL_LOG_MS 10000

/* ------------------------------------------------------------ controllers */

/* Publishes MSG (a message of twin.proto) as a Typed body on
 * evt.<factory>.<cell>.<name>.KIND; a message too large for the stack
 * buffer is not sent (logged once). */
void
twin_bus__publish_typed (af_agent_t *agent, const char *kind, const ProtobufCMessage *msg)
{
    uint8_t buf[1024];
    if (protobuf_c_message_get_packed_size (msg) > sizeof buf) {
        AF_LOG_ONCE (AF_LOG_WARN, "twin: a %s message is over %zu bytes; not published",
                     msg->descriptor->name, sizeof buf);
        return;
    }
    Autofab__Typed typed = AUTOFAB__TYPED__INIT;
    typed.type = (char *) msg->descriptor->name;
    typed.data.data = buf;
    typed.data.len = protobuf_c_message_pack (msg, buf);
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TYPED;
    env.typed = &typed;
    char topic[AF_TOPIC_MAX_BYTES];
    af_bus_publish (af_agent_bus (agent), af_agent_topic (agent, "evt", kind, topic, sizeof topic), &env);
}

twin_bus_controller_t *
twin_bus__controller (twin_bus_t *self, const char *name, bool add)
{
    for (int i = 0; i < self->n_controllers; i++)
        if (!strcmp (self->controllers[i].name, name))
            return &self->controllers[i];
    if (!add || self->n_controllers == TWIN_BUS_MAX_CONTROLLERS || strlen (name) > AF_SOURCE_MAX)
        return NULL;
    twin_bus_controller_t *c = &self->controllers[self->n_controllers++];
    snprintf (c->name, sizeof c->name, "%s", name);
    /* A controller that joins mid-run owes nothing for past epochs. */
    c->acked_epoch = self->epoch - 1;
    af_info ("twin: controller '%s' joined at epoch %ld", name, (long) self->epoch);
    return c;
}

static void
s_controller_drop (twin_bus_t *self, const char *name)
{
    for (int i = 0; i < self->n_controllers; i++)
        if (!strcmp (self->controllers[i].name, name)) {
            af_info ("twin: controller '%s' left at epoch %ld", name, (long) self->epoch);
            self->controllers[i] = self->controllers[--self->n_controllers];
            return;
        }
}

/* Publishes an alarm on alm.<factory>.<cell>.<name>.KIND. */
static void
s_publish_alarm (twin_bus_t *self, const char *kind, Autofab__Alarm__Severity severity, const char *code,
                 const char *text, bool active)
{
    Autofab__Alarm alarm = AUTOFAB__ALARM__INIT;
    alarm.severity = severity;
    alarm.code = (char *) code;
    alarm.text = (char *) text;
    alarm.active = active;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_ALARM;
    env.alarm = &alarm;
    char topic[AF_TOPIC_MAX_BYTES];
    af_bus_publish (af_agent_bus (self->agent), af_agent_topic (self->agent, "alm", kind, topic, sizeof topic), &env);
}

/* An owner's birth claims its concerns ("owns:<concern>"; the first live
 * claimant keeps one); its death starts the grace period. */
static void
s_claims (twin_bus_t *self, const Autofab__Presence *p, bool birth)
{
    for (size_t i = 0; i < p->n_capabilities; i++) {
        const char *cap = p->capabilities[i];
        if (strncmp (cap, "owns:", 5))
            continue;
        int c = twin_own_by_name (cap + 5);
        if (c < 0) {
            AF_LOG_ONCE (AF_LOG_WARN, "twin: '%s' claims an unknown concern '%s' (logged once)", p->name, cap + 5);
            continue;
        }
        char *owner = self->owner[c];
        if (birth && owner[0] && strcmp (owner, p->name) && self->owner_lost_s[c] < 0) {
            af_warn ("twin: '%s' claims %s, which '%s' owns; refused", p->name, cap + 5, owner);
            continue;
        }
        if (birth) {
            if (strcmp (owner, p->name))
                af_info ("twin: '%s' owns %s from epoch %ld", p->name, cap + 5, (long) self->epoch);
            snprintf (owner, sizeof self->owner[c], "%s", p->name);
            self->owner_lost_s[c] = -1;
            twin_set_owned (self->twin, (twin_own_t) c, true);
        }
        else if (!strcmp (owner, p->name) && self->owner_lost_s[c] < 0) {
            self->owner_lost_s[c] = twin_now_s (self->twin);
            af_warn ("twin: owner '%s' of %s died; the twin takes it back in %g s of plant time unless it returns",
                     p->name, cap + 5, self->opts->ownership_grace_s);
        }
    }
}

/* Concerns whose owner stayed dead for the grace period come back to the
 * twin's practice, with an alarm. */
static void
s_take_back (twin_bus_t *self)
{
    double now = twin_now_s (self->twin);
    for (int c = 0; c < TWIN_OWN_COUNT; c++) {
        if (!self->owner[c][0] || self->owner_lost_s[c] < 0
            || now - self->owner_lost_s[c] < self->opts->ownership_grace_s)
            continue;
        char text[200];
        snprintf (text, sizeof text, "%s taken back from '%s' (dead for %.0f s of plant time): conventional practice resumes",
                  twin_own_name ((twin_own_t) c), self->owner[c], now - self->owner_lost_s[c]);
        af_warn ("twin: %s", text);
        twin_set_owned (self->twin, (twin_own_t) c, false);
        self->owner[c][0] = 0;
        self->owner_lost_s[c] = -1;
        self->takebacks++;
        s_publish_alarm (self, "ownership", AUTOFAB__ALARM__SEVERITY__SEVERITY_WARNING, "ownership", text, true);
    }
}

static void
s_presence (twin_bus_t *self, const Autofab__Envelope *env)
{
    if (env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_PRESENCE)
        return;
    const Autofab__Presence *p = env->presence;
    bool is_controller = false;
    for (size_t i = 0; i < p->n_capabilities; i++)
        is_controller |= !strcmp (p->capabilities[i], TWIN_BUS_CAPABILITY);
    if (!is_controller || !p->name)
        return;
    bool birth = p->state == AUTOFAB__PRESENCE__STATE__STATE_BIRTH;
    if (birth)
        twin_bus__controller (self, p->name, true);
    else if (p->state == AUTOFAB__PRESENCE__STATE__STATE_DEATH)
        s_controller_drop (self, p->name);
    else
        return;
    s_claims (self, p, birth);
}

static void
s_on_presence (af_agent_t *agent, const af_msg_t *msg, void *arg)
{
    (void) agent;
    s_presence (arg, msg->env);
}

static void
s_on_presence_snapshot (const char *topic, const Autofab__Envelope *env, void *arg)
{
    (void) topic;
    s_presence (arg, env);
}

/* ------------------------------------------------------------ epochs */

static void
s_publish_sample (void *ctx, const twin_sample_t *sample)
{
    twin_bus_t *self = ctx;
    Autofab__Metric metrics[TWIN_SAMPLE_MAX];
    for (int i = 0; i < sample->n && i < TWIN_SAMPLE_MAX; i++) {
        autofab__metric__init (&metrics[i]);
        metrics[i].name = (char *) sample->names[i];
        metrics[i].value = sample->values[i];
    }
    char kind[80], topic[AF_TOPIC_MAX_BYTES];
    snprintf (kind, sizeof kind, "%s", sample->topic);
    af_bus_publish_metrics (af_agent_bus (self->agent),
                            af_agent_topic (self->agent, "tel", kind, topic, sizeof topic), metrics,
                            (size_t) (sample->n < TWIN_SAMPLE_MAX ? sample->n : TWIN_SAMPLE_MAX));
}

static void
s_publish_tick (twin_bus_t *self, double epoch_s, bool final)
{
    Autofab__ClockTick tick = AUTOFAB__CLOCK_TICK__INIT;
    tick.epoch = (uint64_t) self->epoch;
    tick.sim_t_ns = (uint64_t) llround (twin_now_s (self->twin) * 1e9);
    tick.epoch_ns = (uint64_t) llround (epoch_s * 1e9);
    tick.final = final;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TICK;
    env.tick = &tick;
    char topic[AF_TOPIC_MAX_BYTES];
    af_bus_publish (af_agent_bus (self->agent), af_agent_topic (self->agent, "sys", "clock", topic, sizeof topic), &env);
}

/* Publishes the maintenance events since the last epoch on
 * evt.<factory>.<cell>.<name>.maintenance, and keeps a breakdown alarm per
 * station on alm.<factory>.<cell>.<name>.<station>: raised at a breakdown,
 * cleared by the repair, so operators and the dashboard see what is down. */
static void
s_publish_maintenance (twin_bus_t *self)
{
    size_t n = 0;
    const twin_maint_event_t *ev = twin_maint_events (self->twin, &n);
    const twin_obs_t *obs = twin_observe (self->twin);
    for (; self->maint_published < n; self->maint_published++) {
        const twin_maint_event_t *e = &ev[self->maint_published];
        const char *station = obs && e->station >= 0 && e->station < obs->n_stations
                                  ? obs->stations[e->station].name : "plant";
        Autofab__Twin__MaintenanceEvent me = AUTOFAB__TWIN__MAINTENANCE_EVENT__INIT;
        me.t_h = e->t_h;
        me.station = (char *) station;
        me.kind = (char *) (e->kind ? e->kind : "");
        me.cause = (char *) (e->cause ? e->cause : "");
        me.manual = e->manual;
        twin_bus__publish_typed (self->agent, "maintenance", &me.base);
        bool breakdown = me.kind && !strcmp (me.kind, "breakdown");
        if (!breakdown && !(me.kind && !strcmp (me.kind, "repair")))
            continue;
        char text[160];
        snprintf (text, sizeof text, "%s %s (%s) at %.2f h", station, breakdown ? "broke down" : "repaired",
                  me.cause, e->t_h);
        if (af_topic_valid (station, strlen (station)))
            s_publish_alarm (self, station, AUTOFAB__ALARM__SEVERITY__SEVERITY_CRITICAL, "breakdown", text,
                             breakdown);
    }
}

/* quality (issue 11): field returns since the last epoch, on
 * evt.<factory>.<cell>.<name>.field_return — the customer's report of a
 * defect nobody found, the only way an escape becomes known. */
static void
s_publish_field_returns (twin_bus_t *self)
{
    size_t n = 0;
    const twin_field_return_t *fr = twin_field_returns (self->twin, &n);
    const twin_obs_t *obs = twin_observe (self->twin);
    for (; self->returns_published < n; self->returns_published++) {
        const twin_field_return_t *r = &fr[self->returns_published];
        char *kinds[32];
        size_t nk = 0;
        for (int d = 0; d < 32 && nk < 32; d++)
            if (r->kinds & (1u << d))
                kinds[nk++] = (char *) twin_defect_kind_name (d);
        Autofab__Twin__FieldReturn m = AUTOFAB__TWIN__FIELD_RETURN__INIT;
        m.t_h = r->t_h;
        m.shipped_h = r->shipped_h;
        m.serial = r->serial;
        m.n_kinds = nk;
        m.kinds = kinds;
        m.station = (char *) (obs && r->station >= 0 && r->station < obs->n_stations
                                  ? obs->stations[r->station].name : "");
        twin_bus__publish_typed (self->agent, "field_return", &m.base);
    }
}

static bool
s_all_acked (const twin_bus_t *self)
{
    for (int i = 0; i < self->n_controllers; i++)
        if (self->controllers[i].acked_epoch < self->epoch)
            return false;
    return true;
}

static void
s_on_epoch (void *ctx, twin_t *twin, const twin_obs_t *obs)
{
    twin_bus_t *self = ctx;
    (void) obs;
    self->epoch++;
    s_take_back (self);
    af_clock_set_ns (af_bus_clock (af_agent_bus (self->agent)), (uint64_t) llround (twin_now_s (twin) * 1e9));
    twin_telemetry_foreach (twin, s_publish_sample, self);
    s_publish_maintenance (self);
    s_publish_field_returns (self);        /* quality (issue 11) */
    /* The engine's own progress, for autofab run's progress bar. */
    Autofab__Metric engine[2] = { AUTOFAB__METRIC__INIT, AUTOFAB__METRIC__INIT };
    engine[0].name = "events";
    engine[0].value = (double) twin_events (twin);
    engine[1].name = "sim_h";
    engine[1].value = twin_now_s (twin) / 3600.0;
    char topic[AF_TOPIC_MAX_BYTES];
    af_bus_publish_metrics (af_agent_bus (self->agent), af_agent_topic (self->agent, "tel", "engine", topic, sizeof topic), engine, 2);
    s_publish_tick (self, twin_epoch_s (twin), false);
    /* Pace to the wall clock when asked (--realtime / --speed X). */
    if (self->opts->speed > 0) {
        int64_t due = self->wall_start_ms
                      + (int64_t) ((twin_now_s (twin) - self->sim_start_s) * 1000.0 / self->opts->speed);
        while (zclock_mono () < due && af_agent_iterate (self->agent, (int) (due - zclock_mono ())) == 0)
            ;
    }
    /* Wait for every controller's acknowledgement of this tick, sending it
     * again now and then: controllers treat a repeated epoch idempotently. */
    int64_t waiting_since = zclock_mono (), resent = waiting_since;
    bool stall_logged = false;
    while (!s_all_acked (self)) {
        if (af_agent_iterate (self->agent, 100) != 0) {
            twin_stop (twin);
            return;
        }
        int64_t now = zclock_mono ();
        if (now - resent >= TWIN_BUS_TICK_RESEND_MS) {
            s_publish_tick (self, twin_epoch_s (twin), false);
            resent = now;
        }
        if (!stall_logged && now - waiting_since >= TWIN_BUS_STALL_LOG_MS) {
            stall_logged = true;
            for (int i = 0; i < self->n_controllers; i++)
                if (self->controllers[i].acked_epoch < self->epoch)
                    af_warn ("twin: epoch %ld waits for controller '%s' (%d s so far)", (long) self->epoch,
                             self->controllers[i].name, (int) ((now - waiting_since) / 1000));
        }
    }
    /* Every controller has spoken for this epoch: its commands take effect
     * now, in the canonical order. */
    twin_bus__apply_queued (self);
    /* Serve what is already waiting (operator queries) without blocking;
     * commands among them wait for the next epoch. */
    if (af_agent_iterate (self->agent, 0) != 0)
        twin_stop (twin);
}

static void
s_publish_kpis (twin_bus_t *self)
{
    twin_kpi_t k;
    twin_kpis (self->twin, &k);
    Autofab__Twin__Kpis p;
    twin_bus__kpis_to_proto (&k, &p);
    twin_bus__publish_typed (self->agent, "kpis", &p.base);
}

/* Writes "NAME":[…] with N doubles (non-finite as null). */
static void
s_json_array (FILE *out, const char *name, const double *v, size_t n)
{
    fprintf (out, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        fputs (i ? "," : "", out);
        af_json_number (out, v[i]);
    }
    fputc (']', out);
}

/* kpi.json (the twin's KPI object) and series.json (per-epoch time series,
 * maintenance events and station names) for autofab run's report. */
static int
s_write_outputs (twin_bus_t *self, const char *dir)
{
    char path[1024], json[4096];
    twin_kpi_t k;
    twin_kpis (self->twin, &k);
    if (twin_kpi_json (&k, json, sizeof json) < 0)
        return -1;
    snprintf (path, sizeof path, "%s/kpi.json", dir);
    FILE *out = fopen (path, "w");
    if (!out)
        return -1;
    fprintf (out, "%s\n", json);
    fclose (out);

    snprintf (path, sizeof path, "%s/series.json", dir);
    out = fopen (path, "w");
    if (!out)
        return -1;
    const twin_series_t *s = twin_series (self->twin);
    const twin_obs_t *obs = twin_observe (self->twin);
    fputs ("{\"stations\":[", out);
    for (int i = 0; obs && i < obs->n_stations; i++) {
        fputs (i ? "," : "", out);
        af_json_string (out, obs->stations[i].name);
    }
    fputs ("],\"utilisation\":[", out);
    for (int i = 0; obs && i < obs->n_stations; i++)
        fprintf (out, "%s%.4f", i ? "," : "", obs->stations[i].utilisation);
    fputs ("],\"active_pct\":[", out);
    for (int i = 0; obs && i < obs->n_stations; i++)
        fprintf (out, "%s%.4f", i ? "," : "", obs->stations[i].active_pct);
    fputs ("],", out);
    size_t n = s ? s->n : 0;
    const struct { const char *name; const double *v; } columns[] = {
        { "t_h", s ? s->t_h : NULL }, { "throughput_uph", s ? s->throughput_uph : NULL },
        { "grid_kw", s ? s->grid_kw : NULL }, { "battery_soc", s ? s->battery_soc : NULL },
        { "price_per_kwh", s ? s->price_per_kwh : NULL },
        { "down_unplanned_h", s ? s->down_unplanned_h : NULL },
        { "down_planned_h", s ? s->down_planned_h : NULL },
    };
    for (size_t c = 0; c < sizeof columns / sizeof columns[0]; c++) {
        fputs (c ? "," : "", out);
        s_json_array (out, columns[c].name, columns[c].v, columns[c].v ? n : 0);
    }
    fputs (",\"maintenance\":[", out);
    size_t n_events = 0;
    const twin_maint_event_t *ev = twin_maint_events (self->twin, &n_events);
    for (size_t i = 0; i < n_events; i++) {
        fprintf (out, "%s{\"t_h\":%.4f,\"station\":", i ? "," : "", ev[i].t_h);
        af_json_string (out, ev[i].station >= 0 && obs && ev[i].station < obs->n_stations
                                ? obs->stations[ev[i].station].name : "?");
        fputs (",\"kind\":", out);
        af_json_string (out, ev[i].kind);
        fputs (",\"cause\":", out);
        af_json_string (out, ev[i].cause);
        fprintf (out, ",\"manual\":%s}", ev[i].manual ? "true" : "false");
    }
    fputs ("]}\n", out);
    int rc = ferror (out) ? -1 : 0;
    fclose (out);
    return rc;
}

int
twin_bus_run (twin_t *twin, double hours, const twin_bus_opts_t *opts_in, FILE *progress)
{
    twin_bus_opts_t opts_copy = *opts_in, *opts = &opts_copy;
    if (!(opts->ownership_grace_s > 0))
        opts->ownership_grace_s = 10 * twin_epoch_s (twin);
    twin_bus_t self = { .twin = twin, .opts = opts };
    for (int c = 0; c < TWIN_OWN_COUNT; c++)
        self.owner_lost_s[c] = -1;
    af_clock_t *clock = af_clock_new_sim (0);
    static const char *const caps[] = { "time-master", "what-if", "vibration", NULL };
    af_agent_opts_t agent_opts = {
        .name = opts->name ? opts->name : "twin", .kind = "twin",
        .cell = opts->cell ? opts->cell : "plant", .factory = opts->factory,
        .broker = opts->broker, .heartbeat_ms = opts->heartbeat_ms, .capabilities = caps,
        .clock = clock,
    };
    char err[300];
    self.agent = af_agent_new (&agent_opts, err, sizeof err);
    if (!self.agent) {
        fprintf (stderr, "autofab-twin: %s\n", err);
        af_clock_destroy (&clock);
        return 2;
    }
    char presence[AF_TOPIC_MAX_BYTES];
    snprintf (presence, sizeof presence, "sys.%s", opts->factory ? opts->factory : "factory");
    af_agent_service (self.agent, agent_opts.name, twin_bus__on_request, &self);
    af_agent_subscribe (self.agent, presence, s_on_presence, &self);
    int rc = 0;
    if (af_agent_wait_registered (self.agent, opts->start_timeout_ms > 0 ? opts->start_timeout_ms : 10000) != 0) {
        fprintf (stderr, "autofab-twin: could not register with the broker\n");
        rc = 2;
        goto done;
    }
    /* Controllers already running are learnt from the presence snapshot. */
    af_bus_wait_ready (af_agent_bus (self.agent), 2000);
    if (af_bus_snapshot (af_agent_bus (self.agent), presence, s_on_presence_snapshot, &self, 5000) < 0)
        af_warn ("twin: no presence snapshot; controllers are learnt as they come");
    int64_t deadline = zclock_mono () + (opts->start_timeout_ms > 0 ? opts->start_timeout_ms : 10000);
    while (self.n_controllers < opts->expect_controllers) {
        if (zclock_mono () > deadline || af_agent_iterate (self.agent, 100) != 0) {
            fprintf (stderr, "autofab-twin: %d of %d controllers registered in time\n",
                     self.n_controllers, opts->expect_controllers);
            rc = 1;
            goto done;
        }
    }
    af_info ("twin: time master for %g h with %d controller(s)", hours, self.n_controllers);
    self.wall_start_ms = zclock_mono ();
    self.sim_start_s = twin_now_s (twin);
    /* Series and maintenance events feed the report and the event stream. */
    twin_record_series (twin, true);
    twin_set_epoch_cb (twin, s_on_epoch, &self);
    if (twin_run (twin, hours, progress) != 0 || zsys_interrupted)
        rc = 1;
    twin_set_epoch_cb (twin, NULL, NULL);
    if (opts->out_dir && s_write_outputs (&self, opts->out_dir) != 0) {
        af_error ("twin: cannot write kpi.json / series.json in %s", opts->out_dir);
        rc = 1;
    }
    twin_bus__apply_queued (&self);          /* results for the last ones */
    s_publish_kpis (&self);
    self.epoch++;
    s_publish_tick (&self, twin_epoch_s (twin), true);    /* epoch_ns never 0 (issue 11) */
    af_info ("twin: %ld epochs, %lu commands applied, %lu refused, %lu concerns taken back from dead owners",
             (long) self.epoch, (unsigned long) self.commands_ok, (unsigned long) self.commands_refused,
             (unsigned long) self.takebacks);
done:
    af_agent_stop (self.agent);
    af_agent_destroy (&self.agent);
    af_clock_destroy (&clock);
    twin_bus__queue_free (&self);
    return rc;
}
