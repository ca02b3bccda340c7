/*  twin policy — the DESIGN §5 baseline: how a well-run conventional plant works.
 *
 *  It sees only twin_obs_t (telemetry), never the hidden wear.  Each rule is
 *  what a competent plant manager would run without autonomy:
 *   - every station at nameplate speed (1.0);
 *   - preventive maintenance at the maker's interval (pm_interval_h) by a
 *     technician, plus repair after breakdowns (model.c sends the technician);
 *   - end-of-line sampling inspection of 1 unit in 20, no in-line correction;
 *   - fixed (R, Q) reorder: R covers the mean demand over the supplier's
 *     lead time and one review epoch plus safety stock for a 95 % cycle
 *     service level (z = 1.645 times the standard deviation of that demand,
 *     from demand and lead-time variability), Q a week of average demand
 *     (the plant file's reorder_point / order_qty win when given);
 *   - first-come-first-served tasks to the nearest idle robot (built into the
 *     model's dispatcher, so nothing to do here);
 *   - battery idle, HVAC at its configured set point, solar as it comes;
 *   - orders released as they arrive, in due-date order (push, no WIP cap,
 *     every station awake, the buffers as built),
 *     or in fixed-size batches of one variant where the plant file asks for
 *     them (long changeovers);
 *   - rovers (project plants) serviced at the maker's interval of work hours
 *     (robots.wear.service_every_h), by a technician;
 *   - spares (health.spares, issue 11) on a min/max rule: when stock plus
 *     what is on order falls to the plant file's min, order up to its max.

 *   - in-line tools and gauges recalibrated at the maker's interval of
 *     cycles (quality.recal_every_units), whatever they read (issue 11).
 *  It keeps no state of its own, so a what-if fork that installs a fresh one
 *  behaves exactly like the live one.
 */
#include "twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_BASELINE_SAMPLE_EVERY 20
#define S_BASELINE_Z_95         1.6449      /* standard normal quantile for a 95 % cycle service level */
#define S_BASELINE_COVER_H      168.0

/* The baseline's reorder point of part P: mean demand over the protection
 * interval (lead time + review) plus z·σ, with σ² = (L + T)·var(D) + d²·var(L)
 * (demand and lead time independent; Silver, Pyke & Peterson, Inventory
 * Management and Production Planning and Scheduling, 3rd ed., §7.8). */
static double
s_reorder_point (const twin_part_t *p, double review_h)
{
    double d = p->avg_use_per_h;
    double lt_h = p->lead_time_s.mean / 3600.0, lt_sd_h = twin_dist_sd (&p->lead_time_s) / 3600.0;
    double t = lt_h + review_h;
    double sigma = sqrt (t * p->var_use_per_h + d * d * lt_sd_h * lt_sd_h);
    return ceil (d * t + S_BASELINE_Z_95 * sigma);
}

/* Flow (issue 11): the conventional line pushes orders in as they come (no
 * WIP cap), keeps every station awake, and runs the buffers the plant was
 * built with.  Only what differs is commanded, so a plant nobody changed
 * logs no command. */
static void
s_flow_settings (twin_t *twin)
{
    char err[256];
    twin_cmd_t c;
    if (twin->flow.wip_cap != 0) {
        c = (twin_cmd_t) { .kind = TWIN_CMD_RELEASE, .u.release = { 0 } };
        twin_apply (twin, &c, err, sizeof err);
    }
    for (int i = 0; i < twin->n_stations; i++) {
        const twin_station_t *s = &twin->st[i];
        if (s->standby_mode != TWIN_STANDBY_WAKE || s->state == TWIN_ST_STANDBY) {
            c = (twin_cmd_t) { .kind = TWIN_CMD_STANDBY, .u.standby = { i, TWIN_STANDBY_WAKE } };
            twin_apply (twin, &c, err, sizeof err);
        }
        if (s->buffer_cap != s->buffer_cap_cfg && s->buffer_cap_cfg >= 0) {
            c = (twin_cmd_t) { .kind = TWIN_CMD_BUFFER, .u.buffer = { i, s->buffer_cap_cfg } };
            twin_apply (twin, &c, err, sizeof err);
        }
    }
}

/* The baseline's settings for CONCERN: applied at the start, and again
 * whenever an agent hands the concern back. */
