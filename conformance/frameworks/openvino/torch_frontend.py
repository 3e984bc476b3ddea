"""torch.nn.GRU -> openvino.convert_model (the PyTorch frontend) -> the CPU plugin, float32:
the path users take from a trained torch model to OpenVINO.

``convert_model`` traces the module and freezes its parameters into Constants; its translation
of ``aten::gru`` reorders the gates (r, z, n -> z, r, n), stacks the directions and folds
bias_ih + bias_hh of z and r into one bias (the fold openvino PR #17651's GRUCellFusion once got
wrong). A conversion costs 1-3 s, so a structure (padded size, layers, direction, bias, h0
given) is converted once with index-coded parameters (wiring.py), each coded Constant becomes a
Parameter, and every example feeds its torch weights through the converter's own map: the gate
order, the bias packing and the fold are what gets tested. Caveat: the compiled plan then reads
those weights at run time instead of constant-folding them as a user's frozen model is.

``torch.func.functional_call`` (weights as real inputs) is refused by convert_model ("The
stateless API can't be used with Jitted modules"), hence the coded constants. Sizes are padded
exactly to one square size (conformance.frameworks.padding); T and B stay dynamic. lengths
(a PackedSequence) is tried once and its refusal quoted. Precision: runtime.py.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from ...case import GRUCase, GRUResult
from ...contract import Capabilities
from ..padding import SQUARE_PADDING, pad_last, pad_weights, padded_spec, square_size, unpad_y
from ..torch.convert import gru_to_torch
from . import runtime
from .wiring import MAX_GROUP_BIASES, coded_parameters, decode, holds_codes, pair_feed


@functools.lru_cache(maxsize=None)
def lengths_reason(precision: str | None) -> str:
    """convert_model of nn.GRU over a PackedSequence (pack_padded_sequence), tried once per process; "" if it
    converts and compiles."""
    import openvino as ov
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class Packed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(2, 2)

        def forward(self, x, lengths):
            y, h = self.gru(pack_padded_sequence(x, lengths, enforce_sorted=False))
            return pad_packed_sequence(y, total_length=x.shape[0])[0], h

    try:
        model = ov.convert_model(Packed().eval(), example_input=(torch.zeros(3, 2, 2), torch.tensor([3, 1])))
        runtime.runner(model, precision)
        return ""
    except Exception as e:  # noqa: BLE001 - the converter's refusal is the finding
        return f"{runtime.version()} convert_model of nn.GRU on a PackedSequence: {' '.join(str(e).split())[:600]}"


#: the wiring's bias codes hold 2,047 input biases per layer and direction (wiring.py), and sizes are padded
#: to one square size S, so 3 S <= 2,047
MAX_SIZE = MAX_GROUP_BIASES // 3


class OpenVinoTorchGRU:
    """nn.GRU converted by openvino.convert_model once per structure; weights wired per example."""

    def __init__(self, precision: str | None = runtime.PRECISION):
        import openvino as ov
        import torch

        self.ov, self.torch, self.precision = ov, torch, precision
        self.runtime = runtime.version()
        self.name = "openvino[torch.nn.GRU]" + ("" if precision == runtime.PRECISION
                                                else f"[precision={precision or 'default'}]")
        self.built: dict = {}
        self.build_seconds: list = []

    def _convert(self, spec, has_h0):
        """(ov.Model with the coded Constants as Parameters, {parameter: decoded map}, parameter names)."""
        torch, ov = self.torch, self.ov
        from openvino import opset13 as ops

        gru = torch.nn.GRU(spec.input_size, spec.hidden_size, spec.num_layers, bias=spec.bias,
                           bidirectional=spec.direction == "bidirectional").eval()
        named = [(n, tuple(p.shape)) for n, p in gru.named_parameters()]
        coded, codes = coded_parameters(named)
        with torch.no_grad():
            for n, p in gru.named_parameters():
                p.copy_(torch.from_numpy(coded[n]))
        x = torch.zeros(3, 2, spec.input_size)
        example = (x, torch.zeros(spec.num_layers * spec.num_directions, 2, spec.hidden_size)) if has_h0 else (x,)
        model = ov.convert_model(gru, example_input=example)
        wiring = {}
        for op in list(model.get_ordered_ops()):
            if op.get_type_name() != "Constant" or not op.get_element_type().is_real():
                continue
            v = op.get_data()
            if not holds_codes(v, codes):
                continue
            name = f"wired_{len(wiring)}"
            wiring[name] = decode(v, codes, op.get_friendly_name())
            param = ops.parameter(op.get_output_partial_shape(0), op.get_element_type(), name=name)
            param.output(0).get_tensor().set_names({name})
            for target in list(op.output(0).get_target_inputs()):
                target.replace_source_output(param.output(0))
            model.add_parameters([param])
        model.validate_nodes_and_infer_types()
        return model, wiring, [n for n, _ in named]

    def build(self, key):
        if key not in self.built:
            t = time.perf_counter()
            model, wiring, names = self._convert(*key)
            inputs = [i.get_any_name() for i in model.inputs]
            self.built[key] = (runtime.runner(model, self.precision), wiring, names, inputs)
            self.build_seconds.append(time.perf_counter() - t)
        return self.built[key]

    def run(self, case: GRUCase) -> GRUResult:
        s = case.spec
        S = square_size(s)
        spec = padded_spec(s, S)
        run, wiring, names, inputs = self.build((spec, case.h0 is not None))
        state = gru_to_torch(spec, pad_weights(s, case.weights, S))
        order = [n for kind in ("weight", "bias_ih", "bias_hh") for n in names if n.startswith(kind)]
        flat = np.concatenate([state[n].astype(np.float32).ravel() for n in order])
        feeds = {name: pair_feed(idx, flat) for name, idx in wiring.items()}
        data = [pad_last(case.x, S).astype(np.float32)]
        if case.h0 is not None:
            data.append(pad_last(case.h0, S).astype(np.float32))
        feeds.update(zip(inputs[:len(data)], data, strict=True))  # the module's own inputs come first
        y, h_n = run(feeds)
        return GRUResult(y=unpad_y(y, s.num_directions, s.hidden_size, S).astype(np.float32),
                         h_n=np.array(h_n[..., :s.hidden_size], dtype=np.float32))

    def capabilities(self) -> Capabilities:
        lengths = lengths_reason(self.precision)
        dt = (f"converted from a float32 torch model only ({runtime.precision_text(self.precision)}; a float64 "
              "model is computed in float32 anyway, see openvino[onnx.GRU])")
        u = {"reverse": "torch.nn.GRU has no reverse-only direction",
             "reset_before": "torch.nn.GRU only applies the reset after the recurrent matmul",
             "activations": "torch.nn.GRU has fixed activations (Sigmoid, Tanh)",
             "clip": "torch.nn.GRU has no pre-activation clip",
             "float64": dt, "float16": dt, "bfloat16": dt}
        if lengths:
            u["lengths"] = lengths
        return Capabilities(dtypes=("float32",), directions=("forward", "bidirectional"), max_layers=3,
                            bias=(True, False), lengths=not lengths, size_padding=SQUARE_PADDING, max_size=MAX_SIZE,
                            unsupported=u, gradients_reason="OpenVINO is an inference runtime: the converted model "
                                                            "has no backward")
