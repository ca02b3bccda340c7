/*  af_clock — the one way every agent reads time (DESIGN §3).
 *
 *  In real mode it is the wall clock.  In simulation mode the time master (the
 *  twin) sets it from each clock tick, so the same seed and config give the
 *  same results however fast the machine is.
 */
#ifndef AF_CLOCK_H
#define AF_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct af_clock af_clock_t;

af_clock_t *af_clock_new_real (void);
af_clock_t *af_clock_new_sim (uint64_t start_ns);
void af_clock_destroy (af_clock_t **self_p);
/* Current time in ns since the epoch (wall clock or simulated); SELF NULL
 * reads the wall clock. */
uint64_t af_clock_now_ns (const af_clock_t *self);
bool af_clock_is_sim (const af_clock_t *self);
/* Simulation mode: moves time to T_NS (never backwards); -1 if refused. */
int af_clock_set_ns (af_clock_t *self, uint64_t t_ns);
/* Monotonic wall time in ms, for timeouts and heartbeats in either mode. */
int64_t af_clock_mono_ms (void);

#endif
