"""The backward of the Keras adapters: each backend's own autodiff through the very Keras layers
``run`` calls (tf.GradientTape on TensorFlow, jax.vjp on JAX, torch.autograd on torch).

The layers are the adapters' cached ones, in the same padded sizes, called eagerly (the
backward is checked in Keras's own code path, not a compiled variant of it). The cotangents
are placed in the padded layout (zeros for the padded units, rows and steps), and the gradients
come back through the inverse of the padding (padding.unpad_direction) and of the converter
(gru_from_keras): Keras's kernel (I, 3H) is W transposed, and its reset_after=False layer has
one bias bW + bU, whose gradient is both dbW and dbU (both are added outside the reset).

A padded unit stays 0 and its recurrent rows are 0, so no gradient flows through it: the real
slices of the padded gradients are the gradients of the unpadded GRU.
"""

from __future__ import annotations

import numpy as np

from ...case import GRUCase
from ...dtypes import numpy_dtype, result_array
from ...gradients import Gradients
from ..padding import padded_size, real_units, unpad_direction
from .convert import gru_from_keras, gru_to_keras
from .upstream import BACKEND

#: the gradients both adapters compute (tf.GradientTape, jax.vjp, torch.autograd)
GRADIENTS = ("x", "h0", "weights")
#: why JAX's backward is off unless asked for (``gradients=True``): jax.vjp through the op-by-op layers
#: takes ~10 s per GRU example and ~3 s per cell example on a busy 2-core machine (a first one ~90 s), so
#: its 10 backward examples per check would add minutes per feature to the CI; a jitted vjp is not done.
JAX_SLOW = ("the JAX backward (jax.vjp through the op-by-op layers) takes ~10 s per example here, so it is "
            "off by default; KerasGRU(gradients=True) / KerasGRUCell(gradients=True) checks it")


def capability_fields(flag) -> dict:
    """Capabilities fields of the backward: on unless off or, by default, on JAX."""
    on = BACKEND != "jax" if flag is None else bool(flag)
    return dict(gradients=GRADIENTS) if on else dict(gradients_reason=JAX_SLOW if BACKEND == "jax" else
                                                       "gradients=False")


