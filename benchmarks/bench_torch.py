"""Examples per second of the PyTorch adapters on small cases, with and without the module cache.

A feature check runs hundreds of tiny cases, so the fixed cost per example is what counts:
building an nn.GRU per example (cache off) against copying weights into a kept one (cache on).
The cases are drawn once, from a seeded generator, inside each adapter's capabilities and the
ci profile's sizes (T <= 6, B <= 4, sizes <= 5, up to 3 layers), every dtype mixed in.

Columns: ``run`` is adapter.run alone; ``verify`` is the whole per-example check
(the adapter run on a private copy in its own thread, the oracle, the tolerance and the comparison).
Run: python benchmarks/bench_torch.py [--cases N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial

import numpy as np
import torch

from conformance.case import GRUCase, GRUSpec
from conformance.checks import verify
from conformance.frameworks.torch.adapters import TorchGRU, TorchGRUCell
from conformance.values import case_values

TARGET = 500  # examples per second


def make_cases(caps, n: int, seed: int = 0) -> list:
    """``n`` fixed cases inside ``caps`` (the ci profile's sizes)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        T, B = int(rng.integers(1, 7)), int(rng.integers(1, 5))
        ragged = caps.lengths and rng.random() < 0.5
        layers = int(rng.integers(1, min(3, caps.max_layers) + 1))
        spec = GRUSpec(int(rng.integers(1, 6)), int(rng.integers(1, 6)), layers, str(rng.choice(caps.directions)),
                       reset_after=True, bias=bool(rng.choice(caps.bias)))
        dtype = str(rng.choice(caps.dtypes))
        h0 = caps.initial_state and rng.random() < 0.5
        weights, x, h0 = case_values(spec, T, B, dtype, seed * 100_000 + i, h0=h0, saturating=False)
        lengths = rng.integers(1, T + 1, B) if ragged else None
        cases.append(GRUCase(spec, weights, x, h0, lengths, dtype))
    return cases


def rate(fn, cases, rounds: int, clock=time.perf_counter) -> float:
    """Median examples per second over ``rounds`` passes (after one warm-up pass)."""
    for c in cases:
        fn(c)
    per_round = []
    for _ in range(rounds):
        t0 = clock()
        for c in cases:
            fn(c)
        per_round.append(len(cases) / (clock() - t0))
    return statistics.median(per_round)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=200, help="cases per adapter")
    ap.add_argument("--rounds", type=int, default=3, help="timed passes over the cases")
    args = ap.parse_args()

    print(f"torch {torch.__version__}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"{args.cases} cases per adapter, median of {args.rounds} passes; examples/s, wall clock "
          f"(cpu: per CPU second of this process, less sensitive to other load); target >= {TARGET} for verify")
    print(f"{'adapter':28s} {'run':>7s} {'verify':>7s} {'verify cpu':>11s} {'run, no cache':>14s} "
          f"{'verify, no cache':>17s}")
    for make in (TorchGRU, partial(TorchGRU, batch_first=True), TorchGRUCell):
        cached, uncached = make(), make(cache=False)
        cases = make_cases(cached.capabilities(), args.cases)
        assert all(verify(cached, c).passed for c in cases), "a benchmark case fails: fix that first"
        check, check_uncached = partial(verify, cached), partial(verify, uncached)
        figures = [rate(cached.run, cases, args.rounds), rate(check, cases, args.rounds),
                   rate(check, cases, args.rounds, time.process_time),
                   rate(uncached.run, cases, args.rounds), rate(check_uncached, cases, args.rounds)]
        mark = "" if figures[1] >= TARGET else "  (below target)"
        print(f"{cached.name:28s} {figures[0]:7.0f} {figures[1]:7.0f} {figures[2]:11.0f} {figures[3]:14.0f} "
              f"{figures[4]:17.0f}{mark}")


if __name__ == "__main__":
    main()
