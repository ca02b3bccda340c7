#!/bin/bash
# bus.sh — the bus benchmark (DESIGN §2, §8): autofab's broker against raw
# libzmq, a bare zmq_proxy relay, mosquitto and nats-server.
#
# Workload: 256-byte encoded autofab Envelopes (Telemetry payload), one
# publisher process → server → one subscriber process over TCP loopback, and
# sequential request/reply round trips through the server.  Pub/sub runs
# BUS_RUNS times per system, in turns (run 1 of every system, then run 2 …),
# and the median is reported.  Requests run in BUS_ROUNDS rounds, in turns,
# with every server up, and the round trips of all rounds are pooled: a
# burst of load on this shared machine then falls on every system alike.
# The subscriber's received count is what counts: loss is (sent − received)
# / sent.
#
# Prints one table and writes $OUT/bus.json.  Run through `make bench-bus`,
# which builds bus_bench and the broker first.  Knobs (environment):
#   BUS_MSGS (2000000)  messages per pub/sub run
#   BUS_MQTT_MSGS (400000)  the same for mosquitto, about 10× slower
#   BUS_REQS (20000)    timed round trips per system, after BUS_WARMUP (2000)
#   BUS_ROUNDS (10)     rounds the round trips are split into, taken in turns
#   BUS_RUNS (3)        pub/sub runs per system; the median is reported
#   BUS_SYSTEMS ("autofab nats zmq zmq_proxy mosquitto autofab_raw")
set -euo pipefail

BIN=${BIN:-build/bin}
OUT=${OUT:-build/bench}
MSGS=${BUS_MSGS:-2000000}
MQTT_MSGS=${BUS_MQTT_MSGS:-400000}
REQS=${BUS_REQS:-20000}
WARMUP=${BUS_WARMUP:-2000}
RUNS=${BUS_RUNS:-3}
ROUNDS=${BUS_ROUNDS:-10}
SYSTEMS=${BUS_SYSTEMS:-autofab nats zmq zmq_proxy mosquitto autofab_raw}
BENCH=$BIN/bus_bench
BROKER=$BIN/autofab-broker

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bus-bench.XXXXXX")
RESULTS=$WORK/results.tsv
: > "$RESULTS"
PIDS=()

# Everything this script started is stopped on any exit, even Ctrl-C.
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bus.sh: $*" >&2; exit 1; }

[ -x "$BENCH" ] || die "$BENCH missing (make bench-bus builds it)"

# Prints a base port P such that P .. P+N-1 are free on 127.0.0.1, below the
# kernel's ephemeral range: a client retrying a connect to a port inside it
# can end up connected to itself (as af_free_port_block does in C).
free_ports() {
    python3 - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    base = random.randint(10000, low - n - 1)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
sys.exit("no free ports")
EOF
}

# Waits (at most 10 s) until something listens on 127.0.0.1:$1.
wait_port() {
    local i
    for i in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    die "nothing listens on port $1"
}

# Waits (at most 10 s) until file $1 says "ready"; fails if process $2 died.
wait_ready() {
    local i
    for i in $(seq 100); do
        grep -q '^ready$' "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || die "$(basename "$1" .out) exited early: $(cat "$1.err" 2>/dev/null)"
        sleep 0.1
    done
    die "$(basename "$1" .out) never got ready"
}

