/*  twin cmd — the command table: every command a controller can give the
 *  plant, one row each.
 *
 *  A row holds the command's name, its action name on the bus (the
 *  action/params form of `autofab call twin …`), its field in the wire form
 *  (autofab.twin.TwinCommand), its parameters (name, kind, where the value
 *  goes in twin_cmd_t), a validator and an apply function.  The bus wrapper,
 *  the command-line help and docs/twin.md all read this table: a new command
 *  is one row plus its two functions.  Validation changes nothing; an
 *  impossible command is refused with one line and the plant is untouched.
 */
#include "twin_int.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef int  (s_validate_fn) (const twin_t *self, const twin_cmd_t *c, char *err, size_t len);
typedef void (s_apply_fn) (twin_t *self, const twin_cmd_t *c);

typedef struct {
    twin_cmd_info_t info;
    size_t offset[TWIN_CMD_MAX_PARAMS]; /* of each parameter's value in twin_cmd_t */
    s_validate_fn *validate;
    s_apply_fn *apply;
} s_cmd_def_t;

_Static_assert (sizeof (twin_seq_rule_t) == sizeof (int) && sizeof (twin_task_kind_t) == sizeof (int),
                "choice parameters are stored as int");

static const char *const s_rules[] = { "fifo", "edd", "batch", NULL };
static const char *const s_tasks[] = { "inspect", "deliver", "repair", NULL };

#define S_AT(field) offsetof (twin_cmd_t, u.field)

/* ------------------------------------------------------------ validators */

int
twin__fail (char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, len, fmt, ap);
        va_end (ap);
    }
    return -1;
}

static int
s_check_station (const twin_t *self, int s, char *err, size_t len)
{
    if (s < 0 || s >= self->n_stations)
        return twin__fail (err, len, "unknown station %d (0..%d)", s, self->n_stations - 1);
    return 0;
}

static int
s_check_part (const twin_t *self, int p, char *err, size_t len)
{
    if (p < 0 || p >= self->n_parts)
        return twin__fail (err, len, "unknown part %d", p);
    return 0;
}

static int
s_line_speed_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    int s = c->u.line_speed.station;
    if (s != -1 && s_check_station (self, s, err, len))
        return -1;
    double max = 3.0;
    for (int i = 0; i < self->n_stations; i++)
        if ((s == -1 || s == i) && self->st[i].max_speed < max)
            max = self->st[i].max_speed;
    if (!(c->u.line_speed.speed >= 0.5 && c->u.line_speed.speed <= max))
        return twin__fail (err, len, "line speed %.3g outside 0.5 .. %.3g × nameplate",
                           c->u.line_speed.speed, max);
    return 0;
}

static int
s_batch_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    (void) self;
    if ((unsigned) c->u.batch.rule > TWIN_SEQ_BATCH)
        return twin__fail (err, len, "unknown sequencing rule %d", (int) c->u.batch.rule);
    if (c->u.batch.batch_size < 1 || c->u.batch.batch_size > 100000)
        return twin__fail (err, len, "batch size %d outside 1 .. 100000", c->u.batch.batch_size);
    return 0;
}

static int
s_task_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    int r = c->u.task.robot;
    if (r < 0 || r >= self->n_robots)
        return twin__fail (err, len, "unknown robot %d (the fleet has %d)", r, self->n_robots);
    if (self->robot[r].q_n >= 16)
        return twin__fail (err, len, "robot %d already has 16 tasks queued", r);
    if ((unsigned) c->u.task.task > TWIN_TASK_REPAIR)
        return twin__fail (err, len, "unknown task kind %d", (int) c->u.task.task);
    if (c->u.task.task == TWIN_TASK_DELIVER)
        return s_check_part (self, c->u.task.part, err, len);
    if (c->u.task.task == TWIN_TASK_REPAIR && !self->fleet.robot_can_repair)
        return twin__fail (err, len, "mobile robots here cannot repair (robots.can_repair: false)");
    if (s_check_station (self, c->u.task.station, err, len))
        return -1;
    const twin_station_t *st = &self->st[c->u.task.station];
    int comp = c->u.task.component;
    if (c->u.task.task == TWIN_TASK_REPAIR && st->state != TWIN_ST_DOWN && st->state != TWIN_ST_MAINT
        && (comp < 0 || comp >= TWIN_COMP_COUNT || !st->comp[comp].present))
        return twin__fail (err, len, "station '%s' is running: a repair names the component to replace, "
                           "one it has", st->name);
    return 0;
}

