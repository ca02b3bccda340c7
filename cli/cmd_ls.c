/*  cmd_ls — `autofab ls`: who is registered with the broker.  */
#include "cli.h"
#include "af_args.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "af_clock.h"

/* How long to wait for the broker's list by default. */
#define CLI_LS_TIMEOUT_MS 2000

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_ls = {
    .name = "ls",
    .summary = "list registered agents (name, kind, cell, uptime, traffic, services)",
    .usage = "usage: autofab ls [-j] [-t DURATION] [-a]\n"
             "\n"
             "Lists the agents registered with the broker: name, kind, cell, version,\n"
             "uptime, messages and bytes published, sequence gaps, and services; then the\n"
             "agents that died (their last presence notice is a death) with when they\n"
             "died.  A dead agent that registers again is listed as live.\n"
             "\n"
             "  -j, --json         one JSON object per agent and line (\"state\": \"live\" or\n"
             "                     \"dead\"; dead ones carry died_t_ns)\n"
             "  -t, --timeout D    wait this long for the broker (default 2s; 500ms …)\n"
             "  -a, --alive        only the live agents\n",
    .run = s_run,
};

/* An agent whose last presence notice is a death, from the broker's cache. */
typedef struct {
    char name[64], kind[32], cell[32];
    uint64_t died_t_ns;
} s_dead_t;

#define CLI_LS_MAX_DEAD 256

typedef struct {
    s_dead_t dead[CLI_LS_MAX_DEAD];
    size_t n_dead;
} s_deaths_t;

static void
s_on_presence (const char *topic, const Autofab__Envelope *env, void *arg)
{
    (void) topic;
    s_deaths_t *self = arg;
    if (!env || env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_PRESENCE || !env->presence
        || env->presence->state != AUTOFAB__PRESENCE__STATE__STATE_DEATH
        || self->n_dead == CLI_LS_MAX_DEAD)
        return;
    s_dead_t *d = &self->dead[self->n_dead++];
    cli_sanitize (env->presence->name, d->name, sizeof d->name);
    cli_sanitize (env->presence->kind, d->kind, sizeof d->kind);
    cli_sanitize (env->presence->cell, d->cell, sizeof d->cell);
    d->died_t_ns = env->header ? env->header->t_ns : 0;
}

static bool
s_is_live (const Autofab__ListReply *list, const char *name)
{
    for (size_t i = 0; i < list->n_agents && list->agents; i++)
        if (list->agents[i] && list->agents[i]->name && strcmp (list->agents[i]->name, name) == 0)
            return true;
    return false;
}

static void
s_print_dead (const s_dead_t *d, bool json)
{
    if (json) {
        fputs ("{\"name\":", stdout);
        cli_print_json_string (stdout, d->name, strlen (d->name));
        fputs (",\"kind\":", stdout);
        cli_print_json_string (stdout, d->kind, strlen (d->kind));
        fputs (",\"cell\":", stdout);
        cli_print_json_string (stdout, d->cell, strlen (d->cell));
        printf (",\"state\":\"dead\",\"died_t_ns\":%" PRIu64 "}\n", d->died_t_ns);
        return;
    }
    char when[48];
    cli_format_time (d->died_t_ns, when, sizeof when);
    uint64_t now_ns = af_clock_now_ns (NULL);
    char ago[48] = "";
    if (d->died_t_ns && d->died_t_ns <= now_ns && d->died_t_ns > now_ns - 86400000000000ull * 365)
        snprintf (ago, sizeof ago, " (%.0f s ago)", (double) (now_ns - d->died_t_ns) / 1e9);
    printf ("%-20s %-10s %-8s DEAD since %s%s\n", d->name, d->kind, d->cell, when, ago);
}

static void
s_print_json (const Autofab__AgentInfo *a)
{
    fputs ("{\"name\":", stdout);
    cli_print_json_string (stdout, a->name ? a->name : "", a->name ? strlen (a->name) : 0);
    fputs (",\"kind\":", stdout);
    cli_print_json_string (stdout, a->kind ? a->kind : "", a->kind ? strlen (a->kind) : 0);
    fputs (",\"cell\":", stdout);
    cli_print_json_string (stdout, a->cell ? a->cell : "", a->cell ? strlen (a->cell) : 0);
    fputs (",\"version\":", stdout);
    cli_print_json_string (stdout, a->version ? a->version : "",
                           a->version ? strlen (a->version) : 0);
    printf (",\"state\":\"live\",\"uptime_s\":%.3f,\"msgs\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"gaps\":%" PRIu64
            ",\"requests\":%" PRIu64 ",\"services\":[",
            a->uptime_s, a->msgs, a->bytes, a->gaps, a->requests);
    for (size_t i = 0; i < a->n_services && a->services; i++) {
        if (i)
            fputc (',', stdout);
        const char *s = a->services[i] ? a->services[i] : "";
        cli_print_json_string (stdout, s, strlen (s));
    }
    fputs ("]}\n", stdout);
}

