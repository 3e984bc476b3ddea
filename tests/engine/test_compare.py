"""Comparison: errors in ULPs and the first divergence in processing order, on planted errors."""

import numpy as np

from conformance import GRUResult, GRUSpec, oracle
from conformance.case import GRUCase
from conformance.compare import carried, compare
from conformance.dtypes import round_to
from conformance.tolerance import tolerance
from conformance.tolerance.forward import CAP_MARGIN
from conformance.values import case_values


def make_case(direction="forward", lengths=None, dtype="float64", T=5, B=3, H=2, layers=1):
    spec = GRUSpec(2, H, layers, direction)
    weights, x, h0 = case_values(spec, T, B, dtype, seed=7, h0=True, saturating=False)
    return GRUCase(spec, weights, x, h0, lengths, dtype)


def planted(case, where_y=(), where_h=(), delta=1e-3):
    r = oracle(case)
    y, h = r.y.copy(), r.h_n.copy()
    for idx in where_y:
        y[idx] += delta
    for idx in where_h:
        h[idx] += delta
    return r, GRUResult(y, h)


def test_exact_result_passes_with_zero_error():
    case = make_case()
    r = oracle(case)
    c = compare(case, r, GRUResult(r.y.copy(), r.h_n.copy()), tol=1e-12)
    assert c.passed and c.y.max_abs == 0 and c.h_n.max_ulp == 0


def test_one_ulp_is_one_ulp():
    case = make_case(dtype="float32")
    r = oracle(case)
    exact = GRUResult(r.y.astype(np.float32).astype(np.float64), r.h_n)
    y = exact.y.copy()
    y[2, 1, 0] = np.nextafter(np.float32(y[2, 1, 0]), np.float32(10))
    c = compare(case, exact, GRUResult(y, r.h_n), tol=1.0)
    assert c.y.max_ulp == 1.0


def test_first_divergence_is_the_earliest_step_forward():
    case = make_case()
    r, bad = planted(case, where_y=[(3, 2, 1), (1, 0, 1), (1, 2, 0)])
    d = compare(case, r, bad, tol=1e-6).y.first
    assert (d.t, d.batch, d.unit, d.direction, d.layer) == (1, 0, 1, 0, 0)


def test_first_divergence_of_reverse_is_its_last_step():
    case = make_case(direction="reverse", lengths=np.array([5, 3, 1]))
    r, bad = planted(case, where_y=[(0, 1, 0), (2, 1, 1)])
    d = compare(case, r, bad, tol=1e-6).y.first
    assert (d.t, d.batch, d.unit) == (2, 1, 1)  # row 1 has length 3: t=2 is processed first


def test_bidirectional_divergence_names_the_direction_and_hn_names_the_layer():
    case = make_case(direction="bidirectional", layers=2)
    r, bad = planted(case, where_y=[(4, 0, 3)], where_h=[(3, 1, 0), (2, 0, 1)])
    c = compare(case, r, bad, tol=1e-6)
    assert (c.y.first.direction, c.y.first.unit, c.y.first.t, c.y.first.layer) == (1, 1, 4, 1)
    assert (c.h_n.first.layer, c.h_n.first.direction, c.h_n.first.batch) == (1, 0, 0)


def test_padding_is_compared_as_declared():
    case = make_case(lengths=np.array([5, 2, 1]))
    r, bad = planted(case, where_y=[(4, 2, 0)])  # past row 2's length
    assert not compare(case, r, bad, tol=1e-6, padding="zeros").passed
    assert compare(case, r, bad, tol=1e-6, padding="undefined").passed
    assert not compare(case, r, bad, tol=1e-6, padding="carry").passed  # a carry is declared, so checked
    kept = GRUResult(carried(case, r.y), r.h_n)
    assert compare(case, r, kept, tol=1e-6, padding="carry").passed
    assert not compare(case, r, kept, tol=1e-6, padding="zeros").passed


def test_nan_is_a_failure():
    case = make_case()
    r = oracle(case)
    y = r.y.copy()
    y[0, 0, 0] = np.nan
    assert not compare(case, r, GRUResult(y, r.h_n), tol=1e-6).passed


def _lost_case() -> GRUCase:
    """A chaotic bfloat16 case (weights 4x the usual scale, T = 200): most states end up lost."""
    spec = GRUSpec(1, 2, 1, "forward", True, True)
    w, x, _ = case_values(spec, 200, 2, "bfloat16", 18, h0=False, saturating=False)
    w = [tuple(round_to(np.asarray(a) * 4, "bfloat16") for a in layer) for layer in w]
    return GRUCase(spec, w, x, None, None, "bfloat16")


def test_lost_states_are_checked_against_the_bound_and_left_out_of_the_ulp_count():
    case = _lost_case()
    exp, tol = oracle(case), tolerance(case)
    lost = tol.lost_y
    assert 0 < lost.sum() < lost.size and tol.lost_h_n.any()
    assert np.all(tol.y[lost] >= CAP_MARGIN)  # CAP_MARGIN times the bound |h| + S, S = 1
    within = GRUResult(exp.y + 0.5 * lost, exp.h_n + 0.5 * tol.lost_h_n)  # off by 0.5 where lost, exact elsewhere
    c = compare(case, exp, within, tol)
    assert c.passed and abs(c.y.max_abs - 0.5) < 1e-12 and c.y.max_ulp == 0 and c.h_n.max_ulp == 0
    assert c.y.lost == lost.sum() and "past the state bound" in str(c.y)
    y = exp.y.copy()
    y[tuple(np.argwhere(lost)[0])] += 10  # past the bound itself
    c = compare(case, exp, GRUResult(y, exp.h_n), tol)
    assert not c.passed and c.y.max_ulp > 1000
