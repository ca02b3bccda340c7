"""A client of one factory's broker: publish, subscribe, call, snapshot.

The wire protocol is proto/README.md; this is the Python twin of
common/af_bus.c, written from that page and the .proto files.  Not
thread-safe: one Bus per thread (as ZeroMQ sockets are).
"""
import itertools
import os
import random
import struct
import time
from collections import deque, namedtuple

import zmq

from . import topics
from ._proto import ctl, pb

DEFAULT_BROKER = "tcp://127.0.0.1:5550"
CONTROL_TAG = b"AFC1"
SCHEMA_CURRENT = 1
BATCH_MAGIC = b"\xfa\x7f"        # field 2047, length-delimited: a Batch
MAX_MSG_BYTES = 1 << 20


class AutofabError(Exception):
    """A failed request: STATUS is an autofab.Status value (404, 504 …)."""

    def __init__(self, status, text):
        super().__init__("%s (%d %s)" % (text, status, status_name(status)))
        self.status = status
        self.text = text


def status_name(status):
    try:
        return ctl.Status.Name(status).replace("STATUS_", "").lower().replace("_", " ")
    except ValueError:
        return "status %d" % status


# What recv returns: topic, the decoded Envelope, messages missed from this
# stream (source and topic) just before it, and the receive time (wall, ns).
Message = namedtuple("Message", "topic envelope gap rx_ns")


def endpoint_offset(control, offset):
    """tcp://host:port -> tcp://host:(port + OFFSET)."""
    head, _, port = control.rpartition(":")
    if not head.startswith("tcp://") or not port.isdigit():
        raise ValueError("broker endpoint %r must look like tcp://HOST:PORT" % control)
    return "%s:%d" % (head, int(port) + offset)


def metrics(**values):
    """Metric list from keywords: metrics(temp_c=71.5, rpm=(1200, "rpm"))."""
    out = []
    for name, value in values.items():
        unit = ""
        if isinstance(value, tuple):
            value, unit = value
        out.append(pb.Metric(name=name, value=float(value), unit=unit))
    return out


def params(values):
    """Param list from a dict: numbers -> num, bools -> flag, else text."""
    out = []
    for name, value in (values or {}).items():
        if isinstance(value, bool):
            out.append(pb.Param(name=name, flag=value))
        elif isinstance(value, (int, float)):
            out.append(pb.Param(name=name, num=float(value)))
        else:
            out.append(pb.Param(name=name, text=str(value)))
    return out


def param_dict(plist):
    """The inverse of params(): {name: value} from repeated Param."""
    return {p.name: getattr(p, p.WhichOneof("value")) if p.WhichOneof("value") else None
            for p in plist}


class Stamper:
    """Headers for one sender: msg_id = t_ns (8) | session (4) | counter (4),
    big-endian; seq counts per topic (requests use their own counter)."""

    def __init__(self, source, factory):
        self.source, self.factory = source, factory
        self.session = random.getrandbits(32) or 1
        self._counter = itertools.count(1)
        self._seq = {}

    def stamp(self, env, topic):
        seq = self._seq.get(topic, 0) + 1
        self._seq[topic] = seq
        t_ns = time.time_ns()
        env.header.CopyFrom(pb.Header(
            msg_id=struct.pack(">QII", t_ns, self.session, next(self._counter) & 0xFFFFFFFF),
            source=self.source, seq=seq, t_ns=t_ns, factory=self.factory,
            schema=SCHEMA_CURRENT, session=self.session))
        return env


