/*  twin energy — power, heat, solar, battery, tariff and supplier deliveries.
 *
 *  Evaluated once per decision epoch from the energy the stations used in it
 *  (integrated exactly by state in model.c), because tariffs and demand
 *  charges are defined on 15-minute averages anyway, and the building's
 *  thermal time constant is hours.
 */
#include "twin_int.h"

#include <math.h>
#include <string.h>

#define S_HOURS_PER_MONTH TWIN_HOURS_PER_MONTH

/* Hour of the local day (a sol on Mars, site.c), 0 … 24.  An Earth day
 * keeps the original expression so that Earth runs repeat bit for bit. */
static double
s_hour (const twin_t *self, double t_s)
{
    if (self->site.day_s == 86400.0)
        return fmod (t_s / 3600.0, 24.0);
    return fmod (t_s / self->site.day_s, 1.0) * 24.0;
}

static double
s_ambient_c (const twin_t *self, double t_s)
{
    double day = t_s / self->site.day_s;
    double hour = s_hour (self, t_s);
    /* Coldest around 05:00 and mid-January (day 15), warmest 15:00 / mid-July. */
    return self->energy.ambient_mean_c
           - self->energy.ambient_day_amp_c * cos (2 * M_PI * (hour - 3.0) / 24.0)
           - self->energy.ambient_season_amp_c * cos (2 * M_PI * (fmod (day, self->site.year_days) - 15.0) / self->site.year_days);
}

/* Clear-sky output from the sun's elevation (declination and hour angle at
 * LATITUDE_DEG), times a daily cloud factor drawn from the weather stream. */
static double
s_solar_kw (twin_t *self, double t_s)
{
    if (self->energy.solar_peak_kw <= 0)
        return 0;
    int day = (int) (t_s / self->site.day_s);
    if (day != self->energy.cloud_day) {
        self->energy.cloud_day = day;
        double c = twin_rng_exponential (&self->energy.weather_rng, self->energy.cloud_mean);
        self->energy.cloud_today = c > 1 ? 1 : c;
    }
    double doy = fmod (t_s / self->site.day_s, self->site.year_days);
    double hour = s_hour (self, t_s);
    double decl = self->site.tilt_deg * M_PI / 180.0 * sin (2 * M_PI * (doy - 81.0) / self->site.year_days);
    double lat = self->energy.latitude_deg * M_PI / 180.0;
    double ha = (hour - 12.0) * 15.0 * M_PI / 180.0;
    double sin_el = sin (lat) * sin (decl) + cos (lat) * cos (decl) * cos (ha);
    if (sin_el <= 0)
        return 0;
    /* SOLAR_FACTOR: a dust storm's dimming (site.c), 1 otherwise. */
    return self->energy.solar_peak_kw * sin_el * (1.0 - 0.75 * self->energy.cloud_today) * self->site.solar_factor;
}

double
twin__price (const twin_t *self, double t_s)
{
    double h = fmod (t_s / 3600.0, 24.0);
    for (int i = 0; i < self->energy.n_tou; i++) {
        double a = self->energy.tou[i].from_h, b = self->energy.tou[i].to_h;
        if ((a <= b && h >= a && h < b) || (a > b && (h >= a || h < b)))
            return self->energy.tou[i].price;
    }
    return self->energy.price_default;
}

/* The demand charge and the peak are billed on the utility's interval
 * averages (15 min), whatever the decision epoch: import is summed over the
 * interval and its average counts when the interval is complete.  An epoch
 * of exactly one interval gives each epoch's import, as before. */
static void
s_demand_interval (twin_t *self, double now, double import_kw, double dt_s)
{
    self->energy.demand_kwh += import_kw * dt_s / 3600.0;
    self->energy.demand_s += dt_s;
    if (self->energy.demand_s < self->energy.demand_interval_s - 1e-6)
        return;
    double avg_kw = self->energy.demand_s == dt_s ? import_kw : self->energy.demand_kwh * 3600.0 / self->energy.demand_s;
    self->energy.demand_kwh = self->energy.demand_s = 0;
    if (now <= self->t_stats_s)
        return;
    if (avg_kw > self->energy.peak_kw)
        self->energy.peak_kw = avg_kw;
    if (avg_kw > self->energy.month_peak_kw)
        self->energy.month_peak_kw = avg_kw;
}