static int
s_maintenance_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    int s = c->u.maintenance.station;
    if (s_check_station (self, s, err, len))
        return -1;
    const twin_station_t *st = &self->st[s];
    if (st->pm_pending || st->state == TWIN_ST_MAINT)
        return twin__fail (err, len, "station '%s' already has maintenance planned", st->name);
    if (st->state == TWIN_ST_DOWN)
        return twin__fail (err, len, "station '%s' is down; it is being repaired", st->name);
    if (c->u.maintenance.by_robot && (self->n_robots == 0 || !self->fleet.robot_can_repair))
        return twin__fail (err, len, "no mobile robot can do maintenance here");
    return 0;
}

static int
s_routing_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    int v = c->u.routing.variant, r = c->u.routing.route;
    if (v < 0 || v >= self->n_variants)
        return twin__fail (err, len, "unknown variant %d", v);
    if (r < 0 || r > 1 || self->var[v].route_len[r] == 0)
        return twin__fail (err, len, "variant '%s' has no route %d", self->var[v].name, r);
    return 0;
}

static int
s_battery_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    if (self->energy.batt_cap_kwh <= 0)
        return twin__fail (err, len, "this factory has no battery");
    if (!(fabs (c->u.battery.power_kw) <= self->energy.batt_max_kw))
        return twin__fail (err, len, "battery set point %.6g kW beyond ±%.6g kW", c->u.battery.power_kw,
                           self->energy.batt_max_kw);
    return 0;
}

static int
s_hvac_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    (void) self;
    if (!(c->u.hvac.setpoint_c >= 16 && c->u.hvac.setpoint_c <= 30))
        return twin__fail (err, len, "HVAC set point %.6g °C outside 16 .. 30 °C", c->u.hvac.setpoint_c);
    return 0;
}

static int
s_inspection_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    (void) self;
    if (c->u.inspection.sample_every < 1 || c->u.inspection.sample_every > 1000000)
        return twin__fail (err, len, "inspection sampling 1 in %d outside 1 .. 1000000",
                           c->u.inspection.sample_every);
    return 0;
}

static int
s_reorder_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    if (s_check_part (self, c->u.reorder.part, err, len))
        return -1;
    if (!(c->u.reorder.qty >= 1 && c->u.reorder.qty <= 1e9))
        return twin__fail (err, len, "order quantity %.6g outside 1 .. 1e9", c->u.reorder.qty);
    const twin_part_t *p = &self->part[c->u.reorder.part];
    if (p->delivery_every_s > 0)
        return twin__fail (err, len, "part '%s' comes only by scheduled delivery (every %.6g h); "
                           "it cannot be reordered", p->name, p->delivery_every_s / 3600.0);
    return 0;
}

static int
s_repair_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    int s = c->u.repair.station;
    if (s_check_station (self, s, err, len))
        return -1;
    const twin_station_t *st = &self->st[s];
    if (!st->awaiting_repair)
        return twin__fail (err, len, "station '%s' is not waiting for a repair order (%s)", st->name,
                           st->state == TWIN_ST_DOWN ? "its repair is under way" : "it is not down");
    if (c->u.repair.by_robot && (self->n_robots == 0 || !self->fleet.robot_can_repair))
        return twin__fail (err, len, "no mobile robot can repair here");
    return 0;
}

