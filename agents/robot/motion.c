/* motion.c — S-curve planning, the joint model and the tracking simulation. */

#include "motion.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Bisection steps for the peak velocity of short moves (2^-60 relative). */
#define S_BISECT_STEPS 60
/* Below this speed the joint sticks unless the torque beats breakaway. */
#define S_STICK_RADPS 1e-6
/* Longest computation delay simulated, in control periods. */
#define S_MAX_DELAY 16
/* Feed-forward's friction sign is smoothed over this speed. */
#define S_FF_SMOOTH_RADPS 0.01

static bool s_pos_finite(double x)
{
    return isfinite(x) && x > 0;
}

/* The acceleration phase up to peak speed v: jerk time and constant time. */
static void s_accel_phase(const motion_limits_t *l, double v, double *tj, double *tca)
{
    if (v * l->j_max >= l->a_max * l->a_max) {
        *tj = l->a_max / l->j_max;
        *tca = v / l->a_max - *tj;
    } else {
        *tj = sqrt(v / l->j_max);
        *tca = 0;
    }
}

/* Distance of a rest-to-peak-to-rest move with no cruise: v * (2 tj + tca). */
static double s_ramp_dist(const motion_limits_t *l, double v)
{
    double tj, tca;
    s_accel_phase(l, v, &tj, &tca);
    return v * (2 * tj + tca);
}

int motion_scurve_plan(double q0, double q1, const motion_limits_t *l, motion_scurve_t *s)
{
    if (!l || !s || !s_pos_finite(l->v_max) || !s_pos_finite(l->a_max)
        || !s_pos_finite(l->j_max) || !isfinite(q0) || !isfinite(q1))
        return -1;
    memset(s, 0, sizeof *s);
    s->q0 = q0;
    s->dir = q1 >= q0 ? 1 : -1;
    s->dist = fabs(q1 - q0);
    double v = l->v_max, tv = 0;
    if (s_ramp_dist(l, v) <= s->dist) {
        tv = (s->dist - s_ramp_dist(l, v)) / v;
    } else {
        /* The ramp distance rises with v: bisect for the peak that fits. */
        double lo = 0, hi = v;
        for (int k = 0; k < S_BISECT_STEPS; k++) {
            double mid = 0.5 * (lo + hi);
            if (s_ramp_dist(l, mid) > s->dist)
                hi = mid;
            else
                lo = mid;
        }
        v = lo;
    }
    double tj, tca;
    s_accel_phase(l, v, &tj, &tca);
    const double dur[7] = { tj, tca, tj, tv, tj, tca, tj };
    const double jerk[7] = { l->j_max, 0, -l->j_max, 0, -l->j_max, 0, l->j_max };
    double t = 0;
    for (int k = 0; k < 7; k++) {
        double h = dur[k], J = jerk[k];
        t += h;
        s->t_end[k] = t;
        s->jerk[k] = J;
        s->p[k + 1] = s->p[k] + s->v[k] * h + s->a[k] * h * h / 2 + J * h * h * h / 6;
        s->v[k + 1] = s->v[k] + s->a[k] * h + J * h * h / 2;
        s->a[k + 1] = s->a[k] + J * h;
    }
    return 0;
}

double motion_scurve_duration(const motion_scurve_t *s)
{
    return s->t_end[6];
}

void motion_scurve_eval(const motion_scurve_t *s, double t, double *q, double *qd,
                        double *qdd, double *jerk)
{
    double p = 0, v = 0, a = 0, J = 0;
    if (t >= s->t_end[6]) {
        p = s->dist;
    } else if (t > 0) {
        int k = 0;
        while (t > s->t_end[k])
            k++;
        double h = t - (k ? s->t_end[k - 1] : 0);
        J = s->jerk[k];
        p = s->p[k] + s->v[k] * h + s->a[k] * h * h / 2 + J * h * h * h / 6;
        v = s->v[k] + s->a[k] * h + J * h * h / 2;
        a = s->a[k] + J * h;
    }
    if (q)
        *q = s->q0 + s->dir * p;
    if (qd)
        *qd = s->dir * v;
    if (qdd)
        *qdd = s->dir * a;
    if (jerk)
        *jerk = s->dir * J;
}

/* ------------------------------------------------------------- the joint */

static double s_inertia(const motion_joint_t *j)
{
    return j->inertia_kgm2 + j->payload_kg * j->payload_arm_m * j->payload_arm_m;
}

static double s_gravity(const motion_joint_t *j, double q)
{
    return j->gravity_mps2 * (j->payload_kg * j->payload_arm_m
                              + j->link_mass_kg * j->link_com_m) * cos(q);
}

