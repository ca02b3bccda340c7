"""Topic patterns, as autofab's own tools read them (proto/README.md).

A pattern is a topic, a prefix of whole segments ("tel.f1" matches
"tel.f1.c2.x" but not "tel.f10.x"), or a glob: "*" is exactly one segment,
a final ">" one or more.  ZeroMQ subscriptions are *byte* prefixes, so a
subscriber subscribes to the longest literal prefix and filters the rest.
"""
import re

_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_TOPIC_BYTES = 255


def valid_topic(topic):
    """True for a concrete topic: segments of A-Z a-z 0-9 _ -, <= 255 bytes."""
    if not topic or len(topic.encode()) > MAX_TOPIC_BYTES:
        return False
    return all(_SEGMENT.match(s) for s in topic.split("."))


def valid_pattern(pattern):
    if pattern == ">":
        return True
    if not pattern or len(pattern.encode()) > MAX_TOPIC_BYTES:
        return False
    parts = pattern.split(".")
    for i, s in enumerate(parts):
        if s == "*" or (s == ">" and i == len(parts) - 1):
            continue
        if not _SEGMENT.match(s):
            return False
    return True


def literal_prefix(pattern):
    """The bytes to give ZeroMQ: everything before the first wildcard."""
    out = []
    for s in pattern.split("."):
        if s in ("*", ">"):
            return ".".join(out) + "." if out else ""
        out.append(s)
    return ".".join(out)


def match(pattern, topic):
    """Does TOPIC match PATTERN (whole segments)?"""
    p, t = pattern.split("."), topic.split(".")
    for i, s in enumerate(p):
        if s == ">":
            return len(t) > i
        if i >= len(t):
            return False
        if s != "*" and s != t[i]:
            return False
    # Pattern done: the exact topic, or, for a pattern without wildcards,
    # anything under it.
    return len(t) == len(p) or ("*" not in p and ">" not in p)
