"""Keras GRU -> TensorFlow's TFLite converter (``from_keras_model``) -> LiteRT interpreter, float32.

The path users take: a functional Keras model (GRU, go_backwards GRU or Bidirectional(GRU),
1..3 layers, initial states, a boolean mask for lengths) converted with
``TFLiteConverter.from_keras_model``, which freezes the weights into constants, and run by
``ai_edge_litert.interpreter.Interpreter`` (one thread; it applies the XNNPACK delegate).

Why frozen weights, patched, rather than weights as model inputs: the converter's weight
handling is where the reported bugs live (a gate's bias added twice, tensorflow #54507; a
wrong Bidirectional, tensorflow #37757), and it only happens to constants. The prototype
measured both ways (NOTES.md in the prototype: weights as tf.function inputs through
keras.StatelessScope pass too, at a third of the conversion cost, but test only the lowering);
this adapter keeps the frozen path. A conversion costs ~2 s, so a structure is converted once
with every Keras weight set to a distinct code (1 + k 2^-22, exact in float32,
conformance.frameworks.onnx.wiring.codes); the float32 words of the .tflite flatbuffer that hold
codes are found (the weights live in the WHILE body's buffers, out of get_tensor's reach), and
each example writes its Keras weights into those words and opens an Interpreter on the patched
bytes (~1-3 ms). A weight the converter folded is not a code any more: a missing one is an error,
never a guess; one stored twice is written in both places. Only 4-byte-aligned words are read
(flatbuffer buffers are aligned): read across two words, the bytes of codes 8127 and 8128 make up
code 8127 again, and writing that false match corrupted two real weights of every model with
8,128 weights or more (found by the "large" check; tests/frameworks/litert).

Shapes: the converter needs a static batch ("'tf.TensorListReserve' op requires element_shape
to be static during TF Lite transformation pass"), so B is padded with zero rows (mask True) to
a multiple of B_POOL; T stays dynamic. I and H are padded exactly to one square size
(conformance.frameworks.padding). Past a length y is Keras's, not zero: padding "undefined".
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re

import numpy as np

from ...buildcache import cached_build, cached_finding
from ...case import GRUCase, GRUResult
from ...contract import Capabilities, NotInThisProcess
from ..keras.convert import gru_to_keras
from ..padding import pad_last, pad_weights, padded_spec, square_size, unpad_y

CODE_STEP = 2.0**-22
B_POOL = 4  # the static batch; a larger batch uses the next multiple of it
SIZE_PADDING = (f"I and H padded to one size (8 or 16 when both are <= 16, else the larger of the two), and B to a "
                f"multiple of {B_POOL} (zero rows; the converter needs a static batch): one conversion per padded "
                "structure")


def _codes(n: int) -> np.ndarray:
    return (1.0 + CODE_STEP * np.arange(1, n + 1)).astype(np.float32)


def find_codes(blob: bytes, n: int) -> tuple:
    """(byte offsets, weight indices) of every 4-byte-aligned float32 word of ``blob`` holding one of n codes."""
    raw = np.frombuffer(blob, np.uint8)
    with np.errstate(all="ignore"):
        v = raw[:len(raw) // 4 * 4].view("<f4").astype(np.float64)
        v[~np.isfinite(v)] = 0.0
        k = np.rint((v - 1.0) / CODE_STEP).astype(np.int64) - 1
    hit = (k >= 0) & (k < n) & (v == 1.0 + CODE_STEP * (k + 1))
    return 4 * np.nonzero(hit)[0], k[hit]


@contextlib.contextmanager
def quiet():
    """The converter prints the SavedModel signature on stdout and lists refused ops on fd 2."""
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


@functools.lru_cache(maxsize=None)
def dtype_reason(dtype: str) -> str:
    """Why a Keras GRU of ``dtype`` does not convert to builtin TFLite ops, or "": tried once per process
    and kept with the builds (a refused conversion costs a fraction of a second, and every load asks)."""
    return cached_finding(LiteRTKerasGRU.name, ("dtype", dtype), lambda: _dtype_probe(dtype))


def _dtype_probe(dtype: str) -> str:
    import ai_edge_litert
    import keras
    import tensorflow as tf

    try:
        x = keras.Input((None, 2), batch_size=2, dtype=dtype)
        zeros = dict(kernel_initializer="zeros", recurrent_initializer="zeros")  # no QR init in bfloat16
        y, h = keras.layers.GRU(2, return_sequences=True, return_state=True, dtype=dtype, **zeros)(x)
        with quiet():
            tf.lite.TFLiteConverter.from_keras_model(keras.Model(x, [y, h])).convert()
        return ""
    except Exception as e:  # noqa: BLE001 - the converter's refusal is the finding
        text = str(e)
        ops = sorted(set(re.findall(r"'(tf\.\w+)' op is neither a custom op nor a flex op", text)))
        head = (f"'{ops[0]}' op is neither a custom op nor a flex op (also: {', '.join(ops[1:])})"
                if ops else " ".join(text.split())[:300])
        return (f"tensorflow {tf.__version__} converter, ai-edge-litert {ai_edge_litert.__version__}: "
                f"TFLiteConverter.from_keras_model of a {dtype} Keras GRU fails: {head}")


class LiteRTKerasGRU:
    """A Keras GRU stack converted to .tflite once per structure, run by the LiteRT interpreter."""

    name = "litert[keras.GRU]"

    def __init__(self):
        import ai_edge_litert
        import keras
        import tensorflow as tf
        from ai_edge_litert import interpreter

        if keras.backend.backend() != "tensorflow":
            raise NotInThisProcess(f"the TFLite converter needs KERAS_BACKEND=tensorflow, not "
                                   f"{keras.backend.backend()}")
        self.tf, self.keras, self.interpreter = tf, keras, interpreter
        self.runtime = f"tensorflow {tf.__version__} converter, ai-edge-litert {ai_edge_litert.__version__}"
        self.built: dict = {}
        self.build_seconds: list = []

    def _model(self, spec, has_h0, has_mask, Bp):
        """The functional Keras model of a padded spec, and its GRU layers."""
        keras = self.keras
        D, S = spec.num_directions, spec.hidden_size

        def gru(backwards):
            return keras.layers.GRU(S, return_sequences=True, return_state=True, reset_after=spec.reset_after,
                                    use_bias=spec.bias, go_backwards=backwards)

        x = keras.Input((None, spec.input_size), batch_size=Bp, name="x")
        mask = keras.Input((None,), batch_size=Bp, dtype="bool", name="mask") if has_mask else None
        h0s = [keras.Input((S,), batch_size=Bp, name=f"h0_{i}") for i in range(spec.num_layers * D)] if has_h0 else []
        y, states, layers = x, [], []
        for layer in range(spec.num_layers):
            g = gru(spec.direction == "reverse")
            g = keras.layers.Bidirectional(g, backward_layer=gru(True)) if D == 2 else g
            layers.append(g)
            y, *h = g(y, mask=mask, initial_state=list(h0s[layer * D:(layer + 1) * D]) if has_h0 else None)
            if spec.direction == "reverse":  # processing order -> time order
                y = keras.ops.flip(y, axis=1)
            states += h
        model = keras.Model([x] + ([mask] if has_mask else []) + h0s, {"y": y, **{f"h_{i}": h for i, h in
                                                                                enumerate(states)}})
        return model, layers

    def _convert(self, spec, has_h0, has_mask, Bp):
        model, layers = self._model(spec, has_h0, has_mask, Bp)
        n = sum(w.size for g in layers for w in g.get_weights())
        flat, k = _codes(n), 0
        for g in layers:
            ws = []
            for w in g.get_weights():
                ws.append(flat[k:k + w.size].reshape(w.shape))
                k += w.size
            g.set_weights(ws)
        with quiet():
            blob = bytes(self.tf.lite.TFLiteConverter.from_keras_model(model).convert())
        return blob, {"weights": n}

    def _located(self, blob: bytes, n: int) -> tuple:
        """(blob, byte offsets, weight indices) of a converted model whose n weights are codes."""
        offsets, index = find_codes(blob, n)
        missing = n - len(np.unique(index))
        if missing:
            raise RuntimeError(f"{self.runtime}: {missing} of {n} weights are not stored as themselves in the "
                               "converted model (folded or transformed by the converter): they cannot be fed")
        return blob, offsets, index

    def build(self, key):
        if key not in self.built:
            blob, meta = cached_build(f"{self.name} {self.runtime}", key, lambda: self._convert(*key), origin=self)
            self.built[key] = self._located(blob, meta["weights"])
            self.build_seconds.append(meta["seconds"])
        return self.built[key]

    def run(self, case: GRUCase) -> GRUResult:
        s = case.spec
        S = square_size(s)
        Bp = B_POOL * -(-case.B // B_POOL)
        spec = padded_spec(s, S)
        blob, offsets, index = self.build((spec, case.h0 is not None, case.lengths is not None, Bp))
        layers = gru_to_keras(spec, pad_weights(s, case.weights, S), dtype="float32", fold="round")
        flat = np.concatenate([a.ravel() for arrays in layers for a in arrays])
        buf = np.frombuffer(bytearray(blob), np.uint8)
        buf[offsets[:, None] + np.arange(4)] = flat[index].astype("<f4").view(np.uint8).reshape(-1, 4)
        rows = np.zeros((Bp - case.B, S))
        feeds = {"x": np.concatenate([pad_last(case.x, S).transpose(1, 0, 2),
                                      np.zeros((Bp - case.B, case.T, S))]).astype(np.float32)}
        if case.lengths is not None:
            lens = np.concatenate([case.lengths, np.full(Bp - case.B, case.T)])
            feeds["mask"] = np.arange(case.T)[None, :] < lens[:, None]
        for i, h in enumerate(case.h0 if case.h0 is not None else ()):
            feeds[f"h0_{i}"] = np.concatenate([pad_last(h, S), rows]).astype(np.float32)
        interp = self.interpreter.Interpreter(model_content=buf.tobytes(), num_threads=1)
        out = interp.get_signature_runner()(**feeds)
        y = np.asarray(out["y"])[:case.B].transpose(1, 0, 2)
        hs = [np.asarray(out[f"h_{i}"])[:case.B, :s.hidden_size] for i in range(s.num_layers * s.num_directions)]
        return GRUResult(y=unpad_y(y, s.num_directions, s.hidden_size, S).astype(np.float32),
                         h_n=np.stack(hs).astype(np.float32))

    def capabilities(self) -> Capabilities:
        u = {"activations": "Keras GRU has fixed activations (sigmoid, tanh)",
             "clip": "Keras GRU has no pre-activation clip"}
        for d in ("float64", "float16", "bfloat16"):
            u[d] = dtype_reason(d) or f"{d} converts, but this adapter feeds float32 only"
        return Capabilities(dtypes=("float32",), directions=("forward", "reverse", "bidirectional"), max_layers=3,
                            reset_after=(True, False), bias=(True, False), lengths=True, padding="undefined",
                            size_padding=SIZE_PADDING, unsupported=u,
                            gradients_reason="LiteRT is an inference runtime: the converted model has no backward")
