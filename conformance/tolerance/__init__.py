"""The one place where "close enough" is decided: forward.py for outputs (y, h_n), element
by element, and backward.py for gradients, array by array. Each writes out its reasoning and
its calibrated constants."""

from .backward import GRADIENT_SAFETY, ILL_CONDITIONED, gradient_tolerance
from .forward import (
    SAFETY,
    Tolerance,
    _scales,
    error_scale,
    tolerance,
    trivial_answer,
)

__all__ = ["GRADIENT_SAFETY", "ILL_CONDITIONED", "SAFETY", "Tolerance", "_scales", "error_scale",
           "gradient_tolerance", "tolerance", "trivial_answer"]
