"""GRUs exported to ONNX by their framework, run on onnxruntime: what users ship.

``onnx.export[torch]`` exports ``torch.nn.GRU`` with ``torch.onnx.export`` (the default
dynamo exporter), ``onnx.export[torchscript]`` with the TorchScript one (dynamo=False), and
``onnx.export[keras]`` a Keras ``GRU`` model with ``model.export(path, format="onnx")``
(tf2onnx on the TensorFlow backend). Neither run converts a canonical weight to ONNX
itself: the weights go into the framework's own layout (conformance.convert.torch / .keras)
and from there through the exporter's own wiring.

An export costs seconds, so it is done once per structure and never per example:

* Sizes are padded. A structure is exported at S = max(8, the next power of two of
  max(I, H)) inputs and hidden units; a smaller case is embedded with zeros (extra inputs
  are 0 with zero weights; extra units have zero weights, biases and h0, so their gates are
  f(0), their candidate g(0) = 0 and they stay exactly 0, adding exact zeros to the real
  units' sums). The outputs are cut back to the case's size. So the exporter's conversions
  (gate order, bias packing, direction packing, layer chaining, h0, output layout) are
  tested on every example; its handling of a particular small size is not.
* The weights are wired by index coding. The structure is exported with every framework
  weight set to a distinct code (1 + k * 2**-22, exact in float32); each float constant
  (initializer or Constant node) of the exported graph holding codes is read as a gather map (code k -> weight k,
  0 -> 0; anything else is an error, never a guess). Those initializers become graph
  inputs, and each example feeds its framework weights through the exporter's own map, so
  one onnxruntime session serves every weight draw.

``graph_summary()`` says how the exporter implemented the GRU: the op types (recursively,
with Loop/Scan bodies), and every ONNX GRU node's direction, linear_before_reset, layout.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..adapter import Capabilities
from ..case import GateWeights, GRUCase, GRUResult, GRUSpec

CODE_STEP = 2.0**-22
EXPORT_DTYPE = "float32"


# -- padding ---------------------------------------------------------------------------------


def pad_size(spec: GRUSpec) -> int:
    return max(8, 2 ** math.ceil(math.log2(max(spec.input_size, spec.hidden_size))))


def padded_spec(spec: GRUSpec, S: int) -> GRUSpec:
    return GRUSpec(S, S, spec.num_layers, spec.direction, spec.reset_after, spec.bias)


def pad_weights(spec: GRUSpec, weights, S: int) -> tuple:
    """Embed each (layer, direction) in size S: real units and inputs first, zeros elsewhere."""
    D, H = spec.num_directions, spec.hidden_size
    out = []
    for i, w in enumerate(weights):
        layer = i // D
        W = np.zeros((3, S, S * D if layer else S))
        if layer:  # the input is [forward H | reverse H] -> [forward S | reverse S]
            for d in range(D):
                W[:, :H, d * S:d * S + H] = w.W[:, :, d * H:(d + 1) * H]
        else:
            W[:, :H, :spec.input_size] = w.W
        U = np.zeros((3, S, S))
        U[:, :H, :H] = w.U
        bW, bU = np.zeros((3, S)), np.zeros((3, S))
        bW[:, :H], bU[:, :H] = w.bW, w.bU
        out.append(GateWeights(W, U, bW, bU))
    return tuple(out)


def pad_last(a: np.ndarray, S: int) -> np.ndarray:
    out = np.zeros(a.shape[:-1] + (S,))
    out[..., :a.shape[-1]] = a
    return out


def unpad_y(y: np.ndarray, D: int, H: int, S: int) -> np.ndarray:
    return np.concatenate([y[..., d * S:d * S + H] for d in range(D)], axis=-1)


# -- index coding and wiring -----------------------------------------------------------------


def codes(shapes) -> list:
    """Distinct float32-exact values, one per weight element, in order."""
    n = sum(int(np.prod(s)) for s in shapes)
    flat = 1.0 + CODE_STEP * np.arange(1, n + 1)
    out, k = [], 0
    for s in shapes:
        m = int(np.prod(s))
        out.append(flat[k:k + m].reshape(s).astype(np.float32))
        k += m
    return out


class WiringError(RuntimeError):
    """The exported graph holds the weights in a form that is not a gather of them."""


def _gather_map(a: np.ndarray, n_weights: int, name: str):
    """The weight index of each element of ``a`` (-1 for 0), or None if it holds no code."""
    if a.dtype.kind != "f" or a.size == 0:
        return None
    v = a.astype(np.float64)
    k = np.rint((v - 1.0) / CODE_STEP).astype(np.int64) - 1
    is_code = (k >= 0) & (k < n_weights) & (v == 1.0 + CODE_STEP * (k + 1))
    if not is_code.any():
        return None
    if not np.all(is_code | (v == 0)):
        raise WiringError(f"{name!r} mixes weights with other values: not a plain gather of them")
    return np.where(is_code, k, -1)


def _subgraph_constants(graph):
    """(name, tensor) of every constant inside the bodies (Loop, Scan, If) of a graph's nodes."""
    for node in graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from ((i.name, i) for i in a.g.initializer)
                yield from ((n.output[0], at.t) for n in a.g.node for at in n.attribute
                            if n.op_type == "Constant" and at.name == "value")
                yield from _subgraph_constants(a.g)


