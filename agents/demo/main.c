/*  autofab-demo-agent — a small telemetry agent: publishes readings of a few
 *  stations and answers a "ping"/"set_rate" service.  It shows what an
 *  agent's main.c looks like on top of af_agent, and it is the stand-in
 *  agent of the integration tests (which can make it slow to answer, to test
 *  request failover).  */
#include <czmq.h>
#include <getopt.h>
#include <math.h>

#include "af_agent.h"
#include "af_args.h"
#include "af_log.h"

#define PROGRAM "autofab-demo-agent"
#define DEMO_MAX_SERVICES 8

typedef struct {
    af_agent_t *agent;
    long stations;
    double rate_hz;
    long reply_delay_ms;     /* tests: hold each request this long */
    uint64_t tick;
    int64_t next_publish_ms;
} demo_t;

static const char s_usage[] =
    "Usage: " PROGRAM " [OPTIONS]\n"
    "\n"
    "Publishes tel.<factory>.<cell>.<name>.stN telemetry (speed, temperature,\n"
    "vibration) and answers requests on its services: action 'ping' replies\n"
    "'pong', 'set_rate' with rate_hz=N changes the publishing rate.\n"
    "\n"
    "  -b, --broker ENDPOINT    broker control endpoint [$AUTOFAB_BROKER or tcp://127.0.0.1:5550]\n"
    "  -n, --name NAME          agent name [demo]\n"
    "      --cell CELL          cell [cell1]\n"
    "  -f, --factory NAME       factory [factory]\n"
    "      --service NAME       offer this service (repeatable) [demo]\n"
    "      --stations N         stations to report [3]\n"
    "      --rate-hz HZ         readings per second per station [10]\n"
    "      --heartbeat-ms N     heartbeat interval [1000]\n"
    "      --reply-delay-ms N   wait this long before answering (tests) [0]\n"
    "      --log-level LEVEL    debug, info, warn, error [info]\n"
    "  -h, --help\n";

static void
s_publish (af_agent_t *agent, void *arg)
{
    demo_t *self = arg;
    int64_t now = zclock_mono ();
    if (self->rate_hz <= 0 || now < self->next_publish_ms)
        return;
    self->next_publish_ms = now + (int64_t) (1000.0 / self->rate_hz);
    self->tick++;
    for (long s = 0; s < self->stations; s++) {
        double phase = (double) self->tick / 50.0 + (double) s;
        Autofab__Metric m[3] = { AUTOFAB__METRIC__INIT, AUTOFAB__METRIC__INIT, AUTOFAB__METRIC__INIT };
        m[0].name = "speed_upm", m[0].value = 60.0 + 2.0 * sin (phase), m[0].unit = "units/min";
        m[1].name = "temp_c", m[1].value = 45.0 + 5.0 * sin (phase / 3), m[1].unit = "degC";
        m[2].name = "vibration_rms_mm_s", m[2].value = 1.5 + 0.3 * cos (phase), m[2].unit = "mm/s";
        char kind[32], topic[AF_TOPIC_MAX_BYTES];
        snprintf (kind, sizeof kind, "st%ld", s + 1);
        af_bus_publish_metrics (af_agent_bus (agent), af_agent_topic (agent, "tel", kind, topic, sizeof topic),
                                m, 3);
    }
}

