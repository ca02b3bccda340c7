/*  twin health — machine health: wear of each component, random failures,
 *  breakdowns, repairs and planned maintenance by technicians or robots,
 *  and the temperature and vibration that wear shows on the sensors.
 */
#include "twin_int.h"
#include "af_log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void s_request_service (twin_t *self, twin_station_t *s);
static void s_service_done (des_t *des, void *ctx, uint64_t arg);

const char *const twin__comp_names[TWIN_COMP_COUNT + 1] = {
    "bearing", "belt", "motor", "joint", "lube", NULL
};

/* A new part: no wear, and its own life, lognormal around the rated limit
 * (two bearings of one batch do not fail at the same hour). */
void
twin__component_fit (twin_station_t *s, int c)
{
    twin_component_t *k = &s->comp[c];
    k->wear = 0;
    k->life = k->threshold;
    k->processed_at_fit = s->processed;
    /* Outer race, inner race or rolling element, equally likely: a modelling
     * assumption (a stationary outer ring's load zone makes outer-race
     * faults common in practice; no single published split fits all). */
    if (c == TWIN_C_BEARING)
        k->mode = (int) (twin_rng_uniform (&k->mode_rng) * 3.0) % 3;
    if (k->life_cv > 0) {
        double s2 = log (1 + k->life_cv * k->life_cv);
        k->life = k->threshold * exp (twin_rng_normal (&k->life_rng, -0.5 * s2, sqrt (s2)));
    }
}

/* Wear accrues with busy time, speed and load; returns the component that
 * reached its life, or −1. */
int
twin__health_wear (twin_station_t *s, double busy_s, double load, double site_mult)
{
    int broke = -1;
    double h = busy_s / 3600.0;
    for (int c = 0; c < TWIN_COMP_COUNT; c++) {
        twin_component_t *k = &s->comp[c];
        if (!k->present)
            continue;
        /* Dry lubrication accelerates bearing and joint wear. */
        double lube = (c == TWIN_C_BEARING || c == TWIN_C_JOINT) && s->comp[TWIN_C_LUBE].present
                          ? 1.0 + 2.0 * s->comp[TWIN_C_LUBE].wear : 1.0;
        /* SITE_MULT: 1, or more in a dust storm (site.c); × 1 is exact, so
         * plants without storms wear as before. */
        k->wear += k->rate_per_h * h * pow (s->speed, k->speed_exp) * lube * load * site_mult;
        if (k->wear >= k->life && broke < 0)
            broke = c;
    }
    return broke;
}

double
twin__wear_frac (const twin_station_t *s, int c)
{
    const twin_component_t *k = &s->comp[c];
    return k->present ? k->wear / k->threshold : 0;
}

double
twin__worst_wear (const twin_station_t *s)
{
    double worst = 0;
    for (int c = 0; c < TWIN_COMP_COUNT; c++)
        if (twin__wear_frac (s, c) > worst)
            worst = twin__wear_frac (s, c);
    return worst;
}

/* ------------------------------------------------------------ failures and service */

void
twin__maint_log (twin_t *self, int station, const char *kind, const char *cause, bool manual)
{
    if (!self->rec.record)
        return;
    if (self->rec.mev_n == self->rec.mev_cap) {
        size_t cap = self->rec.mev_cap ? 2 * self->rec.mev_cap : 64;
        twin_maint_event_t *m = realloc (self->rec.mev, cap * sizeof *m);
        if (!m)
            return;
        self->rec.mev = m;
        self->rec.mev_cap = cap;
    }
    self->rec.mev[self->rec.mev_n++] = (twin_maint_event_t) {
        des_now_s (self->des) / 3600.0, station, kind, cause, manual
    };
}

static void s_random_failure (des_t *des, void *ctx, uint64_t arg);

/* Random failures come after an exponential up time (mtbf_h): the clock
 * runs while the station is up (busy, idle or blocked), pauses while it is
 * stopped for a breakdown or PM, and runs on from where it was, so stopping
 * a machine never cancels a failure that was coming (DESIGN §4: no decision
 * may win by reading a drawn failure time). */
static void
s_schedule_failure (twin_t *self, twin_station_t *s)
{
    if (s->mtbf_h <= 0)
        return;
    double ttf = twin_rng_exponential (&s->rng_fail, s->mtbf_h * 3600.0);
    /* A share of random failures announce themselves (a P-F interval):
     * drawn from the station's own pf stream, so plants without P-F keep
     * every other draw where it was. */
    s->fail_symptom = self->health.pf_share > 0 && twin_rng_uniform (&s->rng_pf) < self->health.pf_share;
    s->failure_due_s = des_now_s (self->des) + ttf;
    des_schedule (self->des, ttf, s_random_failure, self, ((uint64_t) s->fail_gen << 32) | (uint32_t) s->index);
}

