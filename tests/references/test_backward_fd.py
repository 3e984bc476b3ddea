"""The reference VJP against finite differences of the reference forward, on drawn cases.

For a drawn case (every feature: both reset positions, bias on and off, all directions, 1-3
layers, h0 or none, ragged lengths with 1 and T among them, every activation with its alpha and
beta, clip) and a random direction v in one input (x, h0, or one of W, U, bW, bU of one layer
and direction), and once in all of them together, <v, grad> from ``references.gru_vjp`` must
equal the derivative of F(p + s v) at s = 0, where F = sum(y_bar * y) + sum(hn_bar * h_n) is
computed by ``references.gru`` and differentiated numerically with the five-point stencil
(F(-2e) - 8 F(-e) + 8 F(e) - F(2e)) / 12e at e = 1e-4 and 2.5e-5, Richardson-extrapolated:
truncation O(e^6), rounding about 1e-11 of the magnitude of F's terms.

Kinks: a direction is used only if no pre-activation crosses a kink of its activation (or a
clip boundary) on the segment p +- 2e v, checked on every pre-activation the forward passes to
f and g (recorded through callables, with the clip applied in them). A drawn case where some
direction is unsafe is rejected.

Measured: worst error 2.5e-8 over the ci profile's examples (25 per test); the sweep of
benchmarks/bench_backward_fd.py (about 1,870 cases, 24,000 directional derivatives, 7% of the
drawn cases rejected for a kink) saw 4.2e-7 and 4.5e-7 in two runs, the worst ones inspected
being small derivatives where the stencil's rounding dominates. Asserted: 1e-6.
"""

from typing import NamedTuple

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import references
from references import default_alpha_beta
from references.activations import USES_ALPHA, USES_BETA

EPS = 1e-4
RTOL = 1e-6
FLOOR = 1e-5
#: alpha and beta ranges per activation, chosen so that states stay moderate over a few steps.
RANGES = {
    "HardSigmoid": ((0.1, 1.0), (0.2, 0.8)), "LeakyRelu": ((0.01, 0.5), None),
    "ThresholdedRelu": ((0.0, 1.0), None), "ScaledTanh": ((0.5, 2.0), (0.5, 2.0)),
    "Elu": ((0.5, 2.0), None), "Affine": ((0.25, 1.5), (-0.5, 0.5)),
}


@st.composite
def act_specs(draw):
    """(name, alpha, beta), each of alpha and beta drawn or left at its default (None)."""
    name = draw(st.sampled_from(references.ACTIVATIONS))
    alpha = beta = None
    if name in USES_ALPHA and draw(st.booleans()):
        alpha = draw(st.floats(*RANGES[name][0]))
    if name in USES_BETA and draw(st.booleans()):
        beta = draw(st.floats(*RANGES[name][1]))
    return name, alpha, beta


class Case(NamedTuple):
    x: np.ndarray
    params: list
    h0: np.ndarray | None
    kw: dict  # num_layers, direction, reset_after, lengths, activations, clip
    y_bar: np.ndarray
    hn_bar: np.ndarray

    def gru(self, **over):
        a = dict(x=self.x, params=self.params, h0=self.h0, **self.kw)
        a.update(over)
        return references.gru(a.pop("x"), a.pop("params"), **a)

    def vjp(self, y_bar=None, hn_bar=None, **over):
        a = dict(x=self.x, params=self.params, h0=self.h0, **self.kw)
        a.update(over)
        y_bar = self.y_bar if y_bar is None else y_bar
        hn_bar = self.hn_bar if hn_bar is None else hn_bar
        return references.gru_vjp(a.pop("x"), a.pop("params"), y_bar, hn_bar, **a)


