/*  twin_bus — the digital twin on the bus (DESIGN §3): the time master.
 *
 *  At every decision epoch the twin publishes its telemetry on
 *  tel.<factory>.<cell>.<name>.* and a ClockTick on
 *  sys.<factory>.<cell>.<name>.clock, then waits until every registered
 *  controller (an agent whose presence lists the capability "controller")
 *  has acknowledged the tick.  A controller claims concerns with
 *  capabilities "owns:<concern>" (twin_own_t names: line, sequencing,
 *  quality, maintenance, robots, replenishment, energy); the twin's practice
 *  stops for them.  When the owner dies, the twin takes them back after
 *  ownership_grace_s of plant time unless it returns, raising an alarm on
 *  alm.<factory>.<cell>.<name>.ownership — sending a TickAck envelope to the twin's
 *  service after the commands it issued for that epoch — before it advances.
 *  Plant commands are checked for their form at once (a bad name or
 *  parameter is refused in the reply), answered "queued", and applied only
 *  when every controller has acknowledged the epoch, in a canonical order
 *  (by source name, then each source's order of arrival); each one's result
 *  (applied, or refused with the reason) is published as a CommandResult on
 *  cmd.<factory>.<cell>.<name>.result.  The same seed and config therefore
 *  give the same KPIs however fast the machine is and however the
 *  controllers' processes are scheduled.  A controller that dies is dropped from the wait (its death
 *  notice).  The service "<name>" (default "twin") takes commands
 *  (autofab.twin.TwinCommand in Command.body, or the action/params form of
 *  docs/twin.md), what-if requests, vibration snippets and KPI queries.
 *  At the end it publishes its KPIs (Typed autofab.twin.Kpis) on
 *  evt.<factory>.<cell>.<name>.kpis, then a final tick.
 */
#ifndef TWIN_BUS_H
#define TWIN_BUS_H

#include <stdio.h>

#include "twin.h"

typedef struct {
    const char *broker;          /* NULL: $AUTOFAB_BROKER or the default */
    const char *factory;         /* "factory" */
    const char *cell;            /* "plant" */
    const char *name;            /* agent and service name, "twin" */
    int heartbeat_ms;            /* 1000 */
    double speed;                /* 0: as fast as acks allow; 1: wall clock; X: X× */
    int expect_controllers;      /* wait for this many before the first epoch */
    int start_timeout_ms;        /* … at most this long (then fail) */
    const char *out_dir;         /* if set: kpi.json and series.json written here */
    int idle_timeout_ms;         /* shadow: stop after this long without a report [10000] */
    double ownership_grace_s;    /* plant time a dead owner's concerns wait for it [10 epochs] */
} twin_bus_opts_t;

/* Runs TWIN for HOURS as the bus's time master; PROGRESS as in twin_run.
 * Returns 0, 1 on a runtime failure, 2 if the broker refused the twin. */
int twin_bus_run (twin_t *twin, double hours, const twin_bus_opts_t *opts, FILE *progress);

/* Shadow mode: instead of simulating on its own, the twin tracks a plant (or
 * a replay of a recorded run) from its station reports — telemetry on
 * tel.<factory>.<cell>.<agent>.station.<name> with metrics "state" (the
 * twin_state_t code) and "buffer_level", the format the twin itself
 * publishes — advancing its clock to each report's time (relative to the
 * first report) and correcting its state through twin_shadow_report.  Every
 * disagreement is published on evt.<factory>.<cell>.<name>.shadow.  Stops
 * after HOURS of plant time, or when no report came for idle_timeout_ms.
 * *REPORTS and *DISAGREEMENTS (may be NULL) get the counts.  0, 1 or 2 as
 * twin_bus_run. */
int twin_bus_shadow (twin_t *twin, double hours, const twin_bus_opts_t *opts, uint64_t *reports,
                     uint64_t *disagreements);

#endif
