/* insert.c — peg-in-hole: contact model, compliant wrist, search and insert. */

#include "insert.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Peg length (only its lower part can touch anything). */
#define S_PEG_LEN_M 0.040
/* Tip face sampling: rim points, inner ring points, plus the centre. */
#define S_RIM_N 16
#define S_RING_N 6
/* Points sampled on each of the hole's two edges against the tip face. */
#define S_EDGE_N 48
/* Friction is regularised below this sliding speed. */
#define S_SLIP_EPS_MPS 1e-4
/* Strategy: approach from this height at this speed; contact threshold. */
#define S_START_Z_M 0.0010
#define S_APPROACH_MPS 0.010
#define S_CONTACT_N 2.0
/* Force control: speed per newton of force error, and its limit. */
#define S_FORCE_GAIN_MPS_PER_N 2e-3
#define S_FORCE_MAX_MPS 0.020
/* Admittance rates (1/s) at which the command follows the sensed force and
 * torque while inserting. */
#define S_LAT_FOLLOW_HZ 20.0
#define S_ROT_FOLLOW_HZ 20.0
/* The peg counts as in the chamfer this far below the nominal surface. */
#define S_IN_HOLE_M 0.0002
/* Press this long before deciding to search. */
#define S_SETTLE_S 0.05
/* Stall: less than this progress in this time means back off this much. */
#define S_STALL_M 0.00005
#define S_STALL_S 0.3
#define S_BACKOFF_M 0.0005

void insert_params_default(insert_params_t *p)
{
    memset(p, 0, sizeof *p);
    p->peg_radius_m = 0.005;
    p->clearance_m = 0.00005;
    p->chamfer_m = 0.0005;
    p->hole_depth_m = 0.020;
    p->target_depth_m = 0.015;
    p->mass_kg = 0.5;
    p->inertia_kgm2 = 2e-4;
    p->k_lat_npm = 1e4;
    p->k_ax_npm = 2e4;
    p->k_rot_nmprad = 2.0;
    p->damping_ratio = 0.7;
    p->k_contact_npm = 1e6;
    p->c_contact_nspm = 200;
    p->friction_mu = 0.3;
    p->press_n = 8;
    p->spiral_pitch_m = 0.0004;
    p->spiral_speed_mps = 0.006;
    p->search_radius_m = 0.0018;
    p->ft_noise_n = 0.05;
    p->time_limit_s = 8;
    p->dt_s = 1e-4;
    p->control_every = 10;
}

/* --------------------------------------------------------------- physics */

typedef struct {
    double p[3], v[3];          /* tip centre, hole frame */
    double th[2], w[2];         /* tilt about x and y, and its rate */
} s_body_t;

typedef struct {
    double f[3], t[2];          /* total contact force and torque about the tip */
    double normal_sum;          /* sum of normal forces */
    double max_pen;             /* deepest penetration */
} s_load_t;

/* Applies a contact at point pt with unit normal n (pointing into the peg's
 * free side) and penetration pen: spring-damper normal force, regularised
 * Coulomb friction against the peg's sliding velocity there. */
static void s_contact(const insert_params_t *P, const s_body_t *b, const double pt[3],
                      const double n[3], double pen, s_load_t *ld)
{
    double r[3] = { pt[0] - b->p[0], pt[1] - b->p[1], pt[2] - b->p[2] };
    double vp[3] = { b->v[0] + b->w[1] * r[2], b->v[1] - b->w[0] * r[2],
                     b->v[2] + b->w[0] * r[1] - b->w[1] * r[0] };
    double vn = vp[0] * n[0] + vp[1] * n[1] + vp[2] * n[2];
    double fn = P->k_contact_npm * pen - P->c_contact_nspm * vn;
    ld->max_pen = fmax(ld->max_pen, pen);
    if (fn <= 0)
        return;
    double vt[3] = { vp[0] - vn * n[0], vp[1] - vn * n[1], vp[2] - vn * n[2] };
    double vts = sqrt(vt[0] * vt[0] + vt[1] * vt[1] + vt[2] * vt[2]);
    double ff = P->friction_mu * fn / (vts + S_SLIP_EPS_MPS);
    double f[3];
    for (int k = 0; k < 3; k++) {
        f[k] = fn * n[k] - ff * vt[k];
        ld->f[k] += f[k];
    }
    ld->t[0] += r[1] * f[2] - r[2] * f[1];
    ld->t[1] += r[2] * f[0] - r[0] * f[2];
    ld->normal_sum += fn;
}

