/* test_robot_mapf.c — multi-robot paths: crafted cases, optimality against a
 * joint-state search, re-planning when a cell blocks. */

#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "agents/robot/map.h"
#include "agents/robot/mapf.h"

typedef struct {
    floormap_t *map;
    unsigned char blocked[256];
    mapf_grid_t g;
} s_world_t;

static void s_world(s_world_t *w, const char *text)
{
    char err[128];
    w->map = floormap_parse(text, 60, err, sizeof err);
    cr_assert_not_null(w->map, "%s", err);
    floormap_snapshot(w->map, 0, w->blocked);
    w->g = (mapf_grid_t) { floormap_width(w->map), floormap_height(w->map), w->blocked };
}

static int s_cell(const s_world_t *w, int x, int y)
{
    return y * w->g.w + x;
}

/* Solves, runs the independent checker, returns the plan. */
static mapf_paths_t *s_plan(const s_world_t *w, int n, const int *s, const int *gl,
                            mapf_algo_t algo, mapf_stats_t *st)
{
    mapf_opts_t o;
    mapf_opts_default(&o);
    o.algo = algo;
    mapf_paths_t *p = NULL;
    char err[160] = "";
    int rc = mapf_solve(&w->g, n, s, gl, &o, &p, st, err, sizeof err);
    cr_assert_eq(rc, 0, "solve: %s", err);
    cr_assert_eq(mapf_check(&w->g, n, s, gl, p, err, sizeof err), 0, "check: %s", err);
    return p;
}

Test(robot_mapf, corridor_with_a_passing_bay)
{
    s_world_t w;
    s_world(&w, "###.###\n.......\n");
    int s[2] = { s_cell(&w, 0, 1), s_cell(&w, 6, 1) };
    int g[2] = { s_cell(&w, 6, 1), s_cell(&w, 0, 1) };
    mapf_stats_t st;
    mapf_paths_t *p = s_plan(&w, 2, s, g, MAPF_CBS, &st);
    /* One robot waits a step, the other ducks into the bay: 7 + 8. */
    cr_assert_eq(p->soc, 15, "soc %ld", p->soc);
    cr_assert(st.optimal);
    mapf_paths_destroy(&p);
    /* Prioritised planning cannot solve it: whoever goes first runs straight
     * through, and the other cannot reach the bay in time. */
    mapf_opts_t o;
    mapf_opts_default(&o);
    o.algo = MAPF_PRIORITISED;
    cr_assert_eq(mapf_solve(&w.g, 2, s, g, &o, &p, &st, NULL, 0), 1);
    /* The hybrid falls back only when CBS gives up; here CBS solves it. */
    o.algo = MAPF_CBS_THEN_PRIORITISED;
    cr_assert_eq(mapf_solve(&w.g, 2, s, g, &o, &p, &st, NULL, 0), 0);
    cr_assert_eq(st.used, MAPF_CBS);
    mapf_paths_destroy(&p);
    floormap_destroy(&w.map);
}

Test(robot_mapf, swap_without_room_fails_cleanly)
{
    s_world_t w;
    s_world(&w, "....\n");
    int s[2] = { 0, 3 }, g[2] = { 3, 0 };
    mapf_opts_t o;
    mapf_opts_default(&o);
    o.max_nodes = 300;
    o.algo = MAPF_CBS_THEN_PRIORITISED;
    mapf_paths_t *p = NULL;
    char err[128];
    cr_assert_eq(mapf_solve(&w.g, 2, s, g, &o, &p, NULL, err, sizeof err), 1);
    cr_assert_null(p);
    cr_assert_str_eq(err, "mapf: no plan within the limits");
    floormap_destroy(&w.map);
}

Test(robot_mapf, cycle_rotates_without_swaps)
{
    /* Four robots on a 2x2 square, each to the next cell clockwise: all
     * move at once (no swap, no shared cell), cost 1 each. */
    s_world_t w;
    s_world(&w, "..\n..\n");
    int s[4] = { 0, 1, 3, 2 }, g[4] = { 1, 3, 2, 0 };
    mapf_stats_t st;
    mapf_paths_t *p = s_plan(&w, 4, s, g, MAPF_CBS, &st);
    cr_assert_eq(p->soc, 4);
    mapf_paths_destroy(&p);
    floormap_destroy(&w.map);
    /* Three robots round a ring with a pillar, each two cells on. */
    s_world(&w, "...\n.#.\n...\n");
    int s3[3] = { 0, 2, 8 }, g3[3] = { 2, 8, 6 };
    p = s_plan(&w, 3, s3, g3, MAPF_CBS, &st);
    cr_assert_eq(p->soc, 6);
    mapf_paths_destroy(&p);
    floormap_destroy(&w.map);
}

