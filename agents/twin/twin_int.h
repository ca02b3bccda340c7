/*  twin internals — the plant's full state, split by concern.
 *
 *  Not a public header: only the files in agents/twin/ include it.  Hidden state (true
 *  wear, defect flags on units) lives here and never in twin_obs_t.
 */
#ifndef TWIN_INT_H
#define TWIN_INT_H

#include "twin.h"
#include "des.h"
#include "rng.h"
#include "af_config.h"

#define TWIN_COMP_COUNT   5
#define TWIN_DEFECT_COUNT 5
#define TWIN_MAX_BOM      8
#define TWIN_MAX_LOADS    8               /* energy.loads (issue 11) */
#define TWIN_HOURS_PER_MONTH 730.0       /* a billing month: demand charges */
#define TWIN_MAX_WIP      100000          /* orders in the plant, release queue included */
#define TWIN_PATH_MAX     32              /* nodes in one robot leg or planned route (issue 11) */
/* What a travelling robot waits for (issue 11). */
enum { TWIN_WAIT_NONE, TWIN_WAIT_EDGE, TWIN_WAIT_NODE, TWIN_WAIT_DEPART };
/* Controllers act every minute of plant time unless factory.epoch_s says otherwise. */
#define TWIN_EPOCH_DEFAULT_S 60.0
/* Downtime causes: the components, then random failures, then planned. */
#define TWIN_CAUSE_RANDOM TWIN_COMP_COUNT
#define TWIN_CAUSE_PM     (TWIN_COMP_COUNT + 1)

/* Where a bearing's fault develops; each fitted bearing draws one, and its
 * vibration carries only that fault's tone. */
enum { TWIN_BEARING_OUTER, TWIN_BEARING_INNER, TWIN_BEARING_BALL };

/* Wearing components of a station, in the order of the config keys. */
typedef enum { TWIN_C_BEARING, TWIN_C_BELT, TWIN_C_MOTOR, TWIN_C_JOINT, TWIN_C_LUBE } twin_comp_t;
extern const char *const twin__comp_names[TWIN_COMP_COUNT + 1];
extern const char *const twin__defect_names[TWIN_DEFECT_COUNT + 1];

typedef struct {
    bool present;
    double rate_per_h;      /* wear per busy hour at nameplate speed and load */
    double speed_exp;       /* wear ∝ speed^speed_exp */
    double threshold;       /* rated wear limit: the scale of "condition" */
    double life_cv;         /* spread of the actual limit from part to part */
    double pm_restore;      /* fraction of its wear a PM removes */
    twin_dist_t repair_s;   /* time to replace it */
    double wear;            /* hidden, 0 … life */
    double life;            /* hidden: this part's actual limit, drawn when fitted */
    twin_rng_t life_rng;    /* the n-th part fitted takes the n-th draw */
    int mode;               /* bearings: the fault that develops (TWIN_BEARING_*), hidden */
    twin_rng_t mode_rng;
    /* health (issue 11) */
    uint64_t processed_at_fit;          /* the station's count when this part was fitted */
} twin_component_t;

typedef struct {
    int *items;             /* ring of unit ids */
    size_t head, n, cap;
} twin_queue_t;

/* quality (issue 11): a station's in-line process — drift of the process
 * (tool wear, fixture misalignment) and of its gauges, the gauges' readings,
 * skipped steps and recalibration (quality.c).  Offsets and sensor biases
 * are hidden; controllers see only the noisy readings. */
#define TWIN_DEFECT_SKIP  TWIN_COMP_COUNT   /* the kind after the five driven ones */
#define TWIN_DEFECT_KINDS (TWIN_DEFECT_COUNT + 1)
extern const char *const twin__defect_kind_names[TWIN_DEFECT_KINDS + 1];
typedef struct {
    bool on;                            /* in-line physics configured (torque_tol_pct or align_tol_mm) */
    double cp;                          /* process capability: sd = tolerance / (3 cp) */
    double torque_tol;                  /* ± fraction of the nominal torque, 0: no torque check */
    double align_tol_mm;                /* ± mm, 0: no alignment check */
    double drift_per_h, drift_sd_per_h; /* process offset, fractions of the tolerance per busy hour */
    double sensor_drift_per_h;          /* gauge bias random walk, fraction of the tolerance per √h */
    double temp_drift_c_per_h;          /* temperature sensor bias random walk, °C per √h */
    double gauge_sd;                    /* gauge noise, fraction of the tolerance (from grr_pct) */
    double skip_p;                      /* a unit misses this station's operation */
    double recal_s;                     /* stop for a recalibration */
    twin_rng_t rng_drift;               /* process drift, unit-to-unit variation, skipped steps */
    twin_rng_t rng_gauge;               /* gauge noise and sensor drift */
    double off_torque, off_align;       /* hidden: process offsets, fractions of the tolerance */
    double bias_torque, bias_align, bias_temp_c;  /* hidden: sensor drift */
    double busy_seen_s;                 /* busy time the drift has been applied for */
    bool cal_pending, cal_active;
    uint32_t cal_gen;
    uint64_t cal_failures;              /* breakdowns when it started: one since voids it */
    double cal_started_s;
    double t_cal_s;                     /* last recalibration done, −1 none */
    uint32_t last_serial;               /* the last unit it finished */
    double last_torque_nm, last_align_mm, last_temp_c;
    /* this epoch so far, and the last epoch's figures for telemetry */
    double ep_units, ep_meas, ep_t_sum, ep_t_sq, ep_a_sum, ep_a_max;
    double tel_units, tel_meas, tel_t_mean, tel_t_sd, tel_a_mean, tel_a_max;
    double found[TWIN_DEFECT_KINDS];    /* defects found by end-of-line inspection that came from here */
    double skipped, recals;
    double recal_every_units;           /* the maker's calibration interval in cycles (baseline), 0 none */
    double units_since_cal;             /* cycles since the last recalibration: the station counts them */
} twin_station_q_t;

