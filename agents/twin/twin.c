/*  twin — life cycle, decision epochs, observation, commands and telemetry.
 *
 *  The plant's physics live in model.c (flow, health, quality, robots) and
 *  energy.c (power, heat, supply); this file is the embeddable face of the
 *  twin: build from YAML, start / iterate / run / stop, the epoch at which
 *  policies and the bus wrapper see telemetry and issue commands, and the
 *  command validator.
 */
#include "twin_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const s_state_names[TWIN_ST_COUNT] = {
    "starved", "busy", "blocked", "down", "maintenance", "setup"
};
static const char *const s_cmd_names[TWIN_CMD_COUNT] = {
    "line_speed", "batch_sequence", "task_assign", "maintenance", "routing",
    "battery", "hvac", "inspection", "reorder", "rover_service"
};

const char *
twin_state_name (twin_state_t state)
{
    return state < TWIN_ST_COUNT ? s_state_names[state] : "?";
}

const char *
twin_cmd_name (twin_cmd_kind_t kind)
{
    return kind < TWIN_CMD_COUNT ? s_cmd_names[kind] : "?";
}

static void s_observe (twin_t *self);

/* ------------------------------------------------------------ life cycle */

twin_t *
twin__new (const char *text, size_t len, const char *name, uint64_t seed, char *err, size_t err_len)
{
    af_config_t *root = af_config_parse (text, len, name, err, err_len);
    if (!root)
        return NULL;
    twin_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        goto fail;
    }
    self->seed = seed;
    snprintf (self->config_name, sizeof self->config_name, "%s", name);
    self->config_text = malloc (len + 1);
    self->des = des_new ();
    if (!self->config_text || !self->des) {
        snprintf (err, err_len, "out of memory");
        goto fail;
    }
    memcpy (self->config_text, text, len);
    self->config_text[len] = 0;
    self->config_len = len;
    if (twin__load (self, root)) {
        snprintf (err, err_len, "%s", af_config_error (root) ? af_config_error (root) : "bad config");
        goto fail;
    }
    self->st_obs = calloc ((size_t) self->n_stations, sizeof *self->st_obs);
    self->part_obs = calloc ((size_t) (self->n_parts ? self->n_parts : 1), sizeof *self->part_obs);
    self->robot_busy_obs = calloc ((size_t) (self->n_robots ? self->n_robots : 1), sizeof (int));
    if (!self->st_obs || !self->part_obs || !self->robot_busy_obs) {
        snprintf (err, err_len, "out of memory");
        goto fail;
    }
    /* Planned consumption per part, for the baseline's (R, Q) and for
     * controllers: mix × BOM × the line's nameplate rate. */
    double ct_max = 0;
    for (int i = 0; i < self->n_stations; i++)
        if (self->st[i].process_s.mean > ct_max)
            ct_max = self->st[i].process_s.mean;
    double rate_per_h = self->arrival_mode == TWIN_ARR_POISSON ? self->arrival_rate_per_h
                                                                : 3600.0 / ct_max;
    for (int v = 0; v < self->n_variants; v++)
        for (int k = 0; k < self->var[v].bom_n; k++)
            self->part[self->var[v].bom_part[k]].avg_use_per_h
                += self->var[v].mix * self->var[v].bom_qty[k] * rate_per_h;
    s_observe (self);           /* twin_observe() is valid from the start */
    af_config_destroy (&root);
    return self;
fail:
    af_config_destroy (&root);
    twin_destroy (&self);
    return NULL;
}

twin_t *
twin_new_from_text (const char *yaml, size_t len, const char *name, uint64_t seed,
                    char *err, size_t err_len)
{
    return twin__new (yaml, len, name ? name : "(config)", seed, err, err_len);
}

twin_t *
twin_new_from_file (const char *path, uint64_t seed, char *err, size_t err_len)
{
    size_t len;
    char *text = af_config_read (path, &len, err, err_len);
    if (!text)
        return NULL;
    twin_t *self = twin__new (text, len, path, seed, err, err_len);
    free (text);
    return self;
}

