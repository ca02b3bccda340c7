/*  twin robots — the mobile fleet: tasks, dispatch and travel on the floor graph.
 *
 *  Tasks (bin replenishment, inspection, repair or part swap) queue first
 *  come first served and go to the nearest idle robot (the DESIGN §5
 *  baseline rule); tasks a controller assigned to a robot by command come
 *  first for that robot.  Travel times come from the floor graph's shortest
 *  paths (the floor graph, loaded here).
 *
 *  With robots.travel (issue 11) robots move in space and time: edge by edge
 *  along their path, an aisle holding at most its width in robots and a node
 *  its capacity.  A robot that finds its aisle full stops and backs out (a
 *  recorded conflict), then waits for it; a robot whose next node is full
 *  waits on the aisle, holding it; a cycle of robots waiting on each other is
 *  a recorded deadlock that an operator clears after a timeout (a manual
 *  intervention).  Speed falls with the robots sharing an aisle.  Batteries
 *  drain per metre and per working minute; below a threshold a robot goes to
 *  the nearest charger and charges full (what AMR fleets do on their own).
 */
#include "twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
s_node_of_station (int station)
{
    return station + 2;         /* nodes 0 and 1 are the warehouse and the dock */
}

void
twin__task_push (twin_t *self, twin_task_kind_t kind, int station, int part)
{
    if (self->n_robots == 0) {
        /* No fleet: a forklift driver brings the parts, a manual action. */
        if (kind == TWIN_TASK_DELIVER) {
            twin_part_t *p = &self->part[part];
            if (des_now_s (self->des) >= self->t_stats_s)
                self->manual++;
            double qty = fmin (p->bin_cap - p->bin, p->warehouse);
            p->bin += qty;
            p->warehouse -= qty;
            p->bin_task_open = false;
        }
        return;
    }
    if (self->fleet.task_n == self->fleet.task_cap) {
        int cap = self->fleet.task_cap ? 2 * self->fleet.task_cap : 32;
        twin_task_t *t = realloc (self->fleet.tasks, (size_t) cap * sizeof *t);
        if (!t)
            return;
        self->fleet.tasks = t;
        self->fleet.task_cap = cap;
    }
    self->fleet.tasks[self->fleet.task_n++] = (twin_task_t) {
        .kind = kind, .station = station, .part = part, .component = -1,
        .id = ++self->fleet.next_task_id, .t_created_s = des_now_s (self->des) };
    twin__robots_dispatch (self);
}

static void s_robot_done (des_t *des, void *ctx, uint64_t arg);
static void s_job_begin (twin_t *self, int r, const twin_task_t *t);

static double
s_travel_s (const twin_t *self, int from, int to)
{
    return self->fleet.dist_m[from * self->fleet.n_nodes + to] / self->fleet.robot_speed_mps;
}

static void
s_robot_start (twin_t *self, int r, const twin_task_t *t)
{
    if (self->fleet.travel) {
        s_job_begin (self, r, t);
        return;
    }
    twin_robot_t *rb = &self->robot[r];
    double dur = 0;
    int dest;
    if (t->kind == TWIN_TASK_DELIVER) {
        dest = s_node_of_station (0);
        for (int s = 0; s < self->n_stations; s++)
            if (twin__is_route_start (self, s)) {
                dest = s_node_of_station (s);
                break;
            }
        dur = s_travel_s (self, rb->node, self->fleet.node_warehouse) + self->fleet.robot_handle_s
              + s_travel_s (self, self->fleet.node_warehouse, dest) + self->fleet.robot_handle_s;
    }
    else {
        dest = s_node_of_station (t->station);
        dur = s_travel_s (self, rb->node, dest);
        if (t->kind == TWIN_TASK_CHANGEOVER)
            dur += t->work_s;
        else if (t->kind == TWIN_TASK_INSPECT)
            dur += self->fleet.robot_inspect_s;
        else {
            twin_station_t *s = &self->st[t->station];
            if (s->state != TWIN_ST_DOWN && s->state != TWIN_ST_MAINT) {
                /* Repair without a fault: the robot swaps the part it was told to. */
                dur += self->fleet.robot_handle_s;
            }
            else
                dur += twin__service_duration (s);
        }
    }
    rb->busy = true;
    rb->t_busy_start_s = des_now_s (self->des);
    rb->node = dest;
    uint64_t arg = (uint64_t) r | ((uint64_t) t->kind << 8) | ((uint64_t) (t->station + 1) << 16)
                   | ((uint64_t) ((t->part + 1) & 0xffff) << 40) | ((uint64_t) (t->component + 1) << 56);
    des_schedule (self->des, dur, s_robot_done, self, arg);
}

static bool s_needs_charge (const twin_t *self, const twin_robot_t *rb);
static void s_go_charge (twin_t *self, int r);
static void s_accrue (twin_t *self, twin_robot_t *rb);

/* robots (issue 11): an idle robot whose charge fell below the threshold
 * while it waited goes and charges — the plant's practice; an agent that
 * owns robot dispatch sends its robots to charge itself (send_robot to a
 * charger), or sees them run flat. */
static void
s_idle_charge (twin_t *self)
{
    for (int r = 0; self->fleet.travel && self->fleet.batt_kwh > 0 && r < self->n_robots; r++) {
        twin_robot_t *rb = &self->robot[r];
        if (rb->busy || rb->q_n > 0 || rb->down)
            continue;
        s_accrue (self, rb);
        if (s_needs_charge (self, rb) && !self->owned[TWIN_OWN_ROBOTS])
            s_go_charge (self, r);
    }
}

void
twin__fleet_epoch (twin_t *self, double dt_s)
{
    (void) dt_s;
    s_idle_charge (self);
}

