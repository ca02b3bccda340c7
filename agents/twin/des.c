/*  twin des — the event calendar: a timing wheel over an overflow heap.
 *
 *  Events near in time sit in the wheel: NB buckets of width W covering
 *  [base, base + NB·W), each a list sorted by (time, sequence).  Events beyond
 *  the window wait in a binary heap.  Popping walks the cursor to the first
 *  non-empty bucket and takes its head; when the wheel is empty the window
 *  moves to the heap's earliest event, its width and bucket count are set
 *  from the mean gap between the events popped so far and the number
 *  pending, and the heap's events that fall inside are moved in.
 *
 *  Why: a binary heap costs log n per event, and a plant of hundreds of
 *  stations keeps hundreds of events pending, which made large plants cost
 *  up to 2× more per event than small ones.  With the window sized to about
 *  eight times the pending horizon, most events go straight into a bucket
 *  (an append, since a new event is usually the latest in its bucket) and
 *  only a small share (far-future failures, deliveries) pays the heap's log.
 *  The order of events is exactly that of the heap it replaces — time, then
 *  scheduling order — so runs repeat bit for bit.
 */
#include "des.h"

#include <math.h>
#include <stdlib.h>

#define S_NONE (-1)
#define S_MIN_BUCKETS 64
#define S_MAX_BUCKETS (1u << 20)
/* Buckets per pending event, and bucket width in mean gaps between events:
 * a window of about 4 × 2 = 8 pending horizons. */
#define S_BUCKETS_PER_EVENT 4
#define S_WIDTH_IN_GAPS 2.0
#define S_MIN_WIDTH_S 1e-9

typedef struct {
    double t_s;
    uint64_t seq;
    des_fn *fn;
    void *ctx;
    uint64_t arg;
    int32_t next;               /* next in its bucket, or in the free list */
} s_event_t;

struct des {
    s_event_t *ev;              /* node pool */
    size_t ev_cap;
    int32_t free;               /* free list of nodes */
    int32_t *head, *tail;       /* per bucket */
    size_t nb, cursor, n_wheel;
    double base_s, width_s, inv_width;
    int32_t *heap;              /* overflow: node indexes, a binary heap */
    size_t heap_n, heap_cap;
    size_t n;                   /* pending, wheel and heap */
    double gap_sum_s, last_pop_s;
    uint64_t gap_n;
    uint64_t placed, walked;    /* insertions and list steps since the last resize */
    double now_s;
    uint64_t seq;
    uint64_t events;
    bool stop;
};

static inline bool
s_before (const s_event_t *a, const s_event_t *b)
{
    return a->t_s < b->t_s || (a->t_s == b->t_s && a->seq < b->seq);
}

static int
s_buckets_alloc (des_t *self, size_t nb)
{
    int32_t *head = realloc (self->head, nb * sizeof *head);
    if (!head)
        return -1;
    self->head = head;
    int32_t *tail = realloc (self->tail, nb * sizeof *tail);
    if (!tail)
        return -1;
    self->tail = tail;
    for (size_t i = 0; i < nb; i++)
        head[i] = tail[i] = S_NONE;
    self->nb = nb;
    return 0;
}

des_t *
des_new (void)
{
    des_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->free = S_NONE;
    self->width_s = 1.0;
    self->inv_width = 1.0;
    if (s_buckets_alloc (self, S_MIN_BUCKETS)) {
        des_destroy (&self);
        return NULL;
    }
    return self;
}

void
des_destroy (des_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    des_t *self = *self_p;
    free (self->ev);
    free (self->head);
    free (self->tail);
    free (self->heap);
    free (self);
    *self_p = NULL;
}

double
des_now_s (const des_t *self)
{
    return self->now_s;
}

/* ------------------------------------------------------------ overflow heap */

static int
s_heap_push (des_t *self, int32_t node)
{
    if (self->heap_n == self->heap_cap) {
        size_t cap = self->heap_cap ? 2 * self->heap_cap : 64;
        int32_t *heap = realloc (self->heap, cap * sizeof *heap);
        if (!heap)
            return -1;
        self->heap = heap;
        self->heap_cap = cap;
    }
    size_t i = self->heap_n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!s_before (&self->ev[node], &self->ev[self->heap[parent]]))
            break;
        self->heap[i] = self->heap[parent];
        i = parent;
    }
    self->heap[i] = node;
    return 0;
}

