"""The one place where "close enough" is decided: a tolerance per output element.

The model of a correct implementation. Each step is computed in at least the case dtype
(every operation's result rounded to it, or computed wider and rounded once); the stored
state and every output are rounded to the dtype; dot products may be accumulated in a
wider type (float32 for float16 and bfloat16, the dtype itself for float32 and float64).
Whatever that model allows passes; what it does not (accumulating long dot products in
bfloat16, a different gate function, a scaled output) is what the tolerance must catch.

Notation. u = eps/2 is the unit roundoff of the dtype, u_a = min(u, 2^-24) that of the
accumulation. Every number in a case is exact in its dtype, so an error is the
implementation's own arithmetic. All quantities below are those the oracle computes at
the drawn point (references.gru_direction gives the states; the gates are recomputed from
them), per (layer, direction, t, batch row, unit). "e(v)" is the error scale of a
computed value v: a bound of the typical rounding error, not a worst case; sums of
independent roundings combine in quadrature, paths that carry the same error add up.

1. Pre-activations. Gate k of unit j sums the terms t_i = W_ji x_i (n = I terms) and
   U_ji h_i (n = H) with its biases: a = Wx + bW + Uh + bU. A recursive sum of n terms
   with rounding errors of random sign errs by about u_a * sqrt(n) * ||t||_2 (the partial
   sums grow like a random walk); each matrix product is rounded to the dtype when stored,
   and the parts are joined by additions in some order, each of which errs by up to
   u * P, P = |Wx| + |bW| + |Uh| + |bU| (a partial sum is never larger than P):
       local(a) = u_a (sqrt(I) ||W_j o x|| + sqrt(H) ||U_j o h||) + u (|Wx| + |Uh|) + SUM_ROUNDINGS u P
   reset_after=True: the candidate's parts are Wx, bW and r * q, q = Uh + bU, with the
   roundings of q and of the product; reset_after=False: the products r_i h_i are rounded,
   and their errors are carried by U_n like the state's own.
2. Carried errors. The state h and the layer input x (layer l > 0 reads layer l-1's y)
   arrive with errors e(h), e(x). Through a matrix, errors of different units are
   independent: carried(a_j) = sqrt(sum_i W_ji^2 e(x_i)^2) + sqrt(sum_i U_ji^2 e(h_i)^2).
   For n, r multiplies p_h_n (reset_after) or h (reset_before), and r's own error is
   multiplied by p_h_n (or h_i, through U_n).
3. Activations. z = f(a_z), r = f(a_r), n = g(a_n), clip included. An error in a moves
   f(a) by at most the secant slope s(a) = max|f(a +- e(a)) - f(a)| / e(a), which is the
   derivative where f is smooth and stays right at kinks, jumps and clip edges. Evaluating
   f (exp, add, divide for a sigmoid) errs by C_ACT units in the last place of its result or of ACT_FLOOR, whichever is
   larger (fast sigmoid and tanh kernels, MLAS's and Eigen's among them, are accurate in
   absolute terms near 0, not relatively): e(z) = s(a_z) e(a_z) + C_ACT u max(|z|, ACT_FLOOR).
4. The update h' = z h + (1 - z) n, or n + z (h - n): its own roundings are
       local(h') = u (|z| (|h| + |h - n|) + 2 |1 - z| |n| + 2 |h'|)
   (the products, 1 - z, the sum, and the stored state). The old state's error and the
   gates' carried errors enter through the Jacobian of the step at the drawn point:
       carried(h') = |z| e(h) + |h - n| e_c(z) + |1 - z| e_c(n)
   where e_c is the part of a gate's error carried from e(h) and e(x) (added linearly:
   these paths carry the same error, so they may add up), and the rest of each gate's
   error is this step's own rounding, independent of the past:
       e(h')^2 = carried(h')^2 + (|h - n| e_l(z) + |1 - z| e_l(n) + local(h'))^2
   So rounding accumulates like a random walk where the state carries it (z near 1), is
   forgotten where the gates contract, and grows where the case's own dynamics amplify
   (large U, slopes near 1), as the Jacobian says; bidirectional layers concatenate their
   errors, stacked layers read them as e(x). Past a sequence's length the state and its
   error are held and y is exactly zero (tolerance 0).
5. A bound. With f into [0, 1] and a bounded g (sup |g| = G) every state of any
   implementation stays in [-S, S], S = max(G, max|h0|), so no error exceeds |h'| + S:
   e(h') is capped there. Where e reaches half the bound, the dynamics amplify rounding
   to O(1) (chaotic or saturating cases) and a linear estimate says no more than "as large
   as the state": measured errors reach e there, against at most 0.42 e elsewhere (torch,
   bfloat16). Such an element gets the bound itself, with a margin; it cannot tell a
   correct implementation from zeros, and a case where no element can is redrawn
   (``trivial_answer``). Its state is then lost: the model knows only that it lies within the
   bound, so the bound is the error it carries on, and the next steps' secants span that whole
   range. Carrying the linear estimate instead let a later step that saturates at the oracle's
   point (z near 0, n near 1) "forget" an error the implementation still had: onnx.reference in
   bfloat16 failed 3 of 99 long cases by up to 36 times the tolerance (I = H = 1, U up to 5.4,
   T = 200-300, chaotic), a trajectory off by 0.8 at t = 40 declared recovered to 0.07 at t = 41.
   For the same reason the update carries the product of z's error with the errors of h and n
   (|h - n| + e(h) + e_c(n) multiplies e_c(z)): second order while errors are small, it is what
   keeps a lost state lost through a step whose z is uncertain across its whole interval.
   A lost state's errors are not independent roundings either: the implementation's state may
   differ from the oracle's in every unit at once, all in the direction that adds up. So where
   h (or a layer input) is lost, its error goes through W or U linearly, sum_i |U_ji| e(h_i),
   the worst case, not in quadrature as in point 2. In quadrature, torch.nn.GRU in bfloat16
   failed 1 of 500 long cases at 1.61 of the tolerance (I = 1, H = 5, bidirectional, W up to 13.7,
   U up to 6.6): after a lost stretch, a step whose candidate saturates at the oracle's point was
   declared recovered (tolerance 0.097), and the implementation's candidate sat at -0.84, not -1.

6. Many outputs. e is a typical error, a standard deviation, not a bound: the largest of N
   roughly independent errors of that scale grows like sqrt(2 ln N). SAFETY was calibrated on
   cases of some N_REF = 100 outputs (the dev profile's sizes); a case of N > N_REF compared
   outputs (y within the lengths, and h_n) gets SAFETY * sqrt(ln N / ln N_REF): 1.55 at N =
   68,000 (H = 257, B = 33, T = 4, bidirectional), 1.3 at N = 2,400 (H = 4, B = 2, T = 300).
   Long sequences need nothing more: rounding already accumulates step by step in e (point 4),
   as a random walk where the state carries it and forgotten where the gates contract, and it is
   capped at the state bound (point 5); a wide matmul's longer dot products are the sqrt(n) of
   point 1. Measured at scale (benchmarks/bench_scale.py calibrate, the "large" and "long"
   checks' draws): torch.nn.GRU in float64 reached 0.78 of the tolerance without this factor
   over 500 large cases, the worst at H = 257, B = 33, bidirectional (68,000 outputs).

    tol = SAFETY[dtype] * many(N) * e  where e < NEAR_BOUND * (|h'| + S),
          CAP_MARGIN * (|h'| + S)       elsewhere,                  elementwise, for y and h_n.

SAFETY is the one calibrated constant, per dtype (benchmarks/bench_calibration.py, >= 10,000
drawn cases per built-in adapter and dtype, dev profile): it keeps max(error / tol) <= 0.5,
a 2x margin against flakiness, while the median stays near 0.1 (not loose). Near the
bound, error / tol <= 1 / CAP_MARGIN = 0.4 whatever SAFETY is. What sets each value:
float64 2.0 (torch.nn.GRUCell: error / e up to 0.89, where a dot product of large terms
cancels to a small pre-activation and its sum errs at the tail of the sqrt(n) estimate);
float32 6.0 (onnxruntime, whose MLAS activations err by up to 9 float32 ulps, in absolute
terms: tanh near +-1, and a sigmoid candidate (g = Sigmoid) near 0, where the model allows
C_ACT; 0.75 of the tolerance at 3.6 over 10,000 cases); bfloat16 1.4 (torch and onnx.reference:
error / e up to 0.50 away from the bound over 2,000 cases each); float16 1.5 (1.4 at small sizes
too, but onnxruntime's float16 GRU reached 0.526 of it once in 500 large cases, I = 33, H = 127,
three bidirectional layers with ThresholdedRelu and a steep HardSigmoid; p99 0.126). An implementation that
rounds every operation to the dtype (tests/engine/test_tolerance.py) uses up to 0.23 of the
tolerance; one that accumulates 512-term dot products in bfloat16 exceeds it (1.5-2.1).

A case whose tolerance is so wide that a trivial answer (zeros, the input, h0) would pass
tests nothing: ``trivial_answer`` names it, and the checks redraw such cases and count them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

import references

from ..case import GRUCase, GRUResult
from ..dtypes import EPS

#: calibrated per dtype (benchmarks/bench_calibration.py): max observed error / tol <= 0.5 (see above).
SAFETY = {"float64": 2.0, "float32": 6.0, "float16": 1.5, "bfloat16": 1.4}
#: roundings of an activation's result (exp, add, divide of a sigmoid, rounded to the dtype),
#: counted in the ulp of max(|f(a)|, ACT_FLOOR).
C_ACT = 3.0
ACT_FLOOR = 0.5
#: roundings of the additions that join a pre-activation's parts, each up to u * sum |parts|.
SUM_ROUNDINGS = 2.0
#: where the error scale reaches NEAR_BOUND of the hard bound |h| + S, the linear estimate
#: no longer holds (the dynamics amplify rounding to O(1)): the tolerance is CAP_MARGIN times the bound.
NEAR_BOUND = 0.5
CAP_MARGIN = 2.5
#: the accumulation's unit roundoff is at most float32's (float16 and bfloat16 accumulate wider).
U_ACC = 2.0**-24
#: the number of compared outputs of the cases SAFETY was calibrated on (point 6)
N_REF = 100


@dataclass(frozen=True)
class Tolerance:
    """Absolute tolerances, one per output element: y (T, B, D*H) and h_n (L*D, B, H)."""

    y: np.ndarray
    h_n: np.ndarray
    #: where the model has lost the state (point 5): the tolerance is the bound itself there, so an
    #: error within it says nothing, and its ULP count (up to the state's whole range) is not reported
    lost_y: Optional[np.ndarray] = None
    lost_h_n: Optional[np.ndarray] = None

    def __mul__(self, k: float) -> "Tolerance":
        return Tolerance(self.y * k, self.h_n * k, self.lost_y, self.lost_h_n)

    __rmul__ = __mul__

    def max(self) -> float:
        return float(max(np.max(self.y, initial=0), np.max(self.h_n, initial=0)))

    def __format__(self, spec: str) -> str:
        return f"up to {format(self.max(), spec)}"


def _secant(fn, clip, a, e):
    """max |f(clip(a +- e)) - f(clip(a))| / e: the slope of f over the error interval."""
    cl = (lambda v: v) if clip is None else (lambda v: np.clip(v, -clip, clip))
    e = np.maximum(e, 1e-300)
    with np.errstate(all="ignore"):
        f0 = fn(cl(a))
        s = np.maximum(np.abs(fn(cl(a + e)) - f0), np.abs(fn(cl(a - e)) - f0)) / e
    return np.nan_to_num(s, nan=0.0, posinf=0.0), f0


def _rownorm(v2, M2):
    """sqrt(sum_i M_ji^2 v_i^2) for squared v (..., n) and squared M (m, n): (..., m)."""
    return np.sqrt(v2 @ M2.T)


def _carry(e, lost, M, M2):
    """The error of M v for errors e of v (..., n): in quadrature where they are roundings (point 2),
    linearly, sum_i |M_ji| e_i, where the state is lost (point 5)."""
    if lost is None or not lost.any():
        return _rownorm(e * e, M2)
    kept = np.where(lost, 0.0, e)
    return _rownorm(kept * kept, M2) + np.where(lost, e, 0.0) @ np.abs(M).T


def _state_bound(f, g, h0) -> float:
    """S: no state leaves [-S, S] when f maps into [0, 1] and g is bounded; else inf."""
    grid = np.concatenate([[-1e9, 1e9], np.linspace(-60, 60, 2401)])
    with np.errstate(all="ignore"):
        fv, G = f(grid), float(np.max(np.abs(g(grid))))
    if not (np.all(fv >= 0) and np.all(fv <= 1) and np.isfinite(G) and G <= 1e6):
        return np.inf
    return max(G, float(np.max(np.abs(h0), initial=0)))


def _direction(x, ex, lx, p, h0, lengths, reverse, reset_after, f, g, clip, u, ua):
    """Error scales of one (layer, direction): ey (T, B, H), eh_n (B, H); y (T, B, H) the oracle's.
    ``lx``: where the layer input's error is a lost state (None: nowhere)."""
    T, B, I = x.shape  # noqa: E741 - the canonical name
    H = p.U.shape[1]
    y, _ = references.gru_direction(x, p, h0, lengths, reverse=reverse, reset_after=reset_after, f=f, g=g,
                                    clip=clip)
    W, U = p.W.reshape(3 * H, I), p.U.reshape(3 * H, H)
    W2, U2 = W * W, U * U
    bW, bU = p.bW.reshape(-1), p.bU.reshape(-1)
    wx = x @ W.T  # (T, B, 3H)
    c_x = _carry(ex, lx, W, W2)  # carried from the layer input
    l_x = ua * np.sqrt(I) * _rownorm(x * x, W2) + u * np.abs(wx)  # accumulated, then rounded
    ey, by = np.zeros((T, B, H)), np.zeros((T, B, H))
    h, eh = np.array(h0, dtype=np.float64), np.zeros((B, H))
    lost = np.zeros((B, H), bool)
    active = np.ones((T, B), bool) if lengths is None else np.arange(T)[:, None] < lengths[None, :]
    zr, n_ = slice(0, 2 * H), slice(2 * H, 3 * H)
    cap = _state_bound(f, g, h0)
    for t in range(T - 1, -1, -1) if reverse else range(T):
        rows = slice(None) if reset_after else zr
        uh = h @ U[rows].T
        l_h = ua * np.sqrt(H) * _rownorm(h * h, U2[rows]) + u * np.abs(uh)
        c_h = _carry(eh, lost, U[rows], U2[rows])
        # z, r: four parts (Wx, bW, Uh, bU) summed in some order: each addition errs by u * P
        a_zr = wx[t, :, zr] + bW[zr] + uh[:, zr] + bU[zr]
        P = np.abs(wx[t, :, zr]) + np.abs(bW[zr]) + np.abs(uh[:, zr]) + np.abs(bU[zr])
        c_zr = c_x[t, :, zr] + c_h[:, zr]
        l_zr = l_x[t, :, zr] + l_h[:, zr] + SUM_ROUNDINGS * u * P
        s_zr, zr_v = _secant(f, clip, a_zr, c_zr + l_zr)
        c_g, l_g = s_zr * c_zr, s_zr * l_zr + C_ACT * u * np.maximum(np.abs(zr_v), ACT_FLOOR)  # z and r
        z, r = zr_v[:, :H], zr_v[:, H:]
        if reset_after:  # n = g(Wx + bW + r * q), q = Uh + bU
            q = uh[:, n_] + bU[n_]
            rq = r * q
            a_n = wx[t, :, n_] + bW[n_] + rq
            l_q = l_h[:, n_] + u * (np.abs(uh[:, n_]) + np.abs(bU[n_]))
            c_n = c_x[t, :, n_] + np.abs(r) * c_h[:, n_] + np.abs(q) * c_g[:, H:]
            l_n = (l_x[t, :, n_] + np.abs(r) * l_q + np.abs(q) * l_g[:, H:] + u * np.abs(rq)
                   + SUM_ROUNDINGS * u * (np.abs(wx[t, :, n_]) + np.abs(bW[n_]) + np.abs(rq)))
        else:  # n = g(Wx + bW + U (r h) + bU); r h rounded, its errors carried by U_n
            rh = r * h
            Un2 = U2[n_]
            urh = rh @ U[n_].T
            a_n = wx[t, :, n_] + bW[n_] + urh + bU[n_]
            e_kept, e_lost = np.where(lost, 0.0, eh), np.where(lost, eh, 0.0)  # as in _carry, r h's share
            c_n = (c_x[t, :, n_] + _rownorm(r * r * e_kept * e_kept + h * h * c_g[:, H:] ** 2, Un2)
                   + (np.abs(r) * e_lost) @ np.abs(U[n_]).T)
            l_n = (l_x[t, :, n_] + _rownorm(h * h * l_g[:, H:] ** 2 + (u * rh) ** 2, Un2)
                   + ua * np.sqrt(H) * _rownorm(rh * rh, Un2) + u * np.abs(urh)
                   + SUM_ROUNDINGS * u * (np.abs(wx[t, :, n_]) + np.abs(bW[n_]) + np.abs(urh) + np.abs(bU[n_])))
        s_n, n = _secant(g, clip, a_n, c_n + l_n)
        c_n, l_n = s_n * c_n, s_n * l_n + C_ACT * u * np.maximum(np.abs(n), ACT_FLOOR)
        h_new = y[t]
        hn, omz = np.abs(h - n), np.abs(1 - z)
        # the product of z's error with h's and n's: second order (negligible) unless the state is lost
        carried = np.abs(z) * eh + (hn + eh + c_n) * c_g[:, :H] + omz * c_n
        local = (hn * l_g[:, :H] + omz * l_n
                 + u * (np.abs(z) * (np.abs(h) + hn) + 2 * omz * np.abs(n) + 2 * np.abs(h_new)))
        bound = np.abs(h_new) + cap
        e_new = np.sqrt(carried * carried + local * local)
        # lost (point 5): past NEAR_BOUND of the bound the state is anywhere within it, and that is carried
        gone = e_new >= NEAR_BOUND * bound
        e_new = np.where(gone, bound, e_new)
        on = active[t][:, None]
        eh = np.where(on, e_new, eh)
        lost = np.where(on, gone, lost)
        h = np.where(on, h_new, h)
        ey[t] = np.where(on, e_new, 0.0)
        by[t] = np.where(on, bound, 0.0)
    return ey, eh, y, by, np.abs(h) + cap