void
twin__robots_dispatch (twin_t *self)
{
    s_idle_charge (self);
    /* Robots with tasks assigned by command take those first. */
    for (int r = 0; r < self->n_robots; r++) {
        twin_robot_t *rb = &self->robot[r];
        if (!rb->busy && rb->q_n > 0) {
            twin_task_t t = rb->queue[0];
            memmove (rb->queue, rb->queue + 1, (size_t) (rb->q_n - 1) * sizeof t);
            rb->q_n--;
            s_robot_start (self, r, &t);
        }
    }
    /* Then first come first served, each task to the nearest idle robot —
     * the twin's practice, unless an agent owns robot dispatch (it then
     * hands out the plant's tasks with dispatch_task). */
    while (self->fleet.task_n > 0 && !self->owned[TWIN_OWN_ROBOTS]) {
        const twin_task_t *t = &self->fleet.tasks[0];
        int from = t->kind == TWIN_TASK_DELIVER ? self->fleet.node_warehouse
                                                : s_node_of_station (t->station);
        int best = -1;
        for (int r = 0; r < self->n_robots; r++) {
            if (self->robot[r].busy || self->robot[r].q_n > 0)
                continue;
            if (best < 0 || self->fleet.dist_m[self->robot[r].node * self->fleet.n_nodes + from]
                                < self->fleet.dist_m[self->robot[best].node * self->fleet.n_nodes + from])
                best = r;
        }
        if (best < 0)
            break;
        twin_task_t task = *t;
        memmove (self->fleet.tasks, self->fleet.tasks + 1, (size_t) (self->fleet.task_n - 1) * sizeof task);
        self->fleet.task_n--;
        s_robot_start (self, best, &task);
    }
    /* The plant's own tasks first; the project (project.c) gets the rest. */
    if (self->project.n_ptasks > 0 || self->project.rover_rq_n > 0)
        twin__project_dispatch (self);
}

/* What a finished task does to the plant (both travel models). */
static void
s_task_effect (twin_t *self, twin_task_kind_t kind, int station, int part, int component)
{
    double now = des_now_s (self->des);
    if (kind == TWIN_TASK_DELIVER && part >= 0) {
        twin_part_t *p = &self->part[part];
        double qty = fmin (p->bin_cap - p->bin, p->warehouse);
        p->bin += qty;
        p->warehouse -= qty;
        p->bin_task_open = false;
        twin__try_release (self);
    }
    else if (kind == TWIN_TASK_INSPECT && station >= 0) {
        twin_station_t *s = &self->st[station];
        double worst = twin__worst_wear (s);
        /* A measured condition, not the truth: ±5 % of full scale. */
        s->inspected_wear = fmax (0, worst + twin_rng_normal (&self->health.inspect_rng, 0, 0.05));
        s->t_inspected_s = now;
    }
    else if (kind == TWIN_TASK_REPAIR && station >= 0) {
        twin_station_t *s = &self->st[station];
        if (s->state == TWIN_ST_DOWN || s->state == TWIN_ST_MAINT)
            twin__repair_done_now (self, s);
        else if (component >= 0 && s->comp[component].present) {
            /* A part the controller chose from what it measured: the twin
             * never picks the truly most worn one for it. */
            twin__component_fit (s, component);
            twin__maint_log (self, s->index, "replace", twin__comp_names[component], false);
        }
    }
}

static void
s_robot_done (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    int r = (int) (arg & 0xff);
    twin_task_kind_t kind = (twin_task_kind_t) ((arg >> 8) & 0xff);
    int station = (int) ((arg >> 16) & 0xffffff) - 1;
    int part = (int) ((arg >> 40) & 0xffff) - 1;
    int component = (int) (arg >> 56) - 1;
    twin_robot_t *rb = &self->robot[r];
    double now = des_now_s (self->des);
    rb->busy = false;
    rb->busy_s += now - (rb->t_busy_start_s > self->t_stats_s ? rb->t_busy_start_s : self->t_stats_s);
    s_task_effect (self, kind, station, part, component);
    twin__robots_dispatch (self);
}

/* The owner of robot dispatch gives the plant's task ID to robot R: it moves
 * from the pool to the robot's queue.  -1 when there is no such task. */
int
twin__task_dispatch (twin_t *self, uint32_t id, int r)
{
    twin_fleet_t *f = &self->fleet;
    for (int k = 0; k < f->task_n; k++) {
        if (f->tasks[k].id != id)
            continue;
        twin_robot_t *rb = &self->robot[r];
        rb->queue[rb->q_n++] = f->tasks[k];
        memmove (f->tasks + k, f->tasks + k + 1, (size_t) (f->task_n - k - 1) * sizeof *f->tasks);
        f->task_n--;
        twin__robots_dispatch (self);
        return 0;
    }
    return -1;
}

const twin_pool_task_t *
twin_task_pool (const twin_t *self, size_t *n)
{
    /* A public view of the pool, rebuilt on demand in a buffer the twin
     * owns (the pool's own entries carry indexes, not names). */
    twin_t *mut = (twin_t *) self;
    twin_fleet_t *f = &mut->fleet;
    if ((int) f->pool_view_cap < f->task_n) {
        size_t cap = (size_t) f->task_n + 16;
        twin_pool_task_t *v = realloc (f->pool_view, cap * sizeof *v);
        if (!v) {
            *n = 0;
            return NULL;
        }
        f->pool_view = v;
        f->pool_view_cap = cap;
    }
    for (int k = 0; k < f->task_n; k++) {
        const twin_task_t *t = &f->tasks[k];
        f->pool_view[k] = (twin_pool_task_t) {
            .id = t->id, .kind = t->kind,
            .station = t->station >= 0 ? self->st[t->station].name : NULL,
            .part = t->part >= 0 ? self->part[t->part].name : NULL, .t_created_s = t->t_created_s };
    }
    *n = (size_t) f->task_n;
    return f->pool_view;
}

/* ------------------------------------------------------------ travel in space and time (issue 11) */

enum { S_EV_ADVANCE, S_EV_EDGE_END, S_EV_WORK_DONE, S_EV_DEADLOCK };
#define S_ON_NODE  (-1)                 /* rb->edge: at a node */
#define S_ON_GRID  (-2)                 /* rb->edge: between two nodes of the aisle grid */

static void s_event (des_t *des, void *ctx, uint64_t arg);
static void s_advance (twin_t *self, int r);
static void s_edge_end (twin_t *self, int r);

static bool
s_counting (const twin_t *self)
{
    return des_now_s (self->des) >= self->t_stats_s;
}

static void
s_schedule (twin_t *self, int r, int ev, double delay_s)
{
    uint64_t arg = (uint64_t) r | ((uint64_t) ev << 8) | ((uint64_t) self->robot[r].move_gen << 16);
    des_schedule (self->des, delay_s, s_event, self, arg);
}

