"""An adapter for a GRU without recurrent biases, as flax.nnx's GRUCell (flax #5594): input biases only.

flax.nnx's GRUCell computes, with biases on the input side only,

    r = sigmoid(W_ir x + b_ir + W_hr h)
    z = sigmoid(W_iz x + b_iz + W_hz h)
    n = tanh(W_in x + b_in + r * (W_hn h))           no b_hn: the reset multiplies U_n h alone
    h' = (1 - z) * n + z * h

which is the canonical GRU with reset_after=True and bU = 0. Such a GRU once had to declare
bias=False, and its input biases went untested. It declares the bias structure "input"
instead: the suite then draws every bW non-zero and every bU exactly zero (conformance.biases).

This one is written in NumPy, in flax's layout (kernels (in, H) per gate, gates r, z, n), so
that the adapter converts conventions as a real one does. It never reads bU: declared "full"
it would silently drop the recurrent biases, and the check says so (tests/engine/test_bias_structures.py).

Run it:  gru-conformance check examples/no_recurrent_bias_gru.py:NoRecurrentBiasGRU
"""

import numpy as np

from conformance import Capabilities, GRUResult


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


class InputBiasGRUCell:
    """The cell in flax.nnx's parameter layout: dicts of (in, H) kernels and (H,) input biases."""

    def __init__(self, kernels_i, kernels_h, biases_i):
        self.ki, self.kh, self.bi = kernels_i, kernels_h, biases_i  # keys "r", "z", "n"

    def __call__(self, h, x):
        r = sigmoid(x @ self.ki["r"] + self.bi["r"] + h @ self.kh["r"])
        z = sigmoid(x @ self.ki["z"] + self.bi["z"] + h @ self.kh["z"])
        n = np.tanh(x @ self.ki["n"] + self.bi["n"] + r * (h @ self.kh["n"]))
        return (1 - z) * n + z * h


class NoRecurrentBiasGRU:
    name = "no-recurrent-bias-gru"

    def capabilities(self):
        return Capabilities(
            dtypes=("float64", "float32"), directions=("forward",), max_layers=1, reset_after=(True,),
            bias_structures=("input",),  # bW only: the strategies draw bU = 0 and bW != 0
            initial_state=True, lengths=True, zero_lengths=True, padding="zeros",
            unsupported={
                "float16": "this example computes in float64 and float32 only",
                "bfloat16": "NumPy has no bfloat16",
                "reset_before": "flax.nnx's GRUCell applies the reset after the recurrent matmul",
                "no_bias": "flax.nnx's GRUCell always has its input biases",
                "reverse": "one cell stepped forward", "bidirectional": "one cell stepped forward",
                "per_direction_activations": "one cell stepped forward",
                "stacked": "one layer only, to stay short",
                "activations": "sigmoid and tanh only", "clip": "no pre-activation clip",
            },
        )

    def run(self, case):
        dt = np.dtype(case.dtype)
        W, U, bW, _ = case.weights[0]  # canonical gates z, r, n; bU is absent from this GRU
        gate = {"z": 0, "r": 1, "n": 2}
        cell = InputBiasGRUCell({k: W[g].T.astype(dt) for k, g in gate.items()},
                                {k: U[g].T.astype(dt) for k, g in gate.items()},
                                {k: bW[g].astype(dt) for k, g in gate.items()})
        x = case.x.astype(dt)
        h = case.h0_or_zeros()[0].astype(dt)
        lengths = case.lengths if case.lengths is not None else np.full(case.B, case.T)
        y = np.zeros((case.T, case.B, case.spec.hidden_size), dt)
        for t in range(case.T):
            h_new = cell(h, x[t])
            valid = (t < lengths)[:, None]  # an empty or finished sequence keeps its state
            h = np.where(valid, h_new, h)
            y[t] = np.where(valid, h_new, 0)
        return GRUResult(y=y, h_n=h[None].copy())
