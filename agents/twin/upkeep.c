/*  twin upkeep — what keeping the plant's machines running costs (issue 11):
 *  the health: section of a plant file, parts that start at the age a
 *  running plant's parts have, spares with stock, cost and supplier lead
 *  time, technician and robot labour, the maintenance commands' checks,
 *  and the health KPIs and telemetry.
 *
 *  health.c keeps the physics (wear, failures, services); this file keeps
 *  the books around it.  A plant without a health: section keeps its parts
 *  new at the start, its spares unlimited and free, and publishes no
 *  health telemetry, exactly as before.
 */
#include "twin_int.h"
#include "af_json.h"
#include "af_log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

_Static_assert (TWIN_COMPONENT_KINDS == TWIN_COMP_COUNT, "twin.h and twin_int.h agree on component kinds");

/* Robot skills name the component kinds and "random" (a failure of no
 * named part); a plant that lists none lets robots repair anything. */
static const char *const s_skill_names[TWIN_COMP_COUNT + 2] = {
    "bearing", "belt", "motor", "joint", "lube", "random", NULL
};

static const char *const s_health_keys[] = {
    "initial_age", "pf", "robot_skills", "lube_min", "realign_min", "labour", "spares", NULL
};
static const char *const s_pf_keys[] = { "share", "interval_h", "vib_mm_s", "temp_c", NULL };
static const char *const s_labour_keys[] = { "technician_per_h", "robot_per_h", NULL };
static const char *const s_spare_keys[] = { "stock", "unit_cost", "lead_time_h", "min", "max", NULL };

/* ------------------------------------------------------------ load */

static int
s_load_skills (twin_t *self, const af_config_t *hm)
{
    const af_config_t *sk = af_config_get (hm, "robot_skills");
    if (!sk)
        return 0;
    if (af_config_kind (sk) != AF_CONFIG_SEQ)
        return af_config_fail (sk, "robot_skills must be a list of bearing, belt, motor, joint, lube, random");
    twin_health_t *h = &self->health;
    h->has_robot_skills = true;
    for (size_t i = 0; i < af_config_size (sk); i++) {
        const af_config_t *n = af_config_at (sk, i, NULL);
        const char *name = af_config_text (n);
        int k = 0;
        while (s_skill_names[k] && (!name || strcmp (s_skill_names[k], name)))
            k++;
        if (!s_skill_names[k])
            return af_config_fail (n, "unknown robot skill '%s' (bearing, belt, motor, joint, lube, random)",
                                   name ? name : "");
        h->robot_skills |= 1u << k;
    }
    return 0;
}

static int
s_load_spares (twin_t *self, const af_config_t *hm)
{
    const af_config_t *sp = twin__cfg_map (hm, "spares", twin__comp_names);
    for (int c = 0; sp && c < TWIN_COMP_COUNT; c++) {
        const af_config_t *m = twin__cfg_map (sp, twin__comp_names[c], s_spare_keys);
        if (!m)
            continue;
        twin_spare_t *k = &self->health.spare[c];
        k->managed = true;
        k->stock = (double) af_config_int (m, "stock", 0, 0, 1000000);
        k->unit_cost = af_config_num (m, "unit_cost", 0, 0, 1e9);
        k->min = (double) af_config_int (m, "min", 0, 0, 1000000);
        k->max = (double) af_config_int (m, "max", (long) k->min, 0, 1000000);
        if (k->max < k->min)
            return af_config_fail (m, "spares of %s: max %g below min %g", twin__comp_names[c], k->max, k->min);
        if (twin__cfg_dist (&k->lead_s, m, "lead_time_h", 3600.0, 72))
            return -1;
        char stream[64];
        snprintf (stream, sizeof stream, "spares/%s", twin__comp_names[c]);
        twin_rng_seed (&k->rng, self->seed, stream);
    }
    return 0;
}

