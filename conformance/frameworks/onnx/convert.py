"""Canonical GRU <-> the ONNX GRU operator (opset 22), both ways.

ONNX GRU is one layer. Its gates come in the canonical order z, r, h(=n), so the weights
need no permutation, only stacking by direction: ``W`` [D, 3H, I], ``R`` [D, 3H, H],
``B`` [D, 6H] = [Wb_z, Wb_r, Wb_h, Rb_z, Rb_r, Rb_h]; direction 0 is forward, 1 reverse.
``linear_before_reset`` is reset_after; the update is h' = (1 - z) h~ + z h, canonical.
With layout 0, ``X`` is [T, B, I], ``Y`` [T, D, B, H] and ``initial_h``, ``Y_h`` [D, B, H];
layout 1 puts the batch first: [B, T, I], [B, T, D, H] and [B, D, H].
``sequence_lens`` is [B] int32. A stack of L layers is L chained GRU nodes, each layer
reading the previous Y reshaped to [T, B, D*H] (see ``stacked_input``).

Activations: ``activations`` lists (f, g) per direction (4 names when bidirectional, which may
differ per direction: GRUSpec holds 4 then);
``activation_alpha`` and ``activation_beta`` are consumed in list order by the activations
that take them (as onnxruntime reads them), so the values are always written out in full,
defaults resolved. Every array conversion is a reshape or a stack: round trips are exact.
NumPy only: no onnx import is needed here.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from references.activations import ACTIVATIONS, USES_ALPHA, USES_BETA, default_alpha_beta

from ...case import Activation, GateWeights, GRUSpec

OPSET = 22
ONNX_DIRECTIONS = ("forward", "reverse", "bidirectional")


def _f64(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind != "f":
        raise ValueError(f"{name}: expected floating-point values, got dtype {a.dtype}")
    return np.array(a, dtype=np.float64)


# -- weights ---------------------------------------------------------------------------------


def layer_to_onnx(weights: Sequence[GateWeights]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One layer's canonical weights (one GateWeights per direction) -> ONNX (W, R, B)."""
    W = np.stack([np.asarray(w.W, np.float64).reshape(-1, np.shape(w.W)[-1]) for w in weights])
    R = np.stack([np.asarray(w.U, np.float64).reshape(-1, np.shape(w.U)[-1]) for w in weights])
    B = np.stack([np.concatenate([np.ravel(w.bW), np.ravel(w.bU)]).astype(np.float64) for w in weights])
    return W, R, B