static void
s_failure_pause (twin_t *self, twin_station_t *s)
{
    if (s->failure_due_s < 0)
        return;
    s->ttf_left_s = fmax (0, s->failure_due_s - des_now_s (self->des));
    s->failure_due_s = -1;
    s->fail_gen++;
}

/* Up time left to the coming random failure, or −1 when none is due. */
static double
s_ttf_left_s (const twin_t *self, const twin_station_t *s)
{
    return s->failure_due_s >= 0 ? s->failure_due_s - des_now_s (self->des) : s->ttf_left_s;
}

/* How far the coming failure's symptoms have developed, 0 (none, or not
 * yet at P) … 1 (at F). */
static double
s_pf_severity (const twin_t *self, const twin_station_t *s)
{
    double left = s_ttf_left_s (self, s), pf = self->health.pf_s;
    if (!s->fail_symptom || pf <= 0 || left < 0 || left >= pf)
        return 0;
    return 1.0 - left / pf;
}

/* Whether the planned stop ending now finds the coming failure's fault:
 * a PM or a replacement looks inside; only a fault past P shows. */
static bool
s_pf_found (const twin_t *self, const twin_station_t *s)
{
    return s->state == TWIN_ST_MAINT && (s->svc_kind == TWIN_SVC_PM || s->svc_kind == TWIN_SVC_REPLACE)
           && s_pf_severity (self, s) > 0;
}

/* FOUND: the stop found and fixed the developing fault (s_pf_found). */
static void
s_failure_resume (twin_t *self, twin_station_t *s, bool found)
{
    if (s->mtbf_h <= 0 || s->failure_due_s >= 0)
        return;
    if (found && s->ttf_left_s >= 0) {
        /* The stop found the developing fault (past P) and fixed it: the
         * failure that was coming will not come; the next is a new draw. */
        s->ttf_left_s = -1;
        if (des_now_s (self->des) >= self->t_stats_s)
            self->health.failures_averted++;
    }
    if (s->ttf_left_s < 0) {
        s_schedule_failure (self, s);       /* after a random failure: a new draw */
        return;
    }
    s->failure_due_s = des_now_s (self->des) + s->ttf_left_s;
    des_schedule (self->des, s->ttf_left_s, s_random_failure, self,
                  ((uint64_t) s->fail_gen << 32) | (uint32_t) s->index);
    s->ttf_left_s = -1;
}

void
twin__station_breakdown (twin_t *self, twin_station_t *s, int cause)
{
    double now = des_now_s (self->des);
    if (s->state == TWIN_ST_BUSY || s->state == TWIN_ST_SETUP) {
        s->resume_state = s->state;
        s->remaining_s = s->t_end_s - now;
        s->gen++;               /* cancels the scheduled end */
    }
    else if (s->state == TWIN_ST_BLOCKED || s->holding_done)
        s->resume_state = TWIN_ST_BLOCKED;
    else if (s->state != TWIN_ST_BUSY)
        s->resume_state = TWIN_ST_STARVED;
    if (cause < 0)
        s->failure_due_s = s->ttf_left_s = -1;      /* this failure is the one that was due */
    else
        s_failure_pause (self, s);
    twin__station_set_state (self, s, TWIN_ST_DOWN);
    s->down_cause = cause;
    s->failures++;
    s->repair_started_s = now;
    if (now >= self->t_stats_s)
        self->health.breakdowns++;
    twin__maint_log (self, s->index, "breakdown",
                     cause >= 0 ? twin__comp_names[cause] : "random", false);
    s_request_service (self, s);
}

static void
s_random_failure (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    twin_station_t *s = &self->st[(uint32_t) arg];
    if ((uint32_t) (arg >> 32) != s->fail_gen)
        return;                 /* paused or replaced since */
    twin__station_breakdown (self, s, -1);
}

double
twin__service_duration (twin_station_t *s)
{
    if (s->state == TWIN_ST_MAINT && s->svc_dist)
        return twin_dist_sample (s->svc_dist, s->svc_dist_rng);     /* issue 11: replace, lube, realign */
    if (s->state == TWIN_ST_MAINT)
        return twin_dist_sample (&s->pm_s, &s->rng_repair);
    if (s->down_cause >= 0)
        return twin_dist_sample (&s->comp[s->down_cause].repair_s, &s->rng_repair);
    return twin_dist_sample (&s->repair_s, &s->rng_repair);
}

