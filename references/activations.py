"""The ONNX RNN activation set, in float64 NumPy.

Defaults for alpha and beta follow the ONNX operator that each activation is named after
(HardSigmoid 0.2/0.5, LeakyRelu 0.01, ThresholdedRelu 1.0, Elu 1.0; ScaledTanh and Affine
have no operator default, so 1.0/1.0 and 1.0/0.0 are used, which makes them the identity
of tanh and of x).
"""

from __future__ import annotations

import numpy as np


def _sigmoid(x, alpha, beta):
    # Accurate on both tails: for x < -709 e^-x overflows to inf and 1/(1+inf) is the limit 0.
    with np.errstate(over="ignore"):
        e = np.exp(np.negative(x, dtype=np.float64))
    return 1.0 / (1.0 + e)


def _softplus(x, alpha, beta):
    return np.logaddexp(0.0, x)


_FUNCTIONS = {
    "Sigmoid": (_sigmoid, None, None),
    "Tanh": (lambda x, a, b: np.tanh(x), None, None),
    "Relu": (lambda x, a, b: np.maximum(x, 0.0), None, None),
    "HardSigmoid": (lambda x, a, b: np.clip(a * x + b, 0.0, 1.0), 0.2, 0.5),
    "LeakyRelu": (lambda x, a, b: np.where(x >= 0, x, a * x), 0.01, None),
    "ThresholdedRelu": (lambda x, a, b: np.where(x > a, x, 0.0), 1.0, None),
    "ScaledTanh": (lambda x, a, b: a * np.tanh(b * x), 1.0, 1.0),
    "Elu": (lambda x, a, b: np.where(x >= 0, x, a * np.expm1(np.minimum(x, 0.0))), 1.0, None),
    "Softsign": (lambda x, a, b: x / (1.0 + np.abs(x)), None, None),
    "Softplus": (_softplus, None, None),
    "Affine": (lambda x, a, b: a * x + b, 1.0, 0.0),
}

ACTIVATIONS = tuple(_FUNCTIONS)
#: activations whose alpha (and beta) parameters mean something.
USES_ALPHA = frozenset(k for k, v in _FUNCTIONS.items() if v[1] is not None)
USES_BETA = frozenset(k for k, v in _FUNCTIONS.items() if v[2] is not None)


def default_alpha_beta(name: str) -> tuple[float | None, float | None]:
    """The alpha and beta an activation uses when none is given."""
    _, alpha, beta = _FUNCTIONS[name]
    return alpha, beta


def activation(name: str, alpha: float | None = None, beta: float | None = None):
    """Return ``f(x)`` for an ONNX activation name, with alpha/beta bound."""
    try:
        fn, da, db = _FUNCTIONS[name]
    except KeyError:
        raise ValueError(f"activation: expected one of {list(_FUNCTIONS)}, got {name!r}") from None
    a = da if alpha is None else float(alpha)
    b = db if beta is None else float(beta)
    return lambda x: fn(x, a, b)
