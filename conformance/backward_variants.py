"""Known backward bugs, each a variant of the reference VJP, and the diagnosis of a backward failure.

A variant computes the gradients a backward pass with exactly that bug returns for a case,
given the same cotangents. The ones that act inside the sweep (a gate's path blocked, BPTT
truncated) are the reference's own diagnostic parameters (``references.gru_vjp``'s
``blocked`` and ``bptt_steps``); the others are small wrappers here: a gradient zeroed,
rearranged or summed differently, or the cotangents fed to the reference differently, layer
by layer. None of them copies the VJP. A variant returns None where it cannot differ.

A diagnosis names every variant that reproduces all observed failures (the shrunk case and a
richer probe of the same structure) within the check's own tolerances; failing that, precision
(errors no larger than a lower dtype's tolerance would allow).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

import references

from .bugclasses import BugClass
from .diagnosis import Diagnosis, Explanation
from .dtypes import EPS
from .gradients import Gradients, array_of, reference_vjp
from .tolerance import GRADIENT_SAFETY

GATES = "zrn"


@dataclass(frozen=True)
class BackwardVariant:
    name: str
    bug_class: BugClass
    description: str  # completes "matches the reference with ..."
    #: (case, y_bar, hn_bar) -> Gradients or None
    run: Callable[..., Optional[Gradients]]


def _with_weights(g: Gradients, fn) -> Gradients:
    return Gradients(g.dx, g.dh0, [tuple(fn(k, a) for k, a in enumerate(p)) for p in g.dweights])


def _h0_blocked(case, y_bar, hn_bar):
    g = reference_vjp(case, y_bar, hn_bar)
    return Gradients(g.dx, np.zeros_like(g.dh0), g.dweights)


def _blocked(path):
    def run(case, y_bar, hn_bar):
        return reference_vjp(case, y_bar, hn_bar, blocked=(path,))
    return run


def _bUn_outside(case, y_bar, hn_bar):
    if not (case.spec.reset_after and case.spec.bias):
        return None
    out = reference_vjp(case, y_bar, hn_bar)
    for i, p in enumerate(out.dweights):
        dbU = p[3].copy()
        dbU[2] = p[2][2]  # dbU_n computed like dbW_n: sum of d a_n, without the reset r
        out.dweights[i] = (p[0], p[1], p[2], dbU)
    return out


def _dU_transposed(case, y_bar, hn_bar):
    g = reference_vjp(case, y_bar, hn_bar)
    return _with_weights(g, lambda k, a: a.transpose(0, 2, 1) if k == 1 else a)


def _gates_permuted(perm):
    def run(case, y_bar, hn_bar):
        g = reference_vjp(case, y_bar, hn_bar)
        return _with_weights(g, lambda k, a: a[list(perm)])
    return run


def _bptt(case, y_bar, hn_bar, k):
    if case.T <= k:
        return None
    return reference_vjp(case, y_bar, hn_bar, bptt_steps=k)


def _layerwise(case, y_bar, hn_bar, transform) -> Gradients:
    """The reference VJP layer by layer, each layer's incoming (y_bar, hn_bar) passed through
    ``transform(reverse, y_bar_half, hn_bar_row, lengths) -> (y_bar_half, hn_bar_row, dh0_extra)``
    per direction: how a backward that mishandles its incoming gradient behaves at every layer."""
    s = case.spec
    D, H, L = s.num_directions, s.hidden_size, s.num_layers
    acts = [(a.name, a.alpha, a.beta) for a in s.activations]
    h0 = case.h0_or_zeros()
    inputs, layer_in = [], case.x
    for layer in range(L):
        inputs.append(layer_in)
        layer_in, _ = references.gru(layer_in, [tuple(w) for w in case.weights[layer * D:(layer + 1) * D]],
                                     direction=s.direction, reset_after=s.reset_after, h0=h0[layer * D:(layer + 1) * D],
                                     lengths=case.lengths, activations=acts, clip=s.clip)
    dh0, dweights, grad = np.zeros_like(h0), [None] * (L * D), y_bar
    for layer in range(L - 1, -1, -1):
        dx = None
        for d in range(D):
            i = layer * D + d
            reverse = s.direction == "reverse" or d == 1
            yb, hb, extra = transform(reverse, grad[:, :, d * H:(d + 1) * H], hn_bar[i], case.lengths)
            g = references.gru_vjp(inputs[layer], [tuple(case.weights[i])], yb, hb[None],
                                   direction="reverse" if reverse else "forward", reset_after=s.reset_after,
                                   h0=h0[i][None], lengths=case.lengths, activations=acts, clip=s.clip)
            dh0[i], dweights[i] = g.dh0[0] + extra, tuple(g.dparams[0])
            dx = g.dx if dx is None else dx + g.dx
        grad = dx
    return Gradients(grad, dh0, dweights)


def _lengths(case):
    return case.lengths if case.lengths is not None else np.full(case.B, case.T)


def _padding_leaks(case, y_bar, hn_bar):
    """y_bar at padding not masked: it joins the carried dh at idle steps, which pass dh through,
    so it reaches the last valid step (forward) or h0 (reverse)."""
    if not case.ragged:
        return None

    def transform(reverse, yb, hb, lengths):
        pad = np.arange(case.T)[:, None] >= lengths[None, :]
        leak = (yb * pad[:, :, None]).sum(axis=0)
        return (yb, hb, leak) if reverse else (yb, hb + leak, 0.0)
    return _layerwise(case, y_bar, hn_bar, transform)


def _reverse_misaligned(case, y_bar, hn_bar):
    """The reverse direction reads its incoming gradient in processing order, not time order."""
    if case.spec.direction == "forward" or case.T == 1:
        return None
    lengths = _lengths(case)

    def transform(reverse, yb, hb, _):
        if not reverse:
            return yb, hb, 0.0
        out = yb.copy()
        for b, n in enumerate(lengths):
            out[:n, b] = yb[n - 1::-1, b]
        return out, hb, 0.0
    return _layerwise(case, y_bar, hn_bar, transform)


def _perm_name(perm):
    return "".join(GATES[i] for i in perm)


BACKWARD_VARIANTS: tuple = (
    BackwardVariant("h0-gradient-blocked", BugClass.INITIAL_STATE,
                    "no gradient flowing to h0 (dh0 = 0)", _h0_blocked),
    BackwardVariant("reset-gradient-blocked", BugClass.GRADIENT_FLOW,
                    "no gradient flowing through the reset gate r (r treated as a constant)", _blocked("reset")),
    BackwardVariant("zh-gradient-blocked", BugClass.GRADIENT_FLOW,
                    "no gradient flowing through the update's z*h term into the previous state",
                    _blocked("zh")),
    BackwardVariant("bUn-gradient-outside-reset", BugClass.BIAS_PLACEMENT,
                    "dbU_n computed as if b_Un sat outside the reset (dbU_n = dbW_n, the factor r missing)",
                    _bUn_outside),
    BackwardVariant("padding-cotangents-leak", BugClass.REVERSE_AND_PADDING,
                    "cotangents at padding positions (t >= length) leaking into the state gradient",
                    _padding_leaks),
    BackwardVariant("reverse-gradient-misaligned", BugClass.TIME_ALIGNMENT,
                    "the reverse direction's output gradient read in processing (reversed) time order",
                    _reverse_misaligned),
    BackwardVariant("dU-transposed", BugClass.WEIGHT_LAYOUT, "each recurrent weight gradient dU_k transposed",
                    _dU_transposed),
    *(BackwardVariant(f"gradient-gates-{_perm_name(p)}", BugClass.GATE_ORDER,
                      f"the weight gradients' gate blocks written in the order {','.join(_perm_name(p))}",
                      _gates_permuted(p))
      for p in itertools.permutations(range(3)) if p != (0, 1, 2)),
)
#: BPTT truncated to k steps, tried for k = 1 .. MAX_BPTT (the case's T bounds it further)
MAX_BPTT = 16


def _bptt_variant(k: int) -> BackwardVariant:
    return BackwardVariant(f"bptt-truncated-{k}", BugClass.STATE_CARRY,
                           f"BPTT truncated: the state gradient not carried across chunks of {k} steps",
                           lambda case, y_bar, hn_bar: _bptt(case, y_bar, hn_bar, k))


def _matches(v, candidate: Gradients, scale: float = 1.0) -> bool:
    for key in v.names:
        diff = np.abs(array_of(candidate, *key) - array_of(v.actual, *key))
        if not np.all(diff <= v.tols[key] * scale):
            return False
    return True


def _variant_matches(variant, verdicts) -> bool:
    applied = False
    for v in verdicts:
        candidate = variant.run(v.case, v.y_bar, v.hn_bar)
        if candidate is None:
            continue
        if not _matches(v, candidate):
            return False
        applied = True
    return applied


def _precision(verdicts):
    for dtype in ("float32", "float16", "bfloat16"):
        ok = all(EPS[dtype] > EPS[v.case.dtype] and _matches(v, v.expected,
                                                             EPS[dtype] / EPS[v.case.dtype] / GRADIENT_SAFETY)
                 for v in verdicts)
        if ok:
            return Explanation("gradient-precision-" + dtype, BugClass.PRECISION,
                               f"gradient errors no larger than computing the backward in {dtype} would give")
    return None


def diagnose_backward(verdicts) -> Diagnosis:
    """Every backward variant that reproduces all of ``verdicts`` (BackwardVerdicts that failed)."""
    verdicts = list(verdicts)
    found = [Explanation(v.name, v.bug_class, v.description)
             for v in BACKWARD_VARIANTS if _variant_matches(v, verdicts)]
    max_t = min(MAX_BPTT, max(v.case.T for v in verdicts) - 1)
    for k in range(1, max_t + 1):  # the smallest chunk that explains it
        variant = _bptt_variant(k)
        if _variant_matches(variant, verdicts):
            found.append(Explanation(variant.name, variant.bug_class, variant.description))
            break
    if not found:
        e = _precision(verdicts)
        found = [e] if e else []
    return Diagnosis(found)
