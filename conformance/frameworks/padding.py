"""Exact size padding, so that many cases share one built, compiled or exported model.

A case with input size I and hidden size H runs in Keras layers of sizes S_I >= I and S_H >= H
(``padded_size``: 8 or 16), with zero weights and biases for the padded units, zero input
columns and a zero initial state there. A padded unit then stays exactly 0 at every step (its
gates see 0, so n = tanh(0) = 0 and h' = z*0 + (1-z)*0 = 0) and never reaches a real unit (its
kernel rows are 0), so a real unit's pre-activation gains only exact zero terms. What padding
may change is the grouping of the real terms inside a longer matmul, hence a last-bit rounding
difference; tests/frameworks/keras/test_keras_padding.py measures it on each backend, against the tolerance.

Rows of the batch are independent, so B is padded with zero rows where a backend compiles per
shape (JAX). T is padded only where the case has a mask (padded steps masked out): an unmasked
case keeps Keras's unmasked code path. A layer l > 0 reads the previous layer's padded output,
D blocks of S_H units, the real ones first in each block.
The ONNX exporters pad I and H to one square size S (``square_size``) with canonical weights
(``pad_weights``), since an export costs seconds; the Keras adapters pad in Keras's layout
(``pad_layers``). No framework import: NumPy only.

Only small sizes are padded (up to CEILING): above it a size runs as drawn. The size checks
("large", "long") draw few cases, each at the tile and chunk boundaries (2^k + 1, ...) that a
padded run would never reach, so there a build per size is both affordable and the point.
"""

from __future__ import annotations

import numpy as np

from ..case import GRUSpec

#: the smallest padded size; every ci-profile case (sizes <= 5) fits in it
FLOOR = 8
#: the largest padded size: larger sizes (the size checks') run as drawn
CEILING = 16
#: what an adapter running in padded sizes declares (Capabilities.size_padding)
KERAS_PADDING = "I and H up to 16 padded to 8 or 16 (Keras layers shared per padded structure); larger run as drawn"
SQUARE_PADDING = "I and H padded to one size, 8 or 16 when both are <= 16 (one export per padded structure), " \
                 "else the larger of the two"


def padded_size(n: int, floor: int = FLOOR) -> int:
    """The next power of two >= max(floor, n), for n <= CEILING; n itself above it."""
    n = int(n)
    return n if n > CEILING else 1 << (max(floor, n) - 1).bit_length()


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


def unpad_direction(arrays: list, H: int, S_H: int, rows: np.ndarray) -> list:
    """The inverse of pad_direction: the real rows and gate columns of each padded array (gradients
    of the padded weights come back through it)."""
    def real(a, keep_rows):
        a = np.asarray(a)
        flat = a.reshape(-1, a.shape[-1])[keep_rows] if keep_rows is not None else a.reshape(-1, a.shape[-1])
        out = np.concatenate([flat[:, g * S_H:g * S_H + H] for g in range(3)], axis=1)
        return out.reshape(a.shape[:-1] + (3 * H,)) if keep_rows is None else out
    kernel, rec, *bias = arrays
    return [real(kernel, rows), real(rec, np.arange(H))] + [real(b, None) for b in bias]


def pad_layers(layers: list, spec, S_I: int, S_H: int) -> list:
    """Per-layer Keras weight lists (``conformance.frameworks.keras.convert.gru_to_keras``) -> padded lists."""
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


# -- canonical weights, one square size (the exporters) ----------------------------------


def square_size(spec) -> int:
    """One size S for both I and H (the exporters pad to a square): padded_size(max(I, H))."""
    return padded_size(max(spec.input_size, spec.hidden_size))


def padded_spec(spec, S: int):
    """The spec of the padded structure: S inputs and S hidden units, every other field kept."""
    return GRUSpec(S, S, spec.num_layers, spec.direction, spec.reset_after, spec.bias)


def pad_weights(spec, weights, S: int) -> tuple:
    """Embed each (layer, direction) in size S: real units and inputs first, zeros elsewhere."""
    D, H = spec.num_directions, spec.hidden_size
    out = []
    for i, w in enumerate(weights):
        layer = i // D
        W = np.zeros((3, S, S * D if layer else S))
        if layer:  # the input is [forward H | reverse H] -> [forward S | reverse S]
            for d in range(D):
                W[:, :H, d * S:d * S + H] = w.W[:, :, d * H:(d + 1) * H]
        else:
            W[:, :H, :spec.input_size] = w.W
        U = np.zeros((3, S, S))
        U[:, :H, :H] = w.U
        bW, bU = np.zeros((3, S)), np.zeros((3, S))
        bW[:, :H], bU[:, :H] = w.bW, w.bU
        out.append(type(w)(W, U, bW, bU))
    return tuple(out)


def pad_last(a: np.ndarray, S: int) -> np.ndarray:
    """The last axis padded with zeros to S."""
    out = np.zeros(a.shape[:-1] + (S,))
    out[..., :a.shape[-1]] = a
    return out


def unpad_y(y: np.ndarray, D: int, H: int, S: int) -> np.ndarray:
    """The real units of a padded output of D blocks of S units."""
    return np.concatenate([y[..., d * S:d * S + H] for d in range(D)], axis=-1)
