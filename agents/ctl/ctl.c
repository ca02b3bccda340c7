/*  ctl — an agent's session with the plant it controls (see ctl.h). */
#include "ctl.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_agent.h"
#include "af_log.h"

#define CTL_MAX_OWNS      8
#define CTL_METRICS_MAX   4096          /* distinct kind/name pairs kept */
#define CTL_KEY_MAX       (AF_TOPIC_MAX_BYTES + 64)
#define CTL_REQUEST_MS    10000
#define CTL_RETRIES       3
#define CTL_ACTIONS_MAX   32            /* actions whose refusal was logged */

typedef struct {
    char key[CTL_KEY_MAX];              /* "kind/name" */
    double value;
} s_metric_t;

struct ctl {
    ctl_opts_t opts;
    char name[64];
    af_agent_t *agent;
    char *description;
    char tel_prefix[AF_TOPIC_MAX_BYTES];    /* "tel.<factory>.<cell>.<twin>." */
    zhashx_t *metrics;                  /* key → s_metric_t* */
    size_t n_metrics;
    int64_t last_epoch;
    bool final;
    char refused_actions[CTL_ACTIONS_MAX][48];
    int n_refused_actions;
    ctl_stats_t stats;
};

static void
s_free_metric (void **item)
{
    free (*item);
    *item = NULL;
}

/* ------------------------------------------------------------ telemetry */

static void
s_on_telemetry (af_agent_t *agent, const af_msg_t *msg, void *arg)
{
    (void) agent;
    ctl_t *self = arg;
    if (msg->env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY) {
        self->stats.bad_messages++;
        return;
    }
    size_t prefix = strlen (self->tel_prefix);
    if (strncmp (msg->topic, self->tel_prefix, prefix) != 0)
        return;
    const char *kind = msg->topic + prefix;
    const Autofab__Telemetry *tel = msg->env->telemetry;
    self->stats.telemetry++;
    for (size_t i = 0; i < tel->n_metrics; i++) {
        const Autofab__Metric *m = tel->metrics[i];
        if (!m->name)
            continue;
        char key[CTL_KEY_MAX];
        snprintf (key, sizeof key, "%s/%s", kind, m->name);
        s_metric_t *slot = zhashx_lookup (self->metrics, key);
        if (!slot) {
            if (self->n_metrics >= CTL_METRICS_MAX) {
                if (self->n_metrics++ == CTL_METRICS_MAX)
                    af_warn ("%s: more than %d telemetry metrics; the rest are ignored", self->opts.prog,
                             CTL_METRICS_MAX);
                continue;
            }
            slot = calloc (1, sizeof *slot);
            if (!slot)
                continue;
            snprintf (slot->key, sizeof slot->key, "%s", key);
            zhashx_insert (self->metrics, slot->key, slot);
            self->n_metrics++;
        }
        slot->value = m->value;
    }
}

double
ctl_metric (const ctl_t *self, const char *kind, const char *name, double dflt)
{
    char key[CTL_KEY_MAX];
    snprintf (key, sizeof key, "%s/%s", kind, name);
    const s_metric_t *slot = zhashx_lookup (self->metrics, key);
    return slot ? slot->value : dflt;
}

bool
ctl_has_metric (const ctl_t *self, const char *kind, const char *name)
{
    char key[CTL_KEY_MAX];
    snprintf (key, sizeof key, "%s/%s", kind, name);
    return zhashx_lookup (self->metrics, key) != NULL;
}

/* ------------------------------------------------------------ requests */

/* Sends ENV to the plant; the reply's text result NAME (may be NULL) is
 * copied to a new string in *TEXT.  0, or -1 with why in ERR. */
static int
s_request (ctl_t *self, Autofab__Envelope *env, const char *name, char **text, char *err, size_t err_len)
{
    Autofab__Envelope *reply = NULL;
    char why[300] = "";
    int status = af_bus_request (af_agent_bus (self->agent), self->opts.twin, env, CTL_REQUEST_MS, CTL_RETRIES,
                                 &reply, why, sizeof why);
    if (status == 0 && name && text) {
        const Autofab__CommandResult *res = reply && reply->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_RESULT
                                                ? reply->result : NULL;
        for (size_t i = 0; res && i < res->n_results && !*text; i++)
            if (res->results[i]->name && !strcmp (res->results[i]->name, name) && res->results[i]->text)
                *text = strdup (res->results[i]->text);
        if (!*text) {
            snprintf (why, sizeof why, "the answer has no '%s'", name);
            status = -1;
        }
    }
    if (reply)
        autofab__envelope__free_unpacked (reply, NULL);
    if (status != 0 && err && err_len)
        snprintf (err, err_len, "%s", why[0] ? why : "refused");
    return status == 0 ? 0 : -1;
}

