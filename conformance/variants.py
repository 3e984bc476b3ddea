"""Known convention bugs, each expressed as a variant of the oracle.

A variant computes what an implementation with exactly that bug returns for a case. Most
are the oracle run on transformed weights or options; the rest rearrange its outputs or
run its per-direction core (references.gru_direction) differently. A variant returns
None where it cannot differ from the canonical result (e.g. h_n order with one layer).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .bugclasses import BugClass
from .canonical import oracle
from .case import GRUCase, GRUResult

GATES = "zrn"


@dataclass(frozen=True)
class Variant:
    name: str
    bug_class: BugClass
    description: str  # completes "matches the reference with ..."
    run: Callable[[GRUCase], Optional[GRUResult]]


def _params(case: GRUCase):
    return [tuple(np.array(a) for a in w) for w in case.weights]


def _permuted(perm):
    def run(case):
        return oracle(case, params=[tuple(a[list(perm)] for a in p) for p in _params(case)])
    return run


def _update_flipped(case):
    # 1 - f(a) = f(-a) for the sigmoid: negate the z gate's weights and biases.
    if any(a.name != "Sigmoid" for a in case.spec.activations[::2]):  # f of every direction
        return None
    params = []
    for W, U, bW, bU in _params(case):
        for a in (W, U, bW, bU):
            a[0] = -a[0]
        params.append((W, U, bW, bU))
    return oracle(case, params=params)


def _fold_bUn(case):
    if not case.spec.reset_after or not case.spec.bias:
        return None
    params = []
    for W, U, bW, bU in _params(case):
        bW[2] += bU[2]
        bU[2] = 0
        params.append((W, U, bW, bU))
    return oracle(case, params=params)


def _drop_bU(case):
    if not case.spec.bias:
        return None
    return oracle(case, params=[(W, U, bW, np.zeros_like(bU)) for W, U, bW, bU in _params(case)])


def _drop_bW(case):
    if not case.spec.bias:
        return None
    return oracle(case, params=[(W, U, np.zeros_like(bW), bU) for W, U, bW, bU in _params(case)])


def _transpose_U(case):
    return oracle(case, params=[(W, U.transpose(0, 2, 1), bW, bU) for W, U, bW, bU in _params(case)])


def _has_reverse(case):
    return case.spec.direction != "forward"


def _reverse_ignores_lengths(case):
    if not (_has_reverse(case) and case.ragged):
        return None
    return oracle(case, reverse_lengths=None)


def _map_reverse_halves(case, res, fn):
    s, H = case.spec, case.spec.hidden_size
    y = res.y.copy()
    lo = 0 if s.direction == "reverse" else H
    y[:, :, lo:lo + H] = fn(y[:, :, lo:lo + H])
    return GRUResult(y, res.h_n)


def _reverse_not_realigned(case):
    if not _has_reverse(case) or case.T == 1:
        return None
    T = case.T
    lengths = case.lengths if case.lengths is not None else np.full(case.B, T)

    def flip(half):  # step k of row b holds the state written at t = len_b - 1 - k
        out = np.zeros_like(half)
        for b, n in enumerate(lengths):
            if n:
                out[:n, b] = half[n - 1::-1, b]
        return out
    return _map_reverse_halves(case, oracle(case), flip)


def _outputs_shifted(case):
    """y[t] holds the state *before* consuming x[t] (h0 at the first step)."""
    s, r = case.spec, oracle(case)
    H, D = s.hidden_size, s.num_directions
    y = np.zeros_like(r.y)
    last = (s.num_layers - 1) * D
    lengths = case.lengths if case.lengths is not None else np.full(case.B, case.T)
    h0 = case.h0_or_zeros()
    for d in range(D):
        reverse = s.direction == "reverse" or d == 1
        for b, n in enumerate(lengths):
            if not n:  # an empty sequence writes nothing
                continue
            src = r.y[:n, b, d * H:(d + 1) * H]
            col = y[:n, b, d * H:(d + 1) * H]
            if reverse:
                col[:-1], col[-1] = src[1:], h0[last + d, b]
            else:
                col[1:], col[0] = src[:-1], h0[last + d, b]
    return GRUResult(y, r.h_n)


def _halves_swapped(case):
    if case.spec.direction != "bidirectional":
        return None
    r, H = oracle(case), case.spec.hidden_size
    return GRUResult(np.concatenate([r.y[:, :, H:], r.y[:, :, :H]], axis=2), r.h_n)


def _hn_direction_major(case):
    s = case.spec
    if s.num_layers == 1 or s.num_directions == 1:
        return None
    r, L, D = oracle(case), s.num_layers, s.num_directions
    order = [l * D + d for d in range(D) for l in range(L)]  # noqa: E741
    return GRUResult(r.y, r.h_n[order])


def _hn_from_last_step(case):
    if not case.ragged or case.spec.direction == "reverse":  # reverse ends at t=0 either way
        return None
    s, r = case.spec, oracle(case)
    H, D = s.hidden_size, s.num_directions
    h_n = r.h_n.copy()
    last = (s.num_layers - 1) * D
    for d in range(D):
        reverse = s.direction == "reverse" or d == 1
        h_n[last + d] = r.y[0 if reverse else -1, :, d * H:(d + 1) * H]
    return GRUResult(r.y, h_n)


def _state_not_carried(case):
    return None if case.T == 1 and case.h0 is None else oracle(case, carry_state=False)


def _h0_ignored(case):
    return None if case.h0 is None else oracle(case, h0=np.zeros_like(case.h0))


def _layers_share_h0(case):
    if case.h0 is None or case.spec.num_layers == 1:
        return None
    D = case.spec.num_directions
    h0 = case.h0.copy()
    for i in range(D, len(h0)):
        h0[i] = case.h0[i % D]
    return oracle(case, h0=h0)


def _row0_length(case):
    if not case.ragged or np.all(case.lengths == case.lengths[0]):
        return None
    return oracle(case, lengths=np.full(case.B, case.lengths[0]))


def _lengths_ignored(case):
    """Padded batches fed without lengths: every row runs all T steps, padding included."""
    return oracle(case, lengths=None) if case.ragged else None


def _padding_carried(case):
    if not case.ragged or case.spec.direction == "reverse":  # only a forward pass has a "last" output
        return None
    r = oracle(case)
    y = r.y.copy()
    s, H = case.spec, case.spec.hidden_size
    for d in range(s.num_directions):
        if not (s.direction == "reverse" or d == 1):
            for b, n in enumerate(case.lengths):
                if n:  # an empty sequence has no last output to carry
                    y[n:, b, d * H:(d + 1) * H] = y[n - 1, b, d * H:(d + 1) * H]
    return GRUResult(y, r.h_n)


def _triple(a):
    return (a.name, a.alpha, a.beta)


def _fg_swapped(case):
    acts = case.spec.activations  # (f, g), or (f, g) per direction
    if all(f == g for f, g in zip(acts[::2], acts[1::2], strict=True)):
        return None
    return oracle(case, activations=[_triple(a) for f, g in zip(acts[::2], acts[1::2], strict=True) for a in (g, f)])


def _hard_sigmoid(case):
    acts = case.spec.activations
    if all(f.name != "Sigmoid" for f in acts[::2]):
        return None
    return oracle(case, activations=[("HardSigmoid", 0.2, 0.5) if k % 2 == 0 and a.name == "Sigmoid" else _triple(a)
                                     for k, a in enumerate(acts)])


def _one_pair(case):
    """A runtime that reads only the first (f, g) of ONNX's four: the forward pair for both directions."""
    acts = case.spec.activations
    return oracle(case, activations=[_triple(a) for a in acts[:2]]) if case.spec.per_direction else None


