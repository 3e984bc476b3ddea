"""The canonical types of the adapter contract: spec, weights, case and result.

Every constructor validates its input and raises ``ValueError`` naming the field with
the expected and the actual value, so that a malformed case never reaches an adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from references import ACTIVATIONS, DIRECTIONS

from .biases import BIAS_STRUCTURES, absent_nonzero, from_flag
from .dtypes import check_dtype, is_representable


def _fail(name: str, expected, actual):
    raise ValueError(f"{name}: expected {expected}, got {actual}")


def _positive_int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        _fail(name, "a positive integer", repr(v))
    return int(v)


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _array(name: str, a, shape: tuple) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "fiu":
        _fail(f"{name}.dtype", "a real number type", a.dtype)
    if a.shape != shape:
        _fail(f"{name}.shape", shape, a.shape)
    a = np.array(a, dtype=np.float64)  # an owned copy: cases are immutable
    if not np.all(np.isfinite(a)):
        _fail(name, "finite values", "NaN or inf")
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Activation:
    """One ONNX activation with its optional alpha and beta."""

    name: str
    alpha: Optional[float] = None
    beta: Optional[float] = None

    def __post_init__(self):
        if self.name not in ACTIVATIONS:
            _fail("activation", f"one of {list(ACTIVATIONS)}", repr(self.name))
        for k in ("alpha", "beta"):
            v = getattr(self, k)
            if v is None:
                continue
            if not (_is_real(v) and np.isfinite(v)):
                _fail(f"activation {self.name}.{k}", "None or a finite number", repr(v))
            object.__setattr__(self, k, float(v))

    def __str__(self):
        params = [f"{k}={v:g}" for k, v in (("alpha", self.alpha), ("beta", self.beta)) if v is not None]
        return self.name + (f"({', '.join(params)})" if params else "")


SIGMOID, TANH = Activation("Sigmoid"), Activation("Tanh")


@dataclass(frozen=True)
class GRUSpec:
    """The structure of a GRU: everything but the numbers."""

    input_size: int
    hidden_size: int
    num_layers: int = 1
    direction: str = "forward"
    reset_after: bool = True
    bias: bool = True
    #: (f, g) shared by every direction, or, bidirectional only, (f, g) forward then (f, g) reverse
    #: (ONNX lists 4 activations); four whose two pairs are equal are stored as the shared two
    activations: tuple = (SIGMOID, TANH)
    clip: Optional[float] = None
    #: which biases exist (conformance.biases): None means "full" if bias else "none"; a structure
    #: given decides ``bias`` (an explicit bias=False with a structure that has biases is an error)
    bias_structure: Optional[str] = None

    def __post_init__(self):
        _positive_int("input_size", self.input_size)
        _positive_int("hidden_size", self.hidden_size)
        _positive_int("num_layers", self.num_layers)
        if self.direction not in DIRECTIONS:
            _fail("direction", f"one of {list(DIRECTIONS)}", repr(self.direction))
        for name in ("reset_after", "bias"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                _fail(name, "a bool", repr(getattr(self, name)))
        bs = from_flag(self.bias) if self.bias_structure is None else self.bias_structure
        if bs not in BIAS_STRUCTURES:
            _fail("bias_structure", f"None or one of {list(BIAS_STRUCTURES)}", repr(bs))
        if not self.bias and bs != "none":
            _fail("bias_structure", "'none' when bias=False", repr(bs))
        object.__setattr__(self, "bias_structure", bs)
        object.__setattr__(self, "bias", bs != "none")
        if isinstance(self.activations, str):
            _fail("activations", "2 activations (f, g)", repr(self.activations))
        acts = tuple(a if isinstance(a, Activation) else Activation(*((a,) if isinstance(a, str) else a))
                     for a in self.activations)
        if len(acts) == 4 and acts[:2] == acts[2:]:
            acts = acts[:2]
        if len(acts) != 2 and not (len(acts) == 4 and self.direction == "bidirectional"):
            _fail("activations", "2 activations (f, g), or 4 (f, g per direction) when bidirectional",
                  f"{len(acts)} for direction {self.direction}")
        object.__setattr__(self, "activations", acts)
        c = self.clip
        if c is not None and not (_is_real(c) and np.isfinite(c) and c > 0):
            _fail("clip", "None or a positive finite number", repr(c))

    @property
    def num_directions(self) -> int:
        return DIRECTIONS[self.direction]

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.num_directions * self.hidden_size

    @property
    def default_activations(self) -> bool:
        return self.activations == (SIGMOID, TANH)

    @property
    def per_direction(self) -> bool:
        """Whether the two directions have different (f, g) pairs."""
        return len(self.activations) == 4

    def direction_activations(self, d: int) -> tuple:
        """The (f, g) of direction d (0 forward, 1 reverse of a bidirectional GRU)."""
        return self.activations[2 * d:2 * d + 2] if self.per_direction else self.activations

    def describe(self) -> str:
        parts = [f"I={self.input_size}", f"H={self.hidden_size}", f"L={self.num_layers}",
                 self.direction, f"reset_after={self.reset_after}",
                 f"bias={self.bias if self.bias_structure in ('full', 'none') else self.bias_structure}"]
        if self.per_direction:  # forward pair | reverse pair
            parts.append("activations=" + "|".join(",".join(map(str, self.direction_activations(d))) for d in (0, 1)))
        elif not self.default_activations:
            parts.append("activations=" + ",".join(map(str, self.activations)))
        if self.clip is not None:
            parts.append(f"clip={self.clip:g}")
        return " ".join(parts)


@dataclass(frozen=True)
class GateWeights:
    """Canonical weights of one (layer, direction), gate axis first in the order z, r, n."""

    W: np.ndarray  # (3, H, I_l)
    U: np.ndarray  # (3, H, H)
    bW: np.ndarray  # (3, H)
    bU: np.ndarray  # (3, H)

    def __iter__(self):
        return iter((self.W, self.U, self.bW, self.bU))

    def replace(self, **arrays) -> "GateWeights":
        return GateWeights(**{**dict(W=self.W, U=self.U, bW=self.bW, bU=self.bU), **arrays})


def weight_shapes(spec: GRUSpec, layer: int) -> tuple:
    """(name, shape) of the canonical arrays of one (layer, direction)."""
    H = spec.hidden_size
    return ("W", (3, H, spec.layer_input_size(layer))), ("U", (3, H, H)), ("bW", (3, H)), ("bU", (3, H))


def check_weights(spec: GRUSpec, weights) -> tuple:
    """Weights as GateWeights of float64 arrays, with their count and every shape checked."""
    D = spec.num_directions
    n = spec.num_layers * D
    weights = tuple(weights)
    if len(weights) != n:
        _fail("weights", f"{n} entries (num_layers * num_directions)", len(weights))
    out = []
    for i, w in enumerate(weights):
        if not isinstance(w, GateWeights):
            w = tuple(w)
            if len(w) != 4:
                _fail(f"weights[{i}]", "4 arrays (W, U, bW, bU)", len(w))
            w = GateWeights(*w)
        out.append(GateWeights(**{k: _array(f"weights[{i}].{k}", getattr(w, k), shape)
                                  for k, shape in weight_shapes(spec, i // D)}))
    return tuple(out)


def _check_weights(spec: GRUSpec, weights, dtype: str) -> tuple:
    weights = check_weights(spec, weights)
    for i, w in enumerate(weights):
        absent = absent_nonzero(spec.bias_structure, w.bW, w.bU)
        if absent and not spec.bias:
            _fail(f"weights[{i}].{absent[0][:2]}", "zeros when bias=False", "non-zero values")
        if absent:
            _fail(f"weights[{i}]", f"zeros for the biases bias_structure={spec.bias_structure!r} lacks",
                  f"non-zero {', '.join(absent)}")
        for k, a in zip(("W", "U", "bW", "bU"), w, strict=True):
            if not is_representable(a, dtype):
                _fail(f"weights[{i}].{k}", f"values exactly representable in {dtype}", "values that round")
    return weights


@dataclass(frozen=True, repr=False)
class GRUCase:
    """One conformance case: structure, canonical weights, inputs, and the dtype to run in.

    Arrays are float64 holding values exact in ``dtype``; x is time-major (T, B, I);
    h0 is (L*D, B, H) or None (zeros); lengths is (B,) in [0, T] or None (all T). A length of 0
    is canonical (y zero, h_n = h0, DESIGN.md section 5); only adapters that declare
    ``Capabilities.zero_lengths`` are given such cases.
    """

    spec: GRUSpec
    weights: tuple
    x: np.ndarray
    h0: Optional[np.ndarray] = None
    lengths: Optional[np.ndarray] = None
    dtype: str = "float64"
    seed: Optional[int] = field(default=None, compare=False)  # provenance, for replay

    def __post_init__(self):
        if not isinstance(self.spec, GRUSpec):
            _fail("spec", "a GRUSpec", type(self.spec).__name__)
        check_dtype(self.dtype)
        spec = self.spec
        x = np.asarray(self.x)
        if x.ndim != 3:
            _fail("x.shape", "(T, B, input_size)", x.shape)
        T, B, _ = x.shape
        if T < 1 or B < 1:
            _fail("x.shape", "T >= 1 and B >= 1", x.shape)
        x = _array("x", x, (T, B, spec.input_size))
        if not is_representable(x, self.dtype):
            _fail("x", f"values exactly representable in {self.dtype}", "values that round")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "weights", _check_weights(spec, self.weights, self.dtype))
        if self.h0 is not None:
            shape = (spec.num_layers * spec.num_directions, B, spec.hidden_size)
            h0 = _array("h0", self.h0, shape)
            if not is_representable(h0, self.dtype):
                _fail("h0", f"values exactly representable in {self.dtype}", "values that round")
            object.__setattr__(self, "h0", h0)
        if self.lengths is not None:
            lengths = np.asarray(self.lengths)
            if lengths.shape != (B,):
                _fail("lengths.shape", (B,), lengths.shape)
            if lengths.dtype.kind not in "iuf" or not np.all(np.isfinite(lengths) & (lengths == np.round(lengths))):
                _fail("lengths", "integers", lengths.tolist())
            lengths = lengths.astype(np.int64)
            if np.any(lengths < 0) or np.any(lengths > T):
                _fail("lengths", f"values in [0, {T}]", lengths.tolist())
            lengths.setflags(write=False)
            object.__setattr__(self, "lengths", lengths)

    @property
    def T(self) -> int:
        return self.x.shape[0]

    @property
    def B(self) -> int:
        return self.x.shape[1]

    @property
    def has_zero_length(self) -> bool:
        return self.lengths is not None and bool(np.any(self.lengths == 0))

    @property
    def ragged(self) -> bool:
        return self.lengths is not None and bool(np.any(self.lengths != self.T))

    def h0_or_zeros(self) -> np.ndarray:
        if self.h0 is not None:
            return self.h0
        s = self.spec
        return np.zeros((s.num_layers * s.num_directions, self.B, s.hidden_size))

    def __repr__(self) -> str:
        """The structure and the seed, not the arrays (a large case's arrays run to megabytes)."""
        return f"<GRUCase {self.describe()} seed={self.seed}>"

    def _repr_pretty_(self, p, cycle):  # Hypothesis's printer of a falsifying example
        p.text(repr(self))

    def describe(self) -> str:
        s = f"{self.spec.describe()} T={self.T} B={self.B} dtype={self.dtype}"
        if self.h0 is not None:
            s += " h0"
        if self.lengths is not None:
            s += f" lengths={self.lengths.tolist()}"
        return s


@dataclass
class GRUResult:
    """What an implementation returns: y (T, B, D*H) and h_n (L*D, B, H)."""

    y: np.ndarray
    h_n: np.ndarray
