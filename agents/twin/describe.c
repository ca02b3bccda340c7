/*  twin describe — the plant description a controller fetches at start.
 *
 *  What a plant's engineering documents would give an agent (DESIGN §4):
 *  stations with their nameplate times and limits, buffers, the components
 *  each has with the maker's rated life and PM interval, variants and
 *  routes, parts with their suppliers' lead times, the tariff, battery,
 *  HVAC and solar ratings, the robot fleet and the floor's distances.
 *  Nothing hidden: no drawn lives, no wear, no model gains (how wear turns
 *  into defects or heat is for an agent to learn from its sensors), no seed
 *  and no config path.
 */
#include "twin_int.h"
#include "af_json.h"

static void
s_key (FILE *out, const char *key, double v, bool comma)
{
    fprintf (out, "%s\"%s\":", comma ? "," : "", key);
    af_json_number (out, v);
}

static void
s_station (const twin_station_t *s, FILE *out)
{
    fputs ("{\"name\":", out);
    af_json_string (out, s->name);
    s_key (out, "process_s_mean", s->process_s.mean, true);
    s_key (out, "process_s_sd", twin_dist_sd (&s->process_s), true);
    s_key (out, "setup_s_mean", s->has_setup ? s->setup_s.mean : 0, true);
    fprintf (out, ",\"setup_manual\":%s", s->setup_manual ? "true" : "false");
    s_key (out, "buffer_cap", s->buffer_cap, true);
    s_key (out, "conveyor_s", s->conveyor_s, true);
    s_key (out, "max_speed", s->max_speed, true);
    s_key (out, "mtbf_h", s->mtbf_h, true);
    s_key (out, "repair_min_mean", s->repair_s.mean / 60.0, true);
    s_key (out, "pm_interval_h", s->pm_interval_h, true);
    s_key (out, "pm_min_mean", s->pm_s.mean / 60.0, true);
    s_key (out, "power_idle_kw", s->power_idle_kw, true);
    s_key (out, "power_busy_kw", s->power_busy_kw, true);
    s_key (out, "shaft_hz", s->shaft_hz, true);
    s_key (out, "torque_nominal_nm", s->torque_nominal_nm, true);
    if (s->q.on) {
        /* quality (issue 11): the drawing's tolerances and the gauges'
         * qualification (MSA) — never the drift or the offsets. */
        s_key (out, "torque_tol_pct", 100.0 * s->q.torque_tol, true);
        s_key (out, "align_tol_mm", s->q.align_tol_mm, true);
        s_key (out, "gauge_grr_pct", 100.0 * s->q.gauge_sd * 6.0 / 2.0, true);
        s_key (out, "recal_min", s->q.recal_s / 60.0, true);
        s_key (out, "recal_every_units", s->q.recal_every_units, true);
    }

    /* flow (issue 11): the buffer's physical limit and the stand-by ratings */
    s_key (out, "buffer_max", s->buffer_max, true);
    s_key (out, "power_standby_kw", s->power_standby_kw, true);
    s_key (out, "power_wake_kw", s->power_wake_kw, true);
    s_key (out, "wake_s_mean", s->wake_s.mean, true);
    fputs (",\"components\":[", out);
    bool first = true;
    for (int c = 0; c < TWIN_COMP_COUNT; c++) {
        const twin_component_t *k = &s->comp[c];
        if (!k->present)
            continue;
        fprintf (out, "%s{\"name\":\"%s\"", first ? "" : ",", twin__comp_names[c]);
        /* The maker's figures: rated wear per busy hour and the rated limit
         * with its part-to-part spread — never this part's drawn life. */
        s_key (out, "rated_wear_per_h", k->rate_per_h, true);
        s_key (out, "rated_limit", k->threshold, true);
        s_key (out, "life_cv", k->life_cv, true);
        s_key (out, "replace_min_mean", k->repair_s.mean / 60.0, true);
        fputc ('}', out);
        first = false;
    }
    fputs ("]}", out);
}