def _empty_hn_zeroed(case):
    """h_n = 0 for an empty sequence instead of its h0 (onnxruntime's Y_h; ONNX leaves it undefined)."""
    if not case.has_zero_length or case.h0 is None:
        return None
    r = oracle(case)
    h_n = r.h_n.copy()
    h_n[:, case.lengths == 0] = 0.0
    return GRUResult(r.y, h_n)


# -- bugs that show only above a size: kernels tile the matmuls, block the batch, chunk the scan --
CHUNKS = (16, 32, 64, 128, 256, 512)
TILES = (8, 16, 32, 64, 128)
BLOCKS = (8, 16, 32)


def _chunk_restart(C):
    def run(case):
        return oracle(case, restart_every=C) if case.T > C else None
    return run


def _kept(n: int, tile: int) -> int:
    """How many of n inputs a matmul that drops its remainder tile uses."""
    return n // tile * tile if n > tile and n % tile else n


def _remainder_dropped(tile, k):
    """Matrix k (0: W, over x's units; 1: U, over h's units) without the columns of its remainder tile.
    Where a larger tile drops the same columns, that one names the bug and this one returns None."""
    def run(case):
        params = _params(case)
        widths = [p[k].shape[2] for p in params]
        kept = [_kept(n, tile) for n in widths]
        if kept == widths or any([_kept(n, t) for n in widths] == kept for t in TILES if t > tile):
            return None
        for p, n in zip(params, kept, strict=True):
            p[k][:, :, n:] = 0.0
        return oracle(case, params=params)
    return run


def _batch_block(blk):
    def run(case):
        return oracle(case, state_rows=np.arange(case.B) % blk) if case.B > blk else None
    return run


