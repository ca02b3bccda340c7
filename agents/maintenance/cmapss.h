/* cmapss.h — reader for NASA C-MAPSS run-to-failure files (one row per
 * engine per cycle: unit, cycle, 3 settings, 21 sensors) and their true-RUL
 * files.  Input is treated as hostile: every defect is one clear line. */
#ifndef AF_MAINT_CMAPSS_H
#define AF_MAINT_CMAPSS_H

#include <stddef.h>

#define CMAPSS_SETTINGS 3
#define CMAPSS_SENSORS  21
#define CMAPSS_COLS     (CMAPSS_SETTINGS + CMAPSS_SENSORS)  /* after unit, cycle */

/* One engine: n_cycles rows of CMAPSS_COLS values (settings then sensors),
 * row t holding cycle t+1. */
typedef struct {
    int id;
    int n_cycles;
    double *x;
} cmapss_unit_t;

typedef struct {
    cmapss_unit_t *units;
    int n_units;
} cmapss_fleet_t;

/* Longest error line written into caller buffers. */
#define CMAPSS_ERR_LEN 256

/* Reads PATH.  Rows must have 26 finite numbers, a unit's cycles must run
 * 1, 2, 3 … and a unit may not come back after another started.  NULL with
 * "PATH:LINE: why" in ERR on any defect. */
cmapss_fleet_t *cmapss_load (const char *path, char *err);
void cmapss_destroy (cmapss_fleet_t **p_fleet);

/* Reads a true-RUL file (one whole number >= 0 per line, line i for the
 * i-th unit of the test file) into a new array of exactly N values; NULL
 * with why in ERR if the count differs or a line is bad. */
double *cmapss_load_rul (const char *path, int n, char *err);

#endif
