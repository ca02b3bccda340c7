/*  twin shadow — shadow mode: keep the model on a real plant's track.
 *
 *  The plant (or a replay of a recording) reports per station what it sees;
 *  the twin says where model and plant disagree and takes the plant's word
 *  for it, then simulates on from there until the next report.
 */
#include "twin_int.h"

#include <math.h>
#include <stdio.h>

int
twin_shadow_report (twin_t *self, const twin_plant_report_t *rep, char *diff, size_t len)
{
    if (!self || !rep || rep->station < 0 || rep->station >= self->n_stations
        || rep->state >= TWIN_ST_COUNT || rep->buffer_level < 0)
        return -1;
    twin__log (self, NULL, rep, self->in_epoch ? self->epoch : self->epoch - 1);
    twin_station_t *s = &self->st[rep->station];
    char *p = diff;
    size_t left = diff ? len : 0;
    int disagree = 0;
    if (diff && len)
        diff[0] = 0;
#define S_NOTE(...) do { int k_ = snprintf (p, left, __VA_ARGS__); \
        if (k_ > 0 && (size_t) k_ < left) { p += k_; left -= (size_t) k_; } } while (0)
    if (rep->state != s->state) {
        disagree = 1;
        S_NOTE ("%s: state model=%s plant=%s; ", s->name, twin_state_name (s->state),
                twin_state_name (rep->state));
        /* A breakdown the model did not predict is taken over at once, and
         * so is a repair the plant finished before the model expected. */
        if (rep->state == TWIN_ST_DOWN && s->state != TWIN_ST_MAINT && s->state != TWIN_ST_DOWN)
            twin__station_breakdown (self, s, -1);
        else if (rep->state != TWIN_ST_DOWN && rep->state != TWIN_ST_MAINT
                 && (s->state == TWIN_ST_DOWN || s->state == TWIN_ST_MAINT))
            twin__repair_done_now (self, s);
    }
    int level = (int) s->buf.n + s->in_transit;
    if (rep->buffer_level != level) {
        disagree = 1;
        S_NOTE ("%s: buffer model=%d plant=%d; ", s->name, level, rep->buffer_level);
        twin__buffer_set (self, s, rep->buffer_level);
    }
    if (rep->measured_wear >= 0) {
        double worst = twin__worst_wear (s);
        if (fabs (worst - rep->measured_wear) > 0.05) {
            disagree = 1;
            S_NOTE ("%s: wear model=%.2f measured=%.2f (corrected); ", s->name, worst,
                    rep->measured_wear);
        }
        /* The inspection's measurement replaces the model's estimate. */
        double target = fmin (0.999, rep->measured_wear);
        for (int c = 0; c < TWIN_COMP_COUNT; c++)
            if (s->comp[c].present)
                s->comp[c].wear = worst > 0 ? s->comp[c].wear * target / worst
                                            : target * s->comp[c].threshold;
        s->inspected_wear = rep->measured_wear;
        s->t_inspected_s = des_now_s (self->des);
    }
#undef S_NOTE
    return disagree;
}

int
twin_shadow_inventory (twin_t *self, int part, double warehouse, double bin, char *diff,
                       size_t len)
{
    if (!self || part < 0 || part >= self->n_parts || !isfinite (warehouse) || !isfinite (bin)
        || bin > self->part[part].bin_cap)
        return -1;
    twin_logged_cmd_t *e = twin__log (self, NULL, NULL, self->in_epoch ? self->epoch : self->epoch - 1);
    if (e) {
        e->inv_part = part;
        e->inv_warehouse = warehouse;
        e->inv_bin = bin;
    }
    twin_part_t *p = &self->part[part];
    int disagree = 0;
    size_t off = 0;
    if (diff && len)
        diff[0] = 0;
    /* Counts within half an item agree: the model's bins hold whole parts. */
    if (warehouse >= 0 && fabs (warehouse - p->warehouse) > 0.5) {
        disagree = 1;
        if (diff && off < len)
            off += (size_t) snprintf (diff + off, len - off, "%s: warehouse model=%.0f plant=%.0f; ",
                                      p->name, p->warehouse, warehouse);
        p->warehouse = warehouse;
    }
    if (bin >= 0 && fabs (bin - p->bin) > 0.5) {
        disagree = 1;
        if (diff && off < len)
            snprintf (diff + off, len - off, "%s: bin model=%.0f plant=%.0f; ", p->name, p->bin, bin);
        p->bin = bin;
        p->bin_task_open = false;
        twin__bins_check (self);
        twin__try_release (self);
    }
    return disagree;
}
