/*  twin — the digital twin's plant model, embeddable (no bus code here).
 *
 *  A twin is built from a factory YAML (see deploy/factories/) and a seed.
 *  It simulates assembly-line flow, machine health, quality, energy, heat,
 *  material and robots on the discrete-event core in des.h, and stops at
 *  every decision epoch (factory.epoch_s, 1 min by default) to let a policy
 *  (built-in baseline, or controllers on the bus through the epoch callback)
 *  read the observable state and issue commands.
 *
 *  Observable state (twin_obs_t: station states, buffer levels, measured
 *  vibration and temperature, inventory, energy) is what controllers may see;
 *  true wear is hidden inside the model and reaches the outside only through
 *  noisy measurements, vibration snippets and inspection reports.
 *
 *  Life cycle:  twin_new_* → [twin_set_policy] → twin_start →
 *  twin_iterate (as often as wanted) or twin_run → twin_kpis → twin_destroy.
 *  Commands (twin_apply) should be issued from the policy hook or the epoch
 *  callback so that a run (and a what-if replay of it) repeats bit for bit.
 */
#ifndef TWIN_H
#define TWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct twin twin_t;

#define TWIN_NAME_MAX 32

typedef enum {
    TWIN_ST_STARVED,        /* idle, nothing to work on */
    TWIN_ST_BUSY,           /* processing a unit */
    TWIN_ST_BLOCKED,        /* holding a finished unit, downstream full */
    TWIN_ST_DOWN,           /* broken down or waiting for / under repair */
    TWIN_ST_MAINT,          /* planned maintenance */
    TWIN_ST_SETUP,          /* changing over to another variant */
    TWIN_ST_STANDBY,        /* flow (issue 11): in stand-by, or waking up from it */
    TWIN_ST_COUNT
} twin_state_t;

const char *twin_state_name (twin_state_t state);

/* ------------------------------------------------------------ commands */

typedef enum {
    TWIN_CMD_LINE_SPEED,    /* station (-1 = all) runs at speed × nameplate */
    TWIN_CMD_BATCH_SEQUENCE,/* release rule: FIFO, EDD or BATCH (group variants) */
    TWIN_CMD_TASK_ASSIGN,   /* give a mobile robot a task (inspect, deliver, repair) */
    TWIN_CMD_MAINTENANCE,   /* planned maintenance at a station, by human or robot */
    TWIN_CMD_ROUTING,       /* choose a variant's route (0 primary, 1 alternate) */
    TWIN_CMD_BATTERY,       /* battery set point, kW (+ discharge, − charge) */
    TWIN_CMD_HVAC,          /* indoor temperature set point, °C */
    TWIN_CMD_INSPECTION,    /* end-of-line sampling: inspect 1 unit in N (1 = all) */
    TWIN_CMD_REORDER,       /* purchase order: qty of a part from its supplier */
    TWIN_CMD_ROVER_SERVICE, /* planned service of a wearing rover (project plants) */
    TWIN_CMD_REPAIR,        /* repair a broken-down station, by technician or robot */
    TWIN_CMD_DISPATCH,      /* give one of the plant's waiting tasks to a robot */
    /* health (issue 11) */
    TWIN_CMD_REPLACE,       /* planned replacement of a component (stops the station, uses a spare) */
    TWIN_CMD_LUBRICATE,     /* short stop: relubricate */
    TWIN_CMD_REALIGN,       /* short stop: re-teach joints, re-tension belts */
    TWIN_CMD_SPARES,        /* purchase order for spares of a component kind */

    /* quality (issue 11) */
    TWIN_CMD_RECALIBRATE,   /* recalibrate a station's process and gauges (stops it briefly) */
    TWIN_CMD_DIVERT,        /* take a suspect unit off the line to rework or scrap */

    /* flow (issue 11) */
    TWIN_CMD_RELEASE,       /* release / WIP cap (CONWIP): units on the line at most */
    TWIN_CMD_STANDBY,       /* a station into stand-by, back awake, or waking by itself */
    TWIN_CMD_BUFFER,        /* a buffer's capacity, within its physical maximum */
    TWIN_CMD_DESIGN,        /* design change: a variant's processing time at a station */
    TWIN_CMD_MIX,           /* a variant's share of new orders (0: not offered; launch) */

    /* robots (issue 11) */
    TWIN_CMD_ROBOT_PATH,    /* send a robot along a planned route (nodes, departure times) */
    TWIN_CMD_TASK_CANCEL,   /* drop a task from a robot's queue */
    TWIN_CMD_TASK_PRIORITY, /* move a task to the front of a robot's queue */

    TWIN_CMD_DEFER_LOAD,    /* hold a deferrable load for some hours (energy, issue 11) */
    TWIN_CMD_COUNT
} twin_cmd_kind_t;

