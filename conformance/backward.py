"""The backward check of one case: run the adapter's ``vjp`` defensively, compare with the reference.

A failing verdict says which gradient diverges (dx, dh0, dW_z, dbU_n, ...), where each first
diverges (layer, direction, time step in backward order, batch row, unit, column), by how much
(max abs error, and ULPs of the array's largest value), and the tolerance it was held to.

"Backward order" is the order a backward pass produces its results: the top layer first, and
within a direction its last processed step first. A dx element is placed at the earliest
backward step of any direction that writes it (forward: len_b - 1 - t, reverse: t); padding
positions come after every valid one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .case import GRUCase, GRUResult
from .contract import Capabilities
from .dtypes import EPS, MAX, accepted_result_dtypes
from .execute import DEFAULT_TIMEOUT, Fault, _private_copy, call_with_timeout
from .gradients import Gradients, array_of, compared_names, cotangents, expected_shapes, reference_vjp
from .tolerance import gradient_tolerance

GATES = "zrn"


@dataclass(frozen=True)
class GradientDivergence:
    gradient: str  # dx, dh0, dW_z, ...
    layer: Optional[int]
    direction: Optional[int]
    index: tuple  # dx: (t, row, column); dh0: (row, unit); weights: (unit, column) or (unit,)
    step: Optional[int]  # dx: the backward step (see the module docstring)
    expected: float
    actual: float

    def __str__(self):
        where = []
        if self.layer is not None:
            where.append(f"layer {self.layer}")
        if self.direction is not None:
            where.append(f"direction {self.direction}")
        if self.gradient == "dx":
            t, b, c = self.index
            where += [f"t={t} (backward step {self.step})", f"batch row {b}", f"column {c}"]
        elif self.gradient == "dh0":
            where += [f"batch row {self.index[0]}", f"unit {self.index[1]}"]
        else:
            where.append(f"unit {self.index[0]}" + (f", column {self.index[1]}" if len(self.index) > 1 else ""))
        return (f"{self.gradient} first diverges at {', '.join(where)}: "
                f"expected {self.expected:.9g}, got {self.actual:.9g}")


@dataclass(frozen=True)
class GradientArray:
    gradient: str
    layer: Optional[int]
    direction: Optional[int]
    max_abs: float
    max_ulp: float
    tol: float
    first: Optional[GradientDivergence]

    @property
    def passed(self) -> bool:
        return self.first is None

    @property
    def ratio(self) -> float:
        return self.max_abs / self.tol if self.tol > 0 else (0.0 if self.max_abs == 0 else float("inf"))

    def __str__(self):
        where = "" if self.layer is None else f" (layer {self.layer}, direction {self.direction})"
        s = (f"{self.gradient}{where}: max abs error {self.max_abs:.3g} ({self.max_ulp:.3g} ULP), "
             f"tolerance {self.tol:.3g}")
        return s + (f"\n  {self.first}" if self.first else "")


@dataclass(frozen=True)
class GradientComparison:
    arrays: tuple  # GradientArray, in backward order

    @property
    def passed(self) -> bool:
        return all(a.passed for a in self.arrays)

    @property
    def ratio(self) -> float:
        return max((a.ratio for a in self.arrays), default=0.0)

    @property
    def max_ulp(self) -> float:
        return max((a.max_ulp for a in self.arrays), default=0.0)

    @property
    def diverging(self) -> list:
        """The names of the diverging gradients, each once, in backward order."""
        return list(dict.fromkeys(a.gradient for a in self.arrays if not a.passed))

    def __str__(self):
        bad = [a for a in self.arrays if not a.passed]
        if not bad:
            return f"gradients agree: max error/tolerance {self.ratio:.3g}"
        lines = [f"diverging gradients (backward order): {', '.join(self.diverging)}"]
        return "\n".join(lines + [str(a) for a in bad])


def _ulp_of(a: np.ndarray, dtype: str) -> float:
    m = max(float(np.max(np.abs(a), initial=0.0)), 2.0**-4)
    return EPS[dtype] * 2.0 ** np.floor(np.log2(m))


def _dx_steps(case: GRUCase) -> np.ndarray:
    """(T, B): the backward step at which dx[t, b] is first written (see the module docstring)."""
    T, B = case.T, case.B
    lengths = case.lengths if case.lengths is not None else np.full(B, T)
    t = np.arange(T)[:, None]
    valid = t < lengths[None, :]
    s = case.spec
    orders = []
    if s.direction in ("forward", "bidirectional"):
        orders.append(lengths[None, :] - 1 - t)
    if s.direction in ("reverse", "bidirectional"):
        orders.append(np.broadcast_to(t, (T, B)))
    return np.where(valid, np.minimum.reduce(orders), T + t)


def _array(case, name, i, exp, act, tol) -> GradientArray:
    D = case.spec.num_directions
    with np.errstate(over="ignore", invalid="ignore"):
        err = np.abs(np.asarray(act, dtype=np.float64) - exp)
    err = np.where(np.isnan(err), np.inf, err)
    max_abs = float(err.max(initial=0.0))
    bad = err > tol
    layer, direction = (None, None) if i is None else (i // D, i % D)

    def result(gradient, first, max_abs=max_abs):
        return GradientArray(gradient, layer, direction, max_abs, max_abs / _ulp_of(exp, case.dtype), tol, first)

    if name == "dx":
        first = None
        if bad.any():
            steps = np.broadcast_to(_dx_steps(case)[:, :, None], exp.shape)
            order = np.where(bad, steps, np.iinfo(np.int64).max)
            idx = np.unravel_index(int(np.argmin(order)), exp.shape)
            first = GradientDivergence("dx", None, None, tuple(int(v) for v in idx), int(steps[idx]),
                                       float(exp[idx]), float(act[idx]))
        return [result("dx", first)]
    if name == "dh0":
        first = None
        if bad.any():
            k, b, unit = min((tuple(int(v) for v in w) for w in np.argwhere(bad)),
                             key=lambda w: (-(w[0] // D), w[0] % D, w[1], w[2]))  # the top layer first
            first = GradientDivergence("dh0", k // D, k % D, (b, unit), None, float(exp[k, b, unit]),
                                       float(act[k, b, unit]))
            return [GradientArray("dh0", k // D, k % D, max_abs, max_abs / _ulp_of(exp, case.dtype), tol, first)]
        return [result("dh0", None)]
    out = []
    for g in range(3):  # one entry per gate: dW_z, dW_r, dW_n
        gname = f"d{name}_{GATES[g]}"
        first = None
        if bad[g].any():
            idx = tuple(int(v) for v in np.argwhere(bad[g])[0])
            first = GradientDivergence(gname, layer, direction, idx, None, float(exp[g][idx]), float(act[g][idx]))
        out.append(result(gname, first, float(err[g].max(initial=0.0))))
    return out


def _backward_order(case, names) -> list:
    """Compared names in backward order: top layer first, each (layer, direction)'s U, W, biases, dh0; dx last."""
    D = case.spec.num_directions
    rank = {"U": 0, "W": 1, "bW": 2, "bU": 3}

    def key(n):
        name, i = n
        if name == "dx":
            return (1, 0, 0, 0)
        if name == "dh0":
            return (0, -case.spec.num_layers, 9, 0)
        return (0, -(i // D), i % D, rank[name])
    return sorted(names, key=key)


def compare_gradients(case: GRUCase, expected: Gradients, actual: Gradients, tols: dict, names) -> GradientComparison:
    arrays = []
    for name, i in _backward_order(case, names):
        arrays += _array(case, name, i, array_of(expected, name, i), array_of(actual, name, i), tols[(name, i)])
    return GradientComparison(tuple(arrays))


# -- running the adapter's vjp ------------------------------------------------------------------

def _check_gradients(case, private, y_bar, hn_bar, result, names) -> tuple:
    if not isinstance(result, Gradients):
        return None, Fault("bad-result", f"vjp() returned {type(result).__name__}, expected a Gradients")
    shapes = expected_shapes(case)
    inputs = [private.x, y_bar, hn_bar] + [a for w in private.weights for a in w]
    out = Gradients()
    for name, i in names:
        try:
            raw = array_of(result, name, i)
        except (IndexError, TypeError) as e:
            return None, Fault("bad-result", f"vjp(): no {name} gradient for (layer, direction) {i}: {e}")
        label = name if i is None else f"d{name}[{i}]"
        if raw is None:
            return None, Fault("bad-result", f"vjp(): {label} is None but the adapter declares it")
        if not isinstance(raw, np.ndarray):
            return None, Fault("bad-result", f"vjp(): {label} is a {type(raw).__name__}, expected a numpy array")
        if raw.shape != shapes[(name, i)]:
            return None, Fault("wrong-shape", f"vjp(): {label} has shape {raw.shape}, expected {shapes[(name, i)]}")
        if raw.dtype.name not in accepted_result_dtypes(case.dtype):
            return None, Fault("wrong-dtype", f"vjp(): {label} has dtype {raw.dtype.name}, expected {case.dtype}")
        if any(np.shares_memory(raw, a) for a in inputs):
            return None, Fault("aliases-input", f"vjp(): {label} shares memory with an input")
        values = raw.astype(np.float64)
        if not np.all(np.isfinite(values)):
            return None, Fault("non-finite", f"vjp(): {label} holds NaN or inf")
        if name in ("dx", "dh0"):
            setattr(out, name, values)
        else:
            if out.dweights is None:
                out.dweights = [[None] * 4 for _ in range(len(case.weights))]
            out.dweights[i][("W", "U", "bW", "bU").index(name)] = values
    return out, None


def run_vjp_safely(adapter, case: GRUCase, y_bar, hn_bar, names, timeout: float = DEFAULT_TIMEOUT):
    """(Gradients, None) or (None, Fault): the adapter's vjp on private copies, validated like run()."""
    private = _private_copy(case)
    yb, hb = np.array(y_bar), np.array(hn_bar)
    result, fault = call_with_timeout(lambda: adapter.vjp(private, yb, hb), timeout)
    if fault:
        return None, Fault(fault.kind, "vjp(): " + fault.detail)
    if not (np.array_equal(yb, y_bar) and np.array_equal(hb, hn_bar) and np.array_equal(private.x, case.x)
            and all(np.array_equal(a, b) for w, v in zip(private.weights, case.weights, strict=True)
                    for a, b in zip(w, v, strict=True))):
        return None, Fault("mutates-input", "vjp() changed its inputs")
    return _check_gradients(case, private, yb, hb, result, names)


@dataclass
class BackwardVerdict:
    """The outcome of one case's backward check: a fault, or a comparison with the reference VJP."""

    case: GRUCase
    y_bar: np.ndarray
    hn_bar: np.ndarray
    names: list
    fault: Optional[Fault] = None
    comparison: Optional[GradientComparison] = None
    expected: Optional[Gradients] = None
    actual: Optional[Gradients] = None
    tols: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.fault is None and self.comparison is not None and self.comparison.passed

    @property
    def ill_conditioned(self) -> bool:
        """Not compared: rounding in the dtype changes the forward trajectory (tolerance.ILL_CONDITIONED)."""
        return bool(self.tols) and all(np.isinf(t) for t in self.tols.values())

    @property
    def message(self) -> str:
        if self.ill_conditioned:
            return "not compared: ill-conditioned (rounding in the dtype changes the forward trajectory)"
        return f"adapter fault: {self.fault}" if self.fault else str(self.comparison)

    def diagnose(self, *more: "BackwardVerdict"):
        from .backward_variants import diagnose_backward  # the variants import this module

        if self.comparison is None or self.passed:
            return None
        return diagnose_backward([self, *(v for v in more if v.comparison is not None and not v.passed)])


def gradient_kinds(caps: Capabilities, case: GRUCase) -> tuple:
    """What the adapter declares for this case: its gradient kinds, or () outside its gradient dtypes."""
    return caps.gradients if case.dtype in caps.gradient_dtypes else ()


def verify_backward(adapter, case: GRUCase, *, capabilities: Capabilities | None = None,
                    timeout: float = DEFAULT_TIMEOUT) -> BackwardVerdict:
    """Run one case's VJP through ``adapter`` and compare with the reference's."""
    caps = capabilities or adapter.capabilities()
    y_bar, hn_bar = cotangents(case, caps.padding)
    names = compared_names(case, gradient_kinds(caps, case))
    actual, fault = run_vjp_safely(adapter, case, y_bar, hn_bar, names, timeout)
    v = BackwardVerdict(case, y_bar, hn_bar, names, fault=fault, actual=actual)
    if fault and fault.kind != "non-finite":
        return v
    v.expected = reference_vjp(case, y_bar, hn_bar)
    forward = GRUResult(*v.expected.forward)  # the reference VJP's own forward: oracle(case), not run twice
    v.tols = gradient_tolerance(case, v.expected, y_bar, hn_bar, names, forward)
    if fault:  # an inf or NaN is a fault, unless the dtype cannot hold the gradient or its trajectory
        if v.ill_conditioned or _overflows(case.dtype, v.expected, names):
            v.fault, v.tols = None, {k: np.inf for k in v.tols}  # not compared, as ill-conditioned
        else:
            v.tols = {}
        return v
    v.comparison = compare_gradients(case, v.expected, actual, v.tols, names)
    return v


def _overflows(dtype: str, expected: Gradients, names) -> bool:
    """Whether a reference gradient leaves the dtype's range (an implementation's inf is its rounding)."""
    return any(np.max(np.abs(array_of(expected, n, i)), initial=0.0) > MAX[dtype] for n, i in names)
