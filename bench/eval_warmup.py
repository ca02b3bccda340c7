#!/usr/bin/env python3
"""How long the default plant takes to reach steady state: the warm-up of
autofab eval (docs/eval.md).

The twin starts empty and with new components.  For seeds 1..N it runs the
plant for 4, 8, ... weeks (the same seed and config replay the same history,
so the difference between two horizons is exactly the KPIs of the weeks in
between) and prints, per 4-week block, the mean over seeds of breakdowns,
unplanned and total downtime, units, manual interventions and escaped
defects, each with the half-width of its 95 % interval over seeds.

    bench/eval_warmup.py [--twin build/bin/autofab-twin]
                         [--config deploy/factories/gigafactory.yaml]
                         [--seeds 10] [--blocks 10]
"""
import argparse
import json
import math
import subprocess
import sys

KEYS = ["breakdowns", "unplanned_downtime_h", "downtime_h", "units",
        "manual_interventions", "escaped_defects"]
# Two-sided 95 % Student-t factors (published tables); between two listed
# degrees of freedom the smaller one's, which is the wider, is used.  (The C
# code computes them: common/af_stats.c.)
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447,
        7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 14: 2.145, 19: 2.093,
        29: 2.045}


def t975(df):
    return T975[max(k for k in T975 if k <= df)] if df < 30 else 1.96


def kpis(twin, config, hours, seed):
    out = subprocess.run([twin, "--config", config, "--hours", str(hours),
                          "--seed", str(seed), "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--twin", default="build/bin/autofab-twin")
    ap.add_argument("--config", default="deploy/factories/gigafactory.yaml")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--weeks-per-block", type=int, default=4)
    a = ap.parse_args()
    if a.seeds < 2 or a.blocks < 1:
        sys.exit("eval_warmup: --seeds must be >= 2 and --blocks >= 1")
    block_h = 168 * a.weeks_per_block
    rows = [[] for _ in range(a.blocks)]
    for seed in range(1, a.seeds + 1):
        prev = {k: 0.0 for k in KEYS}
        for b in range(a.blocks):
            cur = kpis(a.twin, a.config, block_h * (b + 1), seed)
            rows[b].append({k: cur[k] - prev[k] for k in KEYS})
            prev = {k: cur[k] for k in KEYS}
    print("%-12s" % "weeks" + "".join("%22s" % k for k in KEYS))
    for b, r in enumerate(rows):
        n = len(r)
        cells = []
        for k in KEYS:
            v = [x[k] for x in r]
            m = sum(v) / n
            sd = math.sqrt(sum((y - m) ** 2 for y in v) / (n - 1))
            cells.append("%12.1f +- %6.1f" % (m, t975(n - 1) * sd / math.sqrt(n)))
        lo, hi = b * a.weeks_per_block + 1, (b + 1) * a.weeks_per_block
        print("%-12s" % ("%d-%d" % (lo, hi)) + "".join("%22s" % c for c in cells))


if __name__ == "__main__":
    main()