def wire(model: onnx.ModelProto, n_weights: int) -> tuple:
    """Turn the coded constants into graph inputs; return (model, {input: gather map}, unused weights).

    Coded initializers and Constant nodes of the main graph become inputs; a code anywhere
    else (inside a Loop body) cannot be fed and is an error.
    """
    graph = model.graph
    for name, tensor in _subgraph_constants(graph):
        if _gather_map(numpy_helper.to_array(tensor), n_weights, name) is not None:
            raise WiringError(f"{name!r} holds weights inside a subgraph, where they cannot be fed")
    wiring, used = {}, np.zeros(n_weights, bool)

    def take(name, tensor) -> bool:
        a = numpy_helper.to_array(tensor)
        idx = _gather_map(a, n_weights, name)
        if idx is None:
            return False
        used[idx[idx >= 0]] = True
        wiring[name] = (idx, a.dtype)
        return True

    inits = [i for i in graph.initializer if not take(i.name, i)]
    is_value = lambda n: n.op_type == "Constant" and n.attribute[0].name == "value"  # noqa: E731
    nodes = [n for n in graph.node if not (is_value(n) and take(n.output[0], n.attribute[0].t))]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.node[:]
    graph.node.extend(nodes)
    for name, (idx, dt) in wiring.items():
        graph.input.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(dt), list(idx.shape)))
    return model, wiring, int((~used).sum())


def wired_feeds(wiring: dict, flat: np.ndarray) -> dict:
    return {name: np.where(idx >= 0, flat[np.maximum(idx, 0)], 0).astype(dt) for name, (idx, dt) in wiring.items()}


# -- graph inspection ------------------------------------------------------------------------


def _ops(graph, counter: Counter, grus: list, path: str = ""):
    for node in graph.node:
        counter[node.op_type] += 1
        if node.op_type == "GRU":
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            grus.append({"node": path + (node.name or "GRU"),
                         "direction": (attrs.get("direction") or b"forward").decode(),
                         "linear_before_reset": int(attrs.get("linear_before_reset", 0)),
                         "layout": int(attrs.get("layout", 0)), "hidden_size": attrs.get("hidden_size"),
                         "activations": [a.decode() for a in attrs.get("activations", [])],
                         "inputs": [i or "-" for i in node.input]})
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                _ops(a.g, counter, grus, f"{path}{node.op_type}.{a.name}/")


