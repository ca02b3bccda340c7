/*  run — what autofab run collects and reports (cmd_run.c, run_report.c).  */
#ifndef CLI_RUN_H
#define CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "af_kpis.h"
#include "twin.pb-c.h"

/* The KPIs the report compares (common/af_kpis.h). */
#define RUN_KPIS AF_KPIS

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
    double breakdowns;           /* in the window: MTBF and MTTR read with it */
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
/* What the twin's POLICY_DIR/kpi.json adds to the bus's Kpis (breakdowns). */
void run_result_read_twin (run_result_t *result, const char *policy_dir);
/* Change in % from A to B, NAN when A is 0 and B is not. */
double run_change_pct (double a, double b);
/* A KPI's label for people, unit included: "throughput (units/h)". */
const char *run_kpi_label (run_kpi_t kpi);
/* "168 simulated hours (1 week)", "1 simulated hour" into OUT. */
void run_hours_text (double hours, char *out, size_t out_len);
/* The table (and the vision's targets when both policies ran). */
void run_report_print (const run_report_t *report, FILE *out);
/* kpi.json and report.html in report->out_dir; 0, or -1 with ERR. */
int run_report_write (const run_report_t *report, char *err, size_t err_len);

#endif
