"""Keras 3 ``GRU`` (with ``go_backwards`` and ``Bidirectional``) and ``GRUCell``, on the contract.

The backend is Keras's own (KERAS_BACKEND: tensorflow, jax or torch); the adapter's name says
which, e.g. ``keras.GRU[jax]``. A feature check sees mostly new structures, so what a new one
costs is what counts (benchmarks/bench_keras.py):

* Sizes are padded exactly (conformance/frameworks/padding.py), and a stack is run layer by
  layer, each Keras layer built once per padded layer structure (an LRU cache), its weights
  assigned per case. The layers are called directly, never ``model.predict``.
* TensorFlow: eager, then a ``tf.function`` once a layer has been used COMPILE_AFTER times;
  compiled without Grappler's rewrites, it gives the eager call's bits, so when a layer turns
  compiled does not change any result (tests/frameworks/keras/test_keras_adapters.py checks it).
* JAX: an eager Keras call compiles its ``lax.scan`` on every call (~0.2 s) and ``jax.jit``
  compiles once per layer and shape (~0.3 s), so by default the layers run op by op under
  ``jax.disable_jit`` (Keras's own code path, the scan's steps as a Python loop, each op a cached
  XLA kernel), and a layer used often is jitted without XLA fusion, which gives the same bits.
  ``compiled=True`` runs them through an optimized ``jax.jit`` from the first call, as a model's
  fit or predict does (XLA fuses the step: float32 results may differ in the last bit). The batch
  is padded too, as JAX compiles per shape (and T where masked, under ``compiled=True``).
* torch: eager.

What Keras does, verified against its sources and on all three backends, is in upstream.py.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import cached_property

import keras
import numpy as np
from keras import ops

from ...case import GRUCase, GRUResult
from ...contract import Capabilities, NotInThisProcess
from ...corners import withdrawn, zero_length_finding
from ...dtypes import numpy_dtype, result_array
from ..padding import KERAS_PADDING, pad_array, pad_layers, padded_size, real_units
from .convert import cell_to_keras, gru_to_keras
from .gradients import capability_fields as _gradients
from .layers import JAX_PLAIN, _Cache, _Layer  # noqa: F401 - JAX_PLAIN is part of the schedule
from .upstream import BACKEND, ZERO_INIT, float64_reason, no_bias_reason

#: reset_after=False Keras has one bias per gate: bW + bU is rounded once to the case dtype,
#: as any implementation adding the two biases in that dtype does (see conformance.frameworks.keras.convert).
FOLD = "round"
DIRECTIONS = ("forward", "reverse", "bidirectional")
NOT_KERAS = {
    "activations": "the adapter checks Keras's default activations (sigmoid, tanh) only; "
                   "Keras has no ONNX activation set with alpha/beta",
    "clip": "Keras GRU and GRUCell have no pre-activation clip",
    "per_direction_activations": "the adapter checks Keras's default activations only, in both directions",
}

def _dtypes(unsupported: dict) -> tuple:
    dtypes = ["float64", "float32", "float16", "bfloat16"]
    reason = float64_reason()
    if reason:
        dtypes.remove("float64")
        unsupported["float64"] = reason
    return tuple(dtypes)


#: the default schedule (``compiled`` None): after how many eager calls a layer runs compiled (per
#: input shape on JAX), and whether with the framework's optimizations (else with the eager bits).
#: TensorFlow: a trace and first call cost about six eager calls of a small layer (~120 ms vs ~19 ms of CPU,
#: benchmarks/bench_keras_phases.py), and in a ci stream a (layer, way of calling) is called 2-3 times at the
#: median, so compiling after 8 calls rather than 4 wastes fewer traces (22.9 -> ~24.8 ex/s per CPU-second).
#: JAX: a plain jit compile costs about 35 op-by-op calls (~0.45 s vs ~0.013 s). Op by op, the keras
#: tests run in half the time they take under jax.jit from the first call (~95 s vs ~170 s), though a
#: stream of new structures costs about the same (~12 vs ~9 examples/s, benchmarks/bench_keras.py).
#: torch: eager.
COMPILE_AFTER = {"tensorflow": 8, "jax": 32, "torch": None}
OPTIMIZED = {"tensorflow": False, "jax": False, "torch": False}
#: whether sizes are padded by default: where layers are compiled or JAX compiles per shape. Not on
#: torch, which compiles nothing, and whose MKL matmul takes a threaded path for the padded sizes (8 and
#: up) that costs milliseconds per call on a busy two-core machine.
PAD = {"tensorflow": True, "jax": True, "torch": False}


def _schedule(compiled: bool | None, compile_after: int | None) -> tuple:
    """(compile_after, optimized) of an adapter (see KerasGRU)."""
    if BACKEND == "torch" or compiled is False:
        return None, False
    if compiled:
        return 0, True
    if compile_after is not None:
        return compile_after, False
    return COMPILE_AFTER.get(BACKEND), OPTIMIZED.get(BACKEND, False)


def _shapes(case: GRUCase, pad: bool, S_I: int, jit: bool) -> tuple:
    """(B, T, input size) as run. JAX compiles per shape (each op when op by op), so B is padded
    there, and under jax.jit from the first call T too, where masked (padded steps cost op by op)."""
    B, T = case.B, case.T
    if pad and BACKEND == "jax":
        B = padded_size(B, floor=4)
        if jit and case.lengths is not None:
            T = padded_size(T)
    return B, T, S_I


def _inputs(case: GRUCase, shape: tuple, S_H: int):
    """x (B, T, S_I), h0 (L*D, B, S_H) or None, mask (B, T) or None: the case's values in the leading corner."""
    dt = numpy_dtype(case.dtype)
    B, T, S_I = shape
    x = pad_array(case.x.transpose(1, 0, 2).astype(dt), shape)  # Keras is batch-major
    h0 = None if case.h0 is None else pad_array(case.h0.astype(dt), (case.h0.shape[0], B, S_H))
    mask = None
    if case.lengths is not None:
        mask = pad_array(np.arange(case.T)[None, :] < case.lengths[:, None], (B, T), fill=False)
    return x, h0, mask


