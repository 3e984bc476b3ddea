"""The float64 reference GRU: the canonical semantics, and nothing else.

Gate axis first, in the order (z, r, n). For one (layer, direction):
``W`` (3, H, I), ``U`` (3, H, H), ``bW`` (3, H), ``bU`` (3, H).

    z  = f(W_z x + bW_z + U_z h + bU_z)
    r  = f(W_r x + bW_r + U_r h + bU_r)
    n  = g(W_n x + bW_n + r * (U_n h + bU_n))      reset_after=True
    n  = g(W_n x + bW_n + U_n (r * h) + bU_n)      reset_after=False
    h' = z * h + (1 - z) * n

With ``clip`` every pre-activation is clipped to [-clip, clip] before f and g.

Speed: the input projections of all T steps are one matmul, which also adds every bias
that sits outside the reset; each step does one (B, H) x (H, 3H) matmul (two for
reset_after=False) into a preallocated buffer and writes the new state straight into y;
the batch is never looped over. Per-sequence lengths mask the state update only at the
steps where some sequence has ended (or not yet begun), which makes the reverse direction
start at each sequence's own last valid step without reindexing.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np

from .activations import activation

Array = np.ndarray
Fn = Callable[[Array], Array]

DIRECTIONS = {"forward": 1, "reverse": 1, "bidirectional": 2}


class Params(NamedTuple):
    """Canonical weights of one (layer, direction)."""

    W: Array
    U: Array
    bW: Array
    bU: Array


def _act(spec) -> Fn:
    if callable(spec):
        return spec
    if isinstance(spec, str):
        return activation(spec)
    return activation(*spec)


def _clipper(clip: float | None) -> Fn:
    if clip is None:
        return lambda a: a
    c = float(clip)
    return lambda a: np.clip(a, -c, c, out=a)


def direction_activations(activations: Sequence, D: int) -> list:
    """[(f, g)] per direction: the shared pair, or ONNX's four (forward pair, reverse pair) when D == 2."""
    acts = list(activations)
    if len(acts) == 2:
        return [tuple(acts)] * D
    if len(acts) == 4 and D == 2:
        return [tuple(acts[:2]), tuple(acts[2:])]
    raise ValueError(f"activations: expected 2 (f, g), or 4 (f, g per direction) when bidirectional, "
                     f"got {len(acts)}")


def gru_cell(
    x: Array,
    h: Array,
    W: Array,
    U: Array,
    bW: Array,
    bU: Array,
    *,
    reset_after: bool = True,
    activations: Sequence = ("Sigmoid", "Tanh"),
    clip: float | None = None,
) -> Array:
    """One GRU step: x (B, I), h (B, H) -> h' (B, H)."""
    f, g = _act(activations[0]), _act(activations[1])
    cl = _clipper(clip)
    x = np.asarray(x, np.float64)
    h = np.asarray(h, np.float64)
    gx = np.einsum("ghi,bi->gbh", W, x) + bW[:, None, :]
    z = f(cl(gx[0] + h @ U[0].T + bU[0]))
    r = f(cl(gx[1] + h @ U[1].T + bU[1]))
    if reset_after:
        n = g(cl(gx[2] + r * (h @ U[2].T + bU[2])))
    else:
        n = g(cl(gx[2] + (r * h) @ U[2].T + bU[2]))
    return z * h + (1.0 - z) * n


def projections(x: Array, p: Params, reset_after: bool) -> tuple:
    """What one direction computes before its time loop: (gx, U, U_n, bU_n).

    gx (T, B, 3H) holds every input projection plus the biases that sit outside the reset:
    bU_z and bU_r always, bU_n too when the reset comes before the matmul. reset_after: U is
    (H, 3H) for all three gates, U_n None and bU_n the candidate's recurrent bias; otherwise
    U is (H, 2H) for z and r, U_n (H, H) and bU_n None.
    """
    T, B, _ = x.shape
    H = p.U.shape[1]
    bias = p.bW + p.bU
    if reset_after:
        bias[2] = p.bW[2]
    # (T*B, I) x (I, 3H): all input projections at once, gates side by side z|r|n.
    gx = x.reshape(T * B, -1) @ p.W.reshape(3 * H, -1).T
    gx += bias.reshape(-1)
    gx = gx.reshape(T, B, 3 * H)
    if reset_after:
        return gx, np.ascontiguousarray(p.U.reshape(3 * H, H).T), None, p.bU[2]
    return gx, np.ascontiguousarray(p.U[:2].reshape(2 * H, H).T), np.ascontiguousarray(p.U[2].T), None