def error_scale(case: GRUCase, dtype: Optional[str] = None) -> Tolerance:
    """The model's error scale of every output (the module docstring), without SAFETY.

    ``dtype`` (default: the case's) is the precision the implementation is assumed to
    compute in; the case's values are used as they are.
    """
    return _scales(case, dtype)[0]


def _scales(case: GRUCase, dtype: Optional[str]) -> tuple:
    """(error scales, hard bounds |h| + S of the error) of every output."""
    s = case.spec
    dtype = dtype or case.dtype
    u = EPS[dtype] / 2
    ua = min(u, U_ACC)
    D, H = s.num_directions, s.hidden_size
    fg = [tuple(references.activation(a.name, a.alpha, a.beta) for a in s.direction_activations(d)) for d in range(D)]
    h0 = case.h0_or_zeros()
    lengths = None if case.lengths is None else np.asarray(case.lengths, np.int64)
    layer_in, e_in, lost_in = case.x, np.zeros_like(case.x), None
    eh_n, bh_n = np.empty((s.num_layers * D, case.B, H)), np.empty((s.num_layers * D, case.B, H))
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(s.num_layers):
            outs, errs, bounds = [], [], []
            for d in range(D):
                i = layer * D + d
                p = references.Params(*(np.asarray(a, np.float64) for a in case.weights[i]))
                reverse = s.direction == "reverse" or d == 1
                ey, eh_n[i], y, by, bh_n[i] = _direction(layer_in, e_in, lost_in, p, h0[i], lengths, reverse,
                                                         s.reset_after, *fg[d], s.clip, u, ua)
                outs.append(y)
                errs.append(ey)
                bounds.append(by)
            layer_in, e_in, b_in = (np.concatenate(a, axis=2) for a in (outs, errs, bounds))
            lost_in = (e_in >= b_in) & (b_in > 0)  # a lost state carries the bound itself (point 5)
    return (Tolerance(np.nan_to_num(e_in, nan=np.inf), np.nan_to_num(eh_n, nan=np.inf)),
            Tolerance(np.concatenate(bounds, axis=2), bh_n))