def _result_array(a, dtype: str) -> np.ndarray:
    """A new NumPy array in the case dtype (float32 holding the values for bfloat16).

    Keras must answer in the layer's dtype: a result in another type (JAX's use_bias=False
    float16 GRU computes in float32 when run op by op) is an error, not something to cast away.
    """
    got = keras.backend.standardize_dtype(a.dtype)
    if got != dtype:
        raise TypeError(f"Keras returned a {got} result for a {dtype} layer")
    return result_array(ops.convert_to_numpy(a), dtype)


def require_backend(backend: str | None) -> str:
    """The backend in use; an error if the caller asked for another (it is fixed at Keras's import)."""
    if backend is not None and backend != BACKEND:
        raise NotInThisProcess(f"Keras runs on the {BACKEND} backend in this process; the {backend} backend needs "
                           f"KERAS_BACKEND={backend} set before Keras is imported")
    return BACKEND


class KerasGRU:
    """``keras.layers.GRU`` (``go_backwards``, ``Bidirectional``, stacked) on the current backend.

    ``cache``: how many layers stay built (0: build per case).
    ``compiled``: None: the backend's default (COMPILE_AFTER, OPTIMIZED); False: eager only (on JAX
    op by op, under ``jax.disable_jit``); True: ``tf.function`` / ``jax.jit`` from the first call, with
    Grappler / XLA fusion, as a model's fit or predict runs it (on torch, eager).
    ``compile_after``: with ``compiled`` None, eager for that many calls of a layer, then compiled
    without optimizations, with the eager bits (TensorFlow: no Grappler; JAX: JAX_PLAIN).
    ``pad``: run in padded sizes (conformance.frameworks.padding), so that layers are shared
    (default: PAD).
    """

    def __init__(self, cache: int = 256, compiled: bool | None = None, pad: bool | None = None,
                 compile_after: int | None = None, backend: str | None = None, gradients: bool | None = None):
        self.name = f"keras.GRU[{require_backend(backend)}]"
        self.gradients = gradients
        self.compile_after, self.optimized = _schedule(compiled, compile_after)
        self.pad = PAD.get(BACKEND, False) if pad is None else pad
        self._layers = _Cache(cache)

    def capabilities(self) -> Capabilities:
        unsupported = dict(NOT_KERAS)
        no_bias = no_bias_reason()
        if no_bias:
            unsupported["no_bias"] = no_bias
        unsupported.update(withdrawn("zero_length", self.zero_length))
        return Capabilities(
            dtypes=_dtypes(unsupported), directions=DIRECTIONS, max_layers=8, reset_after=(True, False),
            bias=(True,) if no_bias else (True, False), initial_state=True, lengths=True,
            zero_lengths=self.zero_length is None, padding="undefined",
            unsupported=unsupported, size_padding=KERAS_PADDING if self.pad else "",
            **_gradients(self.gradients),
        )

    @cached_property
    def zero_length(self) -> str | None:
        """A masked GRU's all-False mask row, probed on this backend (TF's cuDNN path raised: tensorflow #43103)."""
        return zero_length_finding(self.run, f"Keras {keras.__version__} on {BACKEND}", "float32", padding="undefined")

    def vjp(self, case: GRUCase, y_bar, hn_bar):
        """The backend's autodiff through the same layers (conformance.frameworks.keras.gradients)."""
        from .gradients import gru_vjp

        return gru_vjp(self, case, y_bar, hn_bar)

    def run(self, case: GRUCase) -> GRUResult:
        s, dtype = case.spec, case.dtype
        D, H, dt = s.num_directions, s.hidden_size, numpy_dtype(dtype)
        S_I, S_H = (padded_size(s.input_size), padded_size(H)) if self.pad else (s.input_size, H)
        weights = gru_to_keras(s, case.weights, dtype, fold=FOLD)
        if self.pad:
            weights = pad_layers(weights, s, S_I, S_H)
        x, h0, mask = _inputs(case, _shapes(case, self.pad, S_I, self.compile_after == 0), S_H)
        h_n = []
        with _no_grad():
            for layer in range(s.num_layers):
                S_in = S_I if layer == 0 else D * S_H
                key = (S_in, S_H, s.direction, s.reset_after, s.bias, dtype)
                unit = self._layers.get(key, lambda key=key: _Layer(key, self.compile_after, self.optimized))
                init = None if h0 is None else list(h0[layer * D:(layer + 1) * D])
                x, states = unit([a.astype(dt) for a in weights[layer]], x, init, mask)
                h_n += states
        y = _result_array(x, dtype)[:case.B, :case.T][:, :, real_units(H, S_H, D)]
        return GRUResult(y=np.ascontiguousarray(y.transpose(1, 0, 2)),
                         h_n=np.stack([_result_array(h, dtype)[:case.B, :H] for h in h_n]))


