/*  twin flow — orders, their release, and units moving through the line.
 *
 *  Units flow from the release queue through stations along their variant's
 *  route.  Each station holds at most one unit; in front of it is a finite
 *  (or unbounded) buffer whose capacity also counts units on the conveyor
 *  towards it, so a full buffer blocks the upstream station after service
 *  (blocking-after-service, as in the finite-buffer line theory the tests
 *  compare against).  Failures interrupt work, which resumes after repair.
 *  Everything here is plain C on the event calendar; no bus code.
 */
#include "twin_int.h"
#include "af_log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_pull (twin_t *self, twin_station_t *s);
static void s_try_push (twin_t *self, twin_station_t *s);
static void s_demand (twin_t *self, twin_station_t *s);
static double s_next_gap (twin_t *self);
static bool s_profile_accepts (twin_t *self);

/* ------------------------------------------------------------ queues, units */

int
twin__queue_push (twin_queue_t *q, int item)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 16;
        int *items = malloc (cap * sizeof *items);
        if (!items)
            return -1;
        for (size_t i = 0; i < q->n; i++)
            items[i] = q->items[(q->head + i) % q->cap];
        free (q->items);
        q->items = items;
        q->head = 0;
        q->cap = cap;
    }
    q->items[(q->head + q->n++) % q->cap] = item;
    return 0;
}

static int
s_queue_pop (twin_queue_t *q)
{
    int item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return item;
}

/* Removes the I-th item (keeping order); used by EDD and batch release. */
static int
s_queue_take (twin_queue_t *q, size_t i)
{
    int item = q->items[(q->head + i) % q->cap];
    for (size_t k = i; k + 1 < q->n; k++)
        q->items[(q->head + k) % q->cap] = q->items[(q->head + k + 1) % q->cap];
    q->n--;
    return item;
}

static int
s_unit_new (twin_t *self, int variant)
{
    if (self->flow.n_free == 0) {
        int cap = self->flow.n_units_cap ? 2 * self->flow.n_units_cap : 256;
        twin_unit_t *units = realloc (self->flow.units, (size_t) cap * sizeof *units);
        int *free_units = realloc (self->flow.free_units, (size_t) cap * sizeof *free_units);
        if (units)
            self->flow.units = units;
        if (free_units)
            self->flow.free_units = free_units;
        if (!units || !free_units)
            return -1;
        for (int i = cap - 1; i >= self->flow.n_units_cap; i--) {
            self->flow.free_units[self->flow.n_free++] = i;
            self->flow.units[i].transit_to = -1;
            self->flow.units[i].lost = false;
        }
        self->flow.n_units_cap = cap;
    }
    int id = self->flow.free_units[--self->flow.n_free];
    twin_unit_t *u = &self->flow.units[id];
    twin_variant_t *v = &self->var[variant];
    u->variant = variant;
    u->route = v->active_route;
    u->step = 0;
    u->defects = 0;
    u->t_arrive_s = des_now_s (self->des);
    u->due_s = u->t_arrive_s + v->due_h * 3600.0;
    u->transit_to = -1;
    u->lost = false;
    twin__quality_unit_new (self, u);      /* quality (issue 11) */

    u->t_release_s = u->t_arrive_s;
    return id;
}

static void
s_unit_free (twin_t *self, int id)
{
    self->flow.units[id].q_serial = 0;     /* quality (issue 11): off the line */
    self->flow.free_units[self->flow.n_free++] = id;
}

static inline int
s_unit_station (const twin_t *self, const twin_unit_t *u, int step)
{
    const twin_variant_t *v = &self->var[u->variant];
    return step < v->route_len[u->route] ? v->route[u->route][step] : -1;
}

/* ------------------------------------------------------------ station state */

static double
s_power_kw (const twin_station_t *s)
{
    switch (s->state) {
    case TWIN_ST_BUSY:
        /* Drive power grows faster than speed (friction, acceleration). */
        return s->power_busy_kw * pow (s->speed, 1.5);
    case TWIN_ST_BLOCKED:
        return s->power_blocked_kw;
    case TWIN_ST_SETUP:
    case TWIN_ST_STARVED:
        return s->power_idle_kw;
    case TWIN_ST_STANDBY:
        return s->waking ? s->power_wake_kw : s->power_standby_kw;
    default:
        return 0.2 * s->power_idle_kw;      /* locked out: controls only */
    }
}

void
twin__station_flush (twin_t *self, twin_station_t *s)
{
    double now = des_now_s (self->des);
    double dt = now - s->t_state_s;
    if (dt <= 0)
        return;
    s->time_in_s[s->state] += dt;
    s->epoch_in_s[s->state] += dt;
    if (s->state == TWIN_ST_BUSY)
        s->epoch_busy_s += dt;
    s->energy_kwh += s_power_kw (s) * dt / 3600.0;
    s->t_state_s = now;
}

void
twin__station_set_state (twin_t *self, twin_station_t *s, twin_state_t state)
{
    if (s->state == state)
        return;
    twin__station_flush (self, s);
    s->state = state;
}

static inline uint64_t
s_arg (const twin_station_t *s)
{
    return ((uint64_t) s->gen << 32) | (uint32_t) s->index;
}

static twin_station_t *
s_from_arg (twin_t *self, uint64_t arg, bool check_gen)
{
    twin_station_t *s = &self->st[(uint32_t) arg];
    if (check_gen && (uint32_t) (arg >> 32) != s->gen)
        return NULL;
    return s;
}