/* A service event names the station, whether a technician does it, and the
 * station's service generation, so that a repair the plant reported done
 * (shadow mode) cancels the model's own. */
static uint64_t
s_svc_arg (const twin_station_t *s, bool tech)
{
    return (uint32_t) s->index | ((uint64_t) tech << 40) | ((uint64_t) (s->svc_gen & 0x7fffff) << 41);
}

/* Service (repair or PM) by a human technician: response then work. */
static void
s_tech_start (twin_t *self, twin_station_t *s)
{
    self->health.tech_busy++;
    self->manual++;
    s->svc_by_tech = true;
    s->svc_start_s = des_now_s (self->des);
    double t = twin_dist_sample (&self->health.tech_response_s, &self->health.people_rng)
               + twin__service_duration (s);
    if (self->site.remote_only) {
        /* No one on site: a tele-operation, which first waits for the link
         * (round trip, and the end of a blackout); the station stays down. */
        double wait = twin__link_wait_s (self, des_now_s (self->des));
        t += wait;
        if (des_now_s (self->des) >= self->t_stats_s) {
            self->site.teleops++;
            self->site.link_wait_s += wait;
        }
    }
    des_schedule (self->des, t, s_service_done, self, s_svc_arg (s, true));
}

static void s_dispatch_service (twin_t *self, twin_station_t *s);

static void
s_request_service (twin_t *self, twin_station_t *s)
{
    if (s->state == TWIN_ST_DOWN && self->owned[TWIN_OWN_MAINTENANCE] && !s->repair_ordered) {
        /* An agent owns maintenance: the repair waits for its order. */
        s->awaiting_repair = true;
        return;
    }
    s->repair_ordered = false;
    /* A worn-out part is replaced with a spare (issue 11): none in stock,
     * and the station waits for the supplier. */
    if (s->state == TWIN_ST_DOWN && s->down_cause >= 0 && !twin__spare_take (self, s, s->down_cause))
        return;
    s_dispatch_service (self, s);
}

void
twin__health_spare_arrived (twin_t *self, twin_station_t *s)
{
    s->spare_wait = false;
    s_dispatch_service (self, s);
}

/* The service goes to a robot (when asked for and able), a technician, or,
 * in a plant without a crew, the machine's own restart. */
static void
s_dispatch_service (twin_t *self, twin_station_t *s)
{
    bool robot = s->state == TWIN_ST_MAINT ? s->pm_by_robot : s->repair_by_robot;
    if (robot && self->n_robots > 0 && self->fleet.robot_can_repair && twin__robot_can_fix (self, s)) {
        twin__task_push (self, TWIN_TASK_REPAIR, s->index, -1);
        return;
    }
    if (self->health.technicians <= 0) {
        /* No crew configured: the machine restarts itself after the repair time. */
        des_schedule (self->des, twin__service_duration (s), s_service_done, self,
                      s_svc_arg (s, false));
        return;
    }
    if (self->health.tech_busy < self->health.technicians)
        s_tech_start (self, s);
    else
        self->health.repair_queue[(self->health.rq_head + self->health.rq_n++) % self->n_stations] = s->index;
}

void
twin__health_order_repair (twin_t *self, twin_station_t *s, bool by_robot)
{
    s->awaiting_repair = false;
    s->repair_ordered = true;
    s->repair_by_robot = by_robot;
    s_request_service (self, s);
}

/* A part's life given that it has lasted to its present wear: the lognormal
 * around the rated limit, conditioned on exceeding the wear. */
static double
s_life_given_wear (const twin_component_t *k, twin_rng_t *rng)
{
    if (k->life_cv <= 0)
        return k->threshold;
    double s2 = log (1 + k->life_cv * k->life_cv), sd = sqrt (s2), mu = -0.5 * s2;
    double z0 = k->wear > 0 ? (log (k->wear / k->threshold) - mu) / sd : -INFINITY;
    double p0 = twin_normal_cdf (z0);
    if (1 - p0 < 1e-12)
        return k->wear * (1 + 1e-6);        /* past every plausible life: due now */
    double u = p0 + (1 - p0) * twin_rng_uniform (rng);
    return fmax (k->wear, k->threshold * exp (mu + sd * twin_normal_quantile (fmin (u, 1 - 1e-16))));
}

