/*  ctl — what every autonomous agent does to control the twin (or a plant
 *  behind a bridge) over the bus, so that an agent's main.c holds only its
 *  decisions.
 *
 *  A session registers the agent with the capabilities "controller" and one
 *  "owns:<concern>" per concern it takes over (DESIGN §4: the plant's
 *  conventional practice stops for those), fetches the plant description
 *  (the twin's `describe` request: the ratings a maker's data sheet would
 *  give, never the hidden state), keeps the latest value of every telemetry
 *  metric the plant publishes, and at every clock tick calls the agent's
 *  epoch function and then acknowledges the tick — after the commands the
 *  function sent, so they apply in this epoch (DESIGN §3).  A tick sent
 *  again is acknowledged again but acted on once.  The session ends at the
 *  final tick (0) or on a signal.
 *
 *  Commands go as `action` + named parameters (the twin's command table,
 *  docs/twin.md); a refusal is counted and its reason logged once per
 *  action, never fatal: the plant stays in charge of what it accepts.
 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ctl ctl_t;

/* What one tick says. */
typedef struct {
    uint64_t epoch;
    double t_s;                         /* plant time at the tick */
    double epoch_s;                     /* the length of an epoch */
} ctl_tick_t;

typedef void (ctl_epoch_fn) (ctl_t *ctl, const ctl_tick_t *tick, void *arg);

typedef struct {
    const char *prog;                   /* for messages: "autofab-energy" */
    const char *name;                   /* agent name on the bus [prog without "autofab-"] */
    const char *kind;                   /* registry kind ["agent"] */
    const char *broker, *factory, *cell;
    const char *twin;                   /* the plant's service name ["twin"] */
    const char *const *owns;            /* concerns taken over, NULL-terminated (may be NULL) */
    ctl_epoch_fn *on_epoch;
    void *arg;
    int heartbeat_ms;                   /* [500] */
} ctl_opts_t;

/* Connects and registers; NULL with one line in ERR. */
ctl_t *ctl_new (const ctl_opts_t *opts, char *err, size_t err_len);
void ctl_destroy (ctl_t **self_p);

/* Fetches the plant description (JSON text, owned by the session) from the
 * plant service; NULL with one line in ERR when it does not answer. */
const char *ctl_describe (ctl_t *self, char *err, size_t err_len);

/* Runs until the final tick or a signal: 0 after the final tick, 1 when
 * stopped before it, 2 when the broker refused the agent. */
int ctl_run (ctl_t *self);

/* The latest value of metric NAME on the plant's telemetry topic KIND
 * ("energy", "station.wiring" …), or DFLT when none has arrived. */
double ctl_metric (const ctl_t *self, const char *kind, const char *name, double dflt);
/* Whether any value of KIND/NAME has arrived. */
bool ctl_has_metric (const ctl_t *self, const char *kind, const char *name);

/* One command parameter: TEXT when not NULL (a station's name …), else NUM. */
typedef struct {
    const char *name;
    const char *text;
    double num;
} ctl_param_t;

/* Sends ACTION with N parameters to the plant.  0 when applied (or queued
 * for this epoch), else -1 with the plant's reason in ERR (may be NULL);
 * the first refusal of each action is also logged. */
int ctl_command (ctl_t *self, const char *action, const ctl_param_t *params, size_t n, char *err,
                 size_t err_len);

/* Counters for the agent's closing log line. */
typedef struct {
    uint64_t ticks, commands, refused, telemetry, bad_messages;
} ctl_stats_t;
ctl_stats_t ctl_stats (const ctl_t *self);

#endif
