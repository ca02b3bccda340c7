/*  test_cli — the operator tool `autofab` run as a process against a real
 *  `autofab-broker` on free loopback ports.
 *
 *  Programs come from $AF_BIN (set by `make test` / `make test-cli`).  Every
 *  child gets PR_SET_PDEATHSIG, and the suite's fini kills what it started,
 *  so nothing outlives a failed test.  Readiness is polled, never slept for.
 */
#include <criterion/criterion.h>

#include "af_test.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "af_bus.h"
#include "af_clock.h"

#if __has_include("af_agent.h")
#include "af_agent.h"
#define S_HAVE_AGENT 1
#else
#define S_HAVE_AGENT 0
#endif

/* Upper bound on any one CLI run; tests normally finish far sooner. */
#define S_RUN_TIMEOUT_MS 10000
/* How long the broker may take to answer after it is started. */
#define S_BROKER_READY_MS 5000

/* ------------------------------------------------------------- processes */

typedef struct {
    pid_t pid;
    char out_path[128], err_path[128];
} s_proc_t;

typedef struct {
    int status;                  /* exit code, or -1 if killed / timed out */
    char *out, *err;             /* malloc'd, NUL-terminated */
} s_result_t;

/* Test state; one broker per test. */
static pid_t s_broker_pid;
static char s_broker[64];
static s_proc_t s_children[8];
static size_t s_n_children;

static const char *
s_bin_dir (void)
{
    const char *bin = getenv ("AF_BIN");
    return bin && *bin ? bin : "build/bin";
}

/* Starts $AF_BIN/PROGRAM with ARGV (NULL-terminated, argv[0] included);
 * stdout and stderr go to files read back by s_finish. */
static s_proc_t
s_spawn (const char *program, char *const argv[])
{
    s_proc_t proc = { 0 };
    static int s_serial;
    s_serial++;
    const char *tmp = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    snprintf (proc.out_path, sizeof proc.out_path, "%s/af-cli-%d-%d.out", tmp, (int) getpid (),
              s_serial);
    snprintf (proc.err_path, sizeof proc.err_path, "%s/af-cli-%d-%d.err", tmp, (int) getpid (),
              s_serial);
    char path[512];
    snprintf (path, sizeof path, "%s/%s", s_bin_dir (), program);
    pid_t parent = getpid ();
    proc.pid = fork ();
    cr_assert_neq (proc.pid, -1, "fork: %s", strerror (errno));
    if (proc.pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        int out = open (proc.out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open (proc.err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = open ("/dev/null", O_RDONLY);
        if (out < 0 || err < 0 || in < 0)
            _exit (127);
        dup2 (in, 0);
        dup2 (out, 1);
        dup2 (err, 2);
        execv (path, argv);
        _exit (127);
    }
    if (s_n_children < sizeof s_children / sizeof s_children[0])
        s_children[s_n_children++] = proc;
    return proc;
}

/* Waits up to TIMEOUT_MS for PROC (killing it after that) and collects its
 * exit code and output. */
static s_result_t
s_finish (s_proc_t *proc, int timeout_ms)
{
    s_result_t result = { .status = -1 };
    int64_t deadline = af_clock_mono_ms () + timeout_ms;
    int status;
    pid_t done;
    while ((done = waitpid (proc->pid, &status, WNOHANG)) == 0 && af_clock_mono_ms () < deadline)
        usleep (5000);
    if (done == 0) {
        kill (proc->pid, SIGKILL);
        waitpid (proc->pid, &status, 0);
    }
    else if (done == proc->pid && WIFEXITED (status))
        result.status = WEXITSTATUS (status);
    proc->pid = 0;
    result.out = aft_read_file (proc->out_path);
    result.err = aft_read_file (proc->err_path);
    unlink (proc->out_path);
    unlink (proc->err_path);
    return result;
}

static void
s_result_free (s_result_t *r)
{
    free (r->out);
    free (r->err);
}

/* Runs `autofab --broker <test broker> ARGS...` to completion. */
static s_result_t
s_cli (const char *first, ...)
{
    char *argv[32] = { "autofab", "--broker", s_broker };
    int argc = 3;
    va_list args;
    va_start (args, first);
    for (const char *a = first; a && argc < 31; a = va_arg (args, const char *))
        argv[argc++] = (char *) a;
    va_end (args);
    argv[argc] = NULL;
    s_proc_t proc = s_spawn ("autofab", argv);
    return s_finish (&proc, S_RUN_TIMEOUT_MS);
}

static int
s_count_lines (const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* ---------------------------------------------------------------- broker */

/* A port P with P, P+1, P+2 free on loopback: the kernel picks P. */
static int
s_free_ports (void)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
        socklen_t len = sizeof addr;
        if (bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0
            || getsockname (fd, (struct sockaddr *) &addr, &len) != 0) {
            close (fd);
            continue;
        }
        close (fd);
        int port = ntohs (addr.sin_port);
        if (port > 65000)
            continue;
        bool free_all = true;
        for (int i = 0; i < 3 && free_all; i++) {
            int probe = socket (AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in p = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) (port + i)),
                                     .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
            free_all = bind (probe, (struct sockaddr *) &p, sizeof p) == 0;
            close (probe);
        }
        if (free_all)
            return port;
    }
    return -1;
}