static int
s_dispatch_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    int r = c->u.dispatch.robot;
    if (r < 0 || r >= self->n_robots)
        return twin__fail (err, len, "unknown robot %d (the fleet has %d)", r, self->n_robots);
    if (self->robot[r].q_n >= 16)
        return twin__fail (err, len, "robot %d already has 16 tasks queued", r);
    for (int k = 0; k < self->fleet.task_n; k++)
        if (self->fleet.tasks[k].id == (uint32_t) c->u.dispatch.task)
            return 0;
    return twin__fail (err, len, "no waiting task %d (the tasks request lists them)", c->u.dispatch.task);
}

static int
s_rover_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__rover_service_check (self, c->u.rover.robot, c->u.rover.by_robot, err, len);
}

/* energy (issue 11) */
static int
s_defer_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__load_defer_check (self, c->u.defer.load, c->u.defer.hours, err, len);
}

/* ------------------------------------------------------------ apply */

static void
s_line_speed (twin_t *self, const twin_cmd_t *c)
{
    for (int i = 0; i < self->n_stations; i++)
        if (c->u.line_speed.station == -1 || c->u.line_speed.station == i) {
            twin__station_flush (self, &self->st[i]);
            self->st[i].speed = c->u.line_speed.speed;
        }
}

static void
s_batch (twin_t *self, const twin_cmd_t *c)
{
    self->flow.seq_rule = c->u.batch.rule;
    self->flow.batch_size = c->u.batch.batch_size;
    self->flow.batch_left = 0;
    twin__try_release (self);
}

static void
s_task (twin_t *self, const twin_cmd_t *c)
{
    twin_robot_t *rb = &self->robot[c->u.task.robot];
    rb->queue[rb->q_n++] = (twin_task_t) { .kind = c->u.task.task, .station = c->u.task.station,
                                           .part = c->u.task.part, .component = c->u.task.component,
                                           .t_created_s = des_now_s (self->des) };
    if (c->u.task.task == TWIN_TASK_DELIVER)
        self->part[c->u.task.part].bin_task_open = true;
    twin__robots_dispatch (self);
}

static void
s_maintenance (twin_t *self, const twin_cmd_t *c)
{
    twin_station_t *s = &self->st[c->u.maintenance.station];
    s->pm_pending = true;
    s->pm_by_robot = c->u.maintenance.by_robot;
    twin__station_try_pm (self, s);
}

static void
s_routing (twin_t *self, const twin_cmd_t *c)
{
    self->var[c->u.routing.variant].active_route = c->u.routing.route;
}

static void
s_battery (twin_t *self, const twin_cmd_t *c)
{
    self->energy.batt_setpoint_kw = c->u.battery.power_kw;
}

static void
s_hvac (twin_t *self, const twin_cmd_t *c)
{
    self->energy.hvac_setpoint_c = c->u.hvac.setpoint_c;
}

static void
s_inspection (twin_t *self, const twin_cmd_t *c)
{
    self->quality.sample_every = c->u.inspection.sample_every;
    self->quality.sample_count = 0;
}

static void
s_reorder (twin_t *self, const twin_cmd_t *c)
{
    twin__inventory_order (self, c->u.reorder.part, c->u.reorder.qty);
}

static void
s_repair (twin_t *self, const twin_cmd_t *c)
{
    twin__health_order_repair (self, &self->st[c->u.repair.station], c->u.repair.by_robot);
}

static void
s_dispatch (twin_t *self, const twin_cmd_t *c)
{
    twin__task_dispatch (self, (uint32_t) c->u.dispatch.task, c->u.dispatch.robot);
}

static void
s_rover (twin_t *self, const twin_cmd_t *c)
{
    twin__rover_service (self, c->u.rover.robot, c->u.rover.by_robot);
}

static void
s_defer (twin_t *self, const twin_cmd_t *c)
{
    twin__load_defer (self, c->u.defer.load, c->u.defer.hours);
}

/* ------------------------------------------------------------ the table */

