"""Keras 3 ``GRU`` (with ``go_backwards`` and ``Bidirectional``) and ``GRUCell``, on the contract.

The backend is Keras's own (KERAS_BACKEND: tensorflow, jax or torch); the adapter's name says
which, e.g. ``keras.GRU[jax]``. Layers are built once per structure (an LRU cache) and only
their weights are swapped per case. The layers are called directly, never ``model.predict``:
eagerly on TensorFlow and torch, through ``jax.jit`` on JAX (an eager JAX call compiles its
scan on every call); ``compiled=True`` on TensorFlow traces one ``tf.function`` per structure,
which pays off only when a structure repeats (benchmarks/bench_keras.py).

What Keras does, verified against its sources (keras/src/layers/rnn, keras/src/backend/*/rnn.py)
and on all three backends (tests/keras/test_keras_facts.py):

* Lengths are a boolean ``mask`` (B, T) passed to each layer's call. A masked step keeps the
  state, so h_n is each sequence's state after its own last valid step, and ``go_backwards``
  starts at each sequence's own last valid step (it meets the padding first and skips it).
* Past a length, y is not zero: a forward GRU carries its last output forward; a
  ``go_backwards`` GRU writes zeros (TensorFlow, torch) or h0 (JAX: it carries the previous
  *state*); ``Bidirectional`` forces ``zero_output_for_mask`` and writes zeros. That is no
  single convention, so ``padding="undefined"``: only valid positions of y are compared,
  and h_n is always compared.
* ``go_backwards`` returns y in processing order (reversed time); the adapter flips it back
  so that y[t] is the state after consuming x[t]. Each layer's output is flipped before the
  next layer reads it, as the canonical stack reads the previous layer in time order.
* float64 is float64 only on TensorFlow: Keras demotes a float64 result_type to float32 on
  the other backends (torch's ``ops.matmul``, JAX's ``ops.tanh``), and JAX has no float64 at
  all without ``jax_enable_x64``. Declared unsupported there, with the reason, probed at run time.
* On JAX, ``GRU(use_bias=False)`` raises for float16 and bfloat16 (its fused path makes the
  missing biases in the default float type): no_bias is declared unsupported there, probed too.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import nullcontext
from functools import lru_cache

import keras
import numpy as np
from keras import ops

from ..adapter import Capabilities
from ..case import GRUCase, GRUResult
from ..convert.keras import cell_to_keras, gru_to_keras

BACKEND = keras.backend.backend()
#: reset_after=False Keras has one bias per gate: bW + bU is rounded once to the case dtype,
#: as any implementation adding the two biases in that dtype does (see conformance.convert.keras).
FOLD = "round"
DIRECTIONS = ("forward", "reverse", "bidirectional")
NOT_KERAS = {
    "activations": "the adapter checks Keras's default activations (sigmoid, tanh) only; "
                   "Keras has no ONNX activation set with alpha/beta",
    "clip": "Keras GRU and GRUCell have no pre-activation clip",
}

#: the weights are always set per case; zeros skip the orthogonal initializer's QR (which
#: TensorFlow has no bfloat16 kernel for) and make building cheaper.
ZERO_INIT = dict(kernel_initializer="zeros", recurrent_initializer="zeros", bias_initializer="zeros")


def _np_dtype(dtype: str):
    if dtype == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(dtype)


def _result_array(a, dtype: str) -> np.ndarray:
    """A new NumPy array in the case dtype (float32 holding the values for bfloat16)."""
    a = np.asarray(ops.convert_to_numpy(a))
    return np.array(a, dtype=np.float32 if dtype == "bfloat16" else dtype, copy=True)


#: the ops a GRU cell computes with, and NumPy's float64 counterparts
_PROBES = {
    "keras.ops.matmul": (lambda a: ops.matmul(a, a), lambda a: a @ a),
    "keras.ops.add": (lambda a: ops.add(a, a * 3), lambda a: a + a * 3),
    "keras.ops.multiply": (lambda a: ops.multiply(a, a), lambda a: a * a),
    "keras.ops.sigmoid": (ops.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "keras.ops.tanh": (ops.tanh, np.tanh),
}


def _x64() -> bool:
    """Whether float64 is float64 here (JAX: jax_enable_x64, thread-local under jax.enable_x64)."""
    if BACKEND != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


def float64_demotions() -> tuple:
    """The GRU's ops that compute float64 inputs in float32 on this backend (none on TensorFlow).

    keras/src/backend/common/dtypes.py maps a float64 result_type to float32 on every backend
    but TensorFlow (BIT64_TO_BIT32_DTYPE, "to be aligned with JAX's default behavior"); the
    torch backend's matmul and the JAX backend's tanh compute in that type. Probed, not
    assumed, so that a fixed Keras is noticed.
    """
    return _float64_demotions(BACKEND, _x64())


@lru_cache(maxsize=None)
def _float64_demotions(backend: str, x64: bool) -> tuple:
    a = np.array([[0.5 + 2.0**-40, -0.75 - 2.0**-38], [0.25 + 2.0**-41, 1.0 + 2.0**-39]])
    out = []
    for name, (op, ref) in _PROBES.items():
        got = np.asarray(ops.convert_to_numpy(op(ops.convert_to_tensor(a, dtype="float64"))), np.float64)
        if not np.allclose(got, ref(a), rtol=1e-13, atol=0):
            out.append(name)
    return tuple(out)


def float64_reason() -> str | None:
    """Why float64 cannot be checked on this backend as configured, or None."""
    if not _x64():
        return ("JAX runs float64 as float32 unless jax_enable_x64 is set (Keras then reports float64 "
                "variables holding float32 values); set JAX_ENABLE_X64=1 to check float64")
    demoted = float64_demotions()
    if demoted:
        return (f"not conformant upstream: on the {BACKEND} backend, float64 inputs are computed in float32 by "
                f"{', '.join(demoted)} (keras/src/backend/common/dtypes.py demotes a float64 result_type to "
                "float32 on every backend but TensorFlow), so a float64 GRU has float32-sized errors (~1e-8)")
    return None


def no_bias_reason() -> str | None:
    """Why ``GRU(use_bias=False)`` cannot be checked on this backend, or None.

    On JAX, Keras's fused GRU (keras/src/backend/jax/rnn.py ``gru``: reset_after=True, no mask)
    makes the missing biases with ``jnp.zeros(3 * hidden_size)``, in JAX's default float type,
    so any other layer dtype (float16, bfloat16; float32 too under jax_enable_x64) fails in
    ``lax.scan`` with a carry type mismatch. Probed, so that a fixed Keras is noticed.
    """
    return _no_bias_reason(BACKEND, _x64())


@lru_cache(maxsize=None)
def _no_bias_reason(backend: str, x64: bool) -> str | None:
    failures, quote = [], ""
    for dtype in ("float32", "float16", "bfloat16"):
        gru = keras.layers.GRU(1, use_bias=False, dtype=dtype, **ZERO_INIT)
        try:
            gru(np.zeros((1, 1, 1), _np_dtype(dtype)))
        except Exception as e:  # noqa: BLE001 - any failure is the finding, quoted
            failures.append(dtype)
            lines = [line.strip() for line in str(e).splitlines() if "has type" in line] or [str(e)]
            quote = quote or f"{type(e).__name__}: {lines[0]}"
    if not failures:
        return None
    return (f"not conformant upstream: on the {backend} backend GRU(use_bias=False) (reset_after=True, no mask) "
            f"raises for {', '.join(failures)}: {quote} (keras/src/backend/{backend}/rnn.py gru() makes the "
            "missing biases in the default float type)")


def _dtypes(unsupported: dict) -> tuple:
    dtypes = ["float64", "float32", "float16", "bfloat16"]
    reason = float64_reason()
    if reason:
        dtypes.remove("float64")
        unsupported["float64"] = reason
    return tuple(dtypes)


class _Stack:
    """The Keras layers of one structure, and their call (compiled where ``compiled``)."""

    def __init__(self, spec, dtype: str, has_h0: bool, has_mask: bool, compiled: bool):
        self.spec, self.dtype, self.has_h0, self.has_mask = spec, dtype, has_h0, has_mask
        self.layers = []
        for layer in range(spec.num_layers):
            gru = keras.layers.GRU(spec.hidden_size, reset_after=spec.reset_after, use_bias=spec.bias,
                                   go_backwards=spec.direction == "reverse", return_sequences=True,
                                   return_state=True, dtype=dtype, **ZERO_INIT)
            if spec.direction == "bidirectional":
                gru = keras.layers.Bidirectional(gru, merge_mode="concat", dtype=dtype)
            gru.build((None, None, spec.layer_input_size(layer)))
            self.layers.append(gru)
        self.variables = [v for gru in self.layers for v in gru.weights]  # == get_weights() order
        self._values = None  # the weights, where the call is stateless (jax.jit)
        self.stateless = compiled and BACKEND == "jax"
        self._call = self._forward
        if compiled and BACKEND == "tensorflow":
            self._call = self._tf_function()
        elif self.stateless:
            self._call = self._jax_function()

    def set_weights(self, layers: list) -> None:
        """One Keras weight list per layer (NumPy arrays in the layer dtype)."""
        if self.stateless:  # the jitted call takes the values as arguments
            self._values = [a for arrays in layers for a in arrays]
        else:
            for gru, arrays in zip(self.layers, layers, strict=True):
                gru.set_weights(arrays)

    def _forward(self, x, h0, mask):
        """x (B, T, I), h0 a list of (B, H) (one per layer and direction) or None, mask (B, T)."""
        D = self.spec.num_directions
        h_n = []
        for layer, gru in enumerate(self.layers):
            init = None if h0 is None else list(h0[layer * D:(layer + 1) * D])
            y, *states = gru(x, initial_state=init, mask=mask)
            if self.spec.direction == "reverse":
                y = ops.flip(y, axis=1)  # processing order -> time order
            h_n += states
            x = y
        return x, h_n

    def _tf_function(self):
        import tensorflow as tf

        spec, dt = self.spec, tf.as_dtype(self.dtype)
        sig = [tf.TensorSpec((None, None, spec.input_size), dt)]  # any T and B: one trace per structure
        if self.has_h0:
            sig.append([tf.TensorSpec((None, spec.hidden_size), dt)] * (spec.num_layers * spec.num_directions))
        if self.has_mask:
            sig.append(tf.TensorSpec((None, None), tf.bool))

        def forward(*args):
            x, rest = args[0], list(args[1:])
            h0 = rest.pop(0) if self.has_h0 else None
            return self._forward(x, h0, rest.pop(0) if self.has_mask else None)

        fn = tf.function(forward, input_signature=sig)
        return lambda x, h0, mask: fn(x, *(a for a in (h0, mask) if a is not None))

    def _jax_function(self):
        import jax

        def pure(values, x, h0, mask):
            with keras.StatelessScope(state_mapping=list(zip(self.variables, values, strict=True))):
                return self._forward(x, h0, mask)

        jitted = jax.jit(pure)  # one compilation per (structure, T, B)
        return lambda x, h0, mask: jitted(self._values, x, h0, mask)

    def __call__(self, x, h0, mask):
        with _no_grad():
            return self._call(x, h0, mask)


class _Cache:
    """The most recently used structures, so that a long run does not grow without bound."""

    def __init__(self, size: int):
        self.size, self.items = size, OrderedDict()

    def get(self, key, make):
        if self.size == 0:
            return make()
        if key in self.items:
            self.items.move_to_end(key)
        else:
            self.items[key] = make()
            if len(self.items) > self.size:
                self.items.popitem(last=False)
        return self.items[key]


#: eager where a trace costs more than the calls it saves on mostly-new structures
#: (TensorFlow: a trace is ~0.3 s, about ten eager calls); JAX's eager call compiles its
#: scan on every call, so jit (once per structure and shape) is faster there.
COMPILED_BY_DEFAULT = {"tensorflow": False, "jax": True, "torch": False}


def _inputs(case: GRUCase):
    dt = _np_dtype(case.dtype)
    x = np.ascontiguousarray(case.x.transpose(1, 0, 2)).astype(dt)  # (B, T, I): Keras is batch-major
    h0 = None if case.h0 is None else [case.h0[i].astype(dt) for i in range(case.h0.shape[0])]
    mask = None if case.lengths is None else np.arange(case.T)[None, :] < case.lengths[:, None]
    return x, h0, mask


class KerasGRU:
    """``keras.layers.GRU`` (``go_backwards``, ``Bidirectional``, stacked) on the current backend.

    ``cache``: how many structures keep their built layers (0: build per case).
    ``compiled``: ``tf.function`` / ``jax.jit`` per structure (default: per backend, see above).
    """

    def __init__(self, cache: int = 64, compiled: bool | None = None):
        self.name = f"keras.GRU[{BACKEND}]"
        self.compiled = COMPILED_BY_DEFAULT.get(BACKEND, False) if compiled is None else compiled
        self._stacks = _Cache(cache)

    def capabilities(self) -> Capabilities:
        unsupported = dict(NOT_KERAS)
        no_bias = no_bias_reason()
        if no_bias:
            unsupported["no_bias"] = no_bias
        return Capabilities(
            dtypes=_dtypes(unsupported), directions=DIRECTIONS, max_layers=8, reset_after=(True, False),
            bias=(True,) if no_bias else (True, False), initial_state=True, lengths=True, padding="undefined",
            unsupported=unsupported,
        )

    def run(self, case: GRUCase) -> GRUResult:
        s = case.spec
        has_h0, has_mask = case.h0 is not None, case.lengths is not None
        key = (s.input_size, s.hidden_size, s.num_layers, s.direction, s.reset_after, s.bias, case.dtype,
               has_h0, has_mask)
        stack = self._stacks.get(key, lambda: _Stack(s, case.dtype, has_h0, has_mask, self.compiled))
        dt = _np_dtype(case.dtype)
        stack.set_weights([[a.astype(dt) for a in arrays]
                           for arrays in gru_to_keras(s, case.weights, case.dtype, fold=FOLD)])
        y, h_n = stack(*_inputs(case))
        y = _result_array(y, case.dtype).transpose(1, 0, 2)
        return GRUResult(y=np.ascontiguousarray(y), h_n=np.stack([_result_array(h, case.dtype) for h in h_n]))


class _Cell:
    """One built ``GRUCell`` per structure."""

    def __init__(self, spec, dtype: str):
        self.cell = keras.layers.GRUCell(spec.hidden_size, reset_after=spec.reset_after, use_bias=spec.bias,
                                         dtype=dtype, **ZERO_INIT)
        self.cell.build((None, spec.input_size))


class KerasGRUCell:
    """``keras.layers.GRUCell``, stepped by the adapter: one layer, forward.

    Lengths are the adapter's own: past its length a sequence keeps its state and gets zeros
    in y (so padding is "zeros"); the cell itself is called on every step of every row.
    """

    def __init__(self, cache: int = 64):
        self.name = f"keras.GRUCell[{BACKEND}]"
        self._cells = _Cache(cache)

    def capabilities(self) -> Capabilities:
        one = "a GRUCell is one step of one layer; the adapter steps it forward only"
        unsupported = {**NOT_KERAS, "reverse": one, "bidirectional": one, "stacked": one}
        return Capabilities(
            dtypes=_dtypes(unsupported), directions=("forward",), max_layers=1, reset_after=(True, False),
            bias=(True, False), initial_state=True, lengths=True, padding="zeros", unsupported=unsupported,
        )

    def run(self, case: GRUCase) -> GRUResult:
        s = case.spec
        cell = self._cells.get((s.input_size, s.hidden_size, s.reset_after, s.bias, case.dtype),
                               lambda: _Cell(s, case.dtype)).cell
        dt = _np_dtype(case.dtype)
        cell.set_weights([a.astype(dt) for a in cell_to_keras(s, case.weights, case.dtype, fold=FOLD)])
        x, h0, mask = _inputs(case)
        h = ops.convert_to_tensor(h0[0] if h0 else np.zeros((case.B, s.hidden_size), dt))
        zeros = ops.zeros_like(h)
        ys = []
        with _no_grad():
            for t in range(case.T):
                out, h_new = cell(ops.convert_to_tensor(x[:, t]), h)
                if mask is None:
                    h = h_new
                    ys.append(out)
                else:
                    active = ops.convert_to_tensor(mask[:, t:t + 1])
                    h = ops.where(active, h_new, h)
                    ys.append(ops.where(active, out, zeros))
        y = np.stack([_result_array(v, case.dtype) for v in ys])
        return GRUResult(y=y, h_n=_result_array(h, case.dtype)[None])


def _no_grad():
    if BACKEND == "torch":
        import torch

        return torch.no_grad()
    return nullcontext()
