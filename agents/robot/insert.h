/* insert.h — force-guided peg-in-hole insertion on a simulated contact model. */
#ifndef AF_ROBOT_INSERT_H
#define AF_ROBOT_INSERT_H

/*
 * The plant: a cylindrical peg held by a compliant wrist (translational and
 * rotational springs and dampers about the peg's tip, like a remote-centre
 * compliance device) above a hole with a 45° chamfer.  Contacts are
 * penalty spring-dampers with regularised Coulomb friction: points of the
 * peg's tip face against the part's surfaces (top, chamfer, bore, bottom),
 * and the hole's two circular edges against the peg's side (found in closed
 * form: the edge point deepest in the peg's cross-section).  Small-angle
 * rigid-body dynamics, semi-implicit Euler at a fixed step.
 *
 * The strategy sees only what a robot with a wrist force/torque sensor sees:
 * the sensed force and torque (with noise), its own commanded pose, and the
 * peg's position as its joints report it (relative to where it believes the
 * hole is).  It (1) descends until contact, (2) presses with a set force,
 * (3) if the peg has not dropped into the chamfer, searches in an
 * Archimedean spiral whose pitch is below the chamfer's capture width,
 * (4) inserts under force control with lateral and rotational admittance
 * (the commanded pose follows the sensed force and torque to zero, so the
 * peg aligns with the bore), backing off and retrying if progress stalls.
 *
 * The unknown errors: the hole's lateral offset and its tilt relative to
 * where the robot believes it is.  Plain C; no allocation.
 */

typedef struct {
    /* geometry, m */
    double peg_radius_m, clearance_m, chamfer_m, hole_depth_m, target_depth_m;
    /* peg + gripper */
    double mass_kg, inertia_kgm2;       /* about the tip, across the axis */
    /* wrist compliance */
    double k_lat_npm, k_ax_npm, k_rot_nmprad, damping_ratio;
    /* contact */
    double k_contact_npm, c_contact_nspm, friction_mu;
    /* strategy */
    double press_n;                     /* force held while searching/inserting */
    double spiral_pitch_m, spiral_speed_mps, search_radius_m;
    double ft_noise_n;                  /* force sensor noise (sd) */
    double time_limit_s, dt_s;
    int control_every;                  /* physics steps per control step */
} insert_params_t;

/* A 10 mm peg in a 10.1 mm hole with a 0.5 mm chamfer, inserted 15 mm;
 * the figures behind each value are in docs/robot.md. */
void insert_params_default(insert_params_t *p);

typedef struct {
    double dx_m, dy_m;                  /* hole offset the robot does not know */
    double tilt_x_rad, tilt_y_rad;      /* hole axis tilt relative to the peg */
} insert_error_t;

typedef struct {
    int success;                        /* reached target depth in time */
    double time_s;
    double max_contact_n;               /* largest total contact force */
    double max_wrist_n;                 /* largest sensed force */
    double max_pen_m;                   /* deepest contact penetration (model check) */
    int searched;                       /* a spiral search was needed */
    int backoffs;                       /* stalls recovered */
    double final_depth_m;
} insert_result_t;

/* One trial from the given error with noise seed `seed`.  -1 on bad
 * parameters (non-positive sizes or steps, clearance not positive, …). */
int insert_trial(const insert_params_t *p, const insert_error_t *e, unsigned long seed,
                 insert_result_t *res);

typedef struct {
    int trials, successes, searched;
    double success_pct;
    double mean_time_s, max_time_s;
    double max_contact_n;
    double max_pen_m;
} insert_stats_t;

/* n seeded trials with errors uniform in +-lat_m on x and y and +-tilt_rad
 * about x and y.  -1 on bad parameters. */
int insert_run(const insert_params_t *p, int n, double lat_m, double tilt_rad,
               unsigned long seed, insert_stats_t *st);

#endif
