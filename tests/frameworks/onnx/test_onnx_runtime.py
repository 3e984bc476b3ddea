"""The hand-built ONNX GRU node on onnxruntime: every feature against the oracle, and what
onnxruntime refuses, in its own words."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest

from conformance.case import GateWeights, GRUCase, GRUSpec
from conformance.checks import check_feature, verify
from conformance.features import BY_NAME as ALL_FEATURES
from conformance.features import FEATURES
from conformance.frameworks.onnx.node import OnnxRuntimeGRU, feeds, probe_case
from conformance.values import case_values

ORT = OnnxRuntimeGRU()
ORT_LAYOUT1 = OnnxRuntimeGRU(layout=1)
ALL = [f.name for f in FEATURES]
#: a capabilities regression (something newly refused or newly ignored) fails here
SUPPORTED = ["float32", "float16", "reset_after", "reset_before", "no_bias", "reverse", "bidirectional", "stacked",
             "initial_state", "lengths", "activations", "per_direction_activations", "clip", "large", "long"]
#: supported by the runtime, but with a Y_h that the canonical GRU does not give (probed by conformance.corners)
MEASURED = ["zero_length"]


def test_a_zero_length_sequence_is_unsupported_with_what_onnxruntime_returns():
    result = check_feature(ORT, "zero_length")
    assert result.status == "unsupported", result.report()
    assert result.reason == (f"onnxruntime {onnxruntime.__version__} on a zero-length sequence returns h_n = 0 for it, "
                             "not its h0 (the ONNX spec leaves Y_h undefined there, onnx #1674)")


@pytest.mark.parametrize("feature", [f for f in ALL if f not in SUPPORTED + MEASURED])
def test_refused_dtypes_are_unsupported_in_onnxruntimes_words(feature):
    result = check_feature(ORT, feature)
    assert result.status == "unsupported", result.report()
    assert result.reason.startswith(f"onnxruntime {onnxruntime.__version__} rejects dtype {feature}: ")
    assert {"float64": "GRU operator does not support double yet",
            "bfloat16": "Could not find an implementation for GRU(22)"}[feature] in result.reason


def test_layout_1_is_refused_for_everything_with_the_runtimes_message():
    u = ORT_LAYOUT1.capabilities().unsupported
    assert set(u) == set(ALL_FEATURES)
    assert all("Batchwise recurrent operations (layout == 1) are not supported" in why for why in u.values())
    with pytest.raises(Exception, match="layout"):
        ORT_LAYOUT1.run(probe_case("float32"))


def test_one_session_serves_every_weight_draw():
    adapter = OnnxRuntimeGRU()
    caps = adapter.capabilities()  # the probes build sessions of their own
    before = len(adapter._sessions)
    case = probe_case("float32", num_layers=2, direction="bidirectional", h0=True, lengths=[1, 3])
    for seed in range(5):
        weights, x, h0 = case_values(case.spec, case.T, case.B, "float32", seed, h0=True, saturating=False)
        other = type(case)(case.spec, weights, x, h0, case.lengths, "float32")
        assert verify(adapter, other, capabilities=caps).passed
    assert len(adapter._sessions) == before + 1


def test_a_mispacked_bias_is_caught():
    """The check is not vacuous: swapping B's halves (Wb <-> Rb) must fail with reset_after."""

    class Swapped(OnnxRuntimeGRU):
        def run(self, case):
            from conformance.frameworks.onnx.node import Structure, to_result

            st = Structure.of(case, 0)
            f = feeds(st, case)
            for k in [k for k in f if k.startswith("B_")]:
                f[k] = np.roll(f[k], f[k].shape[1] // 2, axis=1)
            return to_result(st, self.session(st)(f))

    result = check_feature(Swapped(), "reset_after")
    assert result.status == "fail", result.report()


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason=f"onnxruntime {onnxruntime.__version__}: the GRU's Softplus activation "
                          "overflows to inf in float32 for pre-activations >= 89 (log(1 + exp(x)))")
@pytest.mark.parametrize("a", [89.0, 100.0])
def test_softplus_is_finite_where_its_value_is(a):
    """z is saturated at 0, so h' = g(a) = softplus(a), which is a (to float32 precision)."""
    w = GateWeights(np.array([-30.0, 0.0, 1.0]).reshape(3, 1, 1), np.zeros((3, 1, 1)), np.zeros((3, 1)),
                    np.zeros((3, 1)))
    case = GRUCase(GRUSpec(1, 1, activations=("Sigmoid", "Softplus")), [w], np.full((1, 1, 1), a), dtype="float32")
    assert verify(ORT, case).passed
