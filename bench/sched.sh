#!/bin/sh
# bench/sched.sh — job-shop benchmark of autofab-sched against best-known values.
#
#   bench/sched.sh [DATA_DIR] [BUDGET_MS] [THREADS] [OUT_DIR] [BIN_DIR]
#
# DATA_DIR holds instances/ and bounds.csv (default ../shared/data/jobshop);
# the budget is per instance (default 10000 ms, env SCHED_BUDGET_MS);
# SCHED_ONLY=ft10,la01 restricts the set (names or prefixes).  Prints one line
# per instance and the mean gap per family; writes OUT_DIR/sched.json and
# OUT_DIR/sched.txt.
set -eu
DATA=${1:-../shared/data/jobshop}
BUDGET=${2:-${SCHED_BUDGET_MS:-10000}}
THREADS=${3:-1}
OUT=${4:-build/bench}
BIN=${5:-build/bin}/autofab-sched

if [ ! -d "$DATA/instances" ] || [ ! -f "$DATA/bounds.csv" ]; then
    echo "bench-sched: no job-shop data at '$DATA' (needs instances/ and bounds.csv);" \
         "pass the folder: make bench-sched SCHED_DATA=/path/to/jobshop" >&2
    exit 1
fi
[ -x "$BIN" ] || { echo "bench-sched: $BIN not built (run make)" >&2; exit 1; }
mkdir -p "$OUT"
# shellcheck disable=SC2086
"$BIN" bench -b "$BUDGET" -t "$THREADS" ${SCHED_ONLY:+-o "$SCHED_ONLY"} \
    -J "$OUT/sched.json" "$DATA" | tee "$OUT/sched.txt"
