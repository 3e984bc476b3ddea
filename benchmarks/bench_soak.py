"""Zero false failures: every correct built-in adapter through 20 seeds of the ci profile.

    python benchmarks/bench_soak.py [--seeds 20] [--adapters a,b]
"""

from __future__ import annotations

import argparse

from conformance.builtins import BY_NAME as BUILTINS
from conformance.loader import load_adapter
from conformance.soak import soak


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--adapters", default=",".join(BUILTINS))
    args = ap.parse_args(argv)
    print(f"{'adapter':<32}{'seeds':>6}{'checks':>8}{'examples':>10}{'max err/tol':>13}{'failures':>10}")
    total = 0
    for name in args.adapters.split(","):
        try:
            adapter = load_adapter(name)
        except Exception as e:  # noqa: BLE001 - an unavailable framework is reported, not fatal
            print(f"{name:<32}unavailable: {e}")
            continue
        r = soak(adapter, range(args.seeds))
        total += len(r.failures)
        print(f"{r.adapter:<32}{r.seeds:>6}{r.checks:>8}{r.examples:>10}{r.max_ratio:>13.3f}{len(r.failures):>10}",
              flush=True)
        for f in r.failures:
            print(f.report())
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
