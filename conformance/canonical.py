"""The oracle: the canonical result of a case, and of the case with one ingredient changed.

One entry point serves the checks (the canonical answer), the tolerance (the answer with
perturbed weights) and the bug variants (the answer with a convention changed). Without
overrides it is ``references.gru``, vectorised over the batch; with them it runs each
direction through ``references.gru_direction`` so that any ingredient can be replaced.
Everything is float64 and unvalidated: the caller built the replacement on purpose.
"""

from __future__ import annotations

import numpy as np

import references

from .case import GRUCase, GRUResult

#: what ``oracle(case, **overrides)`` may replace, and what each keeps when not given.
OVERRIDES = {
    "reset_after": "the case's reset position",
    "h0": "the case's h0 (zeros when absent)",
    "lengths": "the case's lengths (None: every sequence runs T steps)",
    "activations": "the case's (f, g) as [(name, alpha, beta), (name, alpha, beta)] (4 entries: per direction)",
    "reverse_lengths": "'same' (the reverse direction honours the lengths) or None (it starts at T-1)",
    "carry_state": "True (the state is carried between steps) or False (it restarts from zeros)",
    "restart_every": "None, or C: the state restarts from h0 at every boundary between chunks of C time steps",
    "state_rows": "None, or one index per batch row: the row whose state each row's step reads",
}


def _acts(case: GRUCase):
    return [(a.name, a.alpha, a.beta) for a in case.spec.activations]


def oracle(case: GRUCase, *, params=None, **overrides) -> GRUResult:
    """The canonical GRU on ``case``; ``params`` replaces its weights, ``overrides`` a convention.

    ``params`` is a list of (W, U, bW, bU) per (layer, direction); see OVERRIDES for the rest.
    """
    unknown = set(overrides) - set(OVERRIDES)
    if unknown:
        raise TypeError(f"oracle: unknown override(s) {sorted(unknown)}; expected some of {list(OVERRIDES)}")
    weights = [tuple(w) for w in (case.weights if params is None else params)]
    s = case.spec
    if not overrides:
        y, h_n = references.gru(
            case.x, weights, num_layers=s.num_layers, direction=s.direction, reset_after=s.reset_after,
            h0=case.h0, lengths=case.lengths, activations=_acts(case), clip=s.clip)
        return GRUResult(y=y, h_n=h_n)
    return _general(case, weights, **overrides)


def _general(case: GRUCase, params, *, reset_after=None, h0="case", lengths="case", activations=None,
             reverse_lengths="same", carry_state=True, restart_every=None, state_rows=None) -> GRUResult:
    s = case.spec
    D, H = s.num_directions, s.hidden_size
    reset_after = s.reset_after if reset_after is None else reset_after
    h0 = case.h0_or_zeros() if isinstance(h0, str) else h0
    lengths = case.lengths if isinstance(lengths, str) else lengths
    acts = activations or _acts(case)
    pairs = [(references.activation(*a), references.activation(*b))
             for a, b in references.direction_activations(acts, D)]
    T, B = case.T, case.B
    layer_in, h_n = case.x, np.empty((s.num_layers * D, B, H))
    for layer in range(s.num_layers):
        outs = []
        for d in range(D):
            i = layer * D + d
            p = references.Params(*params[i])
            reverse = s.direction == "reverse" or d == 1
            lens = None if (reverse and reverse_lengths is None) else lengths
            kw = dict(reverse=reverse, reset_after=reset_after, f=pairs[d][0], g=pairs[d][1], clip=s.clip)
            if restart_every or state_rows is not None:
                y, h_n[i] = _stepwise(layer_in, p, h0[i], lens, restart_every, state_rows, **kw)
            elif carry_state:
                y, h_n[i] = references.gru_direction(layer_in, p, h0[i], lens, **kw)
            else:  # every step starts again from zeros
                flat = layer_in.reshape(1, T * B, -1)
                y = references.gru_direction(flat, p, np.zeros((T * B, H)), None, **kw)[0].reshape(T, B, H)
                last = np.full(B, T - 1) if lens is None else np.maximum(lens - 1, 0)
                h_n[i] = y[0] if reverse else y[last, np.arange(B)]
                if lens is not None:  # an empty sequence takes no step: its h_n is its h0
                    h_n[i][lens == 0] = h0[i][lens == 0]
            if lengths is not None:
                y = y * (np.arange(T)[:, None] < lengths[None, :])[:, :, None]
            outs.append(y)
        layer_in = np.concatenate(outs, axis=2)
    return GRUResult(layer_in, h_n)


def _stepwise(x, p, h0, lengths, restart_every, state_rows, *, reverse, reset_after, f, g, clip):
    """One direction a step at a time (references.gru_cell), with a kernel's size bug: the state
    restarting from h0 where the scan crosses a chunk boundary (between t = kC - 1 and kC, in either
    direction), or each row's step reading the state of row ``state_rows[b]``."""
    T, B, _ = x.shape
    h = np.array(h0, dtype=np.float64, copy=True)
    y = np.zeros((T, B, h.shape[1]))
    lens = np.full(B, T) if lengths is None else np.asarray(lengths)
    rows = np.arange(B) if state_rows is None else np.asarray(state_rows)
    C = restart_every or T + 1
    for t in range(T - 1, -1, -1) if reverse else range(T):
        active = (t < lens)[:, None]
        if (reverse and (t + 1) % C == 0 and t + 1 < T) or (not reverse and t % C == 0 and t > 0):
            h = np.where(active, h0, h)
        new = references.gru_cell(x[t], h[rows], *p, reset_after=reset_after, activations=(f, g), clip=clip)
        h = np.where(active, new, h)
        y[t] = np.where(active, h, 0.0)
    return y, h
