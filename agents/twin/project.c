/*  twin project — construction work scheduled like a project, done by rovers
 *  that wear, through an airlock they share.
 *
 *  The `project:` section lists tasks with a duration, an optional robot
 *  skill, whether the work is outside, the parts it uses, and its
 *  predecessors (a DAG, checked at load).  Whenever a robot or a task comes
 *  free, ready tasks are list-scheduled: highest longest-remaining-path first
 *  (rule `lrp`, the classic critical-path priority) or in config order
 *  (`fifo`), each to the lowest-numbered idle robot with the skill.  Outside
 *  work takes an airlock passage out and one back; the airlock holds at most
 *  `capacity` robots and the others queue for it.  Rovers wear with their
 *  work hours (faster in a dust storm) and break when the wear reaches their
 *  life; another robot or a tele-operated repair brings them back.
 */
#include "twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { S_PH_IDLE, S_PH_LOCK_WAIT_OUT, S_PH_LOCK_OUT, S_PH_WORK, S_PH_LOCK_WAIT_IN, S_PH_LOCK_IN, S_PH_FIX };
enum { S_EV_AIRLOCK, S_EV_WORK, S_EV_REPAIRED, S_EV_FIX, S_EV_BREAK };

static const char *const s_project_keys[] = { "rule", "airlock", "tasks", NULL };
static const char *const s_airlock_keys[] = { "capacity", "cycle_min", NULL };
static const char *const s_task_keys[] = { "name", "duration_h", "skill", "outside", "after", "parts", NULL };
static const char *const s_rover_wear_keys[] = {
    "rate_per_h", "life_cv", "repair_min", "service_min", "service_every_h", NULL
};

/* ------------------------------------------------------------ config */

static int
s_skill (twin_t *self, const af_config_t *at, const char *name, bool add)
{
    for (int i = 0; i < self->project.n_skills; i++)
        if (!strcmp (self->project.skill_names[i], name))
            return i;
    if (!add)
        return af_config_fail (at, "unknown skill '%s': no robot in robots.skills has it", name);
    if (self->project.n_skills == TWIN_MAX_SKILLS)
        return af_config_fail (at, "at most %d skills", TWIN_MAX_SKILLS);
    if (!*name || strlen (name) >= TWIN_NAME_MAX)
        return af_config_fail (at, "skill name '%s' must be 1..%d characters", name, TWIN_NAME_MAX - 1);
    strcpy (self->project.skill_names[self->project.n_skills], name);
    return self->project.n_skills++;
}