static void
s_broker_start (void)
{
    int port = s_free_ports ();
    cr_assert_gt (port, 0, "no free loopback ports");
    char port_text[16];
    snprintf (port_text, sizeof port_text, "%d", port);
    snprintf (s_broker, sizeof s_broker, "tcp://127.0.0.1:%d", port);
    char *argv[] = { "autofab-broker", "--port", port_text, "--heartbeat-ms", "200",
                     "--log-level", "warn", NULL };
    s_proc_t broker = s_spawn ("autofab-broker", argv);
    s_broker_pid = broker.pid;
    /* Ready when it answers a list request. */
    int64_t deadline = af_clock_mono_ms () + S_BROKER_READY_MS;
    while (af_clock_mono_ms () < deadline) {
        s_result_t r = s_cli ("ls", "--timeout", "200ms", NULL);
        int status = r.status;
        s_result_free (&r);
        if (status == 0)
            return;
        cr_assert_eq (waitpid (s_broker_pid, NULL, WNOHANG), 0, "the broker exited at start");
    }
    cr_assert_fail ("the broker at %s did not answer within %d ms", s_broker, S_BROKER_READY_MS);
}

static void
s_setup (void)
{
    s_n_children = 0;
    s_broker_pid = 0;
    snprintf (s_broker, sizeof s_broker, "tcp://127.0.0.1:1");
}

/* Kills every child still running, even when the test failed. */
static void
s_teardown (void)
{
    for (size_t i = 0; i < s_n_children; i++) {
        s_proc_t *child = &s_children[i];
        if (child->pid > 0) {
            kill (child->pid, SIGKILL);
            waitpid (child->pid, NULL, 0);
            unlink (child->out_path);
            unlink (child->err_path);
        }
    }
    s_n_children = 0;
}

TestSuite (cli, .init = s_setup, .fini = s_teardown, .timeout = 20);

/* ------------------------------------------------------------ bad usage */

/* Each bad usage: exit 2 and exactly one line on stderr, nothing on stdout. */
static void
s_expect_usage_error (s_result_t r, const char *what)
{
    cr_expect_eq (r.status, 2, "%s: exit %d, stderr: %s", what, r.status, r.err);
    cr_expect_eq (s_count_lines (r.err), 1, "%s: stderr should be one line: %s", what, r.err);
    cr_expect_str_eq (r.out, "", "%s", what);
    cr_expect (strncmp (r.err, "autofab", 7) == 0, "%s: %s", what, r.err);
    s_result_free (&r);
}

