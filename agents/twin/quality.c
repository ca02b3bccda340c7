/*  twin quality — defects made at each station (driven by wear, speed and
 *  heat), the in-line measurements a controller can run SPC on, and the
 *  end-of-line sampling inspection that finds some defects and ships the rest.
 *
 *  Issue 11 adds the in-line process: each station's process drifts (tool
 *  wear lowers the torque, the fixture walks out of alignment) and so do
 *  its gauges; a unit is defective when its true value leaves the
 *  tolerance, and controllers see only noisy, drifting readings, so alarms
 *  on raw readings give false alarms.  A recalibration (a short stop)
 *  re-zeroes process and gauges.  Inspection takes inspectors' time and has
 *  a bench of limited size; rework, scrap and field returns cost money; an
 *  escape comes back from the field weeks later, the only way the truth
 *  about it reaches a controller (DESIGN §4).
 */
#include "twin_int.h"
#include "af_log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const twin__defect_names[TWIN_DEFECT_COUNT + 1] = {
    "micro_defect", "misalignment", "torque", "thermal_hotspot", "contamination", NULL
};
/* The driven kinds, then the skipped step (issue 11). */
const char *const twin__defect_kind_names[TWIN_DEFECT_KINDS + 1] = {
    "micro_defect", "misalignment", "torque", "thermal_hotspot", "contamination", "skipped_step", NULL
};
enum { S_DEFECT_MISALIGN = 1, S_DEFECT_TORQUE = 2 };

const char *
twin_defect_kind_name (int kind)
{
    return kind >= 0 && kind < TWIN_DEFECT_KINDS ? twin__defect_kind_names[kind] : "?";
}

/* A unit leaves station S: maybe with a new defect (more likely on a worn,
 * fast or hot station), and with its in-line torque and alignment. */
void
twin__quality_unit (twin_station_t *s, twin_unit_t *u)
{
    double worst = twin__worst_wear (s);
    double hot = s->temp_c > 35.0 ? s->temp_c - 35.0 : 0;
    double fast = s->speed > 1.0 ? s->speed - 1.0 : 0;
    double p = s->defect_base_p * (1.0 + s->defect_wear_gain * worst * worst)
               * (1.0 + s->defect_speed_gain * fast) * (1.0 + s->defect_temp_gain * hot);
    double motor = twin__wear_frac (s, TWIN_C_MOTOR) + twin__wear_frac (s, TWIN_C_BEARING);
    double joint = twin__wear_frac (s, TWIN_C_JOINT) + twin__wear_frac (s, TWIN_C_BELT);
    int defect = -1;
    if (twin_rng_uniform (&s->rng_qual) < p) {
        /* Which defect: weighted by the cause that drove the probability up. */
        double w[TWIN_DEFECT_COUNT] = {
            1.0, 2.0 * joint, 2.0 * motor, 0.2 * hot, 2.0 * twin__wear_frac (s, TWIN_C_LUBE)
        };
        double sum = 0;
        for (int i = 0; i < TWIN_DEFECT_COUNT; i++)
            sum += w[i];
        double x = twin_rng_uniform (&s->rng_qual) * sum;
        for (defect = 0; defect < TWIN_DEFECT_COUNT - 1 && x >= w[defect]; defect++)
            x -= w[defect];
        u->defects |= 1u << defect;
        if (u->q_origin[defect] < 0)
            u->q_origin[defect] = (int16_t) s->index;
    }
    /* In-line measurements a controller can run SPC on. */
    s->torque_nm = s->torque_nominal_nm
                   * (1.0 + twin_rng_normal (&s->rng_qual, 0, 0.01 + 0.04 * motor)
                      + (defect == 2 ? 0.08 : 0));
    s->alignment_mm = fabs (twin_rng_normal (&s->rng_qual, 0, 0.02 + 0.1 * joint))
                      + (defect == 1 ? 0.3 : 0);
}

/* ------------------------------------------------------------ in-line process (issue 11) */