typedef enum { TWIN_SEQ_FIFO, TWIN_SEQ_EDD, TWIN_SEQ_BATCH } twin_seq_rule_t;
typedef enum { TWIN_TASK_INSPECT, TWIN_TASK_DELIVER, TWIN_TASK_REPAIR,
               TWIN_TASK_GOTO, TWIN_TASK_CHARGE, TWIN_TASK_CHANGEOVER   /* robots (issue 11) */
} twin_task_kind_t;
#define TWIN_TEXT_MAX 160   /* a text parameter (a route: node names, comma-separated) */
/* Stand-by (issue 11): WAKE runs normally (leaving stand-by takes the
 * station's wake-up time), HOLD goes to stand-by once idle and stays there,
 * AUTO goes to stand-by whenever idle and wakes by itself when a unit waits. */
typedef enum { TWIN_STANDBY_WAKE, TWIN_STANDBY_HOLD, TWIN_STANDBY_AUTO } twin_standby_t;

/* One command.  Indexes refer to the order of stations, variants, parts and
 * robots in the config (twin_station_index() & co. map names). */
typedef struct {
    twin_cmd_kind_t kind;
    union {
        struct { int station; double speed; } line_speed;          /* speed 0.5 … max_speed */
        struct { twin_seq_rule_t rule; int batch_size; } batch;
        struct { int robot; twin_task_kind_t task; int station; int part; int component; } task;
        struct { int station; bool by_robot; } maintenance;
        struct { int variant; int route; } routing;
        struct { double power_kw; } battery;
        struct { double setpoint_c; } hvac;
        struct { int sample_every; } inspection;
        struct { int part; double qty; } reorder;
        struct { int robot; bool by_robot; } rover;   /* by_robot: another rover does it */
        struct { int station; bool by_robot; } repair;
        struct { int task; int robot; } dispatch;
        struct { int station; int component; bool by_robot; } service;    /* replace, lubricate, realign */
        struct { int component; double qty; } spares;

        struct { int station; } recal;
        struct { int station; double serial; int to; } divert; /* serial 0: the station's last unit; to 0 rework, 1 scrap */

        /* flow (issue 11) */
        struct { int wip_cap; } release;                            /* 0: no cap */
        struct { int station; twin_standby_t mode; } standby;
        struct { int station; int capacity; } buffer;
        struct { int variant; int station; double process_s; } design;   /* mean, nameplate */
        struct { int variant; double mix; } mix;

        /* robots (issue 11) */
        struct { int robot; char nodes[TWIN_TEXT_MAX]; char depart_s[TWIN_TEXT_MAX]; } path;
        struct { int robot; int slot; } queue;          /* cancel, prioritise */

        struct { int load; double hours; } defer;   /* hours 0: run it now */
    } u;
} twin_cmd_t;

/* Validates CMD against the plant and applies it.  An impossible command
 * (unknown station, speed out of range, robot busy with a repair …) changes
 * nothing, writes one line to ERR and returns -1; 0 on success. */
int twin_apply (twin_t *self, const twin_cmd_t *cmd, char *err, size_t err_len);
const char *twin_cmd_name (twin_cmd_kind_t kind);

/* The command table (cmd.c): each command's names, wire field and
 * parameters, which the bus wrapper, `autofab-twin --commands` and
 * docs/twin.md read. */
typedef enum {
    TWIN_PARAM_NUM, TWIN_PARAM_INT, TWIN_PARAM_FLAG,
    TWIN_PARAM_STATION, TWIN_PARAM_PART, TWIN_PARAM_VARIANT,    /* by name */
    TWIN_PARAM_CHOICE,                                          /* one of CHOICES, by name or index */
    TWIN_PARAM_TEXT                                             /* up to TWIN_TEXT_MAX − 1 bytes */
} twin_param_kind_t;

typedef struct {
    const char *name;                   /* in the action/params form and the wire form alike */
    twin_param_kind_t kind;
    bool required;
    const char *const *choices;         /* CHOICE: NULL-terminated names; the index is the value */
    const char *help;
} twin_param_def_t;

