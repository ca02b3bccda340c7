/* sched_tabu.c — tabu search on the critical-block (N7) neighbourhood. */

/*
 * The search works on machine orders (the disjunctive graph).  Each
 * iteration takes one critical path, splits it into blocks (runs of
 * operations on one machine), and considers the N7 moves of Zhang et al.
 * (2007): move an inner operation of a block to the block's front or back,
 * and move the first/last operation of a block to any inner position.  This
 * contains the Nowicki–Smutnicki N5 swaps.
 *
 * Classic job shops ("fast path") rate every move with the head/tail
 * estimate of Balas & Vazacopoulos / Taillard: the heads and tails outside
 * the moved segment are kept and the segment's own are recomputed, which is
 * O(block) per move.  Moves that the Balas–Vazacopoulos condition cannot
 * prove acyclic are skipped.  After a move, heads and tails are recomputed
 * exactly.
 *
 * Instances that use extensions (release/due dates, setups, windows,
 * flexible machines) take the "exact path": the same kind of moves, plus
 * moving a critical operation to another allowed machine, each rated by a
 * full semi-active decode.  Slower per move, but right for any objective.
 *
 * Tabu attribute: when a move breaks "a before b" for a set of pairs, re-
 * creating any of those pairs is tabu for a randomised tenure.  A tabu move
 * is still taken if it would beat the thread's best (aspiration).  After a
 * stall (no better plan since the last restart) the search restarts from
 * the best plan (its own or the one shared by the other threads), kicked
 * with a few random critical moves.
 */

#include "sched_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Iterations without improvement before a restart: n_ops^2 / S_STALL_DIV,
 * at least S_STALL_MIN.  Measured: about 2500 suits ft10 (100 ops) and
 * about 40000 suits 20x20 Taillard instances; shorter stalls on large
 * instances restart before the tabu walk has done its work. */
#define S_STALL_DIV 4
#define S_STALL_MIN 2500
/* Check the clock every this many iterations. */
#define S_CLOCK_EVERY 16
/* Alternative insert positions tried around a flexible move's natural slot. */
#define S_FLEX_SPREAD 1
/* A restart adopts a better plan of another thread one time in this many,
 * so that parallel searches stay diverse. */
#define S_ADOPT_ONE_IN 4
/* A restart kicks the plan with S_KICK_MIN + [0, S_KICK_SPAN) random moves. */
#define S_KICK_MIN 2
#define S_KICK_SPAN 4

typedef enum { S_FWD, S_BWD, S_FLEX } s_kind_t;

typedef struct {
    s_kind_t kind;
    int u, v;           /* FWD: u right after v; BWD: u right before v;
                           FLEX: u onto machine m right after v (-1: front) */
    int m;
    long long a, b;     /* estimated / exact objective pair */
} s_move_t;

typedef struct {
    sched__shared_t *sh;
    const sched_inst_t *in;
    int n, nm, classic;
    sched_sol_t cur, best;
    int *jp, *js, *start, *order, *indeg, *q, *seg, *rseg, *qseg;
    int *path, *parc;
    int path_len;
    int *opos;          /* position of each op in order[] (fast path) */
    int *ubuf, *sbuf;   /* scratch for the partial re-evaluation */
    int *tabu;          /* n*n: iteration until which "a before b" is tabu */
    int *tabu_m;        /* n*nm: iteration until which u on m is tabu (flex) */
    s_move_t *mv;
    int n_mv, mv_cap;
    long long cur_a, cur_b, best_a, best_b;
    sched_sol_t phase;      /* best since the last restart */
    long long phase_a, phase_b;
    long long it;
    double t0_cpu_s;    /* this thread's CPU clock at its start */
    uint64_t rng;
    int tenure_min, tenure_span;
} s_eng_t;

static int s_less(long long a1, long long b1, long long a2, long long b2)
{
    return a1 < a2 || (a1 == a2 && b1 < b2);
}

/* ------------------------------------------------------------ evaluation */

