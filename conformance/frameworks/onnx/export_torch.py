"""torch.nn.GRU exported to ONNX by torch.onnx.export, run on onnxruntime: what users ship.

``onnx.export[torch]`` uses the default dynamo exporter, ``onnx.export[torchscript]`` the
TorchScript one (dynamo=False). The weights go into torch's own layout
(conformance.frameworks.torch.convert) and from there through the exporter's own wiring.
"""

from __future__ import annotations

import numpy as np
import onnx

from ...buildcache import cached_finding
from ...case import GRUResult, GRUSpec
from ...contract import Capabilities
from ...corners import withdrawn, zero_length_finding
from ..padding import SQUARE_PADDING, pad_last, unpad_y
from .exported import EXPORT_DTYPE, ExportedGRU, _quiet, ort_float64_reason
from .node import NO_BACKWARD
from .wiring import codes

_TORCH_PROBES: dict = {}


def _exception_summary(e: Exception) -> str:
    """The exporter's own message, without its boilerplate advice."""
    text = str(e)
    if "## Exception summary" in text:
        text = text.split("## Exception summary")[-1].split("(Refer to")[0]
    return " ".join(text.split())


#: the longest sequence the dynamo export is drawn at (see TorchExportGRU)
DYNAMO_MAX_T = 17


class TorchExportGRU(ExportedGRU):
    """torch.nn.GRU -> torch.onnx.export -> onnxruntime, in float32.

    ``dynamo=True`` (the default exporter, "onnx.export[torch]"): torch.export specializes
    nn.GRU's sequence length (its decomposition unrolls time), so T is exported static and
    is part of the structure; B is dynamic. No lengths: a PackedSequence does not export. The
    unrolled export grows with T (over 60 s, the per-example timeout, at T = 65 with two
    bidirectional layers on a busy 2-core machine), so it declares ``max_T`` = DYNAMO_MAX_T. Marking
    T dynamic (``Dim("T")``) is accepted but the output keeps the traced T: y is wrong at other T.
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
        from ..torch.convert import gru_to_torch

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
            _TORCH_PROBES["lengths"] = cached_finding(self.name, "lengths", self._lengths_probe)
        return _TORCH_PROBES["lengths"]

    def _lengths_probe(self) -> str:
        try:
            self._export_packed()
            return ""
        except Exception as e:  # noqa: BLE001 - the exporter's refusal is the finding
            return (f"{self.version} torch.onnx.export(dynamo=True) cannot export nn.GRU on a PackedSequence "
                    f"(pack_padded_sequence with lengths as an input): {_exception_summary(e)}")

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
             "per_direction_activations": "torch.nn.GRU has fixed activations (Sigmoid, Tanh) in both directions",
             "clip": "torch.nn.GRU has no pre-activation clip",
             "float64": f"the exported GRU nodes would be float64, which onnxruntime rejects: {f64}",
             "float16": "exported in float32 only (an export per structure and dtype costs seconds)",
             "bfloat16": "exported in float32 only; onnxruntime has no bfloat16 GRU"}
        if lengths:
            u["lengths"] = u["zero_length"] = lengths
        else:
            u.update(withdrawn("zero_length", self.zero_length))
        return Capabilities(dtypes=(EXPORT_DTYPE,), directions=("forward", "bidirectional"), max_layers=2,
                            reset_after=(True,), bias=(True, False), initial_state=True, lengths=not lengths,
                            zero_lengths="zero_length" not in u, unsupported=u, size_padding=SQUARE_PADDING,
                            max_T=DYNAMO_MAX_T if self.dynamo else None, gradients_reason=NO_BACKWARD)

    @property
    def zero_length(self) -> str | None:
        """What the exported graph does with an empty sequence (probed once; the export is cached)."""
        if not hasattr(self, "_zero_length"):
            self._zero_length = zero_length_finding(
                self.run, f"the {self.version} TorchScript export (a GRU node run by onnxruntime)", EXPORT_DTYPE)
        return self._zero_length
