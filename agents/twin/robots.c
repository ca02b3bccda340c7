/*  twin robots — the mobile fleet: tasks, dispatch and travel on the floor graph.
 *
 *  Tasks (bin replenishment, inspection, repair or part swap) queue first
 *  come first served and go to the nearest idle robot (the DESIGN §5
 *  baseline rule); tasks a controller assigned to a robot by command come
 *  first for that robot.  Travel times come from the floor graph's shortest
 *  paths (the floor graph, loaded here).
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

static double
s_travel_s (const twin_t *self, int from, int to)
{
    return self->fleet.dist_m[from * self->fleet.n_nodes + to] / self->fleet.robot_speed_mps;
}

static void
s_robot_start (twin_t *self, int r, const twin_task_t *t)
{
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
        if (t->kind == TWIN_TASK_INSPECT)
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

void
twin__robots_dispatch (twin_t *self)
{
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

/* ------------------------------------------------------------ hooks */

static const char *const s_robot_keys[] = {
    "mobile", "speed_mps", "inspect_min", "handle_min", "can_repair", "skills", "wear", "repair_by", NULL
};
static const char *const s_floor_keys[] = { "nodes", "edges", NULL };

static int
s_node_index (const twin_t *self, const char *name)
{
    if (!strcmp (name, "warehouse"))
        return 0;
    if (!strcmp (name, "dock"))
        return 1;
    int s = twin_station_index (self, name);
    return s < 0 ? -1 : s + 2;
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


/* Floor graph: node coordinates (defaults: stations 15 m apart along the
 * aisle, warehouse and dock behind) and optional aisle edges.  Without edges
 * robots move on a rectangular aisle grid (Manhattan distance). */
static int
s_load_floor (twin_t *self, const af_config_t *root)
{
    int n = self->n_stations + 2;
    self->fleet.n_nodes = n;
    self->fleet.node_warehouse = 0;
    self->fleet.node_dock = 1;
    double *x = calloc ((size_t) n, sizeof (double)), *y = calloc ((size_t) n, sizeof (double));
    self->fleet.dist_m = malloc ((size_t) n * n * sizeof (double));
    int rc = -1;
    if (!x || !y || !self->fleet.dist_m) {
        af_config_fail (root, "out of memory");
        goto done;
    }
    x[0] = -20; y[0] = 10;
    x[1] = -20; y[1] = -10;
    for (int i = 0; i < self->n_stations; i++)
        x[i + 2] = 15.0 * i;
    const af_config_t *floor = twin__cfg_map (root, "floor", s_floor_keys);
    const af_config_t *nodes = floor ? af_config_get (floor, "nodes") : NULL;
    if (nodes) {
        if (af_config_kind (nodes) != AF_CONFIG_MAP) {
            af_config_fail (nodes, "'floor.nodes' maps node names to [x_m, y_m]");
            goto done;
        }
        for (size_t k = 0; k < af_config_size (nodes); k++) {
            const char *name;
            const af_config_t *v = af_config_at (nodes, k, &name);
            int idx = s_node_index (self, name);
            if (idx < 0) {
                af_config_fail (v, "floor: unknown node '%s' (warehouse, dock or a station)", name);
                goto done;
            }
            if (s_xy (v, &x[idx], &y[idx]))
                goto done;
        }
    }
    const af_config_t *edges = floor ? af_config_seq (floor, "edges") : NULL;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            self->fleet.dist_m[i * n + j] = edges ? (i == j ? 0 : INFINITY)
                                            : fabs (x[i] - x[j]) + fabs (y[i] - y[j]);
    if (edges) {
        for (size_t k = 0; k < af_config_size (edges); k++) {
            const af_config_t *e = af_config_at (edges, k, NULL);
            const char *a = af_config_kind (e) == AF_CONFIG_SEQ && af_config_size (e) == 2
                                ? af_config_text (af_config_at (e, 0, NULL)) : NULL;
            const char *b = a ? af_config_text (af_config_at (e, 1, NULL)) : NULL;
            int ia = a ? s_node_index (self, a) : -1, ib = b ? s_node_index (self, b) : -1;
            if (ia < 0 || ib < 0) {
                af_config_fail (e, "floor edge must be [node, node] with known nodes");
                goto done;
            }
            double d = hypot (x[ia] - x[ib], y[ia] - y[ib]);
            self->fleet.dist_m[ia * n + ib] = self->fleet.dist_m[ib * n + ia] = d;
        }
        for (int k = 0; k < n; k++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (self->fleet.dist_m[i * n + k] + self->fleet.dist_m[k * n + j] < self->fleet.dist_m[i * n + j])
                        self->fleet.dist_m[i * n + j] = self->fleet.dist_m[i * n + k] + self->fleet.dist_m[k * n + j];
        for (int i = 0; i < n; i++)
            if (!isfinite (self->fleet.dist_m[i]) ) {
                af_config_fail (edges, "floor graph is not connected: '%s' cannot be reached "
                                "from the warehouse", i < 2 ? "dock" : self->st[i - 2].name);
                goto done;
            }
    }
    rc = 0;
done:
    free (x);
    free (y);
    return rc;
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
    return s_load_floor (self, root);
}

void
twin__fleet_reset (twin_t *self)
{
    for (int r = 0; r < self->n_robots; r++)
        self->robot[r].busy_s = 0;
}

void
twin__fleet_destroy (twin_t *self)
{
    free (self->fleet.dist_m);
    free (self->fleet.tasks);
    free (self->fleet.pool_view);
}
