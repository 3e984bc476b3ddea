"""The ci profile kills every backward mutant (correct forward, hand-written wrong backward) through its
backward check alone, and the diagnosis names its bug class; the correct hand-written backward passes."""

import pytest

from conformance.checks import check_feature, supported_features
from conformance.frameworks.torch.backward_mutants import BACKWARD_BUGS, BackwardMutantGRU
from conformance.profiles import get_profile
from conformance.status import Status


def first_backward_kill(adapter):
    for feature in supported_features(adapter.capabilities()):
        result = check_feature(adapter, feature, "ci")
        assert result.status == Status.PASS, result.report()  # the forward is correct in every mutant
        if result.backward.status == Status.FAIL:
            return result.backward
    return None


@pytest.mark.parametrize("bug", BACKWARD_BUGS, ids=lambda b: b.name)
def test_backward_mutant_is_killed_and_named(bug):
    result = first_backward_kill(BackwardMutantGRU(bug.name))
    assert result is not None, f"{bug.name} survived the ci profile"
    assert result.verdict.fault is None, result.report()
    assert result.bug_classes == [bug.bug_class], result.report()
    assert result.replay and result.case_file.endswith("-backward.npz")
    assert "diverging gradients" in result.report()


def test_the_correct_hand_written_backward_passes_every_feature():
    """An independent derivation of the VJP (per step, in torch) agrees with the reference on every feature."""
    adapter = BackwardMutantGRU(None)
    for feature in supported_features(adapter.capabilities()):
        result = check_feature(adapter, feature, "ci")
        assert result.status == Status.PASS and result.backward.status == Status.PASS, result.backward.report()
        p = get_profile("ci")
        wanted = p.size_backward_examples if feature in ("large", "long") else p.max_backward_examples
        assert result.backward.examples == wanted, result.backward.report()


def test_at_least_eight_mutants_in_distinct_stories():
    assert len(BACKWARD_BUGS) >= 8
    assert len({b.name for b in BACKWARD_BUGS}) == len(BACKWARD_BUGS)


def test_replay_reruns_the_backward(capsys):
    from conformance.cli import main

    r = first_backward_kill(BackwardMutantGRU("h0-grad-dropped"))
    ref = "conformance.frameworks.torch.backward_mutants:"
    assert main(["replay", ref + "h0-grad-dropped", r.case_file]) == 1
    out = capsys.readouterr().out
    assert "backward: FAIL" in out and "[initial state]" in out
    assert main(["replay", ref + "correct", r.case_file]) == 0
    assert "backward: PASS" in capsys.readouterr().out