@st.composite
def cases(draw, directions=("forward", "reverse", "bidirectional"), max_layers=3, ragged=None,
          custom=None, clip=None, h0=None):
    """A Case; ragged, custom (activations), clip and h0 are drawn unless forced True/False."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    T, B, n_in, H = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    L, direction = draw(st.integers(1, max_layers)), draw(st.sampled_from(directions))
    D = references.DIRECTIONS[direction]
    bias = draw(st.booleans())
    params = []
    for i in range(L * D):
        W, U = 0.6 * rng.standard_normal((3, H, n_in if i < D else D * H)), 0.6 * rng.standard_normal((3, H, H))
        bW, bU = (0.3 * rng.standard_normal((3, H)) for _ in "ab") if bias else (np.zeros((3, H)), np.zeros((3, H)))
        params.append((W, U, bW, bU))
    flag = lambda forced: draw(st.booleans()) if forced is None else forced  # noqa: E731
    lengths = None
    if flag(ragged):
        lengths = np.array(draw(st.lists(st.one_of(st.just(1), st.just(T), st.integers(1, T)), min_size=B, max_size=B)))
    acts = (draw(act_specs()), draw(act_specs())) if flag(custom) else ("Sigmoid", "Tanh")
    kw = dict(num_layers=L, direction=direction, reset_after=draw(st.booleans()), lengths=lengths,
              activations=acts, clip=draw(st.floats(0.3, 3.0)) if flag(clip) else None)
    case = Case(rng.standard_normal((T, B, n_in)), params, rng.standard_normal((L * D, B, H)) if flag(h0) else None,
                kw, rng.standard_normal((T, B, D * H)), rng.standard_normal((L * D, B, H)))
    # Unbounded gates (Affine, Relu, ... as f) make h' = z h quadratic in h, which can overflow
    # within a few steps; such cases test the arithmetic of huge numbers, not the VJP.
    with np.errstate(all="ignore"):
        assume(max(np.max(np.abs(a), initial=0.0) for a in case.gru()) < 1e3)
    return case


def kinks(spec, clip) -> list:
    """The pre-activation values where f(clip(a)) is not smooth."""
    name, alpha, beta = (spec, None, None) if isinstance(spec, str) else spec
    da, db = default_alpha_beta(name)
    a, b = da if alpha is None else alpha, db if beta is None else beta
    points = {"Relu": [0.0], "LeakyRelu": [0.0], "Elu": [0.0], "Softsign": [0.0], "ThresholdedRelu": [a],
              "HardSigmoid": [-b / a, (1.0 - b) / a] if name == "HardSigmoid" else []}.get(name, [])
    return points + ([-clip, clip] if clip is not None else [])


def pre_activations(case: Case, arrays) -> list:
    """Every array the forward passes to f and to g, in call order (f, g, f, g, ...)."""
    log = []
    c = case.kw["clip"]

    def recorder(spec):
        fn = references.activation(spec) if isinstance(spec, str) else references.activation(*spec)

        def call(a):
            log.append(np.array(a, copy=True))
            return fn(a if c is None else np.clip(a, -c, c))
        return call

    f, g = case.kw["activations"]
    case.gru(**unpack(arrays), activations=(recorder(f), recorder(g)), clip=None)
    return log


def pack(case: Case) -> list:
    """Every input the VJP differentiates, h0 as zeros when absent."""
    h0 = case.h0 if case.h0 is not None else np.zeros_like(case.hn_bar)
    return [case.x, h0] + [a for p in case.params for a in p]


def unpack(arrays) -> dict:
    return dict(x=arrays[0], h0=arrays[1], params=[tuple(arrays[i : i + 4]) for i in range(2, len(arrays), 4)])


def loss(case: Case, arrays) -> tuple[float, float]:
    """F, and the sum of its terms' magnitudes (the scale of F's rounding error)."""
    y, h_n = case.gru(**unpack(arrays))
    terms = (case.y_bar * y, case.hn_bar * h_n)
    return float(sum(np.sum(t) for t in terms)), float(sum(np.sum(np.abs(t)) for t in terms))


def derivative(case: Case, base, v) -> float:
    """d/ds F(p + s v) at 0: the five-point stencil at steps EPS and EPS/4, Richardson-extrapolated.

    The stencil's error is c e^4 + O(e^6), so (256 D(e/4) - D(e)) / 255 removes the e^4 term; that
    matters for steep cases (ScaledTanh with alpha = beta = 2 as f, say) where D(1e-4) alone is off
    by 1e-4. Differences are taken first, so that an exactly flat F gives exactly 0.
    """
    def stencil(e):
        F = {s: loss(case, [a + s * e * d for a, d in zip(base, v, strict=True)])[0] for s in (-2, -1, 1, 2)}
        return (8.0 * (F[1] - F[-1]) - (F[2] - F[-2])) / (12 * e)

    coarse, fine = stencil(EPS), stencil(EPS / 4)
    return fine + (fine - coarse) / 255.0


def crosses_a_kink(case: Case, base, a0, v, k_f, k_g) -> bool:
    """Whether some pre-activation is within twice its own excursion of a kink on p +- 2 EPS v."""
    for s in (-2 * EPS, 2 * EPS):
        moved = pre_activations(case, [a + s * d for a, d in zip(base, v, strict=True)])
        for k, (p0, p1) in enumerate(zip(a0, moved, strict=True)):
            if any(np.any(np.abs(p0 - kink) <= 2 * np.abs(p1 - p0) + 1e-12) for kink in (k_g if k % 2 else k_f)):
                return True
    return False


def directional_errors(case: Case, rng) -> list | None:
    """Errors of <v, grad> for v in each input alone, then in all at once; None if a kink is crossed.

    The error is |fd - an| / max(|fd|, |an|, FLOOR * (1 + sum of |terms of F|)): relative, except
    for directional derivatives so small that the stencil's own rounding (about 1e-12 of the terms'
    magnitude) would dominate; these are structural zeros such as dU at T = 1 with h0 = 0.
    """
    grads = case.vjp()
    flat_grads = [grads.dx, grads.dh0] + [a for p in grads.dparams for a in p]
    base = pack(case)
    k_f, k_g = (kinks(s, case.kw["clip"]) for s in case.kw["activations"])
    a0 = pre_activations(case, base)
    vs = [[rng.standard_normal(a.shape) if j == i else np.zeros(a.shape) for j, a in enumerate(base)]
          for i in range(len(base))]
    vs.append([rng.standard_normal(a.shape) for a in base])
    floor = FLOOR * (1.0 + loss(case, base)[1])
    errors = []
    for v in vs:
        if crosses_a_kink(case, base, a0, v, k_f, k_g):
            return None
        fd = derivative(case, base, v)
        an = sum(float(np.sum(d * g)) for d, g in zip(v, flat_grads, strict=True))
        errors.append(abs(fd - an) / max(abs(fd), abs(an), floor))
    return errors


@given(cases(), st.integers(0, 2**32 - 1))
def test_vjp_matches_finite_differences_in_every_input(case, seed):
    errors = directional_errors(case, np.random.default_rng(seed))
    assume(errors is not None)
    assert max(errors) < RTOL, (errors, case.kw)


@given(cases(custom=True, clip=True, ragged=True))
def test_vjp_matches_finite_differences_with_activations_clip_and_lengths(case):
    """The same with every optional feature on at once, where their interactions live."""
    errors = directional_errors(case, np.random.default_rng(0))
    assume(errors is not None)
    assert max(errors) < RTOL, (errors, case.kw)


@given(cases())
def test_vjp_forward_result_is_the_oracles(case):
    """The VJP's own forward (its tape) gives exactly references.gru's y and h_n."""
    grads = case.vjp()
    y, h_n = case.gru()
    assert np.array_equal(grads.y, y) and np.array_equal(grads.h_n, h_n)


@given(act_specs(), st.lists(st.floats(-4.0, 4.0), min_size=1, max_size=20))
def test_activation_derivative_matches_finite_differences(spec, xs):
    name, alpha, beta = spec
    f, df = references.activation(name, alpha, beta), references.activation_derivative(name, alpha, beta)
    xs = np.array([v for v in xs if all(abs(v - k) > 1e-3 for k in kinks(spec, None))])
    fd = (f(xs - 2 * EPS) - 8 * f(xs - EPS) + 8 * f(xs + EPS) - f(xs + 2 * EPS)) / (12 * EPS)
    np.testing.assert_allclose(df(xs, f(xs)), fd, rtol=1e-8, atol=1e-9)