/* Penetration of a point into the part (hole axis z, top surface z = 0) and
 * the part's outward normal there; 0 when the point is free. */
static double s_part_pen(const insert_params_t *P, const double q[3], double n[3])
{
    double z = q[2], rho = hypot(q[0], q[1]);
    double R = P->peg_radius_m + P->clearance_m, w = P->chamfer_m;
    double ux = rho > 1e-12 ? q[0] / rho : 1, uy = rho > 1e-12 ? q[1] / rho : 0;
    if (z >= 0)
        return 0;
    if (z >= -w) {
        double open = R + w + z;            /* the chamfer's radius at this height */
        if (rho < open)
            return 0;
        double d_cone = (rho - open) / M_SQRT2;
        if (-z < d_cone) {
            n[0] = 0, n[1] = 0, n[2] = 1;
            return -z;
        }
        n[0] = -ux / M_SQRT2, n[1] = -uy / M_SQRT2, n[2] = 1 / M_SQRT2;
        return d_cone;
    }
    double d_wall = rho - R, d_bottom = -P->hole_depth_m - z;
    if (d_wall <= 0 && d_bottom <= 0)
        return 0;
    if (d_bottom > 0 && (d_wall <= 0 || d_bottom < d_wall)) {
        n[0] = 0, n[1] = 0, n[2] = 1;
        return d_bottom;
    }
    n[0] = -ux, n[1] = -uy, n[2] = 0;
    return d_wall;
}

/* The peg's tip face against the part, sampled at rim, ring and centre. */
static void s_tip_contacts(const insert_params_t *P, const s_body_t *b, s_load_t *ld)
{
    if (b->p[2] > P->peg_radius_m * 0.1)        /* clearly above: nothing to touch */
        return;
    for (int k = 0; k <= S_RIM_N + S_RING_N; k++) {
        double rad = k < S_RIM_N ? P->peg_radius_m : k < S_RIM_N + S_RING_N ? P->peg_radius_m / 2 : 0;
        int m = k < S_RIM_N ? S_RIM_N : S_RING_N;
        double phi = 2 * M_PI * (k < S_RIM_N ? k : k - S_RIM_N) / m;
        double lx = rad * cos(phi), ly = rad * sin(phi);
        double pt[3] = { b->p[0] + lx, b->p[1] + ly, b->p[2] + b->th[0] * ly - b->th[1] * lx };
        double n[3], pen = s_part_pen(P, pt, n);
        if (pen > 0)
            s_contact(P, b, pt, n, pen, ld);
    }
}

/* A circular edge of the hole (radius re at height ze) against the peg's
 * side: the peg's cross-section there is a disc of centre c; the edge point
 * deepest inside it lies towards c from the hole axis. */
static void s_edge_contact(const insert_params_t *P, const s_body_t *b, double re, double ze,
                           s_load_t *ld)
{
    double s = ze - b->p[2];                    /* along the axis (a_z = 1) */
    if (s <= 0 || s > S_PEG_LEN_M)
        return;
    double cx = b->p[0] + b->th[1] * s, cy = b->p[1] - b->th[0] * s, d = hypot(cx, cy);
    double pen = P->peg_radius_m + d - re;
    if (d < 1e-12 || d >= re || pen <= 0)
        return;
    double pt[3] = { re * cx / d, re * cy / d, ze }, n[3] = { -cx / d, -cy / d, 0 };
    /* Deeper into the side than the edge point is above the (tilted) tip
     * face: that is the face sitting on the edge, which
     * s_edge_face_contacts models. */
    double lz = ze - b->p[2] - (b->th[0] * (pt[1] - b->p[1]) - b->th[1] * (pt[0] - b->p[0]));
    if (pen > lz)
        return;
    s_contact(P, b, pt, n, pen, ld);
}

