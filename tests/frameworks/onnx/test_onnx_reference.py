"""onnx.reference.ReferenceEvaluator's GRU, both layouts: what it implements conforms; what it
silently drops is declared unsupported with the probe's evidence, and documented by strict
xfails that run it anyway."""

from __future__ import annotations

import onnx
import pytest

from conformance.case import Activation
from conformance.checks import check_feature, verify
from conformance.features import FEATURES
from conformance.frameworks.onnx.node import probe_case
from conformance.frameworks.onnx.reference import OnnxReferenceGRU

ADAPTERS = {0: OnnxReferenceGRU(), 1: OnnxReferenceGRU(layout=1)}
ALL = [f.name for f in FEATURES]
SUPPORTED = ["float64", "float32", "float16", "bfloat16", "reset_after", "reset_before", "no_bias", "reverse",
             "bidirectional", "stacked", "initial_state"]
#: the attributes op_gru.py takes and drops (marked noqa ARG002 in its _run), as the probes find
IGNORED = {"lengths": "ignores sequence_lens", "clip": "ignores clip",
           "activations": "ignores activations Relu, HardSigmoid, LeakyRelu, ThresholdedRelu, ScaledTanh, Elu, "
                          "Softsign, Softplus, Affine"}
UPSTREAM = f"onnx {onnx.__version__}: onnx/reference/ops/op_gru.py accepts %s and never uses it"


@pytest.mark.parametrize("feature", sorted(IGNORED))
def test_ignored_attributes_are_unsupported_with_the_evidence(feature):
    result = check_feature(ADAPTERS[0], feature)
    assert result.status == "unsupported", result.report()
    assert result.reason.startswith(f"onnx {onnx.__version__} ReferenceEvaluator {IGNORED[feature]}: ")
    assert "bit-identical to the output without it" in result.reason


# Run anyway: each is a real non-conformance of the operator's reference implementation.
@pytest.mark.xfail(strict=True, raises=AssertionError, reason=UPSTREAM % "sequence_lens")
def test_reference_honours_sequence_lens():
    assert verify(ADAPTERS[0], probe_case("float64", lengths=[1, 3])).passed


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=UPSTREAM % "clip")
def test_reference_honours_clip():
    assert verify(ADAPTERS[0], probe_case("float64", clip=0.5)).passed


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason=UPSTREAM % "activations, activation_alpha and activation_beta")
def test_reference_honours_activations():
    acts = (Activation("HardSigmoid", 0.25, 0.5), Activation("LeakyRelu", 0.5))
    assert verify(ADAPTERS[0], probe_case("float64", activations=acts)).passed
