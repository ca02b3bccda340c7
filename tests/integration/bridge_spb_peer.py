#!/usr/bin/python3
"""Sparkplug B peer for tests/integration/test_bridge_sparkplug.c.

Written with python3-paho-mqtt and python3-protobuf against the bridge's
own bridge/sparkplug_b.proto (compiled here with protoc), so the bridge is
checked by a second, independent implementation of the payload.

  bridge_spb_peer.py observe PROTO_DIR WORK_DIR PORT
      Watches spBv1.0/# and writes one JSON line per message to
      WORK_DIR/observed.jsonl.  When WORK_DIR/rebirth appears it sends
      NCMD Node Control/Rebirth to the edge node named in that file (once).
      Stops when WORK_DIR/stop appears.
  bridge_spb_peer.py edge PROTO_DIR WORK_DIR PORT HOST_ID
      A scripted edge node g1/e1 with device d1: waits for the host's STATE,
      births, data, a malformed payload, a wrong type and a seq gap, then
      answers the host's rebirth request.  Writes WORK_DIR/edge.log; exits 0
      once the rebirth it asked for was honoured, 3 if it never came.
  bridge_spb_peer.py check PROTO_DIR WORK_DIR GROUP NODE DEVICE
      Checks observed.jsonl against the specification's rules for births,
      deaths, aliases and seq/bdSeq; prints OK or the first violation.
Exit 77: a module is missing (the test skips).
"""
import json
import os
import subprocess
import sys
import time

try:
    import paho.mqtt.client as mqtt
except ImportError:
    sys.exit(77)

mode, proto_dir, work = sys.argv[1], sys.argv[2], sys.argv[3]
port = int(sys.argv[4]) if mode != "check" else 0
gen = os.path.join(work, "gen-" + mode)
os.makedirs(gen, exist_ok=True)
subprocess.check_call(["protoc", "--python_out=" + gen, "-I" + proto_dir,
                       os.path.join(proto_dir, "sparkplug_b.proto")])
sys.path.insert(0, gen)
try:
    import sparkplug_b_pb2 as spb
except ImportError:
    sys.exit(77)

DOUBLE, FLOAT, INT32, STRING, BOOLEAN, UINT64 = 10, 9, 3, 12, 11, 8


def now_ms():
    return int(time.time() * 1000)


def metric_json(m):
    kind = m.WhichOneof("value")
    out = {"name": m.name if m.HasField("name") else None,
           "alias": m.alias if m.HasField("alias") else None,
           "datatype": m.datatype if m.HasField("datatype") else None,
           "value": getattr(m, kind) if kind else None}
    if m.HasField("properties"):
        for k, v in zip(m.properties.keys, m.properties.values):
            if k == "engUnit":
                out["unit"] = v.string_value
    return out


def observe():
    log = open(os.path.join(work, "observed.jsonl"), "w", buffering=1)
    client = mqtt.Client(client_id="observer", clean_session=True)

    def on_message(c, u, msg):
        entry = {"topic": msg.topic, "t_ms": now_ms(), "retain": bool(msg.retain)}
        parts = msg.topic.split("/")
        entry["type"] = parts[2] if len(parts) > 2 and parts[1] != "STATE" else "STATE"
        if entry["type"] == "STATE":
            entry["state"] = msg.payload.decode(errors="replace")
        else:
            p = spb.Payload()
            try:
                p.ParseFromString(msg.payload)
                entry["seq"] = p.seq if p.HasField("seq") else None
                entry["metrics"] = [metric_json(m) for m in p.metrics]
            except Exception as e:  # the test looks for this
                entry["error"] = str(e)
        log.write(json.dumps(entry) + "\n")

    client.on_message = on_message
    client.connect("127.0.0.1", port, 30)
    client.subscribe("spBv1.0/#", 1)
    client.loop_start()
    open(os.path.join(work, "observer.ready"), "w").close()
    asked = False
    while not os.path.exists(os.path.join(work, "stop")):
        path = os.path.join(work, "rebirth")
        if not asked and os.path.exists(path):
            time.sleep(0.05)
            group, node = open(path).read().split()
            p = spb.Payload()
            p.timestamp = now_ms()
            m = p.metrics.add()
            m.name, m.datatype, m.boolean_value = "Node Control/Rebirth", BOOLEAN, True
            client.publish("spBv1.0/%s/NCMD/%s" % (group, node), p.SerializeToString(), 1)
            asked = True
        time.sleep(0.02)
    client.loop_stop()
    client.disconnect()


