/*  test_python_client — the Python client (clients/python, `import autofab`)
 *  against a real broker: its own checks (python_client_check.py: publish,
 *  subscribe with batches and gap checks, agent and call, snapshot then
 *  live, no broker), and interoperation with the C tools both ways:
 *  `autofab pub` → `python3 -m autofab sub`, and `autofab call` → a Python
 *  agent.  Skipped with a message when Debian's python3-zmq or
 *  python3-protobuf, or the generated modules (build/python), are missing.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "af_clock.h"
#include "af_test.h"

#define S_PYTHON "/usr/bin/python3"

static char s_env_path[1024], s_env_gen[1024];

/* Runs ARGV (argv[0] a path) with PYTHONPATH and AUTOFAB_PROTO_PY set;
 * output to LOG.  Returns the pid. */
static pid_t
s_start (char *const argv[], const char *log)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    cr_assert_neq (pid, -1);
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            _exit (127);
        dup2 (fd, 1);
        dup2 (fd, 2);
        putenv (s_env_path);
        putenv (s_env_gen);
        execv (argv[0], argv);
        _exit (127);
    }
    return pid;
}

/* Sets up the environment, or skips the test when Python's side is absent. */
static void
s_need_python (void)
{
    const char *src = getenv ("AF_SRC"), *bin = getenv ("AF_BIN");
    snprintf (s_env_path, sizeof s_env_path, "PYTHONPATH=%s/clients/python", src ? src : ".");
    snprintf (s_env_gen, sizeof s_env_gen, "AUTOFAB_PROTO_PY=%s/../python",
              bin ? bin : "build/bin");
    char probe[2200];
    snprintf (probe, sizeof probe, "%s %s " S_PYTHON " -c 'import autofab' >/dev/null 2>&1",
              s_env_path, s_env_gen);
    if (access (S_PYTHON, X_OK) != 0 || system (probe) != 0)
        cr_skip_test ("the Python client cannot be imported (needs Debian's python3-zmq and "
                      "python3-protobuf, and `make` for build/python): not checked");
}

TestSuite (python_client, .timeout = 120);

Test (python_client, checks_against_the_broker)
{
    s_need_python ();
    aft_broker_t broker;
    cr_assert (aft_broker_start (&broker, 0, 200));
    char script[1024], log[256];
    snprintf (script, sizeof script, "%s/tests/integration/python_client_check.py",
              getenv ("AF_SRC") ? getenv ("AF_SRC") : ".");
    snprintf (log, sizeof log, "/tmp/af-py-check-%d.log", (int) getpid ());
    char *argv[] = { S_PYTHON, script, broker.control, NULL };
    pid_t pid = s_start (argv, log);
    int rc = aft_wait_exit (pid, 90000);
    char *out = aft_read_file (log);
    cr_expect_eq (rc, 0, "python_client_check.py failed:\n%s", out);
    cr_expect (strstr (out, "all ok"), "%s", out);
    free (out);
    unlink (log);
    aft_broker_stop (&broker);
}

Test (python_client, interoperates_with_the_c_tools)
{
    s_need_python ();
    aft_broker_t broker;
    cr_assert (aft_broker_start (&broker, 0, 200));
    char log[256], agent_log[256], bin[512];
    snprintf (log, sizeof log, "/tmp/af-py-sub-%d.log", (int) getpid ());
    snprintf (agent_log, sizeof agent_log, "/tmp/af-py-agent-%d.log", (int) getpid ());
    snprintf (bin, sizeof bin, "%s/autofab", getenv ("AF_BIN") ? getenv ("AF_BIN") : "build/bin");

    /* C publisher → python3 -m autofab sub. */
    char *sub_argv[] = { S_PYTHON, "-m", "autofab", "--broker", broker.control, "sub",
                         "tel.*.c1.>", "--count", "3", "--timeout", "10", NULL };
    pid_t sub = s_start (sub_argv, log);
    char *pub_argv[] = { bin, "--broker", broker.control, "pub", "tel.f.c1.press.state",
                         "-m", "rpm=0", "-m", "temp_c=71:degC", "-n", "200", "-r", "40",
                         "-s", "cpress", NULL };
    char pub_log[300];
    snprintf (pub_log, sizeof pub_log, "%s.pub", log);
    pid_t pub = s_start (pub_argv, pub_log);
    int rc = aft_wait_exit (sub, 20000);
    aft_stop (pub, SIGTERM, 2000);
    char *out = aft_read_file (log);
    cr_expect_eq (rc, 0, "%s", out);
    cr_expect (strstr (out, "tel.f.c1.press.state cpress#") && strstr (out, "'rpm': 0.0"), "%s",
               out);
    free (out);

    /* autofab call → a Python agent. */
    char *agent_argv[] = { S_PYTHON, "-c",
        "import autofab, sys, time\n"
        "def twice(cmd, env):\n"
        "    return {'twice': autofab.param_dict(cmd.params)['x'] * 2}\n"
        "a = autofab.Agent('pytwice', broker=sys.argv[1], heartbeat_ms=200,\n"
        "                  services={'pytwice': twice})\n"
        "end = time.time() + 15\n"
        "while time.time() < end: a.iterate(0.1)\n", broker.control, NULL };
    pid_t agent = s_start (agent_argv, agent_log);
    af_bus_t *bus = aft_bus (&broker, "py-test");
    cr_assert (aft_wait_listed (bus, "pytwice", true, 10000), "the Python agent did not register");
    af_bus_destroy (&bus);
    char call_log[300];
    snprintf (call_log, sizeof call_log, "%s.call", log);
    char *call_argv[] = { bin, "--broker", broker.control, "call", "pytwice", "go", "x=21", NULL };
    rc = aft_wait_exit (s_start (call_argv, call_log), 10000);
    out = aft_read_file (call_log);
    cr_expect_eq (rc, 0, "%s", out);
    cr_expect_str_eq (out, "ok twice=42\n");
    free (out);
    aft_stop (agent, SIGTERM, 2000);
    unlink (log);
    unlink (pub_log);
    unlink (agent_log);
    unlink (call_log);
    aft_broker_stop (&broker);
}
