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
#include "af_log.h"

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
_Static_assert (sizeof (twin_standby_t) == sizeof (int), "choice parameters are stored as int");

static const char *const s_rules[] = { "fifo", "edd", "batch", NULL };
static const char *const s_tasks[] = { "inspect", "deliver", "repair", NULL };
static const char *const s_divert_to[] = { "rework", "scrap", NULL };   /* quality (issue 11) */

static const char *const s_standby_modes[] = { "wake", "standby", "auto", NULL };  /* twin_standby_t */

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
    /* health (issue 11): a swap on a running station uses a spare and needs the skill. */
    if (c->u.task.task == TWIN_TASK_REPAIR && st->state != TWIN_ST_DOWN && st->state != TWIN_ST_MAINT)
        return twin__swap_check (self, comp, err, len);
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
    if (c->u.repair.by_robot && !twin__robot_can_fix (self, st))        /* health (issue 11) */
        return twin__fail (err, len, "robots here lack the skill to repair '%s' (%s; health.robot_skills)",
                           st->name, twin_cause_name (st->down_cause >= 0 ? st->down_cause : TWIN_CAUSE_RANDOM));
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

/* robots (issue 11) */
static int
s_robot_path_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__robot_path_check (self, c->u.path.robot, c->u.path.nodes, c->u.path.depart_s, err, len);
}

static int
s_robot_queue_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__robot_queue_check (self, c->u.queue.robot, c->u.queue.slot, err, len);
}

static int
s_rover_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__rover_service_check (self, c->u.rover.robot, c->u.rover.by_robot, err, len);
}

/* health (issue 11): planned stops and spares; the checks live in upkeep.c. */
static int
s_replace_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__service_check (self, c->u.service.station, TWIN_SVC_REPLACE, c->u.service.component,
                                c->u.service.by_robot, err, len);
}

static int
s_lubricate_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__service_check (self, c->u.service.station, TWIN_SVC_LUBE, -1, c->u.service.by_robot, err, len);
}

static int
s_realign_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__service_check (self, c->u.service.station, TWIN_SVC_REALIGN, -1, c->u.service.by_robot,
                                err, len);
}

static int
s_spares_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__spare_order_check (self, c->u.spares.component, c->u.spares.qty, err, len);
}

/* quality (issue 11): the checks live with the state they read, in quality.c. */
static int
s_recal_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__quality_cal_check (self, c->u.recal.station, err, len);
}

static int
s_divert_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    return twin__quality_divert_check (self, c->u.divert.station, c->u.divert.serial, c->u.divert.to, err, len);
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
    if (c->u.task.task == TWIN_TASK_REPAIR && c->u.task.component >= 0)     /* health (issue 11) */
        twin__swap_reserve (self, &self->st[c->u.task.station], c->u.task.component);
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
s_replace (twin_t *self, const twin_cmd_t *c)
{
    twin__service_order (self, c->u.service.station, TWIN_SVC_REPLACE, c->u.service.component,
                         c->u.service.by_robot);
}

static void
s_lubricate (twin_t *self, const twin_cmd_t *c)
{
    twin__service_order (self, c->u.service.station, TWIN_SVC_LUBE, -1, c->u.service.by_robot);
}

static void
s_realign (twin_t *self, const twin_cmd_t *c)
{
    twin__service_order (self, c->u.service.station, TWIN_SVC_REALIGN, -1, c->u.service.by_robot);
}

static void
s_spares (twin_t *self, const twin_cmd_t *c)
{
    twin__spare_order (self, c->u.spares.component, c->u.spares.qty);
}

/* quality (issue 11) */
static void
s_recal (twin_t *self, const twin_cmd_t *c)
{
    twin__quality_cal_order (self, c->u.recal.station);
}

static void
s_divert (twin_t *self, const twin_cmd_t *c)
{
    twin__quality_divert (self, c->u.divert.station, c->u.divert.serial, c->u.divert.to);
}

/* ------------------------------------------------------------ flow commands (issue 11) */

static int
s_release_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    (void) self;
    if (c->u.release.wip_cap < 0 || c->u.release.wip_cap > TWIN_MAX_WIP)
        return twin__fail (err, len, "WIP cap %d outside 0 (no cap) .. %d", c->u.release.wip_cap, TWIN_MAX_WIP);
    return 0;
}