void sched__objective(const sched_inst_t *in, sched_obj_t obj,
                      const sched_sol_t *s, const int *start, long long *a,
                      long long *b)
{
    long long cmax = 0, twt = 0;
    for (int j = 0; j < in->n_jobs; j++) {
        int last = in->job_first[j + 1] - 1;
        if (last < in->job_first[j])
            continue;
        long long c = (long long)start[last] + s->dur[last];
        if (c > cmax)
            cmax = c;
        if (in->due[j] >= 0 && c > in->due[j])
            twt += (long long)in->weight[j] * (c - in->due[j]);
    }
    /* Every job's last operation ends no earlier than its others. */
    if (obj == SCHED_OBJ_WTARD) {
        *a = twt;
        *b = cmax;
    } else {
        *a = cmax;
        *b = twt;
    }
}

/* Heads and tails of a classic job shop in one topological pass each: no
 * release dates, setups or windows, so no calls per operation. */
static int s_eval_classic(s_eng_t *e)
{
    const int *d = e->cur.dur, *mp = e->cur.mp, *ms = e->cur.ms;
    const int *jp = e->jp, *js = e->js;
    int *r = e->start, *q = e->q, *ord = e->order, *deg = e->indeg;
    int n = e->n, head = 0, tail = 0, cmax = 0;
    for (int o = 0; o < n; o++) {
        deg[o] = (jp[o] >= 0) + (mp[o] >= 0);
        if (!deg[o])
            ord[tail++] = o;
    }
    while (head < tail) {
        int o = ord[head++], t = 0, x;
        if ((x = jp[o]) >= 0)
            t = r[x] + d[x];
        if ((x = mp[o]) >= 0 && r[x] + d[x] > t)
            t = r[x] + d[x];
        r[o] = t;
        if (t + d[o] > cmax)
            cmax = t + d[o];
        if ((x = js[o]) >= 0 && --deg[x] == 0)
            ord[tail++] = x;
        if ((x = ms[o]) >= 0 && --deg[x] == 0)
            ord[tail++] = x;
    }
    if (tail != n)
        return -1;
    for (int i = 0; i < n; i++)
        e->opos[ord[i]] = i;
    for (int i = n - 1; i >= 0; i--) {
        int o = ord[i], t = 0, x;
        if ((x = js[o]) >= 0)
            t = q[x] + d[x];
        if ((x = ms[o]) >= 0 && q[x] + d[x] > t)
            t = q[x] + d[x];
        q[o] = t;
    }
    if (e->sh->obj == SCHED_OBJ_WTARD) {
        e->cur_a = 0;
        e->cur_b = cmax;
    } else {
        e->cur_a = cmax;
        e->cur_b = 0;
    }
    return 0;
}

/* After a move that re-ordered the operations S[0..ns-1] of one machine:
 * operations before the first of them in the old topological order keep
 * their heads (they cannot be descendants), and operations after the last
 * of them in the new order keep their tails (they cannot be ancestors), so
 * only the rest is recomputed.  -1 on a cycle (order[] is then garbage:
 * undo the move and call s_eval). */