typedef struct {
    char name[TWIN_NAME_MAX];
    int index;
    /* Common random numbers: one stream per purpose, so a decision in one
     * concern leaves the draws of the others where they were. */
    twin_rng_t rng_proc;                /* processing and setup times */
    twin_rng_t rng_qual;                /* defects and in-line measurements */
    twin_rng_t rng_fail;                /* random failures */
    twin_rng_t rng_repair;              /* repair and PM durations */
    twin_dist_t process_s;              /* default */
    twin_dist_t *process_by_variant;    /* n_variants, kind CONST with a = −1 when unset */
    bool *has_variant_process;
    twin_dist_t setup_s;
    bool has_setup;
    bool setup_manual;                  /* changeovers are done by an operator */
    int buffer_cap;                     /* −1 unbounded */
    double conveyor_s;                  /* transit to the next station */
    double max_speed;
    /* reliability */
    double mtbf_h;                      /* 0: no random failures */
    twin_dist_t repair_s;
    twin_component_t comp[TWIN_COMP_COUNT];
    double pm_interval_h;               /* the maker's interval */
    twin_dist_t pm_s;
    /* quality */
    double defect_base_p, defect_wear_gain, defect_speed_gain, defect_temp_gain;
    double torque_nominal_nm;
    /* energy & heat */
    double power_idle_kw, power_busy_kw, power_blocked_kw;
    double heat_rise_c;                 /* temperature rise when fully busy */
    double vib_base_mm_s;
    double shaft_hz;
    /* dynamic state */
    twin_queue_t buf;
    int in_transit;                     /* units on the conveyor towards this station */
    twin_state_t state;
    double t_state_s;
    double time_in_s[TWIN_ST_COUNT];
    double epoch_busy_s;
    double energy_kwh;
    double speed;
    uint32_t gen;                       /* bumps to cancel scheduled completions */
    uint32_t svc_gen;                   /* bumps to cancel a scheduled repair end */
    bool svc_by_tech;                   /* the current service is a technician's */
    int unit;                           /* unit held (processing or blocked), −1 */
    int blocked_on;                     /* station index, or −2 for the sink */
    int *waiters, n_waiters, waiters_cap; /* stations blocked on this one (model.c) */
    int waiters_visiting;               /* nesting of s_space_freed on this station */
    bool holding_done;                  /* unit held is finished */
    double remaining_s;                 /* work left when a failure interrupted it */
    twin_state_t resume_state;
    int last_variant;
    bool pm_pending, pm_by_robot;
    bool repair_by_robot;
    bool awaiting_repair;               /* down, waiting for the maintenance owner's order */
    bool repair_ordered;                /* the owner ordered this repair */
    int down_cause;                     /* component index or −1 random */
    double t_last_pm_s;
    double temp_c;                      /* true temperature at the last epoch */
    double vib_mm_s;
    double torque_nm, alignment_mm;
    uint64_t processed, failures;
    double inspected_wear, t_inspected_s;
    double t_end_s;                     /* scheduled end of the current setup or process */
    double failure_due_s;               /* calendar time of the next random failure, −1 */
    double ttf_left_s;                  /* up time left to it while stopped, −1 */
    uint32_t fail_gen;                  /* bumps to cancel a scheduled failure */
    double repair_started_s;
    /* health (issue 11) */
    int svc_kind, svc_comp;             /* the planned stop under way (TWIN_SVC_*) and its part */
    int svc_next, svc_next_comp;        /* the planned stop waiting for a unit boundary */
    bool fail_symptom;                  /* hidden: the coming random failure shows in its P-F interval */
    twin_rng_t rng_pf;                  /* <station>/pf: which failures give warning */
    bool spare_wait;                    /* down, waiting for a spare */
    double t_last_lube_s, svc_start_s;
    const twin_dist_t *svc_dist;        /* duration of the planned stop under way; NULL: a PM */
    twin_rng_t *svc_dist_rng;

    /* quality (issue 11) */
    twin_station_q_t q;

    /* flow (issue 11): buffer limit, stand-by and wake-up */
    int buffer_max;                     /* physical maximum for the buffer command; −1 unbounded */
    int buffer_cap_cfg;                 /* as the plant file says, for the baseline */
    double power_standby_kw, power_wake_kw;
    twin_dist_t wake_s;                 /* time to wake up from stand-by */
    twin_standby_t standby_mode;        /* as ordered */
    bool waking;                        /* in TWIN_ST_STANDBY, waking up */
    uint32_t wake_gen;                  /* bumps to cancel a scheduled wake-up end */
    double wakeups;                     /* wake-ups (measured window) */
    double epoch_in_s[TWIN_ST_COUNT];   /* time in each state this epoch, so far */
    double epoch_share[TWIN_ST_COUNT];  /* … and its share in the last epoch (telemetry) */
    twin_rng_t rng_wake;                /* wake-up times: "<station>/standby" */

    /* robots (issue 11) */
    bool changeover_by_robot;           /* an idle mobile robot does the changeover */
} twin_station_t;