void
twin__quality_unit_new (twin_t *self, twin_unit_t *u)
{
    u->q_serial = ++self->quality.next_serial;
    if (u->q_serial == 0)
        u->q_serial = ++self->quality.next_serial;      /* 0 means "no unit" */
    for (int d = 0; d < TWIN_DEFECT_KINDS; d++)
        u->q_origin[d] = -1;
    u->q_divert = 0;
}

static void
s_defect (twin_unit_t *u, int kind, const twin_station_t *s)
{
    u->defects |= 1u << kind;
    if (u->q_origin[kind] < 0)
        u->q_origin[kind] = (int16_t) s->index;
}

/* The process offset walks with the station's busy time: a mean drift (tool
 * wear lowers the clamp torque, the fixture walks one way) and a random walk. */
static void
s_drift (twin_station_q_t *q, double busy_h)
{
    double step = q->drift_per_h * busy_h;
    double sd = q->drift_sd_per_h * sqrt (busy_h);
    double wt = sd > 0 ? twin_rng_normal (&q->rng_drift, 0, sd) : 0;
    double wa = sd > 0 ? twin_rng_normal (&q->rng_drift, 0, sd) : 0;
    q->off_torque += -step + wt;
    q->off_align += step + wa;
}

/* One gauge reading of a true deviation DEV (fractions of the tolerance). */
static double
s_read (twin_station_q_t *q, double dev, double bias)
{
    return dev + bias + (q->gauge_sd > 0 ? twin_rng_normal (&q->rng_gauge, 0, q->gauge_sd) : 0);
}

/* A unit leaves station S: maybe with its operation skipped; else its true
 * torque and alignment (process offset plus unit-to-unit scatter) decide
 * whether it is defective, and the gauges record what they read. */
void
twin__quality_inline (twin_t *self, twin_station_t *s, twin_unit_t *u)
{
    twin_station_q_t *q = &s->q;
    if (!q->on && q->skip_p <= 0)
        return;
    bool counted = des_now_s (self->des) >= self->t_stats_s;
    q->ep_units++;
    q->units_since_cal++;
    q->last_serial = u->q_serial;
    if (q->skip_p > 0 && twin_rng_uniform (&q->rng_drift) < q->skip_p) {
        s_defect (u, TWIN_DEFECT_SKIP, s);      /* no operation, so no record either */
        if (counted) {
            q->skipped++;
            self->quality.skipped++;
        }
        return;
    }
    if (!q->on)
        return;
    double busy = s->time_in_s[TWIN_ST_BUSY];
    double busy_h = busy > q->busy_seen_s ? (busy - q->busy_seen_s) / 3600.0 : 0;
    q->busy_seen_s = busy;
    s_drift (q, busy_h);
    double unit_sd = 1.0 / (3.0 * q->cp);
    q->ep_meas++;
    if (q->torque_tol > 0) {
        double dev = q->off_torque + twin_rng_normal (&q->rng_drift, 0, unit_sd);
        if (fabs (dev) > 1.0)
            s_defect (u, S_DEFECT_TORQUE, s);
        q->last_torque_nm = s->torque_nominal_nm * (1.0 + q->torque_tol * s_read (q, dev, q->bias_torque));
        q->ep_t_sum += q->last_torque_nm;
        q->ep_t_sq += q->last_torque_nm * q->last_torque_nm;
    }
    if (q->align_tol_mm > 0) {
        double dev = q->off_align + twin_rng_normal (&q->rng_drift, 0, unit_sd);
        if (fabs (dev) > 1.0)
            s_defect (u, S_DEFECT_MISALIGN, s);
        q->last_align_mm = q->align_tol_mm * s_read (q, dev, q->bias_align);
        q->ep_a_sum += q->last_align_mm;
        q->ep_a_max = fmax (q->ep_a_max, fabs (q->last_align_mm));
    }
}

/* Gauges drift with calendar time, whether the station runs or not; the
 * epoch's readings become the telemetry figures. */
