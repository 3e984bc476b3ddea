"""The oracle behind the same contract as every other implementation (conformance.canonical.oracle
and references.gru_vjp), so that its plumbing is checked like any adapter's."""

from __future__ import annotations

import references

from ..canonical import oracle
from ..case import GRUCase, GRUResult
from ..contract import Capabilities
from ..gradients import Gradients, reference_vjp


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
