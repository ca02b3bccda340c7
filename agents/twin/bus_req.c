/*  twin bus_req — the twin's service on the bus: what a request may ask.
 *
 *  A TickAck moves a controller's acknowledged epoch.  A Command is either
 *  one of the requests in the table below (KPIs, a vibration snippet, a
 *  what-if forecast, help) or a plant command from the twin's command table
 *  (cmd.c), given in the action/params form (`autofab call twin
 *  set_hvac setpoint_c=21`) or as an autofab.twin.TwinCommand body.  Both
 *  forms become one list of named parameters — the wire form through
 *  protobuf-c's reflection, since its field names are the parameters' names
 *  — and one parser builds the command, so the two can never disagree.
 */
#include "bus_int.h"

#include <czmq.h>
#include <math.h>

#include "af_json.h"
#include "af_log.h"

#define TWIN_BUS_MAX_SNIPPET 65536
#define TWIN_BUS_MAX_PARAMS 16
/* Commands one epoch may queue (from all sources together). */
#define TWIN_BUS_MAX_QUEUED 4096

/* ------------------------------------------------------------ parameters */

/* The parameters of a TwinCommand's chosen field (empty strings are
 * absent, as proto3 cannot tell them apart).  INFO gets the command's row;
 * -1 with ERR for a field the command table does not have. */
static int
s_params_from_proto (const Autofab__Twin__TwinCommand *tc, const twin_cmd_info_t **info, twin_param_t *out,
                     size_t *n, char *err, size_t len)
{
    *n = 0;
    *info = twin_cmd_by_proto_field ((int) tc->cmd_case);
    const ProtobufCFieldDescriptor *fd
        = protobuf_c_message_descriptor_get_field (&autofab__twin__twin_command__descriptor,
                                                   (unsigned) tc->cmd_case);
    if (!*info || !fd) {
        snprintf (err, len, "empty or unknown twin command");
        return -1;
    }
    const ProtobufCMessage *sub = *(ProtobufCMessage *const *) ((const char *) tc + fd->offset);
    for (unsigned i = 0; sub && i < sub->descriptor->n_fields && *n < TWIN_BUS_MAX_PARAMS; i++) {
        const ProtobufCFieldDescriptor *f = &sub->descriptor->fields[i];
        const void *at = (const char *) sub + f->offset;
        twin_param_t *p = &out[*n];
        *p = (twin_param_t) { .name = f->name, .type = TWIN_VAL_NUM };
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            continue;
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING:
            p->type = TWIN_VAL_TEXT;
            p->text = *(char *const *) at;
            if (!p->text || !p->text[0])
                continue;
            break;
        case PROTOBUF_C_TYPE_DOUBLE: p->num = *(const double *) at; break;
        case PROTOBUF_C_TYPE_UINT32: p->num = *(const uint32_t *) at; break;
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_ENUM: p->num = *(const int32_t *) at; break;
        case PROTOBUF_C_TYPE_BOOL:
            p->type = TWIN_VAL_FLAG;
            p->flag = *(const protobuf_c_boolean *) at;
            break;
        default:
            continue;
        }
        (*n)++;
    }
    return 0;
}

/* The parameters of a Command in the action/params form. */
static int
s_params_from_command (const Autofab__Command *cmd, twin_param_t *out, size_t *n, char *err, size_t len)
{
    *n = 0;
    if (cmd->n_params > TWIN_BUS_MAX_PARAMS) {
        snprintf (err, len, "%zu parameters; a twin command takes at most %d", cmd->n_params,
                  TWIN_BUS_MAX_PARAMS);
        return -1;
    }
    for (size_t i = 0; i < cmd->n_params; i++) {
        const Autofab__Param *p = cmd->params[i];
        twin_param_t *v = &out[(*n)++];
        *v = (twin_param_t) { .name = p->name };
        if (p->value_case == AUTOFAB__PARAM__VALUE_NUM) {
            v->type = TWIN_VAL_NUM;
            v->num = p->num;
        }
        else if (p->value_case == AUTOFAB__PARAM__VALUE_TEXT) {
            v->type = TWIN_VAL_TEXT;
            v->text = p->text ? p->text : "";
        }
        else {
            v->type = TWIN_VAL_FLAG;
            v->flag = p->value_case == AUTOFAB__PARAM__VALUE_FLAG && p->flag;
        }
    }
    return 0;
}