Test (cli, bad_usage_is_one_line_and_exit_2)
{
    s_expect_usage_error (s_cli ("--nope", "ls", NULL), "unknown global option");
    s_expect_usage_error (s_cli (NULL), "no command");
    s_expect_usage_error (s_cli ("ls", "--bogus", NULL), "unknown ls option");
    s_expect_usage_error (s_cli ("ls", "extra", NULL), "ls argument");
    s_expect_usage_error (s_cli ("sub", NULL), "sub without pattern");
    s_expect_usage_error (s_cli ("sub", "tel..x", NULL), "bad pattern");
    s_expect_usage_error (s_cli ("sub", "tel.>", "--count", "x", NULL), "bad count");
    s_expect_usage_error (s_cli ("sub", ">", "--snapshot", NULL), "snapshot without prefix");
    s_expect_usage_error (s_cli ("pub", "tel.a", NULL), "pub nothing");
    s_expect_usage_error (s_cli ("pub", "tel.*", "--metric", "a=1", NULL), "pub wildcard");
    s_expect_usage_error (s_cli ("pub", "tel.a", "--metric", "a", NULL), "pub bad metric");
    s_expect_usage_error (s_cli ("pub", "tel.a", "--alarm", "E1", "--severity", "loud", NULL),
                          "pub bad severity");
    s_expect_usage_error (s_cli ("pub", "tel.a", "--rate", NULL), "pub missing value");
    s_expect_usage_error (s_cli ("call", "svc", NULL), "call without action");
    s_expect_usage_error (s_cli ("call", "svc", "go", "novalue", NULL), "call bad param");
    s_expect_usage_error (s_cli ("top", "--depth", "0", NULL), "top depth");

    s_result_t r = s_cli ("frobnicate", NULL);
    cr_expect (strstr (r.err, "ls, sub, pub, call, top"), "the list of commands: %s", r.err);
    s_expect_usage_error (r, "unknown command");

    char *argv[] = { "autofab", "--broker", "udp://x", "ls", NULL };
    s_proc_t proc = s_spawn ("autofab", argv);
    s_expect_usage_error (s_finish (&proc, S_RUN_TIMEOUT_MS), "bad broker");
}

Test (cli, help_everywhere)
{
    const char *commands[] = { "ls", "sub", "pub", "call", "top" };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        s_result_t r = s_cli (commands[i], "--help", NULL);
        cr_expect_eq (r.status, 0, "%s --help", commands[i]);
        cr_expect (strstr (r.out, "usage: autofab"), "%s --help: %s", commands[i], r.out);
        s_result_free (&r);
    }
    s_result_t r = s_cli ("--help", NULL);
    cr_expect_eq (r.status, 0);
    cr_expect (strstr (r.out, "Commands:") && strstr (r.out, "  top "), "%s", r.out);
    s_result_free (&r);
    r = s_cli ("--version", NULL);
    cr_expect_eq (r.status, 0);
    cr_expect (strncmp (r.out, "autofab ", 8) == 0, "%s", r.out);
    s_result_free (&r);
}

/* ------------------------------------------------------ against a broker */

/* Publishes in the background until stopped, so that a subscriber started
 * first sees messages whenever its subscription becomes active. */
static s_proc_t
s_publisher (const char *topic, const char *const extra[])
{
    char *argv[32] = { "autofab", "--broker", s_broker, "pub", (char *) topic, "--count", "400",
                       "--rate", "40" };
    int argc = 9;
    for (size_t i = 0; extra[i] && argc < 31; i++)
        argv[argc++] = (char *) extra[i];
    argv[argc] = NULL;
    return s_spawn ("autofab", argv);
}

Test (cli, pub_sub_human)
{
    s_broker_start ();
    char *sub_argv[] = { "autofab", "--broker", s_broker, "sub", "tel.f1.>", "--count", "3",
                         "--timeout", "8", NULL };
    s_proc_t sub = s_spawn ("autofab", sub_argv);
    const char *const extra[] = { "--metric", "speed_upm=12.5:upm", "--metric", "temp_c=71",
                                  "--source", "cli-test", NULL };
    s_proc_t pub = s_publisher ("tel.f1.c1.press.state", extra);
    s_result_t r = s_finish (&sub, S_RUN_TIMEOUT_MS);
    kill (pub.pid, SIGTERM);
    s_result_t p = s_finish (&pub, 2000);
    cr_expect_eq (r.status, 0, "sub exit %d: %s", r.status, r.err);
    cr_expect_eq (s_count_lines (r.out), 3, "three lines: %s", r.out);
    cr_expect (strstr (r.out, "tel.f1.c1.press.state cli-test#"), "%s", r.out);
    cr_expect (strstr (r.out, "telemetry {metrics=[speed_upm=12.5upm temp_c=71]}"), "%s", r.out);
    s_result_free (&r);
    s_result_free (&p);
}

