"""Gradients in canonical layout: the type an adapter's ``vjp`` returns, the cotangents, the reference.

The backward check asks an implementation for the vector-Jacobian product of its GRU: given
cotangents y_bar (T, B, D*H) and hn_bar (L*D, B, H), the gradients of
``sum(y_bar * y) + sum(hn_bar * h_n)`` with respect to x, h0 and every canonical weight
(DESIGN.md section 6). The reference is ``references.gru_vjp`` in float64 on the case's exact values.

Cotangents are drawn from the case's seed, so a saved case replays its backward check too. They
are rounded to the case dtype (the implementation sees the very numbers the oracle sees). Where
an implementation declares y zero past each length (padding "zeros"), the cotangents there are
*not* zero: y is constant there, so nothing may reach any gradient, and an implementation that
lets them leak in is caught. Where y past a length is the implementation's own ("carry",
"undefined"), the cotangents there are zero, since the gradient of its y would legitimately differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

import references

from .case import GRUCase
from .compare import valid_mask
from .dtypes import round_to

#: the gradients an adapter may declare (Capabilities.gradients)
KINDS = ("x", "h0", "weights")
#: the canonical weight arrays of one (layer, direction), in GateWeights order
WEIGHT_NAMES = ("W", "U", "bW", "bU")
#: added to the case seed for the cotangents, so they are independent of the case's values
COTANGENT_SEED = 0x5EED


@dataclass
class Gradients:
    """Gradients in canonical layout; a kind the adapter does not declare is None.

    dx (T, B, I); dh0 (L*D, B, H), the gradient at the case's h0 (at zeros when it has none);
    dweights: one (dW, dU, dbW, dbU) per (layer, direction), indexed l*D + d, gates z, r, n
    first, like GRUCase.weights. With bias=False the bias entries are not compared (the
    implementation has no biases), so they may be zeros.
    """

    dx: Optional[np.ndarray] = None
    dh0: Optional[np.ndarray] = None
    dweights: Optional[list] = None
    #: the reference only: the forward (y, h_n) these gradients belong to (not part of the contract)
    forward: Optional[tuple] = None


def cotangents(case: GRUCase, padding: str = "zeros") -> tuple:
    """(y_bar, hn_bar) of a case, float64 arrays holding values exact in its dtype (module docstring)."""
    s = case.spec
    D, H = s.num_directions, s.hidden_size
    rng = np.random.default_rng([COTANGENT_SEED, case.seed or 0, case.T, case.B, s.input_size, H])
    y_bar = round_to(rng.standard_normal((case.T, case.B, D * H)), case.dtype)
    hn_bar = round_to(rng.standard_normal((s.num_layers * D, case.B, H)), case.dtype)
    if padding != "zeros" and case.lengths is not None:
        y_bar = y_bar * valid_mask(case)
    return y_bar, hn_bar


def _acts(case: GRUCase):
    return [(a.name, a.alpha, a.beta) for a in case.spec.activations]


def reference_vjp(case: GRUCase, y_bar, hn_bar, *, params=None, **variant) -> Gradients:
    """``references.gru_vjp`` on the case; ``params`` replaces its weights, ``variant`` passes the
    reference's diagnostic parameters (blocked, bptt_steps) or replaces h0 / lengths."""
    s = case.spec
    weights = [tuple(w) for w in (case.weights if params is None else params)]
    kw = dict(num_layers=s.num_layers, direction=s.direction, reset_after=s.reset_after, h0=case.h0,
              lengths=case.lengths, activations=_acts(case), clip=s.clip)
    kw.update(variant)
    g = references.gru_vjp(case.x, weights, y_bar, hn_bar, **kw)
    return Gradients(dx=g.dx, dh0=g.dh0, dweights=[tuple(p) for p in g.dparams], forward=(g.y, g.h_n))


def compared_names(case: GRUCase, kinds) -> list:
    """The gradient arrays compared for a case: ("dx", None), ("dh0", None), ("W", i), ... ."""
    names = []
    if "x" in kinds:
        names.append(("dx", None))
    if "h0" in kinds:
        names.append(("dh0", None))
    if "weights" in kinds:
        wanted = WEIGHT_NAMES if case.spec.bias else WEIGHT_NAMES[:2]
        names += [(k, i) for i in range(case.spec.num_layers * case.spec.num_directions) for k in wanted]
    return names


def array_of(g: Gradients, name: str, i) -> Optional[np.ndarray]:
    """One compared array of ``g``: dx, dh0, or weight ``name`` of (layer, direction) ``i``."""
    if name == "dx":
        return g.dx
    if name == "dh0":
        return g.dh0
    return None if g.dweights is None else np.asarray(g.dweights[i][WEIGHT_NAMES.index(name)])


def expected_shapes(case: GRUCase) -> dict:
    s = case.spec
    D, H = s.num_directions, s.hidden_size
    shapes = {("dx", None): case.x.shape, ("dh0", None): (s.num_layers * D, case.B, H)}
    for i in range(s.num_layers * D):
        I_l = s.layer_input_size(i // D)
        shapes.update({("W", i): (3, H, I_l), ("U", i): (3, H, H), ("bW", i): (3, H), ("bU", i): (3, H)})
    return shapes
