"""The oracle at the corners of the spec: zero-length sequences and per-direction activations.

Not circular: each property is checked against a different computation (the batch without the
empty row, each direction run on its own), never against the code path under test.
"""

import numpy as np
import pytest

import references
from references import gru, gru_vjp

RNG = np.random.default_rng(3)


def _params(I, H, n):  # noqa: E741
    return [tuple(RNG.standard_normal(s) * 0.5 for s in ((3, H, I), (3, H, H), (3, H), (3, H))) for _ in range(n)]


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("reset_after", [True, False])
def test_a_zero_length_row_outputs_zeros_keeps_h0_and_leaves_the_other_rows_alone(direction, reset_after):
    L, D, T, B, I, H = 2, references.DIRECTIONS[direction], 4, 3, 2, 3  # noqa: E741
    params = [p for layer in range(L) for p in _params(I if layer == 0 else D * H, H, D)]
    x, h0 = RNG.standard_normal((T, B, I)), RNG.standard_normal((L * D, B, H))
    lengths = np.array([4, 0, 2])
    kw = dict(num_layers=L, direction=direction, reset_after=reset_after)
    y, h_n = gru(x, params, h0=h0, lengths=lengths, **kw)
    assert np.all(y[:, 1] == 0) and np.array_equal(h_n[:, 1], h0[:, 1])
    keep = [0, 2]  # the same batch without the empty row
    y2, h2 = gru(x[:, keep], params, h0=h0[:, keep], lengths=lengths[keep], **kw)
    assert np.allclose(y[:, keep], y2, atol=1e-13) and np.allclose(h_n[:, keep], h2, atol=1e-13)
    # negative counterpart: a row of length 1 is not left alone
    y1, h1 = gru(x, params, h0=h0, lengths=np.array([4, 1, 2]), **kw)
    assert not np.array_equal(h1[:, 1], h0[:, 1])


def test_the_vjp_of_a_zero_length_row_passes_hn_bar_to_h0_and_nothing_else():
    L, D, T, B, I, H = 2, 2, 3, 3, 2, 2  # noqa: E741
    params = [p for layer in range(L) for p in _params(I if layer == 0 else D * H, H, D)]
    x, h0 = RNG.standard_normal((T, B, I)), RNG.standard_normal((L * D, B, H))
    y_bar, hn_bar = RNG.standard_normal((T, B, D * H)), RNG.standard_normal((L * D, B, H))
    lengths = np.array([3, 0, 2])
    kw = dict(num_layers=L, direction="bidirectional")
    g = gru_vjp(x, params, y_bar, hn_bar, h0=h0, lengths=lengths, **kw)
    assert np.array_equal(g.dh0[:, 1], hn_bar[:, 1]) and np.all(g.dx[:, 1] == 0)
    keep = [0, 2]
    g2 = gru_vjp(x[:, keep], params, y_bar[:, keep], hn_bar[:, keep], h0=h0[:, keep], lengths=lengths[keep], **kw)
    assert np.allclose(g.dx[:, keep], g2.dx, atol=1e-12) and np.allclose(g.dh0[:, keep], g2.dh0, atol=1e-12)
    for a, b in zip(g.dparams, g2.dparams, strict=True):
        for u, v in zip(a, b, strict=True):
            assert np.allclose(u, v, atol=1e-12)


PAIRS = [("Sigmoid", "Tanh"), (("HardSigmoid", 0.25, 0.5), ("LeakyRelu", 0.5, None))]


@pytest.mark.parametrize("reset_after", [True, False])
def test_per_direction_activations_are_each_direction_run_on_its_own(reset_after):
    T, B, I, H = 4, 2, 3, 2  # noqa: E741
    fwd, rev = _params(I, H, 2)
    x, h0 = RNG.standard_normal((T, B, I)), RNG.standard_normal((2, B, H))
    lengths = np.array([4, 2])
    acts = [*PAIRS[0], *PAIRS[1]]
    y, h_n = gru(x, [fwd, rev], direction="bidirectional", reset_after=reset_after, h0=h0, lengths=lengths,
                 activations=acts)
    yf, hf = gru(x, [fwd], direction="forward", reset_after=reset_after, h0=h0[:1], lengths=lengths,
                 activations=PAIRS[0])
    yr, hr = gru(x, [rev], direction="reverse", reset_after=reset_after, h0=h0[1:], lengths=lengths,
                 activations=PAIRS[1])
    assert np.array_equal(y, np.concatenate([yf, yr], axis=2)) and np.array_equal(h_n, np.concatenate([hf, hr]))
    # negative counterpart: the forward pair for both directions is another GRU
    y_one, _ = gru(x, [fwd, rev], direction="bidirectional", reset_after=reset_after, h0=h0, lengths=lengths,
                   activations=PAIRS[0])
    assert not np.allclose(y_one[:, :, H:], y[:, :, H:])


def test_the_vjp_with_per_direction_activations_is_the_sum_of_the_directions():
    T, B, I, H = 3, 2, 2, 2  # noqa: E741
    fwd, rev = _params(I, H, 2)
    x, h0 = RNG.standard_normal((T, B, I)), RNG.standard_normal((2, B, H))
    y_bar, hn_bar = RNG.standard_normal((T, B, 2 * H)), RNG.standard_normal((2, B, H))
    g = gru_vjp(x, [fwd, rev], y_bar, hn_bar, direction="bidirectional", h0=h0, activations=[*PAIRS[0], *PAIRS[1]])
    gf = gru_vjp(x, [fwd], y_bar[:, :, :H], hn_bar[:1], direction="forward", h0=h0[:1], activations=PAIRS[0])
    gr = gru_vjp(x, [rev], y_bar[:, :, H:], hn_bar[1:], direction="reverse", h0=h0[1:], activations=PAIRS[1])
    assert np.allclose(g.dx, gf.dx + gr.dx, atol=1e-12)
    assert np.array_equal(g.dh0, np.concatenate([gf.dh0, gr.dh0]))
    for a, b in zip(g.dparams, [gf.dparams[0], gr.dparams[0]], strict=True):
        for u, v in zip(a, b, strict=True):
            assert np.array_equal(u, v)


def test_four_activations_need_two_directions():
    p = _params(1, 1, 1)
    with pytest.raises(ValueError, match="4 .f, g per direction. when bidirectional"):
        gru(np.ones((1, 1, 1)), p, activations=["Sigmoid", "Tanh", "Relu", "Tanh"])
