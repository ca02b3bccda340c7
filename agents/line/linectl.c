/*  linectl — one epoch of the line agent's decisions (see linectl.h).
 */
#include "linectl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bottleneck.h"
#include "spc.h"

/* One signal of one station: phase I (collecting) then a chart. */
typedef struct {
    double sum, sum2;
    int n;
    spc_t *chart;
    double last;                        /* the previous value: a repeat is the same unit */
} s_signal_t;

typedef struct {
    s_signal_t sig[LINECTL_SIGNALS];
    bool paced;
    double hold_until_s;
} s_station_t;

struct linectl {
    linectl_params_t p;
    double *max_speed;
    s_station_t *st;
    unsigned char *ring;                /* window_epochs × n_stations states */
    int ring_n, ring_at;
    bn_station_t *bn;
    insp_t *insp;
    double last_units, last_found;
    int constraint;
    linectl_stats_t stats;
};

static const char *const s_signal_names[LINECTL_SIGNALS] = { "torque", "alignment", "temperature" };

const char *
linectl_signal_name (linectl_signal_t s)
{
    return s >= 0 && s < LINECTL_SIGNALS ? s_signal_names[s] : "?";
}

void
linectl_params_default (linectl_params_t *p)
{
    if (!(p->speed_cap > 0))
        p->speed_cap = 1.2;
    if (p->window_epochs <= 0)
        p->window_epochs = 240;
    if (p->every_epochs <= 0)
        p->every_epochs = 15;
    if (!(p->pace_share > 0))
        p->pace_share = 0.25;
    if (p->phase1_n <= 0)
        p->phase1_n = 100;
    if (!(p->hold_s > 0))
        p->hold_s = 3600.0;
    if (!(p->suspect_units > 0))
        p->suspect_units = 60;
    if (p->insp.sample_every <= 0)
        p->insp.sample_every = 5;
    if (p->insp.clearance <= 0)
        p->insp.clearance = insp_clearance (1.0 / p->insp.sample_every, 100e-6);
}

/* The chart each signal gets, in its own units once phase I is over. */
static spc_t *
s_chart_new (linectl_signal_t s, double mean, double sd)
{
    spc_params_t cp = { .mean = mean, .sigma = sd };
    if (s == LINECTL_TORQUE) {
        cp.kind = SPC_SHEWHART;
        cp.we_rules = SPC_WE_ALL;
    }
    else if (s == LINECTL_ALIGN) {
        cp.kind = SPC_CUSUM;
        cp.k = 0.5;
        cp.h = 5;
    }
    else {
        cp.kind = SPC_EWMA;
        cp.lambda = 0.2;
        cp.limit_l = 2.962;
    }
    char err[128];
    return spc_new (&cp, err, sizeof err);
}

linectl_t *
linectl_new (const linectl_params_t *params, char *err, size_t err_len)
{
    if (!params || params->n_stations < 1 || params->n_stations > LINECTL_MAX_STATIONS || !params->max_speed) {
        snprintf (err, err_len, "line control: 1 … %d stations with their max speeds", LINECTL_MAX_STATIONS);
        return NULL;
    }
    linectl_t *self = calloc (1, sizeof *self);
    if (!self)
        goto oom;
    self->p = *params;
    linectl_params_default (&self->p);
    int n = self->p.n_stations;
    self->max_speed = calloc ((size_t) n, sizeof *self->max_speed);
    self->st = calloc ((size_t) n, sizeof *self->st);
    self->ring = calloc ((size_t) n * (size_t) self->p.window_epochs, 1);
    self->bn = calloc ((size_t) n, sizeof *self->bn);
    if (!self->max_speed || !self->st || !self->ring || !self->bn)
        goto oom;
    for (int i = 0; i < n; i++) {
        double m = params->max_speed[i];
        self->max_speed[i] = isfinite (m) && m >= 1 ? m : 1.0;
        for (int s = 0; s < LINECTL_SIGNALS; s++)
            self->st[i].sig[s].last = NAN;
    }
    self->insp = insp_new (&self->p.insp, err, err_len);
    if (!self->insp)
        goto fail;
    self->constraint = -1;
    self->last_units = self->last_found = NAN;
    return self;
oom:
    snprintf (err, err_len, "out of memory");
fail:
    linectl_destroy (&self);
    return NULL;
}

