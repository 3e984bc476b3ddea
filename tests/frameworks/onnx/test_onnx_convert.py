"""The ONNX converters: exact round trips both ways, and two checks that are not circular.

1. A hand-worked one-unit case from the ONNX operator's own equations (scalar math here,
   not references.gru): the converter's ONNX arrays run on onnxruntime must give it.
2. PyTorch's exporter packs nn.GRU's weights into ONNX GRU nodes by itself; our converter,
   fed the same weights via the (separately tested) torch converter, must pack them the same.
"""

from __future__ import annotations

import io
import math

import numpy as np
import onnx
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from onnx import numpy_helper

from conformance.canonical import oracle
from conformance.case import Activation, GateWeights, GRUCase, GRUSpec
from conformance.frameworks.onnx import convert as conv
from conformance.frameworks.onnx.node import OnnxRuntimeGRU
from conformance.frameworks.reference import ReferenceAdapter
from conformance.frameworks.torch.convert import gru_from_torch
from conformance.strategies import gru_cases

EVERYTHING = ReferenceAdapter().capabilities()


def same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.tobytes() == b.astype(a.dtype).tobytes()


@given(gru_cases(EVERYTHING))
def test_weights_round_trip_exactly(case):
    layers = conv.weights_to_onnx(case.spec, case.weights)
    D, H = case.spec.num_directions, case.spec.hidden_size
    for layer, (W, R, B) in enumerate(layers):
        assert W.shape == (D, 3 * H, case.spec.layer_input_size(layer))
        assert R.shape == (D, 3 * H, H) and B.shape == (D, 6 * H)
    back = conv.weights_from_onnx(layers)
    for w1, w2 in zip(case.weights, back, strict=True):
        assert all(same(a, b) for a, b in zip(w1, w2, strict=True))
    again = conv.weights_to_onnx(case.spec, back)
    assert all(same(a, b) for l1, l2 in zip(layers, again, strict=True) for a, b in zip(l1, l2, strict=True))


@given(gru_cases(EVERYTHING, h0=True), st.sampled_from([0, 1]))
def test_states_inputs_and_outputs_round_trip_exactly(case, layout):
    s = case.spec
    per_layer = conv.state_to_onnx(s, case.h0, layout)
    B, D, H = case.B, s.num_directions, s.hidden_size
    assert all(p.shape == ((B, D, H) if layout else (D, B, H)) for p in per_layer)
    assert same(conv.state_from_onnx(per_layer, layout), case.h0)
    assert same(conv.x_from_onnx(conv.x_to_onnx(case.x, layout), layout), case.x)
    y = oracle(case).y
    Y = conv.y_to_onnx(y, D, layout)
    assert Y.shape == ((B, case.T, D, H) if layout else (case.T, D, B, H))
    assert same(conv.y_from_onnx(Y, layout), y)
    assert same(conv.y_to_onnx(conv.y_from_onnx(Y, layout), D, layout), Y)
    assert same(conv.stacked_input(Y, layout), conv.x_to_onnx(y, layout))


def test_layouts_put_directions_and_batch_where_the_operator_says():
    y = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)  # T=2, B=3, D=2, H=2
    Y0, Y1 = conv.y_to_onnx(y, 2, 0), conv.y_to_onnx(y, 2, 1)
    assert same(Y0[1, 1, 2], y[1, 2, 2:]) and same(Y1[2, 1, 1], y[1, 2, 2:])  # reverse half at d=1


def test_bias_is_input_biases_then_recurrent_biases_in_gate_order_z_r_h():
    w = GateWeights(np.zeros((3, 1, 1)), np.zeros((3, 1, 1)), np.array([[1.0], [2.0], [3.0]]),
                    np.array([[4.0], [5.0], [6.0]]))
    _, _, B = conv.layer_to_onnx([w])
    assert B.tolist() == [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]
    assert conv.lengths_to_onnx(np.array([3, 1])).dtype == np.int32


@given(gru_cases(EVERYTHING, activations=True))
def test_attributes_round_trip_with_defaults_resolved(case):
    s = case.spec
    attrs = conv.attributes(s)
    assert attrs["linear_before_reset"] == int(s.reset_after) and attrs["direction"] == s.direction
    assert len(attrs["activations"]) == 2 * s.num_directions
    back = conv.spec_from_attributes(attrs, s.input_size, s.num_layers, s.bias)
    assert back == conv.spec_from_attributes(conv.attributes(back), s.input_size, s.num_layers, s.bias)
    assert back.activations == tuple(conv._resolved(a) for a in s.activations)
    assert (back.hidden_size, back.direction, back.reset_after, back.clip) == \
           (s.hidden_size, s.direction, s.reset_after, s.clip)