static void s_process_done (des_t *des, void *ctx, uint64_t arg);
static void s_setup_done (des_t *des, void *ctx, uint64_t arg);

static void
s_begin_process (twin_t *self, twin_station_t *s)
{
    twin_unit_t *u = &self->flow.units[s->unit];
    const twin_dist_t *d = s->has_variant_process && s->has_variant_process[u->variant]
                               ? &s->process_by_variant[u->variant] : &s->process_s;
    double t = twin_dist_sample (d, &s->rng_proc) / s->speed;
    twin__station_set_state (self, s, TWIN_ST_BUSY);
    s->t_end_s = des_now_s (self->des) + t;
    des_schedule (self->des, t, s_process_done, self, s_arg (s));
}

static void
s_begin_unit (twin_t *self, twin_station_t *s)
{
    int variant = self->flow.units[s->unit].variant;
    if (s->has_setup && s->last_variant >= 0 && s->last_variant != variant) {
        double t = twin_dist_sample (&s->setup_s, &s->rng_proc);
        /* robots (issue 11): a robot that takes over the changeover is no manual intervention */
        double by_robot_s = s->changeover_by_robot ? twin__robot_changeover (self, s, t) : -1;
        if (by_robot_s >= 0)
            t = by_robot_s;
        else if (s->setup_manual && des_now_s (self->des) >= self->t_stats_s)
            self->manual++;     /* an operator changes the tooling over */
        s->last_variant = variant;
        twin__station_set_state (self, s, TWIN_ST_SETUP);
        s->t_end_s = des_now_s (self->des) + t;
        des_schedule (self->des, t, s_setup_done, self, s_arg (s));
        return;
    }
    s->last_variant = variant;
    s_begin_process (self, s);
}

static void
s_setup_done (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    twin_station_t *s = s_from_arg (self, arg, true);
    if (s)
        s_begin_process (self, s);
}

static void
s_process_done (des_t *des, void *ctx, uint64_t arg)
{
    twin_t *self = ctx;
    twin_station_t *s = s_from_arg (self, arg, true);
    if (!s)
        return;
    (void) des;
    twin__station_flush (self, s);
    s->processed++;
    s->holding_done = true;
    twin_unit_t *u = &self->flow.units[s->unit];
    if (s->defect_base_p > 0)
        twin__quality_unit (s, u);
    twin__quality_inline (self, s, u);     /* quality (issue 11) */
    int broke = -1;
    if (s->comp[0].present || s->comp[1].present || s->comp[2].present
        || s->comp[3].present || s->comp[4].present) {
        const twin_dist_t *d = s->has_variant_process && s->has_variant_process[u->variant]
                                   ? &s->process_by_variant[u->variant] : &s->process_s;
        broke = twin__health_wear (s, d->mean / s->speed, self->var[u->variant].load, self->site.wear_mult);
    }
    if (broke >= 0) {
        /* The unit is finished; the machine stops with it on board. */
        s->resume_state = TWIN_ST_BLOCKED;
        twin__station_breakdown (self, s, broke);
        return;
    }
    s_try_push (self, s);
}

/* ------------------------------------------------------------ stand-by (issue 11) */

/* Work waits for S: units in or on the way to its buffer, a station blocked
 * on it, or (at the start of a route) orders waiting or a saturated line. */
static bool
s_has_work (const twin_t *self, const twin_station_t *s)
{
    if (s->buf.n > 0 || s->in_transit > 0)
        return true;
    for (int k = 0; k < s->n_waiters; k++) {
        const twin_station_t *w = &self->st[s->waiters[k]];
        if (w->state == TWIN_ST_BLOCKED && w->blocked_on == s->index)
            return true;
    }
    if (!twin__is_route_start (self, s->index))
        return false;
    return self->flow.arrival_mode == TWIN_ARR_SATURATED || self->flow.release.n > 0;
}

/* An idle station in HOLD goes to stand-by; in AUTO only when no work waits.
 * Returns whether it did. */
static bool
s_standby_enter (twin_t *self, twin_station_t *s)
{
    if (s->standby_mode == TWIN_STANDBY_AUTO && s_has_work (self, s))
        return false;
    twin__station_set_state (self, s, TWIN_ST_STANDBY);
    s->waking = false;
    s->wake_gen++;              /* a wake-up cut short by a breakdown stays cancelled */
    return true;
}

static void
s_wake_done (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    twin_station_t *s = &self->st[(uint32_t) arg];
    if ((uint32_t) (arg >> 32) != s->wake_gen || s->state != TWIN_ST_STANDBY || !s->waking)
        return;                 /* cancelled, or a breakdown came first */
    twin__station_flush (self, s);
    s->waking = false;
    twin__station_set_state (self, s, TWIN_ST_STARVED);
    s_pull (self, s);
}

/* Leaving stand-by takes the station's wake-up time, at its wake-up power
 * (drives, heaters and laser sources come back to temperature). */
static void
s_wake (twin_t *self, twin_station_t *s)
{
    if (s->state != TWIN_ST_STANDBY || s->waking)
        return;
    twin__station_flush (self, s);
    s->waking = true;
    if (des_now_s (self->des) >= self->t_stats_s)
        s->wakeups++;
    double t = twin_dist_sample (&s->wake_s, &s->rng_wake);
    des_schedule (self->des, t > 0 ? t : 0, s_wake_done, self,
                  ((uint64_t) s->wake_gen << 32) | (uint32_t) s->index);
}

