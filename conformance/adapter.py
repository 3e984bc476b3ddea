"""The adapter contract: what an implementation declares it supports, and how it is run.

Capabilities are data, so that case generation and the checks never special-case an
adapter: the strategies draw only inside them, and what lies outside is reported as
"not supported" with the reason given here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, runtime_checkable

from references import ACTIVATIONS, DIRECTIONS

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
    bias: tuple = (True,)
    initial_state: bool = True
    lengths: bool = False
    activations: tuple = ()  # ONNX names accepted for f and g beyond (Sigmoid, Tanh)
    clip: bool = False
    padding: str = "zeros"
    max_batch: int | None = None  # None: any batch size
    unsupported: Mapping[str, str] = field(default_factory=dict)  # feature -> reason

    def __post_init__(self):
        for name, allowed in (("dtypes", DTYPES), ("directions", tuple(DIRECTIONS)),
                              ("reset_after", (True, False)), ("bias", (True, False))):
            object.__setattr__(self, name, _subset(name, getattr(self, name), allowed))
        object.__setattr__(self, "activations",
                           _subset("activations", self.activations, ACTIVATIONS, nonempty=False))
        if isinstance(self.max_layers, bool) or not isinstance(self.max_layers, int) or self.max_layers < 1:
            raise ValueError(f"capabilities.max_layers: expected a positive integer, got {self.max_layers!r}")
        if self.max_batch is not None and (not isinstance(self.max_batch, int) or self.max_batch < 1):
            raise ValueError(f"capabilities.max_batch: expected None or a positive integer, got {self.max_batch!r}")
        if self.padding not in PADDING:
            raise ValueError(f"capabilities.padding: expected one of {list(PADDING)}, got {self.padding!r}")
        for name in ("initial_state", "lengths", "clip"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"capabilities.{name}: expected a bool, got {getattr(self, name)!r}")

    def admits(self, case: GRUCase) -> str | None:
        """None if the case lies inside these capabilities, else the reason it does not."""
        s = case.spec
        checks = [
            (case.dtype in self.dtypes, f"dtype {case.dtype}"),
            (s.direction in self.directions, f"direction {s.direction}"),
            (s.num_layers <= self.max_layers, f"{s.num_layers} layers"),
            (s.reset_after in self.reset_after, f"reset_after={s.reset_after}"),
            (s.bias in self.bias, f"bias={s.bias}"),
            (case.h0 is None or self.initial_state, "an initial state"),
            (case.lengths is None or self.lengths, "per-sequence lengths"),
            (s.default_activations or (bool(self.activations) and all(
                a.name in self.activations or a.name in ("Sigmoid", "Tanh") for a in s.activations)),
             "activations " + ",".join(map(str, s.activations))),
            (s.clip is None or self.clip, "clip"),
            (self.max_batch is None or case.B <= self.max_batch, f"batch {case.B}"),
        ]
        for ok, what in checks:
            if not ok:
                return f"{what} is not supported"
        return None


@runtime_checkable
class Adapter(Protocol):
    """Wraps one GRU implementation. ``run`` must not mutate the case's arrays."""

    name: str

    def capabilities(self) -> Capabilities: ...

    def run(self, case: GRUCase) -> GRUResult: ...