double motion_joint_torque(const motion_joint_t *j, double q, double qd, double qdd,
                           double v_smooth)
{
    double sgn = v_smooth > 0 ? tanh(qd / v_smooth) : (qd > 0) - (qd < 0);
    return s_inertia(j) * qdd + j->viscous_nms * qd + j->coulomb_nm * sgn + s_gravity(j, q);
}

/* One integrator step of the true joint under torque tau (semi-implicit
 * Euler), with stiction: at rest it stays put unless the torque beats the
 * breakaway friction, and a velocity that crosses zero stops there. */
static void s_plant_step(const motion_joint_t *j, double tau, double h, double *q, double *qd)
{
    double drive = tau - j->viscous_nms * *qd - s_gravity(j, *q), acc;
    if (fabs(*qd) < S_STICK_RADPS) {
        if (fabs(drive) <= j->coulomb_nm) {
            *qd = 0;
            return;
        }
        acc = (drive - copysign(j->coulomb_nm, drive)) / s_inertia(j);
    } else {
        acc = (drive - copysign(j->coulomb_nm, *qd)) / s_inertia(j);
    }
    double old = *qd;
    *qd += acc * h;
    if (old != 0 && (old > 0) != (*qd > 0))
        *qd = 0;
    *q += *qd * h;
}

void motion_sim_default(motion_sim_t *sim)
{
    memset(sim, 0, sizeof *sim);
    sim->control_dt_s = 1e-3;
    sim->substeps = 10;
    sim->encoder_rad = 2 * M_PI / (1 << 17);
    sim->d_filter_hz = 200;
    sim->delay_periods = 1;
    sim->torque_lag_s = 0.5e-3;
    sim->tail_s = 0.2;
}

static bool s_joint_ok(const motion_joint_t *j)
{
    return j && s_pos_finite(j->inertia_kgm2) && j->viscous_nms >= 0 && j->coulomb_nm >= 0
           && j->payload_kg >= 0 && s_pos_finite(j->torque_max_nm)
           && isfinite(j->gravity_mps2 + j->payload_arm_m + j->link_mass_kg + j->link_com_m);
}

/* The controller's state between periods. */
typedef struct {
    double integral, d_filt, prev_err;
} s_pid_state_t;

/* One control period's torque: feed-forward plus PID, limited, with the
 * integrator frozen while the output is saturated in its direction. */
static double s_control(const motion_sim_t *sim, s_pid_state_t *st, double err,
                        double ff, int *saturated)
{
    double dt = sim->control_dt_s;
    double alpha = dt / (dt + 1 / (2 * M_PI * sim->d_filter_hz));
    st->d_filt += alpha * ((err - st->prev_err) / dt - st->d_filt);
    st->prev_err = err;
    double lim = sim->plant->torque_max_nm;
    double u = ff + sim->pid.kp * err + sim->pid.ki * (st->integral + err * dt)
               + sim->pid.kd * st->d_filt;
    *saturated = fabs(u) > lim;
    if (!*saturated || (u > 0) != (err > 0))
        st->integral += err * dt;
    return fmax(-lim, fmin(lim, u));
}

/* Feed-forward torque for time t.  The command reaches the joint after the
 * computation delay and the current loop's lag, so it is taken from the
 * reference that much ahead (a known property of the drive, not of the
 * joint). */
static double s_feed_forward(const motion_sim_t *sim, const motion_scurve_t *ref, double t)
{
    double ahead = sim->delay_periods * sim->control_dt_s + sim->torque_lag_s, q, v, a;
    motion_scurve_eval(ref, t + ahead, &q, &v, &a, NULL);
    return motion_joint_torque(sim->model, q, v, a, S_FF_SMOOTH_RADPS);
}