/* Work came for a station in stand-by: in AUTO it wakes by itself. */
static void
s_demand (twin_t *self, twin_station_t *s)
{
    if (s->standby_mode == TWIN_STANDBY_AUTO)
        s_wake (self, s);
}

void
twin__station_standby (twin_t *self, twin_station_t *s, twin_standby_t mode)
{
    s->standby_mode = mode;
    if (s->state == TWIN_ST_STANDBY) {
        if (mode == TWIN_STANDBY_WAKE || (mode == TWIN_STANDBY_AUTO && s_has_work (self, s)))
            s_wake (self, s);
        else if (mode == TWIN_STANDBY_HOLD && s->waking) {
            twin__station_flush (self, s);
            s->waking = false;  /* back to sleep: the wake-up so far is spent */
            s->wake_gen++;
        }
        return;
    }
    if (mode != TWIN_STANDBY_WAKE && s->state == TWIN_ST_STARVED && s->unit < 0)
        s_pull (self, s);
}

/* ------------------------------------------------------------ flow */

static bool
s_can_accept (const twin_station_t *j)
{
    int queued = (int) j->buf.n + j->in_transit;
    if (j->buffer_cap < 0 || queued < j->buffer_cap)
        return true;
    /* No buffer space, but an idle empty station takes the unit directly. */
    return queued == 0 && j->state == TWIN_ST_STARVED && j->unit < 0;
}

static void
s_arrive_at (twin_t *self, twin_station_t *j, int unit)
{
    twin__queue_push (&j->buf, unit);
    if (j->state == TWIN_ST_STARVED && j->unit < 0)
        s_pull (self, j);
    else if (j->state == TWIN_ST_STANDBY)
        s_demand (self, j);
}

static void
s_conveyor_done (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    twin_station_t *j = &self->st[(uint32_t) arg];
    int id = (int) (arg >> 32);
    self->flow.units[id].transit_to = -1;
    if (self->flow.units[id].lost) {
        s_unit_free (self, id);         /* taken off the model by a shadow report */
        return;
    }
    j->in_transit--;
    s_arrive_at (self, j, id);
}

/* Stations blocked on J are listed at J (ascending index, the order a scan
 * of all stations would visit them), so that freeing space costs the number
 * of stations waiting there, not the size of the plant.  Entries are added
 * when a station blocks and dropped lazily, once no visit of J's list is in
 * progress, when they no longer wait on J. */
static void
s_waiter_add (twin_station_t *j, twin_station_t *s)
{
    for (int k = 0; k < j->n_waiters; k++)
        if (j->waiters[k] == s->index)
            return;
    if (j->n_waiters == j->waiters_cap) {
        int cap = j->waiters_cap ? 2 * j->waiters_cap : 4;
        int *w = realloc (j->waiters, (size_t) cap * sizeof *w);
        if (!w) {
            AF_LOG_ONCE (AF_LOG_ERROR, "twin: out of memory listing stations blocked on '%s'", j->name);
            return;
        }
        j->waiters = w;
        j->waiters_cap = cap;
    }
    int k = j->n_waiters++;
    while (k > 0 && j->waiters[k - 1] > s->index) {
        j->waiters[k] = j->waiters[k - 1];
        k--;
    }
    j->waiters[k] = s->index;
}

static void
s_waiters_prune (twin_t *self, twin_station_t *j)
{
    int n = 0;
    for (int k = 0; k < j->n_waiters; k++) {
        const twin_station_t *s = &self->st[j->waiters[k]];
        if (s->state == TWIN_ST_BLOCKED && s->blocked_on == j->index)
            j->waiters[n++] = j->waiters[k];
    }
    j->n_waiters = n;
}

/* Space opened in front of J: let blocked stations push, then new orders in. */
static void
s_space_freed (twin_t *self, twin_station_t *j)
{
    j->waiters_visiting++;
    /* An insertion during the visit shifts later entries right, so an entry
     * may be seen twice (harmless: the test below is repeated), never skipped. */
    for (int k = 0; k < j->n_waiters && s_can_accept (j); k++) {
        twin_station_t *s = &self->st[j->waiters[k]];
        if (s->state == TWIN_ST_BLOCKED && s->blocked_on == j->index)
            s_try_push (self, s);
    }
    if (--j->waiters_visiting == 0)
        s_waiters_prune (self, j);
    if (self->flow.release.n)
        twin__try_release (self);
}

/* Brings the time-averages of WIP (from arrival) and line WIP (from release)
 * up to now; call before either count changes. */
static void
s_wip_flush (twin_t *self)
{
    double now = des_now_s (self->des), dt = now - self->flow.t_wip_s;
    self->flow.wip_area += self->flow.wip * dt;
    self->flow.wip_line_area += self->flow.wip_line * dt;
    self->flow.t_wip_s = now;
}

/* A unit leaves the last station: lead time from the order's arrival, cycle
 * time from its release, and against its due date either tardiness or the
 * time it waits as a finished good for its ship date (earliness has a cost:
 * the stock a make-to-order plant holds when it builds ahead). */
