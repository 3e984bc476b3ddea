"""The VJP against gradients differentiated by hand, one scalar at a time (I = H = B = 1).

``step_grads`` below is the chain rule worked out on paper for one GRU step and written with
math.exp and math.tanh on floats; it shares no code with the oracle. It is itself checked
against scalar central differences of ``step``, so that a slip in the hand derivation cannot
pass silently. With c = dL/dh' (the cotangent arriving at the new state):

    gz = c (h - n) z (1 - z)             dL/da_z
    gn = c (1 - z) (1 - n^2)             dL/da_n
    reset_after=True,  q = U_n h + bU_n:  gr = gn q r (1 - r),    dL/dq = gn r
    reset_after=False:                    gr = gn U_n h r (1 - r), dL/dU_n = gn r h
    dx = W_z gz + W_r gr + W_n gn,  dh = c z + U_z gz + U_r gr + (U_n gn r)
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import references

GATES = "zrn"
#: one scalar weight of each kind per gate
WEIGHTS = dict(Wz=0.5, Wr=-1.0, Wn=2.0, Uz=1.0, Ur=0.5, Un=-0.5, bWz=0.1, bWr=0.2, bWn=-0.3, bUz=0.25, bUr=-0.3,
               bUn=0.75)


def sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def step(x: float, h: float, w: dict, reset_after: bool) -> float:
    z = sig(w["Wz"] * x + w["bWz"] + w["Uz"] * h + w["bUz"])
    r = sig(w["Wr"] * x + w["bWr"] + w["Ur"] * h + w["bUr"])
    if reset_after:
        n = math.tanh(w["Wn"] * x + w["bWn"] + r * (w["Un"] * h + w["bUn"]))
    else:
        n = math.tanh(w["Wn"] * x + w["bWn"] + w["Un"] * (r * h) + w["bUn"])
    return z * h + (1 - z) * n


def step_grads(x: float, h: float, w: dict, c: float, reset_after: bool) -> tuple[dict, float, float]:
    """Gradients of c * h'(x, h, w): (per weight, d/dx, d/dh), by the hand derivation above."""
    z = sig(w["Wz"] * x + w["bWz"] + w["Uz"] * h + w["bUz"])
    r = sig(w["Wr"] * x + w["bWr"] + w["Ur"] * h + w["bUr"])
    q = w["Un"] * h + w["bUn"]
    n = math.tanh(w["Wn"] * x + w["bWn"] + (r * q if reset_after else w["Un"] * r * h + w["bUn"]))
    gz = c * (h - n) * z * (1 - z)
    gn = c * (1 - z) * (1 - n * n)
    gr = gn * (q if reset_after else w["Un"] * h) * r * (1 - r)
    g = dict(z=gz, r=gr, n=gn)
    d = {f"W{k}": g[k] * x for k in GATES} | {f"bW{k}": g[k] for k in GATES}
    d |= {"Uz": gz * h, "Ur": gr * h, "bUz": gz, "bUr": gr}
    d |= {"Un": gn * r * h, "bUn": gn * r} if reset_after else {"Un": gn * r * h, "bUn": gn}
    dx = sum(w[f"W{k}"] * g[k] for k in GATES)
    dh = c * z + w["Uz"] * gz + w["Ur"] * gr + w["Un"] * gn * r
    return d, dx, dh


def canonical(w: dict) -> tuple:
    """The scalar weights as canonical (W, U, bW, bU) arrays with I = H = 1."""
    return tuple(np.array([w[f"{kind}{k}"] for k in GATES]).reshape(shape)
                 for kind, shape in (("W", (3, 1, 1)), ("U", (3, 1, 1)), ("bW", (3, 1)), ("bU", (3, 1))))


