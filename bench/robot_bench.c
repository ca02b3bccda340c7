/*  robot_bench — `make bench-robot`: the robot agent's algorithms against
 *  their baselines on seeded workloads, side by side in one run.
 *
 *   1. task allocation: rolling-window optimal assignment vs first come,
 *      first served to the nearest idle robot (DESIGN §5), on a simulated
 *      shift of transport/handling tasks with skills, deadlines, batteries;
 *   2. multi-robot paths: CBS, prioritised planning and CBS with a
 *      prioritised fallback on random 32x32 grids with 5..30 robots; every
 *      plan passes the independent checker;
 *   3. motion: S-curve + model feed-forward + PID vs a PID alone, each PID
 *      tuned by grid search on training moves, scored on other moves;
 *   4. insertion: seeded trials with +-1 mm and +-1 degree errors.
 *
 *  The table goes to stdout, the same figures to --json FILE (flat keys).  */

#include "agents/robot/assign.h"
#include "agents/robot/insert.h"
#include "agents/robot/mapf.h"
#include "agents/robot/motion.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "af_args.h"

#define S_PROG "robot-bench"
#define S_MAX_KEYS 128

typedef struct {
    char key[64];
    double value;
} s_fig_t;

typedef struct {
    s_fig_t fig[S_MAX_KEYS];
    int n;
    int quick;                  /* smaller workloads (a smoke run) */
    unsigned long long rng;
} s_bench_t;

static void s_put(s_bench_t *b, const char *key, double v)
{
    if (b->n < S_MAX_KEYS) {
        snprintf(b->fig[b->n].key, sizeof b->fig[b->n].key, "%s", key);
        b->fig[b->n++].value = v;
    }
}

