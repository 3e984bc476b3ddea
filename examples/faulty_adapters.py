"""Adapters that misbehave, one fault each: the suite must name the fault and carry on.

Each computes the right answer (the oracle) and then breaks the adapter contract in one
way seen in real wrappers. They exist to test the suite's robustness, for example:

    gru-conformance check examples/faulty_adapters.py:Hangs --timeout 0.5

``FAULTS`` maps the fault kind the suite reports (conformance.execute.Fault.kind) to
the adapter that commits it.
"""

import time

import numpy as np

from conformance import Capabilities, GRUResult, oracle

HANG_SECONDS = 5.0  # longer than the short timeouts the tests use


class _Faulty:
    """Float64, forward, one layer, with or without h0: three features to check, quickly."""

    name = "faulty"

    def capabilities(self):
        return Capabilities(dtypes=("float64",), directions=("forward",), max_layers=1, reset_after=(True,),
                            bias=(True,), initial_state=True, lengths=False)

    def run(self, case):
        return oracle(case)


class Raises(_Faulty):
    name = "faulty-raises"

    def run(self, case):
        raise RuntimeError("cuDNN error: CUDNN_STATUS_BAD_PARAM")


class Hangs(_Faulty):
    name = "faulty-hangs"

    def run(self, case):
        time.sleep(HANG_SECONDS)  # a deadlock, a stuck device queue, an input() call...
        return oracle(case)


class BadResult(_Faulty):
    name = "faulty-bad-result"

    def run(self, case):
        r = oracle(case)
        return r.y, r.h_n  # a tuple, as nn.GRU returns it, instead of a GRUResult


class WrongShape(_Faulty):
    name = "faulty-wrong-shape"

    def run(self, case):
        r = oracle(case)
        return GRUResult(r.y, r.h_n[-1])  # h_n without its leading (layers * directions) axis


class WrongDtype(_Faulty):
    name = "faulty-wrong-dtype"

    def run(self, case):
        r = oracle(case)
        return GRUResult(r.y.astype(np.float32), r.h_n.astype(np.float32))  # float32 for a float64 case


class ReturnsNaN(_Faulty):
    name = "faulty-nan"

    def run(self, case):
        r = oracle(case)
        r.y[-1, 0, 0] = np.nan  # e.g. 0/0 in a fused kernel's last step
        return r


class ReturnsInf(_Faulty):
    name = "faulty-inf"

    def run(self, case):
        r = oracle(case)
        r.h_n[0, 0, 0] = np.inf  # e.g. an overflowing exp in a float16 sigmoid
        return r


class MutatesInput(_Faulty):
    name = "faulty-mutates-input"

    def run(self, case):
        r = oracle(case)
        case.x[0] *= 0.5  # an in-place "normalisation" of the caller's input
        return r


class AliasesInput(_Faulty):
    name = "faulty-aliases-input"

    def run(self, case):
        r = oracle(case)
        if case.h0 is not None:
            r.h_n = case.h0  # h_n handed back as the caller's own h0 buffer
        return r


class NonDeterministic(_Faulty):
    name = "faulty-non-deterministic"

    def __init__(self):
        self.calls = 0

    def run(self, case):
        self.calls += 1
        r = oracle(case)
        if self.calls % 2:  # a last-bit difference, like an unordered parallel reduction
            r.y = np.nextafter(r.y, np.inf)
        return r


FAULTS = {
    "raises": Raises, "hangs": Hangs, "bad-result": BadResult, "wrong-shape": WrongShape,
    "wrong-dtype": WrongDtype, "non-finite": ReturnsNaN, "mutates-input": MutatesInput,
    "aliases-input": AliasesInput, "non-deterministic": NonDeterministic,
}