def layer_from_onnx(W, R, B=None) -> tuple:
    """ONNX (W [D,3H,I], R [D,3H,H], B [D,6H] or None) -> one GateWeights per direction."""
    W, R = _f64(W, "W"), _f64(R, "R")
    if W.ndim != 3 or R.ndim != 3 or W.shape[1] % 3 or R.shape[1:] != (W.shape[1], W.shape[1] // 3) \
            or R.shape[0] != W.shape[0]:
        raise ValueError(f"W, R: expected [D, 3H, I] and [D, 3H, H], got {W.shape} and {R.shape}")
    D, H = W.shape[0], W.shape[1] // 3
    B = np.zeros((D, 6 * H)) if B is None else _f64(B, "B")
    if B.shape != (D, 6 * H):
        raise ValueError(f"B.shape: expected {(D, 6 * H)}, got {B.shape}")
    return tuple(GateWeights(W=W[d].reshape(3, H, -1), U=R[d].reshape(3, H, H),
                             bW=B[d, :3 * H].reshape(3, H), bU=B[d, 3 * H:].reshape(3, H)) for d in range(D))


def weights_to_onnx(spec: GRUSpec, weights) -> list:
    """Canonical weights (indexed l*D + d) -> one (W, R, B) per layer."""
    D = spec.num_directions
    if len(weights) != spec.num_layers * D:
        raise ValueError(f"weights: expected {spec.num_layers * D} entries, got {len(weights)}")
    return [layer_to_onnx(weights[l * D:(l + 1) * D]) for l in range(spec.num_layers)]  # noqa: E741


def weights_from_onnx(layers) -> tuple:
    """One (W, R, B) per layer -> canonical weights indexed l*D + d."""
    return tuple(w for layer in layers for w in layer_from_onnx(*layer))


# -- states, outputs, lengths ----------------------------------------------------------------


def state_to_onnx(spec: GRUSpec, h, layout: int = 0) -> list:
    """Canonical (L*D, B, H) -> one initial_h / Y_h per layer: [D, B, H], or [B, D, H] for layout 1."""
    h = _f64(h, "h")
    D = spec.num_directions
    per_layer = [h[l * D:(l + 1) * D] for l in range(spec.num_layers)]  # noqa: E741
    return [np.ascontiguousarray(p.transpose(1, 0, 2)) if layout else p for p in per_layer]


def state_from_onnx(per_layer, layout: int = 0) -> np.ndarray:
    """One initial_h / Y_h per layer -> canonical (L*D, B, H)."""
    return np.concatenate([_f64(p, "Y_h").transpose(1, 0, 2) if layout else _f64(p, "Y_h") for p in per_layer])


def x_to_onnx(x, layout: int = 0) -> np.ndarray:
    """Canonical x (T, B, I) -> X: the same for layout 0, [B, T, I] for layout 1."""
    x = _f64(x, "x")
    return np.ascontiguousarray(x.transpose(1, 0, 2)) if layout else x


def x_from_onnx(X, layout: int = 0) -> np.ndarray:
    X = _f64(X, "X")
    return np.ascontiguousarray(X.transpose(1, 0, 2)) if layout else X


def y_from_onnx(Y, layout: int = 0) -> np.ndarray:
    """Y [T, D, B, H] (layout 1: [B, T, D, H]) -> canonical y (T, B, D*H), directions side by side."""
    Y = _f64(Y, "Y")
    if Y.ndim != 4:
        raise ValueError(f"Y: expected 4 dimensions, got shape {Y.shape}")
    Y = Y.transpose(1, 0, 2, 3) if layout else Y.transpose(0, 2, 1, 3)  # (T, B, D, H)
    T, B, D, H = Y.shape
    return np.ascontiguousarray(Y).reshape(T, B, D * H)


def y_to_onnx(y, num_directions: int, layout: int = 0) -> np.ndarray:
    """Canonical y (T, B, D*H) -> Y [T, D, B, H] (layout 1: [B, T, D, H])."""
    y = _f64(y, "y")
    T, B, DH = y.shape
    if DH % num_directions:
        raise ValueError(f"y.shape[2]: expected a multiple of {num_directions}, got {DH}")
    Y = y.reshape(T, B, num_directions, DH // num_directions)
    return np.ascontiguousarray(Y.transpose(1, 0, 2, 3) if layout else Y.transpose(0, 2, 1, 3))


def stacked_input(Y, layout: int = 0) -> np.ndarray:
    """What the next layer's GRU node reads: Y -> X, i.e. [T, B, D*H] (layout 1: [B, T, D*H]).

    The graph does the same with Transpose(perm=[0, 2, 1, 3]) + Reshape([0, 0, -1]) for
    layout 0, and with the Reshape alone for layout 1.
    """
    return x_to_onnx(y_from_onnx(Y, layout), layout)


def lengths_to_onnx(lengths) -> np.ndarray:
    return np.array(lengths, dtype=np.int32)


def lengths_from_onnx(sequence_lens) -> np.ndarray:
    return np.array(sequence_lens, dtype=np.int64)


# -- attributes ------------------------------------------------------------------------------


def _resolved(a: Activation) -> Activation:
    da, db = default_alpha_beta(a.name)
    return Activation(a.name, da if a.alpha is None else float(a.alpha), db if a.beta is None else float(a.beta))


def attributes(spec: GRUSpec, layout: int = 0) -> dict:
    """The ONNX GRU attributes of every layer of ``spec``. Default activations are left out."""
    attrs = {"hidden_size": spec.hidden_size, "direction": spec.direction,
             "linear_before_reset": int(spec.reset_after)}
    if layout:
        attrs["layout"] = int(layout)
    if not spec.default_activations:
        acts = [_resolved(a) for a in spec.activations]
        acts = acts if spec.per_direction else acts * spec.num_directions  # (f, g) per direction
        attrs["activations"] = [a.name for a in acts]
        alpha = [a.alpha for a in acts if a.name in USES_ALPHA]
        beta = [a.beta for a in acts if a.name in USES_BETA]
        if alpha:
            attrs["activation_alpha"] = alpha
        if beta:
            attrs["activation_beta"] = beta
    if spec.clip is not None:
        attrs["clip"] = float(spec.clip)
    return attrs


def _activations_from(attrs: Mapping, D: int) -> tuple:
    names = list(attrs.get("activations") or ())
    if not names:
        return (Activation("Sigmoid"), Activation("Tanh"))
    if len(names) != 2 * D:
        raise ValueError(f"activations: expected {2 * D} names (f, g per direction), got {names}")
    alpha, beta = list(attrs.get("activation_alpha") or ()), list(attrs.get("activation_beta") or ())
    acts = []
    for name in names:
        name = next((k for k in ACTIVATIONS if k.lower() == name.lower()), name)  # case-insensitive, as in onnxruntime
        a = alpha.pop(0) if name in USES_ALPHA and alpha else None
        b = beta.pop(0) if name in USES_BETA and beta else None
        acts.append(_resolved(Activation(name, a, b)))
    if alpha or beta:
        raise ValueError(f"activation_alpha/beta: {len(alpha)} alpha and {len(beta)} beta values left unused")
    return tuple(acts)  # GRUSpec keeps 4 only where the directions' pairs differ


def spec_from_attributes(attrs: Mapping, input_size: int, num_layers: int = 1, bias: bool = True) -> GRUSpec:
    """The canonical spec of a stack of GRU nodes that all carry ``attrs``."""
    direction = attrs.get("direction", "forward")
    if isinstance(direction, bytes):
        direction = direction.decode()
    if direction not in ONNX_DIRECTIONS:
        raise ValueError(f"direction: expected one of {list(ONNX_DIRECTIONS)}, got {direction!r}")
    D = 2 if direction == "bidirectional" else 1
    clip = attrs.get("clip")
    return GRUSpec(input_size, int(attrs["hidden_size"]), num_layers, direction,
                   bool(attrs.get("linear_before_reset", 0)), bias, _activations_from(attrs, D),
                   None if clip is None else float(clip))
