/*  autofab-web — the live dashboard and Prometheus metrics of one factory
 *  (DESIGN §9).  It listens to the bus (tel, evt, alm, sys), keeps the
 *  newest state in a web_state_t and serves it over HTTP (web_http).
 *
 *  It is a plain af_bus client, not a registered agent: it only observes,
 *  offers no service and must not show up in the plant's presence list or
 *  in the "agents alive" it reports itself; a dashboard restarting is not a
 *  plant event.  It asks the twin for KPIs with ordinary requests, which the
 *  broker routes for unregistered clients too.  */
#include <czmq.h>
#include <getopt.h>

#include "af_args.h"
#include "af_bus.h"
#include "af_log.h"
#include "web_http.h"
#include "web_state.h"

#define PROGRAM "autofab-web"
/* Rates are recomputed this often. */
#define WEB_TICK_MS 1000
/* KPIs are asked of a live twin this often (and after a failure, less). */
#define WEB_KPI_MS 2000
#define WEB_KPI_RETRY_MS 10000
#define WEB_KPI_TIMEOUT_MS 1000
#define WEB_SNAPSHOT_MS 3000

static const char s_usage[] =
    "Usage: " PROGRAM " [OPTIONS]\n"
    "\n"
    "Serves a live dashboard of one factory (stations, KPIs, alarms, energy,\n"
    "agents) and its Prometheus metrics, fed by the broker's event stream.\n"
    "\n"
    "  -b, --broker ENDPOINT    broker control endpoint [$AUTOFAB_BROKER or tcp://127.0.0.1:5550]\n"
    "  -l, --listen HOST:PORT   HTTP address, an IPv4 address of this host [127.0.0.1:8080]\n"
    "  -f, --factory NAME       show only this factory [every factory on the broker]\n"
    "      --chart-js PATH      Chart.js to serve [Debian's libjs-chart.js]\n"
    "      --log-level LEVEL    debug, info, warn, error [info]\n"
    "  -V, --version\n"
    "  -h, --help\n"
    "\n"
    "Pages: /  /events (server-sent events)  /api/state (JSON)  /metrics (Prometheus)\n";

typedef struct {
    const char *broker;
    const char *listen;
    const char *factory;
    const char *chart_js;
} s_opts_t;

/* Feeds one cached message of the start-up snapshot into the state. */
static void
s_on_snapshot (const char *topic, const Autofab__Envelope *env, void *arg)
{
    web_state_apply (arg, topic, env, 0, 0);
}

/* One snapshot of everything, then the live stream.  One, because a
 * snapshot drops what arrives before its marker: a second snapshot (say of
 * tel after sys) would lose live sys messages, a birth among them.  cmd is
 * taken too, to be counted.  Other factories are filtered out by
 * web_state. */
static int
s_subscribe (af_bus_t *bus, web_state_t *state)
{
    int n = af_bus_snapshot (bus, "", s_on_snapshot, state, WEB_SNAPSHOT_MS);
    if (n >= 0) {
        af_info ("web: snapshot: %d topics", n);
        return 0;
    }
    af_warn ("web: no snapshot from the broker (is it running?); live stream only");
    return af_bus_subscribe (bus, ">");
}

/* Asks the twin SERVICE for its KPIs; true if they came. */
static bool
s_poll_kpis (af_bus_t *bus, web_state_t *state, const char *service)
{
    Autofab__Command cmd = AUTOFAB__COMMAND__INIT;
    cmd.action = "kpis";
    Autofab__Envelope req = AUTOFAB__ENVELOPE__INIT;
    req.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_COMMAND;
    req.command = &cmd;
    Autofab__Envelope *reply = NULL;
    char err[256] = "";
    int status = af_bus_request (bus, service, &req, WEB_KPI_TIMEOUT_MS, 0, &reply, err, sizeof err);
    bool ok = false;
    if (status == 0 && reply && reply->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_RESULT
        && reply->result->body && reply->result->body->type
        && !strcmp (reply->result->body->type, "autofab.twin.Kpis")) {
        web_state_apply_kpis (state, reply->result->body->data.data, reply->result->body->data.len);
        ok = true;
    }
    else
        af_debug ("web: no KPIs from '%s': %s", service, err[0] ? err : "unexpected reply");
    if (reply)
        autofab__envelope__free_unpacked (reply, NULL);
    return ok;
}