static void
s_settings (twin_t *twin, twin_own_t concern)
{
    char err[256];
    twin_cmd_t c;
    switch (concern) {
    case TWIN_OWN_LINE:
        s_flow_settings (twin);
        c = (twin_cmd_t) { .kind = TWIN_CMD_LINE_SPEED, .u.line_speed = { -1, 1.0 } };
        break;
    case TWIN_OWN_QUALITY:
        c = (twin_cmd_t) { .kind = TWIN_CMD_INSPECTION, .u.inspection = { S_BASELINE_SAMPLE_EVERY } };
        break;
    case TWIN_OWN_SEQUENCING:
        /* Due-date order, or the plant file's batches of one variant. */
        c = twin->flow.seq_rule_cfg == TWIN_SEQ_BATCH
                ? (twin_cmd_t) { .kind = TWIN_CMD_BATCH_SEQUENCE,
                                 .u.batch = { TWIN_SEQ_BATCH, twin->flow.batch_size_cfg } }
                : (twin_cmd_t) { .kind = TWIN_CMD_BATCH_SEQUENCE, .u.batch = { TWIN_SEQ_EDD, 1 } };
        if (twin->flow.seq_rule == c.u.batch.rule && twin->flow.batch_size == c.u.batch.batch_size)
            return;             /* already so: a new batch would start needlessly */
        break;
    case TWIN_OWN_ENERGY:
        if (twin->energy.batt_cap_kwh > 0) {
            c = (twin_cmd_t) { .kind = TWIN_CMD_BATTERY, .u.battery = { 0 } };
            twin_apply (twin, &c, err, sizeof err);
        }
        /* energy (issue 11): held loads run again (the conventional plant
         * runs them as they come). */
        for (int l = 0; l < twin->energy.n_loads; l++)
            if (!twin->energy.load[l].critical && twin->energy.load[l].hold_until_s > 0) {
                c = (twin_cmd_t) { .kind = TWIN_CMD_DEFER_LOAD, .u.defer = { l, 0 } };
                twin_apply (twin, &c, err, sizeof err);
            }
        c = (twin_cmd_t) { .kind = TWIN_CMD_HVAC, .u.hvac = { twin->energy.hvac_setpoint_cfg_c } };
        break;
    default:
        return;
    }
    twin_apply (twin, &c, err, sizeof err);
}

/* Preventive maintenance at the maker's interval, by a technician. */
static void
s_baseline_pm (twin_t *twin, const twin_obs_t *obs)
{
    char err[256];
    for (int i = 0; i < obs->n_stations; i++) {
        const twin_station_obs_t *s = &obs->stations[i];
        double interval = s->pm_interval_h;
        if (interval > 0 && s->hours_since_pm >= interval && !s->pm_pending
            && s->state != TWIN_ST_DOWN && s->state != TWIN_ST_MAINT) {
            twin_cmd_t c = { .kind = TWIN_CMD_MAINTENANCE, .u.maintenance = { i, false } };
            twin_apply (twin, &c, err, sizeof err);
        }
    }
}

/* Rovers: service at the maker's interval of work hours (odometer). */
static void
s_baseline_rovers (twin_t *twin)
{
    char err[256];
    for (int r = 0; twin->project.rover_service_every_s > 0 && r < twin->n_robots; r++) {
        const twin_robot_t *rb = &twin->robot[r];
        if (rb->work_s >= twin->project.rover_service_every_s && !rb->service_pending && !rb->down) {
            twin_cmd_t c = { .kind = TWIN_CMD_ROVER_SERVICE, .u.rover = { r, false } };
            twin_apply (twin, &c, err, sizeof err);
        }
    }
}

/* Quality (issue 11): recalibration at the maker's interval of cycles. */
static void
s_baseline_recal (twin_t *twin)
{
    char err[256];
    for (int i = 0; i < twin->n_stations; i++) {
        const twin_station_q_t *q = &twin->st[i].q;
        if (q->on && q->recal_every_units > 0 && q->units_since_cal >= q->recal_every_units && !q->cal_pending) {
            twin_cmd_t c = { .kind = TWIN_CMD_RECALIBRATE, .u.recal = { i } };
            twin_apply (twin, &c, err, sizeof err);
        }
    }
}

/* Spares (issue 11): min/max, the usual MRO stores rule. */
static void
s_baseline_spares (twin_t *twin, const twin_obs_t *obs)
{
    char err[256];
    for (int c = 0; c < TWIN_COMPONENT_KINDS; c++) {
        const twin_spare_t *k = &twin->health.spare[c];
        double position = obs->spares_stock[c] + obs->spares_on_order[c];
        if (k->managed && position <= k->min && k->max - position >= 1) {
            twin_cmd_t c2 = { .kind = TWIN_CMD_SPARES, .u.spares = { c, k->max - position } };
            twin_apply (twin, &c2, err, sizeof err);
        }
    }
}

