/*  twin site — where the plant stands: day length, dust storms, supply by
 *  scheduled delivery only, and staff that work from afar.
 *
 *  The `site:` section sets the length of a day (a Mars sol is 24.66 h) and
 *  of a year for the solar and ambient curves, and dust storms: a Poisson
 *  process of onsets, each with a duration and an optical depth that dims
 *  solar output (Beer–Lambert against the clear sky) and multiplies wear
 *  while it lasts.  `people.remote_only` turns every technician's job into
 *  a tele-operation that first waits for the link; a part's `delivery` makes
 *  a scheduled lander its only supply.  Without these keys nothing here runs
 *  and no random stream is drawn, so the Earth factories are unchanged.
 */
#include "twin_int.h"

#include <math.h>
#include <string.h>

#define S_EARTH_DAY_S     86400.0
#define S_MARS_SOL_H      24.66
#define S_MARS_YEAR_SOLS  668.6
#define S_MARS_TILT_DEG   25.19

static const char *const s_site_keys[] = {
    "profile", "day_h", "year_days", "axial_tilt_deg", "dust_storms", NULL
};
static const char *const s_storm_keys[] = {
    "onset_per_sol", "duration_sol", "optical_depth", "clear_optical_depth", "wear_mult", NULL
};
static const char *const s_delivery_keys[] = { "every_h", "qty", "first_h", NULL };
static const char *const s_blackout_keys[] = { "every_h", "duration_h", NULL };

/* ------------------------------------------------------------ config */

int
twin__site_load (twin_t *self, const af_config_t *root)
{
    self->site.day_s = S_EARTH_DAY_S;
    self->site.year_days = 365.0;
    self->site.tilt_deg = 23.44;
    self->site.wear_mult = 1.0;
    self->site.solar_factor = 1.0;
    const af_config_t *m = af_config_get (root, "site");
    if (!m)
        return 0;
    if (af_config_kind (m) != AF_CONFIG_MAP)
        return af_config_fail (m, "'site' must be a mapping (profile, day_h, dust_storms, …)");
    af_config_known_keys (m, s_site_keys);
    self->site.site_set = true;
    const char *profile = af_config_str (m, "profile", "earth");
    if (!strcmp (profile, "mars"))
        self->site.site_mars = true;
    else if (strcmp (profile, "earth"))
        return af_config_fail (af_config_get (m, "profile"),
                               "site.profile must be 'earth' or 'mars', got '%s'", profile);
    self->site.day_s = af_config_num (m, "day_h", self->site.site_mars ? S_MARS_SOL_H : 24.0, 1, 1000) * 3600.0;
    self->site.year_days = af_config_num (m, "year_days", self->site.site_mars ? S_MARS_YEAR_SOLS : 365.0, 1, 1e5);
    self->site.tilt_deg = af_config_num (m, "axial_tilt_deg", self->site.site_mars ? S_MARS_TILT_DEG : 23.44, 0, 90);
    const af_config_t *d = af_config_get (m, "dust_storms");
    if (d && af_config_kind (d) != AF_CONFIG_MAP)
        return af_config_fail (d, "'dust_storms' must be a mapping (onset_per_sol, duration_sol, …)");
    if (d)
        af_config_known_keys (d, s_storm_keys);
    /* Regional storms on Mars: a few per Mars year, lasting days. */
    self->site.storm_onset_per_sol = af_config_num (d, "onset_per_sol", self->site.site_mars ? 0.01 : 0, 0, 10);
    const af_config_t *ds = d ? af_config_get (d, "duration_sol") : NULL;
    if (ds ? twin_dist_parse (&self->site.storm_sol, ds, 1.0) : (twin_dist_const (&self->site.storm_sol, 5), 0))
        return -1;
    const af_config_t *dt = d ? af_config_get (d, "optical_depth") : NULL;
    if (dt ? twin_dist_parse (&self->site.storm_tau, dt, 1.0) : (twin_dist_const (&self->site.storm_tau, 2.5), 0))
        return -1;
    self->site.tau_clear = af_config_num (d, "clear_optical_depth", 0.5, 0, 20);
    self->site.storm_wear_mult = af_config_num (d, "wear_mult", 2.0, 1, 100);
    self->site.tau_now = self->site.tau_clear;
    twin_rng_seed (&self->site.site_rng, self->seed, "site");
    return af_config_error (root) ? -1 : 0;
}

int
twin__site_load_part (twin_t *self, twin_part_t *p, const af_config_t *m)
{
    (void) self;
    const af_config_t *d = af_config_get (m, "delivery");
    if (!d)
        return 0;
    if (af_config_kind (d) != AF_CONFIG_MAP)
        return af_config_fail (d, "part '%s': 'delivery' must be {every_h, qty, first_h}", p->name);
    af_config_known_keys (d, s_delivery_keys);
    p->delivery_every_s = af_config_num_req (d, "every_h", 1, 1e6) * 3600.0;
    p->delivery_qty = af_config_num_req (d, "qty", 1, 1e12);
    p->delivery_first_s = af_config_num (d, "first_h", p->delivery_every_s / 3600.0, 0, 1e6) * 3600.0;
    return af_config_error (m) ? -1 : 0;
}

