/* motion.h — jerk-limited trajectories, a joint model, feed-forward and PID. */
#ifndef AF_ROBOT_MOTION_H
#define AF_ROBOT_MOTION_H

/*
 * A point-to-point move from rest to rest as the classic 7-segment "S-curve"
 * (jerk +J, 0, -J, cruise, -J, 0, +J; Biagiotti & Melchiorri, "Trajectory
 * Planning for Automatic Machines and Robots", 2008, §3.4): velocity,
 * acceleration and jerk never exceed their limits, and a move too short to
 * reach them drops the constant segments.
 *
 * One rotary joint: rigid inertia (motor and link reflected, plus a payload
 * as a point mass at a radius), viscous and Coulomb friction with stiction,
 * gravity on the link and payload (0 for a horizontal joint), a torque limit.
 * motion_track simulates the joint with a fixed-step integrator under a
 * digital controller: a PID on the encoder reading, optionally plus a
 * feed-forward torque from a (possibly wrong) model of the joint.
 *
 * No allocation; every function returns -1 on bad parameters.
 */

typedef struct {
    double v_max;               /* rad/s */
    double a_max;               /* rad/s^2 */
    double j_max;               /* rad/s^3 */
} motion_limits_t;

typedef struct {
    double q0, dir;             /* start, +1 or -1 */
    double t_end[7];            /* end time of each segment, s */
    double jerk[7];             /* jerk in each segment (for dir = +1) */
    double p[8], v[8], a[8];    /* state at each segment start (distance from q0) */
    double dist;                /* |q1 - q0| */
} motion_scurve_t;

/* Plans a rest-to-rest move from q0 to q1 in the shortest time the limits
 * allow.  -1 if a limit is not positive and finite or q is not finite. */
int motion_scurve_plan(double q0, double q1, const motion_limits_t *lim, motion_scurve_t *s);

double motion_scurve_duration(const motion_scurve_t *s);

/* Position, velocity, acceleration and jerk at time t (any pointer may be
 * NULL); before 0 the start, after the end the target at rest. */
void motion_scurve_eval(const motion_scurve_t *s, double t, double *q, double *qd,
                        double *qdd, double *jerk);

typedef struct {
    double inertia_kgm2;        /* motor + link about the axis */
    double viscous_nms;         /* N m per rad/s */
    double coulomb_nm;          /* kinetic and breakaway friction */
    double payload_kg;
    double payload_arm_m;       /* payload's distance from the axis */
    double link_mass_kg;
    double link_com_m;          /* link centre of mass from the axis */
    double gravity_mps2;        /* 0: horizontal joint; angle 0 = arm level */
    double torque_max_nm;
} motion_joint_t;

/* Inverse dynamics of the model: the torque for (q, qd, qdd).  The sign of
 * qd is smoothed over v_smooth (rad/s) so that feed-forward does not chatter. */
double motion_joint_torque(const motion_joint_t *j, double q, double qd, double qdd,
                           double v_smooth);

typedef struct {
    double kp;                  /* N m / rad */
    double ki;                  /* N m / (rad s) */
    double kd;                  /* N m s / rad */
} motion_pid_t;

typedef struct {
    const motion_joint_t *plant;    /* the true joint */
    const motion_joint_t *model;    /* feed-forward's belief; NULL = PID alone */
    motion_pid_t pid;
    double control_dt_s;            /* controller period */
    int substeps;                   /* integrator steps per control period */
    double encoder_rad;             /* encoder resolution (quantisation) */
    double d_filter_hz;             /* derivative low-pass */
    int delay_periods;              /* computation delay: torque applies this many periods later */
    double torque_lag_s;            /* current loop as a first-order lag */
    double tail_s;                  /* keeps tracking this long after the move */
} motion_sim_t;

typedef struct {
    double rms_err_rad;             /* over the move and the tail */
    double max_err_rad;
    double final_err_rad;
    double max_torque_nm;           /* commanded, after the limit */
    int saturated_steps;
} motion_result_t;

/* Sensible defaults: 1 kHz control, 10 integrator steps, a 17-bit encoder,
 * 200 Hz derivative filter, one period of computation delay, a 0.5 ms
 * current loop, 0.2 s tail.  The delay and lag are what limit feedback gains
 * on a real servo; without them a simulated PID could use any gain. */
void motion_sim_default(motion_sim_t *sim);

/* Simulates the joint starting at rest on the reference's start. */
int motion_track(const motion_sim_t *sim, const motion_scurve_t *ref, motion_result_t *res);

/* A move of a set: from q0 to q1 carrying a payload (which the task knows,
 * so the plant and the feed-forward model both get it). */
typedef struct {
    double q0, q1;
    double payload_kg;
} motion_move_t;

/* Mean RMS tracking error of sim over the moves, each an S-curve within lim.
 * max_err (if non-NULL) receives the largest error seen. */
int motion_eval_moves(const motion_sim_t *sim, const motion_limits_t *lim,
                      const motion_move_t *moves, int n, double *mean_rms_rad,
                      double *max_err_rad);

/* Grid search of PID gains (log-spaced kp 10^2..10^6 and kd 10^0..10^4,
 * ki in {0, 1, 10, 30, 100, 300} x kp /s) minimising the mean RMS error over the training moves, with
 * sim's feed-forward model (or none).  Returns the number of gain sets tried
 * or -1; *best gets the winner and *best_rms its score. */
int motion_pid_tune(const motion_sim_t *sim, const motion_limits_t *lim,
                    const motion_move_t *train, int n, motion_pid_t *best,
                    double *best_rms_rad);

#endif