def gru_direction(
    x: Array,
    p: Params,
    h0: Array,
    lengths: Array | None,
    *,
    reverse: bool,
    reset_after: bool,
    f: Fn,
    g: Fn,
    clip: float | None = None,
) -> tuple[Array, Array]:
    """Run one direction of one layer. x (T, B, I), h0 (B, H) -> y (T, B, H), h_n (B, H)."""
    T, B, _ = x.shape
    H = p.U.shape[1]
    cl = _clipper(clip)
    gx, U, U_n, bU_n = projections(x, p, reset_after)
    gh = np.empty((B, U.shape[1]))
    y = np.empty((T, B, H))
    min_len = T if lengths is None else int(lengths.min())
    # idle[t, b]: sequence b has no step t (t >= its length); no sequence is idle before min_len.
    idle = None if lengths is None else np.arange(T)[:, None, None] >= lengths[:, None]
    h = np.array(h0, dtype=np.float64, copy=True)
    for t in range(T - 1, -1, -1) if reverse else range(T):
        a = gx[t]
        np.matmul(h, U, out=gh)
        if reset_after:
            zr = f(cl(a[:, : 2 * H] + gh[:, : 2 * H]))
            n = gh[:, 2 * H :] + bU_n
            n *= zr[:, H:]
        else:
            gh += a[:, : 2 * H]
            zr = f(cl(gh))
            n = (zr[:, H:] * h) @ U_n
        n += a[:, 2 * H :]
        n = g(cl(n))
        # h' = z*h + (1-z)*n, computed as n + z*(h - n) straight into y[t].
        h_new = np.subtract(h, n, out=y[t])
        h_new *= zr[:, :H]
        h_new += n
        if t >= min_len:  # the idle sequences keep their state and output 0
            h_new = np.where(idle[t], h, h_new)
            np.copyto(y[t], 0.0, where=idle[t])
        h = h_new
    return y, h.copy()


def gru(
    x: Array,
    params: Sequence[Params | tuple],
    *,
    num_layers: int = 1,
    direction: str = "forward",
    reset_after: bool = True,
    h0: Array | None = None,
    lengths: Array | None = None,
    activations: Sequence = ("Sigmoid", "Tanh"),
    clip: float | None = None,
) -> tuple[Array, Array]:
    """The canonical multi-layer GRU.

    x (T, B, I); params indexed l*D + d, each (W, U, bW, bU); h0 (L*D, B, H) or None;
    activations (f, g) for every direction, or (f, g, f, g) forward then reverse when bidirectional;
    lengths (B,) in [0, T] or None. Returns y (T, B, D*H) with zeros past each length,
    and h_n (L*D, B, H); a sequence of length 0 outputs zeros and keeps its h0 as h_n.
    Inputs are assumed valid (conformance.case validates them).
    """
    D = DIRECTIONS[direction]
    pairs = [(_act(a), _act(b)) for a, b in direction_activations(activations, D)]
    x = np.asarray(x, dtype=np.float64)
    T, B, _ = x.shape
    H = np.asarray(params[0][1]).shape[1]
    if lengths is not None:
        lengths = np.asarray(lengths, dtype=np.int64)
    if h0 is None:
        h0 = np.zeros((num_layers * D, B, H))
    h_n = np.empty((num_layers * D, B, H))
    layer_in = x
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            i = layer * D + d
            p = Params(*(np.asarray(a, dtype=np.float64) for a in params[i]))
            reverse = direction == "reverse" or d == 1
            y, h_n[i] = gru_direction(
                layer_in, p, h0[i], lengths, reverse=reverse,
                reset_after=reset_after, f=pairs[d][0], g=pairs[d][1], clip=clip,
            )
            outs.append(y)
        layer_in = outs[0] if D == 1 else np.concatenate(outs, axis=2)
    return layer_in, h_n