Test(robot_mapf, robot_parked_on_the_way_steps_aside)
{
    /* P is parked (start = goal) in the corridor; M must pass.  P steps into
     * the bay and back: it is home again at step 4, M arrives at 6. */
    s_world_t w;
    s_world(&w, "###.###\n.......\n");
    int s[2] = { s_cell(&w, 0, 1), s_cell(&w, 3, 1) };
    int g[2] = { s_cell(&w, 6, 1), s_cell(&w, 3, 1) };
    mapf_stats_t st;
    mapf_paths_t *p = s_plan(&w, 2, s, g, MAPF_CBS, &st);
    cr_assert_eq(p->soc, 10, "soc %ld", p->soc);
    cr_assert_eq(p->len[0], 6);
    mapf_paths_destroy(&p);
    /* A robot parked on another's goal leaves it for the bay; the other
     * waits one step for the bay to be taken: 4 + 7. */
    int s2[2] = { s_cell(&w, 0, 1), s_cell(&w, 6, 1) };
    int g2[2] = { s_cell(&w, 6, 1), s_cell(&w, 3, 0) };
    p = s_plan(&w, 2, s2, g2, MAPF_CBS, &st);
    cr_assert_eq(p->soc, 11, "soc %ld", p->soc);
    cr_assert_eq(p->len[1], 4);
    mapf_paths_destroy(&p);
    floormap_destroy(&w.map);
}

Test(robot_mapf, refuses_bad_input)
{
    s_world_t w;
    s_world(&w, ".#.\n...\n");
    mapf_paths_t *p = NULL;
    char err[128];
    int s[2] = { 0, 0 }, g[2] = { 2, 3 };
    cr_assert_eq(mapf_solve(&w.g, 2, s, g, NULL, &p, NULL, err, sizeof err), -1);
    cr_assert_str_eq(err, "mapf: agents 0 and 1 share a start");
    int s1[1] = { 1 }, g1[1] = { 0 };
    cr_assert_eq(mapf_solve(&w.g, 1, s1, g1, NULL, &p, NULL, err, sizeof err), -1);
    int s2[1] = { 99 };
    cr_assert_eq(mapf_solve(&w.g, 1, s2, g1, NULL, &p, NULL, err, sizeof err), -1);
    cr_assert_null(p);
    /* The checker catches what a planner bug would produce. */
    int sg[2] = { 0, 4 }, gg[2] = { 3, 5 };
    int pa[2] = { 0, 3 }, pb[2] = { 4, 5 }, *paths[2] = { pa, pb }, len[2] = { 1, 1 };
    mapf_paths_t fake = { 2, len, paths, 2, 1 };
    cr_assert_eq(mapf_check(&w.g, 2, sg, gg, &fake, err, sizeof err), 0, "%s", err);
    pb[1] = gg[1] = 3;                          /* both in cell 3 at step 1 */
    cr_assert_eq(mapf_check(&w.g, 2, sg, gg, &fake, err, sizeof err), -1);
    cr_assert_str_eq(err, "agents 0 and 1 both in cell 3 at step 1");
    pb[1] = gg[1] = 1;                          /* into the wall */
    cr_assert_eq(mapf_check(&w.g, 2, sg, gg, &fake, err, sizeof err), -1);
    cr_assert_str_eq(err, "agent 1 step 1: cell 1 is outside or blocked");
    pb[1] = gg[1] = 2;                          /* a diagonal jump */
    cr_assert_eq(mapf_check(&w.g, 2, sg, gg, &fake, err, sizeof err), -1);
    cr_assert_str_eq(err, "agent 1 step 1: jumps from 4 to 2");
    int sw0[2] = { 3, 4 }, sw1[2] = { 4, 3 }, *swp[2] = { sw0, sw1 }, swl[2] = { 1, 1 };
    mapf_paths_t swap = { 2, swl, swp, 2, 1 };
    int ss[2] = { 3, 4 }, sgl[2] = { 4, 3 };
    cr_assert_eq(mapf_check(&w.g, 2, ss, sgl, &swap, err, sizeof err), -1);
    cr_assert_str_eq(err, "agents 0 and 1 swap cells 3 and 4 at step 1");
    cr_assert_eq(mapf_check(&w.g, 2, NULL, sgl, &swap, err, sizeof err), -1);
    floormap_destroy(&w.map);
}