static void
s_variants (const twin_t *self, FILE *out)
{
    fputs (",\"variants\":[", out);
    for (int v = 0; v < self->n_variants; v++) {
        const twin_variant_t *va = &self->var[v];
        fprintf (out, "%s{\"name\":", v ? "," : "");
        af_json_string (out, va->name);
        s_key (out, "mix", va->mix, true);
        s_key (out, "due_h", va->due_h, true);
        for (int r = 0; r < 2; r++) {
            fprintf (out, ",\"%s\":[", r ? "alt_route" : "route");
            for (int k = 0; k < va->route_len[r]; k++) {
                fputs (k ? "," : "", out);
                af_json_string (out, self->st[va->route[r][k]].name);
            }
            fputc (']', out);
        }
        fputs (",\"bom\":{", out);
        for (int b = 0; b < va->bom_n; b++) {
            fputs (b ? "," : "", out);
            af_json_string (out, self->part[va->bom_part[b]].name);
            fputc (':', out);
            af_json_number (out, va->bom_qty[b]);
        }
        fputs ("}}", out);
    }
    fputc (']', out);
}

static void
s_parts (const twin_t *self, FILE *out)
{
    fputs (",\"parts\":[", out);
    for (int p = 0; p < self->n_parts; p++) {
        const twin_part_t *pt = &self->part[p];
        fprintf (out, "%s{\"name\":", p ? "," : "");
        af_json_string (out, pt->name);
        s_key (out, "lead_time_h_mean", pt->lead_time_s.mean / 3600.0, true);
        s_key (out, "lead_time_h_sd", twin_dist_sd (&pt->lead_time_s) / 3600.0, true);
        s_key (out, "bin_cap", pt->bin_cap, true);
        s_key (out, "bin_refill_at", pt->bin_refill_at, true);
        s_key (out, "planned_use_per_h", pt->avg_use_per_h, true);
        s_key (out, "delivery_every_h", pt->delivery_every_s / 3600.0, true);
        s_key (out, "warehouse_cap", pt->warehouse_cap, true);     /* material (issue 11) */
        s_key (out, "unit_cost", pt->unit_cost, true);
        fputc ('}', out);
    }
    fputc (']', out);
}

static void
s_energy (const twin_t *self, FILE *out)
{
    const twin_energy_t *e = &self->energy;
    fputs (",\"energy\":{", out);
    s_key (out, "base_load_kw", e->base_load_kw, false);
    s_key (out, "battery_capacity_kwh", e->batt_cap_kwh, true);
    s_key (out, "battery_max_kw", e->batt_max_kw, true);
    s_key (out, "battery_round_trip_eff", e->batt_eff, true);
    s_key (out, "battery_min_soc", e->batt_min_soc, true);
    s_key (out, "hvac_setpoint_c", e->hvac_setpoint_cfg_c, true);
    s_key (out, "hvac_cop", e->hvac_cop, true);
    s_key (out, "hvac_max_kw", e->hvac_max_kw, true);
    s_key (out, "solar_peak_kw", e->solar_peak_kw, true);
    s_key (out, "latitude_deg", e->latitude_deg, true);
    s_key (out, "price_per_kwh", e->price_default, true);
    s_key (out, "demand_charge_per_kw", e->demand_charge_per_kw, true);
    s_key (out, "demand_interval_min", e->demand_interval_s / 60.0, true);
    /* energy (issue 11): the battery's wear cost, the HVAC's response, the
     * grid's outage statistics and the loads beside the stations */
    s_key (out, "battery_wear_cost_per_kwh", e->batt_wear_per_kwh, true);
    s_key (out, "hvac_response_h", e->hvac_response_h, true);
    s_key (out, "heat_cap_kwh_per_c", e->heat_cap_kwh_per_c, true);
    s_key (out, "ua_kw_per_c", e->ua_kw_per_c, true);
    s_key (out, "grid_outages_per_year", e->outage_per_h * 8760.0, true);
    s_key (out, "grid_outage_h_mean", e->outage_s.mean / 3600.0, true);
    fputs (",\"loads\":[", out);
    for (int i = 0; i < e->n_loads; i++) {
        fprintf (out, "%s{\"name\":", i ? "," : "");
        af_json_string (out, e->load[i].name);
        s_key (out, "kw", e->load[i].kw, true);
        fprintf (out, ",\"critical\":%s", e->load[i].critical ? "true" : "false");
        s_key (out, "catch_up_kw", e->load[i].catch_up_kw, true);
        s_key (out, "max_defer_h", e->load[i].max_defer_h, true);
        fputc ('}', out);
    }
    fputc (']', out);
    fputs (",\"tou\":[", out);
    for (int i = 0; i < e->n_tou; i++) {
        fprintf (out, "%s{", i ? "," : "");
        s_key (out, "from_h", e->tou[i].from_h, false);
        s_key (out, "to_h", e->tou[i].to_h, true);
        s_key (out, "price_per_kwh", e->tou[i].price, true);
        fputc ('}', out);
    }
    fputs ("]}", out);
}

