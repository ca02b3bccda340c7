/*  Test support (see af_test.h).  */
#include "af_test.h"
#include "af_args.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <sodium.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int
aft_free_ports (int n)
{
    return af_free_port_block (n);
}

pid_t
aft_spawn (const char *program, const char *const argv[])
{
    const char *bin = getenv ("AF_BIN");
    char path[512];
    snprintf (path, sizeof path, "%s/%s", bin ? bin : "build/bin", program);
    const char *args[64] = { path };
    int n = 1;
    for (int i = 0; argv && argv[i] && n < 63; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    pid_t pid = fork ();
    if (pid == 0) {
        char log[512];
        const char *tmp = getenv ("TMPDIR");
        snprintf (log, sizeof log, "%s/autofab-test-%d-%s.log", tmp ? tmp : "/tmp", (int) getpid (), program);
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
        execv (path, (char *const *) args);
        _exit (127);
    }
    return pid;
}

int
aft_wait_exit (pid_t pid, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        int status;
        pid_t got = waitpid (pid, &status, WNOHANG);
        if (got == pid)
            return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
        zclock_sleep (10);
    }
    return -1;
}

int
aft_stop (pid_t pid, int sig, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill (pid, sig);
    int rc = aft_wait_exit (pid, timeout_ms);
    if (rc < 0) {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
    }
    return rc;
}

af_bus_t *
aft_bus (const aft_broker_t *broker, const char *source)
{
    af_bus_opts_t opts = { .broker = broker->control, .source = source, .factory = "factory" };
    char err[200];
    return af_bus_new (&opts, err, sizeof err);
}

bool
aft_broker_start (aft_broker_t *broker, int port, int heartbeat_ms)
{
    memset (broker, 0, sizeof *broker);
    broker->port = port > 0 ? port : aft_free_ports (3);
    snprintf (broker->control, sizeof broker->control, "tcp://127.0.0.1:%d", broker->port);
    char port_text[16], hb_text[16];
    snprintf (port_text, sizeof port_text, "%d", broker->port);
    snprintf (hb_text, sizeof hb_text, "%d", heartbeat_ms);
    const char *argv[] = { "--port", port_text, "--heartbeat-ms", hb_text, "--log-level", "debug", NULL };
    broker->pid = aft_spawn ("autofab-broker", argv);
    af_bus_t *bus = aft_bus (broker, "probe");
    bool up = false;
    for (int i = 0; i < 150 && !up; i++) {
        Autofab__Control *reply;
        if (af_bus_list (bus, &reply, 100) == 0) {
            autofab__control__free_unpacked (reply, NULL);
            up = true;
        }
    }
    af_bus_destroy (&bus);
    return up;
}

void
aft_broker_stop (aft_broker_t *broker)
{
    aft_stop (broker->pid, SIGTERM, 3000);
    broker->pid = 0;
}

bool
aft_wait_listed (af_bus_t *bus, const char *name, bool listed, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        Autofab__Control *reply;
        if (af_bus_list (bus, &reply, 200) == 0) {
            bool found = false;
            for (size_t i = 0; i < reply->list_reply->n_agents; i++)
                if (!strcmp (reply->list_reply->agents[i]->name, name))
                    found = true;
            autofab__control__free_unpacked (reply, NULL);
            if (found == listed)
                return true;
        }
        zclock_sleep (20);
    }
    return false;
}

long long
aft_broker_counter (af_bus_t *bus, const char *name)
{
    Autofab__Control *reply;
    if (af_bus_stats (bus, &reply, 1000) != 0)
        return -1;
    long long value = -1;
    for (size_t i = 0; i < reply->stats_reply->n_counters; i++)
        if (!strcmp (reply->stats_reply->counters[i]->name, name))
            value = (long long) reply->stats_reply->counters[i]->value;
    autofab__control__free_unpacked (reply, NULL);
    return value;
}
