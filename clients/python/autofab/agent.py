"""An agent: registers, heartbeats, and answers the services it offers.

    def set_rate(command, envelope):           # a service handler
        rate = autofab.param_dict(command.params)["rate_hz"]
        if rate <= 0:
            raise autofab.Refuse(400, "rate_hz must be > 0")
        return {"rate_hz": rate}               # the CommandResult's results

    agent = autofab.Agent("press9", kind="demo", cell="cell1",
                          services={"press9": set_rate})
    agent.run()                                # or agent.iterate(0.1) in your loop

What the protocol leaves to the implementer, as the broker does it:
- the heartbeat interval is the agent's Register.heartbeat_ms when it lies in
  10 ms .. 600 s, else the broker's own; Registered.heartbeat_ms is the one
  the broker keeps, and the one this class uses;
- names and cells are one topic segment of at most 64 bytes; an empty cell is
  published as "none" in presence topics; Register.factory is not used (the
  broker's --factory is);
- a handler that refuses sets CommandResult.status (and the broker copies it
  to Reply.status through WorkerReply.status): raise Refuse(status, text).
"""
import time

import zmq

from .bus import CONTROL_TAG, Bus, Stamper, param_dict, params  # noqa: F401
from ._proto import ctl, pb

__all__ = ["Agent", "Refuse", "param_dict"]


class Refuse(Exception):
    """Raised by a handler to refuse a command with STATUS (400 …)."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status, self.text = status, text


class Agent:
    def __init__(self, name, kind="python", cell="", version="0.1.0", services=None,
                 capabilities=(), heartbeat_ms=1000, broker=None, factory="factory"):
        self.bus = Bus(broker=broker, source=name, factory=factory)
        self.name, self.kind, self.cell, self.version = name, kind, cell, version
        self.services = dict(services or {})
        self.capabilities = list(capabilities)
        self.heartbeat_ms = heartbeat_ms
        self.registered = False
        self._replies = Stamper(name, factory)   # replies have their own sequence
        self._last_sent = self._last_heard = 0.0
        self.handled = 0

    def _send(self, msg, body=None):
        self.bus._send_control(msg, body)
        self._last_sent = time.monotonic()

    def register(self, timeout_s=3.0):
        """Registers and waits for Registered; raises on refusal or timeout."""
        reg = ctl.Register(name=self.name, kind=self.kind, cell=self.cell, version=self.version,
                           capabilities=self.capabilities, services=list(self.services),
                           heartbeat_ms=self.heartbeat_ms, factory=self.bus.factory)
        self._send(ctl.Control(register=reg))
        msg, _ = self.bus._recv_control(
            lambda m: m.WhichOneof("msg") in ("registered", "error"), timeout_s)
        if msg.WhichOneof("msg") == "error":
            raise RuntimeError("registration refused: %s (%d)" % (msg.error.text, msg.error.status))
        self.heartbeat_ms = msg.registered.heartbeat_ms or self.heartbeat_ms
        self.registered = True
        self._last_heard = time.monotonic()
        return self

    def iterate(self, timeout_s=0.1):
        """Serves requests and heartbeats for up to TIMEOUT_S."""
        if not self.registered:
            self.register()
        sock = self.bus._control()
        deadline = time.monotonic() + timeout_s
        while True:
            now = time.monotonic()
            if now - self._last_sent >= self.heartbeat_ms / 1000.0:
                self._send(ctl.Control(heartbeat=ctl.Heartbeat()))
            if now - self._last_heard > 3 * self.heartbeat_ms / 1000.0:
                self.registered = False       # the broker is silent: register again
                return
            left = min(deadline - now, self.heartbeat_ms / 4000.0)
            if left <= 0 and now >= deadline:
                return
            if sock.poll(max(1, int(left * 1000))):
                self._on_control(sock.recv_multipart())

    def run(self):
        """Serves until interrupted (Ctrl-C), then says goodbye."""
        try:
            while True:
                self.iterate(1.0)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def close(self):
        if self.registered:
            self._send(ctl.Control(goodbye=ctl.Goodbye()))
            self.registered = False
        self.bus.close()

    def _on_control(self, frames):
        if len(frames) < 2 or frames[0] != CONTROL_TAG:
            return
        try:
            msg = ctl.Control.FromString(frames[1])
        except Exception:
            return
        self._last_heard = time.monotonic()
        kind = msg.WhichOneof("msg")
        if kind == "deliver":
            self._on_deliver(msg.deliver, frames[2] if len(frames) > 2 else b"")
        elif kind == "error" and msg.error.status == ctl.STATUS_NOT_REGISTERED:
            self.registered = False           # the broker restarted: register again

    def _on_deliver(self, deliver, body):
        status, error, results, request = 0, "", {}, None
        try:
            request = pb.Envelope.FromString(body)
            handler = self.services.get(deliver.service)
            if handler is None:
                raise Refuse(ctl.STATUS_NOT_FOUND, "this agent does not offer %r" % deliver.service)
            results = handler(request.command, request) or {}
        except Refuse as refusal:
            status, error = refusal.status, refusal.text
        except Exception as exc:               # a handler bug is an answer, not a crash
            status, error = ctl.STATUS_INTERNAL, "%s: %s" % (type(exc).__name__, exc)
        command_id = request.header.msg_id if request is not None else b""
        reply = pb.Envelope(result=pb.CommandResult(command_id=command_id, status=status,
                                                    error=error, results=params(results)))
        self._replies.stamp(reply, "")
        self._send(ctl.Control(worker_reply=ctl.WorkerReply(token=deliver.token, status=status,
                                                            error=error)),
                   reply.SerializeToString())
        self.handled += 1
