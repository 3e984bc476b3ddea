"""The bug classes: one name for each kind of convention or arithmetic bug.

The variants of the oracle (variants.py), the diagnosis, the mutant catalogue and the
reports all speak of bugs through this one enum, so a class is spelled once. It is a
``str`` enum: it prints, compares and serialises as its text.
"""

from __future__ import annotations

from enum import Enum


class BugClass(str, Enum):
    GATE_ORDER = "gate order"
    RESET_POSITION = "reset position"
    UPDATE_CONVENTION = "update convention"
    BIAS_PLACEMENT = "bias placement"
    WEIGHT_LAYOUT = "weight layout"
    REVERSE_AND_PADDING = "reverse direction and padding"
    TIME_ALIGNMENT = "time alignment"
    OUTPUT_LAYOUT = "output layout"
    FINAL_STATE = "final state"
    STATE_CARRY = "state carry"
    INITIAL_STATE = "initial state"
    STACKED_LAYERS = "stacked layers"
    BATCHING = "batching"
    TILING = "tiling"  # a tile of a blocked matmul dropped or misread (shows only past the tile size)
    ACTIVATIONS = "activations"
    GRADIENT_FLOW = "gradient flow"  # a path of the backward blocked (through a gate, a term)
    PRECISION = "precision"
    WEIGHTS = "weights"  # one parameter off
    ADAPTER_FAULT = "adapter fault"  # the adapter raised, hung, or returned something malformed

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__
