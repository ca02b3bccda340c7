#!/bin/sh
# Installs the Debian packages autofab needs, and only those that are missing.
# Does nothing (quickly) when everything is there.  `--bench` adds the peers
# the benchmarks compare against (mosquitto, NATS, SimPy, GLPK).
set -eu

PKGS="build-essential pkg-config libzmq3-dev libczmq-dev libprotobuf-c-dev
protobuf-c-compiler libsodium-dev libcriterion-dev libyaml-dev libsqlite3-dev
sqlite3 libmicrohttpd-dev python3 iproute2 procps libjs-chart.js chromium
python3-jsonschema libglpk-dev libjson-c-dev python3-zmq
libmodbus-dev libmosquitto-dev mosquitto python3-paho-mqtt python3-protobuf protobuf-compiler"
BENCH_PKGS="mosquitto libmosquitto-dev nats-server libnats-dev python3-simpy
glpk-utils"
# The maintenance algorithms: FFTW (spectra), XGBoost (RUL), matio (CWRU .mat).
PKGS="$PKGS libfftw3-dev libxgboost-dev libmatio-dev"

[ "${1:-}" = "--bench" ] && PKGS="$PKGS $BENCH_PKGS"

missing=""
for p in $PKGS; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps: need root or sudo to install:$missing" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