int
twin__upkeep_load (twin_t *self, const af_config_t *root)
{
    twin_health_t *h = &self->health;
    twin_dist_const (&h->lube_s, 10 * 60.0);
    twin_dist_const (&h->realign_s, 20 * 60.0);
    twin_rng_seed (&h->svc_rng, self->seed, "services");
    char stream[TWIN_NAME_MAX + 8];
    for (int i = 0; i < self->n_stations; i++) {
        snprintf (stream, sizeof stream, "%s/pf", self->st[i].name);
        twin_rng_seed (&self->st[i].rng_pf, self->seed, stream);
    }
    h->spare_q = calloc ((size_t) self->n_stations + 1, sizeof (int));
    if (!h->spare_q)
        return af_config_fail (root, "out of memory");
    const af_config_t *hm = twin__cfg_map (root, "health", s_health_keys);
    if (!hm)
        return 0;
    h->configured = true;
    const char *age = af_config_str (hm, "initial_age", "new");
    if (strcmp (age, "new") && strcmp (age, "steady_state"))
        return af_config_fail (af_config_get (hm, "initial_age"),
                               "initial_age must be new or steady_state, not '%s'", age);
    h->steady_state_age = !strcmp (age, "steady_state");
    const af_config_t *pf = twin__cfg_map (hm, "pf", s_pf_keys);
    h->pf_share = af_config_num (pf, "share", 0, 0, 1);
    h->pf_s = af_config_num (pf, "interval_h", 0, 0, 1e5) * 3600.0;
    h->pf_vib_mm_s = af_config_num (pf, "vib_mm_s", 2.0, 0, 100);
    h->pf_temp_c = af_config_num (pf, "temp_c", 5.0, 0, 200);
    if (h->pf_share > 0 && h->pf_s <= 0)
        return af_config_fail (pf, "pf: a share of failures with warning needs interval_h > 0");
    if (twin__cfg_dist (&h->lube_s, hm, "lube_min", 60.0, 10)
        || twin__cfg_dist (&h->realign_s, hm, "realign_min", 60.0, 20))
        return -1;
    const af_config_t *lab = twin__cfg_map (hm, "labour", s_labour_keys);
    h->tech_cost_per_h = af_config_num (lab, "technician_per_h", 0, 0, 1e6);
    h->robot_cost_per_h = af_config_num (lab, "robot_per_h", 0, 0, 1e6);
    if (s_load_skills (self, hm) || s_load_spares (self, hm))
        return -1;
    return 0;
}

void
twin__upkeep_destroy (twin_t *self)
{
    twin_health_t *h = &self->health;
    free (h->spare_q);
    h->spare_q = NULL;
    twin_dist_free (&h->lube_s);
    twin_dist_free (&h->realign_s);
    for (int c = 0; c < TWIN_COMP_COUNT; c++)
        if (h->spare[c].managed)
            twin_dist_free (&h->spare[c].lead_s);
}

/* ------------------------------------------------------------ initial ages */

/* A plant that has been running (initial_age: steady_state): each part is
 * as old as a part found in a machine at a random moment of a long run.
 * For a part renewed only when it fails, that is the renewal process's
 * equilibrium: the part in place has a length-biased life (the long lives
 * cover more of the time line) and a uniform age within it.  Lives are
 * lognormal (health.c), and the length-biased lognormal is lognormal with
 * its log-mean moved up by σ² — so the draw is exact.  A part that a PM
 * restores by a share r of its wear every interval settles where the
 * restore balances the wear d of one interval: just after a PM it holds
 * (1 − r)·d / r, and it sits at a uniform phase of the PM cycle (the same
 * phase as the station's PM clock).  Wear per interval assumes the station
 * busy all the time at nameplate: an upper bound, stated in docs/plant.md.
 * Own streams (<station>/<component>/age, <station>/pm_phase). */