static int
s_to_cmd (twin_bus_t *self, const Autofab__Twin__TwinCommand *tc, twin_cmd_t *cmd, char *err, size_t len)
{
    twin_param_t params[TWIN_BUS_MAX_PARAMS];
    size_t n;
    const twin_cmd_info_t *info;
    if (s_params_from_proto (tc, &info, params, &n, err, len))
        return -1;
    return twin_cmd_parse (self->twin, info, params, n, cmd, err, len);
}

/* Queues CMD from the request's source until the epoch's acknowledgements
 * are in, and answers "queued" with the epoch it belongs to.  The result
 * (applied, or refused with the reason) follows on the cmd. topic. */
static int
s_apply (twin_bus_t *self, const Autofab__Envelope *req, const twin_cmd_t *cmd, af_reply_t *reply)
{
    if (self->queue_n == self->queue_cap) {
        size_t cap = self->queue_cap ? 2 * self->queue_cap : 16;
        twin_bus_queued_t *q = cap <= TWIN_BUS_MAX_QUEUED ? realloc (self->queue, cap * sizeof *q) : NULL;
        if (!q) {
            self->commands_refused++;
            af_reply_error (reply, "%zu commands already wait for this epoch", self->queue_n);
            return AUTOFAB__STATUS__STATUS_UNAVAILABLE;
        }
        self->queue = q;
        self->queue_cap = cap;
    }
    twin_bus_queued_t *q = &self->queue[self->queue_n++];
    memset (q, 0, sizeof *q);
    snprintf (q->source, sizeof q->source, "%s", req->header->source ? req->header->source : "");
    q->arrival = self->arrivals++;
    q->cmd = *cmd;
    q->msg_id_len = req->header->msg_id.len <= sizeof q->msg_id ? req->header->msg_id.len : 0;
    if (q->msg_id_len)
        memcpy (q->msg_id, req->header->msg_id.data, q->msg_id_len);
    af_reply_text (reply, "queued", twin_cmd_name (cmd->kind));
    af_reply_num (reply, "epoch", (double) self->epoch);
    return 0;
}

static int
s_queued_order (const void *a, const void *b)
{
    const twin_bus_queued_t *x = a, *y = b;
    int c = strcmp (x->source, y->source);
    return c ? c : x->arrival < y->arrival ? -1 : x->arrival > y->arrival;
}

void
twin_bus__apply_queued (twin_bus_t *self)
{
    if (self->queue_n == 0)
        return;
    qsort (self->queue, self->queue_n, sizeof *self->queue, s_queued_order);
    char topic[AF_TOPIC_MAX_BYTES];
    af_agent_topic (self->agent, "cmd", "result", topic, sizeof topic);
    for (size_t i = 0; i < self->queue_n; i++) {
        twin_bus_queued_t *q = &self->queue[i];
        char err[256] = "";
        int rc = twin_apply (self->twin, &q->cmd, err, sizeof err);
        if (rc == 0)
            self->commands_ok++;
        else {
            self->commands_refused++;
            af_debug ("twin: %s's %s refused: %s", q->source, twin_cmd_name (q->cmd.kind), err);
        }
        Autofab__CommandResult res = AUTOFAB__COMMAND_RESULT__INIT;
        res.command_id.data = q->msg_id;
        res.command_id.len = q->msg_id_len;
        res.status = rc == 0 ? 0 : AUTOFAB__STATUS__STATUS_BAD_REQUEST;
        res.error = rc == 0 ? "" : err;
        Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
        env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_RESULT;
        env.result = &res;
        af_bus_publish (af_agent_bus (self->agent), topic, &env);
    }
    self->queue_n = 0;
}

void
twin_bus__queue_free (twin_bus_t *self)
{
    free (self->queue);
    self->queue = NULL;
    self->queue_n = self->queue_cap = 0;
}

