"""The pytest plugin: ``pytest --gru-adapter REF`` turns every feature check into a test item."""

from pathlib import Path
from xml.etree import ElementTree

import pytest

from conformance.features import FEATURES

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MINIMAL = f"{EXAMPLES / 'minimal_numpy_gru.py'}:MinimalGRU"
N = len(FEATURES)


def run(pytester, *args):
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def declaring(pytester, declared: str):
    """An adapter file: the minimal GRU with ``expected_failed_checks = <declared>``."""
    pytester.syspathinsert(EXAMPLES)
    pytester.makepyfile(declared_adapter=f"""
        from minimal_numpy_gru import MinimalGRU

        class Declared(MinimalGRU):
            expected_failed_checks = {declared}
    """)
    return "declared_adapter.py:Declared"


def test_every_feature_is_one_item_supported_ones_pass_the_rest_skip(pytester):
    result = run(pytester, "--gru-adapter", MINIMAL, "-rs")
    result.assert_outcomes(passed=9, skipped=N - 9)
    result.stdout.fnmatch_lines(["*not supported: forward direction only, to stay short*"])


def test_ids_name_the_adapter_and_feature_so_k_selects(pytester):
    result = run(pytester, "--gru-adapter", MINIMAL, "-k", "float32 or lengths", "-v")
    result.assert_outcomes(passed=2, deselected=N - 2)
    result.stdout.fnmatch_lines(["*gru[[]minimal-numpy-gru-float32[]] PASSED*",
                                 "*gru[[]minimal-numpy-gru-lengths[]] PASSED*"])


def test_junitxml_names_each_check(pytester):
    xml = pytester.path / "junit.xml"
    run(pytester, "--gru-adapter", MINIMAL, f"--junitxml={xml}").assert_outcomes(passed=9, skipped=N - 9)
    cases = ElementTree.parse(xml).getroot().iter("testcase")
    names = {c.get("name"): c for c in cases}
    assert set(names) == {f"gru[minimal-numpy-gru-{f.name}]" for f in FEATURES}
    assert {c.get("classname") for c in names.values()} == {"gru_conformance.minimal-numpy-gru"}
    assert names["gru[minimal-numpy-gru-clip]"].find("skipped") is not None
    assert names["gru[minimal-numpy-gru-float64]"].find("skipped") is None


def test_a_failing_check_fails_with_the_report(pytester):
    result = run(pytester, "--gru-adapter", f"{EXAMPLES / 'seed_numpy_gru.py'}:SeedGRUAdapter")
    result.assert_outcomes(failed=5, skipped=N - 5)
    result.stdout.fnmatch_lines(["*[[]state carry[]] matches the reference*", "*replay: gru-conformance replay*"])


def test_declared_expected_failure_is_a_strict_xfail(pytester):
    pytester.syspathinsert(EXAMPLES)
    pytester.makepyfile(declared_seed="""
        from seed_numpy_gru import SeedGRUAdapter

        class Declared(SeedGRUAdapter):
            expected_failed_checks = {f: "forward() restarts from zeros at every step (upstream bug)"
                                      for f in ("float64", "reset_before", "no_bias", "large", "long")}
    """)
    result = run(pytester, "--gru-adapter", "declared_seed.py:Declared", "-rx")
    result.assert_outcomes(xfailed=5, skipped=N - 5)
    result.stdout.fnmatch_lines(["*forward() restarts from zeros at every step (upstream bug)*"])


def test_an_expected_failure_that_passes_fails_the_run(pytester):
    ref = declaring(pytester, '{"float64": "thought to be broken"}')
    result = run(pytester, "--gru-adapter", ref)
    result.assert_outcomes(passed=8, failed=1, skipped=N - 9)
    result.stdout.fnmatch_lines(["*XPASS(strict)*thought to be broken*"])


@pytest.mark.parametrize("reason", ['""', "None", '"   "'])
def test_an_expected_failure_needs_a_reason(pytester, reason):
    ref = declaring(pytester, '{"float64": %s}' % reason)
    result = run(pytester, "--gru-adapter", ref)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*expected failure 'float64' needs a reason*"])


def test_an_expected_failure_matching_no_check_warns(pytester):
    ref = declaring(pytester, '{"float46": "a typo"}')
    result = run(pytester, "--gru-adapter", ref)
    result.assert_outcomes(passed=9, skipped=N - 9, warnings=1)
    result.stdout.fnmatch_lines(["*expected failure 'float46' matches no check*"])


def test_an_adapter_that_cannot_load_is_a_usage_error(pytester):
    result = run(pytester, "--gru-adapter", "no_such_module_here:Adapter")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot import module 'no_such_module_here'*"])


def test_timeout_option_reaches_the_checks(pytester):
    ref = f"{EXAMPLES / 'faulty_adapters.py'}:Hangs"
    result = run(pytester, "--gru-adapter", ref, "--gru-timeout", "0.3", "-k", "float64")
    result.assert_outcomes(failed=1, deselected=N - 1)
    result.stdout.fnmatch_lines(["*adapter fault: hangs: no result after 0.3 s*"])


def test_loading_the_plugin_imports_nothing_of_the_engine():
    """The plugin is loaded into every pytest run where the package is installed: it must stay light."""
    code = ("import sys, conformance.pytest_plugin as p; "
            "heavy = [m for m in ('numpy', 'hypothesis', 'conformance.checks') if m in sys.modules]; "
            "print(heavy)")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_plugin_options_match_the_engine():
    from conformance import pytest_plugin
    from conformance.execute import DEFAULT_TIMEOUT
    from conformance.profiles import PROFILES

    assert pytest_plugin.PROFILE_NAMES == tuple(PROFILES)
    assert pytest_plugin.DEFAULT_TIMEOUT == DEFAULT_TIMEOUT