/* HVAC against the hall's heat balance: internal gains (all electric power
 * ends as heat) and the envelope (UA).  Without a response time the HVAC
 * holds the set point whenever its capacity allows (the original model);
 * with one (hvac.response_h) it is a first-order loop: it removes the gains
 * plus the heat that brings the hall to its set point over the response
 * time, within its capacity, and the hall's thermal mass integrates the
 * rest.  So the hall lags a set point change: pre-cooling stores cold in
 * the building and costs energy earlier.  ON false: HVAC off (an outage). */
static double
s_hvac (twin_t *self, double amb, double load_kw, double dt_h, bool on)
{
    twin_energy_t *e = &self->energy;
    double gain_kw = load_kw + e->ua_kw_per_c * (amb - e->indoor_c);
    if (e->hvac_max_kw <= 0 || !on) {
        e->indoor_c += gain_kw * dt_h / e->heat_cap_kwh_per_c;
        return 0;
    }
    double cap_th = e->hvac_max_kw * e->hvac_cop;
    if (e->hvac_response_h <= 0) {
        double need_kw = load_kw + e->ua_kw_per_c * (amb - e->hvac_setpoint_c);
        double delivered = fmax (-cap_th, fmin (cap_th, need_kw));
        e->indoor_c = fabs (need_kw) <= cap_th ? e->hvac_setpoint_c
                                                : e->indoor_c + (gain_kw - delivered) * dt_h / e->heat_cap_kwh_per_c;
        return fabs (delivered) / e->hvac_cop;
    }
    /* It cools while the hall gains heat and heats while it loses it, never
     * both ways at once: a pre-cooled hall is left to warm up on its own
     * gains, not heated back to the set point. */
    double err_c = e->indoor_c - e->hvac_setpoint_c;
    double want_kw = gain_kw + e->heat_cap_kwh_per_c * err_c / e->hvac_response_h;
    double delivered = gain_kw >= 0 ? fmax (0, fmin (cap_th, want_kw)) : fmax (-cap_th, fmin (0, want_kw));
    if (delivered == want_kw)
        /* Unsaturated: the loop's exact first-order decay over the epoch. */
        e->indoor_c = e->hvac_setpoint_c + err_c * exp (-dt_h / e->hvac_response_h);
    else
        e->indoor_c += (gain_kw - delivered) * dt_h / e->heat_cap_kwh_per_c;
    return fabs (delivered) / e->hvac_cop;
}

/* The configured loads beside the stations: critical ones always draw
 * their power; a deferrable one draws nothing while held (by the energy
 * owner's defer_load, or an outage) and owes what it missed, which it
 * catches up afterwards at up to catch_up_kw.  Returns the kW drawn. */
static double
s_loads (twin_t *self, double now, double dt_h, bool critical)
{
    twin_energy_t *e = &self->energy;
    double kw = 0;
    for (int i = 0; i < e->n_loads; i++) {
        typeof (e->load[0]) *l = &e->load[i];
        if (l->critical != critical)
            continue;
        if (critical) {
            l->last_kw = l->kw;
            kw += l->kw;
            continue;
        }
        bool held = e->grid_out || now <= l->hold_until_s;
        double limit_kwh = l->kw * l->max_defer_h;
        if (held) {
            l->backlog_kwh += l->kw * dt_h;
            if (l->backlog_kwh > limit_kwh + 1e-9) {
                /* Held past its limit: released now, or (outage) not served. */
                if (e->grid_out && now > self->t_stats_s)
                    e->unserved_kwh += l->backlog_kwh - limit_kwh;
                if (e->grid_out)
                    l->backlog_kwh = limit_kwh;
                l->hold_until_s = 0;
            }
            if (now > self->t_stats_s)
                e->deferred_kwh += l->kw * dt_h;
            l->last_kw = 0;
            continue;
        }
        double extra = fmin (l->catch_up_kw - l->kw, l->backlog_kwh / dt_h);
        l->backlog_kwh -= extra * dt_h;
        l->last_kw = l->kw + extra;
        kw += l->last_kw;
    }
    return kw;
}

/* The grid: outages arrive at random (outage_per_year) and last a drawn
 * time, from the plant's own "grid" stream. */
