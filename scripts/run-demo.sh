#!/bin/sh
# The interim main job (until `autofab run` supervises a whole factory):
# starts a broker and a demo telemetry agent on free loopback ports, shows
# the live stream through `autofab sub` for a few seconds, lists who is
# there, then stops everything.  If the twin is built, it then runs one
# simulated week of the default factory under the baseline policy and
# prints its KPI table.
set -eu
BIN=${BIN:-build/bin}
SECONDS_LIVE=${SECONDS_LIVE:-4}

# Below the kernel's ephemeral range, as af_free_port_block does (a retried
# connect to a port inside it can end up connected to itself).
port=$(python3 -c 'import socket,random
low=int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    p=random.randint(10000,low-4); ok=True
    for q in (p,p+1,p+2):
        s=socket.socket(); 
        try: s.bind(("127.0.0.1",q))
        except OSError: ok=False
        s.close()
    if ok: print(p); break')
broker="tcp://127.0.0.1:$port"
logdir=$(mktemp -d /tmp/autofab-run.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

echo "== autofab: broker on $broker (logs in $logdir)"
"$BIN/autofab-broker" --port "$port" --log-file "$logdir/broker.log" &
pids="$pids $!"
"$BIN/autofab-demo-agent" --broker "$broker" --name line1 --cell cell1 --service line1 \
    --stations 3 --rate-hz 2 --log-level warn 2>"$logdir/line1.log" &
pids="$pids $!"
sleep 0.5
echo "== who is there (autofab ls)"
"$BIN/autofab" --broker "$broker" ls
echo "== live telemetry for ${SECONDS_LIVE} s (autofab sub 'tel.>')"
"$BIN/autofab" --broker "$broker" sub 'tel.>' --timeout "$SECONDS_LIVE" --count 12 || true
echo "== a command through the broker (autofab call line1 ping)"
"$BIN/autofab" --broker "$broker" call line1 ping
cleanup
pids=""

cfg=deploy/factories/gigafactory.yaml
if [ -x "$BIN/autofab-twin" ] && [ -f "$cfg" ]; then
    echo "== one simulated week of $cfg under the baseline policy (autofab-twin)"
    "$BIN/autofab-twin" --config "$cfg" --hours 168 --seed 1 --policy baseline
fi
