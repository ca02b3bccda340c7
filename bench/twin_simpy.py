#!/usr/bin/python3
"""twin_simpy — the open tandem M/M/1 line of `make bench-twin`, in SimPy.

The peer for the twin's engine: the same model (Poisson arrivals at rate
LAMBDA, three FIFO single-server stations with exponential service rates MU)
written the idiomatic SimPy way.  Debian ships SimPy 2.3 (python3-simpy), so
this uses the SimPy 2 process API (Process, hold, request, release).
Prints one JSON line: customers, events (arrivals + service completions, the
same count the C driver reports), wall_s, events_per_s, sojourn_mean_s.
"""
import argparse
import json
import random
import time

from SimPy.Simulation import (Process, Resource, activate, hold, initialize,
                              now, release, request, simulate)


class Stats:
    done = 0
    sojourn_sum = 0.0
    warm = 0


class Customer(Process):
    def run(self, stations, rng):
        t0 = now()
        for res, mu in stations:
            yield request, self, res
            yield hold, self, rng.expovariate(mu)
            yield release, self, res
        Stats.done += 1
        if Stats.done > Stats.warm:
            Stats.sojourn_sum += now() - t0


class Source(Process):
    def run(self, n, lam, stations, rng):
        for _ in range(n):
            c = Customer()
            activate(c, c.run(stations, rng))
            yield hold, self, rng.expovariate(lam)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=100000)
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--mu", type=float, nargs="+", default=[2.0, 2.5, 3.0])
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    Stats.warm = a.customers // 10
    initialize()
    stations = [(Resource(capacity=1), mu) for mu in a.mu]
    src = Source()
    activate(src, src.run(a.customers, a.lam, stations, rng))
    t0 = time.perf_counter()
    simulate(until=1e18)
    wall = time.perf_counter() - t0
    events = a.customers * (1 + len(a.mu))
    print(json.dumps({
        "customers": a.customers, "events": events, "wall_s": wall,
        "events_per_s": events / wall,
        "sojourn_mean_s": Stats.sojourn_sum / max(1, Stats.done - Stats.warm),
    }))


if __name__ == "__main__":
    main()