static void
s_release (twin_t *self, const twin_cmd_t *c)
{
    twin__flow_set_wip_cap (self, c->u.release.wip_cap);
}

static int
s_standby_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    if (s_check_station (self, c->u.standby.station, err, len))
        return -1;
    if ((unsigned) c->u.standby.mode > TWIN_STANDBY_AUTO)
        return twin__fail (err, len, "unknown stand-by mode %d", (int) c->u.standby.mode);
    const twin_station_t *st = &self->st[c->u.standby.station];
    if (c->u.standby.mode == TWIN_STANDBY_WAKE && st->standby_mode == TWIN_STANDBY_WAKE
        && st->state != TWIN_ST_STANDBY)
        return twin__fail (err, len, "station '%s' is not in stand-by", st->name);
    return 0;
}

static void
s_standby (twin_t *self, const twin_cmd_t *c)
{
    twin__station_standby (self, &self->st[c->u.standby.station], c->u.standby.mode);
}

static int
s_buffer_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    if (s_check_station (self, c->u.buffer.station, err, len))
        return -1;
    const twin_station_t *st = &self->st[c->u.buffer.station];
    if (st->buffer_max < 0)
        return twin__fail (err, len, "station '%s' has an unbounded buffer (no buffer_cap in the plant file)",
                           st->name);
    if (c->u.buffer.capacity < 0 || c->u.buffer.capacity > st->buffer_max)
        return twin__fail (err, len, "buffer capacity %d outside 0 .. %d, the physical maximum at '%s'",
                           c->u.buffer.capacity, st->buffer_max, st->name);
    return 0;
}

static void
s_buffer (twin_t *self, const twin_cmd_t *c)
{
    twin__flow_set_buffer (self, &self->st[c->u.buffer.station], c->u.buffer.capacity);
}

static bool
s_route_visits (const twin_variant_t *v, int station)
{
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < v->route_len[r]; k++)
            if (v->route[r][k] == station)
                return true;
    return false;
}

static int
s_design_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    int v = c->u.design.variant;
    if (v < 0 || v >= self->n_variants)
        return twin__fail (err, len, "unknown variant %d", v);
    if (s_check_station (self, c->u.design.station, err, len))
        return -1;
    if (!s_route_visits (&self->var[v], c->u.design.station))
        return twin__fail (err, len, "variant '%s' does not visit station '%s'", self->var[v].name,
                           self->st[c->u.design.station].name);
    if (!(c->u.design.process_s >= 0.001 && c->u.design.process_s <= 1e6))
        return twin__fail (err, len, "processing time %.6g s outside 0.001 .. 1e6 s", c->u.design.process_s);
    return 0;
}

static void
s_design (twin_t *self, const twin_cmd_t *c)
{
    if (twin__flow_design (self, &self->st[c->u.design.station], c->u.design.variant, c->u.design.process_s))
        AF_LOG_ONCE (AF_LOG_ERROR, "twin: out of memory applying a design change");
}

static int
s_mix_ok (const twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    int v = c->u.mix.variant;
    if (v < 0 || v >= self->n_variants)
        return twin__fail (err, len, "unknown variant %d", v);
    if (!(c->u.mix.mix >= 0 && c->u.mix.mix <= 1))
        return twin__fail (err, len, "mix %.6g outside 0 .. 1", c->u.mix.mix);
    if (c->u.mix.mix < 1 && self->var[v].mix >= 1)
        return twin__fail (err, len, "variant '%s' is the only one offered; launch another first",
                           self->var[v].name);
    return 0;
}

static void
s_mix (twin_t *self, const twin_cmd_t *c)
{
    twin__flow_set_mix (self, c->u.mix.variant, c->u.mix.mix);
}

/* robots (issue 11) */
static void
s_robot_path (twin_t *self, const twin_cmd_t *c)
{
    twin__robot_path (self, c->u.path.robot, c->u.path.nodes, c->u.path.depart_s);
}

static void
s_task_cancel (twin_t *self, const twin_cmd_t *c)
{
    twin__robot_cancel (self, c->u.queue.robot, c->u.queue.slot);
}

static void
s_task_priority (twin_t *self, const twin_cmd_t *c)
{
    twin__robot_prioritise (self, c->u.queue.robot, c->u.queue.slot);
}

