/*  linkemu — the link model: profiles, per-segment scheduling, outages and
 *  the contact plan (see linkemu.h).  */
#include "linkemu.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define S_NS_PER_MS 1000000.0
#define S_NS_PER_S 1000000000.0

/* The numbers.  Mars: 3-22 minutes one way, 1 % loss, 2 Mbit/s, a
 * blackout of 10 % of each cycle; the cycle is one sol (88,775 s), the
 * Earth being below a direct-to-Earth antenna's horizon part of each sol. */
static const linkemu_profile_t s_profiles[] = {
    { .name = "fibre", .delay_min_ms = 1, .delay_max_ms = 1, .rate_bps = 1e9, .time_scale = 1 },
    { .name = "leo", .delay_min_ms = 12, .delay_max_ms = 30, .jitter_ms = 5, .rate_bps = 50e6,
      .loss = 0.005, .disconnect_every_s = 180, .disconnect_min_s = 2, .disconnect_max_s = 5,
      .time_scale = 1 },
    { .name = "mars", .delay_min_ms = 3 * 60e3, .delay_max_ms = 22 * 60e3, .rate_bps = 2e6,
      .loss = 0.01, .blackout_period_s = 88775, .blackout_frac = 0.10, .time_scale = 1 },
};

const linkemu_profile_t *
linkemu_profile_find (const char *name)
{
    for (size_t i = 0; name && i < sizeof s_profiles / sizeof s_profiles[0]; i++)
        if (strcmp (s_profiles[i].name, name) == 0)
            return &s_profiles[i];
    return NULL;
}

const char *
linkemu_profile_names (void)
{
    return "fibre, leo, mars";
}

int
linkemu_profile_check (const linkemu_profile_t *p, char *err, size_t err_len)
{
    const char *why = NULL;
    if (!(p->delay_min_ms >= 0 && p->delay_max_ms >= p->delay_min_ms))
        why = "delay must be MIN[:MAX] with 0 <= MIN <= MAX";
    else if (!(p->jitter_ms >= 0))
        why = "jitter must be >= 0";
    else if (!(p->rate_bps >= 0))
        why = "rate must be >= 0 (0: unlimited)";
    else if (!(p->loss >= 0 && p->loss < 1))
        why = "loss must be in [0, 1)";
    else if (!(p->disconnect_every_s >= 0 && p->disconnect_min_s >= 0
               && p->disconnect_max_s >= p->disconnect_min_s))
        why = "disconnects need EVERY >= 0 and 0 <= MIN <= MAX seconds";
    else if (!(p->blackout_period_s >= 0 && p->blackout_frac >= 0 && p->blackout_frac < 1))
        why = "blackouts need a period >= 0 and a fraction in [0, 1)";
    else if (!(p->time_scale >= 1 && p->time_scale <= 1e6))
        why = "time scale must be in [1, 1e6]";
    if (why)
        snprintf (err, err_len, "%s", why);
    return why ? -1 : 0;
}

double
linkemu_rand (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double) (z >> 11) / 9007199254740992.0;
}

void
linkemu_dir_init (linkemu_dir_t *d, const linkemu_profile_t *p, uint64_t seed)
{
    memset (d, 0, sizeof *d);
    d->p = *p;
    d->rng = seed ? seed : 1;
    double span = p->delay_max_ms - p->delay_min_ms;
    d->delay_ms = (p->delay_min_ms + span * linkemu_rand (&d->rng)) / p->time_scale;
}

uint64_t
linkemu_dir_schedule (linkemu_dir_t *d, uint64_t now_ns, size_t bytes)
{
    uint64_t start = now_ns > d->wire_free_ns ? now_ns : d->wire_free_ns;
    uint64_t tx_ns = d->p.rate_bps > 0 ? (uint64_t) (bytes * 8.0 / d->p.rate_bps * S_NS_PER_S) : 0;
    d->wire_free_ns = start + tx_ns;
    double extra_ms = d->p.jitter_ms / d->p.time_scale * linkemu_rand (&d->rng);
    if (d->p.loss > 0 && linkemu_rand (&d->rng) < d->p.loss) {
        /* Recovered by fast retransmit: one more round trip. */
        extra_ms += 2 * d->delay_ms;
        d->lost_segments++;
    }
    uint64_t arrival = d->wire_free_ns + (uint64_t) ((d->delay_ms + extra_ms) * S_NS_PER_MS);
    if (arrival < d->last_arrival_ns)
        arrival = d->last_arrival_ns;
    d->last_arrival_ns = arrival;
    d->segments++;
    d->bytes += bytes;
    return arrival;
}

void
linkemu_dir_reset (linkemu_dir_t *d, uint64_t now_ns)
{
    d->wire_free_ns = now_ns;
    d->last_arrival_ns = now_ns;
}

bool
linkemu_blackout (const linkemu_profile_t *p, uint64_t unix_ns, uint64_t *until_ns)
{
    if (p->blackout_period_s <= 0 || p->blackout_frac <= 0)
        return false;
    double period_ns = p->blackout_period_s / p->time_scale * S_NS_PER_S;
    double offset_ns = p->blackout_offset_s / p->time_scale * S_NS_PER_S;
    double t = (double) unix_ns - offset_ns;
    double cycle = floor (t / period_ns);
    double phase = t - cycle * period_ns;
    double dark_from = (1 - p->blackout_frac) * period_ns;
    bool dark = phase >= dark_from;
    if (until_ns) {
        double end = dark ? (cycle + 1) * period_ns : cycle * period_ns + dark_from;
        *until_ns = (uint64_t) (end + offset_ns);
    }
    return dark;
}

bool
linkemu_next_outage (const linkemu_profile_t *p, uint64_t *rng, uint64_t now_ns,
                     uint64_t *start_ns, uint64_t *len_ns)
{
    if (p->disconnect_every_s <= 0)
        return false;
    double u = linkemu_rand (rng);
    double gap_s = -log (1 - u) * p->disconnect_every_s / p->time_scale;
    double len_s = (p->disconnect_min_s
                    + (p->disconnect_max_s - p->disconnect_min_s) * linkemu_rand (rng))
                   / p->time_scale;
    *start_ns = now_ns + (uint64_t) (gap_s * S_NS_PER_S);
    *len_ns = (uint64_t) (len_s * S_NS_PER_S);
    return true;
}
