/*  spc — Shewhart (Western Electric rules), EWMA and CUSUM charts, and the
 *  ARL theory they are checked against (see spc.h).
 */
#include "spc.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rule 4 looks furthest back: eight points. */
#define S_HISTORY 8

struct spc {
    spc_params_t p;
    double hist[S_HISTORY];             /* standardised, newest at [0] */
    int n_hist;
    double ewma, cusum_hi, cusum_lo, ewma_limit;
    size_t count, rejected;
};

spc_t *
spc_new (const spc_params_t *p, char *err, size_t err_len)
{
    if (!p || !isfinite (p->mean) || !(p->sigma > 0) || !isfinite (p->sigma)) {
        snprintf (err, err_len, "spc: mean must be finite and sigma > 0");
        return NULL;
    }
    if (p->kind == SPC_EWMA && (!(p->lambda > 0 && p->lambda <= 1) || !(p->limit_l > 0) || !isfinite (p->limit_l))) {
        snprintf (err, err_len, "spc: EWMA needs 0 < lambda <= 1 and L > 0");
        return NULL;
    }
    if (p->kind == SPC_CUSUM && (!(p->k >= 0) || !(p->h > 0) || !isfinite (p->k) || !isfinite (p->h))) {
        snprintf (err, err_len, "spc: CUSUM needs k >= 0 and h > 0");
        return NULL;
    }
    if (p->kind != SPC_SHEWHART && p->kind != SPC_EWMA && p->kind != SPC_CUSUM) {
        snprintf (err, err_len, "spc: unknown chart kind %d", (int) p->kind);
        return NULL;
    }
    spc_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "spc: out of memory");
        return NULL;
    }
    self->p = *p;
    if (self->p.kind == SPC_SHEWHART && self->p.we_rules == 0)
        self->p.we_rules = SPC_WE1;
    if (p->kind == SPC_EWMA)
        self->ewma_limit = p->limit_l * sqrt (p->lambda / (2 - p->lambda));
    return self;
}

