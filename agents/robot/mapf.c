/* mapf.c — conflict-based search and prioritised planning (the high level). */

#include "mapf_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_VERTEX = 0, S_EDGE = 1 };

/* A CBS node: its parent's constraints plus one, and every agent's path.
 * Paths are shared with the parent except the one re-planned for this node,
 * which the node owns (the root owns all). */
typedef struct s_cbs {
    struct s_cbs *parent;
    int agent, type, c1, c2, t;     /* the added constraint; agent -1 at the root */
    int **path;
    int *len;
    long soc;
    int n_conf;
    bool root;
    int *owned;                     /* the path this node frees */
} s_cbs_t;

typedef struct {
    int a, b, type, c1, c2, t;      /* edge: a moves c1 -> c2, b the other way */
} s_conflict_t;

typedef struct {
    const mapf_grid_t *g;
    int n;
    const int *start, *goal;
    int **hdist;                    /* per agent: BFS distance to its goal */
    const mapf_opts_t *o;
    mapf_stats_t *st;
    mapf__ll_t *ll;
    mapf__cons_t cons;
    mapf__cat_t cat;
    int *park;                      /* w*h: CAT parking or PP park_from */
    int *last_res;                  /* w*h: PP last reserved step per cell */
} s_ctx_t;

void mapf_opts_default(mapf_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->algo = MAPF_CBS;
    o->max_nodes = 5000;
    o->max_expansions = 200000;
    o->restarts = 20;
    o->seed = 1;
}

void mapf_paths_destroy(mapf_paths_t **p)
{
    if (!p || !*p)
        return;
    for (int a = 0; a < (*p)->n; a++)
        free((*p)->path[a]);
    free((*p)->path);
    free((*p)->len);
    free(*p);
    *p = NULL;
}

void mapf_positions_at(const mapf_paths_t *p, int t, int *cells)
{
    for (int a = 0; a < p->n; a++)
        cells[a] = p->path[a][t < p->len[a] ? t : p->len[a]];
}

static int s_pos(int *const *path, const int *len, int a, int t)
{
    return path[a][t < len[a] ? t : len[a]];
}

/* Copies the plan out (the caller's paths outlive the search). */
static mapf_paths_t *s_paths_out(int n, int *const *path, const int *len)
{
    mapf_paths_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n;
    p->len = calloc(n + 1, sizeof *p->len);
    p->path = calloc(n + 1, sizeof *p->path);
    if (!p->len || !p->path)
        goto fail;
    for (int a = 0; a < n; a++) {
        p->len[a] = len[a];
        p->path[a] = malloc((len[a] + 1) * sizeof **p->path);
        if (!p->path[a])
            goto fail;
        memcpy(p->path[a], path[a], (len[a] + 1) * sizeof **p->path);
        p->soc += len[a];
        if (len[a] > p->makespan)
            p->makespan = len[a];
    }
    return p;
fail:
    mapf_paths_destroy(&p);
    return NULL;
}

/* --------------------------------------------------------------- conflicts */

/* The earliest conflict in *first (if any) and how many there are. */
static int s_conflicts(int n, int *const *path, const int *len, s_conflict_t *first)
{
    int T = 0, count = 0;
    for (int a = 0; a < n; a++)
        T = len[a] > T ? len[a] : T;
    for (int t = 0; t <= T; t++)
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++) {
                int pa = s_pos(path, len, a, t), pb = s_pos(path, len, b, t);
                s_conflict_t c = { a, b, -1, pa, pa, t };
                if (pa == pb) {
                    c.type = S_VERTEX;
                } else if (t > 0 && pa == s_pos(path, len, b, t - 1)
                           && pb == s_pos(path, len, a, t - 1)) {
                    c.type = S_EDGE;
                    c.c1 = pb;
                    c.c2 = pa;
                } else {
                    continue;
                }
                if (!count++ && first)
                    *first = c;
            }
    return count;
}

/* ---------------------------------------------------------------- low level */

