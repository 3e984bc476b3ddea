"""Examples per second of the whole per-example check, forward only and forward + backward, per adapter.

The cases are drawn once per adapter, as a feature check draws them (ci profile sizes, derandomized,
every dtype the adapter declares gradients in), and each is checked twice: ``verify`` (the adapter's
run, the oracle, the tolerance, the comparison) and ``verify`` + ``verify_backward`` (the adapter's
vjp, the reference VJP, the gradient tolerance with its probes, the comparison). A first pass over
the cases warms every cache (built modules, layers); the timed pass is the second. Keras runs on the
backend KERAS_BACKEND names.

    python benchmarks/bench_backward_speed.py [--cases 200] [--adapters torch.nn.GRU,...]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.backward import verify_backward  # noqa: E402
from conformance.checks import verify  # noqa: E402
from conformance.loader import load  # noqa: E402
from conformance.profiles import get_profile  # noqa: E402
from conformance.strategies import gru_cases  # noqa: E402

DEFAULT = ("reference,torch.nn.GRU,torch.nn.GRU[batch_first],torch.nn.GRUCell,keras.GRU[tensorflow],"
           "keras.GRUCell[tensorflow],keras.GRU[jax],keras.GRUCell[jax],keras.GRU[torch],keras.GRUCell[torch],"
           "conformance.frameworks.torch.backward_mutants:correct")


def draw(caps, n: int) -> list:
    cases = []
    caps = dataclasses.replace(caps, dtypes=caps.gradient_dtypes)

    @settings(max_examples=n, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(gru_cases(caps, get_profile("ci")))
    def collect(case):
        cases.append(case)

    collect()
    return cases[:n]


def rate(fn, cases) -> float:
    for c in cases:  # warm every cache
        fn(c)
    t0 = time.perf_counter()
    for c in cases:
        fn(c)
    return len(cases) / (time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--adapters", default=DEFAULT)
    args = ap.parse_args(argv)
    print(f"{'adapter':<52}{'cases':>6}{'forward ex/s':>14}{'fwd+bwd ex/s':>14}{'ratio':>7}", flush=True)
    for name in args.adapters.split(","):
        entry = load(name)
        if not entry.available:
            print(f"{name:<52}unavailable: {entry.reason}")
            continue
        a = entry.adapter
        caps = a.capabilities()
        if not caps.gradients:
            print(f"{a.name:<52}no gradients: {caps.gradients_reason}")
            continue
        cases = draw(caps, args.cases)
        fwd = rate(lambda c, a=a, caps=caps: verify(a, c, capabilities=caps), cases)
        both = rate(lambda c, a=a, caps=caps: (verify(a, c, capabilities=caps),
                                               verify_backward(a, c, capabilities=caps)), cases)
        print(f"{a.name:<52}{len(cases):>6}{fwd:>14.1f}{both:>14.1f}{fwd / both:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