static double s_uniform(s_bench_t *b)
{
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return ((b->rng * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

static double s_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------- 1. allocation */

enum { F_ROBOTS = 12, F_MAX_TASKS = 4000 };
#define F_EPOCH_S 5.0
#define F_SHIFT_S (8 * 3600.0)
#define F_CHARGE_BELOW_PCT 30.0
#define F_CHARGE_PCT_PER_S 0.2

typedef struct {
    double lead_s, late_pct, empty_m;
    int done;
} s_fleet_kpi_t;

/* The seeded task stream and fleet of one shift (the same for both
 * policies): Poisson arrivals at about 80 % of the fleet's capacity at the
 * normal load (a task takes about 135 s of a robot: travel, work and its
 * share of charging).  Returns the number of tasks. */
static int s_fleet_setup(s_bench_t *b, unsigned long long seed, double gap_s,
                         fleet_task_t *task, fleet_robot_t *r)
{
    int n_task = 0;
    unsigned long long save = b->rng;
    b->rng = seed;
    for (double t = 0; n_task < F_MAX_TASKS;) {
        t += -log(1 - s_uniform(b)) * gap_s;
        if (t > F_SHIFT_S)
            break;
        fleet_task_t *x = &task[n_task++];
        x->pick_x_m = s_uniform(b) * 120;
        x->pick_y_m = s_uniform(b) * 60;
        x->drop_x_m = s_uniform(b) * 120;
        x->drop_y_m = s_uniform(b) * 60;
        x->work_s = 20 + s_uniform(b) * 40;
        x->skills = s_uniform(b) < 0.3 ? 3 : 1;
        x->release_s = t;
        x->deadline_s = t + 120 + s_uniform(b) * 480;
    }
    for (int i = 0; i < F_ROBOTS; i++)
        r[i] = (fleet_robot_t) { .x_m = s_uniform(b) * 120, .y_m = s_uniform(b) * 60,
                                 .speed_mps = 1.2, .battery_pct = 50 + s_uniform(b) * 50,
                                 .drain_pct_per_m = 0.02, .skills = i % 2 ? 3 : 1 };
    b->rng = save;
    return n_task;
}

/* One shift under one policy. */
static void s_fleet_shift(s_bench_t *b, unsigned long long seed, int optimal, double gap_s,
                          s_fleet_kpi_t *k)
{
    static fleet_task_t task[F_MAX_TASKS];
    static double finish[F_MAX_TASKS];
    fleet_robot_t r[F_ROBOTS];
    int n_task = s_fleet_setup(b, seed, gap_s, task, r);
    fleet_weights_t w;
    fleet_weights_default(&w);
    int *pick = malloc(F_MAX_TASKS * sizeof *pick), n_open;
    fleet_task_t *open = malloc(F_MAX_TASKS * sizeof *open);
    int *open_id = malloc(F_MAX_TASKS * sizeof *open_id);
    char *done = calloc(F_MAX_TASKS, 1);
    double empty = 0;
    for (double now = 0; now < F_SHIFT_S + 7200; now += F_EPOCH_S) {
        /* The same charging rule for both policies: go to the charger
         * (0, 0) when low and idle. */
        for (int i = 0; i < F_ROBOTS; i++)
            if (r[i].free_at_s <= now && r[i].battery_pct < F_CHARGE_BELOW_PCT) {
                double d = hypot(r[i].x_m, r[i].y_m);
                double left = r[i].battery_pct - d * r[i].drain_pct_per_m;
                r[i].free_at_s = now + d / r[i].speed_mps + (100 - left) / F_CHARGE_PCT_PER_S;
                r[i].x_m = r[i].y_m = 0;
                r[i].battery_pct = 100;
            }
        n_open = 0;
        for (int j = 0; j < n_task && task[j].release_s <= now; j++)
            if (!done[j]) {
                open[n_open] = task[j];
                open_id[n_open++] = j;
            }
        int rc = optimal ? fleet_assign_window(r, F_ROBOTS, open, n_open, now, &w, pick)
                         : fleet_assign_fcfs(r, F_ROBOTS, open, n_open, now, w.reserve_pct, pick);
        for (int j = 0; rc > 0 && j < n_open; j++) {
            if (pick[j] < 0)
                continue;
            fleet_robot_t *x = &r[pick[j]];
            const fleet_task_t *t = &open[j];
            double fin, left;
            fleet_task_eval(x, t, now, 0, &fin, &left);
            empty += hypot(t->pick_x_m - x->x_m, t->pick_y_m - x->y_m);
            x->x_m = t->drop_x_m;
            x->y_m = t->drop_y_m;
            x->battery_pct = left;
            x->free_at_s = fin;
            finish[open_id[j]] = fin;
            done[open_id[j]] = 1;
        }
    }
    memset(k, 0, sizeof *k);
    int late = 0;
    for (int j = 0; j < n_task; j++)
        if (done[j]) {
            k->done++;
            k->lead_s += finish[j] - task[j].release_s;
            late += finish[j] > task[j].deadline_s;
        }
    k->lead_s /= k->done ? k->done : 1;
    k->late_pct = 100.0 * late / (k->done ? k->done : 1);
    k->empty_m = empty / (k->done ? k->done : 1);
    free(pick);
    free(open);
    free(open_id);
    free(done);
}

/* One load level: both policies on the same seeds. */
static void s_alloc_load(s_bench_t *b, double gap_s, const char *tag)
{
    int seeds = b->quick ? 1 : 5;
    s_fleet_kpi_t sum[2] = { 0 };
    double cpu[2] = { 0 };
    for (int s = 0; s < seeds; s++)
        for (int p = 0; p < 2; p++) {
            s_fleet_kpi_t k;
            double t0 = s_cpu_s();
            s_fleet_shift(b, 1000 + s, p, gap_s, &k);
            cpu[p] += s_cpu_s() - t0;
            sum[p].lead_s += k.lead_s / seeds;
            sum[p].late_pct += k.late_pct / seeds;
            sum[p].empty_m += k.empty_m / seeds;
            sum[p].done += k.done;
        }
    printf("\n1. Task allocation (%s load): %d robots, one 8 h shift x %d seeds, a task every "
           "%.1f s on average (Poisson)\n", tag, F_ROBOTS, seeds, gap_s);
    printf("| policy | tasks done | mean lead time s | late %% | empty travel m/task | CPU s |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    const char *name[2] = { "FCFS, nearest idle robot (baseline)", "rolling-window optimal assignment" };
    for (int p = 0; p < 2; p++)
        printf("| %s | %d | %.1f | %.1f | %.1f | %.2f |\n", name[p], sum[p].done, sum[p].lead_s,
               sum[p].late_pct, sum[p].empty_m, cpu[p]);
    char key[64];
    static const char *const pol[2] = { "fcfs", "opt" };
    for (int p = 0; p < 2; p++) {
        snprintf(key, sizeof key, "alloc_%s_%s_lead_time_s", tag, pol[p]);
        s_put(b, key, sum[p].lead_s);
        snprintf(key, sizeof key, "alloc_%s_%s_late_pct", tag, pol[p]);
        s_put(b, key, sum[p].late_pct);
        snprintf(key, sizeof key, "alloc_%s_%s_empty_travel_m", tag, pol[p]);
        s_put(b, key, sum[p].empty_m);
    }
    snprintf(key, sizeof key, "alloc_%s_lead_time_change_pct", tag);
    s_put(b, key, 100 * (sum[1].lead_s / sum[0].lead_s - 1));
}

static void s_bench_alloc(s_bench_t *b)
{
    s_alloc_load(b, 14, "normal");
    s_alloc_load(b, 11.5, "peak");
    /* Raw solver speed on one square matrix. */
    int n = b->quick ? 200 : 500;
    double *c = malloc((size_t) n * n * sizeof *c);
    int *rc = malloc(n * sizeof *rc);
    for (int k = 0; k < n * n; k++)
        c[k] = s_uniform(b) * 1000;
    double t0 = s_cpu_s();
    assign_solve(c, n, n, rc, NULL);
    double ms = (s_cpu_s() - t0) * 1e3;
    printf("assign_solve on a %dx%d random matrix: %.1f ms CPU\n", n, n, ms);
    s_put(b, "assign_solve_ms", ms);
    s_put(b, "assign_solve_n", n);
    free(c);
    free(rc);
}

/* ------------------------------------------------------------- 2. paths */

enum { M_W = 32, M_H = 32 };
#define M_OBSTACLE_FRAC 0.15

/* A random grid and n distinct starts and goals in its largest connected
 * region (so every robot can reach its goal alone). */
static void s_mapf_instance(s_bench_t *b, unsigned char *blocked, int n, int *start, int *goal)
{
    int cells = M_W * M_H, comp[M_W * M_H], q[M_W * M_H], best = -1, best_size = 0;
    for (int c = 0; c < cells; c++) {
        blocked[c] = s_uniform(b) < M_OBSTACLE_FRAC;
        comp[c] = -1;
    }
    for (int c0 = 0; c0 < cells; c0++) {
        if (blocked[c0] || comp[c0] >= 0)
            continue;
        int head = 0, tail = 0, size = 0;
        comp[c0] = c0;
        q[tail++] = c0;
        while (head < tail) {
            int c = q[head++], x = c % M_W, y = c / M_W;
            size++;
            int nb[4] = { x > 0 ? c - 1 : -1, x < M_W - 1 ? c + 1 : -1,
                          y > 0 ? c - M_W : -1, y < M_H - 1 ? c + M_W : -1 };
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && !blocked[nb[k]] && comp[nb[k]] < 0) {
                    comp[nb[k]] = c0;
                    q[tail++] = nb[k];
                }
        }
        if (size > best_size) {
            best_size = size;
            best = c0;
        }
    }
    int pool[M_W * M_H], np = 0;
    for (int c = 0; c < cells; c++)
        if (comp[c] == best)
            pool[np++] = c;
    for (int k = np - 1; k > 0; k--) {          /* shuffle, then take 2n */
        int r = (int) (s_uniform(b) * (k + 1)), tmp = pool[k];
        pool[k] = pool[r];
        pool[r] = tmp;
    }
    for (int a = 0; a < n; a++) {
        start[a] = pool[a];
        goal[a] = pool[n + a];
    }
}

typedef struct {
    int solved, check_failures;
    double cpu_ms, soc;
} s_mapf_tally_t;

static void s_bench_mapf(s_bench_t *b)
{
    static const int agents[] = { 5, 10, 15, 20, 25, 30 };
    static const mapf_algo_t algo[3] = { MAPF_CBS, MAPF_PRIORITISED, MAPF_CBS_THEN_PRIORITISED };
    static const char *const name[3] = { "cbs", "pp", "hybrid" };
    int per = b->quick ? 3 : 20;
    long budget = 2000;
    printf("\n2. Multi-robot paths: %dx%d grids, %.0f %% obstacles, %d instances per size; "
           "CBS budget %ld nodes, prioritised up to 21 orders; CPU ms per instance\n",
           M_W, M_H, 100 * M_OBSTACLE_FRAC, per, budget);
    printf("| robots | CBS solved %% | PP solved %% | CBS→PP solved %% | CBS ms | PP ms | "
           "CBS→PP ms | PP cost / CBS cost | checker faults |\n");
    printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < sizeof agents / sizeof *agents; i++) {
        int n = agents[i], start[30], goal[30];
        unsigned char blocked[M_W * M_H];
        mapf_grid_t g = { M_W, M_H, blocked };
        s_mapf_tally_t t[3] = { 0 };
        double ratio_sum = 0;
        int ratio_n = 0;
        for (int k = 0; k < per; k++) {
            s_mapf_instance(b, blocked, n, start, goal);
            long soc[3] = { -1, -1, -1 };
            for (int a = 0; a < 3; a++) {
                mapf_opts_t o;
                mapf_opts_default(&o);
                o.algo = algo[a];
                o.max_nodes = budget;
                o.seed = k + 1;
                mapf_paths_t *p = NULL;
                double t0 = s_cpu_s();
                int rc = mapf_solve(&g, n, start, goal, &o, &p, NULL, NULL, 0);
                t[a].cpu_ms += (s_cpu_s() - t0) * 1e3;
                if (rc == 0) {
                    t[a].solved++;
                    soc[a] = p->soc;
                    t[a].check_failures += mapf_check(&g, n, start, goal, p, NULL, 0) != 0;
                }
                mapf_paths_destroy(&p);
            }
            if (soc[0] > 0 && soc[1] > 0) {
                ratio_sum += (double) soc[1] / soc[0];
                ratio_n++;
            }
        }
        double ratio = ratio_n ? ratio_sum / ratio_n : NAN;
        printf("| %d | %.0f | %.0f | %.0f | %.1f | %.1f | %.1f | %.4f | %d |\n", n,
               100.0 * t[0].solved / per, 100.0 * t[1].solved / per, 100.0 * t[2].solved / per,
               t[0].cpu_ms / per, t[1].cpu_ms / per, t[2].cpu_ms / per, ratio,
               t[0].check_failures + t[1].check_failures + t[2].check_failures);
        char key[64];
        for (int a = 0; a < 3; a++) {
            snprintf(key, sizeof key, "mapf_%s_success_pct_%d_robots", name[a], n);
            s_put(b, key, 100.0 * t[a].solved / per);
            snprintf(key, sizeof key, "mapf_%s_cpu_ms_%d_robots", name[a], n);
            s_put(b, key, t[a].cpu_ms / per);
        }
        snprintf(key, sizeof key, "mapf_pp_cost_ratio_vs_cbs_%d_robots", n);
        if (ratio_n)
            s_put(b, key, ratio);
        snprintf(key, sizeof key, "mapf_checker_faults_%d_robots", n);
        s_put(b, key, t[0].check_failures + t[1].check_failures + t[2].check_failures);
    }
}

/* ------------------------------------------------------------ 3. motion */

static void s_moves(s_bench_t *b, motion_move_t *m, int n)
{
    for (int i = 0; i < n; i++) {
        m[i].q0 = (s_uniform(b) - 0.5) * 3;
        m[i].q1 = (s_uniform(b) - 0.5) * 3;
        m[i].payload_kg = s_uniform(b) * 5;
    }
}

static void s_bench_motion(s_bench_t *b)
{
    /* A vertical arm joint: the figures are typical of a mid-size
     * industrial arm's second axis, scaled; see docs/robot.md. */
    motion_joint_t plant = { .inertia_kgm2 = 0.8, .viscous_nms = 4, .coulomb_nm = 6,
                             .payload_arm_m = 0.6, .link_mass_kg = 6, .link_com_m = 0.3,
                             .gravity_mps2 = 9.81, .torque_max_nm = 250 };
    /* The feed-forward's model is identified, not true: inertia 10 % low,
     * viscous friction 20 % high, Coulomb 20 % low, link mass 5 % high. */
    motion_joint_t model = plant;
    model.inertia_kgm2 *= 0.9;
    model.viscous_nms *= 1.2;
    model.coulomb_nm *= 0.8;
    model.link_mass_kg *= 1.05;
    motion_limits_t lim = { 3.0, 20.0, 400.0 };
    int n_train = b->quick ? 4 : 12, n_test = b->quick ? 6 : 30;
    motion_move_t train[12], test[30];
    s_moves(b, train, n_train);
    s_moves(b, test, n_test);
    motion_sim_t sim;
    motion_sim_default(&sim);
    sim.plant = &plant;
    motion_pid_t pid_alone, pid_ff;
    double tr_pid, tr_ff, te_pid, te_ff, mx_pid, mx_ff, te_exact;
    int tried = motion_pid_tune(&sim, &lim, train, n_train, &pid_alone, &tr_pid);
    sim.model = &model;
    motion_pid_tune(&sim, &lim, train, n_train, &pid_ff, &tr_ff);
    sim.model = NULL;
    sim.pid = pid_alone;
    motion_eval_moves(&sim, &lim, test, n_test, &te_pid, &mx_pid);
    sim.model = &model;
    sim.pid = pid_ff;
    motion_eval_moves(&sim, &lim, test, n_test, &te_ff, &mx_ff);
    sim.model = &plant;
    motion_eval_moves(&sim, &lim, test, n_test, &te_exact, NULL);
    double ratio = te_ff / te_pid;
    printf("\n3. Motion: S-curve (3 rad/s, 20 rad/s², 400 rad/s³), 1 kHz control, 1-period delay, "
           "17-bit encoder; %d gain sets tried, %d training moves, %d test moves, payload 0–5 kg\n",
           tried, n_train, n_test);
    printf("| controller | kp N m/rad | ki N m/(rad s) | kd N m s/rad | train RMS µrad | "
           "test RMS µrad | test max µrad |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    printf("| tuned PID alone | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f |\n", pid_alone.kp,
           pid_alone.ki, pid_alone.kd, tr_pid * 1e6, te_pid * 1e6, mx_pid * 1e6);
    printf("| feed-forward (imperfect model) + tuned PID | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f |\n",
           pid_ff.kp, pid_ff.ki, pid_ff.kd, tr_ff * 1e6, te_ff * 1e6, mx_ff * 1e6);
    printf("RMS tracking error ratio vs PID alone: %.3f (target <= 0.5); with the exact model: %.3f\n",
           ratio, te_exact / te_pid);
    s_put(b, "tracking_error_ratio_vs_pid", ratio);
    s_put(b, "tracking_error_ratio_vs_pid_exact_model", te_exact / te_pid);
    s_put(b, "pid_rms_err_urad", te_pid * 1e6);
    s_put(b, "ff_rms_err_urad", te_ff * 1e6);
    s_put(b, "pid_max_err_urad", mx_pid * 1e6);
    s_put(b, "ff_max_err_urad", mx_ff * 1e6);
}

/* --------------------------------------------------------- 4. insertion */

static void s_bench_insert(s_bench_t *b)
{
    insert_params_t p;
    insert_params_default(&p);
    int n = b->quick ? 50 : 1000;
    insert_stats_t st;
    double t0 = s_cpu_s();
    insert_run(&p, n, 1e-3, M_PI / 180, 2026, &st);
    double cpu = s_cpu_s() - t0;
    insert_params_t np = p;
    np.search_radius_m = 1e-6;          /* the same trials without the search */
    insert_stats_t ns;
    insert_run(&np, n, 1e-3, M_PI / 180, 2026, &ns);
    printf("\n4. Insertion: %d seeded trials, hole offset uniform in ±1 mm (x, y), tilt ±1° "
           "(about x, y); 10 mm peg, 0.05 mm clearance, 0.5 mm chamfer, 15 mm deep\n", n);
    printf("| strategy | success %% | searched | mean time s | max time s | max contact N | "
           "max penetration µm |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    printf("| spiral search + admittance insertion | %.1f | %d | %.2f | %.2f | %.1f | %.1f |\n",
           st.success_pct, st.searched, st.mean_time_s, st.max_time_s, st.max_contact_n,
           st.max_pen_m * 1e6);
    printf("| same, no search (chamfer only) | %.1f | – | %.2f | %.2f | %.1f | %.1f |\n",
           ns.success_pct, ns.mean_time_s, ns.max_time_s, ns.max_contact_n, ns.max_pen_m * 1e6);
    printf("simulation CPU: %.1f s for %d trials\n", cpu, n);
    s_put(b, "insertion_success_pct", st.success_pct);
    s_put(b, "insertion_trials", n);
    s_put(b, "insertion_searched", st.searched);
    s_put(b, "insertion_mean_time_s", st.mean_time_s);
    s_put(b, "insertion_max_time_s", st.max_time_s);
    s_put(b, "insertion_max_contact_n", st.max_contact_n);
    s_put(b, "insertion_max_penetration_um", st.max_pen_m * 1e6);
    s_put(b, "insertion_no_search_success_pct", ns.success_pct);
}

/* ------------------------------------------------------------------ main */

static int s_write_json(const s_bench_t *b, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, S_PROG ": cannot write %s\n", path);
        return -1;
    }
    fprintf(f, "{\n");
    for (int i = 0; i < b->n; i++)
        fprintf(f, "  \"%s\": %.6g%s\n", b->fig[i].key, b->fig[i].value, i + 1 < b->n ? "," : "");
    fprintf(f, "}\n");
    return fclose(f) == 0 ? 0 : -1;
}

