"""The serving runtimes (OpenVINO, LiteRT, torch.compile): examples per second and calibration.

Examples per second, as in the README's table: 60 cases drawn by the suite's own strategy
inside each adapter's capabilities (ci profile; for torch.compile the small-T ``compile``
profile of conformance.builtins, since every new T recompiles); *first pass* is adapter.run on
a fresh adapter, building (converting, compiling) every structure the cases need; *cached* is
verify (oracle, tolerance, comparison included) over the same cases once built.

Calibration (``--calibrate N``): bench_calibration.calibrate over N examples per supported dtype,
in the same profiles: the largest error / tolerance must stay <= 0.5.

    python benchmarks/bench_runtimes.py [--adapters a,b] [--cases 60] [--calibrate 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, os.path.dirname(__file__))
from bench_calibration import calibrate  # noqa: E402

from conformance.builtins import BY_NAME, COMPILE_PROFILE, RUNTIMES  # noqa: E402
from conformance.checks import verify  # noqa: E402
from conformance.loader import load_adapter  # noqa: E402
from conformance.profiles import get_profile  # noqa: E402
from conformance.strategies import gru_cases  # noqa: E402


def profile_of(name: str):
    return COMPILE_PROFILE if BY_NAME[name].test_profile is COMPILE_PROFILE else get_profile("ci")


def draw(caps, profile, n: int) -> list:
    cases = []

    @settings(max_examples=n, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(gru_cases(caps, profile))
    def collect(case):
        cases.append(case)

    collect()
    return cases[:n]


def speed(name: str, n: int) -> dict:
    t0 = time.perf_counter()
    adapter = load_adapter(name)
    load_s = time.perf_counter() - t0
    caps = adapter.capabilities()
    cases = draw(caps, profile_of(name), n)
    t0 = time.perf_counter()
    for c in cases:
        adapter.run(c)
    first = len(cases) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    ok = sum(verify(adapter, c, capabilities=caps).passed for c in cases)
    cached = len(cases) / (time.perf_counter() - t0)
    return dict(n=len(cases), load_s=load_s, first=first, cached=cached, passed=ok,
                builds=len(getattr(adapter, "build_seconds", [])) or len(getattr(adapter, "_sessions", {})))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapters", default=",".join(b.name for b in RUNTIMES if b.supported))
    ap.add_argument("--cases", type=int, default=60)
    ap.add_argument("--calibrate", type=int, default=0, metavar="N")
    args = ap.parse_args(argv)
    names = args.adapters.split(",")
    print(f"{'adapter':<34}{'cases':>6}{'load s':>8}{'first pass/s':>14}{'cached/s':>10}{'passed':>8}{'builds':>8}")
    for name in names:
        s = speed(name, args.cases)
        print(f"{name:<34}{s['n']:>6}{s['load_s']:>8.1f}{s['first']:>14.1f}{s['cached']:>10.1f}{s['passed']:>8}"
              f"{s['builds']:>8}", flush=True)
    if not args.calibrate:
        return
    print(f"\n{'adapter':<34}{'dtype':<10}{'examples':>9}{'max err/tol':>13}{'max ULP':>11}{'fails':>7}{'s':>8}"
          "  worst case")
    for name in names:
        adapter = load_adapter(name)
        for dtype in adapter.capabilities().dtypes:
            s = calibrate(adapter, dtype, args.calibrate, profile_of(name))
            print(f"{name:<34}{dtype:<10}{s['n']:>9}{s['max_ratio']:>13.3f}{s['max_ulp']:>11.3g}"
                  f"{s['failures']:>7}{s['seconds']:>8.1f}  {s['worst']}", flush=True)


if __name__ == "__main__":
    main()