static int s_eval_partial(s_eng_t *e, const int *S, int ns)
{
    const int *d = e->cur.dur, *mp = e->cur.mp, *ms = e->cur.ms;
    const int *jp = e->jp, *js = e->js;
    int *r = e->start, *q = e->q, *ord = e->order, *deg = e->indeg;
    int *pos = e->opos, n = e->n, p = n, x;
    for (int i = 0; i < ns; i++)
        if (pos[S[i]] < p)
            p = pos[S[i]];
    int nu = n - p;
    memcpy(e->ubuf, ord + p, (size_t)nu * sizeof(int));
    int head = p, tail = p;
    for (int i = 0; i < nu; i++) {
        int o = e->ubuf[i];
        int a = jp[o], b = mp[o];
        deg[o] = (a >= 0 && pos[a] >= p) + (b >= 0 && pos[b] >= p);
        if (!deg[o])
            ord[tail++] = o;
    }
    while (head < tail) {
        int o = ord[head++], t = 0;
        if ((x = jp[o]) >= 0)
            t = r[x] + d[x];
        if ((x = mp[o]) >= 0 && r[x] + d[x] > t)
            t = r[x] + d[x];
        r[o] = t;
        if ((x = js[o]) >= 0 && --deg[x] == 0)
            ord[tail++] = x;
        if ((x = ms[o]) >= 0 && --deg[x] == 0)
            ord[tail++] = x;
    }
    if (tail != n)
        return -1;
    int last = 0;
    for (int i = p; i < n; i++)
        pos[ord[i]] = i;
    for (int i = 0; i < ns; i++)
        if (pos[S[i]] > last)
            last = pos[S[i]];
    for (int i = last; i >= 0; i--) {
        int o = ord[i], t = 0;
        if ((x = js[o]) >= 0)
            t = q[x] + d[x];
        if ((x = ms[o]) >= 0 && q[x] + d[x] > t)
            t = q[x] + d[x];
        q[o] = t;
    }
    int cmax = 0;
    const int *jf = e->in->job_first;
    for (int j = 0; j < e->in->n_jobs; j++) {
        int o = jf[j + 1] - 1;
        if (o >= jf[j] && r[o] + d[o] > cmax)
            cmax = r[o] + d[o];
    }
    e->cur_a = e->sh->obj == SCHED_OBJ_WTARD ? 0 : cmax;
    e->cur_b = e->sh->obj == SCHED_OBJ_WTARD ? cmax : 0;
    return 0;
}

/* Heads (start) and, on the fast path, tails; the current objective. */
static int s_eval(s_eng_t *e)
{
    if (e->classic)
        return s_eval_classic(e);
    if (sched__decode(e->in, &e->cur, e->start, e->order, e->indeg) < 0)
        return -1;
    sched__objective(e->in, e->sh->obj, &e->cur, e->start, &e->cur_a,
                     &e->cur_b);
    return 0;
}

/* ------------------------------------------------------------ list edits */

typedef struct {
    int u, m, prev, dur;
} s_undo_t;

static s_undo_t s_apply(s_eng_t *e, const s_move_t *mv)
{
    sched_sol_t *s = &e->cur;
    s_undo_t un = { mv->u, s->mach[mv->u], s->mp[mv->u], s->dur[mv->u] };
    sched__sol_unlink(s, mv->u);
    switch (mv->kind) {
    case S_FWD:
        sched__sol_insert_after(s, mv->u, un.m, mv->v);
        break;
    case S_BWD:
        sched__sol_insert_after(s, mv->u, un.m, s->mp[mv->v]);
        break;
    case S_FLEX:
        sched__sol_insert_after(s, mv->u, mv->m, mv->v);
        s->dur[mv->u] = e->in->op_dur[mv->u];
        break;
    }
    return un;
}

static void s_undo(s_eng_t *e, const s_undo_t *un)
{
    sched__sol_unlink(&e->cur, un->u);
    sched__sol_insert_after(&e->cur, un->u, un->m, un->prev);
    e->cur.dur[un->u] = un->dur;
}

/* --------------------------------------------------------- critical path */

/* Traces back from op `o` along binding predecessors (preferring machine
 * arcs, so blocks come out long; a random choice measured worse on ft10);
 * fills path (in time order) and parc[i] = 1
 * when path[i] -> path[i+1] is a machine arc. */