/* Every --json line must parse on its own as one JSON object. */
static void
s_expect_json_lines (const char *text, int lines)
{
    cr_expect_eq (s_count_lines (text), lines, "%s", text);
    if (system ("command -v python3 >/dev/null 2>&1") != 0) {
        cr_expect (text[0] == '{', "%s", text);
        return;
    }
    char path[] = "/tmp/af-cli-json-XXXXXX";
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    char cmd[256];
    snprintf (cmd, sizeof cmd,
              "python3 -c 'import json,sys\n"
              "for l in open(sys.argv[1]): assert isinstance(json.loads(l), dict)' %s", path);
    int rc = system (cmd);
    unlink (path);
    cr_expect_eq (rc, 0, "not one JSON object per line: %s", text);
}

Test (cli, pub_sub_json)
{
    s_broker_start ();
    char *sub_argv[] = { "autofab", "--broker", s_broker, "sub", "evt.*.c2.>", "--json",
                         "--count", "2", "--timeout", "8", NULL };
    s_proc_t sub = s_spawn ("autofab", sub_argv);
    const char *const extra[] = { "--event", "unit_done", "--text", "lot \"7\"\tok",
                                  "--metric", "units=3", NULL };
    s_proc_t pub = s_publisher ("evt.f1.c2.line.done", extra);
    s_result_t r = s_finish (&sub, S_RUN_TIMEOUT_MS);
    kill (pub.pid, SIGTERM);
    s_result_t p = s_finish (&pub, 2000);
    cr_expect_eq (r.status, 0, "sub exit %d: %s", r.status, r.err);
    s_expect_json_lines (r.out, 2);
    cr_expect (strstr (r.out, "\"topic\":\"evt.f1.c2.line.done\""), "%s", r.out);
    cr_expect (strstr (r.out, "\"kind\":\"event\",\"payload\":{\"kind\":\"unit_done\","
                              "\"text\":\"lot \\\"7\\\"\\tok\",\"values\":[{\"name\":\"units\","
                              "\"value\":3}]}"), "%s", r.out);
    s_result_free (&r);
    s_result_free (&p);
}

Test (cli, snapshot_then_timeout)
{
    s_broker_start ();
    s_result_t p = s_cli ("pub", "alm.f1.c3.robot.jam", "--alarm", "E42", "--severity",
                          "critical", "--text", "gripper jam", NULL);
    cr_assert_eq (p.status, 0, "pub: %s", p.err);
    s_result_free (&p);
    /* The cache holds it; wait for the relay rather than sleeping. */
    s_result_t r = { 0 };
    int64_t deadline = af_clock_mono_ms () + 3000;
    do {
        s_result_free (&r);
        r = s_cli ("sub", "alm.*.c3.>", "--snapshot", "--timeout", "1s", NULL);
    } while (!strstr (r.out, "E42") && af_clock_mono_ms () < deadline);
    cr_expect_eq (r.status, 0, "sub exit %d: %s", r.status, r.err);
    cr_expect_eq (s_count_lines (r.out), 1, "%s", r.out);
    cr_expect (strstr (r.out, "alarm {severity=critical code=E42 text=\"gripper jam\" "
                              "active=true}"), "%s", r.out);
    s_result_free (&r);
}

Test (cli, ls_empty_and_call_unknown_service)
{
    s_broker_start ();
    s_result_t r = s_cli ("ls", NULL);
    cr_expect_eq (r.status, 0, "%s", r.err);
    cr_expect (strstr (r.out, "NAME") && strstr (r.out, "(no agents registered)"), "%s", r.out);
    s_result_free (&r);
    r = s_cli ("ls", "--json", NULL);
    cr_expect_eq (r.status, 0, "%s", r.err);
    cr_expect_str_eq (r.out, "");
    s_result_free (&r);

    r = s_cli ("call", "nosuch.svc", "start", "speed=3", "--timeout", "2s", NULL);
    cr_expect_eq (r.status, 1, "exit %d: %s", r.status, r.err);
    cr_expect_eq (s_count_lines (r.err), 1, "%s", r.err);
    cr_expect (strstr (r.err, "autofab call: nosuch.svc start:"), "%s", r.err);
    cr_expect (strstr (r.err, "404"), "%s", r.err);
    cr_expect_str_eq (r.out, "");
    s_result_free (&r);
}