/* Collects agent a's constraints along the node's ancestry. */
static int s_cons_for(s_ctx_t *x, const s_cbs_t *node, int a)
{
    mapf__hset_clear(&x->cons.vtx);
    mapf__hset_clear(&x->cons.edge);
    x->cons.park_from = NULL;
    x->cons.goal_min_t = 0;
    for (const s_cbs_t *k = node; k; k = k->parent) {
        if (k->agent != a)
            continue;
        if (k->type == S_VERTEX) {
            if (mapf__hset_add(&x->cons.vtx, mapf__vkey(k->c1, k->t)) < 0)
                return -1;
            if (k->c1 == x->goal[a] && k->t + 1 > x->cons.goal_min_t)
                x->cons.goal_min_t = k->t + 1;
        } else if (mapf__hset_add(&x->cons.edge, mapf__ekey(k->c1, k->c2, k->t)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The other agents' current paths as a conflict-avoidance table. */
static int s_cat_for(s_ctx_t *x, int *const *path, const int *len, int a)
{
    mapf__hset_clear(&x->cat.occ);
    for (int c = 0; c < x->g->w * x->g->h; c++)
        x->park[c] = INT_MAX;
    for (int b = 0; b < x->n; b++) {
        if (b == a || !path[b])
            continue;
        for (int t = 0; t <= len[b]; t++)
            if (mapf__hset_add(&x->cat.occ, mapf__vkey(path[b][t], t)) < 0)
                return -1;
        if (len[b] < x->park[path[b][len[b]]])
            x->park[path[b][len[b]]] = len[b];
    }
    x->cat.park_at = x->park;
    return 0;
}

/* Re-plans agent a of node under its constraints; 0, 1 (no path), -1. */
static int s_replan(s_ctx_t *x, s_cbs_t *node, int a)
{
    int *p = NULL, len = 0;
    if (s_cons_for(x, node, a) < 0 || s_cat_for(x, node->path, node->len, a) < 0)
        return -1;
    int rc = mapf__astar(x->ll, x->g, x->start[a], x->goal[a], x->hdist[a], &x->cons,
                         &x->cat, x->o->max_expansions, &p, &len, &x->st->expansions);
    if (rc)
        return rc;
    node->soc += len - (node->path[a] ? node->len[a] : 0);
    node->path[a] = p;
    node->len[a] = len;
    return 0;
}

/* ---------------------------------------------------------------------- CBS */

static void s_node_free(s_cbs_t *k)
{
    if (!k)
        return;
    free(k->path);
    free(k->len);
    free(k);
}

static s_cbs_t *s_node_new(const s_cbs_t *parent, int n)
{
    s_cbs_t *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->path = calloc(n + 1, sizeof *k->path);
    k->len = calloc(n + 1, sizeof *k->len);
    if (!k->path || !k->len) {
        s_node_free(k);
        return NULL;
    }
    k->agent = -1;
    if (parent) {
        memcpy(k->path, parent->path, n * sizeof *k->path);
        memcpy(k->len, parent->len, n * sizeof *k->len);
        k->soc = parent->soc;
    }
    return k;
}

/* Every node made, so that the owned paths are freed once at the end. */
typedef struct {
    s_cbs_t **all;
    size_t n, cap;
    s_cbs_t **heap;
    size_t n_heap;
} s_pool_t;

static bool s_better(const s_cbs_t *a, const s_cbs_t *b)
{
    return a->soc != b->soc ? a->soc < b->soc : a->n_conf < b->n_conf;
}

static int s_pool_keep(s_pool_t *pl, s_cbs_t *k)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? 2 * pl->cap : 256;
        s_cbs_t **all = realloc(pl->all, cap * sizeof *all);
        s_cbs_t **heap = realloc(pl->heap, cap * sizeof *heap);
        if (all)
            pl->all = all;
        if (heap)
            pl->heap = heap;
        if (!all || !heap)
            return -1;
        pl->cap = cap;
    }
    pl->all[pl->n++] = k;
    return 0;
}

static void s_open_push(s_pool_t *pl, s_cbs_t *k)
{
    size_t i = pl->n_heap++;
    while (i > 0 && s_better(k, pl->heap[(i - 1) / 2])) {
        pl->heap[i] = pl->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    pl->heap[i] = k;
}

static s_cbs_t *s_open_pop(s_pool_t *pl)
{
    s_cbs_t *top = pl->heap[0], *last = pl->heap[--pl->n_heap];
    size_t i = 0, n = pl->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && s_better(pl->heap[c + 1], pl->heap[c]))
            c++;
        if (!s_better(pl->heap[c], last))
            break;
        pl->heap[i] = pl->heap[c];
        i = c;
    }
    if (n)
        pl->heap[i] = last;
    return top;
}

static void s_pool_free(s_pool_t *pl, int n)
{
    for (size_t i = 0; i < pl->n; i++) {
        s_cbs_t *k = pl->all[i];
        if (k->root) {
            for (int a = 0; a < n; a++)
                free(k->path[a]);
        } else {
            free(k->owned);
        }
        s_node_free(k);
    }
    free(pl->all);
    free(pl->heap);
}

/* A child of node that forbids side `side` of conflict c, in *kid, or NULL
 * when the constrained agent has no path left.  -1 only when out of memory. */
static int s_branch(s_ctx_t *x, s_pool_t *pl, s_cbs_t *node, const s_conflict_t *c, int side,
                    s_cbs_t **kid)
{
    *kid = NULL;
    s_cbs_t *k = s_node_new(node, x->n);
    if (!k || s_pool_keep(pl, k) < 0) {
        s_node_free(k);
        return -1;
    }
    k->parent = node;
    k->agent = side ? c->b : c->a;
    k->type = c->type;
    k->t = c->t;
    k->c1 = side && c->type == S_EDGE ? c->c2 : c->c1;
    k->c2 = side && c->type == S_EDGE ? c->c1 : c->c2;
    int rc = s_replan(x, k, k->agent);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return 0;
    k->owned = k->path[k->agent];
    k->n_conf = s_conflicts(x->n, k->path, k->len, NULL);
    *kid = k;
    return 0;
}

/* Bypass (Boyarski et al., IJCAI 2015): a child exactly as cheap as its
 * parent with fewer conflicts lends the parent its new path instead of
 * splitting.  The path also meets the parent's constraints (a subset of the
 * child's), so the node stays a valid CBS node and optimality holds. */
static s_cbs_t *s_bypass(s_ctx_t *x, s_pool_t *pl, const s_cbs_t *node, s_cbs_t *kid)
{
    s_cbs_t *k = s_node_new(kid, x->n);
    if (!k || s_pool_keep(pl, k) < 0) {
        s_node_free(k);
        return NULL;
    }
    k->parent = node->parent;
    k->root = false;
    k->agent = node->agent;
    k->type = node->type;
    k->t = node->t;
    k->c1 = node->c1;
    k->c2 = node->c2;
    k->owned = kid->owned;          /* the path changes hands */
    kid->owned = NULL;
    k->n_conf = kid->n_conf;
    return k;
}

/* Expands node on conflict c: a bypass when one helps, else both children. */
static int s_expand(s_ctx_t *x, s_pool_t *pl, s_cbs_t *node, const s_conflict_t *c)
{
    s_cbs_t *kid[2];
    if (s_branch(x, pl, node, c, 0, &kid[0]) < 0 || s_branch(x, pl, node, c, 1, &kid[1]) < 0)
        return -1;
    int by = -1;
    for (int s = 0; s < 2; s++)
        if (kid[s] && kid[s]->soc == node->soc && kid[s]->n_conf < node->n_conf
            && (by < 0 || kid[s]->n_conf < kid[by]->n_conf))
            by = s;
    if (by >= 0) {
        s_cbs_t *k = s_bypass(x, pl, node, kid[by]);
        if (!k)
            return -1;
        s_open_push(pl, k);
        return 0;
    }
    for (int s = 0; s < 2; s++)
        if (kid[s])
            s_open_push(pl, kid[s]);
    return 0;
}

static int s_cbs(s_ctx_t *x, mapf_paths_t **out)
{
    s_pool_t pl = { 0 };
    int rc = -1;
    s_cbs_t *root = s_node_new(NULL, x->n);
    if (!root || s_pool_keep(&pl, root) < 0) {
        s_node_free(root);
        goto done;
    }
    root->root = true;
    for (int a = 0; a < x->n; a++) {
        int r = s_replan(x, root, a);
        if (r) {
            rc = r;
            goto done;
        }
    }
    root->n_conf = s_conflicts(x->n, root->path, root->len, NULL);
    s_open_push(&pl, root);
    rc = 1;
    while (pl.n_heap && x->st->nodes < x->o->max_nodes) {
        s_cbs_t *node = s_open_pop(&pl);
        x->st->nodes++;
        s_conflict_t c;
        if (!s_conflicts(x->n, node->path, node->len, &c)) {
            *out = s_paths_out(x->n, node->path, node->len);
            rc = *out ? 0 : -1;
            x->st->optimal = rc == 0;
            break;
        }
        if (s_expand(x, &pl, node, &c) < 0) {
            rc = -1;
            break;
        }
    }
done:
    s_pool_free(&pl, x->n);
    return rc;
}

/* -------------------------------------------------------------- prioritised */

/* Reserves agent a's path for those planned after it. */
static int s_reserve(s_ctx_t *x, const int *p, int len)
{
    for (int t = 0; t <= len; t++) {
        if (mapf__hset_add(&x->cons.vtx, mapf__vkey(p[t], t)) < 0)
            return -1;
        if (t > x->last_res[p[t]])
            x->last_res[p[t]] = t;
        if (t > 0 && p[t] != p[t - 1]
            && mapf__hset_add(&x->cons.edge, mapf__ekey(p[t], p[t - 1], t)) < 0)
            return -1;
    }
    if (len < x->park[p[len]])
        x->park[p[len]] = len;
    return 0;
}

/* One order: 0 planned, 1 some agent found no path, -1 out of memory. */
static int s_pp_order(s_ctx_t *x, const int *order, int **path, int *len)
{
    mapf__hset_clear(&x->cons.vtx);
    mapf__hset_clear(&x->cons.edge);
    for (int c = 0; c < x->g->w * x->g->h; c++) {
        x->park[c] = INT_MAX;
        x->last_res[c] = -1;
    }
    x->cons.park_from = x->park;
    for (int k = 0; k < x->n; k++) {
        int a = order[k];
        x->cons.goal_min_t = x->last_res[x->goal[a]] + 1;
        int rc = mapf__astar(x->ll, x->g, x->start[a], x->goal[a], x->hdist[a], &x->cons,
                             NULL, x->o->max_expansions, &path[a], &len[a],
                             &x->st->expansions);
        if (rc)
            return rc;
        if (s_reserve(x, path[a], len[a]) < 0)
            return -1;
    }
    return 0;
}

static int s_prioritised(s_ctx_t *x, mapf_paths_t **out)
{
    int *order = malloc((x->n + 1) * sizeof *order), *len = calloc(x->n + 1, sizeof *len);
    int **path = calloc(x->n + 1, sizeof *path), rc = -1;
    unsigned long long rng = x->o->seed * 2654435761ull + 1;
    if (!order || !len || !path)
        goto done;
    /* First order: the longest trips first (they have least slack). */
    for (int a = 0; a < x->n; a++)
        order[a] = a;
    for (int a = 1; a < x->n; a++)
        for (int b = a; b > 0 && x->hdist[order[b]][x->start[order[b]]]
                                 > x->hdist[order[b - 1]][x->start[order[b - 1]]]; b--) {
            int tmp = order[b];
            order[b] = order[b - 1];
            order[b - 1] = tmp;
        }
    for (int attempt = 0; attempt <= x->o->restarts; attempt++) {
        for (int a = 0; a < x->n; a++) {
            free(path[a]);
            path[a] = NULL;
        }
        x->st->orders_tried++;
        rc = s_pp_order(x, order, path, len);
        if (rc <= 0)
            break;
        for (int a = x->n - 1; a > 0; a--) {    /* Fisher–Yates, xorshift64 */
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            int b = (int) (rng % (unsigned) (a + 1)), tmp = order[a];
            order[a] = order[b];
            order[b] = tmp;
        }
    }
    if (rc == 0) {
        *out = s_paths_out(x->n, path, len);
        rc = *out ? 0 : -1;
    }
done:
    for (int a = 0; path && a < x->n; a++)
        free(path[a]);
    free(path);
    free(len);
    free(order);
    return rc;
}

/* ----------------------------------------------------------------- solve */

static int s_validate(const mapf_grid_t *g, int n, const int *start, const int *goal,
                      char *err, size_t err_len)
{
    if (!g || !g->blocked || g->w < 1 || g->h < 1 || (long) g->w * g->h > (1L << 24)
        || n < 0 || (n && (!start || !goal))) {
        snprintf(err, err_len, "mapf: bad grid or agent arrays");
        return -1;
    }
    int cells = g->w * g->h;
    for (int a = 0; a < n; a++) {
        for (int k = 0; k < 2; k++) {
            int c = k ? goal[a] : start[a];
            if (c < 0 || c >= cells || g->blocked[c]) {
                snprintf(err, err_len, "mapf: agent %d %s cell %d is outside the map or blocked",
                         a, k ? "goal" : "start", c);
                return -1;
            }
        }
        for (int b = 0; b < a; b++)
            if (start[a] == start[b] || goal[a] == goal[b]) {
                snprintf(err, err_len, "mapf: agents %d and %d share a %s", b, a,
                         start[a] == start[b] ? "start" : "goal");
                return -1;
            }
    }
    return 0;
}

static void s_ctx_free(s_ctx_t *x)
{
    for (int a = 0; x->hdist && a < x->n; a++)
        free(x->hdist[a]);
    free(x->hdist);
    free(x->park);
    free(x->last_res);
    mapf__hset_free(&x->cons.vtx);
    mapf__hset_free(&x->cons.edge);
    mapf__hset_free(&x->cat.occ);
    mapf__ll_destroy(&x->ll);
}

int mapf_solve(const mapf_grid_t *g, int n, const int *start, const int *goal,
               const mapf_opts_t *o, mapf_paths_t **out, mapf_stats_t *stats,
               char *err, size_t err_len)
{
    char dummy[8];
    mapf_opts_t def;
    mapf_stats_t st_local;
    if (!err) {
        err = dummy;
        err_len = sizeof dummy;
    }
    if (!out || s_validate(g, n, start, goal, err, err_len) < 0)
        return -1;
    if (!o) {
        mapf_opts_default(&def);
        o = &def;
    }
    mapf_stats_t *st = stats ? stats : &st_local;
    memset(st, 0, sizeof *st);
    *out = NULL;
    s_ctx_t x = { .g = g, .n = n, .start = start, .goal = goal, .o = o, .st = st };
    int rc = -1, cells = g->w * g->h;
    x.hdist = calloc(n + 1, sizeof *x.hdist);
    x.park = malloc(cells * sizeof *x.park);
    x.last_res = malloc(cells * sizeof *x.last_res);
    x.ll = mapf__ll_new();
    if (!x.hdist || !x.park || !x.last_res || !x.ll)
        goto done;
    for (int a = 0; a < n; a++)
        if (!(x.hdist[a] = mapf__bfs(g, goal[a])))
            goto done;
    st->used = o->algo == MAPF_PRIORITISED ? MAPF_PRIORITISED : MAPF_CBS;
    rc = st->used == MAPF_CBS ? s_cbs(&x, out) : s_prioritised(&x, out);
    if (rc == 1 && o->algo == MAPF_CBS_THEN_PRIORITISED) {
        st->used = MAPF_PRIORITISED;
        rc = s_prioritised(&x, out);
    }
    if (rc == 1)
        snprintf(err, err_len, "mapf: no plan within the limits");
done:
    if (rc < 0 && !err[0])
        snprintf(err, err_len, "mapf: out of memory");
    s_ctx_free(&x);
    return rc;
}
