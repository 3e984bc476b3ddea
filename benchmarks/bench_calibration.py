"""Calibrate the tolerance, and measure what it lets through, before and after.

Four tables, each for the per-element tolerance (conformance.tolerance, "new") and the
one-number tolerance it replaced (benchmarks/legacy_tolerance.py, "old"):

calibrate    per built-in adapter and dtype: N drawn cases (default 10,000), max and
             median of error / tolerance (the target: max in (0.1, 0.5]), the max over the
             elements whose error scale is below half its hard bound ("ordinary"), failures, and
             how many passing cases a trivial answer would have passed too (the checks
             redraw those, so the new figures leave them out; the old ones count every case)
zeros        per dtype and profile: the share of drawn cases that an implementation
             returning all zeros passes (before the checks' redraw; after it, 0 by construction)
sensitivity  per dtype: the share of drawn cases in which a planted deviation is caught:
             one bias changed by a relative 1e-1 .. 1e-6, and the gross bugs (hard sigmoid,
             reset position, bias placement, gate order, outputs scaled by 0.9)

    python benchmarks/bench_calibration.py calibrate [-n 10000] [--profile dev] [--adapters a,b] [--dtypes ..]
    python benchmarks/bench_calibration.py zeros [-n 2000]
    python benchmarks/bench_calibration.py sensitivity [-n 500] [--profile ci]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from legacy_tolerance import tolerance as old_tolerance  # noqa: E402

import references  # noqa: E402
from conformance import Capabilities, GRUResult  # noqa: E402
from conformance.builtins import BY_NAME as BUILTINS  # noqa: E402
from conformance.canonical import oracle  # noqa: E402
from conformance.casefile import save_case  # noqa: E402
from conformance.compare import compare  # noqa: E402
from conformance.dtypes import DTYPES  # noqa: E402
from conformance.execute import run_safely  # noqa: E402
from conformance.loader import load_adapter  # noqa: E402
from conformance.profiles import get_profile  # noqa: E402
from conformance.strategies import gru_cases  # noqa: E402
from conformance.tolerance import Tolerance, _scales, tolerance, trivial_answer  # noqa: E402
from conformance.variants import VARIANTS  # noqa: E402

ALL = Capabilities(dtypes=DTYPES, directions=("forward", "reverse", "bidirectional"), max_layers=8,
                   reset_after=(True, False), bias=(True, False), initial_state=True, lengths=True,
                   activations=references.ACTIVATIONS, clip=True)


def draw(caps, profile, n: int, **constraints) -> list:
    cases = []

    @settings(max_examples=n, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(gru_cases(caps, profile, **constraints))
    def collect(case):
        cases.append(case)

    collect()
    return cases


def uncapped(case, expected, result, padding) -> float:
    """error / tolerance over the elements whose error scale is below half its hard bound.

    Where rounding is amplified to O(1) (chaotic or saturating dynamics) the tolerance is
    the bound itself (tolerance.NEAR_BOUND); this figure leaves those elements out, to show
    how much of SAFETY * e the ordinary elements use.
    """
    e, bound = _scales(case, case.dtype)
    tol = tolerance(case)
    return compare(case, expected, result, Tolerance(np.where(e.y < bound.y / 2, tol.y, np.inf),
                                                     np.where(e.h_n < bound.h_n / 2, tol.h_n, np.inf)), padding).ratio


def calibrate(adapter, dtype: str, n: int, profile) -> dict:
    caps = adapter.capabilities()
    st = dict(n=0, new=[], old=[], uncapped=[], new_fail=0, old_fail=0, faults=0, trivial=0, worst=(0.0, ""))

    @settings(max_examples=n, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(gru_cases(caps, profile, dtype=dtype))
    def run(case):
        result, fault = run_safely(adapter, case, 60)
        st["n"] += 1
        if fault:
            st["faults"] += 1
            return
        expected = oracle(case)
        tol = tolerance(case)
        new = compare(case, expected, result, tol, caps.padding)
        old = compare(case, expected, result, old_tolerance(case, expected), caps.padding)
        st["old"].append(old.ratio)
        st["old_fail"] += not old.passed
        if new.passed and trivial_answer(case, expected, tol) is not None:  # the checks redraw it
            st["trivial"] += 1
            return
        st["new"].append(new.ratio)
        st["uncapped"].append(uncapped(case, expected, result, caps.padding))
        st["new_fail"] += not new.passed
        if new.ratio > st["worst"][0]:
            st["worst"] = (new.ratio, case.describe())
            st["worst_case"] = case

    t0 = time.perf_counter()
    run()
    st["seconds"] = time.perf_counter() - t0
    return st


def cmd_calibrate(args):
    profile = get_profile(args.profile)
    print(f"profile {profile.name}; ratio = max over elements of |error| / tolerance, per case")
    print(f"{'adapter':<30}{'dtype':<10}{'cases':>7}{'old max':>9}{'old med':>9}{'new max':>9}{'new med':>9}"
          f"{'ordinary':>9}"
          f"{'old fail':>9}{'new fail':>9}{'trivial':>8}{'s':>7}  worst case (new)")
    for name in args.adapters.split(","):
        try:
            adapter = load_adapter(name)
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"{name:<30}unavailable: {e}")
            continue
        for dtype in adapter.capabilities().dtypes:
            if args.dtypes and dtype not in args.dtypes.split(","):
                continue
            s = calibrate(adapter, dtype, args.n, profile)
            if args.save_worst and "worst_case" in s:
                save_case(s["worst_case"], Path(args.save_worst) / f"{adapter.name}-{dtype}.npz")
            new, old = np.array(s["new"]), np.array(s["old"])
            print(f"{adapter.name:<30}{dtype:<10}{s['n']:>7}{old.max(initial=0):>9.3g}{np.median(old):>9.3g}"
                  f"{new.max(initial=0):>9.3g}{np.median(new):>9.3g}{max(s['uncapped'], default=0):>9.3g}"
                  f"{s['old_fail']:>9}{s['new_fail']:>9}"
                  f"{s['trivial']:>8}{s['seconds']:>7.0f}  {s['worst'][1]}"
                  + (f"  ({s['faults']} faults)" if s["faults"] else ""), flush=True)


def _zeros(case):
    e = oracle(case)
    z = GRUResult(np.zeros_like(e.y), np.zeros_like(e.h_n))
    return (compare(case, e, z, old_tolerance(case, e)).passed, compare(case, e, z, tolerance(case)).passed,
            trivial_answer(case, e, tolerance(case)) is not None)


def cmd_zeros(args):
    print("share of drawn cases (every feature, ONNX activations included) that all zeros passes")
    print(f"{'profile':<9}{'dtype':<10}{'cases':>7}{'old':>8}{'new':>8}{'trivial (redrawn)':>19}")
    for prof in args.profiles.split(","):
        for dtype in DTYPES:
            cases = draw(ALL, get_profile(prof), args.n, dtype=dtype)
            r = np.array([_zeros(c) for c in cases])
            print(f"{prof:<9}{dtype:<10}{len(cases):>7}{r[:, 0].mean():>8.1%}{r[:, 1].mean():>8.1%}"
                  f"{r[:, 2].mean():>19.1%}", flush=True)


def _bias_planted(rel):
    def run(case):
        params = [tuple(np.array(a) for a in w) for w in case.weights]
        params[0][3][1, 0] *= 1 + rel  # b_Ur, unit 0, layer 0
        return oracle(case, params=params)
    return run


def _scaled(case):
    r = oracle(case)
    return GRUResult(0.9 * r.y, 0.9 * r.h_n)


GROSS = {v.name: v.run for v in VARIANTS if v.name in ("hard-sigmoid", "reset-flipped", "bUn-folded", "gates-rzn")}
GROSS["outputs x0.9"] = _scaled
LADDER = (3e-1, 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6)


def cmd_sensitivity(args):
    caps = Capabilities(dtypes=DTYPES, directions=("forward", "reverse", "bidirectional"), max_layers=3,
                        reset_after=(True, False), bias=(True,), initial_state=True, lengths=True)
    profile = get_profile(args.profile)
    print(f"share of drawn cases ({profile.name} profile, {args.n} per dtype) in which a planted deviation "
          "is caught, old / new tolerance")
    rows = [(f"bias x(1{rel:+.0e})", _bias_planted(rel)) for rel in LADDER] + list(GROSS.items())
    table = {}
    for dtype in DTYPES:
        cases = [(c, oracle(c)) for c in draw(caps, profile, args.n, dtype=dtype)]
        tols = [(old_tolerance(c, e), tolerance(c)) for c, e in cases]
        for label, fn in rows:
            hits, applied = np.zeros(2), 0
            for (c, e), (t_old, t_new) in zip(cases, tols, strict=True):
                planted = fn(c)
                if planted is None:
                    continue
                applied += 1
                hits += [not compare(c, e, planted, t).passed for t in (t_old, t_new)]
            table[label, dtype] = hits / max(applied, 1)
        smallest = [min((r for r in LADDER if table[f"bias x(1{r:+.0e})", dtype][k] > 0), default=None)
                    for k in (0, 1)]
        print(f"  {dtype}: smallest relative bias deviation caught in some case: old {smallest[0]}, "
              f"new {smallest[1]}", flush=True)
    print(f"{'deviation':<22}" + "".join(f"{d:>16}" for d in DTYPES))
    for label, _ in rows:
        print(f"{label:<22}" + "".join(f"{table[label, d][0]:>7.1%} /{table[label, d][1]:>7.1%}" for d in DTYPES))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("calibrate")
    c.add_argument("-n", type=int, default=10_000)
    c.add_argument("--profile", default="dev")
    c.add_argument("--adapters", default=",".join(BUILTINS))
    c.add_argument("--dtypes", default="")
    c.add_argument("--save-worst", default="", help="a folder for the worst case of each adapter and dtype")
    z = sub.add_parser("zeros")
    z.add_argument("-n", type=int, default=2000)
    z.add_argument("--profiles", default="ci,dev")
    s = sub.add_parser("sensitivity")
    s.add_argument("-n", type=int, default=500)
    s.add_argument("--profile", default="ci")
    args = ap.parse_args(argv)
    {"calibrate": cmd_calibrate, "zeros": cmd_zeros, "sensitivity": cmd_sensitivity}[args.cmd](args)


if __name__ == "__main__":
    main()