Test (cli, top_once_plain_lines)
{
    s_broker_start ();
    const char *const extra[] = { "--metric", "x=1", NULL };
    s_proc_t pub = s_publisher ("tel.f1.c1.belt.speed", extra);
    s_result_t r = { 0 };
    int64_t deadline = af_clock_mono_ms () + 5000;
    do {
        s_result_free (&r);
        r = s_cli ("top", "tel.>", "--once", "--interval", "0.5", "--depth", "3", NULL);
    } while (!strstr (r.out, "tel.f1.c1 ") && af_clock_mono_ms () < deadline);
    kill (pub.pid, SIGTERM);
    s_result_t p = s_finish (&pub, 2000);
    cr_expect_eq (r.status, 0, "%s", r.err);
    cr_expect (strstr (r.out, "PREFIX"), "%s", r.out);
    cr_expect (strstr (r.out, "tel.f1.c1 "), "%s", r.out);
    cr_expect (strstr (r.out, "broker: relayed_msgs="), "%s", r.out);
    cr_expect (!strchr (r.out, '\033'), "no ANSI codes when not a terminal");
    s_result_free (&r);
    s_result_free (&p);
}

#if __has_include("twin.pb-c.h")
#include "twin.pb-c.h"

/* A Typed body of a type from another .proto (the twin's) prints decoded,
 * although the CLI has no code for it: it finds the descriptor by name. */
Test (cli, typed_payload_of_another_proto_prints_decoded)
{
    s_broker_start ();
    char *sub_argv[] = { "autofab", "--broker", s_broker, "sub", "cmd.>", "--json", "--count",
                         "1", "--timeout", "8", NULL };
    s_proc_t sub = s_spawn ("autofab", sub_argv);
    af_bus_opts_t opts = { .broker = s_broker, .source = "twin-test" };
    char err[256] = "";
    af_bus_t *bus = af_bus_new (&opts, err, sizeof err);
    cr_assert_not_null (bus, "%s", err);
    cr_assert_eq (af_bus_wait_ready (bus, 3000), 0);
    Autofab__Twin__LineSpeed speed = AUTOFAB__TWIN__LINE_SPEED__INIT;
    speed.station = "press";
    speed.speed = 0.8;
    uint8_t packed[64];
    Autofab__Typed typed = AUTOFAB__TYPED__INIT;
    typed.type = "autofab.twin.LineSpeed";
    typed.data.data = packed;
    typed.data.len = autofab__twin__line_speed__pack (&speed, packed);
    /* Publish until the subscriber has had one: its subscription becomes
     * active at a moment we cannot see. */
    int64_t deadline = af_clock_mono_ms () + 8000;
    while (waitpid (sub.pid, NULL, WNOHANG) == 0 && af_clock_mono_ms () < deadline) {
        Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
        env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TYPED;
        env.typed = &typed;
        af_bus_publish (bus, "cmd.f1.c1.twin.speed", &env);
        usleep (20000);
    }
    af_bus_destroy (&bus);
    /* Reaped above or not: s_finish only collects the output then. */
    s_result_t r = s_finish (&sub, 100);
    s_expect_json_lines (r.out, 1);
    cr_expect (strstr (r.out, "\"kind\":\"typed\",\"payload\":{\"type\":"
                              "\"autofab.twin.LineSpeed\",\"value\":{\"station\":\"press\","
                              "\"speed\":0.8}}"), "%s", r.out);
    s_result_free (&r);
}
#endif

#if S_HAVE_AGENT
/* ------------------------------------------------------ with an agent */

static int
s_on_echo (af_agent_t *agent, const Autofab__Envelope *request, af_reply_t *reply, void *arg)
{
    (void) agent, (void) arg;
    double speed;
    if (!af_command_num (request, "speed", &speed)) {
        af_reply_error (reply, "speed is required");
        return AUTOFAB__STATUS__STATUS_BAD_REQUEST;
    }
    af_reply_num (reply, "speed", speed * 2);
    const char *who = af_command_text (request, "who");
    af_reply_text (reply, "who", who ? who : "nobody");
    return 0;
}

typedef struct {
    af_agent_t *agent;
    volatile bool stop;
} s_agent_ctx_t;

static void *
s_agent_thread (void *arg)
{
    s_agent_ctx_t *ctx = arg;
    while (!ctx->stop && af_agent_iterate (ctx->agent, 20) == 0)
        ;
    return NULL;
}