/* ------------------------------------------------ joint-state reference */

/* Exact optimum of the sum of costs by Dijkstra over joint states (every
 * robot's cell plus which robots have stopped for good), written without
 * the planner's code.  A step costs the number of robots not yet stopped;
 * a robot on its goal may stop.  Returns INT_MAX if none within cap. */
enum { J_N = 3, J_CELLS = 16, J_CAP = 40 };

typedef struct {
    const mapf_grid_t *g;
    int n;
    const int *goal;
} s_joint_t;

static int s_jenc(int n, const int *pos, int done)
{
    int k = done;
    for (int a = 0; a < n; a++)
        k = k * J_CELLS + pos[a];
    return k;
}

static void s_jdec(int n, int k, int *pos, int *done)
{
    for (int a = n - 1; a >= 0; a--) {
        pos[a] = k % J_CELLS;
        k /= J_CELLS;
    }
    *done = k;
}

static int *s_bucket[J_CAP + 1];
static int s_nbucket[J_CAP + 1];

static void s_jpush(int *dist, int k, int d)
{
    if (d > J_CAP || dist[k] <= d)
        return;
    dist[k] = d;
    s_bucket[d] = realloc(s_bucket[d], (s_nbucket[d] + 1) * sizeof(int));
    s_bucket[d][s_nbucket[d]++] = k;
}

/* Pushes pos with every subset of arrived robots marked stopped. */
static void s_jpush_all(const s_joint_t *j, int *dist, const int *pos, int done, int d)
{
    int may = 0;
    for (int a = 0; a < j->n; a++)
        if (pos[a] == j->goal[a] && !(done & (1 << a)))
            may |= 1 << a;
    for (int sub = may;; sub = (sub - 1) & may) {
        s_jpush(dist, s_jenc(j->n, pos, done | sub), d);
        if (!sub)
            break;
    }
}

static bool s_jmove_ok(const s_joint_t *j, const int *from, const int *to)
{
    for (int a = 0; a < j->n; a++) {
        if (to[a] < 0 || j->g->blocked[to[a]])
            return false;
        for (int b = 0; b < a; b++)
            if (to[a] == to[b] || (to[a] == from[b] && to[b] == from[a]))
                return false;
    }
    return true;
}

static int s_joint_opt(const mapf_grid_t *g, int n, const int *start, const int *goal)
{
    s_joint_t j = { g, n, goal };
    int states = (1 << n) * J_CELLS * J_CELLS * J_CELLS, best = INT_MAX;
    int *dist = malloc(states * sizeof *dist);
    for (int k = 0; k < states; k++)
        dist[k] = INT_MAX;
    memset(s_nbucket, 0, sizeof s_nbucket);
    s_jpush_all(&j, dist, start, 0, 0);
    for (int d = 0; d <= J_CAP && best == INT_MAX; d++)
        for (int i = 0; i < s_nbucket[d]; i++) {
            int k = s_bucket[d][i], pos[J_N], done, to[J_N];
            if (dist[k] != d)
                continue;
            s_jdec(n, k, pos, &done);
            if (done == (1 << n) - 1) {
                best = d;
                break;
            }
            int active = n - __builtin_popcount(done), combos = 1;
            for (int a = 0; a < n; a++)
                combos *= done & (1 << a) ? 1 : 5;
            for (int c = 0; c < combos; c++) {
                int r = c;
                for (int a = 0; a < n; a++) {
                    int m = done & (1 << a) ? 0 : r % 5, x = pos[a] % g->w, y = pos[a] / g->w;
                    if (!(done & (1 << a)))
                        r /= 5;
                    to[a] = m == 0 ? pos[a] : m == 1 ? (x > 0 ? pos[a] - 1 : -1)
                          : m == 2 ? (x < g->w - 1 ? pos[a] + 1 : -1)
                          : m == 3 ? (y > 0 ? pos[a] - g->w : -1)
                          : (y < g->h - 1 ? pos[a] + g->w : -1);
                }
                if (s_jmove_ok(&j, pos, to))
                    s_jpush_all(&j, dist, to, done, d + active);
            }
        }
    for (int d = 0; d <= J_CAP; d++) {
        free(s_bucket[d]);
        s_bucket[d] = NULL;
    }
    free(dist);
    return best;
}

