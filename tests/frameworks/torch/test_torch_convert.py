"""The torch converters: exact round trips both ways, agreement with torch's own forward, refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import references
from conformance.case import GateWeights, GRUSpec
from conformance.frameworks.torch.convert import (
    cell_from_torch,
    cell_to_torch,
    gru_from_torch,
    gru_to_torch,
    torch_gru_kwargs,
)

DTYPES = (torch.float64, torch.float32, torch.float16, torch.bfloat16)
# values with awkward bit patterns: signed zeros, subnormals, extremes
SPECIAL = np.array([0.0, -0.0, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, np.pi, -1 / 3])


@st.composite
def specs(draw, cell=False):
    direction = "forward" if cell else draw(st.sampled_from(["forward", "bidirectional"]))
    return GRUSpec(draw(st.integers(1, 5)), draw(st.integers(1, 5)), 1 if cell else draw(st.integers(1, 4)),
                   direction, reset_after=True, bias=draw(st.booleans()))


def canonical(spec: GRUSpec, seed: int) -> tuple:
    """Random float64 weights with special values sprinkled in (bit patterns must survive)."""
    rng = np.random.default_rng(seed)
    H, D = spec.hidden_size, spec.num_directions

    def arr(shape):
        a = rng.standard_normal(shape)
        mask = rng.random(shape) < 0.2
        a[mask] = rng.choice(SPECIAL, int(mask.sum()))
        return a

    out = []
    for i in range(spec.num_layers * D):
        zeros = not spec.bias
        out.append(GateWeights(arr((3, H, spec.layer_input_size(i // D))), arr((3, H, H)),
                               np.zeros((3, H)) if zeros else arr((3, H)), np.zeros((3, H)) if zeros else arr((3, H))))
    return tuple(out)


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_same_weights(ws1, ws2):
    for w1, w2 in zip(ws1, ws2, strict=True):
        for k in ("W", "U", "bW", "bU"):
            assert same_bits(getattr(w1, k), getattr(w2, k)), k


@settings(max_examples=60, deadline=None)
@given(specs(), st.integers(0, 2**32 - 1))
def test_gru_canonical_torch_canonical_is_exact(spec, seed):
    weights = canonical(spec, seed)
    state = gru_to_torch(spec, weights)
    spec2, weights2 = gru_from_torch(state)
    assert spec2 == spec
    assert_same_weights(weights, weights2)


@settings(max_examples=40, deadline=None)
@given(specs(cell=True), st.integers(0, 2**32 - 1))
def test_cell_canonical_torch_canonical_is_exact(spec, seed):
    weights = canonical(spec, seed)
    spec2, weights2 = cell_from_torch(cell_to_torch(spec, weights))
    assert spec2 == spec
    assert_same_weights(weights, weights2)


def _module_state(module, dtype):
    module = module.to(dtype)
    with torch.no_grad():
        for p in module.parameters():  # more than torch's init: signed zeros too
            p.view(-1)[0] = -0.0
    return module.state_dict()


def _assert_same_state(state, back):
    assert list(back) == list(state)  # same keys, in torch's own order
    for k, t in state.items():
        assert back[k].dtype == np.float64
        assert same_bits(back[k], t.double().numpy()), k
        assert torch.equal(torch.from_numpy(back[k]).to(t.dtype), t), k
        assert torch.equal(torch.signbit(torch.from_numpy(back[k])), torch.signbit(t)), k


@settings(max_examples=40, deadline=None)
@given(specs(), st.sampled_from(DTYPES), st.integers(0, 2**31))
def test_gru_torch_canonical_torch_is_exact(spec, dtype, seed):
    torch.manual_seed(seed)
    state = _module_state(torch.nn.GRU(**torch_gru_kwargs(spec)), dtype)
    spec2, weights = gru_from_torch(state)
    assert spec2 == spec
    back = gru_to_torch(spec2, weights)
    _assert_same_state(state, back)
    torch.nn.GRU(**torch_gru_kwargs(spec)).to(dtype).load_state_dict({k: torch.from_numpy(v) for k, v in back.items()})


@settings(max_examples=30, deadline=None)
@given(specs(cell=True), st.sampled_from(DTYPES), st.integers(0, 2**31))
def test_cell_torch_canonical_torch_is_exact(spec, dtype, seed):
    torch.manual_seed(seed)
    cell = torch.nn.GRUCell(spec.input_size, spec.hidden_size, bias=spec.bias)
    state = _module_state(cell, dtype)
    spec2, weights = cell_from_torch(state)
    assert spec2 == spec
    _assert_same_state(state, cell_to_torch(spec2, weights))


@settings(max_examples=40, deadline=None)
@given(specs(), st.integers(1, 6), st.integers(1, 4), st.booleans(), st.integers(0, 2**31))
def test_converted_torch_weights_drive_the_oracle_to_torch_output(spec, T, B, with_h0, seed):
    """Not circular: torch's own init and forward against the oracle fed the converted weights."""
    torch.manual_seed(seed)
    gru = torch.nn.GRU(**torch_gru_kwargs(spec), dtype=torch.float64)
    with torch.no_grad():  # torch's init leaves biases tiny; spread every parameter
        for p in gru.parameters():
            p.normal_(0.0, 0.8)
    x = torch.randn(T, B, spec.input_size, dtype=torch.float64)
    h0 = torch.randn(spec.num_layers * spec.num_directions, B, spec.hidden_size, dtype=torch.float64)
    with torch.inference_mode():
        y, h_n = gru(x, h0 if with_h0 else None)
    spec2, weights = gru_from_torch(gru.state_dict())
    y_ref, h_ref = references.gru(x.numpy(), [tuple(w) for w in weights], num_layers=spec2.num_layers,
                                  direction=spec2.direction, h0=h0.numpy() if with_h0 else None)
    np.testing.assert_allclose(y_ref, y.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_ref, h_n.numpy(), rtol=0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(specs(cell=True), st.integers(1, 4), st.integers(0, 2**31))
def test_converted_cell_weights_drive_the_oracle_cell_to_torch_output(spec, B, seed):
    torch.manual_seed(seed)
    cell = torch.nn.GRUCell(spec.input_size, spec.hidden_size, bias=spec.bias, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_(0.0, 0.8)
    x = torch.randn(B, spec.input_size, dtype=torch.float64)
    h = torch.randn(B, spec.hidden_size, dtype=torch.float64)
    with torch.inference_mode():
        expected = cell(x, h).numpy()
    _, (w,) = cell_from_torch(cell.state_dict())
    np.testing.assert_allclose(references.gru_cell(x.numpy(), h.numpy(), *w), expected, rtol=0, atol=1e-12)


def test_gate_order_is_r_z_n_in_torch():
    spec = GRUSpec(1, 1)
    w = GateWeights(W=np.array([[[1.0]], [[2.0]], [[3.0]]]), U=np.array([[[4.0]], [[5.0]], [[6.0]]]),
                    bW=np.array([[7.0], [8.0], [9.0]]), bU=np.array([[10.0], [11.0], [12.0]]))
    state = gru_to_torch(spec, [w])
    assert state["weight_ih_l0"].ravel().tolist() == [2.0, 1.0, 3.0]  # r, z, n
    assert state["weight_hh_l0"].ravel().tolist() == [5.0, 4.0, 6.0]
    assert state["bias_ih_l0"].tolist() == [8.0, 7.0, 9.0]
    assert state["bias_hh_l0"].tolist() == [11.0, 10.0, 12.0]


def test_prefixed_state_dicts_such_as_a_wrapper_module():
    class Wrapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(3, 2, num_layers=2, bidirectional=True)

    state = Wrapper().state_dict()
    spec, weights = gru_from_torch(state, prefix="gru.")
    assert spec == GRUSpec(3, 2, 2, "bidirectional")
    assert list(gru_to_torch(spec, weights, prefix="gru.")) == list(state)


def _weights(spec):
    return canonical(spec, 0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(reset_after=False), r"only applies the reset after the recurrent matmul \(reset_after=True\)"),
    (dict(direction="reverse"), "no reverse-only direction"),
    (dict(activations=("Relu", "Tanh")), "fixed activations"),
    (dict(clip=1.0), "no pre-activation clip"),
])
def test_unrepresentable_spec_is_refused(kwargs, message):
    spec = GRUSpec(2, 3, **kwargs)
    with pytest.raises(ValueError, match=message):
        gru_to_torch(spec, _weights(spec))
    with pytest.raises(ValueError, match=message):
        torch_gru_kwargs(spec)
    with pytest.raises(ValueError, match=message):
        cell_to_torch(spec, _weights(spec))


