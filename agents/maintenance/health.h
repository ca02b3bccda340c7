/* health.h — health assessment (ISO 13374 "health assessment"): small
 * detectors for thermal anomalies, lubrication, conveyor drag and
 * cumulative fatigue damage (Miner's rule), and a 0-1 health index per
 * component that keeps the evidence behind it.  Plain C, no bus code, no
 * allocation: every detector is a value the caller owns. */
#ifndef AF_MAINT_HEALTH_H
#define AF_MAINT_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

/* One-sided (upward) CUSUM on standardised residuals (Page, 1954): alarms
 * when the sum of (z - k) stays above h, i.e. a sustained shift of about
 * k..2k standard deviations, far fewer false alarms than a 3-sigma limit
 * on single readings. */
typedef struct {
    double k_sd, h_sd;   /* allowance and decision limit, in sd */
    double sum;          /* current statistic (>= 0) */
    bool alarm;
} health_cusum_t;

void health_cusum_init (health_cusum_t *c, double k_sd, double h_sd);
/* Feeds one standardised residual; returns the alarm state.  A non-finite
 * value is ignored (returns the state unchanged). */
bool health_cusum_update (health_cusum_t *c, double z);

/* Thermal: a component's temperature is expected at ambient plus a rise
 * proportional to load; the residual against that, in sd, feeds a CUSUM,
 * and a hard limit alarms at once. */
typedef struct {
    double rise_full_load_c;  /* temperature rise over ambient at full load */
    double sd_c;              /* residual spread when healthy */
    double limit_c;           /* absolute limit (e.g. lubricant or insulation class) */
    health_cusum_t cusum;
    double last_residual_c;
    double last_temp_c;
} health_thermal_t;

void health_thermal_init (health_thermal_t *d, double rise_full_load_c, double sd_c, double limit_c);
/* Severity 0-1: 0 while healthy, the share of the margin to the limit used
 * once drifting, 1 at the limit.  -1 on non-finite input (ignored). */
double health_thermal_update (health_thermal_t *d, double temp_c, double ambient_c,
                              double load_frac);

/* Lubrication: lubricant level (fraction of full) read over time; the
 * depletion rate is tracked (EWMA of the slope) to forecast when the level
 * reaches the minimum. */
typedef struct {
    double min_frac;          /* level at which the part runs dry */
    double alpha;             /* EWMA weight of the newest slope */
    double rate_per_h;        /* smoothed depletion rate (>0 = falling) */
    double last_t_h, last_frac;
    bool have_last;
} health_lube_t;

void health_lube_init (health_lube_t *d, double min_frac);
/* Severity 0-1 from the level (1 at min_frac); *HOURS_LEFT (if not NULL)
 * gets the forecast time to min_frac (INFINITY when not falling).  -1 on
 * bad input (ignored). */
double health_lube_update (health_lube_t *d, double t_h, double level_frac, double *hours_left);

/* Conveyor drag: drive power per unit of belt speed, relative to its
 * healthy baseline (learned over the first baseline_n readings), rises
 * with worn rollers, misalignment or a dragging belt; the ratio's
 * standardised excess feeds a CUSUM. */
typedef struct {
    int baseline_n;
    int n;
    double mean, m2;          /* Welford over the baseline readings */
    health_cusum_t cusum;
    double last_ratio;        /* drag relative to baseline (1 = healthy) */
} health_drag_t;

void health_drag_init (health_drag_t *d, int baseline_n);
/* Severity 0-1 (0 while learning the baseline); -1 on bad input. */
double health_drag_update (health_drag_t *d, double power_kw, double speed_mps);

/* Miner's rule on load cycles with a Basquin S-N curve
 * N(S) = n_ref * (s_ref / S)^m, no damage below the endurance limit. */
typedef struct {
    double s_ref, n_ref, m, endurance;
    double damage;            /* sum n_i / N_i; failure expected near 1 */
    long cycles;
} health_miner_t;

/* -1 on non-positive parameters. */
int health_miner_init (health_miner_t *d, double s_ref, double n_ref, double m, double endurance);
/* Adds one cycle per amplitude in AMPS (non-finite or negative ones are
 * skipped and counted in the return value); returns how many were skipped. */
size_t health_miner_add (health_miner_t *d, const double *amps, size_t n);

/* A health index with its evidence: each detector contributes a named
 * severity; the index is 1 - the worst severity (the weakest link decides;
 * averaging would hide one failing part among healthy indicators). */
#define HEALTH_EVIDENCE_MAX 8
typedef struct {
    const char *name;   /* static string: "thermal", "lubrication", … */
    double severity;    /* 0 healthy … 1 failed */
} health_evidence_t;

typedef struct {
    health_evidence_t evidence[HEALTH_EVIDENCE_MAX];
    int n;
} health_index_t;

/* Records evidence (severity clamped to 0-1; replaces an earlier entry of
 * the same name).  -1 when full or on a non-finite severity. */
int health_index_add (health_index_t *hi, const char *name, double severity);
/* The index 0-1 (1 when there is no evidence) and, if WORST is not NULL,
 * the evidence that decided it (NULL when none). */
double health_index_value (const health_index_t *hi, const health_evidence_t **worst);

#endif