void
twin__quality_epoch (twin_t *self, double dt_s)
{
    double h = dt_s > 0 ? dt_s / 3600.0 : 0;
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_q_t *q = &self->st[i].q;
        if (!q->on && q->skip_p <= 0)
            continue;
        if (q->on && q->sensor_drift_per_h > 0 && h > 0) {
            q->bias_torque += twin_rng_normal (&q->rng_gauge, 0, q->sensor_drift_per_h * sqrt (h));
            q->bias_align += twin_rng_normal (&q->rng_gauge, 0, q->sensor_drift_per_h * sqrt (h));
        }
        if (q->on && q->temp_drift_c_per_h > 0 && h > 0)
            q->bias_temp_c += twin_rng_normal (&q->rng_gauge, 0, q->temp_drift_c_per_h * sqrt (h));
        q->last_temp_c = self->st[i].temp_c + q->bias_temp_c;
        double n = q->ep_meas;
        q->tel_units = q->ep_units;
        q->tel_meas = n;
        q->tel_t_mean = n > 0 ? q->ep_t_sum / n : 0;
        q->tel_t_sd = n > 1 ? sqrt (fmax (0, (q->ep_t_sq - q->ep_t_sum * q->ep_t_sum / n) / (n - 1))) : 0;
        q->tel_a_mean = n > 0 ? q->ep_a_sum / n : 0;
        q->tel_a_max = q->ep_a_max;
        q->ep_units = q->ep_meas = q->ep_t_sum = q->ep_t_sq = q->ep_a_sum = q->ep_a_max = 0;
    }
}

/* ------------------------------------------------------------ recalibration */

static inline uint64_t
s_cal_arg (const twin_station_t *s)
{
    return ((uint64_t) s->q.cal_gen << 32) | (uint32_t) s->index;
}

/* Downtime by cause (health.c) books a recalibration as planned ("pm"),
 * from its start (or the window's) to END. */
static void
s_planned_down (twin_t *self, const twin_station_q_t *q, double end_s)
{
    double from = fmax (q->cal_started_s, self->t_stats_s);
    if (end_s > from)
        self->health.down_by_cause_s[TWIN_CAUSE_PM] += end_s - from;
}

static void
s_cal_done (des_t *des, void *ctx, uint64_t arg)
{
    twin_t *self = ctx;
    twin_station_t *s = &self->st[(uint32_t) arg];
    twin_station_q_t *q = &s->q;
    if ((uint32_t) (arg >> 32) != q->cal_gen || !q->cal_active)
        return;
    q->cal_active = false;
    double now = des_now_s (des);
    if (s->failures != q->cal_failures || s->state != TWIN_ST_MAINT) {
        /* A breakdown stopped it (it runs again at the next boundary): its
         * planned part ended when the breakdown began. */
        double end = fmin (fmax (s->repair_started_s, q->cal_started_s), now);
        s_planned_down (self, q, end);
        return;
    }
    s_planned_down (self, q, now);
    q->off_torque = q->off_align = 0;
    q->bias_torque = q->bias_align = q->bias_temp_c = 0;
    q->cal_pending = false;
    q->units_since_cal = 0;
    q->t_cal_s = now;
    if (q->t_cal_s >= self->t_stats_s) {
        q->recals++;
        self->quality.recals++;
    }
    twin__maint_log (self, s->index, "recalibrate", "drift", false);
    twin__station_resume (self, s);
}

bool
twin__quality_try_cal (twin_t *self, twin_station_t *s)
{
    twin_station_q_t *q = &s->q;
    if (!q->cal_pending || s->state != TWIN_ST_STARVED || s->unit >= 0)
        return false;
    if (q->cal_active && s->failures == q->cal_failures)
        return false;
    s->resume_state = TWIN_ST_STARVED;
    twin__station_set_state (self, s, TWIN_ST_MAINT);
    q->cal_active = true;
    q->cal_gen++;
    q->cal_failures = s->failures;
    q->cal_started_s = des_now_s (self->des);
    s->repair_started_s = q->cal_started_s;    /* downtime by cause counts it while it runs */
    des_schedule (self->des, q->recal_s, s_cal_done, self, s_cal_arg (s));
    return true;
}