static void s_trace(s_eng_t *e, int o)
{
    const sched_sol_t *s = &e->cur;
    const sched_inst_t *in = e->in;
    int len = 0;
    while (o >= 0 && len < e->n) {
        e->path[len++] = o;
        int mp = s->mp[o], jp = e->jp[o], nxt = -1;
        int mb = mp >= 0 && e->start[mp] + s->dur[mp]
                 + sched__setup(in, s->mach[o], in->op_job[mp], in->op_job[o])
                 == e->start[o];
        int jb = jp >= 0 && e->start[jp] + s->dur[jp] == e->start[o];
        if (mb)
            nxt = mp;
        else if (jb)
            nxt = jp;
        else if (!e->classic && (mp >= 0 || jp >= 0)) {
            /* Pushed by a window or a release date: carry on through the
             * later-ending predecessor, so that moves ahead of the window
             * are considered too. */
            int me = mp >= 0 ? e->start[mp] + s->dur[mp] : -1;
            int je = jp >= 0 ? e->start[jp] + s->dur[jp] : -1;
            nxt = me >= je ? mp : jp;
        }
        o = nxt;
    }
    /* Reverse into time order and mark machine arcs. */
    for (int i = 0; i < len / 2; i++) {
        int t = e->path[i];
        e->path[i] = e->path[len - 1 - i];
        e->path[len - 1 - i] = t;
    }
    for (int i = 0; i + 1 < len; i++)
        e->parc[i] = s->ms[e->path[i]] == e->path[i + 1];
    if (len)
        e->parc[len - 1] = 0;
    e->path_len = len;
}

/* Picks the operation a critical path ends at: for makespan a last
 * operation at Cmax; for weighted tardiness a tardy job, drawn in
 * proportion to its weighted tardiness. */
static int s_target(s_eng_t *e)
{
    const sched_inst_t *in = e->in;
    if (e->sh->obj == SCHED_OBJ_WTARD && e->cur_a > 0) {
        long long r = (long long)(sched__rand(&e->rng) % (uint64_t)e->cur_a);
        for (int j = 0; j < in->n_jobs; j++) {
            int last = in->job_first[j + 1] - 1;
            if (last < in->job_first[j] || in->due[j] < 0)
                continue;
            long long c = (long long)e->start[last] + e->cur.dur[last];
            long long w = c > in->due[j] ? in->weight[j] * (c - in->due[j]) : 0;
            if (r < w)
                return last;
            r -= w;
        }
    }
    long long cmax = e->sh->obj == SCHED_OBJ_WTARD ? e->cur_b : e->cur_a;
    int pick = -1, seen = 0;
    for (int j = 0; j < in->n_jobs; j++) {
        int last = in->job_first[j + 1] - 1;
        if (last >= in->job_first[j] && e->start[last] + e->cur.dur[last] == cmax
            && sched__randint(&e->rng, ++seen) == 0)
            pick = last;
    }
    return pick;
}

/* ------------------------------------------------------------ estimates */

/* Balas–Vazacopoulos estimate of the makespan after re-ordering a segment of
 * one machine into seg[0..len-1], between `before` and `after` (or -1). */
static long long s_estimate(s_eng_t *e, const int *seg, int len, int before,
                            int after)
{
    const int *d = e->cur.dur, *r = e->start, *q = e->q;
    int prev_end = before >= 0 ? r[before] + d[before] : 0;
    for (int i = 0; i < len; i++) {
        int x = seg[i], jp = e->jp[x];
        int h = jp >= 0 ? r[jp] + d[jp] : 0;
        if (prev_end > h)
            h = prev_end;
        e->rseg[i] = h;
        prev_end = h + d[x];
    }
    int next_tail = after >= 0 ? q[after] + d[after] : 0;
    long long best = 0;
    for (int i = len - 1; i >= 0; i--) {
        int x = seg[i], js = e->js[x];
        int t = js >= 0 ? q[js] + d[js] : 0;
        if (next_tail > t)
            t = next_tail;
        next_tail = t + d[x];
        long long c = (long long)e->rseg[i] + d[x] + t;
        if (c > best)
            best = c;
    }
    return best;
}

/* Rates a move: fast path by estimate (returns -1 if not provably
 * acyclic), exact path by decoding (-1 on a cycle). */