static int
s_load_rovers (twin_t *self, const af_config_t *r)
{
    const af_config_t *sk = r ? af_config_get (r, "skills") : NULL;
    for (int i = 0; i < self->n_robots; i++) {
        self->robot[i].skills = 0xffffffffu;    /* no skills listed: every robot can do anything */
        self->robot[i].ptask = -1;
    }
    if (sk) {
        if (af_config_kind (sk) != AF_CONFIG_SEQ || (int) af_config_size (sk) != self->n_robots)
            return af_config_fail (sk, "robots.skills needs one list of skills per mobile robot (%d)",
                                   self->n_robots);
        for (int i = 0; i < self->n_robots; i++) {
            const af_config_t *l = af_config_at (sk, (size_t) i, NULL);
            if (af_config_kind (l) != AF_CONFIG_SEQ)
                return af_config_fail (l, "robot %d: skills are a list of names, e.g. [build, haul]", i);
            self->robot[i].skills = 0;
            for (size_t k = 0; k < af_config_size (l); k++) {
                const af_config_t *e = af_config_at (l, k, NULL);
                const char *name = af_config_text (e);
                int s = name ? s_skill (self, e, name, true) : af_config_fail (e, "a skill is a name");
                if (s < 0)
                    return -1;
                self->robot[i].skills |= 1u << s;
            }
        }
    }
    const af_config_t *w = r ? af_config_get (r, "wear") : NULL;
    if (w && af_config_kind (w) != AF_CONFIG_MAP)
        return af_config_fail (w, "robots.wear must be {rate_per_h, life_cv, repair_min}");
    if (w)
        af_config_known_keys (w, s_rover_wear_keys);
    self->project.rover_rate_per_h = af_config_num (w, "rate_per_h", 0, 0, 10);
    self->project.rover_life_cv = af_config_num (w, "life_cv", 0.25, 0, 2);
    const af_config_t *rm = w ? af_config_get (w, "repair_min") : NULL;
    if (rm ? twin_dist_parse (&self->project.rover_repair_s, rm, 60.0) : (twin_dist_const (&self->project.rover_repair_s, 120 * 60.0), 0))
        return -1;
    const af_config_t *sm = w ? af_config_get (w, "service_min") : NULL;
    if (sm ? twin_dist_parse (&self->project.rover_service_s, sm, 60.0) : (twin_dist_const (&self->project.rover_service_s, 60 * 60.0), 0))
        return -1;
    self->project.rover_service_every_s = af_config_num (w, "service_every_h", 0, 0, 1e6) * 3600.0;
    const char *by = af_config_str (r, "repair_by", "teleop");
    if (!strcmp (by, "robot"))
        self->project.rover_repair_by_robot = true;
    else if (strcmp (by, "teleop"))
        return af_config_fail (af_config_get (r, "repair_by"),
                               "robots.repair_by must be 'teleop' or 'robot', got '%s'", by);
    twin_rng_seed (&self->project.rover_rng, self->seed, "rovers");
    return 0;
}

/* Kahn's algorithm on the precedence graph; the longest remaining path of
 * each task follows in reverse topological order. */
static int
s_check_dag (twin_t *self, const af_config_t *tasks)
{
    int n = self->project.n_ptasks;
    if (n <= 0)
        return 0;
    int *order = calloc ((size_t) n, sizeof (int));
    int *left = calloc ((size_t) n, sizeof (int));
    if (!order || !left) {
        free (order);
        free (left);
        return af_config_fail (tasks, "out of memory");
    }
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++) {
        left[i] = self->project.ptask[i].n_pred;
        if (left[i] == 0)
            order[tail++] = i;
    }
    while (head < tail) {
        int a = order[head++];
        for (int k = 0; k < self->project.ptask[a].n_succ; k++)
            if (--left[self->project.ptask[a].succ[k]] == 0)
                order[tail++] = self->project.ptask[a].succ[k];
    }
    int rc = 0;
    if (tail < n) {
        /* Every task left over is on a cycle or behind one: name the first
         * that is on one (its predecessors are left over too). */
        int bad = 0;
        for (int i = 0; i < n; i++)
            if (left[i] > 0) {
                bad = i;
                break;
            }
        const af_config_t *m = af_config_at (tasks, (size_t) bad, NULL);
        const af_config_t *after = af_config_get (m, "after");
        rc = af_config_fail (after ? after : m, "project: task '%s' depends on itself through "
                             "its predecessors (a cycle in 'after')", self->project.ptask_pub[bad].name);
    }
    else
        for (int i = n - 1; i >= 0; i--) {
            twin_ptask_t *t = &self->project.ptask[order[i]];
            double tail_s = 0;
            for (int k = 0; k < t->n_succ; k++)
                tail_s = fmax (tail_s, self->project.ptask[t->succ[k]].lrp_s);
            t->lrp_s = t->dur_s.mean + tail_s;
        }
    free (order);
    free (left);
    return rc;
}

static int
s_name_copy (char *dst, const af_config_t *m)
{
    const char *name = af_config_str_req (m, "name");
    if (!name)
        return -1;
    if (!*name || strlen (name) >= TWIN_NAME_MAX)
        return af_config_fail (m, "project task name '%s' must be 1..%d characters", name,
                               TWIN_NAME_MAX - 1);
    strcpy (dst, name);
    return 0;
}

