"""The size checks at scale: calibration, sensitivity, and examples per second.

calibrate    per built-in adapter and dtype: N cases drawn as the "large" and "long" checks draw
             them (half each, default 1,000 in all), max / p99 / median of error / tolerance
             (the target: max <= 0.5), failures, faults, and examples per second (adapter,
             oracle and tolerance included), per size check
sensitivity  in float32 at H=256, T=300: the share of drawn cases in which one bias changed by a
             relative 1e-3 (b_Ur of unit 0, layer 0, the mutants' "bias-off") is caught, and the
             same for 1e-2 .. 1e-5

    python benchmarks/bench_scale.py calibrate [-n 1000] [--profile ci] [--adapters a,b] [--dtypes ..] [--seed 0]
    python benchmarks/bench_scale.py sensitivity [-n 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_calibration import _bias_planted  # noqa: E402 - b_Ur of unit 0 off by a relative amount

from conformance.builtins import BY_NAME as BUILTINS  # noqa: E402
from conformance.canonical import oracle
from conformance.case import GRUCase, GRUSpec
from conformance.compare import compare
from conformance.execute import run_safely
from conformance.loader import load
from conformance.profiles import get_profile
from conformance.strategies import gru_cases
from conformance.tolerance import tolerance, trivial_answer
from conformance.values import case_values


def calibrate(adapter, dtype: str, size: str, n: int, profile, seed: int) -> dict:
    caps = adapter.capabilities()
    st = dict(ratios=[], fail=0, faults=0, trivial=0, adapter_s=0.0, worst=(0.0, ""), fault="")

    @hseed(seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(gru_cases(caps, profile, dtype=dtype, size=size))
    def run(case):
        t = time.perf_counter()
        result, fault = run_safely(adapter, case, 120)
        st["adapter_s"] += time.perf_counter() - t
        if fault:
            st["faults"] += 1
            st["fault"] = f"{fault.kind}: {str(fault.detail)[:80]}"
            return
        expected, tol = oracle(case), tolerance(case)
        c = compare(case, expected, result, tol, caps.padding)
        if c.passed and trivial_answer(case, expected, tol) is not None:  # the checks redraw it
            st["trivial"] += 1
            return
        st["ratios"].append(c.ratio)
        st["fail"] += not c.passed
        if c.ratio > st["worst"][0]:
            st["worst"] = (c.ratio, case.describe())

    t0 = time.perf_counter()
    run()
    st["seconds"] = time.perf_counter() - t0
    return st


def cmd_calibrate(args):
    profile = get_profile(args.profile)
    print(f"profile {profile.name} (large: I, H <= {profile.large_size}, B <= {profile.large_B}; long: T <= "
          f"{profile.long_T}); ratio = max over elements of |error| / tolerance, per case; ex/s: adapter, oracle "
          f"and tolerance; adapter ex/s: the adapter's run alone")
    print(f"{'adapter':<32}{'dtype':<9}{'size':<6}{'cases':>6}{'max':>7}{'p99':>7}{'median':>8}{'fail':>5}"
          f"{'fault':>6}{'trivial':>8}{'ex/s':>7}{'adapter ex/s':>13}  worst case")
    for name in args.adapters.split(","):
        entry = load(name)
        if not entry.available:
            print(f"{name:<32}unavailable: {entry.reason}")
            continue
        adapter = entry.adapter
        for dtype in adapter.capabilities().dtypes:
            if args.dtypes and dtype not in args.dtypes.split(","):
                continue
            for size in ("large", "long"):
                s = calibrate(adapter, dtype, size, args.n // 2, profile, args.seed)
                r = np.array(s["ratios"]) if s["ratios"] else np.zeros(1)
                k = len(s["ratios"]) + s["faults"] + s["trivial"]
                print(f"{adapter.name:<32}{dtype:<9}{size:<6}{len(s['ratios']):>6}{r.max():>7.3f}"
                      f"{np.quantile(r, 0.99):>7.3f}{np.median(r):>8.3f}{s['fail']:>5}{s['faults']:>6}"
                      f"{s['trivial']:>8}{k / s['seconds']:>7.2f}{k / max(s['adapter_s'], 1e-9):>13.2f}  "
                      f"{s['worst'][1]}" + (f"  [{s['fault']}]" if s["fault"] else ""), flush=True)


def cmd_sensitivity(args):
    rng = np.random.default_rng(args.seed)
    rels = (1e-2, 1e-3, 1e-4, 1e-5)
    caught = {r: 0 for r in rels}
    t0 = time.perf_counter()
    for _ in range(args.n):
        I = int(rng.choice((1, 17, 64, 100, 256)))  # noqa: E741 - the canonical name
        B = int(rng.integers(1, 5))
        direction = str(rng.choice(("forward", "reverse", "bidirectional")))
        spec = GRUSpec(I, 256, int(rng.integers(1, 3)), direction, bool(rng.integers(2)), True)
        lengths = np.sort(rng.integers(1, 301, B))[::-1].copy() if rng.integers(2) else None
        if lengths is not None:
            lengths[0] = 300
        weights, x, h0 = case_values(spec, 300, B, "float32", int(rng.integers(2**32)), h0=bool(rng.integers(2)),
                                     saturating=bool(rng.integers(8) == 0))
        case = GRUCase(spec, weights, x, h0, lengths, "float32")
        expected, tol = oracle(case), tolerance(case)
        for r in rels:
            caught[r] += not compare(case, expected, _bias_planted(r)(case), tol).passed
    print(f"float32, H=256, T=300, {args.n} drawn cases (I, B, layers, direction, reset position, lengths, h0 "
          f"drawn), {time.perf_counter() - t0:.0f} s: share in which one bias off by a relative ... is caught")
    for r in rels:
        print(f"  {r:.0e}: {caught[r] / args.n:.1%}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("calibrate")
    c.add_argument("-n", type=int, default=1000)
    c.add_argument("--profile", default="ci")
    c.add_argument("--adapters", default=",".join(BUILTINS))
    c.add_argument("--dtypes", default="")
    c.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("sensitivity")
    s.add_argument("-n", type=int, default=100)
    s.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    {"calibrate": cmd_calibrate, "sensitivity": cmd_sensitivity}[args.cmd](args)


if __name__ == "__main__":
    main()
