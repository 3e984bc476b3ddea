"""The features a GRU can have, one column each of the conformance matrix.

A feature is a constraint on a case's structure. Its check draws cases that have the
feature (everything else drawn freely inside the capabilities). A feature the
capabilities exclude is reported "not supported", with the adapter's stated reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .contract import Capabilities
from .dtypes import DTYPES
from .sizes import SIZE_FLOOR


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    declared: Callable[[Capabilities], bool]  # what the capability fields admit
    #: keyword constraints passed to the case strategy
    constraints: dict
    #: "large" or "long" for the size checks (conformance.sizes): they draw Profile.size_examples cases
    size: str = ""

    def supported(self, caps: Capabilities) -> bool:
        """Admitted by the capability fields and not withdrawn by a stated reason.

        A reason in ``caps.unsupported`` wins: a runtime that refuses a whole configuration
        (ONNX Runtime's layout=1) states it once per feature, whatever the fields say.
        """
        return self.declared(caps) and self.name not in caps.unsupported


def _dtype(d: str) -> Feature:
    return Feature(d, f"runs in {d}", lambda c: d in c.dtypes, {"dtype": d})


FEATURES: tuple = (
    *(_dtype(d) for d in DTYPES),
    Feature("reset_after", "reset applied after the recurrent matmul (PyTorch, cuDNN, Keras default)",
            lambda c: True in c.reset_after, {"reset_after": True}),
    Feature("reset_before", "reset applied before the recurrent matmul (Cho et al., ONNX default)",
            lambda c: False in c.reset_after, {"reset_after": False}),
    Feature("no_bias", "bias=False", lambda c: False in c.bias, {"bias": False}),
    Feature("reverse", "reverse direction", lambda c: "reverse" in c.directions, {"direction": "reverse"}),
    Feature("bidirectional", "both directions, outputs concatenated [forward, reverse]",
            lambda c: "bidirectional" in c.directions, {"direction": "bidirectional"}),
    Feature("stacked", "two or more layers", lambda c: c.max_layers >= 2, {"min_layers": 2}),
    Feature("initial_state", "a given h0", lambda c: c.initial_state, {"h0": True}),
    Feature("lengths", "ragged per-sequence lengths", lambda c: c.lengths, {"lengths": True}),
    Feature("zero_length", "a batch with an empty sequence, lengths[b] = 0 (y zero, h_n = h0)",
            lambda c: c.lengths and c.zero_lengths, {"lengths": True, "zero_lengths": True}),
    Feature("activations", "ONNX activations other than (Sigmoid, Tanh)",
            lambda c: bool(c.activations), {"activations": True}),
    Feature("per_direction_activations", "bidirectional, a different (f, g) per direction (ONNX's 4 activations)",
            lambda c: c.per_direction_activations and "bidirectional" in c.directions,
            {"direction": "bidirectional", "activations": "per_direction"}),
    Feature("clip", "pre-activation clip", lambda c: c.clip, {"clip": True}),
    Feature("large", "input, hidden and batch sizes at tile boundaries (2^k-1, 2^k, 2^k+1) and real model sizes",
            lambda c: c.max_size is None or c.max_size >= SIZE_FLOOR, {"size": "large"}, size="large"),
    Feature("long", "long sequences (hundreds of steps), at chunk boundaries, ragged or not",
            lambda c: c.max_T is None or c.max_T >= SIZE_FLOOR, {"size": "long"}, size="long"),
)

BY_NAME = {f.name: f for f in FEATURES}


def feature(name: str) -> Feature:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"feature: expected one of {list(BY_NAME)}, got {name!r}") from None


def unsupported_reason(caps: Capabilities, f: Feature) -> str:
    """The adapter's own reason for lacking a feature, or a generic one."""
    if f.name in caps.unsupported:
        return caps.unsupported[f.name]
    declared = {"large": ("max_size", caps.max_size), "long": ("max_T", caps.max_T)}.get(f.size)
    if declared and declared[1] is not None:
        return f"the adapter declares {declared[0]}={declared[1]}, below {SIZE_FLOOR} (past a 16-wide tile)"
    return "not declared in the adapter's capabilities"


def size_limit(f: Feature, caps: Capabilities, profile) -> str:
    """What a size check draws less than the profile would, because the adapter declares a maximum ("" if nothing)."""
    limits = {"large": (("max_size", caps.max_size, profile.large_size), ("max_batch", caps.max_batch,
                                                                         profile.large_B)),
              "long": (("max_T", caps.max_T, profile.long_T),)}.get(f.size, ())
    capped = [f"{name}={v} (the profile goes to {cap})" for name, v, cap in limits if v is not None and v < cap]
    return ("drawn up to the adapter's declared " + ", ".join(capped)) if capped else ""
