"""A minimal GRU adapter in pure NumPy: a starting point to copy for your own GRU.

An adapter is three things: a ``name``, ``capabilities()`` saying what your GRU supports,
and ``run(case)`` returning ``GRUResult(y, h_n)`` for one case. Everything a case holds
is canonical (docs/validate_your_own_gru.md has the equations):

* ``case.spec``: input_size I, hidden_size H, num_layers, direction, reset_after, bias;
* ``case.weights[l * D + d]``: W (3, H, I), U (3, H, H), bW (3, H), bU (3, H), gates in
  the order z, r, n. Your framework's order and layout may differ: convert here;
* ``case.x`` (T, B, I) time-major; ``case.h0`` (L*D, B, H) or None (zeros);
  ``case.lengths`` (B,) or None (every sequence has length T);
* ``case.dtype``: run in it ("float64", "float32", ...) and return arrays of that dtype.

Rules: never modify the case's arrays, return new arrays, and y must be zero at t >= length.

Run it:  gru-conformance check examples/minimal_numpy_gru.py:MinimalGRU
   or:   pytest --gru-adapter examples/minimal_numpy_gru.py:MinimalGRU
"""

import numpy as np

from conformance import Capabilities, GRUResult


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


class MinimalGRU:
    name = "minimal-numpy-gru"

    def capabilities(self):
        # Declare only what you support: the suite draws cases inside these capabilities and
        # reports the rest as "unsupported" with the reason you give here.
        return Capabilities(
            dtypes=("float64", "float32"),
            directions=("forward",),
            max_layers=1,
            reset_after=(True, False),  # both placements of the reset gate
            bias=(True, False),
            initial_state=True,
            lengths=True,
            padding="zeros",  # y is zero past each sequence's length
            unsupported={
                "float16": "this example computes in float64 and float32 only",
                "bfloat16": "NumPy has no bfloat16",
                "reverse": "forward direction only, to stay short",
                "bidirectional": "forward direction only, to stay short",
                "stacked": "one layer only, to stay short",
                "activations": "sigmoid and tanh only",
                "clip": "no pre-activation clip",
            },
        )

    def run(self, case):
        dt = np.dtype(case.dtype)  # compute in the case's dtype
        W, U, bW, bU = (a.astype(dt) for a in case.weights[0])  # astype copies: the case is untouched
        x = case.x.astype(dt)
        T, B = case.T, case.B
        h = case.h0_or_zeros()[0].astype(dt)  # (B, H)
        lengths = case.lengths if case.lengths is not None else np.full(B, T)
        y = np.zeros((T, B, case.spec.hidden_size), dt)
        for t in range(T):
            # gate k's pre-activation from the input and from the state: (B, H) each
            xz, xr, xn = (x[t] @ W[k].T + bW[k] for k in range(3))
            hz, hr, hn = (h @ U[k].T + bU[k] for k in range(3))
            z = sigmoid(xz + hz)
            r = sigmoid(xr + hr)
            if case.spec.reset_after:  # n = tanh(W_n x + bW_n + r * (U_n h + bU_n))
                n = np.tanh(xn + r * hn)
            else:  # n = tanh(W_n x + bW_n + U_n (r * h) + bU_n)
                n = np.tanh(xn + (r * h) @ U[2].T + bU[2])
            h_new = z * h + (1 - z) * n
            valid = (t < lengths)[:, None]  # rows whose sequence is still running
            h = np.where(valid, h_new, h)  # a finished row keeps its last state for h_n
            y[t] = np.where(valid, h_new, 0)  # and outputs zeros
        return GRUResult(y=y, h_n=h[None].copy())