class Bus:
    """One connection to a broker.

    broker:  control endpoint; None: $AUTOFAB_BROKER, else tcp://127.0.0.1:5550.
    source:  the name written in headers (needed to publish or call; it need
             not be registered: publishers and callers never register).
    factory: the factory written in headers (default "factory").
    """

    def __init__(self, broker=None, source=None, factory="factory", context=None):
        self.broker = broker or os.environ.get("AUTOFAB_BROKER") or DEFAULT_BROKER
        self.ingress = endpoint_offset(self.broker, 1)
        self.egress = endpoint_offset(self.broker, 2)
        self.source = source or "py-%d" % os.getpid()
        self.factory = factory
        self.ctx = context or zmq.Context.instance()
        self._stamper = Stamper(self.source, factory)
        self._req_stamper = Stamper(self.source, factory)
        self._dealer = self._pub = self._sub = None
        self._pending = deque()          # decoded, not yet returned by recv
        self._patterns = []
        self._streams = {}               # (source, topic) -> (session, seq)
        self._request_ids = itertools.count(random.getrandbits(32))
        self.counters = dict(received=0, refused=0, gaps=0, stale=0, published=0, batches=0)

    # ------------------------------------------------------------ sockets
    def _control(self):
        if self._dealer is None:
            self._dealer = self.ctx.socket(zmq.DEALER)
            self._dealer.setsockopt(zmq.LINGER, 0)
            self._dealer.setsockopt(zmq.MAXMSGSIZE, 2 * MAX_MSG_BYTES)
            self._dealer.connect(self.broker)
        return self._dealer

    def close(self):
        for sock in (self._dealer, self._pub, self._sub):
            if sock is not None:
                sock.close()
        self._dealer = self._pub = self._sub = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send_control(self, msg, body=None):
        frames = [CONTROL_TAG, msg.SerializeToString()]
        if body is not None:
            frames.append(body)
        self._control().send_multipart(frames)

    def _recv_control(self, want, timeout_s):
        """The next Control whose oneof is WANT and that WANT-filter accepts
        (a callable, or None), with its body; raises TimeoutError."""
        deadline = time.monotonic() + timeout_s
        sock = self._control()
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sock.poll(int(left * 1000) + 1):
                raise TimeoutError("no answer from the broker at %s within %.1f s"
                                   % (self.broker, timeout_s))
            frames = sock.recv_multipart()
            if len(frames) < 2 or frames[0] != CONTROL_TAG:
                continue
            try:
                msg = ctl.Control.FromString(frames[1])
            except Exception:
                continue
            if want(msg):
                return msg, frames[2] if len(frames) > 2 else None

    # ---------------------------------------------------------- publishing
    def wait_ready(self, timeout_s=3.0):
        """Connects the publisher and waits until the broker subscribed to
        it, so nothing published afterwards is dropped by ZeroMQ."""
        if self._pub is None:
            self._pub = self.ctx.socket(zmq.XPUB)
            self._pub.setsockopt(zmq.LINGER, 1000)
            self._pub.connect(self.ingress)
            if not self._pub.poll(int(timeout_s * 1000)):
                raise TimeoutError("the broker's ingress %s did not subscribe within %.1f s"
                                   % (self.ingress, timeout_s))
            self._pub.recv()             # the broker's b"\x01" (everything)
        return self

    def publish(self, topic, envelope=None, **payload):
        """Stamps and publishes ENVELOPE (or one built from PAYLOAD, e.g.
        telemetry=pb.Telemetry(...), alarm=pb.Alarm(...)) on TOPIC."""
        if not topics.valid_topic(topic):
            raise ValueError("%r is not a valid topic" % topic)
        env = envelope if envelope is not None else pb.Envelope(**payload)
        self.wait_ready()
        self._stamper.stamp(env, topic)
        self._pub.send_multipart([topic.encode(), env.SerializeToString()])
        self.counters["published"] += 1

    def publish_metrics(self, topic, **values):
        """publish_metrics("tel.f.c.me.state", temp_c=(21.5, "degC"), rpm=1200)"""
        self.publish(topic, telemetry=pb.Telemetry(metrics=metrics(**values)))

    # --------------------------------------------------------- subscribing
    def subscribe(self, pattern):
        if not topics.valid_pattern(pattern):
            raise ValueError("%r is not a valid topic pattern" % pattern)
        if self._sub is None:
            self._sub = self.ctx.socket(zmq.SUB)
            self._sub.setsockopt(zmq.LINGER, 0)
            self._sub.setsockopt(zmq.MAXMSGSIZE, 2 * MAX_MSG_BYTES)
            self._sub.setsockopt(zmq.RCVHWM, 100000)
            self._sub.connect(self.egress)
        self._sub.setsockopt(zmq.SUBSCRIBE, topics.literal_prefix(pattern).encode())
        self._patterns.append(pattern)

    def _wanted(self, topic):
        return any(topics.match(p, topic) for p in self._patterns)

    def _decode(self, topic, body, rx_ns):
        """Frames -> Messages (a Batch is split), refusing what is not a
        valid envelope, with gap and duplicate checks per stream."""
        bodies = [body]
        if body[:2] == BATCH_MAGIC:
            self.counters["batches"] += 1
            try:
                bodies = list(pb.Batch.FromString(body).envelope)
            except Exception:
                self.counters["refused"] += 1
                return []
        out = []
        for raw in bodies:
            try:
                env = pb.Envelope.FromString(raw)
            except Exception:
                self.counters["refused"] += 1
                continue
            h = env.header
            if not env.HasField("header") or not h.source or h.schema > SCHEMA_CURRENT:
                self.counters["refused"] += 1
                continue
            gap = self._note(h.source, topic, h.session, h.seq)
            if gap is None:
                continue
            out.append(Message(topic, env, gap, rx_ns))
        return out

    def _note(self, source, topic, session, seq):
        """Missed messages before SEQ, or None for a duplicate / stale one."""
        key = (source, topic)
        last = self._streams.get(key)
        self._streams[key] = (session, seq) if not last or last[0] != session or seq > last[1] \
            else last
        if last is None or last[0] != session:
            return 0
        if seq <= last[1]:
            self.counters["stale"] += 1
            return None
        gap = seq - last[1] - 1
        self.counters["gaps"] += gap
        return gap

    def recv(self, timeout_s=None):
        """The next matching message (a Message), or None after TIMEOUT_S
        (None: wait forever).  Batches arrive as their envelopes, in order."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            if self._pending:
                return self._pending.popleft()
            if self._sub is None:
                raise RuntimeError("subscribe first")
            left = None if deadline is None else max(0, deadline - time.monotonic())
            if left is not None and left <= 0 and not self._sub.poll(0):
                return None
            if not self._sub.poll(None if left is None else int(left * 1000) + 1):
                return None
            frames = self._sub.recv_multipart()
            if len(frames) != 2:
                self.counters["refused"] += 1
                continue
            topic = frames[0].decode("utf-8", "replace")
            if not topics.valid_topic(topic) or not self._wanted(topic):
                continue
            msgs = self._decode(topic, frames[1], time.time_ns())
            self.counters["received"] += len(msgs)
            self._pending.extend(msgs)

    def __iter__(self):
        while True:
            msg = self.recv()
            if msg is not None:
                yield msg

    # ------------------------------------------------------------ requests
    def call(self, service, action, params_=None, timeout_s=3.0, **kw):
        """Sends a Command to SERVICE and returns its CommandResult.  Raises
        AutofabError when the broker or the worker refuses (the worker's
        status is CommandResult.status; the broker's Reply.status), and
        TimeoutError when the broker does not answer."""
        values = dict(params_ or {}, **kw)
        env = pb.Envelope(command=pb.Command(action=action, params=params(values)))
        self._req_stamper.stamp(env, "")
        request_id = next(self._request_ids)
        req = ctl.Control(request=ctl.Request(service=service, request_id=request_id,
                                              timeout_ms=int(timeout_s * 1000)))
        self._send_control(req, env.SerializeToString())
        msg, body = self._recv_control(
            lambda m: m.WhichOneof("msg") == "reply" and m.reply.request_id == request_id
            or m.WhichOneof("msg") == "error", timeout_s + 1.0)
        if msg.WhichOneof("msg") == "error":
            raise AutofabError(msg.error.status, msg.error.text or "refused by the broker")
        if msg.reply.status != 0 and not body:
            raise AutofabError(msg.reply.status, msg.reply.error or "request failed")
        result = pb.Envelope.FromString(body).result if body else pb.CommandResult()
        if result.status != 0:
            raise AutofabError(result.status, result.error or "refused by the worker")
        return result

    def list(self, timeout_s=2.0):
        """The registered agents (AgentInfo messages)."""
        self._send_control(ctl.Control(list_request=ctl.ListRequest()))
        msg, _ = self._recv_control(lambda m: m.WhichOneof("msg") == "list_reply", timeout_s)
        return list(msg.list_reply.agents)

    def stats(self, timeout_s=2.0):
        """The broker's counters as a dict."""
        self._send_control(ctl.Control(stats_request=ctl.StatsRequest()))
        msg, _ = self._recv_control(lambda m: m.WhichOneof("msg") == "stats_reply", timeout_s)
        return {c.name: c.value for c in msg.stats_reply.counters}

    # ----------------------------------------------------------- snapshots
    def snapshot(self, prefix, timeout_s=3.0):
        """Late joiner (Clone pattern): subscribes to PREFIX (whole
        segments), returns [(topic, Envelope)] of the newest cached message
        of every topic under it, and arranges for recv() to continue right
        after the snapshot, with nothing missed or repeated."""
        self.subscribe(prefix if prefix else ">")
        marker = "sys.%s.snapshot.%s-%08x.marker" % (
            self.factory, self.source.replace(".", "-"), random.getrandbits(32))
        self._sub.setsockopt(zmq.SUBSCRIBE, marker.encode())
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                request_id = next(self._request_ids)
                self._send_control(ctl.Control(snapshot_request=ctl.SnapshotRequest(
                    prefix=prefix, request_id=request_id, marker_topic=marker)))
                items = []
                while True:
                    msg, body = self._recv_control(
                        lambda m: m.WhichOneof("msg") in ("snapshot_item", "snapshot_end", "error"),
                        max(0.001, deadline - time.monotonic()))
                    kind = msg.WhichOneof("msg")
                    if kind == "error":
                        raise AutofabError(msg.error.status, msg.error.text or "snapshot refused")
                    if getattr(msg, kind).request_id != request_id:
                        continue
                    if kind == "snapshot_end":
                        break
                    try:
                        items.append((msg.snapshot_item.topic, pb.Envelope.FromString(body or b"")))
                    except Exception:
                        self.counters["refused"] += 1
                if self._skip_to_marker(marker, prefix, min(1.0, deadline - time.monotonic())):
                    for topic, env in items:
                        h = env.header
                        last = self._streams.get((h.source, topic))
                        if not last or last[0] != h.session or last[1] < h.seq:
                            self._streams[(h.source, topic)] = (h.session, h.seq)
                    return [(t, e) for t, e in items if self._wanted(t)]
                # The marker never came: our subscription was not active yet; ask again.
            raise TimeoutError("no snapshot from the broker at %s within %.1f s"
                               % (self.broker, timeout_s))
        finally:
            self._sub.setsockopt(zmq.UNSUBSCRIBE, marker.encode())

    def _skip_to_marker(self, marker, prefix, timeout_s):
        """Reads the live stream up to the marker: what came before it under
        PREFIX is in the snapshot already (dropped); the rest is kept."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        kept = []
        found = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sub.poll(int(left * 1000) + 1):
                break
            frames = self._sub.recv_multipart()
            if len(frames) != 2:
                continue
            topic = frames[0].decode("utf-8", "replace")
            if topic == marker:
                found = True
                break
            if not topics.valid_topic(topic) or not self._wanted(topic):
                continue
            under = not prefix or topics.match(prefix, topic)
            for m in self._decode(topic, frames[1], time.time_ns()):
                if not under:
                    kept.append(m)
        self._pending.extend(kept)
        return found
