"""Canonical weights <-> Keras 3 ``GRU`` / ``GRUCell`` / ``Bidirectional`` weight lists, both ways.

Keras (keras/src/layers/rnn/gru.py) keeps the gates side by side in the order z, r, h(=n)
and multiplies from the right (x @ kernel): ``kernel`` is (I, 3H), ``recurrent_kernel``
(H, 3H), so ``kernel[:, g*H:(g+1)*H] == W[g].T``. The bias, when ``use_bias``, is

* reset_after=True: (2, 3H) = [input bias; recurrent bias] = [bW; bU], exactly canonical;
* reset_after=False: (3H,), one input-side bias and no recurrent bias at all.

With reset_after=False Keras computes z = f(xK_z + b_z + hR_z), r = f(xK_r + b_r + hR_r),
n = g(xK_n + b_n + (r*h)R_n). In the canonical equations every recurrent bias of that
convention sits outside the reset: z = f(W_z x + bW_z + U_z h + bU_z), and
n = g(W_n x + bW_n + U_n(r*h) + bU_n), so b = bW + bU is the same GRU in exact arithmetic,
for all three gates (b_Un included; only reset_after=True keeps b_Un inside r * (...)).
By default (``fold="exact"``) the fold is done only where it is exact: bW + bU must be a
float64 value without rounding and exactly representable in the target dtype; otherwise
``ValueError``, never a silent approximation. ``fold="round"`` is the explicit opt-in to
round the float64 sum once to the target dtype: the rounding any implementation makes when
it adds the two biases in that dtype (one term of the summation error the tolerance allows),
and the only way to run such a GRU in Keras at all. Keras -> canonical for
reset_after=False puts the bias in bW and zeros in bU.

Round trips are bit-identical: Keras -> canonical -> Keras always; canonical -> Keras ->
canonical whenever the canonical form is the one Keras can name (bU == 0 for
reset_after=False; otherwise the round trip returns the equivalent bW + bU, bU = 0).

A layer's list is ``layer.get_weights()`` order: [kernel, recurrent_kernel(, bias)]; a
``Bidirectional`` layer lists its forward layer's weights, then its backward layer's.
A stack is a list of such per-layer lists. Arrays come out as float64 NumPy arrays (Keras
casts on ``set_weights``); NumPy, ml_dtypes (bfloat16) and framework tensors go in.
No keras import is needed here.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...case import GateWeights, GRUSpec, check_weights
from ...dtypes import DTYPES, is_representable, round_to

FOLDS = ("exact", "round")


def _numpy(a, name: str) -> np.ndarray:
    """A float64 copy of an array-like (bfloat16 and framework tensors included, exactly)."""
    if hasattr(a, "detach"):  # a torch tensor: .double() is exact from every float dtype
        a = a.detach().cpu().double().numpy()
    a = np.asarray(a)
    if a.dtype.kind not in "fV" or (a.dtype.kind == "V" and a.dtype.name != "bfloat16"):
        raise ValueError(f"{name}: expected floating-point values, got dtype {a.dtype}")
    return np.array(a, dtype=np.float64)


def keras_unsupported(spec: GRUSpec, cell: bool = False) -> str | None:
    """Why ``spec`` has no exact Keras counterpart, or None if it has one."""
    what = "keras.layers.GRUCell" if cell else "keras.layers.GRU"
    if not spec.default_activations:
        return (f"{what} is checked with its default activations (sigmoid, tanh) only, got "
                f"{', '.join(map(str, spec.activations))}")
    if spec.clip is not None:
        return f"{what} has no pre-activation clip"
    if cell and (spec.num_layers != 1 or spec.direction != "forward"):
        return f"{what} is one layer in one direction, got {spec.num_layers} layers {spec.direction}"
    return None


def fold_exact(bW: np.ndarray, bU: np.ndarray, dtype: str = "float64") -> np.ndarray | None:
    """bW + bU if every sum is exact in float64 and representable in ``dtype``, else None.

    Exactness of the float64 sum is checked with the error term of TwoSum (Knuth): it is
    zero exactly when a + b has no rounding error. Where bU is zero the result is bW itself,
    bit for bit, so that Keras -> canonical -> Keras round trips keep signed zeros.
    """
    a, b = np.asarray(bW, np.float64), np.asarray(bU, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        s = a + b
        bb = s - a
        err = (a - (s - bb)) + (b - bb)
    s = np.where(b == 0, a, s)  # keeps bW's bits, -0.0 included, where there is nothing to fold
    if not (np.all(np.isfinite(s)) and np.all((err == 0) | (b == 0)) and is_representable(s, dtype)):
        return None
    return s


def direction_to_keras(w: GateWeights, *, reset_after: bool, use_bias: bool = True,
                       dtype: str = "float64", fold: str = "exact") -> list[np.ndarray]:
    """One (layer, direction) -> [kernel (I, 3H), recurrent_kernel (H, 3H)(, bias)]."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype: expected one of {list(DTYPES)}, got {dtype!r}")
    if fold not in FOLDS:
        raise ValueError(f"fold: expected one of {list(FOLDS)}, got {fold!r}")
    W, U, bW, bU = (np.asarray(a, dtype=np.float64) for a in w)
    H = U.shape[1] if U.ndim == 3 else -1
    if W.ndim != 3 or W.shape[:2] != (3, H) or U.shape != (3, H, H) or bW.shape != (3, H) or bU.shape != (3, H):
        raise ValueError(f"weights: expected W (3, H, I), U (3, H, H), bW and bU (3, H), got "
                         f"{W.shape}, {U.shape}, {bW.shape}, {bU.shape}")
    out = [W.transpose(2, 0, 1).reshape(W.shape[2], 3 * H), U.transpose(2, 0, 1).reshape(H, 3 * H)]
    if not use_bias:
        if np.any(bW != 0) or np.any(bU != 0):
            raise ValueError("use_bias=False but the biases are not zero; Keras would drop them")
        return out
    if reset_after:
        out.append(np.stack([bW.reshape(3 * H), bU.reshape(3 * H)]))
        return out
    folded = fold_exact(bW, bU, dtype)
    if folded is None and fold == "round":
        folded = round_to(bW + bU, dtype)
    if folded is None:
        raise ValueError(
            "reset_after=False: Keras has a single input-side bias, so bW + bU must be folded into it, "
            f"but the sum is not exact in float64 and {dtype} for these values; refusing to round it "
            "(fold='round' rounds it explicitly)")
    out.append(folded.reshape(3 * H))
    return out