static int
s_load_task (twin_t *self, int i, const af_config_t *m, bool any_skill)
{
    twin_ptask_t *t = &self->project.ptask[i];
    twin_project_task_t *pub = &self->project.ptask_pub[i];
    char *name = malloc (TWIN_NAME_MAX);
    if (!name)
        return af_config_fail (m, "out of memory");
    pub->name = name;
    pub->t_start_s = pub->t_end_s = -1;
    pub->robot = -1;
    if (af_config_kind (m) != AF_CONFIG_MAP)
        return af_config_fail (m, "a project task is a mapping with 'name' and 'duration_h'");
    af_config_known_keys (m, s_task_keys);
    if (s_name_copy (name, m))
        return -1;
    for (int k = 0; k < i; k++)
        if (!strcmp (self->project.ptask_pub[k].name, name))
            return af_config_fail (m, "project task '%s' is defined twice", name);
    const af_config_t *d = af_config_get (m, "duration_h");
    if (!d)
        return af_config_fail (m, "project task '%s' needs 'duration_h'", name);
    if (twin_dist_parse (&t->dur_s, d, 3600.0))
        return -1;
    if (!(t->dur_s.mean > 0))
        return af_config_fail (d, "project task '%s': duration must be > 0", name);
    t->skill = -1;
    const char *skill = af_config_str (m, "skill", NULL);
    if (skill) {
        t->skill = s_skill (self, af_config_get (m, "skill"), skill, any_skill);
        if (t->skill < 0)
            return -1;
        pub->skill = self->project.skill_names[t->skill];
    }
    t->outside = af_config_bool (m, "outside", false);
    pub->outside = t->outside;
    const af_config_t *parts = af_config_get (m, "parts");
    if (parts) {
        if (af_config_kind (parts) != AF_CONFIG_MAP || af_config_size (parts) > TWIN_MAX_BOM)
            return af_config_fail (parts, "task '%s': 'parts' maps at most %d part names to quantities",
                                   name, TWIN_MAX_BOM);
        for (size_t k = 0; k < af_config_size (parts); k++) {
            const char *pn;
            const af_config_t *q = af_config_at (parts, k, &pn);
            int p = twin_part_index (self, pn);
            if (p < 0)
                return af_config_fail (q, "task '%s': unknown part '%s'", name, pn);
            t->part[t->n_part] = p;
            t->qty[t->n_part] = af_config_num_req (parts, pn, 0, 1e9);
            t->n_part++;
        }
    }
    return af_config_error (m) ? -1 : 0;
}

/* Each task's predecessors ('after', by name, once every name is known),
 * and the successor lists they imply. */
static int
s_load_predecessors (twin_t *self, const af_config_t *tasks)
{
    for (int i = 0; i < self->project.n_ptasks; i++) {
        const af_config_t *m = af_config_at (tasks, (size_t) i, NULL);
        const af_config_t *after = af_config_get (m, "after");
        if (!after)
            continue;
        if (af_config_kind (after) != AF_CONFIG_SEQ)
            return af_config_fail (after, "task '%s': 'after' is a list of task names", self->project.ptask_pub[i].name);
        twin_ptask_t *t = &self->project.ptask[i];
        t->pred = calloc (af_config_size (after) + 1, sizeof (int));
        if (!t->pred)
            return af_config_fail (after, "out of memory");
        for (size_t k = 0; k < af_config_size (after); k++) {
            const af_config_t *e = af_config_at (after, k, NULL);
            const char *pn = af_config_text (e);
            int p = -1;
            for (int j = 0; pn && j < self->project.n_ptasks; j++)
                if (!strcmp (self->project.ptask_pub[j].name, pn))
                    p = j;
            if (p < 0)
                return af_config_fail (e, "task '%s': unknown predecessor '%s'", self->project.ptask_pub[i].name,
                                       pn ? pn : "(not a name)");
            bool dup = false;
            for (int j = 0; j < t->n_pred; j++)
                dup |= t->pred[j] == p;
            if (dup)
                continue;
            t->pred[t->n_pred++] = p;
            twin_ptask_t *pt = &self->project.ptask[p];
            int *succ = realloc (pt->succ, (size_t) (pt->n_succ + 1) * sizeof (int));
            if (!succ)
                return af_config_fail (e, "out of memory");
            pt->succ = succ;
            pt->succ[pt->n_succ++] = i;
        }
        self->project.ptask_pub[i].after = t->pred;
        self->project.ptask_pub[i].n_after = t->n_pred;
    }
    return 0;
}