/* A circular edge of the hole against the peg's tip face (the face resting
 * on, or tilted over, the edge): sampled edge points inside the peg nearer
 * to the face than to the side push the peg up its axis. */
static void s_edge_face_contacts(const insert_params_t *P, const s_body_t *b, double re,
                                 double ze, s_load_t *ld)
{
    double r = P->peg_radius_m;
    if (b->p[2] > ze + 0.25 * r || b->p[2] < ze - r)
        return;
    double a[3] = { b->th[1], -b->th[0], 1 }, an = sqrt(a[0] * a[0] + a[1] * a[1] + 1);
    double n[3] = { a[0] / an, a[1] / an, a[2] / an };
    for (int k = 0; k < S_EDGE_N; k++) {
        double phi = 2 * M_PI * k / S_EDGE_N;
        double pt[3] = { re * cos(phi), re * sin(phi), ze };
        double e[3] = { pt[0] - b->p[0], pt[1] - b->p[1], pt[2] - b->p[2] };
        /* Peg frame to first order: subtract the tilt's rotation. */
        double lz = e[2] - (b->th[0] * e[1] - b->th[1] * e[0]);
        double lx = e[0] - b->th[1] * e[2], ly = e[1] + b->th[0] * e[2];
        double side = r - hypot(lx, ly);
        if (lz <= 0 || side <= 0 || lz > side)
            continue;
        s_contact(P, b, pt, n, lz, ld);
    }
}

/* -------------------------------------------------------------- strategy */

typedef enum { S_APPROACH, S_PRESS, S_SEARCH, S_INSERT, S_FAILED } s_phase_t;

typedef struct {
    s_phase_t phase;
    double xc[3], thc[2];       /* commanded pose, robot frame */
    double t_phase, phi, cx, cy;
    double stall_t, stall_depth;
    int backoffs, searched;
} s_ctl_t;

/* One control step from the sensed force f (on the peg, robot frame),
 * torque tq and measured tip position pm. */
static void s_control(const insert_params_t *P, s_ctl_t *c, double t, double dtc,
                      const double f[3], const double tq[2], const double pm[3])
{
    double push = -f[2];
    if (c->phase == S_APPROACH) {
        c->xc[2] -= S_APPROACH_MPS * dtc;
        if (push > S_CONTACT_N) {
            c->phase = S_PRESS;
            c->t_phase = t;
        }
        return;
    }
    if (c->phase == S_FAILED)
        return;
    double dz = S_FORCE_GAIN_MPS_PER_N * (P->press_n - push);
    c->xc[2] -= fmax(-S_FORCE_MAX_MPS, fmin(S_FORCE_MAX_MPS, dz)) * dtc;
    bool in_hole = pm[2] < -S_IN_HOLE_M;
    if (c->phase == S_PRESS && (in_hole || t - c->t_phase > S_SETTLE_S)) {
        c->phase = in_hole ? S_INSERT : S_SEARCH;
        c->searched = !in_hole;
        c->cx = c->xc[0];
        c->cy = c->xc[1];
        c->stall_t = t;
        c->stall_depth = pm[2];
    } else if (c->phase == S_SEARCH) {
        /* Archimedean spiral r = b phi at constant path speed. */
        double bb = P->spiral_pitch_m / (2 * M_PI), rad = bb * c->phi;
        c->phi += P->spiral_speed_mps * dtc / sqrt(rad * rad + bb * bb);
        rad = bb * c->phi;
        c->xc[0] = c->cx + rad * cos(c->phi);
        c->xc[1] = c->cy + rad * sin(c->phi);
        if (in_hole) {
            c->phase = S_INSERT;
            c->stall_t = t;
            c->stall_depth = pm[2];
        } else if (rad > P->search_radius_m) {
            c->phase = S_FAILED;
        }
    } else if (c->phase == S_INSERT) {
        /* Admittance: the command follows the sensed load to zero. */
        double kl = S_LAT_FOLLOW_HZ / P->k_lat_npm, kr = S_ROT_FOLLOW_HZ / P->k_rot_nmprad;
        c->xc[0] -= kl * f[0] * dtc;
        c->xc[1] -= kl * f[1] * dtc;
        c->thc[0] -= kr * tq[0] * dtc;
        c->thc[1] -= kr * tq[1] * dtc;
        if (t - c->stall_t > S_STALL_S) {
            if (c->stall_depth - pm[2] < S_STALL_M) {
                c->xc[2] += S_BACKOFF_M;
                c->backoffs++;
            }
            c->stall_t = t;
            c->stall_depth = pm[2];
        }
    }
}

