/*  af_stats — means, Student's t and paired intervals (see af_stats.h).
 *
 *  The incomplete beta function is evaluated by its continued fraction
 *  (modified Lentz), on the side of the symmetry I_x(a,b) = 1 − I_{1−x}(b,a)
 *  where it converges fast; the t quantile is found by bisection on the CDF,
 *  which is monotone, so it cannot fail to converge.  */
#include "af_stats.h"

#include <float.h>
#include <stdbool.h>
#include <math.h>

#define S_CF_MAX_TERMS 500
#define S_CF_EPS 1e-15
#define S_TINY 1e-300
#define S_BISECT_STEPS 200

double
af_stats_mean (const double *x, size_t n)
{
    if (!x || n == 0)
        return NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    return sum / (double) n;
}

double
af_stats_sd (const double *x, size_t n)
{
    if (!x || n < 2)
        return NAN;
    double mean = af_stats_mean (x, n), ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return sqrt (ss / (double) (n - 1));
}

/* The continued fraction of I_x(a, b) without its prefactor. */
static double
s_beta_cf (double a, double b, double x)
{
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs (d) < S_TINY)
        d = S_TINY;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= S_CF_MAX_TERMS; m++) {
        /* Two steps per m: the even coefficient, then the odd one. */
        double coef[2] = {
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        };
        for (int k = 0; k < 2; k++) {
            d = 1 + coef[k] * d;
            c = 1 + coef[k] / c;
            if (fabs (d) < S_TINY)
                d = S_TINY;
            if (fabs (c) < S_TINY)
                c = S_TINY;
            d = 1 / d;
            h *= c * d;
        }
        if (fabs (c * d - 1) < S_CF_EPS)
            break;
    }
    return h;
}

double
af_stats_beta_inc (double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1))
        return NAN;
    if (x == 0 || x == 1)
        return x;
    double log_front = lgamma (a + b) - lgamma (a) - lgamma (b) + a * log (x) + b * log1p (-x);
    if (x < (a + 1) / (a + b + 2))
        return exp (log_front) * s_beta_cf (a, b, x) / a;
    return 1 - exp (log_front) * s_beta_cf (b, a, 1 - x) / b;
}

double
af_stats_t_cdf (double t, double df)
{
    if (!(df > 0) || isnan (t))
        return NAN;
    if (isinf (t))
        return t > 0 ? 1 : 0;
    /* P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2). */
    double tail = 0.5 * af_stats_beta_inc (df / 2, 0.5, df / (df + t * t));
    return t > 0 ? 1 - tail : tail;
}

double
af_stats_t_quantile (double p, double df)
{
    if (!(p > 0) || !(p < 1) || !(df > 0))
        return NAN;
    if (p == 0.5)
        return 0;
    if (p < 0.5)
        return -af_stats_t_quantile (1 - p, df);
    double lo = 0, hi = 1;
    while (af_stats_t_cdf (hi, df) < p && hi < DBL_MAX / 4)
        hi *= 2;
    for (int i = 0; i < S_BISECT_STEPS && hi - lo > 1e-14 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (af_stats_t_cdf (mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double
af_stats_ci_half_width (double sd, size_t n, double level)
{
    if (n < 2 || !(level > 0) || !(level < 1) || !(sd >= 0))
        return NAN;
    double t = af_stats_t_quantile (0.5 + level / 2, (double) (n - 1));
    return t * sd / sqrt ((double) n);
}

int
af_stats_paired (const double *a, const double *b, size_t n, double level, af_paired_t *out)
{
    if (!a || !b || !out || n == 0 || !(level > 0) || !(level < 1))
        return -1;
    out->n = n;
    out->mean_a = af_stats_mean (a, n);
    out->mean_b = af_stats_mean (b, n);
    double ss_d = 0, ss_e = 0, diff = 0;
    for (size_t i = 0; i < n; i++)
        diff += b[i] - a[i];
    diff /= (double) n;
    out->diff = diff;
    bool all_equal = true;
    for (size_t i = 0; i < n; i++) {
        double d = b[i] - a[i];
        ss_d += (d - diff) * (d - diff);
        all_equal &= d == 0;
    }
    out->diff_ci = n < 2 ? NAN : af_stats_ci_half_width (sqrt (ss_d / (double) (n - 1)), n, level);
    if (out->mean_a == 0) {
        out->change_pct = all_equal ? 0 : NAN;
        out->change_ci_pct = all_equal && n >= 2 ? 0 : NAN;
        return 0;
    }
    double r = diff / out->mean_a;
    for (size_t i = 0; i < n; i++) {
        double e = (b[i] - a[i]) - r * a[i];
        ss_e += e * e;
    }
    out->change_pct = diff / fabs (out->mean_a) * 100.0;
    out->change_ci_pct = n < 2 ? NAN
        : af_stats_ci_half_width (sqrt (ss_e / (double) (n - 1)), n, level) / fabs (out->mean_a) * 100.0;
    return 0;
}
