"""The Keras adapters against the oracle, feature by feature, and their declared limits.

The backend is KERAS_BACKEND's; run this module once per backend (tensorflow, jax, torch).
"""

from __future__ import annotations

from dataclasses import replace

import keras
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.case import GRUCase, GRUSpec
from conformance.checks import check_feature, verify
from conformance.features import FEATURES
from conformance.frameworks.keras.adapters import KerasGRU, KerasGRUCell
from conformance.profiles import Profile
from conformance.strategies import gru_cases
from conformance.values import case_values

BACKEND = keras.backend.backend()
ADAPTERS = {"gru": KerasGRU(), "cell": KerasGRUCell()}
ALL = [f.name for f in FEATURES]
_GRU = ["float64", "float32", "float16", "bfloat16", "reset_after", "reset_before", "no_bias", "reverse",
        "bidirectional", "stacked", "initial_state", "lengths"]
_CELL = ["float64", "float32", "float16", "bfloat16", "reset_after", "reset_before", "no_bias", "initial_state",
         "lengths"]
#: what each adapter must support on each backend: a capabilities regression fails here, not silently.
#: float64: torch's matmul and JAX's tanh demote it to float32 (and JAX needs x64 at all); no_bias: JAX's
#: fused GRU raises for float16/bfloat16. See conformance/frameworks/keras/.
SUPPORTED = {
    "tensorflow": {"gru": _GRU, "cell": _CELL},
    "torch": {"gru": _GRU[1:], "cell": _CELL[1:]},
    "jax": {"gru": [f for f in _GRU[1:] if f != "no_bias"], "cell": _CELL[1:]},
}[BACKEND]


def test_upstream_reasons_name_the_cause():
    reasons = ADAPTERS["gru"].capabilities().unsupported
    if BACKEND == "torch":
        assert "keras.ops.matmul" in reasons["float64"] and "not conformant upstream" in reasons["float64"]
    if BACKEND == "jax":
        assert "jax_enable_x64" in reasons["float64"]
        assert "float16, bfloat16" in reasons["no_bias"] and "carry" in reasons["no_bias"]


# -- upstream non-conformance, shown by checking what the capabilities leave out ----------------------

SMALL = Profile("keras-small", max_examples=15, max_T=5, max_B=3, max_size=4, max_layers=2, derandomize=True)
FLOAT64_DEMOTED = pytest.mark.xfail(
    BACKEND in ("torch", "jax"), strict=True, raises=AssertionError,
    reason="Keras 3 demotes a float64 result_type to float32 outside TensorFlow "
           "(keras/src/backend/common/dtypes.py BIT64_TO_BIT32_DTYPE): torch's ops.matmul, JAX's ops.tanh; "
           "JAX without jax_enable_x64 has no float64 at all")
JAX_NO_BIAS = pytest.mark.xfail(
    BACKEND == "jax", strict=True, raises=AssertionError,
    reason="keras/src/backend/jax/rnn.py gru() makes use_bias=False biases in the default float type: "
           "lax.scan carry type mismatch for float16/bfloat16 layers")


@pytest.mark.parametrize("key, feature, overrides", [
    pytest.param("gru", "float64", {"dtypes": ("float64",)}, marks=FLOAT64_DEMOTED, id="gru-float64"),
    pytest.param("cell", "float64", {"dtypes": ("float64",)}, marks=FLOAT64_DEMOTED, id="cell-float64"),
    # compiled: run op by op, JAX never checks the scan's carry types (tests/frameworks/keras/test_keras_facts.py)
    pytest.param("gru-compiled", "no_bias", {"dtypes": ("float16", "bfloat16"), "bias": (True, False)},
                 marks=JAX_NO_BIAS, id="gru-no_bias-float16-bfloat16"),
    pytest.param("gru", "no_bias", {"dtypes": ("float32",), "bias": (True, False)}, id="gru-no_bias-float32"),
])
def test_what_the_capabilities_leave_out(key, feature, overrides):
    adapter = KerasGRU(compiled=True) if key == "gru-compiled" else ADAPTERS[key]
    caps = adapter.capabilities()
    unsupported = {name: reason for name, reason in caps.unsupported.items() if name != feature}  # a reason withdraws
    if "bias" in overrides:  # the bias structures follow the bias flags
        overrides = {**overrides, "bias_structures": ("full", "none") if False in overrides["bias"] else ("full",)}
    if "dtypes" in overrides:  # gradients are declared within the dtypes
        overrides = {**overrides, "gradient_dtypes": tuple(d for d in caps.gradient_dtypes if d in overrides["dtypes"])}
    caps = replace(caps, unsupported=unsupported, **overrides)
    result = check_feature(adapter, feature, SMALL, capabilities=caps)
    assert result.status == "pass", result.report()