void
twin_destroy (twin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    twin_t *self = *self_p;
    if (self->has_policy && self->policy.destroy)
        self->policy.destroy (self->policy.ctx);
    for (int i = 0; self->st && i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        twin_dist_free (&s->process_s);
        twin_dist_free (&s->setup_s);
        twin_dist_free (&s->repair_s);
        twin_dist_free (&s->pm_s);
        for (int c = 0; c < TWIN_COMP_COUNT; c++)
            twin_dist_free (&s->comp[c].repair_s);
        if (s->process_by_variant)
            for (int v = 0; v < self->n_variants; v++)
                twin_dist_free (&s->process_by_variant[v]);
        free (s->process_by_variant);
        free (s->has_variant_process);
        free (s->buf.items);
    }
    for (int v = 0; self->var && v < self->n_variants; v++) {
        free (self->var[v].route[0]);
        free (self->var[v].route[1]);
    }
    for (int p = 0; self->part && p < self->n_parts; p++)
        twin_dist_free (&self->part[p].lead_time_s);
    twin_dist_free (&self->tech_response_s);
    twin__project_free (self);
    free (self->st);
    free (self->var);
    free (self->part);
    free (self->robot);
    free (self->release.items);
    free (self->units);
    free (self->free_units);
    free (self->repair_queue);
    free (self->dist_m);
    free (self->tasks);
    free (self->st_obs);
    free (self->part_obs);
    free (self->robot_busy_obs);
    free (self->series.t_h);
    free (self->series.throughput_uph);
    free (self->series.grid_kw);
    free (self->series.battery_soc);
    free (self->series.price_per_kwh);
    free (self->series.down_unplanned_h);
    free (self->series.down_planned_h);
    free (self->series.station_util);
    free (self->mev);
    free (self->log);
    free (self->config_text);
    des_destroy (&self->des);
    free (self);
    *self_p = NULL;
}

void
twin_set_policy (twin_t *self, const twin_policy_t *policy)
{
    if (self->has_policy && self->policy.destroy)
        self->policy.destroy (self->policy.ctx);
    self->has_policy = policy != NULL;
    if (policy)
        self->policy = *policy;
}

void
twin_set_epoch_cb (twin_t *self, twin_epoch_fn *fn, void *ctx)
{
    self->epoch_fn = fn;
    self->epoch_ctx = ctx;
}

double   twin_now_s (const twin_t *self) { return des_now_s (self->des); }
double   twin_epoch_s (const twin_t *self) { return self->epoch_s; }
const char *twin_factory_name (const twin_t *self) { return self->factory; }

const char *
twin_cause_name (int cause)
{
    return cause >= 0 && cause < TWIN_COMP_COUNT ? twin__comp_names[cause]
           : cause == TWIN_CAUSE_RANDOM ? "random" : cause == TWIN_CAUSE_PM ? "pm" : "?";
}

