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

/* A plant command waiting for the end of the epoch's acknowledgements. */
typedef struct {
    char source[AF_SOURCE_MAX + 1];
    uint64_t arrival;            /* order of arrival, all sources */
    twin_cmd_t cmd;
    uint8_t msg_id[32];          /* of the command, for its result */
    size_t msg_id_len;
} twin_bus_queued_t;

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
    size_t returns_published;    /* quality (issue 11): field returns already on the bus */
    char owner[TWIN_OWN_COUNT][AF_SOURCE_MAX + 1];  /* "" : the twin's practice */
    double owner_lost_s[TWIN_OWN_COUNT];            /* plant time the owner died, −1 */
    uint64_t takebacks;          /* concerns taken back from dead owners */
    twin_bus_queued_t *queue;    /* commands of this epoch, not yet applied */
    size_t queue_n, queue_cap;
    uint64_t arrivals;
} twin_bus_t;

/* bus.c: the controller named NAME (added when ADD and there is room). */
twin_bus_controller_t *twin_bus__controller (twin_bus_t *self, const char *name, bool add);
/* Publishes MSG (a message of twin.proto) as a Typed body on
 * evt.<factory>.<cell>.<name>.KIND; an oversized message is not sent (logged). */
void twin_bus__publish_typed (af_agent_t *agent, const char *kind, const ProtobufCMessage *msg);

/* bus_req.c: the twin's service — tick acknowledgements, commands (the
 * command table, in either form), KPIs, vibration snippets, what-if, help. */
int  twin_bus__on_request (af_agent_t *agent, const Autofab__Envelope *req, af_reply_t *reply, void *arg);
/* Applies the queued commands in the canonical order — by source name, then
 * in each source's order of arrival — and publishes each one's result on
 * cmd.<factory>.<cell>.<name>.result.  Called once every controller has
 * acknowledged the epoch, so the outcome does not depend on how the
 * processes were scheduled (DESIGN §3). */
void twin_bus__apply_queued (twin_bus_t *self);
void twin_bus__queue_free (twin_bus_t *self);
void twin_bus__kpis_to_proto (const twin_kpi_t *k, Autofab__Twin__Kpis *p);

#endif
