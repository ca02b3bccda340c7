/* sched.h — batch scheduling engine: job-shop instances, plans, search. */
#ifndef AF_SCHED_H
#define AF_SCHED_H

/*
 * The line agent's batch scheduler as a plain C module (no bus code).
 *
 * An instance is a job shop: every job is a sequence of operations, every
 * operation runs without interruption on one machine out of a set of
 * equivalent machines.  Extensions a factory needs are part of the model:
 * job release times, due dates and weights (weighted tardiness), sequence-
 * dependent setup times per machine, and machine unavailability windows.
 * All times are integers in the instance's own time unit ("tu").
 *
 * Ownership: every `_new` / `_load` / `_solve` result belongs to the caller
 * and is released with the matching `_destroy(&p)`, which is NULL-safe and
 * clears the caller's pointer.  Functions that can fail on input return NULL
 * or -1 and, when given an error buffer, write one line saying why.
 */

#include <stddef.h>
#include <stdio.h>

typedef struct sched_inst sched_inst_t;
typedef struct sched_plan sched_plan_t;

/* Longest error line the module writes into caller buffers. */
#define SCHED_ERR_LEN 256

/* ------------------------------------------------------------- instances */

/* Input formats understood by sched_inst_load. */
typedef enum {
    SCHED_FMT_AUTO = 0,     /* Taillard if a "Times" line exists, else OR-Library */
    SCHED_FMT_ORLIB,        /* "<jobs> <machines>" then (machine time) pairs;
                               also accepts the extensions of docs/sched.md */
    SCHED_FMT_TAILLARD      /* header line, "Times" matrix, "Machines" matrix (1-based) */
} sched_fmt_t;

/* An empty instance with n_jobs jobs (no operations yet) and n_machines. */
sched_inst_t *sched_inst_new(int n_jobs, int n_machines);

/* Reads an instance file.  On error returns NULL and writes
 * "PATH:LINE: what is wrong" into err (SCHED_ERR_LEN bytes) if err != NULL. */
sched_inst_t *sched_inst_load(const char *path, sched_fmt_t fmt, char *err);

/* Same, from a string (tests embed instances this way); name is used in errors. */
sched_inst_t *sched_inst_parse(const char *text, const char *name,
                               sched_fmt_t fmt, char *err);

/* A deep copy, which can then be changed (for re-planning). */
sched_inst_t *sched_inst_clone(const sched_inst_t *inst);

void sched_inst_destroy(sched_inst_t **p_inst);

/* Appends an operation to job `job` that can run on any of the n_alt machines
 * (equivalent machines: same duration).  Returns its index in the job or -1. */
int sched_inst_add_op(sched_inst_t *inst, int job, const int *machines,
                      int n_alt, int dur_tu);

/* Adds a job at the end (for re-planning with new orders); returns its index. */
int sched_inst_add_job(sched_inst_t *inst);

/* Job attributes; weight >= 0.  Defaults: release 0, no due date, weight 1. */
int sched_inst_set_job(sched_inst_t *inst, int job, int release_tu,
                       int due_tu, int weight);

/* Setup time on machine m when job `to` directly follows job `from`. */
int sched_inst_set_setup(sched_inst_t *inst, int machine, int from_job,
                         int to_job, int setup_tu);

/* Machine m is unavailable during [start, end). */
int sched_inst_add_window(sched_inst_t *inst, int machine, int start_tu,
                          int end_tu);

/* Changes the duration of operation k of a job. */
int sched_inst_set_dur(sched_inst_t *inst, int job, int k, int dur_tu);

/* Accessors.  Out-of-range arguments give -1 (values) or 0 (counts). */
void        sched_inst_set_name(sched_inst_t *inst, const char *name);
const char *sched_inst_name(const sched_inst_t *inst);
int sched_inst_jobs(const sched_inst_t *inst);
int sched_inst_machines(const sched_inst_t *inst);
int sched_inst_ops(const sched_inst_t *inst);
int sched_inst_job_ops(const sched_inst_t *inst, int job);
/* Machine alternatives of operation k of a job: count, and i-th machine. */
int sched_inst_op_alts(const sched_inst_t *inst, int job, int k);
int sched_inst_op_machine(const sched_inst_t *inst, int job, int k, int i);
int sched_inst_op_dur(const sched_inst_t *inst, int job, int k);
int sched_inst_release(const sched_inst_t *inst, int job);
int sched_inst_due(const sched_inst_t *inst, int job);    /* -1: none */
int sched_inst_weight(const sched_inst_t *inst, int job);
int sched_inst_setup(const sched_inst_t *inst, int machine, int from_job,
                     int to_job);