int
twin__quality_cal_check (const twin_t *self, int station, char *err, size_t len)
{
    if (station < 0 || station >= self->n_stations)
        return twin__fail (err, len, "unknown station %d (0..%d)", station, self->n_stations - 1);
    const twin_station_t *s = &self->st[station];
    if (!s->q.on)
        return twin__fail (err, len, "station '%s' has no in-line gauges to recalibrate "
                           "(quality.torque_tol_pct or align_tol_mm)", s->name);
    if (s->q.cal_pending)
        return twin__fail (err, len, "station '%s' already has a recalibration pending", s->name);
    return 0;
}

/* Recalibrates at the station's next unit boundary (at once when it is idle). */
void
twin__quality_cal_order (twin_t *self, int station)
{
    twin_station_t *s = &self->st[station];
    s->q.cal_pending = true;
    twin__quality_try_cal (self, s);
}

/* ------------------------------------------------------------ divert */

static twin_unit_t *
s_unit_by_serial (const twin_t *self, uint32_t serial)
{
    for (int id = 0; serial && id < self->flow.n_units_cap; id++)
        if (self->flow.units[id].q_serial == serial && !self->flow.units[id].lost)
            return &self->flow.units[id];
    return NULL;
}

int
twin__quality_divert_check (const twin_t *self, int station, double serial, int to, char *err, size_t len)
{
    if (to < 0 || to > 1)
        return twin__fail (err, len, "divert target %d: rework or scrap", to);
    if (!(serial >= 0 && serial <= 4294967295.0) || serial != floor (serial))
        return twin__fail (err, len, "unit serial %.6g is not a whole number 0 .. 4294967295", serial);
    uint32_t sn = (uint32_t) serial;
    if (sn == 0) {
        if (station < 0 || station >= self->n_stations)
            return twin__fail (err, len, "a divert names the unit's serial or a station (its last unit)");
        sn = self->st[station].q.last_serial;
        if (!sn)
            return twin__fail (err, len, "station '%s' has finished no unit yet", self->st[station].name);
    }
    const twin_unit_t *u = s_unit_by_serial (self, sn);
    if (!u)
        return twin__fail (err, len, "unit %u is no longer on the line (shipped or scrapped)", sn);
    if (u->q_divert)
        return twin__fail (err, len, "unit %u is already diverted", sn);
    return 0;
}

/* The unit is tagged and taken off at the end of the line (it rides on, as
 * a red-tagged unit does, and goes to the rework bay or scrap there). */
void
twin__quality_divert (twin_t *self, int station, double serial, int to)
{
    uint32_t sn = serial > 0 ? (uint32_t) serial : self->st[station].q.last_serial;
    twin_unit_t *u = s_unit_by_serial (self, sn);
    if (u)
        u->q_divert = (uint8_t) (1 + to);
}

/* ------------------------------------------------------------ field returns */

static int
s_grow (twin_field_return_t **a, size_t n, size_t *cap)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? 2 * *cap : 64;
    twin_field_return_t *r = realloc (*a, c * sizeof *r);
    if (!r) {
        AF_LOG_ONCE (AF_LOG_ERROR, "twin: out of memory recording field returns");
        return -1;
    }
    *a = r;
    *cap = c;
    return 0;
}

/* An escape comes back from the field; its event carries its pending index. */
static void
s_return_due (des_t *des, void *ctx, uint64_t arg)
{
    twin_t *self = ctx;
    twin_quality_t *q = &self->quality;
    if (arg >= q->pending_n || s_grow (&q->returns, q->returns_n, &q->returns_cap))
        return;
    twin_field_return_t r = q->pending[arg];
    r.t_h = des_now_s (des) / 3600.0;
    q->returns[q->returns_n++] = r;
    if (r.shipped_h * 3600.0 >= self->t_stats_s)
        q->field_returns++;
}