def autodiff(fn, variables: list, inputs: list, cotangents: list) -> tuple:
    """The VJP of ``fn(*inputs) -> tuple of outputs`` with respect to ``inputs`` and ``variables``
    (Keras variables, already holding the case's weights), by the backend's own autodiff.
    Returns (input gradients, variable gradients) as NumPy arrays."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        xs = [tf.convert_to_tensor(a) for a in inputs]
        with tf.GradientTape() as tape:
            tape.watch(xs)
            outs = fn(*xs)
        grads = tape.gradient(list(outs), xs + list(variables),
                              output_gradients=[tf.convert_to_tensor(c) for c in cotangents],
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return [np.asarray(g) for g in grads[:len(xs)]], [np.asarray(g) for g in grads[len(xs):]]
    if BACKEND == "jax":
        import jax
        import keras

        def pure(values, *xs):
            with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
                return tuple(fn(*xs))

        with jax.disable_jit():  # op by op, as the adapters run (see adapters.py)
            _, pullback = jax.vjp(pure, [v.value for v in variables], *inputs)
            dvalues, *dxs = pullback(tuple(cotangents))
        return [np.asarray(g) for g in dxs], [np.asarray(g) for g in dvalues]
    if BACKEND == "torch":
        import torch

        def tensor(a):  # torch cannot read ml_dtypes' bfloat16 arrays: through float32, exactly
            a = np.asarray(a)
            bf16 = a.dtype.name == "bfloat16"
            t = torch.tensor(a.astype(np.float32) if bf16 else a)
            return t.to(torch.bfloat16) if bf16 else t

        xs = [tensor(a).requires_grad_() for a in inputs]
        params = [v.value for v in variables]
        with torch.enable_grad():
            outs = fn(*xs)
            grads = torch.autograd.grad(list(outs), xs + params, [tensor(c) for c in cotangents], allow_unused=True)
        grads = [torch.zeros_like(t) if g is None else g for t, g in zip(xs + params, grads, strict=True)]
        return ([g.detach().float().numpy() if g.dtype == torch.bfloat16 else g.detach().numpy()
                 for g in grads[:len(xs)]],
                [g.detach().float().numpy() if g.dtype == torch.bfloat16 else g.detach().numpy()
                 for g in grads[len(xs):]])
    raise RuntimeError(f"no backward for the Keras backend {BACKEND!r}")


def _exact(a, dtype: str) -> np.ndarray:
    return result_array(np.asarray(a, dtype=np.float64), dtype)


def _canonical(case: GRUCase, layers_grads: list, H: int, S_H: int, pad: bool) -> list:
    """Per-layer Keras gradient lists (padded) -> canonical (dW, dU, dbW, dbU) per (layer, direction)."""
    s = case.spec
    D = s.num_directions
    unpadded = []
    for layer, grads in enumerate(layers_grads):
        if pad:
            rows = np.arange(s.input_size) if layer == 0 else real_units(H, S_H, D)
            n = len(grads) // D
            grads = [a for d in range(D) for a in unpad_direction(grads[d * n:(d + 1) * n], H, S_H, rows)]
        unpadded.append(grads)
    _, weights = gru_from_keras(unpadded, reset_after=s.reset_after, direction=s.direction)
    out = []
    for w in weights:
        dbU = w.bU if s.reset_after else w.bW  # one Keras bias, bW + bU: the same gradient for both
        out.append(tuple(_exact(a, case.dtype) for a in (w.W, w.U, w.bW, dbU)))
    return out


def gru_vjp(adapter, case: GRUCase, y_bar, hn_bar) -> Gradients:
    """KerasGRU.vjp: the stack of the adapter's cached layers, differentiated as one function."""
    from .adapters import FOLD, _inputs, _Layer, _shapes

    s, dtype = case.spec, case.dtype
    D, H, L, dt = s.num_directions, s.hidden_size, s.num_layers, numpy_dtype(dtype)
    pad = adapter.pad
    S_I, S_H = (padded_size(s.input_size), padded_size(H)) if pad else (s.input_size, H)
    weights = gru_to_keras(s, case.weights, dtype, fold=FOLD)
    if pad:
        from ..padding import pad_layers

        weights = pad_layers(weights, s, S_I, S_H)
    x, _, mask = _inputs(case, _shapes(case, pad, S_I, False), S_H)
    B_run, T_run = x.shape[0], x.shape[1]
    h0 = np.zeros((L * D, B_run, S_H), dt)
    h0[:, :case.B, :H] = case.h0_or_zeros().astype(dt)
    units = []
    for layer in range(L):
        S_in = S_I if layer == 0 else D * S_H
        key = (S_in, S_H, s.direction, s.reset_after, s.bias, dtype)
        # one layer object per position: the stack is differentiated as one function, so two layers of the
        # same structure (which run() shares, assigning each its weights in turn) must not share variables
        unit = adapter._layers.get(("vjp", layer, *key), lambda key=key: _Layer(key, None, False))
        for variable, a in zip(unit.variables, weights[layer], strict=True):
            variable.assign(a.astype(dt))
        units.append(unit)

    def forward(x, *h0s):
        out, states = x, []
        for layer, unit in enumerate(units):
            out, st = unit._call(out, list(h0s[layer * D:(layer + 1) * D]), mask)
            states += st
        return (out, *states)

    y_c = np.zeros((B_run, T_run, D * S_H), dt)
    y_c[:case.B, :case.T][:, :, real_units(H, S_H, D)] = y_bar.transpose(1, 0, 2).astype(dt)
    h_c = np.zeros((L * D, B_run, S_H), dt)
    h_c[:, :case.B, :H] = hn_bar.astype(dt)
    variables = [v for u in units for v in u.variables]
    (dx, *dh0), dvars = autodiff(forward, variables, [x, *h0], [y_c, *h_c])
    per_layer, k = [], 0
    for u in units:
        per_layer.append(dvars[k:k + len(u.variables)])
        k += len(u.variables)
    return Gradients(dx=_exact(np.asarray(dx)[:case.B, :case.T, :s.input_size].transpose(1, 0, 2), dtype),
                     dh0=_exact(np.stack([np.asarray(g)[:case.B, :H] for g in dh0]), dtype),
                     dweights=_canonical(case, per_layer, H, S_H, pad))


def cell_vjp(adapter, case: GRUCase, y_bar, hn_bar) -> Gradients:
    """KerasGRUCell.vjp: the adapter's stepping of the cell, differentiated as one function."""

    from .adapters import _inputs, _shapes, step_cell

    s, dtype = case.spec, case.dtype
    H, dt = s.hidden_size, numpy_dtype(dtype)
    pad = adapter.pad
    cell, S_I, S_H = adapter.loaded_cell(case)
    x, _, mask = _inputs(case, _shapes(case, pad, S_I, False), S_H)
    h0 = np.zeros((x.shape[0], S_H), dt)
    h0[:case.B, :H] = case.h0_or_zeros()[0].astype(dt)

    def forward(x, h):
        return step_cell(cell, x, h, mask, case.T)

    y_c = np.zeros((case.T, x.shape[0], S_H), dt)
    y_c[:, :case.B, :H] = y_bar.astype(dt)
    h_c = np.zeros((x.shape[0], S_H), dt)
    h_c[:case.B, :H] = hn_bar[0].astype(dt)
    (dx, dh0), dvars = autodiff(forward, cell.variables, [x, h0], [y_c, h_c])
    return Gradients(dx=_exact(np.asarray(dx)[:case.B, :case.T, :s.input_size].transpose(1, 0, 2), dtype),
                     dh0=_exact(np.asarray(dh0)[None, :case.B, :H], dtype),
                     dweights=_canonical(case, [dvars], H, S_H, pad))
