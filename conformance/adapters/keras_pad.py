"""Exact size padding for the Keras adapters, so that more cases share one built (and compiled) layer.

A case with input size I and hidden size H runs in Keras layers of sizes S_I >= I and S_H >= H
(``padded_size``: 8, 16, 32, ...), with zero weights and biases for the padded units, zero input
columns and a zero initial state there. A padded unit then stays exactly 0 at every step (its
gates see 0, so n = tanh(0) = 0 and h' = z*0 + (1-z)*0 = 0) and never reaches a real unit (its
kernel rows are 0), so a real unit's pre-activation gains only exact zero terms. What padding
may change is the grouping of the real terms inside a longer matmul, hence a last-bit rounding
difference; tests/keras/test_keras_padding.py measures it on each backend, against the tolerance.

Rows of the batch are independent, so B is padded with zero rows where a backend compiles per
shape (JAX). T is padded only where the case has a mask (padded steps masked out): an unmasked
case keeps Keras's unmasked code path. A layer l > 0 reads the previous layer's padded output,
D blocks of S_H units, the real ones first in each block.
No framework import: NumPy only.
"""

from __future__ import annotations

import numpy as np

#: the smallest padded size; every ci-profile case (sizes <= 5) fits in it
FLOOR = 8


def padded_size(n: int, floor: int = FLOOR) -> int:
    """The next power of two >= max(floor, n)."""
    return 1 << (max(floor, int(n)) - 1).bit_length()


def real_units(H: int, S_H: int, D: int) -> np.ndarray:
    """Positions of the real units in a padded output of D blocks of S_H units."""
    return np.concatenate([d * S_H + np.arange(H) for d in range(D)])


def _gates(a: np.ndarray, H: int, S_H: int, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """(n, 3H) -> (n_rows, 3*S_H): gate g's H columns at g*S_H, row i at rows[i], zeros elsewhere."""
    out = np.zeros((n_rows, 3 * S_H), a.dtype)
    for g in range(3):
        out[np.ix_(rows, np.arange(g * S_H, g * S_H + H))] = a[:, g * H:(g + 1) * H]
    return out


def pad_direction(arrays: list, H: int, S_H: int, rows: np.ndarray, S_in: int) -> list:
    """[kernel (I, 3H), recurrent_kernel (H, 3H)(, bias (3H,) or (2, 3H))] of one direction, padded."""
    kernel, rec, *bias = arrays
    out = [_gates(kernel, H, S_H, rows, S_in), _gates(rec, H, S_H, np.arange(H), S_H)]
    for b in bias:  # (3H,) for reset_after=False, (2, 3H) [input; recurrent] for reset_after=True
        b2 = b.reshape(-1, 3 * H)
        out.append(_gates(b2, H, S_H, np.arange(len(b2)), len(b2)).reshape(b.shape[:-1] + (3 * S_H,)))
    return out


def pad_layers(layers: list, spec, S_I: int, S_H: int) -> list:
    """Per-layer Keras weight lists (``conformance.convert.keras.gru_to_keras``) -> padded lists."""
    H, D = spec.hidden_size, spec.num_directions
    out = []
    for layer, arrays in enumerate(layers):
        rows = np.arange(spec.input_size) if layer == 0 else real_units(H, S_H, D)
        S_in = S_I if layer == 0 else D * S_H
        n = len(arrays) // D
        padded = []
        for d in range(D):
            padded += pad_direction(arrays[d * n:(d + 1) * n], H, S_H, rows, S_in)
        out.append(padded)
    return out


def pad_array(a: np.ndarray, shape: tuple, fill=0) -> np.ndarray:
    """``a`` in the leading corner of a new array of ``shape``, ``fill`` elsewhere."""
    out = np.full(shape, fill, dtype=a.dtype)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out