void
twin_downtime_by_cause (const twin_t *self, double hours[TWIN_CAUSE_COUNT])
{
    double now = des_now_s (self->des);
    for (int c = 0; c < TWIN_CAUSE_COUNT; c++)
        hours[c] = self->down_by_cause_s[c] / 3600.0;
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
uint64_t twin_events (const twin_t *self) { return des_events (self->des); }
uint64_t twin_seed (const twin_t *self) { return self->seed; }
void     twin_stop (twin_t *self) { des_stop (self->des); }

int
twin_station_index (const twin_t *self, const char *name)
{
    for (int i = 0; name && i < self->n_stations; i++)
        if (!strcmp (self->st[i].name, name))
            return i;
    return -1;
}

int
twin_variant_index (const twin_t *self, const char *name)
{
    for (int i = 0; name && i < self->n_variants; i++)
        if (!strcmp (self->var[i].name, name))
            return i;
    return -1;
}

int
twin_part_index (const twin_t *self, const char *name)
{
    for (int i = 0; name && i < self->n_parts; i++)
        if (!strcmp (self->part[i].name, name))
            return i;
    return -1;
}

/* ------------------------------------------------------------ observation */

static void
s_observe (twin_t *self)
{
    double now = des_now_s (self->des);
    double T = now - self->t_stats_s;
    twin_obs_t *o = &self->obs;
    o->t_s = now;
    o->epoch = self->epoch;
    o->n_stations = self->n_stations;
    o->n_parts = self->n_parts;
    o->n_robots = self->n_robots;
    o->n_variants = self->n_variants;
    o->stations = self->st_obs;
    o->parts = self->part_obs;
    o->robot_busy = self->robot_busy_obs;
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        twin_station_obs_t *so = &self->st_obs[i];
        so->name = s->name;
        so->state = s->state;
        so->buffer_level = (int) s->buf.n + s->in_transit;
        so->buffer_cap = s->buffer_cap;
        so->speed = s->speed;
        so->vibration_rms_mm_s = fmax (0, s->vib_mm_s + twin_rng_normal (&self->sensor_rng, 0, 0.05 * s->vib_mm_s + 0.02));
        so->temp_c = s->temp_c + twin_rng_normal (&self->sensor_rng, 0, 0.3);
        so->torque_nm = s->torque_nm;
        so->alignment_mm = s->alignment_mm;
        so->hours_since_pm = (now - s->t_last_pm_s) / 3600.0;
        so->pm_interval_h = s->pm_interval_h;
        so->utilisation = T > 0 ? s->time_in_s[TWIN_ST_BUSY] / T : 0;
        so->active_pct = T > 0 ? 100.0 * (s->time_in_s[TWIN_ST_BUSY] + s->time_in_s[TWIN_ST_SETUP]
                                           + s->time_in_s[TWIN_ST_DOWN]) / T : 0;
        so->inspected_wear = s->inspected_wear;
        so->t_inspected_s = s->t_inspected_s;
        so->processed = s->processed;
        so->pm_pending = s->pm_pending;
    }
    for (int p = 0; p < self->n_parts; p++) {
        twin_part_t *pt = &self->part[p];
        self->part_obs[p] = (twin_part_obs_t) {
            pt->name, pt->warehouse, pt->on_order, pt->bin, pt->bin_cap, pt->avg_use_per_h,
            pt->lead_time_s.mean / 3600.0
        };
    }
    for (int r = 0; r < self->n_robots; r++)
        self->robot_busy_obs[r] = self->robot[r].busy;
    o->grid_kw = self->last_grid_kw;
    o->load_kw = self->last_load_kw;
    o->solar_kw = self->last_solar_kw;
    o->battery_kw = self->last_batt_kw;
    o->battery_soc = self->batt_soc;
    o->price_per_kwh = self->last_price;
    o->indoor_c = self->indoor_c;
    o->hvac_kw = self->last_hvac_kw;
    o->release_queue = (int) self->release.n;
    o->units = (uint64_t) self->good_out;
    o->defects_found = (uint64_t) self->defects_found;
}

const twin_obs_t *
twin_observe (const twin_t *self)
{
    return &self->obs;
}

/* Station temperature and vibration follow load and (hidden) wear. */
static void
s_station_physics (twin_t *self, double dt_s)
{
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        double busy = dt_s > 0 ? s->epoch_busy_s / dt_s : 0;
        double w[TWIN_COMP_COUNT];
        for (int c = 0; c < TWIN_COMP_COUNT; c++)
            w[c] = twin__wear_frac (s, c);
        s->temp_c = self->indoor_c + s->heat_rise_c * busy * s->speed
                    + 15.0 * w[TWIN_C_MOTOR] + 8.0 * w[TWIN_C_LUBE] + 5.0 * w[TWIN_C_BEARING];
        double run = s->state == TWIN_ST_BUSY || busy > 0 ? 1.0 : 0.1;
        s->vib_mm_s = run * (s->vib_base_mm_s * s->speed + 6.0 * w[TWIN_C_BEARING] * w[TWIN_C_BEARING]
                             + 2.0 * w[TWIN_C_BELT] + 2.0 * w[TWIN_C_JOINT] + 1.5 * w[TWIN_C_LUBE]);
        s->epoch_busy_s = 0;
    }
}

/* ------------------------------------------------------------ series */

static int
s_grow (double **a, size_t cap)
{
    double *p = realloc (*a, cap * sizeof **a);
    if (!p)
        return -1;
    *a = p;
    return 0;
}