class _Cell:
    """One built ``GRUCell`` per padded structure."""

    def __init__(self, S_I: int, S_H: int, reset_after: bool, bias: bool, dtype: str):
        self.cell = keras.layers.GRUCell(S_H, reset_after=reset_after, use_bias=bias, dtype=dtype, **ZERO_INIT)
        self.cell.build((None, S_I))
        self.variables = list(self.cell.weights)


class KerasGRUCell:
    """``keras.layers.GRUCell``, stepped by the adapter: one layer, forward.

    Lengths are the adapter's own: past its length a sequence keeps its state and gets zeros
    in y (so padding is "zeros"); the cell itself is called on every step of every row.
    The cell is called eagerly (op by op on JAX), in padded sizes where ``pad``.
    """

    def __init__(self, cache: int = 64, pad: bool | None = None, backend: str | None = None,
                 gradients: bool | None = None):
        self.name = f"keras.GRUCell[{require_backend(backend)}]"
        self.gradients = gradients
        self.pad = PAD.get(BACKEND, False) if pad is None else pad
        self._cells = _Cache(cache)

    def capabilities(self) -> Capabilities:
        one = "a GRUCell is one step of one layer; the adapter steps it forward only"
        unsupported = {**NOT_KERAS, "reverse": one, "bidirectional": one, "stacked": one}
        unsupported.update(withdrawn("zero_length", self.zero_length))
        return Capabilities(
            dtypes=_dtypes(unsupported), directions=("forward",), max_layers=1, reset_after=(True, False),
            bias=(True, False), initial_state=True, lengths=True, zero_lengths=self.zero_length is None,
            padding="zeros", unsupported=unsupported, size_padding=KERAS_PADDING if self.pad else "",
            **_gradients(self.gradients),
        )

    @cached_property
    def zero_length(self) -> str | None:
        """The adapter's own masking (the cell never sees lengths), probed like any implementation's."""
        return zero_length_finding(self.run, "the Keras GRUCell adapter", "float32")

    def vjp(self, case: GRUCase, y_bar, hn_bar):
        """The backend's autodiff through the same stepping of the cell (conformance.frameworks.keras.gradients)."""
        from .gradients import cell_vjp

        return cell_vjp(self, case, y_bar, hn_bar)

    def run(self, case: GRUCase) -> GRUResult:
        s, dtype = case.spec, case.dtype
        H, dt = s.hidden_size, numpy_dtype(dtype)
        cell, S_I, S_H = self.loaded_cell(case)
        x, h0, mask = _inputs(case, _shapes(case, self.pad, S_I, False), S_H)
        h = ops.convert_to_tensor(h0[0] if h0 is not None else np.zeros((x.shape[0], S_H), dt))
        with _no_grad():
            y, h = step_cell(cell, ops.convert_to_tensor(x), h, mask, case.T)
        y = _result_array(y, dtype)[:, :case.B, :H]
        return GRUResult(y=np.ascontiguousarray(y), h_n=_result_array(h, dtype)[None, :case.B, :H])

    def loaded_cell(self, case: GRUCase) -> tuple:
        """(the built cell of this structure holding the case's weights, S_I, S_H): run and vjp share it."""
        s, dtype = case.spec, case.dtype
        S_I, S_H = (padded_size(s.input_size), padded_size(s.hidden_size)) if self.pad else \
            (s.input_size, s.hidden_size)
        cell = self._cells.get((S_I, S_H, s.reset_after, s.bias, dtype),
                               lambda: _Cell(S_I, S_H, s.reset_after, s.bias, dtype))
        arrays = cell_to_keras(s, case.weights, dtype, fold=FOLD)
        if self.pad:
            arrays = pad_layers([arrays], s, S_I, S_H)[0]
        dt = numpy_dtype(dtype)
        for variable, a in zip(cell.variables, arrays, strict=True):
            variable.assign(a.astype(dt))
        return cell, S_I, S_H


def step_cell(cell: _Cell, x, h, mask, T: int) -> tuple:
    """The adapter's stepping of a GRUCell over x (B, T, S_I) from h: (y (T, B, S_H), h_n). Past each
    length (mask False) a row keeps its state and gets zeros in y. run() and the vjp differentiate this."""
    zeros, ys = ops.zeros_like(h), []
    for t in range(T):
        out, h_new = cell.cell(x[:, t], h)
        if mask is None:
            h = h_new
            ys.append(out)
        else:
            active = ops.convert_to_tensor(mask[:, t:t + 1])
            h = ops.where(active, h_new, h)
            ys.append(ops.where(active, out, zeros))
    return ops.stack(ys), h


def _no_grad():
    if BACKEND == "torch":
        import torch

        return torch.no_grad()
    return nullcontext()
