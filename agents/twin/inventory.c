/*  twin inventory — parts: line-side bins and their refills, the bill of
 *  materials a released order takes, supplier orders and deliveries through
 *  the inbound dock, and the shortage the line feels.
 */
#include "twin_int.h"

#include <math.h>
#include <stdio.h>

static void s_damaged_at_line (twin_t *self, twin_part_t *p, double qty);

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
        s_damaged_at_line (self, p, v->bom_qty[i]);
        if (p->bin <= p->bin_refill_at && !p->bin_task_open) {
            p->bin_task_open = true;
            twin__task_push (self, TWIN_TASK_DELIVER, -1, v->bom_part[i]);
        }
    }
    return true;
}

/* ------------------------------------------------------------ supply */

/* Stock enters the warehouse up to its capacity; the rest goes back to the
 * supplier (returned, not paid). */
static void
s_stock_in (twin_t *self, int p, double qty)
{
    twin_part_t *part = &self->part[p];
    double in = qty;
    if (part->warehouse_cap > 0)
        in = fmax (0, fmin (qty, part->warehouse_cap - part->warehouse));
    if (des_now_s (self->des) >= self->t_stats_s)
        self->inv.returned += qty - in;
    part->warehouse += in;
    twin__bins_check (self);
    twin__try_release (self);
}

/* The end of a delivery's intake inspection (arg: part | accepted << 16). */
static void
s_intake_done (des_t *des, void *ctx, uint64_t arg)
{
    (void) des;
    s_stock_in (ctx, (int) (arg & 0xffff), (double) (arg >> 16));
}

/* Intake inspection at the dock (inventory.intake): it takes its time and
 * costs per delivery, and finds each damaged item with detect_p; the ones
 * it misses go into stock (hidden) and surface at the line. */
static void
s_intake (twin_t *self, int p, double got, double damaged)
{
    twin_part_t *part = &self->part[p];
    double found = 0;
    for (double k = 0; k < damaged && k < 1000; k++)
        found += twin_rng_uniform (&part->intake_rng) < self->inv.intake_detect_p;
    if (damaged >= 1000)
        found = floor (damaged * self->inv.intake_detect_p + 0.5);
    part->damaged_hidden += damaged - found;
    part->damaged_mean += got * part->damage_p * (1 - self->inv.intake_detect_p);
    if (des_now_s (self->des) >= self->t_stats_s) {
        self->inv.damaged += found;
        self->inv.intake_cost_sum += self->inv.intake_cost;
        self->inv.intakes++;
    }
    double t_s = twin_dist_sample (&self->inv.intake_s, &part->intake_rng);
    des_schedule (self->des, fmax (0, t_s), s_intake_done, self, (uint64_t) p | ((uint64_t) (got - found) << 16));
}

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
    double damaged = 0;
    if (part->damage_p > 0 && got > 0) {
        double mean = got * part->damage_p;
        damaged = floor (fmin (got, fmax (0, twin_rng_normal (&part->rng, mean, sqrt (mean)) + 0.5)));
    }
    if (self->inv.intake) {
        s_intake (self, p, got, damaged);
        return;
    }
    /* Inbound dock: every case is scanned; damaged goods are rejected. */
    if (des_now_s (self->des) >= self->t_stats_s)
        self->inv.damaged += damaged;
    s_stock_in (self, p, got - damaged);
}

/* Damaged items the dock missed surface when the line takes parts: each is
 * thrown away and another taken from the bin (draws only when there are). */
