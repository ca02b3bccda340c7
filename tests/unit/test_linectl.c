/* test_linectl.c — the line agent's epoch decisions on synthetic plants:
 * pacing the constraint, an SPC alarm corrected in the same epoch, the
 * in-control false-alarm rate against theory, stale telemetry, bad input. */

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "agents/line/bottleneck.h"
#include "agents/line/linectl.h"
#include "agents/line/spc.h"

static uint64_t s_rng = 0x2545f4914f6cdd1dull;
static double
s_uniform (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return ((double) (s_rng >> 11) + 0.5) / 9007199254740992.0;
}
static double
s_normal (void)
{
    return sqrt (-2 * log (s_uniform ())) * cos (2 * M_PI * s_uniform ());
}

enum { N = 3 };
static const double MAXS[N] = { 1.2, 1.15, 1.2 };

typedef struct {
    linectl_t *lc;
    linectl_station_obs_t st[N];
    linectl_obs_t obs;
    double speed[N];
    linectl_out_t out;
} s_plant_t;

static void
s_plant_init (s_plant_t *p, int phase1_n)
{
    linectl_params_t lp = { .n_stations = N, .max_speed = MAXS, .phase1_n = phase1_n, .window_epochs = 40,
                            .every_epochs = 5, .insp = { .sample_every = 5, .clearance = 200 } };
    char err[128];
    p->lc = linectl_new (&lp, err, sizeof err);
    cr_assert_not_null (p->lc, "%s", err);
    p->obs = (linectl_obs_t) { .fresh = true, .indoor_c = 22, .st = p->st };
    p->out = (linectl_out_t) { .speed = p->speed };
}

/* One epoch: the middle station always busy, the first blocked behind it
 * half the time, the last starved half the time; every station measures a
 * new unit (torque N(8, 0.08) + SHIFT σ at station 1, alignment N(0.05, 0.01)). */
static void
s_epoch (s_plant_t *p, int e, double shift_sigma)
{
    for (int i = 0; i < N; i++) {
        p->st[i].state = i == 1 ? BN_BUSY : i == 0 ? (e % 2 ? BN_BLOCKED : BN_BUSY) : (e % 2 ? BN_BUSY : BN_STARVED);
        p->st[i].speed = p->speed[i] > 0 ? p->speed[i] : 1;
        p->st[i].temp_c = 30 + 0.3 * s_normal ();
        p->st[i].torque_nm = 8 * (1 + 0.01 * (s_normal () + (i == 1 ? shift_sigma : 0)));
        p->st[i].alignment_mm = 0.05 + 0.01 * s_normal ();
    }
    p->obs.t_s = 60.0 * e;
    p->obs.units += 1;
    cr_assert_eq (linectl_step (p->lc, &p->obs, &p->out), 0);
}

Test (linectl, paces_the_constraint_only)
{
    s_plant_t p = { 0 };
    s_plant_init (&p, 100);
    for (int e = 0; e < 40; e++)
        s_epoch (&p, e, 0);
    cr_assert_eq (p.out.constraint, 1, "the always-busy station");
    cr_assert (linectl_paced (p.lc, 1));
    cr_assert_float_eq (p.speed[1], 1.15, 1e-12, "its own max_speed, below the agent's cap");
    cr_assert_float_eq (p.speed[0], 1.0, 1e-12);
    cr_assert_float_eq (p.speed[2], 1.0, 1e-12);
    linectl_destroy (&p.lc);
    cr_assert_null (p.lc);
}

