/*  af_weibull — Weibull maximum-likelihood fit with right censoring (see
 *  af_weibull.h).
 *
 *  With r failures at times t_i (i in F) and all n times t_j (failed or
 *  censored), the shape's profile likelihood equation is
 *      g(b) = sum_j t_j^b ln t_j / sum_j t_j^b - 1/b - (1/r) sum_F ln t_i = 0,
 *  g is increasing in b, so bisection finds the root without a starting
 *  guess; then scale = (sum_j t_j^b / r)^(1/b).  (Lawless, Statistical
 *  Models and Methods for Lifetime Data, 2nd ed., §5.2.) */
#include "af_weibull.h"

#include <math.h>

/* Bounds searched for the shape; real components lie well inside. */
#define S_SHAPE_MIN 0.02
#define S_SHAPE_MAX 50.0
#define S_ITERATIONS 200

/* g(b) above, with times divided by T_REF so that t^b cannot overflow. */
static double
s_profile (const double *times, size_t n, double t_ref, double b,
           double mean_log_fail)
{
    double s0 = 0, s1 = 0;
    for (size_t i = 0; i < n; i++) {
        double x = times[i] / t_ref, xb = pow (x, b);
        s0 += xb;
        s1 += xb * log (x);
    }
    return s1 / s0 - 1 / b - mean_log_fail;
}

int
af_weibull_fit (const double *times, const bool *failed, size_t n, af_weibull_t *out)
{
    if (!times || !out || n < 2)
        return -1;
    double t_ref = 0, sum_log = 0, t_first = -1;
    int r = 0;
    bool distinct = false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite (times[i]) || times[i] <= 0)
            return -1;
        t_ref = fmax (t_ref, times[i]);
    }
    for (size_t i = 0; i < n; i++) {
        if (failed && !failed[i])
            continue;
        r++;
        sum_log += log (times[i] / t_ref);
        if (t_first < 0)
            t_first = times[i];
        else if (times[i] != t_first)
            distinct = true;
    }
    if (r < 2 || !distinct)
        return -1;
    double mean_log = sum_log / r, lo = S_SHAPE_MIN, hi = S_SHAPE_MAX;
    if (s_profile (times, n, t_ref, lo, mean_log) > 0
        || s_profile (times, n, t_ref, hi, mean_log) < 0)
        return -1;
    for (int it = 0; it < S_ITERATIONS && hi - lo > 1e-12 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        if (s_profile (times, n, t_ref, mid, mean_log) < 0)
            lo = mid;
        else
            hi = mid;
    }
    double b = 0.5 * (lo + hi), s0 = 0;
    for (size_t i = 0; i < n; i++)
        s0 += pow (times[i] / t_ref, b);
    double scale = t_ref * pow (s0 / r, 1 / b);
    /* log L = r ln b - r b ln eta + (b - 1) sum_F ln t - sum_j (t_j/eta)^b */
    double sum_log_abs = 0, sum_pow = 0;
    for (size_t i = 0; i < n; i++) {
        if (!failed || failed[i])
            sum_log_abs += log (times[i]);
        sum_pow += pow (times[i] / scale, b);
    }
    out->shape = b;
    out->scale = scale;
    out->failures = r;
    out->loglik = r * log (b) - r * b * log (scale) + (b - 1) * sum_log_abs - sum_pow;
    return 0;
}

double
af_weibull_mttf (const af_weibull_t *w)
{
    return w && w->shape > 0 ? w->scale * tgamma (1 + 1 / w->shape) : NAN;
}

double
af_weibull_reliability (const af_weibull_t *w, double t)
{
    if (!w || !(w->shape > 0) || !(w->scale > 0))
        return NAN;
    return t <= 0 ? 1 : exp (-pow (t / w->scale, w->shape));
}

double
af_weibull_fail_within (const af_weibull_t *w, double age, double horizon)
{
    double r0 = af_weibull_reliability (w, age), r1 = af_weibull_reliability (w, age + horizon);
    if (!(r0 > 0))
        return 1;
    return 1 - r1 / r0;
}