/* An escape ships: a share of them come back, after a delay. */
static void
s_escape (twin_t *self, const twin_unit_t *u)
{
    twin_quality_t *q = &self->quality;
    if (q->return_p <= 0 || twin_rng_uniform (&q->return_rng) >= q->return_p)
        return;
    if (s_grow (&q->pending, q->pending_n, &q->pending_cap))
        return;
    int station = -1;
    for (int d = 0; d < TWIN_DEFECT_KINDS && station < 0; d++)
        if (u->defects & (1u << d))
            station = u->q_origin[d];
    q->pending[q->pending_n] = (twin_field_return_t) { -1, des_now_s (self->des) / 3600.0, u->q_serial,
                                                       u->defects, station };
    des_schedule (self->des, twin_dist_sample (&q->return_delay_s, &q->return_rng), s_return_due, self,
                  q->pending_n);
    q->pending_n++;
}

const twin_field_return_t *
twin_field_returns (const twin_t *self, size_t *n)
{
    if (n)
        *n = self ? self->quality.returns_n : 0;
    return self ? self->quality.returns : NULL;
}

/* ------------------------------------------------------------ end of line */

/* The inspectors' bench (pooled): a sampled unit waits its turn; when the
 * bench already holds inspect_queue units, the sample is skipped.  True
 * when the unit is inspected. */
static bool
s_bench (twin_t *self)
{
    twin_quality_t *q = &self->quality;
    if (q->inspect_s <= 0) {
        q->inspected++;
        return true;
    }
    double now = des_now_s (self->des), per_s = q->inspect_s / q->inspectors;
    double start = fmax (now, q->t_inspector_free_s);
    if (start - now > q->inspect_queue * per_s) {
        q->inspect_missed++;
        return false;
    }
    q->t_inspector_free_s = start + per_s;
    q->inspected++;
    q->inspect_h += q->inspect_s / 3600.0;
    return true;
}

/* A unit tagged by a divert command leaves at the end of the line for the
 * rework bay (fully checked and put right, by hand) or scrap.  True when it
 * ships as a good unit. */
static bool
s_diverted (twin_t *self, const twin_unit_t *u)
{
    twin_quality_t *q = &self->quality;
    q->diverted++;
    if (!u->defects)
        q->false_diverts++;
    if (u->q_divert == 2) {
        q->scrap++;
        return false;
    }
    q->rework++;
    q->rework_h += q->rework_s / 3600.0;
    self->manual++;
    return true;
}

/* A finished unit leaves the line: one in sample_every is inspected, and a
 * defect found is reworked (by hand) or scrapped; the rest ship, defective
 * or not.  True when it ships as a good unit (reworked included). */
bool
twin__quality_ship (twin_t *self, twin_unit_t *u)
{
    twin_quality_t *q = &self->quality;
    bool good;
    if (u->q_divert) {
        good = s_diverted (self, u);
        u->q_serial = 0;
        return good;
    }
    bool sampled = q->sample_every > 0 && ++q->sample_count >= q->sample_every;
    if (sampled)
        q->sample_count = 0;
    if (sampled)
        sampled = s_bench (self);
    bool detected = false;
    if (sampled && u->defects)
        for (int d = 0; d < TWIN_DEFECT_KINDS; d++) {
            double p = d < TWIN_DEFECT_COUNT ? q->detect_p[d] : q->detect_skip_p;
            if ((u->defects & (1u << d)) && twin_rng_uniform (&q->qual_rng) < p) {
                detected = true;
                if (u->q_origin[d] >= 0)
                    self->st[u->q_origin[d]].q.found[d]++;
            }
        }
    u->q_serial = 0;
    if (!detected) {
        if (u->defects) {
            q->escaped++;
            s_escape (self, u);
        }
        return true;
    }
    q->defects_found++;
    if (twin_rng_uniform (&q->qual_rng) < q->rework_p) {
        q->rework++;
        q->rework_h += q->rework_s / 3600.0;
        self->manual++;        /* rework is done by hand at the rework bay */
        return true;
    }
    q->scrap++;
    return false;
}

/* ------------------------------------------------------------ KPIs */

