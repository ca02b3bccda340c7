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

/* ------------------------------------------------------------ supply */

static void
s_delivery (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    int p = (int) (arg & 0xffff);
    double qty = (double) (arg >> 16);
    twin_part_t *part = &self->part[p];
    part->on_order -= qty;
    /* Occasional shortage at the supplier: only part of the order arrives. */
    double got = qty;
    if (twin_rng_uniform (&part->rng) < part->shortage_p)
        got = floor (qty * (0.3 + 0.5 * twin_rng_uniform (&part->rng)));
    /* Inbound dock: every case is scanned; damaged goods are rejected. */
    double damaged = 0;
    if (part->damage_p > 0 && got > 0) {
        double mean = got * part->damage_p;
        damaged = floor (fmin (got, fmax (0, twin_rng_normal (&part->rng, mean, sqrt (mean)) + 0.5)));
    }
    if (des_now_s (self->des) >= self->t_stats_s)
        self->inv.damaged += damaged;
    part->warehouse += got - damaged;
    twin__bins_check (self);
    twin__try_release (self);
}

void
twin__inventory_order (twin_t *self, int p, double qty)
{
    twin_part_t *part = &self->part[p];
    qty = floor (qty);
    if (qty <= 0)
        return;
    part->on_order += qty;
    double lt = twin_dist_sample (&part->lead_time_s, &part->rng);
    des_schedule (self->des, lt, s_delivery, self, (uint64_t) p | ((uint64_t) qty << 16));
}
