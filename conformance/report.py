"""Run the feature checks on adapters and hold the outcome: the matrix, its cells, JSON.

The Markdown, console and plot renderings of the same data live in report_markdown.py,
report_console.py and report_plots.py. A check that crashes (a bug in the suite or a
strategy the adapter's capabilities cannot satisfy) becomes an "error" cell, so one bad
check never stops the run over the other checks and adapters.
"""

from __future__ import annotations

import json
import math
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from . import __version__
from .checks import FeatureResult, check_feature
from .execute import DEFAULT_TIMEOUT
from .features import FEATURES
from .profiles import Profile

OK = ("pass", "unsupported")
ACCEPTED = OK + ("xfail",)


@dataclass
class AdapterRun:
    """One implementation's row of the matrix (or the reason it could not be run)."""

    name: str
    ref: str
    results: list = field(default_factory=list)  # FeatureResult, in FEATURES order
    expected: dict = field(default_factory=dict)  # declared expected failures {feature: reason}
    unavailable: Optional[str] = None
    graph_summary: Optional[str] = None
    plot: Optional[str] = None  # path of the error-against-time plot, if drawn
    plot_note: Optional[str] = None  # why there is none

    def outcome(self, r: FeatureResult) -> str:
        return outcome(r, self.expected.get(r.feature))

    def cell(self, r: FeatureResult) -> str:
        return cell(r, self.expected.get(r.feature))

    def describe(self, r: FeatureResult) -> str:
        if self.outcome(r) == "xpass":
            return describe_xpass(r, self.expected[r.feature])
        return describe(r)

    @property
    def conformant(self) -> bool:
        return self.unavailable is None and all(self.outcome(r) in ACCEPTED for r in self.results)

    @property
    def failures(self) -> list:
        """What breaks conformance: failures, errors, and declared failures that passed."""
        return [r for r in self.results if self.outcome(r) not in ACCEPTED]

    @property
    def expected_failures(self) -> list:
        return [r for r in self.results if self.outcome(r) == "xfail"]


def error_result(name: str, feature: str, exc: BaseException) -> FeatureResult:
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-4)).rstrip()
    return FeatureResult(name, feature, "error", reason=f"{type(exc).__name__}: {exc}", notes=[trace])


def describe(r: FeatureResult) -> str:
    """FeatureResult.report(), extended to the "error" status."""
    if r.status == "error":
        return f"{r.adapter} / {r.feature}: ERROR (the check itself crashed: {r.reason})\n" + \
            "\n".join("  " + line for n in r.notes for line in n.splitlines())
    return r.report()


def outcome(r: FeatureResult, expected: str | None = None) -> str:
    """The status, with a declared expected failure turned into xfail (failed) or xpass (passed)."""
    if expected and r.status == "fail":
        return "xfail"
    if expected and r.status == "pass":
        return "xpass"
    return r.status


def cell(r: FeatureResult, expected: str | None = None) -> str:
    """One matrix cell: "pass <max ULP>", "FAIL <bug class>", "unsupported", "ERROR", "xfail ...", "XPASS"."""
    bugs = ", ".join(r.bug_classes) or "unexplained"
    o = outcome(r, expected)
    if o in ("pass", "xpass"):
        return "XPASS (strict)" if o == "xpass" else f"pass {r.max_ulp:.3g} ULP"
    if o in ("fail", "xfail"):
        return ("FAIL " if o == "fail" else "xfail ") + bugs
    return "unsupported" if o == "unsupported" else "ERROR"


def describe_xpass(r: FeatureResult, reason: str) -> str:
    return f"{r.adapter} / {r.feature}: XPASS (strict): declared as an expected failure ({reason}) " \
           f"but passed {r.examples} examples; remove it from expected_failed_checks"


def run_checks(adapter, features=None, profile: Profile | str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
               ref: str | None = None, on_start: Callable[[str], None] | None = None,
               on_result: Callable[[FeatureResult], None] | None = None) -> list:
    """check_feature for each feature (default: all), never raising for a crashing check."""
    names = list(features) if features else [f.name for f in FEATURES]
    name = getattr(adapter, "name", ref or "?")
    try:
        caps = adapter.capabilities()
    except Exception as e:  # noqa: BLE001 - then every check is an error, and the run goes on
        return [error_result(name, f, e) for f in names]
    out = []
    for f in names:
        if on_start:
            on_start(f)
        try:
            r = check_feature(adapter, f, profile, timeout=timeout, ref=ref, capabilities=caps)
        except Exception as e:  # noqa: BLE001 - reported as an error cell, the run goes on
            r = error_result(name, f, e)
        out.append(r)
        if on_result:
            on_result(r)
    return out


def graph_summary(adapter) -> Optional[str]:
    """The text of adapter.graph_summary() (exported-graph adapters have one), if any."""
    fn = getattr(adapter, "graph_summary", None)
    if not callable(fn):
        return None
    try:
        return str(fn())
    except Exception as e:  # noqa: BLE001
        return f"graph_summary() raised {type(e).__name__}: {e}"


def _num(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def result_dict(r: FeatureResult, expected: str | None = None) -> dict:
    v = r.verdict
    d = dict(status=r.status, cell=cell(r, expected), examples=r.examples, uninformative=r.uninformative,
             max_ulp=_num(r.max_ulp),
             max_error_over_tolerance=_num(r.max_ratio), reason=r.reason or None, bug_classes=r.bug_classes)
    if expected:
        d.update(outcome=outcome(r, expected), expected_failure=expected)
    if r.status in OK:
        return d
    d.update(report=describe(r), notes=list(r.notes), case_file=r.case_file, replay=r.replay,
             diagnosis=str(r.diagnosis) if r.diagnosis else None,
             explanations=[dict(name=e.name, bug_class=e.bug_class, description=e.description)
                           for e in (r.diagnosis.explanations if r.diagnosis else [])])
    if v is not None:
        d.update(minimal_case=v.case.describe(),
                 fault=dict(kind=v.fault.kind, detail=v.fault.detail) if v.fault else None,
                 comparison=str(v.comparison) if v.comparison else None)
    return d


def to_dict(runs: list, profile: Profile) -> dict:
    return dict(
        tool="gru-conformance", version=__version__, profile=profile.name, examples_per_check=profile.max_examples,
        conformant=all(r.conformant for r in runs if r.unavailable is None),
        features=[f.name for f in FEATURES],
        adapters=[dict(name=r.name, ref=r.ref, available=r.unavailable is None, unavailable=r.unavailable,
                       conformant=r.conformant if r.unavailable is None else None,
                       graph_summary=r.graph_summary, plot=r.plot, plot_note=r.plot_note,
                       expected_failed_checks=dict(r.expected),
                       features={x.feature: result_dict(x, r.expected.get(x.feature)) for x in r.results})
                  for r in runs],
    )


def write_json(runs: list, profile: Profile, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_dict(runs, profile), indent=2, allow_nan=False) + "\n")
    return path