def summarize(model: onnx.ModelProto) -> dict:
    """The ops implementing the model (nested bodies included) and its GRU nodes' attributes."""
    counter, grus = Counter(), []
    _ops(model.graph, counter, grus)
    loops = counter["Loop"] + counter["Scan"]
    how = "fused ONNX GRU op" if grus and not loops else "Loop/Scan of elementary ops" if loops and not grus \
        else "fused GRU ops and loops" if grus else "unrolled elementary ops"
    return {"implementation": how, "ops": dict(sorted(counter.items())), "gru_nodes": grus}


def format_summary(summary: dict) -> str:
    lines = [f"implementation: {summary['implementation']}",
             "ops: " + ", ".join(f"{k} x{v}" for k, v in summary["ops"].items())]
    lines += [f"GRU node {g['node']}: direction={g['direction']} linear_before_reset={g['linear_before_reset']} "
              f"layout={g['layout']}" for g in summary["gru_nodes"]]
    return "\n".join(lines)


def _quiet():
    """Silence the exporters' progress output and warnings (they go to the log otherwise)."""
    import contextlib
    import io
    import logging

    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    logging.disable(logging.WARNING)
    stack.callback(logging.disable, logging.NOTSET)
    return stack


# -- the adapters ----------------------------------------------------------------------------


@dataclass
class Export:
    """One exported structure, rewired so that its weights are inputs."""

    spec: GRUSpec  # the padded spec that was exported
    run: Callable
    wiring: dict
    unused_weights: int
    summary: dict
    seconds: float


def ort_runner(model: onnx.ModelProto) -> Callable:
    import onnxruntime as ort

    from .onnx_node import session_options

    sess = ort.InferenceSession(model.SerializeToString(), session_options(), providers=["CPUExecutionProvider"])
    return lambda feeds: sess.run(None, feeds)


def ort_float64_reason() -> str:
    from .onnx_node import OnnxRuntimeGRU

    return OnnxRuntimeGRU().probe["unsupported"].get("float64", "")


class ExportedGRU:
    """The machinery shared by the exporters: export per structure, wire, feed, cut back."""

    name = "?"
    framework = "?"

    def __init__(self):
        self.exports: dict = {}

    # -- framework specifics --
    def _export(self, spec: GRUSpec, has_h0: bool, has_lengths: bool, *rest) -> tuple:
        """(the exported ModelProto, the number of coded weights), for a structure key."""
        raise NotImplementedError

    def _flat_weights(self, spec: GRUSpec, weights) -> np.ndarray:
        raise NotImplementedError

    def _feeds(self, case: GRUCase, S: int) -> dict:
        raise NotImplementedError

    def _result(self, case: GRUCase, outputs, S: int) -> GRUResult:
        raise NotImplementedError

    # -- shared --
    def structure_key(self, spec: GRUSpec, h0: bool, lengths: bool, T: int) -> tuple:
        """What one export serves: the padded spec, whether h0 and lengths are inputs."""
        return (padded_spec(spec, pad_size(spec)), h0, lengths)

    def key(self, case: GRUCase) -> tuple:
        return self.structure_key(case.spec, case.h0 is not None, case.lengths is not None, case.T)

    def export(self, key) -> Export:
        if key not in self.exports:
            t = time.perf_counter()
            model, n = self._export(*key)
            seconds = time.perf_counter() - t
            summary = summarize(model)
            model, wiring, unused = wire(model, n)
            self.exports[key] = Export(key[0], ort_runner(model), wiring, unused, summary, seconds)
        return self.exports[key]

    def run(self, case: GRUCase) -> GRUResult:
        key = self.key(case)
        ex = self.export(key)
        S = ex.spec.input_size
        flat = self._flat_weights(ex.spec, pad_weights(case.spec, case.weights, S))
        feeds = {**self._feeds(case, S), **wired_feeds(ex.wiring, flat)}
        return self._result(case, ex.run(feeds), S)

    def graph_summary(self, spec: GRUSpec | None = None, h0: bool = True, lengths: bool = False) -> dict:
        """How the exporter implements ``spec`` (default: 2 layers, bidirectional if offered)."""
        if spec is None:
            caps = self.capabilities()
            spec = GRUSpec(8, 8, 2, caps.directions[-1], caps.reset_after[0], True)
        ex = self.export(self.structure_key(spec, h0, lengths, T=3))
        return {**ex.summary, "export_seconds": ex.seconds, "unused_weights": ex.unused_weights}


