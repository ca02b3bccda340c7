/*  autofab-line — the line agent on the bus (issue 12; docs/line.md).
 *
 *  It takes over the plant's line and quality concerns (capabilities
 *  owns:line and owns:quality: the conventional practice — nameplate speed
 *  and 1-in-20 end-of-line sampling — stops for them) and decides every
 *  epoch with linectl.c: the constraint from the stations' states, paced to
 *  its speed cap while its in-line measurements stay in control; SPC on
 *  each station's torque, alignment and temperature, whose alarm sends the
 *  station back to nameplate and inspects every unit in the same epoch;
 *  end-of-line sampling by Dodge's CSP-1 plan.  It learns the plant only
 *  from the `describe` request (station names and max_speed) and the
 *  telemetry (tel.<factory>.<cell>.twin.station.<name>, .line, .quality,
 *  .energy).  Commands: set_line_speed, set_inspection.
 *
 *  SPC alarms go to alm.<factory>.<cell>.<name>.<station> (code "spc").
 *  Each change is explained in one log line; telemetry that stops arriving
 *  puts every station at nameplate and is counted.
 *
 *    autofab-line [--broker EP] [--factory F] [--cell C] [--twin NAME]
 *                 [--name NAME] [--speed-cap X] [--sample-every K] [--aoql-ppm P]
 */
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_args.h"
#include "af_bus.h"
#include "af_log.h"
#include "af_topic.h"
#include "agents/ctl/ctl.h"
#include "agents/line/linectl.h"

#define S_PROG "autofab-line"
#define S_NAME_MAX 64

typedef struct {
    const char *broker, *factory, *cell, *twin, *name;
    double speed_cap, aoql_ppm, sample_every;
} s_opts_t;

typedef struct {
    s_opts_t o;
    bool ready, idle;
    int n;
    char (*names)[S_NAME_MAX];
    char (*topics)[S_NAME_MAX + 16];
    double *max_speed, *want, *sent;
    linectl_station_obs_t *obs;
    linectl_t *lc;
    af_bus_t *pub;                      /* alarms on alm.<factory>.<cell>.<name>.<station> */
    int sample_sent, constraint;
    uint64_t last_telemetry;
    bool was_stale;
    unsigned long speed_cmds, insp_cmds, refused, alarms_published;
} s_agent_t;

/* Publishes an SPC alarm (the correction already made) for station I. */
static void
s_publish_alarm (s_agent_t *a, int i, const char *text)
{
    if (!a->pub)
        return;
    char topic[AF_TOPIC_MAX_BYTES];
    snprintf (topic, sizeof topic, "alm.%s.%s.%s.%s", a->o.factory ? a->o.factory : "factory",
              a->o.cell ? a->o.cell : "plant", a->o.name ? a->o.name : "line", a->names[i]);
    if (!af_topic_valid (topic, strlen (topic)))
        return;
    Autofab__Alarm alarm = AUTOFAB__ALARM__INIT;
    alarm.severity = AUTOFAB__ALARM__SEVERITY__SEVERITY_WARNING;
    alarm.code = (char *) "spc";
    alarm.text = (char *) text;
    alarm.active = true;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_ALARM;
    env.alarm = &alarm;
    if (af_bus_publish (a->pub, topic, &env) == 0)
        a->alarms_published++;
    af_bus_flush (a->pub);
}

/* ------------------------------------------------------------ the plant */

