"""The backward tolerance: how close a gradient must be to the reference VJP's, per array.

The forward's tolerance (forward.py) covers what an implementation's outputs may err by; a
gradient also errs by its own backward rounding, and grows with T differently. The reasoning
is written out below.
"""

from __future__ import annotations

import numpy as np

from ..case import GRUCase, GRUResult
from ..dtypes import EPS

#
# Reasoning for the backward. An implementation's gradient errs for two reasons:
#
# 1. its forward errs: the states and gates its backward reads are off by the forward's own
#    rounding (points 1-3 above), and the gradient is a function of them;
# 2. its backward rounds: every step adds y_bar[t] to the carried state gradient dh and
#    multiplies dh through the gate derivatives and U^T (a dot product of length 3H), so each
#    step errs by about u * (GRADIENT_C_ACT + sqrt(3H) * Mb), Mb = sum|U column| * max|dh|; the weight
#    gradients then sum T*B rows, each rounded, which errs like sqrt(T*B) * u * |result|.
#
# Unlike the forward, the backward is not a convex mix: dh is multiplied at every step by
# z + (gate derivative terms) @ U, which may exceed 1, so error growth with T is the case's own
# (a long sequence with large U grows dh geometrically, a saturated one lets it vanish). So,
# as for the forward, the case's dynamics are measured: the forward's per-step error bound is
# injected into every pre-activation (through bW, as dynamic_error does) and the backward's
# per-step bound into the carried dh (through y_bar, which is added to dh at every step), and
# the reference VJP carries both to every gradient; the largest change per array is taken.
# A static term covers the summations the probe cannot perturb (the T*B rows of the weight
# gradients, the D*3H terms of dx):
#
#     static_A  = u * (GRADIENT_C_ACT + sqrt(n_A)) * sqrt(T) * L * max|A|
#                 n_A = T*B (weights), 3*D*H (dx), 3*H (dh0)
#     dynamic_A = max over GRADIENT_PROBES of max|vjp(injected) - vjp| on A
#     tol_A     = GRADIENT_SAFETY * max(static_A, dynamic_A)
#
# max|A| alone fails where a gradient is small because the gates saturate: f'(a) and g'(a) are
# computed from the rounded outputs (1 - n^2, s(1 - s)), which err by about u *absolutely*, not
# relative to the small derivative, and the probe cannot show it (a perturbed pre-activation
# moves a saturated output by almost nothing). So the scale of each array is at least what it
# would be with every derivative at 1: dh_max times the factor the array multiplies by (the
# input for dW, the state for dU, 1 for the biases, a column sum of |W| for dx, of |U| + 1 for dh0).
#
# One tolerance per array (dx, dh0, and W, U, bW, bU of each layer and direction): gradient
# magnitudes differ by orders between them, so one absolute tolerance for all would be loose
# for the small ones. GRADIENT_SAFETY is calibrated like SAFETY, by
# benchmarks/bench_gradient_calibration.py (>= 10,000 examples per built-in and dtype,
# max(error / tol) <= 0.5). At 2.5 (the forward's value) torch.nn.GRU reached 0.627 in float32
# and 0.511 in float64 over 10,000 dev-profile examples each (one unit, two or three
# bidirectional layers, saturating: marginally conditioned), while the medians were ~0.01;
# the tolerance is linear in GRADIENT_SAFETY, so 3.2 brings the worst to 0.49 and the medians
# to ~0.008-0.01. The README has the table.

#: the backward model keeps its own per-step constant (the forward's rounding count of its first
#: derivation), with which GRADIENT_SAFETY was calibrated
GRADIENT_C_ACT = 8.0
GRADIENT_SAFETY = 3.2
GRADIENT_PROBES = 2
#: Ill-conditioned cases. When the forward probe (the dtype's rounding, injected) moves the outputs by
#: more than this share of their scale, rounding alone changes the trajectory: the forward tolerance
#: then spans the whole output range, and the float64 gradient is not what any implementation in this
#: dtype can deliver (saturating bfloat16 cases with one unit and T ~ 10 reach gradient errors of 3x
#: their probe). Such a case is not compared: gradient_tolerance returns inf for every array and the
#: check counts it as ill-conditioned, never as a pass (tests/engine/test_backward.py).
ILL_CONDITIONED = 0.25


