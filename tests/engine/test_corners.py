"""The corners of the spec in the engine: zero-length sequences and per-direction activations are drawn
only where declared, survive save/load and describe, and an implementation that gets them wrong fails
its check with the right diagnosis (the negative counterparts)."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import find, given, settings

from conformance import Capabilities, GRUResult
from conformance.canonical import oracle
from conformance.case import GRUCase, GRUSpec
from conformance.casefile import load_case, save_case
from conformance.checks import check_feature
from conformance.corners import nonfinite_behaviour, per_direction_finding, zero_length_finding
from conformance.features import BY_NAME
from conformance.status import Status
from conformance.strategies import gru_cases
from conformance.values import case_values

CAPS = Capabilities(dtypes=("float64",), directions=("forward", "reverse", "bidirectional"), max_layers=2,
                    reset_after=(True, False), bias=(True, False), lengths=True, zero_lengths=True,
                    activations=("Relu", "HardSigmoid"), per_direction_activations=True)
PLAIN = replace(CAPS, zero_lengths=False, per_direction_activations=False)


@given(gru_cases(CAPS, zero_lengths=True))
def test_a_forced_zero_length_is_drawn_with_an_h0_and_admitted_only_where_declared(case):
    assert case.has_zero_length and case.h0 is not None
    assert CAPS.admits(case) is None
    assert PLAIN.admits(case) == "a zero-length sequence is not supported"


@settings(max_examples=200)
@given(gru_cases(CAPS))
def test_zero_lengths_and_per_direction_pairs_are_never_drawn_unforced_where_undeclared(case):
    assert not case.has_zero_length  # never unforced, even where declared
    assert PLAIN.admits(case) is None or case.spec.per_direction


def test_per_direction_activations_are_drawn_where_declared_and_forced():
    case = find(gru_cases(CAPS, activations="per_direction", direction="bidirectional"), lambda c: True)
    s = case.spec
    assert s.per_direction and s.direction_activations(0) != s.direction_activations(1)
    assert PLAIN.admits(case) == "activations per direction is not supported"
    assert find(gru_cases(CAPS, direction="bidirectional"), lambda c: c.spec.per_direction).spec.per_direction


def test_features_are_declared_by_their_capability():
    zl, pd = BY_NAME["zero_length"], BY_NAME["per_direction_activations"]
    assert zl.supported(CAPS) and not zl.supported(PLAIN)
    assert pd.supported(CAPS) and not pd.supported(PLAIN)
    assert not pd.supported(replace(CAPS, directions=("forward",)))  # needs two directions
    assert not zl.supported(replace(CAPS, lengths=False))


def test_spec_validation_and_describe():
    acts = ("Sigmoid", "Tanh", "Relu", "Tanh")
    s = GRUSpec(2, 2, direction="bidirectional", activations=acts)
    assert s.per_direction and "activations=Sigmoid,Tanh|Relu,Tanh" in s.describe()
    assert not GRUSpec(2, 2, direction="bidirectional", activations=("Sigmoid", "Relu") * 2).per_direction
    with pytest.raises(ValueError, match="4 .f, g per direction. when bidirectional"):
        GRUSpec(2, 2, direction="forward", activations=acts)


def test_save_and_load_keep_both_corners(tmp_path):
    spec = GRUSpec(2, 3, 1, "bidirectional", True, True, ("Sigmoid", "Tanh", ("HardSigmoid", 0.25, 0.5), "Tanh"))
    w, x, h0 = case_values(spec, 3, 2, "float64", 1, h0=True, saturating=False)
    case = GRUCase(spec, w, x, h0, np.array([0, 3]))
    back = load_case(save_case(case, tmp_path / "c.npz"))
    assert back.spec == spec and back.lengths.tolist() == [0, 3]
    assert np.array_equal(oracle(back).h_n, oracle(case).h_n)


class _Oracle:
    """The oracle with one corner bug: the negative counterparts of the built-ins' passes."""

    def __init__(self, bug):
        self.name, self.bug = f"oracle-{bug}", bug

    def capabilities(self):
        return CAPS

    def run(self, case):
        r = oracle(case)
        y, h_n = r.y.copy(), r.h_n.copy()
        if self.bug == "empty-hn-zeroed" and case.lengths is not None:
            h_n[:, case.lengths == 0] = 0.0  # what onnxruntime does
        if self.bug == "one-pair" and case.spec.per_direction:
            f, g = case.spec.direction_activations(0)
            r = oracle(GRUCase(replace(case.spec, activations=(f, g)), case.weights, case.x, case.h0, case.lengths,
                               case.dtype))
            y, h_n = r.y, r.h_n
        return GRUResult(y=np.array(y), h_n=np.array(h_n))


@pytest.mark.parametrize("bug, feature, variant", [
    ("empty-hn-zeroed", "zero_length", "empty-hn-zeroed"),
    ("one-pair", "per_direction_activations", "activations-one-pair"),
])
def test_a_corner_bug_fails_its_check_and_is_named(bug, feature, variant, tmp_path):
    res = check_feature(_Oracle(bug), feature, case_dir=tmp_path)
    assert res.status == Status.FAIL, res.report()
    assert variant in [e.name for e in res.diagnosis.explanations], res.report()
    assert check_feature(_Oracle("none"), feature, case_dir=tmp_path).status == Status.PASS


def test_the_probes_find_what_they_are_shown():
    assert zero_length_finding(oracle, "oracle", "float64") is None
    zeroed = _Oracle("empty-hn-zeroed")
    assert "h_n = 0 for it" in zero_length_finding(zeroed.run, "x", "float64")

    def refuses(case):
        raise RuntimeError("Length of all samples has to be greater than 0")
    assert zero_length_finding(refuses, "x", "float64").endswith("RuntimeError: Length of all samples has to be "
                                                                 "greater than 0")
    pairs = (("Sigmoid", "Tanh"), ("Tanh", "Sigmoid"))
    assert per_direction_finding(oracle, "oracle", "float64", pairs) is None
    assert "ignores activations per direction" in per_direction_finding(_Oracle("one-pair").run, "x", "float64",
                                                                        pairs)


def test_the_nonfinite_record_of_the_oracle():
    rec = nonfinite_behaviour(oracle, "float64")
    assert rec["x = +inf"] == "y finite, h_n finite, as the oracle"  # one input: the gates saturate
    assert rec["x = 1e30"] == "y finite, h_n finite, as the oracle"
    assert "inf" in rec["h0 = +inf"] or "NaN" in rec["h0 = +inf"]