# -- PyTorch ---------------------------------------------------------------------------------

_TORCH_PROBES: dict = {}


def _exception_summary(e: Exception) -> str:
    """The exporter's own message, without its boilerplate advice."""
    text = str(e)
    if "## Exception summary" in text:
        text = text.split("## Exception summary")[-1].split("(Refer to")[0]
    return " ".join(text.split())


class TorchExportGRU(ExportedGRU):
    """torch.nn.GRU -> torch.onnx.export -> onnxruntime, in float32.

    ``dynamo=True`` (the default exporter, "onnx.export[torch]"): torch.export specializes
    nn.GRU's sequence length (its decomposition unrolls time), so T is exported static and
    is part of the structure; B is dynamic. No lengths: a PackedSequence does not export.
    ``dynamo=False`` (the TorchScript exporter, "onnx.export[torchscript]"): T and B are
    dynamic, and lengths export as a PackedSequence (pack_padded_sequence, enforce_sorted=False).
    """

    framework = "torch"

    def __init__(self, dynamo: bool = True):
        import torch

        super().__init__()
        self.torch, self.dynamo = torch, dynamo
        self.version = f"torch {torch.__version__}"
        self.name = "onnx.export[torch]" if dynamo else "onnx.export[torchscript]"

    def structure_key(self, spec, h0, lengths, T):
        return super().structure_key(spec, h0, lengths, T) + ((T,) if self.dynamo else ())

    def _module(self, spec: GRUSpec, has_h0: bool, has_lens: bool):
        torch = self.torch
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        gru = torch.nn.GRU(spec.input_size, spec.hidden_size, spec.num_layers, bias=spec.bias,
                           bidirectional=spec.direction == "bidirectional")

        class Wrapper(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.gru = gru

            def forward(self, x, h0=None, lengths=None):
                if lengths is None:
                    return self.gru(x, h0)
                y, h = self.gru(pack_padded_sequence(x, lengths, enforce_sorted=False), h0)
                return pad_packed_sequence(y, total_length=x.shape[0])[0], h

        return Wrapper().eval()

    def _export(self, spec, has_h0, has_lens, T=3):
        torch = self.torch
        if has_lens and self.dynamo:
            raise ValueError(self.lengths_reason())
        m = self._module(spec, has_h0, has_lens)
        params = list(m.gru.named_parameters())
        with torch.no_grad():
            for (_, p), c in zip(params, codes([tuple(p.shape) for _, p in params]), strict=True):
                p.copy_(torch.from_numpy(c))
        D = spec.num_directions
        args = {"x": torch.zeros(T, 2, spec.input_size)}
        if has_h0:
            args["h0"] = torch.zeros(spec.num_layers * D, 2, spec.hidden_size)
        if has_lens:
            args["lengths"] = torch.tensor([T, 1])
        with _quiet():
            if self.dynamo:
                B = torch.export.Dim("B")
                dyn = {k: {1 if k != "lengths" else 0: B} for k in args}
                prog = torch.onnx.export(m, (), kwargs=args, dynamo=True, dynamic_shapes=dyn, verbose=False)
                model = prog.model_proto
            else:
                import io

                f = io.BytesIO()
                axes = {"x": {0: "T", 1: "B"}, "h0": {1: "B"}, "lengths": {0: "B"}}
                x, kw = args.pop("x"), args  # a trailing dict is taken as keyword arguments
                torch.onnx.export(m, (x, kw), f, dynamo=False, input_names=["x", *kw],
                                  dynamic_axes={k: axes[k] for k in ["x", *kw]})
                model = onnx.load_from_string(f.getvalue())
        return model, sum(p.numel() for _, p in params)

    def _flat_weights(self, spec, weights):
        from ..convert.torch import gru_to_torch

        state = gru_to_torch(spec, weights)
        return np.concatenate([a.ravel() for a in state.values()])

    def _feeds(self, case, S):
        f = {"x": pad_last(case.x, S).astype(np.float32)}
        if case.h0 is not None:
            f["h0"] = pad_last(case.h0, S).astype(np.float32)
        if case.lengths is not None:
            f["lengths"] = np.array(case.lengths, dtype=np.int64)
        return f

    def _result(self, case, outputs, S):
        s = case.spec
        y, h_n = outputs
        return GRUResult(y=unpad_y(np.asarray(y), s.num_directions, s.hidden_size, S).astype(np.float32),
                         h_n=np.array(h_n[..., :s.hidden_size], dtype=np.float32))

    def lengths_reason(self) -> str:
        """The dynamo exporter's own error on a PackedSequence with lengths as an input (tried once)."""
        if not self.dynamo:
            return ""
        if "lengths" not in _TORCH_PROBES:
            try:
                self._export_packed()
                _TORCH_PROBES["lengths"] = ""
            except Exception as e:  # noqa: BLE001 - the exporter's refusal is the finding
                _TORCH_PROBES["lengths"] = (
                    f"{self.version} torch.onnx.export(dynamo=True) cannot export nn.GRU on a PackedSequence "
                    f"(pack_padded_sequence with lengths as an input): {_exception_summary(e)}")
        return _TORCH_PROBES["lengths"]

    def _export_packed(self):
        torch = self.torch
        m = self._module(GRUSpec(2, 2), False, True)
        with _quiet():
            torch.onnx.export(m, (), kwargs={"x": torch.zeros(3, 2, 2), "lengths": torch.tensor([3, 1])},
                              dynamo=True, verbose=False)

    def capabilities(self) -> Capabilities:
        lengths = self.lengths_reason()
        f64 = ort_float64_reason()
        u = {"reverse": "torch.nn.GRU has no reverse-only direction",
             "reset_before": "torch.nn.GRU only applies the reset after the recurrent matmul",
             "activations": "torch.nn.GRU has fixed activations (Sigmoid, Tanh)",
             "clip": "torch.nn.GRU has no pre-activation clip",
             "float64": f"the exported GRU nodes would be float64, which onnxruntime rejects: {f64}",
             "float16": "exported in float32 only (an export per structure and dtype costs seconds)",
             "bfloat16": "exported in float32 only; onnxruntime has no bfloat16 GRU"}
        if lengths:
            u["lengths"] = lengths
        return Capabilities(dtypes=(EXPORT_DTYPE,), directions=("forward", "bidirectional"), max_layers=2,
                            reset_after=(True,), bias=(True, False), initial_state=True, lengths=not lengths,
                            unsupported=u)


def TorchScriptExportGRU() -> TorchExportGRU:
    """The TorchScript exporter (torch.onnx.export(dynamo=False))."""
    return TorchExportGRU(dynamo=False)


# -- Keras -----------------------------------------------------------------------------------


class KerasExportGRU(ExportedGRU):
    """keras GRU / Bidirectional(GRU) / go_backwards -> model.export(format="onnx") -> onnxruntime.

    Lengths are a boolean mask input, as in Keras. ``go_backwards`` returns its outputs in
    processing order, so the graph flips them back (keras.ops.flip) before the next layer
    and at the output. Past a length Keras's y is not zero (see conformance.adapters.keras_gru),
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
        from ..convert.keras import gru_to_keras

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
             "clip": "Keras GRU has no pre-activation clip",
             "float64": why_dtype, "float16": why_dtype, "bfloat16": why_dtype}
        return Capabilities(dtypes=(EXPORT_DTYPE,), directions=("forward", "reverse", "bidirectional"),
                            max_layers=2, reset_after=(True, False), bias=(True, False), initial_state=True,
                            lengths=True, padding="undefined", unsupported=u)