static void
s_wake_cb (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    (void) arg;
    twin_t *self = ctx;
    self->fleet.wake_pending = false;
    for (int r = 0; r < self->n_robots; r++) {
        if (self->robot[r].wait == TWIN_WAIT_EDGE)
            s_advance (self, r);
        else if (self->robot[r].wait == TWIN_WAIT_NODE)
            s_edge_end (self, r);
    }
}

/* Something left an aisle or a node: waiting robots look again, in robot
 * order, once the current event is over (so that the order is the same in
 * every run). */
static void
s_wake (twin_t *self)
{
    if (self->fleet.wake_pending)
        return;
    self->fleet.wake_pending = true;
    des_schedule (self->des, 0, s_wake_cb, self, 0);
}

static int
s_on_edge (const twin_t *self, int e, int except)
{
    int n = 0;
    for (int r = 0; r < self->n_robots; r++)
        n += r != except && self->robot[r].edge == e;
    return n;
}

/* Robots that hold node V: working or waiting there (an idle robot pulls
 * into the node's parking bay and holds nothing). */
static int
s_at_node (const twin_t *self, int v, int except)
{
    int n = 0;
    for (int r = 0; r < self->n_robots; r++) {
        const twin_robot_t *b = &self->robot[r];
        n += r != except && b->busy && b->edge == S_ON_NODE && b->node == v;
    }
    return n;
}

static bool
s_is_waiting (const twin_robot_t *rb)
{
    return rb->wait == TWIN_WAIT_EDGE || rb->wait == TWIN_WAIT_NODE;
}

/* Does robot B stand in the way of waiting robot A (on the aisle A waits
 * for, or holding the node A waits to step onto)? */
static bool
s_blocks (const twin_t *self, int a, int b)
{
    const twin_fleet_t *f = &self->fleet;
    const twin_robot_t *ra = &self->robot[a], *o = &self->robot[b];
    int u = ra->path[ra->path_i], v = ra->path[ra->path_i + 1];
    if (a == b)
        return false;
    if (ra->wait == TWIN_WAIT_EDGE)
        return o->edge == f->edge_of[u * f->n_nodes + v];
    return o->busy && o->edge == S_ON_NODE && o->node == v;
}

/* A deadlock is a knot: every robot in the way of robot R, and every robot
 * in the way of those, waits too, so none of them will ever move.  (A cycle
 * alone is not enough where a node holds two robots: the other may leave.)
 * MEMBER marks the knot's robots. */
static bool
s_knot (const twin_t *self, int r, unsigned char *member)
{
    int queue[256], head = 0, tail = 0;
    memset (member, 0, (size_t) self->n_robots);
    member[r] = 1;
    queue[tail++] = r;
    while (head < tail) {
        int x = queue[head++], n = 0;
        for (int b = 0; b < self->n_robots; b++) {
            if (!s_blocks (self, x, b))
                continue;
            n++;
            if (!s_is_waiting (&self->robot[b]))
                return false;
            if (!member[b]) {
                member[b] = 1;
                queue[tail++] = b;
            }
        }
        if (n == 0)
            return false;       /* nothing in its way: it moves at the next wake-up */
    }
    return true;
}

/* Robot R cannot go on: record a conflict (a full aisle met head-on or over
 * its width) or the start of a wait, and look for a deadlock. */
static void
s_block (twin_t *self, int r, int why)
{
    twin_robot_t *rb = &self->robot[r];
    if (rb->wait == why)
        return;
    if (why == TWIN_WAIT_EDGE && !rb->conflicted) {
        rb->conflicted = true;
        if (s_counting (self))
            self->fleet.collisions++;
    }
    rb->wait = why;
    rb->t_wait_s_traffic = des_now_s (self->des);
    unsigned char member[256];
    if (!rb->deadlocked && s_knot (self, r, member)) {
        for (int k = 0; k < self->n_robots; k++)
            self->robot[k].deadlocked |= member[k];
        if (s_counting (self))
            self->fleet.deadlocks++;
        s_schedule (self, r, S_EV_DEADLOCK, self->fleet.deadlock_timeout_s);
    }
}

/* The deadlock's timeout: an operator sorts the jam out, taking every
 * robot of the knot past what it waits for. */
static void
s_clear_deadlock (twin_t *self, int r)
{
    unsigned char member[256];
    if (!s_knot (self, r, member)) {
        self->robot[r].deadlocked = false;
        return;
    }
    if (s_counting (self))
        self->manual++;
    for (int k = 0; k < self->n_robots; k++)
        if (member[k])
            self->robot[k].force = true;
    for (int k = 0; k < self->n_robots; k++) {
        if (!member[k])
            continue;
        if (self->robot[k].wait == TWIN_WAIT_EDGE)
            s_advance (self, k);
        else if (self->robot[k].wait == TWIN_WAIT_NODE)
            s_edge_end (self, k);
    }
}

static void
s_drain (twin_t *self, twin_robot_t *rb, double kwh)
{
    twin_fleet_t *f = &self->fleet;
    if (f->batt_kwh <= 0)
        return;
    if (rb->soc_kwh > 0 && rb->soc_kwh - kwh <= 0 && s_counting (self)) {
        f->batt_empty++;        /* flat on the floor: someone pushes it on */
        self->manual++;
    }
    rb->soc_kwh = fmax (0, rb->soc_kwh - kwh);
}

/* The draw off the aisles (computer, sensors, handling: work_kw, idle
 * included) since it was last counted; none while charging or driving. */
static double
s_pending_kwh (const twin_t *self, const twin_robot_t *rb)
{
    if (self->fleet.batt_kwh <= 0 || rb->charging || rb->edge != S_ON_NODE)
        return 0;
    return self->fleet.work_kw * (des_now_s (self->des) - rb->t_acc_s) / 3600.0;
}

static void
s_accrue (twin_t *self, twin_robot_t *rb)
{
    s_drain (self, rb, s_pending_kwh (self, rb));
    rb->t_acc_s = des_now_s (self->des);
}

double
twin__robot_soc_kwh (const twin_t *self, int r)
{
    const twin_robot_t *rb = &self->robot[r];
    return fmax (0, rb->soc_kwh - s_pending_kwh (self, rb));
}

