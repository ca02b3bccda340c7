/*  twin bus internals — shared by bus.c (time master), bus_req.c (the
 *  twin's service) and bus_shadow.c (shadow mode).  Not a public header.
 */
#ifndef TWIN_BUS_INT_H
#define TWIN_BUS_INT_H

#include "twin_bus.h"

#include "af_agent.h"
#include "twin.pb-c.h"

#define TWIN_BUS_MAX_CONTROLLERS 64

typedef struct {
    char name[AF_SOURCE_MAX + 1];
    int64_t acked_epoch;         /* −1: none yet */
    uint64_t commands;
} twin_bus_controller_t;

typedef struct {
    twin_t *twin;
    af_agent_t *agent;
    const twin_bus_opts_t *opts;
    twin_bus_controller_t controllers[TWIN_BUS_MAX_CONTROLLERS];
    int n_controllers;
    int64_t epoch;
    int64_t wall_start_ms;
    double sim_start_s;
    uint64_t commands_ok, commands_refused;
    size_t maint_published;      /* maintenance events already on the bus */
} twin_bus_t;

/* bus.c: the controller named NAME (added when ADD and there is room). */
twin_bus_controller_t *twin_bus__controller (twin_bus_t *self, const char *name, bool add);
/* Publishes MSG (a message of twin.proto) as a Typed body on
 * evt.<factory>.<cell>.<name>.KIND; an oversized message is not sent (logged). */
void twin_bus__publish_typed (af_agent_t *agent, const char *kind, const ProtobufCMessage *msg);

/* bus_req.c: the twin's service — tick acknowledgements, commands (the
 * command table, in either form), KPIs, vibration snippets, what-if, help. */
int  twin_bus__on_request (af_agent_t *agent, const Autofab__Envelope *req, af_reply_t *reply, void *arg);
void twin_bus__kpis_to_proto (const twin_kpi_t *k, Autofab__Twin__Kpis *p);

#endif
