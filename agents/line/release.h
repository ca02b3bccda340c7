/*  release — when to let the next order onto the line: CONWIP with a
 *  drum-buffer-rope time gate, as one pure function.
 *
 *  The WIP cap comes from Little's law: a line whose constraint (the drum)
 *  runs at r_b units/h and whose raw process time is T0 hours reaches full
 *  throughput with the critical WIP W0 = r_b · T0 (Hopp & Spearman, Factory
 *  Physics, ch. 7); more WIP only adds queueing time.  The cap is
 *  ceil(wip_factor · W0), wip_factor ≥ 1 to absorb variability.
 *
 *  Orders are considered in due-date order (EDD).  One is released while the
 *  WIP stays within the cap, and not before its rope time: due − (T0 +
 *  buffer_h + its own units / r_b), so that work is not started earlier than
 *  needed to meet its due date with the time buffer in front of the drum —
 *  unless the WIP is below W0, when the drum would starve and the order is
 *  pulled ahead (never idle the constraint to wait for a due date).
 */
#ifndef LINE_RELEASE_H
#define LINE_RELEASE_H

#include <stddef.h>

typedef struct {
    double constraint_rate_uph;         /* r_b, the drum */
    double raw_process_time_h;          /* T0, one unit through an empty line */
    double wip_factor;                  /* cap = ceil(factor · r_b · T0), ≥ 1 */
    double buffer_h;                    /* DBR time buffer before the drum */
} release_params_t;

typedef struct {
    double due_h;                       /* absolute, same clock as NOW_H */
    double units;                       /* > 0 */
} release_order_t;

/* The WIP cap in units, or −1 for parameters that make no sense. */
int release_wip_cap (const release_params_t *params);

/* Decides which of the N waiting orders to release at NOW_H with WIP units
 * on the line.  Writes their indexes (in release order) to OUT (room for
 * OUT_CAP) and returns how many, or −1 on bad parameters.  Orders with a
 * non-finite due date or units ≤ 0 are skipped and counted in *REJECTED
 * (may be NULL). */
int release_decide (const release_params_t *params, double now_h, double wip,
                    const release_order_t *queue, size_t n, size_t *out, size_t out_cap,
                    size_t *rejected);

#endif
