/*  af_clock — real and simulated clocks (see af_clock.h).  */
#include "af_clock.h"

#include <stdlib.h>
#include <time.h>

struct af_clock {
    bool sim;
    uint64_t sim_ns;
};

af_clock_t *
af_clock_new_real (void)
{
    return calloc (1, sizeof (af_clock_t));
}

af_clock_t *
af_clock_new_sim (uint64_t start_ns)
{
    af_clock_t *self = calloc (1, sizeof *self);
    if (self) {
        self->sim = true;
        self->sim_ns = start_ns;
    }
    return self;
}

void
af_clock_destroy (af_clock_t **self_p)
{
    if (self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

uint64_t
af_clock_now_ns (const af_clock_t *self)
{
    if (self && self->sim)
        return self->sim_ns;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

bool af_clock_is_sim (const af_clock_t *self) { return self && self->sim; }

int
af_clock_set_ns (af_clock_t *self, uint64_t t_ns)
{
    if (!self || !self->sim || t_ns < self->sim_ns)
        return -1;
    self->sim_ns = t_ns;
    return 0;
}

int64_t
af_clock_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
