"""The adapter contract: what an implementation declares it supports, and how it is run.

Everything an adapter may have is declared here: the three required members (``name``,
``capabilities()``, ``run(case)``), the optional ones with their defaults
(OPTIONAL_MEMBERS, read through ``expected_failed_checks()`` and ``graph_summary()``), and
what the loader writes on the object (LOADER_MEMBERS).

Capabilities are data, so that case generation and the checks never special-case an
adapter: the strategies draw only inside them, and what lies outside is reported as
"not supported" with the reason given here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, runtime_checkable

from references import ACTIVATIONS, DIRECTIONS

from .biases import BIAS_STRUCTURES, from_flag
from .case import GRUCase, GRUResult
from .dtypes import DTYPES

#: what y holds at t >= length: the canonical zeros, the last valid output carried
#: forward (Keras with a mask), or anything (only valid positions are compared).
PADDING = ("zeros", "carry", "undefined")


def _subset(name, values, allowed, nonempty=True):
    values = tuple(values)
    bad = [v for v in values if v not in allowed]
    if bad or (nonempty and not values):
        raise ValueError(f"capabilities.{name}: expected a non-empty subset of {list(allowed)}, got {list(values)}")
    return values


@dataclass(frozen=True)
class Capabilities:
    """What an implementation supports. Everything outside it is reported unsupported."""

    dtypes: tuple = ("float64",)
    directions: tuple = ("forward",)
    max_layers: int = 1
    reset_after: tuple = (True,)
    #: bias flags, (True,) by default; with bias_structures given, derived from them (True: some bias)
    bias: tuple | None = None
    #: which biases exist (conformance.biases: "full", "input+candidate", "input", "none"); default
    #: from ``bias``: True is "full", False "none". The strategies draw zeros for the absent ones.
    bias_structures: tuple = ()
    initial_state: bool = True
    lengths: bool = False
    #: accepts lengths[b] = 0 (y zero for that row, h_n = h0): the ONNX spec leaves it undefined
    #: (onnx #1674), TensorFlow's cuDNN path raises (tensorflow #43103); never drawn unless declared
    zero_lengths: bool = False
    activations: tuple = ()  # ONNX names accepted for f and g beyond (Sigmoid, Tanh)
    #: a bidirectional GRU may have a different (f, g) per direction (ONNX's 4 activations)
    per_direction_activations: bool = False
    clip: bool = False
    padding: str = "zeros"
    max_batch: int | None = None  # None: any batch size
    #: the largest input_size and hidden_size it runs, and the longest sequence (None: no limit). The
    #: size checks draw up to the profile's cap or this, whichever is smaller, and the report says so.
    max_size: int | None = None
    max_T: int | None = None
    #: how the adapter embeds a case in larger sizes, if it does ("" = run at the case's own sizes);
    #: then a kernel's handling of the small sizes themselves is not what gets tested, and the report says so
    size_padding: str = ""
    unsupported: Mapping[str, str] = field(default_factory=dict)  # feature name -> reason it is withdrawn
    #: activations the runtime accepts but that are left out of ``activations``, with the reason
    withdrawn_activations: Mapping[str, str] = field(default_factory=dict)
    #: the backward (conformance.gradients): which gradients ``vjp`` computes, among KINDS
    #: ("x", "h0", "weights"); () means the adapter has no backward (the default)
    gradients: tuple = ()
    #: the dtypes ``vjp`` supports; () means all of ``dtypes`` (those outside ``dtypes`` are dropped)
    gradient_dtypes: tuple = ()
    #: why there is no backward (or why it is limited), shown in the backward rows of the report
    gradients_reason: str = ""

    def __post_init__(self):
        self._bias_fields()
        for name, allowed in (("dtypes", DTYPES), ("directions", tuple(DIRECTIONS)),
                              ("reset_after", (True, False)), ("bias", (True, False))):
            object.__setattr__(self, name, _subset(name, getattr(self, name), allowed))
        object.__setattr__(self, "activations",
                           _subset("activations", self.activations, ACTIVATIONS, nonempty=False))
        if isinstance(self.max_layers, bool) or not isinstance(self.max_layers, int) or self.max_layers < 1:
            raise ValueError(f"capabilities.max_layers: expected a positive integer, got {self.max_layers!r}")
        for name in ("max_batch", "max_size", "max_T"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"capabilities.{name}: expected None or a positive integer, got {v!r}")
        if not isinstance(self.size_padding, str):
            raise ValueError(f"capabilities.size_padding: expected a string, got {self.size_padding!r}")
        if self.padding not in PADDING:
            raise ValueError(f"capabilities.padding: expected one of {list(PADDING)}, got {self.padding!r}")
        from .features import BY_NAME  # features are defined on Capabilities

        for name, known in (("unsupported", BY_NAME), ("withdrawn_activations", ACTIVATIONS)):
            bad = [k for k in getattr(self, name) if k not in known]
            if bad:
                raise ValueError(f"capabilities.{name}: expected keys among {list(known)}, got {bad}")
            if not all(isinstance(v, str) and v.strip() for v in getattr(self, name).values()):
                raise ValueError(f"capabilities.{name}: every reason must be a non-empty string")
        from .gradients import KINDS

        object.__setattr__(self, "gradients", _subset("gradients", self.gradients, KINDS, nonempty=False))
        gd = _subset("gradient_dtypes", self.gradient_dtypes, DTYPES, nonempty=False)
        # only dtypes it runs (so that dataclasses.replace(caps, dtypes=...) narrows both)
        gd = tuple(d for d in (gd or self.dtypes) if d in self.dtypes)
        object.__setattr__(self, "gradient_dtypes", gd if self.gradients else ())
        if not isinstance(self.gradients_reason, str):
            raise ValueError(f"capabilities.gradients_reason: expected a string, got {self.gradients_reason!r}")
        for name in ("initial_state", "lengths", "zero_lengths", "per_direction_activations", "clip"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"capabilities.{name}: expected a bool, got {getattr(self, name)!r}")

    def _bias_fields(self):
        """bias and bias_structures, each from the other where one is not given; both given must agree."""
        structures = _subset("bias_structures", self.bias_structures, BIAS_STRUCTURES, nonempty=False)
        if self.bias is not None:
            flags = _subset("bias", self.bias, (True, False))
            implied = tuple(dict.fromkeys(from_flag(b) for b in flags))
            if structures and {s != "none" for s in structures} != set(flags):
                raise ValueError(f"capabilities.bias: {list(flags)} contradicts bias_structures {list(structures)}")
            structures = structures or implied
        structures = structures or ("full",)
        object.__setattr__(self, "bias_structures", structures)
        object.__setattr__(self, "bias", tuple(dict.fromkeys(s != "none" for s in structures)))

    def admits(self, case: GRUCase) -> str | None:
        """None if the case lies inside these capabilities, else the reason it does not."""
        s = case.spec
        checks = [
            (case.dtype in self.dtypes, f"dtype {case.dtype}"),
            (s.direction in self.directions, f"direction {s.direction}"),
            (s.num_layers <= self.max_layers, f"{s.num_layers} layers"),
            (s.reset_after in self.reset_after, f"reset_after={s.reset_after}"),
            (s.bias_structure in self.bias_structures,
             f"bias={s.bias}" if s.bias_structure in ("full", "none") else f"bias structure {s.bias_structure}"),
            (case.h0 is None or self.initial_state, "an initial state"),
            (case.lengths is None or self.lengths, "per-sequence lengths"),
            (not case.has_zero_length or self.zero_lengths, "a zero-length sequence"),
            (s.default_activations or (bool(self.activations) and all(
                a.name in self.activations or a.name in ("Sigmoid", "Tanh") for a in s.activations)),
             "activations " + ",".join(map(str, s.activations))),
            (not s.per_direction or self.per_direction_activations, "activations per direction"),
            (s.clip is None or self.clip, "clip"),
            (self.max_batch is None or case.B <= self.max_batch, f"batch {case.B}"),
            (self.max_size is None or max(s.input_size, s.hidden_size) <= self.max_size,
             f"input_size {s.input_size}, hidden_size {s.hidden_size}"),
            (self.max_T is None or case.T <= self.max_T, f"a sequence of {case.T} steps"),
        ]
        for ok, what in checks:
            if not ok:
                return f"{what} is not supported"
        return None


class NotInThisProcess(RuntimeError):
    """Raised by an adapter's constructor when this process is set up for something else (another
    Keras backend): the adapter is unavailable here, not broken."""


@runtime_checkable
class Adapter(Protocol):
    """Wraps one GRU implementation. ``run`` must not mutate the case's arrays.

    ``name`` is the name shown in every report; a built-in's is also its command-line name.
    The optional members are listed in OPTIONAL_MEMBERS.
    """

    name: str

    def capabilities(self) -> Capabilities: ...

    def run(self, case: GRUCase) -> GRUResult: ...


#: members an adapter may have, and what their absence means.
OPTIONAL_MEMBERS = {
    "expected_failed_checks": "{feature: reason}, an attribute or a method: checks declared to fail (strict xfails, "
                              "as scikit-learn's expected_failed_checks); default {}",
    "graph_summary": "a method returning text on the graph the adapter built (exporters show their ops); "
                     "default: none",
    "vjp": "vjp(case, y_bar, hn_bar) -> conformance.gradients.Gradients: the gradients of sum(y_bar * y) + "
           "sum(hn_bar * h_n) in canonical layout, for the kinds declared in Capabilities.gradients; "
           "default: none (no backward check)",
}
#: members the loader writes on an adapter it loads (when the object allows it).
LOADER_MEMBERS = {
    "ref": "how the adapter was named when loaded: a built-in name or MODULE:ATTR, used in replay commands",
}


def expected_failed_checks(adapter) -> dict:
    """The adapter's declared expected failures as given (unvalidated; see conformance.expected)."""
    declared = getattr(adapter, "expected_failed_checks", None) or {}
    return dict(declared() if callable(declared) else declared)


def graph_summary(adapter) -> str | None:
    """The text of ``adapter.graph_summary()``, or None when the adapter has none."""
    fn = getattr(adapter, "graph_summary", None)
    if not callable(fn):
        return None
    try:
        text = fn()
    except Exception as e:  # noqa: BLE001 - a broken summary is reported, not raised
        return f"graph_summary() raised {type(e).__name__}: {e}"
    return text if isinstance(text, str) else f"graph_summary() returned a {type(text).__name__}, not text"


def adapter_ref(adapter) -> str:
    """How to name an adapter on the command line: the name it was loaded by, or MODULE:ATTR."""
    ref = getattr(adapter, "ref", None)
    return ref or f"{type(adapter).__module__}:{type(adapter).__qualname__}"
