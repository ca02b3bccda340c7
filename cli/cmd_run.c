/*  autofab run — a whole factory on this machine (DESIGN §9, the main job).
 *
 *  For each policy (baseline, autonomous, or both) it starts a broker, the
 *  twin as the time master and every agent that exists, as supervised child
 *  processes on free loopback ports; follows the run on the bus (progress
 *  bar from clock ticks and line telemetry); collects the twin's KPIs from
 *  its final evt.<factory>.plant.twin.kpis event; stops everything; and
 *  finally prints baseline and autonomous side by side with the change and
 *  the vision's targets, and writes kpi.json and report.html (run_report.c).
 */
#include <czmq.h>
#include <sodium.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "af_args.h"
#include "af_log.h"
#include "af_supervisor.h"
#include "cli.h"
#include "run.h"
#include "twin.h"
#include "twin.pb-c.h"

#define RUN_BROKER_START_MS 20000
#define RUN_DEFAULT_CONFIG "deploy/factories/gigafactory.yaml"
#define RUN_CELL "plant"
#define RUN_HEARTBEAT_MS 500
#define RUN_START_TIMEOUT_MS 15000
#define RUN_STOP_GRACE_MS 3000
/* The progress line on a terminal is redrawn at most this often: a fast
 * run would otherwise redraw it on every message (thousands per policy). */
#define RUN_PROGRESS_REDRAW_MS 200
/* --linger without a value: until Ctrl-C. */
#define RUN_LINGER_FOREVER_MS (-1)

/* Agents that join an autonomous run when their binary exists (DESIGN §4).
 * Each takes over its concern from the twin's built-in conventional practice;
 * later waves add them. */
static const char *const s_autonomous_agents[] = {
    "autofab-line", "autofab-maintenance", "autofab-robot", "autofab-route", "autofab-energy", NULL,
};

static const char s_usage[] =
    "Usage: autofab run [OPTIONS]\n"
    "\n"
    "Runs a whole factory on this machine: a broker, the digital twin as the\n"
    "plant and time master, and every agent, as supervised processes on\n"
    "loopback; then prints the KPI table (baseline and autonomous side by side)\n"
    "and writes kpi.json, report.html and every process's log to --out.\n"
    "\n"
    "  -c, --config FILE     factory config [" RUN_DEFAULT_CONFIG "]\n"
    "  -H, --hours H         simulated hours [168]\n"
    "  -s, --seed S          random seed [1]\n"
    "      --warmup-h W      KPIs start after W of the H hours [factory.warmup_h]\n"
    "  -p, --policy P        baseline, autonomous or both [both]\n"
    "      --realtime        run at wall-clock speed (same as --speed 1)\n"
    "      --speed X         run at X times wall-clock speed [as fast as possible]\n"
    "  -o, --out DIR         output folder [runs/<UTC time>]\n"
    "      --no-web          do not start the dashboard (autofab-web)\n"
    "      --web-port N      dashboard port on 127.0.0.1 [a free one]\n"
    "  -q, --quiet           no progress bar\n"
    "      --linger[=D]      keep broker and dashboard of the last policy up for D\n"
    "                        after the run (30s, 10m …), or until Ctrl-C without D\n"
    "  -h, --help\n"
    "\n"
    "Exit status: 0 when every run completed, 1 when one failed, 2 on bad usage\n"
    "or a bad config; 130 when interrupted (Ctrl-C / SIGTERM stop everything).\n";

