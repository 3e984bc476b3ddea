"""The report's worker processes: each Keras backend's built-ins in a process with its own
KERAS_BACKEND, framework chatter kept off the terminal unless -v, the output folder the
report's own, the console matrix within 100 columns, and plots of error over tolerance."""

import json
from pathlib import Path

import numpy as np
import pytest

from conformance import ReferenceAdapter
from conformance.builtins import BY_NAME as BUILTINS
from conformance.builtins import Builtin
from conformance.case import GRUResult
from conformance.cli import main
from conformance.features import feature
from conformance.report.plots import example_cases, ratio_per_step
from conformance.report.workers import environment

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = f"{ROOT / 'examples' / 'minimal_numpy_gru.py'}:MinimalGRU"

NOISY = '''
import os, sys, warnings
from conformance import Capabilities, oracle

class Noisy:
    """Says which KERAS_BACKEND its process has, and chatters as frameworks do."""
    def __init__(self):
        self.name = "noisy[" + os.environ.get("KERAS_BACKEND", "unset") + "]"
    def capabilities(self):
        return Capabilities(dtypes=("float64",), directions=("forward",), max_layers=1)
    def run(self, case):
        warnings.warn("retracing, for the 1000th time")
        print("I tensorflow/core: something in C++", file=sys.stderr)
        return oracle(case)
'''


@pytest.fixture
def noisy(tmp_path, monkeypatch):
    """Two built-ins of the same adapter, one per KERAS_BACKEND, as the Keras built-ins are."""
    path = tmp_path / "noisy_adapter.py"
    path.write_text(NOISY)
    for name in list(BUILTINS):
        monkeypatch.delitem(BUILTINS, name)
    for backend in ("jax", "torch"):
        monkeypatch.setitem(BUILTINS, f"noisy[{backend}]",
                            Builtin(f"noisy[{backend}]", f"{path}:Noisy", environ={"KERAS_BACKEND": backend}))
    monkeypatch.setenv("COLUMNS", "250")
    return tmp_path


def test_keras_builtins_get_their_own_backend():
    assert environment("keras.GRU[jax]")["KERAS_BACKEND"] == "jax"
    assert environment("keras.GRUCell[torch]")["KERAS_BACKEND"] == "torch"
    assert environment("reference") == environment("keras.GRU[tensorflow]") == {"KERAS_BACKEND": "tensorflow"}


def test_each_backend_runs_in_a_process_of_its_own_and_chatter_goes_to_the_log(noisy, capfd):
    out_dir = noisy / "report"
    assert main(["report", "--out", str(out_dir), "--no-plots", "--jobs", "1"]) == 0
    captured = capfd.readouterr()
    data = json.loads((out_dir / "report.json").read_text())
    assert [(a["name"], a["conformant"]) for a in data["adapters"]] == [("noisy[jax]", True), ("noisy[torch]", True)]
    assert "retracing" not in captured.err + captured.out and "tensorflow/core" not in captured.err
    logs = "".join(p.read_text() for p in (out_dir / "logs").glob("*.log"))
    assert "retracing, for the 1000th time" in logs and "I tensorflow/core: something in C++" in logs
    assert f"framework messages (warnings, logs) are in {out_dir / 'logs'}/" in captured.err


def test_verbose_lets_the_chatter_through(noisy, capfd):
    assert main(["report", "--out", str(noisy / "report"), "--no-plots", "-v", "--adapters", "noisy[jax]"]) == 0
    assert "I tensorflow/core: something in C++" in capfd.readouterr().err
    assert not (noisy / "report" / "logs").exists()


def test_a_previous_report_is_replaced_and_said_so(tmp_path, capsys):
    out_dir = tmp_path / "report"
    args = ["report", "--out", str(out_dir), "--adapters", MINIMAL, "--no-plots"]
    assert main(args) == 0
    (out_dir / "stale-errors.png").write_bytes(b"old")
    capsys.readouterr()
    assert main(args) == 0
    assert f"replacing the previous report in {out_dir}" in capsys.readouterr().err
    assert not (out_dir / "stale-errors.png").exists() and (out_dir / "report.json").exists()


