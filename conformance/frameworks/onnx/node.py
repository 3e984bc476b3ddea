"""A hand-built ONNX GRU graph, run by onnxruntime: every attribute of the operator.

One graph per structure (sizes, layers, direction, linear_before_reset, activations, clip,
dtype, layout, and whether B, initial_h and sequence_lens are given) with W, R, B,
initial_h and sequence_lens as graph *inputs*, so one session serves every weight draw;
T and B are symbolic. A stack is one GRU node per layer, each reading the previous Y
through Transpose + Reshape (see conformance.frameworks.onnx.convert). bias=False omits B.

What the runtime cannot do is found by trying, once, on tiny probe cases: a rejection is
declared unsupported with the runtime's own message; an attribute whose presence leaves
the output bit-identical is declared unsupported as ignored (see ``OnnxGRU.probe``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import onnx
from onnx import TensorProto, helper

from references import ACTIVATIONS

from ...case import SIGMOID, TANH, Activation, GRUCase, GRUResult, GRUSpec
from ...contract import Capabilities
from ...corners import per_direction_finding, zero_length_finding
from ...dtypes import DTYPES, numpy_dtype, result_array
from ...features import FEATURES
from ...values import case_values
from . import convert as conv

#: why no ONNX adapter declares gradients (Capabilities.gradients_reason): every backward row says so
NO_BACKWARD = ("an ONNX inference runtime runs the forward only: the graph has no backward (gradients are "
               "checked in the framework the model came from)")
ELEM = {"float64": TensorProto.DOUBLE, "float32": TensorProto.FLOAT,
        "float16": TensorProto.FLOAT16, "bfloat16": TensorProto.BFLOAT16}


@dataclass(frozen=True)
class Structure:
    """Everything a graph depends on; T and B are left symbolic."""

    spec: GRUSpec
    dtype: str
    layout: int
    has_h0: bool
    has_lens: bool

    @classmethod
    def of(cls, case: GRUCase, layout: int) -> "Structure":
        return cls(case.spec, case.dtype, layout, case.h0 is not None, case.lengths is not None)


def build_model(st: Structure) -> onnx.ModelProto:
    """The ONNX model of a structure: inputs X, W_l, R_l, [B_l], [sequence_lens], [initial_h_l]."""
    s, elem, D, H = st.spec, ELEM[st.dtype], st.spec.num_directions, st.spec.hidden_size
    batch_time = ["B", "T"] if st.layout else ["T", "B"]
    state = ["B", D, H] if st.layout else [D, "B", H]
    vi = helper.make_tensor_value_info
    inputs = [vi("X", elem, batch_time + [s.input_size])]
    if st.has_lens:
        inputs.append(vi("sequence_lens", TensorProto.INT32, ["B"]))
    nodes, outputs, inits = [], [], []
    attrs = conv.attributes(s, st.layout)
    x = "X"
    for layer in range(s.num_layers):
        I_l = s.layer_input_size(layer)
        names = [x, f"W_{layer}", f"R_{layer}"]
        inputs += [vi(f"W_{layer}", elem, [D, 3 * H, I_l]), vi(f"R_{layer}", elem, [D, 3 * H, H])]
        names.append(f"B_{layer}" if s.bias else "")
        if s.bias:
            inputs.append(vi(f"B_{layer}", elem, [D, 6 * H]))
        names.append("sequence_lens" if st.has_lens else "")
        if st.has_h0:
            names.append(f"initial_h_{layer}")
            inputs.append(vi(f"initial_h_{layer}", elem, state))
        while names[-1] == "":
            names.pop()
        y = "Y" if layer == s.num_layers - 1 else f"Y_{layer}"
        nodes.append(helper.make_node("GRU", names, [y, f"Y_h_{layer}"], name=f"gru_{layer}", **attrs))
        outputs.append(vi(f"Y_h_{layer}", elem, state))
        if layer < s.num_layers - 1:
            if not inits:
                inits.append(helper.make_tensor("flat_shape", TensorProto.INT64, [3], [0, 0, -1]))
            src = y
            if not st.layout:  # [T, D, B, H] -> [T, B, D, H]
                nodes.append(helper.make_node("Transpose", [y], [f"{y}_tbdh"], perm=[0, 2, 1, 3]))
                src = f"{y}_tbdh"
            x = f"X_{layer + 1}"
            nodes.append(helper.make_node("Reshape", [src, "flat_shape"], [x]))
    y_shape = ["B", "T", D, H] if st.layout else ["T", D, "B", H]
    outputs.insert(0, vi("Y", elem, y_shape))
    graph = helper.make_graph(nodes, "gru", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", conv.OPSET)])
    model.ir_version = min(model.ir_version, 10)  # what the installed runtimes read
    return model


def feeds(st: Structure, case: GRUCase) -> dict:
    """The graph inputs of a case, in the structure's dtype and layout."""
    dt = numpy_dtype(st.dtype)
    f = {"X": conv.x_to_onnx(case.x, st.layout).astype(dt)}
    for layer, (W, R, B) in enumerate(conv.weights_to_onnx(case.spec, case.weights)):
        f[f"W_{layer}"], f[f"R_{layer}"] = W.astype(dt), R.astype(dt)
        if st.spec.bias:
            f[f"B_{layer}"] = B.astype(dt)
    if st.has_lens:
        f["sequence_lens"] = conv.lengths_to_onnx(case.lengths)
    if st.has_h0:
        for layer, h in enumerate(conv.state_to_onnx(case.spec, case.h0, st.layout)):
            f[f"initial_h_{layer}"] = h.astype(dt)
    return f


