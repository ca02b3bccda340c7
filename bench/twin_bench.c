/*  twin-bench — `make bench-twin`: the twin's engine against SimPy, and a
 *  simulated year of the default factory.
 *
 *  1. The open tandem M/M/1 line (λ = 1/s, μ = 2, 2.5, 3 per s) runs in the
 *     twin (through the real plant model, not a toy loop) and in SimPy
 *     (bench/twin_simpy.py, Debian's python3-simpy, SimPy 2 API).  Events are
 *     counted the same way in both: one per arrival and one per service
 *     completion.  Both mean sojourn times are shown beside Jackson's value.
 *  2. The default factory (deploy/factories/gigafactory.yaml) under the
 *     baseline policy for 8760 simulated hours: wall time and simulated
 *     hours per wall second.
 *  The table goes to stdout and the same figures to --json FILE.  Each
 *  speed is the best of --repeat runs (3; SimPy 2), because the machine is
 *  shared and a best-of is the least noisy estimate of what the code can do.
 */
#include "agents/twin/twin.h"
#include "agents/twin/twin_bus.h"
#include "af_args.h"
#include "af_bus.h"
#include "af_supervisor.h"

#include <czmq.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *s_tandem =
    "factory: {name: tandem, warmup_h: 0}\n"
    "arrivals: {mode: poisson, rate_per_h: 3600}\n"
    "stations:\n"
    "  - {name: s1, process_s: {dist: exponential, mean: 0.5}}\n"
    "  - {name: s2, process_s: {dist: exponential, mean: 0.4}}\n"
    "  - {name: s3, process_s: {dist: exponential, mean: 0.3333333333333333}}\n";