static int
s_on_request (af_agent_t *agent, const Autofab__Envelope *req, af_reply_t *reply, void *arg)
{
    demo_t *self = arg;
    (void) agent;
    if (self->reply_delay_ms > 0)
        zclock_sleep ((int) self->reply_delay_ms);
    if (req->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_COMMAND || !req->command->action) {
        af_reply_error (reply, "expected a Command");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    const char *action = req->command->action;
    if (!strcmp (action, "ping")) {
        af_reply_text (reply, "answer", "pong");
        af_reply_text (reply, "agent", af_agent_name (agent));
        return 0;
    }
    if (!strcmp (action, "set_rate")) {
        double hz;
        if (!af_command_num (req, "rate_hz", &hz) || hz < 0 || hz > 10000) {
            af_reply_error (reply, "set_rate needs rate_hz between 0 and 10000");
            return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
        }
        self->rate_hz = hz;
        af_reply_num (reply, "rate_hz", hz);
        return 0;
    }
    af_reply_error (reply, "unknown action '%s' (ping, set_rate)", action);
    return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
}

int
main (int argc, char **argv)
{
    af_log_init (PROGRAM);
    static const struct option options[] = {
        { "broker", required_argument, 0, 'b' }, { "name", required_argument, 0, 'n' },
        { "cell", required_argument, 0, 'C' }, { "factory", required_argument, 0, 'f' },
        { "service", required_argument, 0, 'S' }, { "stations", required_argument, 0, 's' },
        { "rate-hz", required_argument, 0, 'r' }, { "heartbeat-ms", required_argument, 0, 'H' },
        { "reply-delay-ms", required_argument, 0, 'D' }, { "log-level", required_argument, 0, 'L' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    demo_t demo = { .stations = 3, .rate_hz = 10 };
    af_agent_opts_t opts = { .name = "demo", .kind = "demo", .cell = "cell1" };
    const char *services[DEMO_MAX_SERVICES];
    size_t n_services = 0;
    long hb = 1000;
    int c;
    opterr = 0;
    while ((c = getopt_long (argc, argv, ":b:n:f:h", options, NULL)) != -1) {
        switch (c) {
        case 'b': opts.broker = optarg; break;
        case 'n': opts.name = optarg; break;
        case 'C': opts.cell = optarg; break;
        case 'f': opts.factory = optarg; break;
        case 'S':
            if (n_services == DEMO_MAX_SERVICES)
                return af_args_usage_error (PROGRAM, "at most %d services", DEMO_MAX_SERVICES);
            services[n_services++] = optarg;
            break;
        case 's': if (!af_args_long (PROGRAM, "--stations", optarg, 0, 1000, &demo.stations)) return 2; break;
        case 'r': if (!af_args_double (PROGRAM, "--rate-hz", optarg, 0, 10000, &demo.rate_hz)) return 2; break;
        case 'H': if (!af_args_long (PROGRAM, "--heartbeat-ms", optarg, 10, 600000, &hb)) return 2; break;
        case 'D': if (!af_args_long (PROGRAM, "--reply-delay-ms", optarg, 0, 600000, &demo.reply_delay_ms)) return 2; break;
        case 'L':
            if (af_log_parse_level (optarg) < 0)
                return af_args_usage_error (PROGRAM, "--log-level must be debug, info, warn, error or off");
            af_log_set_level ((af_log_level_t) af_log_parse_level (optarg));
            break;
        case 'h': fputs (s_usage, stdout); return 0;
        case ':': return af_args_usage_error (PROGRAM, "option '%s' needs a value", argv[optind - 1]);
        default: return af_args_usage_error (PROGRAM, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return af_args_usage_error (PROGRAM, "unexpected argument '%s'", argv[optind]);
    if (n_services == 0)
        services[n_services++] = "demo";
    opts.heartbeat_ms = (int) hb;
    char err[300];
    demo.agent = af_agent_new (&opts, err, sizeof err);
    if (!demo.agent) {
        fprintf (stderr, PROGRAM ": %s\n", err);
        return 2;
    }
    for (size_t i = 0; i < n_services; i++)
        if (af_agent_service (demo.agent, services[i], s_on_request, &demo) != 0) {
            af_agent_destroy (&demo.agent);
            return af_args_usage_error (PROGRAM, "invalid service name '%s'", services[i]);
        }
    /* 10 ms granularity is plenty for a demo and keeps the process idle. */
    af_agent_timer (demo.agent, 10, s_publish, &demo);
    int rc = af_agent_run (demo.agent);
    af_agent_destroy (&demo.agent);
    return rc;
}