#define TWIN_CMD_MAX_PARAMS 6
typedef struct {
    twin_cmd_kind_t kind;
    const char *name;                   /* "line_speed" */
    const char *action;                 /* "set_line_speed": `autofab call twin set_line_speed speed=1.1` */
    int proto_field;                    /* its field in autofab.twin.TwinCommand */
    const char *help;
    twin_param_def_t params[TWIN_CMD_MAX_PARAMS];   /* unused rows have a NULL name */
} twin_cmd_info_t;

/* The table's row for KIND, ACTION or wire FIELD; NULL when there is none. */
const twin_cmd_info_t *twin_cmd_info (twin_cmd_kind_t kind);
const twin_cmd_info_t *twin_cmd_by_action (const char *action);
const twin_cmd_info_t *twin_cmd_by_proto_field (int field);

/* One parameter as it arrives, from either form. */
typedef struct {
    const char *name;
    enum { TWIN_VAL_NUM, TWIN_VAL_TEXT, TWIN_VAL_FLAG } type;
    double num;
    const char *text;
    bool flag;
} twin_param_t;

/* Builds CMD of INFO's kind from PARAMS, names resolved against the plant
 * (the twin is only read).  A missing required parameter, an unknown name or
 * a value of the wrong type: -1 and one line in ERR.  Absent optional
 * parameters take their defaults (every station, no part, 1, off). */
int twin_cmd_parse (const twin_t *self, const twin_cmd_info_t *info, const twin_param_t *params,
                    size_t n, twin_cmd_t *cmd, char *err, size_t err_len);
/* Writes the table as help text, or as a Markdown table (MARKDOWN). */
void twin_cmd_help (FILE *out, bool markdown);

/* ------------------------------------------------------------ ownership */

/* The concerns an agent can take over from the twin's conventional
 * practice (DESIGN §4).  An owned concern's practice stops — the baseline
 * policy no longer acts on it, and for maintenance a breakdown waits for the
 * owner's repair order instead of calling a technician — until it is
 * handed back, when the practice resumes (a station waiting for a repair
 * gets a technician, the baseline's settings are applied again). */
typedef enum {
    TWIN_OWN_LINE,          /* line speed, release, stand-by */
    TWIN_OWN_SEQUENCING,    /* batch sequence */
    TWIN_OWN_QUALITY,       /* inspection, quality response */
    TWIN_OWN_MAINTENANCE,   /* PM, repair routing, component replacement */
    TWIN_OWN_ROBOTS,        /* robot dispatch */
    TWIN_OWN_REPLENISHMENT, /* purchase orders */
    TWIN_OWN_ENERGY,        /* battery, HVAC, deferrable loads */
    TWIN_OWN_COUNT
} twin_own_t;

const char *twin_own_name (twin_own_t concern);
/* The concern named NAME ("maintenance" …), or −1. */
int  twin_own_by_name (const char *name);
/* Hands CONCERN to an agent (OWNED) or back to the twin's practice. */
void twin_set_owned (twin_t *self, twin_own_t concern, bool owned);
bool twin_owned (const twin_t *self, twin_own_t concern);

/* The plant's own robot tasks waiting for a robot (bin refills, repairs by
 * robot), oldest first.  The twin hands them out first come first served to
 * the nearest idle robot unless an agent owns robot dispatch; the owner
 * gives each one out with the dispatch_task command.  Valid until the next
 * call or event. */
typedef struct {
    uint32_t id;
    twin_task_kind_t kind;
    const char *station, *part;         /* NULL when not applicable */
    double t_created_s;
} twin_pool_task_t;
const twin_pool_task_t *twin_task_pool (const twin_t *self, size_t *n);

/* ------------------------------------------------------------ plant description */

/* Writes the plant description as one JSON object (describe.c): what a
 * plant's engineering documents give a controller — stations, nameplate
 * times and limits, components with the maker's ratings, variants and
 * routes, parts and lead times, tariff and energy ratings, robots, people,
 * floor distances — and nothing hidden.  Returns 0 or -1 on a write error. */
int twin_describe (const twin_t *self, FILE *out);

/* ------------------------------------------------------------ observation */

