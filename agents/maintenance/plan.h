/*  plan.h — the maintenance agent's decisions (ISO 13374 "prognosis" and
 *  "advisory" for the plant's wearing parts), kept free of bus code so that
 *  they can be tested alone and moved to the plant-physics commands later.
 *
 *  Model.  A controller never sees a part's wear.  From the plant
 *  description it knows each component's rated wear per busy hour, its
 *  rated limit and the part-to-part spread of life (life_cv); from telemetry
 *  whether the station is busy and at what speed.  The plan integrates the
 *  rated wear over busy time (× speed, × 1 + 2 × lube wear for bearings and
 *  joints: dry lubrication speeds their wear up) to an estimated wear, and
 *  treats the life of a fitted part, in wear units, as lognormal with mean
 *  = the rated limit and cv = sqrt(life_cv² + model_cv²) — the maker's
 *  spread widened by what the estimate does not know (variant load, the
 *  speed exponent).
 *
 *  Decision: the classical age-replacement policy (Barlow & Proschan): a
 *  part is replaced preventively at estimated wear w*, the w that minimises
 *  the long-run cost per unit of wear
 *        g(w) = (c_p R(w) + c_f F(w)) / ∫₀^w R(u) du,
 *  with c_f / c_p = failure_cost_ratio (a breakdown stops the line for the
 *  response and repair time and needs the same spare; a robot's swap on a
 *  running station stops nothing).  It is ordered LEAD hours of wear ahead.
 *
 *  Breakdowns: the plant says a station is down, not why.  A breakdown is
 *  attributed to the component whose hazard at its estimated wear makes it
 *  the likely cause against the random failure rate 1 / MTBF (the repair
 *  renews that part); otherwise it counts as random and no estimate moves.
 */
#ifndef AF_MAINT_PLAN_H
#define AF_MAINT_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#define PLAN_MAX_COMP 8

typedef struct plan plan_t;

typedef struct {
    double failure_cost_ratio;      /* c_f / c_p  [20] */
    double model_cv;                /* extra spread of the wear estimate [0.1] */
    double lead_h;                  /* busy hours between order and swap [1] */
    double lube_accel;              /* bearing/joint wear × (1 + this × lube wear) [2] */
} plan_opts_t;

typedef struct {
    char name[16];                  /* bearing, belt, motor, joint, lube */
    double rate_per_h;              /* rated wear per busy hour at nameplate speed */
    double limit;                   /* rated limit (mean life, wear units) */
    double life_cv;                 /* part-to-part spread of life */
} plan_comp_spec_t;

/* The default options above. */
plan_opts_t plan_opts_default (void);

plan_t *plan_new (const plan_opts_t *opts);
void plan_destroy (plan_t **self_p);

/* Adds a station with N components; returns its index, -1 on bad figures
 * (non-positive rate or limit, negative cv, N too large). */
int plan_add_station (plan_t *self, const char *name, double mtbf_h, const plan_comp_spec_t *comps,
                      size_t n);
size_t plan_stations (const plan_t *self);
size_t plan_components (const plan_t *self, int st);
const char *plan_station_name (const plan_t *self, int st);
const char *plan_comp_name (const plan_t *self, int st, int c);

/* One epoch of DT_H hours: BUSY_FRAC of it busy at SPEED × nameplate.
 * Non-finite inputs are ignored (returns -1). */
int plan_observe (plan_t *self, int st, double busy_frac, double speed, double dt_h);

/* Component C of station ST was renewed (a swap, or a repair of a
 * breakdown it caused). */
void plan_renewed (plan_t *self, int st, int c);

/* A breakdown of ST began: returns the component it is attributed to, or
 * -1 (random).  Does not renew it (the repair does: call plan_renewed then). */
int plan_attribute_breakdown (const plan_t *self, int st);

/* Estimated wear of a component as a fraction of its rated limit. */
double plan_wear (const plan_t *self, int st, int c);
/* The replacement threshold w* (fraction of the rated limit). */
double plan_threshold (const plan_t *self, int st, int c);
/* Whether the component should be swapped now: its estimated wear plus
 * LEAD hours of wear reached w*. */
bool plan_due (const plan_t *self, int st, int c);

/* Remaining useful life in busy hours at the present wear rate: median and
 * the central COVERAGE interval of the lognormal life conditioned on having
 * lasted to the present estimated wear.  -1 on bad arguments. */
int plan_rul (const plan_t *self, int st, int c, double coverage, double *lo_h, double *mid_h,
              double *hi_h);

/* Health index 0-1 of a component: the probability that it survives the
 * next H_BUSY busy hours given its estimated wear. */
double plan_health (const plan_t *self, int st, int c, double h_busy);

/* Pure helpers (tested alone): lognormal life with mean LIMIT and spread
 * CV; the optimal age-replacement wear for cost ratio RATIO. */
double plan_life_cdf (double w, double limit, double cv);
double plan_age_threshold (double limit, double cv, double ratio);

#endif
