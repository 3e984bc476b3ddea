"""The gru-conformance command line: list, check, replay, report; exit codes 0, 1, 2."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.builtins import BY_NAME as BUILTINS
from conformance.builtins import Builtin
from conformance.cli import main
from conformance.features import FEATURES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SEED = f"{EXAMPLES / 'seed_numpy_gru.py'}:SeedGRUAdapter"
FIXED = f"{EXAMPLES / 'seed_numpy_gru_fixed.py'}:FixedSeedGRUAdapter"
MINIMAL = f"{EXAMPLES / 'minimal_numpy_gru.py'}:MinimalGRU"


@pytest.fixture
def only_builtins(monkeypatch):
    """Replace the built-in registry by the given entries for one test."""
    def set_to(entries: dict):
        for name in list(BUILTINS):
            monkeypatch.delitem(BUILTINS, name)
        for name, ref in entries.items():
            monkeypatch.setitem(BUILTINS, name, Builtin(name, ref))
    return set_to


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables are asserted on by content: keep rich from wrapping them, whatever runs the tests."""
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def case_dir(tmp_path, monkeypatch):
    path = tmp_path / "cases"
    monkeypatch.setenv("GRU_CONFORMANCE_CASE_DIR", str(path))
    return path


# list

def test_list_shows_available_and_why_the_others_are_not(only_builtins, capsys):
    only_builtins({"reference": "conformance.frameworks.reference:ReferenceAdapter",
                   "ghostnet": "ghostnet_framework_xyz.adapters:GhostGRU"})
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "reference" in out and "available" in out
    assert "ghostnet_framework_xyz is not installed" in out


# check

def test_check_conformant_adapter_exits_0(capsys):
    assert main(["check", MINIMAL, "--feature", "float32", "lengths", "clip"]) == 0
    out = capsys.readouterr().out
    assert "minimal-numpy-gru: CONFORMANT (2 supported features pass, 1 unsupported)" in out


def test_check_non_conformant_adapter_exits_1_with_reports(capsys, case_dir):
    assert main(["check", SEED, "--feature", "float64"]) == 1
    out = capsys.readouterr().out
    assert "seed-numpy-gru / float64: FAIL" in out
    assert "FAIL state carry" in out
    assert f"replay: gru-conformance replay {SEED} {case_dir}" in out


def test_check_runs_every_feature_and_reports_unsupported(capsys):
    assert main(["check", FIXED]) == 0
    out = capsys.readouterr().out
    for f in FEATURES:
        assert f.name in out
    assert "forward(x) sees one step of one sample, it has no notion of length" in out


@pytest.mark.parametrize("ref, message", [
    ("nosuch_module_abc:Adapter", "cannot import module 'nosuch_module_abc'"),
    ("conformance.frameworks.reference:Nope", "has no attribute 'Nope'"),
    ("not-a-builtin", "expected a built-in name"),
    ("conformance.features:FEATURES", "is a tuple, not an adapter"),
])
def test_check_unloadable_adapter_exits_2(ref, message, capsys):
    assert main(["check", ref]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["check", "reference", "--feature", "float65"],
                                  ["check", "reference", "--timeout", "0"],
                                  ["check", "reference", "--profile", "huge"], ["check"], []])
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2


def test_check_writes_json_and_markdown(tmp_path, capsys, case_dir):
    js, md = tmp_path / "r.json", tmp_path / "r.md"
    assert main(["check", SEED, "--feature", "float64", "reverse", "--json", str(js), "--markdown", str(md)]) == 1
    data = json.loads(js.read_text())
    assert data["conformant"] is False and data["profile"] == "ci"
    (a,) = data["adapters"]
    assert a["name"] == "seed-numpy-gru" and a["ref"] == SEED and a["conformant"] is False
    assert set(a["features"]) == {"float64", "reverse"}
    assert a["features"]["float64"]["cell"] == "FAIL state carry"
    assert Path(a["features"]["float64"]["case_file"]).is_file()
    unsupported = dict(status="unsupported", cell="unsupported", examples=0, uninformative=0, max_ulp=0.0,
                       max_error_over_tolerance=0.0, bug_classes=[],
                       reason="the blog's GRU is a single forward float64 layer")
    assert a["features"]["reverse"] == dict(unsupported, backward=unsupported)
    assert a["features"]["float64"]["backward"]["reason"].startswith("the adapter declares no gradients")
    text = md.read_text()
    assert "| float64 | **FAIL state carry** |" in text
    assert "## Failures" in text and f"gru-conformance replay {SEED}" in text


