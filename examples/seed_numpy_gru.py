"""The NumPy GRU of a popular blog post, exactly as written, behind the adapter contract.

The class ``GRU`` below is the blog's code with its comments translated and nothing else
changed: ``forward(x)`` takes one input vector and starts again from ``h_prev = zeros``
on every call, so the state is never carried from one step to the next. The suite flags
it, with the diagnosis "state carry"; ``seed_numpy_gru_fixed.py`` is the repaired version.

Run it:  gru-conformance check examples/seed_numpy_gru.py:SeedGRUAdapter

The blog's conventions, and how the adapter maps the canonical weights into them:

* one weight matrix per gate over the concatenation [x; h], so W_gate = [W | U];
* one bias per gate, so the two canonical biases are summed: b = bW + bU. This is exact
  in meaning only when the reset comes before the recurrent matmul (reset_after=False):
  then b_Un sits outside the reset like bW_n. The float64 sum rounds once (about 1e-16),
  far inside the float64 tolerance;
* h_t = (1 - z) * h_prev + z * h_hat: z and 1 - z are swapped against the canonical
  h' = z * h + (1 - z) * n. For the sigmoid 1 - sigmoid(a) = sigmoid(-a), so the adapter
  negates the z gate's weights and bias;
* one sample at a time, float64, one forward layer, no initial state, no lengths.
"""

import numpy as np

from conformance import Capabilities, GRUResult


class GRU():
    def __init__(self, input_size, hidden_size):
        self.input_size = input_size
        self.hidden_size = hidden_size
        # initialise the weights
        # update gate
        self.W_z = np.random.randn(hidden_size, hidden_size + input_size)
        self.b_z = np.zeros(hidden_size)
        # reset gate
        self.W_r = np.random.randn(hidden_size, hidden_size + input_size)
        self.b_r = np.zeros(hidden_size)
        # candidate hidden state
        self.W_h = np.random.randn(hidden_size, hidden_size + input_size)
        self.b_h = np.zeros(hidden_size)

    def tanh(self, x):
        return np.tanh(x)

    def sigmoid(self, x):
        return 1 / (1 + np.exp(-x))

    def forward(self, x):
        # initialise the hidden state
        h_prev = np.zeros((self.hidden_size,))
        concat_input = np.concatenate([x, h_prev], axis=0)
        z_t = self.sigmoid(np.dot(self.W_z, concat_input) + self.b_z)
        r_t = self.sigmoid(np.dot(self.W_r, concat_input) + self.b_r)
        concat_reset_input = np.concatenate([x, r_t * h_prev], axis=0)
        h_hat_t = self.tanh(np.dot(self.W_h, concat_reset_input) + self.b_h)
        h_t = (1 - z_t) * h_prev + z_t * h_hat_t
        return h_t


def load_canonical(gru, weights):
    """Write one (layer, direction) of canonical weights into the blog's conventions."""
    W, U, bW, bU = weights
    gru.W_z, gru.b_z = -np.concatenate([W[0], U[0]], axis=1), -(bW[0] + bU[0])  # its z is 1 - z
    gru.W_r, gru.b_r = np.concatenate([W[1], U[1]], axis=1), bW[1] + bU[1]
    gru.W_h, gru.b_h = np.concatenate([W[2], U[2]], axis=1), bW[2] + bU[2]  # reset before: b_Un folds


class SeedGRUAdapter:
    """Runs the blog's GRU the way the blog does: forward(x[t]) for each step, each sample."""

    name = "seed-numpy-gru"

    def capabilities(self) -> Capabilities:
        only = "the blog's GRU is a single forward float64 layer"
        return Capabilities(
            dtypes=("float64",), directions=("forward",), max_layers=1, reset_after=(False,),
            bias=(True, False), initial_state=False, lengths=False,
            unsupported={
                **{d: f"{only}: NumPy float64 only" for d in ("float32", "float16", "bfloat16")},
                "reset_after": "r_t multiplies h_prev before the matmul (reset before)",
                "reverse": only, "bidirectional": only, "stacked": only,
                "initial_state": "forward(x) takes no initial state",
                "lengths": "forward(x) sees one step of one sample, it has no notion of length",
                "activations": "sigmoid and tanh are hard-wired", "clip": "no pre-activation clip",
            },
        )

    def run(self, case):
        s = case.spec
        gru = GRU(s.input_size, s.hidden_size)
        load_canonical(gru, case.weights[0])
        y = np.empty((case.T, case.B, s.hidden_size))
        for t in range(case.T):
            for b in range(case.B):
                y[t, b] = gru.forward(case.x[t, b])
        return GRUResult(y=y, h_n=y[-1][None].copy())
