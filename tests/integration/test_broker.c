/*  Integration tests: a real autofab-broker and real agent processes on free
 *  loopback ports.  Presence (birth, death after kill -9, re-registration
 *  after a broker restart), snapshot + live with no gap, request routing and
 *  failover, and the broker's refusal of bad input.  */
#include <criterion/criterion.h>
#include <czmq.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>

#include "af_agent.h"
#include "af_test.h"

#define HB_MS AFT_SUITE_HB_MS

static pid_t
s_demo (const char *name, const char *service, const char *extra_flag, const char *extra_value)
{
    char hb[16];
    snprintf (hb, sizeof hb, "%d", HB_MS);
    const char *argv[] = { "--broker", aft_suite_broker.control, "--name", name, "--service", service,
                           "--heartbeat-ms", hb, "--rate-hz", "20", extra_flag, extra_value, NULL };
    return aft_spawn ("autofab-demo-agent", argv);
}

/* Waits for a presence message about NAME in STATE; returns ms waited or -1. */
static int
s_wait_presence (af_bus_t *bus, const char *name, Autofab__Presence__State state, int timeout_ms)
{
    int64_t start = zclock_mono ();
    while (zclock_mono () - start < timeout_ms) {
        af_msg_t msg;
        if (af_bus_recv (bus, &msg, 50) != 1)
            continue;
        bool hit = msg.env->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_PRESENCE
                   && !strcmp (msg.env->presence->name, name) && msg.env->presence->state == state;
        af_msg_clear (&msg);
        if (hit)
            return (int) (zclock_mono () - start);
    }
    return -1;
}

TestSuite (broker, .init = aft_suite_broker_start, .fini = aft_suite_broker_stop, .timeout = 60);

Test (broker, birth_and_death_within_two_heartbeats)
{
    af_bus_t *bus = aft_bus (&aft_suite_broker, "watcher");
    af_bus_subscribe (bus, "sys.>");
    zclock_sleep (100);          /* let the subscription reach the broker */
    pid_t agent = s_demo ("press1", "press", "--cell", "cell3");
    cr_assert_geq (s_wait_presence (bus, "press1", AUTOFAB__PRESENCE__STATE__STATE_BIRTH, 5000), 0,
                   "no birth notice");
    cr_assert (aft_wait_listed (bus, "press1", true, 2000));
    kill (agent, SIGKILL);
    waitpid (agent, NULL, 0);
    int waited = s_wait_presence (bus, "press1", AUTOFAB__PRESENCE__STATE__STATE_DEATH, 5000);
    cr_assert_geq (waited, 0, "no death notice");
    /* DESIGN §2: within two heartbeat intervals (plus scheduling slack on a
     * loaded 2-core machine running tests in parallel). */
    cr_expect_leq (waited, 2 * HB_MS + 150, "death after %d ms (heartbeat %d ms)", waited, HB_MS);
    cr_assert (aft_wait_listed (bus, "press1", false, 1000));
    af_bus_destroy (&bus);
}

Test (broker, agent_reregisters_after_broker_restart)
{
    af_bus_t *bus = aft_bus (&aft_suite_broker, "watcher");
    pid_t agent = s_demo ("mixer", "mix", "--cell", "c1");
    cr_assert (aft_wait_listed (bus, "mixer", true, 15000));
    af_bus_destroy (&bus);
    int port = aft_suite_broker.port;
    aft_broker_stop (&aft_suite_broker);
    zclock_sleep (HB_MS);
    cr_assert (aft_broker_start (&aft_suite_broker, port, HB_MS), "broker did not restart");
    bus = aft_bus (&aft_suite_broker, "watcher");
    cr_assert (aft_wait_listed (bus, "mixer", true, 10 * HB_MS), "agent did not re-register");
    /* And its telemetry flows through the new broker. */
    af_bus_subscribe (bus, "tel.*.c1.mixer.>");
    af_msg_t msg;
    cr_assert_eq (af_bus_recv (bus, &msg, 3000), 1);
    af_msg_clear (&msg);
    af_bus_destroy (&bus);
    cr_assert_eq (aft_stop (agent, SIGTERM, 3000), 0, "agent did not stop cleanly");
}