void
twin__upkeep_initial_age (twin_t *self, twin_station_t *s)
{
    if (!self->health.steady_state_age)
        return;
    char stream[TWIN_NAME_MAX + 32];
    twin_rng_t rng;
    snprintf (stream, sizeof stream, "%s/pm_phase", s->name);
    twin_rng_seed (&rng, self->seed, stream);
    double phase = twin_rng_uniform (&rng);
    if (s->pm_interval_h > 0)
        s->t_last_pm_s = s->t_last_lube_s = -phase * s->pm_interval_h * 3600.0;
    for (int c = 0; c < TWIN_COMP_COUNT; c++) {
        twin_component_t *k = &s->comp[c];
        if (!k->present)
            continue;
        snprintf (stream, sizeof stream, "%s/%s/age", s->name, twin__comp_names[c]);
        twin_rng_seed (&rng, self->seed, stream);
        if (s->pm_interval_h > 0 && k->pm_restore > 0) {
            double d = k->rate_per_h * s->pm_interval_h;
            double w = (1.0 - k->pm_restore) * d / k->pm_restore + phase * d;
            if (w < k->life) {
                k->wear = w;
                continue;
            }
        }
        double life = k->threshold;
        if (k->life_cv > 0) {
            double s2 = log (1 + k->life_cv * k->life_cv);
            life = k->threshold * exp (twin_rng_normal (&rng, -0.5 * s2 + s2, sqrt (s2)));
        }
        k->life = life;
        k->wear = twin_rng_uniform (&rng) * life;
    }
}

/* ------------------------------------------------------------ spares */

static void s_spare_arrive (des_t *des, void *ctx, uint64_t arg);

static void
s_spare_consume (twin_t *self, int comp)
{
    twin_spare_t *k = &self->health.spare[comp];
    k->stock -= 1;
    if (des_now_s (self->des) >= self->t_stats_s) {
        self->health.spares_used++;
        self->health.spares_cost += k->unit_cost;
    }
}

bool
twin__spare_take (twin_t *self, twin_station_t *s, int comp)
{
    twin_health_t *h = &self->health;
    if (!h->spare[comp].managed)
        return true;
    if (h->spare[comp].stock >= 1) {
        s_spare_consume (self, comp);
        return true;
    }
    s->spare_wait = true;
    h->spare_q[h->sq_n++] = s->index;
    return false;
}

int
twin__spare_order_check (const twin_t *self, int comp, double qty, char *err, size_t len)
{
    if (comp < 0 || comp >= TWIN_COMP_COUNT)
        return twin__fail (err, len, "unknown component %d (bearing, belt, motor, joint or lube)", comp);
    if (!self->health.spare[comp].managed)
        return twin__fail (err, len, "spares of %s are not stocked here (health.spares has no %s)",
                           twin__comp_names[comp], twin__comp_names[comp]);
    if (!(qty >= 1 && qty <= 1000 && qty == floor (qty)))
        return twin__fail (err, len, "spares quantity %.6g outside 1 .. 1000 whole parts", qty);
    return 0;
}

void
twin__spare_order (twin_t *self, int comp, double qty)
{
    twin_spare_t *k = &self->health.spare[comp];
    k->on_order += qty;
    double lead = twin_dist_sample (&k->lead_s, &k->rng);
    des_schedule (self->des, lead, s_spare_arrive, self, (uint64_t) comp | ((uint64_t) qty << 8));
}

/* A delivery: stock up, then the stations waiting for this kind of part,
 * first come first served. */
static void
s_spare_arrive (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    twin_health_t *h = &self->health;
    int comp = (int) (arg & 0xff);
    double qty = (double) (arg >> 8);
    twin_spare_t *k = &h->spare[comp];
    k->on_order -= qty;
    k->stock += qty;
    int kept = 0;
    for (int i = 0; i < h->sq_n; i++) {
        twin_station_t *s = &self->st[h->spare_q[i]];
        if (s->spare_wait && s->down_cause == comp && k->stock >= 1) {
            s_spare_consume (self, comp);
            twin__health_spare_arrived (self, s);
        }
        else if (s->spare_wait)
            h->spare_q[kept++] = h->spare_q[i];
    }
    h->sq_n = kept;
}