def to_result(st: Structure, outputs) -> GRUResult:
    """Graph outputs (Y, Y_h_0, ...) -> GRUResult in the case's result dtype."""
    Y, *Y_h = outputs
    return GRUResult(y=result_array(conv.y_from_onnx(np.asarray(Y, np.float64), st.layout), st.dtype),
                     h_n=result_array(conv.state_from_onnx([np.asarray(h, np.float64) for h in Y_h], st.layout),
                                      st.dtype))


# -- probes ----------------------------------------------------------------------------------


def probe_case(dtype: str, T: int = 3, B: int = 2, h0: bool = False, lengths=None, **spec) -> GRUCase:
    """A tiny, saturating case (so clip and activations matter) with fixed values."""
    s = GRUSpec(**{"input_size": 2, "hidden_size": 2, **spec})
    weights, x, h = case_values(s, T, B, dtype, seed=7, h0=h0, saturating=True)
    return GRUCase(s, weights, x, h, None if lengths is None else np.array(lengths), dtype)


#: (feature, what, the probe case's options, the baseline's options or None): with a
#: baseline, an output bit-identical to the baseline's means the option is ignored.
PROBES = (
    ("reverse", "direction=reverse", dict(direction="reverse"), dict(direction="forward")),
    ("bidirectional", "direction=bidirectional", dict(direction="bidirectional"), None),
    ("reset_after", "linear_before_reset=1", dict(reset_after=True), dict(reset_after=False)),
    ("reset_before", "linear_before_reset=0", dict(reset_after=False), None),
    ("no_bias", "a GRU without its B input", dict(bias=False), None),
    ("stacked", "chained GRU nodes", dict(num_layers=2), None),
    ("initial_state", "initial_h", dict(h0=True), dict(h0=False)),
    ("lengths", "sequence_lens", dict(lengths=[1, 3]), dict(lengths=None)),
    ("clip", "clip", dict(clip=0.5), dict(clip=None)),
)


def _act(name: str, k: int) -> Activation:
    """An activation with the k-th of two distinct parameter sets (where it takes any)."""
    from references.activations import USES_ALPHA, USES_BETA

    alpha, beta = ((0.5, 0.25), (2.0, 1.5))[k]
    return Activation(name, alpha if name in USES_ALPHA else None, beta if name in USES_BETA else None)


def activation_probes(name: str) -> list:
    """Probes of one activation: as f and g vs the default pair, then its alpha/beta."""
    probes = [(f"activations {name}", dict(activations=(_act(name, 0), _act(name, 0))),
               dict(activations=(SIGMOID, TANH)))]
    if _act(name, 0) != _act(name, 1):
        probes.append((f"activation_alpha/beta of {name}", dict(activations=(_act(name, 0), _act(name, 0))),
                       dict(activations=(_act(name, 1), _act(name, 1)))))
    return probes