static void
s_record (twin_t *self, double dt_s)
{
    twin_series_t *sr = &self->series;
    if (sr->n == self->series_cap) {
        size_t cap = self->series_cap ? 2 * self->series_cap : 1024;
        if (s_grow (&sr->t_h, cap) || s_grow (&sr->throughput_uph, cap) || s_grow (&sr->grid_kw, cap)
            || s_grow (&sr->battery_soc, cap) || s_grow (&sr->price_per_kwh, cap)
            || s_grow (&sr->down_unplanned_h, cap) || s_grow (&sr->down_planned_h, cap)
            || s_grow (&sr->station_util, cap * (size_t) self->n_stations))
            return;
        self->series_cap = cap;
    }
    size_t k = sr->n++;
    sr->n_stations = self->n_stations;
    sr->t_h[k] = des_now_s (self->des) / 3600.0;
    sr->throughput_uph[k] = dt_s > 0 ? self->epoch_units * 3600.0 / dt_s : 0;
    sr->grid_kw[k] = self->last_grid_kw;
    sr->battery_soc[k] = self->batt_soc;
    sr->price_per_kwh[k] = self->last_price;
    double down = 0, planned = 0;
    for (int i = 0; i < self->n_stations; i++) {
        down += self->st[i].time_in_s[TWIN_ST_DOWN];
        planned += self->st[i].time_in_s[TWIN_ST_MAINT];
        sr->station_util[k * (size_t) self->n_stations + (size_t) i]
            = dt_s > 0 ? self->st[i].epoch_busy_s / dt_s : 0;
    }
    sr->down_unplanned_h[k] = down / 3600.0;
    sr->down_planned_h[k] = planned / 3600.0;
}

void
twin_record_series (twin_t *self, bool on)
{
    self->record = on;
}

const twin_series_t *
twin_series (const twin_t *self)
{
    return &self->series;
}

int
twin_series_write_csv (const twin_t *self, FILE *out)
{
    const twin_series_t *sr = &self->series;
    fprintf (out, "t_h,throughput_uph,grid_kw,battery_soc,price_per_kwh,down_unplanned_h,down_planned_h");
    for (int i = 0; i < self->n_stations; i++)
        fprintf (out, ",util_%s", self->st[i].name);
    fputc ('\n', out);
    for (size_t k = 0; k < sr->n; k++) {
        fprintf (out, "%.4f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g", sr->t_h[k], sr->throughput_uph[k],
                 sr->grid_kw[k], sr->battery_soc[k], sr->price_per_kwh[k], sr->down_unplanned_h[k],
                 sr->down_planned_h[k]);
        for (int i = 0; i < sr->n_stations; i++)
            fprintf (out, ",%.4f", sr->station_util[k * (size_t) sr->n_stations + (size_t) i]);
        fputc ('\n', out);
    }
    return ferror (out) ? -1 : 0;
}

const twin_maint_event_t *
twin_maint_events (const twin_t *self, size_t *n)
{
    *n = self->mev_n;
    return self->mev;
}

/* ------------------------------------------------------------ epochs */


/* The smallest positive quantity of part P in any variant's bill of
 * materials (1 if no variant uses it). */
static double
s_min_need (const twin_t *self, int p)
{
    double need = 0;
    for (int v = 0; v < self->n_variants; v++)
        for (int b = 0; b < self->var[v].bom_n; b++)
            if (self->var[v].bom_part[b] == p && self->var[v].bom_qty[b] > 0
                && (need == 0 || self->var[v].bom_qty[b] < need))
                need = self->var[v].bom_qty[b];
    return need > 0 ? need : 1;
}