/* ------------------------------------------------------------ commands */

bool
twin__robot_can_fix (const twin_t *self, const twin_station_t *s)
{
    const twin_health_t *h = &self->health;
    if (!h->has_robot_skills)
        return true;
    int need = s->state == TWIN_ST_MAINT ? (s->svc_kind == TWIN_SVC_REPLACE ? s->svc_comp : -1)
               : s->down_cause >= 0 ? s->down_cause : TWIN_COMP_COUNT;
    if (s->state == TWIN_ST_MAINT && s->svc_kind == TWIN_SVC_PM)
        return true;            /* routine PM: robots did it before skills existed */
    if (s->state == TWIN_ST_MAINT && need < 0)
        need = s->svc_kind == TWIN_SVC_LUBE ? TWIN_C_LUBE : TWIN_C_JOINT;
    return (h->robot_skills >> need) & 1u;
}

int
twin__swap_check (const twin_t *self, int comp, char *err, size_t len)
{
    const twin_health_t *h = &self->health;
    if (h->spare[comp].managed && h->spare[comp].stock < 1)
        return twin__fail (err, len, "no %s spare in stock (%g on order)", twin__comp_names[comp],
                           h->spare[comp].on_order);
    if (h->has_robot_skills && !((h->robot_skills >> comp) & 1u))
        return twin__fail (err, len, "robots here lack the %s skill (health.robot_skills)", s_skill_names[comp]);
    return 0;
}

void
twin__swap_reserve (twin_t *self, const twin_station_t *s, int comp)
{
    if (s->state != TWIN_ST_DOWN && s->state != TWIN_ST_MAINT && self->health.spare[comp].managed)
        s_spare_consume (self, comp);
}

static const char *const s_svc_names[] = { "maintenance", "replacement", "lubrication", "realignment" };

int
twin__service_check (const twin_t *self, int station, int kind, int comp, bool by_robot, char *err, size_t len)
{
    if (station < 0 || station >= self->n_stations)
        return twin__fail (err, len, "unknown station %d (0..%d)", station, self->n_stations - 1);
    const twin_station_t *st = &self->st[station];
    const twin_health_t *h = &self->health;
    if (st->pm_pending || st->state == TWIN_ST_MAINT)
        return twin__fail (err, len, "station '%s' already has maintenance planned", st->name);
    if (st->state == TWIN_ST_DOWN)
        return twin__fail (err, len, "station '%s' is down; it is being repaired", st->name);
    if (kind == TWIN_SVC_REPLACE) {
        if (comp < 0 || comp >= TWIN_COMP_COUNT || !st->comp[comp].present)
            return twin__fail (err, len, "station '%s' has no such component to replace", st->name);
        if (h->spare[comp].managed && h->spare[comp].stock < 1)
            return twin__fail (err, len, "no %s spare in stock (%g on order)", twin__comp_names[comp],
                               h->spare[comp].on_order);
    }
    if (kind == TWIN_SVC_LUBE && !st->comp[TWIN_C_LUBE].present)
        return twin__fail (err, len, "station '%s' has no lubrication point (no lube component)", st->name);
    if (kind == TWIN_SVC_REALIGN && !st->comp[TWIN_C_BELT].present && !st->comp[TWIN_C_JOINT].present)
        return twin__fail (err, len, "station '%s' has no belt or joint to realign", st->name);
    if (by_robot && (self->n_robots == 0 || !self->fleet.robot_can_repair))
        return twin__fail (err, len, "no mobile robot can do %s here", s_svc_names[kind]);
    if (by_robot && h->has_robot_skills) {
        int need = kind == TWIN_SVC_REPLACE ? comp : kind == TWIN_SVC_LUBE ? TWIN_C_LUBE : TWIN_C_JOINT;
        if (!((h->robot_skills >> need) & 1u))
            return twin__fail (err, len, "robots here lack the %s skill (health.robot_skills)",
                               s_skill_names[need]);
    }
    return 0;
}