def test_console_script_runs_from_a_shell(tmp_path):
    script = Path(sys.executable).parent / "gru-conformance"
    proc = subprocess.run([str(script), "check", "examples/minimal_numpy_gru.py:MinimalGRU", "--feature", "float32"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "minimal-numpy-gru: CONFORMANT" in proc.stdout


def test_module_reference_is_found_in_the_current_directory(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", "check", "examples.minimal_numpy_gru:MinimalGRU",
                           "--feature", "float64"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# replay

def test_replay_a_saved_case_gives_the_diagnosis(capsys, case_dir):
    assert main(["check", SEED, "--feature", "float64"]) == 1
    (case_file,) = case_dir.glob("*.npz")
    capsys.readouterr()
    assert main(["replay", SEED, str(case_file)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("seed-numpy-gru on I=1 H=1 L=1 forward")
    assert "FAIL" in out and "y first diverges at layer 0, direction 0, t=1" in out
    assert "diagnosis:\n  - [state carry]" in out
    assert main(["replay", FIXED, str(case_file)]) == 0
    assert "PASS" in capsys.readouterr().out


def test_replay_notes_a_case_outside_the_capabilities(capsys, case_dir):
    main(["check", SEED, "--feature", "float64"])
    (case_file,) = case_dir.glob("*.npz")  # reset_after=False, which the PyTorch-style adapter below lacks
    capsys.readouterr()
    assert main(["replay", MINIMAL, str(case_file)]) == 0
    assert "outside" not in capsys.readouterr().err
    (case_dir / "after_only.py").write_text(
        "import dataclasses\n"
        "from minimal_numpy_gru import MinimalGRU\n\n"
        "class AfterOnly(MinimalGRU):\n"
        "    def capabilities(self):\n"
        "        return dataclasses.replace(super().capabilities(), reset_after=(True,))\n")
    sys.path.insert(0, str(EXAMPLES))
    try:
        assert main(["replay", f"{case_dir / 'after_only.py'}:AfterOnly", str(case_file)]) == 0
    finally:
        sys.path.remove(str(EXAMPLES))
    assert "outside minimal-numpy-gru's capabilities (reset_after=False is not supported)" in capsys.readouterr().err


def test_replay_unreadable_case_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    assert main(["replay", "reference", str(bad)]) == 2
    assert "cannot read the case file" in capsys.readouterr().err
    assert main(["replay", "reference", str(tmp_path / "missing.npz")]) == 2
    assert main(["replay", "nosuch_module_abc:A", str(bad)]) == 2


# report

def test_report_over_the_builtins_writes_json_markdown_and_plots(only_builtins, tmp_path, capsys):
    only_builtins({"minimal-numpy-gru": MINIMAL, "ghostnet": "ghostnet_framework_xyz.adapters:GhostGRU"})
    out_dir = tmp_path / "report"
    assert main(["report", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "Conformance matrix" in out and "minimal-numpy-gru" in out
    assert "ghostnet: unavailable (ghostnet_framework_xyz is not installed)" in out
    data = json.loads((out_dir / "report.json").read_text())
    assert data["conformant"] is True
    ref, ghost = data["adapters"]
    assert ref["available"] and ref["conformant"]
    assert ref["features"]["lengths"]["cell"] == f"pass {ref['features']['lengths']['max_ulp']:.3g} ULP"
    assert ref["features"]["clip"]["cell"] == "unsupported"
    assert ghost == dict(name="ghostnet", ref="ghostnet_framework_xyz.adapters:GhostGRU", available=False,
                         unavailable="ghostnet_framework_xyz is not installed", broken=False, self_check=False,
                         padding="zeros", size_padding="", evidence=0, conformant=None, graph_summary=None,
                         plot=None, plot_note=None, seconds=None, builds=None, expected_failed_checks={},
                         features={})
    md = (out_dir / "report.md").read_text()
    assert md.startswith("# GRU conformance report\n\n**Verdict: every implementation conforms.**")
    assert "| feature | `minimal-numpy-gru` |" in md and "| clip | unsupported |" in md
    assert "## Unavailable implementations" in md and "ghostnet_framework_xyz is not installed" in md
    png = out_dir / "minimal-numpy-gru-errors.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and ref["plot"] == str(png)
    assert "![minimal-numpy-gru: max |y - oracle| / tolerance per time step](minimal-numpy-gru-errors.png)" in md


def test_report_with_a_failing_adapter_exits_1_and_keeps_failing_cases(tmp_path, capsys):
    out_dir = tmp_path / "report"
    assert main(["report", "--out", str(out_dir), "--adapters", f"{MINIMAL},{SEED}", "--no-plots"]) == 1
    data = json.loads((out_dir / "report.json").read_text())
    assert [a["conformant"] for a in data["adapters"]] == [True, False]
    seed = data["adapters"][1]["features"]
    assert {f: r["cell"] for f, r in seed.items() if r["status"] == "fail"} == \
        {f: "FAIL state carry" for f in ("float64", "reset_before", "no_bias", "large", "long")}
    assert all(Path(r["case_file"]).parent == out_dir / "cases" for r in seed.values() if r["status"] == "fail")
    md = (out_dir / "report.md").read_text()
    i_matrix, i_fail, i_unsup = (md.index(s) for s in ("| feature |", "## Failures", "## Unsupported features"))
    assert i_matrix < i_fail < i_unsup
    assert "### `seed-numpy-gru` / float64: FAIL state carry" in md and "- [state carry] matches" in md
    assert "  - float32, float16, bfloat16: the blog's GRU is a single forward float64 layer: NumPy float64 only" in md
    assert not list(out_dir.glob("*.png"))


def test_report_includes_graph_summaries(tmp_path, capsys):
    (tmp_path / "graph_adapter.py").write_text(
        "from conformance import Capabilities, oracle\n\n"
        "class Exported:\n"
        "    name = 'exported[onnx]'\n\n"
        "    def capabilities(self):\n"
        "        return Capabilities()\n\n"
        "    def run(self, case):\n"
        "        return oracle(case)\n\n"
        "    def graph_summary(self):\n"
        "        return 'graph exported (\\n  GRU[linear_before_reset=1]\\n)'\n")
    out_dir = tmp_path / "report"
    ref = f"{tmp_path / 'graph_adapter.py'}:Exported"
    assert main(["report", "--out", str(out_dir), "--adapters", ref, "--no-plots"]) == 0
    assert "│ exported[onnx] │" in capsys.readouterr().out  # a name with brackets is not read as rich markup
    md = (out_dir / "report.md").read_text()
    assert "## Exported graphs" in md and "  GRU[linear_before_reset=1]" in md
    assert json.loads((out_dir / "report.json").read_text())["adapters"][0]["graph_summary"].startswith("graph")


def test_report_unknown_or_unloadable_adapter_exits_2(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "a"), "--adapters", "nonesuch"]) == 2
    assert "unknown adapter nonesuch" in capsys.readouterr().err
    out_dir = tmp_path / "b"
    assert main(["report", "--out", str(out_dir), "--adapters", f"{MINIMAL},nosuch_module_abc:A", "--no-plots"]) == 2
    data = json.loads((out_dir / "report.json").read_text())
    assert [a["available"] for a in data["adapters"]] == [True, False]


def test_without_rich_and_matplotlib_output_is_plain_and_says_so(monkeypatch, tmp_path, capsys):
    for name in ("rich", "matplotlib"):
        monkeypatch.setitem(sys.modules, name, None)
    out_dir = tmp_path / "report"
    assert main(["report", "--out", str(out_dir), "--adapters", f"{MINIMAL},{SEED}"]) == 1
    captured = capsys.readouterr()
    assert "rich is not installed: plain output" in captured.err
    assert "matplotlib is not installed (pip install 'gru-conformance[report]'): no plots" in captured.err
    assert re.search(r"\[\d+/36\] minimal-numpy-gru / float64: pass", captured.err)
    lines = captured.out.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("implementation"))
    assert lines[i].split()[:3] == ["implementation", "float64", "float32"]  # adapters on rows
    minimal, seed = lines[i + 2].split(), lines[i + 3].split()
    assert minimal[:2] == ["minimal-numpy-gru", "pass"] and seed[:4] == ["seed-numpy-gru", "FAIL", "state", "carry"]
    assert not list(out_dir.glob("*.png"))
    assert "- `minimal-numpy-gru`: no plot (matplotlib is not installed" in (out_dir / "report.md").read_text()
    assert main(["list"]) == 0


# expected failures declared by the adapter

DECLARING = """
from minimal_numpy_gru import MinimalGRU
from seed_numpy_gru import SeedGRUAdapter

class SeedDeclared(SeedGRUAdapter):
    expected_failed_checks = {f: "forward() restarts from zeros (upstream bug)"
                              for f in ("float64", "reset_before", "no_bias", "large", "long")}

class MinimalStale(MinimalGRU):
    expected_failed_checks = {"float32": "was broken before 2.1", "float46": "a typo"}

class MinimalNoReason(MinimalGRU):
    expected_failed_checks = {"float32": ""}

class MinimalFloat32Declared(MinimalGRU):
    # right in float64, outputs scaled by 0.9 in float32, and says so
    expected_failed_checks = {"float32": "scales its float32 outputs (upstream bug)"}

    def capabilities(self):  # two checks: one passes, one fails as declared
        from dataclasses import replace
        from conformance.features import FEATURES
        caps = super().capabilities()
        return replace(caps, unsupported={f.name: "left out of this test" for f in FEATURES
                                          if f.name not in ("float64", "float32")})

    def run(self, case):
        r = super().run(case)
        if case.dtype == "float32":
            r.y[...] *= 0.9
            r.h_n[...] *= 0.9
        return r
"""


@pytest.fixture
def declaring(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", [str(EXAMPLES)] + sys.path)
    path = tmp_path / "declaring_adapters.py"
    path.write_text(DECLARING)
    return lambda cls: f"{path}:{cls}"


def test_declared_expected_failures_are_xfail_and_conform(declaring, tmp_path, capsys):
    js = tmp_path / "r.json"
    assert main(["check", declaring("MinimalFloat32Declared"), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "expected failure: scales its float32 outputs (upstream bug)" in out
    assert "minimal-numpy-gru: CONFORMANT (1 supported features pass, 1 expected failures, 16 unsupported)" in out
    f32 = json.loads(js.read_text())["adapters"][0]["features"]["float32"]
    assert (f32["status"], f32["outcome"]) == ("fail", "xfail") and f32["cell"].startswith("xfail ")


def test_declared_failures_with_nothing_passing_are_no_verdict(declaring, tmp_path, capsys):
    """Every supported check declared failing: nothing backs conformance, so it is not green."""
    assert main(["check", declaring("SeedDeclared")]) == 1
    out = capsys.readouterr().out
    assert "xfail state carry" in out and "expected failure: forward() restarts from zeros (upstream bug)" in out
    assert "seed-numpy-gru: NO VERDICT: no check that could have failed passed (13 unsupported, 5 expected " \
           "failures)" in out


def test_a_declared_failure_that_passes_is_strict(declaring, tmp_path, capsys):
    md = tmp_path / "r.md"
    assert main(["check", declaring("MinimalStale"), "--feature", "float32", "float64", "--markdown", str(md)]) == 1
    captured = capsys.readouterr()
    assert "float32: XPASS (strict): declared as an expected failure (was broken before 2.1)" in captured.out
    assert "expected failure 'float46' matches no check" in captured.err
    assert "| float32 | **XPASS (strict)** |" in md.read_text()


def test_a_declared_failure_without_reason_is_a_usage_error(declaring, tmp_path, capsys):
    assert main(["check", declaring("MinimalNoReason")]) == 2
    assert "expected failure 'float32' needs a reason" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path), "--adapters", declaring("MinimalNoReason")]) == 2


def test_report_lists_expected_failures(declaring, tmp_path, capsys):
    out_dir = tmp_path / "report"
    assert main(["report", "--out", str(out_dir), "--adapters", declaring("MinimalFloat32Declared"),
                 "--no-plots"]) == 0
    md = (out_dir / "report.md").read_text()
    assert "| float32 | xfail " in md and "## Failures" not in md
    assert "- `minimal-numpy-gru` / float32: xfail " in md and "declared: scales its float32 outputs" in md


# -- the build cache (conformance.buildcache) ------------------------------------------------------


def test_the_cache_command_says_where_the_builds_are_and_clears_them(tmp_path, monkeypatch, capsys):
    from conformance.buildcache import ENV_VAR, cached_build

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "builds"))
    cached_build("onnx.export[x]", (1,), lambda: (b"model", {}))
    assert main(["cache"]) == 0
    assert f"{tmp_path / 'builds'}: 1 stored builds" in capsys.readouterr().out
    assert main(["cache", "--clear"]) == 0
    assert "deleted 1 stored builds" in capsys.readouterr().out
    main(["cache"])
    assert ": 0 stored builds, 0.0 MiB, 0 of them stale" in capsys.readouterr().out
    cached_build("onnx.export[x]", (1,), lambda: (b"model", {}))
    monkeypatch.setattr("conformance.buildcache.fingerprint", lambda: "torch 9.9")
    cached_build("onnx.export[x]", (2,), lambda: (b"model", {}))
    main(["cache"])
    assert ": 2 stored builds, 0.0 MiB, 1 of them stale" in capsys.readouterr().out
    assert main(["cache", "--prune"]) == 0
    assert "deleted 1 stale builds" in capsys.readouterr().out
    monkeypatch.setenv(ENV_VAR, "off")
    main(["cache"])
    assert "the build cache is off" in capsys.readouterr().out


def test_no_build_cache_turns_it_off_for_the_run_and_its_workers(tmp_path, monkeypatch, capsys):
    import os

    from conformance.buildcache import ENV_VAR, location, usage
    from tests.engine.test_report_workers import BUILDING

    (tmp_path / "building_adapter.py").write_text(BUILDING)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "builds"))
    out_dir = tmp_path / "report"
    assert main(["report", "--out", str(out_dir), "--no-plots", "--no-build-cache",
                 "--adapters", f"{tmp_path / 'building_adapter.py'}:Building"]) == 0
    assert os.environ[ENV_VAR] == "off" and location() is None
    (run,) = json.loads((out_dir / "report.json").read_text())["adapters"]
    assert run["builds"]["made"] > 0 and run["builds"]["kept"] == run["builds"]["from_cache"] == 0
    assert usage(tmp_path / "builds")[0] == 0
    assert "made afresh (the build cache is off)" in capsys.readouterr().err