/* Reads the stations (name, max_speed) from the plant description. */
static int
s_read_plant (s_agent_t *a, const char *text, char *err, size_t err_len)
{
    json_object *root = json_tokener_parse (text), *sts = NULL;
    if (!root || !json_object_object_get_ex (root, "stations", &sts) || !json_object_is_type (sts, json_type_array)
        || json_object_array_length (sts) < 1 || json_object_array_length (sts) > LINECTL_MAX_STATIONS) {
        snprintf (err, err_len, "the plant description has no usable station list");
        json_object_put (root);
        return -1;
    }
    a->n = (int) json_object_array_length (sts);
    a->names = calloc ((size_t) a->n, sizeof *a->names);
    a->topics = calloc ((size_t) a->n, sizeof *a->topics);
    a->max_speed = calloc ((size_t) a->n, sizeof *a->max_speed);
    a->want = calloc ((size_t) a->n, sizeof *a->want);
    a->sent = calloc ((size_t) a->n, sizeof *a->sent);
    a->obs = calloc ((size_t) a->n, sizeof *a->obs);
    if (!a->names || !a->topics || !a->max_speed || !a->want || !a->sent || !a->obs) {
        snprintf (err, err_len, "out of memory");
        json_object_put (root);
        return -1;
    }
    for (int i = 0; i < a->n; i++) {
        json_object *s = json_object_array_get_idx (sts, (size_t) i), *v;
        const char *name = s && json_object_object_get_ex (s, "name", &v) ? json_object_get_string (v) : NULL;
        if (!name || !*name || strlen (name) >= S_NAME_MAX) {
            snprintf (err, err_len, "station %d of the plant description has no usable name", i);
            json_object_put (root);
            return -1;
        }
        snprintf (a->names[i], S_NAME_MAX, "%s", name);
        snprintf (a->topics[i], sizeof a->topics[i], "station.%s", name);
        double m = json_object_object_get_ex (s, "max_speed", &v) ? json_object_get_double (v) : 1.0;
        a->max_speed[i] = isfinite (m) && m >= 1 ? m : 1.0;
        a->sent[i] = 1.0;               /* the plant starts at nameplate */
    }
    json_object_put (root);
    linectl_params_t p = { .n_stations = a->n, .max_speed = a->max_speed, .speed_cap = a->o.speed_cap,
                           .insp = { .sample_every = (int) a->o.sample_every } };
    p.insp.clearance = insp_clearance (1.0 / p.insp.sample_every, a->o.aoql_ppm * 1e-6);
    if (p.insp.clearance < 1) {
        snprintf (err, err_len, "no CSP-1 plan reaches %g ppm with 1 in %d", a->o.aoql_ppm, p.insp.sample_every);
        return -1;
    }
    af_info (S_PROG ": %d stations; CSP-1 1 in %d after %ld clear units (AOQL %.0f ppm of found defects)", a->n,
             p.insp.sample_every, p.insp.clearance, 1e6 * insp_aoql (1.0 / p.insp.sample_every, (double) p.insp.clearance));
    a->lc = linectl_new (&p, err, err_len);
    return a->lc ? 0 : -1;
}

/* ------------------------------------------------------------ each epoch */

static void
s_observe (s_agent_t *a, ctl_t *ctl, const ctl_tick_t *tick, linectl_obs_t *o)
{
    for (int i = 0; i < a->n; i++) {
        const char *k = a->topics[i];
        double st = ctl_metric (ctl, k, "state", -1);
        a->obs[i] = (linectl_station_obs_t) {
            .state = isfinite (st) && st >= 0 && st < 64 ? (int) st : -1,
            .speed = ctl_metric (ctl, k, "speed", NAN),
            .temp_c = ctl_metric (ctl, k, "temp_c", NAN),
            .torque_nm = ctl_metric (ctl, k, "torque_nm", NAN),
            .alignment_mm = ctl_metric (ctl, k, "alignment_mm", NAN),
        };
    }
    uint64_t tel = ctl_stats (ctl).telemetry;
    *o = (linectl_obs_t) { .t_s = tick->t_s, .fresh = tel > a->last_telemetry,
                           .units = ctl_metric (ctl, "line", "units", NAN),
                           .defects_found = ctl_metric (ctl, "quality", "defects_found", NAN),
                           .indoor_c = ctl_metric (ctl, "energy", "indoor_c", NAN), .st = a->obs };
    a->last_telemetry = tel;
}