static const s_cmd_def_t s_cmds[TWIN_CMD_COUNT] = {
    [TWIN_CMD_LINE_SPEED] = {
        { TWIN_CMD_LINE_SPEED, "line_speed", "set_line_speed", 1,
          "run a station (or every station) at SPEED × nameplate, 0.5 … its max_speed",
          { { "speed", TWIN_PARAM_NUM, true, NULL, "× nameplate" },
            { "station", TWIN_PARAM_STATION, false, NULL, "station name; absent: every station" } } },
        { S_AT (line_speed.speed), S_AT (line_speed.station) }, s_line_speed_ok, s_line_speed },
    [TWIN_CMD_BATCH_SEQUENCE] = {
        { TWIN_CMD_BATCH_SEQUENCE, "batch_sequence", "set_batch_sequence", 2,
          "release rule for waiting orders: first come, earliest due date, or batches of one variant",
          { { "rule", TWIN_PARAM_CHOICE, true, s_rules, "fifo, edd or batch" },
            { "batch_size", TWIN_PARAM_INT, false, NULL, "units of one variant in a row, 1 … 100000 [1]" } } },
        { S_AT (batch.rule), S_AT (batch.batch_size) }, s_batch_ok, s_batch },
    [TWIN_CMD_TASK_ASSIGN] = {
        { TWIN_CMD_TASK_ASSIGN, "task_assign", "assign_task", 3,
          "give a mobile robot a task, run after its current one",
          { { "robot", TWIN_PARAM_INT, true, NULL, "robot index" },
            { "task", TWIN_PARAM_CHOICE, true, s_tasks, "inspect, deliver or repair" },
            { "station", TWIN_PARAM_STATION, false, NULL, "for inspect and repair" },
            { "part", TWIN_PARAM_PART, false, NULL, "for deliver" },
            { "component", TWIN_PARAM_CHOICE, false, twin__comp_names,
              "repair of a running station: bearing, belt, motor, joint or lube" } } },
        { S_AT (task.robot), S_AT (task.task), S_AT (task.station), S_AT (task.part), S_AT (task.component) },
        s_task_ok, s_task },
    [TWIN_CMD_MAINTENANCE] = {
        { TWIN_CMD_MAINTENANCE, "maintenance", "order_maintenance", 4,
          "planned maintenance at a station at its next unit boundary",
          { { "station", TWIN_PARAM_STATION, true, NULL, "station name" },
            { "by_robot", TWIN_PARAM_FLAG, false, NULL, "a mobile robot does it (else a technician)" } } },
        { S_AT (maintenance.station), S_AT (maintenance.by_robot) }, s_maintenance_ok, s_maintenance },
    [TWIN_CMD_ROUTING] = {
        { TWIN_CMD_ROUTING, "routing", "set_route", 5, "choose a variant's route",
          { { "variant", TWIN_PARAM_VARIANT, true, NULL, "variant name" },
            { "route", TWIN_PARAM_INT, true, NULL, "0 its route, 1 its alt_route" } } },
        { S_AT (routing.variant), S_AT (routing.route) }, s_routing_ok, s_routing },
    [TWIN_CMD_BATTERY] = {
        { TWIN_CMD_BATTERY, "battery", "set_battery", 6, "battery power set point",
          { { "power_kw", TWIN_PARAM_NUM, true, NULL, "kW, + discharge to the plant, − charge" } } },
        { S_AT (battery.power_kw) }, s_battery_ok, s_battery },
    [TWIN_CMD_HVAC] = {
        { TWIN_CMD_HVAC, "hvac", "set_hvac", 7, "indoor temperature set point",
          { { "setpoint_c", TWIN_PARAM_NUM, true, NULL, "°C, 16 … 30" } } },
        { S_AT (hvac.setpoint_c) }, s_hvac_ok, s_hvac },
    [TWIN_CMD_INSPECTION] = {
        { TWIN_CMD_INSPECTION, "inspection", "set_inspection", 8, "end-of-line sampling inspection",
          { { "sample_every", TWIN_PARAM_INT, true, NULL, "inspect 1 unit in N (1: every unit)" } } },
        { S_AT (inspection.sample_every) }, s_inspection_ok, s_inspection },
    [TWIN_CMD_REORDER] = {
        { TWIN_CMD_REORDER, "reorder", "reorder", 9, "purchase order for a part from its supplier",
          { { "part", TWIN_PARAM_PART, true, NULL, "part name" },
            { "qty", TWIN_PARAM_NUM, true, NULL, "units, 1 … 1e9" } } },
        { S_AT (reorder.part), S_AT (reorder.qty) }, s_reorder_ok, s_reorder },
    [TWIN_CMD_ROVER_SERVICE] = {
        { TWIN_CMD_ROVER_SERVICE, "rover_service", "service_rover", 11,
          "planned service of a wearing rover (project plants)",
          { { "robot", TWIN_PARAM_INT, true, NULL, "rover index" },
            { "by_robot", TWIN_PARAM_FLAG, false, NULL, "another rover does it (else tele-operated staff)" } } },
        { S_AT (rover.robot), S_AT (rover.by_robot) }, s_rover_ok, s_rover },
    [TWIN_CMD_REPAIR] = {
        { TWIN_CMD_REPAIR, "repair", "order_repair", 12,
          "repair a broken-down station that waits for the maintenance owner's order",
          { { "station", TWIN_PARAM_STATION, true, NULL, "station name" },
            { "by_robot", TWIN_PARAM_FLAG, false, NULL, "a mobile robot does it (else a technician)" } } },
        { S_AT (repair.station), S_AT (repair.by_robot) }, s_repair_ok, s_repair },
    [TWIN_CMD_DISPATCH] = {
        { TWIN_CMD_DISPATCH, "dispatch", "dispatch_task", 13,
          "give one of the plant's waiting robot tasks to a robot (the owner of robot dispatch)",
          { { "task", TWIN_PARAM_INT, true, NULL, "task id (the tasks request lists them)" },
            { "robot", TWIN_PARAM_INT, true, NULL, "robot index" } } },
        { S_AT (dispatch.task), S_AT (dispatch.robot) }, s_dispatch_ok, s_dispatch },
    [TWIN_CMD_DEFER_LOAD] = {
        { TWIN_CMD_DEFER_LOAD, "defer_load", "defer_load", 60,
          "hold a deferrable load (energy.loads) for some hours; it catches up afterwards (the energy owner)",
          { { "load", TWIN_PARAM_INT, true, NULL, "load index (the plant description lists them)" },
            { "hours", TWIN_PARAM_NUM, true, NULL, "h, 0 (run now) … what is left of its max_defer_h" } } },
        { S_AT (defer.load), S_AT (defer.hours) }, s_defer_ok, s_defer },
};

