"""Hypothesis strategies for GRU cases, drawn only inside an adapter's capabilities.

Structure (dtype, sizes, direction, layers, flags, lengths) is drawn by Hypothesis and
shrinks to the smallest failing shape. The weights and inputs are drawn from a seed
that Hypothesis draws: element-by-element arrays cap generation at a few hundred cases
per second, seeded values run about five times faster (see benchmarks/bench_generation.py);
the price is that values shrink only by changing seed, not towards simple numbers.
A minimal *shape* is what makes a failure legible, so that is the trade taken.

Values (weights, x, h0) and their scaling are conformance.values'; one case in eight is
drawn "saturating".
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, event
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from references.activations import USES_ALPHA, USES_BETA

from .biases import from_flag
from .canonical import oracle
from .case import SIGMOID, TANH, Activation, GRUCase, GRUSpec
from .contract import Capabilities
from .profiles import Profile, get_profile
from .sizes import boundary_sizes, capped
from .values import case_values

#: exactly representable alpha/beta values, in every dtype.
PARAMS = (0.25, 0.5, 1.5, 2.0)


def _flag(draw, forced, allowed: bool, one_in: int = 2) -> bool:
    """A forced value, else a draw that is True about once in ``one_in`` when allowed."""
    if forced is not None:
        return bool(forced)
    return allowed and draw(st.integers(0, one_in - 1)) == 0


@st.composite
def _activation(draw, names: tuple) -> Activation:
    name = draw(st.sampled_from(names))
    alpha = draw(st.sampled_from(PARAMS)) if name in USES_ALPHA else None
    beta = draw(st.sampled_from(PARAMS)) if name in USES_BETA else None
    return Activation(name, alpha, beta)


@st.composite
def gru_cases(
    draw,
    caps: Capabilities,
    profile: Profile | str | None = None,
    *,
    dtype: str | None = None,
    reset_after: bool | None = None,
    bias: bool | None = None,
    direction: str | None = None,
    min_layers: int = 1,
    h0: bool | None = None,
    lengths: bool | None = None,
    zero_lengths: bool | None = None,
    activations: bool | str | None = None,
    clip: bool | None = None,
    size: str | None = None,
) -> GRUCase:
    """A GRUCase inside ``caps``; each keyword forces one feature on (True) or off (False).

    A zero length is drawn only when ``zero_lengths`` is forced on (it implies ragged lengths):
    it is a corner of the spec that an implementation declares, not a kind of ragged batch.
    ``activations="per_direction"`` forces a different (f, g) per direction (with ``direction=
    "bidirectional"``); unforced, a bidirectional case gets them one time in four where declared.
    ``size="large"`` draws I, H and B from conformance.sizes up to the profile's large caps,
    ``size="long"`` draws T from them up to long_T; the other sizes are drawn as usual.
    """
    p = profile if isinstance(profile, Profile) else get_profile(profile)
    dtype = dtype or draw(st.sampled_from(caps.dtypes))
    direction = direction or draw(st.sampled_from(caps.directions))
    reset_after = draw(st.sampled_from(caps.reset_after)) if reset_after is None else reset_after
    structures = caps.bias_structures if bias is None else (
        tuple(b for b in caps.bias_structures if (b != "none") == bias) or (from_flag(bias),))
    bias_structure = draw(st.sampled_from(structures))
    bias = bias_structure != "none"
    layers = draw(st.integers(min_layers, max(min_layers, min(caps.max_layers, p.max_layers))))
    # an empty sequence's h_n is its h0: given one, that is tested against something other than zeros
    use_h0 = _flag(draw, True if zero_lengths and h0 is None and caps.initial_state else h0, caps.initial_state)
    ragged = _flag(draw, True if zero_lengths and lengths is None else lengths, caps.lengths)
    per_dir = activations == "per_direction" or (activations is None and direction == "bidirectional" and _flag(
        draw, None, caps.per_direction_activations, one_in=4))
    custom = per_dir or _flag(draw, activations, bool(caps.activations), one_in=4)
    use_clip = _flag(draw, clip, caps.clip, one_in=4)
    saturating = _flag(draw, None, True, one_in=8)

    low_T = 2 if ragged else 1
    if size == "long":
        T = _sized(draw, boundary_sizes(max(low_T, capped(p.long_T, caps.max_T)), low_T))
    else:
        T = draw(st.integers(low_T, max(low_T, capped(p.max_T, caps.max_T))))
    if size == "large":
        B = _sized(draw, boundary_sizes(capped(p.large_B, caps.max_batch)))
        I, H = (_sized(draw, boundary_sizes(capped(p.large_size, caps.max_size))) for _ in "IH")  # noqa: E741
    else:
        B = draw(st.integers(1, capped(p.max_B, caps.max_batch)))
        I = draw(st.integers(1, capped(p.max_size, caps.max_size)))  # noqa: E741 - the canonical name
        H = draw(st.integers(1, capped(p.max_size, caps.max_size)))

    acts = (SIGMOID, TANH)
    names = tuple(sorted(set(caps.activations) | {"Sigmoid", "Tanh"}))
    if per_dir:  # (f, g) forward, then a different (f, g) reverse
        pair = st.tuples(_activation(names), _activation(names))
        fwd, rev = draw(st.tuples(pair, pair).filter(lambda p: p[0] != p[1]))
        acts = (*fwd, *rev)
    elif custom:
        acts = draw(st.tuples(_activation(names), _activation(names)).filter(lambda a: a != (SIGMOID, TANH)))
    clip_value = draw(st.sampled_from((0.5, 1.0, 2.0, 4.0))) if use_clip else None

    spec = GRUSpec(I, H, layers, direction, reset_after, bias, acts, clip_value, bias_structure)
    seq_lengths = None
    if ragged:
        seq_lengths = draw(hnp.arrays(np.int64, B, elements=st.integers(1, T)))
        if B == 1:
            seq_lengths[0] = min(seq_lengths[0], T - 1)
        else:  # ragged lengths always include 1 and T
            seq_lengths[np.argmin(seq_lengths)] = 1
            seq_lengths[np.argmax(np.where(seq_lengths == 1, 0, seq_lengths))] = T
        if zero_lengths:  # one empty sequence (the whole batch when B == 1), beside one of length T
            others = [b for b in range(B) if seq_lengths[b] != T] or [0]
            seq_lengths[others[draw(st.integers(0, len(others) - 1))]] = 0
    seed = draw(st.integers(0, 2**32 - 1))
    weights, x, h = case_values(spec, T, B, dtype, seed, h0=use_h0, saturating=saturating)

    case = GRUCase(spec, weights, x, h, seq_lengths, dtype, seed=seed)
    if not spec.default_activations:
        assume(_bounded(case))
    for label in (f"dtype={dtype}", direction, f"layers={layers}", f"reset_after={reset_after}",
                  f"bias={bias_structure}", f"h0={use_h0}", f"ragged={ragged}", f"zero_length={bool(zero_lengths)}",
                  f"custom_activations={custom}", f"per_direction={per_dir}",
                  f"clip={use_clip}", f"saturating={saturating}", f"T={T}", f"B={B}", f"I={I}", f"H={H}"):
        event(label)
    return case


def _sized(draw, sizes: tuple) -> int:
    """One of ``sizes`` (ascending): the largest one time in three, else any; shrinks toward the smallest.

    A handful of examples must reach the cap, where the boundaries of every tile, block and chunk
    below it lie; uniform draws over the list would spend most of them on the small end. One integer
    choice covers both: indices past the list mean the cap, so that the shrinker, lowering it, walks
    down through the sizes to the smallest that still fails (a flag and a size drawn apart would not
    shrink: dropping the flag alone lands on an arbitrary size).
    """
    n = len(sizes)
    return sizes[min(draw(st.integers(0, n + n // 2 - 1)), n - 1)]


#: unbounded activations (Relu, Affine, ...) can make the state grow geometrically; a case
#: whose states leave [-BOUND, BOUND] measures overflow, not conformance, and is not drawn.
BOUND = 100.0


def _bounded(case: GRUCase) -> bool:
    with np.errstate(all="ignore"):
        r = oracle(case)
        return bool(np.all(np.abs(r.y) <= BOUND) and np.all(np.abs(r.h_n) <= BOUND))


def probe_case(case: GRUCase, caps: Capabilities) -> GRUCase:
    """A richer case of the same structure, to tell apart the explanations of a failure.

    Shrinking leaves tiny cases (often 1x1x1) that many bugs explain equally well; the
    probe keeps every flag of the case but has several units, steps and rows.
    """
    s = case.spec
    spec = GRUSpec(max(s.input_size, 3), max(s.hidden_size, 3), s.num_layers, s.direction, s.reset_after,
                   s.bias, s.activations, s.clip, s.bias_structure)
    T = max(case.T, 6)
    B = max(case.B, 3) if caps.max_batch is None else min(max(case.B, 3), caps.max_batch)
    lengths = None
    if case.lengths is not None:
        lengths = np.linspace(T, 1, B).round().astype(np.int64)  # includes T and 1
        if case.has_zero_length:  # and 0, where the case had one
            lengths[-1] = 0
    seed = (case.seed or 0) + 1
    weights, x, h = case_values(spec, T, B, case.dtype, seed, h0=case.h0 is not None, saturating=False)
    return GRUCase(spec, weights, x, h, lengths, case.dtype, seed=seed)
