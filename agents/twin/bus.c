/*  agents/twin/bus.c — the twin as the bus's time master (see twin_bus.h).  */
#include "twin_bus.h"

#include <czmq.h>
#include <math.h>

#include "af_agent.h"
#include "af_json.h"
#include "af_log.h"
#include "twin.pb-c.h"

#define TWIN_BUS_MAX_CONTROLLERS 64
#define TWIN_BUS_CAPABILITY "controller"
#define TWIN_BUS_MAX_SNIPPET 65536
/* While controllers have not acknowledged, the tick goes out again this
 * often (a tick lost to a broker restart must not stall the plant), and a
 * stall is logged after this long. */
#define TWIN_BUS_TICK_RESEND_MS 1000
#define TWIN_BUS_STALL_LOG_MS 10000
/* Shadow mode: the largest jump in plant time one report may ask for. */
#define TWIN_BUS_SHADOW_MAX_STEP_S (24.0 * 3600.0)

typedef struct {
    char name[AF_SOURCE_MAX + 1];
    int64_t acked_epoch;         /* −1: none yet */
    uint64_t commands;
} s_controller_t;

typedef struct {
    twin_t *twin;
    af_agent_t *agent;
    const twin_bus_opts_t *opts;
    s_controller_t controllers[TWIN_BUS_MAX_CONTROLLERS];
    int n_controllers;
    int64_t epoch;
    int64_t wall_start_ms;
    double sim_start_s;
    uint64_t commands_ok, commands_refused;
    size_t maint_published;      /* maintenance events already on the bus */
} s_bus_t;

/* ------------------------------------------------------------ controllers */

/* Publishes MSG (a message of twin.proto) as a Typed body on
 * evt.<factory>.<cell>.<name>.KIND; a message too large for the stack
 * buffer is not sent (logged once). */
static void
s_publish_typed (af_agent_t *agent, const char *kind, const ProtobufCMessage *msg)
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

static s_controller_t *
s_controller (s_bus_t *self, const char *name, bool add)
{
    for (int i = 0; i < self->n_controllers; i++)
        if (!strcmp (self->controllers[i].name, name))
            return &self->controllers[i];
    if (!add || self->n_controllers == TWIN_BUS_MAX_CONTROLLERS || strlen (name) > AF_SOURCE_MAX)
        return NULL;
    s_controller_t *c = &self->controllers[self->n_controllers++];
    snprintf (c->name, sizeof c->name, "%s", name);
    /* A controller that joins mid-run owes nothing for past epochs. */
    c->acked_epoch = self->epoch - 1;
    af_info ("twin: controller '%s' joined at epoch %ld", name, (long) self->epoch);
    return c;
}

static void
s_controller_drop (s_bus_t *self, const char *name)
{
    for (int i = 0; i < self->n_controllers; i++)
        if (!strcmp (self->controllers[i].name, name)) {
            af_info ("twin: controller '%s' left at epoch %ld", name, (long) self->epoch);
            self->controllers[i] = self->controllers[--self->n_controllers];
            return;
        }
}

