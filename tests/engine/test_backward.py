"""The backward check's engine: contract, faults, cotangents, tolerance floor, variants and diagnosis, report rows.

The variants are checked for what the diagnosis needs: each differs from the reference on a rich
case, and an adapter whose vjp computes exactly that variant is named by it. (That an implementation
with the bug is also named is the mutants' test: tests/frameworks/torch/test_backward_mutants.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.backward import verify_backward
from conformance.backward_variants import BACKWARD_VARIANTS, _bptt_variant
from conformance.case import GRUCase, GRUResult, GRUSpec
from conformance.checks import check_feature
from conformance.contract import Capabilities
from conformance.dtypes import is_representable, result_array, round_to
from conformance.frameworks.reference import ReferenceAdapter
from conformance.gradients import Gradients, cotangents, reference_vjp
from conformance.report.run import AdapterRun
from conformance.report.text import matrix_rows
from conformance.status import Status
from conformance.values import case_values


def rich_case(dtype="float64", direction="bidirectional", layers=2, seed=3) -> GRUCase:
    spec = GRUSpec(3, 4, layers, direction, True, True)
    weights, x, h0 = case_values(spec, 6, 3, dtype, seed, h0=True, saturating=False)
    return GRUCase(spec, weights, x, h0, np.array([6, 3, 1]), dtype, seed=seed)


class Fake(ReferenceAdapter):
    """The oracle's forward, a vjp given as a function, and declared gradients."""

    name = "fake"

    def __init__(self, vjp=None, gradients=("x", "h0", "weights"), **caps):
        self._vjp, self._gradients, self._caps = vjp, gradients, caps

    def capabilities(self):
        c = super().capabilities()
        kw = {k: getattr(c, k) for k in ("dtypes", "directions", "max_layers", "reset_after", "bias", "lengths",
                                         "activations", "clip")}
        return Capabilities(**{**kw, "gradients": self._gradients, **self._caps})

    def vjp(self, case, y_bar, hn_bar):
        return self._vjp(case, y_bar, hn_bar)


def test_no_gradients_declared_is_unsupported_with_the_reason():
    r = check_feature(Fake(gradients=(), gradients_reason="my kernel has no backward yet"), "float64")
    assert r.status == Status.PASS
    assert r.backward.status == Status.UNSUPPORTED and r.backward.reason == "my kernel has no backward yet"


def test_declared_gradients_without_vjp_is_an_error():
    a = Fake()
    a.vjp = None  # declared, but not callable
    r = check_feature(a, "float64")
    assert r.backward.status == Status.ERROR and "no vjp" in r.backward.reason


@pytest.mark.parametrize("bad, kind", [
    (lambda c, y, h: 1 / 0, "raises"),
    (lambda c, y, h: Gradients(dx=np.zeros(3), dh0=None, dweights=None), "wrong-shape"),
    (lambda c, y, h: Gradients(None, None, None), "bad-result"),
    (lambda c, y, h: reference_vjp(c, y, h).dx, "bad-result"),
    (lambda c, y, h: (y.fill(0), reference_vjp(c, y, h))[1], "mutates-input"),
    (lambda c, y, h: Gradients(*(lambda g: (g.dx * np.nan, g.dh0, g.dweights))(reference_vjp(c, y, h))),
     "non-finite"),
])
def test_a_faulty_vjp_is_a_named_fault(bad, kind):
    v = verify_backward(Fake(bad), rich_case())
    assert not v.passed and v.fault is not None and v.fault.kind == kind, v.message


