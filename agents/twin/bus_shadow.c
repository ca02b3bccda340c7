/*  twin bus_shadow — shadow mode (see twin_bus.h): the twin tracks a plant,
 *  or a replay of a recorded run, from its station reports.  */
#include "bus_int.h"

#include <czmq.h>

#include "af_log.h"

/* The largest jump in plant time one report may ask for. */
#define TWIN_BUS_SHADOW_MAX_STEP_S (24.0 * 3600.0)

/* ------------------------------------------------------------ shadow mode */

typedef struct {
    twin_bus_t *bus;
    bool have_t0;
    uint64_t t0_ns;
    uint64_t reports, disagreements, refused;
    int64_t last_report_ms;
    double horizon_s;            /* the model never runs past the asked hours */
} s_shadow_t;

static void
s_on_station_report (af_agent_t *agent, const af_msg_t *msg, void *arg)
{
    s_shadow_t *sh = arg;
    twin_t *twin = sh->bus->twin;
    const char *name = strrchr (msg->topic, '.');
    double state = -1, level = -1;
    if (!name || msg->env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY)
        return;
    for (size_t i = 0; i < msg->env->telemetry->n_metrics; i++) {
        const Autofab__Metric *m = msg->env->telemetry->metrics[i];
        if (m->name && !strcmp (m->name, "state"))
            state = m->value;
        else if (m->name && !strcmp (m->name, "buffer_level"))
            level = m->value;
    }
    int station = twin_station_index (twin, name + 1);
    if (station < 0 || !(state >= 0 && state < TWIN_ST_COUNT) || !(level >= 0 && level < 1e9)) {
        sh->refused++;
        AF_LOG_ONCE (AF_LOG_WARN, "shadow: refused a station report on %s (unknown station or bad values; "
                     "logged once)", msg->topic);
        return;
    }
    /* Plant time, relative to the first report. */
    uint64_t t_ns = msg->env->header->t_ns;
    if (!sh->have_t0) {
        sh->have_t0 = true;
        sh->t0_ns = t_ns;
    }
    double t_s = t_ns > sh->t0_ns ? (double) (t_ns - sh->t0_ns) / 1e9 : 0;
    /* Plant time is input like any other: a report far in the future would
     * simulate for years inside this callback (no heartbeats meanwhile). */
    if (t_s - twin_now_s (twin) > TWIN_BUS_SHADOW_MAX_STEP_S) {
        sh->refused++;
        AF_LOG_ONCE (AF_LOG_WARN, "shadow: refused a report %.0f h ahead of the model (logged once)",
                     (t_s - twin_now_s (twin)) / 3600.0);
        return;
    }
    if (t_s > sh->horizon_s)
        t_s = sh->horizon_s;
    if (t_s > twin_now_s (twin))
        twin_iterate (twin, t_s, 0);
    twin_plant_report_t rep = { .station = station, .state = (twin_state_t) (int) state,
                                .buffer_level = (int) level, .measured_wear = -1 };
    char diff[512];
    int rc = twin_shadow_report (twin, &rep, diff, sizeof diff);
    sh->reports++;
    sh->last_report_ms = zclock_mono ();
    if (rc != 1)
        return;
    sh->disagreements++;
    Autofab__Twin__ShadowDisagreement d = AUTOFAB__TWIN__SHADOW_DISAGREEMENT__INIT;
    d.station = (char *) (name + 1);
    d.text = diff;
    twin_bus__publish_typed (agent, "shadow", &d.base);
}

int
twin_bus_shadow (twin_t *twin, double hours, const twin_bus_opts_t *opts, uint64_t *reports,
                 uint64_t *disagreements)
{
    twin_bus_t self = { .twin = twin, .opts = opts };
    s_shadow_t sh = { .bus = &self, .horizon_s = hours * 3600.0 };
    static const char *const caps[] = { "shadow", "what-if", NULL };
    af_agent_opts_t agent_opts = {
        .name = opts->name ? opts->name : "shadow", .kind = "twin",
        .cell = opts->cell ? opts->cell : "plant", .factory = opts->factory,
        .broker = opts->broker, .heartbeat_ms = opts->heartbeat_ms, .capabilities = caps,
    };
    char err[300], pattern[AF_TOPIC_MAX_BYTES];
    self.agent = af_agent_new (&agent_opts, err, sizeof err);
    if (!self.agent) {
        fprintf (stderr, "autofab-twin: %s\n", err);
        return 2;
    }
    snprintf (pattern, sizeof pattern, "tel.%s.*.*.station.*", opts->factory ? opts->factory : "factory");
    af_agent_service (self.agent, agent_opts.name, twin_bus__on_request, &self);
    af_agent_subscribe (self.agent, pattern, s_on_station_report, &sh);
    int rc = 0;
    if (twin_start (twin) != 0
        || af_agent_wait_registered (self.agent, opts->start_timeout_ms > 0 ? opts->start_timeout_ms : 10000) != 0) {
        fprintf (stderr, "autofab-twin: could not start the shadow twin\n");
        rc = 2;
        goto done;
    }
    /* Its first disagreement must not be lost while the publisher joins. */
    af_bus_wait_ready (af_agent_bus (self.agent), 2000);
    int idle_ms = opts->idle_timeout_ms > 0 ? opts->idle_timeout_ms : 10000;
    sh.last_report_ms = zclock_mono ();
    af_info ("shadow: tracking station reports on %s for up to %g h of plant time", pattern, hours);
    /* Past the horizon, the reports of that last instant that already
     * arrived are still applied: stop once none came for a moment. */
    const int drain_ms = 200;
    while (true) {
        if (af_agent_iterate (self.agent, 100) != 0) {
            rc = zsys_interrupted ? 1 : 0;
            break;
        }
        twin_bus__apply_queued (&self);
        int64_t quiet_ms = zclock_mono () - sh.last_report_ms;
        if (twin_now_s (twin) >= hours * 3600.0 && quiet_ms > drain_ms)
            break;
        if (quiet_ms > idle_ms) {
            af_info ("shadow: no report for %d ms; stopping", idle_ms);
            break;
        }
    }
    af_info ("shadow: %lu reports, %lu disagreements corrected, %lu refused, plant time %.2f h",
             (unsigned long) sh.reports, (unsigned long) sh.disagreements, (unsigned long) sh.refused,
             twin_now_s (twin) / 3600.0);
done:
    if (reports)
        *reports = sh.reports;
    if (disagreements)
        *disagreements = sh.disagreements;
    af_agent_stop (self.agent);
    af_agent_destroy (&self.agent);
    twin_bus__queue_free (&self);
    return rc;
}