void
linectl_destroy (linectl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    linectl_t *self = *self_p;
    for (int i = 0; self->st && i < self->p.n_stations; i++)
        for (int s = 0; s < LINECTL_SIGNALS; s++)
            spc_destroy (&self->st[i].sig[s].chart);
    insp_destroy (&self->insp);
    free (self->max_speed);
    free (self->st);
    free (self->ring);
    free (self->bn);
    free (self);
    *self_p = NULL;
}

/* Feeds X to one signal: phase I, or the chart.  Returns the chart's signal
 * (0 none). */
static int
s_signal_feed (s_signal_t *g, linectl_signal_t kind, double x, int phase1_n)
{
    if (!isfinite (x))
        return 0;
    if (!g->chart) {
        g->sum += x;
        g->sum2 += x * x;
        if (++g->n < phase1_n)
            return 0;
        double mean = g->sum / g->n, var = (g->sum2 - g->n * mean * mean) / (g->n - 1);
        double sd = sqrt (fmax (var, 0));
        /* A signal with no spread yet (a constant sensor) gets a floor, so
         * the chart exists but only a real change moves it. */
        sd = fmax (sd, 1e-3 * fabs (mean) + 1e-9);
        g->chart = s_chart_new (kind, mean, sd);
        return 0;
    }
    int sig = spc_update (g->chart, x);
    if (sig <= 0)
        return 0;
    /* The agent cannot repair the station (maintenance is another owner's
     * concern): once the correction is made the new level is the reference,
     * so the chart starts a new phase I instead of signalling every unit. */
    spc_destroy (&g->chart);
    g->sum = g->sum2 = 0;
    g->n = 0;
    return sig;
}

/* A chart signal at station I: the correction goes out in this epoch. */
static void
s_alarm (linectl_t *self, int i, linectl_signal_t kind, int sig, double t_s, linectl_out_t *out)
{
    self->stats.alarms[kind]++;
    self->st[i].hold_until_s = t_s + self->p.hold_s;
    insp_force (self->insp, self->p.suspect_units);
    self->stats.forced++;
    if (out->n_alarms < LINECTL_MAX_ALARMS) {
        out->alarm[out->n_alarms].station = i;
        out->alarm[out->n_alarms].signal = kind;
        out->alarm[out->n_alarms].direction = (sig & SPC_SIG_DOWN) ? -1 : 1;
        out->alarm[out->n_alarms].rule = kind == LINECTL_TORQUE ? SPC_SIG_RULE (sig) : 0;
        out->n_alarms++;
    }
}

static void
s_spc (linectl_t *self, const linectl_obs_t *obs, linectl_out_t *out)
{
    for (int i = 0; i < self->p.n_stations; i++) {
        const linectl_station_obs_t *o = &obs->st[i];
        s_station_t *st = &self->st[i];
        s_signal_t *tq = &st->sig[LINECTL_TORQUE], *al = &st->sig[LINECTL_ALIGN];
        /* A new unit was measured when the torque reading changed. */
        bool fresh_unit = isfinite (o->torque_nm) && o->torque_nm > 0 && o->torque_nm != tq->last;
        tq->last = o->torque_nm;
        if (fresh_unit) {
            int sig = s_signal_feed (tq, LINECTL_TORQUE, o->torque_nm, self->p.phase1_n);
            if (sig)
                s_alarm (self, i, LINECTL_TORQUE, sig, obs->t_s, out);
            sig = s_signal_feed (al, LINECTL_ALIGN, o->alignment_mm, self->p.phase1_n);
            if (sig)
                s_alarm (self, i, LINECTL_ALIGN, sig, obs->t_s, out);
        }
        /* Temperature rise over the hall per unit of speed, on busy epochs:
         * load and speed explain the rest of the reading. */
        double v = isfinite (o->speed) && o->speed > 0 ? o->speed : 1.0;
        if (o->state == BN_BUSY && isfinite (obs->indoor_c)) {
            double rise = (o->temp_c - obs->indoor_c) / v;
            int sig = s_signal_feed (&st->sig[LINECTL_TEMP], LINECTL_TEMP, rise, self->p.phase1_n);
            if (sig && (sig & SPC_SIG_UP))
                s_alarm (self, i, LINECTL_TEMP, sig, obs->t_s, out);
        }
    }
}

