"""A conversion read back from the on-disk build cache (conformance.buildcache) gives what a fresh one does:
the weights are found again in the stored flatbuffer and each example patches its own."""

import numpy as np
import pytest

from conformance.buildcache import ENV_VAR
from conformance.case import GRUCase, GRUSpec
from conformance.frameworks.litert.adapters import LiteRTKerasGRU
from conformance.values import case_values


def test_a_conversion_read_back_from_the_build_cache_computes_what_a_fresh_one_does(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    spec = GRUSpec(3, 4, 2, "bidirectional", False)
    cases = []
    for seed in (0, 1):  # two weight draws through one stored conversion
        weights, x, h0 = case_values(spec, 5, 3, "float32", seed, h0=True, saturating=False)
        cases.append(GRUCase(spec, weights, x, h0, np.array([5, 2, 4]), "float32"))
    fresh, again = LiteRTKerasGRU(), LiteRTKerasGRU()
    again._convert = lambda *key: pytest.fail("converted again: the stored conversion was not used")
    for case in cases:
        a, b = fresh.run(case), again.run(case)
        np.testing.assert_array_equal(a.y, b.y)
        np.testing.assert_array_equal(a.h_n, b.h_n)
    assert len(fresh.built) == len(again.built) == 1
    assert not np.array_equal(fresh.run(cases[0]).y, fresh.run(cases[1]).y)