def test_non_zero_biases_with_bias_false_are_refused():
    spec = GRUSpec(2, 3, bias=True)
    with pytest.raises(ValueError, match="bias=False but the biases are not zero"):
        gru_to_torch(GRUSpec(2, 3, bias=False), _weights(spec))


@pytest.mark.parametrize("spec", [GRUSpec(2, 3, num_layers=2), GRUSpec(2, 3, direction="bidirectional")])
def test_cell_refuses_layers_and_directions(spec):
    with pytest.raises(ValueError, match="torch.nn.GRUCell is one layer in one direction"):
        cell_to_torch(spec, _weights(spec))


def test_wrong_weight_count_and_shape_are_refused():
    spec = GRUSpec(2, 3, num_layers=2)
    with pytest.raises(ValueError, match="expected 2 entries"):
        gru_to_torch(spec, _weights(spec)[:1])
    with pytest.raises(ValueError, match=r"weights\[1\].W.shape: expected \(3, 3, 3\)"):
        gru_to_torch(spec, _weights(GRUSpec(2, 3, num_layers=1)) * 2)


def test_malformed_state_dicts_are_refused():
    state = torch.nn.GRU(2, 3, num_layers=2).state_dict()
    with pytest.raises(ValueError, match="unexpected key 'weight_ih'"):
        gru_from_torch({"weight_ih": state["weight_ih_l0"]})
    with pytest.raises(ValueError, match="no weights for"):
        gru_from_torch({k: v for k, v in state.items() if "_l0" not in k})
    with pytest.raises(ValueError, match="has shape"):
        gru_from_torch({**state, "weight_hh_l1": torch.zeros(9, 2)})
    with pytest.raises(ValueError, match="expected .*bias_hh"):
        gru_from_torch({k: v for k, v in state.items() if k != "bias_hh_l1"})
    with pytest.raises(ValueError, match="unexpected key 'weight_ih_l0'"):
        cell_from_torch(state)
    with pytest.raises(ValueError, match="floating-point"):
        gru_from_torch({k: v.int() for k, v in state.items()})
