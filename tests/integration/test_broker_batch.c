/*  Integration tests: coalescing (DESIGN §2).  A publisher coalesces what it
 *  publishes on one topic in a row into one frame (a Batch); the real broker
 *  checks every record, caches the newest, and relays the frame; subscribers
 *  get every envelope on its own, in order, with no gap.  Bad records inside
 *  a batch are refused one by one and the good ones still arrive.  */
#include <criterion/criterion.h>
#include <czmq.h>
#include <signal.h>

#include "af_agent.h"
#include "af_test.h"

#define HB_MS AFT_SUITE_HB_MS

TestSuite (batch, .init = aft_suite_broker_start, .fini = aft_suite_broker_stop, .timeout = 60);

/* A subscriber to PATTERN, given time for its subscription to reach the
 * broker's egress. */
static af_bus_t *
s_checker (const char *pattern)
{
    af_bus_t *sub = aft_bus (&aft_suite_broker, "checker");
    af_bus_subscribe (sub, pattern);
    zclock_sleep (100);
    return sub;
}

static af_bus_t *
s_coalescing_bus (const char *source)
{
    af_bus_opts_t opts = { .broker = aft_suite_broker.control, .source = source, .factory = "factory",
                           .coalesce = AF_BUS_COALESCE };
    char err[200];
    af_bus_t *bus = af_bus_new (&opts, err, sizeof err);
    cr_assert (bus, "%s", err);
    cr_assert_eq (af_bus_wait_ready (bus, 3000), 0);
    return bus;
}

static int
s_publish_value (af_bus_t *bus, const char *topic, double value)
{
    Autofab__Metric m = AUTOFAB__METRIC__INIT;
    m.name = "v";
    m.value = value;
    return af_bus_publish_metrics (bus, topic, &m, 1);
}

Test (batch, coalesced_stream_arrives_whole_and_in_order)
{
    af_bus_t *sub = s_checker ("tel.>");
    af_bus_t *pub = s_coalescing_bus ("burst");
    /* Runs of one topic (coalesced) broken by another topic (flushed). */
    const char *topics[2] = { "tel.factory.c1.burst.a", "tel.factory.c1.burst.b" };
    int sent[2] = { 0, 0 };
    for (int run = 0; run < 40; run++) {
        int t = run % 2, n = t ? 3 : 97;
        for (int i = 0; i < n; i++, sent[t]++)
            cr_assert_eq (s_publish_value (pub, topics[t], sent[t]), 0);
    }
    cr_assert_eq (af_bus_flush (pub), 0);
    cr_assert_gt (af_bus_counters (pub)->batches, 0, "nothing was coalesced");

    int got[2] = { 0, 0 };
    af_msg_t msg;
    while (got[0] + got[1] < sent[0] + sent[1] && af_bus_recv (sub, &msg, 3000) == 1) {
        int t = strcmp (msg.topic, topics[0]) == 0 ? 0 : 1;
        cr_assert_str_eq (msg.topic, topics[t]);
        /* Each topic's values come in the order they were published. */
        cr_assert_eq (msg.env->telemetry->metrics[0]->value, (double) got[t]);
        cr_assert_eq (msg.env->header->seq, (uint64_t) got[t] + 1);
        cr_assert_eq (msg.gap, 0);
        got[t]++;
        af_msg_clear (&msg);
    }
    cr_assert_eq (got[0], sent[0]);
    cr_assert_eq (got[1], sent[1]);
    cr_assert_eq (af_bus_counters (sub)->gaps, 0);
    cr_assert_eq (aft_broker_counter (sub, "relayed_msgs"), sent[0] + sent[1]);
    cr_assert_gt (aft_broker_counter (sub, "relayed_batches"), 0);
    cr_assert_eq (aft_broker_counter (sub, "relay_gaps"), 0);

    /* The last-value cache holds the newest envelope of each topic, not a
     * batch. */
    cr_assert_eq (af_bus_snapshot (sub, "tel.factory.c1.burst", NULL, NULL, 3000), 2);
    af_bus_destroy (&pub);
    af_bus_destroy (&sub);
}

static void
s_newest (const char *topic, const Autofab__Envelope *env, void *arg)
{
    (void) topic;
    *(double *) arg = env->telemetry->metrics[0]->value;
}