Test(robot_mapf, cbs_is_optimal_against_joint_search, .timeout = 120)
{
    srand(1414);
    int checked = 0;
    for (int trial = 0; trial < 60; trial++) {
        unsigned char blocked[16];
        for (int c = 0; c < 16; c++)
            blocked[c] = rand() % 100 < 25;
        mapf_grid_t g = { 4, 4, blocked };
        int n = 2 + trial % 2, s[J_N], gl[J_N], free_cells[16], nf = 0;
        for (int c = 0; c < 16; c++)
            if (!blocked[c])
                free_cells[nf++] = c;
        if (nf < 2 * n)
            continue;
        for (int k = nf - 1; k > 0; k--) {
            int r = rand() % (k + 1), tmp = free_cells[k];
            free_cells[k] = free_cells[r];
            free_cells[r] = tmp;
        }
        for (int a = 0; a < n; a++) {
            s[a] = free_cells[a];
            gl[a] = free_cells[n + a];
        }
        int opt = s_joint_opt(&g, n, s, gl);
        if (opt == INT_MAX)
            continue;
        mapf_opts_t o;
        mapf_opts_default(&o);
        mapf_paths_t *p = NULL;
        mapf_stats_t st;
        char err[160] = "";
        cr_assert_eq(mapf_solve(&g, n, s, gl, &o, &p, &st, err, sizeof err), 0,
                     "trial %d: %s (optimum %d)", trial, err, opt);
        cr_assert_eq(mapf_check(&g, n, s, gl, p, err, sizeof err), 0, "%s", err);
        cr_assert_eq(p->soc, opt, "trial %d: CBS %ld, joint optimum %d", trial, p->soc, opt);
        mapf_paths_destroy(&p);
        o.algo = MAPF_PRIORITISED;
        if (mapf_solve(&g, n, s, gl, &o, &p, &st, err, sizeof err) == 0) {
            cr_assert_eq(mapf_check(&g, n, s, gl, p, err, sizeof err), 0, "%s", err);
            cr_assert_geq(p->soc, opt);
        }
        mapf_paths_destroy(&p);
        checked++;
    }
    cr_assert_geq(checked, 20, "only %d solvable random cases", checked);
}

Test(robot_mapf, replans_when_a_cell_blocks)
{
    s_world_t w;
    s_world(&w, "........\n........\n..#..#..\n........\n........\n..#..#..\n"
                "........\n........\n");
    int s[4] = { s_cell(&w, 0, 0), s_cell(&w, 7, 0), s_cell(&w, 0, 7), s_cell(&w, 7, 7) };
    int g[4] = { s_cell(&w, 7, 7), s_cell(&w, 0, 7), s_cell(&w, 7, 0), s_cell(&w, 0, 0) };
    mapf_stats_t st;
    mapf_paths_t *p = s_plan(&w, 4, s, g, MAPF_CBS, &st);
    /* At step 2 robot 0 reports the cell it would enter at step 5 blocked. */
    int bad = p->path[0][5], now[4];
    unsigned long v = floormap_version(w.map);
    cr_assert_eq(floormap_report(w.map, bad % 8, bad / 8, true, 2, 0), 1);
    cr_assert_neq(floormap_version(w.map), v, "the planner's cue to re-plan");
    floormap_snapshot(w.map, 2, w.blocked);
    mapf_positions_at(p, 2, now);
    mapf_paths_t *q = s_plan(&w, 4, now, g, MAPF_CBS, &st);
    for (int a = 0; a < 4; a++)
        for (int t = 0; t <= q->len[a]; t++)
            cr_assert_neq(q->path[a][t], bad, "robot %d still crosses the blocked cell", a);
    /* The block expires; the cell is usable again. */
    floormap_expire(w.map, 100);
    cr_assert(!floormap_blocked(w.map, bad % 8, bad / 8, 100));
    mapf_paths_destroy(&p);
    mapf_paths_destroy(&q);
    floormap_destroy(&w.map);
}