SIZE_VARIANTS: tuple = (
    *(Variant(f"chunk-{C}-state-lost", BugClass.STATE_CARRY,
              f"the state restarting from h0 at every {C}-step chunk boundary (a chunked scan losing the carry)",
              _chunk_restart(C)) for C in CHUNKS),
    *(Variant(f"{'WU'[k]}-remainder-tile-{t}", BugClass.TILING,
              f"the remainder tile of the {('input', 'recurrent')[k]} matmul dropped ({('x', 'h')[k]}'s units past "
              f"the last full {t}-wide tile left out)", _remainder_dropped(t, k)) for k in (1, 0) for t in TILES),
    *(Variant(f"batch-block-{b}-state", BugClass.BATCHING,
              f"each batch row from {b} on stepping from the state of row b mod {b} (a batch-blocked kernel "
              f"reading the first block's state)", _batch_block(b)) for b in BLOCKS),
)


def _perm_name(perm):
    return "".join(GATES[i] for i in perm)


VARIANTS: tuple = (
    *(Variant(f"gates-{_perm_name(p)}", BugClass.GATE_ORDER,
              f"the gate blocks read in the order {','.join(_perm_name(p))} instead of z,r,n", _permuted(p))
      for p in itertools.permutations(range(3)) if p != (0, 1, 2)),
    Variant("reset-flipped", BugClass.RESET_POSITION,
            "the reset gate applied on the other side of the recurrent matmul "
            "(linear_before_reset / reset_after flipped)",
            lambda c: oracle(c, reset_after=not c.spec.reset_after)),
    Variant("update-1-z", BugClass.UPDATE_CONVENTION, "the update written h' = (1-z)*h + z*n (z and 1-z swapped)",
            _update_flipped),
    Variant("bUn-folded", BugClass.BIAS_PLACEMENT,
            "the recurrent candidate bias b_Un folded into the input bias bW_n (outside the reset)", _fold_bUn),
    Variant("bU-dropped", BugClass.BIAS_PLACEMENT, "the recurrent biases bU dropped", _drop_bU),
    Variant("bW-dropped", BugClass.BIAS_PLACEMENT, "the input biases bW dropped", _drop_bW),
    Variant("U-transposed", BugClass.WEIGHT_LAYOUT, "each recurrent matrix U transposed", _transpose_U),
    Variant("reverse-ignores-lengths", BugClass.REVERSE_AND_PADDING,
            "the reverse direction starting at t=T-1 (padding included) instead of each sequence's last step",
            _reverse_ignores_lengths),
    Variant("lengths-ignored", BugClass.REVERSE_AND_PADDING,
            "the lengths ignored: every sequence run over all T steps, padding included", _lengths_ignored),
    Variant("padding-carried", BugClass.REVERSE_AND_PADDING,
            "the last valid output carried forward past each length instead of zeros", _padding_carried),
    Variant("reverse-not-realigned", BugClass.TIME_ALIGNMENT,
            "the reverse direction's outputs left in processing (reversed) time order", _reverse_not_realigned),
    Variant("outputs-shifted", BugClass.TIME_ALIGNMENT,
            "y[t] holding the state before x[t] instead of after it (outputs one step late)", _outputs_shifted),
    Variant("halves-swapped", BugClass.OUTPUT_LAYOUT, "the direction halves of y swapped ([reverse, forward])",
            _halves_swapped),
    Variant("hn-direction-major", BugClass.FINAL_STATE, "h_n ordered direction-major (d*L + l) instead of l*D + d",
            _hn_direction_major),
    Variant("hn-last-step", BugClass.FINAL_STATE,
            "h_n read at the last time step T-1 instead of each sequence's last valid step", _hn_from_last_step),
    Variant("state-not-carried", BugClass.STATE_CARRY,
            "the state not carried between steps (h restarts from zeros at every step)", _state_not_carried),
    Variant("h0-ignored", BugClass.INITIAL_STATE, "h0 ignored (zeros used instead)", _h0_ignored),
    Variant("layers-share-h0", BugClass.STACKED_LAYERS, "every layer started from layer 0's h0", _layers_share_h0),
    Variant("row0-length", BugClass.BATCHING, "batch row 0's length used for every row", _row0_length),
    Variant("fg-swapped", BugClass.ACTIVATIONS, "the activations f and g swapped", _fg_swapped),
    Variant("activations-one-pair", BugClass.ACTIVATIONS,
            "the forward direction's (f, g) used for both directions (the per-direction pairs ignored)", _one_pair),
    Variant("empty-hn-zeroed", BugClass.FINAL_STATE,
            "h_n zero for an empty sequence (length 0) instead of its h0", _empty_hn_zeroed),
    Variant("hard-sigmoid", BugClass.ACTIVATIONS, "a hard sigmoid (0.2x + 0.5, clipped) in place of the sigmoid",
            _hard_sigmoid),
    *SIZE_VARIANTS,
)