Test (batch, snapshot_holds_the_newest_record)
{
    af_bus_t *pub = s_coalescing_bus ("snap");
    for (int i = 0; i < 50; i++)
        cr_assert_eq (s_publish_value (pub, "tel.factory.c1.snap.x", i), 0);
    cr_assert_eq (af_bus_flush (pub), 0);
    af_bus_t *late = aft_bus (&aft_suite_broker, "late");
    double newest = -1;
    for (int tries = 0; tries < 20 && newest != 49; tries++) {
        /* Empty until the broker has relayed the batch. */
        int n = af_bus_snapshot (late, "tel.factory.c1.snap", s_newest, &newest, 3000);
        cr_assert (n == 0 || n == 1, "snapshot gave %d", n);
        if (newest != 49)
            zclock_sleep (50);
    }
    cr_assert_eq (newest, 49);
    /* Live messages continue exactly after the snapshot. */
    cr_assert_eq (s_publish_value (pub, "tel.factory.c1.snap.x", 50), 0);
    cr_assert_eq (af_bus_flush (pub), 0);
    af_msg_t msg;
    cr_assert_eq (af_bus_recv (late, &msg, 3000), 1);
    cr_assert_eq (msg.env->telemetry->metrics[0]->value, 50);
    cr_assert_eq (msg.gap, 0);
    af_msg_clear (&msg);
    af_bus_destroy (&late);
    af_bus_destroy (&pub);
}

Test (batch, held_until_flushed_then_sent)
{
    af_bus_t *sub = s_checker ("tel.>");
    af_bus_t *pub = s_coalescing_bus ("held");
    /* The first publish of a bus still has its topic checked. */
    cr_assert_eq (s_publish_value (pub, "", 0), -1);
    cr_assert_eq (af_bus_counters (pub)->publish_failed, 1);
    for (int i = 0; i < 5; i++)
        cr_assert_eq (s_publish_value (pub, "tel.factory.c1.held.x", i), 0);
    af_msg_t msg;
    cr_assert_eq (af_bus_recv (sub, &msg, 300), 0, "a coalesced batch left before its flush");
    cr_assert_eq (af_bus_flush (pub), 0);
    cr_assert_eq (af_bus_flush (pub), 0, "an empty flush is not an error");
    for (int i = 0; i < 5; i++) {
        cr_assert_eq (af_bus_recv (sub, &msg, 3000), 1);
        cr_assert_eq (msg.env->telemetry->metrics[0]->value, i);
        af_msg_clear (&msg);
    }
    /* One record alone goes as a plain envelope, not a batch. */
    uint64_t batches = af_bus_counters (pub)->batches;
    cr_assert_eq (s_publish_value (pub, "tel.factory.c1.held.x", 5), 0);
    cr_assert_eq (af_bus_flush (pub), 0);
    cr_assert_eq (af_bus_counters (pub)->batches, batches);
    cr_assert_eq (af_bus_recv (sub, &msg, 3000), 1);
    af_msg_clear (&msg);
    /* Destroying the bus sends what is waiting. */
    for (int i = 0; i < 3; i++)
        cr_assert_eq (s_publish_value (pub, "tel.factory.c1.held.x", 6 + i), 0);
    af_bus_destroy (&pub);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq (af_bus_recv (sub, &msg, 3000), 1, "message %d lost at close", 6 + i);
        cr_assert_eq (msg.env->telemetry->metrics[0]->value, 6 + i);
        af_msg_clear (&msg);
    }
    af_bus_destroy (&sub);
}

/* An agent's timer publishes bursts; they arrive whole and in order without
 * the agent ever calling af_bus_flush (that they leave at the end of the
 * turn, not when a batch fills, is a_turn_leaves_when_the_agent_waits). */
static int s_ticks;

static void
s_burst (af_agent_t *agent, void *arg)
{
    (void) arg;
    for (int i = 0; i < 20; i++)
        s_publish_value (af_agent_bus (agent), "tel.factory.c1.ticker.x", s_ticks * 20 + i);
    s_ticks++;
}