int
twin__people_remote_load (twin_t *self, const af_config_t *pp)
{
    self->site.remote_only = af_config_bool (pp, "remote_only", false);
    /* Mars is 3 to 22 light-minutes away; 12.5 min is a mean. */
    self->site.link_delay_s = af_config_num (pp, "link_delay_s", self->site.remote_only ? 750 : 0, 0, 1e6);
    const af_config_t *b = pp ? af_config_get (pp, "link_blackout") : NULL;
    if (b) {
        if (af_config_kind (b) != AF_CONFIG_MAP)
            return af_config_fail (b, "'link_blackout' must be {every_h, duration_h}");
        af_config_known_keys (b, s_blackout_keys);
        self->site.blackout_every_s = af_config_num_req (b, "every_h", 1e-3, 1e6) * 3600.0;
        self->site.blackout_s = af_config_num_req (b, "duration_h", 0, 1e6) * 3600.0;
        if (af_config_error (b))
            return -1;
        if (self->site.blackout_s >= self->site.blackout_every_s)
            return af_config_fail (b, "link_blackout: duration_h must be shorter than every_h "
                                   "(the link would never come back)");
    }
    return 0;
}

/* ------------------------------------------------------------ link */

double
twin__link_wait_s (const twin_t *self, double now_s)
{
    double wait = 0;
    if (self->site.blackout_every_s > 0 && self->site.blackout_s > 0) {
        /* Blackouts (orbital occultation, solar conjunction) open each
         * period: [k·every, k·every + duration) for k ≥ 1. */
        double k = floor (now_s / self->site.blackout_every_s);
        double into = now_s - k * self->site.blackout_every_s;
        if (k >= 1 && into < self->site.blackout_s)
            wait = self->site.blackout_s - into;
    }
    return wait + 2.0 * self->site.link_delay_s;
}

/* ------------------------------------------------------------ dust storms */

static void s_storm_end (des_t *des, void *ctx, uint64_t arg);

static void
s_storm_onset (des_t *des, void *ctx, uint64_t arg)
{
    (void) arg;
    twin_t *self = ctx;
    double now = des_now_s (des);
    double sols = twin_dist_sample (&self->site.storm_sol, &self->site.site_rng);
    double tau = twin_dist_sample (&self->site.storm_tau, &self->site.site_rng);
    if (tau < self->site.tau_clear)
        tau = self->site.tau_clear;
    self->site.storm_active = true;
    self->site.tau_now = tau;
    /* Direct sunlight through the dust (air mass 1) against the clear sky. */
    self->site.solar_factor = exp (-(tau - self->site.tau_clear));
    self->site.wear_mult = self->site.storm_wear_mult;
    self->site.storm_start_s = now;
    if (now >= self->t_stats_s)
        self->site.storms++;
    des_schedule (des, fmax (sols * self->site.day_s, 60.0), s_storm_end, self, 0);
}

static void
s_storm_schedule (twin_t *self)
{
    if (self->site.storm_onset_per_sol <= 0)
        return;
    double gap = twin_rng_exponential (&self->site.site_rng, self->site.day_s / self->site.storm_onset_per_sol);
    des_schedule (self->des, gap, s_storm_onset, self, 0);
}

static void
s_storm_end (des_t *des, void *ctx, uint64_t arg)
{
    (void) arg;
    twin_t *self = ctx;
    double now = des_now_s (des);
    self->site.storm_s += now - fmax (self->site.storm_start_s, self->t_stats_s);
    self->site.storm_active = false;
    self->site.tau_now = self->site.tau_clear;
    self->site.solar_factor = 1.0;
    self->site.wear_mult = 1.0;
    s_storm_schedule (self);
}

/* ------------------------------------------------------------ deliveries */

static void
s_lander (des_t *des, void *ctx, uint64_t arg)
{
    twin_t *self = ctx;
    twin_part_t *p = &self->part[(int) arg];
    p->warehouse += p->delivery_qty;
    des_schedule (des, p->delivery_every_s, s_lander, self, arg);
    twin__bins_check (self);
    twin__try_release (self);
    twin__project_dispatch (self);
}

int
twin__site_start (twin_t *self)
{
    s_storm_schedule (self);
    for (int p = 0; p < self->n_parts; p++)
        if (self->part[p].delivery_every_s > 0)
            des_schedule (self->des, self->part[p].delivery_first_s, s_lander, self, (uint64_t) p);
    return 0;
}

void
twin__site_reset (twin_t *self)
{
    twin_site_t *s = &self->site;
    s->storm_s = s->storms = s->teleops = s->link_wait_s = 0;
}

/* ------------------------------------------------------------ stats */

void
twin_site_stats (const twin_t *self, twin_site_stats_t *o)
{
    memset (o, 0, sizeof *o);
    double now = des_now_s (self->des);
    double T = now - self->t_stats_s;
    o->storm_active = self->site.storm_active;
    o->optical_depth = self->site.site_set ? self->site.tau_now : 0;
    o->solar_factor = self->site.solar_factor;
    o->storm_h = (self->site.storm_s + (self->site.storm_active ? now - fmax (self->site.storm_start_s, self->t_stats_s) : 0))
                 / 3600.0;
    o->storms = self->site.storms;
    o->airlock_capacity = self->project.airlock_cap;
    o->airlock_inside = self->project.airlock_in;
    o->airlock_max_inside = self->project.airlock_max_in;
    o->airlock_queue = self->project.airlock_qn;
    o->airlock_passages = self->project.airlock_passages;
    o->airlock_waits = self->project.airlock_waits;
    o->airlock_wait_h = self->project.airlock_wait_s / 3600.0;
    o->airlock_utilisation = self->project.airlock_cap > 0 && T > 0
                                 ? fmin (1.0, self->project.airlock_busy_s / (T * self->project.airlock_cap)) : 0;
    o->tasks = self->project.n_ptasks;
    o->tasks_done = self->project.ptasks_done;
    o->rover_breakdowns = self->project.rover_breakdowns;
    o->rover_services = self->project.rover_services;
    o->teleops = self->site.teleops;
    o->link_wait_h = self->site.link_wait_s / 3600.0;
}
