"""Index-coded wiring for a converter that folds pairs of biases (OpenVINO's PyTorch frontend).

conformance.frameworks.onnx.wiring reads each coded constant as a plain gather of the weights.
OpenVINO's translation of ``aten::gru`` does one more thing: it adds bias_ih and bias_hh of the
z and r gates into one bias (the GRUSequence bias is [b_z, b_r, b_in, b_hn]). So the codes are
two-level, all exact in float32, and every sum of one bias_ih and one bias_hh of the same
(layer, direction) decodes uniquely:

* W and U element j -> the j-th float32 above WU_BASE = 4^G (G groups): consecutive bit patterns,
  so tens of millions of weights stay distinct;
* the biases of group g (one layer and direction, m = its 3H input biases) live in [4^g, 4^(g+1)):
  bias_ih element a -> 4^g (1 + a 2^-22) (a = 1..m), bias_hh element b -> 4^g (1 + b (m+1) 2^-22);
* bias_ih[a] + bias_hh[b] = 4^g (2 + (a + b (m+1)) 2^-22): above 2 4^g, below 4^(g+1).

Singles stay below 2 4^g while m (m+1) < 2^22, i.e. m <= 2,047 (H <= 682) per group, whatever the
number of layers. (One index over every group, as before, broke past 2,048 input biases in all:
at H = 200, two bidirectional layers, recurrent-bias codes read as folded pairs.) A fold across
groups, or any other transformation, lands on no valid code: each element of a coded constant
decodes to one weight, a folded pair, or 0, and anything else is a WiringError, never a guess.
The feed reproduces a fold as one float32 add of the two float32 weights, the very rounding it
does. NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..onnx.wiring import WiringError

B_STEP = 2.0**-22
#: the most input biases of one (layer, direction) the codes hold: m (m + 1) < 2^22
MAX_GROUP_BIASES = 2047

__all__ = ["WiringError", "Codes", "coded_parameters", "decode", "holds_codes", "pair_feed"]


@dataclass(frozen=True)
class Codes:
    """Where each code points in the flat vector [W/U..., bias_ih..., bias_hh...] (named order)."""

    n_wu: int
    #: per group g: (offset of its bias_ih in the flat vector, offset of its bias_hh, m)
    groups: tuple

    @property
    def wu_base(self) -> np.float32:
        return np.float32(4.0 ** max(len(self.groups), 1))

    def wu_codes(self, start: int, size: int) -> np.ndarray:
        bits = self.wu_base.view(np.int32) + np.arange(start, start + size, dtype=np.int64)
        return bits.astype(np.int32).view(np.float32)

    @property
    def wu_end(self) -> float:
        return float(self.wu_codes(self.n_wu, 1)[0])


def _group(name: str) -> str:
    return name.removeprefix("bias_ih").removeprefix("bias_hh")  # "_l0", "_l1_reverse", ...


def coded_parameters(named_shapes) -> tuple:
    """({parameter name: float32 codes}, Codes) for (name, shape) pairs of a torch GRU's parameters."""
    sizes = {n: int(np.prod(s)) for n, s in named_shapes}
    n_wu = sum(v for n, v in sizes.items() if n.startswith("weight"))
    ih = [n for n in sizes if n.startswith("bias_ih")]
    hh = {_group(n): n for n in sizes if n.startswith("bias_hh")}
    biases = [*ih, *hh.values()]  # the flat vector: W/U, then every bias_ih, then every bias_hh, in named order
    start, k = {}, n_wu
    for n in biases:
        start[n], k = k, k + sizes[n]
    for n in ih:
        if sizes[n] > MAX_GROUP_BIASES or sizes[hh[_group(n)]] != sizes[n]:
            raise WiringError(f"{n}: {sizes[n]} input biases in one layer and direction; the codes hold "
                              f"{MAX_GROUP_BIASES} (hidden size <= {MAX_GROUP_BIASES // 3})")
    groups = tuple((start[n], start[hh[_group(n)]], sizes[n]) for n in ih)
    codes = Codes(n_wu, groups)
    group_of = {_group(n): g for g, n in enumerate(ih)}
    out, j = {}, 0
    for name, shape in named_shapes:
        size = sizes[name]
        if name.startswith("weight"):
            v, j = codes.wu_codes(j, size), j + size
        else:
            g = group_of[_group(name)]
            m, k = groups[g][2], np.arange(1, size + 1)
            v = 4.0**g * (1.0 + B_STEP * (k if name.startswith("bias_ih") else k * (m + 1)))
        out[name] = np.asarray(v).reshape(shape).astype(np.float32)
    return out, codes


def holds_codes(v: np.ndarray, codes: Codes) -> bool:
    return v.size > 0 and bool(np.any((v > 1) & (v < codes.wu_end)))


def decode(v: np.ndarray, codes: Codes, name: str) -> np.ndarray:
    """(2, *v.shape) indices into the flat vector [W/U..., bias_ih..., bias_hh...]: one weight
    (second index -1), a folded pair (both), or 0 (both -1)."""
    v32 = np.asarray(v, np.float32)
    v = v32.astype(np.float64)
    i1, i2 = np.full(v.shape, -1), np.full(v.shape, -1)
    ok = v == 0
    j = v32.view(np.int32).astype(np.int64) - int(codes.wu_base.view(np.int32))
    hit = (v >= codes.wu_base) & (j >= 0) & (j < codes.n_wu)
    i1[hit], ok = j[hit], ok | hit
    for g, (ih, hh, m) in enumerate(codes.groups):
        base = 4.0**g
        x = np.rint((v / base - 1.0) / B_STEP)
        single = (v >= base) & (v < 2 * base) & (v == base * (1.0 + B_STEP * x))
        a = single & (x >= 1) & (x <= m)
        i1[a], ok = ih + x[a].astype(int) - 1, ok | a
        b = single & (x % (m + 1) == 0) & (x // (m + 1) >= 1) & (x // (m + 1) <= m)
        i1[b], ok = hh + (x[b] // (m + 1)).astype(int) - 1, ok | b
        y = np.rint((v / base - 2.0) / B_STEP)
        pair = (v >= 2 * base) & (v < 4 * base) & (v == base * (2.0 + B_STEP * y))
        pa, pb = y % (m + 1), y // (m + 1)
        pair &= (pa >= 1) & (pa <= m) & (pb >= 1) & (pb <= m)
        i1[pair], i2[pair], ok = ih + pa[pair].astype(int) - 1, hh + pb[pair].astype(int) - 1, ok | pair
    if not np.all(ok):
        raise WiringError(f"{name}: {int((~ok).sum())} values are neither a weight, a folded pair of biases, nor 0, "
                          f"e.g. {v[~ok][:3].tolist()}")
    return np.stack([i1, i2])


def pair_feed(idx: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """The float32 values of a decoded constant: flat[i1] (+ flat[i2], one float32 add), 0 for -1."""
    f = np.concatenate([np.asarray(flat, np.float32), np.zeros(1, np.float32)])  # index -1 -> 0
    return f[idx[0]] + f[idx[1]]