Test (broker, duplicate_name_refused)
{
    af_bus_t *bus = aft_bus (&aft_suite_broker, "watcher");
    pid_t first = s_demo ("welder", "weld", "--cell", "c2");
    cr_assert (aft_wait_listed (bus, "welder", true, 15000));
    pid_t second = s_demo ("welder", "weld", "--cell", "c2");
    cr_assert_eq (aft_wait_exit (second, 5000), 2, "duplicate should exit with code 2");
    cr_assert_geq (aft_broker_counter (bus, "duplicate_names"), 1);
    cr_assert (aft_wait_listed (bus, "welder", true, 500), "the first one stays");
    aft_stop (first, SIGTERM, 3000);
    af_bus_destroy (&bus);
}

#define SNAP_TOPICS 50

typedef struct {
    uint64_t last_seq[SNAP_TOPICS];   /* per topic k0 … k49 */
} s_snap_t;

/* The topic's number in tel.factory.c9.fast.kN, or -1. */
static int
s_topic_index (const char *topic)
{
    const char *k = strrchr (topic, '.');
    int n = k && k[1] == 'k' ? atoi (k + 2) : -1;
    return n >= 0 && n < SNAP_TOPICS ? n : -1;
}

static void
s_on_snapshot (const char *topic, const Autofab__Envelope *env, void *arg)
{
    s_snap_t *snap = arg;
    int k = s_topic_index (topic);
    if (k >= 0 && !strcmp (env->header->source, "fast"))
        snap->last_seq[k] = env->header->seq;
}

static void *
s_publisher (void *arg)
{
    volatile bool *stop = arg;
    af_bus_t *bus = aft_bus (&aft_suite_broker, "fast");
    af_bus_wait_ready (bus, 3000);
    for (uint64_t i = 0; !*stop && i < 2000000; i++) {
        char topic[64];
        snprintf (topic, sizeof topic, "tel.factory.c9.fast.k%d", (int) (i % SNAP_TOPICS));
        Autofab__Metric m = AUTOFAB__METRIC__INIT;
        m.name = "i";
        m.value = (double) i;
        af_bus_publish_metrics (bus, topic, &m, 1);
        if (i % 10 == 0)         /* a second stream, for another subscription */
            af_bus_publish_metrics (bus, "evt.factory.c9.fast.tick", &m, 1);
        if (i % 64 == 0)
            zclock_sleep (1);    /* steady, not a flood: no HWM drops */
    }
    af_bus_destroy (&bus);
    return NULL;
}