Test (batch, agent_bursts_arrive_whole_and_in_order)
{
    af_bus_t *sub = s_checker ("tel.factory.c1.ticker.>");
    af_agent_opts_t opts = { .name = "ticker", .kind = "test", .cell = "c1", .factory = "factory",
                             .broker = aft_suite_broker.control, .heartbeat_ms = HB_MS };
    char err[200];
    af_agent_t *agent = af_agent_new (&opts, err, sizeof err);
    cr_assert (agent, "%s", err);
    cr_assert_eq (af_agent_timer (agent, 20, s_burst, NULL), 0);
    cr_assert_eq (af_agent_wait_registered (agent, 3000), 0);
    cr_assert_eq (af_bus_wait_ready (af_agent_bus (agent), 3000), 0);
    /* Bursts published before the broker's ingress knew the agent were
     * dropped by ZeroMQ; from the first that arrives, all must. */
    int got = 0;
    double first = -1;
    int64_t deadline = zclock_mono () + 5000;
    while (got < 200 && zclock_mono () < deadline) {
        af_agent_iterate (agent, 5);
        af_msg_t msg;
        while (af_bus_recv (sub, &msg, 0) == 1) {
            if (first < 0)
                first = msg.env->telemetry->metrics[0]->value;
            cr_assert_eq (msg.env->telemetry->metrics[0]->value, first + got);
            cr_assert_eq (msg.gap, 0);
            got++;
            af_msg_clear (&msg);
        }
    }
    cr_assert_geq (got, 200);
    cr_assert_gt (af_bus_counters (af_agent_bus (agent))->batches, 0);
    af_agent_destroy (&agent);
    af_bus_destroy (&sub);
}

/* What a turn publishes is held until the agent next waits, and not
 * longer: af_agent_iterate sends it before it polls. */
Test (batch, a_turn_leaves_when_the_agent_waits)
{
    af_bus_t *sub = s_checker ("tel.factory.c1.turner.>");
    af_agent_opts_t opts = { .name = "turner", .kind = "test", .cell = "c1", .factory = "factory",
                             .broker = aft_suite_broker.control, .heartbeat_ms = HB_MS };
    char err[200];
    af_agent_t *agent = af_agent_new (&opts, err, sizeof err);
    cr_assert (agent, "%s", err);
    cr_assert_eq (af_agent_wait_registered (agent, 3000), 0);
    cr_assert_eq (af_bus_wait_ready (af_agent_bus (agent), 3000), 0);
    for (int i = 0; i < 20; i++)
        cr_assert_eq (s_publish_value (af_agent_bus (agent), "tel.factory.c1.turner.x", i), 0);
    af_msg_t msg;
    cr_assert_eq (af_bus_recv (sub, &msg, 300), 0, "a turn's batch left before the turn ended");
    af_agent_iterate (agent, 0);
    for (int i = 0; i < 20; i++) {
        cr_assert_eq (af_bus_recv (sub, &msg, 3000), 1, "message %d still held", i);
        cr_assert_eq (msg.env->telemetry->metrics[0]->value, i);
        af_msg_clear (&msg);
    }
    cr_assert_eq (af_bus_counters (af_agent_bus (agent))->batches, 1);
    af_agent_destroy (&agent);
    af_bus_destroy (&sub);
}

