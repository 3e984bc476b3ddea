"""Bias structures: which of the canonical biases an implementation has, not only whether it has any.

A canonical GRU has six bias vectors per (layer, direction): bW_z, bW_r, bW_n on the input side
and bU_z, bU_r, bU_n on the recurrent side. Implementations store different subsets:

    full             bW and bU                PyTorch, Keras reset_after=True, ONNX, cuDNN
    input+candidate  bW and bU_n only         equinox's GRUCell (bU_z, bU_r absent)
    input            bW only                  flax.nnx's GRUCell (flax #5594: no b_hn)
    none             nothing                  bias=False

An adapter declares the structures its GRU has (``Capabilities.bias_structures``) and the
strategies draw exactly the absent biases as zeros, every other bias non-zero: a GRU without
recurrent biases is still tested on its input biases, where before it had to declare bias=False.

Why these are stored structures and not sets of GRUs. Which GRUs a structure can express depends
on where the reset sits, because a bias outside the reset adds to the input bias of its gate:

* reset_after=False (reset before the matmul): n = g(W_n x + bW_n + U_n (r * h) + bU_n), so every bU
  is outside the reset and b = bW + bU is one bias per gate. "input", "input+candidate" and "full"
  are then the same GRUs in exact arithmetic. Keras's reset_after=False GRU stores only that sum
  (one (3H,) bias): its adapter declares "full" and folds bW + bU into it, with one rounding to the
  dtype (conformance.frameworks.keras.convert, FOLD="round"). It could as well declare "input" and
  receive bU = 0, with no fold and no rounding.
* reset_after=True: bU_z and bU_r are outside the reset and fold the same way, but bU_n sits inside
  r * (U_n h + bU_n), where no input bias can stand in for it. So "input+candidate" (equinox) expresses
  every reset_after=True GRU (up to the fold's rounding), and "input" (flax.nnx) lacks exactly bU_n.

An adapter may always fold what its implementation lacks into what it has, where that is exact,
and declare "full"; a structure lets it test what the implementation stores, with no fold. The
oracle never needs to know: an absent bias is a zero bias.
"""

from __future__ import annotations

import numpy as np

#: structure -> (bW gates present, bU gates present), gates in the order z, r, n
STRUCTURES = {
    "full": ((True, True, True), (True, True, True)),
    "input+candidate": ((True, True, True), (False, False, True)),
    "input": ((True, True, True), (False, False, False)),
    "none": ((False, False, False), (False, False, False)),
}
BIAS_STRUCTURES = tuple(STRUCTURES)


def from_flag(bias: bool) -> str:
    """The structure a plain bias flag means: True is "full", False is "none"."""
    return "full" if bias else "none"


def present(structure: str) -> tuple[np.ndarray, np.ndarray]:
    """(bW mask, bU mask), each (3, 1) booleans over the gates z, r, n, broadcastable to (3, H)."""
    bw, bu = STRUCTURES[structure]
    return np.array(bw)[:, None], np.array(bu)[:, None]


def absent_nonzero(structure: str, bW: np.ndarray, bU: np.ndarray) -> list:
    """The names of the biases the structure lacks that hold non-zero values ("bW_z", "bU_n", ...)."""
    out = []
    for name, a, mask in (("bW", bW, present(structure)[0]), ("bU", bU, present(structure)[1])):
        for g, gate in enumerate("zrn"):
            if not mask[g, 0] and np.any(np.asarray(a)[g] != 0):
                out.append(f"{name}_{gate}")
    return out