/* The node the current stop of robot R's job is at. */
static int
s_stop_node (const twin_t *self, const twin_robot_t *rb)
{
    const twin_task_t *t = &rb->job;
    if (t->kind == TWIN_TASK_GOTO || t->kind == TWIN_TASK_CHARGE)
        return t->part;         /* the destination node */
    if (t->kind == TWIN_TASK_DELIVER && rb->job_stop == 0)
        return self->fleet.node_warehouse;
    if (t->kind == TWIN_TASK_DELIVER) {
        for (int s = 0; s < self->n_stations; s++)
            if (twin__is_route_start (self, s))
                return s_node_of_station (s);
        return s_node_of_station (0);
    }
    return s_node_of_station (t->station);
}

/* Shortest path FROM → TO into PATH (at most TWIN_PATH_MAX nodes; a longer
 * one ends early and the next leg goes on from there). */
static int
s_route (const twin_t *self, int from, int to, int *path, double *depart)
{
    const twin_fleet_t *f = &self->fleet;
    int n = 0, cur = from;
    path[n] = cur;
    depart[n++] = -1;
    while (cur != to && n < TWIN_PATH_MAX) {
        cur = f->next_hop[cur * f->n_nodes + to];
        path[n] = cur;
        depart[n++] = -1;
    }
    return n;
}

/* The path to the current stop: a controller's planned route for a go-to
 * task (reached from where the robot is by the shortest path), else the
 * shortest path. */
static void
s_leg_begin (twin_t *self, int r)
{
    twin_robot_t *rb = &self->robot[r];
    if (rb->job.kind == TWIN_TASK_GOTO && rb->plan_n > 0) {
        int n = s_route (self, rb->node, rb->plan[0], rb->path, rb->depart_s);
        if (n >= 2)
            rb->depart_s[n - 2] = rb->plan_depart_s[0];
        for (int k = 1; k < rb->plan_n && n < TWIN_PATH_MAX; k++) {
            rb->depart_s[n - 1] = rb->plan_depart_s[k];
            rb->path[n] = rb->plan[k];
            rb->depart_s[n++] = -1;
        }
        rb->path_n = n;
        rb->plan_n = 0;
    }
    else
        rb->path_n = s_route (self, rb->node, s_stop_node (self, rb), rb->path, rb->depart_s);
    rb->path_i = 0;
    s_advance (self, r);
}

static void
s_job_begin (twin_t *self, int r, const twin_task_t *t)
{
    twin_robot_t *rb = &self->robot[r];
    s_accrue (self, rb);        /* what it drew while idle */
    rb->busy = true;
    rb->t_busy_start_s = des_now_s (self->des);
    rb->job = *t;
    rb->job_stop = 0;
    if (t->kind == TWIN_TASK_GOTO)
        rb->job.part = rb->plan_n > 0 ? rb->plan[rb->plan_n - 1] : rb->node;
    s_leg_begin (self, r);
}

/* Charging to full at the nearest charger, when the robot has a battery
 * and the charge fell below robots.charge_below. */
static bool
s_needs_charge (const twin_t *self, const twin_robot_t *rb)
{
    const twin_fleet_t *f = &self->fleet;
    return f->batt_kwh > 0 && f->n_chargers > 0 && rb->soc_kwh < f->charge_below * f->batt_kwh;
}

static void
s_go_charge (twin_t *self, int r)
{
    const twin_fleet_t *f = &self->fleet;
    int best = f->chargers[0];
    for (int k = 1; k < f->n_chargers; k++)
        if (f->dist_m[self->robot[r].node * f->n_nodes + f->chargers[k]]
            < f->dist_m[self->robot[r].node * f->n_nodes + best])
            best = f->chargers[k];
    twin_task_t t = { .kind = TWIN_TASK_CHARGE, .station = -1, .part = best, .component = -1,
                      .t_created_s = des_now_s (self->des) };
    s_job_begin (self, r, &t);
}

static bool
s_is_charger (const twin_t *self, int node)
{
    for (int k = 0; k < self->fleet.n_chargers; k++)
        if (self->fleet.chargers[k] == node)
            return true;
    return false;
}

/* Work at the current stop, in seconds. */
static double
s_work_s (twin_t *self, twin_robot_t *rb)
{
    const twin_fleet_t *f = &self->fleet;
    switch (rb->job.kind) {
    case TWIN_TASK_DELIVER:
        return f->robot_handle_s;
    case TWIN_TASK_INSPECT:
        return f->robot_inspect_s;
    case TWIN_TASK_CHANGEOVER:
        return rb->job.work_s;
    case TWIN_TASK_REPAIR: {
        twin_station_t *s = &self->st[rb->job.station];
        return s->state != TWIN_ST_DOWN && s->state != TWIN_ST_MAINT ? f->robot_handle_s
                                                                   : twin__service_duration (s);
    }
    default:                    /* charge, or a go-to that ends at a charger */
        if (f->batt_kwh <= 0 || f->charge_kw <= 0 || !s_is_charger (self, rb->node))
            return 0;
        rb->charging = true;
        return (f->batt_kwh - rb->soc_kwh) / f->charge_kw * 3600.0;
    }
}

/* The end of a path: at the stop, work; or (a path cut short at
 * TWIN_PATH_MAX nodes) go on by the shortest path. */
static void
s_path_end (twin_t *self, int r)
{
    twin_robot_t *rb = &self->robot[r];
    if (rb->node != s_stop_node (self, rb)) {
        s_leg_begin (self, r);
        return;
    }
    s_accrue (self, rb);
    double w = s_work_s (self, rb);
    s_schedule (self, r, S_EV_WORK_DONE, w);
}

static void
s_work_done (twin_t *self, int r)
{
    twin_robot_t *rb = &self->robot[r];
    if (rb->charging) {
        rb->charging = false;
        rb->soc_kwh = self->fleet.batt_kwh;
        rb->t_acc_s = des_now_s (self->des);
    }
    else
        s_accrue (self, rb);
    if (rb->job.kind == TWIN_TASK_DELIVER && rb->job_stop == 0) {
        rb->job_stop = 1;
        s_leg_begin (self, r);
        return;
    }
    double now = des_now_s (self->des);
    rb->busy = false;
    rb->busy_s += now - (rb->t_busy_start_s > self->t_stats_s ? rb->t_busy_start_s : self->t_stats_s);
    s_wake (self);              /* an idle robot holds no node */
    s_task_effect (self, rb->job.kind, rb->job.station, rb->job.part, rb->job.component);
    if (rb->job.kind != TWIN_TASK_CHARGE && s_needs_charge (self, rb) && !self->owned[TWIN_OWN_ROBOTS])
        s_go_charge (self, r);
    twin__robots_dispatch (self);
}

