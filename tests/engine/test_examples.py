"""Each example adapter, through both front ends (the CLI and the pytest plugin), gets its verdict.

The blog's GRU as written must be flagged, with "state carry" as its diagnosis; the same
GRU with its state carried, and the minimal GRU, must conform.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conformance.cli import main
from conformance.features import FEATURES
from conformance.loader import load_adapter

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = f"{EXAMPLES / 'seed_numpy_gru.py'}:SeedGRUAdapter"
FIXED = f"{EXAMPLES / 'seed_numpy_gru_fixed.py'}:FixedSeedGRUAdapter"
MINIMAL = f"{EXAMPLES / 'minimal_numpy_gru.py'}:MinimalGRU"
N = len(FEATURES)

SEED_SUPPORTED = ["float64", "reset_before", "no_bias", "large", "long"]
FIXED_SUPPORTED = SEED_SUPPORTED + ["initial_state"]
MINIMAL_SUPPORTED = ["float64", "float32", "reset_after", "reset_before", "no_bias", "initial_state", "lengths",
                     "large", "long"]


def check(ref, tmp_path, capsys):
    out = tmp_path / "result.json"
    code = main(["check", ref, "--json", str(out)])
    results = json.loads(out.read_text())["adapters"][0]["features"]
    return code, results, capsys.readouterr().out


def supported(results):
    return sorted(f for f, r in results.items() if r["status"] != "unsupported")


def test_seed_gru_as_written_is_flagged_for_state_carry_by_the_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GRU_CONFORMANCE_CASE_DIR", str(tmp_path / "cases"))
    code, results, out = check(SEED, tmp_path, capsys)
    assert code == 1
    assert supported(results) == sorted(SEED_SUPPORTED)
    for f in SEED_SUPPORTED:
        assert results[f]["status"] == "fail"
        assert results[f]["bug_classes"] == ["state carry"], results[f]["report"]
        assert [e["name"] for e in results[f]["explanations"]] == ["state-not-carried"]
        assert results[f]["fault"] is None
    assert "[state carry] matches the reference with the state not carried between steps" in out
    assert "seed-numpy-gru: NOT CONFORMANT" in out


def test_seed_gru_as_written_is_flagged_by_the_plugin(pytester):
    result = pytester.runpytest("-p", "no:cacheprovider", "--gru-adapter", SEED)
    result.assert_outcomes(failed=len(SEED_SUPPORTED), skipped=N - len(SEED_SUPPORTED))
    result.stdout.fnmatch_lines(["*[[]state carry[]]*"] * len(SEED_SUPPORTED))
    result.stdout.fnmatch_lines([f"FAILED*gru[[]seed-numpy-gru-{f}[]]*" for f in SEED_SUPPORTED])


@pytest.mark.parametrize("ref, features", [(FIXED, FIXED_SUPPORTED), (MINIMAL, MINIMAL_SUPPORTED)],
                         ids=["seed-fixed", "minimal"])
def test_conforming_examples_pass_the_cli(ref, features, tmp_path, capsys):
    code, results, out = check(ref, tmp_path, capsys)
    assert code == 0, out
    assert supported(results) == sorted(features)
    assert all(results[f]["status"] == "pass" and results[f]["examples"] > 1 for f in features)
    assert ": CONFORMANT" in out


@pytest.mark.parametrize("ref, features", [(FIXED, FIXED_SUPPORTED), (MINIMAL, MINIMAL_SUPPORTED)],
                         ids=["seed-fixed", "minimal"])
def test_conforming_examples_pass_the_plugin(ref, features, pytester):
    result = pytester.runpytest("-p", "no:cacheprovider", "--gru-adapter", ref)
    result.assert_outcomes(passed=len(features), skipped=N - len(features))


def test_seed_adapter_keeps_the_blog_class_as_written():
    """The flagged behaviour is the blog's own: forward(x) ignores every earlier call."""
    module = sys.modules[type(load_adapter(SEED)).__module__]
    gru = module.GRU(2, 3)
    x = np.array([0.5, -1.0])
    first = gru.forward(x)
    gru.forward(np.array([3.0, 2.0]))
    assert np.array_equal(gru.forward(x), first)
