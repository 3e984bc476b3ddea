"""The machinery every ONNX exporter adapter shares: export once per structure, rewire the
weights as inputs (wiring.py), feed each example through the exporter's own map, run it on
onnxruntime and cut the outputs back to the case's size.

Sizes are padded (conformance.frameworks.padding): a structure is exported at S inputs and
hidden units, so that an export serves every smaller case of that structure, and the
exporter's conversions are tested on every example; its handling of a particular small size
is not.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import onnx

from ...buildcache import cached_build
from ...case import GRUCase, GRUResult, GRUSpec
from ..padding import pad_weights, padded_spec, square_size
from .graph import format_summary, summarize
from .wiring import wire, wired_feeds

EXPORT_DTYPE = "float32"


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


@dataclass
class Export:
    """One exported structure, rewired so that its weights are inputs."""

    spec: GRUSpec  # the padded spec that was exported
    run: Callable
    wiring: dict
    unused_weights: int
    summary: dict
    seconds: float  # the export's own time, when it was made (conformance.buildcache: maybe an earlier run)
    cached: bool = False  # read back from the on-disk build cache


def ort_runner(model: onnx.ModelProto) -> Callable:
    import onnxruntime as ort

    from .node import session_options

    sess = ort.InferenceSession(model.SerializeToString(), session_options(), providers=["CPUExecutionProvider"])
    return lambda feeds: sess.run(None, feeds)


def ort_float64_reason() -> str:
    from .node import OnnxRuntimeGRU

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
        return (padded_spec(spec, square_size(spec)), h0, lengths)

    def key(self, case: GRUCase) -> tuple:
        return self.structure_key(case.spec, case.h0 is not None, case.lengths is not None, case.T)

    def export(self, key) -> Export:
        if key not in self.exports:
            def build():
                model, n = self._export(*key)
                return model.SerializeToString(), {"weights": n}

            # keyed by what exports too: the framework and backend (version), and a subclass's own code (origin)
            payload, meta = cached_build(f"{self.name} {getattr(self, 'version', '')}", key, build, origin=self)
            model = onnx.load_from_string(payload)
            summary = summarize(model)
            model, wiring, unused = wire(model, meta["weights"])
            self.exports[key] = Export(key[0], ort_runner(model), wiring, unused, summary, meta["seconds"],
                                       meta["cached"])
        return self.exports[key]

    def run(self, case: GRUCase) -> GRUResult:
        key = self.key(case)
        ex = self.export(key)
        S = ex.spec.input_size
        flat = self._flat_weights(ex.spec, pad_weights(case.spec, case.weights, S))
        feeds = {**self._feeds(case, S), **wired_feeds(ex.wiring, flat)}
        return self._result(case, ex.run(feeds), S)

    def graph_facts(self, spec: GRUSpec | None = None, h0: bool = True, lengths: bool = False) -> dict:
        """How the exporter implements ``spec`` (default: 2 layers, bidirectional if offered), as data."""
        if spec is None:
            caps = self.capabilities()
            spec = GRUSpec(8, 8, 2, caps.directions[-1], caps.reset_after[0], True)
        ex = self.export(self.structure_key(spec, h0, lengths, T=3))
        return {**ex.summary, "export_seconds": ex.seconds, "export_cached": ex.cached,
                "unused_weights": ex.unused_weights}

    def graph_summary(self) -> str:
        """The report's text on what the exporter built (see conformance.contract.OPTIONAL_MEMBERS)."""
        facts = self.graph_facts()
        made = " (read from the build cache)" if facts["export_cached"] else ""
        return format_summary(facts) + f"\nexport: {facts['export_seconds']:.1f} s{made}, " \
                                       f"unused weights: {facts['unused_weights']}"