int sched_inst_windows(const sched_inst_t *inst, int machine);
void sched_inst_window(const sched_inst_t *inst, int machine, int i,
                       int *start_tu, int *end_tu);
/* 1 if the instance is a classic job shop (no extension in use). */
int sched_inst_is_classic(const sched_inst_t *inst);
/* Lower bound on the makespan (max of job and machine loads). */
long sched_inst_lower_bound(const sched_inst_t *inst);

/* ----------------------------------------------------------------- plans */

/* One scheduled operation. */
typedef struct {
    int job, op;            /* job index, index of the operation in the job */
    int machine;
    int start_tu, end_tu;
} sched_entry_t;

/* A plan for an instance with n_ops operations, entries unset. */
sched_plan_t *sched_plan_new(int n_ops);
void sched_plan_destroy(sched_plan_t **p_plan);
int  sched_plan_size(const sched_plan_t *plan);
/* i-th entry (plans from the solver list operations job by job). */
sched_entry_t sched_plan_entry(const sched_plan_t *plan, int i);
int  sched_plan_set_entry(sched_plan_t *plan, int i, sched_entry_t e);
long sched_plan_makespan(const sched_plan_t *plan);
long long sched_plan_wtard(const sched_plan_t *plan);
/* Recomputes makespan and weighted tardiness from the entries. */
void sched_plan_score(sched_plan_t *plan, const sched_inst_t *inst);

/* Checks a plan against its instance independently of the search: every
 * operation once, on an allowed machine, for its duration; release times;
 * job precedence; machine capacity with setups; unavailability windows; and
 * that the plan is semi-active (no operation could start earlier under the
 * plan's machine orders).  Returns 0 if feasible, else -1 with the first
 * violation in err.  `semi_active` = 0 skips that last (optimality) check. */
int sched_check(const sched_inst_t *inst, const sched_plan_t *plan,
                int semi_active, char *err);

/* Writes a plan as JSON / as an SVG Gantt chart.  0 on success. */
int sched_plan_write_json(const sched_plan_t *plan, const sched_inst_t *inst,
                          FILE *out);
int sched_plan_write_svg(const sched_plan_t *plan, const sched_inst_t *inst,
                         FILE *out);
/* Reads a plan written by sched_plan_write_json (for repair). */
sched_plan_t *sched_plan_load_json(const char *path, char *err);

/* --------------------------------------------------------------- solving */

typedef enum {
    SCHED_RULE_TABU = 0,    /* construction + tabu search (the real solver) */
    SCHED_RULE_FIFO,        /* dispatch baselines (DESIGN §5) */
    SCHED_RULE_EDD,
    SCHED_RULE_SPT
} sched_rule_t;

typedef enum {
    SCHED_OBJ_MAKESPAN = 0, /* minimise makespan, then weighted tardiness */
    SCHED_OBJ_WTARD         /* minimise weighted tardiness, then makespan */
} sched_obj_t;

/* Called from the solving thread(s) on every new overall best. */
typedef void (sched_progress_fn)(void *ctx, long makespan, long long wtard,
                                 double t_s);

typedef struct {
    sched_rule_t rule;
    sched_obj_t  objective;
    long budget_ms;          /* wall-clock budget for the search; >= 0 */
    int  threads;            /* 1..SCHED_MAX_THREADS independent searches */
    unsigned long seed;
    long target;             /* stop as soon as the primary objective <= target; -1 off */
    int cpu_clock;           /* 1: budget and times count each search thread's
                                CPU time (fair on a loaded machine); 0: wall */
    long long max_iters;     /* per search thread, 0 = no limit; with one thread
                                and a generous budget the run is reproducible */
    const sched_plan_t *start;  /* previous plan to repair from, or NULL */
    sched_progress_fn *progress;
    void *progress_ctx;
} sched_opts_t;

#define SCHED_MAX_THREADS 64

/* Defaults: tabu, makespan, 1000 ms, 1 thread, seed 1, no target. */
void sched_opts_default(sched_opts_t *opts);

/* Statistics of a solve. */
typedef struct {
    double t_best_s;         /* time at which the returned plan was first found
                                (thread CPU time with cpu_clock) */
    double t_total_s;
    long long iterations;    /* search iterations over all threads */
    long initial_makespan;   /* makespan of the (first thread's) start solution */
} sched_stats_t;

/* Solves an instance; returns the best plan found or NULL (err says why). */
sched_plan_t *sched_solve(const sched_inst_t *inst, const sched_opts_t *opts,
                          sched_stats_t *stats, char *err);

#endif
