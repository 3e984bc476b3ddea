"""Metamorphic properties of the reference VJP: relations any correct backward pass satisfies.

Each test runs ``references.gru_vjp`` in two different ways (scaled cotangents, one sequence
at a time, reversed time, separate directions or layers) and asserts the two agree; where a
property could hold vacuously, a negative counterpart shows that the compared quantities do
change when the relation is broken. Cases come from the strategy of test_backward_fd.py, so
every feature (activations, clip, lengths, layers) is drawn here too.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import references
from tests.references.test_backward_fd import Case, cases


def flat(g) -> list:
    return [g.dx, g.dh0] + [a for p in g.dparams for a in p]


def close(got, expected, rtol=1e-10):
    for a, b in zip(flat(got), flat(expected), strict=True):
        assert_allclose(a, b, rtol=rtol, atol=1e-12 * max(1.0, float(np.max(np.abs(b), initial=0.0))))


def same(got, expected):
    return all(np.array_equal(a, b) for a, b in zip(flat(got), flat(expected), strict=True))


def all_zero(g) -> bool:
    return all(not np.any(a) for a in flat(g))


def differs(g1, g2) -> bool:
    return not all(np.allclose(a, b) for a, b in zip(flat(g1), flat(g2), strict=True))


def plain(case) -> bool:
    """Smooth, unclipped gates: no gradient can vanish by saturation, so a counterpart can be asserted."""
    return case.kw["clip"] is None and case.kw["activations"] == ("Sigmoid", "Tanh")


@given(cases(), st.floats(-3, 3), st.floats(-3, 3), st.integers(0, 2**32 - 1))
def test_linear_in_the_cotangent(case, a, b, seed):
    rng = np.random.default_rng(seed)
    y2, h2 = rng.standard_normal(case.y_bar.shape), rng.standard_normal(case.hn_bar.shape)
    combined = case.vjp(a * case.y_bar + b * y2, a * case.hn_bar + b * h2)
    g1, g2 = case.vjp(), case.vjp(y2, h2)
    expected = g1._replace(dx=a * g1.dx + b * g2.dx, dh0=a * g1.dh0 + b * g2.dh0,
                           dparams=[type(p)(*(a * u + b * v for u, v in zip(p, q, strict=True)))
                                    for p, q in zip(g1.dparams, g2.dparams, strict=True)])
    close(combined, expected)


@given(cases(custom=False, clip=False), st.integers(0, 2**32 - 1))
def test_the_gradient_depends_on_the_cotangent(case, seed):
    """The counterpart of the two linearity tests: a different cotangent gives other gradients."""
    rng = np.random.default_rng(seed)
    other = case.vjp(rng.standard_normal(case.y_bar.shape), rng.standard_normal(case.hn_bar.shape))
    assert differs(case.vjp(), other)
    assert not all_zero(case.vjp())


@given(cases())
def test_a_zero_cotangent_gives_zero_gradients(case):
    assert all_zero(case.vjp(np.zeros_like(case.y_bar), np.zeros_like(case.hn_bar)))


@given(cases(ragged=True))
def test_cotangents_at_padding_reach_nothing(case):
    """y is zero past each length by definition, so y_bar there is not a gradient of anything."""
    T = case.x.shape[0]
    pad = np.arange(T)[:, None] >= case.kw["lengths"][None, :]
    assume(pad.any())
    g = case.vjp(np.where(pad[:, :, None], case.y_bar, 0.0), np.zeros_like(case.hn_bar))
    assert all_zero(g)
    valid = case.vjp(np.where(pad[:, :, None], 0.0, case.y_bar), np.zeros_like(case.hn_bar))
    assert not np.any(valid.dx[pad])  # and x past a length is never reached from anywhere
    if plain(case):  # the counterpart: the same cotangent at the valid positions reaches the weights
        assert not all_zero(valid)


@given(cases(custom=False, clip=False, ragged=True))
def test_the_last_valid_cotangent_does_reach_x(case):
    """The counterpart of the padding test at its edge: t = len_b - 1 is not padding."""
    T, B = case.x.shape[:2]
    last = np.arange(T)[:, None] == case.kw["lengths"][None, :] - 1
    g = case.vjp(np.where(last[:, :, None], case.y_bar, 0.0), np.zeros_like(case.hn_bar))
    assert np.all(np.any(g.dx[last] != 0, axis=-1))


@given(cases(), st.data())
def test_each_sequence_alone_gives_its_rows_and_a_share_of_the_weights(case, data):
    """Sequence b alone, cut to its length: its dx rows (zero past the length) and dh0 rows, and
    the weight gradients of the batch are the sum over its sequences."""
    T, B = case.x.shape[:2]
    lengths = case.kw["lengths"] if case.kw["lengths"] is not None else np.full(B, T)
    g = case.vjp()
    total = None
    for b in range(B):
        n, row = int(lengths[b]), slice(b, b + 1)
        alone = Case(case.x[:n, row], case.params, None if case.h0 is None else case.h0[:, row],
                     dict(case.kw, lengths=None), case.y_bar[:n, row], case.hn_bar[:, row]).vjp()
        assert_allclose(g.dx[:n, b], alone.dx[:, 0], rtol=1e-10, atol=1e-12)
        assert not np.any(g.dx[n:, b])
        assert_allclose(g.dh0[:, b], alone.dh0[:, 0], rtol=1e-10, atol=1e-12)
        total = alone.dparams if total is None else [type(p)(*(u + v for u, v in zip(p, q, strict=True)))
                                                     for p, q in zip(total, alone.dparams, strict=True)]
    close(g, g._replace(dparams=total))


@given(cases(directions=("reverse",), ragged=False))
def test_reverse_is_forward_on_reversed_time(case):
    g = case.vjp()
    flipped = case.vjp(case.y_bar[::-1], x=case.x[::-1], direction="forward")
    close(g, flipped._replace(dx=flipped.dx[::-1]))
    if case.x.shape[0] > 1 and plain(case):  # the counterpart: the cotangent not flipped is another loss
        unflipped = case.vjp(x=case.x[::-1], direction="forward")
        assert differs(g, unflipped._replace(dx=unflipped.dx[::-1]))


@given(cases(directions=("bidirectional",), max_layers=1))
def test_bidirectional_is_forward_and_reverse_combined(case):
    g = case.vjp()
    H = case.hn_bar.shape[2]
    h0 = case.h0 if case.h0 is not None else np.zeros_like(case.hn_bar)
    f, r = (case.vjp(case.y_bar[:, :, d * H : (d + 1) * H], case.hn_bar[d : d + 1], params=[case.params[d]],
                     h0=h0[d : d + 1], direction=direction)
            for d, direction in enumerate(("forward", "reverse")))
    close(g, g._replace(dx=f.dx + r.dx, dh0=np.concatenate([f.dh0, r.dh0]), dparams=f.dparams + r.dparams))
    if plain(case):  # the counterpart: the directions' halves of y_bar swapped is another loss
        swapped = np.concatenate([case.y_bar[:, :, H:], case.y_bar[:, :, :H]], axis=2)
        assert differs(case.vjp(swapped), g)


@given(cases(max_layers=1), st.integers(0, 2**32 - 1))
def test_two_layers_are_two_chained_vjps(case, seed):
    """The upper layer's dx is the y_bar of the lower layer's output."""
    rng = np.random.default_rng(seed)
    D, (_, B, H) = references.DIRECTIONS[case.kw["direction"]], case.hn_bar.shape
    upper = [(0.6 * rng.standard_normal((3, H, D * H)), 0.6 * rng.standard_normal((3, H, H)),
              0.3 * rng.standard_normal((3, H)), 0.3 * rng.standard_normal((3, H))) for _ in range(D)]
    h0 = case.h0 if case.h0 is not None else np.zeros((D, B, H))
    h0_up, hn_bar_up = rng.standard_normal((D, B, H)), rng.standard_normal((D, B, H))
    both = case.vjp(case.y_bar, np.concatenate([case.hn_bar, hn_bar_up]), params=case.params + upper,
                    h0=np.concatenate([h0, h0_up]), num_layers=2)
    lower_y, _ = case.gru(h0=h0)
    top = case.vjp(case.y_bar, hn_bar_up, x=lower_y, params=upper, h0=h0_up)
    bottom = case.vjp(top.dx, case.hn_bar, h0=h0)
    close(both, both._replace(dx=bottom.dx, dh0=np.concatenate([bottom.dh0, top.dh0]),
                              dparams=bottom.dparams + top.dparams))


@given(cases(clip=False))
def test_a_huge_clip_is_no_clip_and_absent_h0_is_zeros(case):
    g = case.vjp()
    assert same(case.vjp(clip=1e30), g)
    if case.h0 is None:
        assert same(case.vjp(h0=np.zeros_like(case.hn_bar)), g)


@given(cases(ragged=True, max_layers=2))
def test_a_zero_length_sequence_passes_hn_bar_to_h0(case):
    """lengths[b] = 0 (DESIGN section 5): y[:, b] = 0 and h_n[:, b] = h0[:, b], so dh0[:, b] is hn_bar[:, b]
    and the sequence adds nothing to dx or the weights."""
    lengths = case.kw["lengths"].copy()
    lengths[0] = 0
    g = case.vjp(lengths=lengths)
    assert np.array_equal(g.dh0[:, 0], case.hn_bar[:, 0])
    assert not np.any(g.dx[:, 0])
    if case.x.shape[1] > 1:
        rest = slice(1, None)
        others = case.vjp(case.y_bar[:, rest], case.hn_bar[:, rest], x=case.x[:, rest], lengths=lengths[rest],
                          h0=None if case.h0 is None else case.h0[:, rest])
        close(g._replace(dx=g.dx[:, rest], dh0=g.dh0[:, rest]), others)


def test_a_bare_callable_activation_is_refused():
    """A callable has no derivative the VJP could use; the forward accepts it, the VJP says why not."""
    x, p = np.zeros((1, 1, 1)), [(np.zeros((3, 1, 1)), np.zeros((3, 1, 1)), np.zeros((3, 1)), np.zeros((3, 1)))]
    with pytest.raises(TypeError, match="bare callable has no derivative"):
        references.gru_vjp(x, p, activations=(np.tanh, "Tanh"))
