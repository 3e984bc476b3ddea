"""Size padding (conformance/frameworks/padding.py) is exact, on the Keras layers of this backend.

Padded units must stay exactly 0 and never reach a real unit; what padding may change is only
the grouping of the real terms in a longer matmul. Measured here (Keras 3.15, all three backends):
float16 and bfloat16 results are bit-identical padded and unpadded (the products are summed in
float32 and rounded once); float32 and float64 ones differ in the last bits in some cases (most on
TensorFlow), always within the tolerance. These tests fail if that changes.
"""

from __future__ import annotations

import keras
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.case import GRUSpec
from conformance.checks import verify
from conformance.frameworks.keras.adapters import ZERO_INIT, KerasGRU, KerasGRUCell
from conformance.frameworks.keras.convert import gru_to_keras
from conformance.frameworks.padding import pad_array, pad_layers, padded_size, real_units
from conformance.profiles import Profile
from conformance.strategies import gru_cases
from conformance.values import case_values

SMALL = Profile("keras-pad", max_examples=12, max_T=5, max_B=3, max_size=5, max_layers=2, derandomize=True)


def test_padded_sizes_are_a_short_ladder():
    assert [padded_size(n) for n in (1, 5, 8, 9, 16, 17, 33, 257)] == [8, 8, 8, 16, 16, 17, 33, 257]
    assert padded_size(3, floor=4) == 4
    assert real_units(3, 8, 2).tolist() == [0, 1, 2, 8, 9, 10]


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("reset_after", [True, False])
def test_padded_units_stay_exactly_zero(direction, reset_after):
    """The padded layer itself, with a mask and an initial state: every padded unit is 0 at every step."""
    spec = GRUSpec(3, 5, 1, direction, reset_after=reset_after)
    D, S = spec.num_directions, padded_size(5)
    weights, x, h0 = case_values(spec, 4, 3, "float32", seed=5, h0=True, saturating=True)
    layer = keras.layers.GRU(S, reset_after=reset_after, go_backwards=direction == "reverse", return_sequences=True,
                             return_state=True, **ZERO_INIT)
    if D == 2:
        layer = keras.layers.Bidirectional(layer)
    layer.build((None, None, S))
    layer.set_weights([a.astype(np.float32) for a in pad_layers(gru_to_keras(spec, weights), spec, S, S)[0]])
    x = pad_array(x.transpose(1, 0, 2).astype(np.float32), (3, 4, S))
    init = [pad_array(h.astype(np.float32), (3, S)) for h in h0]
    mask = np.array([[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0]], bool)
    y, *h_n = [keras.ops.convert_to_numpy(a) for a in layer(x, initial_state=init, mask=mask)]
    padded = np.setdiff1d(np.arange(D * S), real_units(5, S, D))
    assert np.all(y[:, :, padded] == 0)
    assert all(np.all(h[:, 5:] == 0) for h in h_n)
    assert np.any(y[:, :, real_units(5, S, D)] != 0)


def _same(a, b) -> bool:
    return np.array_equal(a.y, b.y) and np.array_equal(a.h_n, b.h_n)


@pytest.mark.parametrize("make", [KerasGRU, KerasGRUCell])
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_padded_and_unpadded_runs_agree(make, data):
    """Bit for bit in float16 and bfloat16; within the tolerance, both, in float32 and float64."""
    padded, exact = make(pad=True), make(pad=False)
    case = data.draw(gru_cases(padded.capabilities(), SMALL))
    a, b = padded.run(case), exact.run(case)
    if case.dtype in ("float16", "bfloat16"):
        assert _same(a, b)
    else:
        assert verify(padded, case).passed and verify(exact, case).passed


def test_bfloat16_padding_keeps_bfloat16_inputs():
    """pad_array keeps the dtype it is given (ml_dtypes bfloat16 included)."""
    a = np.ones((2, 3), ml_dtypes.bfloat16)
    out = pad_array(a, (4, 8))
    assert out.dtype == a.dtype and out[:2, :3].sum() == 6 and out.sum() == 6
