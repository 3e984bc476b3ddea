"""Case generation cost: seeded values (what the suite uses) against element-by-element arrays.

Both strategies draw the same structure with Hypothesis; they differ only in how the
numbers are drawn. Run: python benchmarks/bench_generation.py
"""

from __future__ import annotations

import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conformance import Capabilities, GateWeights, GRUCase, GRUSpec
from conformance.strategies import gru_cases

N = 600
CAPS = Capabilities(dtypes=("float32",), directions=("forward",), max_layers=1)
FLOATS = st.floats(-2, 2, width=32, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@st.composite
def elementwise_cases(draw):
    T, B, I, H = (draw(st.integers(1, m)) for m in (6, 4, 5, 5))  # noqa: E741
    arr = lambda shape: draw(hnp.arrays(np.float32, shape, elements=FLOATS)).astype(np.float64)  # noqa: E731
    w = GateWeights(arr((3, H, I)), arr((3, H, H)), arr((3, H)), arr((3, H)))
    return GRUCase(GRUSpec(I, H), [w], arr((T, B, I)), dtype="float32")


def rate(strategy) -> float:
    count = [0]

    @settings(max_examples=N, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=["generate"])
    @given(strategy)
    def consume(case):
        count[0] += 1

    t0 = time.perf_counter()
    consume()
    return count[0] / (time.perf_counter() - t0)


def main():
    seeded, elementwise = rate(gru_cases(CAPS, "ci")), rate(elementwise_cases())
    print(f"{'strategy':<34}{'cases/s':>10}")
    print(f"{'seeded values (gru_cases)':<34}{seeded:>10.0f}")
    print(f"{'element-by-element (hnp.arrays)':<34}{elementwise:>10.0f}")
    print(f"ratio seeded / element-by-element: {seeded / elementwise:.1f}x")


if __name__ == "__main__":
    main()
