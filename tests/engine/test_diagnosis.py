"""Diagnosis: variants do not explain a correct output, and an unexplained failure says so."""

import numpy as np
import pytest

from conformance import GRUResult, oracle
from conformance.checks import verify
from conformance.compare import compare
from conformance.diagnosis import Observation, diagnose
from conformance.tolerance import tolerance
from conformance.variants import VARIANTS
from tests.engine.test_compare import make_case


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
def test_every_applicable_variant_differs_from_the_canonical_result(direction):
    case = make_case(direction=direction, lengths=np.array([5, 3, 1]), layers=2, H=3)
    expected = oracle(case)
    tol = tolerance(case)
    for v in VARIANTS:
        r = v.run(case)
        if r is not None:
            assert not compare(case, expected, r, tol).passed, v.name


def test_noise_is_explained_by_nothing():
    case = make_case(H=3)
    expected = oracle(case)
    rng = np.random.default_rng(0)
    noise = GRUResult(rng.uniform(-1, 1, expected.y.shape), rng.uniform(-1, 1, expected.h_n.shape))
    d = diagnose([Observation(case, expected, noise, tolerance(case))])
    assert d.explanations == []
    assert "No known bug class" in str(d)


def test_a_float16_computation_is_named_precision():
    case = make_case(H=3)
    expected = oracle(case)
    rounded = GRUResult(expected.y.astype(np.float16).astype(np.float64),
                        expected.h_n.astype(np.float16).astype(np.float64))
    d = diagnose([Observation(case, expected, rounded, tolerance(case))])
    assert d.bug_classes == ["precision"]


def test_a_passing_verdict_has_no_diagnosis():
    from conformance import ReferenceAdapter

    v = verify(ReferenceAdapter(), make_case())
    assert v.passed and v.diagnose() is None