static int32_t
s_heap_pop (des_t *self)
{
    int32_t top = self->heap[0], last = self->heap[--self->heap_n];
    size_t i = 0, n = self->heap_n;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && s_before (&self->ev[self->heap[child + 1]], &self->ev[self->heap[child]]))
            child++;
        if (!s_before (&self->ev[self->heap[child]], &self->ev[last]))
            break;
        self->heap[i] = self->heap[child];
        i = child;
    }
    if (n > 0)
        self->heap[i] = last;
    return top;
}

/* ------------------------------------------------------------ wheel */

/* Puts NODE in its bucket (in order) or, beyond the window, in the heap.  An
 * event before the cursor's bucket (scheduled at "now" after the clock was
 * moved by des_iterate's UNTIL_S) goes into the cursor's bucket, whose
 * sorted list keeps it first. */
static int
s_place (des_t *self, int32_t node)
{
    s_event_t *e = &self->ev[node];
    double x = (e->t_s - self->base_s) * self->inv_width;
    if (!(x < (double) self->nb))
        return s_heap_push (self, node);
    size_t b = x < (double) self->cursor ? self->cursor : (size_t) x;
    e->next = S_NONE;
    int32_t *head = &self->head[b], *tail = &self->tail[b];
    if (*head == S_NONE)
        *head = *tail = node;
    else if (s_before (&self->ev[*tail], e)) {
        self->ev[*tail].next = node;
        *tail = node;
    }
    else {
        int32_t *link = head;
        while (*link != S_NONE && s_before (&self->ev[*link], e)) {
            link = &self->ev[*link].next;
            self->walked++;
        }
        e->next = *link;
        *link = node;
    }
    self->n_wheel++;
    self->placed++;
    return 0;
}

/* Sizes the wheel for N pending events of mean gap GAP_S, starts the window
 * at the earliest pending event, and puts the wheel's events (ORDER: their
 * sorted list, may be S_NONE) and the heap's that fall inside into it. */
static void
s_resize (des_t *self, int32_t order, double gap_s)
{
    if (gap_s > 0 && isfinite (gap_s))
        self->width_s = fmax (S_MIN_WIDTH_S, S_WIDTH_IN_GAPS * gap_s);
    size_t nb = S_MIN_BUCKETS;
    while (nb < S_BUCKETS_PER_EVENT * self->n && nb < S_MAX_BUCKETS)
        nb *= 2;
    if (nb != self->nb && s_buckets_alloc (self, nb) != 0)
        nb = self->nb;
    s_buckets_alloc (self, nb);             /* same size: clears, cannot fail */
    self->inv_width = 1.0 / self->width_s;
    self->base_s = order != S_NONE ? self->ev[order].t_s : self->ev[self->heap[0]].t_s;
    self->cursor = 0;
    self->n_wheel = 0;
    self->placed = self->walked = 0;
    while (order != S_NONE) {
        int32_t next = self->ev[order].next;
        s_place (self, order);
        order = next;
    }
    double end_s = self->base_s + (double) self->nb * self->width_s;
    while (self->heap_n > 0 && self->ev[self->heap[0]].t_s < end_s)
        s_place (self, s_heap_pop (self));
    if (self->n_wheel == 0 && self->heap_n > 0)   /* a window below rounding */
        s_place (self, s_heap_pop (self));
}

/* The wheel is empty: move the window to the heap's earliest event, with a
 * width from the mean gap between the events popped since the last move. */
static void
s_rollover (des_t *self)
{
    double gap_s = self->gap_n >= 16 ? self->gap_sum_s / (double) self->gap_n : 0;
    self->gap_sum_s = 0;
    self->gap_n = 0;
    s_resize (self, S_NONE, gap_s);
}

/* Buckets have grown long (the width no longer fits the events, e.g. a line
 * that filled up after a quiet start): gather the wheel's events in order
 * and lay them out again, with a width from the gaps among the first of them. */