static void
s_ship_stats (twin_t *self, const twin_unit_t *u, double now)
{
    twin_flow_t *f = &self->flow;
    f->units_out++;
    f->sojourn_sum_s += now - u->t_arrive_s;
    f->cycle_sum_s += now - u->t_release_s;
    f->epoch_units++;
    if (now > u->due_s) {
        f->tardy++;
        f->tardiness_sum_s += now - u->due_s;
    }
    else
        f->fg_area_s += u->due_s - now;
}

static void
s_ship (twin_t *self, int id)
{
    twin_unit_t *u = &self->flow.units[id];
    double now = des_now_s (self->des);
    s_wip_flush (self);
    self->flow.wip--;
    self->flow.wip_line--;
    if (u->t_arrive_s >= self->t_stats_s) {
        s_ship_stats (self, u, now);
        if (twin__quality_ship (self, u))
            self->flow.good_out++;
    }
    s_unit_free (self, id);
    if (self->flow.wip_cap > 0)
        twin__try_release (self);       /* a CONWIP card came back */
}

static void
s_try_push (twin_t *self, twin_station_t *s)
{
    twin_unit_t *u = &self->flow.units[s->unit];
    int next = s_unit_station (self, u, u->step + 1);
    if (next >= 0) {
        twin_station_t *j = &self->st[next];
        if (!s_can_accept (j)) {
            twin__station_set_state (self, s, TWIN_ST_BLOCKED);
            s->blocked_on = next;
            s_waiter_add (j, s);
            if (j->state == TWIN_ST_STANDBY)
                s_demand (self, j);
            return;
        }
        u->step++;
        int id = s->unit;
        s->unit = -1;
        s->holding_done = false;
        twin__station_set_state (self, s, TWIN_ST_STARVED);
        if (s->conveyor_s > 0) {
            /* Belt drag slows the conveyor as the belt wears. */
            double t = s->conveyor_s * (1.0 + 0.5 * twin__wear_frac (s, TWIN_C_BELT));
            j->in_transit++;
            u->transit_to = next;
            des_schedule (self->des, t, s_conveyor_done, self,
                          ((uint64_t) id << 32) | (uint32_t) next);
        }
        else
            s_arrive_at (self, j, id);
    }
    else {
        int id = s->unit;
        s->unit = -1;
        s->holding_done = false;
        twin__station_set_state (self, s, TWIN_ST_STARVED);
        s_ship (self, id);
    }
    if (s->state == TWIN_ST_STARVED && s->unit < 0)
        s_pull (self, s);
}

bool
twin__is_route_start (const twin_t *self, int station)
{
    for (int v = 0; v < self->n_variants; v++)
        if (self->var[v].route[self->var[v].active_route][0] == station)
            return true;
    return false;
}

static int
s_pick_variant (twin_t *self)
{
    if (self->flow.seq_rule == TWIN_SEQ_BATCH && self->flow.batch_left > 0
        && self->flow.last_released_variant >= 0) {
        self->flow.batch_left--;
        return self->flow.last_released_variant;
    }
    double x = twin_rng_uniform (&self->flow.mix_rng), acc = 0;
    int v = self->n_variants - 1;
    for (int i = 0; i < self->n_variants; i++) {
        acc += self->var[i].mix;
        if (x < acc) {
            v = i;
            break;
        }
    }
    self->flow.batch_left = self->flow.batch_size - 1;
    return v;
}

/* Work in process counts every order from its arrival (release queue
 * included), so that Little's law holds for the sojourn time we report. */
static void
s_wip_add (twin_t *self)
{
    s_wip_flush (self);
    self->flow.wip++;
}

static void
s_enter_line (twin_t *self, int id)
{
    if (self->flow.arrival_mode == TWIN_ARR_SATURATED)
        s_wip_add (self);
    s_wip_flush (self);
    self->flow.wip_line++;
    self->flow.units[id].t_release_s = des_now_s (self->des);
    self->flow.last_released_variant = self->flow.units[id].variant;
}

/* The release or WIP cap (CONWIP): no order enters the line while the units
 * released and not yet shipped number WIP_CAP. */
static bool
s_cap_reached (const twin_t *self)
{
    return self->flow.wip_cap > 0 && self->flow.wip_line >= self->flow.wip_cap;
}

static void
s_pull (twin_t *self, twin_station_t *s)
{
    if (s->state != TWIN_ST_STARVED || s->unit >= 0)
        return;
    /* energy (issue 11): without power (an outage the battery and solar
     * cannot carry) no new unit starts; energy.c restarts the line. */
    if (self->energy.line_off)
        return;
    if (s->pm_pending) {
        twin__station_try_pm (self, s);
        return;
    }
    if (twin__quality_try_cal (self, s))   /* quality (issue 11) */
        return;
    if (s->standby_mode != TWIN_STANDBY_WAKE && s_standby_enter (self, s))
        return;
    if (s->buf.n > 0) {
        s->unit = s_queue_pop (&s->buf);
        s_begin_unit (self, s);
        s_space_freed (self, s);
        return;
    }
    if (s->buffer_cap == 0 && s->n_waiters > 0 && s->in_transit == 0) {
        /* No buffer: an upstream station blocked on this one hands its unit
         * over directly now that this one is idle (docs/twin.md). */
        s_space_freed (self, s);
        if (s->unit >= 0)
            return;
    }
    if (self->flow.arrival_mode != TWIN_ARR_SATURATED) {
        /* Room in front of a first station: waiting orders may come in. */
        if (self->flow.release.n > 0 && s->in_transit == 0)
            twin__try_release (self);
        return;
    }
    if (s->in_transit > 0 || !twin__is_route_start (self, s->index) || s_cap_reached (self))
        return;
    /* Saturated line: an order is always waiting, if the parts are there. */
    int variant = s_pick_variant (self);
    if (self->var[variant].route[self->var[variant].active_route][0] != s->index) {
        self->flow.batch_left = 0;
        return;
    }
    if (!twin__inventory_take_bom (self, variant)) {
        self->flow.batch_left = 0;
        return;
    }
    int id = s_unit_new (self, variant);
    if (id < 0)
        return;
    s_enter_line (self, id);
    s->unit = id;
    s_begin_unit (self, s);
}