void
twin__quality_kpis (const twin_t *self, twin_kpi_t *k)
{
    const twin_quality_t *q = &self->quality;
    k->inspection_cost = q->inspect_h * q->labour_per_h;
    k->rework_cost = q->rework * q->rework_cost + q->rework_h * q->labour_per_h;
    k->scrap_cost = q->scrap * q->scrap_cost;
    k->field_return_cost = q->field_returns * q->return_cost;
    k->quality_cost = k->inspection_cost + k->rework_cost + k->scrap_cost + k->field_return_cost;
    k->field_returns = q->field_returns;
    k->inspections = q->inspected;
    k->inspections_missed = q->inspect_missed;
    k->diverted_units = q->diverted;
    k->false_diverts = q->false_diverts;
    k->skipped_steps = q->skipped;
    k->recalibrations = q->recals;
}

/* ------------------------------------------------------------ hooks */

static const char *const s_quality_keys[] = {
    "sample_every", "detect_p", "rework_p",
    /* issue 11 */
    "inspect_min", "inspectors", "inspect_queue", "labour_per_h", "rework_min", "rework_cost",
    "scrap_cost", "field_return_p", "field_return_days", "field_return_cost", NULL
};

/* Issue 11: capacity, costs and field returns; absent keys cost nothing. */
static void
s_load_costs (twin_t *self, const af_config_t *q)
{
    twin_quality_t *qu = &self->quality;
    qu->inspect_s = 60.0 * af_config_num (q, "inspect_min", 0, 0, 1e4);
    qu->inspectors = af_config_int (q, "inspectors", 1, 1, 1000);
    qu->inspect_queue = af_config_int (q, "inspect_queue", 10, 0, 1000000);
    qu->labour_per_h = af_config_num (q, "labour_per_h", 0, 0, 1e6);
    qu->rework_s = 60.0 * af_config_num (q, "rework_min", 0, 0, 1e5);
    qu->rework_cost = af_config_num (q, "rework_cost", 0, 0, 1e9);
    qu->scrap_cost = af_config_num (q, "scrap_cost", 0, 0, 1e9);
    qu->return_p = af_config_num (q, "field_return_p", 0, 0, 1);
    qu->return_cost = af_config_num (q, "field_return_cost", 0, 0, 1e9);
    twin__cfg_dist (&qu->return_delay_s, q, "field_return_days", 86400.0, 60);
    twin_rng_seed (&qu->return_rng, self->seed, "quality/returns");
}

int
twin__quality_load (twin_t *self, const af_config_t *root)
{
    twin_quality_t *qu = &self->quality;
    const af_config_t *q = twin__cfg_map (root, "quality", s_quality_keys);
    qu->sample_every = (int) af_config_int (q, "sample_every", 20, 0, 1000000);
    const af_config_t *dp = q ? af_config_get (q, "detect_p") : NULL;
    for (int d = 0; d < TWIN_DEFECT_COUNT; d++)
        qu->detect_p[d] = 0.9;
    qu->detect_skip_p = 0.9;
    if (dp && af_config_kind (dp) == AF_CONFIG_SCALAR) {
        double v = af_config_num (q, "detect_p", 0.9, 0, 1);
        for (int d = 0; d < TWIN_DEFECT_COUNT; d++)
            qu->detect_p[d] = v;
        qu->detect_skip_p = v;
    }
    else if (dp) {
        af_config_known_keys (dp, twin__defect_kind_names);
        for (int d = 0; d < TWIN_DEFECT_COUNT; d++)
            qu->detect_p[d] = af_config_num (dp, twin__defect_names[d], 0.9, 0, 1);
        qu->detect_skip_p = af_config_num (dp, "skipped_step", 0.9, 0, 1);
    }
    qu->rework_p = af_config_num (q, "rework_p", 0.7, 0, 1);
    twin_rng_seed (&qu->qual_rng, self->seed, "quality");
    s_load_costs (self, q);
    return af_config_error (root) ? -1 : 0;
}

