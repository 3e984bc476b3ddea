"""Name the bug: which known variant of the oracle reproduces a failing output.

Three kinds of explanation, tried in order:
1. convention variants (variants.VARIANTS): the output matches a variant within tolerance;
2. precision: the output is within the tolerance the same case would have in a
   lower-precision dtype (computing in float16, a low-accuracy tanh, ...);
3. one wrong parameter: a single weight or bias, moved by the least-squares step along
   the oracle's own sensitivity to it, reproduces the output (e.g. a bias off by 0.1%).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .case import GRUCase, GRUResult
from .compare import compare, valid_mask
from .dtypes import EPS
from .variants import VARIANTS, oracle_with

MAX_PARAMETERS = 4000  # the single-parameter search runs the oracle once per parameter


@dataclass(frozen=True)
class Explanation:
    name: str
    bug_class: str
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


def _matches(case, candidate: GRUResult, actual: GRUResult, tol: float, padding: str) -> bool:
    return compare(case, candidate, actual, tol, padding).passed


def _precision(case, expected, actual, tol, padding):
    for dtype in ("float32", "float16", "bfloat16"):
        if EPS[dtype] > EPS[case.dtype] and _matches(case, expected, actual, tol * EPS[dtype] / EPS[case.dtype],
                                                     padding):
            return Explanation("precision-" + dtype, "precision",
                               f"errors no larger than computing in {dtype} would give "
                               f"(reduced precision or an approximate activation)")
    return None


def _flat(case, r: GRUResult, padding: str):
    y = r.y if padding == "zeros" else r.y * valid_mask(case)
    return np.concatenate([y.ravel(), r.h_n.ravel()])


def _single_parameter(case, expected, actual, tol, padding):
    params = [tuple(np.array(a) for a in w) for w in case.weights]
    if sum(a.size for p in params for a in p) > MAX_PARAMETERS:
        return None
    base = _flat(case, expected, padding)
    diff = _flat(case, actual, padding) - base
    best = None
    for i, p in enumerate(params):
        for k, name in enumerate(("W", "U", "bW", "bU")):
            if name in ("bW", "bU") and not case.spec.bias:
                continue
            for idx in np.ndindex(p[k].shape):
                step = 1e-6 * max(1.0, abs(p[k][idx]))
                p[k][idx] += step
                J = (_flat(case, oracle_with(case, params=params), padding) - base) / step
                p[k][idx] -= step
                jj = float(J @ J)
                if jj == 0:
                    continue
                delta = float(J @ diff) / jj
                resid = float(np.max(np.abs(diff - delta * J)))
                if best is None or resid < best[0]:
                    best = (resid, i, name, idx, delta, p[k][idx])
    if best is None or best[0] > tol:
        return None
    _, i, name, idx, delta, value = best
    D = case.spec.num_directions
    gate, unit = "zrn"[idx[0]], idx[1]
    col = f", column {idx[2]}" if len(idx) == 3 else ""
    rel = f" (relative {delta / value:+.2g})" if value else ""
    return Explanation("one-parameter", "weights",
                       f"one parameter changed: {name}_{gate}[unit {unit}{col}] of layer {i // D}, direction {i % D} "
                       f"off by {delta:+.3g}{rel}")


def diagnose(case: GRUCase, expected: GRUResult, actual: GRUResult, tol: float, padding: str = "zeros") -> Diagnosis:
    """Every known explanation of ``actual`` (a failing output of ``case``)."""
    found = []
    for v in VARIANTS:
        candidate = v.run(case)
        if candidate is not None and _matches(case, candidate, actual, tol, padding):
            found.append(Explanation(v.name, v.bug_class, v.description))
    if not found:
        for search in (_precision, _single_parameter):
            e = search(case, expected, actual, tol, padding)
            if e:
                found.append(e)
                break
    return Diagnosis(found)
