"""Detection power of the backward check: every backward mutant, its examples to the first failure and its class.

Each mutant (conformance/frameworks/torch/backward_mutants.py) has a correct forward and one bug in
a hand-written backward. The features are searched in order, ci profile, as ``gru-conformance
check`` does; for each mutant: the first feature whose backward fails, the backward examples run
up to the first failure there, and the bug classes the diagnosis names (expected: the mutant's).

    python benchmarks/bench_backward_mutants.py [--profile ci]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.checks import check_feature, supported_features  # noqa: E402
from conformance.frameworks.torch.backward_mutants import BACKWARD_BUGS, BackwardMutantGRU  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="ci")
    args = ap.parse_args(argv)
    print(f"{'mutant':<22}{'killed by':<16}{'examples':>9}  {'named class':<30}{'expected':<30}ok")
    for bug in (None, *BACKWARD_BUGS):
        a = BackwardMutantGRU(bug.name if bug else None)
        kill = None
        for f in supported_features(a.capabilities()):
            r = check_feature(a, f, args.profile)
            if r.status != "pass":
                print(f"{a.name}: the forward fails on {f}: {r.report()}")
            if r.backward.status == "fail":
                kill = r.backward
                break
        if bug is None:
            print(f"{'(correct)':<22}{'-' if kill is None else kill.feature:<16}")
            continue
        if kill is None:
            print(f"{bug.name:<22}SURVIVED")
            continue
        named = ", ".join(map(str, kill.bug_classes)) or "unexplained"
        print(f"{bug.name:<22}{kill.feature:<16}{kill.first_failure_at:>9}  {named:<30}{bug.bug_class!s:<30}"
              f"{'yes' if kill.bug_classes == [bug.bug_class] else 'NO'}", flush=True)


if __name__ == "__main__":
    main()