/* ------------------------------------------------------------ KPIs, signals, forecasts */

void
twin_bus__kpis_to_proto (const twin_kpi_t *k, Autofab__Twin__Kpis *p)
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
    /* quality (issue 11) */
    p->quality_cost = k->quality_cost;
    p->inspection_cost = k->inspection_cost;
    p->rework_cost = k->rework_cost;
    p->scrap_cost = k->scrap_cost;
    p->field_return_cost = k->field_return_cost;
    p->field_returns = k->field_returns;
    p->inspections = k->inspections;
    p->inspections_missed = k->inspections_missed;
    p->diverted_units = k->diverted_units;
    p->false_diverts = k->false_diverts;
    p->skipped_steps = k->skipped_steps;
    p->recalibrations = k->recalibrations;

    /* flow (issue 11) */
    p->lead_time_mean_min = k->lead_time_mean_min;
    p->tardy_pct = k->tardy_pct;
    p->tardiness_mean_h = k->tardiness_mean_h;
    p->wip_line_mean = k->wip_line_mean;
    p->fg_mean = k->fg_mean;
    p->arrivals = k->arrivals;
}

/* What KPIs a controller may be told (DESIGN §4).  Escaped defects are what
 * nobody in the plant has found: a controller learns of them only through
 * field returns, never from the model; likewise whether a diverted unit was
 * good, and skips nobody found.  In a FORECAST (what_if) the returns to
 * come are of units already shipped with hidden defects, which the fork
 * copies from the plant: they are hidden too. */
static void
s_hide_from_controllers (Autofab__Twin__Kpis *p, bool forecast)
{
    p->escaped_defects_ppm = NAN;
    p->false_diverts = NAN;
    p->skipped_steps = NAN;
    if (forecast) {
        p->field_returns = NAN;
        p->field_return_cost = NAN;
        p->quality_cost = NAN;
    }
}

