"""The oracle against numbers worked out by hand, one scalar at a time.

Every expected value below is written from the GRU equations with math.exp and math.tanh on
scalars, so these tests share no code with the oracle: if both were wrong, they would have
to be wrong in the same way by two different routes.

    z = f(W_z x + bW_z + U_z h + bU_z),  r = f(W_r x + bW_r + U_r h + bU_r)
    n = g(W_n x + bW_n + r * (U_n h + bU_n))   reset_after=True
    n = g(W_n x + bW_n + U_n (r * h) + bU_n)   reset_after=False
    h' = z * h + (1 - z) * n
"""

import math

import numpy as np
from numpy.testing import assert_allclose

import references


def sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def close(actual, expected):
    assert_allclose(actual, expected, rtol=1e-13, atol=1e-15)


def test_two_steps_reset_after_true():
    """I = H = 1, T = 2, with an initial state: the state is carried from step 1 to step 2."""
    W = np.array([0.5, -1.0, 2.0]).reshape(3, 1, 1)  # gates z, r, n
    U = np.array([1.0, 0.5, -0.5]).reshape(3, 1, 1)
    bW = np.array([[0.1], [0.2], [0.0]])
    bU = np.array([[0.0], [-0.3], [0.75]])
    x = np.array([1.0, -2.0]).reshape(2, 1, 1)
    h0 = np.array([0.5]).reshape(1, 1, 1)

    # step 1: x = 1, h = 0.5
    z1 = sig(0.5 * 1 + 0.1 + 1.0 * 0.5 + 0.0)  # sig(1.1) ~ 0.7503
    r1 = sig(-1.0 * 1 + 0.2 + 0.5 * 0.5 - 0.3)  # sig(-0.85) ~ 0.2994
    n1 = math.tanh(2.0 * 1 + 0.0 + r1 * (-0.5 * 0.5 + 0.75))  # tanh(2 + 0.5 r1) ~ 0.9732
    h1 = z1 * 0.5 + (1 - z1) * n1  # ~ 0.6182
    # step 2: x = -2, h = h1
    z2 = sig(0.5 * -2 + 0.1 + 1.0 * h1 + 0.0)  # ~ 0.4300
    r2 = sig(-1.0 * -2 + 0.2 + 0.5 * h1 - 0.3)  # ~ 0.9011
    n2 = math.tanh(2.0 * -2 + 0.0 + r2 * (-0.5 * h1 + 0.75))  # ~ -0.9985
    h2 = z2 * h1 + (1 - z2) * n2  # ~ -0.3033

    y, h_n = references.gru(x, [(W, U, bW, bU)], h0=h0, reset_after=True)
    close(y[:, 0, 0], [h1, h2])
    close(h_n[0, 0, 0], h2)
    assert abs(h2 - -0.30332462024399653) < 1e-12  # the hand arithmetic itself, pinned


def test_two_steps_reset_before_h2():
    """H = 2 and reset_after=False: U_n multiplies r*h, which mixes the two units.

    h0 is absent (zeros), so step 1 sees no recurrent term and step 2 sees all of them.
    """
    W = np.array([[[0.5], [-0.5]], [[1.0], [0.25]], [[-1.0], [2.0]]])  # (3, H=2, I=1)
    U = np.array([[[0.5, -1.0], [0.0, 0.25]],   # U_z
                  [[1.0, 0.5], [-0.5, 0.0]],    # U_r
                  [[0.0, 1.0], [2.0, 0.0]]])    # U_n swaps the units
    bW = np.array([[0.0, 0.5], [0.0, 0.0], [0.25, -0.25]])
    bU = np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 0.5]])
    x = np.array([1.0, 0.5]).reshape(2, 1, 1)

    # step 1: x = 1, h = (0, 0): every U term is zero
    z = (sig(0.5 + 0.0), sig(-0.5 + 0.5))  # (sig(0.5), 0.5)
    # r does not matter at step 1 (it multiplies h = 0)
    n = (math.tanh(-1.0 + 0.25 + 0.0), math.tanh(2.0 - 0.25 + 0.5))  # (tanh(-0.75), tanh(2.25))
    a = (1 - z[0]) * n[0]  # ~ -0.2398
    b = (1 - z[1]) * n[1]  # ~ 0.4890
    # step 2: x = 0.5, h = (a, b)
    z0 = sig(0.5 * 0.5 + 0.0 + (0.5 * a - 1.0 * b) + 0.0)
    z1 = sig(-0.5 * 0.5 + 0.5 + (0.0 * a + 0.25 * b) + 0.0)
    r0 = sig(1.0 * 0.5 + 0.0 + (1.0 * a + 0.5 * b) + 0.5)
    r1 = sig(0.25 * 0.5 + 0.0 + (-0.5 * a + 0.0 * b) + 0.0)
    # U_n (r*h) = (r1*b, 2*r0*a): each unit's candidate sees the *other* unit's reset
    n0 = math.tanh(-1.0 * 0.5 + 0.25 + r1 * b + 0.0)
    n1 = math.tanh(2.0 * 0.5 - 0.25 + 2.0 * r0 * a + 0.5)
    h2 = (z0 * a + (1 - z0) * n0, z1 * b + (1 - z1) * n1)  # ~ (-0.0843, 0.5815)

    y, h_n = references.gru(x, [(W, U, bW, bU)], reset_after=False)
    close(y[:, 0, :], [[a, b], list(h2)])
    close(h_n[0, 0], h2)