static void
s_damaged_at_line (twin_t *self, twin_part_t *p, double qty)
{
    double stock = p->warehouse + p->bin + qty;
    if (p->damaged_hidden <= 0 || stock <= 0)
        return;
    p->damaged_mean *= fmax (0, 1 - qty / stock);
    double f = fmin (1.0, p->damaged_hidden / stock), bad = 0;
    for (double k = 0; k < qty && k < 1000; k++)
        bad += twin_rng_uniform (&p->intake_rng) < f;
    bad = fmin (bad, fmin (p->bin, p->damaged_hidden));
    p->damaged_hidden -= bad;
    p->bin -= bad;
    p->used += bad;
    if (des_now_s (self->des) >= self->t_stats_s)
        self->inv.damaged_at_line += bad;
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
    part->lt_n++;
    part->lt_sum_h += lt / 3600.0;
    part->lt_sq_h += lt / 3600.0 * lt / 3600.0;
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
    /* Holding cost: stock on hand (warehouse and bins) at its value × the
     * yearly carrying rate (material, issue 11). */
    if (self->inv.holding_per_year > 0 && des_now_s (self->des) > self->t_stats_s)
        for (int p = 0; p < self->n_parts; p++)
            self->inv.holding_cost += (self->part[p].warehouse + self->part[p].bin) * self->part[p].unit_cost
                                      * self->inv.holding_per_year * dt_s / (8760.0 * 3600.0);
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
    self->inv.holding_cost = self->inv.intake_cost_sum = self->inv.returned = 0;
    self->inv.damaged_at_line = self->inv.intakes = 0;
}

void
twin__inventory_redraw (twin_t *self, uint64_t salt)
{
    for (int p = 0; p < self->n_parts; p++) {
        twin_part_t *pt = &self->part[p];
        twin_rng_reseed (&pt->intake_rng, salt);
        if (pt->damaged_hidden <= 0 && pt->damaged_mean <= 0)
            continue;
        double m = pt->damaged_mean;
        pt->damaged_hidden = floor (fmax (0, twin_rng_normal (&pt->intake_rng, m, sqrt (m)) + 0.5));
    }
}

void
twin__inventory_destroy (twin_t *self)
{
    twin_dist_free (&self->inv.intake_s);
}

static const char *const s_inventory_keys[] = { "holding_pct_per_year", "intake", NULL };
static const char *const s_intake_keys[] = { "inspect_min", "cost_per_delivery", "detect_p", NULL };

/* inventory: the carrying rate and the dock's intake inspection; parts'
 * warehouse_cap and unit_cost (material, issue 11). */
static int
s_material_load (twin_t *self, const af_config_t *root)
{
    const af_config_t *m = twin__cfg_map (root, "inventory", s_inventory_keys);
    self->inv.holding_per_year = af_config_num (m, "holding_pct_per_year", 0, 0, 1000) / 100.0;
    const af_config_t *in = twin__cfg_map (m, "intake", s_intake_keys);
    self->inv.intake = in != NULL;
    if (twin__cfg_dist (&self->inv.intake_s, in, "inspect_min", 60.0, 30))
        return -1;
    self->inv.intake_cost = af_config_num (in, "cost_per_delivery", 0, 0, 1e9);
    self->inv.intake_detect_p = af_config_num (in, "detect_p", 0.9, 0, 1);
    const af_config_t *seq = af_config_seq (root, "parts");
    for (int i = 0; seq && i < self->n_parts; i++) {
        const af_config_t *pm = af_config_at (seq, (size_t) i, NULL);
        twin_part_t *p = &self->part[i];
        p->warehouse_cap = af_config_num (pm, "warehouse_cap", 0, 0, 1e12);
        if (p->warehouse_cap > 0 && p->warehouse > p->warehouse_cap)
            return af_config_fail (pm, "part '%s': warehouse %.6g beyond its warehouse_cap %.6g", p->name,
                                   p->warehouse, p->warehouse_cap);
        p->unit_cost = af_config_num (pm, "unit_cost", 0, 0, 1e9);
        char stream[TWIN_NAME_MAX + 16];
        snprintf (stream, sizeof stream, "%s/intake", p->name);
        twin_rng_seed (&p->intake_rng, self->seed, stream);
    }
    return af_config_error (root) ? -1 : 0;
}

/* Planned consumption per part, for the baseline's (R, Q) and for
 * controllers: mix × BOM × the line's nameplate rate (or the order rate). */
int
twin__inventory_load (twin_t *self, const af_config_t *root)
{
    if (s_material_load (self, root))
        return -1;
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