static double
s_wall (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double
s_json_num (const char *json, const char *key)
{
    char pat[64];
    snprintf (pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr (json, pat);
    return p ? strtod (p + strlen (pat), NULL) : NAN;
}

/* A saturated line of N stations (exponential times around 1 s, buffers of
 * 5 units, a conveyor between stations), as long lines of a large plant are
 * built: the cost per event must not grow with N. */
static char *
s_line_yaml (int n)
{
    size_t cap = 256 + (size_t) n * 160;
    char *y = malloc (cap);
    if (!y)
        return NULL;
    int len = snprintf (y, cap, "factory: {name: line%d, warmup_h: 0}\narrivals: {mode: saturated}\nstations:\n", n);
    for (int i = 0; i < n; i++)
        len += snprintf (y + len, cap - (size_t) len,
                         "  - {name: s%d, process_s: {dist: exponential, mean: %.3f}, buffer_cap: 5, conveyor_s: 2}\n",
                         i, 0.8 + 0.2 * (double) ((i * 7) % 5) / 4.0);
    return y;
}

/* Nanoseconds per event of the line of N stations, best of REPEAT runs of
 * about 4 M events each. */
static double
s_line_ns_per_event (int n, int repeat)
{
    char err[512], *yaml = s_line_yaml (n);
    double best = 1e300;
    for (int r = 0; yaml && r < repeat; r++) {
        twin_t *t = twin_new_from_text (yaml, strlen (yaml), "line", 1, err, sizeof err);
        if (!t) {
            fprintf (stderr, "twin-bench: %s\n", err);
            break;
        }
        twin_start (t);
        double w0 = s_wall ();
        /* Each unit costs about three events per station (start, end, conveyor). */
        twin_run (t, 4e6 / (3.0 * n * 3600.0), NULL);
        double ns = (s_wall () - w0) * 1e9 / (double) twin_events (t);
        if (ns < best)
            best = ns;
        twin_destroy (&t);
    }
    free (yaml);
    return best;
}

/* A simulated HOURS of FACTORY on the bus (DESIGN §3): a real broker (with
 * its journal, as autofab run starts it), N_CTL controller processes
 * (twin-ctl) that acknowledge every tick at once, and the twin as time
 * master in this process.  Returns the wall seconds, or a negative value. */
static double
s_bus_run (const char *bin, const char *factory, int n_ctl, double hours)
{
    char path[1024], control[64], port_text[16], journal[256], name[16][16];
    int port = af_free_port_block (4);
    if (port < 0)
        return -1;
    snprintf (control, sizeof control, "tcp://127.0.0.1:%d", port);
    snprintf (port_text, sizeof port_text, "%d", port);
    snprintf (journal, sizeof journal, "/tmp/twin-bench-%d.sqlite", (int) getpid ());
    af_supervisor_t *sup = af_supervisor_new ();
    snprintf (path, sizeof path, "%s/autofab-broker", bin);
    const char *broker_argv[] = { "--port", port_text, "--heartbeat-ms", "500", "--journal", journal,
                                  "--log-level", "warn", NULL };
    af_supervisor_start (sup, &(af_child_spec_t) { "broker", path, broker_argv, "/dev/null", false });
    snprintf (path, sizeof path, "%s/twin-ctl", bin);
    for (int i = 0; i < n_ctl && i < 16; i++) {
        snprintf (name[i], sizeof name[i], "ctl%d", i + 1);
        const char *ctl_argv[] = { "--broker", control, "--name", name[i], NULL };
        af_supervisor_start (sup, &(af_child_spec_t) { name[i], path, ctl_argv, "/dev/null", false });
    }
    char err[512];
    double wall = -1;
    twin_t *t = twin_new_from_file (factory, 1, err, sizeof err);
    if (t) {
        twin_policy_t pol;
        twin_policy_baseline (t, &pol);
        twin_set_policy (t, &pol);
        twin_bus_opts_t opts = { .broker = control, .factory = "factory", .cell = "plant", .name = "twin",
                                 .heartbeat_ms = 500, .expect_controllers = n_ctl,
                                 .start_timeout_ms = 30000 };
        /* The clock starts once every controller is registered: the first
         * epoch is when the twin has them all. */
        double w0 = s_wall ();
        if (twin_bus_run (t, hours, &opts, NULL) == 0)
            wall = s_wall () - w0;
        twin_destroy (&t);
    }
    else
        fprintf (stderr, "twin-bench: %s\n", err);
    af_supervisor_destroy (&sup);
    unlink (journal);
    char side[300];
    snprintf (side, sizeof side, "%s-wal", journal);
    unlink (side);
    snprintf (side, sizeof side, "%s-shm", journal);
    unlink (side);
    return wall;
}

int
main (int argc, char **argv)
{
    const char *simpy = "bench/twin_simpy.py", *factory = "deploy/factories/gigafactory.yaml";
    const char *json_path = NULL, *python = "/usr/bin/python3", *bin = NULL;
    long simpy_customers = 200000;
    int repeat = 3;
    double twin_hours = 1000;           /* 3.6 M customers */
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp (argv[i], "--simpy")) simpy = argv[i + 1];
        else if (!strcmp (argv[i], "--factory")) factory = argv[i + 1];
        else if (!strcmp (argv[i], "--json")) json_path = argv[i + 1];
        else if (!strcmp (argv[i], "--python")) python = argv[i + 1];
        else if (!strcmp (argv[i], "--bin")) bin = argv[i + 1];
        else if (!strcmp (argv[i], "--simpy-customers")) simpy_customers = atol (argv[i + 1]);
        else if (!strcmp (argv[i], "--twin-hours")) twin_hours = atof (argv[i + 1]);
        else if (!strcmp (argv[i], "--repeat")) repeat = atoi (argv[i + 1]) > 0 ? atoi (argv[i + 1]) : 1;
        else {
            fprintf (stderr, "twin-bench: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    char err[512];
    double analytic_s = 1 / (2.0 - 1) + 1 / (2.5 - 1) + 1 / (3.0 - 1);

    /* 1a. The twin's engine on the tandem line (best of REPEAT). */
    double twin_eps = 0, twin_sojourn = 0, customers = 0;
    for (int r = 0; r < repeat; r++) {
        twin_t *t = twin_new_from_text (s_tandem, strlen (s_tandem), "tandem", 1, err, sizeof err);
        if (!t) {
            fprintf (stderr, "twin-bench: %s\n", err);
            return 1;
        }
        twin_start (t);
        double w0 = s_wall ();
        twin_run (t, twin_hours, NULL);
        double wall = s_wall () - w0;
        twin_kpi_t k;
        twin_kpis (t, &k);
        /* Events: arrivals + 3 completions per customer (+ 4 epochs an hour). */
        double eps = (double) twin_events (t) / wall;
        if (eps > twin_eps)
            twin_eps = eps;
        customers = k.units;
        twin_sojourn = k.lead_time_mean_min * 60;     /* from arrival, as SimPy measures */
        twin_destroy (&t);
    }

    /* 1b. SimPy on the same model (best of two). */
    double simpy_eps = 0, simpy_sojourn = 0;
    for (int r = 0; r < (repeat > 1 ? 2 : 1); r++) {
        char cmd[1024], line[1024] = "";
        snprintf (cmd, sizeof cmd, "%s %s --customers %ld", python, simpy, simpy_customers);
        FILE *p = popen (cmd, "r");
        if (!p || !fgets (line, sizeof line, p)) {
            fprintf (stderr, "twin-bench: cannot run '%s' (is python3-simpy installed? make deps-bench)\n", cmd);
            if (p)
                pclose (p);
            return 1;
        }
        if (pclose (p) != 0) {
            fprintf (stderr, "twin-bench: '%s' failed\n", cmd);
            return 1;
        }
        double eps = s_json_num (line, "events_per_s");
        if (eps > simpy_eps)
            simpy_eps = eps;
        simpy_sojourn = s_json_num (line, "sojourn_mean_s");
    }
    double ratio = twin_eps / simpy_eps;
    double err_pct = 100 * fabs (twin_sojourn - analytic_s) / analytic_s;
    double simpy_err_pct = 100 * fabs (simpy_sojourn - analytic_s) / analytic_s;

    /* 2. A simulated year of the default factory under the baseline. */
    double year_wall = 1e300, year_events = 0;
    twin_kpi_t fk;
    for (int r = 0; r < repeat; r++) {
        twin_t *f = twin_new_from_file (factory, 1, err, sizeof err);
        if (!f) {
            fprintf (stderr, "twin-bench: %s\n", err);
            return 1;
        }
        twin_policy_t pol;
        twin_policy_baseline (f, &pol);
        twin_set_policy (f, &pol);
        double w0 = s_wall ();
        twin_run (f, 8760, NULL);
        double wall = s_wall () - w0;
        if (wall < year_wall)
            year_wall = wall;
        year_events = (double) twin_events (f);
        twin_kpis (f, &fk);
        twin_destroy (&f);
    }

    /* 4. A simulated week on the bus with five controllers (needs --bin). */
    double bus_week_s = bin ? s_bus_run (bin, factory, 5, 168) : -1;
    double epoch_s = 0;
    {
        twin_t *f = twin_new_from_file (factory, 1, err, sizeof err);
        if (f) {
            epoch_s = twin_epoch_s (f);
            twin_destroy (&f);
        }
    }

    /* 3. Cost per event against plant size. */
    static const int sizes[] = { 3, 8, 30, 100 };
    double ns_per_event[4];
    for (int i = 0; i < 4; i++)
        ns_per_event[i] = s_line_ns_per_event (sizes[i], repeat);

    printf ("twin engine vs SimPy %s: open tandem M/M/1 line, λ = 1/s, μ = 2, 2.5, 3 /s\n\n",
            "2.3 (python3-simpy)");
    printf ("%-22s %12s %14s %16s %12s\n", "engine", "customers", "events/s", "sojourn_mean_s", "error_pct");
    printf ("%-22s %12.0f %14.0f %16.5f %12.3f\n", "autofab twin", customers, twin_eps, twin_sojourn, err_pct);
    printf ("%-22s %12ld %14.0f %16.5f %12.3f\n", "SimPy 2.3", simpy_customers, simpy_eps, simpy_sojourn,
            simpy_err_pct);
    printf ("%-22s %12s %14s %16.5f\n", "Jackson (analytic)", "", "", analytic_s);
    printf ("\nratio twin / SimPy events/s: %.1f x (target >= 30 x)\n", ratio);
    printf ("\ndefault factory (%s), baseline, 8760 simulated h:\n", factory);
    printf ("  wall %.2f s, %.0f simulated h per wall s, %.0f events (%.0f events/s), %.0f units\n",
            year_wall, 8760 / year_wall, year_events, year_events / year_wall, fk.units);
    printf ("  target: a simulated year in < 10 s on one core\n");
    printf ("\ncost per event against line length (saturated line, exponential times, buffers of 5,\n"
            "conveyors; best of %d runs of ~4 M events):\n", repeat);
    printf ("%-10s %14s\n", "stations", "ns/event");
    for (int i = 0; i < 4; i++)
        printf ("%-10d %14.1f\n", sizes[i], ns_per_event[i]);
    printf ("ratio 100 vs 8 stations: %.2f (target <= 1.5)\n", ns_per_event[3] / ns_per_event[1]);
    if (bus_week_s >= 0)
        printf ("\none simulated week of the default factory on the bus (broker with journal, 5 controller\n"
                "processes acknowledging every tick at once, decision epoch %g s = %.0f epochs):\n"
                "  wall %.1f s (target: about a minute or less)\n", epoch_s, 168 * 3600 / epoch_s, bus_week_s);
    else
        printf ("\nbus week: %s\n", bin ? "FAILED (see above)" : "skipped (no --bin)");

    if (json_path) {
        FILE *j = fopen (json_path, "w");
        if (!j) {
            fprintf (stderr, "twin-bench: cannot write %s\n", json_path);
            return 1;
        }
        fprintf (j, "{\"twin_events_per_s\":%.0f,\"simpy_events_per_s\":%.0f,\"ratio_vs_simpy\":%.2f,"
                    "\"sojourn_analytic_s\":%.6f,\"twin_sojourn_s\":%.6f,\"simpy_sojourn_s\":%.6f,"
                    "\"sojourn_error_pct\":%.4f,\"simpy_sojourn_error_pct\":%.4f,"
                    "\"sim_year_wall_s\":%.3f,\"sim_h_per_wall_s\":%.0f,\"sim_year_events\":%.0f,"
                    "\"ns_per_event_3\":%.1f,\"ns_per_event_8\":%.1f,\"ns_per_event_30\":%.1f,"
                    "\"ns_per_event_100\":%.1f,\"ns_per_event_ratio_100_vs_8\":%.3f,"
                    "\"epoch_s\":%g,\"bus_week_5_controllers_wall_s\":%.2f}\n",
                 twin_eps, simpy_eps, ratio, analytic_s, twin_sojourn, simpy_sojourn, err_pct,
                 simpy_err_pct, year_wall, 8760 / year_wall, year_events, ns_per_event[0],
                 ns_per_event[1], ns_per_event[2], ns_per_event[3], ns_per_event[3] / ns_per_event[1],
                 epoch_s, bus_week_s);
        fclose (j);
    }
    return 0;
}
