/*  twin what-if — forks of the current state and forecasts with a change.
 *
 *  twin_fork is exact (an offline tool, e.g. a perfect-information bound);
 *  twin_whatif, what controllers get, redraws every hidden quantity first.
 *
 *  A fork is built by deterministic replay (same config, seed and command
 *  log up to now) rather than by copying the plant's pointer-laden state:
 *  simpler, and it cannot drift from the live run.
 */
#include "twin_int.h"

#include <stdio.h>
#include <stdlib.h>

void
twin__replay_one (twin_t *self, const twin_logged_cmd_t *e)
{
    char err[256];
    if (e->is_shadow && e->inv_part >= 0)
        twin_shadow_inventory (self, e->inv_part, e->inv_warehouse, e->inv_bin, NULL, 0);
    else if (e->is_shadow)
        twin_shadow_report (self, &e->report, NULL, 0);
    else
        twin__apply (self, &e->cmd, err, sizeof err, e->epoch);
}

/* Runs F until it has run EVENTS events in all, then moves its clock to
 * T_S: the very point of the live run where something was done. */
static void
s_run_to (twin_t *f, uint64_t events, double t_s)
{
    uint64_t done = des_events (f->des);
    if (events > done)
        des_iterate (f->des, t_s, events - done);
    des_advance (f->des, t_s);
}

twin_t *
twin_fork (const twin_t *self, char *err, size_t err_len)
{
    twin_t *f = twin__new (self->config_text, self->config_len, self->config_name, self->seed,
                           err, err_len);
    if (!f)
        return NULL;
    f->rec.record = self->rec.record;
    f->cmds.replay = self->cmds.log;
    f->cmds.replay_n = self->cmds.log_n;
    while (f->cmds.replay_i < f->cmds.replay_n && f->cmds.replay[f->cmds.replay_i].before_start)
        twin__replay_one (f, &f->cmds.replay[f->cmds.replay_i++]);
    if (twin_start (f)) {
        twin_destroy (&f);
        snprintf (err, err_len, "fork: cannot start");
        return NULL;
    }
    if (self->started) {
        /* Re-run to the same instant: same seed, config and commands give the
         * same state, bit for bit, without copying any pointer-laden state.
         * Things done inside epoch hooks are redone by the fork's epoch
         * handler; things done between iterations are redone here, after the
         * same number of events. */
        for (;;) {
            size_t j = f->cmds.replay_i;
            while (j < f->cmds.replay_n && f->cmds.replay[j].in_epoch)
                j++;
            if (j == f->cmds.replay_n) {
                s_run_to (f, des_events (self->des), des_now_s (self->des));
                break;
            }
            s_run_to (f, f->cmds.replay[j].events, f->cmds.replay[j].t_s);
            f->cmds.replay_i = j + 1;
            twin__replay_one (f, &f->cmds.replay[j]);
        }
    }
    f->cmds.replay = NULL;
    f->cmds.replay_n = f->cmds.replay_i = 0;
    return f;
}

/* Units that went through stations carry defects nobody has found yet:
 * each is drawn again from the stations' defect rates on the way. */
static void
s_redraw_unit (twin_t *f, int id, twin_rng_t *rng)
{
    twin_unit_t *u = &f->flow.units[id];
    const twin_variant_t *v = &f->var[u->variant];
    double ok = 1;
    for (int k = 0; k < u->step && k < v->route_len[u->route]; k++)
        ok *= 1 - f->st[v->route[u->route][k]].defect_base_p;
    u->defects = twin_rng_uniform (rng) < 1 - ok
                     ? 1u << (int) (twin_rng_uniform (rng) * TWIN_DEFECT_COUNT) % TWIN_DEFECT_COUNT : 0;
}

/* A controller's forecast starts from what it could know (DESIGN §4): every
 * hidden quantity — part lives given their age, the next failures, defects
 * not yet found — is drawn again from its distribution, and every random
 * stream is replaced by one unrelated to the plant's own future draws.  Both
 * arms of a what-if get the same SALT, so they compare on common numbers. */
static void
s_redraw (twin_t *f, uint64_t salt)
{
    twin__health_redraw (f, salt);
    twin__energy_redraw (f, salt);          /* energy and material (issue 11) */
    twin__inventory_redraw (f, salt);
    twin_rng_reseed (&f->flow.arr_rng, salt);
    twin_rng_reseed (&f->flow.mix_rng, salt);
    twin_rng_reseed (&f->quality.qual_rng, salt);
    twin__quality_redraw (f, salt);        /* quality (issue 11) */
    twin_rng_reseed (&f->energy.weather_rng, salt);
    twin_rng_reseed (&f->view.sensor_rng, salt);
    twin_rng_reseed (&f->site.site_rng, salt);
    twin_rng_reseed (&f->project.rover_rng, salt);
    for (int p = 0; p < f->n_parts; p++)
        twin_rng_reseed (&f->part[p].rng, salt);
    /* flow (issue 11): the arrival pattern's thinning and wake-up times */
    twin_rng_reseed (&f->flow.profile_rng, salt);
    for (int i = 0; i < f->n_stations; i++)
        twin_rng_reseed (&f->st[i].rng_wake, salt);
    twin_rng_t rng;
    twin_rng_seed (&rng, f->seed ^ salt, "whatif/defects");
    for (int i = 0; i < f->n_stations; i++) {
        twin_station_t *s = &f->st[i];
        if (s->unit >= 0)
            s_redraw_unit (f, s->unit, &rng);
        for (size_t k = 0; k < s->buf.n; k++)
            s_redraw_unit (f, s->buf.items[(s->buf.head + k) % s->buf.cap], &rng);
    }
    for (int id = 0; id < f->flow.n_units_cap; id++)
        if (f->flow.units[id].transit_to >= 0 && !f->flow.units[id].lost)
            s_redraw_unit (f, id, &rng);
}

int
twin_whatif (const twin_t *self, double hours, const twin_cmd_t *change, bool baseline_policy,
             twin_kpi_t *base, twin_kpi_t *changed, char *err, size_t err_len)
{
    if (!(hours > 0))
        return twin__fail (err, err_len, "what-if horizon must be > 0 h");
    twin_t *a = twin_fork (self, err, err_len);
    twin_t *b = a ? twin_fork (self, err, err_len) : NULL;
    int rc = -1;
    if (!a || !b)
        goto done;
    if (baseline_policy) {
        twin_policy_t pa, pb;
        if (twin_policy_baseline (a, &pa) || twin_policy_baseline (b, &pb)) {
            twin__fail (err, err_len, "cannot create the baseline policy");
            goto done;
        }
        twin_set_policy (a, &pa);
        twin_set_policy (b, &pb);
    }
    /* Fresh for every request (the live run's event count), never the
     * plant's own streams. */
    uint64_t salt = (self->seed * 0x9E3779B97F4A7C15ull) ^ (des_events (self->des) + 0x5A17u);
    s_redraw (a, salt);
    s_redraw (b, salt);
    if (change && twin_apply (b, change, err, err_len))
        goto done;
    twin__stats_reset (a);
    twin__stats_reset (b);
    twin_run (a, hours, NULL);
    twin_run (b, hours, NULL);
    twin_kpis (a, base);
    twin_kpis (b, changed);
    rc = 0;
done:
    twin_destroy (&a);
    twin_destroy (&b);
    return rc;
}
