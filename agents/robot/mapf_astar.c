/* mapf_astar.c — the low level of the planners: space-time A* on a grid. */

#include "mapf_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- hash set */

static size_t s_slot(uint64_t key, size_t cap)
{
    return (size_t) ((key * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

void mapf__hset_clear(mapf__hset_t *s)
{
    if (s->n)
        memset(s->keys, 0, s->cap * sizeof *s->keys);
    s->n = 0;
}

static int s_grow(mapf__hset_t *s)
{
    size_t cap = s->cap ? s->cap * 2 : 256;
    uint64_t *keys = calloc(cap, sizeof *keys);
    if (!keys)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->keys[i])
            continue;
        size_t k = s_slot(s->keys[i], cap);
        while (keys[k])
            k = (k + 1) & (cap - 1);
        keys[k] = s->keys[i];
    }
    free(s->keys);
    s->keys = keys;
    s->cap = cap;
    return 0;
}

/* 1 if added, 0 if already there, -1 out of memory. */
int mapf__hset_add(mapf__hset_t *s, uint64_t key)
{
    if (2 * (s->n + 1) > s->cap && s_grow(s) < 0)
        return -1;
    size_t k = s_slot(key, s->cap);
    while (s->keys[k]) {
        if (s->keys[k] == key)
            return 0;
        k = (k + 1) & (s->cap - 1);
    }
    s->keys[k] = key;
    s->n++;
    return 1;
}

bool mapf__hset_has(const mapf__hset_t *s, uint64_t key)
{
    if (!s->n)
        return false;
    size_t k = s_slot(key, s->cap);
    while (s->keys[k]) {
        if (s->keys[k] == key)
            return true;
        k = (k + 1) & (s->cap - 1);
    }
    return false;
}

void mapf__hset_free(mapf__hset_t *s)
{
    free(s->keys);
    memset(s, 0, sizeof *s);
}

/* Cells fit in 24 bits (FLOORMAP_MAX_SIDE^2), steps in 36. */
uint64_t mapf__vkey(int cell, int t)
{
    return 1ull << 62 | (uint64_t) cell << 36 | (uint64_t) t;
}

uint64_t mapf__ekey(int from, int to, int t)
{
    /* The move is named by its source and its target's offset class. */
    uint64_t dir = to == from + 1 ? 0 : to == from - 1 ? 1 : to > from ? 2 : 3;
    return 1ull << 63 | (uint64_t) from << 38 | dir << 36 | (uint64_t) t;
}

/* ---------------------------------------------------------------------- A* */

typedef struct {
    int cell, t, parent, conf;
} s_node_t;

typedef struct {
    int f, conf, t, node;
} s_entry_t;

struct mapf__ll {
    s_node_t *nodes;
    size_t n_nodes, cap_nodes;
    s_entry_t *heap;
    size_t n_heap, cap_heap;
    mapf__hset_t seen;
};

mapf__ll_t *mapf__ll_new(void)
{
    return calloc(1, sizeof(mapf__ll_t));
}

void mapf__ll_destroy(mapf__ll_t **p)
{
    if (!p || !*p)
        return;
    free((*p)->nodes);
    free((*p)->heap);
    mapf__hset_free(&(*p)->seen);
    free(*p);
    *p = NULL;
}

int *mapf__bfs(const mapf_grid_t *g, int goal)
{
    int n = g->w * g->h;
    int *d = malloc(n * sizeof *d), *q = malloc(n * sizeof *q);
    if (!d || !q) {
        free(d);
        free(q);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        d[i] = INT_MAX;
    int head = 0, tail = 0;
    d[goal] = 0;
    q[tail++] = goal;
    while (head < tail) {
        int c = q[head++], x = c % g->w, y = c / g->w;
        int nb[4] = { x > 0 ? c - 1 : -1, x < g->w - 1 ? c + 1 : -1,
                      y > 0 ? c - g->w : -1, y < g->h - 1 ? c + g->w : -1 };
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && !g->blocked[nb[k]] && d[nb[k]] == INT_MAX) {
                d[nb[k]] = d[c] + 1;
                q[tail++] = nb[k];
            }
    }
    free(q);
    return d;
}

/* Heap order: lower f, then fewer conflicts with others, then deeper. */
static bool s_before(const s_entry_t *a, const s_entry_t *b)
{
    if (a->f != b->f)
        return a->f < b->f;
    if (a->conf != b->conf)
        return a->conf < b->conf;
    return a->t > b->t;
}

static int s_push(mapf__ll_t *ll, s_entry_t e)
{
    if (ll->n_heap == ll->cap_heap) {
        size_t cap = ll->cap_heap ? 2 * ll->cap_heap : 1024;
        s_entry_t *h = realloc(ll->heap, cap * sizeof *h);
        if (!h)
            return -1;
        ll->heap = h;
        ll->cap_heap = cap;
    }
    size_t i = ll->n_heap++;
    while (i > 0 && s_before(&e, &ll->heap[(i - 1) / 2])) {
        ll->heap[i] = ll->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    ll->heap[i] = e;
    return 0;
}

static s_entry_t s_pop(mapf__ll_t *ll)
{
    s_entry_t top = ll->heap[0], last = ll->heap[--ll->n_heap];
    size_t i = 0, n = ll->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && s_before(&ll->heap[c + 1], &ll->heap[c]))
            c++;
        if (!s_before(&ll->heap[c], &last))
            break;
        ll->heap[i] = ll->heap[c];
        i = c;
    }
    if (n)
        ll->heap[i] = last;
    return top;
}

