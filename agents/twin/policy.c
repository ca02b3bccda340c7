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
 *   - orders released as they arrive, in due-date order (push, no WIP cap),
 *     or in fixed-size batches of one variant where the plant file asks for
 *     them (long changeovers);
 *   - rovers (project plants) serviced at the maker's interval of work hours
 *     (robots.wear.service_every_h), by a technician.
 *  It keeps no state of its own, so a what-if fork that installs a fresh one
 *  behaves exactly like the live one.
 */
#include "twin_int.h"

#include <math.h>
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

/* The baseline's settings for CONCERN: applied at the start, and again
 * whenever an agent hands the concern back. */
static void
s_settings (twin_t *twin, twin_own_t concern)
{
    char err[256];
    twin_cmd_t c;
    switch (concern) {
    case TWIN_OWN_LINE:
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

static void
s_baseline_epoch (void *ctx, twin_t *twin, const twin_obs_t *obs)
{
    (void) ctx;
    char err[256];
    for (int c = 0; c < TWIN_OWN_COUNT; c++)
        if ((obs->epoch == 0 || twin__own_returned (twin, (twin_own_t) c)) && !twin_owned (twin, (twin_own_t) c))
            s_settings (twin, (twin_own_t) c);
    /* Preventive maintenance at the maker's interval, by a technician. */
    bool maint = !twin_owned (twin, TWIN_OWN_MAINTENANCE);
    for (int i = 0; maint && i < obs->n_stations; i++) {
        const twin_station_obs_t *s = &obs->stations[i];
        double interval = s->pm_interval_h;
        if (interval > 0 && s->hours_since_pm >= interval && !s->pm_pending
            && s->state != TWIN_ST_DOWN && s->state != TWIN_ST_MAINT) {
            twin_cmd_t c = { .kind = TWIN_CMD_MAINTENANCE, .u.maintenance = { i, false } };
            twin_apply (twin, &c, err, sizeof err);
        }
    }
    /* Rovers: service at the maker's interval of work hours (odometer). */
    for (int r = 0; maint && twin->project.rover_service_every_s > 0 && r < twin->n_robots; r++) {
        const twin_robot_t *rb = &twin->robot[r];
        if (rb->work_s >= twin->project.rover_service_every_s && !rb->service_pending && !rb->down) {
            twin_cmd_t c = { .kind = TWIN_CMD_ROVER_SERVICE, .u.rover = { r, false } };
            twin_apply (twin, &c, err, sizeof err);
        }
    }
    double review_h = twin->epoch_s / 3600.0;
    for (int p = 0; !twin_owned (twin, TWIN_OWN_REPLENISHMENT) && p < obs->n_parts; p++) {
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

int
twin_policy_baseline (twin_t *self, twin_policy_t *out)
{
    (void) self;
    *out = (twin_policy_t) { "baseline", NULL, s_baseline_epoch, NULL };
    return 0;
}

int
twin_policy_by_name (twin_t *self, const char *name, twin_policy_t *out)
{
    if (name && !strcmp (name, "baseline"))
        return twin_policy_baseline (self, out);
    *out = (twin_policy_t) { "none", NULL, NULL, NULL };
    return name && !strcmp (name, "none") ? 0 : -1;
}
