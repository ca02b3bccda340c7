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
extern const cli_command_t cli_cmd_plant;

extern const cli_command_t cli_cmd_keygen;
extern const cli_command_t cli_cmd_topics;
extern const cli_command_t cli_cmd_completion;

/* ------------------------------------------------------- shared helpers */

/* The subcommand table (main.c), for help and completion. */
const cli_command_t *const *cli_commands (size_t *n);

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

/* ------------------------------------------- reaching the broker (connect.c)
 * Every command that needs the broker checks it answers before it starts,
 * and says so within CLI_CONNECT_MS (or its --timeout) naming the endpoint;
 * the long-running ones re-check after CLI_WATCH_IDLE_MS of silence. */

#define CLI_CONNECT_MS 2000
#define CLI_WATCH_IDLE_MS 2000
#define CLI_WATCH_PROBE_MS 1000
#define CLI_WATCH_MISSES 2

/* Asks the broker one list request within TIMEOUT_MS.  0, or prints
 * "autofab CMD: cannot reach the broker at ENDPOINT …" and returns
 * CLI_EXIT_FAIL. */
int cli_broker_check (af_bus_t *bus, const cli_ctx_t *ctx, const char *cmd, int timeout_ms);
/* The same without printing: 0 or -1. */
int cli_broker_check_quiet (af_bus_t *bus, int timeout_ms);

/* A watch on a stream: call cli_watch_saw on every message and
 * cli_watch_idle at least every CLI_WATCH_IDLE_MS while waiting. */
typedef struct {
    const cli_ctx_t *ctx;
    const char *cmd, *pattern;
    int64_t last_ms;             /* last message (or start) */
    int64_t probe_ms;            /* next liveness question, if still silent */
    int missed;                  /* unanswered questions in a row */
    bool told_waiting;           /* the "still waiting" line was printed */
    bool quiet;                  /* never print the "still waiting" line */
} cli_watch_t;
void cli_watch_init (cli_watch_t *self, const cli_ctx_t *ctx, const char *cmd,
                     const char *pattern);
void cli_watch_saw (cli_watch_t *self);
/* 0 while the broker answers (printing once on stderr that the stream is
 * silent), or CLI_EXIT_FAIL once it has gone (the line is printed). */
int cli_watch_idle (cli_watch_t *self, af_bus_t *bus);

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

/* A duration for --timeout, --duration, --interval: "2s", "500ms", "1.5m",
 * "1h"; a bare number is seconds.  Must lie in [MIN_MS, MAX_MS]. */
int cli_parse_duration_ms (const char *text, int64_t min_ms, int64_t max_ms, int64_t *out_ms,
                           char *err, size_t err_len);

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
/* What `sub` asks of the printer beyond the format. */
typedef struct {
    cli_fmt_t fmt;
    const char *const *fields;   /* --field: print only these values (a Metric
                                    of that name, else a payload field) */
    size_t n_fields;
    const char *format;          /* -F: "{topic} {source} {rpm}"; NULL: none */
    uint64_t rx_ns;              /* receive time (wall clock); 0: not shown */
} cli_print_opts_t;
void cli_print_envelope_opts (FILE *out, const cli_print_opts_t *opts, const char *topic,
                              const Autofab__Envelope *env, uint64_t gap);
/* A header time for people: "14:03:07.120Z" (UTC wall clock), or
 * "sim+23:30:00.000" / "sim+3d01:00:00.000" for a simulated clock, which
 * starts at 0. */
void cli_format_time (uint64_t t_ns, char *out, size_t out_len);
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