typedef struct {
    const char *name;
    twin_state_t state;
    int buffer_level, buffer_cap;       /* cap −1: unbounded */
    double speed;                       /* × nameplate */
    double vibration_rms_mm_s;          /* measured, noisy */
    double temp_c;                      /* measured, noisy */
    double torque_nm, alignment_mm;     /* last in-line measurements */
    double hours_since_pm;
    double pm_interval_h;               /* the maker's PM interval (0: none) */
    double utilisation;                 /* busy fraction, whole run */
    double active_pct;                  /* bottleneck indicator (busy+setup+down) */
    double inspected_wear;              /* worst component wear measured by the
                                           last inspection (0..1), −1 if none */
    double t_inspected_s;
    uint64_t processed;
    bool pm_pending;
    /* health (issue 11) */
    double hours_since_lube;            /* since the last lubrication (PM or lubricate) */
    double joint_cycles;                /* units processed since the joint was fitted (0: no joint) */
    bool spare_wait;                    /* down, waiting for a spare */

    /* flow (issue 11) */
    int buffer_max;                     /* physical limit of the buffer command; −1 unbounded */
    double share[TWIN_ST_COUNT];        /* share of the last epoch in each state, 0..1 */
    const char *variant;                /* variant on board or last worked on; NULL: none yet */
    twin_standby_t standby_mode;
    double wakeups;                     /* wake-ups from stand-by (measured window) */
} twin_station_obs_t;

typedef struct {
    const char *name;
    double warehouse, on_order, bin, bin_cap;
    double avg_use_per_h;               /* from the plan: mix × BOM × nameplate */
    double lead_time_h;                 /* the supplier's mean */
    /* material (issue 11) */
    double warehouse_cap;               /* 0: unbounded */
    double lead_time_sd_h;              /* the supplier's spread */
    double lead_time_seen_h;            /* mean of the orders placed so far, 0 none */
    double use_per_h;                   /* measured consumption since the start */
} twin_part_obs_t;

/* Component kinds in config order: bearing, belt, motor, joint, lube (issue 11). */
#define TWIN_COMPONENT_KINDS 5

typedef struct {
    double t_s;
    int epoch;
    int n_stations, n_parts, n_robots, n_variants;
    const twin_station_obs_t *stations;
    const twin_part_obs_t *parts;
    const int *robot_busy;              /* 1 busy, 0 idle, per robot */
    double grid_kw, load_kw, solar_kw, battery_kw, battery_soc;
    double price_per_kwh, ambient_c, indoor_c, hvac_kw;
    int release_queue;                  /* orders waiting to be released */
    uint64_t units, defects_found;
    /* health (issue 11) */
    int tech_queue;                     /* stoppages waiting for a free technician */
    double spares_stock[TWIN_COMPONENT_KINDS];    /* per component kind; −1: not managed */
    double spares_on_order[TWIN_COMPONENT_KINDS];

    /* flow (issue 11): the order book */
    int arrivals_epoch;                 /* orders arrived in the last epoch */
    int wip_line, wip_cap;              /* units released and not shipped; the cap (0: none) */
    int orders_late;                    /* waiting orders already past their due date */
    double oldest_wait_min;             /* longest wait of an order not yet released, 0: none */
    double next_due_h;                  /* earliest due date of a waiting order, hours from now (< 0: late); 0: none */
    double arrival_rate_per_h;          /* the plan's order rate (0: saturated line) */

    /* energy (issue 11) */
    bool grid_up;
    double month_peak_kw;               /* highest 15-min import of the month so far */
    double demand_charge_per_kw;
    double battery_capacity_kwh, battery_max_kw, battery_min_soc;
    double deferred_backlog_kwh;        /* what held loads owe */
} twin_obs_t;

/* The observable state as of the last epoch; valid until the next epoch. */
const twin_obs_t *twin_observe (const twin_t *self);

/* ------------------------------------------------------------ policies */

/* A controller inside the process: ON_EPOCH is called at every decision epoch
 * with the observable state and issues commands with twin_apply(). */
typedef struct {
    const char *name;
    void *ctx;
    void (*on_epoch) (void *ctx, twin_t *twin, const twin_obs_t *obs);
    void (*destroy) (void *ctx);        /* may be NULL */
} twin_policy_t;

/* The DESIGN §5 baseline (see docs/twin.md).  Returns 0 or -1. */
int  twin_policy_baseline (twin_t *self, twin_policy_t *out);
/* The perfect-information bound of one CONCERN (offline only: it reads the
 * hidden state; docs/eval.md), every other concern as the baseline:
 * maintenance replaces parts just before their true life ends, quality
 * inspects every unit.  Returns 0, or -1 (another concern, no memory). */
