/*  linectl — the line agent's decisions for one epoch, with no bus code:
 *  bottleneck-paced speed, SPC on in-line measurements with a correction in
 *  the same epoch, and inspection sampling adapted to risk.
 *
 *  Every epoch the caller gives the plant's observation (each station's
 *  state, temperature, last in-line torque and alignment; the line's
 *  cumulative units and defects found; the hall temperature) and gets back
 *  the speed wanted at each station, the end-of-line sampling, the
 *  constraint and the SPC alarms raised, with a one-line reason.
 *
 *  - Constraint: the active-period method (bottleneck.c) over a rolling
 *    window of state samples, re-run every few epochs.  A station found to
 *    be the constraint (sole + shifting share ≥ pace_share) is paced: run
 *    at its speed cap (min of its max_speed and the agent's cap) — it sets
 *    the line's rate, so every minute it gains is output — as long as its
 *    charts are in control and until its share falls below half of
 *    pace_share; the others stay at nameplate (overspeed multiplies
 *    defects and wear where it buys no output).
 *  - SPC per station: torque (Shewhart with Western Electric rules 1–4,
 *    ARL0 ≈ 92: a torque shift is a per-unit signal, a false alarm costs a
 *    re-check), alignment (CUSUM k = 0.5, h = 5, ARL0 ≈ 465) and the
 *    temperature rise over the hall per unit of speed, on busy epochs
 *    (EWMA λ = 0.2, L = 2.962, ARL0 ≈ 500).  In-control mean and σ come from
 *    the first phase1_n observations of each (phase I); torque and
 *    alignment are only charted when a new unit was measured (a value that
 *    repeats is the same unit).  A signal is corrected in the same epoch:
 *    the station drops to nameplate speed for hold_s and every unit is
 *    inspected until suspect_units more have shipped; the chart then
 *    starts a new phase I (the agent cannot repair the cause: maintenance
 *    is another owner's concern, so the corrected level is the new
 *    reference).
 *  - Inspection: CSP-1 (inspect.c) on the line's counts.
 *  - Stale telemetry (nothing new since the last epoch): every station at
 *    nameplate, every unit inspected, said in the reason and counted.
 */
#ifndef LINE_LINECTL_H
#define LINE_LINECTL_H

#include <stdbool.h>
#include <stddef.h>

#include "inspect.h"

#define LINECTL_MAX_STATIONS 256

typedef enum { LINECTL_TORQUE, LINECTL_ALIGN, LINECTL_TEMP, LINECTL_SIGNALS } linectl_signal_t;

typedef struct {
    int n_stations;
    const double *max_speed;            /* [n_stations], × nameplate, from the plant description */
    double speed_cap;                   /* the agent's own cap on any speed [1.2] */
    int window_epochs;                  /* state samples kept for the bottleneck [240] */
    int every_epochs;                   /* re-analyse every … epochs [15] */
    double pace_share;                  /* sole + shifting share that makes a station paced [0.25] */
    int phase1_n;                       /* observations that set a chart's mean and σ [100] */
    double hold_s;                      /* nameplate after a station's alarm [1 h] */
    double suspect_units;               /* 100 % inspection after an alarm [60] */
    insp_params_t insp;                 /* CSP-1 plan */
} linectl_params_t;

/* Fills defaults for every field left 0. */
void linectl_params_default (linectl_params_t *p);

typedef struct {
    int state;                          /* bn_state_t code; anything else is refused */
    double speed;                       /* as the plant reports it (NaN: 1) */
    double temp_c, torque_nm, alignment_mm;    /* NaN when unknown */
} linectl_station_obs_t;

typedef struct {
    double t_s;
    bool fresh;                         /* telemetry arrived since the last epoch */
    double units, defects_found;        /* cumulative at the end of the line */
    double indoor_c;                    /* the hall (NaN: the temperature chart waits) */
    const linectl_station_obs_t *st;    /* [n_stations] */
} linectl_obs_t;

#define LINECTL_MAX_ALARMS 16

typedef struct {
    double *speed;                      /* [n_stations], the caller's array */
    int sample_every;
    int constraint;                     /* −1 unknown yet */
    bool stale;
    int n_alarms;
    struct {
        int station;
        linectl_signal_t signal;
        int direction;                  /* +1 up, −1 down */
        int rule;                       /* Shewhart: the WE rule; else 0 */
    } alarm[LINECTL_MAX_ALARMS];
    char why[320];                      /* one line */
} linectl_out_t;

typedef struct {
    unsigned long epochs, stale_epochs, bad_states, alarms[LINECTL_SIGNALS], analyses, forced;
} linectl_stats_t;

typedef struct linectl linectl_t;

linectl_t *linectl_new (const linectl_params_t *params, char *err, size_t err_len);
void linectl_destroy (linectl_t **self_p);

/* Decides one epoch.  0, or −1 on a NULL argument. */
int linectl_step (linectl_t *self, const linectl_obs_t *obs, linectl_out_t *out);

/* Whether station I is paced (found to be the constraint). */
bool linectl_paced (const linectl_t *self, int i);
linectl_stats_t linectl_stats (const linectl_t *self);
const char *linectl_signal_name (linectl_signal_t s);

#endif
