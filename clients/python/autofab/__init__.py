"""autofab — a Python client of an autofab factory bus.

    import autofab
    bus = autofab.Bus()                          # $AUTOFAB_BROKER or tcp://127.0.0.1:5550
    bus.subscribe("tel.*.cell1.>")
    for msg in bus:                              # Message(topic, envelope, gap, rx_ns)
        print(msg.topic, autofab.values(msg.envelope))

Needs Debian's python3-zmq and python3-protobuf, and the protobuf modules
generated from proto/ by `make` (build/python/).  See clients/python/README.md.
"""
from ._proto import ctl, pb
from .agent import Agent, Refuse
from .bus import (AutofabError, Bus, Message, metrics, param_dict, params,  # noqa: F401
                  status_name)
from . import topics  # noqa: F401

__version__ = "0.1.0"


def values(envelope):
    """{name: value} of a Telemetry's metrics or an Event's values; {} else."""
    kind = envelope.WhichOneof("payload")
    if kind == "telemetry":
        return {m.name: m.value for m in envelope.telemetry.metrics}
    if kind == "event":
        return {m.name: m.value for m in envelope.event.values}
    return {}


__all__ = ["Agent", "AutofabError", "Bus", "Message", "Refuse", "ctl", "metrics", "param_dict",
           "params", "pb", "status_name", "topics", "values"]
