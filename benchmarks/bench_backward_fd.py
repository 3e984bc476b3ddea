"""The reference VJP: finite-difference accuracy over a large sweep, and its speed against the forward.

1. accuracy: the check of tests/references/test_backward_fd.py (every input, one random
   direction each and one in all of them, five-point stencil, cases that cross a kink
   rejected) on ``--cases`` drawn cases; prints the worst error, the rejections and how
   often each feature was drawn;
2. speed: ``references.gru_vjp`` (which runs its own forward) against ``references.gru``
   at T=256, B=32, I=H=128, one layer, median of ``--reps`` runs.

    python benchmarks/bench_backward_fd.py [--cases 2000] [--reps 7] [--parts fd,speed]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import references  # noqa: E402
from tests.references.test_backward_fd import cases, directional_errors  # noqa: E402


def features(case) -> list:
    kw = case.kw
    acts = ["f=" + (a if isinstance(a, str) else a[0]) for a in kw["activations"][:1]]
    acts += ["g=" + (a if isinstance(a, str) else a[0]) for a in kw["activations"][1:]]
    return [kw["direction"], f"layers={kw['num_layers']}", f"reset_after={kw['reset_after']}",
            f"bias={bool(np.any(case.params[0][2]))}", f"h0={case.h0 is not None}",
            f"ragged={kw['lengths'] is not None}", f"clip={kw['clip'] is not None}", *acts]


def fd_sweep(n: int) -> float:
    """Half the cases drawn as the tests draw them, half with custom activations forced on."""
    worst, seen, directions, rejected, counts = [0.0, None], [0], [0], [0], collections.Counter()

    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(cases(), cases(custom=True)), st.integers(0, 2**32 - 1))
    def run(case, seed):
        errors = directional_errors(case, np.random.default_rng(seed))
        if errors is None:
            rejected[0] += 1
            return
        seen[0] += 1
        directions[0] += len(errors)
        counts.update(features(case))
        if max(errors) > worst[0]:
            worst[:] = [max(errors), case.kw]

    t0 = time.perf_counter()
    run()
    print(f"## FD sweep: {seen[0]} cases, {directions[0]} directional derivatives checked "
          f"({rejected[0]} cases rejected for a kink), "
          f"{time.perf_counter() - t0:.0f} s\n")
    print(f"worst relative error: {worst[0]:.2e}  in {worst[1]}\n")
    print("feature counts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return worst[0]


def speed(reps: int) -> float:
    T, B, n_in, H = 256, 32, 128, 128
    rng = np.random.default_rng(0)
    s = 1 / np.sqrt(H)
    params = [tuple(rng.uniform(-s, s, shape) for shape in ((3, H, n_in), (3, H, H), (3, H), (3, H)))]
    x, h0 = rng.standard_normal((T, B, n_in)), rng.standard_normal((1, B, H))
    y_bar, hn_bar = rng.standard_normal((T, B, H)), rng.standard_normal((1, B, H))
    lengths = rng.integers(1, T + 1, B)
    print(f"\n## Speed at T={T} B={B} I={n_in} H={H}, median of {reps} runs\n")
    print("| run | forward ms | vjp ms (with its forward) | ratio |")
    print("|---|---:|---:|---:|")
    ratios = []
    for label, kw in [("reset_after=True", {}), ("reset_after=False", {"reset_after": False}),
                      ("reverse with lengths", {"direction": "reverse", "lengths": lengths})]:
        fwd = lambda kw=kw: references.gru(x, params, h0=h0, **kw)  # noqa: E731
        vjp = lambda kw=kw: references.gru_vjp(x, params, y_bar, hn_bar, h0=h0, **kw)  # noqa: E731
        times = {fwd: [], vjp: []}
        for _ in range(reps):  # interleaved, so that load changes hit both alike
            for fn in times:
                t0 = time.perf_counter()
                fn()
                times[fn].append(time.perf_counter() - t0)
        tf, tv = statistics.median(times[fwd]), statistics.median(times[vjp])
        ratios.append(tv / tf)
        print(f"| {label} | {tf * 1e3:.1f} | {tv * 1e3:.1f} | {tv / tf:.2f} |")
    return max(ratios)


def main(argv: list | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--parts", default="fd,speed")
    args = ap.parse_args([] if argv is None else argv)
    parts = args.parts.split(",")
    if "fd" in parts:
        fd_sweep(args.cases)
    if "speed" in parts:
        speed(args.reps)


if __name__ == "__main__":
    main(sys.argv[1:])
