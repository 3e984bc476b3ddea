"""What Keras 3 does with a GRU, verified against its sources (keras/src/layers/rnn,
keras/src/backend/*/rnn.py) and on all three backends (tests/frameworks/keras/test_keras_facts.py).
The limits found here are probed at run time, so that a fixed Keras is noticed.

What Keras does, verified against its sources (keras/src/layers/rnn, keras/src/backend/*/rnn.py)
and on all three backends (tests/frameworks/keras/test_keras_facts.py):

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
  It raises where the scan is traced (an eager call, jax.jit); op by op, nothing checks the scan's
  carry types and the layer computes partly in float32. The probe calls the layer as users do.
"""

from __future__ import annotations

from functools import lru_cache

import keras
import numpy as np
from keras import ops

from ...dtypes import numpy_dtype

BACKEND = keras.backend.backend()
#: the weights are always set per case; zeros skip the orthogonal initializer's QR (which
#: TensorFlow has no bfloat16 kernel for) and make building cheaper.
ZERO_INIT = dict(kernel_initializer="zeros", recurrent_initializer="zeros", bias_initializer="zeros")


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
            gru(np.zeros((1, 1, 1), numpy_dtype(dtype)))
        except Exception as e:  # noqa: BLE001 - any failure is the finding, quoted
            failures.append(dtype)
            lines = [line.strip() for line in str(e).splitlines() if "has type" in line] or [str(e)]
            quote = quote or f"{type(e).__name__}: {lines[0]}"
    if not failures:
        return None
    return (f"not conformant upstream: on the {backend} backend GRU(use_bias=False) (reset_after=True, no mask) "
            f"raises for {', '.join(failures)}: {quote} (keras/src/backend/{backend}/rnn.py gru() makes the "
            "missing biases in the default float type)")
