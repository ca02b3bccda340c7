#!/bin/sh
# bench/maint.sh — the maintenance algorithms on real data (data part of
# `make bench-maint`): CWRU bearing classification and C-MAPSS FD001 RUL on
# held-out training units.
#
#   bench/maint.sh [DATA_DIR] [OUT_DIR] [BIN_DIR]
#
# DATA_DIR holds cwru/ and cmapss/train_FD001.txt (default ../shared/data).
# MAINT_CV_REPEAT folds of MAINT_CV_HOLDOUT units each (default 5 x 20),
# seeds from MAINT_CV_SEED (1).  Prints both tables and writes
# OUT_DIR/maint.json (flat keys) and OUT_DIR/maint.txt.
set -eu
DATA=${1:-../shared/data}
OUT=${2:-build/bench}
BIN=${3:-build/bin}/autofab-maint-eval
REPEAT=${MAINT_CV_REPEAT:-5}
HOLDOUT=${MAINT_CV_HOLDOUT:-20}
SEED=${MAINT_CV_SEED:-1}

[ -x "$BIN" ] || { echo "bench-maint: $BIN not built (run make)" >&2; exit 1; }
if [ ! -d "$DATA/cwru" ] || [ ! -f "$DATA/cmapss/train_FD001.txt" ]; then
    echo "bench-maint: no data at '$DATA' (needs cwru/*.mat and cmapss/train_FD001.txt);" \
         "pass the folder: make bench-maint MAINT_DATA=/path/to/data" >&2
    exit 1
fi
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

{
    echo "== CWRU bearings: $BIN cwru $DATA/cwru"
    "$BIN" cwru "$DATA/cwru" --json "$tmp/cwru.json"
    echo
    echo "== C-MAPSS FD001 RUL: $BIN cmapss-cv $DATA/cmapss/train_FD001.txt" \
         "--holdout $HOLDOUT --seed $SEED --repeat $REPEAT"
    "$BIN" cmapss-cv "$DATA/cmapss/train_FD001.txt" --holdout "$HOLDOUT" --seed "$SEED" \
        --repeat "$REPEAT" --json "$tmp/cmapss.json"
} | tee "$OUT/maint.txt"

# Merge the two flat objects into one.
{
    echo "{"
    echo "  \"cmapss_cv_folds\": $REPEAT,"
    echo "  \"cmapss_cv_holdout_units\": $HOLDOUT,"
    sed -e '1d' -e '$d' -e 's/[^,]$/&,/' "$tmp/cwru.json"
    sed -e '1d' -e '$d' "$tmp/cmapss.json"
    echo "}"
} > "$OUT/maint.json"
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$OUT/maint.json" 2>/dev/null \
    || { echo "bench-maint: wrote invalid JSON to $OUT/maint.json" >&2; exit 1; }
echo "bench-maint: wrote $OUT/maint.json"
