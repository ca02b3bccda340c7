/*  twin signals — raw sensor signals on request: vibration snippets and
 *  tightening curves, generated from the hidden condition of a station so
 *  that diagnostics work on signals, not on the wear number.  Each request
 *  draws from its own random stream, so asking never changes the run.
 */
#include "twin_int.h"

#include <math.h>
#include <stdio.h>

int
twin_vibration_snippet (twin_t *self, int station, double fs_hz, size_t n, double *out,
                        double *shaft_hz)
{
    if (!self || station < 0 || station >= self->n_stations || !out || n == 0 || n > 1u << 22
        || !(fs_hz >= 100 && fs_hz <= 1e6))
        return -1;
    twin_station_t *s = &self->st[station];
    char name[96];
    snprintf (name, sizeof name, "vibration.%s.%llu", s->name,
              (unsigned long long) self->snippet_count++);
    twin_rng_t rng;
    twin_rng_seed (&rng, self->seed, name);
    /* A 6205-type bearing: 9 balls, ball/pitch diameter 0.3, 0° contact. */
    const double n_balls = 9, r = 0.3;
    double f = s->shaft_hz * s->speed;
    double bpfo = n_balls / 2 * f * (1 - r), bpfi = n_balls / 2 * f * (1 + r);
    double bsf = 1 / (2 * r) * f * (1 - r * r);
    double wb = twin__wear_frac (s, TWIN_C_BEARING);
    double wj = twin__wear_frac (s, TWIN_C_JOINT);
    double a1 = s->vib_base_mm_s * 1.2, a2 = 0.3 * a1 + 1.5 * wj;   /* misalignment → 2× */
    /* Only the fault that is developing rings: outer race, inner race or ball. */
    int mode = s->comp[TWIN_C_BEARING].mode;
    double ao = mode == TWIN_BEARING_OUTER ? 3.0 * wb * wb : 0;
    double ai = mode == TWIN_BEARING_INNER ? 2.0 * wb * wb : 0;
    double ab = mode == TWIN_BEARING_BALL ? 1.2 * wb * wb : 0;
    double noise = 0.15 + 0.4 * wb;
    double ph1 = 2 * M_PI * twin_rng_uniform (&rng), ph2 = 2 * M_PI * twin_rng_uniform (&rng);
    for (size_t i = 0; i < n; i++) {
        double t = (double) i / fs_hz;
        out[i] = a1 * sin (2 * M_PI * f * t + ph1) + a2 * sin (4 * M_PI * f * t + ph2)
                 + ao * sin (2 * M_PI * bpfo * t)
                 /* inner-race tone is modulated by the shaft as the defect rotates */
                 + ai * (1 + 0.5 * cos (2 * M_PI * f * t)) * sin (2 * M_PI * bpfi * t)
                 + ab * sin (2 * M_PI * bsf * t) + twin_rng_normal (&rng, 0, noise);
    }
    if (shaft_hz)
        *shaft_hz = f;
    return 0;
}

int
twin_torque_curve (twin_t *self, int station, size_t n, double *angle_deg, double *torque_nm)
{
    if (!self || station < 0 || station >= self->n_stations || n < 8 || n > 100000
        || !angle_deg || !torque_nm)
        return -1;
    twin_station_t *s = &self->st[station];
    char name[96];
    snprintf (name, sizeof name, "torque.%s.%llu", s->name, (unsigned long long) self->snippet_count++);
    twin_rng_t rng;
    twin_rng_seed (&rng, self->seed, name);
    double wm = twin__wear_frac (s, TWIN_C_MOTOR);
    double wb = twin__wear_frac (s, TWIN_C_BEARING);
    double wj = twin__wear_frac (s, TWIN_C_JOINT);
    double target = s->torque_nominal_nm * (1 + twin_rng_normal (&rng, 0, 0.01 + 0.04 * (wm + wb)));
    double snug_deg = 360 * (1 - 0.4 * wj) + twin_rng_normal (&rng, 0, 5);
    double final_deg = snug_deg + 60;
    double free_nm = 0.05 * s->torque_nominal_nm * (1 + wb);
    for (size_t i = 0; i < n; i++) {
        double a = final_deg * (double) i / (double) (n - 1);
        double t = a < snug_deg ? free_nm * (1 + 0.2 * sin (a * M_PI / 30))
                                : free_nm + (target - free_nm) * pow ((a - snug_deg) / 60, 1 + 0.5 * wj);
        t += (0.01 + 0.05 * wm) * s->torque_nominal_nm * sin (a * M_PI / 7.5)      /* gear ripple */
             + twin_rng_normal (&rng, 0, 0.005 * s->torque_nominal_nm);
        angle_deg[i] = a;
        torque_nm[i] = t;
    }
    return 0;
}