Test (cli, ls_and_call_a_live_agent)
{
    s_broker_start ();
    af_agent_opts_t opts = { .name = "press1", .kind = "line", .cell = "c4", .version = "9.9",
                             .broker = s_broker, .heartbeat_ms = 200 };
    char err[256] = "";
    s_agent_ctx_t ctx = { .agent = af_agent_new (&opts, err, sizeof err) };
    cr_assert_not_null (ctx.agent, "%s", err);
    cr_assert_eq (af_agent_service (ctx.agent, "press1.echo", s_on_echo, NULL), 0);
    cr_assert_eq (af_agent_start (ctx.agent), 0);
    cr_assert_eq (af_agent_wait_registered (ctx.agent, 3000), 0);
    pthread_t thread;
    cr_assert_eq (pthread_create (&thread, NULL, s_agent_thread, &ctx), 0);

    s_result_t r = s_cli ("ls", NULL);
    cr_expect_eq (r.status, 0, "%s", r.err);
    cr_expect (strstr (r.out, "press1") && strstr (r.out, "press1.echo"), "%s", r.out);
    s_result_free (&r);
    r = s_cli ("ls", "--json", NULL);
    s_expect_json_lines (r.out, 1);
    cr_expect (strstr (r.out, "{\"name\":\"press1\",\"kind\":\"line\",\"cell\":\"c4\","
                              "\"version\":\"9.9\""), "%s", r.out);
    s_result_free (&r);

    r = s_cli ("call", "press1.echo", "go", "speed=21", "who=op 1", NULL);
    cr_expect_eq (r.status, 0, "%s", r.err);
    cr_expect_str_eq (r.out, "ok speed=42 who=\"op 1\"\n");
    s_result_free (&r);
    r = s_cli ("call", "press1.echo", "go", "--json", "speed=1", NULL);
    cr_expect_eq (r.status, 0, "%s", r.err);
    s_expect_json_lines (r.out, 1);
    s_result_free (&r);
    r = s_cli ("call", "press1.echo", "go", "who=x", NULL);
    cr_expect_eq (r.status, 1, "%s", r.err);
    cr_expect_eq (s_count_lines (r.err), 1, "%s", r.err);
    cr_expect (strstr (r.err, "speed is required (400 bad request)"), "%s", r.err);
    s_result_free (&r);

    ctx.stop = true;
    pthread_join (thread, NULL);
    af_agent_destroy (&ctx.agent);
    /* Gone: `ls` lists it as dead, with when it died, until it returns. */
    int64_t deadline = af_clock_mono_ms () + 5000;
    r = s_cli ("ls", NULL);
    while (!strstr (r.out, "DEAD since") && af_clock_mono_ms () < deadline) {
        s_result_free (&r);
        usleep (100000);
        r = s_cli ("ls", NULL);
    }
    cr_expect (strstr (r.out, "press1") && strstr (r.out, "DEAD since"), "%s", r.out);
    s_result_free (&r);
    r = s_cli ("ls", "--json", NULL);
    cr_expect (strstr (r.out, "\"state\":\"dead\",\"died_t_ns\":"), "%s", r.out);
    s_result_free (&r);
    r = s_cli ("ls", "--alive", NULL);
    cr_expect (!strstr (r.out, "DEAD"), "%s", r.out);
    s_result_free (&r);
}
#endif

/* ------------------------------------------------- issue 18: no silence */

/* With nobody at the address, every command that needs the broker says so
 * within its stated time (2 s, or a shorter --timeout), naming the
 * endpoint, and exits 1. */
Test (cli, no_broker_is_said_and_exits_1, .timeout = 60)
{
    /* s_broker points at port 1 until a broker is started. */
    const char *cases[][6] = {
        { "sub", "tel.>", NULL },
        { "sub", "tel.>", "--timeout", "300ms", NULL },
        { "record", "tel.>", "", NULL },
        { "top", "--once", NULL },
        { "ls", NULL },
        { "call", "press", "ping", NULL },
        { "pub", "tel.a", "-m", "x=1", NULL },
        { "topics", NULL },
    };
    char journal[128];
    snprintf (journal, sizeof journal, "/tmp/af-cli-nobroker-%d.sqlite", (int) getpid ());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[12] = { "autofab", "--broker", s_broker };
        int argc = 3;
        for (int a = 0; cases[i][a]; a++)
            argv[argc++] = (char *) (*cases[i][a] ? cases[i][a] : journal);
        argv[argc] = NULL;
        int64_t start = af_clock_mono_ms ();
        s_proc_t proc = s_spawn ("autofab", argv);
        s_result_t r = s_finish (&proc, 8000);
        int64_t took_ms = af_clock_mono_ms () - start;
        cr_expect_eq (r.status, 1, "%s: exit %d (took %lld ms)", cases[i][0], r.status,
                      (long long) took_ms);
        cr_expect (strstr (r.err, "cannot reach the broker at tcp://127.0.0.1:1"), "%s: %s",
                   cases[i][0], r.err);
        cr_expect_eq (s_count_lines (r.err), 1, "%s: %s", cases[i][0], r.err);
        if (cases[i][2] && strcmp (cases[i][2], "--timeout") == 0)
            cr_expect (strstr (r.err, "within 300 ms"), "%s", r.err);
        s_result_free (&r);
    }
    cr_expect_neq (access (journal, F_OK), 0, "record left an empty journal behind");
    unlink (journal);
}