Test (broker, snapshot_then_live_without_gap)
{
    volatile bool stop = false;
    pthread_t thread;
    pthread_create (&thread, NULL, s_publisher, (void *) &stop);
    zclock_sleep (300);
    af_bus_t *bus = aft_bus (&aft_suite_broker, "late");
    /* Another subscription, active before the snapshot: what it receives
     * while the snapshot is cut must not be lost. */
    af_bus_subscribe (bus, "evt.>");
    zclock_sleep (200);
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    uint64_t snapshot_asked_ns = (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
    s_snap_t snap = { { 0 } };
    int count = af_bus_snapshot (bus, "tel.factory.c9", s_on_snapshot, &snap, 5000);
    cr_assert_eq (count, SNAP_TOPICS, "snapshot should hold one message per topic, got %d", count);
    /* On every topic the live stream continues exactly after the snapshot:
     * no gap, no duplicate (senders number each topic's stream). */
    uint64_t expected[SNAP_TOPICS];
    for (int k = 0; k < SNAP_TOPICS; k++) {
        cr_assert_gt (snap.last_seq[k], 0, "topic k%d missing from the snapshot", k);
        expected[k] = snap.last_seq[k] + 1;
    }
    af_msg_t msg;
    int events = 0;
    uint64_t last_event = 0;
    for (int i = 0; i < 2000; i++) {
        cr_assert_eq (af_bus_recv (bus, &msg, 3000), 1);
        if (!strncmp (msg.topic, "evt.", 4)) {
            /* The first one came in before the cut: kept, not dropped. */
            if (events == 0)
                cr_assert_lt (msg.env->header->t_ns, snapshot_asked_ns,
                              "messages of the other subscription read during the snapshot were lost");
            if (events++)
                cr_assert_eq (msg.env->header->seq, last_event + 1, "evt stream: gap across the snapshot");
            last_event = msg.env->header->seq;
            af_msg_clear (&msg);
            continue;
        }
        int k = s_topic_index (msg.topic);
        cr_assert_geq (k, 0, "unexpected topic %s", msg.topic);
        cr_assert_eq (msg.env->header->seq, expected[k], "%s: got seq %lu, want %lu", msg.topic,
                      (unsigned long) msg.env->header->seq, (unsigned long) expected[k]);
        expected[k]++;
        af_msg_clear (&msg);
    }
    cr_assert_gt (events, 0, "the other subscription received nothing");
    cr_assert_eq (af_bus_counters (bus)->gaps, 0);
    stop = true;
    pthread_join (thread, NULL);
    af_bus_destroy (&bus);
}

static int
s_call (af_bus_t *bus, const char *service, const char *action, char *worker, size_t worker_len,
        int timeout_ms, char *err, size_t err_len)
{
    Autofab__Command cmd = AUTOFAB__COMMAND__INIT;
    cmd.action = (char *) action;
    Autofab__Envelope env = AUTOFAB__ENVELOPE__INIT;
    env.payload_case = AUTOFAB__ENVELOPE__PAYLOAD_COMMAND;
    env.command = &cmd;
    Autofab__Envelope *reply;
    int status = af_bus_request (bus, service, &env, timeout_ms, 0, &reply, err, err_len);
    if (worker)
        worker[0] = 0;
    if (reply) {
        if (worker && reply->payload_case == AUTOFAB__ENVELOPE__PAYLOAD_RESULT)
            snprintf (worker, worker_len, "%s", reply->header->source);
        autofab__envelope__free_unpacked (reply, NULL);
    }
    return status;
}

Test (broker, requests_routed_least_recently_used)
{
    af_bus_t *bus = aft_bus (&aft_suite_broker, "operator");
    pid_t a = s_demo ("robotA", "robot-cell3", "--cell", "cell3");
    pid_t b = s_demo ("robotB", "robot-cell3", "--cell", "cell3");
    cr_assert (aft_wait_listed (bus, "robotA", true, 15000));
    cr_assert (aft_wait_listed (bus, "robotB", true, 15000));
    char w1[32], w2[32], w3[32], err[300];
    cr_assert_eq (s_call (bus, "robot-cell3", "ping", w1, sizeof w1, 3000, err, sizeof err), 0, "%s", err);
    cr_assert_eq (s_call (bus, "robot-cell3", "ping", w2, sizeof w2, 3000, err, sizeof err), 0, "%s", err);
    cr_assert_eq (s_call (bus, "robot-cell3", "ping", w3, sizeof w3, 3000, err, sizeof err), 0, "%s", err);
    cr_assert_str_neq (w1, w2, "two workers should share the load");
    cr_assert_str_eq (w1, w3);
    /* A command the worker refuses comes back as an error status. */
    cr_assert_eq (s_call (bus, "robot-cell3", "explode", NULL, 0, 3000, err, sizeof err),
                  AUTOFAB__STATUS__STATUS_BAD_REQUEST);
    cr_assert (strstr (err, "unknown action") != NULL, "%s", err);
    /* Nobody offers this: an error, not silence. */
    cr_assert_eq (s_call (bus, "no-such-service", "ping", NULL, 0, 3000, err, sizeof err),
                  AUTOFAB__STATUS__STATUS_NOT_FOUND);
    cr_assert (strstr (err, "no live worker") != NULL, "%s", err);
    cr_assert_geq (aft_broker_counter (bus, "requests_no_worker"), 1);
    aft_stop (a, SIGTERM, 3000);
    aft_stop (b, SIGTERM, 3000);
    af_bus_destroy (&bus);
}

typedef struct {
    pid_t pid;
    int delay_ms;
} s_killer_t;

static void *
s_kill_later (void *arg)
{
    s_killer_t *k = arg;
    zclock_sleep (k->delay_ms);
    kill (k->pid, SIGKILL);
    return NULL;
}

Test (broker, request_fails_over_when_worker_dies)
{
    af_bus_t *bus = aft_bus (&aft_suite_broker, "operator");
    /* The slow one registers first, so it gets the first request. */
    pid_t slow = s_demo ("slowbot", "paint", "--reply-delay-ms", "20000");
    cr_assert (aft_wait_listed (bus, "slowbot", true, 15000));
    pid_t fast = s_demo ("fastbot", "paint", "--cell", "c1");
    cr_assert (aft_wait_listed (bus, "fastbot", true, 15000));
    s_killer_t killer = { slow, 200 };
    pthread_t thread;
    pthread_create (&thread, NULL, s_kill_later, &killer);
    char worker[32], err[300];
    int status = s_call (bus, "paint", "ping", worker, sizeof worker, 10000, err, sizeof err);
    pthread_join (thread, NULL);
    waitpid (slow, NULL, 0);
    cr_assert_eq (status, 0, "status %d: %s", status, err);
    cr_assert_str_eq (worker, "fastbot");
    cr_assert_geq (aft_broker_counter (bus, "requests_failed_over"), 1);

    /* With no other worker, the client gets an error instead of a hang. */
    pid_t lone = s_demo ("lonebot", "glue", "--reply-delay-ms", "20000");
    cr_assert (aft_wait_listed (bus, "lonebot", true, 15000));
    killer.pid = lone;
    pthread_create (&thread, NULL, s_kill_later, &killer);
    status = s_call (bus, "glue", "ping", NULL, 0, 10000, err, sizeof err);
    pthread_join (thread, NULL);
    waitpid (lone, NULL, 0);
    cr_assert_eq (status, AUTOFAB__STATUS__STATUS_UNAVAILABLE, "status %d: %s", status, err);
    aft_stop (fast, SIGTERM, 3000);
    af_bus_destroy (&bus);
}

/* Sends raw frames to the broker's ingress. */
static void
s_raw_publish (void *pub, const void *const *frames, const size_t *lens, int n)
{
    for (int i = 0; i < n; i++)
        zmq_send (pub, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0);
}

Test (broker, refuses_bad_pubsub_input_and_keeps_relaying)
{
    af_bus_t *bus = aft_bus (&aft_suite_broker, "checker");
    af_bus_subscribe (bus, "tel.>");
    af_bus_t *good = aft_bus (&aft_suite_broker, "goodsrc");
    cr_assert_eq (af_bus_wait_ready (good, 3000), 0);
    zclock_sleep (100);

    zsock_t *raw = aft_raw_ingress (&aft_suite_broker);
    void *pub = zsock_resolve (raw);

    const char *topic = "tel.factory.c1.bad.x";
    const void *one[] = { topic };
    size_t one_len[] = { strlen (topic) };
    s_raw_publish (pub, one, one_len, 1);                              /* 1 frame */
    const void *three[] = { topic, "a", "b" };
    size_t three_len[] = { strlen (topic), 1, 1 };
    s_raw_publish (pub, three, three_len, 3);                          /* 3 frames */
    const void *garbage[] = { topic, "\xff\xff\xff\xff\xff\xff" };
    size_t garbage_len[] = { strlen (topic), 6 };
    s_raw_publish (pub, garbage, garbage_len, 2);                      /* garbage */
    size_t big_len = AF_MAX_MSG_BYTES + 100;
    uint8_t *big = calloc (1, big_len);
    const void *oversized[] = { topic, big };
    size_t oversized_len[] = { strlen (topic), big_len };
    s_raw_publish (pub, oversized, oversized_len, 2);                  /* too large */
    free (big);
    size_t len;
    uint8_t *future = aft_future_envelope (AF_SCHEMA_VERSION + 7, &len);
    const void *schema[] = { topic, future };
    size_t schema_len[] = { strlen (topic), len };
    s_raw_publish (pub, schema, schema_len, 2);                        /* unknown schema */
    free (future);
    /* A valid header over a payload that is no message (issue 17). */
    af_stamper_t *st = af_stamper_new ("liar", "factory");
    uint8_t *valid = aft_telemetry (st, "x", 1, 1000, &len);
    size_t hdr_len = 2 + (size_t) valid[1];
    uint8_t liar[64];
    cr_assert_lt (hdr_len + 6, sizeof liar);
    memcpy (liar, valid, hdr_len);
    memcpy (liar + hdr_len, "\x52\x04\xff\xff\xff\xff", 6);
    const void *payload[] = { topic, liar };
    size_t payload_len[] = { strlen (topic), hdr_len + 6 };
    s_raw_publish (pub, payload, payload_len, 2);                      /* garbage payload */
    free (valid);
    af_stamper_destroy (&st);
    const void *bad_topic[] = { "tel..x", "zz" };
    size_t bad_topic_len[] = { 6, 2 };
    s_raw_publish (pub, bad_topic, bad_topic_len, 2);                  /* bad topic */

    /* A valid message after all that still arrives, and nothing bad did. */
    Autofab__Metric m = AUTOFAB__METRIC__INIT;
    m.name = "ok";
    m.value = 1;
    cr_assert_eq (af_bus_publish_metrics (good, "tel.factory.c1.goodsrc.x", &m, 1), 0);
    af_msg_t msg;
    cr_assert_eq (af_bus_recv (bus, &msg, 3000), 1);
    cr_assert_str_eq (msg.env->header->source, "goodsrc");
    af_msg_clear (&msg);
    cr_assert_eq (af_bus_recv (bus, &msg, 200), 0, "nothing else should have been relayed");

    cr_assert_eq (aft_broker_counter (bus, "relay_bad_frames"), 2);
    cr_assert_eq (aft_broker_counter (bus, "relay_malformed"), 2);
    cr_assert_eq (aft_broker_counter (bus, "relay_too_large"), 1);
    cr_assert_eq (aft_broker_counter (bus, "relay_bad_schema"), 1);
    cr_assert_eq (aft_broker_counter (bus, "relay_bad_topic"), 1);
    zsock_destroy (&raw);
    af_bus_destroy (&good);
    af_bus_destroy (&bus);
}

/* Sends raw control frames and returns the Error status the broker answers
 * with (0 if it answered something else, -1 if nothing). */
static int
s_raw_control (zsock_t *dealer, const void *const *frames, const size_t *lens, int n)
{
    void *handle = zsock_resolve (dealer);
    for (int i = 0; i < n; i++)
        zmq_send (handle, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0);
    zsock_set_rcvtimeo (dealer, 2000);
    zmsg_t *reply = zmsg_recv (dealer);
    if (!reply)
        return -1;
    zframe_t *tag = zmsg_first (reply);
    zframe_t *body = zmsg_next (reply);
    int status = 0;
    Autofab__Control *ctl;
    if (tag && body && af_control_decode (zframe_data (body), zframe_size (body), AF_MAX_MSG_BYTES, &ctl) == AF_DECODE_OK) {
        if (ctl->msg_case == AUTOFAB__CONTROL__MSG_ERROR)
            status = ctl->error->status;
        autofab__control__free_unpacked (ctl, NULL);
    }
    zmsg_destroy (&reply);
    return status;
}

Test (broker, refuses_bad_control_input)
{
    zsock_t *dealer = zsock_new_dealer (aft_suite_broker.control);
    const void *f1[] = { "AFC1" };
    size_t l1[] = { 4 };
    cr_assert_eq (s_raw_control (dealer, f1, l1, 1), AUTOFAB__STATUS__STATUS_BAD_REQUEST);
    const void *f2[] = { "AFC9", "x" };
    size_t l2[] = { 4, 1 };
    cr_assert_eq (s_raw_control (dealer, f2, l2, 2), AUTOFAB__STATUS__STATUS_UNSUPPORTED);
    const void *f3[] = { "AFC1", "\xff\xff\xff" };
    size_t l3[] = { 4, 3 };
    cr_assert_eq (s_raw_control (dealer, f3, l3, 2), AUTOFAB__STATUS__STATUS_BAD_REQUEST);
    /* A heartbeat from a peer that never registered. */
    Autofab__Heartbeat hb = AUTOFAB__HEARTBEAT__INIT;
    Autofab__Control ctl = AUTOFAB__CONTROL__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_HEARTBEAT;
    ctl.heartbeat = &hb;
    uint8_t buf[64];
    size_t len = autofab__control__pack (&ctl, buf);
    const void *f4[] = { "AFC1", buf };
    size_t l4[] = { 4, len };
    cr_assert_eq (s_raw_control (dealer, f4, l4, 2), AUTOFAB__STATUS__STATUS_NOT_REGISTERED);
    /* A reply type a client may not send. */
    Autofab__ListReply lr = AUTOFAB__LIST_REPLY__INIT;
    ctl.msg_case = AUTOFAB__CONTROL__MSG_LIST_REPLY;
    ctl.list_reply = &lr;
    len = autofab__control__pack (&ctl, buf);
    const void *f5[] = { "AFC1", buf };
    size_t l5[] = { 4, len };
    cr_assert_eq (s_raw_control (dealer, f5, l5, 2), AUTOFAB__STATUS__STATUS_BAD_REQUEST);
    /* A bad agent name. */
    Autofab__Register reg = AUTOFAB__REGISTER__INIT;
    reg.name = "bad name!";
    ctl.msg_case = AUTOFAB__CONTROL__MSG_REGISTER;
    ctl.register_ = &reg;
    len = autofab__control__pack (&ctl, buf);
    const void *f6[] = { "AFC1", buf };
    size_t l6[] = { 4, len };
    cr_assert_eq (s_raw_control (dealer, f6, l6, 2), AUTOFAB__STATUS__STATUS_BAD_REQUEST);
    zsock_destroy (&dealer);
    /* And the broker still works. */
    af_bus_t *bus = aft_bus (&aft_suite_broker, "after");
    cr_assert_geq (aft_broker_counter (bus, "unregistered_heartbeats"), 1);
    cr_assert_geq (aft_broker_counter (bus, "control_bad_tag"), 1);
    cr_assert_geq (aft_broker_counter (bus, "control_malformed"), 1);
    af_bus_destroy (&bus);
}

Test (broker, config_file_errors_name_file_and_line)
{
    char bad[] = "/tmp/autofab-broker-cfg-XXXXXX";
    int fd = mkstemp (bad);
    const char *text = "factory: plant7\nheartbeat_ms: 0\n";
    cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    const char *argv[] = { "--config", bad, NULL };
    pid_t pid = aft_spawn ("autofab-broker", argv);
    cr_assert_eq (aft_wait_exit (pid, 5000), 2);
    char *log = aft_child_log (pid, "autofab-broker");
    char want[300];
    snprintf (want, sizeof want, "%s:2: 'heartbeat_ms' must be between 10 and 600000, got 0", bad);
    cr_assert (strstr (log, want) != NULL, "got: %s", log);
    free (log);

    /* An unknown key is caught too (a typo must not be ignored). */
    fd = open (bad, O_WRONLY | O_TRUNC);
    text = "factory: plant7\nheartbeat_mss: 500\n";
    cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    pid = aft_spawn ("autofab-broker", argv);
    cr_assert_eq (aft_wait_exit (pid, 5000), 2);
    log = aft_child_log (pid, "autofab-broker");
    cr_assert (strstr (log, ":2: unknown key 'heartbeat_mss'") != NULL, "got: %s", log);
    free (log);

    /* A valid file is applied: its factory name appears in presence topics. */
    int port = aft_free_ports (3);
    fd = open (bad, O_WRONLY | O_TRUNC);
    char good[300];
    snprintf (good, sizeof good, "control: tcp://127.0.0.1:%d\nfactory: plant7\nheartbeat_ms: 200\n", port);
    cr_assert_eq (write (fd, good, strlen (good)), (ssize_t) strlen (good));
    close (fd);
    pid = aft_spawn ("autofab-broker", argv);
    aft_broker_t b = { .pid = pid, .port = port };
    snprintf (b.control, sizeof b.control, "tcp://127.0.0.1:%d", port);
    af_bus_t *bus = aft_bus (&b, "watcher");
    af_bus_subscribe (bus, "sys.plant7.>");
    zclock_sleep (200);
    char hb[16] = "200";
    const char *agent_argv[] = { "--broker", b.control, "--name", "cfgtest", "--heartbeat-ms", hb, NULL };
    pid_t agent = aft_spawn ("autofab-demo-agent", agent_argv);
    cr_assert_geq (s_wait_presence (bus, "cfgtest", AUTOFAB__PRESENCE__STATE__STATE_BIRTH, 15000), 0,
                   "no birth on sys.plant7.*");
    aft_stop (agent, SIGTERM, 3000);
    af_bus_destroy (&bus);
    aft_stop (pid, SIGTERM, 3000);
    unlink (bad);
}

/* af_bus_request polls for its reply before it sleeps: with polling off,
 * on, or longer than the call's own timeout, answers still come and a
 * timeout is still kept. */
Test (broker, request_polling_keeps_answers_and_timeouts)
{
    pid_t slow = s_demo ("slowpoke", "slow", "--reply-delay-ms", "120");
    af_bus_t *probe = aft_bus (&aft_suite_broker, "probe2");
    cr_assert (aft_wait_listed (probe, "slowpoke", true, 15000));
    const int spins[] = { -1, 200, 100000 };
    for (size_t i = 0; i < sizeof spins / sizeof *spins; i++) {
        af_bus_opts_t opts = { .broker = aft_suite_broker.control, .source = "spinner", .factory = "factory",
                               .request_spin_us = spins[i] };
        char err[300];
        af_bus_t *bus = af_bus_new (&opts, err, sizeof err);
        cr_assert (bus, "%s", err);
        char worker[32];
        cr_assert_eq (s_call (bus, "slow", "ping", worker, sizeof worker, 3000, err, sizeof err), 0,
                      "spin %d: %s", spins[i], err);
        cr_assert_str_eq (worker, "slowpoke");
        int64_t t0 = zclock_mono ();
        int status = s_call (bus, "slow", "ping", NULL, 0, 40, err, sizeof err);
        int64_t took = zclock_mono () - t0;
        cr_assert_eq (status, AUTOFAB__STATUS__STATUS_TIMEOUT, "spin %d: status %d", spins[i], status);
        cr_assert_lt (took, 100, "spin %d: a 40 ms request took %lld ms", spins[i], (long long) took);
        af_bus_destroy (&bus);
        zclock_sleep (200);    /* let the late answer drain from the worker */
    }
    aft_stop (slow, SIGTERM, 3000);
    af_bus_destroy (&probe);
}
