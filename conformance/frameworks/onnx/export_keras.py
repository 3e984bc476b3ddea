"""A Keras GRU model exported to ONNX by ``model.export(path, format="onnx")`` (tf2onnx on the
TensorFlow backend), run on onnxruntime. The weights go into Keras's own layout
(conformance.frameworks.keras.convert) and from there through the exporter's own wiring.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import onnx

from ...case import GRUResult, GRUSpec
from ...contract import Capabilities
from ...corners import withdrawn, zero_length_finding
from ..padding import SQUARE_PADDING, pad_last, unpad_y
from .exported import EXPORT_DTYPE, ExportedGRU, _quiet
from .node import NO_BACKWARD
from .wiring import codes


class KerasExportGRU(ExportedGRU):
    """keras GRU / Bidirectional(GRU) / go_backwards -> model.export(format="onnx") -> onnxruntime.

    Lengths are a boolean mask input, as in Keras. ``go_backwards`` returns its outputs in
    processing order, so the graph flips them back (keras.ops.flip) before the next layer
    and at the output. Past a length Keras's y is not zero (see conformance.frameworks.keras.adapters),
    so only valid positions are compared.
    """

    name = "onnx.export[keras]"
    framework = "keras"

    def __init__(self):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras

        super().__init__()
        self.keras = keras
        self.version = f"keras {keras.__version__} ({keras.backend.backend()} backend)"

    def _model(self, spec: GRUSpec, has_h0: bool, has_mask: bool):
        keras = self.keras
        D, S = spec.num_directions, spec.hidden_size
        x = keras.Input((None, spec.input_size), name="x")
        inputs, mask = [x], None
        if has_mask:
            mask = keras.Input((None,), dtype="bool", name="mask")
            inputs.append(mask)
        h0 = [keras.Input((S,), name=f"h0_{i}") for i in range(spec.num_layers * D)] if has_h0 else []
        inputs += h0
        zeros = dict(kernel_initializer="zeros", recurrent_initializer="zeros", bias_initializer="zeros")
        y, states, layers = x, [], []
        for layer in range(spec.num_layers):
            gru = keras.layers.GRU(S, return_sequences=True, return_state=True, reset_after=spec.reset_after,
                                   use_bias=spec.bias, go_backwards=spec.direction == "reverse", **zeros)
            if D == 2:
                gru = keras.layers.Bidirectional(gru)
            init = h0[layer * D:(layer + 1) * D] or None
            y, *h = gru(y, mask=mask, initial_state=init)
            if spec.direction == "reverse":
                y = keras.ops.flip(y, axis=1)
            states += h
            layers.append(gru)
        return keras.Model(inputs, [y, *states]), layers

    def _export(self, spec, has_h0, has_mask):
        model, layers = self._model(spec, has_h0, has_mask)
        shapes = [[tuple(w.shape) for w in layer.get_weights()] for layer in layers]
        all_codes = iter(codes([s for layer in shapes for s in layer]))  # distinct across layers
        for layer, layer_shapes in zip(layers, shapes, strict=True):
            layer.set_weights([next(all_codes) for _ in layer_shapes])
        n = sum(int(np.prod(s)) for layer in shapes for s in layer)
        D, S = spec.num_directions, spec.hidden_size
        sample = [np.zeros((2, 3, spec.input_size), np.float32)]
        if has_mask:
            sample.append(np.ones((2, 3), bool))
        sample += [np.zeros((2, S), np.float32)] * (spec.num_layers * D if has_h0 else 0)
        model(sample)
        with tempfile.TemporaryDirectory() as tmp, _quiet():
            path = os.path.join(tmp, "gru.onnx")
            model.export(path, format="onnx", verbose=False)
            return onnx.load(path), n

    def _flat_weights(self, spec, weights):
        from ..keras.convert import gru_to_keras

        layers = gru_to_keras(spec, weights, dtype=EXPORT_DTYPE, fold="round")
        return np.concatenate([a.ravel() for arrays in layers for a in arrays])

    def _feeds(self, case, S):
        f = {"x": pad_last(case.x, S).transpose(1, 0, 2).astype(np.float32)}
        if case.lengths is not None:
            f["mask"] = np.arange(case.T)[None, :] < case.lengths[:, None]
        if case.h0 is not None:
            for i, h in enumerate(case.h0):
                f[f"h0_{i}"] = pad_last(h, S).astype(np.float32)
        return f

    def _result(self, case, outputs, S):
        s = case.spec
        y, *states = outputs
        y = np.asarray(y).transpose(1, 0, 2)
        return GRUResult(y=unpad_y(y, s.num_directions, s.hidden_size, S).astype(np.float32),
                         h_n=np.stack([np.asarray(h)[:, :s.hidden_size] for h in states]).astype(np.float32))

    def capabilities(self) -> Capabilities:
        why_dtype = ("Keras exports to ONNX with a float32 dtype policy only (keras/src/export/onnx.py: "
                     "'The dtype policy must be \"float32\" for the model')")
        u = {"activations": "Keras GRU is exported with its default activations (sigmoid, tanh) only",
             "per_direction_activations": "Keras GRU is exported with its default activations in both directions",
             "clip": "Keras GRU has no pre-activation clip",
             "float64": why_dtype, "float16": why_dtype, "bfloat16": why_dtype,
             **withdrawn("zero_length", self.zero_length)}
        return Capabilities(dtypes=(EXPORT_DTYPE,), directions=("forward", "reverse", "bidirectional"),
                            max_layers=2, reset_after=(True, False), bias=(True, False), initial_state=True,
                            lengths=True, zero_lengths=self.zero_length is None, padding="undefined", unsupported=u,
                            size_padding=SQUARE_PADDING,
                            gradients_reason=NO_BACKWARD)

    @property
    def zero_length(self) -> str | None:
        """What the exported masked GRU does with an empty sequence (probed once: an export costs seconds)."""
        if not hasattr(self, "_zero_length"):
            self._zero_length = zero_length_finding(self.run, "the tf2onnx export of a masked Keras GRU",
                                                    EXPORT_DTYPE, padding="undefined")
        return self._zero_length
