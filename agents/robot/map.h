/* map.h — the shared floor occupancy map: static layout plus expiring reports. */
#ifndef AF_ROBOT_MAP_H
#define AF_ROBOT_MAP_H

/*
 * A grid of square cells.  Walls, racks and machines are static; robots
 * report cells they find blocked (a fallen pallet, a person) or clear again.
 * Reports from many robots are merged per cell by time: the newest report
 * wins, and a blocked report that nobody renews expires after ttl_s, so a
 * robot that died after reporting cannot close an aisle for ever.  A
 * version number changes whenever the set of blocked cells changes, which
 * is the path planner's cue to re-plan.
 *
 * Ownership: floormap_new / _parse return a map the caller frees with
 * floormap_destroy(&p) (NULL-safe, clears the pointer).  Reports are input
 * from the bus: out-of-range cells and non-finite times are refused (-1)
 * and counted, never a crash.
 */

#include <stdbool.h>
#include <stddef.h>

typedef struct floormap floormap_t;

/* Largest side in cells. */
#define FLOORMAP_MAX_SIDE 4096

/* An all-free map, or NULL on bad sizes (1..FLOORMAP_MAX_SIDE) or ttl <= 0. */
floormap_t *floormap_new(int width, int height, double ttl_s);

/* A map from text rows of equal length: '#' wall, '.' free (any other
 * character is an error).  On error NULL and one line in err. */
floormap_t *floormap_parse(const char *text, double ttl_s, char *err, size_t err_len);

void floormap_destroy(floormap_t **p_map);

int floormap_width(const floormap_t *map);
int floormap_height(const floormap_t *map);

/* Marks a cell as a wall (or not).  -1 if out of range. */
int floormap_set_static(floormap_t *map, int x, int y, bool wall);

/* A robot's report at time t_s that cell (x, y) is blocked or clear.  Older
 * than the cell's newest report: ignored (returns 0).  Returns 1 if the
 * report was taken, -1 if refused (out of range, non-finite time). */
int floormap_report(floormap_t *map, int x, int y, bool blocked, double t_s, int reporter);

/* Merges every report of src (same size) into map, newest per cell wins.
 * Returns the number of cells taken from src, or -1 on a size mismatch. */
int floormap_merge(floormap_t *map, const floormap_t *src);

/* Drops blocked reports older than ttl at now_s; returns how many cells
 * became free. */
int floormap_expire(floormap_t *map, double now_s);

/* Is the cell impassable at now_s (wall, or a blocked report younger than
 * ttl and newer than any clear report)?  Out of range counts as blocked. */
bool floormap_blocked(const floormap_t *map, int x, int y, double now_s);

/* Changes whenever a report, merge, expiry or static edit changes which
 * cells are blocked. */
unsigned long floormap_version(const floormap_t *map);

/* Reports refused since the map was made. */
unsigned long floormap_refused(const floormap_t *map);

/* Writes width*height bytes (row-major, 1 = blocked at now_s). */
void floormap_snapshot(const floormap_t *map, double now_s, unsigned char *blocked);

#endif