def tolerance(case: GRUCase, *, dtype: Optional[str] = None) -> Tolerance:
    """Absolute tolerances for y and h_n, elementwise (see the module docstring)."""
    dtype = dtype or case.dtype
    e, bound = _scales(case, dtype)
    k = SAFETY[dtype] * many(_compared(case))
    (tol_y, lost_y), (tol_h, lost_h) = (_capped(a, b, k) for a, b in ((e.y, bound.y), (e.h_n, bound.h_n)))
    return Tolerance(tol_y, tol_h, lost_y, lost_h)


def _capped(e: np.ndarray, bound: np.ndarray, k: float) -> tuple:
    """(tolerance, lost): k e, or the bound with a margin where e reaches NEAR_BOUND of it (point 5); a
    bound of 0 (past a sequence's length: y is exactly 0) loses nothing."""
    lost = ~(e < NEAR_BOUND * bound)
    return np.where(lost, CAP_MARGIN * bound, k * e), lost & (bound > 0)


def many(n: int) -> float:
    """The growth of the largest of n typical errors over that of N_REF of them (point 6): >= 1."""
    return float(np.sqrt(np.log(n) / np.log(N_REF))) if n > N_REF else 1.0


def _compared(case: GRUCase) -> int:
    """How many outputs are compared: y within the lengths, and h_n."""
    s = case.spec
    D, H = s.num_directions, s.hidden_size
    steps = case.T * case.B if case.lengths is None else int(np.sum(case.lengths))
    return steps * D * H + s.num_layers * D * case.B * H