# For the length tests: W = U = (0, 0, 1) and no bias, so z = r = sig(0) = 1/2 and
#     n = tanh(x + h/2),  h' = h/2 + n/2.
LEN_W = np.array([0.0, 0.0, 1.0]).reshape(3, 1, 1)
LEN_PARAMS = [(LEN_W, LEN_W.copy(), np.zeros((3, 1)), np.zeros((3, 1)))]
# time-major (T=3, B=2, I=1); sequence 0 has length 2, so its x[2] = 100 must never be read
LEN_X = np.array([[0.5, 1.0], [-1.0, 0.5], [100.0, -0.5]]).reshape(3, 2, 1)
LEN_H0 = np.array([0.5, -0.5]).reshape(1, 2, 1)
LENGTHS = np.array([2, 3])


def half_step(x: float, h: float) -> float:
    """h' for z = r = 1/2: 0.5*h + 0.5*tanh(x + 0.5*h)."""
    return 0.5 * h + 0.5 * math.tanh(x + 0.5 * h)


def test_reverse_with_lengths_starts_at_each_last_step():
    # sequence 0 (length 2) reads t = 1, then t = 0; y[2] is padding
    s0_t1 = half_step(-1.0, 0.5)   # 0.25 + 0.5*tanh(-0.75)
    s0_t0 = half_step(0.5, s0_t1)
    # sequence 1 (length 3) reads t = 2, 1, 0
    s1_t2 = half_step(-0.5, -0.5)  # -0.25 + 0.5*tanh(-0.75)
    s1_t1 = half_step(0.5, s1_t2)
    s1_t0 = half_step(1.0, s1_t1)

    y, h_n = references.gru(LEN_X, LEN_PARAMS, direction="reverse", h0=LEN_H0, lengths=LENGTHS)
    close(y[:, 0, 0], [s0_t0, s0_t1, 0.0])
    close(y[:, 1, 0], [s1_t0, s1_t1, s1_t2])
    assert y[2, 0, 0] == 0.0
    # h_n is the state after the last step taken, which for reverse is t = 0
    close(h_n[0, :, 0], [s0_t0, s1_t0])


def test_forward_with_lengths_stops_at_each_last_step():
    s0_t0 = half_step(0.5, 0.5)
    s0_t1 = half_step(-1.0, s0_t0)
    s1_t0 = half_step(1.0, -0.5)
    s1_t1 = half_step(0.5, s1_t0)
    s1_t2 = half_step(-0.5, s1_t1)

    y, h_n = references.gru(LEN_X, LEN_PARAMS, direction="forward", h0=LEN_H0, lengths=LENGTHS)
    close(y[:, 0, 0], [s0_t0, s0_t1, 0.0])
    close(y[:, 1, 0], [s1_t0, s1_t1, s1_t2])
    assert y[2, 0, 0] == 0.0
    close(h_n[0, :, 0], [s0_t1, s1_t2])


# One gru_cell step, I = 2, H = 1, x = (1, 0.5), h = 0.5.
CELL_W = np.array([[[1.0, 2.0]], [[0.5, -0.5]], [[3.0, 1.0]]])
CELL_U = np.array([0.5, 1.0, -1.0]).reshape(3, 1, 1)
CELL_BW = np.array([[0.0], [0.0], [-3.0]])
CELL_BU = np.array([[0.25], [0.0], [1.0]])
CELL_X = np.array([[1.0, 0.5]])
CELL_H = np.array([[0.5]])


def test_gru_cell_one_step():
    z = sig(1.0 * 1 + 2.0 * 0.5 + 0.0 + 0.5 * 0.5 + 0.25)  # sig(2.5)
    r = sig(0.5 * 1 - 0.5 * 0.5 + 0.0 + 1.0 * 0.5 + 0.0)   # sig(0.75)
    n = math.tanh(3.0 * 1 + 1.0 * 0.5 - 3.0 + r * (-1.0 * 0.5 + 1.0))  # tanh(0.5 + 0.5 r)
    expected = z * 0.5 + (1 - z) * n

    h = references.gru_cell(CELL_X, CELL_H, CELL_W, CELL_U, CELL_BW, CELL_BU, reset_after=True)
    close(h[0, 0], expected)


def test_gru_cell_clip_and_other_activations():
    """clip=1 clips z's pre-activation 2.5 to 1; f = HardSigmoid(0.2, 0.5), g = 2*tanh(x/2)."""
    def hard_sigmoid(v):
        return min(1.0, max(0.0, 0.2 * v + 0.5))

    z = hard_sigmoid(min(2.5, 1.0))  # 0.7 (unclipped it would be 1.0)
    r = hard_sigmoid(0.75)           # 0.65
    n = 2.0 * math.tanh(0.5 * (0.5 + r * 0.5))  # pre-activation 0.825 is inside the clip
    expected = z * 0.5 + (1 - z) * n

    h = references.gru_cell(CELL_X, CELL_H, CELL_W, CELL_U, CELL_BW, CELL_BU, reset_after=True,
                            activations=("HardSigmoid", ("ScaledTanh", 2.0, 0.5)), clip=1.0)
    close(h[0, 0], expected)
