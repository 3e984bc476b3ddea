"""The seed blog's NumPy GRU, mapped into canonical terms, agrees with the oracle.

The seed writes the same GRU in another convention: per gate one (H, I+H) matrix on the
concatenation [x; h] and one bias, the reset applied before the matmul, and the update
as h_t = (1 - z) * h_prev + z * h_hat, i.e. its z is the canonical 1 - z. Since
1 - sigmoid(a) = sigmoid(-a), the mapping negates the seed's z weights and bias.

Its forward() also starts from h_prev = zeros at every call, so driven step by step it never
carries the state; that is a bug of the seed, shown here to disagree with the oracle.
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import references


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


class SeedGRU:
    """The seed's equations (one sample), with weights given instead of drawn inside."""

    def __init__(self, W_z, W_r, W_h, b_z, b_r, b_h):
        self.W_z, self.W_r, self.W_h = W_z, W_r, W_h
        self.b_z, self.b_r, self.b_h = b_z, b_r, b_h

    def step(self, x, h_prev):
        concat_input = np.concatenate([x, h_prev], axis=0)
        z_t = sigmoid(np.dot(self.W_z, concat_input) + self.b_z)
        r_t = sigmoid(np.dot(self.W_r, concat_input) + self.b_r)
        concat_reset_input = np.concatenate([x, r_t * h_prev], axis=0)
        h_hat_t = np.tanh(np.dot(self.W_h, concat_reset_input) + self.b_h)
        return (1 - z_t) * h_prev + z_t * h_hat_t

    def run_carried(self, xs, h0):
        """The state carried from step to step: what a GRU is meant to do."""
        h, out = h0, []
        for x in xs:
            h = self.step(x, h)
            out.append(h)
        return np.array(out)

    def run_as_written(self, xs):
        """The seed's loop: forward() resets h_prev to zeros at every step."""
        H = self.b_z.shape[0]
        return np.array([self.step(x, np.zeros(H)) for x in xs])


def to_canonical(seed: SeedGRU, n_in: int):
    """(W, U, bW, bU) in gate order z, r, n; the seed's z becomes 1 - z by negation."""
    W = np.stack([-seed.W_z[:, :n_in], seed.W_r[:, :n_in], seed.W_h[:, :n_in]])
    U = np.stack([-seed.W_z[:, n_in:], seed.W_r[:, n_in:], seed.W_h[:, n_in:]])
    bW = np.stack([-seed.b_z, seed.b_r, seed.b_h])
    bU = np.zeros_like(bW)  # the seed has one bias per gate; it sits on the input side
    return W, U, bW, bU


@st.composite
def seed_setups(draw, min_T=1):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_in, H = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    T, B = draw(st.integers(min_T, 6)), draw(st.integers(1, 3))
    seed = SeedGRU(*(rng.standard_normal((H, n_in + H)) for _ in range(3)),
                   *(rng.standard_normal(H) for _ in range(3)))
    return seed, rng.standard_normal((T, B, n_in)), rng.standard_normal((B, H))


@given(seed_setups())
def test_seed_with_carried_state_equals_oracle(setup):
    seed, x, h0 = setup
    n_in = x.shape[2]
    y, h_n = references.gru(x, [to_canonical(seed, n_in)], reset_after=False, h0=h0[None])
    for b in range(x.shape[1]):
        expected = seed.run_carried(x[:, b], h0[b])
        assert_allclose(y[:, b], expected, rtol=1e-12, atol=1e-14)
        assert_allclose(h_n[0, b], expected[-1], rtol=1e-12, atol=1e-14)


@given(seed_setups())
def test_mapping_needs_the_z_flip(setup):
    """Without negating z (seed z taken as canonical z), the two disagree: the flip is real."""
    seed, x, h0 = setup
    W, U, bW, bU = to_canonical(seed, x.shape[2])
    W[0], U[0], bW[0] = -W[0], -U[0], -bW[0]
    y, _ = references.gru(x, [(W, U, bW, bU)], reset_after=False, h0=h0[None])
    expected = np.stack([seed.run_carried(x[:, b], h0[b]) for b in range(x.shape[1])], axis=1)
    assert not np.allclose(y, expected, rtol=1e-9, atol=1e-12)


@given(seed_setups(min_T=2))
def test_seed_as_written_is_not_a_gru(setup):
    """Zeroing h_prev each step agrees with the oracle at t = 0 only (h0 = 0 there), never after."""
    seed, x, _ = setup
    y, _ = references.gru(x, [to_canonical(seed, x.shape[2])], reset_after=False)
    for b in range(x.shape[1]):
        as_written = seed.run_as_written(x[:, b])
        assert_allclose(y[0, b], as_written[0], rtol=1e-12, atol=1e-14)
        assert not np.allclose(y[1:, b], as_written[1:], rtol=1e-9, atol=1e-12)
