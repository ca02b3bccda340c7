/*  bottleneck — the active-period method, sole and shifting bottlenecks
 *  (see bottleneck.h).
 */
#include "bottleneck.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool
s_active (unsigned char s)
{
    return s == BN_BUSY || s == BN_DOWN || s == BN_MAINT || s == BN_SETUP;
}

/* For every sample, the length and the first/last sample of the active
 * period it lies in (length 0 when inactive).  Per station, row-major by
 * station: LEN[s * n_t + t]. */
static void
s_periods (const unsigned char *st, size_t n_t, int n_st, int s, size_t *len, size_t *from, size_t *to)
{
    size_t t = 0;
    while (t < n_t) {
        if (!s_active (st[t * (size_t) n_st + (size_t) s])) {
            len[t] = 0;
            t++;
            continue;
        }
        size_t a = t;
        while (t < n_t && s_active (st[t * (size_t) n_st + (size_t) s]))
            t++;
        for (size_t i = a; i < t; i++) {
            len[i] = t - a;
            from[i] = a;
            to[i] = t - 1;
        }
    }
}

/* Marks the overlap of A's period around T−1 and B's around T as shifting. */
static void
s_mark_shift (bool *shift, size_t n_t, int a, int b, size_t t, const size_t *from, const size_t *to)
{
    size_t ia = (size_t) a * n_t, ib = (size_t) b * n_t;
    size_t lo = from[ia + t - 1] > from[ib + t] ? from[ia + t - 1] : from[ib + t];
    size_t hi = to[ia + t - 1] < to[ib + t] ? to[ia + t - 1] : to[ib + t];
    for (size_t i = lo; i <= hi && i < n_t; i++)
        shift[ia + i] = shift[ib + i] = true;
}

int
bn_analyse (const unsigned char *states, size_t n_t, int n_st, bn_station_t *out, int *momentary)
{
    if (!states || !out || n_t == 0 || n_st <= 0 || n_st > 100000
        || n_t > SIZE_MAX / (size_t) n_st / sizeof (size_t))
        return -2;
    for (size_t i = 0; i < n_t * (size_t) n_st; i++)
        if (states[i] >= BN_STATE_COUNT)
            return -2;
    size_t cells = n_t * (size_t) n_st;
    size_t *len = malloc (cells * sizeof *len), *from = malloc (cells * sizeof *from);
    size_t *to = malloc (cells * sizeof *to);
    bool *shift = calloc (cells, sizeof *shift);
    int *mom = momentary ? momentary : malloc (n_t * sizeof *mom);
    int rc = -2;
    if (!len || !from || !to || !shift || !mom)
        goto done;
    for (int s = 0; s < n_st; s++)
        s_periods (states, n_t, n_st, s, len + (size_t) s * n_t, from + (size_t) s * n_t, to + (size_t) s * n_t);
    for (size_t t = 0; t < n_t; t++) {
        int best = -1;
        for (int s = 0; s < n_st; s++)
            if (len[(size_t) s * n_t + t] > 0 && (best < 0 || len[(size_t) s * n_t + t] > len[(size_t) best * n_t + t]))
                best = s;
        mom[t] = best;
        if (t > 0 && best >= 0 && mom[t - 1] >= 0 && mom[t - 1] != best && len[(size_t) mom[t - 1] * n_t + t - 1] > 0)
            s_mark_shift (shift, n_t, mom[t - 1], best, t, from, to);
    }
    memset (out, 0, (size_t) n_st * sizeof *out);
    for (int s = 0; s < n_st; s++) {
        bn_station_t *o = &out[s];
        for (size_t t = 0; t < n_t; t++) {
            unsigned char st = states[t * (size_t) n_st + (size_t) s];
            o->share[st] += 1;
            if (shift[(size_t) s * n_t + t])
                o->shifting_share += 1;
            else if (mom[t] == s)
                o->sole_share += 1;
        }
        for (int k = 0; k < BN_STATE_COUNT; k++)
            o->share[k] /= (double) n_t;
        o->active_share = o->share[BN_BUSY] + o->share[BN_SETUP] + o->share[BN_DOWN] + o->share[BN_MAINT];
        o->sole_share /= (double) n_t;
        o->shifting_share /= (double) n_t;
    }
    rc = -1;
    for (int s = 0; s < n_st; s++) {
        double v = out[s].sole_share + out[s].shifting_share;
        if (v > 0 && (rc < 0 || v > out[rc].sole_share + out[rc].shifting_share))
            rc = s;
    }
done:
    free (len);
    free (from);
    free (to);
    free (shift);
    if (!momentary)
        free (mom);
    return rc;
}