/* The folder this program lives in: its sibling programs are there. */
static void
s_bin_dir (char *out, size_t len)
{
    const char *env = getenv ("AUTOFAB_BIN");
    if (env && *env) {
        snprintf (out, len, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf (out, len, ".");
        return;
    }
    self[n] = 0;
    char *slash = strrchr (self, '/');
    if (slash)
        *slash = 0;
    snprintf (out, len, "%s", self);
}

static bool
s_exists (const char *dir, const char *name, char *path, size_t len)
{
    int n = snprintf (path, len, "%s/%s", dir, name);
    return n > 0 && (size_t) n < len && access (path, X_OK) == 0;
}

static int
s_mkdirs (const char *path)
{
    char tmp[PATH_MAX];
    snprintf (tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir (tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir (tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* ---------------------------------------------------------------- progress */

typedef struct {
    bool tty, quiet;
    double hours;
    double sim_h;
    double units;
    double events;
    int64_t wall_start_ms;
    int64_t last_draw_ms;        /* terminal: last redraw */
    int last_quarter;
    double last_units, last_units_h, max_gap_h;   /* for the 24/7 check */
} s_progress_t;

/* "12.3 k", "1.45 M": events per second at a glance, never "0.00 M". */
static void
s_rate_text (double per_s, char *out, size_t len)
{
    if (per_s >= 1e6)
        snprintf (out, len, "%.2f M", per_s / 1e6);
    else if (per_s >= 1e3)
        snprintf (out, len, "%.1f k", per_s / 1e3);
    else
        snprintf (out, len, "%.0f", per_s);
}

/* Wall time left, from the pace so far: "ETA 1m05s", "" before there is a
 * pace to go by. */
static void
s_eta_text (double frac, double wall_s, char *out, size_t len)
{
    out[0] = 0;
    if (frac < 0.01 || frac >= 1 || wall_s <= 0)
        return;
    double left_s = wall_s * (1 - frac) / frac;
    if (left_s >= 3600)
        snprintf (out, len, "  ETA %dh%02dm", (int) (left_s / 3600), (int) fmod (left_s / 60, 60));
    else
        snprintf (out, len, "  ETA %dm%02ds", (int) (left_s / 60), (int) fmod (left_s, 60));
}

static void
s_progress_show (s_progress_t *p, const char *policy, bool done)
{
    if (p->quiet)
        return;
    int64_t now_ms = zclock_mono ();
    if (p->tty && !done && now_ms - p->last_draw_ms < RUN_PROGRESS_REDRAW_MS)
        return;
    p->last_draw_ms = now_ms;
    double frac = p->hours > 0 ? p->sim_h / p->hours : 0;
    if (frac > 1)
        frac = 1;
    double wall_s = (double) (now_ms - p->wall_start_ms) / 1000.0;
    char rate[32] = "", eta[32];
    if (p->events > 0 && wall_s > 0) {
        s_rate_text (p->events / wall_s, rate, sizeof rate);
        strcat (rate, " events/s");
    }
    s_eta_text (frac, wall_s, eta, sizeof eta);
    if (p->tty) {
        char bar[31];
        int filled = (int) (frac * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[30] = 0;
        /* \033[K clears what a longer previous line left behind. */
        fprintf (stderr, "\r  %-10s [%s] %3.0f%%  sim %6.1f/%g h  units %7.0f  %s%s\033[K%s",
                 policy, bar, frac * 100, p->sim_h, p->hours, p->units, rate,
                 done ? "" : eta, done ? "\n" : "");
        fflush (stderr);
    }
    else {
        /* 25, 50 and 75 %, then the final line with the final figures. */
        int quarter = (int) (frac * 4);
        if ((quarter > p->last_quarter && quarter < 4) || done) {
            p->last_quarter = quarter;
            fprintf (stderr, "  %-10s %3.0f%%  sim %.1f/%g h  units %.0f  %s%s\n", policy,
                     frac * 100, p->sim_h, p->hours, p->units, rate, done ? "" : eta);
        }
    }
}

static double
s_metric (const Autofab__Envelope *env, const char *name, double dflt)
{
    if (env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY)
        return dflt;
    for (size_t i = 0; i < env->telemetry->n_metrics; i++)
        if (env->telemetry->metrics[i]->name && !strcmp (env->telemetry->metrics[i]->name, name))
            return env->telemetry->metrics[i]->value;
    return dflt;
}

/* If ENV carries the twin's final KPIs, stores them in RESULT; true then. */
static bool
s_take_kpis (const Autofab__Envelope *env, run_result_t *result)
{
    if (env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TYPED || !env->typed->type
        || strcmp (env->typed->type, "autofab.twin.Kpis") != 0)
        return false;
    Autofab__Twin__Kpis *k = autofab__twin__kpis__unpack (NULL, env->typed->data.len, env->typed->data.data);
    if (!k)
        return false;
    run_result_from_kpis (result, k);
    autofab__twin__kpis__free_unpacked (k, NULL);
    return true;
}

/* ---------------------------------------------------------------- one run */

typedef struct {
    const char *config, *policy, *out_dir, *bin_dir, *factory;
    double hours, speed;
    double warmup_h;             /* < 0: the config's factory.warmup_h */
    uint64_t seed;
    bool web;
    int web_port;
    bool quiet;
    bool keep;                   /* leave broker and dashboard up (--linger) */
} s_run_opts_t;

/* Runs POLICY; fills RESULT.  0 ok, 1 failed, 130 interrupted.  With
 * O->keep, a successful run hands its still running broker and dashboard
 * over in *KEPT (stop them with af_supervisor_stop_all). */
static int
s_run_policy (const s_run_opts_t *o, run_result_t *result, af_supervisor_t **kept)
{
    char dir[PATH_MAX], logs[PATH_MAX + 8];
    snprintf (dir, sizeof dir, "%s/%s", o->out_dir, o->policy);
    snprintf (logs, sizeof logs, "%s/logs", dir);
    /* A run folder holds one run: a second one would meet the first one's
     * journal tables and the broker would refuse to start. */
    char previous[PATH_MAX + 32];
    snprintf (previous, sizeof previous, "%s/journal.sqlite", dir);
    if (access (previous, F_OK) == 0) {
        fprintf (stderr, "autofab run: %s already holds a run (%s); choose another --out or "
                 "remove it\n", o->out_dir, previous);
        return 1;
    }
    if (s_mkdirs (logs) != 0) {
        fprintf (stderr, "autofab run: cannot create %s: %s\n", logs, strerror (errno));
        return 1;
    }
    int port = af_free_port_block (4);
    if (port < 0) {
        fprintf (stderr, "autofab run: no free loopback ports\n");
        return 1;
    }
    char control[64], port_text[16], seed_text[32], hours_text[32], speed_text[32], log[PATH_MAX + 32];
    snprintf (control, sizeof control, "tcp://127.0.0.1:%d", port);
    snprintf (port_text, sizeof port_text, "%d", port);
    snprintf (seed_text, sizeof seed_text, "%lu", (unsigned long) o->seed);
    snprintf (hours_text, sizeof hours_text, "%g", o->hours);
    snprintf (speed_text, sizeof speed_text, "%g", o->speed);
    af_supervisor_t *sup = af_supervisor_new ();
    int rc = 1;
    char path[PATH_MAX];

    /* 1. The broker. */
    s_exists (o->bin_dir, "autofab-broker", path, sizeof path);
    snprintf (log, sizeof log, "%s/broker.log", logs);
    /* The journal records everything the run relays (docs/journal.md). */
    char journal[PATH_MAX + 32];
    snprintf (journal, sizeof journal, "%s/journal.sqlite", dir);
    const char *broker_argv[] = { "--port", port_text, "--factory", o->factory, "--heartbeat-ms", "500",
                                  "--journal", journal, NULL };
    int broker = af_supervisor_start (sup, &(af_child_spec_t) { "broker", path, broker_argv, log, true });
    af_bus_opts_t bus_opts = { .broker = control, .source = "autofab-run", .factory = o->factory };
    char err[300];
    af_bus_t *bus = af_bus_new (&bus_opts, err, sizeof err);
    /* A loaded machine (parallel runs of autofab eval, a test suite beside
     * it) can take seconds to start a broker with its journal: wait up to
     * RUN_BROKER_START_MS, asking every 250 ms. */
    bool up = false;
    int64_t broker_deadline = zclock_mono () + RUN_BROKER_START_MS;
    while (!up && broker >= 0 && !zsys_interrupted && zclock_mono () < broker_deadline) {
        Autofab__Control *reply;
        if (af_bus_list (bus, &reply, 250) == 0) {
            autofab__control__free_unpacked (reply, NULL);
            up = true;
        }
    }
    if (zsys_interrupted) {
        rc = 130;
        goto done;
    }
    if (!up) {
        fprintf (stderr, "autofab run: the broker did not start (see %s/broker.log)\n", logs);
        goto done;
    }
    if (!o->quiet)
        fprintf (stderr, "  %-10s broker %s; follow with: autofab --broker %s sub 'evt.>'  "
                 "(or top)\n", o->policy, control, control);
    char topic[AF_TOPIC_MAX_BYTES];
    snprintf (topic, sizeof topic, "sys.%s.%s.twin.clock", o->factory, RUN_CELL);
    af_bus_subscribe (bus, topic);
    snprintf (topic, sizeof topic, "tel.%s.%s.twin.line", o->factory, RUN_CELL);
    af_bus_subscribe (bus, topic);
    snprintf (topic, sizeof topic, "tel.%s.%s.twin.engine", o->factory, RUN_CELL);
    af_bus_subscribe (bus, topic);
    snprintf (topic, sizeof topic, "evt.%s.%s.twin.kpis", o->factory, RUN_CELL);
    af_bus_subscribe (bus, topic);

    /* 2. The dashboard, when built. */
    if (o->web && s_exists (o->bin_dir, "autofab-web", path, sizeof path)) {
        char listen[64];
        snprintf (listen, sizeof listen, "127.0.0.1:%d", o->web_port > 0 ? o->web_port : port + 3);
        snprintf (log, sizeof log, "%s/web.log", logs);
        const char *web_argv[] = { "--broker", control, "--factory", o->factory, "--listen", listen, NULL };
        if (af_supervisor_start (sup, &(af_child_spec_t) { "web", path, web_argv, log, true }) >= 0 && !o->quiet)
            fprintf (stderr, "  %-10s dashboard http://%s/  metrics http://%s/metrics\n", o->policy, listen, listen);
    }

    /* 3. The agents (autonomous only). */
    int controllers = 0;
    bool autonomous = !strcmp (o->policy, "autonomous");
    for (int i = 0; autonomous && s_autonomous_agents[i]; i++) {
        if (!s_exists (o->bin_dir, s_autonomous_agents[i], path, sizeof path))
            continue;
        snprintf (log, sizeof log, "%s/%s.log", logs, s_autonomous_agents[i] + 8);
        const char *agent_argv[] = { "--broker", control, "--factory", o->factory, "--cell", RUN_CELL, NULL };
        if (af_supervisor_start (sup, &(af_child_spec_t) { s_autonomous_agents[i] + 8, path, agent_argv, log, true }) >= 0)
            controllers++;
    }

    /* 4. The twin, last: it waits for the controllers, then runs. */
    s_exists (o->bin_dir, "autofab-twin", path, sizeof path);
    snprintf (log, sizeof log, "%s/twin.log", logs);
    char ctl_text[16];
    snprintf (ctl_text, sizeof ctl_text, "%d", controllers);
    /* The twin keeps its built-in conventional practice for every concern no
     * agent owns yet; with no agent at all both policies are the baseline. */
    const char *twin_argv[] = { "--bus", "--broker", control, "--factory", o->factory, "--cell", RUN_CELL,
                                "--config", o->config, "--hours", hours_text, "--seed", seed_text,
                                "--policy", "baseline", "--expect-controllers", ctl_text,
                                "--speed", speed_text, "--out", dir, NULL, NULL, NULL };
    char warmup_text[32];
    if (o->warmup_h >= 0) {
        snprintf (warmup_text, sizeof warmup_text, "%.17g", o->warmup_h);
        size_t end = sizeof twin_argv / sizeof *twin_argv - 3;
        twin_argv[end] = "--warmup-h";
        twin_argv[end + 1] = warmup_text;
    }
    int twin = af_supervisor_start (sup, &(af_child_spec_t) { "twin", path, twin_argv, log, false });
    if (twin < 0)
        goto done;

    s_progress_t progress = { .tty = isatty (STDERR_FILENO), .quiet = o->quiet, .hours = o->hours,
                              .wall_start_ms = zclock_mono (), .last_quarter = -1 };
    bool got_kpis = false;
    while (!zsys_interrupted) {
        af_msg_t msg;
        int got = af_bus_recv (bus, &msg, 100);
        if (got == 1) {
            const Autofab__Envelope *env = msg.env;
            if (env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_TICK)
                progress.sim_h = (double) env->tick->sim_t_ns / 3.6e12;
            else if (s_take_kpis (env, result))
                got_kpis = true;
            else if (strstr (msg.topic, ".twin.engine"))
                progress.events = s_metric (env, "events", progress.events);
            else {
                double units = s_metric (env, "units", progress.units);
                if (units > progress.last_units) {
                    double gap = progress.sim_h - progress.last_units_h;
                    if (progress.last_units > 0 && gap > progress.max_gap_h)
                        progress.max_gap_h = gap;
                    progress.last_units = units;
                    progress.last_units_h = progress.sim_h;
                }
                progress.units = units;
            }
            af_msg_clear (&msg);
            s_progress_show (&progress, o->policy, false);
        }
        int exited = af_supervisor_poll (sup, 0);
        if (exited == twin || !af_supervisor_running (sup, twin)) {
            /* Drain what the twin sent just before it exited. */
            while (af_bus_recv (bus, &msg, 200) == 1) {
                got_kpis |= s_take_kpis (msg.env, result);
                af_msg_clear (&msg);
            }
            break;
        }
        if (exited >= 0 && exited != twin)
            af_warn ("run: %s exited (status %d) and is not restarted", af_supervisor_name (sup, exited),
                     af_supervisor_exit_code (sup, exited));
    }
    /* The last line agrees with the table: the twin's final figures, not
     * the last telemetry before them. */
    if (got_kpis) {
        progress.sim_h = result->kpis[RUN_KPI_SIM_H];
        progress.units = result->kpis[RUN_KPI_UNITS];
    }
    s_progress_show (&progress, o->policy, true);
    if (zsys_interrupted) {
        rc = 130;
        goto done;
    }
    int twin_status = af_supervisor_exit_code (sup, twin);
    if (twin_status != 0 || !got_kpis) {
        fprintf (stderr, "autofab run: the twin %s (see %s/twin.log)\n",
                 twin_status != 0 ? "failed" : "sent no KPIs", logs);
        goto done;
    }
    result->max_output_gap_h = progress.max_gap_h;
    run_result_read_twin (result, dir);
    result->agents = controllers;
    result->wall_s = (double) (zclock_mono () - progress.wall_start_ms) / 1000.0;
    for (int i = 0; i < af_supervisor_count (sup); i++)
        result->restarts += af_supervisor_restarts (sup, i);
    rc = 0;
    if (o->keep) {
        /* The twin is done; the broker (and its cache) and the dashboard
         * stay for the operator. */
        af_bus_destroy (&bus);
        *kept = sup;
        return 0;
    }
done:
    af_bus_destroy (&bus);
    int killed = af_supervisor_stop_all (sup, RUN_STOP_GRACE_MS);
    if (killed)
        af_warn ("run: %d process(es) had to be killed", killed);
    af_supervisor_destroy (&sup);
    return rc;
}

/* ---------------------------------------------------------------- command */

/* A new folder runs/<UTC time>[-N]: two runs started in the same second
 * get two folders (mkdir is the atomic test).  0, or -1 with errno. */
static int
s_new_run_dir (char *out, size_t len)
{
    if (mkdir ("runs", 0755) != 0 && errno != EEXIST)
        return -1;
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    char stamp[64];
    strftime (stamp, sizeof stamp, "runs/%Y%m%dT%H%M%SZ", &tm);
    for (int n = 1; n < 1000; n++) {
        if (n == 1)
            snprintf (out, len, "%s", stamp);
        else
            snprintf (out, len, "%s-%d", stamp, n);
        if (mkdir (out, 0755) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

/* --linger: the last policy's broker and dashboard stay up for LINGER_MS
 * (< 0: until Ctrl-C), then everything stops.  Ctrl-C here is the normal
 * way out, not an interruption of the run. */
static void
s_linger (af_supervisor_t **sup_p, int64_t linger_ms)
{
    if (linger_ms < 0)
        fprintf (stderr, "autofab run: broker and dashboard stay up until Ctrl-C\n");
    else
        fprintf (stderr, "autofab run: broker and dashboard stay up for %.0f s (Ctrl-C stops "
                 "them sooner)\n", (double) linger_ms / 1000.0);
    int64_t end_ms = zclock_mono () + linger_ms;
    while (!zsys_interrupted && (linger_ms < 0 || zclock_mono () < end_ms))
        af_supervisor_poll (*sup_p, 200);
    zsys_interrupted = 0;
    int killed = af_supervisor_stop_all (*sup_p, RUN_STOP_GRACE_MS);
    if (killed)
        af_warn ("run: %d process(es) had to be killed", killed);
    af_supervisor_destroy (sup_p);
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        { "config", required_argument, 0, 'c' }, { "hours", required_argument, 0, 'H' },
        { "seed", required_argument, 0, 's' }, { "policy", required_argument, 0, 'p' },
        { "realtime", no_argument, 0, 'R' }, { "speed", required_argument, 0, 'X' },
        { "out", required_argument, 0, 'o' }, { "no-web", no_argument, 0, 'W' },
        { "web-port", required_argument, 0, 'P' }, { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' }, { "warmup-h", required_argument, 0, 'w' },
        { "linger", optional_argument, 0, 'L' },
        { 0, 0, 0, 0 },
    };
    s_run_opts_t o = { .config = RUN_DEFAULT_CONFIG, .policy = "both", .hours = 168, .seed = 1, .warmup_h = -1,
                       .web = true, .factory = ctx->factory ? ctx->factory : "factory" };
    long value;
    int64_t linger_ms = 0;
    char why[160];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long (argc, argv, ":c:H:s:p:o:qh", options, NULL)) != -1) {
        switch (c) {
        case 'c': o.config = optarg; break;
        case 'H':
            if (!af_args_double ("autofab run", "--hours", optarg, 0.25, 24 * 366 * 10, &o.hours))
                return CLI_EXIT_USAGE;
            break;
        case 's':
            if (!af_args_long ("autofab run", "--seed", optarg, 0, LONG_MAX, &value))
                return CLI_EXIT_USAGE;
            o.seed = (uint64_t) value;
            break;
        case 'p':
            if (strcmp (optarg, "baseline") && strcmp (optarg, "autonomous") && strcmp (optarg, "both"))
                return cli_usage_error ("run", "--policy must be baseline, autonomous or both, got '%s'", optarg);
            o.policy = optarg;
            break;
        case 'R': o.speed = 1; break;
        case 'X':
            if (!af_args_double ("autofab run", "--speed", optarg, 0.001, 1e9, &o.speed))
                return CLI_EXIT_USAGE;
            break;
        case 'o': o.out_dir = optarg; break;
        case 'W': o.web = false; break;
        case 'P':
            if (!af_args_long ("autofab run", "--web-port", optarg, 1, 65535, &value))
                return CLI_EXIT_USAGE;
            o.web_port = (int) value;
            break;
        case 'q': o.quiet = true; break;
        case 'w':
            if (!af_args_double ("autofab run", "--warmup-h", optarg, 0, 24 * 366 * 10, &o.warmup_h))
                return CLI_EXIT_USAGE;
            break;
        case 'L':
            linger_ms = RUN_LINGER_FOREVER_MS;
            if (optarg && cli_parse_duration_ms (optarg, 1, INT64_MAX / 2, &linger_ms, why,
                                                 sizeof why) != 0)
                return cli_usage_error ("run", "--linger: %s", why);
            o.keep = true;
            break;
        case 'h': return cli_help (&cli_cmd_run);
        default: return cli_bad_option (&cli_cmd_run, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error ("run", "unexpected argument '%s'", argv[optind]);
    if (o.warmup_h >= o.hours)
        return cli_usage_error ("run", "--warmup-h %g must be shorter than --hours %g", o.warmup_h, o.hours);
    char out_dir[PATH_MAX], bin_dir[PATH_MAX], installed[PATH_MAX + 64];
    s_bin_dir (bin_dir, sizeof bin_dir);
    /* Installed (make install): the default factory lives under share/. */
    snprintf (installed, sizeof installed, "%s/../share/autofab/factories/gigafactory.yaml", bin_dir);
    if (!strcmp (o.config, RUN_DEFAULT_CONFIG) && access (o.config, R_OK) != 0 && access (installed, R_OK) == 0)
        o.config = installed;
    /* A bad config is bad usage: one clear line, exit 2, nothing started. */
    char err[600];
    twin_t *check = twin_new_from_file (o.config, o.seed, err, sizeof err);
    if (!check)
        return cli_usage_error ("run", "%s", err);
    twin_destroy (&check);

    if (!o.out_dir) {
        if (s_new_run_dir (out_dir, sizeof out_dir) != 0)
            return cli_fail ("run", "cannot create a folder under runs/: %s", strerror (errno));
        o.out_dir = out_dir;
    }
    else if (s_mkdirs (o.out_dir) != 0)
        return cli_fail ("run", "cannot create %s: %s", o.out_dir, strerror (errno));
    o.bin_dir = bin_dir;
    char path[PATH_MAX];
    if (!s_exists (bin_dir, "autofab-broker", path, sizeof path) || !s_exists (bin_dir, "autofab-twin", path, sizeof path))
        return cli_fail ("run", "autofab-broker and autofab-twin must be in %s (set AUTOFAB_BIN)", bin_dir);
    af_log_set_file (NULL);
    fprintf (stderr, "autofab run: %s, %g h, seed %lu, policy %s -> %s\n", o.config, o.hours,
             (unsigned long) o.seed, o.policy, o.out_dir);

    const char *policies[2];
    int n_policies = 0;
    if (!strcmp (o.policy, "both") || !strcmp (o.policy, "baseline"))
        policies[n_policies++] = "baseline";
    if (!strcmp (o.policy, "both") || !strcmp (o.policy, "autonomous"))
        policies[n_policies++] = "autonomous";
    run_result_t results[2];
    memset (results, 0, sizeof results);
    int rc = 0;
    af_supervisor_t *kept = NULL;
    for (int i = 0; i < n_policies && rc == 0; i++) {
        s_run_opts_t one = o;
        one.policy = policies[i];
        one.keep = o.keep && i == n_policies - 1;
        results[i].policy = policies[i];
        rc = s_run_policy (&one, &results[i], &kept);
        results[i].ok = rc == 0;
    }
    if (rc == 130) {
        fprintf (stderr, "autofab run: interrupted; everything stopped\n");
        return 130;
    }
    if (rc != 0)
        return CLI_EXIT_FAIL;
    run_report_t report = { .config = o.config, .seed = o.seed, .hours = o.hours, .out_dir = o.out_dir,
                            .results = results, .n_results = n_policies };
    run_report_print (&report, stdout);
    if (run_report_write (&report, err, sizeof err) != 0)
        return cli_fail ("run", "%s", err);
    printf ("\nwrote %s/kpi.json and %s/report.html; logs in %s/<policy>/logs/\n", o.out_dir, o.out_dir, o.out_dir);
    if (kept)
        s_linger (&kept, linger_ms);
    return CLI_EXIT_OK;
}

const cli_command_t cli_cmd_run = {
    .name = "run",
    .summary = "run a whole factory on this machine and print its KPIs",
    .usage = s_usage,
    .run = s_run,
};