int
twin_describe (const twin_t *self, FILE *out)
{
    fputs ("{\"factory\":", out);
    af_json_string (out, self->factory);
    s_key (out, "epoch_s", self->epoch_s, true);
    fputs (",\"stations\":[", out);
    for (int i = 0; i < self->n_stations; i++) {
        fputs (i ? "," : "", out);
        s_station (&self->st[i], out);
    }
    fputc (']', out);
    s_variants (self, out);
    s_parts (self, out);
    s_energy (self, out);
    const twin_fleet_t *f = &self->fleet;
    fputs (",\"robots\":{", out);
    s_key (out, "mobile", self->n_robots, false);
    s_key (out, "speed_mps", f->robot_speed_mps, true);
    s_key (out, "inspect_min", f->robot_inspect_s / 60.0, true);
    s_key (out, "handle_min", f->robot_handle_s / 60.0, true);
    fprintf (out, ",\"can_repair\":%s", f->robot_can_repair ? "true" : "false");
    if (f->travel) {
        /* robots (issue 11): what the fleet's data sheet and the floor plan say */
        fputs (",\"travel\":true", out);
        s_key (out, "congestion", f->congestion, true);
        s_key (out, "conflict_min", f->conflict_s / 60.0, true);
        s_key (out, "deadlock_timeout_min", f->deadlock_timeout_s / 60.0, true);
        s_key (out, "battery_kwh", f->batt_kwh, true);
        s_key (out, "wh_per_m", f->wh_per_m, true);
        s_key (out, "work_kw", f->work_kw, true);
        s_key (out, "charge_kw", f->charge_kw, true);
        s_key (out, "charge_below", f->charge_below, true);
        fputs (",\"chargers\":[", out);
        for (int k = 0; k < f->n_chargers; k++) {
            fputs (k ? "," : "", out);
            af_json_string (out, f->node_name[f->chargers[k]]);
        }
        fputc (']', out);
    }
    fputs ("},\"people\":{", out);
    s_key (out, "technicians", self->health.technicians, false);
    s_key (out, "response_min_mean", self->health.tech_response_s.mean / 60.0, true);
    twin__upkeep_describe (self, out);      /* health (issue 11) */
    /* Floor distances between warehouse, dock and the stations, in metres. */
    fputs ("},\"floor\":{\"nodes\":[", out);
    for (int i = 0; i < f->n_nodes; i++) {     /* extra nodes (issue 11) after the stations */
        fputs (i ? "," : "", out);
        af_json_string (out, f->node_name[i]);
    }
    /* robots (issue 11): aisles [a, b, length_m, width] (width 0: no limit)
     * and node capacities (0: no limit). */
    fputs ("],\"edges\":[", out);
    for (int k = 0; k < f->n_edges; k++) {
        fprintf (out, "%s[", k ? "," : "");
        af_json_string (out, f->node_name[f->edges[k].a]);
        fputc (',', out);
        af_json_string (out, f->node_name[f->edges[k].b]);
        fputc (',', out);
        af_json_number (out, f->edges[k].len_m);
        fprintf (out, ",%d]", f->edges[k].width);
    }
    fputs ("],\"node_capacity\":[", out);
    for (int i = 0; i < f->n_nodes; i++)
        fprintf (out, "%s%d", i ? "," : "", f->node_cap[i]);
    fputs ("],\"distance_m\":[", out);
    for (int i = 0; i < f->n_nodes; i++) {
        fputs (i ? ",[" : "[", out);
        for (int j = 0; j < f->n_nodes; j++) {
            fputs (j ? "," : "", out);
            af_json_number (out, f->dist_m[i * f->n_nodes + j]);
        }
        fputc (']', out);
    }
    fputs ("]}}\n", out);
    return ferror (out) ? -1 : 0;
}