static void
s_act (s_agent_t *a, ctl_t *ctl, const linectl_out_t *out)
{
    char err[256];
    for (int i = 0; i < a->n; i++) {
        if (fabs (out->speed[i] - a->sent[i]) < 1e-9)
            continue;
        ctl_param_t p[2] = { { "speed", NULL, out->speed[i] }, { "station", a->names[i], 0 } };
        if (ctl_command (ctl, "set_line_speed", p, 2, err, sizeof err) == 0) {
            af_info (S_PROG ": %s speed %.2f -> %.2f (%s)", a->names[i], a->sent[i], out->speed[i],
                     out->stale ? "telemetry stale"
                     : out->speed[i] > 1 ? "the constraint, in control: paced to its cap"
                                         : "back to nameplate: SPC alarm hold");
            a->sent[i] = out->speed[i];
            a->speed_cmds++;
        }
        else
            a->refused++;
    }
    if (out->sample_every != a->sample_sent) {
        ctl_param_t p = { "sample_every", NULL, out->sample_every };
        if (ctl_command (ctl, "set_inspection", &p, 1, err, sizeof err) == 0) {
            af_info (S_PROG ": inspection 1 in %d -> 1 in %d (%s)", a->sample_sent, out->sample_every, out->why);
            a->sample_sent = out->sample_every;
            a->insp_cmds++;
        }
        else
            a->refused++;
    }
}

static void
s_on_epoch (ctl_t *ctl, const ctl_tick_t *tick, void *arg)
{
    s_agent_t *a = arg;
    if (!a->ready) {
        char err[300];
        const char *text = ctl_describe (ctl, err, sizeof err);
        if (!text || s_read_plant (a, text, err, sizeof err) != 0) {
            af_error (S_PROG ": %s; the line stays as it is", err);
            a->idle = true;
        }
        a->ready = true;
    }
    if (a->idle)
        return;
    linectl_obs_t o;
    s_observe (a, ctl, tick, &o);
    linectl_out_t out = { .speed = a->want };
    if (linectl_step (a->lc, &o, &out) != 0)
        return;
    if (out.stale != a->was_stale)
        af_warn (S_PROG ": %s", out.stale ? out.why : "telemetry back: pacing resumes");
    a->was_stale = out.stale;
    for (int k = 0; k < out.n_alarms; k++) {
        int i = out.alarm[k].station;
        char text[256];
        snprintf (text, sizeof text,
                  "SPC alarm at %s: %s shifted %s%s%.0d%s; correction now: nameplate speed for the hold, "
                  "every unit inspected", a->names[i], linectl_signal_name (out.alarm[k].signal),
                  out.alarm[k].direction > 0 ? "up" : "down", out.alarm[k].rule ? " (WE rule " : "",
                  out.alarm[k].rule, out.alarm[k].rule ? ")" : "");
        af_warn (S_PROG ": %s", text);
        s_publish_alarm (a, i, text);
    }
    if (out.constraint != a->constraint && out.constraint >= 0) {
        af_info (S_PROG ": constraint now %s (active-period method over the last window)", a->names[out.constraint]);
        a->constraint = out.constraint;
    }
    s_act (a, ctl, &out);
}

/* ------------------------------------------------------------ main */

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: " S_PROG " [--broker EP] [--factory F] [--cell C] [--twin NAME] [--name NAME]\n"
             "                    [--speed-cap X] [--sample-every K] [--aoql-ppm P] [--log-level LEVEL]\n"
             "The line agent: takes over line speed and quality, paces the constraint\n"
             "within its limits while SPC keeps it in control, corrects SPC alarms in the\n"
             "same epoch and adapts end-of-line sampling to risk (docs/line.md).\n"
             "  --broker EP       broker control endpoint [$AUTOFAB_BROKER or tcp://127.0.0.1:5550]\n"
             "  --factory F       factory name in topics [factory]\n"
             "  --cell C          the plant's cell [plant]\n"
             "  --twin NAME       the plant service [twin]\n"
             "  --name NAME       this agent's name [line]\n"
             "  --speed-cap X     highest speed ever commanded, x nameplate, 1 ... 2 [1.2]\n"
             "                    (each station's own max_speed still applies)\n"
             "  --sample-every K  CSP-1: inspect 1 in K once cleared, 2 ... 1000 [5]\n"
             "  --aoql-ppm P      CSP-1 design AOQL of found defects, ppm [100]\n");
}

