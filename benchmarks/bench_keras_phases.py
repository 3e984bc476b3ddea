"""Where keras.GRU's time goes on a stream of new structures (the cases a report's checks draw):
building layers, eager calls, first compiled calls (a trace or jit compile, per way of calling and
on JAX per shape, included) and compiled
calls, each timed in wall clock and in this process's CPU time, with how many there were.

    KERAS_BACKEND=jax python benchmarks/bench_keras_phases.py [--per-feature 25]

It wraps the adapter's layer class (conformance.frameworks.keras.adapters._Layer) to time it;
the adapter itself is unchanged. What the stream costs is about (layers built x build) +
(calls of each kind x their cost): the floor of a stream is what its distinct structures cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_keras import draw_stream  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-feature", type=int, default=25)
    args = ap.parse_args(argv)
    from conformance.frameworks.keras import adapters as K

    wall, cpu, count = defaultdict(float), defaultdict(float), defaultdict(int)
    init, call = K._Layer.__init__, K._Layer.__call__

    def timed(kind, fn, *a):
        t, c = time.perf_counter(), time.process_time()
        r = fn(*a)
        wall[kind] += time.perf_counter() - t
        cpu[kind] += time.process_time() - c
        count[kind] += 1
        return r

    seen = []  # how _call ran within one layer call: "traced" (tf.function or jax.jit) or "eager"
    inner = K._Layer._call

    def watched_call(self, x, h0, mask):
        if K.BACKEND == "tensorflow":
            import tensorflow as tf

            seen.append("eager" if tf.executing_eagerly() else "traced")
        elif K.BACKEND == "jax":
            import jax

            seen.append("traced" if isinstance(x, jax.core.Tracer) else "eager")
        else:
            seen.append("eager")
        return inner(self, x, h0, mask)

    pairs = defaultdict(int)  # calls per (layer, way of calling[, shape on JAX]): what a compile serves

    def timed_call(self, arrays, x, h0, mask):
        seen.clear()
        pairs[(id(self), h0 is not None, mask is not None, tuple(x.shape) if K.BACKEND == "jax" else None)] += 1

        def run():
            r = call(self, arrays, x, h0, mask)
            K.ops.convert_to_numpy(r[0])  # the work, not an asynchronous dispatch
            return r

        r = timed("call", run)
        kind = {"traced": "first compiled call", "eager": "eager call"}.get(seen[0] if seen else "", "compiled call")
        for d in (wall, cpu, count):  # file the call under its kind
            d[kind] += d.pop("call")
        return r

    K._Layer._call = watched_call
    K._Layer.__init__ = lambda self, *a, **k: timed("build", init, self, *a, **k)
    K._Layer.__call__ = timed_call
    adapter = K.KerasGRU()
    for case in draw_stream(adapter.capabilities(), 1, seed=1)[:6]:  # framework start-up, other cases
        K.KerasGRU(cache=0).run(case)
    for d in (wall, cpu, count, pairs):
        d.clear()
    cases = draw_stream(adapter.capabilities(), args.per_feature)
    t, c = time.perf_counter(), time.process_time()
    for case in cases:
        adapter.run(case)
    t, c = time.perf_counter() - t, time.process_time() - c
    print(f"keras.GRU[{K.BACKEND}]: {len(cases)} cases, {len(cases) / t:.1f} ex/s wall, {len(cases) / c:.1f} ex/s "
          f"per CPU-second; load average {os.getloadavg()[0]:.1f}")
    print(f"  {'':20s} {'count':>6s} {'ms each (cpu)':>14s} {'total cpu s':>12s} {'share':>6s}")
    for kind in ("build", "eager call", "first compiled call", "compiled call"):
        if count[kind]:
            print(f"  {kind:20s} {count[kind]:6d} {1000 * cpu[kind] / count[kind]:14.1f} {cpu[kind]:12.1f} "
                  f"{100 * cpu[kind] / c:5.0f}%")
    print(f"  {'the rest':20s} {'':6s} {'':14s} {c - sum(cpu.values()):12.1f} {100 * (c - sum(cpu.values())) / c:5.0f}%"
          "  (weights, padding, inputs, results)")
    schedules(pairs, cpu, count, len(cases))


def schedules(pairs: dict, cpu: dict, count: dict, n_cases: int):
    """What the same stream would cost (CPU) if every (layer, way) were compiled after k eager calls,
    from the measured costs: the floor of any schedule, for this stream and these per-call costs."""
    if not (count["eager call"] and count["first compiled call"] and count["compiled call"]):
        return
    e, c, p = (cpu[k] / count[k] for k in ("eager call", "first compiled call", "compiled call"))
    fixed = cpu["build"]
    hist = sorted(Counter(pairs.values()).items())
    print(f"  {sum(pairs.values())} layer calls over {len(pairs)} (layer, way) pairs; calls per pair: "
          + ", ".join(f"{n}x{m}" for n, m in hist))
    for k in (0, 2, 4, 8, 16, None):
        cost = fixed + sum(n * e if k is None or n <= k else k * e + c + (n - k - 1) * p for n in pairs.values())
        print(f"  compiled after {'never' if k is None else k:>5}: {cost:5.1f} s CPU, {n_cases / cost:5.1f} ex/s "
              "per CPU-second (builds included, the rest not)")


if __name__ == "__main__":
    main()
