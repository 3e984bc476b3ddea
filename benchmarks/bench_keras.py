"""Examples per second of the Keras adapters on small cases, for the current KERAS_BACKEND.

A feature check runs hundreds of tiny cases, so the fixed cost per example is what counts.
For Keras that is building the layers (per structure), tracing or compiling the call (per
structure, or per structure and shape under jax.jit), and Keras's per-call overhead. Figures:

* ``new``: the first pass over the cases, every structure new to the adapter's cache, which is
  what a Hypothesis feature check mostly sees (structures rarely repeat across 25 examples);
* ``run`` and ``verify``: later passes, every structure cached (``verify`` is the whole
  per-example check: the adapter in its own thread, the oracle, the tolerance, the comparison);
* ``no cache``: layers built (and traced or compiled) for every example.

The cases are drawn once, from a seeded generator, inside each adapter's capabilities and the ci
profile's sizes (T <= 6, B <= 4, sizes <= 5, up to 3 layers), every supported dtype mixed in.
Run: KERAS_BACKEND=jax python benchmarks/bench_keras.py [--cases N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial

import keras
import numpy as np

from conformance.adapters.keras_gru import BACKEND, COMPILED_BY_DEFAULT, KerasGRU, KerasGRUCell
from conformance.case import GRUCase, GRUSpec
from conformance.checks import verify
from conformance.strategies import case_values

TARGET = 50  # examples per second, cached structures


def make_cases(caps, n: int, seed: int = 0) -> list:
    """``n`` fixed cases inside ``caps`` (the ci profile's sizes)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        T, B = int(rng.integers(1, 7)), int(rng.integers(1, 5))
        ragged = caps.lengths and rng.random() < 0.5
        layers = int(rng.integers(1, min(3, caps.max_layers) + 1))
        spec = GRUSpec(int(rng.integers(1, 6)), int(rng.integers(1, 6)), layers, str(rng.choice(caps.directions)),
                       reset_after=bool(rng.choice(caps.reset_after)), bias=bool(rng.choice(caps.bias)))
        dtype = str(rng.choice(caps.dtypes))
        h0 = caps.initial_state and rng.random() < 0.5
        weights, x, h0 = case_values(spec, T, B, dtype, seed * 100_000 + i, h0=h0, saturating=False)
        lengths = rng.integers(1, T + 1, B) if ragged else None
        cases.append(GRUCase(spec, weights, x, h0, lengths, dtype))
    return cases


def one_pass(fn, cases) -> float:
    t0 = time.perf_counter()
    for c in cases:
        fn(c)
    return len(cases) / (time.perf_counter() - t0)


def rate(fn, cases, rounds: int) -> float:
    """Median examples per second over ``rounds`` passes."""
    return statistics.median(one_pass(fn, cases) for _ in range(rounds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=60, help="cases per adapter")
    ap.add_argument("--rounds", type=int, default=3, help="timed passes over the cached cases")
    args = ap.parse_args()

    print(f"keras {keras.__version__}, backend {BACKEND}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}, {args.cases} cases per adapter; examples/s, wall clock, "
          f"median of {args.rounds} passes; target >= {TARGET} for cached verify")
    print(f"{'adapter':34s} {'new':>6s} {'run':>7s} {'verify':>7s} {'run, no cache':>14s}")
    default = COMPILED_BY_DEFAULT.get(BACKEND, False)
    variants = [(f"keras.GRU[{BACKEND}]", partial(KerasGRU, compiled=default))]
    if BACKEND in ("tensorflow", "jax"):
        other = "eager" if default else "tf.function" if BACKEND == "tensorflow" else "jit"
        variants.append((f"keras.GRU[{BACKEND}] {other}", partial(KerasGRU, compiled=not default)))
    variants.append((f"keras.GRUCell[{BACKEND}]", KerasGRUCell))
    for label, make in variants:
        cached, uncached = make(), make(cache=0)
        cases = make_cases(cached.capabilities(), args.cases)
        new = one_pass(cached.run, cases)  # every structure built here, first time seen
        assert all(verify(cached, c).passed for c in cases), "a benchmark case fails: fix that first"
        figures = [new, rate(cached.run, cases, args.rounds), rate(partial(verify, cached), cases, args.rounds),
                   one_pass(uncached.run, cases)]
        mark = "" if figures[2] >= TARGET else "  (below target)"
        print(f"{label:34s} {figures[0]:6.1f} {figures[1]:7.0f} {figures[2]:7.0f} {figures[3]:14.1f}{mark}",
              flush=True)


if __name__ == "__main__":
    main()
