/* test_robot_assign.c — Hungarian assignment vs brute force; the allocator. */

#include <criterion/criterion.h>
#include <stdlib.h>

#include "agents/robot/assign.h"

/* Best (most pairs, then least cost) over every partial injective map,
 * by exhaustive recursion: the independent reference. */
static void s_brute(const double *c, int nr, int nc, int i, unsigned used,
                    int pairs, double cost, int *best_pairs, double *best_cost)
{
    if (i == nr) {
        if (pairs > *best_pairs || (pairs == *best_pairs && cost < *best_cost - 1e-12)) {
            *best_pairs = pairs;
            *best_cost = cost;
        }
        return;
    }
    s_brute(c, nr, nc, i + 1, used, pairs, cost, best_pairs, best_cost);
    for (int j = 0; j < nc; j++)
        if (!(used & (1u << j)) && isfinite(c[i * nc + j]))
            s_brute(c, nr, nc, i + 1, used | (1u << j), pairs + 1,
                    cost + c[i * nc + j], best_pairs, best_cost);
}

Test(robot_assign, matches_brute_force_on_random_rectangles)
{
    srand(14);
    for (int trial = 0; trial < 400; trial++) {
        int nr = 1 + rand() % 6, nc = 1 + rand() % 6;
        double c[36];
        int forbid_pct = (trial % 4) * 15;     /* 0, 15, 30, 45 % forbidden */
        for (int k = 0; k < nr * nc; k++)
            c[k] = rand() % 100 < forbid_pct ? ASSIGN_FORBIDDEN
                                             : (rand() % 2000 - 500) / 10.0;
        int row_col[6];
        double total;
        int pairs = assign_solve(c, nr, nc, row_col, &total);
        int bp = -1;
        double bc = 0;
        s_brute(c, nr, nc, 0, 0, 0, 0, &bp, &bc);
        cr_assert_eq(pairs, bp, "trial %d: %d pairs, brute force %d", trial, pairs, bp);
        cr_assert_float_eq(total, bc, 1e-6, "trial %d: cost %g vs %g", trial, total, bc);
        /* The reported assignment is what it says: injective, allowed, sums up. */
        unsigned seen = 0;
        double sum = 0;
        for (int i = 0; i < nr; i++) {
            if (row_col[i] < 0)
                continue;
            cr_assert(!(seen & (1u << row_col[i])));
            seen |= 1u << row_col[i];
            cr_assert(isfinite(c[i * nc + row_col[i]]));
            sum += c[i * nc + row_col[i]];
        }
        cr_assert_float_eq(sum, total, 1e-9);
    }
}

Test(robot_assign, rejects_bad_input)
{
    int rc[2];
    double nan_cost[4] = { 1, NAN, 2, 3 };
    cr_assert_eq(assign_solve(nan_cost, 2, 2, rc, NULL), -1);
    cr_assert_eq(assign_solve(NULL, 2, 2, rc, NULL), -1);
    cr_assert_eq(assign_solve(nan_cost, -1, 2, rc, NULL), -1);
    cr_assert_eq(assign_solve(nan_cost, 0, 2, rc, NULL), 0);
    double all_forbidden[4] = { INFINITY, INFINITY, -INFINITY, INFINITY };
    cr_assert_eq(assign_solve(all_forbidden, 2, 2, rc, NULL), 0);
    cr_assert_eq(rc[0], -1);
    cr_assert_eq(rc[1], -1);
}

Test(robot_assign, larger_square_is_consistent)
{
    /* n = 200: the optimum is no worse than identity and a random permutation. */
    enum { N = 200 };
    double *c = malloc(N * N * sizeof *c);
    srand(3);
    for (int k = 0; k < N * N; k++)
        c[k] = rand() % 1000;
    int rc[N];
    double total;
    cr_assert_eq(assign_solve(c, N, N, rc, &total), N);
    double ident = 0;
    for (int i = 0; i < N; i++)
        ident += c[i * N + i];
    cr_assert_leq(total, ident);
    free(c);
}

static fleet_robot_t s_robot(double x, double batt, unsigned skills)
{
    return (fleet_robot_t) { .x_m = x, .speed_mps = 1, .battery_pct = batt,
                             .drain_pct_per_m = 0.1, .skills = skills };
}

Test(robot_assign, allocator_respects_skills_and_battery)
{
    fleet_robot_t r[3] = { s_robot(0, 90, 1), s_robot(10, 90, 1 | 2), s_robot(1, 21, 1) };
    fleet_task_t t[2] = {
        { .pick_x_m = 0, .drop_x_m = 50, .skills = 2, .deadline_s = 1000 },  /* needs skill 2 */
        { .pick_x_m = 1, .drop_x_m = 30, .skills = 1, .deadline_s = 1000 },  /* 3 % of charge */
    };
    fleet_weights_t w;
    fleet_weights_default(&w);
    int tr[2];
    cr_assert_eq(fleet_assign_window(r, 3, t, 2, 0, &w, tr), 2);
    cr_assert_eq(tr[0], 1, "only robot 1 has skill 2");
    cr_assert_eq(tr[1], 0, "robot 2 is nearer but would fall below the reserve");
    /* FCFS gives task 1 to the nearest allowed robot as well. */
    cr_assert_eq(fleet_assign_fcfs(r, 3, t, 2, 0, w.reserve_pct, tr), 2);
    cr_assert_eq(tr[0], 1);
    cr_assert_eq(tr[1], 0);
}

Test(robot_assign, allocator_beats_nearest_on_deadlines)
{
    /* Two robots, two tasks released together.  FCFS sends the nearest robot
     * to the first task and makes the urgent second one late; the optimal
     * assignment swaps them. */
    fleet_robot_t r[2] = { s_robot(0, 100, 1), s_robot(20, 100, 1) };
    fleet_task_t t[2] = {
        { .pick_x_m = 2, .drop_x_m = 2, .skills = 1, .deadline_s = 500 },
        { .pick_x_m = 1, .drop_x_m = 1, .skills = 1, .deadline_s = 5 },
    };
    fleet_weights_t w;
    fleet_weights_default(&w);
    int opt[2], fcfs[2];
    cr_assert_eq(fleet_assign_window(r, 2, t, 2, 0, &w, opt), 2);
    cr_assert_eq(fleet_assign_fcfs(r, 2, t, 2, 0, w.reserve_pct, fcfs), 2);
    cr_assert_eq(fcfs[0], 0);
    cr_assert_eq(opt[1], 0, "the urgent task gets the near robot");
    /* Busy robots and unreleased tasks are left alone. */
    r[0].free_at_s = 100;
    t[1].release_s = 50;
    cr_assert_eq(fleet_assign_window(r, 2, t, 2, 0, &w, opt), 1);
    cr_assert_eq(opt[0], 1);
    cr_assert_eq(opt[1], -1);
}