def edge(host_id):
    log = open(os.path.join(work, "edge.log"), "w", buffering=1)
    state = {"online": False, "rebirths": 0, "seq": 0}
    client = mqtt.Client(client_id="edge-e1", clean_session=True)
    death = spb.Payload()
    death.timestamp = now_ms()
    m = death.metrics.add()
    m.name, m.datatype, m.long_value = "bdSeq", UINT64, 0
    client.will_set("spBv1.0/g1/NDEATH/e1", death.SerializeToString(), 1, False)

    def send(kind, p, device=True):
        p.timestamp = now_ms()
        if kind != "NBIRTH":
            state["seq"] = (state["seq"] + 1) % 256
        else:
            state["seq"] = 0
        p.seq = state["seq"]
        topic = "spBv1.0/g1/%s/e1%s" % (kind, "/d1" if device else "")
        client.publish(topic, p.SerializeToString(), 0)
        log.write("sent %s seq %d\n" % (kind, p.seq))

    def births(temp):
        p = spb.Payload()
        m = p.metrics.add()
        m.name, m.datatype, m.long_value = "bdSeq", UINT64, 0
        m = p.metrics.add()
        m.name, m.datatype, m.boolean_value = "Node Control/Rebirth", BOOLEAN, False
        m = p.metrics.add()
        m.name, m.alias, m.datatype, m.double_value = "uptime_s", 10, DOUBLE, 12.0
        send("NBIRTH", p, device=False)
        p = spb.Payload()
        m = p.metrics.add()
        m.name, m.alias, m.datatype, m.float_value = "temp", 1, FLOAT, temp
        m.properties.keys.append("engUnit")
        v = m.properties.values.add()
        v.type, v.string_value = STRING, "degC"
        m = p.metrics.add()
        m.name, m.alias, m.datatype, m.int_value = "count", 2, INT32, 3
        m = p.metrics.add()
        m.name, m.alias, m.datatype, m.string_value = "label", 3, STRING, "a"
        send("DBIRTH", p)

    def on_message(c, u, msg):
        if msg.topic == "spBv1.0/STATE/" + host_id:
            try:
                state["online"] = json.loads(msg.payload.decode()).get("online") is True
            except ValueError:
                pass
            log.write("STATE %s\n" % msg.payload.decode(errors="replace"))
        elif msg.topic == "spBv1.0/g1/NCMD/e1":
            p = spb.Payload()
            p.ParseFromString(msg.payload)
            if any(m.name == "Node Control/Rebirth" and m.boolean_value for m in p.metrics):
                state["rebirths"] += 1
                log.write("rebirth requested\n")

    client.on_message = on_message
    client.connect("127.0.0.1", port, 30)
    client.subscribe([("spBv1.0/STATE/" + host_id, 1), ("spBv1.0/g1/NCMD/e1", 1)])
    client.loop_start()
    deadline = time.time() + 10
    while not state["online"] and time.time() < deadline:
        time.sleep(0.02)
    if not state["online"]:
        log.write("host never online\n")
        sys.exit(4)
    births(20.5)
    time.sleep(0.2)
    p = spb.Payload()
    m = p.metrics.add()
    m.alias, m.float_value = 1, 21.5          # by alias only, as the spec says
    m = p.metrics.add()
    m.alias, m.int_value = 2, (-7) & 0xFFFFFFFF
    send("DDATA", p)
    time.sleep(0.2)
    p = spb.Payload()
    m = p.metrics.add()
    m.alias, m.string_value = 2, "not a number"   # wrong type for an Int32
    m = p.metrics.add()
    m.alias, m.float_value = 1, 22.5
    send("DDATA", p)
    time.sleep(0.2)
    client.publish("spBv1.0/g1/DDATA/e1/d1", b"\x12\x05\x0a", 0)   # malformed
    client.publish("spBv1.0/g1/BOGUS/e1", b"\x08\x01", 0)          # not a Sparkplug topic
    time.sleep(0.2)
    state["seq"] = (state["seq"] + 3) % 256                         # a gap of 3
    p = spb.Payload()
    m = p.metrics.add()
    m.alias, m.float_value = 1, 99.0                                # must be ignored
    send("DDATA", p)
    deadline = time.time() + 10
    while state["rebirths"] == 0 and time.time() < deadline:
        time.sleep(0.02)
    if state["rebirths"] == 0:
        log.write("no rebirth request\n")
        sys.exit(3)
    births(30.0)
    time.sleep(0.2)
    p = spb.Payload()
    m = p.metrics.add()
    m.alias, m.float_value = 1, 31.5
    send("DDATA", p)
    time.sleep(0.5)
    client.loop_stop()
    client.disconnect()