static void
s_grid (twin_t *self, double now)
{
    twin_energy_t *e = &self->energy;
    if (e->outage_per_h <= 0)
        return;
    if (e->next_outage_s < 0)
        e->next_outage_s = now + twin_rng_exponential (&e->grid_rng, 3600.0 / e->outage_per_h);
    if (e->grid_out && now >= e->outage_end_s) {
        e->grid_out = false;
        e->next_outage_s = now + twin_rng_exponential (&e->grid_rng, 3600.0 / e->outage_per_h);
    }
    if (!e->grid_out && now >= e->next_outage_s) {
        e->grid_out = true;
        e->outage_end_s = now + fmax (60.0, twin_dist_sample (&e->outage_s, &e->grid_rng));
        if (now > self->t_stats_s)
            e->outages++;
    }
}

/* The line runs again after an outage: idle stations take work. */
static void
s_line_on (twin_t *self)
{
    self->energy.line_off = false;
    for (int i = 0; i < self->n_stations; i++)
        if (self->st[i].state == TWIN_ST_STARVED && self->st[i].unit < 0)
            twin__station_resume (self, &self->st[i]);
    twin__try_release (self);
}

/* The battery's power over DT_H: its set point, or in an outage whatever
 * the islanded plant needs (NEED_KW), within power and charge limits. */
static double
s_battery (twin_t *self, double dt_h, double need_kw)
{
    twin_energy_t *e = &self->energy;
    if (e->batt_cap_kwh <= 0)
        return 0;
    double sp = e->grid_out ? fmax (0, need_kw) : e->batt_setpoint_kw;
    if (sp == 0)
        return 0;
    double leg = sqrt (e->batt_eff), batt_kw;
    sp = fmax (-e->batt_max_kw, fmin (e->batt_max_kw, sp));
    if (sp > 0) {
        double avail = (e->batt_soc - e->batt_min_soc) * e->batt_cap_kwh * leg / dt_h;
        batt_kw = fmin (sp, fmax (0, avail));
        e->batt_soc -= batt_kw * dt_h / leg / e->batt_cap_kwh;
    }
    else {
        double room = (1.0 - e->batt_soc) * e->batt_cap_kwh / leg / dt_h;
        batt_kw = -fmin (-sp, fmax (0, room));
        e->batt_soc -= batt_kw * dt_h * leg / e->batt_cap_kwh;
    }
    return batt_kw;
}

/* Bills the month when it closes: its demand charge pro-rated by the share
 * of the month inside the measured window (a one-week run carries a week's
 * share of its month's charge, not all of it). */
static void
s_month (twin_t *self, double now, double dt_s)
{
    twin_energy_t *e = &self->energy;
    int month = (int) (now / 3600.0 / S_HOURS_PER_MONTH);
    if (month != e->month) {
        e->demand_cost += e->month_peak_kw * e->demand_charge_per_kw
                          * fmin (1.0, e->month_stats_s / (S_HOURS_PER_MONTH * 3600.0));
        e->month_peak_kw = 0;
        e->month_stats_s = 0;
        e->month = month;
    }
    if (now > self->t_stats_s)
        e->month_stats_s += dt_s;
}

