/*  cli — shared declarations of the operator tool `autofab` (DESIGN §9).
 *
 *  The tool is one binary with a table of subcommands.  Each subcommand lives
 *  in its own cli/cmd_<name>.c and exports one constant descriptor,
 *  `const cli_command_t cli_cmd_<name>`; cli/main.c lists them in its table.
 *  Adding a subcommand is therefore: write cli/cmd_x.c, add one line to the
 *  table in cli/main.c (and the extern below), and document it in docs/cli.md.
 *
 *  Exit codes are the same everywhere: 0 success, 1 a runtime failure (the
 *  broker did not answer, a request failed), 2 bad usage.  Every failure
 *  prints exactly one line on stderr, "autofab <cmd>: why".
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "af_bus.h"

#define CLI_PROGRAM "autofab"
#define CLI_VERSION "0.1.0"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* Options given before the subcommand, shared by all of them. */
typedef struct {
    const char *broker;          /* control endpoint; NULL: $AUTOFAB_BROKER or default */
    const char *factory;         /* NULL: the bus default */
} cli_ctx_t;

/* One subcommand.  RUN gets the arguments after the subcommand's name, with
 * argv[0] being the name itself (as getopt expects). */
typedef struct {
    const char *name;
    const char *summary;         /* one line for `autofab --help` */
    const char *usage;           /* full text for `autofab NAME --help` */
    int (*run) (const cli_ctx_t *ctx, int argc, char **argv);
} cli_command_t;

/* The subcommands; keep in the order of the table in main.c. */
extern const cli_command_t cli_cmd_ls;
extern const cli_command_t cli_cmd_sub;
extern const cli_command_t cli_cmd_pub;
extern const cli_command_t cli_cmd_call;
extern const cli_command_t cli_cmd_top;
extern const cli_command_t cli_cmd_record;
extern const cli_command_t cli_cmd_replay;
extern const cli_command_t cli_cmd_run;
extern const cli_command_t cli_cmd_eval;

extern const cli_command_t cli_cmd_keygen;

/* ------------------------------------------------------- shared helpers */

/* Prints "autofab CMD: why" on stderr and returns CLI_EXIT_USAGE. */
int cli_usage_error (const char *cmd, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Prints "autofab CMD: why" on stderr and returns CLI_EXIT_FAIL. */
int cli_fail (const char *cmd, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Common getopt handling of the '?' and ':' cases: one line, exit code 2. */
int cli_bad_option (const cli_command_t *cmd, int c, char **argv);
/* Prints CMD's usage on stdout and returns CLI_EXIT_OK. */
int cli_help (const cli_command_t *cmd);

/* The control endpoint the bus will use: --broker, $AUTOFAB_BROKER or the
 * default (for messages). */
const char *cli_broker_endpoint (const cli_ctx_t *ctx);
/* Opens a bus on the context's broker; SOURCE names this process in headers
 * (NULL for tools that only listen).  Prints one line and returns NULL on
 * failure. */
af_bus_t *cli_bus_open (const cli_ctx_t *ctx, const char *cmd, const char *source);

/* ----------------------------------------------- argument parsing (args.c)
 * Pure functions, unit-tested in tests/unit/test_cli_print.c.  Each returns
 * 0 on success, or -1 with a reason in ERR. */

/* "name=value[:unit]" for --metric.  The strings point into BUF, a copy. */
typedef struct {
    char buf[256];
    const char *name;
    double value;
    const char *unit;            /* "" if not given */
} cli_metric_t;
int cli_parse_metric (const char *text, cli_metric_t *out, char *err, size_t err_len);

/* "name=value" for `call`: a number becomes num, true/false flag, else text. */
typedef enum { CLI_PARAM_NUM, CLI_PARAM_FLAG, CLI_PARAM_TEXT } cli_param_kind_t;
typedef struct {
    char buf[512];
    const char *name;
    cli_param_kind_t kind;
    double num;
    bool flag;
    const char *text;
} cli_param_t;
int cli_parse_param (const char *text, cli_param_t *out, char *err, size_t err_len);

/* "info", "warning" or "critical" → Autofab__Alarm__Severity. */
int cli_parse_severity (const char *text, int *out, char *err, size_t err_len);

/* Truncates TOPIC to its first DEPTH segments into OUT. */
void cli_topic_head (const char *topic, int depth, char *out, size_t out_len);

/* ------------------------------------------------------ printing (print.c)
 * Turns decoded messages into one line of text, generically through the
 * protobuf-c descriptors, so that a new payload type prints without new
 * code.  Every field is treated as possibly unset (the input is hostile). */

typedef enum { CLI_FMT_HUMAN, CLI_FMT_JSON } cli_fmt_t;

/* Writes one line (with '\n') for an envelope received on TOPIC; GAP is the
 * number of messages missed from its source just before it. */
void cli_print_envelope (FILE *out, cli_fmt_t fmt, const char *topic,
                         const Autofab__Envelope *env, uint64_t gap);
/* Writes MSG generically, without a newline: a JSON object, or a compact
 * human "{name=value ...}" form. */
void cli_print_message (FILE *out, cli_fmt_t fmt, const ProtobufCMessage *msg);
/* Writes LEN bytes as a JSON string (quotes included), escaping what JSON
 * needs and replacing invalid UTF-8 with U+FFFD. */
void cli_print_json_string (FILE *out, const char *text, size_t len);
/* Copies TEXT (NULL: "") to OUT for a terminal: control characters and
 * invalid UTF-8 become '?'; truncates at a character boundary. */
void cli_sanitize (const char *text, char *out, size_t out_len);
/* The descriptor of a message type by full name ("autofab.Telemetry"), found
 * among the types reachable from the envelope and control messages, then
 * among the descriptors linked into the program; NULL if unknown. */
const ProtobufCMessageDescriptor *cli_find_type (const char *full_name);

#endif
