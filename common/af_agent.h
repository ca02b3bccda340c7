/*  af_agent — the runtime every agent process is built on.
 *
 *  It registers the agent with its broker, heartbeats, notices a dead or
 *  restarted broker and registers again by itself, dispatches service
 *  requests to a handler table (answering retries of one command from a
 *  cache, so commands are idempotent by message id), runs timers and
 *  subscriptions, and stops cleanly on SIGINT/SIGTERM.  An agent's main.c
 *  fills af_agent_opts_t, adds handlers and calls af_agent_run.
 */
#ifndef AF_AGENT_H
#define AF_AGENT_H

#include "af_bus.h"

typedef struct af_agent af_agent_t;
typedef struct af_reply af_reply_t;

typedef struct {
    const char *name;        /* unique in the factory (required) */
    const char *kind;        /* "twin", "line", … */
    const char *cell;
    const char *version;
    const char *factory;
    const char *broker;      /* control endpoint; NULL: $AUTOFAB_BROKER or default */
    int heartbeat_ms;        /* 0: 1000 */
    const char *const *capabilities;  /* NULL-terminated, may be NULL */
    af_clock_t *clock;       /* NULL: wall clock; not owned */
} af_agent_opts_t;

/* A service handler: reads REQUEST, fills REPLY, returns 0 or a Status. */
typedef int (af_service_fn) (af_agent_t *agent, const Autofab__Envelope *request, af_reply_t *reply,
                             void *arg);
typedef void (af_timer_fn) (af_agent_t *agent, void *arg);
typedef void (af_message_fn) (af_agent_t *agent, const af_msg_t *msg, void *arg);

af_agent_t *af_agent_new (const af_agent_opts_t *opts, char *err, size_t err_len);
void af_agent_destroy (af_agent_t **self_p);

/* Before af_agent_start/run: offer SERVICE, handled by FN. 0 or -1. */
int af_agent_service (af_agent_t *self, const char *service, af_service_fn *fn, void *arg);
/* Calls FN every INTERVAL_MS (wall clock).  0 or -1. */
int af_agent_timer (af_agent_t *self, int interval_ms, af_timer_fn *fn, void *arg);
/* Calls FN for every message matching PATTERN.  0 or -1. */
int af_agent_subscribe (af_agent_t *self, const char *pattern, af_message_fn *fn, void *arg);

/* Connects and sends the registration; does not wait. */
int af_agent_start (af_agent_t *self);
/* One round of the event loop (at most TIMEOUT_MS): 0, or -1 when the agent
 * should stop (signal, af_agent_stop, or a fatal refusal). */
int af_agent_iterate (af_agent_t *self, int timeout_ms);
/* start + iterate until stopped; sends a goodbye.  Returns the exit code:
 * 0 clean stop, 2 refused by the broker (e.g. its name is taken). */
int af_agent_run (af_agent_t *self);
void af_agent_stop (af_agent_t *self);
/* Waits (running the loop) until registered; 0, or -1 on timeout. */
int af_agent_wait_registered (af_agent_t *self, int timeout_ms);

bool af_agent_registered (const af_agent_t *self);
/* Times the agent (re-)registered: 1 after a clean start, more after broker restarts. */
uint64_t af_agent_registrations (const af_agent_t *self);
af_bus_t *af_agent_bus (af_agent_t *self);
const char *af_agent_name (const af_agent_t *self);
const char *af_agent_cell (const af_agent_t *self);
/* Builds "CLASS.<factory>.<cell>.<name>.KIND" for this agent into BUF. */
const char *af_agent_topic (const af_agent_t *self, const char *cls, const char *kind, char *buf,
                            size_t len);

/* Reply builders for service handlers. */
void af_reply_num (af_reply_t *reply, const char *name, double value);
void af_reply_text (af_reply_t *reply, const char *name, const char *text);
void af_reply_typed (af_reply_t *reply, const char *type, const void *data, size_t len);
/* Sets the error text; the handler returns the status. */
void af_reply_error (af_reply_t *reply, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Helpers for reading a Command's parameters in a handler. */
const Autofab__Param *af_command_param (const Autofab__Envelope *request, const char *name);
bool af_command_num (const Autofab__Envelope *request, const char *name, double *out);
const char *af_command_text (const Autofab__Envelope *request, const char *name);

#endif
