/*  run — what autofab run collects and reports (cmd_run.c, run_report.c).  */
#ifndef CLI_RUN_H
#define CLI_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "twin.pb-c.h"

/* The KPIs of docs/kpi.md that the report compares: enum name, key, unit,
 * and which way is better (−1 lower, +1 higher, 0 neither). */
#define RUN_KPIS(X) \
    X (SIM_H, sim_h, "h", 0) \
    X (UNITS, units, "", 1) \
    X (THROUGHPUT_UPH, throughput_uph, "units/h", 1) \
    X (CYCLE_TIME_MEAN_MIN, cycle_time_mean_min, "min", -1) \
    X (OEE_PCT, oee_pct, "%", 1) \
    X (DOWNTIME_H, downtime_h, "h", -1) \
    X (UNPLANNED_DOWNTIME_H, unplanned_downtime_h, "h", -1) \
    X (PLANNED_DOWNTIME_H, planned_downtime_h, "h", -1) \
    X (MTBF_H, mtbf_h, "h", 1) \
    X (MTTR_H, mttr_h, "h", -1) \
    X (ESCAPED_DEFECTS_PPM, escaped_defects_ppm, "ppm", -1) \
    X (SCRAP_UNITS, scrap_units, "units", -1) \
    X (REWORK_UNITS, rework_units, "units", -1) \
    X (ENERGY_KWH_PER_UNIT, energy_kwh_per_unit, "kWh", -1) \
    X (ENERGY_COST_PER_UNIT, energy_cost_per_unit, "cost", -1) \
    X (PEAK_KW, peak_kw, "kW", -1) \
    X (MANUAL_INTERVENTIONS, manual_interventions, "", -1) \
    X (ROBOT_UTILISATION_PCT, robot_utilisation_pct, "%", 0)

typedef enum {
#define X(id, key, unit, better) RUN_KPI_##id,
    RUN_KPIS (X)
#undef X
    RUN_KPI_COUNT
} run_kpi_t;

typedef struct {
    const char *policy;
    bool ok;
    double kpis[RUN_KPI_COUNT];
    double max_output_gap_h;     /* longest stretch without a finished unit */
    double wall_s;
    unsigned restarts;           /* supervised restarts during the run */
    int agents;                  /* autonomous agents that took part */
} run_result_t;

typedef struct {
    const char *config;
    uint64_t seed;
    double hours;
    const char *out_dir;         /* <out>/<policy>/kpi.json and series.json are read */
    run_result_t *results;
    int n_results;
} run_report_t;

void run_result_from_kpis (run_result_t *result, const Autofab__Twin__Kpis *kpis);
/* Change in % from A to B, NAN when A is 0 and B is not. */
double run_change_pct (double a, double b);
/* The table (and the vision's targets when both policies ran). */
void run_report_print (const run_report_t *report, FILE *out);
/* kpi.json and report.html in report->out_dir; 0, or -1 with ERR. */
int run_report_write (const run_report_t *report, char *err, size_t err_len);

#endif
