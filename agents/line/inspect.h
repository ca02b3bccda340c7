/*  inspect — end-of-line inspection sampling adapted to risk: Dodge's
 *  continuous sampling plan CSP-1 with forced returns to 100 % inspection.
 *
 *  CSP-1 (Dodge, "A sampling inspection plan for continuous production",
 *  Annals of Mathematical Statistics 14(3), 1943): inspect every unit until
 *  I units in a row pass clear; then inspect a fraction f = 1 / k of them;
 *  return to every unit as soon as a sampled unit is found defective.  With
 *  rectifying inspection (a found defect is reworked or scrapped) the
 *  average outgoing quality at incoming defect rate p is
 *      AOQ(p) = p (1 − f) q^I / (f + (1 − f) q^I),   q = 1 − p,
 *  and its maximum over p is the plan's AOQL.  insp_clearance() picks the
 *  smallest I whose AOQL meets a target; the plant's own detection
 *  probability (< 1) is outside this formula, which is why the agent states
 *  the AOQL of found defects only.
 *
 *  Risk: the line agent also forces 100 % inspection when an SPC chart
 *  signals at any station (a suspect unit is on its way to the end of the
 *  line) and holds it for a while (insp_force).
 *
 *  The state machine works on counts per decision epoch (units shipped,
 *  defects found), as a plant's counters report them.
 */
#ifndef LINE_INSPECT_H
#define LINE_INSPECT_H

#include <stdbool.h>
#include <stddef.h>

/* AOQ of CSP-1 (clearance I, fraction F in (0, 1]) at defect rate P. */
double insp_aoq (double p, double f, double clearance);
/* Its maximum over p (the AOQL), by a log grid and a golden-section refine. */
double insp_aoql (double f, double clearance);
/* The smallest clearance number I ≤ 10^7 with AOQL ≤ TARGET, or −1. */
long insp_clearance (double f, double aoql_target);

typedef struct {
    int sample_every;                   /* k: 1 in k when cleared (≥ 2) */
    long clearance;                     /* I: clear units in a row to leave 100 % */
} insp_params_t;

typedef struct insp insp_t;

/* A plan, or NULL with why in ERR (k < 2, I < 1). */
insp_t *insp_new (const insp_params_t *params, char *err, size_t err_len);
void insp_destroy (insp_t **self_p);

/* One epoch's counts at the end of the line: UNITS shipped or scrapped,
 * FOUND defects found.  Negative or non-finite counts are refused (−1,
 * counted).  Returns the sampling to command now: 1 (every unit) or k. */
int insp_update (insp_t *self, double units, double found);
/* Risk: every unit is inspected now and until HOLD_UNITS more units have
 * shipped (then the clear run starts again from zero). */
void insp_force (insp_t *self, double hold_units);
int insp_sample_every (const insp_t *self);
/* Clear units in a row so far, and refused updates. */
double insp_clear_run (const insp_t *self);
size_t insp_rejected (const insp_t *self);

#endif
