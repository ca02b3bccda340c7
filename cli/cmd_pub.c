/*  cmd_pub — `autofab pub`: publish telemetry, an event or an alarm.  */
#include "cli.h"
#include "af_args.h"

#include <czmq.h>
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "af_clock.h"

/* Most metrics one command line may carry. */
#define CLI_PUB_MAX_METRICS 64
/* How long to wait for the broker's ingress to accept us. */
#define CLI_PUB_READY_MS 3000
/* The bus closes its sockets without linger, which would drop what is still
 * queued; this is how long we give the last messages to leave. */
#define CLI_PUB_FLUSH_MS 100
/* Rate when --count > 1 and no --rate is given. */
#define CLI_PUB_DEFAULT_HZ 10.0

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_pub = {
    .name = "pub",
    .summary = "publish telemetry metrics, an event or an alarm on a topic",
    .usage = "usage: autofab pub TOPIC [-m NAME=VALUE[:UNIT]]...\n"
             "                   [-e KIND [-T TEXT]]\n"
             "                   [-a CODE [-S info|warning|critical] [-T TEXT] [-c]]\n"
             "                   [-n N] [-r HZ] [-s NAME]\n"
             "\n"
             "Publishes one message (or N) on TOPIC:\n"
             "  metrics only        a Telemetry message\n"
             "  --event KIND        an Event (with the metrics as its values)\n"
             "  --alarm CODE        an Alarm (active unless --clear)\n"
             "\n"
             "  -m, --metric N=V[:U]  a metric: name, value, optional unit (repeatable)\n"
             "  -e, --event KIND      publish an Event\n"
             "  -a, --alarm CODE      publish an Alarm\n"
             "  -T, --text T          text of the event or alarm\n"
             "  -S, --severity S      alarm severity (default warning)\n"
             "  -c, --clear           publish the alarm as cleared (active = false)\n"
             "  -n, --count N         publish N messages (default 1)\n"
             "  -r, --rate HZ         messages per second when N > 1 (default 10)\n"
             "  -s, --source NAME     source name in the header (default autofab-pub-PID)\n"
             "\n"
             "Publishers need not register with the broker.  Exits 1, naming the\n"
             "endpoint, if the broker does not answer within 2 s.\n",
    .run = s_run,
};

typedef struct {
    cli_metric_t metrics[CLI_PUB_MAX_METRICS];
    size_t n_metrics;
    const char *event_kind, *alarm_code, *text, *source;
    int severity;
    bool severity_set, clear;
    long count;
    double rate_hz;
} s_pub_t;

/* Fills ENV with the payload described by SELF; every pointer points into
 * SELF or the caller's arrays, which must outlive the publish. */
static void
s_build (s_pub_t *self, Autofab__Envelope *env, Autofab__Metric *metrics, Autofab__Metric **ptrs,
         Autofab__Telemetry *tel, Autofab__Event *event, Autofab__Alarm *alarm)
{
    for (size_t i = 0; i < self->n_metrics; i++) {
        autofab__metric__init (&metrics[i]);
        metrics[i].name = (char *) self->metrics[i].name;
        metrics[i].value = self->metrics[i].value;
        metrics[i].unit = (char *) self->metrics[i].unit;
        ptrs[i] = &metrics[i];
    }
    autofab__envelope__init (env);
    if (self->alarm_code) {
        autofab__alarm__init (alarm);
        alarm->code = (char *) self->alarm_code;
        alarm->severity = self->severity;
        alarm->text = (char *) (self->text ? self->text : "");
        alarm->active = !self->clear;
        env->payload_case = AUTOFAB__ENVELOPE__PAYLOAD_ALARM;
        env->alarm = alarm;
    }
    else if (self->event_kind) {
        autofab__event__init (event);
        event->kind = (char *) self->event_kind;
        event->text = (char *) (self->text ? self->text : "");
        event->n_values = self->n_metrics;
        event->values = ptrs;
        env->payload_case = AUTOFAB__ENVELOPE__PAYLOAD_EVENT;
        env->event = event;
    }
    else {
        autofab__telemetry__init (tel);
        tel->n_metrics = self->n_metrics;
        tel->metrics = ptrs;
        env->payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY;
        env->telemetry = tel;
    }
}

