"""Examples per second of the ONNX adapters on small cases, and what one export costs.

The hand-built node (onnxruntime, onnx.reference) builds one session per structure and feeds
weights as graph inputs; the exported GRUs export once per structure. Cases are drawn once
from a seeded generator inside each adapter's capabilities at the ci profile's sizes
(T <= 6, B <= 4, sizes <= 5); for the exporters they come from a few structures, so that the
figure is the per-example cost once the structure is exported, and the export is timed apart.

Columns: ``first pass`` is adapter.run on a fresh adapter, building its sessions (or exports)
as the cases need them, which is what a Hypothesis search meets, as nearly every drawn case
has a new structure; ``run`` is adapter.run once they are built; ``verify`` is the whole
per-example check (private copy, thread, oracle, tolerance, comparison) with them built;
``structures`` how many sessions (or exports) the cases needed, the probes' included.
Run: python benchmarks/bench_onnx.py [--cases N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial

import numpy as np
from conformance.frameworks.onnx.export import KerasExportGRU, TorchExportGRU

from conformance.case import Activation, GRUCase, GRUSpec
from conformance.checks import verify
from conformance.frameworks.onnx.node import OnnxRuntimeGRU
from conformance.frameworks.onnx.reference import OnnxReferenceGRU
from conformance.values import case_values

TARGET = 300  # examples per second, for the hand-built node on onnxruntime


def make_cases(caps, n: int, seed: int = 0, structures: int | None = None) -> list:
    """``n`` fixed cases inside ``caps``; with ``structures``, only that many distinct structures."""
    rng = np.random.default_rng(seed)
    shapes = []
    for _ in range(structures or n):
        T, layers = int(rng.integers(2, 7)), int(rng.integers(1, min(3, caps.max_layers) + 1))
        spec = GRUSpec(int(rng.integers(1, 6)), int(rng.integers(1, 6)), layers,
                       str(rng.choice(caps.directions)), reset_after=bool(rng.choice(caps.reset_after)),
                       bias=bool(rng.choice(caps.bias)),
                       activations=(Activation("HardSigmoid", 0.25, 0.5), Activation("Softsign"))
                       if caps.activations and rng.random() < 0.25 else ("Sigmoid", "Tanh"),
                       clip=2.0 if caps.clip and rng.random() < 0.25 else None)
        shapes.append((spec, T, str(rng.choice(caps.dtypes)), caps.initial_state and rng.random() < 0.5,
                       caps.lengths and rng.random() < 0.5))
    cases = []
    for i in range(n):
        spec, T, dtype, h0, ragged = shapes[i % len(shapes)]
        B = int(rng.integers(1, 5))
        weights, x, h = case_values(spec, T, B, dtype, seed * 100_000 + i, h0=h0, saturating=False)
        lengths = rng.integers(1, T + 1, B) if ragged else None
        cases.append(GRUCase(spec, weights, x, h, lengths, dtype))
    return cases


def first_pass(fn, cases) -> float:
    t0 = time.perf_counter()
    for c in cases:
        fn(c)
    return len(cases) / (time.perf_counter() - t0)


def rate(fn, cases, rounds: int) -> float:
    """Median examples per second over ``rounds`` passes (after one warm-up pass)."""
    for c in cases:
        fn(c)
    per_round = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for c in cases:
            fn(c)
        per_round.append(len(cases) / (time.perf_counter() - t0))
    return statistics.median(per_round)


def export_seconds(adapter, spec: GRUSpec) -> float:
    """Seconds to export one structure (nothing cached for it yet)."""
    key = adapter.structure_key(spec, True, False, T=3)
    t0 = time.perf_counter()
    adapter.export(key)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=200, help="cases per adapter")
    ap.add_argument("--rounds", type=int, default=3, help="timed passes over the cases")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {args.cases} cases per adapter, "
          f"median of {args.rounds} passes; examples/s, wall clock")
    print(f"{'adapter':28s} {'first pass':>10s} {'run':>7s} {'verify':>7s} {'structures':>10s}")
    adapters = [(OnnxRuntimeGRU, {}, None), (OnnxReferenceGRU, {}, None), (OnnxReferenceGRU, {"layout": 1}, None),
                (TorchExportGRU, {"dynamo": False}, 6), (TorchExportGRU, {}, 4), (KerasExportGRU, {}, 4)]
    for make, kwargs, structures in adapters:
        adapter = make(**kwargs)
        caps = adapter.capabilities()
        cases = make_cases(caps, args.cases, structures=structures)
        cold = first_pass(adapter.run, cases)
        bad = [c.describe() for c in cases if not verify(adapter, c, capabilities=caps).passed]
        assert not bad, f"{adapter.name}: a benchmark case fails: {bad[0]}"
        figures = [cold, rate(adapter.run, cases, args.rounds),
                   rate(partial(verify, adapter, capabilities=caps), cases, args.rounds)]
        n = len(getattr(adapter, "_sessions", None) or getattr(adapter, "exports", {}))
        mark = "  (below target)" if make is OnnxRuntimeGRU and min(figures) < TARGET else ""
        print(f"{adapter.name:28s} {figures[0]:10.0f} {figures[1]:7.0f} {figures[2]:7.0f} {n:10d}{mark}")
        if structures:
            secs = [export_seconds(adapter, GRUSpec(3, 3 + i, 2, caps.directions[-1])) for i in (2, 10, 30)]
            print(f"{'':28s} one export (2 layers, {caps.directions[-1]}, h0): "
                  f"{', '.join(f'{s:.2f}' for s in secs)} s")


if __name__ == "__main__":
    main()