/* At node path[path_i]: leave on the next aisle when its departure time
 * has come and the aisle has room. */
static void
s_advance (twin_t *self, int r)
{
    twin_fleet_t *f = &self->fleet;
    twin_robot_t *rb = &self->robot[r];
    if (rb->path_i >= rb->path_n - 1) {
        rb->wait = TWIN_WAIT_NONE;
        s_path_end (self, r);
        return;
    }
    double now = des_now_s (self->des);
    if (rb->depart_s[rb->path_i] > now) {
        rb->wait = TWIN_WAIT_DEPART;
        s_schedule (self, r, S_EV_ADVANCE, rb->depart_s[rb->path_i] - now);
        return;
    }
    int u = rb->path[rb->path_i], v = rb->path[rb->path_i + 1];
    int e = f->edge_of[u * f->n_nodes + v];
    int others = e >= 0 ? s_on_edge (self, e, r) : 0;
    if (e >= 0 && f->edges[e].width > 0 && others >= f->edges[e].width && !rb->force) {
        s_block (self, r, TWIN_WAIT_EDGE);
        return;
    }
    s_accrue (self, rb);        /* leaving the node: its draw there up to now */
    double len = e >= 0 ? f->edges[e].len_m : f->dist_m[u * f->n_nodes + v];
    double dt = len / (f->robot_speed_mps / (1 + f->congestion * others));
    if (rb->conflicted)
        dt += f->conflict_s;    /* it backed out of the aisle and came again */
    rb->conflicted = rb->deadlocked = rb->force = false;
    rb->wait = TWIN_WAIT_NONE;
    rb->edge = e >= 0 ? e : S_ON_GRID;
    rb->t_edge0_s = now;
    rb->t_edge1_s = now + dt;
    s_schedule (self, r, S_EV_EDGE_END, dt);
    s_wake (self);              /* node U has room again */
}

/* At the far end of the aisle: step onto the node when it has room. */
static void
s_edge_end (twin_t *self, int r)
{
    twin_fleet_t *f = &self->fleet;
    twin_robot_t *rb = &self->robot[r];
    int u = rb->path[rb->path_i], v = rb->path[rb->path_i + 1];
    if (f->node_cap[v] > 0 && s_at_node (self, v, r) >= f->node_cap[v] && !rb->force) {
        s_block (self, r, TWIN_WAIT_NODE);
        return;
    }
    double len = rb->edge >= 0 ? f->edges[rb->edge].len_m : f->dist_m[u * f->n_nodes + v];
    if (s_counting (self))
        f->travel_m += len;
    s_drain (self, rb, len * f->wh_per_m / 1000.0);
    rb->wait = TWIN_WAIT_NONE;
    rb->deadlocked = rb->force = false;
    rb->edge = S_ON_NODE;
    rb->t_acc_s = des_now_s (self->des);
    rb->node = v;
    rb->path_i++;
    s_wake (self);              /* the aisle has room again */
    s_advance (self, r);
}

static void
s_event (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    int r = (int) (arg & 0xff), ev = (int) ((arg >> 8) & 0xff);
    twin_robot_t *rb = &self->robot[r];
    if ((uint32_t) (arg >> 16) != rb->move_gen)
        return;                 /* cancelled */
    if (ev == S_EV_ADVANCE && rb->wait == TWIN_WAIT_DEPART)
        s_advance (self, r);
    else if (ev == S_EV_EDGE_END)
        s_edge_end (self, r);
    else if (ev == S_EV_WORK_DONE)
        s_work_done (self, r);
    else if (ev == S_EV_DEADLOCK && rb->deadlocked && s_is_waiting (rb))
        s_clear_deadlock (self, r);
}

double
twin__robot_changeover (twin_t *self, twin_station_t *s, double setup_s)
{
    /* The station's practice, not the dispatcher's: an owner of robot
     * dispatch decides what its robots do, so then an operator comes. */
    if (self->owned[TWIN_OWN_ROBOTS])
        return -1;
    const twin_fleet_t *f = &self->fleet;
    int to = s_node_of_station (s->index), best = -1;
    for (int r = 0; r < self->n_robots; r++) {
        const twin_robot_t *rb = &self->robot[r];
        if (rb->busy || rb->q_n > 0 || rb->down || s_needs_charge (self, rb))
            continue;
        if (best < 0 || f->dist_m[rb->node * f->n_nodes + to] < f->dist_m[self->robot[best].node * f->n_nodes + to])
            best = r;
    }
    if (best < 0)
        return -1;
    double trip_s = s_travel_s (self, self->robot[best].node, to);
    twin_task_t t = { .kind = TWIN_TASK_CHANGEOVER, .station = s->index, .part = -1, .component = -1,
                      .t_created_s = des_now_s (self->des), .work_s = setup_s };
    s_robot_start (self, best, &t);
    return trip_s + setup_s;
}

double
twin__robots_charging_kw (const twin_t *self)
{
    double kw = 0;
    for (int r = 0; r < self->n_robots; r++)
        kw += self->robot[r].charging ? self->fleet.charge_kw : 0;
    return kw;
}

/* ------------------------------------------------------------ route and queue commands (issue 11) */

static int s_node_index (const twin_t *self, const char *name);

int
twin__floor_path_parse (const twin_t *self, const char *text, int *nodes, char *err, size_t len)
{
    char buf[TWIN_TEXT_MAX];
    if (!text || !text[0])
        return twin__fail (err, len, "a route names at least one floor node");
    if (strlen (text) >= sizeof buf)
        return twin__fail (err, len, "route longer than %d characters", TWIN_TEXT_MAX - 1);
    strcpy (buf, text);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r (buf, ",", &save); tok; tok = strtok_r (NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        int i = s_node_index (self, tok);
        if (i < 0)
            return twin__fail (err, len, "unknown floor node '%s'", tok);
        if (n == TWIN_PATH_MAX / 2)
            return twin__fail (err, len, "a route has at most %d nodes", TWIN_PATH_MAX / 2);
        nodes[n++] = i;
    }
    if (n == 0)
        return twin__fail (err, len, "a route names at least one floor node");
    return n;
}