/* What-if forks (whatif.c): every hidden health quantity is drawn again
 * from its distribution given what could be known — each part's life given
 * its age, the next random failure (memoryless: a fresh up time) — with
 * streams that have nothing to do with the plant's own future draws. */
void
twin__health_redraw (twin_t *self, uint64_t salt)
{
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        twin_rng_t *rngs[4] = { &s->rng_proc, &s->rng_qual, &s->rng_fail, &s->rng_repair };
        for (int k = 0; k < 4; k++)
            twin_rng_reseed (rngs[k], salt);
        for (int c = 0; c < TWIN_COMP_COUNT; c++) {
            twin_component_t *k = &s->comp[c];
            twin_rng_reseed (&k->life_rng, salt);
            twin_rng_reseed (&k->mode_rng, salt);
            if (k->present)
                k->life = s_life_given_wear (k, &k->life_rng);
        }
        /* A failure whose symptoms already show is known to be coming
         * within the P-F interval, not when: its time is drawn again
         * uniformly over the interval (issue 11). */
        double pf = s_pf_severity (self, s);
        twin_rng_reseed (&s->rng_pf, salt);
        if (pf > 0 && s->failure_due_s >= 0) {
            s->fail_gen++;
            double ttf = twin_rng_uniform (&s->rng_pf) * self->health.pf_s;
            s->failure_due_s = des_now_s (self->des) + ttf;
            des_schedule (self->des, ttf, s_random_failure, self,
                          ((uint64_t) s->fail_gen << 32) | (uint32_t) s->index);
        }
        else if (pf > 0)
            s->ttf_left_s = twin_rng_uniform (&s->rng_pf) * self->health.pf_s;
        else if (s->failure_due_s >= 0) {
            s->fail_gen++;
            s->failure_due_s = s->ttf_left_s = -1;
            s_schedule_failure (self, s);
        }
        else if (s->ttf_left_s >= 0 && s->mtbf_h > 0) {
            s->ttf_left_s = twin_rng_exponential (&s->rng_fail, s->mtbf_h * 3600.0);
            s->fail_symptom = self->health.pf_share > 0
                              && twin_rng_uniform (&s->rng_pf) < self->health.pf_share;
        }
    }
    twin_rng_reseed (&self->health.people_rng, salt);
    twin_rng_reseed (&self->health.inspect_rng, salt);
    twin__upkeep_redraw (self, salt);
}

void
twin__health_take_back (twin_t *self)
{
    for (int i = 0; i < self->n_stations; i++)
        if (self->st[i].awaiting_repair)
            twin__health_order_repair (self, &self->st[i], false);
}

/* The end of a planned stop other than a PM (issue 11): a new part, fresh
 * lubricant, or joints re-taught and belts re-tensioned. */
static void
s_planned_done (twin_t *self, twin_station_t *s, bool manual)
{
    double now = des_now_s (self->des);
    switch (s->svc_kind) {
    case TWIN_SVC_REPLACE:
        twin__component_fit (s, s->svc_comp);
        break;
    case TWIN_SVC_LUBE:
        s->comp[TWIN_C_LUBE].wear = 0;
        s->t_last_lube_s = now;
        break;
    case TWIN_SVC_REALIGN:
        s->comp[TWIN_C_BELT].wear *= 1.0 - s->comp[TWIN_C_BELT].pm_restore;
        s->comp[TWIN_C_JOINT].wear *= 1.0 - s->comp[TWIN_C_JOINT].pm_restore;
        break;
    default:
        break;
    }
    (void) manual;
    s->pm_pending = false;
    s->pm_by_robot = false;
}

