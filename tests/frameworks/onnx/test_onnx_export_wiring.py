"""The two tricks that let an export serve every example: zero padding and index-coded wiring."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import given
from onnx import helper, numpy_helper

from conformance.canonical import oracle
from conformance.case import GRUCase
from conformance.contract import Capabilities
from conformance.frameworks.onnx.wiring import WiringError, codes, wire, wired_feeds
from conformance.frameworks.padding import pad_last, pad_weights, padded_spec, square_size, unpad_y
from conformance.strategies import gru_cases

DEFAULT_ACTIVATIONS = Capabilities(dtypes=("float64",), directions=("forward", "reverse", "bidirectional"),
                                   max_layers=3, reset_after=(True, False), bias=(True, False), lengths=True)


@given(gru_cases(DEFAULT_ACTIVATIONS))
def test_a_padded_case_computes_the_same_gru(case):
    s, S = case.spec, square_size(case.spec)
    h0 = None if case.h0 is None else pad_last(case.h0, S)
    padded = GRUCase(padded_spec(s, S), pad_weights(s, case.weights, S), pad_last(case.x, S), h0, case.lengths)
    big, small = oracle(padded), oracle(case)
    assert np.all(big.h_n[..., s.hidden_size:] == 0)  # the extra units stay exactly zero
    np.testing.assert_allclose(unpad_y(big.y, s.num_directions, s.hidden_size, S), small.y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(big.h_n[..., :s.hidden_size], small.h_n, rtol=0, atol=1e-12)


def _model(*inits: np.ndarray) -> onnx.ModelProto:
    names = [f"c{i}" for i in range(len(inits))]
    node = helper.make_node("Concat", names, ["y"], axis=0)
    graph = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(a, n) for a, n in zip(inits, names, strict=True)])
    return helper.make_model(graph)


def test_wiring_reads_gathers_and_zeros_back():
    (c,) = codes([(6,)])
    other = np.array([0.5, 2.0], np.float32)  # not weights: left alone
    model, wiring, unused = wire(_model(c[[4, 0, 0]], np.array([c[2], 0], np.float32), other), 6)
    assert [i.name for i in model.graph.input] == ["c0", "c1"] and len(model.graph.initializer) == 1
    assert unused == 3  # weights 1, 3 and 5 appear nowhere
    flat = np.arange(10.0, 16.0)
    feeds = wired_feeds(wiring, flat)
    assert feeds["c0"].tolist() == [14.0, 10.0, 10.0] and feeds["c1"].tolist() == [12.0, 0.0]


def test_wiring_refuses_what_is_not_a_gather():
    (c,) = codes([(3,)])
    with pytest.raises(WiringError, match="not a plain gather"):
        wire(_model(np.array([c[0], c[1] * 2], np.float32)), 3)
