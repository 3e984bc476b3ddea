"""Canonical weights <-> PyTorch ``nn.GRU`` and ``nn.GRUCell`` state dicts, both ways.

PyTorch stacks the gates in the order r, z, n along the first axis: ``weight_ih_l{k}``
is (3H, I_k), ``weight_hh_l{k}`` (3H, H), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (3H,),
with the suffix ``_reverse`` for the second direction; a cell drops the ``_l{k}``. Its
equations are the canonical ones with reset_after=True (the new gate's recurrent bias
b_hn stays inside the reset) and the same update convention, h' = (1 - z) n + z h, so
the conversion is a gate permutation and nothing else: round trips are bit-identical.

A canonical GRU that PyTorch cannot express raises ``ValueError``; nothing is approximated.
State dicts come out as float64 NumPy arrays; torch tensors (any float dtype) are
accepted going in. No torch import is needed here.
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np

from ...case import GateWeights, GRUSpec, check_weights

#: canonical gate index (z=0, r=1, n=2) of each torch gate block, in torch order r, z, n.
TORCH_ORDER = (1, 0, 2)


def _numpy(a, name: str) -> np.ndarray:
    """A float64 copy of a NumPy array or a torch tensor (bfloat16 included, exactly)."""
    if hasattr(a, "detach"):  # a torch tensor: .double() is exact from every float dtype
        if not a.dtype.is_floating_point:
            raise ValueError(f"{name}: expected floating-point values, got dtype {a.dtype}")
        a = a.detach().cpu().double().numpy()
    a = np.asarray(a)
    if a.dtype.kind != "f":
        raise ValueError(f"{name}: expected floating-point values, got dtype {a.dtype}")
    return np.array(a, dtype=np.float64)


def torch_unsupported(spec: GRUSpec, cell: bool = False) -> str | None:
    """Why ``spec`` has no exact torch counterpart, or None if it has one."""
    what = "torch.nn.GRUCell" if cell else "torch.nn.GRU"
    if not spec.reset_after:
        return f"{what} only applies the reset after the recurrent matmul (reset_after=True)"
    if not spec.default_activations:
        return f"{what} has fixed activations (Sigmoid, Tanh), got {', '.join(map(str, spec.activations))}"
    if spec.clip is not None:
        return f"{what} has no pre-activation clip"
    if spec.direction == "reverse":
        return f"{what} has no reverse-only direction (bidirectional=True runs both directions)"
    if cell and (spec.num_layers != 1 or spec.direction != "forward"):
        return f"{what} is one layer in one direction, got {spec.num_layers} layers {spec.direction}"
    return None


def _check(spec: GRUSpec, weights, cell: bool) -> tuple:
    reason = torch_unsupported(spec, cell)
    if reason:
        raise ValueError(reason)
    weights = check_weights(spec, weights)
    for i, w in enumerate(weights):
        if not spec.bias and (np.any(w.bW != 0) or np.any(w.bU != 0)):
            raise ValueError(f"weights[{i}]: bias=False but the biases are not zero; torch would drop them")
    return weights


def _to_blocks(a) -> np.ndarray:
    """Canonical (3, H, ...) in z, r, n -> torch (3H, ...) in r, z, n."""
    a = np.asarray(a, dtype=np.float64)
    return np.concatenate([a[g] for g in TORCH_ORDER], axis=0)


def _from_blocks(a: np.ndarray, H: int) -> np.ndarray:
    """Torch (3H, ...) in r, z, n -> canonical (3, H, ...) in z, r, n."""
    blocks = a.reshape(3, H, *a.shape[1:])
    out = np.empty_like(blocks)
    for torch_g, g in enumerate(TORCH_ORDER):
        out[g] = blocks[torch_g]
    return out


def _entries(w: GateWeights, suffix: str, bias: bool) -> dict:
    d = {f"weight_ih{suffix}": _to_blocks(w.W), f"weight_hh{suffix}": _to_blocks(w.U)}
    if bias:
        d[f"bias_ih{suffix}"] = _to_blocks(w.bW)
        d[f"bias_hh{suffix}"] = _to_blocks(w.bU)
    return d


def gru_to_torch(spec: GRUSpec, weights, prefix: str = "") -> dict[str, np.ndarray]:
    """Canonical weights (indexed l*D + d) -> an ``nn.GRU`` state dict of float64 arrays."""
    weights = _check(spec, weights, cell=False)
    D = spec.num_directions
    out = {}
    for i, w in enumerate(weights):
        suffix = f"_l{i // D}" + ("_reverse" if i % D else "")
        out.update(_entries(w, suffix, spec.bias))
    return {prefix + k: v for k, v in out.items()}


def cell_to_torch(spec: GRUSpec, weights, prefix: str = "") -> dict[str, np.ndarray]:
    """Canonical weights of a one-layer forward GRU -> an ``nn.GRUCell`` state dict."""
    (w,) = _check(spec, weights, cell=True)
    return {prefix + k: v for k, v in _entries(w, "", spec.bias).items()}


def torch_gru_kwargs(spec: GRUSpec) -> dict:
    """The ``nn.GRU`` constructor arguments for ``spec`` (ValueError if it has none)."""
    reason = torch_unsupported(spec)
    if reason:
        raise ValueError(reason)
    return dict(input_size=spec.input_size, hidden_size=spec.hidden_size, num_layers=spec.num_layers,
                bias=spec.bias, bidirectional=spec.direction == "bidirectional")


_KEY = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh)(?:_l(\d+))?(_reverse)?$")


def _parse(state_dict: Mapping, prefix: str, cell: bool) -> dict:
    """{(layer, direction): {kind: float64 array}} from a state dict; unknown keys are errors."""
    entries: dict = {}
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            raise ValueError(f"state_dict: key {key!r} does not start with prefix {prefix!r}")
        m = _KEY.match(key[len(prefix):])
        if not m or (m.group(2) is None) != cell or (cell and m.group(3)):
            form = "weight_ih, weight_hh, bias_ih, bias_hh" if cell else "weight_ih_l{k}[_reverse], ..."
            raise ValueError(f"state_dict: unexpected key {key!r}, expected {prefix}{form}")
        layer, d = (0 if cell else int(m.group(2))), int(bool(m.group(3)))
        entries.setdefault((layer, d), {})[m.group(1)] = _numpy(value, key)
    if not entries:
        raise ValueError("state_dict: no GRU weights found")
    return entries


def _from_torch(state_dict: Mapping, prefix: str, cell: bool) -> tuple[GRUSpec, tuple]:
    entries = _parse(state_dict, prefix, cell)
    L = 1 + max(layer for layer, _ in entries)
    D = 2 if any(d for _, d in entries) else 1
    missing = [(layer, d) for layer in range(L) for d in range(D) if (layer, d) not in entries]
    if missing:
        raise ValueError(f"state_dict: no weights for (layer, direction) {missing}")
    first = entries[(0, 0)]
    if "weight_hh" not in first or "weight_ih" not in first:
        raise ValueError("state_dict: weight_ih and weight_hh are required")
    H3, input_size = first["weight_ih"].shape
    if H3 % 3:
        raise ValueError(f"state_dict: weight_ih has {H3} rows, expected 3 * hidden_size")
    H = H3 // 3
    bias = "bias_ih" in first
    spec = GRUSpec(input_size, H, L, "bidirectional" if D == 2 else "forward", reset_after=True, bias=bias)
    weights = []
    for layer in range(L):
        for d in range(D):
            e = entries[(layer, d)]
            expected = {"weight_ih": (3 * H, spec.layer_input_size(layer)), "weight_hh": (3 * H, H)}
            if bias:
                expected.update(bias_ih=(3 * H,), bias_hh=(3 * H,))
            if set(e) != set(expected):
                raise ValueError(f"state_dict: layer {layer} direction {d} has {sorted(e)}, "
                                 f"expected {sorted(expected)}")
            for kind, shape in expected.items():
                if e[kind].shape != shape:
                    raise ValueError(f"state_dict: {kind} of layer {layer} direction {d} has shape "
                                     f"{e[kind].shape}, expected {shape}")
            zeros = np.zeros((3, H))
            weights.append(GateWeights(
                W=_from_blocks(e["weight_ih"], H), U=_from_blocks(e["weight_hh"], H),
                bW=_from_blocks(e["bias_ih"], H) if bias else zeros,
                bU=_from_blocks(e["bias_hh"], H) if bias else zeros.copy(),
            ))
    return spec, tuple(weights)


def gru_from_torch(state_dict: Mapping, prefix: str = "") -> tuple[GRUSpec, tuple]:
    """An ``nn.GRU`` state dict -> (spec, canonical weights indexed l*D + d), float64."""
    return _from_torch(state_dict, prefix, cell=False)


def cell_from_torch(state_dict: Mapping, prefix: str = "") -> tuple[GRUSpec, tuple]:
    """An ``nn.GRUCell`` state dict -> (one-layer forward spec, (weights,)), float64."""
    return _from_torch(state_dict, prefix, cell=True)
