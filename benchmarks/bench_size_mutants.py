"""The size-dependent mutants: examples to kill, the minimal case, and the class named.

Each mutant of conformance.mutants that shows only above a size (a scan chunked every 64 steps
that restarts from h0, a 32-wide tiled recurrent matmul dropping its remainder tile, a kernel in
16-row batch blocks reading the first block's state) is run through its size check: once with
the ci profile (derandomized, as CI runs it) and with N random seeds.

    python benchmarks/bench_size_mutants.py [--seeds 20] [--profile ci]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from conformance.checks import check_feature
from conformance.mutants import MutantGRU

SIZE_MUTANTS = {"chunk-state-lost": "long", "remainder-tile-dropped": "large", "batch-block-state": "large"}


def _row(label, r, seconds):
    c = r.verdict.case if r.verdict else None
    size = f"I={c.spec.input_size} H={c.spec.hidden_size} B={c.B} T={c.T}" if c else "-"
    return (f"{label:<34}{r.status:<6}{r.first_failure_at or '-':>8}{r.examples:>9}{seconds:>7.1f}  {size:<26}"
            f"{', '.join(map(str, r.bug_classes))}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--profile", default="ci")
    args = ap.parse_args(argv)
    print(f"{'mutant / run':<34}{'status':<6}{'killed at':>8}{'examples':>9}{'s':>7}  {'minimal case':<26}class named")
    for bug, feature in SIZE_MUTANTS.items():
        t = time.perf_counter()
        r = check_feature(MutantGRU(bug), feature, args.profile)
        print(_row(f"{bug} ({feature}, {args.profile})", r, time.perf_counter() - t), flush=True)
        kills, sizes = [], []
        for s in range(args.seeds):
            r = check_feature(MutantGRU(bug), feature, args.profile, seed=s)
            if r.status == "fail":
                c = r.verdict.case
                kills.append(r.first_failure_at)
                sizes.append((c.spec.hidden_size, c.B, c.T))
        k = np.array(kills) if kills else np.zeros(1)
        print(f"  {args.seeds} seeds: killed on {len(kills)}, examples to kill median {np.median(k):g}, max "
              f"{k.max():g}; minimal (H, B, T): {sorted(set(sizes))}", flush=True)


if __name__ == "__main__":
    main()
