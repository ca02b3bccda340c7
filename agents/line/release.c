/*  release — CONWIP cap from Little's law with a drum-buffer-rope gate
 *  (see release.h).
 */
#include "release.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

static bool
s_params_ok (const release_params_t *p)
{
    return p && p->constraint_rate_uph > 0 && isfinite (p->constraint_rate_uph) && p->raw_process_time_h > 0
           && isfinite (p->raw_process_time_h) && p->wip_factor >= 1 && isfinite (p->wip_factor)
           && p->buffer_h >= 0 && isfinite (p->buffer_h) && p->constraint_rate_uph * p->raw_process_time_h < 1e6;
}

int
release_wip_cap (const release_params_t *p)
{
    if (!s_params_ok (p))
        return -1;
    return (int) ceil (p->wip_factor * p->constraint_rate_uph * p->raw_process_time_h - 1e-9);
}

/* Insertion of index I into ORDER[0..n) sorted by due date (stable). */
static void
s_insert (size_t *order, size_t n, size_t i, const release_order_t *q)
{
    size_t j = n;
    while (j > 0 && q[order[j - 1]].due_h > q[i].due_h) {
        order[j] = order[j - 1];
        j--;
    }
    order[j] = i;
}

int
release_decide (const release_params_t *p, double now_h, double wip, const release_order_t *queue,
                size_t n, size_t *out, size_t out_cap, size_t *rejected)
{
    if (!s_params_ok (p) || !isfinite (now_h) || !isfinite (wip) || wip < 0 || (n > 0 && !queue))
        return -1;
    size_t *order = malloc ((n ? n : 1) * sizeof *order), m = 0, bad = 0;
    if (!order)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite (queue[i].due_h) || !(queue[i].units > 0) || !isfinite (queue[i].units))
            bad++;
        else
            s_insert (order, m++, i, queue);
    }
    double cap = release_wip_cap (p), w0 = p->constraint_rate_uph * p->raw_process_time_h;
    size_t k = 0;
    for (size_t j = 0; j < m && k < out_cap; j++) {
        const release_order_t *o = &queue[order[j]];
        /* An order bigger than the cap still goes onto an empty line. */
        if (wip + o->units > cap && wip > 0)
            break;
        double rope_h = o->due_h - (p->raw_process_time_h + p->buffer_h + o->units / p->constraint_rate_uph);
        if (now_h < rope_h && wip >= w0)
            break;                      /* hold: releasing later orders first would break EDD */
        out[k++] = order[j];
        wip += o->units;
    }
    free (order);
    if (rejected)
        *rejected = bad;
    return (int) k;
}