typedef struct {
    char name[TWIN_NAME_MAX];
    double mix;
    double due_h;
    double load;                        /* wear multiplier (heavier product, more wear) */
    int *route[2];                      /* station indexes */
    int route_len[2];
    int active_route;
    int bom_part[TWIN_MAX_BOM];
    double bom_qty[TWIN_MAX_BOM];
    int bom_n;
} twin_variant_t;

typedef struct {
    int variant;
    int route;
    int step;
    uint32_t defects;                   /* hidden: bit per defect kind */
    double t_arrive_s, due_s;
    int transit_to;                     /* on the conveyor to this station, or −1 */
    bool lost;                          /* removed by a shadow report while on a conveyor */
    /* quality (issue 11) */
    uint32_t q_serial;                  /* 0: not a unit in the plant */
    int16_t q_origin[TWIN_DEFECT_KINDS]; /* hidden: station that made each defect, −1 */
    uint8_t q_divert;                   /* 0, or 1 + the divert target (rework, scrap) */

    /* flow (issue 11) */
    double t_release_s;                 /* entered the line (saturated: = t_arrive_s) */
} twin_unit_t;

typedef struct {
    char name[TWIN_NAME_MAX];
    twin_rng_t rng;
    double warehouse, on_order, bin, bin_cap, bin_refill_at;
    bool bin_task_open;
    twin_dist_t lead_time_s;
    double shortage_p, damage_p;
    double reorder_point, order_qty;    /* baseline (R, Q); 0: from demand */
    double avg_use_per_h;
    double var_use_per_h;               /* variance of the hourly use (compound Poisson) */
    double used;
    /* delivery only (site.c): a scheduled lander, no purchase orders */
    double delivery_every_s, delivery_qty, delivery_first_s;
    /* material (issue 11) */
    double warehouse_cap;               /* units; 0: unbounded */
    double unit_cost;                   /* value of one unit (holding cost) */
    double damaged_hidden;              /* damaged units the dock missed, in stock */
    twin_rng_t intake_rng;              /* the dock's inspection */
    double lt_n, lt_sum_h, lt_sq_h;     /* lead times seen (for telemetry) */
    double damaged_mean;                /* what the plant can expect of damaged_hidden */
} twin_part_t;

typedef struct {
    twin_task_kind_t kind;
    int station, part;
    int component;                      /* repair of a running station: the part to swap, −1 */
    uint32_t id;                        /* the plant's own tasks: their number in the pool */
    double t_created_s;
    double work_s;                      /* robots (issue 11): a changeover's duration */
} twin_task_t;

typedef struct {
    int node;
    bool busy;
    double busy_s, t_busy_start_s;
    twin_task_t queue[16];              /* assigned by command, FIFO */
    int q_n;
    /* rover (project.c): skills, wear and the project task it works on */
    uint32_t skills;                    /* bit per project skill */
    double wear, life;                  /* hidden; breaks when wear reaches life */
    bool down;                          /* broken, waiting for or under repair */
    bool servicing;                     /* the down time is a planned service */
    bool service_pending, service_by_robot;
    double work_s;                      /* project work since the last service or repair */
    double work_left_s;                 /* of a task interrupted by a breakdown */
    int ptask;                          /* project task, −1 none */
    int phase;                          /* S_PH_* in project.c */
    double t_down_s, t_wait_s;
    /* robots (issue 11): travel in space and time (robots.c), robots.travel */
    twin_task_t job;                    /* the task under way */
    int job_stop;                       /* deliver: 0 warehouse, 1 line side */
    int path[TWIN_PATH_MAX];            /* nodes of the current leg, path[path_i] passed */
    double depart_s[TWIN_PATH_MAX];     /* planned departure from each node, −1 none */
    int path_n, path_i;
    int plan[TWIN_PATH_MAX];            /* a controller's route for its next go-to task */
    double plan_depart_s[TWIN_PATH_MAX];
    int plan_n;
    int edge;                           /* edge travelled, −1 at a node */
    double t_edge0_s, t_edge1_s;        /* entered, reaches the far end */
    int wait;                           /* TWIN_WAIT_* */
    double t_wait_s_traffic;            /* since when it waits for an aisle or a node */
    bool conflicted, deadlocked, force;
    uint32_t move_gen;                  /* bumps to cancel its scheduled wake-ups */
    double soc_kwh;
    double t_acc_s;                     /* draw while not driving is charged up to here */
    bool charging;
} twin_robot_t;

/* One project task (project.c); its public face is twin_project_task_t. */
typedef struct {
    twin_dist_t dur_s;
    int skill;                          /* −1: any robot */
    bool outside;                       /* needs an airlock passage out and back */
    int part[TWIN_MAX_BOM];
    double qty[TWIN_MAX_BOM];
    int n_part;
    int *succ, n_succ;
    int *pred, n_pred;
    int preds_left;
    double lrp_s;                       /* longest remaining path, by mean durations */
    bool started, done;
} twin_ptask_t;

#define TWIN_MAX_SKILLS 32

/* What was done to the live twin from outside, in order, so that a fork can
 * redo it at exactly the same point of the run. */