int  twin_policy_bound (twin_t *self, twin_own_t concern, twin_policy_t *out);
/* The names of the concern bounds, NULL-terminated: "bound:maintenance" … */
extern const char *const twin_bound_policies[];
/* A built-in policy by name: "baseline", a bound ("bound:maintenance" …), or
 * "none" (OUT zeroed, install nothing).  Returns 0, or -1 for an unknown name. */
int  twin_policy_by_name (twin_t *self, const char *name, twin_policy_t *out);
/* Installs POLICY (copied; the twin calls its destroy).  NULL: no policy. */
void twin_set_policy (twin_t *self, const twin_policy_t *policy);
/* Called at every epoch after the policy, e.g. by the bus wrapper to publish
 * telemetry and wait for controllers' acknowledgements and commands. */
typedef void (twin_epoch_fn) (void *ctx, twin_t *twin, const twin_obs_t *obs);
void twin_set_epoch_cb (twin_t *self, twin_epoch_fn *fn, void *ctx);

/* ------------------------------------------------------------ life cycle */

/* Builds a twin from a YAML file or text.  On a bad config returns NULL and
 * writes "file:line: why" to ERR. */
twin_t *twin_new_from_file (const char *path, uint64_t seed, char *err, size_t err_len);
twin_t *twin_new_from_text (const char *yaml, size_t len, const char *name,
                            uint64_t seed, char *err, size_t err_len);
void    twin_destroy (twin_t **self_p);

/* Schedules the first events.  Returns 0 or -1. */
int      twin_start (twin_t *self);
/* Advances to UNTIL_S (simulated seconds since start) or by MAX_EVENTS
 * events (0: no limit), whichever comes first.  Returns events run. */
uint64_t twin_iterate (twin_t *self, double until_s, uint64_t max_events);
/* Blocking run for HOURS from now; PROGRESS (may be NULL) gets a line per
 * simulated day when it is a terminal.  Returns 0 or -1. */
int      twin_run (twin_t *self, double hours, FILE *progress);
/* Makes a running twin_iterate()/twin_run() return after the current event. */
void     twin_stop (twin_t *self);
double   twin_now_s (const twin_t *self);
uint64_t twin_events (const twin_t *self);
uint64_t twin_seed (const twin_t *self);

const char *twin_factory_name (const twin_t *self);
double      twin_epoch_s (const twin_t *self);
int twin_station_index (const twin_t *self, const char *name);
int twin_variant_index (const twin_t *self, const char *name);
int twin_part_index (const twin_t *self, const char *name);

/* ------------------------------------------------------------ KPIs */

typedef struct {
    double sim_h;
    double units, throughput_uph, cycle_time_mean_min;
    double wip_mean;                    /* time-average units in the system */
    double oee_pct, availability_pct, performance_pct, quality_pct;
    double downtime_h, unplanned_downtime_h, planned_downtime_h;
    double mtbf_h, mttr_h, breakdowns;
    double escaped_defects_ppm, escaped_defects, scrap_units, rework_units;
    double energy_kwh, energy_kwh_per_unit, energy_cost, energy_cost_per_unit;
    double peak_kw, solar_kwh;
    double manual_interventions, robot_utilisation_pct;
    double shortage_h, damaged_parts;
    double orders_lost;                 /* turned away: 100 000 orders already in (overload) */
    int bottleneck;                     /* station index, −1 if none */
    /* A plant with a project: units are tasks completed (and the line's
     * units are not counted); these two are in the JSON only then. */
    bool has_project;
    double project_makespan_h;          /* to the last task's end; unfinished: hours so far */
    double project_done_pct;
    /* health (issue 11) */
    double maintenance_cost;            /* spares used + technician and robot labour */
    double lost_output_h;               /* bottleneck hours lost to stops while it would have worked */
    double spares_used, labour_h;

    /* quality (issue 11): costs in the plant's currency, counts in the measured window */
    double quality_cost, inspection_cost, rework_cost, scrap_cost, field_return_cost;
    double field_returns, inspections, inspections_missed, diverted_units, false_diverts;
    double skipped_steps, recalibrations;

    /* flow (issue 11): docs/kpi.md */
    double lead_time_mean_min;          /* from the order's arrival (cycle time: from release) */
    double tardy_pct, tardiness_mean_h; /* units shipped after their due date; mean lateness */
    double wip_line_mean;               /* released and not shipped (wip_mean: from arrival) */
    double fg_mean;                     /* finished units waiting for their due date */
    double arrivals;                    /* orders arrived (open arrivals) */

    /* robots (issue 11) */
    double robot_collisions, robot_deadlocks, robot_travel_km, robot_battery_empty;

    /* energy and material (issue 11); energy_cost includes battery_wear_cost
     * and the demand charge pro-rated to the measured share of each month */
    double battery_wear_cost, demand_cost, grid_outages, grid_outage_h, unserved_kwh, deferred_kwh;
    double holding_cost, intake_cost, parts_returned, damaged_at_line;
} twin_kpi_t;