# Starts a background process (logging to $1), remembers it for cleanup.
start() {
    local log=$1
    shift
    "$@" > "$log" 2> "$log.err" &
    PIDS+=($!)
    LAST_PID=$!
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

val() { sed -n "s/^$2=//p" "$1" | head -1; }

# CPU time (clock ticks, all threads) a server has used so far; "" without one.
# On a shared machine this is steadier than wall-clock rates.
ticks() {
    [ -n "$SERVER_PID" ] && awk '{print $14 + $15}' "/proc/$SERVER_PID/stat" 2>/dev/null || true
}

# ------------------------------------------------------------- servers
# Each sets SERVER_PID, PUB_EP, SUB_EP, REQ_EP (REQ_EP empty: no request row).

server_autofab() {
    local p
    p=$(free_ports 3)
    start "$WORK/broker.log" "$BROKER" --control "tcp://127.0.0.1:$p" \
        --ingress "tcp://127.0.0.1:$((p + 1))" --egress "tcp://127.0.0.1:$((p + 2))"
    SERVER_PID=$LAST_PID
    wait_port "$p"; wait_port $((p + 1)); wait_port $((p + 2))
    PUB_EP=tcp://127.0.0.1:$p SUB_EP=tcp://127.0.0.1:$p REQ_EP=tcp://127.0.0.1:$p
    CLIENT=autofab SUB_BIND="" PUB_BIND=""
}

# Diagnostic row: the same broker with raw libzmq clients (no stamping,
# encoding or decoding), to tell the broker's own cost from the client's.
server_autofab_raw() {
    server_autofab
    PUB_EP=tcp://127.0.0.1:$(( ${PUB_EP##*:} + 1 )) SUB_EP=tcp://127.0.0.1:$(( ${SUB_EP##*:} + 2 ))
    REQ_EP="" CLIENT=zmq
}

server_nats() {
    local p
    p=$(free_ports 1)
    # Stock configuration: only the address and port are given.
    start "$WORK/nats.log" nats-server -a 127.0.0.1 -p "$p"
    SERVER_PID=$LAST_PID
    wait_port "$p"
    PUB_EP=nats://127.0.0.1:$p SUB_EP=$PUB_EP REQ_EP=$PUB_EP
    CLIENT=nats SUB_BIND="" PUB_BIND=""
}

server_mosquitto() {
    local p
    p=$(free_ports 1)
    # Stock configuration except the listener (mosquitto 2 refuses anonymous
    # clients once a listener is configured, hence allow_anonymous).
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$p" > "$WORK/mosquitto.conf"
    start "$WORK/mosquitto.log" mosquitto -c "$WORK/mosquitto.conf"
    SERVER_PID=$LAST_PID
    wait_port "$p"
    PUB_EP=mqtt://127.0.0.1:$p SUB_EP=$PUB_EP REQ_EP=$PUB_EP
    CLIENT=mqtt SUB_BIND="" PUB_BIND=""
}

# No server: the subscriber binds, the publisher connects; REQ → REP direct.
server_zmq() {
    local p
    p=$(free_ports 2)
    SERVER_PID=""
    SUB_EP=tcp://127.0.0.1:$p PUB_EP=$SUB_EP REQ_EP=tcp://127.0.0.1:$((p + 1))
    CLIENT=zmq SUB_BIND=--bind PUB_BIND=""
}

server_zmq_proxy() {
    local p
    p=$(free_ports 2)
    start "$WORK/proxy.log" "$BENCH" proxy --endpoint "tcp://127.0.0.1:$p" \
        --xpub "tcp://127.0.0.1:$((p + 1))"
    SERVER_PID=$LAST_PID
    wait_ready "$WORK/proxy.log" "$SERVER_PID"
    PUB_EP=tcp://127.0.0.1:$p SUB_EP=tcp://127.0.0.1:$((p + 1)) REQ_EP=""
    CLIENT=zmq SUB_BIND="" PUB_BIND=""
}

# ------------------------------------------------------------- measurements

run_pubsub() {
    local sys=$1 run=$2 count=$3 sub_pid t0 t1
    start "$WORK/sub.out" "$BENCH" sub --system "$CLIENT" --endpoint "$SUB_EP" \
        --count "$count" $SUB_BIND
    sub_pid=$LAST_PID
    wait_ready "$WORK/sub.out" "$sub_pid"
    t0=$(ticks)
    "$BENCH" pub --system "$CLIENT" --endpoint "$PUB_EP" --count "$count" $PUB_BIND \
        > "$WORK/pub.out" 2> "$WORK/pub.out.err" || die "$sys publisher failed: $(cat "$WORK/pub.out.err")"
    wait "$sub_pid" || die "$sys subscriber failed: $(cat "$WORK/sub.out.err")"
    t1=$(ticks)
    printf 'pubsub\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$run" "$count" \
        "$(val "$WORK/pub.out" sent)" "$(val "$WORK/sub.out" received)" \
        "$(val "$WORK/sub.out" bytes)" "$(val "$WORK/sub.out" elapsed_ns)" \
        "$(val "$WORK/pub.out" elapsed_ns)" "${t0:+$((t1 - t0))}" \
        "$(val "$WORK/pub.out" cpu_ns)" "$(val "$WORK/sub.out" cpu_ns)" >> "$RESULTS"
    echo "  $sys pub/sub run $run: received $(val "$WORK/sub.out" received) of $count"
}

# One round of requests against system $1, whose replier is already up:
# COUNT round trips after WARM warm-up ones, appended to $WORK/lat.$1.
run_req_round() {
    local sys=$1 round=$2 count=$3 warm=$4
    "$BENCH" req --system "${RQ_CLIENT[$sys]}" --endpoint "${RQ_EP[$sys]}" --count "$count" \
        --warmup "$warm" --dump "$WORK/lat.$sys" \
        > "$WORK/req.out" 2> "$WORK/req.out.err" || die "$sys requester failed: $(cat "$WORK/req.out.err")"
    RQ_FAILED[$sys]=$(( ${RQ_FAILED[$sys]:-0} + $(val "$WORK/req.out" failed) ))
    RQ_CPU[$sys]=$(( ${RQ_CPU[$sys]:-0} + $(val "$WORK/req.out" cpu_ns) ))
    RQ_SENT[$sys]=$(( ${RQ_SENT[$sys]:-0} + count + warm ))
    echo "  $sys request round $round: p50 $(val "$WORK/req.out" p50_us) µs, p99 $(val "$WORK/req.out" p99_us) µs"
}

CORES=$(nproc)
HZ=$(getconf CLK_TCK)
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
echo "bus benchmark: ${MSGS} × 256-byte messages per pub/sub run (mosquitto ${MQTT_MSGS})," \
     "${REQS} round trips after ${WARMUP} warm-up in ${ROUNDS} rounds, median of ${RUNS} pub/sub runs, ${CORES} cores"
# Pub/sub: each system's run 1, then each system's run 2, …
for run in $(seq "$RUNS"); do
    for sys in $SYSTEMS; do
        "server_$sys"
        count=$MSGS
        [ "$sys" = mosquitto ] && count=$MQTT_MSGS
        run_pubsub "$sys" "$run" "$count"
        [ -n "$SERVER_PID" ] && stop "$SERVER_PID"
    done
done
# Requests: every server and replier up at once, then rounds in turn.
declare -A RQ_EP RQ_CLIENT RQ_FAILED RQ_CPU RQ_SENT
RQ_SYSTEMS=""
for sys in $SYSTEMS; do
    "server_$sys"
    if [ -z "$REQ_EP" ]; then
        [ -n "$SERVER_PID" ] && stop "$SERVER_PID"
        continue
    fi
    start "$WORK/rep.$sys.out" "$BENCH" rep --system "$CLIENT" --endpoint "$REQ_EP"
    wait_ready "$WORK/rep.$sys.out" "$LAST_PID"
    RQ_EP[$sys]=$REQ_EP RQ_CLIENT[$sys]=$CLIENT
    RQ_SYSTEMS="$RQ_SYSTEMS $sys"
    rm -f "$WORK/lat.$sys"
done
PER_ROUND=$(( (REQS + ROUNDS - 1) / ROUNDS ))
for round in $(seq "$ROUNDS"); do
    for sys in $RQ_SYSTEMS; do
        warm=$(( WARMUP / ROUNDS ))
        [ "$round" = 1 ] && warm=$WARMUP
        run_req_round "$sys" "$round" "$PER_ROUND" "$warm"
    done
done
for sys in $RQ_SYSTEMS; do
    printf 'req\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$WORK/lat.$sys" "${RQ_FAILED[$sys]}" \
        "${RQ_CPU[$sys]}" "${RQ_SENT[$sys]}" >> "$RESULTS"
done

NATS_VERSION=$(nats-server --version 2>&1 | head -1 || true)
MOSQ_VERSION=$(mosquitto -h 2>&1 | head -1 || true)
"$BENCH" versions > "$WORK/versions"
LOAD_AFTER=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$RESULTS" "$OUT/bus.json" "$WORK/versions" "$CORES" "$RUNS" "$REQS" "$WARMUP" \
    "$NATS_VERSION" "$MOSQ_VERSION" "$HZ" "$LOAD_BEFORE" "$LOAD_AFTER" "$ROUNDS" <<'EOF'
import json, math, statistics, sys

(results, out, versions_file, cores, runs, reqs, warmup, nats_v, mosq_v, hz, load0,
 load1, rounds) = sys.argv[1:]
versions = dict(l.strip().split("=", 1) for l in open(versions_file) if "=" in l)
pubsub, req = {}, {}
for line in open(results):
    f = line.rstrip("\n").split("\t")
    if f[0] == "pubsub":
        sys_, _, count, sent, got, nbytes, sub_ns, pub_ns, ticks, pub_cpu, sub_cpu = f[1:]
        count, got, nbytes, sub_ns = int(count), int(got or 0), int(nbytes or 0), int(sub_ns or 0)
        rate = got / (sub_ns / 1e9) if sub_ns else 0.0
        mean_bytes = nbytes / got if got else 0.0
        pubsub.setdefault(sys_, []).append({
            "msgs_per_s": rate,
            "mb_per_s": rate * mean_bytes / 1e6,
            "loss_pct": 100.0 * (count - got) / count,
            "count": count,
            "server_cpu_us_per_msg": int(ticks) / int(hz) * 1e6 / count if ticks else None,
            "pub_cpu_us_per_msg": int(pub_cpu) / 1e3 / count if pub_cpu else None,
            "sub_cpu_us_per_msg": int(sub_cpu) / 1e3 / got if sub_cpu and got else None,
        })
    elif f[0] == "req":
        sys_, lat_file, failed, cpu_ns, sent = f[1:]
        try:
            lat = sorted(int(x) for x in open(lat_file))
        except OSError:
            lat = []
        if not lat:
            continue
        def pct(p):
            # Nearest rank, as bus_bench computes it for one run.
            rank = min(len(lat), max(1, math.ceil(p / 100.0 * len(lat))))
            return lat[rank - 1] / 1000.0
        req[sys_] = [{
            "req_p50_us": pct(50), "req_p99_us": pct(99), "req_p999_us": pct(99.9),
            "req_failed": int(failed), "req_count_pooled": len(lat),
            "req_cpu_us_per_req": int(cpu_ns) / 1e3 / int(sent) if int(sent) else None,
        }]

def med(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None

order = ["autofab", "nats", "zmq", "zmq_proxy", "mosquitto", "autofab_raw"]
labels = {"autofab": "autofab broker", "nats": "nats-server", "zmq": "libzmq direct",
          "zmq_proxy": "zmq_proxy relay", "mosquitto": "mosquitto (QoS 0)",
          "autofab_raw": "autofab broker, raw clients (diag.)"}
data = {"msg_bytes": 256, "cores": int(cores), "runs": int(runs), "req_count": int(reqs),
        "req_rounds": int(rounds),
        "req_warmup": int(warmup), "load_avg_1m_before": float(load0),
        "load_avg_1m_after": float(load1)}
summary = {}
for s in order:
    row = {}
    if s in pubsub:
        for k in ("msgs_per_s", "mb_per_s", "loss_pct", "server_cpu_us_per_msg",
                  "pub_cpu_us_per_msg", "sub_cpu_us_per_msg"):
            if med(pubsub[s], k) is not None:
                row[k] = med(pubsub[s], k)
        row["pubsub_count"] = pubsub[s][0]["count"]
    if s in req:
        for k in ("req_p50_us", "req_p99_us", "req_p999_us", "req_failed", "req_count_pooled",
                  "req_cpu_us_per_req"):
            row[k] = med(req[s], k)
    if row:
        summary[s] = row
        for k, v in row.items():
            data[f"{s}_{k}"] = round(v, 3) if isinstance(v, float) else v

af = summary.get("autofab", {})
for s in ("nats", "zmq", "zmq_proxy", "mosquitto", "autofab_raw"):
    peer = summary.get(s, {})
    if af.get("msgs_per_s") and peer.get("msgs_per_s"):
        data[f"pubsub_ratio_vs_{s}"] = round(af["msgs_per_s"] / peer["msgs_per_s"], 3)
    for p in ("p50", "p99", "p999"):
        k = f"req_{p}_us"
        if af.get(k) and peer.get(k):
            data[f"req_{p}_ratio_vs_{s}"] = round(af[k] / peer[k], 3)

def cell(v, fmt):
    return "—" if v is None else format(v, fmt)

print()
print(f"{'system':<36} {'msgs/s':>11} {'MB/s':>8} {'loss %':>7} {'p50 µs':>8} {'p99 µs':>8} {'p99.9 µs':>9}"
      f"   CPU µs/msg: {'server':>6} {'pub':>5} {'sub':>5}   CPU µs/req: {'client':>6}")
for s in order:
    r = summary.get(s)
    if not r:
        continue
    print(f"{labels[s]:<36} {cell(r.get('msgs_per_s'), ',.0f'):>11} {cell(r.get('mb_per_s'), '.1f'):>8}"
          f" {cell(r.get('loss_pct'), '.2f'):>7} {cell(r.get('req_p50_us'), '.1f'):>8}"
          f" {cell(r.get('req_p99_us'), '.1f'):>8} {cell(r.get('req_p999_us'), '.1f'):>9}"
          f"               {cell(r.get('server_cpu_us_per_msg'), '.2f'):>6}"
          f" {cell(r.get('pub_cpu_us_per_msg'), '.2f'):>5} {cell(r.get('sub_cpu_us_per_msg'), '.2f'):>5}"
          f"               {cell(r.get('req_cpu_us_per_req'), '.1f'):>6}")
print()
for s in ("nats", "zmq", "zmq_proxy", "mosquitto"):
    parts = []
    if f"pubsub_ratio_vs_{s}" in data:
        parts.append(f"pub/sub {data[f'pubsub_ratio_vs_{s}']:.2f}×")
    if f"req_p99_ratio_vs_{s}" in data:
        parts.append(f"request p99 {data[f'req_p99_ratio_vs_{s}']:.2f}× (lower is better)")
    if parts:
        print(f"autofab vs {labels[s]}: " + ", ".join(parts))
counts = sorted({(s, r.get('pubsub_count')) for s, r in summary.items() if r.get('pubsub_count')})
print(f"""
How: 256-byte encoded autofab Envelope (Telemetry payload) + topic frame/subject;
one publisher process → server → one subscriber process on 127.0.0.1 (TCP).
msgs/s = messages the subscriber received ÷ time from its first to its last
message; loss = messages published but never received.  autofab's publisher
coalesces what it publishes on one topic in a row (af_bus opts.coalesce, as
every agent does; flushed at the end), as libnats buffers its writes; in
this tight loop frames carry up to 256 envelopes, the best case: an agent
that publishes one envelope per topic per turn sends one frame each, whose
broker cost is the diag. row's.
Requests: {reqs} sequential round trips per system after {warmup} warm-up,
requester → server → replier → back (libzmq: REQ → REP direct; mosquitto:
request topic + reply topic, QoS 0), in {rounds} rounds taken in turns with every
server up, percentiles over all rounds pooled; af_bus_request polls for its
reply for up to 1 ms before it sleeps (AF_BUS_REQUEST_SPIN_US), whose cost
is in the CPU µs/req column (requester process, all threads, warm-up included).
Pub/sub: median of {runs} runs per figure, taken in turns.  Counts per run: """ + ", ".join(f"{s} {c:,}" for s, c in counts) + f""".
Peers run with stock configuration on loopback (mosquitto: only a listener
line): {nats_v}, {mosq_v}; clients libzmq {versions.get('libzmq')},
libnats {versions.get('libnats')}, libmosquitto {versions.get('libmosquitto')}.
ZeroMQ sockets use autofab's client high-water mark (100 000) everywhere.
No publisher wins by dropping: at that mark raw libzmq publishers wait
(XPUB_NODROP) and autofab's publisher retries af_bus_publish (which fails
there rather than drop) 1 ms later; NATS and mosquitto publishers are held
back by TCP.  Servers are stock: a ZeroMQ XPUB (zmq_proxy's, the autofab
broker's egress) drops for a subscriber that falls behind, and that loss is
reported as it comes.  Peer subscribers only count messages; af_bus_recv
decodes and validates every envelope (its API has no other way), which the
diag. row leaves out.
CPU µs/msg: CPU time (all threads) of the server over a pub/sub run ÷
messages published, of the publisher process ÷ messages published, of the
subscriber process ÷ messages received; steadier than rates on a busy machine.
Machine: {cores} cores, shared with other work while measuring (1-min load
average {load0} before, {load1} after): expect noise, above all in p99/p99.9.
Targets: autofab pub/sub ≥ NATS and ≥ 0.5× libzmq direct; request p99 ≤ NATS.""")
with open(out, "w") as f:
    json.dump(data, f, indent=1, sort_keys=True)
    f.write("\n")
print(f"wrote {out}")
EOF