int
twin__project_load (twin_t *self, const af_config_t *root)
{
    const af_config_t *r = af_config_get (root, "robots");
    if (s_load_rovers (self, r && af_config_kind (r) == AF_CONFIG_MAP ? r : NULL))
        return -1;
    const af_config_t *pj = af_config_get (root, "project");
    if (!pj)
        return 0;
    if (af_config_kind (pj) != AF_CONFIG_MAP)
        return af_config_fail (pj, "'project' must be a mapping (rule, airlock, tasks)");
    af_config_known_keys (pj, s_project_keys);
    const char *rule = af_config_str (pj, "rule", "lrp");
    if (!strcmp (rule, "fifo"))
        self->project.rule_fifo = true;
    else if (strcmp (rule, "lrp"))
        return af_config_fail (af_config_get (pj, "rule"),
                               "project.rule must be 'lrp' or 'fifo', got '%s'", rule);
    const af_config_t *al = af_config_get (pj, "airlock");
    if (al && af_config_kind (al) != AF_CONFIG_MAP)
        return af_config_fail (al, "project.airlock must be {capacity, cycle_min}");
    if (al)
        af_config_known_keys (al, s_airlock_keys);
    self->project.airlock_cap = (int) af_config_int (al, "capacity", 1, 1, 1000);
    self->project.airlock_cycle_s = af_config_num (al, "cycle_min", 20, 0, 1e4) * 60.0;
    const af_config_t *tasks = af_config_seq (pj, "tasks");
    if (af_config_error (root))
        return -1;
    if (!tasks || af_config_size (tasks) == 0)
        return af_config_fail (pj, "project needs 'tasks' (at least one)");
    if (self->n_robots == 0)
        return af_config_fail (pj, "a project needs robots to do it (robots.mobile ≥ 1)");
    self->project.n_ptasks = (int) af_config_size (tasks);
    self->project.ptask = calloc ((size_t) self->project.n_ptasks, sizeof *self->project.ptask);
    self->project.ptask_pub = calloc ((size_t) self->project.n_ptasks, sizeof *self->project.ptask_pub);
    self->project.rover_rq = calloc ((size_t) self->n_robots, sizeof (int));
    self->project.airlock_q = calloc ((size_t) self->n_robots, sizeof (int));
    if (!self->project.ptask || !self->project.ptask_pub || !self->project.rover_rq || !self->project.airlock_q)
        return af_config_fail (pj, "out of memory");
    bool any_skill = !(r && af_config_kind (r) == AF_CONFIG_MAP && af_config_get (r, "skills"));
    for (int i = 0; i < self->project.n_ptasks; i++)
        if (s_load_task (self, i, af_config_at (tasks, (size_t) i, NULL), any_skill))
            return -1;
    if (s_load_predecessors (self, tasks))
        return -1;
    for (int i = 0; i < self->project.n_ptasks; i++) {
        twin_ptask_t *t = &self->project.ptask[i];
        t->preds_left = t->n_pred;
        bool able = false;
        for (int k = 0; k < self->n_robots; k++)
            able |= t->skill < 0 || (self->robot[k].skills >> t->skill) & 1;
        if (!able)
            return af_config_fail (af_config_at (tasks, (size_t) i, NULL),
                                   "task '%s': no robot has skill '%s'", self->project.ptask_pub[i].name,
                                   self->project.skill_names[t->skill]);
    }
    return s_check_dag (self, tasks);
}

