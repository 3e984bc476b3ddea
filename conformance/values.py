"""The values of a case (weights, x, h0), drawn from a seed: no Hypothesis here.

Hypothesis draws a case's structure and a seed (conformance.strategies); the numbers come
from this seed, so that an adapter's own probes and the benchmarks can build cases of a
given structure without importing Hypothesis.

Scaling. Weights are N(0, 1/fan_in) (W: fan_in = I_l, U: fan_in = H), biases N(0, 0.5^2),
x ~ N(0, 1), h0 ~ U(-0.9, 0.9); so a pre-activation has a standard deviation near 1.3:
the gates are neither saturated (|a| >> 3) nor linear (|a| << 0.5). A "saturating" case
scales every weight and bias by SATURATION_SCALE. Every value has a magnitude floor
(weights and biases never zero, b_Un included, except the biases the spec's bias structure
lacks, which are exactly zero; h0 never zero), gates and both bias vectors
come from independent draws (so they are distinct and W is not symmetric), and every value
is rounded to the case dtype, so the oracle sees the exact same numbers.
"""

from __future__ import annotations

import numpy as np

from .biases import present
from .case import GateWeights, GRUSpec
from .dtypes import round_to

SATURATION_SCALE = 6.0


def _floored(rng, shape, std, floor_frac=0.05):
    v = rng.standard_normal(shape) * std
    floor = floor_frac * std
    return np.where(v >= 0, np.maximum(v, floor), np.minimum(v, -floor))


def case_values(spec: GRUSpec, T: int, B: int, dtype: str, seed: int, *, h0: bool, saturating: bool):
    """Weights, x and h0 for a structure, from a seed (see the module docstring)."""
    rng = np.random.default_rng(seed)
    s = SATURATION_SCALE if saturating else 1.0
    H, D = spec.hidden_size, spec.num_directions
    weights = []
    for i in range(spec.num_layers * D):
        I_l = spec.layer_input_size(i // D)
        W = _floored(rng, (3, H, I_l), s / np.sqrt(I_l))
        U = _floored(rng, (3, H, H), s / np.sqrt(H))
        if spec.bias:  # the biases the structure lacks are zeros (conformance.biases)
            has_bW, has_bU = present(spec.bias_structure)
            bW = np.where(has_bW, _floored(rng, (3, H), 0.5 * s), 0.0)
            bU = np.where(has_bU, _floored(rng, (3, H), 0.5 * s), 0.0)
        else:
            bW, bU = np.zeros((3, H)), np.zeros((3, H))
        weights.append(GateWeights(*(round_to(a, dtype) for a in (W, U, bW, bU))))
    x = round_to(rng.standard_normal((T, B, spec.input_size)), dtype)
    h = None
    if h0:
        mag = rng.uniform(0.05, 0.9, (spec.num_layers * D, B, H))
        h = round_to(mag * rng.choice([-1.0, 1.0], mag.shape), dtype)
    return weights, x, h
