/*  linkemu — the link model of autofab-linkemu (docs/gateway.md, issue 16).
 *
 *  A user-space stand-in for netem: a TCP relay whose two directions each
 *  behave like one direction of a long link.  This file is the model alone
 *  (no sockets), so it can be unit-tested; linkemu_main.c is the relay.
 *
 *  The model, per direction, for each segment of at most LINKEMU_MSS bytes:
 *  - bandwidth: the segment leaves when the wire is free and takes
 *    bytes*8/rate seconds to send (serialisation);
 *  - delay: it arrives the one-way delay later, plus a uniform jitter;
 *  - loss: a stream transport loses no bytes, so a lost segment is modelled
 *    as TCP recovers it: it arrives one round trip (2 x one-way delay) plus
 *    its jitter later (fast retransmit), and holds back everything behind it
 *    (a byte stream is delivered in order);
 *  - random disconnects: outages starting at exponentially distributed
 *    intervals (mean disconnect_every_s), each lasting a uniform time in
 *    [disconnect_min_s, disconnect_max_s]; every connection is reset and
 *    what was in flight is lost, new connections are refused meanwhile;
 *  - scheduled blackouts: the contact plan.  The link is down during the
 *    last blackout_frac of every blackout_period_s, counted from the Unix
 *    epoch plus blackout_offset_s, so that the gateway's contact plan and
 *    the emulator agree without talking to each other.
 *  All times but the bandwidth are divided by time_scale (mars: 1000).
 */
#ifndef LINKEMU_H
#define LINKEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes per modelled segment (a TCP segment on Ethernet). */
#define LINKEMU_MSS 1448

typedef struct {
    const char *name;
    double delay_min_ms, delay_max_ms;   /* one-way; one value is drawn per run */
    double jitter_ms;                    /* uniform extra per segment */
    double rate_bps;                     /* 0: unlimited */
    double loss;                         /* probability per segment */
    double disconnect_every_s;           /* mean interval; 0: none */
    double disconnect_min_s, disconnect_max_s;
    double blackout_period_s;            /* 0: none */
    double blackout_frac;                /* share of each period that is dark */
    double blackout_offset_s;
    double time_scale;                   /* divides every time above; >= 1 */
} linkemu_profile_t;

/* The named profiles (fibre, leo, mars) with the numbers; NULL if
 * NAME is not one of them. */
const linkemu_profile_t *linkemu_profile_find (const char *name);
/* The names, for --help: "fibre, leo, mars". */
const char *linkemu_profile_names (void);
/* Checks a profile's numbers; 0, or -1 with why in ERR. */
int linkemu_profile_check (const linkemu_profile_t *p, char *err, size_t err_len);

/* One direction of the link. */
typedef struct {
    linkemu_profile_t p;
    double delay_ms;         /* drawn one-way delay, already scaled */
    uint64_t wire_free_ns;   /* when the wire can take the next segment */
    uint64_t last_arrival_ns;/* in-order delivery: nothing overtakes */
    uint64_t rng;
    uint64_t segments, lost_segments, bytes;
} linkemu_dir_t;

/* Starts a direction with profile P, drawing its delay from SEED. */
void linkemu_dir_init (linkemu_dir_t *d, const linkemu_profile_t *p, uint64_t seed);
/* When a segment of BYTES bytes read at NOW_NS arrives at the far end. */
uint64_t linkemu_dir_schedule (linkemu_dir_t *d, uint64_t now_ns, size_t bytes);
/* Forgets what is in flight (after a reset). */
void linkemu_dir_reset (linkemu_dir_t *d, uint64_t now_ns);

/* True while the contact plan of P says the link is dark at UNIX_NS (wall
 * clock); *UNTIL_NS (if not NULL) gets when that state ends. */
bool linkemu_blackout (const linkemu_profile_t *p, uint64_t unix_ns, uint64_t *until_ns);

/* The next random outage: its start after NOW_NS and its length, from the
 * generator state *RNG.  Returns false when P has no random disconnects. */
bool linkemu_next_outage (const linkemu_profile_t *p, uint64_t *rng, uint64_t now_ns,
                          uint64_t *start_ns, uint64_t *len_ns);

/* Uniform double in [0, 1) from *STATE (splitmix64). */
double linkemu_rand (uint64_t *state);

#endif
