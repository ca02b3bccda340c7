/* test_robot_motion.c — S-curve limits, the joint model, feed-forward. */

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "agents/robot/motion.h"

/* Samples the move finely: no limit is ever exceeded, it ends at rest on
 * the target, and position is continuous (velocity integrates to it). */
static void s_check_move(double q0, double q1, const motion_limits_t *l)
{
    motion_scurve_t s;
    cr_assert_eq(motion_scurve_plan(q0, q1, l, &s), 0);
    double T = motion_scurve_duration(&s), dt = T / 20000, prev_q = q0, tol = 1e-9;
    for (int k = 0; k <= 20000; k++) {
        double q, v, a, j;
        motion_scurve_eval(&s, k * dt, &q, &v, &a, &j);
        cr_assert_leq(fabs(v), l->v_max * (1 + tol), "v %g > %g", v, l->v_max);
        cr_assert_leq(fabs(a), l->a_max * (1 + tol), "a %g > %g", a, l->a_max);
        cr_assert_leq(fabs(j), l->j_max * (1 + tol), "j %g > %g", j, l->j_max);
        /* Never overshoots, never turns back. */
        cr_assert_leq(fabs(q - q0), fabs(q1 - q0) * (1 + tol) + 1e-12);
        cr_assert_geq((q - prev_q) * (q1 >= q0 ? 1 : -1), -1e-12);
        cr_assert_leq(fabs(q - prev_q), l->v_max * dt * (1 + 1e-6) + 1e-12);
        prev_q = q;
    }
    double q, v, a;
    motion_scurve_eval(&s, T, &q, &v, &a, NULL);
    cr_assert_float_eq(q, q1, 1e-9);
    cr_assert_float_eq(v, 0, 1e-9);
    cr_assert_float_eq(a, 0, 1e-9);
    /* Just before the end the profile itself (not the clamp) lands there. */
    motion_scurve_eval(&s, T * (1 - 1e-9), &q, &v, &a, NULL);
    cr_assert_float_eq(q, q1, 1e-6 * (1 + fabs(q1 - q0)));
    cr_assert_float_eq(v, 0, 1e-6);
}

Test(robot_motion, scurve_limits_never_exceeded)
{
    motion_limits_t l = { 2.0, 8.0, 60.0 };
    s_check_move(0, 3, &l);             /* reaches v_max and a_max */
    s_check_move(1, 0.8, &l);           /* short: neither */
    s_check_move(0, -0.6, &l);          /* reaches a_max, not v_max */
    s_check_move(0.5, 0.5, &l);         /* no move at all */
    srand(7);
    for (int i = 0; i < 40; i++) {
        motion_limits_t r = { 0.1 + rand() % 100 / 10.0, 0.1 + rand() % 100 / 5.0,
                              0.5 + rand() % 500 / 2.0 };
        s_check_move((rand() % 2000 - 1000) / 100.0, (rand() % 2000 - 1000) / 100.0, &r);
    }
}

Test(robot_motion, scurve_time_optimal_cases)
{
    /* Long move: time = D / v + v / a + a / j (both limits reached). */
    motion_limits_t l = { 2.0, 8.0, 60.0 };
    motion_scurve_t s;
    motion_scurve_plan(0, 10, &l, &s);
    cr_assert_float_eq(motion_scurve_duration(&s), 10 / 2.0 + 2.0 / 8.0 + 8.0 / 60.0, 1e-9);
    /* Pure jerk-limited short move: D = 2 v sqrt(v / j), time 4 sqrt(v / j). */
    motion_limits_t lj = { 100, 100, 1 };
    motion_scurve_plan(0, 2, &lj, &s);
    cr_assert_float_eq(motion_scurve_duration(&s), 4.0, 1e-6);
}

Test(robot_motion, refuses_bad_limits)
{
    motion_scurve_t s;
    motion_limits_t bad[] = { { 0, 1, 1 }, { 1, -1, 1 }, { 1, 1, NAN }, { INFINITY, 1, 1 } };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(motion_scurve_plan(0, 1, &bad[i], &s), -1);
    motion_limits_t ok = { 1, 1, 1 };
    cr_assert_eq(motion_scurve_plan(0, NAN, &ok, &s), -1);
    motion_sim_t sim;
    motion_sim_default(&sim);
    motion_result_t r;
    motion_scurve_plan(0, 1, &ok, &s);
    cr_assert_eq(motion_track(&sim, &s, &r), -1, "no plant");
}

static motion_joint_t s_joint(void)
{
    return (motion_joint_t) { .inertia_kgm2 = 0.8, .viscous_nms = 4, .coulomb_nm = 6,
                              .payload_kg = 2, .payload_arm_m = 0.6, .link_mass_kg = 6,
                              .link_com_m = 0.3, .gravity_mps2 = 9.81, .torque_max_nm = 250 };
}

Test(robot_motion, joint_holds_by_stiction_and_model_balances_gravity)
{
    motion_joint_t j = s_joint();
    /* Inverse dynamics at rest, arm level: gravity torque only. */
    double g = 9.81 * (2 * 0.6 + 6 * 0.3);
    cr_assert_float_eq(motion_joint_torque(&j, 0, 0, 0, 0), g, 1e-9);
    cr_assert_float_eq(motion_joint_torque(&j, M_PI / 2, 0, 1, 0), 0.8 + 2 * 0.36, 1e-9);
    /* A stopped controller holding the reference: with no gains and an
     * exact gravity feed-forward, stiction keeps the arm still. */
    motion_limits_t l = { 1, 1, 1 };
    motion_scurve_t s;
    motion_scurve_plan(0, 0, &l, &s);
    motion_sim_t sim;
    motion_sim_default(&sim);
    sim.plant = &j;
    sim.model = &j;
    sim.tail_s = 1;
    motion_result_t r;
    cr_assert_eq(motion_track(&sim, &s, &r), 0);
    cr_assert_lt(r.max_err_rad, 1e-9);
}

Test(robot_motion, feed_forward_beats_the_same_pid)
{
    motion_joint_t plant = s_joint(), model = plant;
    model.inertia_kgm2 *= 0.9;      /* an imperfect model */
    model.coulomb_nm *= 0.8;
    motion_limits_t l = { 2.0, 8.0, 60.0 };
    motion_move_t moves[3] = { { -1, 1, 2 }, { 0.5, -0.2, 0 }, { 1.2, 0.2, 4 } };
    motion_sim_t sim;
    motion_sim_default(&sim);
    sim.plant = &plant;
    sim.pid = (motion_pid_t) { 2e4, 2e5, 300 };
    double pid_rms, ff_rms, pid_max;
    cr_assert_eq(motion_eval_moves(&sim, &l, moves, 3, &pid_rms, &pid_max), 0);
    sim.model = &model;
    cr_assert_eq(motion_eval_moves(&sim, &l, moves, 3, &ff_rms, NULL), 0);
    cr_assert(isfinite(pid_rms) && pid_rms > 0);
    cr_assert_lt(ff_rms, 0.6 * pid_rms, "ff %g vs pid %g", ff_rms, pid_rms);
    /* The commanded torque never exceeds the joint's limit. */
    motion_scurve_t s;
    motion_result_t r;
    motion_scurve_plan(-1.5, 1.5, &l, &s);
    sim.pid.kp = 1e7;
    cr_assert_eq(motion_track(&sim, &s, &r), 0);
    cr_assert_leq(r.max_torque_nm, plant.torque_max_nm);
}
