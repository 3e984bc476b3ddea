"""The four case dtypes: their eps, and exact rounding of float64 values into them.

A case stores float64 arrays whose every value is exactly representable in the case
dtype, so the oracle sees the very numbers the implementation sees. NumPy has no
bfloat16, so it is emulated on float32 bits (round to nearest, ties to even).
"""

from __future__ import annotations

import numpy as np

DTYPES = ("float64", "float32", "float16", "bfloat16")

#: unit roundoff is EPS/2; EPS is the gap between 1 and the next value.
EPS = {
    "float64": float(np.finfo(np.float64).eps),
    "float32": float(np.finfo(np.float32).eps),
    "float16": float(np.finfo(np.float16).eps),
    "bfloat16": 2.0**-7,
}

#: the largest finite value of each dtype.
MAX = {
    "float64": float(np.finfo(np.float64).max),
    "float32": float(np.finfo(np.float32).max),
    "float16": float(np.finfo(np.float16).max),
    "bfloat16": float(np.uint32(0x7F7F0000).view(np.float32)),
}


def check_dtype(dtype: str) -> str:
    if dtype not in DTYPES:
        raise ValueError(f"dtype: expected one of {list(DTYPES)}, got {dtype!r}")
    return dtype


def _round_bfloat16(a: np.ndarray) -> np.ndarray:
    bits = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32).astype(np.float64)


def round_to(a, dtype: str) -> np.ndarray:
    """Round float64 values to the nearest value of ``dtype``, returned as float64."""
    a = np.asarray(a, dtype=np.float64)
    if dtype == "bfloat16":
        return _round_bfloat16(a)
    return a.astype(check_dtype(dtype)).astype(np.float64)


def is_representable(a, dtype: str) -> bool:
    a = np.asarray(a, dtype=np.float64)
    return bool(np.array_equal(round_to(a, dtype), a))


#: below this magnitude errors are counted in the ulp of ULP_FLOOR: a GRU output near zero
#: is a difference of O(1) terms (z*h + (1-z)*n), so its own tiny ulp says nothing.
ULP_FLOOR = 2.0**-4


def ulp(a, dtype: str) -> np.ndarray:
    """The spacing of ``dtype`` at max(|a|, ULP_FLOOR)."""
    m = np.maximum(np.abs(np.asarray(a, dtype=np.float64)), ULP_FLOOR)
    return EPS[dtype] * np.exp2(np.floor(np.log2(m)))


# -- how implementations hand dtypes over ------------------------------------------------------

#: the NumPy dtype a result comes back in: NumPy has no bfloat16, so bfloat16 values come back
#: as float32 (every bfloat16 value is exact in float32). This is the one place that says so.
RESULT_DTYPE = {"float64": "float64", "float32": "float32", "float16": "float16", "bfloat16": "float32"}


def accepted_result_dtypes(dtype: str) -> tuple:
    """The NumPy dtypes a result of a ``dtype`` case may have."""
    return tuple(dict.fromkeys((dtype, RESULT_DTYPE[dtype]))) if dtype == "bfloat16" else (dtype,)


def result_array(a, dtype: str) -> np.ndarray:
    """A new NumPy array (no aliasing) in the result dtype of a ``dtype`` case."""
    return np.array(np.asarray(a), dtype=RESULT_DTYPE[check_dtype(dtype)], copy=True)


def numpy_dtype(dtype: str):
    """The NumPy dtype for feeding ``dtype`` values to a framework: ml_dtypes' bfloat16 for bfloat16."""
    if check_dtype(dtype) == "bfloat16":
        import ml_dtypes  # shipped with every framework that has bfloat16 (JAX, TensorFlow, onnx)

        return ml_dtypes.bfloat16
    return np.dtype(dtype)