void
spc_destroy (spc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

void
spc_reset (spc_t *self)
{
    self->n_hist = 0;
    self->ewma = self->cusum_hi = self->cusum_lo = 0;
}

size_t spc_count (const spc_t *self) { return self->count; }
size_t spc_rejected (const spc_t *self) { return self->rejected; }

double
spc_statistic (const spc_t *self)
{
    switch (self->p.kind) {
    case SPC_EWMA:  return self->ewma;
    case SPC_CUSUM: return fmax (self->cusum_hi, self->cusum_lo);
    default:        return self->n_hist ? self->hist[0] : 0;
    }
}

/* How many of the newest N points lie beyond LIMIT (above if SIDE > 0). */
static int
s_beyond (const spc_t *self, int n, double limit, int side)
{
    int c = 0;
    for (int i = 0; i < n && i < self->n_hist; i++)
        c += side > 0 ? self->hist[i] > limit : self->hist[i] < -limit;
    return c;
}

/* The Western Electric rules on the history; the first that fires. */
static int
s_shewhart (spc_t *self)
{
    unsigned r = self->p.we_rules;
    double z = self->hist[0];
    int dir = z > 0 ? SPC_SIG_UP : SPC_SIG_DOWN;
    if ((r & SPC_WE1) && fabs (z) > 3)
        return 1 | dir;
    for (int side = 1; side >= -1; side -= 2) {
        int d = side > 0 ? SPC_SIG_UP : SPC_SIG_DOWN;
        if ((r & SPC_WE2) && self->n_hist >= 2 && s_beyond (self, 3, 2, side) >= 2)
            return 2 | d;
        if ((r & SPC_WE3) && self->n_hist >= 4 && s_beyond (self, 5, 1, side) >= 4)
            return 3 | d;
        if ((r & SPC_WE4) && self->n_hist >= S_HISTORY && s_beyond (self, S_HISTORY, 0, side) == S_HISTORY)
            return 4 | d;
    }
    return 0;
}

int
spc_update (spc_t *self, double x)
{
    if (!isfinite (x)) {
        self->rejected++;
        return SPC_EBADINPUT;
    }
    self->count++;
    double z = (x - self->p.mean) / self->p.sigma;
    int sig = 0;
    switch (self->p.kind) {
    case SPC_SHEWHART:
        memmove (&self->hist[1], &self->hist[0], (S_HISTORY - 1) * sizeof self->hist[0]);
        self->hist[0] = z;
        if (self->n_hist < S_HISTORY)
            self->n_hist++;
        sig = s_shewhart (self);
        break;
    case SPC_EWMA:
        self->ewma = self->p.lambda * z + (1 - self->p.lambda) * self->ewma;
        if (fabs (self->ewma) > self->ewma_limit)
            sig = self->ewma > 0 ? SPC_SIG_UP : SPC_SIG_DOWN;
        break;
    case SPC_CUSUM:
        self->cusum_hi = fmax (0, self->cusum_hi + z - self->p.k);
        self->cusum_lo = fmax (0, self->cusum_lo - z - self->p.k);
        if (self->cusum_hi > self->p.h)
            sig = SPC_SIG_UP;
        else if (self->cusum_lo > self->p.h)
            sig = SPC_SIG_DOWN;
        break;
    }
    if (sig)
        spc_reset (self);
    return sig;
}

/* ------------------------------------------------------------ theory */

static double
s_phi (double x)
{
    return 0.5 * erfc (-x / M_SQRT2);
}

double
spc_arl_shewhart1 (double delta)
{
    double p = s_phi (-3 - delta) + 1 - s_phi (3 - delta);
    return 1 / p;
}

/* Siegmund (1985): one-sided ARL ≈ (e^{−2Δb} + 2Δb − 1) / (2Δ²), Δ = δ − k,
 * b = h + 1.166; for Δ = 0, b².  Two sides combine as 1/ARL = Σ 1/ARL±. */
static double
s_siegmund (double k, double h, double delta)
{
    double d = delta - k, b = h + 1.166;
    if (fabs (d) < 1e-9)
        return b * b;
    return (exp (-2 * d * b) + 2 * d * b - 1) / (2 * d * d);
}

double
spc_arl_cusum (double k, double h, double delta)
{
    return 1 / (1 / s_siegmund (k, h, delta) + 1 / s_siegmund (k, h, -delta));
}

/* Brook & Evans (1972): the in-control band (−c, c) cut into M states; Q
 * holds the probabilities of moving between them; ARL = (I − Q)⁻¹ 1 read
 * at the middle state (the chart starts at 0).  Gaussian elimination. */
double
spc_arl_ewma (double lambda, double limit_l, double delta, int m)
{
    if (m < 3 || m > 1001 || m % 2 == 0 || !(lambda > 0 && lambda <= 1))
        return -1;
    double c = limit_l * sqrt (lambda / (2 - lambda)), w = 2 * c / m;
    double *a = malloc ((size_t) m * (size_t) (m + 1) * sizeof *a);
    if (!a)
        return -1;
#define A(i, j) a[(size_t) (i) * (size_t) (m + 1) + (size_t) (j)]
    for (int i = 0; i < m; i++) {
        double si = -c + (i + 0.5) * w;
        for (int j = 0; j < m; j++) {
            double sj = -c + (j + 0.5) * w;
            double hi = (sj + w / 2 - (1 - lambda) * si) / lambda - delta;
            double lo = (sj - w / 2 - (1 - lambda) * si) / lambda - delta;
            A (i, j) = (i == j) - (s_phi (hi) - s_phi (lo));
        }
        A (i, m) = 1;
    }
    for (int col = 0; col < m; col++) {
        int piv = col;
        for (int r = col + 1; r < m; r++)
            if (fabs (A (r, col)) > fabs (A (piv, col)))
                piv = r;
        for (int j = 0; j <= m; j++) {
            double t = A (col, j);
            A (col, j) = A (piv, j);
            A (piv, j) = t;
        }
        for (int r = 0; r < m; r++) {
            if (r == col || A (r, col) == 0)
                continue;
            double f = A (r, col) / A (col, col);
            for (int j = col; j <= m; j++)
                A (r, j) -= f * A (col, j);
        }
    }
    double arl = A (m / 2, m) / A (m / 2, m / 2);
#undef A
    free (a);
    return arl;
}
