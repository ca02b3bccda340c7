/*  twin observe — what controllers and reports see: the observable state
 *  refreshed every epoch (noisy sensors, never hidden wear), the telemetry
 *  samples the bus wrapper publishes, and the time series for reports.
 */
#include "twin_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ observation */

void
twin__observe (twin_t *self)
{
    double now = des_now_s (self->des);
    double T = now - self->t_stats_s;
    twin_obs_t *o = &self->view.obs;
    o->t_s = now;
    o->epoch = self->epoch;
    o->n_stations = self->n_stations;
    o->n_parts = self->n_parts;
    o->n_robots = self->n_robots;
    o->n_variants = self->n_variants;
    o->stations = self->view.st_obs;
    o->parts = self->view.part_obs;
    o->robot_busy = self->view.robot_busy_obs;
    for (int i = 0; i < self->n_stations; i++) {
        twin_station_t *s = &self->st[i];
        twin_station_obs_t *so = &self->view.st_obs[i];
        so->name = s->name;
        so->state = s->state;
        so->buffer_level = (int) s->buf.n + s->in_transit;
        so->buffer_cap = s->buffer_cap;
        so->speed = s->speed;
        so->vibration_rms_mm_s = fmax (0, s->vib_mm_s + twin_rng_normal (&self->view.sensor_rng, 0, 0.05 * s->vib_mm_s + 0.02));
        so->temp_c = s->temp_c + twin_rng_normal (&self->view.sensor_rng, 0, 0.3);
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
        self->view.part_obs[p] = (twin_part_obs_t) {
            pt->name, pt->warehouse, pt->on_order, pt->bin, pt->bin_cap, pt->avg_use_per_h,
            pt->lead_time_s.mean / 3600.0,
            /* material (issue 11) */
            pt->warehouse_cap, twin_dist_sd (&pt->lead_time_s) / 3600.0,
            pt->lt_n > 0 ? pt->lt_sum_h / pt->lt_n : 0,
            now > 0 ? pt->used * 3600.0 / now : 0
        };
    }
    for (int r = 0; r < self->n_robots; r++)
        self->view.robot_busy_obs[r] = self->robot[r].busy;
    o->grid_kw = self->energy.last_grid_kw;
    o->load_kw = self->energy.last_load_kw;
    o->solar_kw = self->energy.last_solar_kw;
    o->battery_kw = self->energy.last_batt_kw;
    o->battery_soc = self->energy.batt_soc;
    o->price_per_kwh = self->energy.last_price;
    o->indoor_c = self->energy.indoor_c;
    o->hvac_kw = self->energy.last_hvac_kw;
    /* energy (issue 11) */
    o->grid_up = !self->energy.grid_out;
    o->month_peak_kw = self->energy.month_peak_kw;
    o->demand_charge_per_kw = self->energy.demand_charge_per_kw;
    o->battery_capacity_kwh = self->energy.batt_cap_kwh;
    o->battery_max_kw = self->energy.batt_max_kw;
    o->battery_min_soc = self->energy.batt_min_soc;
    o->deferred_backlog_kwh = 0;
    for (int i = 0; i < self->energy.n_loads; i++)
        o->deferred_backlog_kwh += self->energy.load[i].backlog_kwh;
    o->release_queue = (int) self->flow.release.n;
    o->units = (uint64_t) self->flow.good_out;
    o->defects_found = (uint64_t) self->quality.defects_found;
    twin__upkeep_observe (self);        /* health (issue 11) */

    twin__flow_observe (self);          /* flow (issue 11): order book, state shares */
}

const twin_obs_t *
twin_observe (const twin_t *self)
{
    return &self->view.obs;
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
    twin_series_t *sr = &self->rec.series;
    if (sr->n == self->rec.series_cap) {
        size_t cap = self->rec.series_cap ? 2 * self->rec.series_cap : 1024;
        if (s_grow (&sr->t_h, cap) || s_grow (&sr->throughput_uph, cap) || s_grow (&sr->grid_kw, cap)
            || s_grow (&sr->battery_soc, cap) || s_grow (&sr->price_per_kwh, cap)
            || s_grow (&sr->down_unplanned_h, cap) || s_grow (&sr->down_planned_h, cap)
            || s_grow (&sr->station_util, cap * (size_t) self->n_stations))
            return;
        self->rec.series_cap = cap;
    }
    size_t k = sr->n++;
    sr->n_stations = self->n_stations;
    sr->t_h[k] = des_now_s (self->des) / 3600.0;
    sr->throughput_uph[k] = dt_s > 0 ? self->flow.epoch_units * 3600.0 / dt_s : 0;
    sr->grid_kw[k] = self->energy.last_grid_kw;
    sr->battery_soc[k] = self->energy.batt_soc;
    sr->price_per_kwh[k] = self->energy.last_price;
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
    self->rec.record = on;
}

