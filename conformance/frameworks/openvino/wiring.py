"""Index-coded wiring for a converter that folds pairs of biases (OpenVINO's PyTorch frontend).

conformance.frameworks.onnx.wiring reads each coded constant as a plain gather of the weights.
OpenVINO's translation of ``aten::gru`` does one more thing: it adds bias_ih and bias_hh of the
z and r gates into one bias (the GRUSequence bias is [b_z, b_r, b_in, b_hn]). So the codes are
two-level, all exact in float32, and every sum of one bias_ih and one bias_hh decodes uniquely:

* W and U element j -> 4 + j 2^-20;
* bias_ih element a -> 1 + a 2^-22 (a = 1..m), bias_hh element b -> 1 + b (m+1) 2^-22;
* bias_ih[a] + bias_hh[b] = 2 + (a + b (m+1)) 2^-22.

Each element of a coded constant decodes to one weight, a folded pair, or 0; anything else
is a WiringError (the converter transformed a weight some other way), never a guess. The feed
reproduces a fold as one float32 add of the two float32 weights, the very rounding it does.
NumPy only.
"""

from __future__ import annotations

import numpy as np

from ..onnx.wiring import WiringError

WU_BASE, WU_STEP, B_STEP = 4.0, 2.0**-20, 2.0**-22

__all__ = ["WiringError", "coded_parameters", "decode", "holds_codes", "pair_feed"]


def coded_parameters(named_shapes) -> tuple:
    """({parameter name: float32 codes}, m) for (name, shape) pairs of a torch GRU's parameters."""
    m = sum(int(np.prod(s)) for n, s in named_shapes if n.startswith("bias_ih"))
    out, j, a, b = {}, 0, 0, 0
    for name, shape in named_shapes:
        size = int(np.prod(shape))
        if name.startswith("bias_ih"):
            v, a = 1.0 + B_STEP * np.arange(a + 1, a + size + 1), a + size
        elif name.startswith("bias_hh"):
            v, b = 1.0 + B_STEP * (m + 1) * np.arange(b + 1, b + size + 1), b + size
        else:
            v, j = WU_BASE + WU_STEP * np.arange(j, j + size), j + size
        out[name] = v.reshape(shape).astype(np.float32)
    return out, m


def holds_codes(v: np.ndarray, n_wu: int) -> bool:
    return v.size > 0 and bool(np.any((v >= 1) & (v < WU_BASE + WU_STEP * n_wu)))


def decode(v: np.ndarray, m: int, n_wu: int, name: str) -> np.ndarray:
    """(2, *v.shape) indices into the flat vector [W/U..., bias_ih..., bias_hh...]: one weight
    (second index -1), a folded pair (both), or 0 (both -1)."""
    v = v.astype(np.float64)
    i1, i2 = np.full(v.shape, -1), np.full(v.shape, -1)
    ok = v == 0
    j = np.rint((v - WU_BASE) / WU_STEP)
    hit = (v >= WU_BASE) & (j >= 0) & (j < n_wu) & (v == WU_BASE + WU_STEP * j)
    i1[hit], ok = j[hit].astype(int), ok | hit
    x = np.rint((v - 1.0) / B_STEP)
    single = (v >= 1) & (v < 2) & (v == 1.0 + B_STEP * x)
    ih = single & (x >= 1) & (x <= m)
    i1[ih], ok = n_wu + x[ih].astype(int) - 1, ok | ih
    hh = single & (x % (m + 1) == 0) & (x // (m + 1) >= 1) & (x // (m + 1) <= m)
    i1[hh], ok = n_wu + m + (x[hh] // (m + 1)).astype(int) - 1, ok | hh
    y = np.rint((v - 2.0) / B_STEP)
    pair = (v >= 2) & (v < WU_BASE) & (v == 2.0 + B_STEP * y)
    a, b = y % (m + 1), y // (m + 1)
    pair &= (a >= 1) & (a <= m) & (b >= 1) & (b <= m)
    i1[pair], i2[pair], ok = n_wu + a[pair].astype(int) - 1, n_wu + m + b[pair].astype(int) - 1, ok | pair
    if not np.all(ok):
        raise WiringError(f"{name}: {int((~ok).sum())} values are neither a weight, a folded pair of biases, nor 0, "
                          f"e.g. {v[~ok][:3].tolist()}")
    return np.stack([i1, i2])


def pair_feed(idx: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """The float32 values of a decoded constant: flat[i1] (+ flat[i2], one float32 add), 0 for -1."""
    f = np.concatenate([np.asarray(flat, np.float32), np.zeros(1, np.float32)])  # index -1 -> 0
    return f[idx[0]] + f[idx[1]]