def test_a_folder_with_other_files_is_refused_and_left_alone(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    assert main(["report", "--out", str(tmp_path), "--adapters", MINIMAL, "--no-plots"]) == 2
    assert "holds files that are not a report (thesis.tex)" in capsys.readouterr().err
    assert (tmp_path / "thesis.tex").read_text() == "precious" and not (tmp_path / "report.json").exists()


def test_the_console_matrix_fits_100_columns(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    refs = f"{MINIMAL},{ROOT / 'examples' / 'seed_numpy_gru.py'}:SeedGRUAdapter,reference"
    assert main(["report", "--out", str(tmp_path / "r"), "--adapters", refs, "--no-plots"]) == 1
    out = capsys.readouterr().out
    tables = out[out.index("Conformance matrix"):]
    assert max(len(line) for line in tables.splitlines()) <= 100
    assert "Conformance matrix (2/" in tables and "│ seed-numpy-gru    │ FAIL state carry" in tables
    assert "clip" in tables and "reference" in tables  # every feature and implementation is shown


class Broken(ReferenceAdapter):
    """The oracle, off by 1e-6 from the third step on: fails in float64 after t = 2 only."""

    def run(self, case):
        r = super().run(case)
        y = r.y.copy()
        y[2:] += 1e-6
        return GRUResult(y=y, h_n=r.h_n)


def test_plot_series_are_error_over_tolerance_with_ended_steps_left_out():
    caps = ReferenceAdapter().capabilities()
    cases = [c for c in example_cases(caps, feature("lengths"), 12) if c.lengths.max() < c.T and c.T > 3]
    assert cases, "the plot draw has a case whose sequences all end before T"
    case = cases[0]
    ratio = ratio_per_step(case, Broken().run(case))
    ended = np.arange(case.T) >= case.lengths.max()
    assert np.isnan(ratio[ended]).all() and not np.isnan(ratio[~ended]).any()
    assert (ratio[:2] < 1).all() and (ratio[2:][~ended[2:]] > 1).all()


class RunsOnce(ReferenceAdapter):
    """Counts its runs."""

    runs = 0

    def run(self, case):
        RunsOnce.runs += 1
        return super().run(case)


def test_the_plot_draws_the_cases_the_checks_judged_and_runs_nothing_again(tmp_path):
    pytest.importorskip("matplotlib")
    from conformance.checks import STEPS_KEPT, check_feature
    from conformance.report.plots import plot_errors

    long = check_feature(RunsOnce(), "long", "ci")
    assert long.status == "pass" and 0 < len(long.steps) <= STEPS_KEPT
    longest = max(len(r) for _, r, _ in long.steps)
    assert longest >= 65 and all(np.nanmax(r) <= long.max_ratio for _, r, _ in long.steps)
    broken = check_feature(Broken(), "float64", "ci", case_dir=tmp_path)
    failed = [r for _, r, bad in broken.steps if bad]
    assert broken.status == "fail" and len(failed) == 1 and np.nanmax(failed[0]) > 1  # its minimal failure
    before = RunsOnce.runs
    path, note = plot_errors(RunsOnce(), tmp_path, results=[long, broken])
    assert RunsOnce.runs == before and path and Path(path).stat().st_size > 0 and note is None



def test_the_costliest_task_starts_first_and_a_worker_switches_environment_only_where_it_must():
    from conformance.report.workers import COST, Task, next_task

    tf, jax = {"KERAS_BACKEND": "tensorflow"}, {"KERAS_BACKEND": "jax"}
    big, gru_jax, small, cell_jax = [Task(n, env=e) for n, e in (
        ("litert[keras.GRU]", tf), ("keras.GRU[jax]", jax), ("onnx.export[torchscript]", tf),
        ("keras.GRUCell[jax]", jax))]
    assert next_task([big, gru_jax, small, cell_jax], None, [tf]) is big  # the costliest, in a new worker
    assert next_task([gru_jax, small, cell_jax], tf, [tf]) is gru_jax  # ... even in another environment
    assert next_task([cell_jax, small], tf, [tf]) is small  # nearly as costly, and in the worker's own
    # jax's last task is left to the busy jax worker, which takes it before anything else
    assert next_task([big, small, cell_jax], tf, [jax]) is big
    assert next_task([cell_jax, small], jax, [tf]) is cell_jax
    # every built-in has a measured cost: an unlisted one would start last, however slow
    assert set(COST) == set(BUILTINS)


BUILDING = '''
from conformance import Capabilities, oracle
from conformance.buildcache import cached_build

class Building:
    """Builds once per structure (kept in memory, and on disk by the build cache), as the exporters do."""
    name = "building"
    built = set()
    def capabilities(self):
        return Capabilities(dtypes=("float64",), directions=("forward",), max_layers=2)
    def run(self, case):
        if repr(case.spec) not in self.built:
            cached_build(self.name, repr(case.spec), lambda: (b"built", {}))
            self.built.add(repr(case.spec))
        return oracle(case)
'''


def test_the_report_counts_builds_read_back_from_the_build_cache(tmp_path, monkeypatch, capsys):
    (tmp_path / "building_adapter.py").write_text(BUILDING)
    monkeypatch.setenv("GRU_CONFORMANCE_BUILD_CACHE", str(tmp_path / "builds"))
    counts, ref = [], f"{tmp_path / 'building_adapter.py'}:Building"
    for k in range(2):
        out_dir = tmp_path / f"report{k}"
        assert main(["report", "--out", str(out_dir), "--no-plots", "--adapters", ref]) == 0
        (run,) = json.loads((out_dir / "report.json").read_text())["adapters"]
        counts.append((run["builds"]["from_cache"], run["builds"]["made"]))
    made = counts[0][1]
    assert made > 1 and counts == [(0, made), (made, 0)]
    assert f"{made} of {made} exports and conversions read from the build cache" in capsys.readouterr().err