static int s_rate(s_eng_t *e, s_move_t *mv)
{
    const sched_sol_t *s = &e->cur;
    if (e->classic && mv->kind != S_FLEX) {
        const int *d = s->dur;
        int u = mv->u, v = mv->v, len = 0;
        if (mv->kind == S_FWD) {
            int js = e->js[u];
            if (js >= 0 && e->q[v] + d[v] < e->q[js] + d[js])
                return -1;
            for (int x = s->ms[u]; ; x = s->ms[x]) {
                e->seg[len++] = x;
                if (x == v)
                    break;
            }
            e->seg[len++] = u;
            mv->a = s_estimate(e, e->seg, len, s->mp[u], s->ms[v]);
        } else {
            int jp = e->jp[u];
            if (jp >= 0 && e->start[v] + d[v] < e->start[jp] + d[jp])
                return -1;
            e->seg[len++] = u;
            for (int x = v; x != u; x = s->ms[x])
                e->seg[len++] = x;
            mv->a = s_estimate(e, e->seg, len, s->mp[v], s->ms[u]);
        }
        mv->b = 0;
        return 0;
    }
    s_undo_t un = s_apply(e, mv);
    int rc = sched__decode(e->in, &e->cur, e->qseg, e->seg, e->rseg);
    if (rc == 0)
        sched__objective(e->in, e->sh->obj, &e->cur, e->qseg, &mv->a, &mv->b);
    s_undo(e, &un);
    return rc;
}

/* Would the move re-create an order that is tabu? */
static int s_is_tabu(const s_eng_t *e, const s_move_t *mv)
{
    const sched_sol_t *s = &e->cur;
    const int *tb = e->tabu;
    int u = mv->u, v = mv->v, n = e->n;
    switch (mv->kind) {
    case S_FWD:     /* creates (x, u) for x in ms(u)..v */
        for (int x = s->ms[u]; x >= 0; x = s->ms[x]) {
            if (tb[(size_t)x * n + u] > e->it)
                return 1;
            if (x == v)
                break;
        }
        return 0;
    case S_BWD:     /* creates (u, x) for x in v..mp(u) */
        for (int x = v; x >= 0 && x != u; x = s->ms[x])
            if (tb[(size_t)u * n + x] > e->it)
                return 1;
        return 0;
    case S_FLEX:
        return e->tabu_m[(size_t)u * e->nm + mv->m] > e->it;
    }
    return 0;
}

/* Makes the orders a move breaks tabu for a while. */
static void s_make_tabu(s_eng_t *e, const s_move_t *mv)
{
    const sched_sol_t *s = &e->cur;
    int u = mv->u, v = mv->v, n = e->n;
    int until = (int)e->it + e->tenure_min + sched__randint(&e->rng, e->tenure_span);
    switch (mv->kind) {
    case S_FWD:     /* breaks (u, x) for x in ms(u)..v */
        for (int x = s->ms[u]; x >= 0; x = s->ms[x]) {
            e->tabu[(size_t)u * n + x] = until;
            if (x == v)
                break;
        }
        break;
    case S_BWD:     /* breaks (x, u) for x in v..mp(u) */
        for (int x = v; x >= 0 && x != u; x = s->ms[x])
            e->tabu[(size_t)x * n + u] = until;
        break;
    case S_FLEX:
        e->tabu_m[(size_t)u * e->nm + s->mach[u]] = until;
        break;
    }
}

/* ---------------------------------------------------------- neighbourhood */

static int s_push(s_eng_t *e, s_kind_t kind, int u, int v, int m)
{
    if (e->n_mv == e->mv_cap) {
        int cap = e->mv_cap ? 2 * e->mv_cap : 256;
        s_move_t *nm = realloc(e->mv, (size_t)cap * sizeof *nm);
        if (!nm)
            return -1;
        e->mv = nm;
        e->mv_cap = cap;
    }
    e->mv[e->n_mv++] = (s_move_t){ kind, u, v, m, 0, 0 };
    return 0;
}

/* N7 moves of every block on the current path, plus (exact path) moves of
 * critical operations to other machines. */