/* ----------------------------------------------------------------- trial */

/* xorshift64* and Box–Muller for the sensor noise. */
static double s_gauss(unsigned long long *s)
{
    double u[2];
    for (int k = 0; k < 2; k++) {
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        u[k] = ((*s * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
    }
    return sqrt(-2 * log(u[0] + 1e-300)) * cos(2 * M_PI * u[1]);
}

static bool s_params_ok(const insert_params_t *P)
{
    const double pos[] = { P->peg_radius_m, P->clearance_m, P->chamfer_m, P->hole_depth_m,
                           P->target_depth_m, P->mass_kg, P->inertia_kgm2, P->k_lat_npm,
                           P->k_ax_npm, P->k_rot_nmprad, P->k_contact_npm, P->press_n,
                           P->spiral_pitch_m, P->spiral_speed_mps, P->search_radius_m,
                           P->time_limit_s, P->dt_s };
    for (size_t k = 0; k < sizeof pos / sizeof *pos; k++)
        if (!isfinite(pos[k]) || pos[k] <= 0)
            return false;
    return P->target_depth_m < P->hole_depth_m && P->control_every >= 1
           && P->friction_mu >= 0 && P->c_contact_nspm >= 0 && P->damping_ratio >= 0
           && P->ft_noise_n >= 0 && P->time_limit_s / P->dt_s < 1e9;
}

/* Maps the robot-frame command into the hole frame: the robot is off by
 * (dx, dy) and its axes are tilted by the error (small angles). */
static void s_cmd_world(const insert_error_t *e, const s_ctl_t *c, double xw[3], double thw[2])
{
    double tx = e->tilt_x_rad, ty = e->tilt_y_rad;
    xw[0] = c->xc[0] + ty * c->xc[2] - e->dx_m;
    xw[1] = c->xc[1] - tx * c->xc[2] - e->dy_m;
    xw[2] = c->xc[2] + tx * c->xc[1] - ty * c->xc[0];
    thw[0] = c->thc[0] + tx;
    thw[1] = c->thc[1] + ty;
}

/* One physics step: wrist spring-damper plus contacts. */
static void s_step(const insert_params_t *P, s_body_t *b, const double xw[3],
                   const double thw[2], double wrist[3], double wtq[2], insert_result_t *res)
{
    const double k[3] = { P->k_lat_npm, P->k_lat_npm, P->k_ax_npm };
    s_load_t ld = { 0 };
    s_tip_contacts(P, b, &ld);
    double R = P->peg_radius_m + P->clearance_m;
    s_edge_contact(P, b, R, -P->chamfer_m, &ld);
    s_edge_contact(P, b, R + P->chamfer_m, 0, &ld);
    s_edge_face_contacts(P, b, R, -P->chamfer_m, &ld);
    s_edge_face_contacts(P, b, R + P->chamfer_m, 0, &ld);
    for (int a = 0; a < 3; a++) {
        double damp = 2 * P->damping_ratio * sqrt(k[a] * P->mass_kg);
        wrist[a] = k[a] * (xw[a] - b->p[a]) - damp * b->v[a];
        b->v[a] += (wrist[a] + ld.f[a]) / P->mass_kg * P->dt_s;
    }
    double rdamp = 2 * P->damping_ratio * sqrt(P->k_rot_nmprad * P->inertia_kgm2);
    for (int a = 0; a < 2; a++) {
        wtq[a] = P->k_rot_nmprad * (thw[a] - b->th[a]) - rdamp * b->w[a];
        b->w[a] += (wtq[a] + ld.t[a]) / P->inertia_kgm2 * P->dt_s;
        b->th[a] += b->w[a] * P->dt_s;
    }
    for (int a = 0; a < 3; a++)
        b->p[a] += b->v[a] * P->dt_s;
    res->max_contact_n = fmax(res->max_contact_n, ld.normal_sum);
    res->max_pen_m = fmax(res->max_pen_m, ld.max_pen);
}

int insert_trial(const insert_params_t *P, const insert_error_t *e, unsigned long seed,
                 insert_result_t *res)
{
    if (!P || !e || !res || !s_params_ok(P) || !isfinite(e->dx_m + e->dy_m + e->tilt_x_rad
                                                         + e->tilt_y_rad))
        return -1;
    memset(res, 0, sizeof *res);
    unsigned long long rng = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    s_ctl_t c = { .phase = S_APPROACH, .xc = { 0, 0, S_START_Z_M } };
    s_body_t b = { 0 };
    double xw[3], thw[2], wrist[3] = { 0 }, wtq[2] = { 0 };
    s_cmd_world(e, &c, xw, thw);
    memcpy(b.p, xw, sizeof b.p);
    memcpy(b.th, thw, sizeof b.th);
    long steps = (long) (P->time_limit_s / P->dt_s);
    double dtc = P->dt_s * P->control_every;
    for (long k = 0; k < steps && c.phase != S_FAILED; k++) {
        double t = k * P->dt_s;
        if (k % P->control_every == 0) {
            /* What the robot senses, in its own (tilted, offset) frame. */
            double tx = e->tilt_x_rad, ty = e->tilt_y_rad, f[3], tq[2], pm[3];
            double q[3] = { b.p[0] + e->dx_m, b.p[1] + e->dy_m, b.p[2] };
            f[0] = wrist[0] - ty * wrist[2] + P->ft_noise_n * s_gauss(&rng);
            f[1] = wrist[1] + tx * wrist[2] + P->ft_noise_n * s_gauss(&rng);
            f[2] = wrist[2] - tx * wrist[1] + ty * wrist[0] + P->ft_noise_n * s_gauss(&rng);
            tq[0] = wtq[0];
            tq[1] = wtq[1];
            pm[0] = q[0] - ty * q[2];
            pm[1] = q[1] + tx * q[2];
            pm[2] = q[2] - tx * q[1] + ty * q[0];
            s_control(P, &c, t, dtc, f, tq, pm);
            s_cmd_world(e, &c, xw, thw);
            res->max_wrist_n = fmax(res->max_wrist_n, sqrt(f[0] * f[0] + f[1] * f[1] + f[2] * f[2]));
        }
        s_step(P, &b, xw, thw, wrist, wtq, res);
        if (!isfinite(b.p[2]))
            break;
        if (-b.p[2] >= P->target_depth_m) {
            res->success = 1;
            res->time_s = t;
            break;
        }
    }
    if (!res->success)
        res->time_s = P->time_limit_s;
    res->searched = c.searched;
    res->backoffs = c.backoffs;
    res->final_depth_m = isfinite(b.p[2]) ? -b.p[2] : 0;
    return 0;
}

int insert_run(const insert_params_t *P, int n, double lat_m, double tilt_rad,
               unsigned long seed, insert_stats_t *st)
{
    if (!P || !st || n < 1 || !(lat_m >= 0) || !(tilt_rad >= 0))
        return -1;
    memset(st, 0, sizeof *st);
    unsigned long long rng = seed * 0xD1B54A32D192ED03ull + 1;
    double sum_t = 0;
    for (int i = 0; i < n; i++) {
        double u[4];
        for (int k = 0; k < 4; k++) {
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            u[k] = 2 * (((rng * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0)) - 1;
        }
        insert_error_t e = { u[0] * lat_m, u[1] * lat_m, u[2] * tilt_rad, u[3] * tilt_rad };
        insert_result_t r;
        if (insert_trial(P, &e, seed + i, &r) < 0)
            return -1;
        st->trials++;
        st->successes += r.success;
        st->searched += r.searched;
        sum_t += r.time_s;
        st->max_time_s = fmax(st->max_time_s, r.time_s);
        st->max_contact_n = fmax(st->max_contact_n, r.max_contact_n);
        st->max_pen_m = fmax(st->max_pen_m, r.max_pen_m);
    }
    st->success_pct = 100.0 * st->successes / st->trials;
    st->mean_time_s = sum_t / st->trials;
    return 0;
}
