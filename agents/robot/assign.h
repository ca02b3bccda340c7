/* assign.h — optimal assignment and the robot fleet's rolling-window allocator. */
#ifndef AF_ROBOT_ASSIGN_H
#define AF_ROBOT_ASSIGN_H

/*
 * assign_solve is the Hungarian method in its O(n^3) shortest-augmenting-path
 * form (Kuhn–Munkres with potentials, as refined by Jonker and Volgenant) for
 * rectangular cost matrices where some pairs are forbidden.  The allocator on
 * top turns robots and tasks into such a matrix: travel, battery, skills and
 * deadlines become costs or forbidden pairs, and only the most urgent tasks
 * (a rolling window) are offered at each decision epoch.
 *
 * Plain C, no bus code, no allocation visible to the caller: every output
 * array is the caller's.  Functions return -1 on bad arguments (NULL,
 * negative sizes, NaN costs) and never abort on input.
 */

#include <math.h>

/* A forbidden pair in a cost matrix (any non-finite entry is forbidden). */
#define ASSIGN_FORBIDDEN INFINITY

/* Largest side assign_solve accepts (it pads to a square: O(side^2) memory,
 * O(side^3) time). */
#define ASSIGN_MAX_SIDE 4096

/* Minimum-cost assignment of rows to columns of the n_rows x n_cols row-major
 * matrix `cost`.  The number of assigned pairs is maximised first (a
 * forbidden pair is never used), then their total cost minimised.
 * row_col[i] receives the column of row i or -1; *total_cost (if non-NULL)
 * the sum over assigned pairs.  Returns the number of pairs, or -1 on bad
 * arguments (NULL pointers, sizes < 0 or > ASSIGN_MAX_SIDE, a NaN cost) or
 * out of memory. */
int assign_solve(const double *cost, int n_rows, int n_cols, int *row_col,
                 double *total_cost);

/* ------------------------------------------------------------ fleet side */

/* A mobile robot as the allocator sees it. */
typedef struct {
    double x_m, y_m;            /* where it is (or will be when free) */
    double speed_mps;           /* travel speed, > 0 */
    double battery_pct;         /* state of charge 0..100 */
    double drain_pct_per_m;     /* charge used per metre travelled */
    unsigned skills;            /* bit set of what it can do */
    double free_at_s;           /* busy until then */
} fleet_robot_t;

/* A task: go to the pickup, carry to the drop, work there. */
typedef struct {
    double pick_x_m, pick_y_m;
    double drop_x_m, drop_y_m;
    double work_s;              /* load/unload, changeover, inspection time */
    unsigned skills;            /* every bit is needed */
    double release_s;           /* when it was requested */
    double deadline_s;          /* when it should be done */
} fleet_task_t;

/* Weights of the allocator's cost (per unit in the name). */
typedef struct {
    double travel_per_s;        /* empty travel to the pickup */
    double late_per_s;          /* finishing after the deadline */
    double battery_per_frac;    /* share of the usable charge a task uses */
    double reserve_pct;         /* a task may not take a robot below this */
    int window;                 /* tasks offered per epoch (most urgent first) */
} fleet_weights_t;

/* Sensible defaults: lateness weighs 10x travel, a 20 % battery reserve, a
 * window of 2x the number of robots (0 means that). */
void fleet_weights_default(fleet_weights_t *w);

/* Finish time of task t if robot r takes it now, and the charge left after;
 * returns 0 if r may take t (skills, battery reserve), -1 if not. */
int fleet_task_eval(const fleet_robot_t *r, const fleet_task_t *t, double now_s,
                    double reserve_pct, double *finish_s, double *battery_left_pct);

/* One epoch of the rolling-window allocator: robots idle at now_s get the
 * tasks of the window (pending tasks sorted by deadline) by optimal
 * assignment.  task_robot[j] receives the robot for task j or -1.  Returns
 * the number of tasks assigned, or -1 on bad arguments. */
int fleet_assign_window(const fleet_robot_t *robots, int n_robots,
                        const fleet_task_t *tasks, int n_tasks, double now_s,
                        const fleet_weights_t *w, int *task_robot);

/* The baseline (DESIGN §5): tasks first come, first served, each to the
 * nearest idle robot that may take it.  Same outputs as above. */
int fleet_assign_fcfs(const fleet_robot_t *robots, int n_robots,
                      const fleet_task_t *tasks, int n_tasks, double now_s,
                      double reserve_pct, int *task_robot);

#endif
