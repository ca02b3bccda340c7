/*  twin-ctl — a minimal controller of the twin on the bus, for benchmarks
 *  and tests (never installed).
 *
 *  It registers with the capability "controller", and at every clock tick
 *  of the twin waits a random 0 … --delay-max-ms (its own seeded stream, so
 *  processes are scheduled differently run to run), optionally sends one
 *  command, and acknowledges the tick.  It exits after the final tick.
 *
 *    twin-ctl --broker tcp://127.0.0.1:5550 --name ctl1 [--factory factory]
 *             [--cell plant] [--twin twin] [--delay-max-ms 0] [--seed 1]
 *             [--command ACTION:PARAM=VALUE] [--every N] [--owns C1,C2]
 *  --owns claims concerns from the twin (capabilities owns:C).
 */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_agent.h"
#include "af_args.h"
#include "af_log.h"

typedef struct {
    const char *twin;
    long delay_max_ms, every;
    uint64_t rng;
    int64_t last_epoch;
    bool final;
    char action[64], param[64];
    double value;
    uint64_t acked, commands, refused;
} s_ctl_t;

static uint64_t
s_next (uint64_t *x)
{
    /* splitmix64: a private stream for the delays, nothing more */
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int
s_request (af_agent_t *agent, s_ctl_t *ctl, Autofab__Envelope *env)
{
    Autofab__Envelope *reply = NULL;
    char err[256];
    int status = af_bus_request (af_agent_bus (agent), ctl->twin, env, 10000, 3, &reply, err, sizeof err);
    if (reply)
        autofab__envelope__free_unpacked (reply, NULL);
    if (status != 0)
        af_warn ("twin-ctl: request to '%s' failed (%d): %s", ctl->twin, status, err);
    return status;
}

static void
s_command (af_agent_t *agent, s_ctl_t *ctl)
{
    Autofab__Param p = AUTOFAB__PARAM__INIT, *pp = &p;
    p.name = ctl->param;
    p.value_case = AUTOFAB__PARAM__VALUE_NUM;
    p.num = ctl->value;
    Autofab__Command cmd = AUTOFAB__COMMAND__INIT;
    cmd.action = ctl->action;
    cmd.params = &pp;
    cmd.n_params = 1;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_COMMAND;
    env.command = &cmd;
    if (s_request (agent, ctl, &env) == 0)
        ctl->commands++;
    else
        ctl->refused++;
}

static void
s_on_tick (af_agent_t *agent, const af_msg_t *msg, void *arg)
{
    s_ctl_t *ctl = arg;
    if (msg->env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TICK)
        return;
    const Autofab__ClockTick *tick = msg->env->tick;
    if (tick->final) {
        ctl->final = true;
        af_agent_stop (agent);
        return;
    }
    /* A tick sent again (the twin re-sends while it waits) is acknowledged
     * again but acted on once. */
    bool repeat = (int64_t) tick->epoch <= ctl->last_epoch;
    if (!repeat) {
        ctl->last_epoch = (int64_t) tick->epoch;
        if (ctl->delay_max_ms > 0)
            zclock_sleep ((int) (s_next (&ctl->rng) % (uint64_t) (ctl->delay_max_ms + 1)));
        if (ctl->action[0] && ctl->every > 0 && tick->epoch % (uint64_t) ctl->every == 0)
            s_command (agent, ctl);
    }
    Autofab__TickAck ack = AUTOFAB__TICK_ACK__INIT;
    ack.epoch = tick->epoch;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TICK_ACK;
    env.tick_ack = &ack;
    if (s_request (agent, ctl, &env) == 0)
        ctl->acked++;
}

static int
s_usage (void)
{
    fprintf (stderr, "usage: twin-ctl --broker EP --name NAME [--factory F] [--cell C] [--twin NAME]\n"
                     "                [--delay-max-ms D] [--seed S] [--command ACTION:PARAM=VALUE] [--every N]\n"
                "                [--owns CONCERN[,CONCERN…]]\n");
    return 2;
}

int
main (int argc, char **argv)
{
    af_log_init ("twin-ctl");
    const char *broker = NULL, *name = NULL, *factory = "factory", *cell = "plant", *command = NULL;
    const char *owns = NULL;
    s_ctl_t ctl = { .twin = "twin", .last_epoch = -1, .every = 1, .rng = 1 };
    long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp (a, "--help") || !strcmp (a, "-h"))
            return s_usage () - 2;
        if (!v)
            return s_usage ();
        i++;
        if (!strcmp (a, "--broker")) broker = v;
        else if (!strcmp (a, "--name")) name = v;
        else if (!strcmp (a, "--factory")) factory = v;
        else if (!strcmp (a, "--cell")) cell = v;
        else if (!strcmp (a, "--twin")) ctl.twin = v;
        else if (!strcmp (a, "--command")) command = v;
        else if (!strcmp (a, "--owns")) owns = v;
        else if (!strcmp (a, "--delay-max-ms")) {
            if (!af_args_long ("twin-ctl", a, v, 0, 10000, &ctl.delay_max_ms))
                return 2;
        }
        else if (!strcmp (a, "--every")) {
            if (!af_args_long ("twin-ctl", a, v, 1, 1000000, &ctl.every))
                return 2;
        }
        else if (!strcmp (a, "--seed")) {
            if (!af_args_long ("twin-ctl", a, v, 0, 1L << 62, &seed))
                return 2;
        }
        else
            return s_usage ();
    }
    if (!broker || !name)
        return s_usage ();
    if (command && sscanf (command, "%63[^:]:%63[^=]=%lf", ctl.action, ctl.param, &ctl.value) != 3) {
        fprintf (stderr, "twin-ctl: --command must be ACTION:PARAM=VALUE, got '%s'\n", command);
        return 2;
    }
    ctl.rng = (uint64_t) seed ^ 0x5ca1ab1eull;
    /* "controller", then one "owns:C" per claimed concern. */
    char claims[8][48];
    const char *caps[10] = { "controller" };
    int n_caps = 1;
    for (const char *c = owns; c && *c && n_caps < 9;) {
        size_t len = strcspn (c, ",");
        snprintf (claims[n_caps - 1], sizeof claims[0], "owns:%.*s", (int) len, c);
        caps[n_caps] = claims[n_caps - 1];
        n_caps++;
        c += len + (c[len] == ',');
    }
    af_agent_opts_t opts = { .name = name, .kind = "test", .cell = cell, .factory = factory,
                             .broker = broker, .heartbeat_ms = 500, .capabilities = caps };
    char err[300], topic[AF_TOPIC_MAX_BYTES];
    af_agent_t *agent = af_agent_new (&opts, err, sizeof err);
    if (!agent) {
        fprintf (stderr, "twin-ctl: %s\n", err);
        return 1;
    }
    snprintf (topic, sizeof topic, "sys.%s.%s.%s.clock", factory, cell, ctl.twin);
    af_agent_subscribe (agent, topic, s_on_tick, &ctl);
    int rc = af_agent_run (agent);
    af_info ("twin-ctl: %s acknowledged %llu ticks, %llu commands applied, %llu refused%s", name,
             (unsigned long long) ctl.acked, (unsigned long long) ctl.commands,
             (unsigned long long) ctl.refused, ctl.final ? "" : " (no final tick)");
    af_agent_destroy (&agent);
    return rc != 0 ? rc : ctl.final ? 0 : 1;
}