static void
s_epoch (des_t *des, void *ctx, uint64_t arg)
{
    twin_t *self = ctx;
    double dt_s = (double) arg > 0 ? self->epoch_s : 0;
    twin__energy_epoch (self, dt_s);
    /* Short of a part: its line-side bin cannot supply even the smallest
     * quantity one unit of any variant needs (96 cells, not 1). */
    for (int p = 0; p < self->n_parts; p++)
        if (self->part[p].bin < s_min_need (self, p) && des_now_s (des) > self->t_stats_s) {
            self->shortage_s += dt_s;
            break;
        }
    if (self->record && dt_s > 0)
        s_record (self, dt_s);
    s_station_physics (self, dt_s);
    self->epoch_units = 0;
    s_observe (self);
    /* A fork re-applies what the live run's hooks did in this epoch. */
    while (self->replay && self->replay_i < self->replay_n
           && self->replay[self->replay_i].in_epoch
           && self->replay[self->replay_i].epoch <= self->epoch)
        twin__replay_one (self, &self->replay[self->replay_i++]);
    self->in_epoch = true;
    if (self->has_policy && self->policy.on_epoch)
        self->policy.on_epoch (self->policy.ctx, self, &self->obs);
    if (self->epoch_fn)
        self->epoch_fn (self->epoch_ctx, self, &self->obs);
    self->in_epoch = false;
    self->epoch++;
    des_schedule (des, self->epoch_s, s_epoch, self, 1);
}

int
twin_start (twin_t *self)
{
    if (self->started)
        return -1;
    self->started = true;
    self->t_wip_s = 0;
    if (twin__model_start (self))
        return -1;
    return des_schedule (self->des, 0, s_epoch, self, 0);
}

uint64_t
twin_iterate (twin_t *self, double until_s, uint64_t max_events)
{
    if (!self->started && twin_start (self))
        return 0;
    return des_iterate (self->des, until_s, max_events);
}

int
twin_run (twin_t *self, double hours, FILE *progress)
{
    if (!self->started && twin_start (self))
        return -1;
    double end_s = des_now_s (self->des) + hours * 3600.0;
    bool tty = progress && isatty (fileno (progress));
    double step_s = tty ? 86400.0 : end_s;
    while (des_now_s (self->des) < end_s) {
        double until = fmin (end_s, des_now_s (self->des) + step_s);
        des_iterate (self->des, until, 0);
        if (des_stopped (self->des))
            break;
        if (tty)
            fprintf (progress, "\r  simulated %.0f / %.0f h (%.0f %%), %llu events ",
                     des_now_s (self->des) / 3600.0, end_s / 3600.0,
                     100.0 * des_now_s (self->des) / end_s,
                     (unsigned long long) des_events (self->des));
    }
    if (tty)
        fputc ('\n', progress);
    return 0;
}