static int
s_run (const s_opts_t *opts)
{
    char err[256] = "";
    int rc = 1;
    af_bus_t *bus = NULL;
    web_http_t *http = NULL;
    web_state_t *state = web_state_new (opts->factory);
    if (!state)
        goto fail;
    web_http_opts_t hopts = { .listen = opts->listen, .chart_js = opts->chart_js };
    http = web_http_new (state, &hopts, err, sizeof err);
    if (!http) {
        fprintf (stderr, PROGRAM ": %s\n", err);
        goto fail;
    }
    af_bus_opts_t bopts = { .broker = opts->broker, .source = PROGRAM, .factory = opts->factory };
    bus = af_bus_new (&bopts, err, sizeof err);
    if (!bus) {
        fprintf (stderr, PROGRAM ": %s\n", err);
        goto fail;
    }
    af_info ("web: dashboard on http://%s (port %d), metrics at /metrics", opts->listen, web_http_port (http));
    if (s_subscribe (bus, state) != 0) {
        fprintf (stderr, PROGRAM ": cannot subscribe\n");
        goto fail;
    }
    int64_t next_tick_ms = 0, next_kpi_ms = 0;
    while (!zsys_interrupted) {
        af_msg_t msg;
        int got = af_bus_recv (bus, &msg, 100);
        if (got < 0)
            break;
        if (got == 1) {
            web_state_apply (state, msg.topic, msg.env, msg.bytes, msg.gap);
            af_msg_clear (&msg);
        }
        int64_t now = zclock_mono ();
        if (now >= next_tick_ms) {
            web_state_tick (state, now, af_bus_counters (bus));
            next_tick_ms = now + WEB_TICK_MS;
        }
        char service[64];
        if (now >= next_kpi_ms) {
            bool ok = web_state_twin_service (state, service, sizeof service)
                      && s_poll_kpis (bus, state, service);
            next_kpi_ms = zclock_mono () + (ok ? WEB_KPI_MS : WEB_KPI_RETRY_MS);
        }
    }
    af_info ("web: stopping");
    rc = 0;
fail:
    web_http_destroy (&http);
    af_bus_destroy (&bus);
    web_state_destroy (&state);
    return rc;
}

int
main (int argc, char **argv)
{
    af_log_init (PROGRAM);
    s_opts_t opts = { .listen = "127.0.0.1:8080" };
    enum { OPT_LOG = 256, OPT_CHART };
    static const struct option options[] = {
        { "broker", required_argument, 0, 'b' },
        { "listen", required_argument, 0, 'l' },
        { "factory", required_argument, 0, 'f' },
        { "chart-js", required_argument, 0, OPT_CHART },
        { "log-level", required_argument, 0, OPT_LOG },
        { "help", no_argument, 0, 'h' },
        { "version", no_argument, 0, 'V' },
        { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, ":b:l:f:hV", options, NULL)) != -1) {
        switch (c) {
        case 'b': opts.broker = optarg; break;
        case 'l': opts.listen = optarg; break;
        case 'f': opts.factory = optarg; break;
        case OPT_CHART: opts.chart_js = optarg; break;
        case OPT_LOG: {
            int level = af_log_parse_level (optarg);
            if (level < 0)
                return af_args_usage_error (PROGRAM, "--log-level must be debug, info, warn, error or off");
            af_log_set_level ((af_log_level_t) level);
            break;
        }
        case 'h': fputs (s_usage, stdout); return 0;
        case 'V': printf ("%s %s\n", PROGRAM, AF_VERSION); return 0;
        case ':': return af_args_usage_error (PROGRAM, "option '%s' needs a value", argv[optind - 1]);
        default: return af_args_usage_error (PROGRAM, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error (PROGRAM, "unexpected argument '%s'", argv[optind]);
    char host[64];
    int port;
    if (web_http_parse_listen (opts.listen, host, sizeof host, &port) != 0)
        return af_args_usage_error (PROGRAM, "--listen wants IPV4:PORT, got '%s'", opts.listen);
    if (opts.factory && !af_topic_valid (opts.factory, strlen (opts.factory)))
        return af_args_usage_error (PROGRAM, "--factory must be one topic segment, got '%s'", opts.factory);
    if (opts.factory && strchr (opts.factory, '.'))
        return af_args_usage_error (PROGRAM, "--factory must be one topic segment, got '%s'", opts.factory);
    zsys_init ();
    return s_run (&opts);
}
