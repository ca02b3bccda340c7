/*  af_supervisor — starts and watches child processes (autofab run, later the
 *  gateway's multi-factory runs).
 *
 *  Each child gets its own process group (so a Ctrl-C on the terminal reaches
 *  only the supervisor, which then stops children in order), dies with its
 *  parent (PR_SET_PDEATHSIG), and logs to its own file.  A child marked
 *  `restart` that exits unexpectedly is started again after a back-off that
 *  doubles from 200 ms up to 5 s; every restart is logged and counted.
 */
#ifndef AF_SUPERVISOR_H
#define AF_SUPERVISOR_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct af_supervisor af_supervisor_t;

typedef struct {
    const char *name;            /* unique label: "broker", "twin", "web" */
    const char *path;            /* executable */
    const char *const *argv;     /* arguments after argv[0], NULL-terminated */
    const char *log_path;        /* stdout and stderr are appended here; NULL: inherit */
    bool restart;                /* start again after an unexpected exit */
} af_child_spec_t;

af_supervisor_t *af_supervisor_new (void);
/* Stops every child (as af_supervisor_stop_all with 3 s grace) and frees. */
void af_supervisor_destroy (af_supervisor_t **self_p);

/* Starts a child; returns its index, or -1 (with a log line) on failure. */
int af_supervisor_start (af_supervisor_t *self, const af_child_spec_t *spec);
/* Reaps exited children and restarts those due; waits at most TIMEOUT_MS.
 * Returns the index of a child that exited and will not be restarted (so the
 * caller can react), or -1. */
int af_supervisor_poll (af_supervisor_t *self, int timeout_ms);
/* Stops children in reverse start order: SIGTERM, then SIGKILL after
 * GRACE_MS.  Returns the number that had to be killed. */
int af_supervisor_stop_all (af_supervisor_t *self, int grace_ms);
/* Stops one child the same way; its exit is not treated as a crash. */
void af_supervisor_stop (af_supervisor_t *self, int index, int grace_ms);

pid_t af_supervisor_pid (const af_supervisor_t *self, int index);
bool af_supervisor_running (const af_supervisor_t *self, int index);
/* Exit code of the last exit (128 + signal for a signal), -1 while running. */
int af_supervisor_exit_code (const af_supervisor_t *self, int index);
unsigned af_supervisor_restarts (const af_supervisor_t *self, int index);
const char *af_supervisor_name (const af_supervisor_t *self, int index);
int af_supervisor_find (const af_supervisor_t *self, const char *name);
/* Children started so far (indexes 0 … count-1). */
int af_supervisor_count (const af_supervisor_t *self);

#endif