/* Checks what the options say together; 0 or an exit code. */
static int
s_check (const s_pub_t *self)
{
    if (self->alarm_code && (self->event_kind || self->n_metrics))
        return cli_usage_error ("pub", "--alarm cannot be combined with --event or --metric");
    if (!self->alarm_code && !self->event_kind && !self->n_metrics)
        return cli_usage_error ("pub", "nothing to publish: give --metric, --event or --alarm");
    if (self->text && !self->alarm_code && !self->event_kind)
        return cli_usage_error ("pub", "--text needs --event or --alarm");
    if ((self->severity_set || self->clear) && !self->alarm_code)
        return cli_usage_error ("pub", "--severity and --clear need --alarm");
    if (self->source && !af_topic_valid (self->source, strlen (self->source)))
        return cli_usage_error ("pub", "--source '%s' must be letters, digits, '_', '-', '.'",
                                self->source);
    return 0;
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option s_options[] = {
        { "metric", required_argument, NULL, 'm' },
        { "event", required_argument, NULL, 'e' },
        { "text", required_argument, NULL, 'T' },
        { "alarm", required_argument, NULL, 'a' },
        { "severity", required_argument, NULL, 'S' },
        { "clear", no_argument, NULL, 'c' },
        { "count", required_argument, NULL, 'n' },
        { "rate", required_argument, NULL, 'r' },
        { "source", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    s_pub_t self = { 0 };
    self.severity = AUTOFAB__ALARM__SEVERITY__SEVERITY_WARNING;
    self.count = 1;
    self.rate_hz = CLI_PUB_DEFAULT_HZ;
    char why[192];
    int c;
    while ((c = getopt_long (argc, argv, ":hm:e:T:a:S:cn:r:s:", s_options, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (self.n_metrics == CLI_PUB_MAX_METRICS)
                return cli_usage_error ("pub", "at most %d --metric options",
                                        CLI_PUB_MAX_METRICS);
            if (cli_parse_metric (optarg, &self.metrics[self.n_metrics], why, sizeof why) != 0)
                return cli_usage_error ("pub", "--metric: %s", why);
            self.n_metrics++;
            break;
        case 'e':
            if (!*optarg)
                return cli_usage_error ("pub", "--event needs a non-empty KIND");
            self.event_kind = optarg;
            break;
        case 'T':
            self.text = optarg;
            break;
        case 'a':
            if (!*optarg)
                return cli_usage_error ("pub", "--alarm needs a non-empty CODE");
            self.alarm_code = optarg;
            break;
        case 'S':
            if (cli_parse_severity (optarg, &self.severity, why, sizeof why) != 0)
                return cli_usage_error ("pub", "--severity: %s", why);
            self.severity_set = true;
            break;
        case 'c':
            self.clear = true;
            break;
        case 'n':
            if (af_parse_long (optarg, 1, 1000000000, &self.count, why, sizeof why) != 0)
                return cli_usage_error ("pub", "--count: %s", why);
            break;
        case 'r':
            if (af_parse_double (optarg, 0.001, 1e7, &self.rate_hz, why, sizeof why) != 0)
                return cli_usage_error ("pub", "--rate: %s", why);
            break;
        case 's':
            self.source = optarg;
            break;
        case 'h':
            return cli_help (&cli_cmd_pub);
        default:
            return cli_bad_option (&cli_cmd_pub, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error ("pub", "missing TOPIC (see --help)");
    if (optind + 1 < argc)
        return cli_usage_error ("pub", "unexpected argument '%s' (see --help)", argv[optind + 1]);
    const char *topic = argv[optind];
    if (!af_topic_valid (topic, strlen (topic)))
        return cli_usage_error ("pub", "'%s' is not a valid topic (dot-separated segments of "
                                "letters, digits, '_', '-'; no wildcards)", topic);
    int bad = s_check (&self);
    if (bad)
        return bad;

    char source[64];
    if (self.source)
        snprintf (source, sizeof source, "%s", self.source);
    else
        snprintf (source, sizeof source, "autofab-pub-%d", (int) getpid ());
    af_bus_t *bus = cli_bus_open (ctx, "pub", source);
    if (!bus)
        return CLI_EXIT_FAIL;
    int exit_code = cli_broker_check (bus, ctx, "pub", CLI_CONNECT_MS);
    if (exit_code != 0)
        goto done;
    /* Without this the first messages vanish: ZeroMQ drops what a PUB sends
     * before the broker's subscription has reached it. */
    if (af_bus_wait_ready (bus, CLI_PUB_READY_MS) != 0) {
        exit_code = cli_fail ("pub", "the broker's ingress (next to %s) did not accept us "
                              "within %d ms", cli_broker_endpoint (ctx), CLI_PUB_READY_MS);
        goto done;
    }
    Autofab__Metric metrics[CLI_PUB_MAX_METRICS];
    Autofab__Metric *ptrs[CLI_PUB_MAX_METRICS];
    Autofab__Telemetry tel;
    Autofab__Event event;
    Autofab__Alarm alarm;
    Autofab__Envelope env;
    int64_t period_ms = (int64_t) (1000.0 / self.rate_hz);
    int64_t next_ms = af_clock_mono_ms ();
    for (long i = 0; i < self.count && !zsys_interrupted; i++) {
        if (i) {
            /* Paced from the start time, so the rate does not drift. */
            next_ms += period_ms;
            int64_t wait_ms = next_ms - af_clock_mono_ms ();
            if (wait_ms > 0)
                zclock_sleep ((int) wait_ms);
        }
        s_build (&self, &env, metrics, ptrs, &tel, &event, &alarm);
        if (af_bus_publish (bus, topic, &env) != 0) {
            exit_code = cli_fail ("pub", "publishing on %s failed (message %ld of %ld)", topic,
                                  i + 1, self.count);
            goto done;
        }
    }
    zclock_sleep (CLI_PUB_FLUSH_MS);
done:
    af_bus_destroy (&bus);
    return exit_code;
}
