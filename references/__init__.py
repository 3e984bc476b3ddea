"""The oracle: a float64 NumPy GRU with the canonical semantics of the suite.

It depends on numpy only, so that it can be read, audited and trusted on its own.
"""

from .activations import ACTIVATIONS, activation, activation_derivative, default_alpha_beta
from .backward import GRUGrads, gru_vjp
from .gru import DIRECTIONS, Params, direction_activations, gru, gru_cell, gru_direction

__all__ = [
    "ACTIVATIONS", "DIRECTIONS", "GRUGrads", "Params", "activation", "activation_derivative", "direction_activations",
    "default_alpha_beta", "gru", "gru_cell", "gru_direction", "gru_vjp",
]