void
twin__energy_epoch (twin_t *self, double dt_s)
{
    twin_energy_t *e = &self->energy;
    double now = des_now_s (self->des);
    double dt_h = dt_s / 3600.0;
    if (dt_h <= 0)
        return;
    double station_kwh = 0;
    for (int i = 0; i < self->n_stations; i++) {
        twin__station_flush (self, &self->st[i]);
        station_kwh += self->st[i].energy_kwh;
    }
    double line_kw = (station_kwh - e->last_station_kwh) / dt_h;
    e->last_station_kwh = station_kwh;
    bool was_out = e->grid_out;
    s_grid (self, now);
    double crit_kw = e->base_load_kw + s_loads (self, now, dt_h, true);
    double load_kw = line_kw + crit_kw + s_loads (self, now, dt_h, false);
    double amb = s_ambient_c (self, now);
    double solar_kw = s_solar_kw (self, now);
    double indoor0_c = e->indoor_c;
    double hvac_kw = s_hvac (self, amb, load_kw, dt_h, true);

    double batt_kw, served_kw = load_kw + hvac_kw;
    if (e->grid_out) {
        /* Islanded: solar and the battery serve the critical loads first,
         * then the HVAC, then the line; what they cannot carry stops. */
        double room_kw = solar_kw;
        if (e->batt_cap_kwh > 0)
            room_kw += fmin (e->batt_max_kw, fmax (0, (e->batt_soc - e->batt_min_soc) * e->batt_cap_kwh
                                                          * sqrt (e->batt_eff) / dt_h));
        if (room_kw < load_kw + hvac_kw) {
            e->indoor_c = indoor0_c;
            hvac_kw = s_hvac (self, amb, load_kw, dt_h, false);
        }
        served_kw = fmin (room_kw, load_kw + hvac_kw);
        e->line_off = room_kw < crit_kw + e->line_run_kw;
        if (now > self->t_stats_s) {
            e->unserved_kwh += (load_kw + hvac_kw - served_kw) * dt_h;
            e->outage_s_sum += dt_s;
        }
        batt_kw = s_battery (self, dt_h, served_kw - solar_kw);
    }
    else {
        if (was_out && e->line_off)
            s_line_on (self);
        batt_kw = s_battery (self, dt_h, 0);
    }
    double grid_kw = e->grid_out ? 0 : served_kw - solar_kw - batt_kw;
    double import_kw = grid_kw > 0 ? grid_kw : 0;   /* surplus solar is curtailed, not paid */
    double price = twin__price (self, now);

    if (now > self->t_stats_s) {
        e->energy_kwh += (served_kw + (batt_kw < 0 ? -batt_kw : 0) * (1 - e->batt_eff)) * dt_h;
        e->solar_kwh += fmin (solar_kw, served_kw) * dt_h;
        e->energy_cost += import_kw * dt_h * price;
        if (batt_kw > 0) {
            e->batt_out_kwh += batt_kw * dt_h;
            e->batt_wear_cost += batt_kw * dt_h * e->batt_wear_per_kwh;
        }
    }
    s_month (self, now, dt_s);
    s_demand_interval (self, now, import_kw, dt_s);

    e->last_load_kw = load_kw;
    e->last_hvac_kw = hvac_kw;
    e->last_solar_kw = solar_kw;
    e->last_batt_kw = batt_kw;
    e->last_grid_kw = grid_kw;
    e->last_price = price;
    self->view.obs.ambient_c = amb;
}

/* ------------------------------------------------------------ hooks */

static const char *const s_energy_keys[] = { "base_load_kw", "ambient", "hvac", "solar", "battery", "tariff",
                                              "grid", "loads", NULL };
static const char *const s_ambient_keys[] = { "mean_c", "day_amp_c", "season_amp_c", NULL };
static const char *const s_hvac_keys[] = { "setpoint_c", "cop", "max_kw", "ua_kw_per_c", "heat_cap_kwh_per_c",
                                            "response_h", NULL };
static const char *const s_solar_keys[] = { "peak_kw", "latitude_deg", "cloud_mean", NULL };
static const char *const s_batt_keys[] = { "capacity_kwh", "max_kw", "round_trip_eff", "soc", "min_soc",
                                            "wear_cost_per_kwh", NULL };
static const char *const s_tariff_keys[] = { "price_per_kwh", "tou", "demand_charge_per_kw",
                                              "demand_interval_min", NULL };
static const char *const s_tou_keys[] = { "from_h", "to_h", "price_per_kwh", NULL };
static const char *const s_grid_keys[] = { "outages_per_year", "outage_h", NULL };
static const char *const s_load_keys[] = { "name", "kw", "critical", "catch_up_kw", "max_defer_h", NULL };

/* ------------------------------------------------------------ energy */

/* energy.loads: the base load's named parts (compressors, robot charging
 * …), each critical or deferrable within max_defer_h.  They add to
 * base_load_kw, which stays the rest of the critical load. */