static int
s_parse (s_opts_t *o, int argc, char **argv)
{
    static const struct option longs[] = {
        { "broker", required_argument, NULL, 'b' },      { "factory", required_argument, NULL, 'f' },
        { "cell", required_argument, NULL, 'c' },        { "twin", required_argument, NULL, 't' },
        { "name", required_argument, NULL, 'n' },        { "speed-cap", required_argument, NULL, 's' },
        { "sample-every", required_argument, NULL, 'k' }, { "aoql-ppm", required_argument, NULL, 'q' },
        { "log-level", required_argument, NULL, 'l' },   { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    opterr = 0;
    while ((c = getopt_long (argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'b': o->broker = optarg; break;
        case 'f': o->factory = optarg; break;
        case 'c': o->cell = optarg; break;
        case 't': o->twin = optarg; break;
        case 'n': o->name = optarg; break;
        case 's':
            if (!af_args_double (S_PROG, "--speed-cap", optarg, 1, 2, &o->speed_cap))
                return 2;
            break;
        case 'k':
            if (!af_args_double (S_PROG, "--sample-every", optarg, 2, 1000, &o->sample_every))
                return 2;
            if (o->sample_every != floor (o->sample_every))
                return af_args_usage_error (S_PROG, "--sample-every wants a whole number, not '%s'", optarg);
            break;
        case 'q':
            if (!af_args_double (S_PROG, "--aoql-ppm", optarg, 1, 100000, &o->aoql_ppm))
                return 2;
            break;
        case 'l':
            if (!af_args_log_level (S_PROG, optarg))
                return 2;
            break;
        case 'h': return -1;
        default:
            return af_args_usage_error (S_PROG, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error (S_PROG, "unexpected argument '%s'", argv[optind]);
    return 0;
}

static void
s_agent_free (s_agent_t *a)
{
    linectl_destroy (&a->lc);
    free (a->names);
    free (a->topics);
    free (a->max_speed);
    free (a->want);
    free (a->sent);
    free (a->obs);
}

int
main (int argc, char **argv)
{
    af_log_init (S_PROG);
    /* sample_sent 20: the plant's practice until the first decision. */
    s_agent_t a = { .o = { .speed_cap = 1.2, .aoql_ppm = 100, .sample_every = 5 }, .sample_sent = 20,
                    .constraint = -1 };
    int rc = s_parse (&a.o, argc, argv);
    if (rc == -1) {
        s_usage (stdout);
        return 0;
    }
    if (rc)
        return rc;
    static const char *const owns[] = { "line", "quality", NULL };
    ctl_opts_t opts = { .prog = S_PROG, .name = a.o.name, .kind = "line", .broker = a.o.broker,
                        .factory = a.o.factory, .cell = a.o.cell, .twin = a.o.twin, .owns = owns,
                        .on_epoch = s_on_epoch, .arg = &a };
    char err[300];
    ctl_t *ctl = ctl_new (&opts, err, sizeof err);
    if (!ctl) {
        fprintf (stderr, S_PROG ": %s\n", err);
        return 1;
    }
    /* A publisher of our own for alarms: the controller session only
     * commands the plant. */
    af_bus_opts_t bo = { .broker = a.o.broker, .source = a.o.name ? a.o.name : "line", .factory = a.o.factory };
    a.pub = af_bus_new (&bo, err, sizeof err);
    if (!a.pub)
        af_warn (S_PROG ": alarms stay in the log: %s", err);
    else if (af_bus_wait_ready (a.pub, 5000) != 0)
        af_warn (S_PROG ": the alarm publisher is not connected yet; early alarms may be lost");
    rc = ctl_run (ctl);
    if (a.lc) {
        linectl_stats_t s = linectl_stats (a.lc);
        af_info (S_PROG ": %lu epochs (%lu stale), %lu speed and %lu inspection commands (%lu refused); SPC alarms: "
                 "torque %lu, alignment %lu, temperature %lu (%lu published); %lu bad station states",
                 s.epochs, s.stale_epochs, a.speed_cmds, a.insp_cmds, a.refused, s.alarms[LINECTL_TORQUE],
                 s.alarms[LINECTL_ALIGN], s.alarms[LINECTL_TEMP], a.alarms_published, s.bad_states);
    }
    ctl_destroy (&ctl);
    af_bus_destroy (&a.pub);
    s_agent_free (&a);
    return rc;
}
