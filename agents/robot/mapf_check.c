/* mapf_check.c — an independent checker of multi-robot plans.
 *
 * Written apart from the planners on purpose (no shared helpers): a plan is
 * accepted only if every path runs from its start to its goal through free
 * cells by single 4-neighbour steps or waits, and no two robots ever share
 * a cell at one step or swap cells in one step, counting robots that have
 * arrived as standing on their goals for ever. */

#include "mapf.h"

#include <stdio.h>
#include <stdlib.h>

static int s_at(const mapf_paths_t *p, int a, int t)
{
    return p->path[a][t < p->len[a] ? t : p->len[a]];
}

static bool s_adjacent(const mapf_grid_t *g, int u, int v)
{
    int ux = u % g->w, uy = u / g->w, vx = v % g->w, vy = v / g->w;
    return abs(ux - vx) + abs(uy - vy) <= 1;
}

static int s_check_path(const mapf_grid_t *g, const mapf_paths_t *p, int a, int start,
                        int goal, char *err, size_t err_len)
{
    int cells = g->w * g->h;
    if (!p->path[a] || p->len[a] < 0) {
        snprintf(err, err_len, "agent %d has no path", a);
        return -1;
    }
    if (p->path[a][0] != start || p->path[a][p->len[a]] != goal) {
        snprintf(err, err_len, "agent %d does not run from its start to its goal", a);
        return -1;
    }
    for (int t = 0; t <= p->len[a]; t++) {
        int c = p->path[a][t];
        if (c < 0 || c >= cells || g->blocked[c]) {
            snprintf(err, err_len, "agent %d step %d: cell %d is outside or blocked", a, t, c);
            return -1;
        }
        if (t > 0 && !s_adjacent(g, p->path[a][t - 1], c)) {
            snprintf(err, err_len, "agent %d step %d: jumps from %d to %d", a, t,
                     p->path[a][t - 1], c);
            return -1;
        }
    }
    return 0;
}

int mapf_check(const mapf_grid_t *g, int n, const int *start, const int *goal,
               const mapf_paths_t *p, char *err, size_t err_len)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        err_len = sizeof dummy;
    }
    if (!g || !g->blocked || !p || !p->path || !p->len || (n && (!start || !goal))) {
        snprintf(err, err_len, "no grid, plan or agent arrays to check");
        return -1;
    }
    if (p->n != n) {
        snprintf(err, err_len, "plan has %d agents, expected %d", p->n, n);
        return -1;
    }
    int horizon = 0;
    for (int a = 0; a < n; a++) {
        if (s_check_path(g, p, a, start[a], goal[a], err, err_len) < 0)
            return -1;
        if (p->len[a] > horizon)
            horizon = p->len[a];
    }
    for (int t = 0; t <= horizon; t++)
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++) {
                if (s_at(p, a, t) == s_at(p, b, t)) {
                    snprintf(err, err_len, "agents %d and %d both in cell %d at step %d",
                             a, b, s_at(p, a, t), t);
                    return -1;
                }
                if (t > 0 && s_at(p, a, t) == s_at(p, b, t - 1)
                    && s_at(p, b, t) == s_at(p, a, t - 1)) {
                    snprintf(err, err_len, "agents %d and %d swap cells %d and %d at step %d",
                             a, b, s_at(p, a, t - 1), s_at(p, a, t), t);
                    return -1;
                }
            }
    return 0;
}