def test_alpha_and_beta_are_consumed_only_by_the_activations_that_take_them():
    spec = GRUSpec(1, 1, activations=(Activation("HardSigmoid", 0.25, 0.5), Activation("LeakyRelu", 2.0)),
                   direction="bidirectional")
    attrs = conv.attributes(spec)
    assert attrs["activations"] == ["HardSigmoid", "LeakyRelu"] * 2
    assert attrs["activation_alpha"] == [0.25, 2.0] * 2 and attrs["activation_beta"] == [0.5, 0.5]
    assert "activations" not in conv.attributes(GRUSpec(1, 1))


def test_per_direction_activations_map_to_the_four_names_and_back():
    attrs = {"hidden_size": 1, "direction": "bidirectional", "activations": ["Sigmoid", "Tanh", "Relu", "Tanh"]}
    spec = conv.spec_from_attributes(attrs, 1)
    assert spec.per_direction and [a.name for a in spec.activations] == ["Sigmoid", "Tanh", "Relu", "Tanh"]
    assert spec.direction_activations(1) == (Activation("Relu"), Activation("Tanh"))
    assert conv.attributes(spec)["activations"] == attrs["activations"]
    # the same pair twice is the shared pair: one canonical form
    shared = conv.spec_from_attributes({**attrs, "activations": ["Sigmoid", "Relu"] * 2}, 1)
    assert not shared.per_direction and conv.attributes(shared)["activations"] == ["Sigmoid", "Relu"] * 2


def test_refusals_name_the_problem():
    with pytest.raises(ValueError, match="expected 2 names"):
        conv.spec_from_attributes({"hidden_size": 1, "direction": "forward",
                                   "activations": ["Sigmoid", "Tanh", "Relu", "Tanh"]}, 1)
    with pytest.raises(ValueError, match=r"B.shape"):
        conv.layer_from_onnx(np.zeros((1, 3, 2)), np.zeros((1, 3, 1)), np.zeros((1, 5)))


# -- not circular: the operator's equations by hand ------------------------------------------

SIG = lambda v: 1.0 / (1.0 + math.exp(-v))  # noqa: E731


@pytest.mark.parametrize("linear_before_reset", [0, 1])
def test_onnx_equations_worked_by_hand(linear_before_reset):
    """One unit, one input, two steps; every number is exact in float32."""
    Wz, Wr, Wh, Rz, Rr, Rh = 0.5, -0.75, 1.25, 0.25, 0.5, -1.5
    Wbz, Wbr, Wbh, Rbz, Rbr, Rbh = 0.125, -0.25, 0.375, -0.5, 0.625, 0.75
    xs, H = [1.0, -0.5], 0.25
    for x in xs:  # the ONNX GRU equations, as written in the operator's documentation
        z = SIG(x * Wz + H * Rz + Wbz + Rbz)
        r = SIG(x * Wr + H * Rr + Wbr + Rbr)
        if linear_before_reset:
            h = math.tanh(x * Wh + r * (H * Rh + Rbh) + Wbh)
        else:
            h = math.tanh(x * Wh + (r * H) * Rh + Rbh + Wbh)
        H = (1 - z) * h + z * H
    canonical = GateWeights(np.array([Wz, Wr, Wh]).reshape(3, 1, 1), np.array([Rz, Rr, Rh]).reshape(3, 1, 1),
                            np.array([[Wbz], [Wbr], [Wbh]]), np.array([[Rbz], [Rbr], [Rbh]]))
    case = GRUCase(GRUSpec(1, 1, reset_after=bool(linear_before_reset)), [canonical],
                   np.array(xs).reshape(2, 1, 1), h0=np.full((1, 1, 1), 0.25), dtype="float32")
    result = OnnxRuntimeGRU().run(case)
    assert result.h_n[0, 0, 0] == pytest.approx(H, abs=1e-6)
    assert oracle(case).h_n[0, 0, 0] == pytest.approx(H, abs=1e-12)


# -- not circular: torch's exporter packs the same arrays ------------------------------------


def _exported_gru_inputs(model: onnx.ModelProto) -> list:
    """(W, R, B) of each GRU node, read from the constants the exporter wrote."""
    consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    return [tuple(consts[name] for name in n.input[1:4]) for n in model.graph.node if n.op_type == "GRU"]


@pytest.mark.filterwarnings("ignore")  # the TorchScript exporter's deprecation and tracer warnings
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packing_agrees_with_torchs_exporter(bidirectional):
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 4, num_layers=2, bidirectional=bidirectional).eval()
    f = io.BytesIO()
    torch.onnx.export(gru, (torch.zeros(5, 2, 3),), f, dynamo=False)
    exported = _exported_gru_inputs(onnx.load_from_string(f.getvalue()))
    spec, weights = gru_from_torch(gru.state_dict())
    ours = conv.weights_to_onnx(spec, weights)
    assert len(exported) == len(ours) == 2
    for theirs, mine in zip(exported, ours, strict=True):
        for a, b in zip(theirs, mine, strict=True):
            assert np.array_equal(a, b.astype(np.float32))