def test_cotangents_are_seeded_exact_and_reach_padding_only_where_y_is_zero_there():
    case = rich_case("bfloat16")
    y1, h1 = cotangents(case)
    y2, h2 = cotangents(case)
    assert np.array_equal(y1, y2) and np.array_equal(h1, h2)
    assert is_representable(y1, "bfloat16") and is_representable(h1, "bfloat16")
    pad = np.arange(case.T)[:, None] >= case.lengths[None, :]
    assert np.all(y1[pad] != 0)  # "zeros" padding: a leak must show
    y3, _ = cotangents(case, padding="undefined")
    assert np.all(y3[pad] == 0) and np.array_equal(y3[~pad], y1[~pad])


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_the_reference_gradients_rounded_to_the_dtype_pass(dtype):
    """The tolerance is never below the rounding of the result itself."""
    case = rich_case(dtype)

    def rounded(c, y, h):
        g = reference_vjp(c, y, h)
        def r(a):
            return result_array(round_to(a, dtype), dtype)
        return Gradients(r(g.dx), r(g.dh0), [tuple(r(a) for a in p) for p in g.dweights])
    v = verify_backward(Fake(rounded, dtypes=("float64", dtype)), case)
    assert v.passed, v.message
    assert v.comparison.ratio > 0  # not vacuous: there is rounding to see


VARIANTS = [*BACKWARD_VARIANTS, _bptt_variant(2)]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_each_variant_differs_and_an_adapter_computing_it_is_named(variant):
    case = rich_case()
    y_bar, hn_bar = cotangents(case)
    candidate = variant.run(case, y_bar, hn_bar)
    assert candidate is not None
    v = verify_backward(Fake(variant.run), case)
    assert not v.passed, f"{variant.name} does not differ from the reference on a rich case"
    names = [e.name for e in v.diagnose().explanations]
    assert variant.name in names, names


def test_a_failing_forward_takes_precedence_and_the_backward_is_not_checked():
    class Broken(Fake):
        def run(self, case):
            r = super().run(case)
            return GRUResult(r.y + 1.0, r.h_n)

    r = check_feature(Broken(lambda c, y, h: Gradients(None, None, None)), "float64")
    assert r.status == Status.FAIL
    assert r.backward.status == Status.UNSUPPORTED and r.backward.reason.startswith("not checked")


def test_the_matrix_has_a_backward_row_per_feature():
    a = ReferenceAdapter()
    results = [check_feature(a, f) for f in ("float64", "float32", "lengths")]
    run = AdapterRun(a.name, "reference", results)
    header, rows = matrix_rows([run])
    labels = [label for label, _ in rows]
    assert labels[:4] == ["float64", "float64 (backward)", "float32", "float32 (backward)"]
    cells = dict(rows)
    assert cells["float64 (backward)"][0][0].startswith("pass")
    assert cells["float32 (backward)"][0][0] == "unsupported"
    assert cells["lengths (backward)"][0][0].startswith("pass")
    assert run.conformant


def test_an_ill_conditioned_case_is_counted_apart_not_compared():
    """One saturated unit, two bidirectional layers, T=12: in bfloat16 rounding alone moves the outputs by O(1)
    (the forward tolerance spans the output range), so the float64 gradient is not what bfloat16 can deliver."""
    spec = GRUSpec(1, 1, 2, "bidirectional", True, False)
    w, x, h0 = case_values(spec, 12, 1, "bfloat16", 164, h0=True, saturating=True)
    def wrong_dx(c, y, h):  # dx off by 1, every array in the result dtype
        g = reference_vjp(c, y, h)
        r = lambda a: result_array(round_to(a, c.dtype), c.dtype)  # noqa: E731
        return Gradients(r(g.dx + 1.0), r(g.dh0), [tuple(r(a) for a in p) for p in g.dweights])

    wrong = Fake(wrong_dx, dtypes=("float64", "bfloat16"))
    v = verify_backward(wrong, GRUCase(spec, w, x, h0, None, "bfloat16", seed=164))
    assert v.ill_conditioned and v.passed and "ill-conditioned" in v.message
    v64 = verify_backward(wrong, GRUCase(spec, w, x, h0, None, "float64", seed=164))
    assert not v64.ill_conditioned and not v64.passed  # the same values in float64 are compared, and fail