/* Departure offsets "s0,s1,…" (seconds from now, one per node, not falling). */
static int
s_departs_parse (const char *text, int n, double *out, char *err, size_t len)
{
    if (!text || !text[0]) {
        for (int k = 0; k < n; k++)
            out[k] = -1;
        return 0;
    }
    const char *p = text;
    for (int k = 0; k < n; k++) {
        char *end = NULL;
        out[k] = strtod (p, &end);
        if (end == p || !isfinite (out[k]) || out[k] < 0 || out[k] > 1e7 || (k && out[k] < out[k - 1]))
            return twin__fail (err, len, "departures are %d offsets in seconds, 0 … 1e7, not falling", n);
        p = end;
        while (*p == ' ')
            p++;
        if (k < n - 1 && *p++ != ',')
            return twin__fail (err, len, "departures: one offset per route node (%d)", n);
    }
    if (*p)
        return twin__fail (err, len, "departures: one offset per route node (%d)", n);
    return 0;
}

int
twin__robot_path_check (const twin_t *self, int robot, const char *nodes, const char *depart,
                        char *err, size_t len)
{
    const twin_fleet_t *f = &self->fleet;
    if (robot < 0 || robot >= self->n_robots)
        return twin__fail (err, len, "unknown robot %d (the fleet has %d)", robot, self->n_robots);
    if (!f->travel)
        return twin__fail (err, len, "robots here do not travel on the floor graph (robots.travel: false)");
    const twin_robot_t *rb = &self->robot[robot];
    if (rb->q_n >= 16)
        return twin__fail (err, len, "robot %d already has 16 tasks queued", robot);
    bool pending = rb->plan_n > 0;
    for (int k = 0; k < rb->q_n; k++)
        pending |= rb->queue[k].kind == TWIN_TASK_GOTO;
    if (pending)
        return twin__fail (err, len, "robot %d already has a planned route waiting", robot);
    int path[TWIN_PATH_MAX];
    double dep[TWIN_PATH_MAX];
    int n = twin__floor_path_parse (self, nodes, path, err, len);
    if (n < 0 || s_departs_parse (depart, n, dep, err, len))
        return -1;
    for (int k = 1; k < n; k++)
        if (path[k] == path[k - 1] || (f->n_edges > 0 && f->edge_of[path[k - 1] * f->n_nodes + path[k]] < 0))
            return twin__fail (err, len, "no aisle from '%s' to '%s'", f->node_name[path[k - 1]],
                               f->node_name[path[k]]);
    return 0;
}

void
twin__robot_path (twin_t *self, int robot, const char *nodes, const char *depart)
{
    twin_robot_t *rb = &self->robot[robot];
    double dep[TWIN_PATH_MAX], now = des_now_s (self->des);
    int n = twin__floor_path_parse (self, nodes, rb->plan, NULL, 0);
    if (n < 0 || s_departs_parse (depart, n, dep, NULL, 0))
        return;
    for (int k = 0; k < n; k++)
        rb->plan_depart_s[k] = dep[k] < 0 ? -1 : now + dep[k];
    rb->plan_n = n;
    rb->queue[rb->q_n++] = (twin_task_t) { .kind = TWIN_TASK_GOTO, .station = -1, .part = -1,
                                           .component = -1, .t_created_s = now };
    twin__robots_dispatch (self);
}

int
twin__robot_queue_check (const twin_t *self, int robot, int slot, char *err, size_t len)
{
    if (robot < 0 || robot >= self->n_robots)
        return twin__fail (err, len, "unknown robot %d (the fleet has %d)", robot, self->n_robots);
    if (slot < 0 || slot >= self->robot[robot].q_n)
        return twin__fail (err, len, "robot %d has %d tasks queued; no slot %d", robot,
                           self->robot[robot].q_n, slot);
    return 0;
}

/* A cancelled plant task goes back to the pool in its place (oldest
 * first); a cancelled delivery by command lets the bin ask again. */
void
twin__robot_cancel (twin_t *self, int robot, int slot)
{
    twin_robot_t *rb = &self->robot[robot];
    twin_fleet_t *f = &self->fleet;
    twin_task_t t = rb->queue[slot];
    memmove (rb->queue + slot, rb->queue + slot + 1, (size_t) (rb->q_n - slot - 1) * sizeof t);
    rb->q_n--;
    if (t.kind == TWIN_TASK_GOTO)
        rb->plan_n = 0;
    if (t.id == 0) {
        if (t.kind == TWIN_TASK_DELIVER && t.part >= 0)
            self->part[t.part].bin_task_open = false;
        twin__robots_dispatch (self);
        return;
    }
    if (f->task_n == f->task_cap) {
        int cap = f->task_cap ? 2 * f->task_cap : 32;
        twin_task_t *tasks = realloc (f->tasks, (size_t) cap * sizeof *tasks);
        if (!tasks)
            return;
        f->tasks = tasks;
        f->task_cap = cap;
    }
    int k = 0;
    while (k < f->task_n && f->tasks[k].id < t.id)
        k++;
    memmove (f->tasks + k + 1, f->tasks + k, (size_t) (f->task_n - k) * sizeof t);
    f->tasks[k] = t;
    f->task_n++;
    twin__robots_dispatch (self);
}

void
twin__robot_prioritise (twin_t *self, int robot, int slot)
{
    twin_robot_t *rb = &self->robot[robot];
    twin_task_t t = rb->queue[slot];
    memmove (rb->queue + 1, rb->queue, (size_t) slot * sizeof t);
    rb->queue[0] = t;
}

/* ------------------------------------------------------------ hooks */

static const char *const s_robot_keys[] = {
    "mobile", "speed_mps", "inspect_min", "handle_min", "can_repair", "skills", "wear", "repair_by",
    /* robots (issue 11) */
    "travel", "congestion", "conflict_min", "deadlock_timeout_min", "battery_kwh", "wh_per_m", "work_kw",
    "charge_kw", "charge_below", "chargers", NULL
};
static const char *const s_floor_keys[] = { "nodes", "edges", "node_capacity", NULL };

static int
s_node_index (const twin_t *self, const char *name)
{
    if (!strcmp (name, "warehouse"))
        return 0;
    if (!strcmp (name, "dock"))
        return 1;
    int s = twin_station_index (self, name);
    if (s >= 0)
        return s + 2;
    /* Aisle junctions, chargers, parking: named in floor.nodes (issue 11). */
    for (int i = self->n_stations + 2; i < self->fleet.n_nodes; i++)
        if (!strcmp (self->fleet.node_name[i], name))
            return i;
    return -1;
}


