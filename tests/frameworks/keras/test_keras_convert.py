"""The Keras converters: exact round trips both ways, agreement with Keras's own forward, refusals."""

from __future__ import annotations

from contextlib import nullcontext

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import references
from conformance.case import GateWeights, GRUSpec
from conformance.dtypes import round_to
from conformance.frameworks.keras.convert import (
    cell_from_keras,
    cell_to_keras,
    direction_to_keras,
    fold_exact,
    gru_from_keras,
    gru_to_keras,
    keras_gru_kwargs,
)
from conformance.frameworks.keras.upstream import float64_demotions

# values with awkward bit patterns: signed zeros, subnormals, extremes
SPECIAL = np.array([0.0, -0.0, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, np.pi, -1 / 3])


def _arr(rng, shape):
    a = rng.standard_normal(shape)
    mask = rng.random(shape) < 0.2
    a[mask] = rng.choice(SPECIAL, int(mask.sum()))
    return a


@st.composite
def specs(draw, cell=False):
    direction = "forward" if cell else draw(st.sampled_from(["forward", "reverse", "bidirectional"]))
    return GRUSpec(draw(st.integers(1, 5)), draw(st.integers(1, 5)), 1 if cell else draw(st.integers(1, 3)),
                   direction, reset_after=draw(st.booleans()), bias=draw(st.booleans()))