/* Uptime the way operators read it: 42s, 17m03s, 5h12m, 3d04h. */
static void
s_format_uptime (double uptime_s, char *out, size_t out_len)
{
    if (!(uptime_s >= 0) || uptime_s > 1e9)
        uptime_s = 0;
    uint64_t s = (uint64_t) uptime_s;
    if (s < 60)
        snprintf (out, out_len, "%" PRIu64 "s", s);
    else if (s < 3600)
        snprintf (out, out_len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf (out, out_len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf (out, out_len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
}

static void
s_print_human (const Autofab__AgentInfo *a)
{
    char name[64], kind[32], cell[32], version[32], uptime[32], service[128];
    cli_sanitize (a->name, name, sizeof name);
    cli_sanitize (a->kind, kind, sizeof kind);
    cli_sanitize (a->cell, cell, sizeof cell);
    cli_sanitize (a->version, version, sizeof version);
    s_format_uptime (a->uptime_s, uptime, sizeof uptime);
    printf ("%-20s %-10s %-8s %-10s %8s %10" PRIu64 " %12" PRIu64 " %6" PRIu64 " ", name, kind,
            cell, version, uptime, a->msgs, a->bytes, a->gaps);
    for (size_t i = 0; i < a->n_services && a->services; i++) {
        cli_sanitize (a->services[i], service, sizeof service);
        printf ("%s%s", i ? "," : "", service);
    }
    if (!a->n_services)
        fputc ('-', stdout);
    fputc ('\n', stdout);
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option s_options[] = {
        { "json", no_argument, NULL, 'j' },
        { "timeout", required_argument, NULL, 't' },
        { "alive", no_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    bool alive_only = false;
    int64_t timeout_ms = CLI_LS_TIMEOUT_MS;
    char why[160];
    int c;
    while ((c = getopt_long (argc, argv, ":hjt:a", s_options, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 't':
            if (cli_parse_duration_ms (optarg, 1, 3600000, &timeout_ms, why, sizeof why) != 0)
                return cli_usage_error ("ls", "--timeout: %s", why);
            break;
        case 'a':
            alive_only = true;
            break;
        case 'h':
            return cli_help (&cli_cmd_ls);
        default:
            return cli_bad_option (&cli_cmd_ls, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error ("ls", "unexpected argument '%s' (see --help)", argv[optind]);

    af_bus_t *bus = cli_bus_open (ctx, "ls", NULL);
    if (!bus)
        return CLI_EXIT_FAIL;
    Autofab__Control *reply = NULL;
    int rc = af_bus_list (bus, &reply, (int) timeout_ms);
    if (rc != 0 || !reply || !reply->list_reply) {
        if (reply)
            autofab__control__free_unpacked (reply, NULL);
        af_bus_destroy (&bus);
        return cli_fail ("ls", "cannot reach the broker at %s (no answer within %" PRId64
                         " ms; is autofab-broker running there? set --broker or "
                         "$AUTOFAB_BROKER)", cli_broker_endpoint (ctx), timeout_ms);
    }
    const Autofab__ListReply *list = reply->list_reply;
    if (!json)
        printf ("%-20s %-10s %-8s %-10s %8s %10s %12s %6s %s\n", "NAME", "KIND", "CELL",
                "VERSION", "UPTIME", "MSGS", "BYTES", "GAPS", "SERVICES");
    for (size_t i = 0; i < list->n_agents && list->agents; i++) {
        if (!list->agents[i])
            continue;
        if (json)
            s_print_json (list->agents[i]);
        else
            s_print_human (list->agents[i]);
    }
    if (!json && list->n_agents == 0)
        printf ("(no agents registered)\n");
    /* The dead: presence notices in the cache whose last word is a death
     * (the broker replaces an agent's birth with its death there). */
    static s_deaths_t deaths;
    deaths.n_dead = 0;
    if (!alive_only && af_bus_snapshot (bus, "sys", s_on_presence, &deaths, (int) timeout_ms) >= 0)
        for (size_t i = 0; i < deaths.n_dead; i++)
            if (!s_is_live (list, deaths.dead[i].name))
                s_print_dead (&deaths.dead[i], json);
    autofab__control__free_unpacked (reply, NULL);
    af_bus_destroy (&bus);
    return CLI_EXIT_OK;
}
