"""The oracle: a float64 NumPy GRU with the canonical semantics of the suite.

It depends on numpy only, so that it can be read, audited and trusted on its own.
"""

from .activations import ACTIVATIONS, activation, default_alpha_beta
from .gru import DIRECTIONS, Params, gru, gru_cell, gru_direction

__all__ = [
    "ACTIVATIONS", "DIRECTIONS", "Params", "activation", "default_alpha_beta",
    "gru", "gru_cell", "gru_direction",
]