def direction_from_keras(arrays: Sequence, *, reset_after: bool) -> GateWeights:
    """[kernel, recurrent_kernel(, bias)] of one Keras GRU (or cell) -> canonical weights."""
    arrays = list(arrays)
    if len(arrays) not in (2, 3):
        raise ValueError(f"keras weights: expected [kernel, recurrent_kernel(, bias)], got {len(arrays)} arrays")
    kernel, rec = _numpy(arrays[0], "kernel"), _numpy(arrays[1], "recurrent_kernel")
    if rec.ndim != 2 or rec.shape[1] != 3 * rec.shape[0]:
        raise ValueError(f"recurrent_kernel: expected shape (H, 3H), got {rec.shape}")
    H = rec.shape[0]
    if kernel.ndim != 2 or kernel.shape[1] != 3 * H:
        raise ValueError(f"kernel: expected shape (input_size, {3 * H}), got {kernel.shape}")
    W = kernel.reshape(-1, 3, H).transpose(1, 2, 0)
    U = rec.reshape(H, 3, H).transpose(1, 2, 0)
    bW, bU = np.zeros((3, H)), np.zeros((3, H))
    if len(arrays) == 3:
        bias = _numpy(arrays[2], "bias")
        expected = (2, 3 * H) if reset_after else (3 * H,)
        if bias.shape != expected:
            raise ValueError(f"bias: expected shape {expected} for reset_after={reset_after}, got {bias.shape}")
        if reset_after:
            bW, bU = bias[0].reshape(3, H).copy(), bias[1].reshape(3, H).copy()
        else:
            bW = bias.reshape(3, H).copy()
    return GateWeights(W=np.ascontiguousarray(W), U=np.ascontiguousarray(U), bW=bW, bU=bU)


