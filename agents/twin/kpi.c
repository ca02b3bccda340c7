/*  twin kpi — the DESIGN §5 KPIs from the run's counters (docs/kpi.md).  */
#include "twin_int.h"

#include <math.h>
#include <string.h>

/* Time STATE so far including the open interval (the twin is not touched). */
static double
s_time_in (const twin_t *self, const twin_station_t *s, twin_state_t state)
{
    double t = s->time_in_s[state];
    if (s->state == state)
        t += des_now_s (self->des) - s->t_state_s;
    return t;
}

static double
s_div (double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* Downtime, MTBF/MTTR and the bottleneck (the most active station). */
static void
s_kpi_stations (const twin_t *self, double T, twin_kpi_t *k)
{
    double down = 0, planned = 0, up = 0, best = -1;
    k->bottleneck = -1;
    for (int i = 0; i < self->n_stations; i++) {
        const twin_station_t *s = &self->st[i];
        double d = s_time_in (self, s, TWIN_ST_DOWN), m = s_time_in (self, s, TWIN_ST_MAINT);
        down += d;
        planned += m;
        if (s->mtbf_h > 0 || s->comp[0].present || s->comp[1].present || s->comp[2].present
            || s->comp[3].present || s->comp[4].present)
            up += T - d - m;
        double active = s_time_in (self, s, TWIN_ST_BUSY) + s_time_in (self, s, TWIN_ST_SETUP) + d;
        if (active > best) {
            best = active;
            k->bottleneck = i;
        }
    }
    k->unplanned_downtime_h = down / 3600.0;
    k->planned_downtime_h = planned / 3600.0;
    k->downtime_h = k->unplanned_downtime_h + k->planned_downtime_h;
    k->breakdowns = self->health.breakdowns;
    k->mtbf_h = self->health.breakdowns > 0 ? up / 3600.0 / self->health.breakdowns : up / 3600.0;
    k->mttr_h = s_div (self->health.repair_time_s, self->health.repairs) / 3600.0;
}

/* OEE on the bottleneck (the station that sets the line's pace). */
static void
s_kpi_oee (const twin_t *self, double T, twin_kpi_t *k)
{
    if (k->bottleneck < 0 || T <= 0)
        return;
    const twin_station_t *b = &self->st[k->bottleneck];
    double stopped = s_time_in (self, b, TWIN_ST_DOWN) + s_time_in (self, b, TWIN_ST_MAINT);
    double ideal_ct = 0;
    for (int v = 0; v < self->n_variants; v++)
        ideal_ct += self->var[v].mix * (b->has_variant_process && b->has_variant_process[v]
                                            ? b->process_by_variant[v].mean : b->process_s.mean);
    /* Performance against the maximum rated speed (issue 11): running above
     * nameplate must not push it past what the machine is rated to do. */
    if (b->max_speed > 0)
        ideal_ct /= b->max_speed;
    double avail = (T - stopped) / T;
    double perf = s_div ((double) b->processed * ideal_ct, T - stopped);
    double out = self->flow.units_out;
    double qual = out > 0 ? (out - self->quality.scrap - self->quality.rework) / out : 1;
    if (perf > 1)
        perf = 1;
    k->availability_pct = 100 * avail;
    k->performance_pct = 100 * perf;
    k->quality_pct = 100 * qual;
    k->oee_pct = 100 * avail * perf * qual;
}

/* Flow (issue 11): lead time from arrival beside cycle time on the line,
 * due dates, line WIP and finished goods. */
static void
s_kpi_flow (const twin_t *self, double now, double T, twin_kpi_t *k)
{
    const twin_flow_t *f = &self->flow;
    k->lead_time_mean_min = s_div (f->sojourn_sum_s, f->units_out) / 60.0;
    k->tardy_pct = 100 * s_div (f->tardy, f->units_out);
    k->tardiness_mean_h = s_div (f->tardiness_sum_s, f->units_out) / 3600.0;
    k->wip_line_mean = s_div (f->wip_line_area + f->wip_line * (now - f->t_wip_s), T);
    k->fg_mean = s_div (f->fg_area_s, T);
    k->arrivals = f->arrivals;
}

/* Habitat construction: the work is the project's tasks, and broken rovers
 * are unplanned downtime like broken stations. */
static void
s_kpi_project (const twin_t *self, double now, twin_kpi_t *k)
{
    const twin_project_t *p = &self->project;
    k->has_project = true;
    k->units = p->ptasks_done;
    k->throughput_uph = s_div (k->units, k->sim_h);
    k->energy_kwh_per_unit = s_div (self->energy.energy_kwh, k->units);
    k->energy_cost_per_unit = s_div (k->energy_cost, k->units);
    k->unplanned_downtime_h += p->rover_down_s / 3600.0;
    k->planned_downtime_h += p->rover_service_s_sum / 3600.0;
    k->downtime_h = k->unplanned_downtime_h + k->planned_downtime_h;
    k->project_makespan_h = (p->ptasks_done == p->n_ptasks ? p->t_project_done_s : now) / 3600.0;
    k->project_done_pct = 100.0 * p->ptasks_done / p->n_ptasks;
}

void
twin_kpis (const twin_t *self, twin_kpi_t *k)
{
    memset (k, 0, sizeof *k);
    double now = des_now_s (self->des);
    double T = now - self->t_stats_s;
    const twin_flow_t *f = &self->flow;
    k->sim_h = T / 3600.0;
    k->units = f->good_out;
    k->throughput_uph = s_div (f->good_out, k->sim_h);
    k->cycle_time_mean_min = s_div (f->cycle_sum_s, f->units_out) / 60.0;
    k->wip_mean = s_div (f->wip_area + f->wip * (now - f->t_wip_s), T);
    s_kpi_stations (self, T, k);
    s_kpi_oee (self, T, k);
    k->escaped_defects = self->quality.escaped;
    k->escaped_defects_ppm = s_div (self->quality.escaped, f->good_out) * 1e6;
    k->scrap_units = self->quality.scrap;
    k->rework_units = self->quality.rework;
    const twin_energy_t *e = &self->energy;
    k->energy_kwh = e->energy_kwh;
    k->energy_kwh_per_unit = s_div (e->energy_kwh, f->good_out);
    /* Demand charges of closed months plus the open month's so far, each
     * pro-rated to the share of its month measured; battery wear. */
    k->demand_cost = e->demand_cost + e->month_peak_kw * e->demand_charge_per_kw * e->month_stats_s
                     / (TWIN_HOURS_PER_MONTH * 3600.0);
    k->battery_wear_cost = e->batt_wear_cost;
    k->energy_cost = e->energy_cost + k->demand_cost + k->battery_wear_cost;
    k->energy_cost_per_unit = s_div (k->energy_cost, f->good_out);
    k->peak_kw = e->peak_kw;
    k->solar_kwh = e->solar_kwh;
    k->manual_interventions = self->manual;
    double busy = 0;
    for (int r = 0; r < self->n_robots; r++) {
        busy += self->robot[r].busy_s;
        if (self->robot[r].busy)
            busy += now - fmax (self->robot[r].t_busy_start_s, self->t_stats_s);
    }
    k->robot_utilisation_pct = self->n_robots > 0 ? 100 * s_div (busy, T * self->n_robots) : 0;
    k->shortage_h = self->inv.shortage_s / 3600.0;
    k->damaged_parts = self->inv.damaged;
    k->orders_lost = f->orders_lost;
    s_kpi_flow (self, now, T, k);

    k->grid_outages = e->outages;
    k->grid_outage_h = e->outage_s_sum / 3600.0;
    k->unserved_kwh = e->unserved_kwh;
    k->deferred_kwh = e->deferred_kwh;
    k->holding_cost = self->inv.holding_cost;
    k->intake_cost = self->inv.intake_cost_sum;
    k->parts_returned = self->inv.returned;
    k->damaged_at_line = self->inv.damaged_at_line;
    if (self->project.n_ptasks > 0)
        s_kpi_project (self, now, k);
    twin__upkeep_kpis (self, k);        /* health (issue 11) */

    twin__quality_kpis (self, k);          /* quality (issue 11) */

    /* robots (issue 11) */
    k->robot_collisions = self->fleet.collisions;
    k->robot_deadlocks = self->fleet.deadlocks;
    k->robot_travel_km = self->fleet.travel_m / 1000.0;
    k->robot_battery_empty = self->fleet.batt_empty;
}

/* energy and material (issue 11) */
#define S_KPI_ENERGY_MATERIAL(X) \
    X (battery_wear_cost) X (demand_cost) X (grid_outages) X (grid_outage_h) X (unserved_kwh) \
    X (deferred_kwh) X (holding_cost) X (intake_cost) X (parts_returned) X (damaged_at_line)

#define S_KPI_FIELDS(X) \
    X (units) X (throughput_uph) X (cycle_time_mean_min) X (wip_mean) X (oee_pct) \
    X (availability_pct) X (performance_pct) X (quality_pct) X (downtime_h) \
    X (unplanned_downtime_h) X (planned_downtime_h) X (mtbf_h) X (mttr_h) X (breakdowns) \
    X (escaped_defects_ppm) X (escaped_defects) X (scrap_units) X (rework_units) \
    X (energy_kwh) X (energy_kwh_per_unit) X (energy_cost) X (energy_cost_per_unit) \
    X (peak_kw) X (solar_kwh) X (manual_interventions) X (robot_utilisation_pct) \
    X (shortage_h) X (damaged_parts) X (orders_lost) X (sim_h) \
    X (maintenance_cost) X (lost_output_h) X (spares_used) X (labour_h) \
    /* flow (issue 11) */ \
    X (lead_time_mean_min) X (tardy_pct) X (tardiness_mean_h) X (wip_line_mean) X (fg_mean) \
    X (arrivals) \
    /* robots (issue 11) */ \
    X (robot_collisions) X (robot_deadlocks) X (robot_travel_km) X (robot_battery_empty) \
    S_KPI_ENERGY_MATERIAL (X)
/* quality (issue 11) */
#define S_KPI_QUALITY(X) \
    X (quality_cost) X (inspection_cost) X (rework_cost) X (scrap_cost) X (field_return_cost) \
    X (field_returns) X (inspections) X (inspections_missed) X (diverted_units) X (false_diverts) \
    X (skipped_steps) X (recalibrations)

int
twin_kpi_json (const twin_kpi_t *k, char *buf, size_t len)
{
    size_t off = 0;
    int n = snprintf (buf, len, "{");
    if (n < 0 || (size_t) n >= len)
        return -1;
    off = (size_t) n;
#define X(f) \
    n = snprintf (buf + off, len - off, "%s\"%s\":%.6g", off > 1 ? "," : "", #f, k->f); \
    if (n < 0 || (size_t) n >= len - off) return -1; \
    off += (size_t) n;
    S_KPI_FIELDS (X)
    S_KPI_QUALITY (X)
#undef X
    if (k->has_project) {
        n = snprintf (buf + off, len - off, ",\"project_makespan_h\":%.6g,\"project_done_pct\":%.6g",
                      k->project_makespan_h, k->project_done_pct);
        if (n < 0 || (size_t) n >= len - off)
            return -1;
        off += (size_t) n;
    }
    n = snprintf (buf + off, len - off, ",\"bottleneck\":%d}", k->bottleneck);
    if (n < 0 || (size_t) n >= len - off)
        return -1;
    return (int) (off + (size_t) n);
}

void
twin_kpi_print (const twin_t *self, const twin_kpi_t *k, FILE *out)
{
    fprintf (out, "%-28s %14s\n", "kpi", "value");
#define X(f) fprintf (out, "%-28s %14.6g\n", #f, k->f);
    S_KPI_FIELDS (X)
    S_KPI_QUALITY (X)
#undef X
    if (k->has_project) {
        fprintf (out, "%-28s %14.6g\n", "project_makespan_h", k->project_makespan_h);
        fprintf (out, "%-28s %14.6g\n", "project_done_pct", k->project_done_pct);
    }
    double now = des_now_s (self->des), T = now - self->t_stats_s;
    fprintf (out, "\n%-16s %7s %7s %7s %7s %7s %7s %8s %9s %s\n", "station", "busy%", "blocked%",
             "starved%", "down%", "maint%", "setup%", "standby%", "units", "bottleneck");
    for (int i = 0; i < self->n_stations; i++) {
        const twin_station_t *s = &self->st[i];
        fprintf (out, "%-16s", s->name);
        const twin_state_t order[] = { TWIN_ST_BUSY, TWIN_ST_BLOCKED, TWIN_ST_STARVED,
                                       TWIN_ST_DOWN, TWIN_ST_MAINT, TWIN_ST_SETUP };
        for (int j = 0; j < 6; j++)
            fprintf (out, " %7.1f", T > 0 ? 100 * s_time_in (self, s, order[j]) / T : 0);
        fprintf (out, " %8.1f", T > 0 ? 100 * s_time_in (self, s, TWIN_ST_STANDBY) / T : 0);  /* issue 11 */
        fprintf (out, " %9llu %s\n", (unsigned long long) s->processed,
                 i == k->bottleneck ? "<==" : "");
    }
    double h[TWIN_CAUSE_COUNT];
    twin_downtime_by_cause (self, h);
    fprintf (out, "\ndowntime by cause (station-h):");
    for (int c = 0; c < TWIN_CAUSE_COUNT; c++)
        fprintf (out, " %s %.1f", twin_cause_name (c), h[c]);
    fputc ('\n', out);
}