class OnnxGRU:
    """The shared machinery of adapters that run the hand-built graph on some ONNX runtime."""

    runtime = "?"  # the runtime's name and version, in messages
    name = "?"

    def __init__(self, layout: int = 0):
        if layout not in (0, 1):
            raise ValueError(f"layout: expected 0 or 1, got {layout!r}")
        self.layout = layout
        self._sessions: dict = {}

    # subclasses: a callable feeds -> list of outputs, for a model
    def _session(self, model: onnx.ModelProto):
        raise NotImplementedError

    def session(self, st: Structure):
        if st not in self._sessions:
            self._sessions[st] = self._session(build_model(st))
        return self._sessions[st]

    def run(self, case: GRUCase) -> GRUResult:
        st = Structure.of(case, self.layout)
        return to_result(st, self.session(st)(feeds(st, case)))

    def _try(self, case: GRUCase):
        """(result, None) or (None, the runtime's message)."""
        try:
            return self.run(case), None
        except Exception as e:  # noqa: BLE001 - the runtime's refusal is the finding
            return None, " ".join(str(e).split())

    def _probe(self, dtype: str, what: str, opts: dict, base: dict | None):
        """(result, None) if the runtime honours ``what``, else (result or None, why not)."""
        split = lambda o: ({k: v for k, v in o.items() if k in ("h0", "lengths")},  # noqa: E731
                           {k: v for k, v in o.items() if k not in ("h0", "lengths")})
        case_opts, spec_opts = split(opts)
        res, err = self._try(probe_case(dtype, **case_opts, **spec_opts))
        if err:
            return None, f"{self.runtime} rejects {what}: {err}"
        if base is not None:
            b_case, b_spec = split(base)
            ref, _ = self._try(probe_case(dtype, **{**case_opts, **b_case}, **{**spec_opts, **b_spec}))
            if ref is not None and np.array_equal(res.y, ref.y) and np.array_equal(res.h_n, ref.h_n):
                return res, f"{self.runtime} ignores {what}: the output is bit-identical to the output without it"
        return res, None

    @cached_property
    def probe(self) -> dict:
        """{"dtypes": [...], "activations": [...], "padding": str, "unsupported": {feature: reason},
        "withdrawn_activations": {activation: reason}}."""
        unsupported, dtypes, errors = {}, [], {}
        for d in DTYPES:
            _, why = self._probe(d, f"dtype {d}", {}, None)
            if why:
                unsupported[d], errors[d] = why, why.partition(": ")[2]
            else:
                dtypes.append(d)
        if not dtypes:
            why = f"{self.runtime} runs no GRU with layout={self.layout}: {errors['float32']}"
            return {"dtypes": [], "activations": [], "padding": "zeros", "withdrawn_activations": {},
                    "unsupported": {f.name: why for f in FEATURES}}
        d = dtypes[0]
        padding = "zeros"
        for feat, what, opts, base in PROBES:
            res, why = self._probe(d, what, opts, base)
            if why:
                unsupported[feat] = why
            elif feat == "lengths" and np.any(res.y[1:, 0] != 0):
                padding = "undefined"
        acts, whys = [], {}
        for name in ACTIVATIONS:
            if name in ("Sigmoid", "Tanh"):
                continue
            why = next((w for what, opts, base in activation_probes(name)
                        for w in [self._probe(d, what, opts, base)[1]] if w), None)
            if why:
                whys[name] = why
            else:
                acts.append(name)
        if whys and not acts:
            unsupported["activations"] = _merge(self.runtime, whys)
        unsupported.update(self._corners(d, padding, unsupported))
        # some accepted: the activations feature checks those, each refused one keeps its own reason
        withdrawn = whys if acts else {}
        return {"dtypes": dtypes, "activations": acts, "padding": padding, "unsupported": unsupported,
                "withdrawn_activations": withdrawn}

    def _corners(self, dtype: str, padding: str, unsupported: dict) -> dict:
        """Zero-length sequences and per-direction activations, probed (conformance.corners)."""
        out = {}
        if "lengths" in unsupported:
            out["zero_length"] = unsupported["lengths"]
        else:
            why = zero_length_finding(self.run, self.runtime, dtype, padding=padding)
            if why:
                out["zero_length"] = why
        if "bidirectional" in unsupported:
            out["per_direction_activations"] = unsupported["bidirectional"]
        else:
            why = per_direction_finding(self.run, self.runtime, dtype, ((SIGMOID, TANH), (TANH, SIGMOID)))
            if why:
                out["per_direction_activations"] = why
        return out

    def capabilities(self) -> Capabilities:
        p = self.probe
        u = dict(p["unsupported"])
        if not p["dtypes"]:  # the runtime runs nothing: a placeholder dtype, everything declared unsupported
            return Capabilities(dtypes=("float32",), reset_after=(False,), initial_state=False, unsupported=u,
                                gradients_reason=NO_BACKWARD)
        return Capabilities(
            dtypes=tuple(p["dtypes"]),
            directions=("forward",) + tuple(d for d in ("reverse", "bidirectional") if d not in u),
            max_layers=1 if "stacked" in u else 8,
            reset_after=tuple(v for v, f in ((True, "reset_after"), (False, "reset_before")) if f not in u),
            bias=(True,) if "no_bias" in u else (True, False),
            initial_state="initial_state" not in u, lengths="lengths" not in u, zero_lengths="zero_length" not in u,
            activations=tuple(p["activations"]), per_direction_activations="per_direction_activations" not in u,
            clip="clip" not in u, padding=p["padding"], unsupported=u,
            withdrawn_activations=p["withdrawn_activations"], gradients_reason=NO_BACKWARD,
        )


