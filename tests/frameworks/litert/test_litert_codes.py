"""Finding the weights in a converted model: every code once, at its own word, and nothing else.

A regression test: scanning at every byte offset found, in the bytes of codes 8127 and 8128
(1 + k 2^-22 in float32: ...80 3F | 80 3F...), the code 8127 again, two bytes off; writing
that false match corrupted two real weights of every model of 8,128 weights or more.
"""

import numpy as np
import pytest

from conformance.frameworks.litert.adapters import _codes, find_codes


@pytest.mark.parametrize("n", [100, 8128, 20000])
def test_each_code_is_found_once_at_its_own_aligned_word(n):
    blob = b"\x00" * 16 + _codes(n).astype("<f4").tobytes() + b"\x01\x02"
    offsets, index = find_codes(blob, n)
    assert np.array_equal(index, np.arange(n))
    assert np.array_equal(offsets, 16 + 4 * np.arange(n))