static void
s_rebalance (des_t *self)
{
    int32_t first = S_NONE, *link = &first, k = 0;
    double t0 = 0, tk = 0;
    for (size_t b = self->cursor; b < self->nb; b++) {
        if (self->head[b] == S_NONE)
            continue;
        *link = self->head[b];
        for (int32_t e = self->head[b]; e != S_NONE; e = self->ev[e].next) {
            if (k == 0)
                t0 = self->ev[e].t_s;
            if (k <= 64)
                tk = self->ev[e].t_s;
            k++;
        }
        link = &self->ev[self->tail[b]].next;
    }
    *link = S_NONE;
    int span = k - 1 < 64 ? k - 1 : 64;
    s_resize (self, first, span > 0 ? (tk - t0) / span : 0);
}

/* The earliest pending event (its node), or S_NONE. */
static int32_t
s_first (des_t *self)
{
    if (self->n_wheel == 0) {
        if (self->heap_n == 0)
            return S_NONE;
        s_rollover (self);
        if (self->n_wheel == 0)             /* placement went back to the heap */
            return self->heap[0];
    }
    while (self->head[self->cursor] == S_NONE)
        self->cursor++;
    return self->head[self->cursor];
}

/* Removes FIRST (as returned by s_first) from where it is. */
static void
s_unlink_first (des_t *self, int32_t first)
{
    if (self->n_wheel > 0 && self->head[self->cursor] == first) {
        self->head[self->cursor] = self->ev[first].next;
        if (self->head[self->cursor] == S_NONE)
            self->tail[self->cursor] = S_NONE;
        self->n_wheel--;
    }
    else
        s_heap_pop (self);
}

/* ------------------------------------------------------------ public */

int
des_schedule (des_t *self, double delay_s, des_fn *fn, void *ctx, uint64_t arg)
{
    if (!(delay_s >= 0) || !isfinite (delay_s))
        return -1;
    if (self->free == S_NONE) {
        size_t cap = self->ev_cap ? 2 * self->ev_cap : 256;
        if (cap > INT32_MAX)
            return -1;
        s_event_t *ev = realloc (self->ev, cap * sizeof *ev);
        if (!ev)
            return -1;
        self->ev = ev;
        for (size_t i = cap; i-- > self->ev_cap;) {
            ev[i].next = self->free;
            self->free = (int32_t) i;
        }
        self->ev_cap = cap;
    }
    int32_t node = self->free;
    s_event_t *e = &self->ev[node];
    self->free = e->next;
    *e = (s_event_t) { self->now_s + delay_s, self->seq++, fn, ctx, arg, S_NONE };
    if (s_place (self, node) != 0) {
        e->next = self->free;
        self->free = node;
        return -1;
    }
    self->n++;
    /* Lists walked more than 8 steps per insertion on average: re-lay. */
    if (self->placed >= 1024 && self->walked > 8 * self->placed && self->n_wheel > 0)
        s_rebalance (self);
    return 0;
}

uint64_t
des_iterate (des_t *self, double until_s, uint64_t max_events)
{
    uint64_t ran = 0;
    self->stop = false;
    while (self->n > 0 && !self->stop) {
        if (max_events && ran >= max_events)
            return ran;
        int32_t first = s_first (self);
        s_event_t ev = self->ev[first];
        if (ev.t_s > until_s)
            break;
        s_unlink_first (self, first);
        self->ev[first].next = self->free;
        self->free = first;
        self->n--;
        self->gap_sum_s += ev.t_s - self->last_pop_s;
        self->gap_n++;
        self->last_pop_s = ev.t_s;
        self->now_s = ev.t_s;
        ev.fn (self, ev.ctx, ev.arg);
        ran++;
        self->events++;
    }
    if (!self->stop && until_s > self->now_s && isfinite (until_s))
        self->now_s = until_s;
    return ran;
}

int
des_advance (des_t *self, double t_s)
{
    if (!(t_s >= self->now_s))
        return -1;
    int32_t first = s_first (self);
    if (first != S_NONE && self->ev[first].t_s < t_s)
        return -1;
    self->now_s = t_s;
    return 0;
}

void
des_stop (des_t *self)
{
    self->stop = true;
}

bool
des_stopped (const des_t *self)
{
    return self->stop;
}

size_t
des_pending (const des_t *self)
{
    return self->n;
}

uint64_t
des_events (const des_t *self)
{
    return self->events;
}