void
twin__repair_done_now (twin_t *self, twin_station_t *s)
{
    double now = des_now_s (self->des);
    if (s->state != TWIN_ST_DOWN && s->state != TWIN_ST_MAINT)
        return;
    s->svc_gen++;
    bool manual = s->svc_by_tech;
    s->svc_by_tech = false;
    s->spare_wait = false;              /* a shadow report may end a wait for a spare */
    /* Labour (issue 11): a robot's from the stop to the end (travel and
     * queue included); a technician's is counted when the crew frees. */
    if (!manual && (s->state == TWIN_ST_MAINT ? s->pm_by_robot : s->repair_by_robot)
        && self->n_robots > 0 && now >= self->t_stats_s)
        self->health.labour_robot_s += now - fmax (s->repair_started_s, self->t_stats_s);
    int cause = s->state == TWIN_ST_MAINT ? TWIN_CAUSE_PM
                : s->down_cause >= 0 ? s->down_cause : TWIN_CAUSE_RANDOM;
    if (s->repair_started_s >= self->t_stats_s)
        self->health.down_by_cause_s[cause] += now - s->repair_started_s;
    if (s->state == TWIN_ST_MAINT && s->svc_kind != TWIN_SVC_PM)
        s_planned_done (self, s, manual);
    else if (s->state == TWIN_ST_MAINT) {
        for (int c = 0; c < TWIN_COMP_COUNT; c++)
            s->comp[c].wear *= 1.0 - s->comp[c].pm_restore;
        s->t_last_pm_s = now;
        s->t_last_lube_s = now;
        s->pm_pending = false;
        s->pm_by_robot = false;
    }
    else {
        if (s->down_cause >= 0)
            twin__component_fit (s, s->down_cause);
        if (s->repair_started_s >= self->t_stats_s) {
            self->health.repairs++;
            self->health.repair_time_s += now - s->repair_started_s;
        }
        s->repair_by_robot = false;
        twin__maint_log (self, s->index, "repair",
                         s->down_cause >= 0 ? twin__comp_names[s->down_cause] : "random", manual);
    }
    bool found = s_pf_found (self, s);
    s->svc_kind = TWIN_SVC_PM;
    s->svc_dist = NULL;
    twin__station_resume (self, s);
    s_failure_resume (self, s, found);
}

static void
s_service_done (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    twin_station_t *s = &self->st[(uint32_t) arg];
    if (arg & (1ull << 40)) {
        self->health.tech_busy--;
        if (des_now_s (self->des) >= self->t_stats_s)
            self->health.labour_tech_s += des_now_s (self->des) - fmax (s->svc_start_s, self->t_stats_s);
        while (self->health.rq_n > 0) {
            twin_station_t *next = &self->st[self->health.repair_queue[self->health.rq_head]];
            self->health.rq_head = (self->health.rq_head + 1) % self->n_stations;
            self->health.rq_n--;
            if (next->state == TWIN_ST_DOWN || next->state == TWIN_ST_MAINT) {
                s_tech_start (self, next);
                break;
            }
        }
    }
    if (((arg >> 41) & 0x7fffff) == (s->svc_gen & 0x7fffff))
        twin__repair_done_now (self, s);
}

/* What the planned stop starting now is (issue 11): the order waiting for
 * this unit boundary, a PM unless one of the new commands asked otherwise. */
static void
s_planned_begin (twin_t *self, twin_station_t *s)
{
    static const char *const kinds[] = { "pm", "replace", "lube", "realign" };
    twin_health_t *h = &self->health;
    s->svc_kind = s->svc_next;
    s->svc_comp = s->svc_next_comp;
    s->svc_next = TWIN_SVC_PM;
    s->svc_dist = s->svc_kind == TWIN_SVC_REPLACE ? &s->comp[s->svc_comp].repair_s
                  : s->svc_kind == TWIN_SVC_LUBE  ? &h->lube_s
                  : s->svc_kind == TWIN_SVC_REALIGN ? &h->realign_s : NULL;
    s->svc_dist_rng = s->svc_kind == TWIN_SVC_REPLACE ? &s->rng_repair : &h->svc_rng;
    twin__maint_log (self, s->index, kinds[s->svc_kind],
                     s->svc_kind == TWIN_SVC_REPLACE ? twin__comp_names[s->svc_comp]
                     : s->svc_kind == TWIN_SVC_PM ? "interval" : "order", !s->pm_by_robot);
}

void
twin__station_try_pm (twin_t *self, twin_station_t *s)
{
    if (!s->pm_pending || s->state == TWIN_ST_DOWN || s->state == TWIN_ST_MAINT)
        return;
    if (s->state != TWIN_ST_STARVED && s->state != TWIN_ST_BLOCKED)
        return;                 /* at the next unit boundary */
    s->resume_state = s->state;
    s_failure_pause (self, s);
    twin__station_set_state (self, s, TWIN_ST_MAINT);
    s->down_cause = -1;
    s->repair_started_s = des_now_s (self->des);
    s_planned_begin (self, s);
    s_request_service (self, s);
}