/* ------------------------------------------------------------ release */

static size_t
s_pick_order (twin_t *self)
{
    twin_queue_t *q = &self->flow.release;
    size_t best = 0;
    if (self->flow.seq_rule == TWIN_SEQ_EDD) {
        for (size_t i = 1; i < q->n; i++)
            if (self->flow.units[q->items[(q->head + i) % q->cap]].due_s
                < self->flow.units[q->items[(q->head + best) % q->cap]].due_s)
                best = i;
    }
    else if (self->flow.seq_rule == TWIN_SEQ_BATCH && self->flow.batch_left > 0) {
        for (size_t i = 0; i < q->n; i++)
            if (self->flow.units[q->items[(q->head + i) % q->cap]].variant
                == self->flow.last_released_variant)
                return i;
    }
    return best;
}

void
twin__try_release (twin_t *self)
{
    if (self->flow.arrival_mode == TWIN_ARR_SATURATED) {
        for (int i = 0; i < self->n_stations; i++)
            if (self->st[i].state == TWIN_ST_STARVED && self->st[i].unit < 0)
                s_pull (self, &self->st[i]);
        return;
    }
    while (self->flow.release.n > 0 && !s_cap_reached (self)) {
        size_t i = s_pick_order (self);
        int id = self->flow.release.items[(self->flow.release.head + i) % self->flow.release.cap];
        twin_unit_t *u = &self->flow.units[id];
        u->route = self->var[u->variant].active_route;
        twin_station_t *j = &self->st[s_unit_station (self, u, 0)];
        if (!s_can_accept (j)) {
            if (j->state == TWIN_ST_STANDBY)
                s_demand (self, j);
            return;
        }
        if (!twin__inventory_take_bom (self, u->variant))
            return;
        s_queue_take (&self->flow.release, i);
        if (self->flow.seq_rule == TWIN_SEQ_BATCH)
            self->flow.batch_left = u->variant == self->flow.last_released_variant
                                   ? self->flow.batch_left - 1 : self->flow.batch_size - 1;
        s_enter_line (self, id);
        s_arrive_at (self, j, id);
    }
}

static void
s_arrival (des_t *des, void *ctx, uint64_t arg)
{
    (void) arg;
    twin_t *self = ctx;
    if (!s_profile_accepts (self)) {
        des_schedule (des, s_next_gap (self), s_arrival, self, 0);
        return;
    }
    double x = twin_rng_uniform (&self->flow.mix_rng), acc = 0;
    int v = self->n_variants - 1;
    if (self->flow.wip >= TWIN_MAX_WIP) {
        /* An overloaded plant would grow its work in process without bound: orders
         * beyond this are turned away (and counted) instead. */
        if (des_now_s (des) >= self->t_stats_s)
            self->flow.orders_lost++;
        AF_LOG_ONCE (AF_LOG_WARN, "twin: %d orders in the plant; turning orders away "
                     "(arrivals exceed capacity)", TWIN_MAX_WIP);
        des_schedule (des, s_next_gap (self), s_arrival, self, 0);
        return;
    }
    for (int i = 0; i < self->n_variants; i++) {
        acc += self->var[i].mix;
        if (x < acc) {
            v = i;
            break;
        }
    }
    int id = s_unit_new (self, v);
    if (des_now_s (des) >= self->t_stats_s)
        self->flow.arrivals++;
    self->flow.epoch_arrivals++;
    if (id >= 0) {
        s_wip_add (self);
        twin__queue_push (&self->flow.release, id);
        twin__try_release (self);
    }
    des_schedule (des, s_next_gap (self), s_arrival, self, 0);
}

void
twin__station_resume (twin_t *self, twin_station_t *s)
{
    double now = des_now_s (self->des);
    if (s->unit >= 0 && !s->holding_done
        && (s->resume_state == TWIN_ST_BUSY || s->resume_state == TWIN_ST_SETUP)) {
        twin__station_set_state (self, s, s->resume_state);
        s->t_end_s = now + s->remaining_s;
        des_schedule (self->des, s->remaining_s,
                      s->resume_state == TWIN_ST_BUSY ? s_process_done : s_setup_done,
                      self, s_arg (s));
    }
    else if (s->unit >= 0) {
        twin__station_set_state (self, s, TWIN_ST_BLOCKED);
        s_try_push (self, s);
    }
    else {
        twin__station_set_state (self, s, TWIN_ST_STARVED);
        s_pull (self, s);
    }
}

/* Shadow mode: make station S's buffer hold LEVEL units (units the plant
 * does not have leave the model; missing ones appear, of the variant the
 * station last worked on).  Returns the change. */
