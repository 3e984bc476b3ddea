"""Metamorphic properties of the oracle: relations any correct GRU must satisfy.

Each test runs the oracle twice in two different ways (split batch, truncated sequences,
reversed time, separate layers, ...) and asserts the two runs agree, so a bug in one code
path (masking, reversal, layer chaining, the reset variant) shows as a disagreement.
The number of examples comes from the Hypothesis profile loaded in tests/conftest.py.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import references

seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(1, 4)
steps = st.integers(1, 6)


def close(a, b):
    assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def make_params(rng, n_in, H, L=1, D=1, scale=1.0):
    """Random canonical weights, indexed l*D + d."""
    return [tuple(scale * rng.standard_normal(s) for s in
                  ((3, H, n_in if i < D else D * H), (3, H, H), (3, H), (3, H)))
            for i in range(L * D)]


@st.composite
def runs(draw, directions=("forward", "reverse", "bidirectional"), max_layers=2, ragged=True):
    """The keyword arguments of one references.gru call, values from a drawn seed."""
    rng = np.random.default_rng(draw(seeds))
    T, B, n_in, H = draw(steps), draw(sizes), draw(sizes), draw(sizes)
    L, direction = draw(st.integers(1, max_layers)), draw(st.sampled_from(directions))
    D = references.DIRECTIONS[direction]
    kw = dict(x=rng.standard_normal((T, B, n_in)), params=make_params(rng, n_in, H, L, D),
              num_layers=L, direction=direction, reset_after=draw(st.booleans()),
              h0=rng.standard_normal((L * D, B, H)) if draw(st.booleans()) else None)
    if ragged and draw(st.booleans()):
        kw["lengths"] = rng.integers(1, T + 1, B)
    return kw


def gru(**kw):
    kw = dict(kw)
    return references.gru(kw.pop("x"), kw.pop("params"), **kw)


@given(runs(directions=("bidirectional",), max_layers=1))
def test_bidirectional_is_forward_and_reverse_concatenated(kw):
    y, h_n = gru(**kw)
    H = h_n.shape[2]
    h0 = kw["h0"] if kw["h0"] is not None else np.zeros_like(h_n)
    for d, direction in enumerate(("forward", "reverse")):
        one = dict(kw, params=[kw["params"][d]], direction=direction, h0=h0[d : d + 1])
        y_d, h_d = gru(**one)
        close(y[:, :, d * H : (d + 1) * H], y_d[:, :, :])
        close(h_n[d], h_d[0])


@given(runs(), st.data())
def test_a_batch_row_alone_equals_the_row_in_the_batch(kw, data):
    y, h_n = gru(**kw)
    b = data.draw(st.integers(0, kw["x"].shape[1] - 1))
    row = slice(b, b + 1)
    alone = dict(kw, x=kw["x"][:, row], h0=None if kw["h0"] is None else kw["h0"][:, row])
    if "lengths" in kw:
        alone["lengths"] = kw["lengths"][row]
    y_b, h_b = gru(**alone)
    close(y[:, row], y_b)
    close(h_n[:, row], h_b)


@given(runs(ragged=False), st.data())
def test_lengths_equal_truncated_runs(kw, data):
    """Each sequence with a length is the same sequence cut to that length, zeros after it."""
    T, B = kw["x"].shape[:2]
    lengths = np.array(data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B)))
    y, h_n = gru(**dict(kw, lengths=lengths))
    for b, n in enumerate(lengths):
        h0 = None if kw["h0"] is None else kw["h0"][:, b : b + 1]
        y_b, h_b = gru(**dict(kw, x=kw["x"][:n, b : b + 1], h0=h0))
        close(y[:n, b], y_b[:, 0])
        assert np.all(y[n:, b] == 0.0)
        close(h_n[:, b], h_b[:, 0])


@given(runs(directions=("reverse",), ragged=False))
def test_reverse_is_forward_on_reversed_time(kw):
    y, h_n = gru(**kw)
    y_f, h_f = gru(**dict(kw, x=kw["x"][::-1], direction="forward"))
    close(y, y_f[::-1])
    close(h_n, h_f)


@given(runs())
def test_reset_after_is_irrelevant_without_recurrent_candidate_term(kw):
    """With U_n = 0 and bU_n = 0, r multiplies zero in both variants."""
    params = []
    for W, U, bW, bU in kw["params"]:
        U, bU = U.copy(), bU.copy()
        U[2], bU[2] = 0.0, 0.0
        params.append((W, U, bW, bU))
    y1, h1 = gru(**dict(kw, params=params, reset_after=True))
    y0, h0 = gru(**dict(kw, params=params, reset_after=False))
    close(y1, y0)
    close(h1, h0)


@given(runs())
def test_reset_after_matters_otherwise(kw):
    """The converse, so that the test above can fail: with U_n and bU_n drawn, the variants differ."""
    y1, _ = gru(**dict(kw, reset_after=True))
    y0, _ = gru(**dict(kw, reset_after=False))
    assert not np.allclose(y1, y0, rtol=1e-9, atol=1e-12)


@given(runs(max_layers=1), seeds)
def test_two_layers_are_two_chained_one_layer_runs(kw, seed):
    D = references.DIRECTIONS[kw["direction"]]
    B, H = kw["x"].shape[1], kw["params"][0][1].shape[1]
    upper = make_params(np.random.default_rng(seed), D * H, H, 1, D)
    h0 = kw["h0"] if kw["h0"] is not None else np.zeros((D, B, H))
    h0_upper = np.random.default_rng(seed + 1).standard_normal((D, B, H))
    y, h_n = gru(**dict(kw, params=kw["params"] + upper, num_layers=2, h0=np.concatenate([h0, h0_upper])))
    y0, h_n0 = gru(**dict(kw, h0=h0))
    y1, h_n1 = gru(**dict(kw, x=y0, params=upper, h0=h0_upper))
    close(y, y1)
    close(h_n, np.concatenate([h_n0, h_n1]))


@given(runs())
def test_a_huge_clip_is_no_clip(kw):
    y, h_n = gru(**kw)
    y_c, h_c = gru(**kw, clip=1e30)
    assert np.array_equal(y, y_c) and np.array_equal(h_n, h_c)


def textbook_sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


@given(runs(), st.floats(0.05, 2.0))
def test_clip_is_a_clip_of_every_pre_activation(kw, c):
    """clip=c equals f(clip(a)) and g(clip(a)) passed in as plain callables."""
    f = lambda a: textbook_sigmoid(np.clip(a, -c, c))
    g = lambda a: np.tanh(np.clip(a, -c, c))
    y, h_n = gru(**kw, clip=c)
    y_cb, h_cb = gru(**kw, activations=(f, g))
    close(y, y_cb)
    close(h_n, h_cb)


@given(runs(ragged=False))
def test_a_small_clip_changes_the_result(kw):
    """Weights large enough that pre-activations leave [-0.05, 0.05]: the clip must bite."""
    kw = dict(kw, params=[tuple(10.0 * a for a in p) for p in kw["params"]])
    y, _ = gru(**kw)
    y_c, _ = gru(**kw, clip=0.05)
    assert not np.allclose(y, y_c, rtol=1e-6, atol=1e-9)


@given(runs(), st.sampled_from([("HardSigmoid", "Softsign"), ("Sigmoid", ("ScaledTanh", 2.0, 0.5)),
                                 (("Affine", 0.5, 0.5), "Tanh")]))
def test_activation_overrides_are_used(kw, acts):
    """f and g given by name equal the same functions given as callables, and differ from the default."""
    textbook = {
        "HardSigmoid": lambda a: np.clip(0.2 * a + 0.5, 0.0, 1.0),
        "Softsign": lambda a: a / (1.0 + np.abs(a)),
        "Sigmoid": textbook_sigmoid,
        "Tanh": np.tanh,
        ("ScaledTanh", 2.0, 0.5): lambda a: 2.0 * np.tanh(0.5 * a),
        ("Affine", 0.5, 0.5): lambda a: 0.5 * a + 0.5,
    }
    y, h_n = gru(**kw, activations=acts)
    y_cb, h_cb = gru(**kw, activations=tuple(textbook[a] for a in acts))
    close(y, y_cb)
    close(h_n, h_cb)
    y_default, _ = gru(**kw)
    assert not np.allclose(y, y_default, rtol=1e-9, atol=1e-12)


# Each ONNX activation at hand points: (name, alpha, beta, [(x, expected), ...]).
E = math.exp
HAND_POINTS = [
    ("Sigmoid", None, None, [(0.0, 0.5), (2.0, 1 / (1 + E(-2))), (-3.0, E(-3) / (1 + E(-3))),
                             (800.0, 1.0), (-800.0, 0.0)]),
    ("Tanh", None, None, [(0.0, 0.0), (0.5, math.tanh(0.5)), (-20.0, -1.0)]),
    ("Relu", None, None, [(-2.0, 0.0), (0.0, 0.0), (3.5, 3.5)]),
    ("HardSigmoid", None, None, [(-3.0, 0.0), (0.0, 0.5), (1.0, 0.7), (3.0, 1.0)]),
    ("HardSigmoid", 0.5, 0.25, [(1.0, 0.75), (-1.0, 0.0), (2.0, 1.0)]),
    ("LeakyRelu", None, None, [(-2.0, -0.02), (3.0, 3.0)]),
    ("LeakyRelu", 0.1, None, [(-2.0, -0.2), (3.0, 3.0)]),
    ("ThresholdedRelu", None, None, [(0.5, 0.0), (1.0, 0.0), (1.5, 1.5), (-2.0, 0.0)]),
    ("ThresholdedRelu", 2.0, None, [(1.5, 0.0), (2.5, 2.5)]),
    ("ScaledTanh", None, None, [(0.7, math.tanh(0.7))]),
    ("ScaledTanh", 2.0, 0.5, [(0.7, 2 * math.tanh(0.35)), (-1.0, 2 * math.tanh(-0.5))]),
    ("Elu", None, None, [(-1.0, E(-1) - 1), (2.0, 2.0), (800.0, 800.0)]),
    ("Elu", 0.5, None, [(-1.0, 0.5 * (E(-1) - 1)), (0.0, 0.0)]),
    ("Softsign", None, None, [(-3.0, -0.75), (1.0, 0.5), (0.0, 0.0)]),
    ("Softplus", None, None, [(0.0, math.log(2.0)), (1.0, math.log(1 + E(1))), (800.0, 800.0), (-800.0, 0.0)]),
    ("Affine", None, None, [(-1.5, -1.5), (2.0, 2.0)]),
    ("Affine", 2.0, -1.0, [(-1.5, -4.0), (2.0, 3.0)]),
]


@pytest.mark.parametrize("name, alpha, beta, points", HAND_POINTS,
                         ids=[f"{n}-{a}-{b}" for n, a, b, _ in HAND_POINTS])
def test_activation_at_hand_points(name, alpha, beta, points):
    xs, expected = zip(*points, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings on the tails
        got = references.activation(name, alpha, beta)(np.array(xs))
    assert_allclose(got, expected, rtol=1e-15, atol=1e-300)


def test_every_activation_has_hand_points():
    assert {n for n, *_ in HAND_POINTS} == set(references.ACTIVATIONS)


def test_onnx_default_alpha_beta():
    assert references.default_alpha_beta("HardSigmoid") == (0.2, 0.5)
    assert references.default_alpha_beta("LeakyRelu") == (0.01, None)
    assert references.default_alpha_beta("Elu") == (1.0, None)


def test_unknown_activation():
    with pytest.raises(ValueError, match=r"activation: expected one of \[.*'Sigmoid'.*\], got 'Swish'"):
        references.activation("Swish")


@given(st.floats(-700.0, 700.0))
def test_sigmoid_symmetry(v):
    """sigmoid(v) + sigmoid(-v) = 1 and both stay accurate on the tails."""
    s = references.activation("Sigmoid")
    assert math.isclose(s(v) + s(-v), 1.0, rel_tol=1e-15)
    assert math.isclose(s(-abs(v)), 1.0 / (1.0 + E(abs(v))), rel_tol=1e-14)