/* The broker dies under a silent subscriber: sub says so and exits 1. */
Test (cli, sub_and_record_notice_the_broker_going_away, .timeout = 40)
{
    s_broker_start ();
    char journal[128];
    snprintf (journal, sizeof journal, "/tmp/af-cli-lost-%d.sqlite", (int) getpid ());
    unlink (journal);
    char *sub_argv[] = { "autofab", "--broker", s_broker, "sub", "alm.>", NULL };
    char *rec_argv[] = { "autofab", "record", "alm.>", journal, "--broker", s_broker, NULL };
    s_proc_t sub = s_spawn ("autofab", sub_argv);
    s_proc_t rec = s_spawn ("autofab", rec_argv);
    /* Both connected and waiting: the "still waiting" line says so. */
    int64_t deadline = af_clock_mono_ms () + 8000;
    char *err = NULL;
    while (af_clock_mono_ms () < deadline) {
        free (err);
        err = aft_read_file (rec.err_path);
        char *err2 = aft_read_file (sub.err_path);
        bool both = strstr (err, "still waiting") && strstr (err2, "still waiting");
        free (err2);
        if (both)
            break;
        usleep (50000);
    }
    free (err);
    kill (s_broker_pid, SIGKILL);
    waitpid (s_broker_pid, NULL, 0);
    s_result_t r = s_finish (&sub, 15000);
    cr_expect_eq (r.status, 1, "sub exit %d: %s", r.status, r.err);
    cr_expect (strstr (r.err, "lost the broker at tcp://127.0.0.1:"), "%s", r.err);
    s_result_free (&r);
    r = s_finish (&rec, 15000);
    cr_expect_eq (r.status, 1, "record exit %d: %s", r.status, r.err);
    cr_expect (strstr (r.err, "lost the broker"), "%s", r.err);
    s_result_free (&r);
    unlink (journal);
}

/* Global options after the subcommand, short flags, durations, one
 * wording for usage errors. */
Test (cli, one_convention)
{
    s_broker_start ();
    /* --broker after the subcommand (s_cli puts one before; this one wins
     * and must be accepted where it is). */
    s_result_t r = s_cli ("ls", "--broker", s_broker, "-t", "2s", NULL);
    cr_expect_eq (r.status, 0, "%s", r.err);
    s_result_free (&r);
    r = s_cli ("ls", "--broker=tcp://127.0.0.1:1", "-t", "300ms", NULL);
    cr_expect_eq (r.status, 1, "the later --broker is used: %s", r.err);
    cr_expect (strstr (r.err, "tcp://127.0.0.1:1 "), "%s", r.err);
    s_result_free (&r);
    s_expect_usage_error (s_cli ("ls", "--broker", NULL), "global option without value");
    s_expect_usage_error (s_cli ("sub", ">", "-t", "2 weeks", NULL), "bad duration");
    s_expect_usage_error (s_cli ("top", "--sort", "colour", NULL), "bad sort key");
    r = s_cli ("-V", NULL);
    cr_expect_eq (r.status, 0);
    cr_expect (strncmp (r.out, "autofab ", 8) == 0, "%s", r.out);
    s_result_free (&r);
    r = s_cli ("topics", "--help", NULL);
    cr_expect (strstr (r.out, "usage: autofab topics"), "%s", r.out);
    s_result_free (&r);
}