static int
s_loads_load (twin_t *self, const af_config_t *e)
{
    const af_config_t *seq = e ? af_config_seq (e, "loads") : NULL;
    if (!seq)
        return 0;
    if (af_config_size (seq) > TWIN_MAX_LOADS)
        return af_config_fail (seq, "at most %d loads", TWIN_MAX_LOADS);
    for (size_t i = 0; i < af_config_size (seq); i++) {
        const af_config_t *m = af_config_at (seq, i, NULL);
        if (af_config_kind (m) != AF_CONFIG_MAP)
            return af_config_fail (m, "a load is {name, kw, critical, catch_up_kw, max_defer_h}");
        af_config_known_keys (m, s_load_keys);
        typeof (self->energy.load[0]) *l = &self->energy.load[i];
        const char *name = af_config_str_req (m, "name");
        if (!name || !*name || strlen (name) >= TWIN_NAME_MAX)
            return af_config_fail (m, "a load needs a name of 1..%d characters", TWIN_NAME_MAX - 1);
        strcpy (l->name, name);
        l->kw = af_config_num_req (m, "kw", 0, 1e6);
        l->critical = af_config_bool (m, "critical", true);
        l->catch_up_kw = af_config_num (m, "catch_up_kw", 2 * l->kw, l->kw, 1e6);
        l->max_defer_h = af_config_num (m, "max_defer_h", l->critical ? 0 : 4, 0, 168);
        if (!l->critical && l->max_defer_h <= 0)
            return af_config_fail (m, "load '%s' is deferrable: it needs max_defer_h > 0", l->name);
        self->energy.n_loads++;
    }
    return 0;
}

/* energy.grid: outages as a Poisson process with a drawn duration; the
 * line's full draw, for deciding what an islanded plant can carry. */
static int
s_grid_load (twin_t *self, const af_config_t *e)
{
    twin_energy_t *en = &self->energy;
    const af_config_t *g = twin__cfg_map (e, "grid", s_grid_keys);
    en->outage_per_h = af_config_num (g, "outages_per_year", 0, 0, 1000) / 8760.0;
    if (twin__cfg_dist (&en->outage_s, g, "outage_h", 3600.0, 2))
        return -1;
    en->next_outage_s = en->outage_end_s = -1;
    for (int i = 0; i < self->n_stations; i++)
        en->line_run_kw += self->st[i].power_busy_kw;
    twin_rng_seed (&en->grid_rng, self->seed, "grid");
    return 0;
}

int
twin__energy_load (twin_t *self, const af_config_t *root)
{
    const af_config_t *e = twin__cfg_map (root, "energy", s_energy_keys);
    self->energy.base_load_kw = af_config_num (e, "base_load_kw", 0, 0, 1e6);
    const af_config_t *a = twin__cfg_map (e, "ambient", s_ambient_keys);
    /* Mars (site.profile: mars): −60 °C mean at a mid-latitude site, a
     * 70 K swing over the sol in the thin air, and long seasons. */
    self->energy.ambient_mean_c = af_config_num (a, "mean_c", self->site.site_mars ? -60 : 12, -150, 60);
    self->energy.ambient_day_amp_c = af_config_num (a, "day_amp_c", self->site.site_mars ? 35 : 5, 0, 100);
    self->energy.ambient_season_amp_c = af_config_num (a, "season_amp_c", self->site.site_mars ? 20 : 9, 0, 100);
    const af_config_t *h = twin__cfg_map (e, "hvac", s_hvac_keys);
    self->energy.hvac_setpoint_c = af_config_num (h, "setpoint_c", 21, 10, 35);
    self->energy.indoor_c = self->energy.hvac_setpoint_c;
    self->energy.hvac_setpoint_cfg_c = self->energy.hvac_setpoint_c;
    self->energy.hvac_cop = af_config_num (h, "cop", 3.5, 0.5, 10);
    self->energy.hvac_max_kw = af_config_num (h, "max_kw", 0, 0, 1e6);
    self->energy.ua_kw_per_c = af_config_num (h, "ua_kw_per_c", 5, 0, 1e5);
    self->energy.heat_cap_kwh_per_c = af_config_num (h, "heat_cap_kwh_per_c", 500, 1, 1e7);
    self->energy.hvac_response_h = af_config_num (h, "response_h", 0, 0, 1000);
    const af_config_t *s = twin__cfg_map (e, "solar", s_solar_keys);
    self->energy.solar_peak_kw = af_config_num (s, "peak_kw", 0, 0, 1e6);
    self->energy.latitude_deg = af_config_num (s, "latitude_deg", 52, -66, 66);
    self->energy.cloud_mean = af_config_num (s, "cloud_mean", 0.4, 0, 1);
    self->energy.cloud_day = -1;
    const af_config_t *b = twin__cfg_map (e, "battery", s_batt_keys);
    self->energy.batt_cap_kwh = af_config_num (b, "capacity_kwh", 0, 0, 1e7);
    self->energy.batt_max_kw = af_config_num (b, "max_kw", 0, 0, 1e6);
    self->energy.batt_eff = af_config_num (b, "round_trip_eff", 0.9, 0.1, 1);
    self->energy.batt_soc = af_config_num (b, "soc", 0.5, 0, 1);
    self->energy.batt_min_soc = af_config_num (b, "min_soc", 0.1, 0, 1);
    self->energy.batt_wear_per_kwh = af_config_num (b, "wear_cost_per_kwh", 0, 0, 100);
    const af_config_t *t = twin__cfg_map (e, "tariff", s_tariff_keys);
    self->energy.price_default = af_config_num (t, "price_per_kwh", 0.15, 0, 100);
    self->energy.demand_charge_per_kw = af_config_num (t, "demand_charge_per_kw", 0, 0, 1e4);
    self->energy.demand_interval_s = af_config_num (t, "demand_interval_min", 15, 1, 1440) * 60.0;
    const af_config_t *tou = t ? af_config_seq (t, "tou") : NULL;
    if (tou) {
        if (af_config_size (tou) > 8)
            return af_config_fail (tou, "at most 8 time-of-use periods");
        for (size_t i = 0; i < af_config_size (tou); i++) {
            const af_config_t *p = af_config_at (tou, i, NULL);
            if (af_config_kind (p) != AF_CONFIG_MAP)
                return af_config_fail (p, "a time-of-use period is {from_h, to_h, price_per_kwh}");
            af_config_known_keys (p, s_tou_keys);
            self->energy.tou[i].from_h = af_config_num_req (p, "from_h", 0, 24);
            self->energy.tou[i].to_h = af_config_num_req (p, "to_h", 0, 24);
            self->energy.tou[i].price = af_config_num_req (p, "price_per_kwh", 0, 100);
            self->energy.n_tou++;
        }
    }
    twin_rng_seed (&self->energy.weather_rng, self->seed, "weather");
    if (s_loads_load (self, e) || s_grid_load (self, e))
        return -1;
    return af_config_error (root) ? -1 : 0;
}

