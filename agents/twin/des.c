/*  twin des — binary-heap event calendar (see des.h for the why).  */
#include "des.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double t_s;
    uint64_t seq;
    des_fn *fn;
    void *ctx;
    uint64_t arg;
} s_event_t;

struct des {
    s_event_t *heap;
    size_t n, cap;
    double now_s;
    uint64_t seq;
    uint64_t events;
    bool stop;
};

des_t *
des_new (void)
{
    des_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 256;
    self->heap = malloc (self->cap * sizeof *self->heap);
    if (!self->heap) {
        free (self);
        return NULL;
    }
    return self;
}

void
des_destroy (des_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->heap);
    free (*self_p);
    *self_p = NULL;
}

double
des_now_s (const des_t *self)
{
    return self->now_s;
}

static inline bool
s_before (const s_event_t *a, const s_event_t *b)
{
    return a->t_s < b->t_s || (a->t_s == b->t_s && a->seq < b->seq);
}

int
des_schedule (des_t *self, double delay_s, des_fn *fn, void *ctx, uint64_t arg)
{
    if (!(delay_s >= 0) || !isfinite (delay_s))
        return -1;
    if (self->n == self->cap) {
        s_event_t *heap = realloc (self->heap, 2 * self->cap * sizeof *heap);
        if (!heap)
            return -1;
        self->heap = heap;
        self->cap *= 2;
    }
    s_event_t ev = { self->now_s + delay_s, self->seq++, fn, ctx, arg };
    size_t i = self->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!s_before (&ev, &self->heap[parent]))
            break;
        self->heap[i] = self->heap[parent];
        i = parent;
    }
    self->heap[i] = ev;
    return 0;
}

/* Removes the root, sifting the last element down into its place. */
static void
s_pop (des_t *self)
{
    s_event_t last = self->heap[--self->n];
    size_t i = 0, n = self->n;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && s_before (&self->heap[child + 1], &self->heap[child]))
            child++;
        if (!s_before (&self->heap[child], &last))
            break;
        self->heap[i] = self->heap[child];
        i = child;
    }
    if (n > 0)
        self->heap[i] = last;
}

uint64_t
des_iterate (des_t *self, double until_s, uint64_t max_events)
{
    uint64_t ran = 0;
    self->stop = false;
    while (self->n > 0 && !self->stop) {
        if (max_events && ran >= max_events)
            return ran;
        if (self->heap[0].t_s > until_s)
            break;
        s_event_t ev = self->heap[0];
        s_pop (self);
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
    if (!(t_s >= self->now_s) || (self->n > 0 && self->heap[0].t_s < t_s))
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