/* A station's in-line process (issue 11), from its quality map Q (may be NULL). */
int
twin__quality_station_load (twin_station_t *s, const af_config_t *q, uint64_t seed)
{
    twin_station_q_t *sq = &s->q;
    sq->cp = af_config_num (q, "cp", 1.33, 0.1, 10);
    sq->torque_tol = af_config_num (q, "torque_tol_pct", 0, 0, 100) / 100.0;
    sq->align_tol_mm = af_config_num (q, "align_tol_mm", 0, 0, 1000);
    sq->drift_per_h = af_config_num (q, "drift_pct_per_h", 0, 0, 1e4) / 100.0;
    sq->drift_sd_per_h = af_config_num (q, "drift_sd_pct_per_h", 0, 0, 1e4) / 100.0;
    sq->sensor_drift_per_h = af_config_num (q, "sensor_drift_pct_per_h", 0, 0, 1e4) / 100.0;
    sq->temp_drift_c_per_h = af_config_num (q, "temp_drift_c_per_h", 0, 0, 100);
    /* AIAG MSA: %GRR = 6 σ_gauge / (USL − LSL); the tolerance band is 2 wide here. */
    sq->gauge_sd = af_config_num (q, "grr_pct", 10, 0, 100) / 100.0 * 2.0 / 6.0;
    sq->skip_p = af_config_num (q, "skip_p", 0, 0, 1);
    sq->recal_s = 60.0 * af_config_num (q, "recal_min", 10, 0.1, 1e4);
    sq->recal_every_units = af_config_num (q, "recal_every_units", 0, 0, 1e9);
    sq->on = sq->torque_tol > 0 || sq->align_tol_mm > 0;
    sq->t_cal_s = -1;
    char stream[TWIN_NAME_MAX + 32];
    snprintf (stream, sizeof stream, "%s/drift", s->name);
    twin_rng_seed (&sq->rng_drift, seed, stream);
    snprintf (stream, sizeof stream, "%s/gauge", s->name);
    twin_rng_seed (&sq->rng_gauge, seed, stream);
    return 0;
}

void
twin__quality_reset (twin_t *self)
{
    twin_quality_t *q = &self->quality;
    q->scrap = q->rework = q->escaped = q->defects_found = 0;
    q->inspected = q->inspect_missed = q->inspect_h = q->rework_h = 0;
    q->field_returns = q->diverted = q->false_diverts = q->skipped = q->recals = 0;
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_q_t *sq = &self->st[i].q;
        sq->busy_seen_s = 0;    /* flow's reset zeroed the time in state */
        sq->skipped = sq->recals = 0;
        memset (sq->found, 0, sizeof sq->found);
    }
}

void
twin__quality_destroy (twin_t *self)
{
    free (self->quality.pending);
    free (self->quality.returns);
    twin_dist_free (&self->quality.return_delay_s);
}

/* What-if: every quality stream is replaced, and the hidden process and
 * gauge offsets are drawn again from their law given what the plant knows —
 * the cycles and hours since the last recalibration — as health redraws
 * lives given age.  (What the readings since then tell is not used: a
 * forecast is at most as good as that prior.) */
void
twin__quality_redraw (twin_t *self, uint64_t salt)
{
    twin_rng_reseed (&self->quality.return_rng, salt);
    double now = des_now_s (self->des);
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        twin_station_q_t *q = &s->q;
        twin_rng_reseed (&q->rng_drift, salt);
        twin_rng_reseed (&q->rng_gauge, salt);
        if (!q->on)
            continue;
        double busy_h = q->units_since_cal * s->process_s.mean / fmax (s->speed, 0.1) / 3600.0;
        double cal_h = (now - fmax (q->t_cal_s, 0)) / 3600.0;
        q->off_torque = q->off_align = 0;
        s_drift (q, busy_h);
        double sd = q->sensor_drift_per_h * sqrt (cal_h);
        q->bias_torque = sd > 0 ? twin_rng_normal (&q->rng_gauge, 0, sd) : 0;
        q->bias_align = sd > 0 ? twin_rng_normal (&q->rng_gauge, 0, sd) : 0;
        double sd_c = q->temp_drift_c_per_h * sqrt (cal_h);
        q->bias_temp_c = sd_c > 0 ? twin_rng_normal (&q->rng_gauge, 0, sd_c) : 0;
    }
}