const char *
ctl_describe (ctl_t *self, char *err, size_t err_len)
{
    if (self->description)
        return self->description;
    Autofab__Command cmd = AUTOFAB__COMMAND__INIT;
    cmd.action = "describe";
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_COMMAND;
    env.command = &cmd;
    char why[300];
    if (s_request (self, &env, "plant", &self->description, why, sizeof why) != 0) {
        snprintf (err, err_len, "plant service '%s' gave no description: %s", self->opts.twin, why);
        return NULL;
    }
    return self->description;
}

/* Logs the first refusal of ACTION; later ones are only counted. */
static void
s_refused (ctl_t *self, const char *action, const char *why)
{
    self->stats.refused++;
    for (int i = 0; i < self->n_refused_actions; i++)
        if (!strcmp (self->refused_actions[i], action))
            return;
    if (self->n_refused_actions < CTL_ACTIONS_MAX)
        snprintf (self->refused_actions[self->n_refused_actions++], sizeof self->refused_actions[0], "%s",
                  action);
    af_warn ("%s: the plant refused '%s': %s (later refusals of it are only counted)", self->opts.prog, action,
             why);
}

int
ctl_command (ctl_t *self, const char *action, const ctl_param_t *params, size_t n, char *err,
             size_t err_len)
{
    enum { S_MAX_PARAMS = 16 };
    if (n > S_MAX_PARAMS) {
        snprintf (err ? err : (char[1]) { 0 }, err ? err_len : 1, "more than %d parameters", S_MAX_PARAMS);
        return -1;
    }
    Autofab__Param p[S_MAX_PARAMS], *pp[S_MAX_PARAMS];
    for (size_t i = 0; i < n; i++) {
        autofab__param__init (&p[i]);
        p[i].name = (char *) params[i].name;
        if (params[i].text) {
            p[i].value_case = AUTOFAB__PARAM__VALUE_TEXT;
            p[i].text = (char *) params[i].text;
        }
        else {
            p[i].value_case = AUTOFAB__PARAM__VALUE_NUM;
            p[i].num = params[i].num;
        }
        pp[i] = &p[i];
    }
    Autofab__Command cmd = AUTOFAB__COMMAND__INIT;
    cmd.action = (char *) action;
    cmd.params = pp;
    cmd.n_params = n;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_COMMAND;
    env.command = &cmd;
    char why[300];
    if (s_request (self, &env, NULL, NULL, why, sizeof why) != 0) {
        s_refused (self, action, why);
        if (err && err_len)
            snprintf (err, err_len, "%s", why);
        return -1;
    }
    self->stats.commands++;
    return 0;
}

/* ------------------------------------------------------------ the clock */

static void
s_ack (ctl_t *self, uint64_t epoch)
{
    Autofab__TickAck ack = AUTOFAB__TICK_ACK__INIT;
    ack.epoch = epoch;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TICK_ACK;
    env.tick_ack = &ack;
    char why[300];
    if (s_request (self, &env, NULL, NULL, why, sizeof why) != 0)
        af_warn ("%s: acknowledging epoch %llu failed: %s", self->opts.prog, (unsigned long long) epoch, why);
}

static void
s_on_tick (af_agent_t *agent, const af_msg_t *msg, void *arg)
{
    ctl_t *self = arg;
    if (msg->env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TICK) {
        self->stats.bad_messages++;
        return;
    }
    const Autofab__ClockTick *tick = msg->env->tick;
    if (tick->final) {
        self->final = true;
        af_agent_stop (agent);
        return;
    }
    /* A tick sent again (the plant re-sends while it waits) is acknowledged
     * again but acted on once. */
    if ((int64_t) tick->epoch > self->last_epoch) {
        self->last_epoch = (int64_t) tick->epoch;
        self->stats.ticks++;
        ctl_tick_t t = { .epoch = tick->epoch, .t_s = (double) tick->sim_t_ns * 1e-9,
                         .epoch_s = (double) tick->epoch_ns * 1e-9 };
        if (self->opts.on_epoch)
            self->opts.on_epoch (self, &t, self->opts.arg);
    }
    s_ack (self, tick->epoch);
}