void
twin__project_free (twin_t *self)
{
    for (int i = 0; i < self->project.n_ptasks && self->project.ptask; i++) {
        twin_dist_free (&self->project.ptask[i].dur_s);
        free (self->project.ptask[i].succ);
        free (self->project.ptask[i].pred);
        if (self->project.ptask_pub)
            free ((char *) self->project.ptask_pub[i].name);
    }
    free (self->project.ptask);
    free (self->project.ptask_pub);
    free (self->project.rover_rq);
    free (self->project.airlock_q);
    twin_dist_free (&self->project.rover_repair_s);
    twin_dist_free (&self->project.rover_service_s);
    twin_dist_free (&self->site.storm_sol);
    twin_dist_free (&self->site.storm_tau);
}

/* ------------------------------------------------------------ rovers */

static void s_event (des_t *des, void *ctx, uint64_t arg);
static void s_work_for (twin_t *self, int r, double dur_s);

static uint64_t
s_ev (int robot, int kind, int other)
{
    return (uint64_t) robot | ((uint64_t) kind << 8) | ((uint64_t) (other + 1) << 16);
}

static bool
s_measured (const twin_t *self)
{
    return des_now_s (self->des) >= self->t_stats_s;
}

static void
s_rover_fit (twin_t *self, twin_robot_t *rb)
{
    rb->wear = 0;
    rb->life = 1.0;
    if (self->project.rover_life_cv > 0) {
        double s2 = log (1 + self->project.rover_life_cv * self->project.rover_life_cv);
        rb->life = exp (twin_rng_normal (&self->project.rover_rng, -0.5 * s2, sqrt (s2)));
    }
}

/* Ends a robot's busy spell and accounts its busy time. */
static void
s_robot_free (twin_t *self, twin_robot_t *rb)
{
    double now = des_now_s (self->des);
    rb->busy_s += now - fmax (rb->t_busy_start_s, self->t_stats_s);
    rb->busy = false;
    rb->phase = S_PH_IDLE;
}

/* Rover work done by a person (a repair, or a planned service taking WORK
 * time): on site, or from Earth over the link — each one a manual
 * intervention.  Without a crew the rover comes back on its own after the
 * work time, like a station. */
static void
s_rover_work_by_person (twin_t *self, int r, const twin_dist_t *work, double now)
{
    bool person = self->health.technicians > 0;
    double t = person ? twin_dist_sample (&self->health.tech_response_s, &self->project.rover_rng) : 0;
    t += twin_dist_sample (work, &self->project.rover_rng);
    if (person && self->site.remote_only) {
        double wait = twin__link_wait_s (self, now);
        t += wait;
        if (s_measured (self)) {
            self->site.teleops++;
            self->site.link_wait_s += wait;
        }
    }
    if (person && s_measured (self))
        self->manual++;
    des_schedule (self->des, t, s_event, self, s_ev (r, S_EV_REPAIRED, -1));
}

static void
s_rover_break (twin_t *self, int r)
{
    twin_robot_t *rb = &self->robot[r];
    double now = des_now_s (self->des);
    rb->down = true;
    rb->servicing = false;
    rb->service_pending = false;        /* the repair renews it anyway */
    rb->busy = true;
    rb->t_busy_start_s = now;
    rb->t_down_s = now;
    if (s_measured (self)) {
        self->project.rover_breakdowns++;
        self->health.breakdowns++;
    }
    if (self->project.rover_repair_by_robot && self->n_robots > 1) {
        self->project.rover_rq[self->project.rover_rq_n++] = r;
        return;
    }
    s_rover_work_by_person (self, r, &self->project.rover_repair_s, now);
}

/* A planned service: cleaned, relubricated, worn parts swapped; the rover
 * is out of work meanwhile, like a station in PM. */
