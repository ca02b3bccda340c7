/* assign.c — Hungarian assignment with forbidden pairs; the fleet allocator. */

#include "assign.h"

#include <float.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The square problem the solver works on: rectangular inputs are padded with
 * zero-cost dummies, forbidden pairs get a cost `big` that outweighs every
 * finite cost together, so a forbidden pair is used only when no assignment
 * of that size avoids it (and is then reported as unassigned). */
typedef struct {
    int n;                      /* side */
    double *a;                  /* n x n, 0-based */
} s_square_t;

static int s_square_build(const double *cost, int nr, int nc, s_square_t *sq)
{
    double sum_abs = 0;
    for (long k = 0; k < (long) nr * nc; k++) {
        if (isnan(cost[k]))
            return -1;
        if (isfinite(cost[k]))
            sum_abs += fabs(cost[k]);
    }
    double big = 2 * sum_abs + 1;
    int n = nr > nc ? nr : nc;
    sq->n = n;
    sq->a = calloc((size_t) n * n, sizeof *sq->a);
    if (!sq->a)
        return -1;
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < nc; j++) {
            double c = cost[(long) i * nc + j];
            sq->a[(long) i * n + j] = isfinite(c) ? c : big;
        }
    return 0;
}

/* Shortest augmenting paths with row/column potentials u, v: row i is added
 * to the matching by a Dijkstra-like scan over columns (minv), then the
 * potentials move by the smallest reduced cost.  1-based internally, column
 * 0 is the virtual start.  col_row[j] receives the row matched to column j. */
