/*  cmd_call — `autofab call`: send a Command to a service, print the result.  */
#include "cli.h"
#include "af_args.h"

#include <ctype.h>
#include <getopt.h>
#include <string.h>

/* Default wait per attempt; the broker answers NOT_FOUND much sooner. */
#define CLI_CALL_TIMEOUT_MS 3000
/* Most NAME=VALUE parameters one command line may carry. */
#define CLI_CALL_MAX_PARAMS 64

static int s_run (const cli_ctx_t *ctx, int argc, char **argv);

const cli_command_t cli_cmd_call = {
    .name = "call",
    .summary = "send a command to a service and print its result",
    .usage = "usage: autofab call SERVICE ACTION [NAME=VALUE]... [-t DURATION] [-r N] [-j]\n"
             "\n"
             "Sends a Command (ACTION and parameters) to the agent serving SERVICE\n"
             "(e.g. robot.cell3) through the broker and prints its CommandResult.\n"
             "A VALUE that is a number is sent as num, true/false as flag, anything\n"
             "else as text.  Exits 1 with one line on stderr if the service is unknown,\n"
             "does not answer, or answers with an error status.\n"
             "\n"
             "  -t, --timeout D   wait per attempt (default 3s; 500ms, 10s …)\n"
             "  -r, --retries N   retry N more times with the same message id (default 0;\n"
             "                    commands are idempotent by id)\n"
             "  -j, --json        print the result as one JSON object\n"
             "\n"
             "If the broker itself does not answer within 2 s (or --timeout), says so,\n"
             "naming the endpoint, and exits 1.\n",
    .run = s_run,
};

/* A name for a status number: "not found" for STATUS_NOT_FOUND (404). */
static void
s_status_name (int status, char *out, size_t out_len)
{
    const ProtobufCEnumValue *v
        = protobuf_c_enum_descriptor_get_value (&autofab__status__descriptor, status);
    const char *name = v && v->name ? v->name : "STATUS_UNKNOWN";
    if (strncmp (name, "STATUS_", 7) == 0)
        name += 7;
    size_t n = 0;
    for (; name[n] && n + 1 < out_len; n++)
        out[n] = name[n] == '_' ? ' ' : (char) tolower ((unsigned char) name[n]);
    out[n] = 0;
}

static void
s_print_result (cli_fmt_t fmt, const Autofab__Envelope *reply)
{
    const Autofab__CommandResult *result
        = reply && reply->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_RESULT ? reply->result : NULL;
    if (fmt == CLI_FMT_JSON) {
        fputs ("{\"status\":0,\"source\":", stdout);
        const char *source = reply && reply->header && reply->header->source
                                 ? reply->header->source : "";
        cli_print_json_string (stdout, source, strlen (source));
        fputs (",\"result\":", stdout);
        if (result)
            cli_print_message (stdout, CLI_FMT_JSON, &result->base);
        else if (reply)
            cli_print_message (stdout, CLI_FMT_JSON, &reply->base);
        else
            fputs ("null", stdout);
        fputs ("}\n", stdout);
        return;
    }
    fputs ("ok", stdout);
    if (result) {
        for (size_t i = 0; i < result->n_results && result->results; i++) {
            fputc (' ', stdout);
            if (result->results[i])
                cli_print_message (stdout, CLI_FMT_HUMAN, &result->results[i]->base);
        }
        if (result->body) {
            fputs (" body=", stdout);
            cli_print_message (stdout, CLI_FMT_HUMAN, &result->body->base);
        }
    }
    else if (reply && reply->payload_case != AUTOFAB__ENVELOPE__PAYLOAD__NOT_SET) {
        /* A worker may answer with another payload; show it as it is. */
        fputc (' ', stdout);
        cli_print_message (stdout, CLI_FMT_HUMAN, &reply->base);
    }
    fputc ('\n', stdout);
}

