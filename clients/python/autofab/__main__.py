"""python3 -m autofab sub PATTERN [--count N] [--json] [--timeout S] [--snapshot]

A small command line over the client, for a quick look from Python's side:
one line per message (topic, source#seq, values), or one JSON object.
Exits 1 with one line when the broker does not answer, 2 on bad usage.
"""
import argparse
import json
import sys

from google.protobuf import json_format

from . import Bus, topics, values


def _sub(args):
    bus = Bus(broker=args.broker, source="py-sub")
    try:
        bus.list(timeout_s=2.0)           # the broker first: never wait in silence
    except TimeoutError as exc:
        print("autofab sub: cannot reach the broker: %s" % exc, file=sys.stderr)
        return 1
    if args.snapshot:
        prefix = topics.literal_prefix(args.pattern).rstrip(".")
        items = bus.snapshot(prefix)
        shown = [(t, e) for t, e in items if topics.match(args.pattern, t)]
    else:
        shown = []
    bus.subscribe(args.pattern)
    count = 0

    def show(topic, env, gap):
        if args.json:
            obj = {"topic": topic, "gap": gap}
            obj.update(json_format.MessageToDict(env, preserving_proto_field_name=True,
                                                 including_default_value_fields=True))
            print(json.dumps(obj), flush=True)
        else:
            h = env.header
            body = values(env) or env.WhichOneof("payload")
            print("%s %s#%d %s%s" % (topic, h.source, h.seq, body,
                                     " (gap %d)" % gap if gap else ""), flush=True)

    for topic, env in shown:
        if args.count and count >= args.count:
            break
        show(topic, env, 0)
        count += 1
    while not args.count or count < args.count:
        msg = bus.recv(timeout_s=args.timeout)
        if msg is None:
            break
        show(msg.topic, msg.envelope, msg.gap)
        count += 1
    bus.close()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m autofab",
                                     description="autofab bus client (Python)")
    parser.add_argument("--broker", help="control endpoint (else $AUTOFAB_BROKER)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sub", help="print messages matching a pattern")
    p.add_argument("pattern")
    p.add_argument("-n", "--count", type=int, default=0, help="exit after N messages")
    p.add_argument("-t", "--timeout", type=float, default=None, help="exit after S seconds of silence")
    p.add_argument("-j", "--json", action="store_true", help="one JSON object per line")
    p.add_argument("-s", "--snapshot", action="store_true", help="cached values first")
    args = parser.parse_args(argv)
    if not topics.valid_pattern(args.pattern):
        parser.error("%r is not a valid topic pattern" % args.pattern)
    try:
        return _sub(args)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