static int s_add_node(mapf__ll_t *ll, int cell, int t, int parent, int conf)
{
    if (ll->n_nodes == ll->cap_nodes) {
        size_t cap = ll->cap_nodes ? 2 * ll->cap_nodes : 1024;
        s_node_t *nn = realloc(ll->nodes, cap * sizeof *nn);
        if (!nn)
            return -1;
        ll->nodes = nn;
        ll->cap_nodes = cap;
    }
    ll->nodes[ll->n_nodes] = (s_node_t) { cell, t, parent, conf };
    return (int) ll->n_nodes++;
}

static bool s_allowed(const mapf__cons_t *c, int from, int to, int t)
{
    if (c->park_from && t >= c->park_from[to])
        return false;
    if (mapf__hset_has(&c->vtx, mapf__vkey(to, t)))
        return false;
    return from == to || !mapf__hset_has(&c->edge, mapf__ekey(from, to, t));
}

static int s_conflicts(const mapf__cat_t *cat, int cell, int t)
{
    if (!cat)
        return 0;
    return mapf__hset_has(&cat->occ, mapf__vkey(cell, t))
           + (cat->park_at && t >= cat->park_at[cell]);
}

static int s_extract(const mapf__ll_t *ll, int node, int **path, int *len)
{
    int steps = ll->nodes[node].t;
    int *p = malloc((steps + 1) * sizeof *p);
    if (!p)
        return -1;
    for (int k = node; k >= 0; k = ll->nodes[k].parent)
        p[ll->nodes[k].t] = ll->nodes[k].cell;
    *path = p;
    *len = steps;
    return 0;
}

/* Expands one node: the four moves and a wait.  -1 out of memory. */
static int s_expand(mapf__ll_t *ll, const mapf_grid_t *g, int node, const int *hdist,
                    const mapf__cons_t *c, const mapf__cat_t *cat, int t_max)
{
    s_node_t cur = ll->nodes[node];
    int x = cur.cell % g->w, y = cur.cell / g->w, t = cur.t + 1;
    int nb[5] = { cur.cell, x > 0 ? cur.cell - 1 : -1, x < g->w - 1 ? cur.cell + 1 : -1,
                  y > 0 ? cur.cell - g->w : -1, y < g->h - 1 ? cur.cell + g->w : -1 };
    if (t > t_max)
        return 0;
    for (int k = 0; k < 5; k++) {
        int to = nb[k];
        if (to < 0 || g->blocked[to] || hdist[to] == INT_MAX || !s_allowed(c, cur.cell, to, t))
            continue;
        int fresh = mapf__hset_add(&ll->seen, mapf__vkey(to, t));
        if (fresh <= 0) {
            if (fresh < 0)
                return -1;
            continue;
        }
        int conf = cur.conf + s_conflicts(cat, to, t);
        int id = s_add_node(ll, to, t, node, conf);
        if (id < 0 || s_push(ll, (s_entry_t) { t + hdist[to], conf, t, id }) < 0)
            return -1;
    }
    return 0;
}

int mapf__astar(mapf__ll_t *ll, const mapf_grid_t *g, int start, int goal,
                const int *hdist, const mapf__cons_t *c, const mapf__cat_t *cat,
                long max_exp, int **path, int *len, long *expansions)
{
    ll->n_nodes = ll->n_heap = 0;
    mapf__hset_clear(&ll->seen);
    if (hdist[start] == INT_MAX || (c->park_from && c->park_from[goal] != INT_MAX))
        return 1;
    if (!s_allowed(c, start, start, 0))
        return 1;
    /* Past the last constraint a shortest path needs at most w*h more steps. */
    int t_max = c->goal_min_t + g->w * g->h;
    int root = s_add_node(ll, start, 0, -1, 0);
    if (root < 0 || mapf__hset_add(&ll->seen, mapf__vkey(start, 0)) < 0
        || s_push(ll, (s_entry_t) { hdist[start], 0, 0, root }) < 0)
        return -1;
    long exp = 0;
    while (ll->n_heap) {
        if (exp >= max_exp)
            break;
        s_entry_t e = s_pop(ll);
        const s_node_t *cur = &ll->nodes[e.node];
        if (cur->cell == goal && cur->t >= c->goal_min_t) {
            *expansions += exp;
            return s_extract(ll, e.node, path, len);
        }
        exp++;
        if (s_expand(ll, g, e.node, hdist, c, cat, t_max) < 0)
            return -1;
    }
    *expansions += exp;
    return 1;
}
