"""Rounding into the case dtypes, checked against bit patterns worked out by hand.

A case is only fair if its numbers are exact in its dtype, so round_to must produce the
value the framework will hold. bfloat16 is emulated on float32 bits; its expected values
here are written as the upper 16 bits of a float32 (sign, 8 exponent bits, 7 mantissa bits).
"""

import math
import struct

import numpy as np
import pytest

from conformance.dtypes import DTYPES, EPS, MAX, ULP_FLOOR, check_dtype, is_representable, round_to, ulp


def bf16(hi: int) -> float:
    """The bfloat16 whose bits are ``hi``: a float32 with ``hi`` on top and zeros below."""
    return struct.unpack(">f", (hi << 16).to_bytes(4, "big"))[0]


def f32(bits: int) -> float:
    return struct.unpack(">f", bits.to_bytes(4, "big"))[0]


@pytest.mark.parametrize("value, expected", [
    (1.0, bf16(0x3F80)),
    (f32(0x3F808000), bf16(0x3F80)),   # 1 + 2^-8, halfway: ties to the even 0x3F80
    (f32(0x3F818000), bf16(0x3F82)),   # 1 + 3*2^-8, halfway: ties to the even 0x3F82
    (f32(0x3F808001), bf16(0x3F81)),   # just above halfway: up
    (f32(0x3F807FFF), bf16(0x3F80)),   # just below halfway: down
    (-f32(0x3F818000), bf16(0xBF82)),  # the sign bit rides along
    (f32(0x40490FDB), bf16(0x4049)),   # float32 pi -> 3.140625
    (f32(0x3DCCCCCD), bf16(0x3DCD)),   # float32 0.1 -> 0.10009765625
    (f32(0x7F7F7FFF), bf16(0x7F7F)),   # below the top halfway point: the largest finite
    (f32(0x7F7F8000), bf16(0x7F80)),   # halfway above the largest finite: even is +inf
    (2.0**-133, bf16(0x0001)),         # the smallest subnormal is exact
    (2.0**-134, bf16(0x0000)),         # halfway to it: ties to even zero
    (3 * 2.0**-134, bf16(0x0002)),     # halfway between 0x0001 and 0x0002: even
    (f32(0x00000001), 0.0),            # the smallest float32 subnormal vanishes
])
def test_bfloat16_round_to_nearest_even(value, expected):
    got = round_to(np.array([value]), "bfloat16")[0]
    assert got == expected
    assert got.hex() == float(expected).hex()


def test_bfloat16_zero_sign_inf_nan():
    got = round_to(np.array([-0.0, 0.0, np.inf, -np.inf, np.nan]), "bfloat16")
    assert np.signbit(got[0]) and not np.signbit(got[1])
    assert got[2] == np.inf and got[3] == -np.inf and np.isnan(got[4])


def test_bfloat16_max_and_eps():
    assert MAX["bfloat16"] == bf16(0x7F7F) == (2 - 2**-7) * 2.0**127
    assert EPS["bfloat16"] == bf16(0x3F81) - 1.0 == 2**-7


@pytest.mark.parametrize("dtype, value, expected", [
    ("float16", 1 + 2**-11, 1.0),               # halfway: even
    ("float16", 1 + 3 * 2**-11, 1 + 2**-9),     # halfway: even
    ("float16", 65504.0, 65504.0),              # the largest finite
    ("float16", 2.0**-24, 2.0**-24),            # the smallest subnormal
    ("float16", 2.0**-25, 0.0),                 # halfway to it: zero
    ("float32", 1 + 2**-24, 1.0),
    ("float32", 1 + 3 * 2**-24, 1 + 2**-22),
    ("float32", 0.1, f32(0x3DCCCCCD)),
    ("float64", 0.1, 0.1),
])
def test_round_to_ieee_types(dtype, value, expected):
    assert round_to(np.array([value]), dtype)[0] == expected


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_float16_overflow_is_inf():
    assert round_to(np.array([65520.0]), "float16")[0] == np.inf  # halfway past 65504: even is inf


def test_round_to_keeps_shape_and_returns_float64():
    a = np.arange(6.0).reshape(2, 3) / 3
    for dtype in DTYPES:
        r = round_to(a, dtype)
        assert r.shape == (2, 3) and r.dtype == np.float64
        assert np.all(np.abs(r - a) <= ulp(a, dtype) / 2)


@pytest.mark.parametrize("dtype, exact, inexact", [
    ("float64", [0.1, 1e300], []),
    ("float32", [0.5, 1 + 2**-23, f32(0x3DCCCCCD)], [0.1, 1 + 2**-24]),
    ("float16", [0.5, 1 + 2**-10, 65504.0, 2.0**-24], [0.1, 1 + 2**-11, 2.0**-25]),
    ("bfloat16", [0.5, 1 + 2**-7, bf16(0x3DCD), MAX["bfloat16"]], [0.1, 1 + 2**-8, f32(0x3DCCCCCD)]),
])
def test_is_representable(dtype, exact, inexact):
    assert is_representable(np.array(exact), dtype)
    for v in inexact:
        assert not is_representable(np.array([v]), dtype), v


def test_eps_of_ieee_types():
    assert (EPS["float64"], EPS["float32"], EPS["float16"]) == (2.0**-52, 2.0**-23, 2.0**-10)
    assert MAX["float16"] == 65504.0 and MAX["float32"] == f32(0x7F7FFFFF)


@pytest.mark.parametrize("dtype, a, expected", [
    ("float64", 1.0, 2.0**-52),
    ("float32", 3.0, 2.0**-22),       # 3 lies in [2, 4): spacing 2 * eps
    ("float16", 0.75, 2.0**-11),      # [0.5, 1): eps / 2
    ("bfloat16", -1.5, 2.0**-7),      # |a|
    ("bfloat16", 300.0, 2.0),         # [256, 512): 2^8 * 2^-7
])
def test_ulp(dtype, a, expected):
    assert ulp(a, dtype) == expected
    assert math.isclose(float(ulp(np.array([a, a]), dtype)[1]), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_ulp_has_a_floor(dtype):
    assert ulp(0.0, dtype) == ulp(ULP_FLOOR / 3, dtype) == ulp(ULP_FLOOR, dtype) == EPS[dtype] * ULP_FLOOR


def test_check_dtype():
    assert check_dtype("bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match=r"^dtype: expected one of \['float64', 'float32', 'float16', 'bfloat16'\], "
                                         r"got 'int8'$"):
        check_dtype("int8")
    with pytest.raises(ValueError, match=r"^dtype: expected one of .*, got 'float8'$"):
        round_to(np.array([1.0]), "float8")