Test (cli, topics_sub_filters_and_top_sort)
{
    s_broker_start ();
    const char *const a[] = { "-m", "rpm=0", "-s", "press7", NULL };
    const char *const b[] = { "-m", "rpm=5", "-s", "robot2", NULL };
    s_proc_t pa = s_publisher ("tel.f1.c1.press7.state", a);
    s_proc_t pb = s_publisher ("tel.f1.c2.robot2.state", b);
    s_result_t r = { 0 };
    int64_t deadline = af_clock_mono_ms () + 8000;
    do {
        s_result_free (&r);
        r = s_cli ("topics", "tel.>", "-d", "700ms", NULL);
    } while (!(strstr (r.out, "tel.f1.c1.press7.state") && strstr (r.out, "tel.f1.c2.robot2"))
             && af_clock_mono_ms () < deadline);
    cr_expect_eq (r.status, 0, "%s", r.err);
    cr_expect (strstr (r.out, "TOPIC") && strstr (r.out, "telemetry"), "%s", r.out);
    cr_expect (strstr (r.out, "tel.f1.c1.press7.state") && strstr (r.out, "press7"), "%s", r.out);
    s_result_free (&r);

    /* --source keeps one publisher; --json keeps a zero value. */
    r = s_cli ("sub", "tel.>", "-S", "press*", "-n", "3", "-j", "-t", "8s", NULL);
    cr_expect_eq (r.status, 0, "%s", r.err);
    s_expect_json_lines (r.out, 3);
    cr_expect (!strstr (r.out, "robot2"), "%s", r.out);
    cr_expect (strstr (r.out, "{\"name\":\"rpm\",\"value\":0}"), "%s", r.out);
    s_result_free (&r);
    r = s_cli ("sub", "tel.>", "-S", "robot2", "-n", "2", "-F", "{source} rpm={rpm} {rx}",
               "-t", "8s", NULL);
    cr_expect_eq (r.status, 0, "%s", r.err);
    cr_expect_eq (s_count_lines (r.out), 2, "%s", r.out);
    cr_expect (strncmp (r.out, "robot2 rpm=5 ", 13) == 0, "%s", r.out);
    cr_expect (strchr (r.out, 'Z'), "the receive time is wall clock: %s", r.out);
    s_result_free (&r);
    r = s_cli ("sub", "tel.>", "-f", "rpm", "-n", "1", "-r", "-t", "8s", NULL);
    cr_expect (strstr (r.out, " rx=") && strstr (r.out, " rpm="), "%s", r.out);
    s_result_free (&r);

    r = s_cli ("top", "tel.>", "--once", "-i", "500ms", "-s", "total", NULL);
    cr_expect_eq (r.status, 0, "%s", r.err);
    cr_expect (strstr (r.out, "PREFIX"), "%s", r.out);
    s_result_free (&r);
    kill (pa.pid, SIGTERM);
    kill (pb.pid, SIGTERM);
    r = s_finish (&pa, 2000);
    s_result_free (&r);
    r = s_finish (&pb, 2000);
    s_result_free (&r);
}

Test (cli, bash_completion_is_valid_bash)
{
    s_result_t r = s_cli ("completion", "bash", NULL);
    cr_assert_eq (r.status, 0, "%s", r.err);
    cr_expect (strstr (r.out, "complete -F _autofab autofab"), "%s", r.out);
    cr_expect (strstr (r.out, "sub) words='") && strstr (r.out, "--snapshot"), "%s", r.out);
    cr_expect (strstr (r.out, "topics"), "%s", r.out);
    if (system ("command -v bash >/dev/null 2>&1") == 0) {
        char path[] = "/tmp/af-cli-comp-XXXXXX";
        int fd = mkstemp (path);
        cr_assert_geq (fd, 0);
        cr_assert_eq (write (fd, r.out, strlen (r.out)), (ssize_t) strlen (r.out));
        close (fd);
        char cmd[512];
        /* Source it and complete "autofab su": must offer sub. */
        snprintf (cmd, sizeof cmd,
                  "bash -c 'source %s; COMP_WORDS=(autofab su); COMP_CWORD=1; _autofab; "
                  "[ \"${COMPREPLY[*]}\" = sub ]'", path);
        cr_expect_eq (system (cmd), 0, "completing 'autofab su' did not give 'sub'");
        unlink (path);
    }
    s_result_free (&r);
    s_expect_usage_error (s_cli ("completion", "tcsh", NULL), "unknown shell");
}
