"""Compare an implementation's result with the oracle's: errors, ULPs, first divergence.

"First" means first in processing order: for a reverse direction that is the sequence's
last valid step. y belongs to the last layer; h_n localises the earliest diverging layer.
A tolerance is one number, or one per element (tolerance.Tolerance, or arrays that
broadcast against y and h_n); the ratio of a comparison is max(|error| / tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .case import GRUCase, GRUResult
from .dtypes import ulp


@dataclass(frozen=True)
class Divergence:
    array: str  # "y" or "h_n"
    layer: int
    direction: int
    t: Optional[int]  # None for h_n
    batch: int
    unit: int
    expected: float
    actual: float

    def __str__(self):
        where = f"layer {self.layer}, direction {self.direction}"
        if self.t is not None:
            where += f", t={self.t}"
        return (f"{self.array} first diverges at {where}, batch row {self.batch}, unit {self.unit}: "
                f"expected {self.expected:.9g}, got {self.actual:.9g}")


@dataclass(frozen=True)
class ArrayComparison:
    name: str
    max_abs: float
    max_ulp: float
    tol: float  # the tolerance at the element of the largest error / tolerance
    first: Optional[Divergence]
    compared: int  # how many values were compared
    ratio: float = 0.0  # max over elements of |error| / tolerance
    #: compared values whose state the tolerance model has lost (its tolerance is the bound): within it,
    #: they are left out of max_ulp, which would otherwise count the state's whole range in ULP
    lost: int = 0

    @property
    def passed(self) -> bool:
        return self.first is None

    def __str__(self):
        s = f"{self.name}: max abs error {self.max_abs:.3g} ({self.max_ulp:.3g} ULP), tolerance {self.tol:.3g}"
        if self.lost:
            s += f"; {self.lost} of {self.compared} values past the state bound (only the bound checked there)"
        return s + (f"\n  {self.first}" if self.first else "")


@dataclass(frozen=True)
class Comparison:
    y: ArrayComparison
    h_n: ArrayComparison

    @property
    def passed(self) -> bool:
        return self.y.passed and self.h_n.passed

    @property
    def ratio(self) -> float:
        return max(self.y.ratio, self.h_n.ratio)

    @property
    def max_ulp(self) -> float:
        return max(self.y.max_ulp, self.h_n.max_ulp)

    def __str__(self):
        return f"{self.y}\n{self.h_n}"


def valid_mask(case: GRUCase) -> np.ndarray:
    """(T, B, 1) True where t < length: the positions every implementation must agree on."""
    T = case.T
    lengths = case.lengths if case.lengths is not None else np.full(case.B, T)
    return (np.arange(T)[:, None] < lengths[None, :])[:, :, None]


def ratio_per_step(case: GRUCase, expected: GRUResult, actual: GRUResult, tol) -> np.ndarray:
    """max over batch and units of |y - expected| / tolerance at each t, over valid positions only;
    NaN at a step where no sequence is valid. What the report's plot draws for a case."""
    err = np.abs(np.asarray(actual.y, np.float64) - expected.y)
    tol_y = tol.y if hasattr(tol, "y") else tol
    with np.errstate(divide="ignore", invalid="ignore"):  # the tolerance is per element (0 past a length)
        ratio = np.where(err > 0, err / tol_y, 0.0)
    valid = np.broadcast_to(valid_mask(case), ratio.shape)
    top = np.where(valid, ratio, -np.inf).max(axis=(1, 2), initial=-np.inf)
    return np.where(np.isfinite(top), top, np.nan)


def _step_order(case: GRUCase) -> np.ndarray:
    """(T, B, D*H): the processing step at which each y value is produced."""
    T, B, H, D = case.T, case.B, case.spec.hidden_size, case.spec.num_directions
    lengths = case.lengths if case.lengths is not None else np.full(B, T)
    t = np.arange(T)[:, None]
    fwd = np.broadcast_to(t, (T, B))
    rev = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)
    halves = []
    for d in range(D):
        reverse = case.spec.direction == "reverse" or d == 1
        halves.append(np.repeat((rev if reverse else fwd)[:, :, None], H, axis=2))
    return np.concatenate(halves, axis=2)


def _forward_halves(case: GRUCase) -> np.ndarray:
    """(D*H,) True for the units of y written by a forward-running direction."""
    H, s = case.spec.hidden_size, case.spec
    return np.concatenate([np.full(H, not (s.direction == "reverse" or d == 1)) for d in range(s.num_directions)])


