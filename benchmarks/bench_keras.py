"""Examples per second of the Keras adapters on small cases, for the current KERAS_BACKEND.

A feature check runs a stream of tiny cases whose structures rarely repeat, so what a new
structure costs is what counts: building Keras layers, tracing or compiling them (per layer, or
per layer and shape under jax.jit), and Keras's per-call overhead. The cases are drawn the way
the checks draw them: for each feature the adapter supports, ``--per-feature`` cases of the ci
profile (T <= 6, B <= 4, sizes <= 5, up to 3 layers) from ``gru_cases`` with Hypothesis's
generate phase, derandomized. Figures, examples/s, wall clock:

* ``stream``: the first pass, a fresh adapter, as a feature check sees it (shared layers and
  compiles within the stream count; framework start-up, warmed on a few other cases, does not);
  ``stream/cpu-s`` the same per second of the process's CPU time, which other work on a busy
  machine disturbs far less than the wall clock;
* ``cached run`` and ``cached verify``: the third and fourth passes over the same stream, every
  layer built and those used often compiled (``verify`` is the whole per-example check: the
  adapter in its own thread, the oracle, the tolerance, the comparison).

Each adapter variant runs in its own process, so that none inherits another's warm caches.
Run: KERAS_BACKEND=jax python benchmarks/bench_keras.py [--per-feature N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

TARGET = 50  # examples per second, stream of new structures
VARIANTS = {  # label -> (class, keyword arguments)
    "default": ("KerasGRU", {}),
    "compiled": ("KerasGRU", {"compiled": True}),
    "eager": ("KerasGRU", {"compiled": False}),
    "cell": ("KerasGRUCell", {}),
}


def draw_stream(caps, per_feature: int, seed: int = 0) -> list:
    """The cases a run of every supported feature's check draws first (no shrinking, no failure)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from conformance.features import FEATURES
    from conformance.strategies import gru_cases

    cases = []
    for f in FEATURES:
        if not f.supported(caps):
            continue

        @hypothesis_seed(seed)
        @settings(max_examples=per_feature, derandomize=seed == 0, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(gru_cases(caps, "ci", **f.constraints))
        def collect(case):
            cases.append(case)

        collect()
    return cases


def one_pass(fn, cases, cpu: bool = False) -> float | tuple:
    """Examples per second of wall clock; with ``cpu``, also per second of this process's CPU time
    (all its threads), a figure that a machine busy with other work disturbs far less."""
    t0, c0 = time.perf_counter(), time.process_time()
    for c in cases:
        fn(c)
    wall = len(cases) / (time.perf_counter() - t0)
    return (wall, len(cases) / (time.process_time() - c0)) if cpu else wall


def measure(label: str, per_feature: int) -> dict:
    """One variant, in this process: its stream and cached figures."""
    from functools import partial

    from conformance.checks import verify
    from conformance.frameworks.keras import adapters as keras_gru

    cls, kwargs = VARIANTS[label]
    make = partial(getattr(keras_gru, cls), **kwargs)
    adapter = make()
    for case in draw_stream(adapter.capabilities(), 1, seed=1)[:6]:  # framework start-up, other cases
        make(cache=0).run(case)
    cases = draw_stream(adapter.capabilities(), per_feature)
    stream, stream_cpu = one_pass(adapter.run, cases, cpu=True)
    one_pass(adapter.run, cases)  # layers used often turn compiled on their own schedule (COMPILE_AFTER)
    cached = one_pass(adapter.run, cases)
    check = one_pass(partial(verify, adapter), cases)
    failed = sum(not verify(adapter, c).passed for c in cases)
    return dict(name=adapter.name, label=label, cases=len(cases), stream=stream, stream_cpu=stream_cpu, cached=cached,
                verify=check,
                failed=failed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-feature", type=int, default=25, help="cases per supported feature (the ci profile's 25)")
    ap.add_argument("--variants", default=None, help="comma-separated subset of " + ",".join(VARIANTS))
    ap.add_argument("--one", help=argparse.SUPPRESS)  # run one variant here, print JSON
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.per_feature)))
        return

    import keras

    backend = keras.backend.backend()
    labels = args.variants.split(",") if args.variants else [v for v in VARIANTS if backend != "torch" or
                                                              v in ("default", "cell")]
    print(f"keras {keras.__version__}, backend {backend}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; examples/s, wall clock; target >= {TARGET} for the stream")
    print(f"{'adapter':36s} {'cases':>5s} {'stream':>7s} {'stream/cpu-s':>12s} {'cached run':>11s} "
          f"{'cached verify':>14s}")
    for label in labels:
        out = subprocess.run([sys.executable, __file__, "--one", label, "--per-feature", str(args.per_feature)],
                             capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        mark = "" if r["stream"] >= TARGET else "  (below target)"
        mark += f"  ({r['failed']} cases FAIL verify)" if r["failed"] else ""
        name = r["name"] + ("" if label in ("default", "cell") else f" {label}")
        print(f"{name:36s} {r['cases']:5d} {r['stream']:7.1f} {r['stream_cpu']:12.1f} {r['cached']:11.0f} "
              f"{r['verify']:14.0f}{mark}", flush=True)


if __name__ == "__main__":
    main()
