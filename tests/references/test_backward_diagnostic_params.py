"""references.gru_vjp's diagnostic parameters (blocked, bptt_steps): off by default, and each does what it says.

They exist so that the engine can name a wrong backward (conformance.backward_variants); the
defaults must leave the true VJP untouched, and each must change exactly the path it names.
"""

import numpy as np
import pytest

import references


def case(seed=0, T=5, reset_after=True):
    rng = np.random.default_rng(seed)
    I, H, B = 2, 3, 2  # noqa: E741 - the canonical names
    p = [(rng.standard_normal((3, H, I)), rng.standard_normal((3, H, H)) / 2, rng.standard_normal((3, H)),
          rng.standard_normal((3, H)))]
    x, h0 = rng.standard_normal((T, B, I)), rng.uniform(-0.8, 0.8, (1, B, H))
    return x, p, rng.standard_normal((T, B, H)), rng.standard_normal((1, B, H)), dict(h0=h0, reset_after=reset_after)


def flat(g):
    return [g.dx, g.dh0] + [a for q in g.dparams for a in q]


@pytest.mark.parametrize("reset_after", [True, False])
def test_a_chunk_as_long_as_the_sequence_is_the_true_vjp(reset_after):
    x, p, yb, hb, kw = case(reset_after=reset_after)
    true = references.gru_vjp(x, p, yb, hb, **kw)
    for a, b in zip(flat(true), flat(references.gru_vjp(x, p, yb, hb, bptt_steps=len(x), **kw)), strict=True):
        assert np.array_equal(a, b)
    short = references.gru_vjp(x, p, yb, hb, bptt_steps=2, **kw)
    assert not np.allclose(short.dh0, true.dh0)
    # chunks [0, 1], [2, 3], [4] (T=5, k=2): the last chunk is whole, the one before lost dh from step 4
    assert np.array_equal(short.dx[4:], true.dx[4:]) and not np.allclose(short.dx[3], true.dx[3])


@pytest.mark.parametrize("reset_after", [True, False])
def test_blocking_the_reset_zeroes_exactly_the_reset_gates_weight_gradients(reset_after):
    x, p, yb, hb, kw = case(reset_after=reset_after)
    g = references.gru_vjp(x, p, yb, hb, blocked=("reset",), **kw)
    true = references.gru_vjp(x, p, yb, hb, **kw)
    dW, dU, dbW, dbU = g.dparams[0]
    assert not dW[1].any() and not dU[1].any() and not dbW[1].any() and not dbU[1].any()
    assert true.dparams[0][0][1].any()  # the reset gate does have a gradient when not blocked
    z = references.gru_vjp(x, p, yb, hb, blocked=("zh",), **kw)
    assert not np.allclose(z.dh0, true.dh0)


def test_an_unknown_path_is_refused():
    x, p, yb, hb, kw = case()
    with pytest.raises(ValueError, match="blocked"):
        references.gru_vjp(x, p, yb, hb, blocked=("update",), **kw)