static int
s_xy (const af_config_t *n, double *x, double *y)
{
    if (af_config_kind (n) != AF_CONFIG_SEQ || af_config_size (n) != 2)
        return af_config_fail (n, "a floor node is [x_m, y_m]");
    const char *a = af_config_text (af_config_at (n, 0, NULL));
    const char *b = af_config_text (af_config_at (n, 1, NULL));
    char *e1 = NULL, *e2 = NULL;
    *x = a ? strtod (a, &e1) : NAN;
    *y = b ? strtod (b, &e2) : NAN;
    if (!a || !b || *e1 || *e2 || !isfinite (*x) || !isfinite (*y))
        return af_config_fail (n, "a floor node is [x_m, y_m] with two numbers");
    return 0;
}

/* The nodes: warehouse, dock, the stations, then any other name floor.nodes
 * gives (junctions, chargers).  Sizes the per-node tables. */
static int
s_floor_nodes (twin_t *self, const af_config_t *root, const af_config_t *nodes)
{
    twin_fleet_t *f = &self->fleet;
    int n = self->n_stations + 2;
    size_t extra = nodes && af_config_kind (nodes) == AF_CONFIG_MAP ? af_config_size (nodes) : 0;
    f->node_name = calloc ((size_t) n + extra, sizeof *f->node_name);
    if (!f->node_name)
        return af_config_fail (root, "out of memory");
    snprintf (f->node_name[0], TWIN_NAME_MAX, "warehouse");
    snprintf (f->node_name[1], TWIN_NAME_MAX, "dock");
    for (int i = 0; i < self->n_stations; i++)
        snprintf (f->node_name[i + 2], TWIN_NAME_MAX, "%s", self->st[i].name);
    f->n_nodes = n;
    for (size_t k = 0; k < extra; k++) {
        const char *name;
        const af_config_t *v = af_config_at (nodes, k, &name);
        if (s_node_index (self, name) >= 0)
            continue;
        if (strlen (name) >= TWIN_NAME_MAX || strchr (name, ','))
            return af_config_fail (v, "floor node name '%s' too long or with a comma", name);
        snprintf (f->node_name[f->n_nodes++], TWIN_NAME_MAX, "%s", name);
    }
    n = f->n_nodes;
    f->dist_m = malloc ((size_t) n * n * sizeof (double));
    f->edge_of = malloc ((size_t) n * n * sizeof (int));
    f->next_hop = malloc ((size_t) n * n * sizeof (int));
    f->node_cap = calloc ((size_t) n, sizeof (int));
    if (!f->dist_m || !f->edge_of || !f->next_hop || !f->node_cap)
        return af_config_fail (root, "out of memory");
    for (int i = 0; i < n * n; i++) {
        f->edge_of[i] = -1;
        f->next_hop[i] = i % n;         /* the aisle grid: straight there */
    }
    return 0;
}

/* One aisle [a, b] or [a, b, width]: width 1 or 2 robots at once (absent:
 * no limit, as before issue 11). */
static int
s_floor_edge (twin_t *self, const af_config_t *e, const double *x, const double *y)
{
    twin_fleet_t *f = &self->fleet;
    size_t sz = af_config_kind (e) == AF_CONFIG_SEQ ? af_config_size (e) : 0;
    const char *a = sz == 2 || sz == 3 ? af_config_text (af_config_at (e, 0, NULL)) : NULL;
    const char *b = a ? af_config_text (af_config_at (e, 1, NULL)) : NULL;
    int ia = a ? s_node_index (self, a) : -1, ib = b ? s_node_index (self, b) : -1;
    if (ia < 0 || ib < 0 || ia == ib)
        return af_config_fail (e, "floor edge must be [node, node] or [node, node, width] with known nodes");
    int width = 0;
    if (sz == 3) {
        const char *w = af_config_text (af_config_at (e, 2, NULL));
        char *end = NULL;
        long v = w ? strtol (w, &end, 10) : 0;
        if (!w || *end || v < 1 || v > 2)
            return af_config_fail (e, "aisle width is 1 or 2 robots");
        width = (int) v;
    }
    int n = f->n_nodes, k = f->n_edges++;
    f->edges[k].a = ia;
    f->edges[k].b = ib;
    f->edges[k].len_m = hypot (x[ia] - x[ib], y[ia] - y[ib]);
    f->edges[k].width = width;
    f->edge_of[ia * n + ib] = f->edge_of[ib * n + ia] = k;
    f->dist_m[ia * n + ib] = f->dist_m[ib * n + ia] = f->edges[k].len_m;
    f->next_hop[ia * n + ib] = ib;
    f->next_hop[ib * n + ia] = ia;
    return 0;
}

static int
s_floor_caps (twin_t *self, const af_config_t *caps)
{
    if (!caps)
        return 0;
    if (af_config_kind (caps) != AF_CONFIG_MAP)
        return af_config_fail (caps, "'floor.node_capacity' maps node names to robots at once");
    for (size_t k = 0; k < af_config_size (caps); k++) {
        const char *name;
        const af_config_t *v = af_config_at (caps, k, &name);
        int i = s_node_index (self, name);
        const char *t = af_config_text (v);
        char *end = NULL;
        long c = t ? strtol (t, &end, 10) : -1;
        if (i < 0)
            return af_config_fail (v, "floor: unknown node '%s'", name);
        if (!t || *end || c < 0 || c > 255)
            return af_config_fail (v, "node capacity is 0 (no limit) … 255 robots");
        self->fleet.node_cap[i] = (int) c;
    }
    return 0;
}

/* Floor graph: node coordinates (defaults: stations 15 m apart along the
 * aisle, warehouse and dock behind) and optional aisle edges.  Without edges
 * robots move on a rectangular aisle grid (Manhattan distance). */