/* Records the states and, every few epochs, finds the constraint. */
static void
s_bottleneck (linectl_t *self, const linectl_obs_t *obs)
{
    int n = self->p.n_stations, w = self->p.window_epochs;
    unsigned char *row = self->ring + (size_t) self->ring_at * (size_t) n;
    for (int i = 0; i < n; i++) {
        int s = obs->st[i].state;
        if (s < 0 || s >= BN_STATE_COUNT) {
            self->stats.bad_states++;
            s = BN_STARVED;
        }
        row[i] = (unsigned char) s;
    }
    self->ring_at = (self->ring_at + 1) % w;
    if (self->ring_n < w)
        self->ring_n++;
    if (self->stats.epochs % (unsigned long) self->p.every_epochs != 0 || self->ring_n < w / 4)
        return;
    /* The window in time order: oldest row first. */
    unsigned char *lin = malloc ((size_t) self->ring_n * (size_t) n);
    if (!lin)
        return;
    int first = self->ring_n < w ? 0 : self->ring_at;
    for (int k = 0; k < self->ring_n; k++)
        memcpy (lin + (size_t) k * (size_t) n, self->ring + (size_t) ((first + k) % w) * (size_t) n, (size_t) n);
    int c = bn_analyse (lin, (size_t) self->ring_n, n, self->bn, NULL);
    free (lin);
    self->stats.analyses++;
    if (c < 0)
        return;
    self->constraint = c;
    /* Paced while it constrains the line, with hysteresis (in at
     * pace_share, out below half of it) so a shifting bottleneck does not
     * toggle speeds; a station that no longer constrains goes back to
     * nameplate, where it makes fewer defects and wears less. */
    for (int i = 0; i < n; i++) {
        double share = self->bn[i].sole_share + self->bn[i].shifting_share;
        if (share >= self->p.pace_share)
            self->st[i].paced = true;
        else if (share < self->p.pace_share / 2)
            self->st[i].paced = false;
    }
}

int
linectl_step (linectl_t *self, const linectl_obs_t *obs, linectl_out_t *out)
{
    if (!self || !obs || !out || !out->speed || !obs->st)
        return -1;
    int n = self->p.n_stations;
    out->n_alarms = 0;
    out->stale = !obs->fresh;
    self->stats.epochs++;
    if (out->stale) {
        /* Nothing new from the plant: nameplate, and inspect everything. */
        self->stats.stale_epochs++;
        for (int i = 0; i < n; i++)
            out->speed[i] = 1.0;
        insp_force (self->insp, 0);
        out->sample_every = insp_sample_every (self->insp);
        out->constraint = self->constraint;
        snprintf (out->why, sizeof out->why, "telemetry stale: nameplate speed everywhere, every unit inspected");
        return 0;
    }
    s_bottleneck (self, obs);
    s_spc (self, obs, out);
    double du = isfinite (self->last_units) ? obs->units - self->last_units : 0;
    double df = isfinite (self->last_found) ? obs->defects_found - self->last_found : 0;
    self->last_units = obs->units;
    self->last_found = obs->defects_found;
    out->sample_every = insp_update (self->insp, du, df);
    int paced = 0;
    for (int i = 0; i < n; i++) {
        bool ok = self->st[i].paced && obs->t_s >= self->st[i].hold_until_s;
        out->speed[i] = ok ? fmin (self->max_speed[i], self->p.speed_cap) : 1.0;
        paced += ok;
    }
    out->constraint = self->constraint;
    snprintf (out->why, sizeof out->why,
              "constraint %d, %d station(s) paced; %d alarm(s); inspect 1 in %d (%s, %.0f clear units)",
              self->constraint, paced, out->n_alarms, out->sample_every,
              df > 0 ? "defect found" : out->n_alarms ? "SPC alarm" : "CSP-1", insp_clear_run (self->insp));
    return 0;
}

bool
linectl_paced (const linectl_t *self, int i)
{
    return self && i >= 0 && i < self->p.n_stations && self->st[i].paced;
}

linectl_stats_t
linectl_stats (const linectl_t *self)
{
    return self->stats;
}