/* Station temperature and vibration follow load and (hidden) wear. */
void
twin__health_epoch (twin_t *self, double dt_s)
{
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        double busy = dt_s > 0 ? s->epoch_busy_s / dt_s : 0;
        double w[TWIN_COMP_COUNT];
        for (int c = 0; c < TWIN_COMP_COUNT; c++)
            w[c] = twin__wear_frac (s, c);
        s->temp_c = self->energy.indoor_c + s->heat_rise_c * busy * s->speed
                    + 15.0 * w[TWIN_C_MOTOR] + 8.0 * w[TWIN_C_LUBE] + 5.0 * w[TWIN_C_BEARING];
        double run = s->state == TWIN_ST_BUSY || busy > 0 ? 1.0 : 0.1;
        s->vib_mm_s = run * (s->vib_base_mm_s * s->speed + 6.0 * w[TWIN_C_BEARING] * w[TWIN_C_BEARING]
                             + 2.0 * w[TWIN_C_BELT] + 2.0 * w[TWIN_C_JOINT] + 1.5 * w[TWIN_C_LUBE]);
        /* Issue 11: a failure past its P point shows, growing towards F. */
        double pf = s_pf_severity (self, s);
        s->temp_c += self->health.pf_temp_c * pf;
        s->vib_mm_s += run * self->health.pf_vib_mm_s * pf;
        s->epoch_busy_s = 0;
    }
}

void
twin_downtime_by_cause (const twin_t *self, double hours[TWIN_CAUSE_COUNT])
{
    double now = des_now_s (self->des);
    for (int c = 0; c < TWIN_CAUSE_COUNT; c++)
        hours[c] = self->health.down_by_cause_s[c] / 3600.0;
    /* Stations still down count up to now. */
    for (int i = 0; i < self->n_stations; i++) {
        const twin_station_t *s = &self->st[i];
        if (s->state != TWIN_ST_DOWN && s->state != TWIN_ST_MAINT)
            continue;
        int c = s->state == TWIN_ST_MAINT ? TWIN_CAUSE_PM
                : s->down_cause >= 0 ? s->down_cause : TWIN_CAUSE_RANDOM;
        hours[c] += (now - fmax (s->repair_started_s, self->t_stats_s)) / 3600.0;
    }
}

const char *
twin_cause_name (int cause)
{
    return cause >= 0 && cause < TWIN_COMP_COUNT ? twin__comp_names[cause]
           : cause == TWIN_CAUSE_RANDOM ? "random" : cause == TWIN_CAUSE_PM ? "pm" : "?";
}

/* ------------------------------------------------------------ hooks */

static const char *const s_people_keys[] = {
    "technicians", "response_min", "remote_only", "link_delay_s", "link_blackout", NULL
};

int
twin__health_load (twin_t *self, const af_config_t *root)
{
    twin_health_t *h = &self->health;
    h->repair_queue = calloc ((size_t) self->n_stations, sizeof (int));
    if (!h->repair_queue)
        return af_config_fail (root, "out of memory");
    const af_config_t *pp = twin__cfg_map (root, "people", s_people_keys);
    h->technicians = (int) af_config_int (pp, "technicians", 0, 0, 10000);
    twin__cfg_dist (&h->tech_response_s, pp, "response_min", 60.0, 10);
    if (twin__people_remote_load (self, pp))
        return -1;
    twin_rng_seed (&h->people_rng, self->seed, "people");
    twin_rng_seed (&h->inspect_rng, self->seed, "inspection");
    if (twin__upkeep_load (self, root))
        return -1;
    return af_config_error (root) ? -1 : 0;
}

/* Every station starts with new parts, each with its own drawn life, and
 * its first random failure scheduled. */
int
twin__health_start (twin_t *self)
{
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        s->failure_due_s = s->ttf_left_s = -1;
        for (int c = 0; c < TWIN_COMP_COUNT; c++)
            if (s->comp[c].present)
                twin__component_fit (s, c);
        twin__upkeep_initial_age (self, s);
        s_schedule_failure (self, s);
    }
    return 0;
}

void
twin__health_reset (twin_t *self)
{
    twin_health_t *h = &self->health;
    h->breakdowns = h->repairs = h->repair_time_s = 0;
    h->spares_used = h->spares_cost = h->labour_tech_s = h->labour_robot_s = h->failures_averted = 0;
    memset (h->down_by_cause_s, 0, sizeof h->down_by_cause_s);
}

void
twin__health_destroy (twin_t *self)
{
    free (self->health.repair_queue);
    twin__upkeep_destroy (self);
    twin_dist_free (&self->health.tech_response_s);
}