def test_the_report_says_what_the_build_cache_did(tmp_path, monkeypatch):
    from conformance.buildcache import ENV_VAR, Stats
    from conformance.report.command import build_cache_note
    from conformance.report.run import AdapterRun

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    runs = [AdapterRun("a", "a", builds=Stats(hits=30, built=10, saved_seconds=41.6, kept=10)),
            AdapterRun("b", "b", builds=Stats(hits=5, saved_seconds=3.0)), AdapterRun("c", "c"),
            AdapterRun("d", "d", builds=Stats())]
    assert build_cache_note(runs) == (f"35 of 45 exports and conversions read from the build cache in {tmp_path} "
                                      "(45 s of building saved); those made are kept for the next run "
                                      "(--no-build-cache: neither read nor kept)")
    assert build_cache_note(runs[1:]) == (f"5 of 5 exports and conversions read from the build cache in {tmp_path} "
                                          "(3 s of building saved) (--no-build-cache: neither read nor kept)")
    assert build_cache_note(runs[2:]) == ""
    assert build_cache_note([AdapterRun("a", "a", builds=Stats(built=12, kept=9))]) == (
        f"0 of 12 exports and conversions read from the build cache in {tmp_path}; 9 of the 12 made kept for the "
        "next run (--no-build-cache: neither read nor kept)")
    monkeypatch.setenv(ENV_VAR, "off")
    assert build_cache_note([AdapterRun("a", "a", builds=Stats(built=12))]) == \
        "12 exports and conversions made afresh (the build cache is off)"


def test_check_says_what_the_build_cache_did(tmp_path, monkeypatch, capsys):
    from conformance import buildcache
    from conformance.buildcache import ENV_VAR
    from tests.engine.test_report_workers import BUILDING

    path = tmp_path / "building_adapter.py"
    path.write_text(BUILDING)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "builds"))
    monkeypatch.setattr(buildcache, "STATS", buildcache.Stats())
    assert main(["check", f"{path}:Building", "--feature", "float64"]) == 0
    made = buildcache.STATS.built
    assert made > 0 and (f"0 of {made} exports and conversions read from the build cache in {tmp_path / 'builds'}; "
                         "those made are kept for the next run") in capsys.readouterr().err
