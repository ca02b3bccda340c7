/*  Test support (see af_test.h).  */
#include "af_test.h"
#include <criterion/criterion.h>
#include "af_args.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <sodium.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
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

/* The log file aft_spawn gives a child. */
static void
s_log_path (char *out, size_t len, pid_t pid, const char *program)
{
    const char *tmp = getenv ("TMPDIR");
    snprintf (out, len, "%s/autofab-test-%d-%s.log", tmp ? tmp : "/tmp", (int) pid, program);
}

char *
aft_read_file (const char *path)
{
    FILE *in = fopen (path, "rb");
    if (!in)
        return strdup ("");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream (&buf, &len);
    char chunk[4096];
    size_t n;
    while (mem && (n = fread (chunk, 1, sizeof chunk, in)) > 0)
        fwrite (chunk, 1, n, mem);
    if (mem)
        fclose (mem);
    fclose (in);
    return buf ? buf : strdup ("");
}

char *
aft_child_log (pid_t pid, const char *program)
{
    char path[512];
    s_log_path (path, sizeof path, pid, program);
    return aft_read_file (path);
}

/* Forks and runs PATH with ARGV (argv[0] included), its output to LOG, or
 * (LOG NULL) to the per-process log of PROGRAM that aft_child_log reads. */
static pid_t
s_spawn (const char *path, const char *const argv[], const char *log, const char *program)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0) {
        /* A test that fails half-way never stops what it started: the
         * child goes with the test process instead of living on. */
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        if (getppid () != parent)
            _exit (127);
        char own[512];
        if (!log) {
            s_log_path (own, sizeof own, getpid (), program);
            log = own;
        }
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
        execv (path, (char *const *) argv);
        _exit (127);
    }
    return pid;
}

pid_t
aft_spawn_path (const char *path, const char *const argv[], const char *log)
{
    return s_spawn (path, argv, log, NULL);
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
    return s_spawn (path, args, NULL, program);
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
    return aft_broker_start_with (broker, port, heartbeat_ms, NULL);
}

bool
aft_broker_start_with (aft_broker_t *broker, int port, int heartbeat_ms, const char *const extra[])
{
    /* A broker that exits at once lost its free ports to a test running
     * beside this one: try again on others (when the caller chose none). */
    for (int attempt = 0; attempt < 3; attempt++) {
        memset (broker, 0, sizeof *broker);
        broker->port = port > 0 ? port : aft_free_ports (3);
        snprintf (broker->control, sizeof broker->control, "tcp://127.0.0.1:%d", broker->port);
        char port_text[16], hb_text[16];
        snprintf (port_text, sizeof port_text, "%d", broker->port);
        snprintf (hb_text, sizeof hb_text, "%d", heartbeat_ms);
        const char *argv[32] = { "--port", port_text, "--heartbeat-ms", hb_text, "--log-level", "debug" };
        int n = 6;
        for (int i = 0; extra && extra[i] && n < 31; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        broker->pid = aft_spawn ("autofab-broker", argv);
        af_bus_t *bus = aft_bus (broker, "probe");
        bool up = false, exited = false;
        /* Up to 30 s: a sanitised broker on a loaded machine starts slowly. */
        int64_t deadline = zclock_mono () + 30000;
        while (!up && !exited && zclock_mono () < deadline) {
            Autofab__Control *reply;
            if (af_bus_list (bus, &reply, 200) == 0) {
                autofab__control__free_unpacked (reply, NULL);
                up = true;
            }
            else if (waitpid (broker->pid, NULL, WNOHANG) == broker->pid)
                exited = true;
            else
                zclock_sleep (20);
        }
        af_bus_destroy (&bus);
        if (up)
            return true;
        if (!exited)
            aft_stop (broker->pid, SIGKILL, 3000);
        if (port > 0)
            break;
    }
    return false;
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

uint8_t *
aft_telemetry (af_stamper_t *st, const char *name, double value, uint64_t t_ns, size_t *len)
{
    Autofab__Metric m = AUTOFAB__METRIC__INIT;
    m.name = (char *) name;
    m.value = value;
    Autofab__Metric *mp = &m;
    Autofab__Telemetry tel = AUTOFAB__TELEMETRY__INIT;
    tel.metrics = &mp;
    tel.n_metrics = 1;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY;
    env.telemetry = &tel;
    Autofab__Header hdr;
    uint8_t id[16];
    af_stamper_stamp (st, &env, &hdr, id, t_ns);
    return af_envelope_encode (&env, AF_MAX_MSG_BYTES, len);
}

void
aft_zsys_init (void)
{
    zsys_init ();
    zsys_handler_set (NULL);
}

aft_broker_t aft_suite_broker;

void
aft_suite_broker_start (void)
{
    aft_zsys_init ();
    cr_assert (aft_broker_start (&aft_suite_broker, 0, AFT_SUITE_HB_MS), "broker did not start");
}

void
aft_suite_broker_stop (void)
{
    aft_broker_stop (&aft_suite_broker);
}

zsock_t *
aft_raw_ingress (const aft_broker_t *broker)
{
    zsock_t *raw = zsock_new (ZMQ_XPUB);
    char ingress[80];
    af_bus_endpoint_offset (broker->control, 1, ingress, sizeof ingress);
    zsock_connect (raw, "%s", ingress);
    zmsg_t *notice = zmsg_recv (raw);
    zmsg_destroy (&notice);
    return raw;
}

uint8_t *
aft_future_envelope (uint32_t schema, size_t *len)
{
    Autofab__Header hdr = AUTOFAB__HEADER__INIT;
    hdr.source = "future";
    hdr.seq = 1;
    hdr.schema = schema;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.header = &hdr;
    return af_envelope_encode (&env, AF_MAX_MSG_BYTES, len);
}

size_t
aft_batch (uint8_t *out, size_t cap, uint8_t *const recs[], const size_t lens[], size_t n)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (used + AF_BATCH_PREFIX_MAX + lens[i] > cap)
            return 0;
        used += af_batch_put (out + used, recs[i], lens[i]);
    }
    return used;
}

bool
aft_tmpdir (char *dir, size_t len, const char *prefix)
{
    const char *tmp = getenv ("TMPDIR");
    int n = snprintf (dir, len, "%s/%s-XXXXXX", tmp ? tmp : "/tmp", prefix);
    return n > 0 && (size_t) n < len && mkdtemp (dir) != NULL;
}

bool
aft_rmtree (const char *dir)
{
    char cmd[600];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system (cmd) == 0;
}
