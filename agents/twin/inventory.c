/*  twin inventory — parts: line-side bins and their refills, the bill of
 *  materials a released order takes, supplier orders and deliveries through
 *  the inbound dock, and the shortage the line feels.
 */
#include "twin_int.h"

#include <math.h>

/* Sends a refill for every bin at or below its refill point (one task per
 * bin at a time) while the warehouse has stock. */
void
twin__bins_check (twin_t *self)
{
    for (int p = 0; p < self->n_parts; p++) {
        twin_part_t *pt = &self->part[p];
        if (pt->bin <= pt->bin_refill_at && !pt->bin_task_open && pt->warehouse >= 1) {
            pt->bin_task_open = true;
            twin__task_push (self, TWIN_TASK_DELIVER, -1, p);
        }
    }
}

/* Takes the bill of materials for VARIANT out of the line-side bins; false
 * (and nothing taken) when a bin is short. */
bool
twin__inventory_take_bom (twin_t *self, int variant)
{
    twin_variant_t *v = &self->var[variant];
    for (int i = 0; i < v->bom_n; i++)
        if (self->part[v->bom_part[i]].bin + 1e-9 < v->bom_qty[i]) {
            twin__bins_check (self);
            return false;
        }
    for (int i = 0; i < v->bom_n; i++) {
        twin_part_t *p = &self->part[v->bom_part[i]];
        p->bin -= v->bom_qty[i];
        p->used += v->bom_qty[i];
        if (p->bin <= p->bin_refill_at && !p->bin_task_open) {
            p->bin_task_open = true;
            twin__task_push (self, TWIN_TASK_DELIVER, -1, v->bom_part[i]);
        }
    }
    return true;
}

/* ------------------------------------------------------------ supply */

static void
s_delivery (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    twin_t *self = ctx;
    int p = (int) (arg & 0xffff);
    double qty = (double) (arg >> 16);
    twin_part_t *part = &self->part[p];
    part->on_order -= qty;
    /* Occasional shortage at the supplier: only part of the order arrives. */
    double got = qty;
    if (twin_rng_uniform (&part->rng) < part->shortage_p)
        got = floor (qty * (0.3 + 0.5 * twin_rng_uniform (&part->rng)));
    /* Inbound dock: every case is scanned; damaged goods are rejected. */
    double damaged = 0;
    if (part->damage_p > 0 && got > 0) {
        double mean = got * part->damage_p;
        damaged = floor (fmin (got, fmax (0, twin_rng_normal (&part->rng, mean, sqrt (mean)) + 0.5)));
    }
    if (des_now_s (self->des) >= self->t_stats_s)
        self->inv.damaged += damaged;
    part->warehouse += got - damaged;
    twin__bins_check (self);
    twin__try_release (self);
}

void
twin__inventory_order (twin_t *self, int p, double qty)
{
    twin_part_t *part = &self->part[p];
    qty = floor (qty);
    if (qty <= 0)
        return;
    part->on_order += qty;
    double lt = twin_dist_sample (&part->lead_time_s, &part->rng);
    des_schedule (self->des, lt, s_delivery, self, (uint64_t) p | ((uint64_t) qty << 16));
}

/* ------------------------------------------------------------ epochs */


/* The smallest positive quantity of part P in any variant's bill of
 * materials (1 if no variant uses it). */
static double
s_min_need (const twin_t *self, int p)
{
    double need = 0;
    for (int v = 0; v < self->n_variants; v++)
        for (int b = 0; b < self->var[v].bom_n; b++)
            if (self->var[v].bom_part[b] == p && self->var[v].bom_qty[b] > 0
                && (need == 0 || self->var[v].bom_qty[b] < need))
                need = self->var[v].bom_qty[b];
    return need > 0 ? need : 1;
}

/* ------------------------------------------------------------ hooks */

/* Short of a part: its line-side bin cannot supply even the smallest
 * quantity one unit of any variant needs (96 cells, not 1). */
void
twin__inventory_epoch (twin_t *self, double dt_s)
{
    for (int p = 0; p < self->n_parts; p++)
        if (self->part[p].bin < s_min_need (self, p) && des_now_s (self->des) > self->t_stats_s) {
            self->inv.shortage_s += dt_s;
            break;
        }
}

void
twin__inventory_reset (twin_t *self)
{
    self->inv.shortage_s = self->inv.damaged = 0;
}

/* Planned consumption per part, for the baseline's (R, Q) and for
 * controllers: mix × BOM × the line's nameplate rate (or the order rate). */
int
twin__inventory_load (twin_t *self, const af_config_t *root)
{
    (void) root;
    double ct_max = 0;
    for (int i = 0; i < self->n_stations; i++)
        if (self->st[i].process_s.mean > ct_max)
            ct_max = self->st[i].process_s.mean;
    double rate_per_h = self->flow.arrival_mode == TWIN_ARR_POISSON ? self->flow.arrival_rate_per_h
                                                                     : 3600.0 / ct_max;
    for (int v = 0; v < self->n_variants; v++)
        for (int k = 0; k < self->var[v].bom_n; k++) {
            twin_part_t *p = &self->part[self->var[v].bom_part[k]];
            double q = self->var[v].bom_qty[k];
            p->avg_use_per_h += self->var[v].mix * q * rate_per_h;
            /* Units as a Poisson stream of that rate, each taking Q of the
             * part: a compound Poisson demand, variance rate × E[Q²]. */
            p->var_use_per_h += self->var[v].mix * q * q * rate_per_h;
        }
    return 0;
}
