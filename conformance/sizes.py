"""The sizes the "large" and "long" checks draw: where kernels split their work.

Kernels tile the input and hidden dimensions (8, 16, 32, 64, 128 wide), split the batch
into blocks and scan long sequences in chunks; a bug in the remainder tile, the second
block or the carry between chunks shows only on one side of such a boundary. So the size
checks draw every dimension from the sizes next to a power of two, 2^k - 1, 2^k and
2^k + 1, plus sizes real models use, up to the profile's cap (or the adapter's declared
maximum, if smaller). Each list is ascending, so Hypothesis shrinks a failure toward the
smallest size that still shows it (33 for a 32-wide tile, 65 for a 64-step chunk).
"""

from __future__ import annotations

#: hidden and input sizes that published GRUs use, besides the powers of two
REALISTIC = (50, 100, 200, 300, 500, 768, 1000)
#: below this, a dimension is not "large": it does not reach past a 16-wide tile or block
SIZE_FLOOR = 17


def boundary_sizes(cap: int, low: int = 1) -> tuple:
    """Ascending sizes in [low, cap]: 2^k - 1, 2^k, 2^k + 1, the REALISTIC ones, and cap itself."""
    if cap < low:
        raise ValueError(f"boundary_sizes: cap {cap} is below the smallest size {low}")
    sizes = {cap}
    k = 1
    while 2**k - 1 <= cap:
        sizes.update((2**k - 1, 2**k, 2**k + 1))
        k += 1
    sizes.update(REALISTIC)
    return tuple(sorted(s for s in sizes if low <= s <= cap))


def capped(profile_cap: int, declared: int | None) -> int:
    """The largest size drawn: the profile's cap, or the adapter's declared maximum if smaller."""
    return profile_cap if declared is None else min(profile_cap, declared)