/* Plans the stop for the station's next unit boundary; a replacement takes
 * its spare now, so two orders cannot count on the same part. */
void
twin__service_order (twin_t *self, int station, int kind, int comp, bool by_robot)
{
    twin_station_t *s = &self->st[station];
    if (kind == TWIN_SVC_REPLACE && self->health.spare[comp].managed)
        s_spare_consume (self, comp);
    s->svc_next = kind;
    s->svc_next_comp = comp;
    s->pm_pending = true;
    s->pm_by_robot = by_robot;
    twin__station_try_pm (self, s);
}

/* ------------------------------------------------------------ what-if */

/* Deliveries on their way keep their arrival (the supplier's promise);
 * the lead times of orders a fork places are fresh draws. */
void
twin__upkeep_redraw (twin_t *self, uint64_t salt)
{
    for (int c = 0; c < TWIN_COMP_COUNT; c++)
        twin_rng_reseed (&self->health.spare[c].rng, salt);
    twin_rng_reseed (&self->health.svc_rng, salt);
}

/* ------------------------------------------------------------ KPIs */

static double
s_time_in (const twin_t *self, const twin_station_t *s, twin_state_t state)
{
    double t = s->time_in_s[state];
    if (s->state == state)
        t += des_now_s (self->des) - s->t_state_s;
    return t;
}

/* Maintenance cost (spares used and labour) and the output lost at the
 * constraint: the bottleneck's stopped hours times the share of its
 * available time it worked (it would have worked that share of them). */
void
twin__upkeep_kpis (const twin_t *self, twin_kpi_t *k)
{
    const twin_health_t *h = &self->health;
    k->spares_used = h->spares_used;
    k->labour_h = (h->labour_tech_s + h->labour_robot_s) / 3600.0;
    k->maintenance_cost = h->spares_cost + h->labour_tech_s / 3600.0 * h->tech_cost_per_h
                          + h->labour_robot_s / 3600.0 * h->robot_cost_per_h;
    if (k->bottleneck < 0)
        return;
    const twin_station_t *b = &self->st[k->bottleneck];
    double T = des_now_s (self->des) - self->t_stats_s;
    double stopped = s_time_in (self, b, TWIN_ST_DOWN) + s_time_in (self, b, TWIN_ST_MAINT);
    double worked = s_time_in (self, b, TWIN_ST_BUSY) + s_time_in (self, b, TWIN_ST_SETUP);
    k->lost_output_h = T - stopped > 0 ? stopped * worked / (T - stopped) / 3600.0 : stopped / 3600.0;
}

/* ------------------------------------------------------------ observation, telemetry */

void
twin__upkeep_observe (twin_t *self)
{
    double now = des_now_s (self->des);
    twin_obs_t *o = &self->view.obs;
    for (int i = 0; i < self->n_stations; i++) {
        const twin_station_t *s = &self->st[i];
        twin_station_obs_t *so = &self->view.st_obs[i];
        so->hours_since_lube = s->comp[TWIN_C_LUBE].present ? (now - s->t_last_lube_s) / 3600.0 : 0;
        so->joint_cycles = s->comp[TWIN_C_JOINT].present
                               ? (double) (s->processed - s->comp[TWIN_C_JOINT].processed_at_fit) : 0;
        so->spare_wait = s->spare_wait;
    }
    o->tech_queue = self->health.rq_n;
    for (int c = 0; c < TWIN_COMP_COUNT; c++) {
        const twin_spare_t *k = &self->health.spare[c];
        o->spares_stock[c] = k->managed ? k->stock : -1;
        o->spares_on_order[c] = k->managed ? k->on_order : -1;
    }
}

static void
s_sample (twin_sample_t *t, const char *name, double v)
{
    if (t->n < TWIN_SAMPLE_MAX) {
        t->names[t->n] = name;
        t->values[t->n++] = v;
    }
}

