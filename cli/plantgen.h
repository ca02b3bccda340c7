/*  plantgen — random plausible plants for `autofab plant --random` (DESIGN §5:
 *  "plants nobody tuned on").
 *
 *  The generator is a table: one row per drawn parameter (its scope in the
 *  YAML, its key, the range, the distribution and a source tag that
 *  docs/plant.md "Random plants" resolves).  Rows marked PLANTGEN_EMIT are
 *  written as `key: value` into their scope's mapping by the generic writer,
 *  so a new scalar key of the twin is one new row; the others are drawn by
 *  name and combined by code (a processing time is a distribution, an MTBF
 *  follows from an MTTR …).
 *
 *  Every value is a pure function of (seed, row, instance): a hash, not a
 *  stream, so the same seed gives the same YAML byte for byte and adding a
 *  row does not move any other value.  Nothing here touches the twin; the
 *  tests load what it writes with the twin's own loader.  */
#ifndef CLI_PLANTGEN_H
#define CLI_PLANTGEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PLANTGEN_MIN_STATIONS 2
#define PLANTGEN_MAX_STATIONS 30

typedef enum {
    PLANTGEN_UNIFORM,            /* uniform on [lo, hi] */
    PLANTGEN_LOGUNIFORM,         /* log-uniform on [lo, hi] (lo > 0): wide ranges */
    PLANTGEN_INT,                /* integer uniform on lo … hi inclusive */
    PLANTGEN_CHANCE,             /* 1 with probability lo, else 0 */
} plantgen_dist_t;

typedef enum {
    PLANTGEN_EMIT,               /* written as `key: value` in its scope */
    PLANTGEN_DERIVE,             /* drawn by name; code combines it */
} plantgen_use_t;

typedef struct {
    const char *scope;           /* YAML mapping it belongs to: "station", "energy.hvac" … */
    const char *key;             /* YAML key (EMIT) or the name code asks for */
    double lo, hi;
    plantgen_dist_t dist;
    int digits;                  /* significant digits written (EMIT) */
    plantgen_use_t use;
    const char *source;          /* tag resolved in docs/plant.md "Random plants" */
} plantgen_row_t;

typedef struct {
    uint64_t seed;
    int stations;                /* 0: drawn; else PLANTGEN_MIN_STATIONS … MAX */
} plantgen_opts_t;

/* The parameter table, for docs and tests. */
const plantgen_row_t *plantgen_rows (size_t *n);

/* The table as Markdown (docs/plant.md "Random plants" shows it). */
void plantgen_print_table (FILE *out);

/* Writes one plant as factory YAML (deploy/factories/ format) to OUT.
 * Returns 0, or -1 with one line in ERR (bad options, a write error). */
int plantgen_write (const plantgen_opts_t *opts, FILE *out, char *err, size_t err_len);

#endif