/* energy (issue 11) */
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
    /* health (issue 11), owned by maintenance */
    [TWIN_CMD_REPLACE] = {
        { TWIN_CMD_REPLACE, "replace", "replace_component", 20,
          "planned replacement of a component at the next unit boundary: stops the station for the "
          "part's repair time and uses a spare (refused when none is in stock)",
          { { "station", TWIN_PARAM_STATION, true, NULL, "station name" },
            { "component", TWIN_PARAM_CHOICE, true, twin__comp_names, "bearing, belt, motor, joint or lube" },
            { "by_robot", TWIN_PARAM_FLAG, false, NULL, "a mobile robot with the skill does it (else a technician)" } } },
        { S_AT (service.station), S_AT (service.component), S_AT (service.by_robot) }, s_replace_ok, s_replace },
    [TWIN_CMD_LUBRICATE] = {
        { TWIN_CMD_LUBRICATE, "lubricate", "lubricate", 21,
          "short stop at the next unit boundary to relubricate (lube wear to zero)",
          { { "station", TWIN_PARAM_STATION, true, NULL, "station name" },
            { "by_robot", TWIN_PARAM_FLAG, false, NULL, "a mobile robot with the lube skill does it" } } },
        { S_AT (service.station), S_AT (service.by_robot) }, s_lubricate_ok, s_lubricate },
    [TWIN_CMD_REALIGN] = {
        { TWIN_CMD_REALIGN, "realign", "realign", 22,
          "short stop at the next unit boundary to re-teach joints and re-tension belts (as a PM does)",
          { { "station", TWIN_PARAM_STATION, true, NULL, "station name" },
            { "by_robot", TWIN_PARAM_FLAG, false, NULL, "a mobile robot with the joint skill does it" } } },
        { S_AT (service.station), S_AT (service.by_robot) }, s_realign_ok, s_realign },
    [TWIN_CMD_SPARES] = {
        { TWIN_CMD_SPARES, "spares", "order_spares", 23,
          "purchase order for spares of a component kind; they arrive after the supplier's lead time",
          { { "component", TWIN_PARAM_CHOICE, true, twin__comp_names, "bearing, belt, motor, joint or lube" },
            { "qty", TWIN_PARAM_NUM, true, NULL, "whole parts, 1 … 1000" } } },
        { S_AT (spares.component), S_AT (spares.qty) }, s_spares_ok, s_spares },

    /* quality (issue 11): owned by the quality concern (TWIN_OWN_QUALITY) */
    [TWIN_CMD_RECALIBRATE] = {
        { TWIN_CMD_RECALIBRATE, "recalibrate", "recalibrate", 30,
          "re-zero a station's process and in-line gauges (drift); it stops for its recal_min at its next "
          "unit boundary",
          { { "station", TWIN_PARAM_STATION, true, NULL, "station name" } } },
        { S_AT (recal.station) }, s_recal_ok, s_recal },
    [TWIN_CMD_DIVERT] = {
        { TWIN_CMD_DIVERT, "divert_unit", "divert_unit", 31,
          "take a suspect unit off at the end of the line, to the rework bay or scrap",
          { { "to", TWIN_PARAM_CHOICE, true, s_divert_to, "rework or scrap" },
            { "serial", TWIN_PARAM_NUM, false, NULL, "unit serial (inline telemetry); absent: the station's last unit" },
            { "station", TWIN_PARAM_STATION, false, NULL, "whose last unit, when no serial" } } },
        { S_AT (divert.to), S_AT (divert.serial), S_AT (divert.station) }, s_divert_ok, s_divert },

    /* flow (issue 11); the concern is line (release, stand-by, buffers) or
     * sequencing (what the line builds: design changes, the mix). */
    [TWIN_CMD_RELEASE] = {
        { TWIN_CMD_RELEASE, "release", "set_release", 40,
          "release / WIP cap (CONWIP, concern line): orders enter the line only while fewer units are on it",
          { { "wip_cap", TWIN_PARAM_INT, true, NULL, "units released and not shipped, at most; 0: no cap" } } },
        { S_AT (release.wip_cap) }, s_release_ok, s_release },
    [TWIN_CMD_STANDBY] = {
        { TWIN_CMD_STANDBY, "standby", "set_standby", 41,
          "station stand-by (concern line): leaving it takes the station's wake_s at power_kw.wake",
          { { "station", TWIN_PARAM_STATION, true, NULL, "station name" },
            { "mode", TWIN_PARAM_CHOICE, true, s_standby_modes,
              "wake, standby (once idle, until woken) or auto (whenever idle, waking when work comes)" } } },
        { S_AT (standby.station), S_AT (standby.mode) }, s_standby_ok, s_standby },
    [TWIN_CMD_BUFFER] = {
        { TWIN_CMD_BUFFER, "buffer", "set_buffer", 42,
          "a station's buffer capacity (concern line), conveyor included, up to its buffer_max",
          { { "station", TWIN_PARAM_STATION, true, NULL, "station name" },
            { "capacity", TWIN_PARAM_INT, true, NULL, "units, 0 .. buffer_max" } } },
        { S_AT (buffer.station), S_AT (buffer.capacity) }, s_buffer_ok, s_buffer },
    [TWIN_CMD_DESIGN] = {
        { TWIN_CMD_DESIGN, "design", "change_design", 43,
          "design change (concern sequencing): a variant's mean processing time at a station, shape kept",
          { { "variant", TWIN_PARAM_VARIANT, true, NULL, "variant name" },
            { "station", TWIN_PARAM_STATION, true, NULL, "a station on the variant's route" },
            { "process_s", TWIN_PARAM_NUM, true, NULL, "mean seconds at nameplate, 0.001 .. 1e6" } } },
        { S_AT (design.variant), S_AT (design.station), S_AT (design.process_s) }, s_design_ok, s_design },
    [TWIN_CMD_MIX] = {
        { TWIN_CMD_MIX, "mix", "set_mix", 44,
          "a variant's share of new orders (concern sequencing); a variant declared with mix 0 is launched",
          { { "variant", TWIN_PARAM_VARIANT, true, NULL, "variant name" },
            { "mix", TWIN_PARAM_NUM, true, NULL, "0 .. 1; the others keep their proportions in the rest" } } },
        { S_AT (mix.variant), S_AT (mix.mix) }, s_mix_ok, s_mix },

    /* robots (issue 11): owned by TWIN_OWN_ROBOTS */
    [TWIN_CMD_ROBOT_PATH] = {
        { TWIN_CMD_ROBOT_PATH, "robot_path", "send_robot", 50,
          "send a mobile robot along a planned route after its queued tasks (robots.travel plants)",
          { { "robot", TWIN_PARAM_INT, true, NULL, "robot index" },
            { "nodes", TWIN_PARAM_TEXT, true, NULL,
              "floor nodes in order, comma-separated, each an aisle from the last; one node: a plain destination" },
            { "depart_s", TWIN_PARAM_TEXT, false, NULL,
              "earliest departure towards each node, seconds from now, comma-separated, not falling" } } },
        { S_AT (path.robot), S_AT (path.nodes), S_AT (path.depart_s) }, s_robot_path_ok, s_robot_path },
    [TWIN_CMD_TASK_CANCEL] = {
        { TWIN_CMD_TASK_CANCEL, "task_cancel", "cancel_task", 51,
          "drop a task from a robot's queue (a plant task goes back to the pool)",
          { { "robot", TWIN_PARAM_INT, true, NULL, "robot index" },
            { "slot", TWIN_PARAM_INT, true, NULL, "position in its queue, 0 next" } } },
        { S_AT (queue.robot), S_AT (queue.slot) }, s_robot_queue_ok, s_task_cancel },
    [TWIN_CMD_TASK_PRIORITY] = {
        { TWIN_CMD_TASK_PRIORITY, "task_priority", "prioritise_task", 52,
          "move a task to the front of a robot's queue",
          { { "robot", TWIN_PARAM_INT, true, NULL, "robot index" },
            { "slot", TWIN_PARAM_INT, true, NULL, "position in its queue, 0 next" } } },
        { S_AT (queue.robot), S_AT (queue.slot) }, s_robot_queue_ok, s_task_priority },

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
    case TWIN_PARAM_TEXT:       /* robots (issue 11): a route */
        if (v->type != TWIN_VAL_TEXT || strlen (v->text) >= TWIN_TEXT_MAX)
            return twin__fail (err, len, "parameter '%s' must be text of at most %d bytes", d->name,
                               TWIN_TEXT_MAX - 1);
        memcpy (at, v->text, strlen (v->text) + 1);
        return 0;
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
    else if (d->kind == TWIN_PARAM_TEXT)
        memset (at, 0, 1);
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
    static const char *const kinds[] = { "number", "whole number", "flag", "station", "part", "variant", "choice",
                                         "text" };
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