static void
s_service_start (twin_t *self, int r)
{
    twin_robot_t *rb = &self->robot[r];
    double now = des_now_s (self->des);
    rb->service_pending = false;
    rb->down = true;
    rb->servicing = true;
    rb->busy = true;
    rb->t_busy_start_s = now;
    rb->t_down_s = now;
    if (s_measured (self))
        self->project.rover_services++;
    if (rb->service_by_robot) {
        self->project.rover_rq[self->project.rover_rq_n++] = r;
        return;
    }
    s_rover_work_by_person (self, r, &self->project.rover_service_s, now);
}

static void
s_rover_fixed (twin_t *self, int r)
{
    twin_robot_t *rb = &self->robot[r];
    double now = des_now_s (self->des);
    rb->down = false;
    rb->busy = false;
    rb->phase = S_PH_IDLE;
    rb->work_s = 0;
    if (rb->servicing) {
        /* A service removes the wear but the parts keep their own life. */
        rb->servicing = false;
        rb->wear = 0;
        self->project.rover_service_s_sum += now - fmax (rb->t_down_s, self->t_stats_s);
        return;
    }
    s_rover_fit (self, rb);
    if (rb->t_down_s >= self->t_stats_s) {
        self->health.repairs++;
        self->health.repair_time_s += now - rb->t_down_s;
    }
    self->project.rover_down_s += now - fmax (rb->t_down_s, self->t_stats_s);
    if (rb->ptask >= 0) {
        /* It broke in the middle of a task: back to it. */
        rb->busy = true;
        rb->t_busy_start_s = now;
        s_work_for (self, r, rb->work_left_s);
    }
}

int
twin__rover_service_check (const twin_t *self, int r, bool by_robot, char *err, size_t len)
{
    if (self->project.n_ptasks == 0)
        return twin__fail (err, len, "this plant has no rovers (no project)");
    if (r < 0 || r >= self->n_robots)
        return twin__fail (err, len, "unknown robot %d (the fleet has %d)", r, self->n_robots);
    const twin_robot_t *rb = &self->robot[r];
    if (rb->down)
        return twin__fail (err, len, "rover %d is down; it is being %s", r,
                           rb->servicing ? "serviced" : "repaired");
    if (rb->service_pending)
        return twin__fail (err, len, "rover %d already has a service planned", r);
    if (by_robot && self->n_robots < 2)
        return twin__fail (err, len, "no other rover to do the service");
    return 0;
}

void
twin__rover_service (twin_t *self, int r, bool by_robot)
{
    twin_robot_t *rb = &self->robot[r];
    rb->service_pending = true;
    rb->service_by_robot = by_robot;
    if (!rb->busy)
        s_service_start (self, r);      /* else when its task is done */
    twin__robots_dispatch (self);
}

/* ------------------------------------------------------------ airlock */

static void
s_airlock_enter (twin_t *self, int r)
{
    twin_robot_t *rb = &self->robot[r];
    self->project.airlock_in++;
    if (self->project.airlock_in > self->project.airlock_max_in)
        self->project.airlock_max_in = self->project.airlock_in;
    if (s_measured (self)) {
        self->project.airlock_passages++;
        self->project.airlock_busy_s += self->project.airlock_cycle_s;
    }
    rb->phase = rb->phase == S_PH_LOCK_WAIT_OUT ? S_PH_LOCK_OUT : S_PH_LOCK_IN;
    des_schedule (self->des, self->project.airlock_cycle_s, s_event, self, s_ev (r, S_EV_AIRLOCK, -1));
}

static void
s_airlock_request (twin_t *self, int r, bool out)
{
    twin_robot_t *rb = &self->robot[r];
    rb->phase = out ? S_PH_LOCK_WAIT_OUT : S_PH_LOCK_WAIT_IN;
    if (self->project.airlock_in < self->project.airlock_cap && self->project.airlock_qn == 0) {
        s_airlock_enter (self, r);
        return;
    }
    rb->t_wait_s = des_now_s (self->des);
    if (s_measured (self))
        self->project.airlock_waits++;
    self->project.airlock_q[self->project.airlock_qn++] = r;
}

