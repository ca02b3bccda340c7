/* mapf_int.h — internals shared by mapf.c and mapf_astar.c (not public). */
#ifndef AF_ROBOT_MAPF_INT_H
#define AF_ROBOT_MAPF_INT_H

#include "mapf.h"

#include <stdint.h>

/* A set of 64-bit keys (never 0), open addressing, grows at half full. */
typedef struct {
    uint64_t *keys;
    size_t cap, n;
} mapf__hset_t;

void mapf__hset_clear(mapf__hset_t *s);
int mapf__hset_add(mapf__hset_t *s, uint64_t key);
bool mapf__hset_has(const mapf__hset_t *s, uint64_t key);
void mapf__hset_free(mapf__hset_t *s);

/* Keys: being in `cell` at step t; moving from -> to, arriving at step t. */
uint64_t mapf__vkey(int cell, int t);
uint64_t mapf__ekey(int from, int to, int t);

/* What one agent's search must respect. */
typedef struct {
    mapf__hset_t vtx;           /* forbidden (cell, t) */
    mapf__hset_t edge;          /* forbidden moves (from, to, t) */
    const int *park_from;       /* NULL, or cell impassable for t >= park_from[cell] */
    int goal_min_t;             /* may stop on the goal only from this step on */
} mapf__cons_t;

/* Other agents' plans, to break ties towards fewer conflicts (CBS). */
typedef struct {
    mapf__hset_t occ;           /* (cell, t) some other agent is in */
    const int *park_at;         /* NULL, or step from which an agent sits there */
} mapf__cat_t;

typedef struct mapf__ll mapf__ll_t;

mapf__ll_t *mapf__ll_new(void);
void mapf__ll_destroy(mapf__ll_t **p);

/* Breadth-first distances to goal over free cells (INT_MAX: unreachable);
 * NULL when out of memory. */
int *mapf__bfs(const mapf_grid_t *g, int goal);

/* Space-time A*: a shortest path from start that stops on goal for good and
 * respects c.  Returns 0 with a malloc'd path (*len steps), 1 if none within
 * max_exp expansions, -1 out of memory. */
int mapf__astar(mapf__ll_t *ll, const mapf_grid_t *g, int start, int goal,
                const int *hdist, const mapf__cons_t *c, const mapf__cat_t *cat,
                long max_exp, int **path, int *len, long *expansions);

#endif
