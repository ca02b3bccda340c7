/* degrade.c — conjugate Bayesian linear degradation model (see degrade.h). */
#include "degrade.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Information form: P = Sigma^-1 and h = Sigma^-1 mu accumulate each
 * observation exactly; the posterior is recovered on demand. */
struct degrade {
    degrade_params_t params;
    double P[2][2];
    double h[2];
    long n_obs;
};

static int
s_invert (const double a[2][2], double out[2][2])
{
    double det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    if (!(det > 0) || !(a[0][0] > 0))
        return -1;
    out[0][0] = a[1][1] / det;
    out[1][1] = a[0][0] / det;
    out[0][1] = -a[0][1] / det;
    out[1][0] = -a[1][0] / det;
    return 0;
}

degrade_t *
degrade_new (const degrade_params_t *params)
{
    if (!params || !(params->noise_sd > 0) || !isfinite (params->threshold)
        || (params->log_scale && params->threshold <= 0))
        return NULL;
    degrade_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->params = *params;
    if (s_invert (params->prior_cov, self->P)) {
        free (self);
        return NULL;
    }
    for (int i = 0; i < 2; i++)
        self->h[i] = self->P[i][0] * params->prior_mean[0] + self->P[i][1] * params->prior_mean[1];
    return self;
}

void
degrade_destroy (degrade_t **p_self)
{
    if (!p_self || !*p_self)
        return;
    free (*p_self);
    *p_self = NULL;
}

int
degrade_observe (degrade_t *self, double t, double y)
{
    if (!self || !isfinite (t) || !isfinite (y) || (self->params.log_scale && y <= 0))
        return -1;
    double z = self->params.log_scale ? log (y) : y;
    double w = 1 / (self->params.noise_sd * self->params.noise_sd);
    self->P[0][0] += w;
    self->P[0][1] += w * t;
    self->P[1][0] += w * t;
    self->P[1][1] += w * t * t;
    self->h[0] += w * z;
    self->h[1] += w * t * z;
    self->n_obs++;
    return 0;
}

void
degrade_posterior (const degrade_t *self, double mean[2], double cov[2][2])
{
    double c[2][2] = { { 0 } };
    s_invert (self->P, c);
    if (mean) {
        mean[0] = c[0][0] * self->h[0] + c[0][1] * self->h[1];
        mean[1] = c[1][0] * self->h[0] + c[1][1] * self->h[1];
    }
    if (cov)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                cov[i][j] = c[i][j];
}

static uint64_t
s_next (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A standard normal draw (Box-Muller). */
static double
s_gauss (uint64_t *state)
{
    double u1 = ((double) (s_next (state) >> 11) + 0.5) / 9007199254740992.0;
    double u2 = (double) (s_next (state) >> 11) / 9007199254740992.0;
    return sqrt (-2 * log (u1)) * cos (2 * M_PI * u2);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int
degrade_rul (const degrade_t *self, double t_now, double coverage, double horizon,
             double *median, double *lo, double *hi)
{
    if (!self || !median || !isfinite (t_now) || !(coverage > 0 && coverage < 1)
        || !(horizon > 0))
        return -1;
    double mu[2], c[2][2];
    degrade_posterior (self, mu, c);
    /* Cholesky of the 2 x 2 covariance. */
    double l00 = sqrt (fmax (c[0][0], 0)), l10 = l00 > 0 ? c[1][0] / l00 : 0;
    double l11 = sqrt (fmax (c[1][1] - l10 * l10, 0));
    double limit = self->params.log_scale ? log (self->params.threshold) : self->params.threshold;
    double *rul = malloc (DEGRADE_DRAWS * sizeof (double));
    if (!rul)
        return -1;
    uint64_t state = 0x5eed;
    for (int i = 0; i < DEGRADE_DRAWS; i++) {
        double z0 = s_gauss (&state), z1 = s_gauss (&state);
        double th0 = mu[0] + l00 * z0, th1 = mu[1] + l10 * z0 + l11 * z1;
        double r = horizon;
        if (th0 + th1 * t_now >= limit)
            r = 0;
        else if (th1 > 0)
            r = fmin ((limit - th0) / th1 - t_now, horizon);
        rul[i] = r;
    }
    qsort (rul, DEGRADE_DRAWS, sizeof (double), s_cmp_double);
    int k_lo = (int) floor ((1 - coverage) / 2 * (DEGRADE_DRAWS - 1));
    int k_hi = (int) ceil ((1 + coverage) / 2 * (DEGRADE_DRAWS - 1));
    *median = rul[DEGRADE_DRAWS / 2];
    if (lo)
        *lo = rul[k_lo];
    if (hi)
        *hi = rul[k_hi];
    free (rul);
    return 0;
}
