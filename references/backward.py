"""The reference backward pass: the vector-Jacobian product (VJP) of ``references.gru``.

Given cotangents ``y_bar`` (T, B, D*H) and ``hn_bar`` (L*D, B, H), ``gru_vjp`` returns the
gradients of ``sum(y_bar * y) + sum(hn_bar * h_n)`` with respect to x, h0 and every canonical
weight, in canonical layout (DESIGN.md section 6).

How: a forward pass that keeps what the backward needs (a "tape"), then the reverse sweep.
The tape's forward repeats ``gru_direction``'s arithmetic operation for operation, so its y and
h_n equal ``references.gru``'s; it is separate only because ``gru_direction`` keeps nothing.

Speed, the same tricks as the forward: everything that does not depend on the carried
gradient is computed for all T steps at once before the sweep (the activation derivatives, the
clip masks and their products with the gates), so each backward step is a few (B, H)
elementwise products and one (B, 3H) x (3H, H) matmul (two for reset_after=False). The weight
and input gradients are one matmul each over all T*B rows after the sweep.

Conventions at points without a derivative:

- clip: the pre-activation's gradient passes on the closed interval [-clip, clip] and is zero
  strictly outside it (PyTorch's and TensorFlow's clamp);
- activations: see ``references.activations.activation_derivative`` (Relu'(0) = 0,
  LeakyRelu'(0) = Elu'(0) = alpha, ThresholdedRelu'(alpha) = 0, HardSigmoid' = 0 at both ends);
- padding (t >= lengths[b]): y is zero there by definition, so y_bar there reaches nothing.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from .activations import activation, activation_derivative
from .gru import DIRECTIONS, Params, direction_activations, projections

Array = np.ndarray


class GRUGrads(NamedTuple):
    """Gradients of ``sum(y_bar * y) + sum(hn_bar * h_n)``, and the forward result they belong to.

    ``dh0`` is (L*D, B, H) even when h0 was None (the gradient at h0 = 0); ``dparams`` is
    indexed l*D + d like the forward's params, each a Params(dW, dU, dbW, dbU) in canonical
    layout, biases included when the GRU has none (bias=False is zero biases, which still have
    a gradient).
    """

    dx: Array
    dh0: Array
    dparams: list
    y: Array
    h_n: Array


class _Tape(NamedTuple):
    """What one (layer, direction) keeps for its backward, all indexed by time t."""

    h_prev: Array  # (T, B, H) the state step t read
    z: Array  # (T, B, H)
    r: Array  # (T, B, H)
    s: Array  # (T, B, H) U_n h + bU_n (reset_after) or r * h (reset before): what dU_n, dr need
    c_z: Array  # (T, B, H) d h'/d a_z = (h - n) * f'(a_z)
    c_n: Array  # (T, B, H) d h'/d a_n = (1 - z) * g'(a_n)
    c_r: Array  # (T, B, H) d a_n/d a_r per unit: s * f'(a_r) (reset_after) or h * f'(a_r)


class _Act(NamedTuple):
    f: object
    df: object


def _named(spec) -> _Act:
    """An activation spec as ``references.gru`` takes it, with its derivative."""
    if callable(spec):
        raise TypeError("gru_vjp: activations must be names or (name, alpha, beta); "
                        "a bare callable has no derivative")
    name, *ab = (spec,) if isinstance(spec, str) else tuple(spec)
    return _Act(activation(name, *ab), activation_derivative(name, *ab))


def _slope(act: _Act, a: Array, y: Array, clip: float | None) -> Array:
    """d f(clip(a)) / d a, given y = f(clip(a)): zero where the clip is active."""
    if clip is None:
        return act.df(a, y)
    c = float(clip)
    return np.where(np.abs(a) <= c, act.df(np.clip(a, -c, c), y), 0.0)


def _forward_taped(x, p: Params, h0, lengths, *, reverse, reset_after, f: _Act, g: _Act, clip):
    """``gru_direction`` keeping a tape. x (T, B, I) -> y (T, B, H), h_n (B, H), _Tape."""
    T, B, _ = x.shape
    H = p.U.shape[1]
    cl = (lambda a: a) if clip is None else (lambda a: np.clip(a, -float(clip), float(clip)))
    gx, U, U_n, bU_n = projections(x, p, reset_after)
    pre = np.empty((T, B, 3 * H))  # every pre-activation, before the clip
    zr_all, n_all, s_all = np.empty((T, B, 2 * H)), np.empty((T, B, H)), np.empty((T, B, H))
    h_prev, y = np.empty((T, B, H)), np.empty((T, B, H))
    min_len = T if lengths is None else int(lengths.min())
    idle = None if lengths is None else np.arange(T)[:, None, None] >= lengths[:, None]
    h = np.array(h0, dtype=np.float64, copy=True)
    for t in range(T - 1, -1, -1) if reverse else range(T):
        a = gx[t]
        h_prev[t] = h
        gh = h @ U
        if reset_after:
            a_zr = np.add(a[:, : 2 * H], gh[:, : 2 * H], out=pre[t, :, : 2 * H])
            zr = f.f(cl(a_zr))
            s = np.add(gh[:, 2 * H :], bU_n, out=s_all[t])
            a_n = s * zr[:, H:]
        else:
            a_zr = np.add(gh, a[:, : 2 * H], out=pre[t, :, : 2 * H])
            zr = f.f(cl(a_zr))
            s = np.multiply(zr[:, H:], h, out=s_all[t])
            a_n = s @ U_n
        a_n += a[:, 2 * H :]
        pre[t, :, 2 * H :] = a_n
        n = g.f(cl(a_n))
        zr_all[t], n_all[t] = zr, n
        h_new = np.subtract(h, n, out=y[t])
        h_new *= zr[:, :H]
        h_new += n
        if t >= min_len:
            h_new = np.where(idle[t], h, h_new)
            np.copyto(y[t], 0.0, where=idle[t])
        h = h_new
    # Everything below is independent of the carried gradient, so it is done for all t at once.
    dzr = _slope(f, pre[:, :, : 2 * H], zr_all, clip)
    dn = _slope(g, pre[:, :, 2 * H :], n_all, clip)
    z, r = zr_all[:, :, :H], zr_all[:, :, H:]
    tape = _Tape(
        h_prev=h_prev, z=z, r=r, s=s_all,
        c_z=(h_prev - n_all) * dzr[:, :, :H],
        c_n=(1.0 - z) * dn,
        c_r=(s_all if reset_after else h_prev) * dzr[:, :, H:],
    )
    return y, h, tape


def _backward_direction(x, p: Params, tape: _Tape, y_bar, h_bar, lengths, *, reverse, reset_after,
                        bptt_steps=None):
    """The VJP of one direction: y_bar (T, B, H), h_bar (B, H) -> dx (T, B, I), dh0 (B, H), Params.

    The carried ``dh`` is the gradient with respect to the state after the step being undone.
    At a step where a sequence is idle (padding) the forward kept its state, so ``dh`` passes
    through unchanged and the step's gate gradients are zero; y_bar there was masked out.
    ``bptt_steps`` = k (a diagnostic variant, see ``gru_vjp``) drops the carried ``dh`` where the
    forward's chunks of k steps meet, in processing order.
    """
    T, B, _ = x.shape
    H = p.U.shape[1]
    da = np.zeros((T, B, 3 * H))  # gradients of the pre-activations: input side, all gates
    dh_all = np.empty((T, B, 3 * H)) if reset_after else None  # recurrent side, when it differs
    if reset_after:
        U = p.U.reshape(3 * H, H)
    else:
        U, U_n = p.U[:2].reshape(2 * H, H), p.U[2]
    min_len = T if lengths is None else int(lengths.min())
    idle = None if lengths is None else np.arange(T)[:, None, None] >= lengths[:, None]
    if idle is not None:
        y_bar = np.where(idle, 0.0, y_bar)
    dh = np.array(h_bar, dtype=np.float64, copy=True)
    for t in range(T) if reverse else range(T - 1, -1, -1):
        step = T - 1 - t if reverse else t  # the forward's processing index
        if bptt_steps and step % bptt_steps == bptt_steps - 1 and step != T - 1:
            dh = np.zeros_like(dh)
        dh += y_bar[t]
        keep = None
        if t >= min_len:
            keep = np.where(idle[t], dh, 0.0)
            dh = np.where(idle[t], 0.0, dh)
        d = da[t]
        np.multiply(dh, tape.c_z[t], out=d[:, :H])
        d_n = np.multiply(dh, tape.c_n[t], out=d[:, 2 * H :])
        if reset_after:
            np.multiply(d_n, tape.c_r[t], out=d[:, H : 2 * H])
            dg = dh_all[t]
            dg[:, : 2 * H] = d[:, : 2 * H]
            np.multiply(d_n, tape.r[t], out=dg[:, 2 * H :])
            dh = dh * tape.z[t] + dg @ U
        else:
            ds = d_n @ U_n
            np.multiply(ds, tape.c_r[t], out=d[:, H : 2 * H])
            dh = dh * tape.z[t] + ds * tape.r[t] + d[:, : 2 * H] @ U
        if keep is not None:
            dh += keep
    rows = da.reshape(T * B, 3 * H)
    dx = (rows @ p.W.reshape(3 * H, -1)).reshape(x.shape)
    dW = (rows.T @ x.reshape(T * B, -1)).reshape(p.W.shape)
    dbW = rows.sum(axis=0).reshape(3, H)
    h_rows = tape.h_prev.reshape(T * B, H)
    if reset_after:
        dU = (dh_all.reshape(T * B, 3 * H).T @ h_rows).reshape(3, H, H)
        dbU = dbW.copy()
        dbU[2] = dh_all[:, :, 2 * H :].sum(axis=(0, 1))
    else:
        dU = np.empty_like(p.U)
        dU[:2] = (rows[:, : 2 * H].T @ h_rows).reshape(2, H, H)
        dU[2] = rows[:, 2 * H :].T @ tape.s.reshape(T * B, H)
        dbU = dbW.copy()
    return dx, dh, Params(dW, dU, dbW, dbU)


def gru_vjp(
    x: Array,
    params: Sequence[Params | tuple],
    y_bar: Array | None = None,
    hn_bar: Array | None = None,
    *,
    num_layers: int = 1,
    direction: str = "forward",
    reset_after: bool = True,
    h0: Array | None = None,
    lengths: Array | None = None,
    activations: Sequence = ("Sigmoid", "Tanh"),
    clip: float | None = None,
    blocked: Sequence[str] = (),
    bptt_steps: int | None = None,
) -> GRUGrads:
    """The VJP of ``references.gru``, with the same arguments plus the two cotangents.

    y_bar (T, B, D*H) and hn_bar (L*D, B, H) weight y and h_n; None means zeros. Activations
    must be names or (name, alpha, beta) tuples, since a bare callable has no derivative; 4 of
    them (f, g per direction) when bidirectional, as for ``references.gru``.
    Stacked layers are undone top-down: layer l's dx is the y_bar of layer l-1's concatenated
    outputs, split by direction. Returns GRUGrads, whose y and h_n equal ``references.gru``'s.

    Two diagnostic parameters give what a known-wrong backward computes, so that a failing
    implementation can be named (conformance.backward_variants); their defaults are the true VJP.
    They live here because they act inside the sweep, where no wrapper can reach:

    - ``blocked``: "reset" treats the reset gate r as a constant (no gradient reaches a_r);
      "zh" drops the update's direct path z*h into the previous state (dh_prev lacks dh*z);
    - ``bptt_steps`` = k: the carried state gradient is dropped between the forward's chunks of
      k steps (a chunked kernel whose backward does not carry dh across chunks).
    """
    D = DIRECTIONS[direction]
    unknown = set(blocked) - {"reset", "zh"}
    if unknown:
        raise ValueError(f"gru_vjp: blocked: expected some of ['reset', 'zh'], got {sorted(unknown)}")
    pairs = [(_named(a), _named(b)) for a, b in direction_activations(activations, D)]
    x = np.asarray(x, dtype=np.float64)
    T, B, _ = x.shape
    ps = [Params(*(np.asarray(a, dtype=np.float64) for a in p)) for p in params]
    H = ps[0].U.shape[1]
    if lengths is not None:
        lengths = np.asarray(lengths, dtype=np.int64)
    h0 = np.zeros((num_layers * D, B, H)) if h0 is None else np.asarray(h0, dtype=np.float64)
    y_bar = np.zeros((T, B, D * H)) if y_bar is None else np.asarray(y_bar, dtype=np.float64)
    hn_bar = np.zeros((num_layers * D, B, H)) if hn_bar is None else np.asarray(hn_bar, dtype=np.float64)
    h_n = np.empty((num_layers * D, B, H))
    inputs, tapes = [], []
    layer_in = x
    for layer in range(num_layers):
        inputs.append(layer_in)
        outs = []
        for d in range(D):
            i = layer * D + d
            reverse = direction == "reverse" or d == 1
            y, h_n[i], tape = _forward_taped(layer_in, ps[i], h0[i], lengths, reverse=reverse,
                                             reset_after=reset_after, f=pairs[d][0], g=pairs[d][1], clip=clip)
            if "reset" in blocked:
                tape = tape._replace(c_r=np.zeros_like(tape.c_r))
            if "zh" in blocked:
                tape = tape._replace(z=np.zeros_like(tape.z))
            outs.append(y)
            tapes.append(tape)
        layer_in = outs[0] if D == 1 else np.concatenate(outs, axis=2)
    y = layer_in
    dh0, dparams = np.empty_like(h0), [None] * len(ps)
    grad = y_bar
    for layer in range(num_layers - 1, -1, -1):
        dx = None
        for d in range(D):
            i = layer * D + d
            reverse = direction == "reverse" or d == 1
            dx_d, dh0[i], dparams[i] = _backward_direction(
                inputs[layer], ps[i], tapes[i], grad[:, :, d * H : (d + 1) * H], hn_bar[i], lengths,
                reverse=reverse, reset_after=reset_after, bptt_steps=bptt_steps)
            dx = dx_d if dx is None else dx + dx_d
        grad = dx
    return GRUGrads(dx=grad, dh0=dh0, dparams=dparams, y=y, h_n=h_n)
