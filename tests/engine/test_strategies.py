"""Case generation: inside the capabilities, exact in the dtype, non-degenerate, and covering the edges."""

import numpy as np
from hypothesis import find, given

from conformance import Capabilities
from conformance.dtypes import round_to
from conformance.profiles import get_profile
from conformance.strategies import gru_cases

EVERYTHING = Capabilities(dtypes=("float64", "float32", "float16", "bfloat16"),
                          directions=("forward", "reverse", "bidirectional"), max_layers=3,
                          reset_after=(True, False), bias=(True, False), initial_state=True, lengths=True,
                          activations=("Relu", "HardSigmoid", "Affine"), clip=True)
NARROW = Capabilities(dtypes=("float32",), directions=("forward",), max_layers=1, reset_after=(False,),
                      bias=(True,), initial_state=False, lengths=False, max_batch=2)


@given(gru_cases(NARROW))
def test_cases_stay_inside_the_capabilities(case):
    assert NARROW.admits(case) is None


@given(gru_cases(EVERYTHING))
def test_cases_are_exact_in_their_dtype_and_non_degenerate(case):
    assert EVERYTHING.admits(case) is None
    for w in case.weights:
        for a in w:
            assert np.array_equal(round_to(a, case.dtype), a)
        assert np.all(w.W != 0) and np.all(w.U != 0)
        if case.spec.bias:
            assert np.all(w.bU[2] != 0) and not np.array_equal(w.bW, w.bU)
        assert not np.array_equal(w.W[0], w.W[1]) and not np.array_equal(w.U[1], w.U[2])
    assert np.array_equal(round_to(case.x, case.dtype), case.x)
    if case.h0 is not None:
        assert np.all(case.h0 != 0)


@given(gru_cases(EVERYTHING, lengths=True))
def test_ragged_lengths_include_1_and_T(case):
    lengths = case.lengths.tolist()
    assert case.ragged
    if case.B > 1:
        assert 1 in lengths and case.T in lengths


def test_forced_features_hold():
    p = get_profile("ci")
    assert find(gru_cases(EVERYTHING, p, direction="reverse", min_layers=2, h0=True),
                lambda c: True).spec.num_layers >= 2
    case = find(gru_cases(EVERYTHING, p, activations=True), lambda c: True)
    assert not case.spec.default_activations


def test_the_edges_occur():
    for size in ("T", "B"):
        assert getattr(find(gru_cases(EVERYTHING), lambda c, s=size: getattr(c, s) == 1), size) == 1
    assert find(gru_cases(EVERYTHING), lambda c: c.spec.input_size == 1).spec.input_size == 1
    assert find(gru_cases(EVERYTHING), lambda c: c.spec.hidden_size == 1).spec.hidden_size == 1
    cap = get_profile("ci").max_T
    assert find(gru_cases(EVERYTHING), lambda c: c.T == cap).T == cap


def test_a_share_of_cases_saturates():
    case = find(gru_cases(EVERYTHING), lambda c: np.abs(c.weights[0].bW).max() > 3 * 0.5 * 2)
    assert np.abs(case.weights[0].bW).max() > 3