def carried(case: GRUCase, y: np.ndarray) -> np.ndarray:
    """y as a "carry" implementation writes it: past each length, a forward direction repeats its
    last valid output (Keras with a mask). A reverse direction has no such convention here."""
    if case.lengths is None:
        return y
    out = y.copy()
    fwd = _forward_halves(case)
    for b, n in enumerate(case.lengths):
        if 0 < n < case.T:
            out[n:, b, fwd] = y[n - 1, b, fwd]
    return out


def padding_mask(case: GRUCase, shape, padding: str) -> np.ndarray:
    """Where y is compared: everywhere for "zeros"; valid positions only for "undefined"; for
    "carry", valid positions plus the carried positions of the forward directions."""
    if padding == "zeros":
        return np.ones(shape, bool)
    valid = np.broadcast_to(valid_mask(case), shape)
    return valid | _forward_halves(case)[None, None, :] if padding == "carry" else valid


def _ratio(err, tol):
    """(max |error| / tolerance, the tolerance there); 0/0 counts as 0, e/0 as inf."""
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), err.shape)
    if err.size == 0:
        return 0.0, float(tol.max(initial=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(err > 0, err / tol, 0.0)
    k = np.unravel_index(int(np.argmax(r)), r.shape)
    return float(r[k]), float(tol[k])


def _ulps(err, exp, dtype, bad, lost):
    """Errors in ULP; 0 where the state is lost and the bound holds (ArrayComparison.lost)."""
    ulps = err / ulp(exp, dtype)
    return ulps if lost is None else np.where(lost & ~bad, 0.0, ulps)


def _compare_y(case, exp, act, tol, padding, lost=None) -> ArrayComparison:
    H, D = case.spec.hidden_size, case.spec.num_directions
    if padding == "carry":
        exp = carried(case, exp)
    mask = padding_mask(case, exp.shape, padding)
    err = np.where(mask, np.abs(act - exp), 0.0)
    err = np.where(np.isnan(err), np.inf, err)
    bad = err > tol
    lost = None if lost is None else lost & mask
    ulps = _ulps(err, exp, case.dtype, bad, lost)
    ratio, tol_at = _ratio(err, tol)
    first = None
    if bad.any():
        order = np.where(bad, _step_order(case), np.iinfo(np.int64).max)
        idx = np.unravel_index(np.lexsort((np.indices(exp.shape)[1].ravel(), order.ravel()))[0], exp.shape)
        t, b, k = (int(i) for i in idx)
        first = Divergence("y", case.spec.num_layers - 1, k // H if D == 2 else 0, t, b, k % H,
                           float(exp[idx]), float(act[idx]))
    return ArrayComparison("y", float(err.max(initial=0)), float(ulps.max(initial=0)), tol_at, first, int(mask.sum()),
                           ratio, 0 if lost is None else int(lost.sum()))


def _compare_h(case, exp, act, tol, lost=None) -> ArrayComparison:
    D = case.spec.num_directions
    err = np.abs(act - exp)
    err = np.where(np.isnan(err), np.inf, err)
    over = err > tol
    ulps = _ulps(err, exp, case.dtype, over, lost)
    bad = np.argwhere(over)  # row-major: layer, then direction, batch, unit
    ratio, tol_at = _ratio(err, tol)
    first = None
    if len(bad):
        i, b, u = (int(v) for v in bad[0])
        first = Divergence("h_n", i // D, i % D, None, b, u, float(exp[i, b, u]), float(act[i, b, u]))
    return ArrayComparison("h_n", float(err.max(initial=0)), float(ulps.max(initial=0)), tol_at, first, err.size,
                           ratio, 0 if lost is None else int(lost.sum()))


def compare(case: GRUCase, expected: GRUResult, actual: GRUResult, tol, padding: str = "zeros") -> Comparison:
    """Compare ``actual`` with ``expected``; shapes must already match.

    ``tol``: one number, or per element (an object with arrays ``y`` and ``h_n``).
    """
    tol_y, tol_h = (tol.y, tol.h_n) if hasattr(tol, "h_n") else (tol, tol)
    lost_y, lost_h = getattr(tol, "lost_y", None), getattr(tol, "lost_h_n", None)
    act_y = np.asarray(actual.y, dtype=np.float64)
    act_h = np.asarray(actual.h_n, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return Comparison(_compare_y(case, expected.y, act_y, tol_y, padding, lost_y),
                          _compare_h(case, expected.h_n, act_h, tol_h, lost_h))
