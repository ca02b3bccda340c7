/*  af_supervisor — child process supervision (see af_supervisor.h).  */
#include "af_supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "af_clock.h"
#include "af_log.h"

#define AF_SUP_MAX_CHILDREN 64
#define AF_SUP_MAX_ARGS 64
#define AF_SUP_BACKOFF_MIN_MS 200
#define AF_SUP_BACKOFF_MAX_MS 5000
/* A child that ran this long before crashing gets the short back-off again. */
#define AF_SUP_STABLE_MS 10000

typedef struct {
    char *name, *path, *log_path;
    char *argv[AF_SUP_MAX_ARGS + 2];
    bool restart;
    pid_t pid;                   /* 0: not running */
    bool stopping;               /* we asked it to stop */
    int exit_code;
    unsigned restarts;
    int backoff_ms;
    int64_t started_ms, restart_due_ms;
    bool reported;
} s_child_t;

struct af_supervisor {
    s_child_t children[AF_SUP_MAX_CHILDREN];
    int n;
};

af_supervisor_t *
af_supervisor_new (void)
{
    return calloc (1, sizeof (af_supervisor_t));
}

static void
s_child_free (s_child_t *c)
{
    free (c->name);
    free (c->path);
    free (c->log_path);
    for (int i = 0; c->argv[i]; i++)
        free (c->argv[i]);
    memset (c, 0, sizeof *c);
}

void
af_supervisor_destroy (af_supervisor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    af_supervisor_t *self = *self_p;
    af_supervisor_stop_all (self, 3000);
    for (int i = 0; i < self->n; i++)
        s_child_free (&self->children[i]);
    free (self);
    *self_p = NULL;
}

static int
s_spawn (s_child_t *c)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0) {
        af_error ("supervisor: cannot fork for %s: %s", c->name, strerror (errno));
        return -1;
    }
    if (pid == 0) {
        /* Own process group: the terminal's Ctrl-C goes to the supervisor,
         * which stops children in order.  Die with the parent, whatever
         * killed it. */
        setpgid (0, 0);
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        if (getppid () != parent)
            _exit (1);
        if (c->log_path) {
            int fd = open (c->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                dup2 (fd, STDOUT_FILENO);
                dup2 (fd, STDERR_FILENO);
            }
        }
        int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd >= 0)
            dup2 (null_fd, STDIN_FILENO);
        signal (SIGINT, SIG_DFL);
        signal (SIGTERM, SIG_DFL);
        execv (c->path, c->argv);
        fprintf (stderr, "supervisor: cannot run %s: %s\n", c->path, strerror (errno));
        _exit (127);
    }
    /* Also here, so the group exists before anyone signals it. */
    setpgid (pid, pid);
    c->pid = pid;
    c->exit_code = -1;
    c->stopping = false;
    c->reported = false;
    c->started_ms = af_clock_mono_ms ();
    af_debug ("supervisor: started %s (pid %d)", c->name, (int) pid);
    return 0;
}

int
af_supervisor_start (af_supervisor_t *self, const af_child_spec_t *spec)
{
    if (self->n == AF_SUP_MAX_CHILDREN || !spec->name || !spec->path)
        return -1;
    s_child_t *c = &self->children[self->n];
    memset (c, 0, sizeof *c);
    c->name = strdup (spec->name);
    c->path = strdup (spec->path);
    c->log_path = spec->log_path ? strdup (spec->log_path) : NULL;
    c->restart = spec->restart;
    c->backoff_ms = AF_SUP_BACKOFF_MIN_MS;
    c->argv[0] = strdup (spec->path);
    for (int i = 0; spec->argv && spec->argv[i] && i < AF_SUP_MAX_ARGS; i++)
        c->argv[i + 1] = strdup (spec->argv[i]);
    if (s_spawn (c) != 0) {
        s_child_free (c);
        return -1;
    }
    return self->n++;
}

static const char *
s_describe (int status, char *buf, size_t len)
{
    if (WIFEXITED (status))
        snprintf (buf, len, "exited with status %d", WEXITSTATUS (status));
    else if (WIFSIGNALED (status))
        snprintf (buf, len, "killed by signal %d (%s)", WTERMSIG (status), strsignal (WTERMSIG (status)));
    else
        snprintf (buf, len, "stopped");
    return buf;
}