def assert_grads(got, d: dict, dx, dh0):
    W, U, bW, bU = got.dparams[0]
    for kind, arr in (("W", W), ("U", U), ("bW", bW), ("bU", bU)):
        assert_allclose(arr.ravel(), [d[f"{kind}{k}"] for k in GATES], rtol=1e-13, atol=1e-15, err_msg=kind)
    assert_allclose(got.dx.ravel(), dx, rtol=1e-13, atol=1e-15)
    assert_allclose(got.dh0.ravel(), dh0, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("reset_after", [True, False])
def test_hand_derivation_matches_scalar_differences(reset_after):
    """The hand formulas themselves, against central differences of ``step`` (no oracle involved)."""
    x, h, c, e = 0.8, -0.4, 1.7, 1e-6
    d, dx, dh = step_grads(x, h, WEIGHTS, c, reset_after)
    for name in WEIGHTS:
        plus, minus = dict(WEIGHTS, **{name: WEIGHTS[name] + e}), dict(WEIGHTS, **{name: WEIGHTS[name] - e})
        fd = c * (step(x, h, plus, reset_after) - step(x, h, minus, reset_after)) / (2 * e)
        assert math.isclose(d[name], fd, rel_tol=1e-8, abs_tol=1e-10), name
    fd_x = c * (step(x + e, h, WEIGHTS, reset_after) - step(x - e, h, WEIGHTS, reset_after)) / (2 * e)
    fd_h = c * (step(x, h + e, WEIGHTS, reset_after) - step(x, h - e, WEIGHTS, reset_after)) / (2 * e)
    assert math.isclose(dx, fd_x, rel_tol=1e-8) and math.isclose(dh, fd_h, rel_tol=1e-8)


@pytest.mark.parametrize("reset_after", [True, False])
def test_one_step(reset_after):
    """T = 1: y[0] and h_n are the same state, so its cotangent is y_bar + hn_bar."""
    x, h0, y_bar, hn_bar = 1.0, 0.5, 0.7, -1.3
    got = references.gru_vjp(np.full((1, 1, 1), x), [canonical(WEIGHTS)], np.full((1, 1, 1), y_bar),
                             np.full((1, 1, 1), hn_bar), h0=np.full((1, 1, 1), h0), reset_after=reset_after)
    d, dx, dh0 = step_grads(x, h0, WEIGHTS, y_bar + hn_bar, reset_after)
    assert_grads(got, d, [dx], [dh0])
    if reset_after:  # one number pinned, so that the hand arithmetic cannot drift unnoticed:
        # a_z = 0.5 + 0.1 + 0.5 + 0.25 = 1.35, z ~ 0.7941; a_r = -0.85, r ~ 0.2994; q = 0.5;
        # n = tanh(1.7 + 0.5 r) ~ 0.9517; dW_z = c (h - n) z (1 - z) x with c = -0.6 ~ 0.04431
        assert math.isclose(d["Wz"], 0.04431034083568245, rel_tol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_two_steps(reset_after, direction):
    """T = 2: the state's cotangent is carried back through the first step taken.

    Forward reads t = 0 then 1; reverse reads t = 1 then 0, so y[1] is then its first state and
    y[0] its last (which is h_n).
    """
    xs, h0, y_bar, hn_bar = [1.0, -2.0], 0.5, [0.4, -0.9], 1.1
    order = [0, 1] if direction == "forward" else [1, 0]
    h1 = step(xs[order[0]], h0, WEIGHTS, reset_after)
    d2, dx2, dh1 = step_grads(xs[order[1]], h1, WEIGHTS, y_bar[order[1]] + hn_bar, reset_after)
    d1, dx1, dh0 = step_grads(xs[order[0]], h0, WEIGHTS, y_bar[order[0]] + dh1, reset_after)
    dx = [0.0, 0.0]
    dx[order[0]], dx[order[1]] = dx1, dx2
    got = references.gru_vjp(np.array(xs).reshape(2, 1, 1), [canonical(WEIGHTS)], np.array(y_bar).reshape(2, 1, 1),
                             np.full((1, 1, 1), hn_bar), h0=np.full((1, 1, 1), h0), reset_after=reset_after,
                             direction=direction)
    assert_grads(got, {k: d1[k] + d2[k] for k in d1}, dx, [dh0])


def boundary_case(activations, clip=None, W=(0.5, 0.0, 0.0)):
    """x = 1, h0 = 0, no bias: a_z = W_z and a_n = W_n exactly; y_bar = 1."""
    w = dict.fromkeys(WEIGHTS, 0.0) | {"Wz": W[0], "Wr": W[1], "Wn": W[2]}
    return references.gru_vjp(np.ones((1, 1, 1)), [canonical(w)], np.ones((1, 1, 1)), None,
                              activations=activations, clip=clip)


def test_clip_boundary_passes_the_gradient_and_beyond_it_nothing():
    """clip = 0.5 with a_z = W_z x = 0.5 puts a_z exactly on the boundary, where the gradient passes:
    dW_z = c (h - n) z (1 - z) x with c = x = 1, h = 0, n = tanh(0.25). With a_z = 0.75 the clip holds
    z constant, so dW_z = 0 exactly; with clip = 0.8 the same a_z is inside again."""
    z, n = sig(0.5), math.tanh(0.25)
    on = boundary_case(("Sigmoid", "Tanh"), clip=0.5, W=(0.5, 0.0, 0.25))
    assert math.isclose(on.dparams[0].W[0, 0, 0], -n * z * (1 - z), rel_tol=1e-14)
    beyond = boundary_case(("Sigmoid", "Tanh"), clip=0.5, W=(0.75, 0.0, 0.25))
    assert beyond.dparams[0].W[0, 0, 0] == 0.0
    inside = boundary_case(("Sigmoid", "Tanh"), clip=0.8, W=(0.75, 0.0, 0.25))
    z = sig(0.75)
    assert math.isclose(inside.dparams[0].W[0, 0, 0], -n * z * (1 - z), rel_tol=1e-14)


@pytest.mark.parametrize("g, a_n, slope", [
    ("Relu", 0.0, 0.0), (("LeakyRelu", 0.125, None), 0.0, 0.125), (("Elu", 0.5, None), 0.0, 0.5),
    (("ThresholdedRelu", 0.0, None), 0.0, 0.0), ("HardSigmoid", 2.5, 0.0), ("HardSigmoid", -2.5, 0.0),
    ("HardSigmoid", 2.0, 0.2), ("Relu", 0.5, 1.0),
])
def test_activation_kink_conventions(g, a_n, slope):
    """g'(a_n) at a kink, read off dW_n = c (1 - z) g'(a_n) x with c = x = 1 and z = sig(0) = 1/2."""
    got = boundary_case(("Sigmoid", g), W=(0.0, 0.0, a_n))
    assert got.dparams[0].W[2, 0, 0] == 0.5 * slope