Test (linectl, alarm_corrected_in_the_same_epoch)
{
    s_plant_t p = { 0 };
    s_plant_init (&p, 100);
    int e = 0;
    for (; e < 150; e++)
        s_epoch (&p, e, 0);
    cr_assert (linectl_paced (p.lc, 1));
    /* A 3σ torque shift at the paced station: WE rules see it in a few
     * units (ARL ≈ 2), after a phase I of at most 100 units if a false
     * alarm has just restarted the chart. */
    int seen = -1;
    for (int k = 0; k < 200 && seen < 0; k++, e++) {
        s_epoch (&p, e, 3);
        for (int a = 0; a < p.out.n_alarms; a++)
            if (p.out.alarm[a].station == 1 && p.out.alarm[a].signal == LINECTL_TORQUE) {
                seen = k;
                cr_assert_eq (p.out.alarm[a].direction, 1);
                cr_assert_float_eq (p.speed[1], 1.0, 1e-12, "nameplate in the alarm's epoch");
                cr_assert_eq (p.out.sample_every, 1, "every unit inspected in the alarm's epoch");
            }
    }
    cr_assert (seen >= 0 && seen < 115, "detected after %d units", seen);
    /* The hold (1 h) keeps it at nameplate though it stays the constraint. */
    s_epoch (&p, e++, 0);
    cr_assert_float_eq (p.speed[1], 1.0, 1e-12);
    linectl_destroy (&p.lc);
}

/* In control: torque alarms at the WE rules' rate (ARL0 91.75, Champ &
 * Woodall 1987), alignment at CUSUM's (≈ 465).  Every alarm restarts the
 * chart's phase I (500 units here, so the estimated limits stay near the
 * true ones); the run lengths counted are the chart's own observations. */
Test (linectl, false_alarm_rates_match_theory)
{
    s_plant_t p = { 0 };
    s_plant_init (&p, 500);
    enum { E = 100000, PH = 500 };
    for (int e = 0; e < E; e++)
        s_epoch (&p, e, 0);
    linectl_stats_t s = linectl_stats (p.lc);
    double at = (double) s.alarms[LINECTL_TORQUE], aa = (double) s.alarms[LINECTL_ALIGN];
    cr_assert_gt (at, 100);
    cr_assert_gt (aa, 50);
    /* Chart observations: all but the phase-I ones (the last, unfinished
     * phase I of each station counted as half). */
    double tq = ((double) E * N - PH * (at + N) + PH * N / 2.0) / at;
    double al = ((double) E * N - PH * (aa + N) + PH * N / 2.0) / aa;
    cr_assert (tq > 75 && tq < 112, "torque ARL0 %.1f, theory 91.75", tq);
    cr_assert (al > 330 && al < 650, "alignment ARL0 %.1f, theory ≈ 465", al);
    linectl_destroy (&p.lc);
}

Test (linectl, stale_telemetry_holds_nameplate)
{
    s_plant_t p = { 0 };
    s_plant_init (&p, 100);
    for (int e = 0; e < 40; e++)
        s_epoch (&p, e, 0);
    cr_assert_gt (p.speed[1], 1.0);
    p.obs.fresh = false;
    cr_assert_eq (linectl_step (p.lc, &p.obs, &p.out), 0);
    cr_assert (p.out.stale);
    for (int i = 0; i < N; i++)
        cr_assert_float_eq (p.speed[i], 1.0, 1e-12);
    cr_assert_eq (p.out.sample_every, 1);
    cr_assert_eq (linectl_stats (p.lc).stale_epochs, 1);
    p.obs.fresh = true;
    s_epoch (&p, 41, 0);
    cr_assert_float_eq (p.speed[1], 1.15, 1e-12, "pacing resumes with fresh telemetry");
    linectl_destroy (&p.lc);
}

Test (linectl, bad_input)
{
    s_plant_t p = { 0 };
    s_plant_init (&p, 100);
    s_epoch (&p, 0, 0);
    p.st[0].state = 99;
    p.st[1].torque_nm = NAN;
    cr_assert_eq (linectl_step (p.lc, &p.obs, &p.out), 0);
    cr_assert_eq (linectl_stats (p.lc).bad_states, 1);
    cr_assert_eq (linectl_step (p.lc, NULL, &p.out), -1);
    linectl_destroy (&p.lc);
    char err[128];
    linectl_params_t lp = { .n_stations = 0, .max_speed = MAXS };
    cr_assert_null (linectl_new (&lp, err, sizeof err));
    lp.n_stations = N;
    lp.max_speed = NULL;
    cr_assert_null (linectl_new (&lp, err, sizeof err));
}