const twin_cmd_info_t *
twin_cmd_info (twin_cmd_kind_t kind)
{
    return (unsigned) kind < TWIN_CMD_COUNT ? &s_cmds[kind].info : NULL;
}

const twin_cmd_info_t *
twin_cmd_by_action (const char *action)
{
    for (int k = 0; action && k < TWIN_CMD_COUNT; k++)
        if (!strcmp (s_cmds[k].info.action, action))
            return &s_cmds[k].info;
    return NULL;
}

const twin_cmd_info_t *
twin_cmd_by_proto_field (int field)
{
    for (int k = 0; k < TWIN_CMD_COUNT; k++)
        if (s_cmds[k].info.proto_field == field)
            return &s_cmds[k].info;
    return NULL;
}

const char *
twin_cmd_name (twin_cmd_kind_t kind)
{
    return (unsigned) kind < TWIN_CMD_COUNT ? s_cmds[kind].info.name : "?";
}

/* ------------------------------------------------------------ parameters */

static const twin_param_t *
s_find (const twin_param_t *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (params[i].name && !strcmp (params[i].name, name))
            return &params[i];
    return NULL;
}

/* A name → index parameter (station, part, variant): text only. */
static int
s_named (const twin_t *self, const twin_param_def_t *d, const twin_param_t *v, int *out, char *err, size_t len)
{
    if (v->type != TWIN_VAL_TEXT)
        return twin__fail (err, len, "parameter '%s' must be a name", d->name);
    int i = d->kind == TWIN_PARAM_STATION ? twin_station_index (self, v->text)
            : d->kind == TWIN_PARAM_PART  ? twin_part_index (self, v->text)
                                          : twin_variant_index (self, v->text);
    if (i < 0)
        return twin__fail (err, len, "unknown %s '%s'", d->kind == TWIN_PARAM_STATION ? "station"
                           : d->kind == TWIN_PARAM_PART ? "part" : "variant", v->text);
    *out = i;
    return 0;
}

