"""The oracle behind the same contract as every other implementation."""

from __future__ import annotations

import references

from ..case import GRUCase, GRUResult
from ..contract import Capabilities
from ..gradients import Gradients, reference_vjp


def oracle(case: GRUCase, params=None) -> GRUResult:
    """The canonical result of a case, in float64; ``params`` replaces its weights (unvalidated)."""
    s = case.spec
    y, h_n = references.gru(
        case.x, [tuple(w) for w in (case.weights if params is None else params)], num_layers=s.num_layers,
        direction=s.direction, reset_after=s.reset_after, h0=case.h0, lengths=case.lengths,
        activations=[(a.name, a.alpha, a.beta) for a in s.activations], clip=s.clip,  # 2, or 4 per direction
    )
    return GRUResult(y=y, h_n=h_n)


class ReferenceAdapter:
    """references.gru: supports everything, in float64 (and any dtype's exact values)."""

    name = "reference"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            dtypes=("float64",), directions=("forward", "reverse", "bidirectional"), max_layers=8,
            reset_after=(True, False), bias=(True, False), initial_state=True, lengths=True, zero_lengths=True,
            activations=references.ACTIVATIONS, per_direction_activations=True, clip=True, padding="zeros",
            gradients=("x", "h0", "weights"),
        )

    def run(self, case: GRUCase) -> GRUResult:
        return oracle(case)

    def vjp(self, case: GRUCase, y_bar, hn_bar) -> Gradients:
        """references.gru_vjp: the backward rows of this built-in check the plumbing, not an implementation."""
        return reference_vjp(case, y_bar, hn_bar)
