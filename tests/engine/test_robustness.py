"""A misbehaving adapter gets a verdict naming its fault, and the run goes on.

Each adapter in examples/faulty_adapters.py breaks the contract one way; the checks
must name that fault (not crash, not hang, not blame the GRU's numerics), and a run
over several adapters must still finish and write its report.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conformance.checks import check_feature, verify
from conformance.cli import main
from conformance.loader import load_adapter
from conformance.report.run import run_checks

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FAULTY = EXAMPLES / "faulty_adapters.py"
TIMEOUT = 0.5
FAULTS = ["raises", "hangs", "bad-result", "wrong-shape", "wrong-dtype", "non-finite", "mutates-input",
          "aliases-input", "non-deterministic"]
CLASSES = dict(zip(FAULTS, ["Raises", "Hangs", "BadResult", "WrongShape", "WrongDtype", "ReturnsNaN", "MutatesInput",
                            "AliasesInput", "NonDeterministic"], strict=True))


def faulty(cls: str):
    return load_adapter(f"{FAULTY}:{cls}")


def test_every_fault_kind_has_an_adapter():
    module = sys.modules[type(faulty("Raises")).__module__]
    assert sorted(module.FAULTS) == sorted(FAULTS)
    assert {k: v.__name__ for k, v in module.FAULTS.items()} == CLASSES


@pytest.mark.parametrize("kind", FAULTS)
def test_the_verdict_names_the_fault(kind, tmp_path, monkeypatch):
    monkeypatch.setenv("GRU_CONFORMANCE_CASE_DIR", str(tmp_path))
    # aliasing h0 needs a case with h0: the initial_state check draws only such cases
    feature = "initial_state" if kind == "aliases-input" else "float64"
    r = check_feature(faulty(CLASSES[kind]), feature, timeout=TIMEOUT)
    assert r.status == "fail"
    assert r.verdict.fault is not None and r.verdict.fault.kind == kind, r.report()
    assert r.bug_classes == [f"adapter fault ({kind})"]
    assert f"adapter fault: {kind}: " in r.report()
    assert r.replay and Path(r.case_file).is_file()


def test_inf_is_a_non_finite_fault_too():
    r = check_feature(faulty("ReturnsInf"), "float64", timeout=TIMEOUT)
    assert r.verdict.fault.kind == "non-finite" and "h_n holds NaN or inf" in r.verdict.fault.detail


def test_a_hang_stops_the_search_at_once():
    start = time.monotonic()
    r = check_feature(faulty("Hangs"), "float64", timeout=TIMEOUT)
    assert time.monotonic() - start < 10 * TIMEOUT
    assert r.examples == 1 and r.verdict.fault.kind == "hangs"


def test_the_callers_case_is_never_touched():
    r = check_feature(faulty("MutatesInput"), "float64", timeout=TIMEOUT)
    case = r.verdict.case
    before = case.x.copy()
    v = verify(faulty("MutatesInput"), case, timeout=TIMEOUT)
    assert v.fault.kind == "mutates-input" and "x" in v.fault.detail
    assert np.array_equal(case.x, before)


def test_a_correct_run_after_faults_still_passes():
    """Faults leave nothing behind: the same adapter class without its fault conforms."""
    for cls in ("Raises", "Hangs", "MutatesInput"):
        check_feature(faulty(cls), "float64", timeout=TIMEOUT)
    base = load_adapter(f"{FAULTY}:_Faulty")
    assert check_feature(base, "float64", timeout=TIMEOUT).status == "pass"


def test_every_check_runs_for_a_faulty_adapter():
    results = run_checks(faulty("Hangs"), timeout=TIMEOUT)
    assert {r.feature: r.status for r in results if r.status != "unsupported"} == \
        {"float64": "fail", "reset_after": "fail", "initial_state": "fail", "large": "fail", "long": "fail"}


def test_a_crashing_check_is_an_error_cell_and_the_run_goes_on(monkeypatch):
    import conformance.report.run as report
    from conformance.report.text import cell, describe

    real = report.check_feature

    def crashing(adapter, feature, *a, **kw):
        if feature == "reset_after":
            raise RuntimeError("strategy blew up")
        return real(adapter, feature, *a, **kw)

    monkeypatch.setattr(report, "check_feature", crashing)
    results = {r.feature: r for r in run_checks(faulty("_Faulty"), timeout=TIMEOUT)}
    assert results["reset_after"].status == "error"
    assert "strategy blew up" in describe(results["reset_after"])
    assert cell(results["reset_after"]) == "ERROR"
    assert results["float64"].status == "pass" and results["initial_state"].status == "pass"


def test_capabilities_that_raise_later_give_error_cells():
    class Flaky:
        name = "flaky"
        calls = 0

        def capabilities(self):
            self.calls += 1
            if self.calls > 1:
                raise OSError("device lost")
            return load_adapter(f"{FAULTY}:_Faulty").capabilities()

        def run(self, case):
            raise AssertionError("never reached")

    adapter = Flaky()
    adapter.capabilities()
    results = run_checks(adapter)
    assert {r.status for r in results} == {"error"} and "OSError: device lost" in results[0].reason


def test_cli_check_on_a_hanging_adapter_finishes(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GRU_CONFORMANCE_CASE_DIR", str(tmp_path))
    start = time.monotonic()
    assert main(["check", f"{FAULTY}:Hangs", "--timeout", str(TIMEOUT)]) == 1
    assert time.monotonic() - start < 30 * TIMEOUT
    out = capsys.readouterr().out
    assert out.count("adapter fault: hangs: no result after 0.5 s") == 5
    assert "faulty-hangs: NOT CONFORMANT" in out


def test_a_report_over_faulty_adapters_still_writes_its_files(tmp_path, capsys):
    names = ["_Faulty", "Raises", "Hangs", "WrongShape", "ReturnsNaN", "NonDeterministic"]
    out_dir = tmp_path / "report"
    argv = ["report", "--out", str(out_dir), "--timeout", str(TIMEOUT),
            "--adapters", ",".join(f"{FAULTY}:{n}" for n in names)]
    assert main(argv) == 1
    data = json.loads((out_dir / "report.json").read_text())
    cells = {a["name"]: a["features"]["float64"]["cell"] for a in data["adapters"]}
    assert cells == {"faulty": cells["faulty"], "faulty-raises": "FAIL adapter fault (raises)",
                     "faulty-hangs": "FAIL adapter fault (hangs)",
                     "faulty-wrong-shape": "FAIL adapter fault (wrong-shape)",
                     "faulty-nan": "FAIL adapter fault (non-finite)",
                     "faulty-non-deterministic": "FAIL adapter fault (non-deterministic)"}
    assert cells["faulty"].startswith("pass ")
    assert [a["conformant"] for a in data["adapters"]] == [True] + [False] * 5
    md = (out_dir / "report.md").read_text()
    assert "### `faulty-hangs` / float64: FAIL adapter fault (hangs)" in md
    assert (out_dir / "faulty-errors.png").is_file()
    assert "- `faulty-hangs`: no plot (no case to draw: the checks met adapter faults (hangs))" in md
