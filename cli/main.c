/*  main — `autofab`, the operator tool: global options and dispatch.
 *
 *  How to add a subcommand (run, record, replay, keygen, report …):
 *    1. write cli/cmd_<name>.c exporting `const cli_command_t cli_cmd_<name>`
 *       (name, one-line summary, usage text, run function);
 *    2. declare it in cli/cli.h and add `&cli_cmd_<name>` to s_commands below;
 *    3. document it in docs/cli.md.
 *  mk/cli.mk builds every .c file in cli/ by itself; nothing else changes.
 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "af_log.h"

/* The subcommand table, in the order `autofab --help` lists them. */
static const cli_command_t *const s_commands[] = {
    &cli_cmd_run,
    &cli_cmd_eval,
    &cli_cmd_plant,
    &cli_cmd_ls,
    &cli_cmd_sub,
    &cli_cmd_pub,
    &cli_cmd_call,
    &cli_cmd_top,
    &cli_cmd_record,
    &cli_cmd_replay,
    &cli_cmd_keygen,
    &cli_cmd_topics,
    &cli_cmd_completion,
};
#define S_N_COMMANDS (sizeof s_commands / sizeof s_commands[0])

static const char s_global_usage[] =
    "usage: autofab [--broker tcp://HOST:PORT] [--factory NAME] [--log-level LEVEL]\n"
    "               COMMAND [ARGS]...\n"
    "\n"
    "Global options (before or after the command):\n"
    "  --broker URL       broker control endpoint (else $AUTOFAB_BROKER, else " AF_DEFAULT_BROKER ")\n"
    "  --factory NAME     factory name written in message headers\n"
    "  --log-level LEVEL  debug, info, warn, error or off (default warn)\n"
    "  -h, --help         this help; `autofab COMMAND --help` for a command's\n"
    "  -V, --version      print the version\n"
    "\n"
    "Durations (--timeout, --duration, --interval) take 2s, 500ms, 1.5m or 1h;\n"
    "a bare number is seconds.  Commands that need the broker say within their\n"
    "--timeout (default 2s) when it does not answer, and exit 1.\n"
    "\n"
    "Commands:\n";

/* -------------------------------------------------------- shared helpers */

const cli_command_t *const *
cli_commands (size_t *n)
{
    *n = S_N_COMMANDS;
    return s_commands;
}

static int
s_vreport (const char *cmd, int code, const char *fmt, va_list args)
{
    fprintf (stderr, "%s%s%s: ", CLI_PROGRAM, cmd ? " " : "", cmd ? cmd : "");
    vfprintf (stderr, fmt, args);
    fputc ('\n', stderr);
    return code;
}

static int __attribute__ ((format (printf, 3, 4)))
s_fail_code (const char *cmd, int code, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    s_vreport (cmd, code, fmt, args);
    va_end (args);
    return code;
}

/* One wording for every usage error, as af_args_usage_error writes it for
 * the other programs: "autofab CMD: why (see --help)". */
int
cli_usage_error (const char *cmd, const char *fmt, ...)
{
    char why[512];
    va_list args;
    va_start (args, fmt);
    vsnprintf (why, sizeof why, fmt, args);
    va_end (args);
    static const char s_hint[] = " (see --help)";
    size_t len = strlen (why), hint_len = sizeof s_hint - 1;
    bool hinted = len >= hint_len && strcmp (why + len - hint_len, s_hint) == 0;
    return s_fail_code (cmd, CLI_EXIT_USAGE, "%s%s", why, hinted ? "" : s_hint);
}

int
cli_fail (const char *cmd, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    int code = s_vreport (cmd, CLI_EXIT_FAIL, fmt, args);
    va_end (args);
    return code;
}

int
cli_bad_option (const cli_command_t *cmd, int c, char **argv)
{
    const char *name = cmd ? cmd->name : NULL;
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        return cli_usage_error (name, "option '%s' needs a value (see --help)", arg);
    if (optopt && optopt != '?')
        return cli_usage_error (name, "unknown option '-%c' (see --help)", optopt);
    return cli_usage_error (name, "unknown option '%s' (see --help)", arg);
}

int
cli_help (const cli_command_t *cmd)
{
    fputs (cmd->usage, stdout);
    return CLI_EXIT_OK;
}

const char *
cli_broker_endpoint (const cli_ctx_t *ctx)
{
    if (ctx->broker)
        return ctx->broker;
    const char *env = getenv ("AUTOFAB_BROKER");
    return env && *env ? env : AF_DEFAULT_BROKER;
}

af_bus_t *
cli_bus_open (const cli_ctx_t *ctx, const char *cmd, const char *source)
{
    char source_buf[64];
    if (!source) {
        /* Even a listener gets a unique name, so broker logs can tell
         * operators' tools apart. */
        snprintf (source_buf, sizeof source_buf, "autofab-%s-%d", cmd, (int) getpid ());
        source = source_buf;
    }
    af_bus_opts_t opts = { .broker = ctx->broker, .factory = ctx->factory, .source = source };
    char err[256] = "";
    af_bus_t *bus = af_bus_new (&opts, err, sizeof err);
    if (!bus)
        cli_fail (cmd, "%s", err[0] ? err : "cannot create the bus client");
    return bus;
}

/* ------------------------------------------------------------------ main */

static void
s_print_commands (FILE *out)
{
    for (size_t i = 0; i < S_N_COMMANDS; i++)
        fprintf (out, "  %-8s %s\n", s_commands[i]->name, s_commands[i]->summary);
}

