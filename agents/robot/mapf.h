/* mapf.h — multi-robot path planning with reservations in space and time. */
#ifndef AF_ROBOT_MAPF_H
#define AF_ROBOT_MAPF_H

/*
 * Robots move on a 4-connected grid in discrete steps (one cell or a wait
 * per step).  Two robots may never be in one cell at one step (vertex
 * conflict) nor swap cells in one step (edge conflict); a robot that has
 * arrived stays on its goal, where it is an obstacle for the others.
 *
 * Two planners:
 *  - conflict-based search (CBS, Sharon et al., AIJ 2015): a best-first
 *    search over constraint sets, with a space-time A* per robot below it;
 *    the first conflict-free node is optimal in the sum of arrival times
 *    (sum of costs), as the paper proves, when it completes in its budget;
 *  - prioritised planning (Silver, AIIDE 2005; Erdmann & Lozano-Pérez 1987):
 *    robots plan one after another around the space-time reservations of
 *    those before; fast, not optimal, incomplete, so it retries with
 *    shuffled orders.
 * MAPF_CBS_THEN_PRIORITISED runs CBS and falls back to prioritised planning
 * when CBS exhausts its node budget.
 *
 * mapf_check is an independent checker (it shares no code with the
 * planners) that tests and benchmarks apply to every plan.
 *
 * Ownership: mapf_solve returns paths the caller frees with
 * mapf_paths_destroy(&p).  Cells are y * width + x.
 */

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int w, h;
    const unsigned char *blocked;   /* w*h, nonzero = impassable */
} mapf_grid_t;

typedef enum {
    MAPF_CBS = 0,
    MAPF_PRIORITISED,
    MAPF_CBS_THEN_PRIORITISED
} mapf_algo_t;

typedef struct {
    mapf_algo_t algo;
    long max_nodes;         /* CBS high-level nodes (default 5000) */
    long max_expansions;    /* per low-level search (default 200000) */
    int restarts;           /* prioritised: shuffled orders after the first (default 20) */
    unsigned seed;          /* for the shuffles */
} mapf_opts_t;

typedef struct {
    long nodes;             /* CBS nodes expanded */
    long expansions;        /* low-level A* expansions, all searches */
    int orders_tried;       /* prioritised planning */
    bool optimal;           /* found by CBS: optimal sum of costs */
    mapf_algo_t used;       /* which planner produced the plan */
} mapf_stats_t;

typedef struct {
    int n;
    int *len;               /* steps of agent a; it stays on its goal after */
    int **path;             /* path[a][0..len[a]] cells */
    long soc;               /* sum of len */
    int makespan;           /* max of len */
} mapf_paths_t;

void mapf_opts_default(mapf_opts_t *o);

/* Plans paths for n agents from start[a] to goal[a].  Returns 0 with *out
 * set, 1 when no plan was found within the limits (or none exists), -1 on
 * bad input (cells out of range or blocked, two agents on one start or goal,
 * NULL) with one line in err. */
int mapf_solve(const mapf_grid_t *g, int n, const int *start, const int *goal,
               const mapf_opts_t *o, mapf_paths_t **out, mapf_stats_t *stats,
               char *err, size_t err_len);

/* 0 if the paths go from start to goal through free cells by legal moves
 * with no vertex or edge conflict; -1 with the first fault in err. */
int mapf_check(const mapf_grid_t *g, int n, const int *start, const int *goal,
               const mapf_paths_t *p, char *err, size_t err_len);

/* Where every agent is at step t (cells[a]). */
void mapf_positions_at(const mapf_paths_t *p, int t, int *cells);

void mapf_paths_destroy(mapf_paths_t **p);

#endif