/* ------------------------------------------------------------ life cycle */

ctl_t *
ctl_new (const ctl_opts_t *opts, char *err, size_t err_len)
{
    ctl_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    self->opts = *opts;
    if (!self->opts.prog)
        self->opts.prog = "agent";
    if (!self->opts.twin)
        self->opts.twin = "twin";
    if (!self->opts.factory)
        self->opts.factory = "factory";
    if (!self->opts.cell)
        self->opts.cell = "plant";
    const char *name = opts->name;
    if (!name)
        name = strncmp (self->opts.prog, "autofab-", 8) ? self->opts.prog : self->opts.prog + 8;
    snprintf (self->name, sizeof self->name, "%s", name);
    self->last_epoch = -1;
    self->metrics = zhashx_new ();
    if (!self->metrics)
        goto fail_mem;
    zhashx_set_destructor (self->metrics, s_free_metric);

    char claims[CTL_MAX_OWNS][48];
    const char *caps[CTL_MAX_OWNS + 2] = { "controller" };
    int n_caps = 1;
    for (int i = 0; opts->owns && opts->owns[i]; i++) {
        if (i >= CTL_MAX_OWNS) {
            snprintf (err, err_len, "more than %d concerns claimed", CTL_MAX_OWNS);
            goto fail;
        }
        snprintf (claims[i], sizeof claims[i], "owns:%s", opts->owns[i]);
        caps[n_caps++] = claims[i];
    }
    af_agent_opts_t ao = { .name = self->name, .kind = opts->kind ? opts->kind : "agent", .cell = self->opts.cell,
                           .factory = self->opts.factory, .broker = opts->broker,
                           .heartbeat_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : 500,
                           .capabilities = caps };
    self->agent = af_agent_new (&ao, err, err_len);
    if (!self->agent)
        goto fail;
    char topic[AF_TOPIC_MAX_BYTES + 8];
    snprintf (self->tel_prefix, sizeof self->tel_prefix, "tel.%s.%s.%s.", self->opts.factory, self->opts.cell,
              self->opts.twin);
    /* Telemetry first: the plant publishes an epoch's telemetry before its
     * tick on one socket, so the values are in when the tick arrives. */
    snprintf (topic, sizeof topic, "%s>", self->tel_prefix);
    if (af_agent_subscribe (self->agent, topic, s_on_telemetry, self) != 0) {
        snprintf (err, err_len, "cannot subscribe to %s (factory, cell or plant name not a topic segment?)", topic);
        goto fail;
    }
    snprintf (topic, sizeof topic, "sys.%s.%s.%s.clock", self->opts.factory, self->opts.cell, self->opts.twin);
    if (af_agent_subscribe (self->agent, topic, s_on_tick, self) != 0) {
        snprintf (err, err_len, "cannot subscribe to %s", topic);
        goto fail;
    }
    return self;

fail_mem:
    snprintf (err, err_len, "out of memory");
fail:
    ctl_destroy (&self);
    return NULL;
}

void
ctl_destroy (ctl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ctl_t *self = *self_p;
    af_agent_destroy (&self->agent);
    zhashx_destroy (&self->metrics);
    free (self->description);
    free (self);
    *self_p = NULL;
}

int
ctl_run (ctl_t *self)
{
    int rc = af_agent_run (self->agent);
    af_info ("%s: %llu epochs, %llu commands applied, %llu refused, %llu telemetry messages%s", self->opts.prog,
             (unsigned long long) self->stats.ticks, (unsigned long long) self->stats.commands,
             (unsigned long long) self->stats.refused, (unsigned long long) self->stats.telemetry,
             self->final ? "" : " (stopped before the final tick)");
    if (rc == 2)
        return 2;
    return self->final ? 0 : 1;
}

ctl_stats_t
ctl_stats (const ctl_t *self)
{
    return self->stats;
}