/* ------------------------------------------------------------ commands */

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
s_validate (twin_t *self, const twin_cmd_t *c, char *err, size_t len)
{
    switch (c->kind) {
    case TWIN_CMD_LINE_SPEED: {
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
    case TWIN_CMD_BATCH_SEQUENCE:
        if (c->u.batch.rule > TWIN_SEQ_BATCH)
            return twin__fail (err, len, "unknown sequencing rule %d", (int) c->u.batch.rule);
        if (c->u.batch.batch_size < 1 || c->u.batch.batch_size > 100000)
            return twin__fail (err, len, "batch size %d outside 1 .. 100000", c->u.batch.batch_size);
        return 0;
    case TWIN_CMD_TASK_ASSIGN: {
        int r = c->u.task.robot;
        if (r < 0 || r >= self->n_robots)
            return twin__fail (err, len, "unknown robot %d (the fleet has %d)", r, self->n_robots);
        if (self->robot[r].q_n >= 16)
            return twin__fail (err, len, "robot %d already has 16 tasks queued", r);
        if (c->u.task.task > TWIN_TASK_REPAIR)
            return twin__fail (err, len, "unknown task kind %d", (int) c->u.task.task);
        if (c->u.task.task == TWIN_TASK_DELIVER) {
            if (c->u.task.part < 0 || c->u.task.part >= self->n_parts)
                return twin__fail (err, len, "unknown part %d", c->u.task.part);
            return 0;
        }
        if (c->u.task.task == TWIN_TASK_REPAIR && !self->robot_can_repair)
            return twin__fail (err, len, "mobile robots here cannot repair (robots.can_repair: false)");
        return s_check_station (self, c->u.task.station, err, len);
    }
    case TWIN_CMD_MAINTENANCE: {
        int s = c->u.maintenance.station;
        if (s_check_station (self, s, err, len))
            return -1;
        twin_station_t *st = &self->st[s];
        if (st->pm_pending || st->state == TWIN_ST_MAINT)
            return twin__fail (err, len, "station '%s' already has maintenance planned", st->name);
        if (st->state == TWIN_ST_DOWN)
            return twin__fail (err, len, "station '%s' is down; it is being repaired", st->name);
        if (c->u.maintenance.by_robot && (self->n_robots == 0 || !self->robot_can_repair))
            return twin__fail (err, len, "no mobile robot can do maintenance here");
        return 0;
    }
    case TWIN_CMD_ROUTING: {
        int v = c->u.routing.variant, r = c->u.routing.route;
        if (v < 0 || v >= self->n_variants)
            return twin__fail (err, len, "unknown variant %d", v);
        if (r < 0 || r > 1 || self->var[v].route_len[r] == 0)
            return twin__fail (err, len, "variant '%s' has no route %d", self->var[v].name, r);
        return 0;
    }
    case TWIN_CMD_BATTERY:
        if (self->batt_cap_kwh <= 0)
            return twin__fail (err, len, "this factory has no battery");
        if (!(fabs (c->u.battery.power_kw) <= self->batt_max_kw))
            return twin__fail (err, len, "battery set point %.6g kW beyond ±%.6g kW",
                           c->u.battery.power_kw, self->batt_max_kw);
        return 0;
    case TWIN_CMD_HVAC:
        if (!(c->u.hvac.setpoint_c >= 16 && c->u.hvac.setpoint_c <= 30))
            return twin__fail (err, len, "HVAC set point %.6g °C outside 16 .. 30 °C", c->u.hvac.setpoint_c);
        return 0;
    case TWIN_CMD_INSPECTION:
        if (c->u.inspection.sample_every < 1 || c->u.inspection.sample_every > 1000000)
            return twin__fail (err, len, "inspection sampling 1 in %d outside 1 .. 1000000",
                           c->u.inspection.sample_every);
        return 0;
    case TWIN_CMD_REORDER:
        if (c->u.reorder.part < 0 || c->u.reorder.part >= self->n_parts)
            return twin__fail (err, len, "unknown part %d", c->u.reorder.part);
        if (!(c->u.reorder.qty >= 1 && c->u.reorder.qty <= 1e9))
            return twin__fail (err, len, "order quantity %.6g outside 1 .. 1e9", c->u.reorder.qty);
        if (self->part[c->u.reorder.part].delivery_every_s > 0)
            return twin__fail (err, len, "part '%s' comes only by scheduled delivery (every %.6g h); "
                               "it cannot be reordered", self->part[c->u.reorder.part].name,
                               self->part[c->u.reorder.part].delivery_every_s / 3600.0);
        return 0;
    case TWIN_CMD_ROVER_SERVICE:
        return twin__rover_service_check (self, c->u.rover.robot, c->u.rover.by_robot, err, len);
    default:
        return twin__fail (err, len, "unknown command kind %d", (int) c->kind);
    }
}

twin_logged_cmd_t *
twin__log (twin_t *self, const twin_cmd_t *cmd, const twin_plant_report_t *report, int epoch)
{
    if (self->replay)
        return NULL;            /* a fork does not re-log what it replays */
    if (self->log_n == self->log_cap) {
        size_t cap = self->log_cap ? 2 * self->log_cap : 256;
        twin_logged_cmd_t *l = realloc (self->log, cap * sizeof *l);
        if (!l)
            return NULL;
        self->log = l;
        self->log_cap = cap;
    }
    twin_logged_cmd_t *e = &self->log[self->log_n++];
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
    if (s_validate (self, c, err, len))
        return -1;
    twin__log (self, c, NULL, epoch);
    switch (c->kind) {
    case TWIN_CMD_LINE_SPEED:
        for (int i = 0; i < self->n_stations; i++)
            if (c->u.line_speed.station == -1 || c->u.line_speed.station == i) {
                twin__station_flush (self, &self->st[i]);
                self->st[i].speed = c->u.line_speed.speed;
            }
        break;
    case TWIN_CMD_BATCH_SEQUENCE:
        self->seq_rule = c->u.batch.rule;
        self->batch_size = c->u.batch.batch_size;
        self->batch_left = 0;
        twin__try_release (self);
        break;
    case TWIN_CMD_TASK_ASSIGN: {
        twin_robot_t *rb = &self->robot[c->u.task.robot];
        rb->queue[rb->q_n++] = (twin_task_t) { c->u.task.task, c->u.task.station,
                                               c->u.task.part, des_now_s (self->des) };
        if (c->u.task.task == TWIN_TASK_DELIVER)
            self->part[c->u.task.part].bin_task_open = true;
        twin__robots_dispatch (self);
        break;
    }
    case TWIN_CMD_MAINTENANCE: {
        twin_station_t *s = &self->st[c->u.maintenance.station];
        s->pm_pending = true;
        s->pm_by_robot = c->u.maintenance.by_robot;
        twin__station_try_pm (self, s);
        break;
    }
    case TWIN_CMD_ROUTING:
        self->var[c->u.routing.variant].active_route = c->u.routing.route;
        break;
    case TWIN_CMD_BATTERY:
        self->batt_setpoint_kw = c->u.battery.power_kw;
        break;
    case TWIN_CMD_HVAC:
        self->hvac_setpoint_c = c->u.hvac.setpoint_c;
        break;
    case TWIN_CMD_INSPECTION:
        self->sample_every = c->u.inspection.sample_every;
        self->sample_count = 0;
        break;
    case TWIN_CMD_REORDER:
        twin__inventory_order (self, c->u.reorder.part, c->u.reorder.qty);
        break;
    case TWIN_CMD_ROVER_SERVICE:
        twin__rover_service (self, c->u.rover.robot, c->u.rover.by_robot);
        break;
    default:
        break;
    }
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

/* ------------------------------------------------------------ telemetry */

static void
s_sample (twin_sample_t *t, const char *name, double v)
{
    if (t->n < TWIN_SAMPLE_MAX) {
        t->names[t->n] = name;
        t->values[t->n++] = v;
    }
}

/* Off-world samples (site.c, project.c): only plants that configure them
 * publish them, so the Earth factories' telemetry is as it was. */
static void
s_site_telemetry (const twin_t *self, void (*fn) (void *, const twin_sample_t *), void *ctx)
{
    twin_site_stats_t ss;
    twin_site_stats (self, &ss);
    twin_sample_t t;
    if (self->site_set) {
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "site");
        s_sample (&t, "storm", ss.storm_active);
        s_sample (&t, "optical_depth", ss.optical_depth);
        s_sample (&t, "solar_factor", ss.solar_factor);
        s_sample (&t, "wear_mult", self->wear_mult);
        s_sample (&t, "ambient_c", self->obs.ambient_c);
        s_sample (&t, "storm_h", ss.storm_h);
        s_sample (&t, "link_up", twin__link_wait_s (self, des_now_s (self->des)) <= 2.0 * self->link_delay_s);
        s_sample (&t, "teleops", ss.teleops);
        fn (ctx, &t);
    }
    if (self->n_ptasks > 0) {
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "airlock");
        s_sample (&t, "inside", ss.airlock_inside);
        s_sample (&t, "queue", ss.airlock_queue);
        s_sample (&t, "capacity", ss.airlock_capacity);
        s_sample (&t, "utilisation", ss.airlock_utilisation);
        s_sample (&t, "passages", ss.airlock_passages);
        s_sample (&t, "waits", ss.airlock_waits);
        s_sample (&t, "wait_h", ss.airlock_wait_h);
        fn (ctx, &t);
        int running = 0, ready = 0, down = 0;
        for (int k = 0; k < self->n_ptasks; k++) {
            const twin_ptask_t *pt = &self->ptask[k];
            running += pt->started && !pt->done;
            ready += !pt->started && pt->preds_left == 0;
        }
        for (int r = 0; r < self->n_robots; r++)
            down += self->robot[r].down;
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "project");
        s_sample (&t, "tasks", ss.tasks);
        s_sample (&t, "done", ss.tasks_done);
        s_sample (&t, "running", running);
        s_sample (&t, "ready", ready);
        s_sample (&t, "done_pct", 100.0 * ss.tasks_done / ss.tasks);
        s_sample (&t, "rovers_down", down);
        s_sample (&t, "rover_breakdowns", ss.rover_breakdowns);
        fn (ctx, &t);
    }
}