def gradient_tolerance(case: GRUCase, expected, y_bar, hn_bar, names, forward: GRUResult) -> dict:
    """Absolute tolerance per compared gradient array {(name, i): tol} (see the reasoning above).

    ``expected`` is the reference Gradients, ``names`` conformance.gradients.compared_names,
    ``forward`` the oracle's GRUResult of the case (for the forward's error bound).
    """
    from ..gradients import array_of, reference_vjp  # gradients imports nothing of this module

    s = case.spec
    u = EPS[case.dtype] / 2
    D, H, L, T, B = s.num_directions, s.hidden_size, s.num_layers, case.T, case.B
    accumulation = {"dx": 3 * D * H, "dh0": 3 * H, "W": T * B, "U": T * B, "bW": T * B, "bU": T * B}
    dh_max = max(float(np.max(np.abs(y_bar))), float(np.max(np.abs(hn_bar))), float(np.max(np.abs(expected.dh0))))
    floor = _saturation_floor(case, forward, dh_max)
    static = {}
    for name, i in names:
        a = array_of(expected, name, i)
        scale = max(float(np.max(np.abs(a))), floor[name] if i is None else floor[name][i])
        static[(name, i)] = u * (GRADIENT_C_ACT + np.sqrt(accumulation[name])) * np.sqrt(T) * L * scale
    dynamic = dict.fromkeys(static, 0.0)
    rng = np.random.default_rng(1)
    rows = row_magnitudes(case, forward)
    top = [w for i, w in enumerate(case.weights) if i // D == L - 1]
    mb = np.concatenate([(np.abs(w.U).sum(axis=(0, 1)) + 1.0) * dh_max for w in top])  # (D*H,)
    y_step = u * (GRADIENT_C_ACT + np.sqrt(3 * H) * mb)
    out_scale = max(1.0, float(np.max(np.abs(forward.y), initial=0)), float(np.max(np.abs(forward.h_n))))
    for _ in range(GRADIENT_PROBES):
        params = []
        for i, w in enumerate(case.weights):
            n = s.layer_input_size(i // D) + H
            step_error = u * (GRADIENT_C_ACT + np.sqrt(n) * rows[i])
            params.append((w.W, w.U, w.bW + step_error * rng.choice((-1.0, 1.0), w.bW.shape), w.bU))
        y_probe = y_bar + y_step * rng.choice((-1.0, 1.0), y_bar.shape)
        with np.errstate(all="ignore"):
            g = reference_vjp(case, y_probe, hn_bar, params=params)
        moved = max(float(np.max(np.abs(g.forward[0] - forward.y))), float(np.max(np.abs(g.forward[1] - forward.h_n))))
        if not moved <= ILL_CONDITIONED * out_scale:  # NaN included
            return dict.fromkeys(static, float("inf"))
        for key in dynamic:
            diff = np.abs(array_of(g, *key) - array_of(expected, *key))
            dynamic[key] = max(dynamic[key], float(np.max(diff, initial=0.0)))
    return {k: GRADIENT_SAFETY * max(static[k], dynamic[k]) for k in static}


def _saturation_floor(case: GRUCase, forward: GRUResult, dh_max: float) -> dict:
    """Per array, dh_max times what it multiplies the pre-activation gradients by (see above)."""
    s = case.spec
    D = s.num_directions
    h_max = max(1.0, float(np.max(np.abs(forward.y), initial=0)), float(np.max(np.abs(forward.h_n))))
    x_max = float(np.max(np.abs(case.x)))
    return {
        "dx": dh_max * sum(float(np.abs(w.W).sum(axis=(0, 1)).max()) for w in case.weights[:D]),
        "dh0": dh_max * max(float(np.abs(w.U).sum(axis=(0, 1)).max()) + 1.0 for w in case.weights),
        "W": [dh_max * (x_max if i < D else h_max) for i in range(len(case.weights))],
        "U": [dh_max * h_max] * len(case.weights),
        "bW": [dh_max] * len(case.weights),
        "bU": [dh_max] * len(case.weights),
    }


def row_magnitudes(case: GRUCase, expected: GRUResult) -> list:
    """Per (layer, direction): (3, H) sums of absolute pre-activation terms of each gate unit."""
    D = case.spec.num_directions
    h_max = max(1.0, float(np.max(np.abs(expected.y), initial=0)), float(np.max(np.abs(expected.h_n))))
    if case.h0 is not None:
        h_max = max(h_max, float(np.max(np.abs(case.h0))))
    x_max = float(np.max(np.abs(case.x)))
    return [np.abs(w.W).sum(axis=2) * (x_max if i < D else h_max) + np.abs(w.U).sum(axis=2) * h_max
            + np.abs(w.bW) + np.abs(w.bU) for i, w in enumerate(case.weights)]
