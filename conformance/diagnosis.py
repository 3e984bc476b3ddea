"""Name the bug: which known variant of the oracle reproduces a failing output.

A diagnosis weighs one or more observations of the same failure: the minimal case
Hypothesis shrank to, and a richer probe case of the same structure (a 1x1 case can be
explained by too many things). Three kinds of explanation, tried in order:
1. convention variants (variants.VARIANTS): every observation matches the variant within
   tolerance (observations where the variant cannot differ are not counted);
2. one wrong parameter: a single weight or bias, moved by the least-squares step along the
   oracle's own sensitivity to it, reproduces the richest observation within tolerance
   (e.g. a bias off by 0.1%);
3. precision: every observation is within the tolerance it would have in a lower-precision
   dtype (computing in float16, a low-accuracy tanh, ...).
The checks' tolerance is per element and follows the canonical computation; a variant
computes something else, with its rounding errors elsewhere (a shifted output carries the
error of another step, carried padding the error of the last valid one), so an explanation
is judged against the largest tolerance of the observation, one number per case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .bugclasses import BugClass
from .canonical import oracle
from .case import GRUCase, GRUResult
from .compare import compare, valid_mask
from .dtypes import EPS
from .tolerance import tolerance
from .variants import VARIANTS

MAX_PARAMETERS = 4000  # the single-parameter search runs the oracle once per parameter


@dataclass(frozen=True)
class Explanation:
    name: str
    bug_class: BugClass
    description: str

    def __str__(self):
        return f"[{self.bug_class}] matches the reference with {self.description}"


@dataclass
class Diagnosis:
    explanations: list = field(default_factory=list)

    @property
    def bug_classes(self) -> list:
        return sorted({e.bug_class for e in self.explanations})

    def __str__(self):
        if not self.explanations:
            return "No known bug class reproduces this output: it matches none of the convention variants, " \
                   "no lower precision, and no single wrong parameter."
        return "\n".join(f"- {e}" for e in self.explanations)


def _coarse(tol) -> float:
    """The largest tolerance of a case (a tolerance.Tolerance, or one number)."""
    return float(tol.max()) if hasattr(tol, "h_n") else float(tol)


def _matches(case, candidate: GRUResult, actual: GRUResult, tol, padding: str) -> bool:
    return compare(case, candidate, actual, _coarse(tol), padding).passed


def _precision(case, expected, actual, padding):
    # The tolerance the case would have if it were computed in the lower dtype.
    for dtype in ("float32", "float16", "bfloat16"):
        if EPS[dtype] > EPS[case.dtype] and _matches(case, expected, actual, tolerance(case, dtype=dtype), padding):
            return Explanation("precision-" + dtype, BugClass.PRECISION,
                               f"errors no larger than computing in {dtype} would give "
                               f"(reduced precision or an approximate activation)")
    return None


def _flat(case, r: GRUResult, padding: str):
    y = r.y if padding == "zeros" else r.y * valid_mask(case)
    return np.concatenate([y.ravel(), r.h_n.ravel()])


def _single_parameter(case, expected, actual, tol, padding):
    """Find one parameter whose change reproduces ``actual``.

    Rank every parameter by how much of the difference its linearised effect explains,
    then refine the best few by Gauss-Newton on the oracle itself (the effect of 0.1% on a
    bias is not linear to float64 precision) and accept one only if it matches within tol.
    """
    params = [tuple(np.array(a) for a in w) for w in case.weights]
    if sum(a.size for p in params for a in p) > MAX_PARAMETERS:
        return None
    base = _flat(case, expected, padding)
    target = _flat(case, actual, padding)
    diff = target - base
    ranked = []
    for i, p in enumerate(params):
        for k, name in enumerate(("W", "U", "bW", "bU")):
            if name in ("bW", "bU") and not case.spec.bias:
                continue
            for idx in np.ndindex(p[k].shape):
                step = 1e-7 * max(1.0, abs(p[k][idx]))
                p[k][idx] += step
                J = (_flat(case, oracle(case, params=params), padding) - base) / step
                p[k][idx] -= step
                jj = float(J @ J)
                if jj > 0:
                    delta = float(J @ diff) / jj
                    ranked.append((float(np.linalg.norm(diff - delta * J)), i, k, idx, J, delta))
    ranked.sort(key=lambda c: c[0])
    for _, i, k, idx, J, delta in ranked[:3]:
        original = params[i][k][idx]
        for _ in range(6):
            params[i][k][idx] = original + delta
            out = oracle(case, params=params)
            delta += float(J @ (target - _flat(case, out, padding))) / float(J @ J)
        params[i][k][idx] = original + delta
        out = oracle(case, params=params)
        params[i][k][idx] = original
        if _matches(case, out, actual, tol, padding):
            return _one_parameter_explanation(case, i, k, idx, delta, original)
    return None


def _one_parameter_explanation(case, i, k, idx, delta, value):
    D = case.spec.num_directions
    name = ("W", "U", "bW", "bU")[k]
    gate, unit = "zrn"[idx[0]], idx[1]
    col = f", column {idx[2]}" if len(idx) == 3 else ""
    rel = f" (relative {delta / value:+.2g})" if value else ""
    return Explanation("one-parameter", BugClass.WEIGHTS,
                       f"one parameter changed: {name}_{gate}[unit {unit}{col}] of layer {i // D}, direction {i % D} "
                       f"off by {delta:+.3g}{rel}")


@dataclass(frozen=True)
class Observation:
    """One failing output: the case, the oracle's result, the implementation's, the tolerance."""

    case: GRUCase
    expected: GRUResult
    actual: GRUResult
    tol: object  # tolerance.Tolerance, or one number


def _variant_matches(v, observations, padding) -> bool:
    applied = False
    for o in observations:
        candidate = v.run(o.case)
        if candidate is None:
            continue
        if not _matches(o.case, candidate, o.actual, o.tol, padding):
            return False
        applied = True
    return applied


def diagnose(observations, padding: str = "zeros") -> Diagnosis:
    """Every known explanation of a failure seen in ``observations`` (see the module docstring)."""
    observations = list(observations)
    found = [Explanation(v.name, v.bug_class, v.description)
             for v in VARIANTS if _variant_matches(v, observations, padding)]
    if found:
        return Diagnosis(found)
    richest = max(observations, key=lambda o: o.expected.y.size + o.expected.h_n.size)
    e = _single_parameter(richest.case, richest.expected, richest.actual, richest.tol, padding)
    if e is None:
        found_precision = [_precision(o.case, o.expected, o.actual, padding) for o in observations]
        e = found_precision[0] if all(found_precision) else None
    return Diagnosis([e] if e else [])