typedef struct {
    double t_s;
    uint64_t events;                    /* events run when it was applied */
    int epoch;
    bool in_epoch;                      /* inside the hooks of epoch EPOCH */
    bool before_start;
    bool is_shadow;                     /* a shadow report, not a command */
    twin_cmd_t cmd;
    twin_plant_report_t report;
    int inv_part;                       /* ≥ 0: an inventory shadow report */
    double inv_warehouse, inv_bin;
} twin_logged_cmd_t;

/* The plant's state, one sub-struct per concern, each owned (changed) by
 * the file named beside it; the concern table in twin.c lists their hooks. */

/* flow.c: orders, their release, units on the line, and what flowed. */
typedef struct {
    enum { TWIN_ARR_POISSON, TWIN_ARR_SATURATED } arrival_mode;
    double arrival_rate_per_h;
    twin_rng_t arr_rng;                 /* times between orders */
    twin_rng_t mix_rng;                 /* which variant an order is */
    twin_queue_t release;               /* orders not yet released */
    twin_seq_rule_t seq_rule;
    int batch_size, batch_left, last_released_variant;
    twin_seq_rule_t seq_rule_cfg;       /* as the plant file says, for the baseline */
    int batch_size_cfg;
    twin_unit_t *units;
    int *free_units;
    int n_units_cap, n_free;
    /* statistics (from t_stats_s) */
    double units_out, good_out, sojourn_sum_s, orders_lost, epoch_units;
    double wip, wip_area, t_wip_s;      /* every order from its arrival */
    /* flow (issue 11): lead time vs cycle time, due dates, WIP caps */
    double cycle_sum_s;                 /* from release into the line (sojourn_sum_s: from arrival) */
    double tardy, tardiness_sum_s;      /* units shipped after their due date, and by how much */
    double fg_area_s;                   /* unit-seconds finished goods wait for their due date */
    double wip_line, wip_line_area;     /* released and not shipped (same clock as wip) */
    double arrivals, epoch_arrivals;    /* orders arrived (measured window, this epoch so far) */
    double arrivals_last_epoch;         /* … and in the last epoch, for the observation */
    int wip_cap;                        /* release only while wip_line < wip_cap; 0: no cap */
    double day_profile[24];             /* relative hourly order rates, mean 1; all 0: flat */
    double profile_max;                 /* their maximum (thinning), 0: no profile */
    twin_rng_t profile_rng;             /* thinning draws: "arrivals/profile" */
} twin_flow_t;

/* quality.c: end-of-line inspection and what it found. */
typedef struct {
    int sample_every, sample_count;
    double detect_p[TWIN_DEFECT_COUNT];
    double rework_p;
    twin_rng_t qual_rng;
    double scrap, rework, escaped, defects_found;
    /* quality (issue 11): inspection capacity, costs, field returns, diverts */
    double detect_skip_p;               /* detection of a skipped step */
    double inspect_s, inspectors, inspect_queue;
    double t_inspector_free_s;          /* the inspectors' bench, pooled */
    double labour_per_h, rework_s, rework_cost, scrap_cost, return_cost;
    double return_p;                    /* share of escapes that come back */
    twin_dist_t return_delay_s;
    twin_rng_t return_rng;
    uint32_t next_serial;
    twin_field_return_t *pending;       /* escapes that will come back; events hold the index */
    size_t pending_n, pending_cap;
    twin_field_return_t *returns;       /* returned so far, in order */
    size_t returns_n, returns_cap;
    double inspected, inspect_missed, inspect_h, rework_h;
    double field_returns, diverted, false_diverts, skipped, recals;
} twin_quality_t;

/* health.c: spares of one component kind (issue 11); unmanaged: unlimited, free. */
typedef struct {
    bool managed;
    double stock, on_order, unit_cost, min, max;
    twin_dist_t lead_s;
    twin_rng_t rng;                     /* spares/<component>: supplier lead times */
} twin_spare_t;

/* Planned stops (issue 11): what a MAINT stop does. */
enum { TWIN_SVC_PM, TWIN_SVC_REPLACE, TWIN_SVC_LUBE, TWIN_SVC_REALIGN };

/* health.c: technicians, breakdowns, repairs and planned maintenance. */
typedef struct {
    int technicians, tech_busy;
    twin_dist_t tech_response_s;
    int *repair_queue;                  /* station ids waiting for a technician */
    int rq_head, rq_n;
    twin_rng_t people_rng;              /* technicians' response */
    twin_rng_t inspect_rng;             /* robots' wear measurements */
    double breakdowns, repairs, repair_time_s;
    double down_by_cause_s[TWIN_CAUSE_COUNT];
    /* issue 11: initial ages, P-F intervals, spares, labour, skills */
    bool configured;                    /* the plant has a health: section */
    bool steady_state_age;              /* parts start at their renewal-equilibrium age */
    double pf_share, pf_s, pf_vib_mm_s, pf_temp_c;
    bool has_robot_skills;
    uint32_t robot_skills;              /* bit per cause (components, then random) a robot may repair */
    twin_dist_t lube_s, realign_s;
    double tech_cost_per_h, robot_cost_per_h;
    twin_spare_t spare[TWIN_COMP_COUNT];
    int *spare_q, sq_n;                 /* stations waiting for a spare, FIFO */
    double spares_used, spares_cost, labour_tech_s, labour_robot_s, failures_averted;
    twin_rng_t svc_rng;                 /* durations of lubrication, realignment */
} twin_health_t;

