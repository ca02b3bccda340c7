/*  twin rng — seeded random streams and the distributions the plant model draws from.
 *
 *  Every component of the plant owns its own stream, derived from the run seed
 *  and the component's name, so adding a station does not shift the numbers
 *  another station sees, and the same seed + config give the same run bit for
 *  bit.  The generator is xoshiro256** (fast, 256-bit state, passes BigCrush),
 *  seeded through splitmix64 as its authors recommend.
 */
#ifndef TWIN_RNG_H
#define TWIN_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "af_config.h"

typedef struct {
    uint64_t s[4];
} twin_rng_t;

/* Seeds STREAM from the run SEED and a stream NAME (any text). */
void     twin_rng_seed (twin_rng_t *rng, uint64_t seed, const char *name);
/* Replaces the stream's state by one mixed from it and SALT: a stream with
 * no relation to the draws the original would have made (what-if forks). */
void     twin_rng_reseed (twin_rng_t *rng, uint64_t salt);
/* The standard normal distribution function and its inverse (0 < P < 1). */
double   twin_normal_cdf (double z);
double   twin_normal_quantile (double p);
uint64_t twin_rng_u64 (twin_rng_t *rng);
/* Uniform on (0, 1): never exactly 0 or 1, so log() is always safe. */
double   twin_rng_uniform (twin_rng_t *rng);
double   twin_rng_exponential (twin_rng_t *rng, double mean);
double   twin_rng_normal (twin_rng_t *rng, double mean, double sd);

typedef enum {
    TWIN_DIST_CONST,
    TWIN_DIST_EXPONENTIAL,
    TWIN_DIST_NORMAL,       /* truncated at 0: times cannot be negative */
    TWIN_DIST_LOGNORMAL,
    TWIN_DIST_GAMMA,
    TWIN_DIST_WEIBULL,
    TWIN_DIST_EMPIRICAL
} twin_dist_kind_t;

/* A distribution of a non-negative quantity.  The empirical one samples from
 * VALUES (with optional cumulative weights CUM); both arrays are owned. */
typedef struct {
    twin_dist_kind_t kind;
    double a, b;            /* const: a; exp: mean a; normal/lognormal: mu,sigma
                               (of the log for lognormal); gamma: shape a, scale b;
                               weibull: shape a, scale b */
    double mean;            /* analytic mean, for reports and nameplate rates */
    double *values, *cum;
    size_t n;
} twin_dist_t;

double twin_dist_sample (const twin_dist_t *dist, twin_rng_t *rng);
/* The distribution's standard deviation (normal: of the untruncated law). */
double twin_dist_sd (const twin_dist_t *dist);
/* Parses a distribution from a config node: a plain number (constant) or a
 * mapping {dist: exponential|normal|lognormal|gamma|weibull|empirical|const,
 * mean, sd, cv, shape, scale, values, weights}.  SCALE multiplies every value
 * (unit conversion, e.g. 60 for minutes to seconds).  Errors are recorded on
 * the config document; returns 0 or -1. */
int  twin_dist_parse (twin_dist_t *dist, const af_config_t *node, double scale);
void twin_dist_const (twin_dist_t *dist, double value);
void twin_dist_exp (twin_dist_t *dist, double mean);
void twin_dist_free (twin_dist_t *dist);

#endif