void
twin_telemetry_foreach (const twin_t *self, void (*fn) (void *, const twin_sample_t *), void *ctx)
{
    const twin_obs_t *o = &self->obs;
    twin_sample_t t;
    for (int i = 0; i < o->n_stations; i++) {
        const twin_station_obs_t *s = &o->stations[i];
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "station.%s", s->name);
        s_sample (&t, "state", s->state);
        s_sample (&t, "buffer_level", s->buffer_level);
        s_sample (&t, "speed", s->speed);
        s_sample (&t, "vibration_rms_mm_s", s->vibration_rms_mm_s);
        s_sample (&t, "temp_c", s->temp_c);
        s_sample (&t, "torque_nm", s->torque_nm);
        s_sample (&t, "alignment_mm", s->alignment_mm);
        s_sample (&t, "hours_since_pm", s->hours_since_pm);
        s_sample (&t, "utilisation", s->utilisation);
        s_sample (&t, "active_pct", s->active_pct);
        fn (ctx, &t);
    }
    for (int p = 0; p < o->n_parts; p++) {
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "inventory.%s", o->parts[p].name);
        s_sample (&t, "warehouse", o->parts[p].warehouse);
        s_sample (&t, "on_order", o->parts[p].on_order);
        s_sample (&t, "bin", o->parts[p].bin);
        fn (ctx, &t);
    }
    memset (&t, 0, sizeof t);
    snprintf (t.topic, sizeof t.topic, "energy");
    s_sample (&t, "grid_kw", o->grid_kw);
    s_sample (&t, "load_kw", o->load_kw);
    s_sample (&t, "solar_kw", o->solar_kw);
    s_sample (&t, "battery_kw", o->battery_kw);
    s_sample (&t, "battery_soc", o->battery_soc);
    s_sample (&t, "price_per_kwh", o->price_per_kwh);
    s_sample (&t, "hvac_kw", o->hvac_kw);
    s_sample (&t, "indoor_c", o->indoor_c);
    s_sample (&t, "ambient_c", o->ambient_c);
    fn (ctx, &t);
    /* Robot load distribution: where each mobile robot is and how busy. */
    double T = des_now_s (self->des) - self->t_stats_s;
    for (int r = 0; r < self->n_robots; r++) {
        const twin_robot_t *rb = &self->robot[r];
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "robot.amr%d", r);
        s_sample (&t, "busy", rb->busy);
        s_sample (&t, "node", rb->node);
        s_sample (&t, "tasks_queued", rb->q_n);
        s_sample (&t, "utilisation", T > 0 ? rb->busy_s / T : 0);
        if (self->n_ptasks > 0) {
            /* A rover's odometer, not its hidden wear: what a maintenance
             * controller can plan service from. */
            s_sample (&t, "down", rb->down);
            s_sample (&t, "work_h_since_service", rb->work_s / 3600.0);
            s_sample (&t, "service_pending", rb->service_pending);
        }
        fn (ctx, &t);
    }
    /* What the plant knows about quality (escapes are, by definition, unknown). */
    memset (&t, 0, sizeof t);
    snprintf (t.topic, sizeof t.topic, "quality");
    s_sample (&t, "defects_found", self->defects_found);
    s_sample (&t, "rework_units", self->rework);
    s_sample (&t, "scrap_units", self->scrap);
    s_sample (&t, "sample_every", self->sample_every);
    fn (ctx, &t);
    memset (&t, 0, sizeof t);
    snprintf (t.topic, sizeof t.topic, "line");
    s_sample (&t, "units", (double) o->units);
    s_sample (&t, "release_queue", o->release_queue);
    s_sample (&t, "defects_found", (double) o->defects_found);
    int busy = 0;
    for (int r = 0; r < o->n_robots; r++)
        busy += o->robot_busy[r];
    s_sample (&t, "robots_busy", busy);
    fn (ctx, &t);
    s_site_telemetry (self, fn, ctx);
}

int
twin_set_warmup_h (twin_t *self, double hours)
{
    if (!self || self->started || !(hours >= 0) || hours > 1e6)
        return -1;
    self->warmup_s = hours * 3600.0;
    return 0;
}