static int s_neighbours(s_eng_t *e)
{
    e->n_mv = 0;
    int L = e->path_len;
    for (int i = 0; i < L;) {
        int k = i;
        while (k + 1 < L && e->parc[k])
            k++;
        /* block path[i..k] */
        if (k > i) {
            int *b = e->path + i, K = k - i;
            for (int t = 1; t <= K; t++)
                if (s_push(e, S_FWD, b[0], b[t], 0) < 0) return -1;
            for (int t = 0; t < K - (K == 1); t++)
                if (s_push(e, S_BWD, b[K], b[t], 0) < 0) return -1;
            for (int t = 1; t < K; t++) {
                if (s_push(e, S_BWD, b[t], b[0], 0) < 0) return -1;
                if (s_push(e, S_FWD, b[t], b[K], 0) < 0) return -1;
            }
        }
        i = k + 1;
    }
    if (e->classic)
        return 0;
    const sched_inst_t *in = e->in;
    for (int i = 0; i < L; i++) {
        int u = e->path[i];
        if (in->op_alt_n[u] < 2)
            continue;
        for (int a = 0; a < in->op_alt_n[u]; a++) {
            int m = in->alt_mach[in->op_alt_first[u] + a];
            if (m == e->cur.mach[u])
                continue;
            /* Natural slot: after the last op on m starting no later. */
            int v = -1;
            for (int x = e->cur.mfirst[m]; x >= 0 && e->start[x] <= e->start[u];
                 x = e->cur.ms[x])
                v = x;
            if (s_push(e, S_FLEX, u, v, m) < 0) return -1;
            int p = v, nx = v >= 0 ? e->cur.ms[v] : e->cur.mfirst[m];
            for (int t = 0; t < S_FLEX_SPREAD; t++) {
                if (p >= 0) {
                    p = e->cur.mp[p];
                    if (s_push(e, S_FLEX, u, p, m) < 0) return -1;
                }
                if (nx >= 0) {
                    if (s_push(e, S_FLEX, u, nx, m) < 0) return -1;
                    nx = e->cur.ms[nx];
                }
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------- bookkeeping */

/* Seconds since the solve started, on the clock the budget is counted in. */
static double s_elapsed(const s_eng_t *e)
{
    if (e->sh->cpu_clock)
        return sched__thread_cpu_s() - e->t0_cpu_s;
    return sched__now_s() - e->sh->t0_s;
}

static void s_publish(s_eng_t *e)
{
    sched__shared_t *sh = e->sh;
    pthread_mutex_lock(&sh->mu);
    if (!sh->have_best || s_less(e->best_a, e->best_b, sh->best_a, sh->best_b)) {
        if (!sh->have_best)
            sh->initial_makespan = (long)(sh->obj == SCHED_OBJ_WTARD ? e->best_b
                                                                     : e->best_a);
        sh->have_best = 1;
        sh->best_a = e->best_a;
        sh->best_b = e->best_b;
        sched__sol_copy(&sh->best, &e->best);
        sh->t_best_s = s_elapsed(e);
        if (sh->progress) {
            long cmax = (long)(sh->obj == SCHED_OBJ_WTARD ? sh->best_b : sh->best_a);
            long long twt = sh->obj == SCHED_OBJ_WTARD ? sh->best_a : sh->best_b;
            sh->progress(sh->progress_ctx, cmax, twt, sh->t_best_s);
        }
        if ((sh->target >= 0 && sh->best_a <= sh->target)
            || (sh->obj == SCHED_OBJ_MAKESPAN && sh->best_a <= sh->lower_bound)
            || (sh->obj == SCHED_OBJ_WTARD && sh->best_a == 0
                && sh->best_b <= sh->lower_bound))
            sh->stop = 1;   /* provably optimal or good enough */
    }
    pthread_mutex_unlock(&sh->mu);
}

/* Back to the best plan (its own, or the shared one if better), then a
 * random kick.  (A pool of elite plans to restart from measured slightly
 * worse on ft10 and on 15x15 Taillard instances, so there is none.) */
static int s_restart(s_eng_t *e)
{
    sched__shared_t *sh = e->sh;
    pthread_mutex_lock(&sh->mu);
    if (sh->have_best && s_less(sh->best_a, sh->best_b, e->best_a, e->best_b)
        && sched__randint(&e->rng, S_ADOPT_ONE_IN) == 0) {
        sched__sol_copy(&e->best, &sh->best);
        e->best_a = sh->best_a;
        e->best_b = sh->best_b;
    }
    pthread_mutex_unlock(&sh->mu);
    sched__sol_copy(&e->cur, &e->best);
    if (s_eval(e) < 0)
        return -1;
    int kicks = S_KICK_MIN + sched__randint(&e->rng, S_KICK_SPAN);
    for (int k = 0; k < kicks; k++) {
        s_trace(e, s_target(e));
        if (s_neighbours(e) < 0)
            return -1;
        if (!e->n_mv)
            break;
        for (int tries = 0; tries < 8; tries++) {
            s_move_t mv = e->mv[sched__randint(&e->rng, e->n_mv)];
            if (s_rate(e, &mv) < 0)
                continue;
            s_undo_t un = s_apply(e, &mv);
            if (s_eval(e) == 0)
                break;
            s_undo(e, &un);
            s_eval(e);
        }
    }
    if (s_eval(e) < 0)
        return -1;
    sched__sol_copy(&e->phase, &e->cur);
    e->phase_a = e->cur_a;
    e->phase_b = e->cur_b;
    return 0;
}

static void s_free(s_eng_t *e)
{
    sched__sol_free(&e->cur);
    sched__sol_free(&e->best);
    sched__sol_free(&e->phase);
    free(e->jp); free(e->js); free(e->start); free(e->order); free(e->indeg);
    free(e->q); free(e->seg); free(e->rseg); free(e->qseg); free(e->path);
    free(e->parc); free(e->opos); free(e->ubuf); free(e->sbuf); free(e->tabu); free(e->tabu_m); free(e->mv);
}

static int s_init(s_eng_t *e, sched__shared_t *sh, const sched_sol_t *start,
                  uint64_t seed)
{
    const sched_inst_t *in = sh->in;
    int n = in->n_ops, nm = in->n_machines;
    memset(e, 0, sizeof *e);
    e->sh = sh;
    e->in = in;
    e->n = n;
    e->nm = nm;
    e->classic = sched_inst_is_classic(in);
    e->rng = seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
    if (!e->rng)
        e->rng = 1;
    size_t N = (size_t)n + 1;
    if (sched__sol_init(&e->cur, n, nm) < 0 || sched__sol_init(&e->best, n, nm) < 0
        || sched__sol_init(&e->phase, n, nm) < 0)
        return -1;
    e->jp = malloc(N * sizeof(int));
    e->js = malloc(N * sizeof(int));
    e->start = malloc(N * sizeof(int));
    e->order = malloc(N * sizeof(int));
    e->indeg = malloc(N * sizeof(int));
    e->q = calloc(N, sizeof(int));
    e->seg = malloc(N * sizeof(int));
    e->rseg = malloc(N * sizeof(int));
    e->qseg = malloc(N * sizeof(int));
    e->path = malloc(N * sizeof(int));
    e->parc = malloc(N * sizeof(int));
    e->opos = malloc(N * sizeof(int));
    e->ubuf = malloc(N * sizeof(int));
    e->sbuf = malloc(N * sizeof(int));
    e->tabu = calloc(N * N, sizeof(int));
    e->tabu_m = calloc(N * (size_t)nm, sizeof(int));
    if (!e->jp || !e->js || !e->start || !e->order || !e->indeg || !e->q
        || !e->seg || !e->rseg || !e->qseg || !e->path || !e->parc || !e->tabu
        || !e->opos || !e->ubuf || !e->sbuf
        || !e->tabu_m)
        return -1;
    for (int o = 0; o < n; o++) {
        int j = in->op_job[o];
        e->jp[o] = o > in->job_first[j] ? o - 1 : -1;
        e->js[o] = o + 1 < in->job_first[j + 1] ? o + 1 : -1;
    }
    /* Tenure as in Zhang et al.: about 10 + n/m, randomised upwards. */
    e->tenure_min = 10 + in->n_jobs / (nm ? nm : 1);
    e->tenure_span = e->tenure_min / 2 + 2;
    sched__sol_copy(&e->cur, start);
    if (s_eval(e) < 0)
        return -1;
    sched__sol_copy(&e->best, &e->cur);
    sched__sol_copy(&e->phase, &e->cur);
    e->best_a = e->phase_a = e->cur_a;
    e->best_b = e->phase_b = e->cur_b;
    return 0;
}

int sched__tabu_run(sched__shared_t *sh, const sched_sol_t *start,
                    uint64_t seed, double t0_cpu_s)
{
    s_eng_t e;
    int rc = -1;
    if (s_init(&e, sh, start, seed) < 0)
        goto done;
    e.t0_cpu_s = t0_cpu_s;
    s_publish(&e);
    long long stall = 0;
    long long stall_max = (long long)e.n * e.n / S_STALL_DIV;
    if (stall_max < S_STALL_MIN)
        stall_max = S_STALL_MIN;
    for (;; e.it++) {
        if (sh->stop || (sh->max_iters && e.it >= sh->max_iters))
            break;
        if (e.it % S_CLOCK_EVERY == 0 && s_elapsed(&e) >= sh->budget_s)
            break;
        int tgt = s_target(&e);
        if (tgt < 0)
            break;
        s_trace(&e, tgt);
        if (s_neighbours(&e) < 0)
            goto done;
        /* Best allowed move; ties broken at random. */
        int pick = -1, ties = 0, fallback = -1, fties = 0;
        for (int i = 0; i < e.n_mv; i++) {
            s_move_t *mv = &e.mv[i];
            if (s_rate(&e, mv) < 0)
                continue;
            if (sched__randint(&e.rng, ++fties) == 0)
                fallback = i;
            if (s_is_tabu(&e, mv) && !s_less(mv->a, mv->b, e.best_a, e.best_b))
                continue;
            if (pick < 0 || s_less(mv->a, mv->b, e.mv[pick].a, e.mv[pick].b)) {
                pick = i;
                ties = 1;
            } else if (mv->a == e.mv[pick].a && mv->b == e.mv[pick].b
                       && sched__randint(&e.rng, ++ties) == 0) {
                pick = i;
            }
        }
        if (pick < 0)
            pick = fallback;    /* everything tabu: take any feasible move */
        if (pick < 0) {
            if (e.best_a == 0 && e.best_b == 0)
                break;          /* nothing to improve (e.g. no tardiness) */
            if (s_restart(&e) < 0)
                goto done;
            continue;
        }
        s_move_t mv = e.mv[pick];
        s_make_tabu(&e, &mv);
        int ns = 0;
        if (e.classic) {
            /* The operations the move re-orders, from the earlier end. */
            int from = mv.kind == S_FWD ? mv.u : mv.v, to = mv.kind == S_FWD ? mv.v : mv.u;
            for (int x = from; x >= 0; x = e.cur.ms[x]) {
                e.sbuf[ns++] = x;
                if (x == to)
                    break;
            }
        }
        s_undo_t un = s_apply(&e, &mv);
        if ((e.classic ? s_eval_partial(&e, e.sbuf, ns) : s_eval(&e)) < 0) {
            /* Cannot happen for moves that passed s_rate; stay safe. */
            s_undo(&e, &un);
            if (s_eval(&e) < 0)
                goto done;
            continue;
        }
        if (s_less(e.cur_a, e.cur_b, e.phase_a, e.phase_b)) {
            sched__sol_copy(&e.phase, &e.cur);
            e.phase_a = e.cur_a;
            e.phase_b = e.cur_b;
            stall = 0;
            if (s_less(e.cur_a, e.cur_b, e.best_a, e.best_b)) {
                sched__sol_copy(&e.best, &e.cur);
                e.best_a = e.cur_a;
                e.best_b = e.cur_b;
                s_publish(&e);
            }
        } else if (++stall > stall_max) {
            stall = 0;
            if (s_restart(&e) < 0)
                goto done;
        }
    }
    rc = 0;
done:
    pthread_mutex_lock(&sh->mu);
    sh->iterations += e.it;
    pthread_mutex_unlock(&sh->mu);
    s_free(&e);
    return rc;
}
