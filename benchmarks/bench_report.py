"""Where the time of ``gru-conformance report`` goes: per built-in, the seconds spent loading it
(its framework's import and the adapter's probes), in its feature checks (ci profile), in its
error plot and in its graph summary, each built-in in a fresh process as a report worker runs it.

    python benchmarks/bench_report.py [--adapters a,b] [--profile ci]

The sum of the columns is what one process running every built-in in turn pays; the largest
row is the floor of a run with one worker per built-in (``gru-conformance report --jobs``).
Builds come from the on-disk build cache where stored (conformance/buildcache.py); run with
GRU_CONFORMANCE_BUILD_CACHE=off to time them. ``cpu`` is the process's CPU seconds (all its
threads): on a shared machine, a steadier figure than the wall clock, and the sum over built-ins
divided by the cores is the floor of a whole report.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def builds(adapter) -> int:
    """How many exports, conversions or compiled modules the adapter holds (its per-structure cache)."""
    for attr in ("exports", "built", "modules"):
        if isinstance(getattr(adapter, attr, None), dict):
            return len(getattr(adapter, attr))
    return 0


def one(name: str, profile: str) -> dict:
    """The phases of one built-in, in this process."""
    t0 = time.perf_counter()
    from conformance import buildcache
    from conformance.builtins import BY_NAME
    from conformance.contract import graph_summary
    from conformance.loader import load
    from conformance.report.plots import plot_errors
    from conformance.report.run import run_checks

    for k, v in BY_NAME[name].environ.items():
        os.environ[k] = v
    e = load(name)
    out = dict(name=name, load=time.perf_counter() - t0)
    if not e.available:
        return dict(out, unavailable=e.reason)
    features, t = {}, time.perf_counter()

    def start(f):
        features[f] = time.perf_counter()

    def done(r):
        features[r.feature] = round(time.perf_counter() - features[r.feature], 2)

    c = time.process_time()
    results = run_checks(e.adapter, None, profile, ref=name, on_start=start, on_result=done)
    out.update(checks=time.perf_counter() - t, checks_cpu=time.process_time() - c,
               examples=sum(r.examples for r in results), features=features)
    out["builds"] = builds(e.adapter)
    t = time.perf_counter()
    plot_errors(e.adapter, "/tmp/bench-report-plots", results=results)  # as the report draws it: nothing reruns
    out["plot"] = time.perf_counter() - t
    t = time.perf_counter()
    graph_summary(e.adapter)
    out["graph"] = time.perf_counter() - t
    out["cpu"] = time.process_time()
    out["builds_after"] = builds(e.adapter)
    out["from_cache"] = buildcache.STATS.hits
    return out


def main(argv=None):
    from conformance.builtins import BY_NAME

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--adapters", default=",".join(BY_NAME))
    ap.add_argument("--profile", default="ci")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.profile)))
        return
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; seconds, wall clock")
    print(f"{'adapter':34s} {'load':>6s} {'checks':>7s} {'examples':>8s} {'plot':>6s} {'graph':>6s} {'total':>7s}"
          f" {'cpu':>6s}")
    total = 0.0
    for name in args.adapters.split(","):
        env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--one", name, "--profile", args.profile], env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - t
        total += wall
        if proc.returncode:
            print(f"{name:34s} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        if "unavailable" in r:
            print(f"{name:34s} unavailable: {r['unavailable']}")
            continue
        print(f"{name:34s} {r['load']:6.1f} {r['checks']:7.1f} {r['examples']:8d} {r['plot']:6.1f} {r['graph']:6.1f} "
              f"{wall:7.1f} {r['cpu']:6.1f}  builds {r['builds']}+{r['builds_after'] - r['builds']} "
              f"({r['from_cache']} from the build cache); slowest: "
              + ", ".join(f"{k} {v}" for k, v in sorted(r["features"].items(), key=lambda kv: -kv[1])[:3]),
              flush=True)
    print(f"{'all, one after another':34s} {total:45.1f}")


if __name__ == "__main__":
    main()