def _merge(runtime: str, whys: dict) -> str:
    """One reason for several activations: "<runtime> ignores activations A, B: <why>"."""
    groups: dict = {}
    for why in whys.values():
        head, _, tail = why.partition(": ")
        verb, _, what = head[len(runtime) + 1:].partition(" ")
        groups.setdefault((verb, tail), []).append(what)
    parts = []
    for (verb, tail), whats in groups.items():
        prefix = "activations " if all(w.startswith("activations ") for w in whats) else ""
        parts.append(f"{runtime} {verb} {prefix}{', '.join(w[len(prefix):] for w in whats)}: {tail}")
    return "; ".join(parts)


def session_options():
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 4  # refusals are reported through the exception, not the log
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return so


class OnnxRuntimeGRU(OnnxGRU):
    """The ONNX GRU operator as onnxruntime's CPU provider runs it."""

    def __init__(self, layout: int = 0):
        import onnxruntime as ort

        super().__init__(layout)
        self._ort = ort
        self.runtime = f"onnxruntime {ort.__version__}"
        self.name = "onnx.GRU[onnxruntime]" + (f"[layout={layout}]" if layout else "")

    def _session(self, model):
        sess = self._ort.InferenceSession(model.SerializeToString(), session_options(),
                                          providers=["CPUExecutionProvider"])
        return lambda f: sess.run(None, f)

    @cached_property
    def _softplus_overflow(self) -> str | None:
        """onnxruntime 1.32's GRU computes Softplus as log(1 + exp(x)): inf from x >= 89 in float32.

        Probed (z saturated at 0, so h' = softplus(100) = 100): where it overflows, Softplus is
        left out of the declared activations, so that checks of the others are not drowned by
        one known upstream bug (tests/frameworks/onnx keeps a strict xfail on it).
        """
        w = (np.array([-30.0, 0.0, 1.0]).reshape(3, 1, 1), np.zeros((3, 1, 1)), np.zeros((3, 1)), np.zeros((3, 1)))
        case = GRUCase(GRUSpec(1, 1, activations=("Sigmoid", "Softplus")), [w], np.full((1, 1, 1), 100.0),
                       dtype="float32")
        try:
            y = self.run(case).y
        except Exception as e:  # noqa: BLE001 - a refusal is a reason too
            return f"{self.runtime}: Softplus: {e}"
        if np.all(np.isfinite(y)):
            return None
        return (f"{self.runtime} computes the GRU's Softplus as log(1 + exp(x)): inf for pre-activations >= 89 "
                f"in float32 (softplus(100) gave {float(y.ravel()[0])})")

    def capabilities(self) -> Capabilities:
        caps = super().capabilities()
        why = "Softplus" in caps.activations and self._softplus_overflow
        if not why:
            return caps
        return replace(caps, activations=tuple(a for a in caps.activations if a != "Softplus"),
                       withdrawn_activations={**caps.withdrawn_activations, "Softplus": why})
