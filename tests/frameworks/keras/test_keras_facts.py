"""What Keras itself does with masks, go_backwards, Bidirectional and dtypes, checked on the layers.

These are the facts the adapter is built on (conformance/frameworks/keras/); each test
fails if Keras changes, so that the adapter's conventions and declared limits are revisited.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from conformance.frameworks.keras.upstream import float64_demotions, float64_reason

BACKEND = keras.backend.backend()
T, B, I, H = 5, 3, 2, 3  # noqa: E741
LENGTHS = np.array([5, 2, 3])
MASK = np.arange(T)[None, :] < LENGTHS[:, None]
RNG = np.random.default_rng(11)
X = RNG.standard_normal((B, T, I)).astype(np.float32)
H0 = RNG.uniform(-0.9, 0.9, (B, H)).astype(np.float32)


def _gru(go_backwards=False, bidirectional=False, seed=0):
    layer = keras.layers.GRU(H, go_backwards=go_backwards, return_sequences=True, return_state=True,
                             bias_initializer="random_normal", seed=seed)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer)
    layer.build((None, None, I))
    return layer


def _np(outputs):
    return [keras.ops.convert_to_numpy(o) for o in outputs]


def _truncated(layer, b, h0=None):
    """The layer on row b alone, cut at its length, with no mask."""
    init = None if h0 is None else [h0[b:b + 1]] * (2 if isinstance(layer, keras.layers.Bidirectional) else 1)
    return _np(layer(X[b:b + 1, :LENGTHS[b]], initial_state=init))


def test_go_backwards_returns_y_in_processing_order():
    fwd, bwd = _gru(), _gru(go_backwards=True)
    bwd.set_weights(fwd.get_weights())
    y_b, h_b = _np(bwd(X))
    y_f, h_f = _np(fwd(X[:, ::-1]))
    np.testing.assert_allclose(y_b, y_f, rtol=0, atol=1e-6)  # y_b[:, i] consumed x[:, T-1-i]
    np.testing.assert_allclose(h_b, h_f, rtol=0, atol=1e-6)


def test_a_masked_forward_gru_carries_its_last_output_and_state():
    layer = _gru()
    y, h = _np(layer(X, initial_state=[H0], mask=MASK))
    for b, n in enumerate(LENGTHS):
        y_ref, h_ref = _truncated(layer, b, H0)
        np.testing.assert_allclose(y[b, :n], y_ref[0], rtol=0, atol=1e-6)
        np.testing.assert_allclose(h[b], h_ref[0], rtol=0, atol=1e-6)
        assert np.all(y[b, n:] == y[b, n - 1])  # carried, not zeros


def test_a_masked_go_backwards_gru_starts_at_each_sequences_own_last_step():
    layer = _gru(go_backwards=True)
    y, h = _np(layer(X, initial_state=[H0], mask=MASK))
    y = y[:, ::-1]  # to time order
    for b, n in enumerate(LENGTHS):
        y_ref, h_ref = _truncated(layer, b, H0)
        np.testing.assert_allclose(y[b, :n], y_ref[0, ::-1], rtol=0, atol=1e-6)
        np.testing.assert_allclose(h[b], h_ref[0], rtol=0, atol=1e-6)
        # the padding is met first: TensorFlow and torch write zeros there, JAX the state (h0)
        expected = np.broadcast_to(H0[b], y[b, n:].shape) if BACKEND == "jax" else 0
        assert np.all(y[b, n:] == expected), y[b, n:]


def test_a_masked_bidirectional_gru_writes_zeros_and_starts_each_direction_right():
    layer = _gru(bidirectional=True)
    y, h_f, h_b = _np(layer(X, initial_state=[H0, H0], mask=MASK))
    for b, n in enumerate(LENGTHS):
        y_ref, hf_ref, hb_ref = _truncated(layer, b, H0)
        np.testing.assert_allclose(y[b, :n], y_ref[0], rtol=0, atol=1e-6)  # both halves in time order
        np.testing.assert_allclose(h_f[b], hf_ref[0], rtol=0, atol=1e-6)
        np.testing.assert_allclose(h_b[b], hb_ref[0], rtol=0, atol=1e-6)
        assert np.all(y[b, n:] == 0)  # Bidirectional forces zero_output_for_mask


def test_float64_is_computed_in_float64_only_on_tensorflow():
    if BACKEND == "jax":
        import jax

        assert "jax_enable_x64" in float64_reason()
        with jax.enable_x64(True):
            assert float64_demotions() == ("keras.ops.tanh",)
    else:
        assert float64_demotions() == {"tensorflow": (), "torch": ("keras.ops.matmul",)}[BACKEND]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_use_bias_false_runs_in_every_dtype_except_low_precision_on_jax(dtype):
    import ml_dtypes

    layer = keras.layers.GRU(H, use_bias=False, dtype=dtype, kernel_initializer="ones",
                             recurrent_initializer="zeros")
    x = X.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype)
    if BACKEND == "jax" and dtype != "float32":
        with pytest.raises(TypeError, match="carry input and carry output must have equal types"):
            layer(x)
        layer(x, mask=MASK)  # the generic (masked) loop is fine
        import jax

        with jax.disable_jit():  # op by op, lax.scan is a Python loop that checks no carry type
            assert keras.ops.convert_to_numpy(layer(x)).dtype == x.dtype
    else:
        assert keras.ops.convert_to_numpy(layer(x)).shape == (B, H)
