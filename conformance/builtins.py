"""The built-in implementations, as data: one entry each, in the manner of PyTorch's ModuleInfo.

An entry names the adapter (the one name used on the command line and in every report),
the class that implements it and the keyword arguments it is built with, the environment it
needs before its framework is imported, and what the project's own tests expect of it: the
features it supports and the checks it is declared to fail. tests/builtins runs every entry
through the same generic checks (conformance.testing), so adding a built-in is adding a row.

Nothing here imports a framework: classes are named as "module:Class" and imported when an
entry is loaded (conformance.loader).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, Optional

from .dtypes import DTYPES
from .profiles import PROFILES, Profile

_FW = "conformance.frameworks"
#: what exporting costs (seconds per structure) makes these checks draw fewer, smaller cases in the project's
#: own tests, as for the conversions (CONVERT_PROFILE); `gru-conformance check` and the report draw the full profile
EXPORT_PROFILE = Profile("export", max_examples=3, max_T=4, max_B=3, max_size=4, max_layers=2, derandomize=True,
                         size_examples=2)

#: Keras builds a layer per new structure (eager, seconds at 257 units) and its tests run on three backends:
#: in the project's own tests its checks draw about half the ci profile's examples
KERAS_PROFILE = replace(PROFILES["ci"], name="keras", max_examples=12, max_backward_examples=5, size_examples=3,
                        size_backward_examples=1)


@dataclass(frozen=True)
class Builtin:
    name: str
    target: str  # "module:Class"
    kwargs: Mapping = field(default_factory=dict)
    #: set (if unset) before the adapter's module is imported, e.g. KERAS_BACKEND
    environ: Mapping = field(default_factory=dict)
    #: the features the project's tests expect it to support, in FEATURES order
    supported: tuple = ()
    #: checks it is declared to fail, {feature: reason} (none today: every built-in conforms)
    expected_failures: Mapping = field(default_factory=dict)
    #: a cheaper profile for the project's own tests, where one build costs seconds
    test_profile: Optional[Profile] = None
    #: a self-check of the suite's plumbing (the oracle behind the contract), not evidence about an implementation
    self_check: bool = False
    #: the modules it needs (pip install 'gru-conformance[torch]', [keras], [onnx] bring them)
    requires: tuple = ()
    #: the gradients the project's tests expect it to declare (Capabilities.gradients)
    gradients: tuple = ()

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]


_ALL = tuple(DTYPES)
#: the size checks: every built-in runs them (the torch.compile ones up to a declared max_T)
_SIZES = ("large", "long")
# zero_length: measured by each adapter (conformance.corners); torch's pack_padded_sequence refuses it,
# onnxruntime returns Y_h = 0 for it, the adapters that step a cell mask it themselves.
_TORCH_GRU = (*_ALL, "reset_after", "no_bias", "bidirectional", "stacked", "initial_state", "lengths", *_SIZES)
_TORCH_CELL = (*_ALL, "reset_after", "no_bias", "initial_state", "lengths", "zero_length", *_SIZES)
_KERAS_GRU = ("reset_after", "reset_before", "no_bias", "reverse", "bidirectional", "stacked", "initial_state",
              "lengths", "zero_length")
_KERAS_CELL = ("reset_after", "reset_before", "no_bias", "initial_state", "lengths", "zero_length")
_LOW = ("float32", "float16", "bfloat16")
_ORT = ("onnx", "onnxruntime")
_GRADS = ("x", "h0", "weights")


def _keras(backend: str) -> tuple:
    env = {"KERAS_BACKEND": backend}
    mod = f"{_FW}.keras.adapters"
    # float64: Keras demotes it to float32 outside TensorFlow; no_bias: JAX's fused GRU raises in
    # float16/bfloat16 (both declared unsupported with the upstream cause; see the adapter module)
    gru = _KERAS_GRU if backend != "jax" else tuple(f for f in _KERAS_GRU if f != "no_bias")
    dtypes = _ALL if backend == "tensorflow" else _LOW
    grads = () if backend == "jax" else _GRADS  # JAX: off by default, see keras/gradients.py JAX_SLOW
    return (
        Builtin(f"keras.GRU[{backend}]", f"{mod}:KerasGRU", {"backend": backend}, env, (*dtypes, *gru, *_SIZES),
                requires=("keras",), gradients=grads, test_profile=KERAS_PROFILE),
        Builtin(f"keras.GRUCell[{backend}]", f"{mod}:KerasGRUCell", {"backend": backend}, env,
                (*dtypes, *_KERAS_CELL, *_SIZES), requires=("keras",), gradients=grads, test_profile=KERAS_PROFILE),
    )


BUILTINS: tuple = (
    Builtin("reference", f"{_FW}.reference:ReferenceAdapter",
            supported=("float64", "reset_after", "reset_before", "no_bias", "reverse", "bidirectional", "stacked",
                       "initial_state", "lengths", "zero_length", "activations", "per_direction_activations", "clip",
                       *_SIZES), self_check=True, gradients=_GRADS),
    Builtin("torch.nn.GRU", f"{_FW}.torch.adapters:TorchGRU", supported=_TORCH_GRU, requires=("torch",),
            gradients=_GRADS),
    Builtin("torch.nn.GRU[batch_first]", f"{_FW}.torch.adapters:TorchGRU", {"batch_first": True},
            supported=_TORCH_GRU, requires=("torch",), gradients=_GRADS),
    Builtin("torch.nn.GRUCell", f"{_FW}.torch.adapters:TorchGRUCell", supported=_TORCH_CELL, requires=("torch",),
            gradients=_GRADS),
    *_keras("tensorflow"), *_keras("jax"), *_keras("torch"),
    Builtin("onnx.GRU[onnxruntime]", f"{_FW}.onnx.node:OnnxRuntimeGRU",
            supported=("float32", "float16", "reset_after", "reset_before", "no_bias", "reverse", "bidirectional",
                       "stacked", "initial_state", "lengths", "activations", "per_direction_activations", "clip",
                       *_SIZES), requires=_ORT),
    # onnxruntime refuses every layout=1 GRU: every feature is unsupported, in its own words
    Builtin("onnx.GRU[onnxruntime][layout=1]", f"{_FW}.onnx.node:OnnxRuntimeGRU", {"layout": 1}, requires=_ORT),
    Builtin("onnx.reference", f"{_FW}.onnx.reference:OnnxReferenceGRU",
            supported=(*_ALL, "reset_after", "reset_before", "no_bias", "reverse", "bidirectional", "stacked",
                       "initial_state", *_SIZES), requires=_ORT),
    Builtin("onnx.reference[layout=1]", f"{_FW}.onnx.reference:OnnxReferenceGRU", {"layout": 1},
            supported=(*_ALL, "reset_after", "reset_before", "no_bias", "reverse", "bidirectional", "stacked",
                       "initial_state", *_SIZES), requires=_ORT),
    Builtin("onnx.export[torch]", f"{_FW}.onnx.export_torch:TorchExportGRU",
            supported=("float32", "reset_after", "no_bias", "bidirectional", "stacked", "initial_state", *_SIZES),
            test_profile=EXPORT_PROFILE, requires=(*_ORT, "torch")),
    Builtin("onnx.export[torchscript]", f"{_FW}.onnx.export_torch:TorchExportGRU", {"dynamo": False},
            supported=("float32", "reset_after", "no_bias", "bidirectional", "stacked", "initial_state", "lengths",
                       *_SIZES), requires=(*_ORT, "torch")),
    Builtin("onnx.export[keras]", f"{_FW}.onnx.export_keras:KerasExportGRU",
            supported=("float32", "reset_after", "reset_before", "no_bias", "reverse", "bidirectional", "stacked",
                       "initial_state", "lengths", "zero_length", *_SIZES), test_profile=EXPORT_PROFILE,
            requires=(*_ORT, "keras", "tf2onnx")),
)

# -- the serving runtimes: OpenVINO, LiteRT, torch.compile --------------------------------------
_OV = ("openvino", "onnx")
_OV_NODE = ("float32", "float16", "bfloat16", "reset_after", "reset_before", "no_bias", "reverse", "bidirectional",
            "stacked", "initial_state", "lengths", "activations", "clip", *_SIZES)
#: torch.compile: a compile costs 10-50 s per structure and T, so its generic tests are marked slow
#: (tests/builtins/test_torch_compile.py) and draw from a pool of few structures
COMPILE_PROFILE = Profile("compile", max_examples=5, max_T=2, max_B=3, max_size=4, max_layers=2, derandomize=True,
                          size_examples=2)
#: a conversion costs 0.2-5 s per structure (OpenVINO reading an ONNX node and compiling it, the TFLite converter,
#: openvino.convert_model): fewer examples in the default run; `gru-conformance check` and the report draw the
#: full profile
CONVERT_PROFILE = Profile("convert", max_examples=3, max_T=4, max_B=3, max_size=4, max_layers=2, derandomize=True,
                          size_examples=2)

RUNTIMES: tuple = (
    # float64 is computed in float32 (measured, declared unsupported); activations: Relu only
    Builtin("openvino[onnx.GRU]", f"{_FW}.openvino.node:OpenVinoGRU", supported=_OV_NODE, requires=_OV,
            test_profile=CONVERT_PROFILE),
    # the frontend ignores layout=1 (openvino #37820): outputs come back in layout-0 shapes, so every
    # feature is unsupported with that finding; where the shapes coincide the values are silently wrong
    # (a strict xfail in tests/frameworks/openvino)
    Builtin("openvino[onnx.GRU][layout=1]", f"{_FW}.openvino.node:OpenVinoGRU", {"layout": 1}, requires=_OV),
    Builtin("openvino[torch.nn.GRU]", f"{_FW}.openvino.torch_frontend:OpenVinoTorchGRU",
            supported=("float32", "reset_after", "no_bias", "bidirectional", "stacked", "initial_state", *_SIZES),
            test_profile=CONVERT_PROFILE, requires=(*_OV, "torch")),
    Builtin("litert[keras.GRU]", f"{_FW}.litert.adapters:LiteRTKerasGRU", environ={"KERAS_BACKEND": "tensorflow"},
            # zero_length: not probed through the converter (the masked Keras layer's own behaviour is)
            supported=("float32", *(f for f in _KERAS_GRU if f != "zero_length"), *_SIZES),
            test_profile=CONVERT_PROFILE, requires=("ai_edge_litert", "keras", "tensorflow")),
    Builtin("torch.compile[nn.GRU]", f"{_FW}.torch.compiled:TorchCompileGRU",
            supported=("float64", "float32", "reset_after", "no_bias", "bidirectional", "stacked", "initial_state",
                       *_SIZES), test_profile=COMPILE_PROFILE, requires=("torch",)),
    Builtin("torch.compile[nn.GRUCell loop]", f"{_FW}.torch.compiled:TorchCompileGRUCellLoop",
            supported=("float64", "float32", "reset_after", "no_bias", "initial_state", "lengths", *_SIZES),
            test_profile=COMPILE_PROFILE, requires=("torch",)),
)
BUILTINS = BUILTINS + RUNTIMES

BY_NAME = {b.name: b for b in BUILTINS}
