"""The same hand-built ONNX GRU graph, run by onnx's own ReferenceEvaluator (NumPy).

onnx/reference/ops/op_gru.py is the operator's executable reference, yet in onnx 1.23 its
``_run`` takes sequence_lens, clip, activations and activation_alpha/beta only to drop them
(they are marked ``# noqa: ARG002`` there). The probes of ``OnnxGRU`` find that by running:
the output with the option is bit-identical to the output without it, and the option is
declared unsupported with that evidence. Graphs are evaluated once per structure, as for
onnxruntime; layout 1 is implemented by the evaluator, so both layouts are offered.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

from .node import OnnxGRU


class OnnxReferenceGRU(OnnxGRU):
    """onnx.reference.ReferenceEvaluator running one GRU node per layer."""

    def __init__(self, layout: int = 0):
        super().__init__(layout)
        self.runtime = f"onnx {onnx.__version__} ReferenceEvaluator"
        self.name = "onnx.reference" + (f"[layout={layout}]" if layout else "")

    def _session(self, model):
        ev = ReferenceEvaluator(model)

        def run(feeds):
            with np.errstate(over="ignore"):  # its sigmoid is 1/(1+exp(-x)): exp overflows to the right limit
                return ev.run(None, feeds)

        return run

