"""Bias structures: an adapter declares which biases its GRU has, the strategies draw zeros exactly for the
ones it lacks, and a GRU without recurrent biases is checked on its input biases (examples/no_recurrent_bias_gru.py).
Its negative counterpart: the same GRU declared "full" drops the recurrent biases, and fails."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from conformance import Capabilities
from conformance.biases import BIAS_STRUCTURES
from conformance.case import GRUCase, GRUSpec
from conformance.casefile import load_case, save_case
from conformance.checks import check_feature
from conformance.loader import load_adapter
from conformance.status import Status
from conformance.strategies import gru_cases
from conformance.testing import assert_declares, assert_feature
from conformance.values import case_values

EXAMPLE = f"{Path(__file__).resolve().parents[2] / 'examples' / 'no_recurrent_bias_gru.py'}:NoRecurrentBiasGRU"
SUPPORTED = ["float64", "float32", "reset_after", "initial_state", "lengths", "zero_length", "large", "long"]


def caps(*structures):
    return Capabilities(directions=("forward", "bidirectional"), max_layers=2, reset_after=(True, False),
                        bias_structures=structures)


@given(gru_cases(caps("input")))
def test_input_only_draws_nonzero_input_biases_and_zero_recurrent_ones(case):
    assert case.spec.bias_structure == "input"
    for w in case.weights:
        assert np.all(w.bW != 0) and np.all(w.bU == 0)


@given(gru_cases(caps("input+candidate")))
def test_input_plus_candidate_draws_only_bU_n_on_the_recurrent_side(case):
    for w in case.weights:
        assert np.all(w.bW != 0) and np.all(w.bU[:2] == 0) and np.all(w.bU[2] != 0)


@given(gru_cases(caps("full", "none")))
def test_full_draws_every_bias_and_none_none(case):
    for w in case.weights:
        assert np.all((w.bW != 0) == case.spec.bias) and np.all((w.bU != 0) == case.spec.bias)


def test_bias_flags_map_to_structures_and_back():
    assert Capabilities().bias_structures == ("full",) and Capabilities().bias == (True,)
    assert Capabilities(bias=(True, False)).bias_structures == ("full", "none")
    assert Capabilities(bias=(False,)).bias_structures == ("none",)
    assert Capabilities(bias_structures=("input", "none")).bias == (True, False)
    with pytest.raises(ValueError, match="contradicts"):
        Capabilities(bias=(True, False), bias_structures=("input",))
    with pytest.raises(ValueError, match="bias_structures: expected"):
        Capabilities(bias_structures=("recurrent",))
    assert set(BIAS_STRUCTURES) == {"full", "input+candidate", "input", "none"}


def test_a_case_holds_zeros_where_its_structure_has_no_bias(tmp_path):
    spec = GRUSpec(2, 2, bias_structure="input")
    assert spec.bias and "bias=input" in spec.describe()
    w, x, _ = case_values(spec, 2, 1, "float64", 0, h0=False, saturating=False)
    bad = [w[0].replace(bU=np.ones((3, 2)))]
    with pytest.raises(ValueError, match=r"zeros for the biases bias_structure='input' lacks, got non-zero bU_z"):
        GRUCase(spec, bad, x)
    with pytest.raises(ValueError, match="'none' when bias=False"):
        GRUSpec(2, 2, bias=False, bias_structure="input")
    assert GRUSpec(2, 2, bias_structure="none").bias is False
    case = GRUCase(spec, w, x)
    assert load_case(save_case(case, tmp_path / "c.npz")).spec == spec
    assert caps("full").admits(case) == "bias structure input is not supported"


def test_the_example_declares_input_biases_and_conforms():
    adapter = load_adapter(EXAMPLE)
    assert_declares(adapter, SUPPORTED)
    for feature in SUPPORTED:
        assert_feature(adapter, feature, supported=True)


class DeclaredFull:
    """The same GRU, declared with both biases: it silently ignores bU, as a careless port would."""

    name = "no-recurrent-bias-gru-declared-full"

    def __init__(self):
        self.inner = load_adapter(EXAMPLE)

    def capabilities(self):
        from dataclasses import replace

        return replace(self.inner.capabilities(), bias=None, bias_structures=("full",))

    def run(self, case):
        return self.inner.run(case)


def test_the_same_gru_declared_full_fails_for_its_dropped_recurrent_biases(tmp_path):
    res = check_feature(DeclaredFull(), "float64", case_dir=tmp_path)
    assert res.status == Status.FAIL
    assert "bias placement" in res.bug_classes, res.report()
