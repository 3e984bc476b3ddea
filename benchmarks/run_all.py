"""Every headline figure, side by side, from one run.

1. detection power: kill rate of the mutant catalogue, and examples-to-kill (median, max)
   over seeded searches through the features in order;
2. examples per second of each available built-in adapter on small (ci profile) cases;
3. the oracle against torch's float64 nn.GRU at T=256, B=32, I=H=128;
4. the full test suite's wall time, serial and with ``pytest -n 2``.

    python benchmarks/run_all.py [--seeds 10] [--cases 200] [--parts mutants,speed,oracle,suite]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings

from conformance.builtins import BY_NAME as BUILTINS
from conformance.checks import check_feature, supported_features, verify
from conformance.loader import load_adapter
from conformance.mutants import BUGS, MutantGRU
from conformance.strategies import gru_cases

ROOT = Path(__file__).resolve().parent.parent


def examples_to_kill(adapter, seed) -> tuple:
    """(examples run until the first failure, the failing result) for one seeded search."""
    spent = 0
    for feature in supported_features(adapter.capabilities()):
        r = check_feature(adapter, feature, "ci", seed=seed)
        if r.status == "fail":
            return spent + r.first_failure_at, r
        spent += r.examples
    return None, None


def mutant_table(seeds: int):
    print(f"\n## Detection power ({len(BUGS)} mutants, {seeds} seeded searches each)\n")
    print("| mutant | class | killed | named | examples-to-kill median | max |")
    print("|---|---|---|---|---|---|")
    killed = named = 0
    for bug in BUGS:
        m = MutantGRU(bug.name)
        counts, names = [], []
        for s in range(seeds):
            n, r = examples_to_kill(m, s)
            if n is not None:
                counts.append(n)
                names.append(bug.bug_class in r.bug_classes)
        ok = len(counts) == seeds
        killed += ok
        named += ok and all(names)
        med = statistics.median(counts) if counts else float("nan")
        print(f"| {bug.name} | {bug.bug_class} | {len(counts)}/{seeds} | {sum(names)}/{len(names)} | {med:g} | "
              f"{max(counts) if counts else '-'} |", flush=True)
    print(f"\nkill rate: {killed}/{len(BUGS)} killed on every seed; {named}/{len(BUGS)} named on every seed")


def draw_cases(caps, n):
    cases = []

    @settings(max_examples=n, derandomize=True, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(gru_cases(caps, "ci"))
    def collect(case):
        cases.append(case)

    collect()
    return cases


def speed_table(n: int):
    print(f"\n## Examples per second on small cases ({n} ci-profile cases per adapter)\n")
    print("| adapter | run only | verify (run + oracle + compare) |")
    print("|---|---|---|")
    for name in BUILTINS:
        try:
            adapter = load_adapter(name)
        except Exception as e:  # noqa: BLE001 - an unavailable framework is reported
            print(f"| {name} | unavailable: {e} | |")
            continue
        caps = adapter.capabilities()
        if not supported_features(caps):
            print(f"| {adapter.name} | runs nothing: {next(iter(caps.unsupported.values()), '')[:80]} | |")
            continue
        cases = draw_cases(caps, n)
        for c in cases[:10]:  # warm the per-structure caches
            adapter.run(c)
        t0 = time.perf_counter()
        for c in cases:
            adapter.run(c)
        run_rate = len(cases) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for c in cases:
            verify(adapter, c, capabilities=caps)
        print(f"| {adapter.name} | {run_rate:.0f} | {len(cases) / (time.perf_counter() - t0):.0f} |", flush=True)


def oracle_ratio():
    print("\n## Oracle against torch float64 nn.GRU (T=256, B=32, I=H=128)\n")
    try:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import bench_oracle
    except ImportError as e:
        print(f"unavailable: {e}")
        return
    bench_oracle.main()


def suite_times():
    print("\n## Full test suite wall time\n")
    env = dict(os.environ, GRU_CONFORMANCE_PROFILE="ci")
    times = {}
    for label, extra in (("serial", []), ("-n 2", ["-n", "2"])):
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra], cwd=ROOT,
                             env=env, stdout=subprocess.DEVNULL)
        times[label] = time.perf_counter() - t0
        print(f"- pytest {label}: {times[label]:.0f} s (exit code {rc})", flush=True)
    print(f"- speed-up from -n 2: {times['serial'] / times['-n 2']:.2f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--parts", default="mutants,speed,oracle,suite",
                    help="which tables to print (comma-separated; the suite timing runs the tests twice)")
    args = ap.parse_args(argv)
    parts = args.parts.split(",")
    for name, run in (("mutants", lambda: mutant_table(args.seeds)), ("speed", lambda: speed_table(args.cases)),
                      ("oracle", oracle_ratio), ("suite", suite_times)):
        if name in parts:
            run()


if __name__ == "__main__":
    main()