void
twin__energy_reset (twin_t *self)
{
    twin_energy_t *e = &self->energy;
    e->energy_kwh = e->solar_kwh = e->energy_cost = e->peak_kw = e->demand_cost = 0;
    e->last_station_kwh = 0;        /* the stations' counters restart too */
    e->batt_wear_cost = e->batt_out_kwh = e->outage_s_sum = e->outages = 0;
    e->unserved_kwh = e->deferred_kwh = e->month_stats_s = 0;
}

void
twin__energy_redraw (twin_t *self, uint64_t salt)
{
    twin_energy_t *e = &self->energy;
    twin_rng_reseed (&e->grid_rng, salt);
    if (e->outage_per_h <= 0 || e->next_outage_s < 0)
        return;
    double now = des_now_s (self->des);
    if (e->grid_out)
        e->outage_end_s = now + fmax (60.0, twin_dist_sample (&e->outage_s, &e->grid_rng));
    else
        e->next_outage_s = now + twin_rng_exponential (&e->grid_rng, 3600.0 / e->outage_per_h);
}

void
twin__energy_destroy (twin_t *self)
{
    twin_dist_free (&self->energy.outage_s);
}

/* The energy owner's defer_load: checks that load LOAD can be held HOURS
 * more within its limit (hours 0: run it now). */
int
twin__load_defer_check (const twin_t *self, int load, double hours, char *err, size_t len)
{
    const twin_energy_t *e = &self->energy;
    if (load < 0 || load >= e->n_loads)
        return twin__fail (err, len, "unknown load %d (the plant has %d; describe lists them)", load, e->n_loads);
    if (e->load[load].critical)
        return twin__fail (err, len, "load '%s' is critical: it cannot be deferred", e->load[load].name);
    double left_h = e->load[load].max_defer_h - e->load[load].backlog_kwh / fmax (1e-9, e->load[load].kw);
    if (!(hours >= 0 && hours <= left_h + 1e-9))
        return twin__fail (err, len, "load '%s' can be held 0 .. %.3g h more (max_defer_h %.3g, %.3g kWh owed)",
                           e->load[load].name, fmax (0, left_h), e->load[load].max_defer_h,
                           e->load[load].backlog_kwh);
    return 0;
}

void
twin__load_defer (twin_t *self, int load, double hours)
{
    self->energy.load[load].hold_until_s = hours > 0 ? des_now_s (self->des) + hours * 3600.0 : 0;
}