/* Records the exit of PID; returns the child's index or -1. */
static int
s_reaped (af_supervisor_t *self, pid_t pid, int status)
{
    for (int i = 0; i < self->n; i++) {
        s_child_t *c = &self->children[i];
        if (c->pid != pid)
            continue;
        c->pid = 0;
        c->exit_code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
        char why[80];
        bool crashed = !c->stopping && c->exit_code != 0;
        if (crashed && c->restart) {
            int64_t now = af_clock_mono_ms ();
            if (now - c->started_ms > AF_SUP_STABLE_MS)
                c->backoff_ms = AF_SUP_BACKOFF_MIN_MS;
            c->restart_due_ms = now + c->backoff_ms;
            af_warn ("supervisor: %s %s; restarting in %d ms", c->name,
                     s_describe (status, why, sizeof why), c->backoff_ms);
            c->backoff_ms = c->backoff_ms * 2 > AF_SUP_BACKOFF_MAX_MS ? AF_SUP_BACKOFF_MAX_MS
                                                                       : c->backoff_ms * 2;
        }
        else if (!c->stopping)
            af_log_write (c->exit_code ? AF_LOG_WARN : AF_LOG_INFO, "supervisor: %s %s", c->name,
                          s_describe (status, why, sizeof why));
        return i;
    }
    return -1;
}

int
af_supervisor_poll (af_supervisor_t *self, int timeout_ms)
{
    int64_t deadline = af_clock_mono_ms () + (timeout_ms > 0 ? timeout_ms : 0);
    while (true) {
        /* Reap our children only: other parts of the process may have
         * their own (popen, system). */
        for (int i = 0; i < self->n; i++) {
            int status;
            pid_t pid = self->children[i].pid;
            if (pid > 0 && waitpid (pid, &status, WNOHANG) == pid)
                s_reaped (self, pid, status);
        }
        int64_t now = af_clock_mono_ms ();
        for (int i = 0; i < self->n; i++) {
            s_child_t *c = &self->children[i];
            if (c->pid || c->stopping)
                continue;
            bool due_restart = c->restart && c->exit_code != 0 && c->restart_due_ms;
            if (due_restart && now >= c->restart_due_ms) {
                c->restart_due_ms = 0;
                c->restarts++;
                if (s_spawn (c) == 0)
                    af_info ("supervisor: restarted %s (restart %u)", c->name, c->restarts);
            }
            else if (!due_restart && !c->reported) {
                c->reported = true;
                return i;
            }
        }
        if (now >= deadline)
            return -1;
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep (&ts, NULL);
    }
}

void
af_supervisor_stop (af_supervisor_t *self, int index, int grace_ms)
{
    if (index < 0 || index >= self->n)
        return;
    s_child_t *c = &self->children[index];
    c->stopping = true;
    c->reported = true;
    if (!c->pid)
        return;
    /* The whole process group: a child's own children go too. */
    kill (-c->pid, SIGTERM);
    int64_t deadline = af_clock_mono_ms () + grace_ms;
    int status;
    while (af_clock_mono_ms () < deadline) {
        if (waitpid (c->pid, &status, WNOHANG) == c->pid) {
            s_reaped (self, c->pid, status);
            return;
        }
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep (&ts, NULL);
    }
    af_warn ("supervisor: %s did not stop within %d ms; killing it", c->name, grace_ms);
    kill (-c->pid, SIGKILL);
    if (waitpid (c->pid, &status, 0) == c->pid)
        s_reaped (self, c->pid, status);
}

int
af_supervisor_stop_all (af_supervisor_t *self, int grace_ms)
{
    int killed = 0;
    for (int i = self->n - 1; i >= 0; i--) {
        s_child_t *c = &self->children[i];
        bool was_running = c->pid != 0;
        af_supervisor_stop (self, i, grace_ms);
        if (was_running && c->exit_code == 128 + SIGKILL)
            killed++;
    }
    return killed;
}

pid_t af_supervisor_pid (const af_supervisor_t *self, int i) { return i >= 0 && i < self->n ? self->children[i].pid : 0; }
bool af_supervisor_running (const af_supervisor_t *self, int i) { return af_supervisor_pid (self, i) > 0; }
int af_supervisor_exit_code (const af_supervisor_t *self, int i) { return i >= 0 && i < self->n ? self->children[i].exit_code : -1; }
unsigned af_supervisor_restarts (const af_supervisor_t *self, int i) { return i >= 0 && i < self->n ? self->children[i].restarts : 0; }
const char *af_supervisor_name (const af_supervisor_t *self, int i) { return i >= 0 && i < self->n ? self->children[i].name : NULL; }

int af_supervisor_count (const af_supervisor_t *self) { return self->n; }

int
af_supervisor_find (const af_supervisor_t *self, const char *name)
{
    for (int i = 0; i < self->n; i++)
        if (!strcmp (self->children[i].name, name))
            return i;
    return -1;
}