int
twin__buffer_set (twin_t *self, twin_station_t *s, int level)
{
    int change = 0;
    /* Space made here lets a station the model has blocked on this one push
     * its unit in at once; the plant reported no such unit, so it goes too
     * (at most once per station upstream). */
    for (int round = 0; round <= self->n_stations; round++) {
        bool removed = false;
        while ((int) s->buf.n + s->in_transit > level) {
            if (s->buf.n > 0) {
                int id = s->buf.items[(s->buf.head + s->buf.n - 1) % s->buf.cap];
                s->buf.n--;
                s_unit_free (self, id);
            }
            else {
                /* The rest is on the conveyor: the latest unit there leaves
                 * the model when its transit ends (its id stays taken until
                 * then, so it cannot be reused meanwhile). */
                int last = -1;
                for (int id = 0; id < self->flow.n_units_cap; id++)
                    if (self->flow.units[id].transit_to == s->index && !self->flow.units[id].lost)
                        last = id;
                if (last < 0)
                    break;
                self->flow.units[last].lost = true;
                s->in_transit--;
            }
            s_wip_flush (self);
            self->flow.wip--;
            self->flow.wip_line--;
            change--;
            removed = true;
        }
        if (!removed)
            break;
        s_space_freed (self, s);
    }
    while ((int) s->buf.n + s->in_transit < level) {
        int variant = s->last_variant >= 0 ? s->last_variant : 0;
        int id = s_unit_new (self, variant);
        if (id < 0)
            break;
        twin_unit_t *u = &self->flow.units[id];
        /* Put it on its route at this station, if the route has it. */
        const twin_variant_t *v = &self->var[variant];
        for (int k = 0; k < v->route_len[u->route]; k++)
            if (v->route[u->route][k] == s->index)
                u->step = k;
        s_wip_add (self);
        s_wip_flush (self);
        self->flow.wip_line++;
        s_arrive_at (self, s, id);
        change++;
    }
    return change;
}

/* ------------------------------------------------------------ flow commands (issue 11) */

void
twin__flow_set_wip_cap (twin_t *self, int wip_cap)
{
    self->flow.wip_cap = wip_cap;
    twin__try_release (self);           /* a higher cap lets orders in now */
}

void
twin__flow_set_buffer (twin_t *self, twin_station_t *s, int capacity)
{
    /* A smaller buffer keeps the units it holds; it takes no more until
     * they fall below the new capacity. */
    s->buffer_cap = capacity;
    s_space_freed (self, s);
}

/* OUT = SRC with every value times F (empirical arrays copied). */
static int
s_dist_scaled (twin_dist_t *out, const twin_dist_t *src, double f)
{
    twin_dist_t d = *src;
    d.values = d.cum = NULL;
    if (src->kind == TWIN_DIST_EMPIRICAL) {
        d.values = malloc (src->n * sizeof *d.values);
        d.cum = src->cum ? malloc (src->n * sizeof *d.cum) : NULL;
        if (!d.values || (src->cum && !d.cum)) {
            free (d.values);
            free (d.cum);
            return -1;
        }
        for (size_t i = 0; i < src->n; i++)
            d.values[i] = src->values[i] * f;
        if (src->cum)
            memcpy (d.cum, src->cum, src->n * sizeof *d.cum);
    }
    switch (src->kind) {
    case TWIN_DIST_LOGNORMAL: d.a += log (f); break;
    case TWIN_DIST_GAMMA:
    case TWIN_DIST_WEIBULL: d.b *= f; break;
    case TWIN_DIST_NORMAL: d.a *= f; d.b *= f; break;
    case TWIN_DIST_EMPIRICAL: break;
    default: d.a *= f; break;       /* const, exponential */
    }
    d.mean = src->mean * f;
    *out = d;
    return 0;
}

/* Design change: VARIANT's processing time at S gets mean MEAN_S at
 * nameplate, its shape (spread relative to the mean) kept.  Units already
 * in process keep the time they drew. */
int
twin__flow_design (twin_t *self, twin_station_t *s, int variant, double mean_s)
{
    if (!s->process_by_variant) {
        s->process_by_variant = calloc ((size_t) self->n_variants, sizeof (twin_dist_t));
        s->has_variant_process = calloc ((size_t) self->n_variants, sizeof (bool));
        if (!s->process_by_variant || !s->has_variant_process) {
            free (s->process_by_variant);
            free (s->has_variant_process);
            s->process_by_variant = NULL;
            s->has_variant_process = NULL;
            return -1;
        }
    }
    const twin_dist_t *cur = s->has_variant_process[variant] ? &s->process_by_variant[variant] : &s->process_s;
    twin_dist_t d;
    if (s_dist_scaled (&d, cur, mean_s / cur->mean))
        return -1;
    if (s->has_variant_process[variant])
        twin_dist_free (&s->process_by_variant[variant]);
    s->process_by_variant[variant] = d;
    s->has_variant_process[variant] = true;
    return 0;
}

/* VARIANT's share of new orders becomes MIX; the others keep their
 * proportions in the rest.  A variant with share 0 is not offered: setting
 * one launches it. */
void
twin__flow_set_mix (twin_t *self, int variant, double mix)
{
    double others = 1.0 - self->var[variant].mix;
    for (int v = 0; v < self->n_variants; v++)
        if (v != variant)
            self->var[v].mix = others > 0 ? self->var[v].mix * (1.0 - mix) / others : 0;
    self->var[variant].mix = mix;
}

/* ------------------------------------------------------------ observation (issue 11) */

