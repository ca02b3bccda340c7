/*  cmd_ls — `autofab ls`: who is registered with the broker.  */
#include "cli.h"
#include "af_args.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

/* How long to wait for the broker's list by default. */
#define CLI_LS_TIMEOUT_MS 2000

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_ls = {
    .name = "ls",
    .summary = "list registered agents (name, kind, cell, uptime, traffic, services)",
    .usage = "usage: autofab ls [--json] [--timeout MS]\n"
             "\n"
             "Lists the agents registered with the broker: name, kind, cell, version,\n"
             "uptime, messages and bytes published, sequence gaps, and services.\n"
             "\n"
             "  --json        one JSON object per agent and line\n"
             "  --timeout MS  wait this long for the broker (default 2000)\n",
    .run = s_run,
};

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
    printf (",\"uptime_s\":%.3f,\"msgs\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"gaps\":%" PRIu64
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
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    long timeout_ms = CLI_LS_TIMEOUT_MS;
    char why[128];
    int c;
    while ((c = getopt_long (argc, argv, ":h", s_options, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 't':
            if (af_parse_long (optarg, 1, 3600000, &timeout_ms, why, sizeof why) != 0)
                return cli_usage_error ("ls", "--timeout: %s", why);
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
        return cli_fail ("ls", "no answer from the broker at %s within %ld ms",
                         cli_broker_endpoint (ctx), timeout_ms);
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
    autofab__control__free_unpacked (reply, NULL);
    af_bus_destroy (&bus);
    return CLI_EXIT_OK;
}