static void
s_presence (s_bus_t *self, const Autofab__Envelope *env)
{
    if (env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_PRESENCE)
        return;
    const Autofab__Presence *p = env->presence;
    bool is_controller = false;
    for (size_t i = 0; i < p->n_capabilities; i++)
        is_controller |= !strcmp (p->capabilities[i], TWIN_BUS_CAPABILITY);
    if (!is_controller || !p->name)
        return;
    if (p->state == AUTOFAB__PRESENCE__STATE__STATE_BIRTH)
        s_controller (self, p->name, true);
    else if (p->state == AUTOFAB__PRESENCE__STATE__STATE_DEATH)
        s_controller_drop (self, p->name);
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

/* ------------------------------------------------------------ commands */

static int
s_index (int index, const char *what, const char *name, char *err, size_t len)
{
    if (index < 0)
        snprintf (err, len, "unknown %s '%s'", what, name ? name : "");
    return index;
}

/* Maps a TwinCommand onto the model's command; -1 with ERR on bad names. */
static int
s_to_cmd (s_bus_t *self, const Autofab__Twin__TwinCommand *tc, twin_cmd_t *cmd, char *err, size_t len)
{
    memset (cmd, 0, sizeof *cmd);
    twin_t *twin = self->twin;
    switch (tc->cmd_case) {
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_LINE_SPEED:
        cmd->kind = TWIN_CMD_LINE_SPEED;
        cmd->u.line_speed.speed = tc->line_speed->speed;
        cmd->u.line_speed.station = tc->line_speed->station && tc->line_speed->station[0]
            ? s_index (twin_station_index (twin, tc->line_speed->station), "station", tc->line_speed->station, err, len)
            : -1;
        return tc->line_speed->station && tc->line_speed->station[0] && cmd->u.line_speed.station < 0 ? -1 : 0;
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_BATCH_SEQUENCE:
        cmd->kind = TWIN_CMD_BATCH_SEQUENCE;
        cmd->u.batch.rule = (twin_seq_rule_t) tc->batch_sequence->rule;
        cmd->u.batch.batch_size = (int) tc->batch_sequence->batch_size;
        return 0;
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_TASK_ASSIGN:
        cmd->kind = TWIN_CMD_TASK_ASSIGN;
        cmd->u.task.robot = (int) tc->task_assign->robot;
        cmd->u.task.task = (twin_task_kind_t) tc->task_assign->task;
        cmd->u.task.station = -1;
        cmd->u.task.part = -1;
        if (tc->task_assign->station && tc->task_assign->station[0]
            && (cmd->u.task.station = s_index (twin_station_index (twin, tc->task_assign->station),
                                               "station", tc->task_assign->station, err, len)) < 0)
            return -1;
        if (tc->task_assign->part && tc->task_assign->part[0]
            && (cmd->u.task.part = s_index (twin_part_index (twin, tc->task_assign->part), "part",
                                            tc->task_assign->part, err, len)) < 0)
            return -1;
        return 0;
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_MAINTENANCE:
        cmd->kind = TWIN_CMD_MAINTENANCE;
        cmd->u.maintenance.by_robot = tc->maintenance->by_robot;
        cmd->u.maintenance.station = s_index (twin_station_index (twin, tc->maintenance->station),
                                              "station", tc->maintenance->station, err, len);
        return cmd->u.maintenance.station < 0 ? -1 : 0;
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_ROUTING:
        cmd->kind = TWIN_CMD_ROUTING;
        cmd->u.routing.route = (int) tc->routing->route;
        cmd->u.routing.variant = s_index (twin_variant_index (twin, tc->routing->variant), "variant",
                                          tc->routing->variant, err, len);
        return cmd->u.routing.variant < 0 ? -1 : 0;
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_BATTERY:
        cmd->kind = TWIN_CMD_BATTERY;
        cmd->u.battery.power_kw = tc->battery->power_kw;
        return 0;
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_HVAC:
        cmd->kind = TWIN_CMD_HVAC;
        cmd->u.hvac.setpoint_c = tc->hvac->setpoint_c;
        return 0;
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_INSPECTION:
        cmd->kind = TWIN_CMD_INSPECTION;
        cmd->u.inspection.sample_every = (int) tc->inspection->sample_every;
        return 0;
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_ROVER_SERVICE:
        cmd->kind = TWIN_CMD_ROVER_SERVICE;
        cmd->u.rover.robot = tc->rover_service->robot > INT32_MAX ? -1 : (int) tc->rover_service->robot;
        cmd->u.rover.by_robot = tc->rover_service->by_robot;
        return 0;
    case AUTOFAB__TWIN__TWIN_COMMAND__CMD_REORDER:
        cmd->kind = TWIN_CMD_REORDER;
        cmd->u.reorder.qty = tc->reorder->qty;
        cmd->u.reorder.part = s_index (twin_part_index (twin, tc->reorder->part), "part",
                                       tc->reorder->part, err, len);
        return cmd->u.reorder.part < 0 ? -1 : 0;
    default:
        snprintf (err, len, "empty or unknown twin command");
        return -1;
    }
}

/* The action/params form (autofab call twin set_hvac setpoint_c=21), turned
 * into a TwinCommand held in the caller's storage.  0, 1 if ACTION is not a
 * command, -1 with ERR on a missing parameter. */
typedef struct {
    Autofab__Twin__TwinCommand tc;
    Autofab__Twin__LineSpeed line_speed;
    Autofab__Twin__BatchSequence batch;
    Autofab__Twin__TaskAssign task;
    Autofab__Twin__MaintenanceOrder maintenance;
    Autofab__Twin__Routing routing;
    Autofab__Twin__BatterySetpoint battery;
    Autofab__Twin__HvacSetpoint hvac;
    Autofab__Twin__InspectionSampling inspection;
    Autofab__Twin__Reorder reorder;
    Autofab__Twin__RoverService rover;
} s_cmd_storage_t;

static bool
s_need_num (const Autofab__Envelope *req, const char *name, double *out, char *err, size_t len)
{
    if (af_command_num (req, name, out))
        return true;
    snprintf (err, len, "missing number parameter '%s'", name);
    return false;
}

static const char *
s_text_or (const Autofab__Envelope *req, const char *name, const char *dflt)
{
    const char *text = af_command_text (req, name);
    return text ? text : dflt;
}

static int
s_from_params (const Autofab__Envelope *req, s_cmd_storage_t *st, char *err, size_t len)
{
    const char *action = req->command->action ? req->command->action : "";
    autofab__twin__twin_command__init (&st->tc);
    double v = 0, w = 0;
    if (!strcmp (action, "set_line_speed")) {
        autofab__twin__line_speed__init (&st->line_speed);
        if (!s_need_num (req, "speed", &st->line_speed.speed, err, len))
            return -1;
        st->line_speed.station = (char *) s_text_or (req, "station", "");
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_LINE_SPEED;
        st->tc.line_speed = &st->line_speed;
    }
    else if (!strcmp (action, "set_batch_sequence")) {
        autofab__twin__batch_sequence__init (&st->batch);
        const char *rule = s_text_or (req, "rule", "fifo");
        if (!strcmp (rule, "fifo")) st->batch.rule = AUTOFAB__TWIN__SEQUENCE_RULE__SEQUENCE_FIFO;
        else if (!strcmp (rule, "edd")) st->batch.rule = AUTOFAB__TWIN__SEQUENCE_RULE__SEQUENCE_EDD;
        else if (!strcmp (rule, "batch")) st->batch.rule = AUTOFAB__TWIN__SEQUENCE_RULE__SEQUENCE_BATCH;
        else {
            snprintf (err, len, "rule must be fifo, edd or batch");
            return -1;
        }
        if (af_command_num (req, "batch_size", &v))
            st->batch.batch_size = v > 0 && v < 1e6 ? (uint32_t) v : 0;
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_BATCH_SEQUENCE;
        st->tc.batch_sequence = &st->batch;
    }
    else if (!strcmp (action, "assign_task")) {
        autofab__twin__task_assign__init (&st->task);
        const char *task = s_text_or (req, "task", "");
        if (!s_need_num (req, "robot", &v, err, len))
            return -1;
        st->task.robot = v >= 0 && v < 1e6 ? (uint32_t) v : UINT32_MAX;
        if (!strcmp (task, "inspect")) st->task.task = AUTOFAB__TWIN__TASK_KIND__TASK_INSPECT;
        else if (!strcmp (task, "deliver")) st->task.task = AUTOFAB__TWIN__TASK_KIND__TASK_DELIVER;
        else if (!strcmp (task, "repair")) st->task.task = AUTOFAB__TWIN__TASK_KIND__TASK_REPAIR;
        else {
            snprintf (err, len, "task must be inspect, deliver or repair");
            return -1;
        }
        st->task.station = (char *) s_text_or (req, "station", "");
        st->task.part = (char *) s_text_or (req, "part", "");
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_TASK_ASSIGN;
        st->tc.task_assign = &st->task;
    }
    else if (!strcmp (action, "order_maintenance")) {
        autofab__twin__maintenance_order__init (&st->maintenance);
        st->maintenance.station = (char *) s_text_or (req, "station", "");
        const Autofab__Param *p = af_command_param (req, "by_robot");
        st->maintenance.by_robot = p && p->value_case == AUTOFAB__PARAM__VALUE_FLAG && p->flag;
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_MAINTENANCE;
        st->tc.maintenance = &st->maintenance;
    }
    else if (!strcmp (action, "set_route")) {
        autofab__twin__routing__init (&st->routing);
        st->routing.variant = (char *) s_text_or (req, "variant", "");
        if (!s_need_num (req, "route", &w, err, len))
            return -1;
        st->routing.route = w >= 0 && w < 1e6 ? (uint32_t) w : UINT32_MAX;
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_ROUTING;
        st->tc.routing = &st->routing;
    }
    else if (!strcmp (action, "set_battery")) {
        autofab__twin__battery_setpoint__init (&st->battery);
        if (!s_need_num (req, "power_kw", &st->battery.power_kw, err, len))
            return -1;
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_BATTERY;
        st->tc.battery = &st->battery;
    }
    else if (!strcmp (action, "set_hvac")) {
        autofab__twin__hvac_setpoint__init (&st->hvac);
        if (!s_need_num (req, "setpoint_c", &st->hvac.setpoint_c, err, len))
            return -1;
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_HVAC;
        st->tc.hvac = &st->hvac;
    }
    else if (!strcmp (action, "set_inspection")) {
        autofab__twin__inspection_sampling__init (&st->inspection);
        if (!s_need_num (req, "sample_every", &v, err, len))
            return -1;
        st->inspection.sample_every = v >= 0 && v < 1e9 ? (uint32_t) v : 0;
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_INSPECTION;
        st->tc.inspection = &st->inspection;
    }
    else if (!strcmp (action, "service_rover")) {
        autofab__twin__rover_service__init (&st->rover);
        if (!s_need_num (req, "robot", &v, err, len))
            return -1;
        st->rover.robot = v >= 0 && v < 1e6 ? (uint32_t) v : UINT32_MAX;
        const Autofab__Param *p = af_command_param (req, "by_robot");
        st->rover.by_robot = p && p->value_case == AUTOFAB__PARAM__VALUE_FLAG && p->flag;
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_ROVER_SERVICE;
        st->tc.rover_service = &st->rover;
    }
    else if (!strcmp (action, "reorder")) {
        autofab__twin__reorder__init (&st->reorder);
        st->reorder.part = (char *) s_text_or (req, "part", "");
        if (!s_need_num (req, "qty", &st->reorder.qty, err, len))
            return -1;
        st->tc.cmd_case = AUTOFAB__TWIN__TWIN_COMMAND__CMD_REORDER;
        st->tc.reorder = &st->reorder;
    }
    else
        return 1;
    return 0;
}

static int
s_apply (s_bus_t *self, const Autofab__Twin__TwinCommand *tc, af_reply_t *reply)
{
    twin_cmd_t cmd;
    char err[256] = "";
    if (s_to_cmd (self, tc, &cmd, err, sizeof err) != 0 || twin_apply (self->twin, &cmd, err, sizeof err) != 0) {
        self->commands_refused++;
        af_reply_error (reply, "%s", err);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    self->commands_ok++;
    af_reply_text (reply, "applied", twin_cmd_name (cmd.kind));
    af_reply_num (reply, "sim_t_s", twin_now_s (self->twin));
    return 0;
}

static void
s_kpis_to_proto (const twin_kpi_t *k, Autofab__Twin__Kpis *p)
{
    autofab__twin__kpis__init (p);
    p->sim_h = k->sim_h;
    p->units = k->units;
    p->throughput_uph = k->throughput_uph;
    p->cycle_time_mean_min = k->cycle_time_mean_min;
    p->oee_pct = k->oee_pct;
    p->downtime_h = k->downtime_h;
    p->unplanned_downtime_h = k->unplanned_downtime_h;
    p->planned_downtime_h = k->planned_downtime_h;
    p->mtbf_h = k->mtbf_h;
    p->mttr_h = k->mttr_h;
    p->escaped_defects_ppm = k->escaped_defects_ppm;
    p->scrap_units = k->scrap_units;
    p->rework_units = k->rework_units;
    p->energy_kwh_per_unit = k->energy_kwh_per_unit;
    p->energy_cost_per_unit = k->energy_cost_per_unit;
    p->peak_kw = k->peak_kw;
    p->manual_interventions = k->manual_interventions;
    p->robot_utilisation_pct = k->robot_utilisation_pct;
}

static void
s_reply_kpis (af_reply_t *reply, const twin_kpi_t *k)
{
    Autofab__Twin__Kpis p;
    s_kpis_to_proto (k, &p);
    uint8_t buf[512];
    size_t len = autofab__twin__kpis__pack (&p, buf);
    af_reply_typed (reply, "autofab.twin.Kpis", buf, len);
    af_reply_num (reply, "units", k->units);
    af_reply_num (reply, "throughput_uph", k->throughput_uph);
    af_reply_num (reply, "oee_pct", k->oee_pct);
    af_reply_num (reply, "downtime_h", k->downtime_h);
    af_reply_num (reply, "energy_kwh_per_unit", k->energy_kwh_per_unit);
}

static int
s_vibration (s_bus_t *self, const char *station, double fs_hz, double samples, af_reply_t *reply)
{
    int index = twin_station_index (self->twin, station ? station : "");
    if (index < 0 || samples < 16 || samples > TWIN_BUS_MAX_SNIPPET) {
        af_reply_error (reply, index < 0 ? "unknown station '%s'" : "samples must be 16 … 65536",
                        station ? station : "");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    size_t n = (size_t) samples;
    double *data = malloc (n * sizeof *data), shaft_hz = 0;
    if (!data || twin_vibration_snippet (self->twin, index, fs_hz, n, data, &shaft_hz) != 0) {
        free (data);
        af_reply_error (reply, "cannot sample station '%s' at %g Hz", station, fs_hz);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    Autofab__Twin__VibrationSnippet snip = AUTOFAB__TWIN__VIBRATION_SNIPPET__INIT;
    snip.station = (char *) station;
    snip.fs_hz = fs_hz;
    snip.shaft_hz = shaft_hz;
    snip.mm_s = data;
    snip.n_mm_s = n;
    size_t len = autofab__twin__vibration_snippet__get_packed_size (&snip);
    uint8_t *buf = malloc (len);
    if (buf) {
        autofab__twin__vibration_snippet__pack (&snip, buf);
        af_reply_typed (reply, "autofab.twin.VibrationSnippet", buf, len);
    }
    af_reply_num (reply, "shaft_hz", shaft_hz);
    af_reply_num (reply, "samples", (double) n);
    free (buf);
    free (data);
    return 0;
}

static int
s_whatif (s_bus_t *self, double hours, const Autofab__Twin__TwinCommand *change, bool baseline,
          af_reply_t *reply)
{
    if (!(hours > 0 && hours <= 24 * 366)) {
        af_reply_error (reply, "hours must be > 0 and at most a year");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    twin_cmd_t cmd;
    char err[256] = "";
    if (change && change->cmd_case != AUTOFAB__TWIN__TWIN_COMMAND__CMD__NOT_SET
        && s_to_cmd (self, change, &cmd, err, sizeof err) != 0) {
        af_reply_error (reply, "%s", err);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    bool has_change = change && change->cmd_case != AUTOFAB__TWIN__TWIN_COMMAND__CMD__NOT_SET;
    twin_kpi_t base, changed;
    if (twin_whatif (self->twin, hours, has_change ? &cmd : NULL, baseline, &base, &changed, err, sizeof err) != 0) {
        af_reply_error (reply, "what-if failed: %s", err);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    Autofab__Twin__Kpis a, b;
    s_kpis_to_proto (&base, &a);
    s_kpis_to_proto (&changed, &b);
    Autofab__Twin__WhatIfReply wr = AUTOFAB__TWIN__WHAT_IF_REPLY__INIT;
    wr.unchanged = &a;
    wr.changed = &b;
    uint8_t buf[1024];
    size_t len = autofab__twin__what_if_reply__pack (&wr, buf);
    af_reply_typed (reply, "autofab.twin.WhatIfReply", buf, len);
    af_reply_num (reply, "throughput_uph_unchanged", base.throughput_uph);
    af_reply_num (reply, "throughput_uph_changed", changed.throughput_uph);
    af_reply_num (reply, "energy_kwh_per_unit_unchanged", base.energy_kwh_per_unit);
    af_reply_num (reply, "energy_kwh_per_unit_changed", changed.energy_kwh_per_unit);
    return 0;
}

/* Decodes a Typed body of the expected type; NULL if absent or wrong. */
static void *
s_typed (const Autofab__Typed *typed, const char *type, const ProtobufCMessageDescriptor *desc)
{
    if (!typed || !typed->type || strcmp (typed->type, type) || typed->data.len > AF_MAX_MSG_BYTES)
        return NULL;
    return protobuf_c_message_unpack (desc, NULL, typed->data.len, typed->data.data);
}

static int
s_on_request (af_agent_t *agent, const Autofab__Envelope *req, af_reply_t *reply, void *arg)
{
    (void) agent;
    s_bus_t *self = arg;
    const char *source = req->header->source;
    if (req->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_TICK_ACK) {
        /* Only known controllers count: an ack racing a death notice must
         * not bring back a controller nobody will hear from again. */
        s_controller_t *c = s_controller (self, source, false);
        if (c && (int64_t) req->tick_ack->epoch > c->acked_epoch)
            c->acked_epoch = (int64_t) req->tick_ack->epoch;
        return 0;
    }
    if (req->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_COMMAND || !req->command->action) {
        af_reply_error (reply, "the twin takes a Command or a TickAck");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    s_controller_t *c = s_controller (self, source, false);
    if (c)
        c->commands++;
    const char *action = req->command->action;
    const Autofab__Typed *body = req->command->body;
    if (!strcmp (action, "kpis")) {
        twin_kpi_t k;
        twin_kpis (self->twin, &k);
        s_reply_kpis (reply, &k);
        return 0;
    }
    if (!strcmp (action, "vibration")) {
        Autofab__Twin__TwinCommand *tc = s_typed (body, "autofab.twin.TwinCommand",
                                                  &autofab__twin__twin_command__descriptor);
        int status;
        if (tc && tc->cmd_case == AUTOFAB__TWIN__TWIN_COMMAND__CMD_VIBRATION)
            status = s_vibration (self, tc->vibration->station, tc->vibration->fs_hz,
                                  tc->vibration->samples, reply);
        else {
            double fs = 0, n = 0;
            af_command_num (req, "fs_hz", &fs);
            af_command_num (req, "samples", &n);
            status = s_vibration (self, af_command_text (req, "station"), fs, n, reply);
        }
        if (tc)
            autofab__twin__twin_command__free_unpacked (tc, NULL);
        return status;
    }
    if (!strcmp (action, "what_if")) {
        Autofab__Twin__WhatIfRequest *wr = s_typed (body, "autofab.twin.WhatIfRequest",
                                                    &autofab__twin__what_if_request__descriptor);
        int status;
        if (wr)
            status = s_whatif (self, wr->hours, wr->change, wr->baseline, reply);
        else {
            double hours = 0;
            af_command_num (req, "hours", &hours);
            const Autofab__Param *p = af_command_param (req, "baseline");
            status = s_whatif (self, hours, NULL, p && p->value_case == AUTOFAB__PARAM__VALUE_FLAG && p->flag, reply);
        }
        if (wr)
            autofab__twin__what_if_request__free_unpacked (wr, NULL);
        return status;
    }
    if (body) {
        Autofab__Twin__TwinCommand *tc = s_typed (body, "autofab.twin.TwinCommand",
                                                  &autofab__twin__twin_command__descriptor);
        if (!tc) {
            af_reply_error (reply, "body must be a valid autofab.twin.TwinCommand");
            return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
        }
        int status = s_apply (self, tc, reply);
        autofab__twin__twin_command__free_unpacked (tc, NULL);
        return status;
    }
    s_cmd_storage_t st;
    char err[256] = "";
    int rc = s_from_params (req, &st, err, sizeof err);
    if (rc == 1) {
        af_reply_error (reply, "unknown action '%s' (set_line_speed, set_batch_sequence, assign_task, "
                        "order_maintenance, set_route, set_battery, set_hvac, set_inspection, reorder, service_rover, "
                        "kpis, vibration, what_if)", action);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    if (rc < 0) {
        af_reply_error (reply, "%s: %s", action, err);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    return s_apply (self, &st.tc, reply);
}

/* ------------------------------------------------------------ epochs */

static void
s_publish_sample (void *ctx, const twin_sample_t *sample)
{
    s_bus_t *self = ctx;
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
s_publish_tick (s_bus_t *self, double epoch_s, bool final)
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
s_publish_maintenance (s_bus_t *self)
{
    size_t n = 0;
    const twin_maint_event_t *ev = twin_maint_events (self->twin, &n);
    const twin_obs_t *obs = twin_observe (self->twin);
    af_bus_t *bus = af_agent_bus (self->agent);
    char topic[AF_TOPIC_MAX_BYTES];
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
        s_publish_typed (self->agent, "maintenance", &me.base);
        bool breakdown = me.kind && !strcmp (me.kind, "breakdown");
        if (!breakdown && !(me.kind && !strcmp (me.kind, "repair")))
            continue;
        char text[160];
        snprintf (text, sizeof text, "%s %s (%s) at %.2f h", station, breakdown ? "broke down" : "repaired",
                  me.cause, e->t_h);
        Autofab__Alarm alarm = AUTOFAB__ALARM__INIT;
        alarm.severity = AUTOFAB__ALARM__SEVERITY__SEVERITY_CRITICAL;
        alarm.code = "breakdown";
        alarm.text = text;
        alarm.active = breakdown;
        Autofab__Envelope aenv = AUTOFAB__ENVELOPE__INIT;
        aenv.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_ALARM;
        aenv.alarm = &alarm;
        if (af_topic_valid (station, strlen (station)))
            af_bus_publish (bus, af_agent_topic (self->agent, "alm", station, topic, sizeof topic), &aenv);
    }
}

static bool
s_all_acked (const s_bus_t *self)
{
    for (int i = 0; i < self->n_controllers; i++)
        if (self->controllers[i].acked_epoch < self->epoch)
            return false;
    return true;
}

static void
s_on_epoch (void *ctx, twin_t *twin, const twin_obs_t *obs)
{
    s_bus_t *self = ctx;
    (void) obs;
    self->epoch++;
    af_clock_set_ns (af_bus_clock (af_agent_bus (self->agent)), (uint64_t) llround (twin_now_s (twin) * 1e9));
    twin_telemetry_foreach (twin, s_publish_sample, self);
    s_publish_maintenance (self);
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
    /* Serve what is already waiting (operator queries) without blocking. */
    if (af_agent_iterate (self->agent, 0) != 0)
        twin_stop (twin);
}

static void
s_publish_kpis (s_bus_t *self)
{
    twin_kpi_t k;
    twin_kpis (self->twin, &k);
    Autofab__Twin__Kpis p;
    s_kpis_to_proto (&k, &p);
    s_publish_typed (self->agent, "kpis", &p.base);
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
s_write_outputs (s_bus_t *self, const char *dir)
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
twin_bus_run (twin_t *twin, double hours, const twin_bus_opts_t *opts, FILE *progress)
{
    s_bus_t self = { .twin = twin, .opts = opts };
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
    af_agent_service (self.agent, agent_opts.name, s_on_request, &self);
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
    s_publish_kpis (&self);
    self.epoch++;
    s_publish_tick (&self, 0, true);
    af_info ("twin: %ld epochs, %lu commands applied, %lu refused", (long) self.epoch,
             (unsigned long) self.commands_ok, (unsigned long) self.commands_refused);
done:
    af_agent_stop (self.agent);
    af_agent_destroy (&self.agent);
    af_clock_destroy (&clock);
    return rc;
}

/* ------------------------------------------------------------ shadow mode */

typedef struct {
    s_bus_t *bus;
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
    s_publish_typed (agent, "shadow", &d.base);
}

int
twin_bus_shadow (twin_t *twin, double hours, const twin_bus_opts_t *opts, uint64_t *reports,
                 uint64_t *disagreements)
{
    s_bus_t self = { .twin = twin, .opts = opts };
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
    af_agent_service (self.agent, agent_opts.name, s_on_request, &self);
    af_agent_subscribe (self.agent, pattern, s_on_station_report, &sh);
    int rc = 0;
    if (twin_start (twin) != 0
        || af_agent_wait_registered (self.agent, opts->start_timeout_ms > 0 ? opts->start_timeout_ms : 10000) != 0) {
        fprintf (stderr, "autofab-twin: could not start the shadow twin\n");
        rc = 2;
        goto done;
    }
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
    return rc;
}