/* robots.c: the mobile fleet's floor and task pool (robots are in twin.robot). */
typedef struct {
    double robot_speed_mps, robot_inspect_s, robot_handle_s;
    bool robot_can_repair;
    double *dist_m;                     /* floor graph shortest paths, (n_stations+2)^2 */
    int n_nodes, node_warehouse, node_dock;
    twin_task_t *tasks;                 /* the plant's own tasks, in order of creation */
    int task_n, task_cap;
    uint32_t next_task_id;
    twin_pool_task_t *pool_view;        /* twin_task_pool's answer */
    size_t pool_view_cap;
    /* robots (issue 11): aisles with capacity, congestion, traffic, battery */
    bool travel;                        /* robots move edge by edge in time */
    double congestion;                  /* speed ÷ (1 + congestion × others on the aisle) */
    double conflict_s;                  /* backing out of a blocked aisle */
    double deadlock_timeout_s;          /* until an operator clears a deadlock */
    int n_edges;
    struct { int a, b; double len_m; int width; } *edges;   /* width 0: unlimited */
    int *edge_of;                       /* n_nodes², edge index or −1 */
    int *next_hop;                      /* n_nodes², first node of a shortest path */
    int *node_cap;                      /* per node, 0 unlimited */
    char (*node_name)[TWIN_NAME_MAX];   /* every node's name (extra nodes after the stations) */
    int *chargers, n_chargers;
    double batt_kwh, wh_per_m, work_kw, charge_kw, charge_below;
    bool wake_pending;
    double collisions, deadlocks, travel_m, batt_empty;   /* measured window */
} twin_fleet_t;

/* energy.c: power, heat, solar, battery, tariff. */
typedef struct {
    double ambient_mean_c, ambient_day_amp_c, ambient_season_amp_c;
    double hvac_setpoint_cfg_c;         /* as the plant file says, for the baseline */
    double indoor_c, hvac_setpoint_c, hvac_cop, hvac_max_kw, ua_kw_per_c, heat_cap_kwh_per_c;
    double base_load_kw;
    double solar_peak_kw, latitude_deg, cloud_mean;
    double cloud_today;
    int cloud_day;
    twin_rng_t weather_rng;
    double batt_cap_kwh, batt_max_kw, batt_eff, batt_soc, batt_setpoint_kw, batt_min_soc;
    struct { double from_h, to_h, price; } tou[8];
    int n_tou;
    double price_default, demand_charge_per_kw;
    double demand_interval_s;           /* the utility's averaging interval (15 min) */
    double demand_kwh, demand_s;        /* import so far in the current interval */
    double month_peak_kw;
    int month;
    double last_station_kwh;
    double last_grid_kw, last_load_kw, last_solar_kw, last_batt_kw, last_hvac_kw, last_price;
    double energy_kwh, solar_kwh, energy_cost, peak_kw, demand_cost;
    /* energy (issue 11): thermal mass, battery wear, grid outages, loads */
    double hvac_response_h;             /* closed-loop time constant; 0: holds the set point */
    double batt_wear_per_kwh;           /* degradation cost per kWh discharged */
    double month_stats_s;               /* measured seconds of the open month */
    twin_rng_t grid_rng;                /* outage times and durations */
    double outage_per_h;                /* 0: the grid never fails */
    twin_dist_t outage_s;
    double next_outage_s, outage_end_s; /* −1: not drawn yet / no outage on */
    bool grid_out, line_off;            /* the line stops at its next unit boundary */
    double line_run_kw;                 /* the line's draw when every station is busy */
    struct {
        char name[TWIN_NAME_MAX];
        double kw, catch_up_kw, max_defer_h;
        bool critical;
        double hold_until_s, backlog_kwh, last_kw;
    } load[TWIN_MAX_LOADS];
    int n_loads;
    double batt_wear_cost, batt_out_kwh, outage_s_sum, outages, unserved_kwh, deferred_kwh;
} twin_energy_t;

/* inventory.c: supply and shortage (parts are in twin.part). */
typedef struct {
    double shortage_s, damaged;
    /* material (issue 11): holding cost and the dock's intake inspection */
    double holding_per_year;            /* share of a part's value per year */
    bool intake;                        /* inspection at the dock (else the free scan) */
    twin_dist_t intake_s;               /* per delivery */
    double intake_cost, intake_detect_p;
    double holding_cost, intake_cost_sum, returned, damaged_at_line, intakes;
} twin_inventory_t;

/* observe.c: what controllers may see, refreshed every epoch. */
typedef struct {
    twin_obs_t obs;
    twin_station_obs_t *st_obs;
    twin_part_obs_t *part_obs;
    int *robot_busy_obs;
    twin_rng_t sensor_rng;
} twin_view_t;

/* observe.c: time series and the maintenance log for reports. */
typedef struct {
    bool record;
    twin_series_t series;
    size_t series_cap;
    twin_maint_event_t *mev;
    size_t mev_n, mev_cap;
} twin_record_t;

/* cmd.c and whatif.c: commands applied from outside, for forks. */
typedef struct {
    twin_logged_cmd_t *log;
    size_t log_n, log_cap;
    const twin_logged_cmd_t *replay;    /* fork: commands to re-apply */
    size_t replay_n, replay_i;
} twin_cmdlog_t;