Test (batch, bad_records_refused_good_ones_relayed)
{
    af_bus_t *sub = s_checker ("tel.>");
    zsock_t *raw = aft_raw_ingress (&aft_suite_broker);
    void *pub = zsock_resolve (raw);
    const char *topic = "tel.factory.c1.mixed.x";

    af_stamper_t *st = af_stamper_new ("mixed", "factory");
    uint8_t *good[3];
    size_t good_len[3];
    for (int i = 0; i < 3; i++)
        good[i] = aft_telemetry (st, "v", i, 1, &good_len[i]);
    size_t future_len;
    uint8_t *future = aft_future_envelope (AF_SCHEMA_VERSION + 7, &future_len);
    uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff };
    /* An envelope behind the batch field's key: alone it would read as a
     * batch, so no envelope may carry that field. */
    uint8_t disguised[512] = { 0xFA, 0x7F, 0x00 };
    memcpy (disguised + 3, good[0], good_len[0]);

    /* [good0, garbage, good1, future schema, disguised]: three refused,
     * two relayed. */
    uint8_t *recs[5] = { good[0], garbage, good[1], future, disguised };
    size_t lens[5] = { good_len[0], sizeof garbage, good_len[1], future_len, good_len[0] + 3 };
    uint8_t batch[2048];
    size_t blen = aft_batch (batch, sizeof batch, recs, lens, 5);
    zmq_send (pub, topic, strlen (topic), ZMQ_SNDMORE);
    zmq_send (pub, batch, blen, 0);
    /* [good2, then a record whose length runs past the end]. */
    uint8_t *recs2[1] = { good[2] };
    size_t blen2 = aft_batch (batch, sizeof batch, recs2, &good_len[2], 1);
    batch[blen2++] = 0xFA;
    batch[blen2++] = 0x7F;
    batch[blen2++] = 0x7F;             /* 127 bytes promised, none there */
    zmq_send (pub, topic, strlen (topic), ZMQ_SNDMORE);
    zmq_send (pub, batch, blen2, 0);
    /* A batch with nothing good in it: dropped whole. */
    uint8_t *recs3[1] = { garbage };
    size_t len3 = sizeof garbage;
    size_t blen3 = aft_batch (batch, sizeof batch, recs3, &len3, 1);
    zmq_send (pub, topic, strlen (topic), ZMQ_SNDMORE);
    zmq_send (pub, batch, blen3, 0);

    for (int i = 0; i < 3; i++) {
        af_msg_t msg;
        cr_assert_eq (af_bus_recv (sub, &msg, 3000), 1, "good record %d lost", i);
        cr_assert_str_eq (msg.env->header->source, "mixed");
        cr_assert_eq (msg.env->telemetry->metrics[0]->value, i);
        cr_assert_eq (msg.gap, 0);
        af_msg_clear (&msg);
    }
    af_msg_t msg;
    cr_assert_eq (af_bus_recv (sub, &msg, 200), 0, "nothing else should have been relayed");
    cr_assert_eq (af_bus_counters (sub)->refused[AF_DECODE_MALFORMED], 0,
                  "the subscriber saw a bad record");
    cr_assert_eq (aft_broker_counter (sub, "relay_malformed"), 4);
    cr_assert_eq (aft_broker_counter (sub, "relay_bad_schema"), 1);
    cr_assert_eq (aft_broker_counter (sub, "relayed_msgs"), 3);
    for (int i = 0; i < 3; i++)
        free (good[i]);
    free (future);
    af_stamper_destroy (&st);
    zsock_destroy (&raw);
    af_bus_destroy (&sub);
}

Test (batch, subscriber_refuses_a_bad_batch_and_keeps_reading)
{
    /* A batch that reaches a subscriber without the broker (a hostile
     * peer on the egress side is not possible; this exercises af_bus's own
     * checks through a raw PUB it connects to). */
    int port = aft_free_ports (1);
    zsock_t *raw = zsock_new (ZMQ_XPUB);
    cr_assert_eq (zsock_bind (raw, "tcp://127.0.0.1:%d", port), port);
    char egress[80];
    snprintf (egress, sizeof egress, "tcp://127.0.0.1:%d", port);
    af_bus_opts_t opts = { .broker = aft_suite_broker.control, .egress = egress, .source = "reader" };
    char err[200];
    af_bus_t *sub = af_bus_new (&opts, err, sizeof err);
    cr_assert (sub, "%s", err);
    af_bus_subscribe (sub, "tel.>");
    zmsg_t *notice = zmsg_recv (raw);
    zmsg_destroy (&notice);
    af_stamper_t *st = af_stamper_new ("direct", "factory");
    size_t l0, l1;
    uint8_t *r0 = aft_telemetry (st, "v", 0, 1, &l0);
    uint8_t *r1 = aft_telemetry (st, "v", 1, 1, &l1);
    uint8_t garbage[] = { 0xff, 0xff, 0xff };
    uint8_t *recs[3] = { r0, garbage, r1 };
    size_t lens[3] = { l0, sizeof garbage, l1 };
    uint8_t batch[1024];
    size_t blen = aft_batch (batch, sizeof batch, recs, lens, 3);
    batch[blen++] = 0x01;              /* trailing junk: the rest is refused */
    const char *topic = "tel.factory.c1.direct.x";
    zmq_send (zsock_resolve (raw), topic, strlen (topic), ZMQ_SNDMORE);
    zmq_send (zsock_resolve (raw), batch, blen, 0);
    for (int i = 0; i < 2; i++) {
        af_msg_t msg;
        cr_assert_eq (af_bus_recv (sub, &msg, 3000), 1);
        cr_assert_eq (msg.env->telemetry->metrics[0]->value, i);
        af_msg_clear (&msg);
    }
    af_msg_t msg;
    cr_assert_eq (af_bus_recv (sub, &msg, 200), 0);
    cr_assert_eq (af_bus_counters (sub)->refused[AF_DECODE_MALFORMED], 2);
    free (r0);
    free (r1);
    af_stamper_destroy (&st);
    af_bus_destroy (&sub);
    zsock_destroy (&raw);
}

