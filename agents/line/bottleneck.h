/*  bottleneck — which station constrains the line, from its state history.
 *
 *  The active-period method (Roser, Nakano & Tanaka, "Shifting bottleneck
 *  detection", Winter Simulation Conference 2002): a station is active while
 *  busy, in setup, down or in maintenance, and inactive while starved or
 *  blocked (it waits for the others).  At each instant the momentary
 *  bottleneck is the station whose current uninterrupted active period is
 *  the longest.  Where the outgoing and incoming bottlenecks' active periods
 *  overlap around a change, both are shifting bottlenecks; elsewhere the
 *  momentary bottleneck is the sole bottleneck.  The constraint is the
 *  station with the largest sole + shifting share.  The shares of each
 *  state are given beside, since they explain why a station is or is not
 *  the constraint.
 *
 *  Input: the state of each station sampled on a regular grid (row-major,
 *  N_T rows of N_ST stations), states as in bn_state_t (the same order as
 *  the twin's twin_state_t).  An unknown state code is refused.
 */
#ifndef LINE_BOTTLENECK_H
#define LINE_BOTTLENECK_H

#include <stddef.h>

typedef enum {
    BN_STARVED, BN_BUSY, BN_BLOCKED, BN_DOWN, BN_MAINT, BN_SETUP, BN_STATE_COUNT
} bn_state_t;

typedef struct {
    double share[BN_STATE_COUNT];       /* fraction of samples in each state */
    double active_share;                /* busy + setup + down + maintenance */
    double sole_share, shifting_share;  /* of samples, as the bottleneck */
} bn_station_t;

/* Analyses N_T samples of N_ST stations.  Fills OUT[N_ST] and, if not NULL,
 * MOMENTARY[N_T] (the momentary bottleneck, −1 when no station is active).
 * Returns the constraint's index, −1 if no station was ever active, or −2
 * on bad input (an unknown state, sizes 0, out of memory). */
int bn_analyse (const unsigned char *states, size_t n_t, int n_st, bn_station_t *out, int *momentary);

#endif
