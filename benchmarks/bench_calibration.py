"""Calibrate the tolerance: max(observed error / tolerance) per built-in adapter and dtype.

For every available built-in adapter and every dtype it supports, draw N cases (default
10,000) inside its capabilities and record the largest error/tolerance ratio; it must
stay <= 0.5 (a 2x margin against flakiness). Then the sensitivity: the smallest relative
change of one bias that the tolerance still catches, in float32.

    python benchmarks/bench_calibration.py [-n 10000] [--profile dev] [--adapters a,b]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

from conformance.builtins import BY_NAME as BUILTINS
from conformance.canonical import oracle
from conformance.checks import verify
from conformance.compare import compare
from conformance.loader import load_adapter
from conformance.profiles import get_profile
from conformance.strategies import gru_cases
from conformance.tolerance import tolerance


def calibrate(adapter, dtype: str, n: int, profile) -> dict:
    caps = adapter.capabilities()
    stats = dict(n=0, max_ratio=0.0, max_ulp=0.0, failures=0, worst="")

    @settings(max_examples=n, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(gru_cases(caps, profile, dtype=dtype))
    def run(case):
        v = verify(adapter, case, capabilities=caps)
        stats["n"] += 1
        if v.comparison is None:
            stats["failures"] += 1
            stats["worst"] = str(v.fault)
            return
        if v.comparison.ratio > stats["max_ratio"]:
            stats["max_ratio"], stats["worst"] = v.comparison.ratio, v.case.describe()
        stats["max_ulp"] = max(stats["max_ulp"], v.comparison.max_ulp)
        stats["failures"] += not v.passed

    t0 = time.perf_counter()
    run()
    stats["seconds"] = time.perf_counter() - t0
    return stats


def sensitivity(n: int = 300, profile="ci") -> float:
    """The smallest relative change of one bias caught (in some drawn float32 case) out of a ladder."""
    from conformance import ReferenceAdapter

    caps = ReferenceAdapter().capabilities()
    caps = type(caps)(dtypes=("float32",), directions=caps.directions, max_layers=caps.max_layers,
                      reset_after=caps.reset_after, bias=(True,), initial_state=True, lengths=True)
    cases = []

    @settings(max_examples=n, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(gru_cases(caps, profile))
    def collect(case):
        cases.append(case)

    collect()
    caught = {}
    for rel in (1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6):
        hits = 0
        for case in cases:
            expected = oracle(case)
            params = [tuple(np.array(a) for a in w) for w in case.weights]
            params[0][3][1, 0] *= 1 + rel  # b_Ur, unit 0, layer 0
            planted = oracle(case, params=params)
            hits += not compare(case, expected, planted, tolerance(case, expected)).passed
        caught[rel] = hits / len(cases)
    return caught


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--profile", default="dev")
    ap.add_argument("--adapters", default=",".join(BUILTINS))
    args = ap.parse_args(argv)
    profile = get_profile(args.profile)
    print(f"{'adapter':<32}{'dtype':<10}{'examples':>9}{'max err/tol':>13}{'max ULP':>11}{'fails':>7}{'s':>8}"
          "  worst case")
    for name in args.adapters.split(","):
        try:
            adapter = load_adapter(name)
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"{name:<32}unavailable: {e}")
            continue
        for dtype in adapter.capabilities().dtypes:
            s = calibrate(adapter, dtype, args.n, profile)
            print(f"{adapter.name:<32}{dtype:<10}{s['n']:>9}{s['max_ratio']:>13.3f}{s['max_ulp']:>11.3g}"
                  f"{s['failures']:>7}{s['seconds']:>8.1f}  {s['worst']}", flush=True)
    print("\nsensitivity, float32: share of drawn cases in which one bias changed by a relative amount is caught")
    for rel, share in sensitivity().items():
        print(f"  {rel:8.0e}  {share:6.1%}")


if __name__ == "__main__":
    main()