static const char S_USAGE[] =
    "usage: " S_PROG " [--json FILE] [--quick] [--only alloc|mapf|motion|insert]\n"
    "  Runs the robot algorithms against their baselines and prints a table;\n"
    "  --json writes the same figures as flat JSON, --quick a small smoke run.\n";

int main(int argc, char **argv)
{
    static s_bench_t b;
    const char *json = NULL, *only = NULL;
    static const struct {
        const char *name;
        void (*run)(s_bench_t *);
    } parts[] = { { "alloc", s_bench_alloc }, { "mapf", s_bench_mapf },
                  { "motion", s_bench_motion }, { "insert", s_bench_insert } };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(S_USAGE, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--quick")) {
            b.quick = 1;
        } else if ((!strcmp(argv[i], "--json") || !strcmp(argv[i], "--only")) && i + 1 < argc) {
            *(argv[i][2] == 'j' ? &json : &only) = argv[i + 1];
            i++;
        } else {
            return af_args_usage_error(S_PROG, "unknown or incomplete option '%s'", argv[i]);
        }
    }
    int matched = 0;
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++)
        matched += !only || !strcmp(only, parts[k].name);
    if (!matched)
        return af_args_usage_error(S_PROG, "--only wants alloc, mapf, motion or insert, got '%s'",
                                   only);
    printf("robot-bench%s: CPU time per process (the machine is shared)\n",
           b.quick ? " (quick)" : "");
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++)
        if (!only || !strcmp(only, parts[k].name)) {
            /* Each part its own stream: --only gives the same workload. */
            b.rng = 0x2545F4914F6CDD1Dull + 0x9E3779B97F4A7C15ull * (k + 1);
            parts[k].run(&b);
        }
    if (json && s_write_json(&b, json) < 0)
        return 1;
    return 0;
}