/* KPIs of the run so far (from the end of the warm-up). */
void twin_kpis (const twin_t *self, twin_kpi_t *out);
/* Writes KPIs as one JSON object (fixed key order, %.6g numbers, so two
 * identical runs give identical bytes).  Returns bytes written, −1 if short. */
int  twin_kpi_json (const twin_kpi_t *kpi, char *buf, size_t len);
/* Prints KPIs and the per-station bottleneck table. */
void twin_kpi_print (const twin_t *self, const twin_kpi_t *kpi, FILE *out);

/* ------------------------------------------------------------ telemetry */

#define TWIN_SAMPLE_MAX 32      /* was 10; energy (issue 11) needs 18 */
/* One telemetry message: TOPIC is a suffix that the bus wrapper puts after
 * tel.<factory>.<cell>.twin: station.<name>, inventory.<part>, robot.amr<i>,
 * energy, quality, line. */
typedef struct {
    char topic[64];
    int n;
    const char *names[TWIN_SAMPLE_MAX];
    double values[TWIN_SAMPLE_MAX];
} twin_sample_t;

/* Calls FN once per telemetry sample of the last epoch. */
void twin_telemetry_foreach (const twin_t *self,
                             void (*fn) (void *ctx, const twin_sample_t *sample), void *ctx);

/* Time series for reports, one row per epoch (recorded when enabled). */
typedef struct {
    size_t n;                           /* rows */
    int n_stations;
    double *t_h, *throughput_uph, *grid_kw, *battery_soc, *price_per_kwh;
    double *down_unplanned_h, *down_planned_h;  /* cumulative, line-wide */
    double *station_util;               /* n × n_stations, busy fraction per epoch */
} twin_series_t;

typedef struct {
    double t_h;
    int station;
    const char *kind;                   /* "breakdown", "repair", "pm", "replace" */
    const char *cause;                  /* component or "random" */
    bool manual;
} twin_maint_event_t;

/* Downtime hours (station-hours, measured window) by cause: bearing, belt,
 * motor, joint, lube (wear breakdowns), random (failures), pm (planned). */
#define TWIN_CAUSE_COUNT 7
const char *twin_cause_name (int cause);
void twin_downtime_by_cause (const twin_t *self, double hours[TWIN_CAUSE_COUNT]);

/* A field return (quality, issue 11): a shipped unit whose defect nobody
 * found comes back from the customer weeks later — the only way a
 * controller learns of an escape (DESIGN §4).  KINDS has a bit per defect
 * kind (twin_defect_kind_name); STATION is where one of them (the first
 * kind in that list) was made, −1 when unknown. */
typedef struct {
    double t_h, shipped_h;
    uint32_t serial;
    uint32_t kinds;
    int station;
} twin_field_return_t;
/* Every field return so far, oldest first; valid until the next event. */
const twin_field_return_t *twin_field_returns (const twin_t *self, size_t *n);
/* "micro_defect", "misalignment", "torque", "thermal_hotspot",
 * "contamination", "skipped_step"; "?" beyond. */
const char *twin_defect_kind_name (int kind);

void twin_record_series (twin_t *self, bool on);
const twin_series_t *twin_series (const twin_t *self);
const twin_maint_event_t *twin_maint_events (const twin_t *self, size_t *n);
/* Writes the recorded series as CSV (a header line, then one row per
 * epoch: t_h, throughput_uph, grid_kw, battery_soc, price_per_kwh,
 * down_unplanned_h, down_planned_h, util_<station>…).  Returns 0 or -1. */
int twin_series_write_csv (const twin_t *self, FILE *out);

/* ------------------------------------------------------------ site, project */

/* One task of the configured project, as scheduled so far (times −1 until
 * it starts or ends).  AFTER lists its predecessors' indexes. */