static void
s_airlock_leave (twin_t *self)
{
    self->project.airlock_in--;
    while (self->project.airlock_qn > 0 && self->project.airlock_in < self->project.airlock_cap) {
        int r = self->project.airlock_q[0];
        memmove (self->project.airlock_q, self->project.airlock_q + 1, (size_t) (self->project.airlock_qn - 1) * sizeof (int));
        self->project.airlock_qn--;
        if (s_measured (self))
            self->project.airlock_wait_s += des_now_s (self->des) - self->robot[r].t_wait_s;
        s_airlock_enter (self, r);
    }
}

/* ------------------------------------------------------------ tasks */

/* DUR_S of work on the rover's task; if its wear reaches its life first, it
 * breaks there and the rest of the work waits for the repair. */
static void
s_work_for (twin_t *self, int r, double dur_s)
{
    twin_robot_t *rb = &self->robot[r];
    rb->phase = S_PH_WORK;
    /* Dust in the joints and on the tracks: wear runs faster in a storm
     * (at the rate of the storm state when the work starts). */
    double rate_per_s = self->project.rover_rate_per_h / 3600.0 * self->site.wear_mult;
    if (rate_per_s > 0 && rb->wear + rate_per_s * dur_s >= rb->life) {
        double t = fmax (0, (rb->life - rb->wear) / rate_per_s);
        rb->wear = rb->life;
        rb->work_s += t;
        rb->work_left_s = dur_s - t;
        des_schedule (self->des, t, s_event, self, s_ev (r, S_EV_BREAK, -1));
        return;
    }
    rb->wear += rate_per_s * dur_s;
    rb->work_s += dur_s;
    des_schedule (self->des, dur_s, s_event, self, s_ev (r, S_EV_WORK, -1));
}

static void
s_work (twin_t *self, int r)
{
    twin_robot_t *rb = &self->robot[r];
    twin_ptask_t *t = &self->project.ptask[rb->ptask];
    s_work_for (self, r, twin_dist_sample (&t->dur_s, &self->project.rover_rng));
}

static void
s_task_start (twin_t *self, int r, int k)
{
    twin_robot_t *rb = &self->robot[r];
    twin_ptask_t *t = &self->project.ptask[k];
    double now = des_now_s (self->des);
    for (int i = 0; i < t->n_part; i++)
        self->part[t->part[i]].warehouse -= t->qty[i];
    t->started = true;
    self->project.ptask_pub[k].t_start_s = now;
    self->project.ptask_pub[k].robot = r;
    rb->busy = true;
    rb->ptask = k;
    rb->t_busy_start_s = now;
    if (t->outside)
        s_airlock_request (self, r, true);
    else
        s_work (self, r);
}

static void
s_task_finish (twin_t *self, int r)
{
    twin_robot_t *rb = &self->robot[r];
    int k = rb->ptask;
    twin_ptask_t *t = &self->project.ptask[k];
    double now = des_now_s (self->des);
    t->done = true;
    self->project.ptask_pub[k].t_end_s = now;
    self->project.ptasks_done++;
    if (self->project.ptasks_done == self->project.n_ptasks)
        self->project.t_project_done_s = now;
    for (int i = 0; i < t->n_succ; i++)
        self->project.ptask[t->succ[i]].preds_left--;
    rb->ptask = -1;
    s_robot_free (self, rb);
    if (self->project.rover_rate_per_h > 0 && rb->wear >= rb->life)
        s_rover_break (self, r);
    else if (rb->service_pending)
        s_service_start (self, r);
}

static bool
s_parts_ready (const twin_t *self, const twin_ptask_t *t)
{
    for (int i = 0; i < t->n_part; i++)
        if (self->part[t->part[i]].warehouse < t->qty[i])
            return false;
    return true;
}

static int
s_idle_robot (const twin_t *self, int skill, int except)
{
    for (int r = 0; r < self->n_robots; r++) {
        const twin_robot_t *rb = &self->robot[r];
        if (r != except && !rb->busy && !rb->down && rb->q_n == 0
            && (skill < 0 || (rb->skills >> skill) & 1))
            return r;
    }
    return -1;
}