# -- the adapter's own mechanics ------------------------------------------------------------------------

def _case(spec, T=4, B=3, seed=0, dtype="float32", h0=True, lengths=None):
    weights, x, h = case_values(spec, T, B, dtype, seed, h0=h0, saturating=False)
    return GRUCase(spec, weights, x, h, lengths, dtype)


@pytest.mark.parametrize("make", [KerasGRU, KerasGRUCell])
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_cached_layers_give_the_same_bits_as_fresh_ones(make, data):
    """Weights are swapped into reused layers: nothing from an earlier example may leak."""
    cached, fresh = make(), make(cache=0)
    case = data.draw(gru_cases(cached.capabilities(), SMALL))
    cached.run(_case(case.spec, T=case.T, B=case.B, seed=1, dtype=case.dtype, h0=True))  # same structure first
    a, b = cached.run(case), fresh.run(case)
    assert np.array_equal(a.y, b.y) and np.array_equal(a.h_n, b.h_n)


@pytest.mark.parametrize("dtype", KerasGRU().capabilities().dtypes)
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_a_layer_compiled_by_use_gives_the_eager_bits(dtype, data):
    """Compiled without optimizations (TensorFlow: no Grappler; JAX: no XLA fusion), a layer computes
    exactly what it computes eagerly, so when it turns compiled changes no result. (With them,
    TensorFlow's bfloat16 and JAX's float32 results differ in the last bits.)"""
    at_once, eager = KerasGRU(compile_after=0), KerasGRU(compiled=False)
    case = data.draw(gru_cases(eager.capabilities(), SMALL, dtype=dtype))
    a, b = at_once.run(case), eager.run(case)
    assert np.array_equal(a.y, b.y) and np.array_equal(a.h_n, b.h_n)


@pytest.mark.parametrize("compile_after", [None, 1], ids=["default", "compiled-from-the-second-call"])
def test_one_layer_serves_every_way_of_calling_it(compile_after):
    """With or without h0, with or without lengths: one built layer per structure, called as the
    case asks (Keras's own paths for initial_state=None and mask=None stay tested), each way right."""
    adapter = KerasGRU(compile_after=compile_after)
    adapter.capabilities()  # its probes (zero-length sequences) build layers of their own structures
    before = len(adapter._layers.items)
    spec = GRUSpec(3, 4, 1, "bidirectional")
    for rounds in range(2):
        for h0 in (False, True):
            for lengths in (None, np.array([4, 1, 3])):
                verdict = verify(adapter, _case(spec, T=4, B=3, seed=rounds, h0=h0, lengths=lengths))
                assert verdict.passed, verdict.message
    assert len(adapter._layers.items) == before + 1


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "eager"])
@pytest.mark.parametrize("feature", ["stacked", "lengths"])
def test_compiled_and_eager_calls_both_conform(compiled, feature):
    result = check_feature(KerasGRU(compiled=compiled), feature, SMALL)
    assert result.status == "pass", result.report()


@pytest.mark.parametrize("direction", ["reverse", "bidirectional"])
def test_reverse_output_is_in_time_order_and_starts_at_each_length(direction):
    """go_backwards returns y in processing order; the adapter puts y[t] back at t, layer by layer."""
    case = _case(GRUSpec(2, 3, 2, direction, reset_after=False), T=5, lengths=np.array([5, 1, 3]))
    verdict = verify(KerasGRU(), case)
    assert verdict.passed, verdict.message


def test_cell_writes_zeros_past_each_length():
    case = _case(GRUSpec(2, 3), T=5, lengths=np.array([5, 1, 3]))
    r = KerasGRUCell().run(case)
    assert np.all(r.y[1:, 1] == 0) and np.all(r.y[3:, 2] == 0)
    assert verify(KerasGRUCell(), case).passed


def test_bfloat16_results_are_float32_arrays_holding_bfloat16_values():
    for adapter in ADAPTERS.values():
        r = adapter.run(_case(GRUSpec(2, 3), dtype="bfloat16"))
        assert r.y.dtype == np.float32 and r.h_n.dtype == np.float32
        assert np.array_equal(r.y.astype(ml_dtypes.bfloat16).astype(np.float32), r.y)


def test_a_reset_before_case_with_both_biases_is_run_with_them_folded():
    """Keras has no recurrent bias for reset_after=False: bW + bU is rounded once into its input bias."""
    case = _case(GRUSpec(3, 4, reset_after=False), dtype="float16")
    assert np.any(case.weights[0].bU != 0)
    verdict = verify(KerasGRU(), case)
    assert verdict.passed, verdict.message