def _check(spec: GRUSpec, weights, cell: bool) -> tuple:
    reason = keras_unsupported(spec, cell)
    if reason:
        raise ValueError(reason)
    return check_weights(spec, weights)


def gru_to_keras(spec: GRUSpec, weights, dtype: str = "float64", fold: str = "exact") -> list[list[np.ndarray]]:
    """Canonical weights (indexed l*D + d) -> one weight list per Keras layer.

    Each list is what ``set_weights`` takes on a ``GRU`` (forward or ``go_backwards``) or a
    ``Bidirectional(GRU)`` (forward direction's weights, then the backward one's).
    """
    weights = _check(spec, weights, cell=False)
    D = spec.num_directions
    layers = []
    for layer in range(spec.num_layers):
        arrays = []
        for d in range(D):
            try:
                arrays += direction_to_keras(weights[layer * D + d], reset_after=spec.reset_after,
                                             use_bias=spec.bias, dtype=dtype, fold=fold)
            except ValueError as e:
                raise ValueError(f"layer {layer} direction {d}: {e}") from None
        layers.append(arrays)
    return layers


def cell_to_keras(spec: GRUSpec, weights, dtype: str = "float64", fold: str = "exact") -> list[np.ndarray]:
    """Canonical weights of a one-layer forward GRU -> a ``GRUCell`` weight list."""
    (w,) = _check(spec, weights, cell=True)
    return direction_to_keras(w, reset_after=spec.reset_after, use_bias=spec.bias, dtype=dtype, fold=fold)


def gru_from_keras(layers: Sequence[Sequence], *, reset_after: bool, direction: str = "forward") -> tuple:
    """Per-layer Keras weight lists -> (spec, canonical weights indexed l*D + d), float64.

    ``direction`` says what the layers were: "forward", "reverse" (``go_backwards=True``)
    or "bidirectional" (``Bidirectional`` layers, each list forward then backward).
    """
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ValueError(f"direction: expected forward, reverse or bidirectional, got {direction!r}")
    D = 2 if direction == "bidirectional" else 1
    layers = [list(a) for a in layers]
    if not layers:
        raise ValueError("layers: expected at least one layer's weights")
    weights, bias = [], None
    for layer, arrays in enumerate(layers):
        if len(arrays) % D or len(arrays) // D not in (2, 3):
            raise ValueError(f"layer {layer}: expected {D} x [kernel, recurrent_kernel(, bias)], "
                             f"got {len(arrays)} arrays")
        n = len(arrays) // D
        if bias is None:
            bias = n == 3
        elif bias != (n == 3):
            raise ValueError(f"layer {layer}: use_bias differs from layer 0's")
        for d in range(D):
            try:
                weights.append(direction_from_keras(arrays[d * n:(d + 1) * n], reset_after=reset_after))
            except ValueError as e:
                raise ValueError(f"layer {layer} direction {d}: {e}") from None
    H = weights[0].U.shape[1]
    spec = GRUSpec(weights[0].W.shape[2], H, len(layers), direction, reset_after=reset_after, bias=bias)
    for i, w in enumerate(weights):
        expected = (3, H, spec.layer_input_size(i // D))
        if w.W.shape != expected or w.U.shape != (3, H, H):
            raise ValueError(f"layer {i // D} direction {i % D}: kernel implies W {w.W.shape} and U {w.U.shape}, "
                             f"expected {expected} and {(3, H, H)}")
    return spec, tuple(weights)


def cell_from_keras(arrays: Sequence, *, reset_after: bool) -> tuple:
    """A ``GRUCell`` weight list -> (one-layer forward spec, (weights,)), float64."""
    return gru_from_keras([arrays], reset_after=reset_after)


def keras_gru_kwargs(spec: GRUSpec) -> dict:
    """The ``keras.layers.GRU`` constructor arguments for one layer of ``spec``."""
    reason = keras_unsupported(spec)
    if reason:
        raise ValueError(reason)
    return dict(units=spec.hidden_size, reset_after=spec.reset_after, use_bias=spec.bias,
                go_backwards=spec.direction == "reverse", return_sequences=True, return_state=True)