/* site.c: day length, dust storms, remote staff.  The defaults (an Earth
 * day, no storms, staff on site) leave the factories as they were. */
typedef struct {
    bool site_set, site_mars;
    double day_s, year_days, tilt_deg;
    double storm_onset_per_sol, tau_clear, storm_wear_mult;
    twin_dist_t storm_sol, storm_tau;
    twin_rng_t site_rng;
    bool storm_active;
    double tau_now, storm_start_s, storm_s;
    double storms;
    double wear_mult;                   /* 1, or storm_wear_mult during a storm */
    double solar_factor;                /* 1, or the storm's dimming */
    bool remote_only;
    double link_delay_s, blackout_every_s, blackout_s;
    double teleops, link_wait_s;
} twin_site_t;

/* project.c: habitat construction by the rovers. */
typedef struct {
    int n_ptasks;
    twin_ptask_t *ptask;
    twin_project_task_t *ptask_pub;
    char skill_names[TWIN_MAX_SKILLS][TWIN_NAME_MAX];
    int n_skills;
    bool rule_fifo;
    double ptasks_done, t_project_done_s;
    double rover_rate_per_h, rover_life_cv;
    twin_dist_t rover_repair_s, rover_service_s;
    double rover_service_every_s;       /* the maker's interval in work hours, for the baseline */
    double rover_service_s_sum;         /* planned rover downtime (measured window) */
    bool rover_repair_by_robot;
    int *rover_rq, rover_rq_n;          /* broken rovers waiting for a robot */
    twin_rng_t rover_rng;
    int airlock_cap, airlock_in, airlock_max_in;
    double airlock_cycle_s;
    int *airlock_q, airlock_qn;         /* robots waiting, FIFO */
    double airlock_passages, airlock_waits, airlock_wait_s, airlock_busy_s;
    double rover_breakdowns, rover_down_s, rover_services;
} twin_project_t;

struct twin {
    /* twin.c: life cycle, clock and epochs */
    char *config_text;                  /* kept for forks */
    size_t config_len;
    char config_name[256];
    uint64_t seed;
    des_t *des;
    char factory[TWIN_NAME_MAX];
    double epoch_s, warmup_s, t_stats_s;
    int epoch;
    twin_policy_t policy;
    bool has_policy;
    twin_epoch_fn *epoch_fn;
    void *epoch_ctx;
    bool started, in_epoch;
    uint64_t snippet_count;             /* signals.c */

    /* The plant's equipment (config.c builds it; each concern keeps its
     * part of a station's or part's state in it). */
    int n_stations, n_variants, n_parts, n_robots;
    twin_station_t *st;
    twin_variant_t *var;
    twin_part_t *part;
    twin_robot_t *robot;
    /* Manual interventions, counted by every concern that calls on a person. */
    double manual;
    /* Concerns an agent owns (twin.c); RETURNED marks one handed back, for
     * the baseline to apply its settings again. */
    bool owned[TWIN_OWN_COUNT], own_returned[TWIN_OWN_COUNT];

    twin_flow_t flow;
    twin_quality_t quality;
    twin_health_t health;
    twin_fleet_t fleet;
    twin_energy_t energy;
    twin_inventory_t inv;
    twin_view_t view;
    twin_record_t rec;
    twin_cmdlog_t cmds;
    twin_site_t site;
    twin_project_t project;
};

/* ------------------------------------------------------------ cross-file internals */

/* twin.c: life cycle and the concern table. */
twin_t *twin__new (const char *text, size_t len, const char *name, uint64_t seed,
                   char *err, size_t err_len);
int  twin__concerns_load (twin_t *self, const af_config_t *root);
/* True once after CONCERN came back to the twin; clears the mark. */
bool twin__own_returned (twin_t *self, twin_own_t concern);
void twin__stats_reset (twin_t *self);

/* cmd.c: the command table.  Validates and applies CMD, logging it against
 * EPOCH for forks; records a command or (CMD NULL) a shadow report. */
int  twin__apply (twin_t *self, const twin_cmd_t *cmd, char *err, size_t len, int epoch);
twin_logged_cmd_t *twin__log (twin_t *self, const twin_cmd_t *cmd,
                              const twin_plant_report_t *report, int epoch);