static int
s_req_kpis (twin_bus_t *self, const Autofab__Envelope *req, af_reply_t *reply)
{
    (void) req;
    twin_kpi_t k;
    twin_kpis (self->twin, &k);
    Autofab__Twin__Kpis p;
    twin_bus__kpis_to_proto (&k, &p);
    s_hide_from_controllers (&p, false);
    uint8_t buf[1024];
    size_t len = autofab__twin__kpis__pack (&p, buf);
    af_reply_typed (reply, "autofab.twin.Kpis", buf, len);
    af_reply_num (reply, "units", k.units);
    af_reply_num (reply, "throughput_uph", k.throughput_uph);
    af_reply_num (reply, "oee_pct", k.oee_pct);
    af_reply_num (reply, "downtime_h", k.downtime_h);
    af_reply_num (reply, "energy_kwh_per_unit", k.energy_kwh_per_unit);
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
s_vibration (twin_bus_t *self, const char *station, double fs_hz, double samples, af_reply_t *reply)
{
    int index = twin_station_index (self->twin, station ? station : "");
    if (index < 0 || !(samples >= 16 && samples <= TWIN_BUS_MAX_SNIPPET)) {
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
s_req_vibration (twin_bus_t *self, const Autofab__Envelope *req, af_reply_t *reply)
{
    Autofab__Twin__TwinCommand *tc = s_typed (req->command->body, "autofab.twin.TwinCommand",
                                              &autofab__twin__twin_command__descriptor);
    int status;
    if (tc && tc->cmd_case == AUTOFAB__TWIN__TWIN_COMMAND__CMD_VIBRATION)
        status = s_vibration (self, tc->vibration->station, tc->vibration->fs_hz, tc->vibration->samples, reply);
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

static int
s_whatif (twin_bus_t *self, double hours, const Autofab__Twin__TwinCommand *change, bool baseline,
          af_reply_t *reply)
{
    if (!(hours > 0 && hours <= 24 * 366)) {
        af_reply_error (reply, "hours must be > 0 and at most a year");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    twin_cmd_t cmd;
    char err[256] = "";
    bool has_change = change && change->cmd_case != AUTOFAB__TWIN__TWIN_COMMAND__CMD__NOT_SET;
    if (has_change && s_to_cmd (self, change, &cmd, err, sizeof err) != 0) {
        af_reply_error (reply, "%s", err);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    twin_kpi_t base, changed;
    if (twin_whatif (self->twin, hours, has_change ? &cmd : NULL, baseline, &base, &changed, err, sizeof err) != 0) {
        af_reply_error (reply, "what-if failed: %s", err);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    Autofab__Twin__Kpis a, b;
    twin_bus__kpis_to_proto (&base, &a);
    twin_bus__kpis_to_proto (&changed, &b);
    s_hide_from_controllers (&a, true);
    s_hide_from_controllers (&b, true);
    Autofab__Twin__WhatIfReply wr = AUTOFAB__TWIN__WHAT_IF_REPLY__INIT;
    wr.unchanged = &a;
    wr.changed = &b;
    uint8_t buf[4096];          /* two Kpis; quality (issue 11) made them longer */
    size_t len = autofab__twin__what_if_reply__pack (&wr, buf);
    af_reply_typed (reply, "autofab.twin.WhatIfReply", buf, len);
    af_reply_num (reply, "throughput_uph_unchanged", base.throughput_uph);
    af_reply_num (reply, "throughput_uph_changed", changed.throughput_uph);
    af_reply_num (reply, "energy_kwh_per_unit_unchanged", base.energy_kwh_per_unit);
    af_reply_num (reply, "energy_kwh_per_unit_changed", changed.energy_kwh_per_unit);
    return 0;
}

static int
s_req_whatif (twin_bus_t *self, const Autofab__Envelope *req, af_reply_t *reply)
{
    Autofab__Twin__WhatIfRequest *wr = s_typed (req->command->body, "autofab.twin.WhatIfRequest",
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

/* The plant description (twin_describe), as JSON in the reply's "plant". */
static int
s_req_describe (twin_bus_t *self, const Autofab__Envelope *req, af_reply_t *reply)
{
    (void) req;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    if (!out || twin_describe (self->twin, out) != 0) {
        if (out)
            fclose (out);
        free (text);
        af_reply_error (reply, "cannot describe the plant");
        return AUTOFAB__STATUS__STATUS_INTERNAL;
    }
    fclose (out);
    af_reply_text (reply, "plant", text);
    free (text);
    return 0;
}

/* The plant's robot tasks waiting for a robot, as JSON in the reply's "tasks". */
static int
s_req_tasks (twin_bus_t *self, const Autofab__Envelope *req, af_reply_t *reply)
{
    (void) req;
    static const char *const kinds[] = { "inspect", "deliver", "repair" };
    size_t n = 0;
    const twin_pool_task_t *pool = twin_task_pool (self->twin, &n);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    if (!out) {
        af_reply_error (reply, "out of memory");
        return AUTOFAB__STATUS__STATUS_INTERNAL;
    }
    fputc ('[', out);
    for (size_t i = 0; i < n; i++) {
        fprintf (out, "%s{\"id\":%u,\"kind\":\"%s\",\"station\":", i ? "," : "", pool[i].id,
                 (unsigned) pool[i].kind < 3 ? kinds[pool[i].kind] : "?");
        af_json_string (out, pool[i].station ? pool[i].station : "");
        fputs (",\"part\":", out);
        af_json_string (out, pool[i].part ? pool[i].part : "");
        fprintf (out, ",\"t_created_s\":%.3f}", pool[i].t_created_s);
    }
    fputc (']', out);
    fclose (out);
    af_reply_text (reply, "tasks", text);
    af_reply_num (reply, "waiting", (double) n);
    free (text);
    return 0;
}

/* ------------------------------------------------------------ the service */

typedef int (s_req_fn) (twin_bus_t *self, const Autofab__Envelope *req, af_reply_t *reply);
static int s_req_help (twin_bus_t *self, const Autofab__Envelope *req, af_reply_t *reply);

/* Requests that are not plant commands, each a row. */
static const struct {
    const char *action;
    s_req_fn *fn;
    const char *help;
} s_requests[] = {
    { "kpis", s_req_kpis, "the KPIs so far (Typed autofab.twin.Kpis)" },
    { "vibration", s_req_vibration, "a vibration snippet: station=NAME fs_hz=HZ samples=N" },
    { "what_if", s_req_whatif, "a forecast: hours=H [baseline], or a WhatIfRequest body" },
    { "tasks", s_req_tasks, "the plant's robot tasks waiting for a robot (JSON in 'tasks')" },
    { "describe", s_req_describe, "the plant description (JSON in 'plant'): what a controller may know" },
    { "help", s_req_help, "this list" },
};
#define S_REQUESTS (sizeof s_requests / sizeof *s_requests)

static int
s_req_help (twin_bus_t *self, const Autofab__Envelope *req, af_reply_t *reply)
{
    (void) self;
    (void) req;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    if (!out) {
        af_reply_error (reply, "out of memory");
        return AUTOFAB__STATUS__STATUS_INTERNAL;
    }
    fputs ("plant commands (action param=value …):\n", out);
    twin_cmd_help (out, false);
    fputs ("requests:\n", out);
    for (size_t i = 0; i < S_REQUESTS; i++)
        fprintf (out, "  %-20s %s\n", s_requests[i].action, s_requests[i].help);
    fclose (out);
    af_reply_text (reply, "help", text);
    free (text);
    return 0;
}

/* A plant command in the action/params form. */
static int
s_req_command (twin_bus_t *self, const twin_cmd_info_t *info, const Autofab__Envelope *req, af_reply_t *reply)
{
    twin_param_t params[TWIN_BUS_MAX_PARAMS];
    size_t n;
    twin_cmd_t cmd;
    char err[256] = "";
    if (s_params_from_command (req->command, params, &n, err, sizeof err)
        || twin_cmd_parse (self->twin, info, params, n, &cmd, err, sizeof err)) {
        self->commands_refused++;
        af_reply_error (reply, "%s: %s", info->action, err);
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    return s_apply (self, req, &cmd, reply);
}

/* A plant command as an autofab.twin.TwinCommand body. */
static int
s_req_body (twin_bus_t *self, const Autofab__Envelope *req, af_reply_t *reply)
{
    Autofab__Twin__TwinCommand *tc = s_typed (req->command->body, "autofab.twin.TwinCommand",
                                              &autofab__twin__twin_command__descriptor);
    if (!tc) {
        af_reply_error (reply, "body must be a valid autofab.twin.TwinCommand");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    twin_cmd_t cmd;
    char err[256] = "";
    int status;
    if (s_to_cmd (self, tc, &cmd, err, sizeof err) != 0) {
        self->commands_refused++;
        af_reply_error (reply, "%s", err);
        status = AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    else
        status = s_apply (self, req, &cmd, reply);
    autofab__twin__twin_command__free_unpacked (tc, NULL);
    return status;
}

int
twin_bus__on_request (af_agent_t *agent, const Autofab__Envelope *req, af_reply_t *reply, void *arg)
{
    (void) agent;
    twin_bus_t *self = arg;
    const char *source = req->header->source;
    if (req->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_TICK_ACK) {
        /* Only known controllers count: an ack racing a death notice must
         * not bring back a controller nobody will hear from again. */
        twin_bus_controller_t *c = twin_bus__controller (self, source, false);
        if (c && (int64_t) req->tick_ack->epoch > c->acked_epoch)
            c->acked_epoch = (int64_t) req->tick_ack->epoch;
        return 0;
    }
    if (req->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_COMMAND || !req->command->action) {
        af_reply_error (reply, "the twin takes a Command or a TickAck");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    twin_bus_controller_t *c = twin_bus__controller (self, source, false);
    if (c)
        c->commands++;
    const char *action = req->command->action;
    for (size_t i = 0; i < S_REQUESTS; i++)
        if (!strcmp (action, s_requests[i].action))
            return s_requests[i].fn (self, req, reply);
    if (req->command->body)
        return s_req_body (self, req, reply);
    const twin_cmd_info_t *info = twin_cmd_by_action (action);
    if (info)
        return s_req_command (self, info, req, reply);
    af_reply_error (reply, "unknown action '%s' (`autofab call twin help` lists them)", action);
    return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
}