int motion_track(const motion_sim_t *sim, const motion_scurve_t *ref, motion_result_t *res)
{
    if (!sim || !ref || !res || !s_joint_ok(sim->plant) || (sim->model && !s_joint_ok(sim->model))
        || !s_pos_finite(sim->control_dt_s) || sim->substeps < 1 || sim->encoder_rad < 0
        || !s_pos_finite(sim->d_filter_hz) || !(sim->tail_s >= 0) || sim->delay_periods < 0
        || sim->delay_periods > S_MAX_DELAY || !(sim->torque_lag_s >= 0))
        return -1;
    memset(res, 0, sizeof *res);
    double q, qd = 0, t_end = motion_scurve_duration(ref) + sim->tail_s, sum_sq = 0;
    motion_scurve_eval(ref, 0, &q, NULL, NULL, NULL);
    /* Both controllers start as if they had been holding the start for a
     * long time: the integrator carries what feed-forward does not supply
     * of the true holding torque (fair to the PID alone). */
    double ff0 = sim->model ? motion_joint_torque(sim->model, q, 0, 0, S_FF_SMOOTH_RADPS) : 0;
    double hold = s_gravity(sim->plant, q);
    s_pid_state_t st = { .integral = sim->pid.ki > 0 ? (hold - ff0) / sim->pid.ki : 0 };
    double applied = ff0 + sim->pid.ki * st.integral, queue[S_MAX_DELAY + 1];
    for (int k = 0; k <= S_MAX_DELAY; k++)
        queue[k] = applied;
    long n = (long) ceil(t_end / sim->control_dt_s);
    double h = sim->control_dt_s / sim->substeps;
    for (long k = 0; k <= n; k++) {
        double t = k * sim->control_dt_s, qr, vr, ar;
        motion_scurve_eval(ref, t, &qr, &vr, &ar, NULL);
        double meas = sim->encoder_rad > 0 ? sim->encoder_rad * round(q / sim->encoder_rad) : q;
        double err = qr - meas, true_err = fabs(qr - q);
        sum_sq += (qr - q) * (qr - q);
        res->max_err_rad = fmax(res->max_err_rad, true_err);
        double ff = sim->model ? s_feed_forward(sim, ref, t) : 0;
        int sat;
        double tau = s_control(sim, &st, err, ff, &sat);
        res->saturated_steps += sat;
        res->max_torque_nm = fmax(res->max_torque_nm, fabs(tau));
        /* The command reaches the motor delay_periods later, through the
         * current loop's lag (exact first-order step response per substep). */
        queue[k % (sim->delay_periods + 1)] = tau;
        double cmd = queue[(k + 1) % (sim->delay_periods + 1)];
        double keep = sim->torque_lag_s > 0 ? exp(-h / sim->torque_lag_s) : 0;
        for (int s = 0; s < sim->substeps; s++) {
            applied = cmd + (applied - cmd) * keep;
            s_plant_step(sim->plant, applied, h, &q, &qd);
        }
        if (!isfinite(q))
            break;
    }
    res->rms_err_rad = isfinite(q) ? sqrt(sum_sq / (n + 1)) : INFINITY;
    double qf;
    motion_scurve_eval(ref, t_end, &qf, NULL, NULL, NULL);
    res->final_err_rad = fabs(qf - q);
    return 0;
}

/* ------------------------------------------------------- move sets, tuning */

int motion_eval_moves(const motion_sim_t *sim, const motion_limits_t *lim,
                      const motion_move_t *moves, int n, double *mean_rms_rad,
                      double *max_err_rad)
{
    if (!sim || !sim->plant || !moves || n < 1 || !mean_rms_rad)
        return -1;
    motion_joint_t plant = *sim->plant, model;
    motion_sim_t s = *sim;
    s.plant = &plant;
    if (sim->model) {
        model = *sim->model;
        s.model = &model;
    }
    double sum = 0, worst = 0;
    for (int i = 0; i < n; i++) {
        motion_scurve_t ref;
        motion_result_t r;
        plant.payload_kg = model.payload_kg = moves[i].payload_kg;
        if (motion_scurve_plan(moves[i].q0, moves[i].q1, lim, &ref) < 0
            || motion_track(&s, &ref, &r) < 0)
            return -1;
        sum += r.rms_err_rad;
        worst = fmax(worst, r.max_err_rad);
    }
    *mean_rms_rad = sum / n;
    if (max_err_rad)
        *max_err_rad = worst;
    return 0;
}

/* Grid of the search: kp 10^2..10^6 N m/rad, kd 10^0..10^4 N m s/rad. */
#define S_TUNE_KP_N 13
#define S_TUNE_KD_N 9
static const double S_TUNE_KI_PER_KP[] = { 0, 1, 10, 30, 100, 300 };

int motion_pid_tune(const motion_sim_t *sim, const motion_limits_t *lim,
                    const motion_move_t *train, int n, motion_pid_t *best,
                    double *best_rms_rad)
{
    if (!sim || !best || !best_rms_rad)
        return -1;
    motion_sim_t s = *sim;
    int tried = 0;
    *best_rms_rad = INFINITY;
    for (int a = 0; a < S_TUNE_KP_N; a++)
        for (int b = 0; b < S_TUNE_KD_N; b++)
            for (size_t c = 0; c < sizeof S_TUNE_KI_PER_KP / sizeof *S_TUNE_KI_PER_KP; c++) {
                s.pid.kp = pow(10, 2 + 4.0 * a / (S_TUNE_KP_N - 1));
                s.pid.kd = pow(10, 4.0 * b / (S_TUNE_KD_N - 1));
                s.pid.ki = S_TUNE_KI_PER_KP[c] * s.pid.kp;
                double rms;
                if (motion_eval_moves(&s, lim, train, n, &rms, NULL) < 0)
                    return -1;
                tried++;
                if (rms < *best_rms_rad) {
                    *best_rms_rad = rms;
                    *best = s.pid;
                }
            }
    return tried;
}
