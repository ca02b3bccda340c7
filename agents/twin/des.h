/*  twin des — the discrete-event core: a clock and an event calendar.
 *
 *  The calendar is a timing wheel over an overflow heap (des.c says how and
 *  why), ordered by time and then by a sequence number, so events at the
 *  same instant run in the order they were scheduled and a run repeats bit
 *  for bit, and an event costs about the same in a plant of hundreds of
 *  stations as in a small one.  Cancellation is lazy: the model bumps a
 *  generation counter and ignores stale events.
 *
 *  The engine is embeddable: des_iterate() advances to a time or by a number
 *  of events, so a test, the bus wrapper or a what-if fork can step it.
 */
#ifndef TWIN_DES_H
#define TWIN_DES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct des des_t;

/* An event handler: CTX and ARG are what was passed to des_schedule(). */
typedef void (des_fn) (des_t *des, void *ctx, uint64_t arg);

/* Creates an empty calendar at time 0; NULL when out of memory. */
des_t   *des_new (void);
/* Destroys the calendar (pending events are dropped); NULL-safe. */
void     des_destroy (des_t **self_p);
/* Current simulated time in seconds. */
double   des_now_s (const des_t *self);
/* Schedules FN(CTX, ARG) DELAY_S seconds from now (>= 0).  Returns 0, or -1
 * when out of memory or DELAY_S is negative or not finite. */
int      des_schedule (des_t *self, double delay_s, des_fn *fn, void *ctx, uint64_t arg);
/* Runs events with time <= UNTIL_S, at most MAX_EVENTS of them (0: no limit),
 * stopping early if des_stop() is called.  When it stops for UNTIL_S the clock
 * is set to UNTIL_S.  Returns the number of events run. */
uint64_t des_iterate (des_t *self, double until_s, uint64_t max_events);
/* Moves the clock forward to T_S without running anything; refused (-1) if
 * an event is pending before T_S or T_S is in the past. */
int      des_advance (des_t *self, double t_s);
/* Asks the running des_iterate() to return after the current event. */
void     des_stop (des_t *self);
bool     des_stopped (const des_t *self);
/* Pending events and events run so far. */
size_t   des_pending (const des_t *self);
uint64_t des_events (const des_t *self);

#endif