def canonical(spec: GRUSpec, seed: int) -> tuple:
    """Random float64 weights with special values; bU = 0 where Keras has no recurrent bias."""
    rng = np.random.default_rng(seed)
    H, D = spec.hidden_size, spec.num_directions
    out = []
    for i in range(spec.num_layers * D):
        bW = _arr(rng, (3, H)) if spec.bias else np.zeros((3, H))
        bU = _arr(rng, (3, H)) if spec.bias and spec.reset_after else np.zeros((3, H))
        out.append(GateWeights(_arr(rng, (3, H, spec.layer_input_size(i // D))), _arr(rng, (3, H, H)), bW, bU))
    return tuple(out)


def keras_lists(spec: GRUSpec, seed: int) -> list:
    """Random per-layer Keras weight lists of the right shapes."""
    rng = np.random.default_rng(seed)
    H, D = spec.hidden_size, spec.num_directions
    layers = []
    for layer in range(spec.num_layers):
        arrays = []
        for _ in range(D):
            arrays += [_arr(rng, (spec.layer_input_size(layer), 3 * H)), _arr(rng, (H, 3 * H))]
            if spec.bias:
                arrays.append(_arr(rng, (2, 3 * H) if spec.reset_after else (3 * H,)))
        layers.append(arrays)
    return layers


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=60, deadline=None)
@given(specs(), st.integers(0, 2**32 - 1))
def test_canonical_keras_canonical_is_exact(spec, seed):
    weights = canonical(spec, seed)
    spec2, weights2 = gru_from_keras(gru_to_keras(spec, weights), reset_after=spec.reset_after,
                                     direction=spec.direction)
    assert spec2 == spec
    for w1, w2 in zip(weights, weights2, strict=True):
        for k in ("W", "U", "bW", "bU"):
            assert same_bits(getattr(w1, k), getattr(w2, k)), k


@settings(max_examples=60, deadline=None)
@given(specs(), st.integers(0, 2**32 - 1))
def test_keras_canonical_keras_is_exact(spec, seed):
    layers = keras_lists(spec, seed)
    spec2, weights = gru_from_keras(layers, reset_after=spec.reset_after, direction=spec.direction)
    assert spec2 == spec
    again = gru_to_keras(spec2, weights)
    assert len(again) == len(layers)
    for a, b in zip(layers, again, strict=True):
        assert len(a) == len(b) and all(same_bits(x, y) for x, y in zip(a, b, strict=True))


@settings(max_examples=30, deadline=None)
@given(specs(cell=True), st.integers(0, 2**32 - 1))
def test_cell_round_trips_are_exact(spec, seed):
    (arrays,) = keras_lists(spec, seed)
    spec2, weights = cell_from_keras(arrays, reset_after=spec.reset_after)
    assert spec2 == spec
    assert all(same_bits(a, b) for a, b in zip(arrays, cell_to_keras(spec2, weights), strict=True))


def test_keras_layout_by_hand():
    """kernel[:, g*H:(g+1)*H] = W[g].T in the order z, r, n; reset_after bias rows = [bW; bU]."""
    H, I = 2, 3  # noqa: E741 - the canonical name
    W = np.arange(3 * H * I, dtype=float).reshape(3, H, I)
    U = 100 + np.arange(3 * H * H, dtype=float).reshape(3, H, H)
    bW, bU = np.arange(6.0).reshape(3, H) + 0.5, -np.arange(6.0).reshape(3, H) - 0.25
    kernel, rec, bias = direction_to_keras(GateWeights(W, U, bW, bU), reset_after=True)
    assert kernel.shape == (I, 3 * H) and rec.shape == (H, 3 * H) and bias.shape == (2, 3 * H)
    for g in range(3):
        assert np.array_equal(kernel[:, g * H:(g + 1) * H], W[g].T)
        assert np.array_equal(rec[:, g * H:(g + 1) * H], U[g].T)
    assert np.array_equal(bias, [bW.ravel(), bU.ravel()])
    *_, folded = direction_to_keras(GateWeights(W, U, bW, bU), reset_after=False)
    assert folded.shape == (3 * H,) and np.array_equal(folded, (bW + bU).ravel())


def test_reset_before_folds_every_recurrent_bias_b_Un_included():
    """n = g(W_n x + bW_n + U_n(r*h) + bU_n): bU_n is outside the reset, so it joins the input bias."""
    spec = GRUSpec(2, 3, reset_after=False)
    rng = np.random.default_rng(4)
    w = GateWeights(rng.standard_normal((3, 3, 2)), rng.standard_normal((3, 3, 3)),
                    rng.integers(-8, 8, (3, 3)) / 4, rng.integers(-8, 8, (3, 3)) / 8)  # exact sums
    (arrays,) = gru_to_keras(spec, [w])
    _, (back,) = gru_from_keras([arrays], reset_after=False)
    x, h0 = rng.standard_normal((4, 2, 2)), rng.standard_normal((1, 2, 3))
    y1, h1 = references.gru(x, [tuple(w)], reset_after=False, h0=h0)
    y2, h2 = references.gru(x, [tuple(back)], reset_after=False, h0=h0)
    assert np.array_equal(back.bW, w.bW + w.bU) and not back.bU.any()
    np.testing.assert_allclose(y2, y1, rtol=0, atol=1e-14)
    np.testing.assert_allclose(h2, h1, rtol=0, atol=1e-14)


def test_reset_before_refuses_an_inexact_fold():
    w = GateWeights(np.ones((3, 1, 1)), np.ones((3, 1, 1)), np.full((3, 1), 0.1), np.full((3, 1), 0.2))
    with pytest.raises(ValueError, match=r"single input-side bias.*not exact in float64 and float64"):
        direction_to_keras(w, reset_after=False)
    # exact in float64, but 1 + 2**-11 has no float16
    w16 = w.replace(bW=np.ones((3, 1)), bU=np.full((3, 1), 2.0**-11))
    assert np.array_equal(direction_to_keras(w16, reset_after=False)[2], np.full(3, 1 + 2.0**-11))
    with pytest.raises(ValueError, match="float16"):
        direction_to_keras(w16, reset_after=False, dtype="float16")
    rounded = direction_to_keras(w16, reset_after=False, dtype="float16", fold="round")[2]
    assert np.array_equal(rounded, round_to(np.full(3, 1 + 2.0**-11), "float16"))


def test_fold_exact():
    assert np.array_equal(fold_exact(np.array([0.5, -0.0]), np.array([0.25, 0.0])), [0.75, -0.0])
    assert np.signbit(fold_exact(np.array([-0.0]), np.array([0.0])))[0]
    assert fold_exact(np.array([1.0]), np.array([2.0**-60])) is None
    assert fold_exact(np.array([1e308]), np.array([1e308])) is None  # overflows


@pytest.mark.parametrize("spec, match", [
    (GRUSpec(2, 3, clip=1.0), "no pre-activation clip"),
    (GRUSpec(2, 3, activations=("Sigmoid", "Relu")), "default activations"),
])
def test_unrepresentable_specs_raise(spec, match):
    weights = canonical(GRUSpec(2, 3), 0)
    with pytest.raises(ValueError, match=match):
        gru_to_keras(spec, weights)
    with pytest.raises(ValueError, match=match):
        keras_gru_kwargs(spec)


def test_use_bias_false_refuses_non_zero_biases():
    (w,) = canonical(GRUSpec(2, 3), 1)
    with pytest.raises(ValueError, match="use_bias=False but the biases are not zero"):
        direction_to_keras(w, reset_after=True, use_bias=False)


def test_cell_refuses_more_than_one_forward_layer():
    spec = GRUSpec(2, 3, 2)
    with pytest.raises(ValueError, match="one layer in one direction"):
        cell_to_keras(spec, canonical(spec, 0))


@pytest.mark.parametrize("layers, kwargs, match", [
    ([[np.zeros((2, 9))]], {}, "expected 1 x"),
    ([[np.zeros((2, 9)), np.zeros((3, 8))]], {}, r"recurrent_kernel: expected shape \(H, 3H\)"),
    ([[np.zeros((2, 6)), np.zeros((3, 9))]], {}, r"kernel: expected shape \(input_size, 9\)"),
    ([[np.zeros((2, 9)), np.zeros((3, 9)), np.zeros(9)]], {}, r"bias: expected shape \(2, 9\)"),
    ([[np.zeros((2, 9)), np.zeros((3, 9)), np.zeros((2, 9))]], {"reset_after": False}, r"expected shape \(9,\)"),
    ([[np.zeros((2, 9)), np.zeros((3, 9))], [np.zeros((3, 9)), np.zeros((3, 9)), np.zeros((2, 9))]], {},
     "use_bias differs"),
    ([[np.zeros((2, 9)), np.zeros((3, 9))], [np.zeros((2, 9)), np.zeros((3, 9))]], {}, "kernel implies W"),
    ([[np.zeros((2, 9)), np.zeros((3, 9))]], {"direction": "bidirectional"}, "expected 2 x"),
    ([[np.zeros((2, 9), dtype=int), np.zeros((3, 9))]], {}, "floating-point"),
    ([], {}, "at least one layer"),
])
def test_malformed_keras_weights_raise(layers, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gru_from_keras(layers, **{"reset_after": True, **kwargs})


# -- not circular: Keras's own random weights and forward pass against the oracle --------------------

def float64():
    """JAX has float64 only under jax_enable_x64 (thread-local here, so nothing else sees it)."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.enable_x64(True)
    return nullcontext()


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
def test_keras_own_gru_matches_the_oracle_through_the_converter(direction, reset_after, use_bias):
    with float64():
        _keras_own_gru_matches_the_oracle(direction, reset_after, use_bias)


def _keras_own_gru_matches_the_oracle(direction, reset_after, use_bias):
    T, B, I, H, L = 5, 3, 4, 3, 2  # noqa: E741
    layers = []
    for layer in range(L):
        gru = keras.layers.GRU(H, reset_after=reset_after, use_bias=use_bias, go_backwards=direction == "reverse",
                               return_sequences=True, return_state=True, dtype="float64",
                               bias_initializer="random_normal", seed=layer)
        if direction == "bidirectional":
            gru = keras.layers.Bidirectional(gru, dtype="float64")
        gru.build((None, None, I if layer == 0 else gru.compute_output_shape((None, T, I))[0][-1]))
        layers.append(gru)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((T, B, I))
    D = 2 if direction == "bidirectional" else 1
    h0 = rng.uniform(-0.9, 0.9, (L * D, B, H))
    seq, h_n = np.ascontiguousarray(x.transpose(1, 0, 2)), []
    for layer, gru in enumerate(layers):
        y, *states = gru(seq, initial_state=list(h0[layer * D:(layer + 1) * D]))
        y = keras.ops.convert_to_numpy(y)
        seq = y[:, ::-1] if direction == "reverse" else y  # go_backwards returns processing order
        h_n += [keras.ops.convert_to_numpy(s) for s in states]
    spec, weights = gru_from_keras([gru.get_weights() for gru in layers], reset_after=reset_after,
                                   direction=direction)
    assert spec == GRUSpec(I, H, L, direction, reset_after, use_bias)
    assert not use_bias or any(np.any(w.bW != 0) for w in weights)  # the biases were really random
    y_ref, h_ref = references.gru(x, [tuple(w) for w in weights], num_layers=L, direction=direction,
                                  reset_after=reset_after, h0=h0)
    assert seq.dtype == np.float64
    # float64 is computed partly in float32 on the torch and JAX backends (see the adapter module)
    tol = 1e-6 if float64_demotions() else 1e-12
    np.testing.assert_allclose(seq.transpose(1, 0, 2), y_ref, rtol=0, atol=tol)
    np.testing.assert_allclose(np.stack(h_n), h_ref, rtol=0, atol=tol)