/* "ls, sub, pub, …" from the table, for error lines. */
static void
s_command_list (char *out, size_t out_len)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < S_N_COMMANDS && used < out_len; i++)
        used += (size_t) snprintf (out + used, out_len - used, "%s%s", i ? ", " : "",
                                   s_commands[i]->name);
}

static const cli_command_t *
s_find_command (const char *name)
{
    for (size_t i = 0; i < S_N_COMMANDS; i++)
        if (strcmp (s_commands[i]->name, name) == 0)
            return s_commands[i];
    return NULL;
}

enum { S_OPT_BROKER = 256, S_OPT_FACTORY, S_OPT_LOG_LEVEL };

/* One global option's value: 0, or -1 after printing a usage line. */
static int
s_apply_global (cli_ctx_t *ctx, int opt, const char *value)
{
    switch (opt) {
    case S_OPT_BROKER:
        if (strncmp (value, "tcp://", 6) != 0 || !strrchr (value + 6, ':')) {
            cli_usage_error (NULL, "--broker '%s' must look like tcp://HOST:PORT", value);
            return -1;
        }
        ctx->broker = value;
        return 0;
    case S_OPT_FACTORY:
        if (!af_topic_valid (value, strlen (value)) || strchr (value, '.')) {
            cli_usage_error (NULL, "--factory '%s' must be one topic segment (letters, digits, "
                             "'_', '-')", value);
            return -1;
        }
        ctx->factory = value;
        return 0;
    case S_OPT_LOG_LEVEL: {
        int level = af_log_parse_level (value);
        if (level < 0) {
            cli_usage_error (NULL, "--log-level '%s' must be debug, info, warn, error or off",
                             value);
            return -1;
        }
        af_log_set_level ((af_log_level_t) level);
        return 0;
    }
    }
    return -1;
}

/* Global options written after the subcommand ("autofab sub X --broker
 * URL"): applied and taken out of the subcommand's arguments, up to a
 * "--".  Returns 0, or -1 after printing a usage line. */
static int
s_take_globals (cli_ctx_t *ctx, int *argc, char **argv)
{
    static const struct {
        const char *name;
        int opt;
    } s_globals[] = { { "--broker", S_OPT_BROKER }, { "--factory", S_OPT_FACTORY },
                      { "--log-level", S_OPT_LOG_LEVEL } };
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp (argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        int opt = 0;
        const char *value = NULL;
        for (size_t g = 0; g < sizeof s_globals / sizeof s_globals[0] && !opt; g++) {
            size_t len = strlen (s_globals[g].name);
            if (strncmp (argv[i], s_globals[g].name, len) != 0)
                continue;
            if (argv[i][len] == '=')
                opt = s_globals[g].opt, value = argv[i] + len + 1;
            else if (argv[i][len] == 0) {
                if (i + 1 >= *argc) {
                    cli_usage_error (argv[0], "option '%s' needs a value (see --help)",
                                     argv[i]);
                    return -1;
                }
                opt = s_globals[g].opt, value = argv[++i];
            }
        }
        if (!opt) {
            argv[out++] = argv[i];
            continue;
        }
        if (s_apply_global (ctx, opt, value) != 0)
            return -1;
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int
main (int argc, char **argv)
{
    af_log_init (CLI_PROGRAM);
    /* An operator tool logs only what is wrong unless asked for more; the
     * environment (AUTOFAB_LOG) may still raise it. */
    if (!getenv ("AUTOFAB_LOG"))
        af_log_set_level (AF_LOG_WARN);
    /* Line by line even into a pipe: scripts and tests read as we go. */
    setvbuf (stdout, NULL, _IOLBF, 0);
    cli_ctx_t ctx = { 0 };
    static const struct option s_options[] = {
        { "broker", required_argument, NULL, S_OPT_BROKER },
        { "factory", required_argument, NULL, S_OPT_FACTORY },
        { "log-level", required_argument, NULL, S_OPT_LOG_LEVEL },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    int c;
    /* "+" stops at the first non-option: the subcommand's own options are
     * parsed by the subcommand. */
    while ((c = getopt_long (argc, argv, "+:hV", s_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs (s_global_usage, stdout);
            s_print_commands (stdout);
            return CLI_EXIT_OK;
        case 'V':
            printf ("%s %s\n", CLI_PROGRAM, CLI_VERSION);
            return CLI_EXIT_OK;
        case S_OPT_BROKER:
        case S_OPT_FACTORY:
        case S_OPT_LOG_LEVEL:
            if (s_apply_global (&ctx, c, optarg) != 0)
                return CLI_EXIT_USAGE;
            break;
        default:
            return cli_bad_option (NULL, c, argv);
        }
    }
    char list[256];
    s_command_list (list, sizeof list);
    if (optind >= argc)
        return cli_usage_error (NULL, "no command given; commands: %s (see autofab --help)",
                                list);
    const cli_command_t *cmd = s_find_command (argv[optind]);
    if (!cmd)
        return cli_usage_error (NULL, "unknown command '%s'; commands: %s", argv[optind], list);
    /* Each subcommand parses its arguments afresh with getopt. */
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    if (s_take_globals (&ctx, &sub_argc, sub_argv) != 0)
        return CLI_EXIT_USAGE;
    optind = 0;
    return cmd->run (&ctx, sub_argc, sub_argv);
}