/* The fixed (R, Q) reorder of every part the plant buys. */
static void
s_baseline_reorder (twin_t *twin, const twin_obs_t *obs)
{
    char err[256];
    double review_h = twin->epoch_s / 3600.0;
    for (int p = 0; p < obs->n_parts; p++) {
        const twin_part_obs_t *pt = &obs->parts[p];
        const twin_part_t *cfg = &twin->part[p];
        if (cfg->delivery_every_s > 0)
            continue;           /* scheduled delivery only: nothing to order */
        double R = cfg->reorder_point > 0 ? cfg->reorder_point : s_reorder_point (cfg, review_h);
        double Q = cfg->order_qty > 0 ? cfg->order_qty : ceil (pt->avg_use_per_h * S_BASELINE_COVER_H);
        if (Q < 1)
            continue;
        if (pt->warehouse + pt->bin + pt->on_order <= R) {
            twin_cmd_t c = { .kind = TWIN_CMD_REORDER, .u.reorder = { p, Q } };
            twin_apply (twin, &c, err, sizeof err);
        }
    }
}

/* The settings of every concern nobody owns, at the start and whenever an
 * agent hands one back. */
static void
s_baseline_settings (twin_t *twin, const twin_obs_t *obs)
{
    for (int c = 0; c < TWIN_OWN_COUNT; c++)
        if ((obs->epoch == 0 || twin__own_returned (twin, (twin_own_t) c)) && !twin_owned (twin, (twin_own_t) c))
            s_settings (twin, (twin_own_t) c);
}

static void
s_baseline_epoch (void *ctx, twin_t *twin, const twin_obs_t *obs)
{
    (void) ctx;
    s_baseline_settings (twin, obs);
    bool maint = !twin_owned (twin, TWIN_OWN_MAINTENANCE);
    if (maint)
        s_baseline_pm (twin, obs);
    if (maint)
        s_baseline_rovers (twin);
    if (maint)
        s_baseline_spares (twin, obs);
    if (!twin_owned (twin, TWIN_OWN_QUALITY))
        s_baseline_recal (twin);
    if (!twin_owned (twin, TWIN_OWN_REPLENISHMENT))
        s_baseline_reorder (twin, obs);
}

int
twin_policy_baseline (twin_t *self, twin_policy_t *out)
{
    (void) self;
    *out = (twin_policy_t) { "baseline", NULL, s_baseline_epoch, NULL };
    return 0;
}

/* ------------------------------------------------------------ the perfect-information bound
 *
 * What a controller could reach if it saw the plant's hidden state: offline
 * only (autofab eval's bound column, `autofab-twin --policy bound`), never on
 * the bus.  It acts through the same commands as any controller, so its KPIs
 * are reachable by some policy; it reads what no controller may read.  One
 * bound per concern, each run alone with every other concern as the
 * baseline (their gains trade against each other: catching more defects
 * means more rework by hand, so no single run bounds every KPI):
 *  - bound:maintenance: each wearing part is replaced by a mobile robot
 *    shortly before its true life runs out (actual limit and wear are
 *    hidden), so no wear breakdown happens and no interval PM is needed;
 *    random failures stay, as no command can prevent them;
 *  - bound:quality: every unit is inspected at the end of the line. */

/* Busy hours ahead a replacement is ordered: the order waits for the next
 * free robot, which travels and swaps, so cover a few epochs and the
 * longest trip. */
#define S_BOUND_EPOCHS_AHEAD 3
#define S_BOUND_TRIP_S       900.0

typedef struct {
    twin_own_t concern;         /* the one concern the oracle runs */
    double *ordered;            /* [station × component]: wear when ordered, −1 none */
    int n;
} s_bound_t;

static void
s_bound_destroy (void *ctx)
{
    s_bound_t *b = ctx;
    if (b)
        free (b->ordered);
    free (b);
}

/* Busy hours until part C of station S reaches its hidden life at the
 * present speed, with the heaviest variant's load. */
static double
s_bound_hours_left (const twin_t *twin, const twin_station_t *s, int c)
{
    const twin_component_t *k = &s->comp[c];
    double load = 1.0;
    for (int v = 0; v < twin->n_variants; v++)
        load = fmax (load, twin->var[v].load);
    double lube = (c == TWIN_C_BEARING || c == TWIN_C_JOINT) && s->comp[TWIN_C_LUBE].present
                      ? 1.0 + 2.0 * s->comp[TWIN_C_LUBE].wear : 1.0;
    double rate = k->rate_per_h * pow (fmax (s->speed, 1e-3), k->speed_exp) * lube * load
                  * fmax (twin->site.wear_mult, 1.0);
    return rate > 0 ? (k->life - k->wear) / rate : INFINITY;
}

/* The robot with the shortest queue, idle ones first; −1 when none can take
 * a task. */
