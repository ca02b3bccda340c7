/* sched_internal.h — layouts and cross-file helpers shared by sched_*.c only. */
#ifndef AF_SCHED_INTERNAL_H
#define AF_SCHED_INTERNAL_H

#include "sched.h"
#include <pthread.h>
#include <stdint.h>

/* Largest time value accepted anywhere, so that sums over a whole schedule
 * stay far from INT_MAX (about 2e9). */
#define SCHED_MAX_TIME_TU 10000000

/* Operations are numbered 0..n_ops-1, job by job (job j owns
 * job_first[j] .. job_first[j+1]-1).  The builder appends to per-op arrays in
 * any job order; sched__inst_ready() sorts them into that layout. */
struct sched_inst {
    char name[64];
    int n_jobs, n_machines, n_ops;
    int ready;              /* indexes below are valid */
    /* per op, in insertion order until ready, then job-major */
    int *op_job, *op_dur, *op_alt_first, *op_alt_n;
    int op_cap;
    int *alt_mach;          /* machine alternatives, indexed via op_alt_first */
    int n_alts, alt_cap;
    int *job_first;         /* n_jobs + 1, valid when ready */
    int *release, *due, *weight;    /* per job */
    int *job_nops;          /* operations per job (builder) */
    int job_cap;
    int *setup;             /* n_machines * n_jobs * n_jobs or NULL */
    int setup_jobs;         /* n_jobs the setup matrix was sized for */
    int *win_start, *win_end, *win_mach;   /* windows, sorted per machine when ready */
    int n_win, win_cap;
    int *win_first;         /* n_machines + 1, valid when ready */
};

/* Sorts the builder arrays and builds indexes; idempotent.  0 or -1 (OOM). */
int sched__inst_ready(sched_inst_t *inst);

static inline int sched__setup(const sched_inst_t *in, int m, int from, int to)
{
    if (!in->setup || from < 0)
        return 0;
    return in->setup[((size_t)m * in->setup_jobs + from) * in->setup_jobs + to];
}

/* Earliest start >= t for a run of length d on machine m, given windows. */
int sched__avail(const sched_inst_t *in, int m, int t, int d);

struct sched_plan {
    int n;
    sched_entry_t *e;
    long makespan;
    long long wtard;
};

/* A solution as the search sees it: a machine per operation and a
 * permutation of the operations on each machine as a doubly linked list. */
typedef struct {
    int n, m;
    int *mach, *dur;        /* chosen machine and its duration */
    int *mp, *ms;           /* machine predecessor / successor, -1 at ends */
    int *mfirst, *mlast;    /* per machine */
} sched_sol_t;

int  sched__sol_init(sched_sol_t *s, int n_ops, int n_machines);
void sched__sol_free(sched_sol_t *s);
void sched__sol_copy(sched_sol_t *dst, const sched_sol_t *src);
/* Takes operation u off its machine's list. */
void sched__sol_unlink(sched_sol_t *s, int u);
/* Puts u on machine m right after v (v = -1: at the front). */
void sched__sol_insert_after(sched_sol_t *s, int u, int m, int v);
/* Builds machine orders from a plan's machines and start times. */
void sched__sol_from_plan(sched_sol_t *s, const sched_inst_t *in,
                          const sched_plan_t *plan);
/* Semi-active decoding: fills start[] (n_ops); returns -1 if the machine
 * orders contain a cycle.  order[] (n_ops) receives a topological order. */
int sched__decode(const sched_inst_t *in, const sched_sol_t *s, int *start,
                  int *order, int *scratch);
/* Fills a plan from a solution and its start times. */
void sched__plan_fill(sched_plan_t *plan, const sched_inst_t *in,
                      const sched_sol_t *s, const int *start);

/* Dispatch simulation with a priority rule (also used for construction);
 * noise > 0 perturbs priorities randomly (xorshift state in *rng). */
typedef enum { SCHED__PRIO_FIFO, SCHED__PRIO_EDD, SCHED__PRIO_SPT,
               SCHED__PRIO_MWKR } sched__prio_t;
int sched__dispatch(const sched_inst_t *in, sched__prio_t prio, int active,
                    double noise,
                    uint64_t *rng, sched_plan_t *plan);

/* Random numbers for the search (xorshift64*). */
static inline uint64_t sched__rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ULL;
}

static inline int sched__randint(uint64_t *s, int n)
{
    return n <= 1 ? 0 : (int)((sched__rand(s) >> 33) % (uint64_t)n);
}

/* Builds a repair start solution: keeps the previous plan's machines and
 * order where still valid, slots new operations in by dispatch order. */
int sched__repair_start(const sched_inst_t *in, const sched_plan_t *prev,
                        sched_obj_t obj, sched_sol_t *s);

/* What the searching threads share: the overall best and when it was found. */
typedef struct {
    pthread_mutex_t mu;
    const sched_inst_t *in;
    sched_obj_t obj;
    long long best_a, best_b;    /* objective pair of best (primary, secondary) */
    long initial_makespan;       /* of the first plan published */
    int have_best;
    sched_sol_t best;
    double t0_s, budget_s, t_best_s;
    int cpu_clock;
    long target;
    long long max_iters;
    long lower_bound;       /* stop when reached: nothing better exists */
    volatile int stop;
    long long iterations;
    sched_progress_fn *progress;
    void *progress_ctx;
} sched__shared_t;

/* Runs one tabu search from `start` until the deadline or a stop; publishes
 * improvements into sh.  0, or -1 if out of memory. */
int sched__tabu_run(sched__shared_t *sh, const sched_sol_t *start,
                    uint64_t seed, double t0_cpu_s);

/* CPU time of the calling thread, in seconds. */
double sched__thread_cpu_s(void);

/* Objective pair of decoded start times: (primary, secondary). */
void sched__objective(const sched_inst_t *in, sched_obj_t obj,
                      const sched_sol_t *s, const int *start,
                      long long *a, long long *b);

/* Time since an arbitrary origin, in seconds. */
double sched__now_s(void);

#endif
