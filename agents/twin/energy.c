/*  twin energy — power, heat, solar, battery, tariff and supplier deliveries.
 *
 *  Evaluated once per decision epoch from the energy the stations used in it
 *  (integrated exactly by state in model.c), because tariffs and demand
 *  charges are defined on 15-minute averages anyway, and the building's
 *  thermal time constant is hours.
 */
#include "twin_int.h"

#include <math.h>

#define S_HOURS_PER_MONTH 730.0

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

void
twin__energy_epoch (twin_t *self, double dt_s)
{
    double now = des_now_s (self->des);
    double dt_h = dt_s / 3600.0;
    if (dt_h <= 0)
        return;
    double station_kwh = 0;
    for (int i = 0; i < self->n_stations; i++) {
        twin__station_flush (self, &self->st[i]);
        station_kwh += self->st[i].energy_kwh;
    }
    double delta = station_kwh - self->energy.last_station_kwh;
    self->energy.last_station_kwh = station_kwh;
    double load_kw = delta / dt_h + self->energy.base_load_kw;

    /* HVAC holds the set point against internal heat (all electric power
     * ends as heat) and the envelope; beyond its capacity the hall drifts. */
    double amb = s_ambient_c (self, now);
    double hvac_kw = 0;
    if (self->energy.hvac_max_kw > 0) {
        double need_kw = load_kw + self->energy.ua_kw_per_c * (amb - self->energy.hvac_setpoint_c);
        double cap_th = self->energy.hvac_max_kw * self->energy.hvac_cop;
        double delivered = fmax (-cap_th, fmin (cap_th, need_kw));
        hvac_kw = fabs (delivered) / self->energy.hvac_cop;
        double pull = self->energy.ua_kw_per_c * (amb - self->energy.indoor_c) + load_kw - delivered;
        self->energy.indoor_c = fabs (need_kw) <= cap_th ? self->energy.hvac_setpoint_c
                                                  : self->energy.indoor_c + pull * dt_h / self->energy.heat_cap_kwh_per_c;
    }
    else
        self->energy.indoor_c += (self->energy.ua_kw_per_c * (amb - self->energy.indoor_c) + load_kw) * dt_h
                          / self->energy.heat_cap_kwh_per_c;

    double solar_kw = s_solar_kw (self, now);

    /* Battery: follows its set point within power and charge limits. */
    double batt_kw = 0;
    if (self->energy.batt_cap_kwh > 0 && self->energy.batt_setpoint_kw != 0) {
        double leg = sqrt (self->energy.batt_eff);
        double sp = fmax (-self->energy.batt_max_kw, fmin (self->energy.batt_max_kw, self->energy.batt_setpoint_kw));
        if (sp > 0) {
            double avail = (self->energy.batt_soc - self->energy.batt_min_soc) * self->energy.batt_cap_kwh * leg / dt_h;
            batt_kw = fmin (sp, fmax (0, avail));
            self->energy.batt_soc -= batt_kw * dt_h / leg / self->energy.batt_cap_kwh;
        }
        else {
            double room = (1.0 - self->energy.batt_soc) * self->energy.batt_cap_kwh / leg / dt_h;
            batt_kw = -fmin (-sp, fmax (0, room));
            self->energy.batt_soc -= batt_kw * dt_h * leg / self->energy.batt_cap_kwh;
        }
    }
    double demand_kw = load_kw + hvac_kw;
    double grid_kw = demand_kw - solar_kw - batt_kw;
    double import_kw = grid_kw > 0 ? grid_kw : 0;   /* surplus solar is curtailed, not paid */
    double price = twin__price (self, now);

    if (now > self->t_stats_s) {
        self->energy.energy_kwh += (demand_kw + (batt_kw < 0 ? -batt_kw : 0) * (1 - self->energy.batt_eff)) * dt_h;
        self->energy.solar_kwh += fmin (solar_kw, demand_kw) * dt_h;
        self->energy.energy_cost += import_kw * dt_h * price;
    }
    int month = (int) (now / 3600.0 / S_HOURS_PER_MONTH);
    if (month != self->energy.month) {
        self->energy.demand_cost += self->energy.month_peak_kw * self->energy.demand_charge_per_kw;
        self->energy.month_peak_kw = 0;
        self->energy.month = month;
    }
    s_demand_interval (self, now, import_kw, dt_s);

    self->energy.last_load_kw = load_kw;
    self->energy.last_hvac_kw = hvac_kw;
    self->energy.last_solar_kw = solar_kw;
    self->energy.last_batt_kw = batt_kw;
    self->energy.last_grid_kw = grid_kw;
    self->energy.last_price = price;
    self->view.obs.ambient_c = amb;
}

/* ------------------------------------------------------------ hooks */

static const char *const s_energy_keys[] = { "base_load_kw", "ambient", "hvac", "solar", "battery", "tariff", NULL };
static const char *const s_ambient_keys[] = { "mean_c", "day_amp_c", "season_amp_c", NULL };
static const char *const s_hvac_keys[] = { "setpoint_c", "cop", "max_kw", "ua_kw_per_c", "heat_cap_kwh_per_c", NULL };
static const char *const s_solar_keys[] = { "peak_kw", "latitude_deg", "cloud_mean", NULL };
static const char *const s_batt_keys[] = { "capacity_kwh", "max_kw", "round_trip_eff", "soc", "min_soc", NULL };
static const char *const s_tariff_keys[] = { "price_per_kwh", "tou", "demand_charge_per_kw",
                                              "demand_interval_min", NULL };
static const char *const s_tou_keys[] = { "from_h", "to_h", "price_per_kwh", NULL };

/* ------------------------------------------------------------ energy */

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
    return af_config_error (root) ? -1 : 0;
}

void
twin__energy_reset (twin_t *self)
{
    twin_energy_t *e = &self->energy;
    e->energy_kwh = e->solar_kwh = e->energy_cost = e->peak_kw = e->demand_cost = 0;
    e->last_station_kwh = 0;        /* the stations' counters restart too */
}
