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


# Derivatives, as d(x, y, alpha, beta) with y = f(x) already computed: Sigmoid and Tanh take theirs
# from y alone, as autograd frameworks do, which saves an exp and a tanh per element.
def _sigmoid_prime(x, y, a, b):
    return y * (1.0 - y)


def _elu_prime(x, y, a, b):
    return np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0.0)))


def _hard_sigmoid_prime(x, y, a, b):
    v = a * x + b
    return np.where((v > 0.0) & (v < 1.0), a, 0.0)


_DERIVATIVES = {
    "Sigmoid": _sigmoid_prime,
    "Tanh": lambda x, y, a, b: 1.0 - y * y,
    "Relu": lambda x, y, a, b: np.where(x > 0, 1.0, 0.0),
    "HardSigmoid": _hard_sigmoid_prime,
    "LeakyRelu": lambda x, y, a, b: np.where(x > 0, 1.0, a),
    "ThresholdedRelu": lambda x, y, a, b: np.where(x > a, 1.0, 0.0),
    "ScaledTanh": lambda x, y, a, b: a * b * (1.0 - np.tanh(b * x) ** 2),
    "Elu": _elu_prime,
    "Softsign": lambda x, y, a, b: 1.0 / (1.0 + np.abs(x)) ** 2,
    "Softplus": lambda x, y, a, b: _sigmoid(x, a, b),
    "Affine": lambda x, y, a, b: np.full(np.shape(x), a),
}


def activation_derivative(name: str, alpha: float | None = None, beta: float | None = None):
    """Return ``f'(x, y)`` for an ONNX activation, where ``y = f(x)`` (passed in, so it is not recomputed).

    The conventions at the points where f has no derivative are those of PyTorch's and
    TensorFlow's autograd, so that the oracle agrees with them even there (the suite's cases
    avoid these points anyway):

    - Relu'(0) = 0, LeakyRelu'(0) = alpha, Elu'(0) = alpha: the slope left of the kink;
    - ThresholdedRelu'(alpha) = 0: the flat piece; the jump there is not differentiated at all;
    - HardSigmoid' = alpha strictly inside 0 < alpha*x + beta < 1, and 0 at both ends;
    - Softsign is C1 (slope 1 at 0), so it needs no convention.
    """
    try:
        _, da, db = _FUNCTIONS[name]
    except KeyError:
        raise ValueError(f"activation_derivative: expected one of {list(_FUNCTIONS)}, got {name!r}") from None
    a = da if alpha is None else float(alpha)
    b = db if beta is None else float(beta)
    d = _DERIVATIVES[name]
    return lambda x, y: d(x, y, a, b)
