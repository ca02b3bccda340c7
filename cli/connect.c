/*  connect — reaching the broker, and noticing when it goes away.
 *
 *  ZeroMQ connects in the background and never says that nobody answered:
 *  a subscriber to a dead or wrong address simply waits forever.  An
 *  operator tool must not (issue 18), so every command that needs the
 *  broker asks it one cheap question (a list request) with a deadline
 *  before it starts, and the long-running ones (sub, record, topics) ask
 *  again whenever the stream has been silent for a while.  Both are built
 *  on the public af_bus API; a connect check with a deadline belongs in
 *  af_bus later, beside af_bus_wait_ready.
 */
#include "cli.h"

#include <stdarg.h>

#include "af_clock.h"

int
cli_broker_check (af_bus_t *bus, const cli_ctx_t *ctx, const char *cmd, int timeout_ms)
{
    Autofab__Control *reply = NULL;
    int rc = af_bus_list (bus, &reply, timeout_ms);
    if (reply)
        autofab__control__free_unpacked (reply, NULL);
    if (rc == 0)
        return 0;
    return cli_fail (cmd, "cannot reach the broker at %s (no answer within %d ms; is "
                     "autofab-broker running there? set --broker or $AUTOFAB_BROKER)",
                     cli_broker_endpoint (ctx), timeout_ms);
}

void
cli_watch_init (cli_watch_t *self, const cli_ctx_t *ctx, const char *cmd, const char *pattern)
{
    int64_t now_ms = af_clock_mono_ms ();
    *self = (cli_watch_t) { .ctx = ctx, .cmd = cmd, .pattern = pattern, .last_ms = now_ms,
                            .probe_ms = now_ms + CLI_WATCH_IDLE_MS };
}

void
cli_watch_saw (cli_watch_t *self)
{
    self->last_ms = af_clock_mono_ms ();
    self->probe_ms = self->last_ms + CLI_WATCH_IDLE_MS;
    self->missed = 0;
    self->told_waiting = false;
}

int
cli_watch_idle (cli_watch_t *self, af_bus_t *bus)
{
    int64_t now_ms = af_clock_mono_ms ();
    if (now_ms < self->probe_ms)
        return 0;
    /* Silence: is the broker still there?  Two missed answers in a row
     * make it gone; one can be a broker busy with a snapshot. */
    int rc = cli_broker_check_quiet (bus, CLI_WATCH_PROBE_MS);
    now_ms = af_clock_mono_ms ();
    self->probe_ms = now_ms + CLI_WATCH_IDLE_MS;
    if (rc != 0) {
        /* A missed answer is asked again at once, not after another
         * idle period: the broker's loss is said within about
         * CLI_WATCH_IDLE_MS + CLI_WATCH_MISSES × CLI_WATCH_PROBE_MS. */
        self->probe_ms = now_ms;
        if (++self->missed >= CLI_WATCH_MISSES)
            return cli_fail (self->cmd, "lost the broker at %s (no answer to %d requests of "
                             "%d ms after %.1f s without messages)",
                             cli_broker_endpoint (self->ctx), CLI_WATCH_MISSES,
                             CLI_WATCH_PROBE_MS, (double) (now_ms - self->last_ms) / 1000.0);
        return 0;
    }
    self->missed = 0;
    if (!self->told_waiting && !self->quiet) {
        /* Say once why nothing is printed, on stderr so scripts reading
         * stdout are not disturbed. */
        fprintf (stderr, "%s %s: broker at %s is up; no message on '%s' for %.0f s, still "
                 "waiting (Ctrl-C to stop)\n", CLI_PROGRAM, self->cmd,
                 cli_broker_endpoint (self->ctx), self->pattern,
                 (double) (now_ms - self->last_ms) / 1000.0);
        self->told_waiting = true;
    }
    return 0;
}

int
cli_broker_check_quiet (af_bus_t *bus, int timeout_ms)
{
    Autofab__Control *reply = NULL;
    int rc = af_bus_list (bus, &reply, timeout_ms);
    if (reply)
        autofab__control__free_unpacked (reply, NULL);
    return rc == 0 ? 0 : -1;
}