def _within(exp, cand, tol, mask=None) -> bool:
    ok = np.abs(cand - exp) <= tol
    return bool(np.all(ok if mask is None else ok | ~mask))


def trivial_answer(case: GRUCase, expected: GRUResult, tol: Tolerance) -> Optional[str]:
    """The trivial answer that would pass this case (it tests nothing then), or None.

    Trivial answers: y all zeros, y = x (where the shapes match), y = the last layer's h0 at
    every step; h_n all zeros or h0. A case is uninformative when one of each passes.
    """
    s = case.spec
    D = s.num_directions
    T = case.T
    lengths = case.lengths if case.lengths is not None else np.full(case.B, T)
    mask = np.broadcast_to((np.arange(T)[:, None] < lengths[None, :])[:, :, None], expected.y.shape)
    ys = {"zeros": np.zeros_like(expected.y)}
    if case.x.shape == expected.y.shape:
        ys["the input"] = case.x
    hs = {"zeros": np.zeros_like(expected.h_n)}
    if case.h0 is not None:
        last = case.h0[(s.num_layers - 1) * D:]
        ys["h0"] = np.broadcast_to(np.concatenate(list(last), axis=1)[None], expected.y.shape)
        hs["h0"] = case.h0
    y_name = next((k for k, v in ys.items() if _within(expected.y, v, tol.y, mask)), None)
    h_name = next((k for k, v in hs.items() if _within(expected.h_n, v, tol.h_n)), None)
    if y_name is None or h_name is None:
        return None
    return f"y = {y_name}, h_n = {h_name}"