/* Writes FMT to ERR and returns -1. */
int  twin__fail (char *err, size_t len, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
/* whatif.c: redoes one logged command or shadow report in a fork. */
void twin__replay_one (twin_t *self, const twin_logged_cmd_t *entry);

/* config.c: the equipment (stations, parts, variants), then every concern's
 * section; helpers for the concerns' loaders. */
int  twin__load (twin_t *self, const af_config_t *root);
/* A child mapping that may be absent; records an error if it is not a map. */
const af_config_t *twin__cfg_map (const af_config_t *parent, const char *key, const char *const keys[]);
/* An optional distribution KEY of MAP in units of SCALE, DFLT when absent. */
int  twin__cfg_dist (twin_dist_t *d, const af_config_t *map, const char *key, double scale, double dflt);

/* flow.c: units through the stations. */
int  twin__flow_load (twin_t *self, const af_config_t *root);
int  twin__flow_start (twin_t *self);
void twin__flow_epoch (twin_t *self, double dt_s);
void twin__flow_reset (twin_t *self);
void twin__flow_destroy (twin_t *self);
int  twin__queue_push (twin_queue_t *q, int item);
/* Brings a station's time-in-state and energy counters up to now. */
void twin__station_flush (twin_t *self, twin_station_t *s);
void twin__station_set_state (twin_t *self, twin_station_t *s, twin_state_t state);
/* After a repair or PM: carry on with the unit on board, or take the next. */
void twin__station_resume (twin_t *self, twin_station_t *s);
void twin__try_release (twin_t *self);
bool twin__is_route_start (const twin_t *self, int station);
int  twin__buffer_set (twin_t *self, twin_station_t *s, int level);
/* flow (issue 11): the flow commands' effects (cmd.c validates). */
void twin__station_standby (twin_t *self, twin_station_t *s, twin_standby_t mode);
void twin__flow_set_wip_cap (twin_t *self, int wip_cap);
void twin__flow_set_buffer (twin_t *self, twin_station_t *s, int capacity);
int  twin__flow_design (twin_t *self, twin_station_t *s, int variant, double mean_s);
void twin__flow_set_mix (twin_t *self, int variant, double mix);
/* observe.c calls: the order book and per-station flow figures into the
 * observation, and their telemetry samples (topics orders, flow.<station>). */
void twin__flow_observe (twin_t *self);
void twin__flow_telemetry (const twin_t *self, void (*fn) (void *, const twin_sample_t *), void *ctx);

/* health.c: wear, failures, repair and PM. */
int  twin__health_load (twin_t *self, const af_config_t *root);
int  twin__health_start (twin_t *self);
void twin__health_epoch (twin_t *self, double dt_s);
void twin__health_reset (twin_t *self);
void twin__health_destroy (twin_t *self);
/* Adds BUSY_S of wear; returns the component that reached its life, or −1. */
int  twin__health_wear (twin_station_t *s, double busy_s, double load, double site_mult);
void twin__component_fit (twin_station_t *s, int c);
/* Wear of component C as a fraction of its rated limit. */
double twin__wear_frac (const twin_station_t *s, int c);
/* The most worn present component of S, as a fraction of its threshold. */
double twin__worst_wear (const twin_station_t *s);
void twin__station_breakdown (twin_t *self, twin_station_t *s, int cause);
void twin__station_try_pm (twin_t *self, twin_station_t *s);
void twin__repair_done_now (twin_t *self, twin_station_t *s);
double twin__service_duration (twin_station_t *s);
void twin__maint_log (twin_t *self, int station, const char *kind, const char *cause, bool manual);
/* The maintenance owner's order for a station waiting for repair. */
void twin__health_order_repair (twin_t *self, twin_station_t *s, bool by_robot);
/* Maintenance came back to the twin: stations waiting for an order get one. */
void twin__health_take_back (twin_t *self);
/* What-if: lives given age and the next failures drawn again, fresh streams. */
void twin__health_redraw (twin_t *self, uint64_t salt);
/* health (issue 11): commands' checks and actions (cmd.c rows). */
int  twin__service_check (const twin_t *self, int station, int kind, int comp, bool by_robot,
                          char *err, size_t len);
void twin__service_order (twin_t *self, int station, int kind, int comp, bool by_robot);
int  twin__spare_order_check (const twin_t *self, int comp, double qty, char *err, size_t len);
void twin__spare_order (twin_t *self, int comp, double qty);
/* A robot's part swap on a running station (task_assign repair with a
 * component): refused without a spare or the skill; the spare is taken at
 * the order (when S is running then). */
int  twin__swap_check (const twin_t *self, int comp, char *err, size_t len);
void twin__swap_reserve (twin_t *self, const twin_station_t *s, int comp);
/* Whether a robot may repair what stopped S (the plant's robot_skills). */
bool twin__robot_can_fix (const twin_t *self, const twin_station_t *s);
/* upkeep.c: the health: section, initial ages, spares, labour, KPIs, telemetry. */
int  twin__upkeep_load (twin_t *self, const af_config_t *root);
void twin__upkeep_initial_age (twin_t *self, twin_station_t *s);
/* A wear breakdown of S needs a spare: takes one (true) or queues S for one. */
bool twin__spare_take (twin_t *self, twin_station_t *s, int comp);
void twin__upkeep_redraw (twin_t *self, uint64_t salt);
void twin__upkeep_kpis (const twin_t *self, twin_kpi_t *k);
void twin__upkeep_observe (twin_t *self);
void twin__upkeep_telemetry (const twin_t *self, void (*fn) (void *, const twin_sample_t *), void *ctx);
void twin__upkeep_destroy (twin_t *self);
/* The health: section's public facts, as a "health" member of the open
 * "people" object of twin_describe (nothing when the plant has none). */
void twin__upkeep_describe (const twin_t *self, FILE *out);
/* A spare for a queued station arrived: its repair proceeds (health.c). */
void twin__health_spare_arrived (twin_t *self, twin_station_t *s);

/* quality.c: defects and inspection. */
int  twin__quality_load (twin_t *self, const af_config_t *root);
void twin__quality_reset (twin_t *self);
void twin__quality_unit (twin_station_t *s, twin_unit_t *u);
bool twin__quality_ship (twin_t *self, twin_unit_t *u);
/* quality (issue 11): in-line process, recalibration, diverts, returns. */
void twin__quality_unit_new (twin_t *self, twin_unit_t *u);
void twin__quality_inline (twin_t *self, twin_station_t *s, twin_unit_t *u);
/* At a unit boundary: starts a pending recalibration; true when it did. */
bool twin__quality_try_cal (twin_t *self, twin_station_t *s);
int  twin__quality_station_load (twin_station_t *s, const af_config_t *q, uint64_t seed);
void twin__quality_epoch (twin_t *self, double dt_s);
void twin__quality_destroy (twin_t *self);
void twin__quality_redraw (twin_t *self, uint64_t salt);
void twin__quality_kpis (const twin_t *self, twin_kpi_t *k);
int  twin__quality_cal_check (const twin_t *self, int station, char *err, size_t len);
void twin__quality_cal_order (twin_t *self, int station);
int  twin__quality_divert_check (const twin_t *self, int station, double serial, int to, char *err, size_t len);
void twin__quality_divert (twin_t *self, int station, double serial, int to);

/* inventory.c: bins, bills of materials, supply. */
int  twin__inventory_load (twin_t *self, const af_config_t *root);
void twin__inventory_epoch (twin_t *self, double dt_s);
void twin__inventory_reset (twin_t *self);
void twin__bins_check (twin_t *self);
bool twin__inventory_take_bom (twin_t *self, int variant);
void twin__inventory_order (twin_t *self, int part, double qty);
void twin__inventory_destroy (twin_t *self);     /* material (issue 11) */
/* What-if: damage the dock missed drawn again from what the plant expects. */
void twin__inventory_redraw (twin_t *self, uint64_t salt);

/* robots.c: the mobile fleet. */
int  twin__fleet_load (twin_t *self, const af_config_t *root);
void twin__fleet_reset (twin_t *self);
/* Every epoch (issue 11): idle robots low on charge go and charge. */
void twin__fleet_epoch (twin_t *self, double dt_s);
void twin__fleet_destroy (twin_t *self);
void twin__task_push (twin_t *self, twin_task_kind_t kind, int station, int part);
void twin__robots_dispatch (twin_t *self);
int  twin__task_dispatch (twin_t *self, uint32_t id, int robot);
/* robots (issue 11) */
/* Kilowatts the robots' chargers draw now (a deferrable load for energy). */
double twin__robots_charging_kw (const twin_t *self);
/* Robot R's charge now, kWh (its draw at a node counted up to now). */
double twin__robot_soc_kwh (const twin_t *self, int r);
/* Parses a comma list of floor node names into NODES (≤ TWIN_PATH_MAX);
 * returns the count or −1 with ERR. */
int  twin__floor_path_parse (const twin_t *self, const char *text, int *nodes, char *err, size_t len);
int  twin__robot_path_check (const twin_t *self, int robot, const char *nodes, const char *depart,
                             char *err, size_t len);
void twin__robot_path (twin_t *self, int robot, const char *nodes, const char *depart);
int  twin__robot_queue_check (const twin_t *self, int robot, int slot, char *err, size_t len);
void twin__robot_cancel (twin_t *self, int robot, int slot);
void twin__robot_prioritise (twin_t *self, int robot, int slot);
/* A changeover of SETUP_S at station S by the nearest idle robot: returns
 * the station's whole changeover time (the robot's trip at free-floor speed,
 * then SETUP_S), or −1 when no robot is free (an operator does it). */
double twin__robot_changeover (twin_t *self, twin_station_t *s, double setup_s);

/* energy.c */
int  twin__energy_load (twin_t *self, const af_config_t *root);
void twin__energy_epoch (twin_t *self, double dt_s);
void twin__energy_reset (twin_t *self);
double twin__price (const twin_t *self, double t_s);
/* energy (issue 11) */
void twin__energy_destroy (twin_t *self);
int  twin__load_defer_check (const twin_t *self, int load, double hours, char *err, size_t len);
void twin__load_defer (twin_t *self, int load, double hours);
/* What-if: the next outage (or the end of this one) drawn again. */
void twin__energy_redraw (twin_t *self, uint64_t salt);

/* observe.c: the observation, telemetry and the series. */
int  twin__view_load (twin_t *self, const af_config_t *root);
void twin__view_epoch (twin_t *self, double dt_s);
void twin__view_destroy (twin_t *self);
void twin__observe (twin_t *self);
void twin__record_epoch (twin_t *self, double dt_s);
void twin__record_destroy (twin_t *self);

/* site.c */
int  twin__site_load (twin_t *self, const af_config_t *root);
int  twin__site_load_part (twin_t *self, twin_part_t *p, const af_config_t *m);
int  twin__people_remote_load (twin_t *self, const af_config_t *people);
int  twin__site_start (twin_t *self);
void twin__site_reset (twin_t *self);
/* Seconds a tele-operation waits for the link from now: the round trip,
 * after the end of a blackout if one is on. */
double twin__link_wait_s (const twin_t *self, double now_s);

/* project.c */
int  twin__project_load (twin_t *self, const af_config_t *root);
int  twin__project_start (twin_t *self);
void twin__project_reset (twin_t *self);
void twin__project_dispatch (twin_t *self);
void twin__project_free (twin_t *self);
int  twin__rover_service_check (const twin_t *self, int robot, bool by_robot, char *err, size_t len);
void twin__rover_service (twin_t *self, int robot, bool by_robot);

#endif
