"""Checks of the Python client (clients/python) against a real broker,
run by tests/integration/test_python_client.c:  python3 THIS BROKER.

Every check asserts; the script prints "ok <name>" per check passed and
exits non-zero (with the traceback) on the first that fails."""
import sys
import threading
import time

import autofab

BROKER = sys.argv[1]
N_BURST = 3000


def check_publish_subscribe_batches_and_gaps():
    sub = autofab.Bus(broker=BROKER, source="py-sub")
    sub.subscribe("tel.pyf.*.burst.>")
    pub = autofab.Bus(broker=BROKER, source="py-pub").wait_ready()
    # The subscription must be active before the burst: publish a probe
    # until one arrives.
    while sub.recv(timeout_s=0.05) is None:
        pub.publish_metrics("tel.pyf.c1.burst.probe", x=1)
    while sub.recv(timeout_s=0.2) is not None:
        pass
    for i in range(N_BURST):
        pub.publish_metrics("tel.pyf.c1.burst.seq", i=i)
    got, last = 0, -1
    while got < N_BURST:
        msg = sub.recv(timeout_s=5)
        assert msg is not None, "only %d of %d messages arrived" % (got, N_BURST)
        if msg.topic != "tel.pyf.c1.burst.seq":
            continue
        value = autofab.values(msg.envelope)["i"]
        assert value == last + 1, "out of order: %s after %s" % (value, last)
        assert msg.gap == 0
        last = value
        got += 1
    assert sub.counters["gaps"] == 0, sub.counters
    # The broker coalesces what queues on its ingress: a burst arrives
    # (at least partly) in batches, which the client splits.
    print("ok publish_subscribe (%d messages, %d batches)" % (got, sub.counters["batches"]))
    sub.close()
    pub.close()


def check_agent_and_call():
    def echo(command, envelope):
        p = autofab.param_dict(command.params)
        if "speed" not in p:
            raise autofab.Refuse(400, "speed is required")
        return {"speed": p["speed"] * 2, "who": envelope.header.source}

    agent = autofab.Agent("pyagent", kind="demo", cell="c9", heartbeat_ms=200, broker=BROKER,
                          services={"pyagent.echo": echo}).register()
    assert agent.heartbeat_ms == 200
    stop = threading.Event()
    thread = threading.Thread(target=lambda: [agent.iterate(0.05) for _ in iter(stop.is_set, True)])
    thread.start()
    try:
        bus = autofab.Bus(broker=BROKER, source="pycaller")
        names = [a.name for a in bus.list()]
        assert "pyagent" in names, names
        result = bus.call("pyagent.echo", "go", speed=21)
        assert autofab.param_dict(result.results) == {"speed": 42.0, "who": "pycaller"}
        try:
            bus.call("pyagent.echo", "go")
            raise AssertionError("a refusal did not raise")
        except autofab.AutofabError as e:
            assert e.status == 400 and "speed is required" in str(e), e
        try:
            bus.call("nosuch.service", "go")
            raise AssertionError("an unknown service did not raise")
        except autofab.AutofabError as e:
            assert e.status == 404, e
        print("ok agent_and_call")
        bus.close()
    finally:
        stop.set()
        thread.join()
        agent.close()


def check_snapshot_then_live():
    pub = autofab.Bus(broker=BROKER, source="py-snap").wait_ready()
    for i in range(5):
        pub.publish_metrics("tel.pyf.c2.snap.a", i=i)
        pub.publish_metrics("tel.pyf.c2.snap.b", i=i)
    # The cache holds them once relayed: ask until both are there.
    deadline = time.monotonic() + 5
    while True:
        bus = autofab.Bus(broker=BROKER, source="py-late")
        items = dict(bus.snapshot("tel.pyf.c2"))
        if len(items) == 2 and all(autofab.values(e)["i"] == 4 for e in items.values()):
            break
        bus.close()
        assert time.monotonic() < deadline, items
    # Then live, with nothing repeated or missed.
    for i in range(5, 8):
        pub.publish_metrics("tel.pyf.c2.snap.a", i=i)
    seen = []
    while len(seen) < 3:
        msg = bus.recv(timeout_s=5)
        assert msg is not None, seen
        if msg.topic == "tel.pyf.c2.snap.a":
            seen.append(autofab.values(msg.envelope)["i"])
            assert msg.gap == 0
    assert seen == [5, 6, 7], seen
    # Whole segments: tel.pyf.c finds nothing under tel.pyf.c2.
    other = autofab.Bus(broker=BROKER, source="py-seg")
    assert other.snapshot("tel.pyf.c") == []
    print("ok snapshot_then_live")
    for b in (bus, pub, other):
        b.close()


def check_no_broker():
    bus = autofab.Bus(broker="tcp://127.0.0.1:1", source="py-none")
    try:
        bus.list(timeout_s=0.3)
        raise AssertionError("no broker, yet an answer")
    except TimeoutError as e:
        assert "tcp://127.0.0.1:1" in str(e), e
    print("ok no_broker")
    bus.close()


for check in (check_no_broker, check_publish_subscribe_batches_and_gaps, check_agent_and_call,
              check_snapshot_then_live):
    check()
print("all ok")
