/* test_robot_insert.c — peg-in-hole: the contact model and the strategy. */

#include <criterion/criterion.h>
#include <math.h>

#include "agents/robot/insert.h"

static const double DEG = M_PI / 180;

Test(robot_insert, aligned_peg_goes_straight_in)
{
    insert_params_t p;
    insert_params_default(&p);
    insert_error_t e = { 0 };
    insert_result_t r;
    cr_assert_eq(insert_trial(&p, &e, 1, &r), 0);
    cr_assert(r.success);
    cr_assert_not(r.searched);
    cr_assert_lt(r.max_contact_n, 1.0, "clearance: no contact expected, got %g N", r.max_contact_n);
}

Test(robot_insert, chamfer_catches_small_errors_search_finds_large_ones)
{
    insert_params_t p;
    insert_params_default(&p);
    insert_result_t r;
    insert_error_t small = { 0.3e-3, -0.1e-3, 0.5 * DEG, -0.5 * DEG };
    cr_assert_eq(insert_trial(&p, &small, 2, &r), 0);
    cr_assert(r.success);
    cr_assert_not(r.searched, "inside the chamfer's capture width");
    insert_error_t big = { 1e-3, -1e-3, 1 * DEG, 1 * DEG };
    cr_assert_eq(insert_trial(&p, &big, 3, &r), 0);
    cr_assert(r.success, "depth %g mm", r.final_depth_m * 1e3);
    cr_assert(r.searched);
    /* The contact model stays a contact model: penetration well below the
     * chamfer (a penalty contact that lets the peg through would be a bug). */
    cr_assert_lt(r.max_pen_m, 0.2 * p.chamfer_m, "penetration %g mm", r.max_pen_m * 1e3);
    /* Without a search the same error is not found. */
    p.search_radius_m = 1e-5;
    cr_assert_eq(insert_trial(&p, &big, 3, &r), 0);
    cr_assert_not(r.success);
}

Test(robot_insert, seeded_batch_with_one_mm_one_degree, .timeout = 120)
{
    insert_params_t p;
    insert_params_default(&p);
    insert_stats_t st;
    cr_assert_eq(insert_run(&p, 40, 1e-3, 1 * DEG, 7, &st), 0);
    cr_assert_eq(st.trials, 40);
    cr_assert_geq(st.success_pct, 95.0, "%g %%", st.success_pct);
    cr_assert_gt(st.searched, 10, "most errors exceed the chamfer");
    cr_assert_lt(st.max_pen_m, 0.2 * p.chamfer_m);
    /* Same seed, same outcome. */
    insert_stats_t again;
    insert_run(&p, 40, 1e-3, 1 * DEG, 7, &again);
    cr_assert_eq(again.successes, st.successes);
    cr_assert_float_eq(again.mean_time_s, st.mean_time_s, 1e-12);
}

Test(robot_insert, refuses_bad_parameters)
{
    insert_params_t p;
    insert_params_default(&p);
    insert_error_t e = { 0 };
    insert_result_t r;
    p.clearance_m = 0;
    cr_assert_eq(insert_trial(&p, &e, 1, &r), -1);
    insert_params_default(&p);
    p.target_depth_m = p.hole_depth_m * 2;
    cr_assert_eq(insert_trial(&p, &e, 1, &r), -1);
    insert_params_default(&p);
    p.dt_s = NAN;
    cr_assert_eq(insert_trial(&p, &e, 1, &r), -1);
    insert_params_default(&p);
    e.dx_m = INFINITY;
    cr_assert_eq(insert_trial(&p, &e, 1, &r), -1);
    insert_stats_t st;
    cr_assert_eq(insert_run(&p, 0, 1e-3, DEG, 1, &st), -1);
}