void
twin__flow_observe (twin_t *self)
{
    twin_obs_t *o = &self->view.obs;
    const twin_flow_t *f = &self->flow;
    double now = des_now_s (self->des);
    for (int i = 0; i < self->n_stations; i++) {
        const twin_station_t *s = &self->st[i];
        twin_station_obs_t *so = &self->view.st_obs[i];
        so->buffer_max = s->buffer_max;
        memcpy (so->share, s->epoch_share, sizeof so->share);
        int v = s->unit >= 0 ? f->units[s->unit].variant : s->last_variant;
        so->variant = v >= 0 ? self->var[v].name : NULL;
        so->standby_mode = s->standby_mode;
        so->wakeups = s->wakeups;
    }
    o->arrivals_epoch = (int) f->arrivals_last_epoch;
    o->wip_line = (int) f->wip_line;
    o->wip_cap = f->wip_cap;
    o->arrival_rate_per_h = f->arrival_mode == TWIN_ARR_POISSON ? f->arrival_rate_per_h : 0;
    o->orders_late = 0;
    o->oldest_wait_min = o->next_due_h = 0;
    double oldest = now, due = INFINITY;
    for (size_t k = 0; k < f->release.n; k++) {
        const twin_unit_t *u = &f->units[f->release.items[(f->release.head + k) % f->release.cap]];
        oldest = fmin (oldest, u->t_arrive_s);
        due = fmin (due, u->due_s);
        o->orders_late += u->due_s < now;
    }
    if (f->release.n > 0) {
        o->oldest_wait_min = (now - oldest) / 60.0;
        o->next_due_h = (due - now) / 3600.0;
    }
}

void
twin__flow_telemetry (const twin_t *self, void (*fn) (void *, const twin_sample_t *), void *ctx)
{
    const twin_obs_t *o = &self->view.obs;
    twin_sample_t t;
    memset (&t, 0, sizeof t);
    snprintf (t.topic, sizeof t.topic, "orders");
    t.names[t.n] = "waiting", t.values[t.n++] = o->release_queue;
    t.names[t.n] = "arrivals_epoch", t.values[t.n++] = o->arrivals_epoch;
    t.names[t.n] = "rate_per_h", t.values[t.n++] = o->arrival_rate_per_h;
    t.names[t.n] = "wip_line", t.values[t.n++] = o->wip_line;
    t.names[t.n] = "wip_cap", t.values[t.n++] = o->wip_cap;
    t.names[t.n] = "late_waiting", t.values[t.n++] = o->orders_late;
    t.names[t.n] = "oldest_wait_min", t.values[t.n++] = o->oldest_wait_min;
    t.names[t.n] = "next_due_h", t.values[t.n++] = o->next_due_h;
    fn (ctx, &t);
    /* The station topic's metric list is full: the flow figures get their own. */
    static const char *const share_names[TWIN_ST_COUNT] = {
        "starved_share", "busy_share", "blocked_share", "down_share", "maint_share", "setup_share",
        "standby_share"
    };
    _Static_assert (TWIN_ST_COUNT + 3 <= TWIN_SAMPLE_MAX, "flow.<station> holds the shares and three more");
    for (int i = 0; i < o->n_stations; i++) {
        const twin_station_obs_t *s = &o->stations[i];
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "flow.%s", s->name);
        for (int k = 0; k < TWIN_ST_COUNT; k++)
            t.names[t.n] = share_names[k], t.values[t.n++] = s->share[k];
        t.names[t.n] = "buffer_cap", t.values[t.n++] = s->buffer_cap;
        t.names[t.n] = "variant", t.values[t.n++] = s->variant ? twin_variant_index (self, s->variant) : -1;
        t.names[t.n] = "standby_mode", t.values[t.n++] = s->standby_mode;
        fn (ctx, &t);
    }
}

/* ------------------------------------------------------------ hooks */

static const char *const s_arrival_keys[] = { "mode", "rate_per_h", "sequence", "batch_size",
                                              "day_profile", NULL };

/* arrivals.day_profile (issue 11): 24 relative hourly order rates, scaled
 * to mean 1 so that rate_per_h stays the daily mean.  Poisson only. */
static int
s_load_profile (twin_t *self, const af_config_t *a)
{
    twin_flow_t *f = &self->flow;
    const af_config_t *seq = af_config_get (a, "day_profile");
    if (!seq)
        return 0;
    if (f->arrival_mode != TWIN_ARR_POISSON || af_config_size (seq) != 24)
        return af_config_fail (seq, "arrivals.day_profile needs mode: poisson and 24 hourly rates");
    double sum = 0;
    for (size_t h = 0; h < 24; h++) {
        const char *text = af_config_text (af_config_at (seq, h, NULL));
        char *end = NULL;
        double x = text ? strtod (text, &end) : -1;
        if (!text || end == text || *end || !(x >= 0 && x <= 1e6))
            return af_config_fail (af_config_at (seq, h, NULL),
                                   "arrivals.day_profile: hour %zu must be a number 0 .. 1e6", h);
        f->day_profile[h] = x;
        sum += x;
    }
    if (!(sum > 0))
        return af_config_fail (seq, "arrivals.day_profile: all hours are 0");
    for (int h = 0; h < 24; h++) {
        f->day_profile[h] *= 24.0 / sum;
        f->profile_max = fmax (f->profile_max, f->day_profile[h]);
    }
    twin_rng_seed (&f->profile_rng, self->seed, "arrivals/profile");
    return 0;
}