typedef struct {
    const char *name;
    const char *skill;                  /* NULL: any robot */
    bool outside;
    const int *after;
    int n_after;
    double t_start_s, t_end_s;
    int robot;                          /* who did it, −1 */
} twin_project_task_t;

/* The project's tasks in config order (NULL, 0 without a project); valid
 * until the twin is destroyed. */
const twin_project_task_t *twin_project_tasks (const twin_t *self, size_t *n);

/* The off-world state and counters (measured window where a count). */
typedef struct {
    bool storm_active;
    double optical_depth, solar_factor, storm_h, storms;
    int airlock_capacity, airlock_inside, airlock_max_inside, airlock_queue;
    double airlock_passages, airlock_waits, airlock_wait_h, airlock_utilisation;
    double tasks, tasks_done, rover_breakdowns, rover_services;
    double teleops, link_wait_h;
} twin_site_stats_t;

void twin_site_stats (const twin_t *self, twin_site_stats_t *out);

/* ------------------------------------------------------------ diagnostics */

/* Fills OUT with N samples of station STATION's vibration at FS_HZ (mm/s):
 * shaft harmonics, bearing fault tones (BPFO, BPFI, BSF) whose amplitude grows
 * with the hidden bearing wear, and noise.  Uses its own random stream, so a
 * request does not change the run.  Returns 0 or -1 (bad station, N, FS). */
int twin_vibration_snippet (twin_t *self, int station, double fs_hz, size_t n,
                            double *out, double *shaft_hz);

/* Fills ANGLE_DEG and TORQUE_NM with an N-point tightening curve of the
 * station's screwdriver/nutrunner for its next joint: free run, snug point,
 * then the elastic ramp to the nominal torque (quality.torque_nm).  Motor and
 * bearing wear add ripple and scatter the final torque; a worn joint loses
 * the snug point (misalignment shows as an early, soft rise).  Own random
 * stream, like vibration snippets.  Returns 0 or -1. */
int twin_torque_curve (twin_t *self, int station, size_t n, double *angle_deg, double *torque_nm);

/* ------------------------------------------------------------ what-if, shadow */

/* Forks the current state (by deterministic replay of config, seed and the
 * log of commands and shadow reports, each at the exact point of the run it
 * was given) into a new twin that shares nothing with SELF.  The fork has no
 * policy or epoch callback.  NULL on failure. */
twin_t *twin_fork (const twin_t *self, char *err, size_t err_len);
/* What-if: forks twice, runs HOURS ahead with the current policy kind
 * (BASE_POLICY) and with CHANGE applied (a command, or a different policy),
 * and returns the KPIs of both.  SELF is not disturbed. */
int twin_whatif (const twin_t *self, double hours, const twin_cmd_t *change,
                 bool baseline_policy, twin_kpi_t *base, twin_kpi_t *changed,
                 char *err, size_t err_len);

/* Shadow mode: the plant's report for one station (state, buffer level and,
 * when an inspection measured it, the wear of its worst component 0..1). */
typedef struct {
    int station;
    twin_state_t state;
    int buffer_level;
    double measured_wear;               /* < 0: not measured */
} twin_plant_report_t;

/* Compares REPORT with the model, writes the disagreement (if any) to DIFF,
 * and corrects the model to match the plant: a breakdown or a finished
 * repair the plant reports is taken over, buffer contents are set to the
 * plant's level, and measured wear replaces the model's.  Returns 1 if model
 * and plant disagreed, 0 if they agreed, −1 on a bad report. */
int twin_shadow_report (twin_t *self, const twin_plant_report_t *report,
                        char *diff, size_t diff_len);
/* Shadow mode for material: the plant's count of PART in the warehouse and
 * in its line-side bin (a negative count: not counted).  Same contract as
 * twin_shadow_report(); the model takes the plant's counts. */
int twin_shadow_inventory (twin_t *self, int part, double warehouse, double bin,
                           char *diff, size_t diff_len);

/* ------------------------------------------------------------ warm-up */

/* Overrides the config's factory.warmup_h: statistics (every KPI) start
 * after HOURS of simulated time, so a comparison does not measure a plant
 * that starts empty and new (autofab eval, docs/eval.md).  Only before
 * twin_start; returns 0, or -1 when started or HOURS is not in [0, 1e6]. */
int twin_set_warmup_h (twin_t *self, double hours);

#endif