static int
s_run (const cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option s_options[] = {
        { "timeout", required_argument, NULL, 't' },
        { "retries", required_argument, NULL, 'r' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int64_t timeout_ms = CLI_CALL_TIMEOUT_MS;
    long retries = 0;
    cli_fmt_t fmt = CLI_FMT_HUMAN;
    char why[192];
    int c;
    while ((c = getopt_long (argc, argv, ":ht:r:j", s_options, NULL)) != -1) {
        switch (c) {
        case 't':
            if (cli_parse_duration_ms (optarg, 1, 3600000, &timeout_ms, why, sizeof why) != 0)
                return cli_usage_error ("call", "--timeout: %s", why);
            break;
        case 'r':
            if (af_parse_long (optarg, 0, 100, &retries, why, sizeof why) != 0)
                return cli_usage_error ("call", "--retries: %s", why);
            break;
        case 'j':
            fmt = CLI_FMT_JSON;
            break;
        case 'h':
            return cli_help (&cli_cmd_call);
        default:
            return cli_bad_option (&cli_cmd_call, c, argv);
        }
    }
    if (argc - optind < 2)
        return cli_usage_error ("call", "missing %s (see --help)",
                                argc - optind < 1 ? "SERVICE and ACTION" : "ACTION");
    const char *service = argv[optind], *action = argv[optind + 1];
    if (!af_topic_valid (service, strlen (service)))
        return cli_usage_error ("call", "service '%s' must be dot-separated segments of "
                                "letters, digits, '_', '-'", service);
    if (!*action)
        return cli_usage_error ("call", "ACTION must not be empty");
    int n_params = argc - optind - 2;
    if (n_params > CLI_CALL_MAX_PARAMS)
        return cli_usage_error ("call", "at most %d parameters", CLI_CALL_MAX_PARAMS);
    cli_param_t parsed[CLI_CALL_MAX_PARAMS];
    Autofab__Param params[CLI_CALL_MAX_PARAMS];
    Autofab__Param *ptrs[CLI_CALL_MAX_PARAMS];
    for (int i = 0; i < n_params; i++) {
        if (cli_parse_param (argv[optind + 2 + i], &parsed[i], why, sizeof why) != 0)
            return cli_usage_error ("call", "%s", why);
        autofab__param__init (&params[i]);
        params[i].name = (char *) parsed[i].name;
        if (parsed[i].kind == CLI_PARAM_NUM) {
            params[i].value_case = AUTOFAB__PARAM__VALUE_NUM;
            params[i].num = parsed[i].num;
        }
        else if (parsed[i].kind == CLI_PARAM_FLAG) {
            params[i].value_case = AUTOFAB__PARAM__VALUE_FLAG;
            params[i].flag = parsed[i].flag;
        }
        else {
            params[i].value_case = AUTOFAB__PARAM__VALUE_TEXT;
            params[i].text = (char *) parsed[i].text;
        }
        ptrs[i] = &params[i];
    }

    af_bus_t *bus = cli_bus_open (ctx, "call", NULL);
    if (!bus)
        return CLI_EXIT_FAIL;
    /* The broker first, so "no broker" is never reported as "no service". */
    int check = cli_broker_check (bus, ctx, "call", timeout_ms < CLI_CONNECT_MS ? (int) timeout_ms
                                                                                : CLI_CONNECT_MS);
    if (check != 0) {
        af_bus_destroy (&bus);
        return check;
    }
    Autofab__Command command = AUTOFAB__COMMAND__INIT;
    command.action = (char *) action;
    command.n_params = (size_t) n_params;
    command.params = ptrs;
    Autofab__Envelope req = AUTOFAB__ENVELOPE__INIT;
    req.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_COMMAND;
    req.command = &command;
    Autofab__Envelope *reply = NULL;
    char err[256] = "";
    int status = af_bus_request (bus, service, &req, (int) timeout_ms, (int) retries, &reply, err,
                                 sizeof err);
    int exit_code = CLI_EXIT_OK;
    if (status != 0) {
        /* The error text may come from the broker or a worker: hostile. */
        char safe[256];
        cli_sanitize (err[0] ? err : "failed", safe, sizeof safe);
        char name[64];
        s_status_name (status, name, sizeof name);
        exit_code = cli_fail ("call", "%s %s: %s (%d %s)", service, action, safe, status, name);
    }
    else if (reply && reply->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_RESULT && reply->result
             && reply->result->status != 0) {
        /* The worker took the command and refused it. */
        int refused = reply->result->status;
        const char *text = reply->result->error && *reply->result->error ? reply->result->error
                                                                         : "error";
        char safe[256];
        cli_sanitize (text, safe, sizeof safe);
        char name[64];
        s_status_name (refused, name, sizeof name);
        exit_code = cli_fail ("call", "%s %s: %s (%d %s)", service, action, safe, refused, name);
    }
    else
        s_print_result (fmt, reply);
    if (reply)
        autofab__envelope__free_unpacked (reply, NULL);
    af_bus_destroy (&bus);
    return exit_code;
}