static int
s_load_floor (twin_t *self, const af_config_t *root)
{
    twin_fleet_t *f = &self->fleet;
    const af_config_t *floor = twin__cfg_map (root, "floor", s_floor_keys);
    const af_config_t *nodes = floor ? af_config_get (floor, "nodes") : NULL;
    if (nodes && af_config_kind (nodes) != AF_CONFIG_MAP)
        return af_config_fail (nodes, "'floor.nodes' maps node names to [x_m, y_m]");
    f->node_warehouse = 0;
    f->node_dock = 1;
    if (s_floor_nodes (self, root, nodes))
        return -1;
    int n = f->n_nodes;
    double *x = calloc ((size_t) n, sizeof (double)), *y = calloc ((size_t) n, sizeof (double));
    const af_config_t *edges = floor ? af_config_seq (floor, "edges") : NULL;
    f->edges = calloc (edges ? af_config_size (edges) + 1 : 1, sizeof *f->edges);
    int rc = -1;
    if (!x || !y || !f->edges) {
        af_config_fail (root, "out of memory");
        goto done;
    }
    x[0] = -20; y[0] = 10;
    x[1] = -20; y[1] = -10;
    for (int i = 0; i < self->n_stations; i++)
        x[i + 2] = 15.0 * i;
    for (size_t k = 0; nodes && k < af_config_size (nodes); k++) {
        const char *name;
        const af_config_t *v = af_config_at (nodes, k, &name);
        if (s_xy (v, &x[s_node_index (self, name)], &y[s_node_index (self, name)]))
            goto done;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            f->dist_m[i * n + j] = edges ? (i == j ? 0 : INFINITY)
                                            : fabs (x[i] - x[j]) + fabs (y[i] - y[j]);
    if (edges) {
        for (size_t k = 0; k < af_config_size (edges); k++)
            if (s_floor_edge (self, af_config_at (edges, k, NULL), x, y))
                goto done;
        for (int k = 0; k < n; k++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (f->dist_m[i * n + k] + f->dist_m[k * n + j] < f->dist_m[i * n + j]) {
                        f->dist_m[i * n + j] = f->dist_m[i * n + k] + f->dist_m[k * n + j];
                        f->next_hop[i * n + j] = f->next_hop[i * n + k];
                    }
        for (int i = 0; i < n; i++)
            if (!isfinite (f->dist_m[i]) ) {
                af_config_fail (edges, "floor graph is not connected: '%s' cannot be reached "
                                "from the warehouse", f->node_name[i]);
                goto done;
            }
    }
    rc = s_floor_caps (self, floor ? af_config_get (floor, "node_capacity") : NULL);
done:
    free (x);
    free (y);
    return rc;
}

/* robots.travel and its traffic and battery keys (issue 11); all default
 * to the fleet as it was: teleport-timed legs, no battery. */
static int
s_load_travel (twin_t *self, const af_config_t *r)
{
    twin_fleet_t *fl = &self->fleet;
    fl->travel = af_config_bool (r, "travel", false);
    fl->congestion = af_config_num (r, "congestion", 0, 0, 10);
    fl->conflict_s = af_config_num (r, "conflict_min", 0.5, 0, 60) * 60.0;
    fl->deadlock_timeout_s = af_config_num (r, "deadlock_timeout_min", 10, 0, 1440) * 60.0;
    fl->batt_kwh = af_config_num (r, "battery_kwh", 0, 0, 1000);
    fl->wh_per_m = af_config_num (r, "wh_per_m", 0, 0, 1000);
    fl->work_kw = af_config_num (r, "work_kw", 0, 0, 100);
    fl->charge_kw = af_config_num (r, "charge_kw", 0, 0, 1000);
    fl->charge_below = af_config_num (r, "charge_below", 0.2, 0, 1);
    const af_config_t *ch = r ? af_config_seq (r, "chargers") : NULL;
    size_t nch = ch ? af_config_size (ch) : 0;
    fl->chargers = calloc (nch + 1, sizeof (int));
    if (!fl->chargers)
        return af_config_fail (r, "out of memory");
    for (size_t k = 0; k < nch; k++) {
        const char *name = af_config_text (af_config_at (ch, k, NULL));
        int i = name ? s_node_index (self, name) : -1;
        if (i < 0)
            return af_config_fail (af_config_at (ch, k, NULL), "robots.chargers: unknown floor node");
        fl->chargers[fl->n_chargers++] = i;
    }
    if ((fl->batt_kwh > 0 || fl->n_chargers > 0) && !fl->travel)
        return af_config_fail (r, "a robot battery and chargers need robots.travel: true");
    if (fl->batt_kwh > 0 && (fl->n_chargers == 0 || fl->charge_kw <= 0))
        return af_config_fail (r, "robots.battery_kwh needs chargers and charge_kw");
    for (int k = 0; k < self->n_robots; k++) {
        self->robot[k].edge = S_ON_NODE;
        self->robot[k].soc_kwh = fl->batt_kwh;
    }
    return 0;
}

int
twin__fleet_load (twin_t *self, const af_config_t *root)
{
    twin_fleet_t *fl = &self->fleet;
    const af_config_t *r = twin__cfg_map (root, "robots", s_robot_keys);
    self->n_robots = (int) af_config_int (r, "mobile", 0, 0, 255);
    fl->robot_speed_mps = af_config_num (r, "speed_mps", 1.5, 0.05, 20);
    fl->robot_inspect_s = af_config_num (r, "inspect_min", 5, 0, 1e4) * 60.0;
    fl->robot_handle_s = af_config_num (r, "handle_min", 2, 0, 1e4) * 60.0;
    fl->robot_can_repair = af_config_bool (r, "can_repair", true);
    if (self->n_robots > 0) {
        self->robot = calloc ((size_t) self->n_robots, sizeof *self->robot);
        if (!self->robot)
            return af_config_fail (root, "out of memory");
    }
    if (s_load_floor (self, root))
        return -1;
    return s_load_travel (self, r);
}

void
twin__fleet_reset (twin_t *self)
{
    for (int r = 0; r < self->n_robots; r++)
        self->robot[r].busy_s = 0;
    self->fleet.collisions = self->fleet.deadlocks = self->fleet.travel_m = self->fleet.batt_empty = 0;
}

void
twin__fleet_destroy (twin_t *self)
{
    free (self->fleet.dist_m);
    free (self->fleet.tasks);
    free (self->fleet.pool_view);
    free (self->fleet.edges);
    free (self->fleet.edge_of);
    free (self->fleet.next_hop);
    free (self->fleet.node_cap);
    free (self->fleet.node_name);
    free (self->fleet.chargers);
}
