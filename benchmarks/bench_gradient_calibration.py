"""Calibrate the gradient tolerance: max and median of (gradient error / tolerance) per built-in and dtype.

For every available built-in that declares gradients and every dtype it declares them in, draw
N cases (default 10,000) inside its capabilities and run the backward check of each
(conformance.backward.verify_backward); record the largest and the median of the ratio
max over arrays of (max abs error / tolerance). The largest must stay <= 0.5 (a 2x margin
against flakiness); a median far below it would say the tolerance is loose. ``--out`` appends
one JSON line per (adapter, dtype), so a long run can be split over processes and resumed.

    python benchmarks/bench_gradient_calibration.py [-n 10000] [--profile dev] [--adapters a,b] [--dtypes ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.backward import verify_backward  # noqa: E402
from conformance.builtins import BY_NAME as BUILTINS  # noqa: E402
from conformance.loader import load_adapter  # noqa: E402
from conformance.profiles import get_profile  # noqa: E402
from conformance.strategies import gru_cases  # noqa: E402


def calibrate(adapter, dtype: str, n: int, profile, seconds: float | None = None) -> dict:
    caps = adapter.capabilities()
    ratios, stats = [], dict(failures=0, faults=0, ill_conditioned=0, worst="", worst_arrays="")
    t0 = time.perf_counter()

    @settings(max_examples=n, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(gru_cases(caps, profile, dtype=dtype))
    def run(case):
        if seconds is not None and time.perf_counter() - t0 > seconds:
            return
        v = verify_backward(adapter, case, capabilities=caps)
        if v.comparison is None:
            stats["faults"] += 1
            stats["worst"] = str(v.fault)
            return
        if v.ill_conditioned:  # not compared (tolerance.ILL_CONDITIONED): counted apart
            stats["ill_conditioned"] += 1
            return
        r = v.comparison.ratio
        if not ratios or r > max(ratios):
            stats["worst"] = case.describe()
            stats["worst_arrays"] = ", ".join(f"{a.gradient}:{a.ratio:.3g}" for a in v.comparison.arrays
                                              if a.ratio > 0.5 * r)
        ratios.append(r)
        stats["failures"] += not v.passed

    run()
    return dict(adapter=adapter.name, dtype=dtype, profile=profile.name, examples=len(ratios),
                max_ratio=max(ratios, default=0.0), median_ratio=statistics.median(ratios) if ratios else 0.0,
                p99_ratio=sorted(ratios)[int(0.99 * (len(ratios) - 1))] if ratios else 0.0,
                seconds=round(time.perf_counter() - t0, 1), **stats)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--profile", default="dev")
    ap.add_argument("--adapters", default=",".join(BUILTINS))
    ap.add_argument("--dtypes", default=None, help="comma-separated; default: every gradient dtype declared")
    ap.add_argument("--seconds", type=float, default=None, help="stop each (adapter, dtype) after this long")
    ap.add_argument("--out", default=None, help="append one JSON line per (adapter, dtype) here")
    args = ap.parse_args(argv)
    profile = get_profile(args.profile)
    print(f"{'adapter':<30}{'dtype':<10}{'examples':>9}{'ill':>5}{'max':>8}{'median':>9}{'p99':>8}{'fails':>6}{'s':>8}"
          "  worst case", flush=True)
    for name in args.adapters.split(","):
        try:
            adapter = load_adapter(name)
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"{name:<30}unavailable: {e}")
            continue
        caps = adapter.capabilities()
        if not caps.gradients:
            print(f"{adapter.name:<30}no gradients declared: {caps.gradients_reason or '-'}")
            continue
        for dtype in (args.dtypes.split(",") if args.dtypes else caps.gradient_dtypes):
            s = calibrate(adapter, dtype, args.n, profile, args.seconds)
            print(f"{s['adapter']:<30}{dtype:<10}{s['examples']:>9}{s['ill_conditioned']:>5}{s['max_ratio']:>8.3f}"
                  f"{s['median_ratio']:>9.3g}"
                  f"{s['p99_ratio']:>8.3f}{s['failures']:>6}{s['seconds']:>8.0f}  {s['worst']} [{s['worst_arrays']}]",
                  flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(s) + "\n")


if __name__ == "__main__":
    main()