/* health.<station> per station and health.crew; only for plants with a
 * health: section, so other plants' telemetry is as it was. */
void
twin__upkeep_telemetry (const twin_t *self, void (*fn) (void *, const twin_sample_t *), void *ctx)
{
    if (!self->health.configured)
        return;
    const twin_obs_t *o = &self->view.obs;
    twin_sample_t t;
    for (int i = 0; i < o->n_stations; i++) {
        const twin_station_obs_t *s = &o->stations[i];
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "health.%s", s->name);
        s_sample (&t, "inspected_wear", s->inspected_wear);
        s_sample (&t, "inspected_h", s->t_inspected_s / 3600.0);
        s_sample (&t, "pm_pending", s->pm_pending);
        s_sample (&t, "pm_interval_h", s->pm_interval_h);
        s_sample (&t, "hours_since_pm", s->hours_since_pm);
        s_sample (&t, "hours_since_lube", s->hours_since_lube);
        s_sample (&t, "joint_cycles", s->joint_cycles);
        s_sample (&t, "spare_wait", s->spare_wait);
        fn (ctx, &t);
    }
    memset (&t, 0, sizeof t);
    snprintf (t.topic, sizeof t.topic, "health.crew");
    s_sample (&t, "tech_queue", o->tech_queue);
    s_sample (&t, "tech_busy", self->health.tech_busy);
    static const char *const stock_names[TWIN_COMP_COUNT] = {
        "spares_bearing", "spares_belt", "spares_motor", "spares_joint", "spares_lube"
    };
    for (int c = 0; c < TWIN_COMP_COUNT; c++)
        if (o->spares_stock[c] >= 0)
            s_sample (&t, stock_names[c], o->spares_stock[c]);
    fn (ctx, &t);
}

/* ------------------------------------------------------------ plant description */

static void
s_key (FILE *out, const char *key, double v, bool comma)
{
    fprintf (out, "%s\"%s\":", comma ? "," : "", key);
    af_json_number (out, v);
}

/* What the maintenance department's documents say: the P-F interval and
 * share (RCM studies), labour rates, the short stops, robot skills, and per
 * stocked kind its price, supplier lead time and min/max. */
void
twin__upkeep_describe (const twin_t *self, FILE *out)
{
    const twin_health_t *h = &self->health;
    if (!h->configured)
        return;
    fputs (",\"health\":{", out);
    fprintf (out, "\"initial_age\":\"%s\"", h->steady_state_age ? "steady_state" : "new");
    s_key (out, "pf_share", h->pf_share, true);
    s_key (out, "pf_interval_h", h->pf_s / 3600.0, true);
    s_key (out, "technician_per_h", h->tech_cost_per_h, true);
    s_key (out, "robot_per_h", h->robot_cost_per_h, true);
    s_key (out, "lube_min_mean", h->lube_s.mean / 60.0, true);
    s_key (out, "realign_min_mean", h->realign_s.mean / 60.0, true);
    fputs (",\"robot_skills\":[", out);
    for (int k = 0, n = 0; s_skill_names[k]; k++)
        if (!h->has_robot_skills || ((h->robot_skills >> k) & 1u))
            fprintf (out, "%s\"%s\"", n++ ? "," : "", s_skill_names[k]);
    fputs ("],\"spares\":{", out);
    for (int c = 0, n = 0; c < TWIN_COMP_COUNT; c++) {
        const twin_spare_t *k = &h->spare[c];
        if (!k->managed)
            continue;
        fprintf (out, "%s\"%s\":{", n++ ? "," : "", twin__comp_names[c]);
        s_key (out, "unit_cost", k->unit_cost, false);
        s_key (out, "lead_time_h_mean", k->lead_s.mean / 3600.0, true);
        s_key (out, "lead_time_h_sd", twin_dist_sd (&k->lead_s) / 3600.0, true);
        s_key (out, "min", k->min, true);
        s_key (out, "max", k->max, true);
        fputc ('}', out);
    }
    fputs ("}}", out);
}