static int s_hungarian(const s_square_t *sq, int *col_row)
{
    int n = sq->n;
    double *u = calloc(n + 1, sizeof *u), *v = calloc(n + 1, sizeof *v);
    double *minv = malloc((n + 1) * sizeof *minv);
    int *p = calloc(n + 1, sizeof *p), *way = calloc(n + 1, sizeof *way);
    bool *used = malloc((n + 1) * sizeof *used);
    int rc = -1;
    if (!u || !v || !minv || !p || !way || !used)
        goto fail;
    for (int i = 1; i <= n; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= n; j++) {
            minv[j] = DBL_MAX;
            used[j] = false;
        }
        do {
            used[j0] = true;
            int i0 = p[j0], j1 = 0;
            double delta = DBL_MAX;
            const double *row = sq->a + (long) (i0 - 1) * n;
            for (int j = 1; j <= n; j++) {
                if (used[j])
                    continue;
                double cur = row[j - 1] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (int j = 0; j <= n; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (int j = 1; j <= n; j++)
        col_row[j - 1] = p[j] - 1;
    rc = 0;
fail:
    free(u);
    free(v);
    free(minv);
    free(p);
    free(way);
    free(used);
    return rc;
}

int assign_solve(const double *cost, int n_rows, int n_cols, int *row_col,
                 double *total_cost)
{
    if (!row_col || n_rows < 0 || n_cols < 0 || n_rows > ASSIGN_MAX_SIDE
        || n_cols > ASSIGN_MAX_SIDE || (!cost && n_rows && n_cols))
        return -1;
    for (int i = 0; i < n_rows; i++)
        row_col[i] = -1;
    if (total_cost)
        *total_cost = 0;
    if (!n_rows || !n_cols)
        return 0;
    s_square_t sq = { 0 };
    int *col_row = NULL, pairs = -1;
    if (s_square_build(cost, n_rows, n_cols, &sq) < 0)
        goto fail;
    col_row = malloc(sq.n * sizeof *col_row);
    if (!col_row || s_hungarian(&sq, col_row) < 0)
        goto fail;
    pairs = 0;
    double total = 0;
    for (int j = 0; j < n_cols; j++) {
        int i = col_row[j];
        if (i < 0 || i >= n_rows || !isfinite(cost[(long) i * n_cols + j]))
            continue;
        row_col[i] = j;
        total += cost[(long) i * n_cols + j];
        pairs++;
    }
    if (total_cost)
        *total_cost = total;
fail:
    free(sq.a);
    free(col_row);
    return pairs;
}

/* ------------------------------------------------------------ fleet side */

void fleet_weights_default(fleet_weights_t *w)
{
    w->travel_per_s = 1.0;
    w->late_per_s = 10.0;
    w->battery_per_frac = 30.0;
    w->reserve_pct = 20.0;
    w->window = 0;
}

static double s_dist(double x0, double y0, double x1, double y1)
{
    return hypot(x1 - x0, y1 - y0);
}

int fleet_task_eval(const fleet_robot_t *r, const fleet_task_t *t, double now_s,
                    double reserve_pct, double *finish_s, double *battery_left_pct)
{
    if ((t->skills & r->skills) != t->skills || !(r->speed_mps > 0))
        return -1;
    double d_empty = s_dist(r->x_m, r->y_m, t->pick_x_m, t->pick_y_m);
    double d_loaded = s_dist(t->pick_x_m, t->pick_y_m, t->drop_x_m, t->drop_y_m);
    double left = r->battery_pct - r->drain_pct_per_m * (d_empty + d_loaded);
    double start = now_s > r->free_at_s ? now_s : r->free_at_s;
    if (start < t->release_s)
        start = t->release_s;
    if (finish_s)
        *finish_s = start + (d_empty + d_loaded) / r->speed_mps + t->work_s;
    if (battery_left_pct)
        *battery_left_pct = left;
    return left < reserve_pct ? -1 : 0;
}

/* The cost of robot r doing task t: empty travel, lateness, and the share of
 * the robot's usable charge the task would use (so a nearly flat robot is
 * kept for short jobs and sent to charge sooner). */
static double s_pair_cost(const fleet_robot_t *r, const fleet_task_t *t,
                          double now_s, const fleet_weights_t *w)
{
    double finish, left;
    if (fleet_task_eval(r, t, now_s, w->reserve_pct, &finish, &left) < 0)
        return ASSIGN_FORBIDDEN;
    double empty_s = s_dist(r->x_m, r->y_m, t->pick_x_m, t->pick_y_m) / r->speed_mps;
    double late_s = finish > t->deadline_s ? finish - t->deadline_s : 0;
    double usable = r->battery_pct - w->reserve_pct;
    double frac = usable > 0 ? (r->battery_pct - left) / usable : 1;
    return w->travel_per_s * empty_s + w->late_per_s * late_s
           + w->battery_per_frac * frac;
}

/* Orders task indices by deadline (ties by index); qsort_r's context is
 * the task array. */
static int s_by_deadline(const void *a, const void *b, void *ctx)
{
    const fleet_task_t *tasks = ctx;
    int ia = *(const int *) a, ib = *(const int *) b;
    if (tasks[ia].deadline_s != tasks[ib].deadline_s)
        return tasks[ia].deadline_s < tasks[ib].deadline_s ? -1 : 1;
    return ia - ib;
}

/* Orders task indices by release time (ties by index): first come. */
static int s_by_release(const void *a, const void *b, void *ctx)
{
    const fleet_task_t *tasks = ctx;
    int ia = *(const int *) a, ib = *(const int *) b;
    if (tasks[ia].release_s != tasks[ib].release_s)
        return tasks[ia].release_s < tasks[ib].release_s ? -1 : 1;
    return ia - ib;
}

static bool s_args_ok(const fleet_robot_t *robots, int nr, const fleet_task_t *tasks,
                      int nt, const int *task_robot)
{
    return nr >= 0 && nt >= 0 && nr <= ASSIGN_MAX_SIDE && task_robot
           && (robots || !nr) && (tasks || !nt);
}

int fleet_assign_window(const fleet_robot_t *robots, int n_robots,
                        const fleet_task_t *tasks, int n_tasks, double now_s,
                        const fleet_weights_t *w, int *task_robot)
{
    if (!w || !s_args_ok(robots, n_robots, tasks, n_tasks, task_robot))
        return -1;
    for (int j = 0; j < n_tasks; j++)
        task_robot[j] = -1;
    int *idle = malloc((n_robots + 1) * sizeof *idle);
    int *order = malloc((n_tasks + 1) * sizeof *order);
    double *cost = NULL;
    int *row_col = NULL, n_idle = 0, assigned = -1;
    if (!idle || !order)
        goto fail;
    for (int i = 0; i < n_robots; i++)
        if (robots[i].free_at_s <= now_s)
            idle[n_idle++] = i;
    /* The window: the most urgent released tasks. */
    int n_win = 0;
    for (int j = 0; j < n_tasks; j++)
        if (tasks[j].release_s <= now_s)
            order[n_win++] = j;
    qsort_r(order, n_win, sizeof *order, s_by_deadline, (void *) tasks);
    int cap = w->window > 0 ? w->window : 2 * n_idle;
    if (n_win > cap)
        n_win = cap;
    if (n_win > ASSIGN_MAX_SIDE)
        n_win = ASSIGN_MAX_SIDE;
    assigned = 0;
    if (!n_idle || !n_win)
        goto fail;
    cost = malloc((size_t) n_idle * n_win * sizeof *cost);
    row_col = malloc(n_idle * sizeof *row_col);
    if (!cost || !row_col) {
        assigned = -1;
        goto fail;
    }
    for (int a = 0; a < n_idle; a++)
        for (int b = 0; b < n_win; b++)
            cost[(long) a * n_win + b] = s_pair_cost(&robots[idle[a]],
                                                     &tasks[order[b]], now_s, w);
    assigned = assign_solve(cost, n_idle, n_win, row_col, NULL);
    for (int a = 0; a < n_idle && assigned > 0; a++)
        if (row_col[a] >= 0)
            task_robot[order[row_col[a]]] = idle[a];
fail:
    free(idle);
    free(order);
    free(cost);
    free(row_col);
    return assigned;
}

int fleet_assign_fcfs(const fleet_robot_t *robots, int n_robots,
                      const fleet_task_t *tasks, int n_tasks, double now_s,
                      double reserve_pct, int *task_robot)
{
    if (!s_args_ok(robots, n_robots, tasks, n_tasks, task_robot))
        return -1;
    bool *taken = calloc(n_robots + 1, sizeof *taken);
    int *order = malloc((n_tasks + 1) * sizeof *order);
    int assigned = -1, n = 0;
    if (!taken || !order)
        goto fail;
    for (int j = 0; j < n_tasks; j++) {
        task_robot[j] = -1;
        if (tasks[j].release_s <= now_s)
            order[n++] = j;
    }
    qsort_r(order, n, sizeof *order, s_by_release, (void *) tasks);
    assigned = 0;
    for (int k = 0; k < n; k++) {
        const fleet_task_t *t = &tasks[order[k]];
        int best = -1;
        double best_d = DBL_MAX;
        for (int i = 0; i < n_robots; i++) {
            if (taken[i] || robots[i].free_at_s > now_s
                || fleet_task_eval(&robots[i], t, now_s, reserve_pct, NULL, NULL) < 0)
                continue;
            double d = s_dist(robots[i].x_m, robots[i].y_m, t->pick_x_m, t->pick_y_m);
            if (d < best_d) {
                best_d = d;
                best = i;
            }
        }
        if (best >= 0) {
            taken[best] = true;
            task_robot[order[k]] = best;
            assigned++;
        }
    }
fail:
    free(taken);
    free(order);
    return assigned;
}