static int
s_choice (const twin_param_def_t *d, const twin_param_t *v, int *out, char *err, size_t len)
{
    int n = 0;
    while (d->choices[n])
        n++;
    if (v->type == TWIN_VAL_TEXT) {
        for (int i = 0; i < n; i++)
            if (!strcmp (d->choices[i], v->text)) {
                *out = i;
                return 0;
            }
        return twin__fail (err, len, "%s must be %s, got '%s'", d->name, d->help, v->text);
    }
    if (v->type == TWIN_VAL_NUM && v->num >= 0 && v->num < n && v->num == floor (v->num)) {
        *out = (int) v->num;
        return 0;
    }
    return twin__fail (err, len, "%s must be %s", d->name, d->help);
}

/* Stores one parameter's value at its place in CMD. */
static int
s_store (const twin_t *self, const twin_param_def_t *d, const twin_param_t *v, void *at, char *err, size_t len)
{
    int i = -1;
    switch (d->kind) {
    case TWIN_PARAM_NUM:
        if (v->type != TWIN_VAL_NUM || !isfinite (v->num))
            return twin__fail (err, len, "parameter '%s' must be a number", d->name);
        memcpy (at, &v->num, sizeof v->num);
        return 0;
    case TWIN_PARAM_INT:
        if (v->type != TWIN_VAL_NUM || !(v->num >= -1e9 && v->num <= 1e9) || v->num != floor (v->num))
            return twin__fail (err, len, "parameter '%s' must be a whole number", d->name);
        i = (int) v->num;
        memcpy (at, &i, sizeof i);
        return 0;
    case TWIN_PARAM_FLAG: {
        bool b = v->type == TWIN_VAL_FLAG ? v->flag : v->type == TWIN_VAL_NUM ? v->num != 0 : false;
        if (v->type == TWIN_VAL_TEXT)
            return twin__fail (err, len, "parameter '%s' is a flag", d->name);
        memcpy (at, &b, sizeof b);
        return 0;
    }
    case TWIN_PARAM_CHOICE:
        if (s_choice (d, v, &i, err, len))
            return -1;
        memcpy (at, &i, sizeof i);
        return 0;
    default:
        if (s_named (self, d, v, &i, err, len))
            return -1;
        memcpy (at, &i, sizeof i);
        return 0;
    }
}

/* What an absent optional parameter means: every station / no part (−1),
 * a batch of 1, a flag off. */
static void
s_store_default (const twin_param_def_t *d, void *at)
{
    int i = d->kind == TWIN_PARAM_INT ? 1 : -1;
    bool off = false;
    if (d->kind == TWIN_PARAM_FLAG)
        memcpy (at, &off, sizeof off);
    else if (d->kind != TWIN_PARAM_NUM)
        memcpy (at, &i, sizeof i);
}

