"""The hand-built ONNX GRU node (conformance.frameworks.onnx.node), read by OpenVINO's ONNX
frontend and run on its CPU plugin: every attribute of the operator, and sequence_lens.

The graph is the one onnx.GRU[onnxruntime] runs: one model per structure with W, R, B,
initial_h and sequence_lens as graph inputs and T and B dynamic, so one compiled model serves
every weight draw. The frontend turns each node into OpenVINO's GRUSequence; what it refuses
or ignores is found by the shared probes (OnnxGRU.probe) and quoted with the version.

What this adapter adds to the shared machinery, and why:

* the precision is explicit (runtime.py): f32, not the CPU plugin's default (bf16 on CPUs with
  AVX512-BF16 / AMX), which would compute a float32 GRU in bfloat16;
* float64 is accepted by the plugin but computed in float32: measured on a probe
  (``_float64_reason``) and declared unsupported with the measured error, as the Keras adapters
  do for their demotions;
* the raw output shapes are checked before the outputs are read: with ``layout=1`` the frontend
  ignores the attribute (openvino #37820): it reads X [B, T, I] as [T, B, I] and returns
  layout-0 outputs, which ``to_result`` would otherwise transpose into plausible garbage. The
  check turns that into a refusal wherever the shapes differ; where they coincide (T = B = D)
  the values are silently wrong (tests/frameworks/openvino keeps the minimal case).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

import numpy as np

from ...canonical import oracle
from ...case import GRUCase, GRUResult, GRUSpec
from ...contract import Capabilities
from ..onnx.node import OnnxGRU, Structure, feeds, to_result
from . import runtime

LAYOUT_1 = "the layout attribute is not applied: X is read as [T, B, I] (openvino #37820)"


class OpenVinoGRU(OnnxGRU):
    """ONNX GRU node -> Core.read_model (ONNX frontend) -> compile_model on CPU."""

    def __init__(self, layout: int = 0, precision: str | None = runtime.PRECISION):
        super().__init__(layout)
        self.precision = precision
        self.runtime = runtime.version()
        suffix = (f"[layout={layout}]" if layout else "") + ("" if precision == runtime.PRECISION
                                                              else f"[precision={precision or 'default'}]")
        self.name = "openvino[onnx.GRU]" + suffix

    def _session(self, model):
        ov_model = runtime.core().read_model(model.SerializeToString(), b"")  # ONNX bytes, no weights file
        return runtime.runner(ov_model, self.precision)

    def run(self, case: GRUCase) -> GRUResult:
        st = Structure.of(case, self.layout)
        outputs = self.session(st)(feeds(st, case))
        s, T, B = case.spec, case.T, case.B
        D, H = s.num_directions, s.hidden_size
        state = (B, D, H) if self.layout else (D, B, H)
        want = [(B, T, D, H) if self.layout else (T, D, B, H)] + [state] * s.num_layers
        got = [tuple(o.shape) for o in outputs]
        if got != want:
            raise RuntimeError(f"{self.runtime} returned outputs of shapes {got}, expected {want} "
                               f"(layout={self.layout}, T={T}, B={B})" + (f": {LAYOUT_1}" if self.layout else ""))
        return to_result(st, outputs)

    @cached_property
    def _float64_reason(self) -> str | None:
        """Why float64 is not float64 here (measured on a 3x3 probe), or None."""
        rng = np.random.default_rng(0)
        w = [(rng.standard_normal((3, 3, 3)), rng.standard_normal((3, 3, 3)) / 2, rng.standard_normal((3, 3)),
              rng.standard_normal((3, 3)))]
        case = GRUCase(GRUSpec(3, 3), w, rng.standard_normal((4, 2, 3)), dtype="float64")
        got, want = self.run(case), oracle(case)
        err = float(max(np.max(np.abs(got.y - want.y)), np.max(np.abs(got.h_n - want.h_n))))
        if err < 1e-12:
            return None
        return (f"{self.runtime} CPU accepts a float64 GRU but computes it in float32: max error {err:.2g} on a "
                "3x3 probe, float32-sized (float64 arithmetic gives ~1e-16)")

    def capabilities(self) -> Capabilities:
        caps = super().capabilities()
        if "float64" not in caps.dtypes or len(caps.dtypes) == 1:
            return caps
        why = self._float64_reason
        if not why:
            return caps
        return replace(caps, dtypes=tuple(d for d in caps.dtypes if d != "float64"),
                       unsupported={**caps.unsupported, "float64": why})