void
twin__project_dispatch (twin_t *self)
{
    /* A service planned while the rover ran one of the plant's own tasks
     * (robots.c) starts as soon as it is free. */
    for (int r = 0; r < self->n_robots; r++)
        if (self->robot[r].service_pending && !self->robot[r].busy)
            s_service_start (self, r);
    /* Broken rovers first: a robot that repairs one frees two. */
    while (self->project.rover_rq_n > 0) {
        int x = self->project.rover_rq[0];
        int f = s_idle_robot (self, -1, x);
        if (f < 0)
            break;
        memmove (self->project.rover_rq, self->project.rover_rq + 1, (size_t) (self->project.rover_rq_n - 1) * sizeof (int));
        self->project.rover_rq_n--;
        twin_robot_t *fb = &self->robot[f];
        fb->busy = true;
        fb->phase = S_PH_FIX;
        fb->t_busy_start_s = des_now_s (self->des);
        const twin_dist_t *d = self->robot[x].servicing ? &self->project.rover_service_s : &self->project.rover_repair_s;
        des_schedule (self->des, twin_dist_sample (d, &self->project.rover_rng), s_event, self, s_ev (f, S_EV_FIX, x));
    }
    for (;;) {
        /* The best ready task that some idle robot can do. */
        int best = -1, robot = -1;
        for (int k = 0; k < self->project.n_ptasks; k++) {
            const twin_ptask_t *t = &self->project.ptask[k];
            if (t->started || t->preds_left > 0)
                continue;
            if (best >= 0 && (self->project.rule_fifo || t->lrp_s <= self->project.ptask[best].lrp_s))
                continue;
            int r = s_idle_robot (self, t->skill, -1);
            if (r < 0 || !s_parts_ready (self, t))
                continue;
            best = k;
            robot = r;
        }
        if (best < 0)
            return;
        s_task_start (self, robot, best);
    }
}

static void
s_event (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    int r = (int) (arg & 0xff);
    int kind = (int) ((arg >> 8) & 0xff);
    int other = (int) (arg >> 16) - 1;
    twin_robot_t *rb = &self->robot[r];
    switch (kind) {
    case S_EV_AIRLOCK: {
        bool out = rb->phase == S_PH_LOCK_OUT;
        s_airlock_leave (self);
        if (out)
            s_work (self, r);
        else
            s_task_finish (self, r);
        break;
    }
    case S_EV_WORK:
        if (self->project.ptask[rb->ptask].outside)
            s_airlock_request (self, r, false);
        else
            s_task_finish (self, r);
        break;
    case S_EV_REPAIRED:
        s_rover_fixed (self, r);
        break;
    case S_EV_FIX:
        s_robot_free (self, rb);
        s_rover_fixed (self, other);
        break;
    case S_EV_BREAK:
        rb->busy_s += des_now_s (des) - fmax (rb->t_busy_start_s, self->t_stats_s);
        s_rover_break (self, r);
        break;
    default:
        break;
    }
    twin__robots_dispatch (self);
}

int
twin__project_start (twin_t *self)
{
    for (int r = 0; r < self->n_robots; r++)
        if (self->project.rover_rate_per_h > 0)
            s_rover_fit (self, &self->robot[r]);
    if (self->project.n_ptasks > 0)
        twin__project_dispatch (self);
    return 0;
}

void
twin__project_reset (twin_t *self)
{
    twin_project_t *p = &self->project;
    p->airlock_passages = p->airlock_waits = p->airlock_wait_s = p->airlock_busy_s = 0;
    p->rover_breakdowns = p->rover_down_s = p->rover_services = p->rover_service_s_sum = 0;
}

const twin_project_task_t *
twin_project_tasks (const twin_t *self, size_t *n)
{
    *n = (size_t) self->project.n_ptasks;
    return self->project.ptask_pub;
}