int
twin_cmd_parse (const twin_t *self, const twin_cmd_info_t *info, const twin_param_t *params, size_t n,
                twin_cmd_t *cmd, char *err, size_t len)
{
    if (!info || (unsigned) info->kind >= TWIN_CMD_COUNT)
        return twin__fail (err, len, "unknown command");
    const s_cmd_def_t *def = &s_cmds[info->kind];
    /* A misspelt optional parameter must not silently mean its default
     * (`staton=weld` would set every station's speed). */
    for (size_t i = 0; i < n; i++) {
        int k = 0;
        while (k < TWIN_CMD_MAX_PARAMS && info->params[k].name
               && (!params[i].name || strcmp (params[i].name, info->params[k].name)))
            k++;
        if (k == TWIN_CMD_MAX_PARAMS || !info->params[k].name)
            return twin__fail (err, len, "unknown parameter '%s'", params[i].name ? params[i].name : "");
    }
    memset (cmd, 0, sizeof *cmd);
    cmd->kind = info->kind;
    for (int k = 0; k < TWIN_CMD_MAX_PARAMS && info->params[k].name; k++) {
        const twin_param_def_t *d = &info->params[k];
        const twin_param_t *v = s_find (params, n, d->name);
        void *at = (char *) cmd + def->offset[k];
        if (!v && d->required)
            return twin__fail (err, len, "missing parameter '%s' (%s)", d->name, d->help);
        if (!v)
            s_store_default (d, at);
        else if (s_store (self, d, v, at, err, len))
            return -1;
    }
    return 0;
}

void
twin_cmd_help (FILE *out, bool markdown)
{
    static const char *const kinds[] = { "number", "whole number", "flag", "station", "part", "variant", "choice" };
    if (markdown)
        fprintf (out, "| action | command | wire field | parameters | what it does |\n| --- | --- | --- | --- | --- |\n");
    for (int c = 0; c < TWIN_CMD_COUNT; c++) {
        const twin_cmd_info_t *i = &s_cmds[c].info;
        fprintf (out, markdown ? "| `%s` | %s | %d | " : "  %-20s %s (TwinCommand field %d)\n", i->action,
                 i->name, i->proto_field);
        for (int k = 0; k < TWIN_CMD_MAX_PARAMS && i->params[k].name; k++) {
            const twin_param_def_t *d = &i->params[k];
            fprintf (out, markdown ? "%s`%s` (%s%s: %s)" : "      %s=%s%s: %s\n", markdown && k ? ", " : "",
                     d->name, kinds[d->kind], d->required ? "" : ", optional", d->help);
        }
        fprintf (out, markdown ? " | %s |\n" : "      %s\n", i->help);
    }
}

/* ------------------------------------------------------------ validate, log, apply */

twin_logged_cmd_t *
twin__log (twin_t *self, const twin_cmd_t *cmd, const twin_plant_report_t *report, int epoch)
{
    twin_cmdlog_t *l = &self->cmds;
    if (l->replay)
        return NULL;            /* a fork does not re-log what it replays */
    if (l->log_n == l->log_cap) {
        size_t cap = l->log_cap ? 2 * l->log_cap : 256;
        twin_logged_cmd_t *log = realloc (l->log, cap * sizeof *log);
        if (!log)
            return NULL;
        l->log = log;
        l->log_cap = cap;
    }
    twin_logged_cmd_t *e = &l->log[l->log_n++];
    memset (e, 0, sizeof *e);
    e->t_s = des_now_s (self->des);
    e->events = des_events (self->des);
    e->epoch = epoch;
    e->in_epoch = self->in_epoch;
    e->before_start = !self->started;
    e->is_shadow = cmd == NULL;
    if (cmd)
        e->cmd = *cmd;
    if (report)
        e->report = *report;
    e->inv_part = -1;
    return e;
}

int
twin__apply (twin_t *self, const twin_cmd_t *c, char *err, size_t len, int epoch)
{
    if ((unsigned) c->kind >= TWIN_CMD_COUNT)
        return twin__fail (err, len, "unknown command kind %d", (int) c->kind);
    const s_cmd_def_t *def = &s_cmds[c->kind];
    if (def->validate (self, c, err, len))
        return -1;
    twin__log (self, c, NULL, epoch);
    def->apply (self, c);
    return 0;
}

int
twin_apply (twin_t *self, const twin_cmd_t *cmd, char *err, size_t err_len)
{
    if (!self || !cmd)
        return twin__fail (err, err_len, "no command");
    /* Outside an epoch hook the command belongs to the last epoch run. */
    return twin__apply (self, cmd, err, err_len,
                        self->in_epoch ? self->epoch : self->epoch > 0 ? self->epoch - 1 : -1);
}
