"""The ci profile kills every mutant of the catalogue, and the diagnosis names its bug class."""

import pytest

from conformance.checks import check_feature, supported_features
from conformance.features import BY_NAME as FEATURES
from conformance.mutants import BLOCK, BUGS, CHUNK, TILE, MutantGRU

#: the mutants that show only above a size: the check that kills them, and the size it shrinks to
SIZE_BUGS = {
    "chunk-state-lost": ("long", lambda c: c.T == CHUNK + 1),
    "remainder-tile-dropped": ("large", lambda c: c.spec.hidden_size == TILE + 1),
    "batch-block-state": ("large", lambda c: c.B == BLOCK + 1),
}


def first_kill(adapter):
    for feature in supported_features(adapter.capabilities()):
        result = check_feature(adapter, feature, "ci")
        if result.status == "fail":
            return result
    return None


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_mutant_is_killed_and_named(bug):
    result = first_kill(MutantGRU(bug.name))
    assert result is not None, f"{bug.name} survived the ci profile"
    assert result.verdict.fault is None, result.report()
    assert bug.bug_class in result.bug_classes, result.report()
    assert result.replay and result.case_file
    killer = FEATURES[result.feature]
    if bug.name in SIZE_BUGS:  # every small check passed first; the size check shrinks to the boundary
        feature, minimal = SIZE_BUGS[bug.name]
        assert result.feature == feature, result.report()
        assert minimal(result.verdict.case), result.verdict.case.describe()
    else:
        assert not killer.size, f"{bug.name} survived every small check"


def test_catalogue_covers_every_known_trap_class():
    classes = {b.bug_class for b in BUGS}
    assert {"gate order", "bias placement", "reset position", "update convention", "state carry",
            "initial state", "reverse direction and padding", "final state", "output layout", "stacked layers",
            "batching", "time alignment", "activations", "precision", "weights"} <= classes
    assert len(BUGS) >= 25


def test_a_bias_off_by_a_relative_1e_3_is_caught_in_float32():
    result = check_feature(MutantGRU("bias-off"), "float32", "ci")
    assert result.status == "fail"
    assert result.verdict.case.dtype == "float32"
    assert "weights" in result.bug_classes, result.report()


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_a_low_precision_only_mutant_is_killed_in_its_dtype_and_named_alone(dtype):
    bugs = [b for b in BUGS if b.dtypes == (dtype,)]
    assert bugs, f"no {dtype}-only mutant in the catalogue"
    for bug in bugs:
        result = check_feature(MutantGRU(bug.name), dtype, "ci")
        assert result.status == "fail" and result.verdict.case.dtype == dtype, result.report()
        assert result.bug_classes == [bug.bug_class], result.report()
