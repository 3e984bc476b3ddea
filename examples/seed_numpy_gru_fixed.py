"""The blog's NumPy GRU with its one bug fixed: the state is carried from step to step.

The only change to the class is in ``forward``: it takes the previous state ``h_prev``
instead of starting from zeros at every call (the lines marked "fixed"). Since it now
takes a state, the adapter also passes the case's initial state h0. Everything else,
conventions included, is the blog's: one matrix per gate over [x; h], one bias per gate,
the reset before the recurrent matmul, and h_t = (1 - z) * h_prev + z * h_hat. The
adapter maps the canonical weights into those conventions exactly as
``seed_numpy_gru.py`` does (see its docstring); this version conforms.

Run it:  gru-conformance check examples/seed_numpy_gru_fixed.py:FixedSeedGRUAdapter
"""

import dataclasses

import numpy as np

from conformance import GRUResult

try:  # loaded as a file (examples/seed_numpy_gru_fixed.py:ATTR), its directory is on sys.path
    import seed_numpy_gru as seed
except ImportError:  # imported as the module examples.seed_numpy_gru_fixed
    from examples import seed_numpy_gru as seed


class GRU(seed.GRU):
    def forward(self, x, h_prev):  # fixed: the caller passes the previous state
        concat_input = np.concatenate([x, h_prev], axis=0)
        z_t = self.sigmoid(np.dot(self.W_z, concat_input) + self.b_z)
        r_t = self.sigmoid(np.dot(self.W_r, concat_input) + self.b_r)
        concat_reset_input = np.concatenate([x, r_t * h_prev], axis=0)
        h_hat_t = self.tanh(np.dot(self.W_h, concat_reset_input) + self.b_h)
        h_t = (1 - z_t) * h_prev + z_t * h_hat_t
        return h_t


class FixedSeedGRUAdapter(seed.SeedGRUAdapter):
    """forward(x[t], h) for each step and sample, h carried; h0 passed in when given."""

    name = "seed-numpy-gru-fixed"

    def capabilities(self):
        caps = super().capabilities()
        unsupported = {k: v for k, v in caps.unsupported.items() if k != "initial_state"}
        return dataclasses.replace(caps, initial_state=True, unsupported=unsupported)

    def run(self, case):
        s = case.spec
        gru = GRU(s.input_size, s.hidden_size)
        seed.load_canonical(gru, case.weights[0])
        h = case.h0_or_zeros()[0].copy()  # (B, H): one state per sample
        y = np.empty((case.T, case.B, s.hidden_size))
        for t in range(case.T):
            for b in range(case.B):
                h[b] = gru.forward(case.x[t, b], h[b])  # fixed: the state is carried
            y[t] = h
        return GRUResult(y=y, h_n=h[None].copy())