const twin_series_t *
twin_series (const twin_t *self)
{
    return &self->rec.series;
}

int
twin_series_write_csv (const twin_t *self, FILE *out)
{
    const twin_series_t *sr = &self->rec.series;
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
    *n = self->rec.mev_n;
    return self->rec.mev;
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
    if (self->site.site_set) {
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "site");
        s_sample (&t, "storm", ss.storm_active);
        s_sample (&t, "optical_depth", ss.optical_depth);
        s_sample (&t, "solar_factor", ss.solar_factor);
        s_sample (&t, "wear_mult", self->site.wear_mult);
        s_sample (&t, "ambient_c", self->view.obs.ambient_c);
        s_sample (&t, "storm_h", ss.storm_h);
        s_sample (&t, "link_up", twin__link_wait_s (self, des_now_s (self->des)) <= 2.0 * self->site.link_delay_s);
        s_sample (&t, "teleops", ss.teleops);
        fn (ctx, &t);
    }
    if (self->project.n_ptasks > 0) {
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
        for (int k = 0; k < self->project.n_ptasks; k++) {
            const twin_ptask_t *pt = &self->project.ptask[k];
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

/* quality (issue 11): per station, the last epoch's in-line readings
 * (inline.<station>: what SPC and a divert decision run on) and the defects
 * end-of-line inspection traced back to it, by kind (defects.<station>). */
static void
s_quality_telemetry (const twin_t *self, void (*fn) (void *, const twin_sample_t *), void *ctx)
{
    twin_sample_t t;
    double now = des_now_s (self->des);
    for (int i = 0; i < self->n_stations; i++) {
        const twin_station_t *s = &self->st[i];
        const twin_station_q_t *q = &s->q;
        if (q->on || q->skip_p > 0) {
            memset (&t, 0, sizeof t);
            snprintf (t.topic, sizeof t.topic, "inline.%s", s->name);
            s_sample (&t, "units", q->tel_units);
            s_sample (&t, "measured", q->tel_meas);
            s_sample (&t, "torque_nm_mean", q->tel_t_mean);
            s_sample (&t, "torque_nm_sd", q->tel_t_sd);
            s_sample (&t, "torque_nm_last", q->last_torque_nm);
            s_sample (&t, "alignment_mm_mean", q->tel_a_mean);
            s_sample (&t, "alignment_mm_last", q->last_align_mm);
            s_sample (&t, "temp_c", q->last_temp_c);
            s_sample (&t, "last_serial", q->last_serial);
            s_sample (&t, "hours_since_cal", q->t_cal_s >= 0 ? (now - q->t_cal_s) / 3600.0 : now / 3600.0);
            fn (ctx, &t);
        }
        double any = 0;
        for (int d = 0; d < TWIN_DEFECT_KINDS; d++)
            any += q->found[d];
        if (any <= 0)
            continue;
        memset (&t, 0, sizeof t);
        snprintf (t.topic, sizeof t.topic, "defects.%s", s->name);
        for (int d = 0; d < TWIN_DEFECT_KINDS; d++)
            s_sample (&t, twin__defect_kind_names[d], q->found[d]);
        fn (ctx, &t);
    }
}

void
twin_telemetry_foreach (const twin_t *self, void (*fn) (void *, const twin_sample_t *), void *ctx)
{
    const twin_obs_t *o = &self->view.obs;
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
        /* material (issue 11): capacities, demand and lead-time statistics */
        s_sample (&t, "bin_cap", o->parts[p].bin_cap);
        s_sample (&t, "warehouse_cap", o->parts[p].warehouse_cap);
        s_sample (&t, "use_per_h", o->parts[p].use_per_h);
        s_sample (&t, "planned_use_per_h", o->parts[p].avg_use_per_h);
        s_sample (&t, "lead_time_h", o->parts[p].lead_time_h);
        s_sample (&t, "lead_time_sd_h", o->parts[p].lead_time_sd_h);
        s_sample (&t, "lead_time_seen_h", o->parts[p].lead_time_seen_h);
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
    /* energy (issue 11): the grid, the month's peak and the battery's limits */
    s_sample (&t, "grid_up", o->grid_up);
    s_sample (&t, "month_peak_kw", o->month_peak_kw);
    s_sample (&t, "demand_charge_per_kw", o->demand_charge_per_kw);
    s_sample (&t, "deferred_backlog_kwh", o->deferred_backlog_kwh);
    s_sample (&t, "battery_capacity_kwh", o->battery_capacity_kwh);
    s_sample (&t, "battery_max_kw", o->battery_max_kw);
    s_sample (&t, "battery_min_soc", o->battery_min_soc);
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
        if (self->project.n_ptasks > 0) {
            /* A rover's odometer, not its hidden wear: what a maintenance
             * controller can plan service from. */
            s_sample (&t, "down", rb->down);
            s_sample (&t, "work_h_since_service", rb->work_s / 3600.0);
            s_sample (&t, "service_pending", rb->service_pending);
        }
        /* robots (issue 11): where on the floor (node, or the aisle's far
         * node and the share of it covered), and the battery. */
        if (self->fleet.travel) {
            bool moving = rb->edge != -1;
            double span = rb->t_edge1_s - rb->t_edge0_s, now = des_now_s (self->des);
            s_sample (&t, "edge_to", moving ? rb->path[rb->path_i + 1] : -1);
            s_sample (&t, "progress", moving && span > 0 ? fmin (1, (now - rb->t_edge0_s) / span) : 0);
            s_sample (&t, "waiting", rb->wait == TWIN_WAIT_EDGE || rb->wait == TWIN_WAIT_NODE);
            s_sample (&t, "battery_soc", self->fleet.batt_kwh > 0 ? twin__robot_soc_kwh (self, r) / self->fleet.batt_kwh : 1);
            s_sample (&t, "charging", rb->charging);
            s_sample (&t, "task", rb->busy ? (double) rb->job.kind : -1);
        }
        fn (ctx, &t);
    }
    /* What the plant knows about quality (escapes are, by definition, unknown). */
    memset (&t, 0, sizeof t);
    snprintf (t.topic, sizeof t.topic, "quality");
    s_sample (&t, "defects_found", self->quality.defects_found);
    s_sample (&t, "rework_units", self->quality.rework);
    s_sample (&t, "scrap_units", self->quality.scrap);
    s_sample (&t, "sample_every", self->quality.sample_every);
    fn (ctx, &t);
    s_quality_telemetry (self, fn, ctx);   /* quality (issue 11) */
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
    twin__flow_telemetry (self, fn, ctx);
    s_site_telemetry (self, fn, ctx);
    twin__upkeep_telemetry (self, fn, ctx);     /* health (issue 11) */
}

/* ------------------------------------------------------------ hooks */

int
twin__view_load (twin_t *self, const af_config_t *root)
{
    twin_view_t *v = &self->view;
    v->st_obs = calloc ((size_t) self->n_stations, sizeof *v->st_obs);
    v->part_obs = calloc ((size_t) (self->n_parts ? self->n_parts : 1), sizeof *v->part_obs);
    v->robot_busy_obs = calloc ((size_t) (self->n_robots ? self->n_robots : 1), sizeof (int));
    if (!v->st_obs || !v->part_obs || !v->robot_busy_obs)
        return af_config_fail (root, "out of memory");
    twin_rng_seed (&v->sensor_rng, self->seed, "sensors");
    return 0;
}

void
twin__view_epoch (twin_t *self, double dt_s)
{
    (void) dt_s;
    twin__observe (self);
}

void
twin__view_destroy (twin_t *self)
{
    free (self->view.st_obs);
    free (self->view.part_obs);
    free (self->view.robot_busy_obs);
}

void
twin__record_epoch (twin_t *self, double dt_s)
{
    if (self->rec.record && dt_s > 0)
        s_record (self, dt_s);
}

void
twin__record_destroy (twin_t *self)
{
    twin_series_t *sr = &self->rec.series;
    free (sr->t_h);
    free (sr->throughput_uph);
    free (sr->grid_kw);
    free (sr->battery_soc);
    free (sr->price_per_kwh);
    free (sr->down_unplanned_h);
    free (sr->down_planned_h);
    free (sr->station_util);
    free (self->rec.mev);
}