/* Time to the next (candidate) arrival.  With a day profile, candidates
 * come at the peak rate and are thinned (Lewis & Shedler, 1979). */
static double
s_next_gap (twin_t *self)
{
    double peak = self->flow.profile_max > 0 ? self->flow.profile_max : 1.0;
    return twin_rng_exponential (&self->flow.arr_rng, 3600.0 / (self->flow.arrival_rate_per_h * peak));
}

/* A candidate arrival is an order with probability rate(now) / peak. */
static bool
s_profile_accepts (twin_t *self)
{
    const twin_flow_t *f = &self->flow;
    if (f->profile_max <= 0)
        return true;
    double day = self->site.day_s > 0 ? self->site.day_s : 86400.0;
    int h = (int) (fmod (des_now_s (self->des), day) / day * 24.0);
    h = h < 0 ? 0 : h > 23 ? 23 : h;
    return twin_rng_uniform (&self->flow.profile_rng) * f->profile_max < f->day_profile[h];
}

int
twin__flow_load (twin_t *self, const af_config_t *root)
{
    twin_flow_t *f = &self->flow;
    const af_config_t *a = twin__cfg_map (root, "arrivals", s_arrival_keys);
    const char *mode = af_config_str (a, "mode", "saturated");
    if (!strcmp (mode, "poisson")) {
        f->arrival_mode = TWIN_ARR_POISSON;
        f->arrival_rate_per_h = af_config_num_req (a, "rate_per_h", 1e-9, 1e12);
    }
    else if (!strcmp (mode, "saturated"))
        f->arrival_mode = TWIN_ARR_SATURATED;
    else
        return af_config_fail (af_config_get (a, "mode"),
                               "arrivals.mode must be 'poisson' or 'saturated', got '%s'", mode);
    const char *sq = af_config_str (a, "sequence", "fifo");
    f->seq_rule = !strcmp (sq, "edd") ? TWIN_SEQ_EDD : !strcmp (sq, "batch") ? TWIN_SEQ_BATCH : TWIN_SEQ_FIFO;
    if (strcmp (sq, "fifo") && strcmp (sq, "edd") && strcmp (sq, "batch"))
        return af_config_fail (af_config_get (a, "sequence"),
                               "arrivals.sequence must be fifo, edd or batch, got '%s'", sq);
    f->batch_size = (int) af_config_int (a, "batch_size", 1, 1, 100000);
    if (s_load_profile (self, a))
        return -1;
    f->seq_rule_cfg = f->seq_rule;
    f->batch_size_cfg = f->batch_size;
    f->last_released_variant = -1;
    twin_rng_seed (&f->arr_rng, self->seed, "arrivals");
    twin_rng_seed (&f->mix_rng, self->seed, "arrivals/mix");
    for (int i = 0; i < self->n_stations; i++) {
        self->st[i].state = TWIN_ST_STARVED;
        self->st[i].unit = -1;
        self->st[i].last_variant = -1;
        char stream[TWIN_NAME_MAX + 16];
        snprintf (stream, sizeof stream, "%s/standby", self->st[i].name);
        twin_rng_seed (&self->st[i].rng_wake, self->seed, stream);
        self->st[i].standby_mode = TWIN_STANDBY_WAKE;
    }
    return af_config_error (root) ? -1 : 0;
}

/* The first arrival, or a saturated line's first releases. */
int
twin__flow_start (twin_t *self)
{
    if (self->flow.arrival_mode == TWIN_ARR_POISSON)
        return des_schedule (self->des, s_next_gap (self), s_arrival, self, 0);
    twin__try_release (self);
    return 0;
}

void
twin__flow_epoch (twin_t *self, double dt_s)
{
    self->flow.epoch_units = 0;
    self->flow.arrivals_last_epoch = self->flow.epoch_arrivals;
    self->flow.epoch_arrivals = 0;
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        twin__station_flush (self, s);
        for (int k = 0; k < TWIN_ST_COUNT; k++) {
            s->epoch_share[k] = dt_s > 0 ? s->epoch_in_s[k] / dt_s : 0;
            s->epoch_in_s[k] = 0;
        }
        /* Maintenance ordered for a station in stand-by starts now, in the
         * idle window; afterwards the station goes back to stand-by. */
        if (s->pm_pending && s->state == TWIN_ST_STANDBY && !s->waking) {
            twin__station_set_state (self, s, TWIN_ST_STARVED);
            twin__station_try_pm (self, s);
        }
    }
}

void
twin__flow_reset (twin_t *self)
{
    double now = des_now_s (self->des);
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        twin__station_flush (self, s);
        memset (s->time_in_s, 0, sizeof s->time_in_s);
        s->energy_kwh = 0;
        s->processed = 0;
        s->wakeups = 0;
    }
    twin_flow_t *f = &self->flow;
    f->units_out = f->good_out = f->sojourn_sum_s = f->orders_lost = 0;
    f->cycle_sum_s = f->tardy = f->tardiness_sum_s = f->fg_area_s = f->arrivals = 0;
    f->wip_area = f->wip_line_area = 0;
    f->t_wip_s = now;
}

void
twin__flow_destroy (twin_t *self)
{
    for (int i = 0; i < self->n_stations; i++)
        twin_dist_free (&self->st[i].wake_s);
    free (self->flow.release.items);
    free (self->flow.units);
    free (self->flow.free_units);
}
