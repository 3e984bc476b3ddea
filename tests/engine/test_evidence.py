"""No green that nothing backs: a verdict of "conformant" needs a check that could have failed,
and what the report shows says what it did not check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conformance import Capabilities, GRUResult, GRUSpec, oracle
from conformance.builtins import BY_NAME, Builtin
from conformance.case import GRUCase
from conformance.checks import check_feature, verify
from conformance.cli import main
from conformance.compare import carried
from conformance.dtypes import round_to
from conformance.values import case_values


class NothingSupported:
    """Declares every feature away: nothing can be checked."""

    name = "nothing-supported"

    def capabilities(self):
        from conformance.features import FEATURES

        return Capabilities(dtypes=("float64",), unsupported={f.name: "not implemented yet" for f in FEATURES})

    def run(self, case):
        return oracle(case)


class Float64Only(NothingSupported):
    """Supports float64 and nothing else: one check that can fail."""

    name = "float64-only"

    def capabilities(self):
        from conformance.features import FEATURES

        return Capabilities(dtypes=("float64",), unsupported={f.name: "not implemented yet" for f in FEATURES
                                                               if f.name != "float64"})


class Ragged:
    """Float64, forward, lengths; ``mode`` says what y holds past each length."""

    name = "ragged"
    padding, mode = "carry", "carry"

    def capabilities(self):
        return Capabilities(lengths=True, padding=self.padding)

    def run(self, case):
        r = oracle(case)
        return GRUResult(carried(case, r.y) if self.mode == "carry" else r.y, r.h_n)


class ClaimsCarryWritesZeros(Ragged):
    name = "claims-carry-writes-zeros"
    mode = "zeros"


class RaggedUndefined(Ragged):
    name, padding, mode = "ragged-undefined", "undefined", "zeros"


class RaggedZeros(Ragged):
    name, padding, mode = "ragged-zeros", "zeros", "zeros"


class Bfloat16InFloat32:
    """Computes in float64 and hands back float32 without rounding to bfloat16."""

    name = "bf16-unrounded"

    def capabilities(self):
        return Capabilities(dtypes=("bfloat16",))

    def run(self, case):
        r = oracle(case)
        return GRUResult(r.y.astype(np.float32), r.h_n.astype(np.float32))


class FlakyRepeat:
    """Right the first time, raises when the same case is run again."""

    name = "flaky-repeat"

    def __init__(self):
        self.seen = set()

    def capabilities(self):
        return Capabilities()

    def run(self, case):
        key = case.x.tobytes()
        if key in self.seen:
            raise RuntimeError("device lost")
        self.seen.add(key)
        return oracle(case)


MODULE = __name__


def test_check_of_an_adapter_with_nothing_supported_is_no_verdict(capsys):
    assert main(["check", f"{MODULE}:NothingSupported"]) == 1
    out = capsys.readouterr().out
    assert "NO VERDICT" in out and "CONFORMANT (" not in out


def test_report_with_no_implementation_available_does_not_say_everything_conforms(monkeypatch, tmp_path, capsys):
    for name in list(BY_NAME):
        monkeypatch.delitem(BY_NAME, name)
    monkeypatch.setitem(BY_NAME, "ghost", Builtin("ghost", "ghost_framework_q.gru:GhostGRU"))
    assert main(["report", "--out", str(tmp_path / "r"), "--no-plots"]) == 1
    md = (tmp_path / "r" / "report.md").read_text()
    assert "no verdict: no implementation could be checked" in md and "every implementation conforms" not in md
    assert json.loads((tmp_path / "r" / "report.json").read_text())["conformant"] is False


def test_an_implementation_with_no_verdict_neither_breaks_nor_backs_the_report(monkeypatch, tmp_path, capsys):
    for name in list(BY_NAME):
        monkeypatch.delitem(BY_NAME, name)
    monkeypatch.setitem(BY_NAME, "float64-only", Builtin("float64-only", f"{MODULE}:Float64Only"))
    monkeypatch.setitem(BY_NAME, "nothing-supported", Builtin("nothing-supported", f"{MODULE}:NothingSupported"))
    assert main(["report", "--out", str(tmp_path / "r"), "--no-plots", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "Verdict: every implementation conforms; no verdict for nothing-supported (every feature unsupported)." \
        in out
    assert "**Verdict: every implementation conforms; no verdict for `nothing-supported`" in \
        (tmp_path / "r" / "report.md").read_text()
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["conformant"] is True
    assert [a["conformant"] for a in report["adapters"]] == [True, None]
    # alone, it is no verdict, not conformant
    monkeypatch.delitem(BY_NAME, "float64-only")
    assert main(["report", "--out", str(tmp_path / "r2"), "--no-plots", "--jobs", "1"]) == 1
    assert "no verdict: no implementation could be checked" in (tmp_path / "r2" / "report.md").read_text()


def test_a_builtin_that_crashes_while_built_is_broken_not_unavailable(monkeypatch, tmp_path, capsys):
    for name in list(BY_NAME):
        monkeypatch.delitem(BY_NAME, name)
    monkeypatch.setitem(BY_NAME, "crashes", Builtin("crashes", f"{MODULE}:FlakyRepeat", {"bad": 1}))
    assert main(["report", "--out", str(tmp_path / "r"), "--no-plots"]) == 1
    out = capsys.readouterr().out
    assert "crashes: BROKEN (" in out and "unexpected keyword argument 'bad'" in out


def test_a_repeat_run_that_faults_is_a_fault(tmp_path):
    r = check_feature(FlakyRepeat(), "float64", case_dir=tmp_path)
    # the first example's repeat run raised (before, that passed silently); the replays of the
    # shrunk case then raise again, since the adapter has seen it
    assert r.status == "fail" and r.verdict.fault.kind == "raises" and r.first_failure_at == 1


def test_a_bfloat16_result_must_hold_bfloat16_values():
    spec = GRUSpec(3, 4)
    w, x, h = case_values(spec, 3, 2, "bfloat16", 0, h0=False, saturating=False)
    v = verify(Bfloat16InFloat32(), GRUCase(spec, w, x, None, None, "bfloat16"))
    assert v.fault is not None and v.fault.kind == "wrong-dtype" and "not bfloat16" in v.fault.detail
    # the same values rounded to bfloat16 are accepted (and then judged by the tolerance)
    assert np.array_equal(round_to(round_to(x, "bfloat16"), "bfloat16"), x)


def test_declared_carry_is_verified(tmp_path):
    assert check_feature(Ragged(), "lengths", case_dir=tmp_path).status == "pass"
    r = check_feature(ClaimsCarryWritesZeros(), "lengths", case_dir=tmp_path)
    assert r.status == "fail", r.report()
    assert r.verdict.comparison.y.first.t is not None


@pytest.mark.parametrize("cls, mark", [("RaggedUndefined", True), ("RaggedZeros", False)])
def test_undefined_padding_is_footnoted_in_the_matrix(cls, mark, tmp_path, capsys):
    assert main(["report", "--adapters", f"{MODULE}:{cls}", "--out", str(tmp_path / "r"), "--no-plots"]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert ("¹ y past each sequence's length is not compared for ragged-undefined" in md) == mark
    assert ("| lengths | pass" in md) and (("ULP ¹ |" in md) == mark)


def test_the_oracle_column_is_labelled_a_self_check(monkeypatch, tmp_path, capsys):
    for name in list(BY_NAME):
        if name != "reference":
            monkeypatch.delitem(BY_NAME, name)
    assert main(["report", "--out", str(tmp_path / "r"), "--no-plots", "--profile", "ci"]) == 1
    md = (tmp_path / "r" / "report.md").read_text()
    assert "`reference (self-check)`" in md and "no verdict: no implementation could be checked" in md