static int
s_bound_robot (const twin_t *twin)
{
    int best = -1;
    for (int r = 0; r < twin->n_robots; r++) {
        const twin_robot_t *rb = &twin->robot[r];
        if (rb->down || rb->q_n >= 16)
            continue;
        if (best < 0 || rb->q_n + rb->busy < twin->robot[best].q_n + twin->robot[best].busy)
            best = r;
    }
    return best;
}

static void
s_bound_maintenance (s_bound_t *b, twin_t *twin)
{
    char err[256];
    double ahead_h = (S_BOUND_EPOCHS_AHEAD * twin->epoch_s + S_BOUND_TRIP_S) / 3600.0;
    for (int i = 0; i < twin->n_stations; i++) {
        twin_station_t *s = &twin->st[i];
        for (int c = 0; c < TWIN_COMP_COUNT; c++) {
            double *ordered = &b->ordered[i * TWIN_COMP_COUNT + c];
            if (!s->comp[c].present)
                continue;
            if (*ordered >= 0 && s->comp[c].wear < *ordered)
                *ordered = -1;          /* replaced since */
            if (*ordered >= 0 || s_bound_hours_left (twin, s, c) > ahead_h)
                continue;
            if (s->state == TWIN_ST_DOWN || s->state == TWIN_ST_MAINT)
                continue;               /* the repair under way renews it */
            /* A robot's swap where one may and a spare is there, else a
             * planned replacement by a technician (stops the station). */
            int r = twin->n_robots > 0 && twin->fleet.robot_can_repair ? s_bound_robot (twin) : -1;
            twin_cmd_t cmd = { .kind = TWIN_CMD_TASK_ASSIGN, .u.task = { r, TWIN_TASK_REPAIR, i, -1, c } };
            bool ok = r >= 0 && twin_apply (twin, &cmd, err, sizeof err) == 0;
            if (!ok) {
                cmd = (twin_cmd_t) { .kind = TWIN_CMD_REPLACE, .u.service = { i, c, false } };
                ok = twin_apply (twin, &cmd, err, sizeof err) == 0;
            }
            if (ok)
                *ordered = s->comp[c].wear;
        }
    }
}

static void
s_bound_epoch (void *ctx, twin_t *twin, const twin_obs_t *obs)
{
    s_bound_t *b = ctx;
    char err[256];
    s_baseline_settings (twin, obs);
    if (b->concern == TWIN_OWN_QUALITY && twin->quality.sample_every != 1) {
        twin_cmd_t c = { .kind = TWIN_CMD_INSPECTION, .u.inspection = { 1 } };
        twin_apply (twin, &c, err, sizeof err);
    }
    bool oracle = b->concern == TWIN_OWN_MAINTENANCE && !twin->project.n_ptasks;
    if (oracle)
        s_bound_maintenance (b, twin);
    else
        s_baseline_pm (twin, obs);
    s_baseline_rovers (twin);
    s_baseline_spares (twin, obs);
    s_baseline_recal (twin);
    s_baseline_reorder (twin, obs);
}

const char *const twin_bound_policies[] = { "bound:maintenance", "bound:quality", NULL };

int
twin_policy_bound (twin_t *self, twin_own_t concern, twin_policy_t *out)
{
    if (concern != TWIN_OWN_MAINTENANCE && concern != TWIN_OWN_QUALITY)
        return -1;
    s_bound_t *b = calloc (1, sizeof *b);
    if (!b)
        return -1;
    b->concern = concern;
    b->n = self->n_stations * TWIN_COMP_COUNT;
    b->ordered = malloc ((size_t) (b->n > 0 ? b->n : 1) * sizeof *b->ordered);
    if (!b->ordered) {
        free (b);
        return -1;
    }
    for (int i = 0; i < b->n; i++)
        b->ordered[i] = -1;
    *out = (twin_policy_t) { concern == TWIN_OWN_QUALITY ? "bound:quality" : "bound:maintenance", b,
                             s_bound_epoch, s_bound_destroy };
    return 0;
}

int
twin_policy_by_name (twin_t *self, const char *name, twin_policy_t *out)
{
    if (name && !strcmp (name, "baseline"))
        return twin_policy_baseline (self, out);
    if (name && !strcmp (name, "bound:maintenance"))
        return twin_policy_bound (self, TWIN_OWN_MAINTENANCE, out);
    if (name && !strcmp (name, "bound:quality"))
        return twin_policy_bound (self, TWIN_OWN_QUALITY, out);
    *out = (twin_policy_t) { "none", NULL, NULL, NULL };
    return name && !strcmp (name, "none") ? 0 : -1;
}
