/*  Integration test: quality on the bus (issue 11).  A real broker and the
 *  twin as time master; a watcher reads what a quality controller would —
 *  the in-line readings per station and the field returns, the only way an
 *  escape becomes known (DESIGN §4).  */
#include <criterion/criterion.h>
#include <czmq.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "af_agent.h"
#include "af_test.h"
#include "twin.h"
#include "twin_bus.h"
#include "twin.pb-c.h"

static aft_broker_t s_broker;

static void
s_setup (void)
{
    aft_zsys_init ();
    cr_assert (aft_broker_start (&s_broker, 0, 500), "broker did not start");
}

static void
s_teardown (void)
{
    aft_broker_stop (&s_broker);
}

TestSuite (twin_quality_bus, .init = s_setup, .fini = s_teardown, .timeout = 90);

typedef struct {
    twin_t *twin;
    int rc;
    int done;                   /* set by the twin's thread, atomically */
} s_run_t;

static void *
s_twin_thread (void *arg)
{
    s_run_t *run = arg;
    twin_bus_opts_t opts = { .broker = s_broker.control, .factory = "factory", .cell = "plant",
                             .name = "twin", .heartbeat_ms = 500, .start_timeout_ms = 30000 };
    run->rc = twin_bus_run (run->twin, 8.0, &opts, NULL);
    __atomic_store_n (&run->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

typedef struct {
    int returns, with_station, inline_msgs;
    double last_shipped_h, last_t_h;
    char kind[32];
} s_watch_t;

static void
s_on_return (af_agent_t *agent, const af_msg_t *msg, void *arg)
{
    (void) agent;
    s_watch_t *w = arg;
    if (msg->env->payload_case != AUTOFAB__ENVELOPE__PAYLOAD_TYPED
        || strcmp (msg->env->typed->type, "autofab.twin.FieldReturn"))
        return;
    Autofab__Twin__FieldReturn *r = autofab__twin__field_return__unpack (NULL, msg->env->typed->data.len,
                                                                        msg->env->typed->data.data);
    cr_assert_not_null (r);
    w->returns++;
    w->with_station += r->station && !strcmp (r->station, "press");
    w->last_shipped_h = r->shipped_h;
    w->last_t_h = r->t_h;
    if (r->n_kinds > 0)
        snprintf (w->kind, sizeof w->kind, "%s", r->kinds[0]);
    autofab__twin__field_return__free_unpacked (r, NULL);
}

static void
s_on_inline (af_agent_t *agent, const af_msg_t *msg, void *arg)
{
    (void) agent;
    s_watch_t *w = arg;
    if (msg->env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_TELEMETRY)
        w->inline_msgs++;
}

/* Torque defects at the press escape (no inspection) and come back two
 * hours after shipping, as events with their kind and station. */
Test (twin_quality_bus, field_returns_and_inline_readings_are_published)
{
    const char *yaml = "factory: {name: q, epoch_s: 60}\n"
                       "arrivals: {mode: saturated}\n"
                       "quality: {sample_every: 0, field_return_p: 1, field_return_days: 0.0833333333333}\n"
                       "stations:\n"
                       "  - {name: press, process_s: 30, quality: {torque_nm: 10, torque_tol_pct: 10, cp: 1,"
                       " drift_pct_per_h: 20}}\n";
    char err[300];
    s_run_t run = { 0 };
    run.twin = twin_new_from_text (yaml, strlen (yaml), "q", 3, err, sizeof err);
    cr_assert_not_null (run.twin, "%s", err);
    static const char *const caps[] = { NULL };
    af_agent_opts_t opts = { .name = "qwatch", .kind = "test", .cell = "plant", .factory = "factory",
                             .broker = s_broker.control, .heartbeat_ms = 500, .capabilities = caps };
    af_agent_t *agent = af_agent_new (&opts, err, sizeof err);
    cr_assert_not_null (agent, "%s", err);
    s_watch_t w = { 0 };
    af_agent_subscribe (agent, "evt.factory.plant.twin.field_return", s_on_return, &w);
    af_agent_subscribe (agent, "tel.factory.plant.twin.inline.press", s_on_inline, &w);
    cr_assert_eq (af_agent_wait_registered (agent, 15000), 0);
    af_agent_iterate (agent, 300);      /* let the subscriptions reach the broker */
    pthread_t thread;
    pthread_create (&thread, NULL, s_twin_thread, &run);
    while (!__atomic_load_n (&run.done, __ATOMIC_ACQUIRE))
        af_agent_iterate (agent, 50);
    pthread_join (thread, NULL);
    int64_t deadline = zclock_mono () + 5000;
    size_t n = 0;
    twin_field_returns (run.twin, &n);
    while ((size_t) w.returns < n && zclock_mono () < deadline)
        af_agent_iterate (agent, 100);
    cr_assert_eq (run.rc, 0);
    cr_assert_gt (n, 10, "the drifting press made escapes that came back");
    cr_assert_eq ((size_t) w.returns, n, "every return published once");
    cr_assert_eq (w.with_station, w.returns, "each traced to the press");
    cr_assert_str_eq (w.kind, "torque");
    cr_assert (fabs (w.last_t_h - w.last_shipped_h - 2.0) < 1e-3, "%g after %g", w.last_t_h, w.last_shipped_h);
    cr_assert_gt (w.inline_msgs, 100, "in-line readings every epoch");
    af_agent_destroy (&agent);
    twin_destroy (&run.twin);
}