def check(group, node, device):
    msgs = [json.loads(line) for line in open(os.path.join(work, "observed.jsonl"))]
    # The observer's own rebirth request is on the wire too.
    msgs = [m for m in msgs if m["type"] not in ("STATE", "NCMD", "DCMD")]

    def fail(why, i=None):
        print("FAIL: %s%s" % (why, "" if i is None else " (message %d: %s)" % (i, json.dumps(msgs[i]))))
        sys.exit(1)

    def metric(m, name):
        return next((x for x in m["metrics"] if x["name"] == name), None)

    if not msgs or msgs[0]["type"] != "NBIRTH":
        fail("the first message is not an NBIRTH")
    bd = metric(msgs[0], "bdSeq")
    if not bd or bd["datatype"] != UINT64:
        fail("NBIRTH without a UInt64 bdSeq", 0)
    rb = metric(msgs[0], "Node Control/Rebirth")
    if not rb or rb["value"] is not False or rb["datatype"] != BOOLEAN:
        fail("NBIRTH without Node Control/Rebirth = false", 0)
    seq, aliases, births, counts = None, {}, 0, {}
    for i, m in enumerate(msgs):
        t = m["type"]
        counts[t] = counts.get(t, 0) + 1
        want = "spBv1.0/%s/%s/%s" % (group, t, node) + ("/" + device if t[0] == "D" else "")
        if m["topic"] != want:
            fail("topic %s, expected %s" % (m["topic"], want), i)
        if t == "NDEATH":
            if m.get("seq") is not None:
                fail("NDEATH carries a seq", i)
            d = metric(m, "bdSeq")
            if not d or d["value"] != bd["value"]:
                fail("NDEATH bdSeq differs from the NBIRTH's", i)
            continue
        if t == "NBIRTH":
            if m["seq"] != 0:
                fail("NBIRTH seq is not 0", i)
            if metric(m, "bdSeq")["value"] != bd["value"]:
                fail("a rebirth changed bdSeq within one session", i)
            births += 1
        elif seq is None or m["seq"] != (seq + 1) % 256:
            fail("seq %s after %s" % (m["seq"], seq), i)
        seq = m["seq"]
        if t == "DBIRTH":
            aliases = {}
            for x in m["metrics"]:
                if x["name"] is None or x["alias"] is None or x["datatype"] != DOUBLE:
                    fail("DBIRTH metric without name, alias or Double type", i)
                aliases[x["alias"]] = x
            if "station/s1/state" not in [x["name"] for x in m["metrics"]]:
                fail("DBIRTH lacks station/s1/state", i)
            temp = [x for x in m["metrics"] if x["name"] == "station/s1/temp_c"]
            if not temp or temp[0].get("unit") != "degC":
                fail("DBIRTH lacks station/s1/temp_c with engUnit degC", i)
        if t == "DDATA":
            if not aliases:
                fail("DDATA before any DBIRTH", i)
            for x in m["metrics"]:
                if x["name"] is not None or x["alias"] not in aliases:
                    fail("DDATA metric not by a born alias", i)
    for t, n in (("NBIRTH", 2), ("DBIRTH", 2), ("DDATA", 2), ("DDEATH", 1), ("NDEATH", 1)):
        if counts.get(t, 0) < n:
            fail("%d %s seen, expected at least %d" % (counts.get(t, 0), t, n))
    if msgs[-1]["type"] != "NDEATH":
        fail("the last message is not the NDEATH", len(msgs) - 1)
    print("OK: %s" % json.dumps(counts))


if mode == "check":
    check(sys.argv[4], sys.argv[5], sys.argv[6])
elif mode == "observe":
    observe()
elif mode == "edge":
    edge(sys.argv[5])
else:
    sys.exit(2)
