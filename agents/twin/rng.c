/*  twin rng — xoshiro256** streams and distribution sampling (see rng.h).  */
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
s_splitmix (uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t
s_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void
twin_rng_reseed (twin_rng_t *rng, uint64_t salt)
{
    uint64_t x = salt;
    for (int i = 0; i < 4; i++) {
        x ^= rng->s[i];
        s_splitmix (&x);
    }
    for (int i = 0; i < 4; i++)
        rng->s[i] = s_splitmix (&x);
}

double
twin_normal_cdf (double z)
{
    return 0.5 * erfc (-z / M_SQRT2);
}

/* Acklam's rational approximation (relative error 1.15e-9), refined by one
 * Halley step on the exact distribution function. */
double
twin_normal_quantile (double p)
{
    static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
    static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                6.680131188771972e+01, -1.328068155288572e+01 };
    static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
    static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00 };
    if (!(p > 0 && p < 1))
        return p <= 0 ? -INFINITY : INFINITY;
    double q, x;
    if (p < 0.02425) {
        q = sqrt (-2 * log (p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    else if (p > 1 - 0.02425) {
        q = sqrt (-2 * log (1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    else {
        q = p - 0.5;
        double r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = twin_normal_cdf (x) - p, u = e * sqrt (2 * M_PI) * exp (x * x / 2);
    return x - u / (1 + x * u / 2);
}

void
twin_rng_seed (twin_rng_t *rng, uint64_t seed, const char *name)
{
    /* FNV-1a of the name keeps streams independent of declaration order. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = name ? name : ""; *p; p++)
        h = (h ^ (uint8_t) *p) * 0x100000001b3ull;
    uint64_t x = seed ^ s_splitmix (&h);
    for (int i = 0; i < 4; i++)
        rng->s[i] = s_splitmix (&x);
}

uint64_t
twin_rng_u64 (twin_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = s_rotl (s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl (s[3], 45);
    return result;
}

double
twin_rng_uniform (twin_rng_t *rng)
{
    /* 53 random bits, shifted by half an ulp so 0 never occurs. */
    return ((double) (twin_rng_u64 (rng) >> 11) + 0.5) * 0x1.0p-53;
}

double
twin_rng_exponential (twin_rng_t *rng, double mean)
{
    return -mean * log (twin_rng_uniform (rng));
}

double
twin_rng_normal (twin_rng_t *rng, double mean, double sd)
{
    /* Box-Muller without a cached spare: one state per stream is simpler to
     * reason about when runs must repeat bit for bit. */
    double u1 = twin_rng_uniform (rng), u2 = twin_rng_uniform (rng);
    return mean + sd * sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

/* Marsaglia & Tsang (2000); shape < 1 boosted with U^(1/shape). */
static double
s_gamma (twin_rng_t *rng, double shape, double scale)
{
    if (shape < 1.0) {
        double u = twin_rng_uniform (rng);
        return s_gamma (rng, shape + 1.0, scale) * pow (u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt (9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = twin_rng_normal (rng, 0, 1);
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        double u = twin_rng_uniform (rng);
        if (u < 1.0 - 0.0331 * x * x * x * x)
            return d * v * scale;
        if (log (u) < 0.5 * x * x + d * (1.0 - v + log (v)))
            return d * v * scale;
    }
}

double
twin_dist_sd (const twin_dist_t *d)
{
    switch (d->kind) {
    case TWIN_DIST_EXPONENTIAL: return d->a;
    case TWIN_DIST_NORMAL: return d->b;
    case TWIN_DIST_LOGNORMAL: return d->mean * sqrt (exp (d->b * d->b) - 1.0);
    case TWIN_DIST_GAMMA: return sqrt (d->a) * d->b;
    case TWIN_DIST_WEIBULL: {
        double g1 = tgamma (1.0 + 1.0 / d->a), g2 = tgamma (1.0 + 2.0 / d->a);
        return d->b * sqrt (fmax (0, g2 - g1 * g1));
    }
    case TWIN_DIST_EMPIRICAL: {
        double v = 0;
        for (size_t i = 0; i < d->n; i++) {
            double w = d->cum ? d->cum[i] - (i ? d->cum[i - 1] : 0) : 1.0 / (double) d->n;
            v += w * (d->values[i] - d->mean) * (d->values[i] - d->mean);
        }
        return sqrt (v);
    }
    default: return 0;
    }
}

double
twin_dist_sample (const twin_dist_t *dist, twin_rng_t *rng)
{
    switch (dist->kind) {
    case TWIN_DIST_CONST:
        return dist->a;
    case TWIN_DIST_EXPONENTIAL:
        return twin_rng_exponential (rng, dist->a);
    case TWIN_DIST_NORMAL: {
        double x = twin_rng_normal (rng, dist->a, dist->b);
        return x > 0 ? x : 0;
    }
    case TWIN_DIST_LOGNORMAL:
        return exp (twin_rng_normal (rng, dist->a, dist->b));
    case TWIN_DIST_GAMMA:
        return s_gamma (rng, dist->a, dist->b);
    case TWIN_DIST_WEIBULL:
        return dist->b * pow (-log (twin_rng_uniform (rng)), 1.0 / dist->a);
    case TWIN_DIST_EMPIRICAL: {
        double u = twin_rng_uniform (rng);
        if (!dist->cum)
            return dist->values[(size_t) (u * (double) dist->n) % dist->n];
        size_t lo = 0, hi = dist->n - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (dist->cum[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        return dist->values[lo];
    }
    }
    return 0;
}

void
twin_dist_const (twin_dist_t *dist, double value)
{
    memset (dist, 0, sizeof *dist);
    dist->kind = TWIN_DIST_CONST;
    dist->a = dist->mean = value;
}

void
twin_dist_exp (twin_dist_t *dist, double mean)
{
    memset (dist, 0, sizeof *dist);
    dist->kind = TWIN_DIST_EXPONENTIAL;
    dist->a = dist->mean = mean;
}

void
twin_dist_free (twin_dist_t *dist)
{
    if (!dist)
        return;
    free (dist->values);
    free (dist->cum);
    dist->values = dist->cum = NULL;
    dist->n = 0;
}

static const char *const s_dist_keys[] = {
    "dist", "mean", "sd", "cv", "shape", "scale", "value", "values", "weights", NULL
};

/* One parser per distribution kind, each reading its keys of NODE. */
static int
s_parse_const (twin_dist_t *d, const af_config_t *node, double scale)
{
    twin_dist_const (d, af_config_num_req (node, "value", 0, 1e12) * scale);
    return 0;
}

static int
s_parse_exp (twin_dist_t *d, const af_config_t *node, double scale)
{
    twin_dist_exp (d, af_config_num_req (node, "mean", 1e-12, 1e12) * scale);
    return 0;
}

static int
s_parse_normal (twin_dist_t *d, const af_config_t *node, double scale)
{
    d->kind = TWIN_DIST_NORMAL;
    d->a = d->mean = af_config_num_req (node, "mean", 0, 1e12) * scale;
    d->b = af_config_num_req (node, "sd", 0, 1e12) * scale;
    return 0;
}

/* Given as the mean and sd of the quantity itself, which is what a maker's
 * data sheet states; converted to the log-space parameters. */
static int
s_parse_lognormal (twin_dist_t *d, const af_config_t *node, double scale)
{
    double m = af_config_num_req (node, "mean", 1e-12, 1e12) * scale;
    double sd = af_config_num_req (node, "sd", 0, 1e12) * scale;
    double s2 = log (1.0 + (sd * sd) / (m * m));
    d->kind = TWIN_DIST_LOGNORMAL;
    d->a = log (m) - 0.5 * s2;
    d->b = sqrt (s2);
    d->mean = m;
    return 0;
}

static int
s_parse_gamma (twin_dist_t *d, const af_config_t *node, double scale)
{
    d->kind = TWIN_DIST_GAMMA;
    if (af_config_get (node, "cv")) {
        double m = af_config_num_req (node, "mean", 1e-12, 1e12) * scale;
        double cv = af_config_num_req (node, "cv", 1e-6, 100);
        d->a = 1.0 / (cv * cv);
        d->b = m / d->a;
    }
    else {
        d->a = af_config_num_req (node, "shape", 1e-6, 1e6);
        d->b = af_config_num_req (node, "scale", 1e-12, 1e12) * scale;
    }
    d->mean = d->a * d->b;
    return 0;
}

static int
s_parse_weibull (twin_dist_t *d, const af_config_t *node, double scale)
{
    d->kind = TWIN_DIST_WEIBULL;
    d->a = af_config_num_req (node, "shape", 1e-3, 1e3);
    d->b = af_config_num_req (node, "scale", 1e-12, 1e12) * scale;
    d->mean = d->b * tgamma (1.0 + 1.0 / d->a);
    return 0;
}

/* A non-negative number of a YAML list; -1 (error recorded) if it is not. */
static double
s_list_num (const af_config_t *list, size_t i, const char *what)
{
    const af_config_t *v = af_config_at (list, i, NULL);
    const char *t = af_config_text (v);
    char *end = NULL;
    double x = t ? strtod (t, &end) : -1;
    if (!t || *end || !(x >= 0)) {
        af_config_fail (v, "%s must be non-negative numbers", what);
        return -1;
    }
    return x;
}

static int
s_parse_empirical (twin_dist_t *d, const af_config_t *node, double scale)
{
    af_config_t *vals = af_config_seq (node, "values");
    if (!vals || af_config_size (vals) == 0)
        return af_config_fail (node, "an empirical distribution needs a non-empty 'values' list");
    af_config_t *w = af_config_seq (node, "weights");
    if (w && af_config_size (w) != af_config_size (vals))
        return af_config_fail (w, "'weights' must have as many entries as 'values'");
    d->kind = TWIN_DIST_EMPIRICAL;
    d->n = af_config_size (vals);
    d->values = calloc (d->n, sizeof (double));
    d->cum = w ? calloc (d->n, sizeof (double)) : NULL;
    if (!d->values || (w && !d->cum))
        return af_config_fail (node, "out of memory");
    double sum = 0, wsum = 0;
    for (size_t i = 0; i < d->n; i++) {
        double x = s_list_num (vals, i, "empirical values");
        double wi = w ? s_list_num (w, i, "weights") : 1;
        if (x < 0 || wi < 0)
            return -1;
        d->values[i] = x * scale;
        if (w)
            d->cum[i] = wsum += wi;
        sum += wi * x * scale;
    }
    if (!w) {
        d->mean = sum / (double) d->n;
        return 0;
    }
    if (!(wsum > 0))
        return af_config_fail (w, "weights must not all be zero");
    for (size_t i = 0; i < d->n; i++)
        d->cum[i] /= wsum;
    d->mean = sum / wsum;
    return 0;
}

static const struct {
    const char *name;
    int (*parse) (twin_dist_t *d, const af_config_t *node, double scale);
} s_dist_kinds[] = {
    { "const", s_parse_const },         { "constant", s_parse_const },
    { "exponential", s_parse_exp },     { "normal", s_parse_normal },
    { "lognormal", s_parse_lognormal }, { "gamma", s_parse_gamma },
    { "weibull", s_parse_weibull },     { "empirical", s_parse_empirical },
};

int
twin_dist_parse (twin_dist_t *dist, const af_config_t *node, double scale)
{
    memset (dist, 0, sizeof *dist);
    if (!node)
        return -1;
    if (af_config_kind (node) == AF_CONFIG_SCALAR) {
        char *end;
        double v = strtod (af_config_text (node), &end);
        if (*end || !(v >= 0) || !isfinite (v))
            return af_config_fail (node, "expected a non-negative number or a distribution, got '%s'",
                                   af_config_text (node));
        twin_dist_const (dist, v * scale);
        return 0;
    }
    if (af_config_kind (node) != AF_CONFIG_MAP)
        return af_config_fail (node, "expected a distribution mapping {dist: ..., mean: ...}");
    if (af_config_known_keys (node, s_dist_keys))
        return -1;
    const char *kind = af_config_str_req (node, "dist");
    if (!kind)
        return -1;
    for (size_t k = 0; k < sizeof s_dist_kinds / sizeof *s_dist_kinds; k++)
        if (!strcmp (kind, s_dist_kinds[k].name)) {
            if (s_dist_kinds[k].parse (dist, node, scale))
                return -1;
            return af_config_error (node) ? -1 : 0;
        }
    return af_config_fail (node, "unknown distribution '%s' (const, exponential, normal, "
                           "lognormal, gamma, weibull, empirical)", kind);
}