Test (batch, a_small_message_cap_still_takes_whole_batches)
{
    /* Each record is held to the receiver's cap; a batch frame up to
     * AF_BATCH_MAX_BYTES is taken whatever the cap. */
    af_bus_opts_t opts = { .broker = aft_suite_broker.control, .source = "tiny", .factory = "factory",
                           .max_msg_bytes = 1024 };
    char err[200];
    af_bus_t *sub = af_bus_new (&opts, err, sizeof err);
    cr_assert (sub, "%s", err);
    af_bus_subscribe (sub, "tel.factory.c1.wide.>");
    zclock_sleep (100);
    af_bus_t *pub = s_coalescing_bus ("wide");
    for (int i = 0; i < 600; i++)
        cr_assert_eq (s_publish_value (pub, "tel.factory.c1.wide.x", i), 0);
    cr_assert_eq (af_bus_flush (pub), 0);
    cr_assert_gt (af_bus_counters (pub)->batches, 0);
    af_msg_t msg;
    for (int i = 0; i < 600; i++) {
        cr_assert_eq (af_bus_recv (sub, &msg, 3000), 1, "message %d lost", i);
        cr_assert_eq (msg.env->telemetry->metrics[0]->value, i);
        af_msg_clear (&msg);
    }
    af_bus_destroy (&pub);
    af_bus_destroy (&sub);
}

Test (batch, broker_coalesces_what_is_queued)
{
    /* A raw publisher sends plain envelopes, one frame each, while the
     * broker is stopped, so that they are queued when it wakes: it relays
     * each run of one topic as a batch, and subscribers see every envelope,
     * in order, with no gap. */
    af_bus_t *sub = s_checker ("tel.factory.c1.plain.>");
    zsock_t *raw = aft_raw_ingress (&aft_suite_broker);
    void *pub = zsock_resolve (raw);
    long long batches_before = aft_broker_counter (sub, "relayed_batches");
    /* One stamper per topic: each stream numbered on its own. */
    af_stamper_t *st[2] = { af_stamper_new ("plain", "factory"), af_stamper_new ("plain", "factory") };
    const char *topics[2] = { "tel.factory.c1.plain.a", "tel.factory.c1.plain.b" };
    cr_assert_eq (kill (aft_suite_broker.pid, SIGSTOP), 0);
    int sent = 0;
    for (int run = 0; run < 6; run++)
        for (int i = 0; i < (run % 2 ? 7 : 300); i++, sent++) {
            size_t len;
            uint8_t *env = aft_telemetry (st[run % 2], "v", sent, 1, &len);
            const char *t = topics[run % 2];
            zmq_send (pub, t, strlen (t), ZMQ_SNDMORE);
            zmq_send (pub, env, len, 0);
            free (env);
        }
    zclock_sleep (100);                /* let the frames reach the broker's socket */
    cr_assert_eq (kill (aft_suite_broker.pid, SIGCONT), 0);
    af_msg_t msg;
    for (int i = 0; i < sent; i++) {
        cr_assert_eq (af_bus_recv (sub, &msg, 3000), 1, "message %d lost", i);
        cr_assert_eq (msg.env->telemetry->metrics[0]->value, i, "out of order");
        cr_assert_eq (msg.gap, 0);
        af_msg_clear (&msg);
    }
    cr_assert_eq (af_bus_recv (sub, &msg, 200), 0);
    cr_assert_gt (aft_broker_counter (sub, "relayed_batches"), batches_before,
                  "nothing was coalesced");
    af_stamper_destroy (&st[0]);
    af_stamper_destroy (&st[1]);
    zsock_destroy (&raw);
    af_bus_destroy (&sub);
}
