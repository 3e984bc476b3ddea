"""Run the feature checks on adapters and hold the outcome: the matrix, its cells, JSON.
Text renderings live in text.py (used by console.py and markdown.py); plots in plots.py.
A check that crashes (a bug in the suite or a strategy the adapter's capabilities cannot
satisfy) becomes an "error" cell, so one bad check never stops the run over the other checks
and adapters.
"""

from __future__ import annotations

import json
import math
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from .. import __version__
from ..checks import FeatureResult, check_feature
from ..execute import DEFAULT_TIMEOUT
from ..features import FEATURES
from ..profiles import Profile
from ..status import Status
from .text import cell, describe, outcome

#: a result with these needs no further detail in the JSON
OK = (Status.PASS, Status.UNSUPPORTED)


@dataclass
class AdapterRun:
    """One implementation's row of the matrix (or the reason it could not be run)."""

    name: str
    ref: str
    results: list = field(default_factory=list)  # FeatureResult, in FEATURES order
    expected: dict = field(default_factory=dict)  # declared expected failures {feature: reason}
    unavailable: Optional[str] = None
    broken: bool = False  # unavailable because it crashed while being built, not for want of a framework
    self_check: bool = False  # the oracle checking itself: plumbing, not evidence (see conformance.builtins)
    padding: str = "zeros"  # the declared padding (Capabilities.padding): "undefined" is footnoted
    size_padding: str = ""  # Capabilities.size_padding, stated in the matrix
    graph_summary: Optional[str] = None
    plot: Optional[str] = None  # path of the error-against-time plot, if drawn
    plot_note: Optional[str] = None  # why there is none
    seconds: Optional[float] = None  # wall clock of its checks and plot, in its worker
    #: its builds (exports, conversions) as conformance.buildcache counted them (a buildcache.Stats)
    builds: Optional[object] = None

    def outcome(self, r: FeatureResult) -> Status:
        return outcome(r, self.expected.get(r.label))

    def cell(self, r: FeatureResult) -> str:
        return cell(r, self.expected.get(r.label))

    def describe(self, r: FeatureResult) -> str:
        return describe(r, self.expected.get(r.label))

    @property
    def all_results(self) -> list:
        """Every result, forward and backward, each feature's backward right after it."""
        return [x for r in self.results for x in (r, r.backward) if x is not None]

    @property
    def evidence(self) -> int:
        """How many checks passed: checks that could have failed and did not."""
        return sum(self.outcome(r) == Status.PASS for r in self.results)

    @property
    def conformant(self) -> bool:
        """No failure, and at least one check that could have failed passed: an adapter with every
        feature unsupported, skipped or in error is not conformant, whatever it declares."""
        return self.unavailable is None and not self.failures and self.evidence > 0

    @property
    def no_verdict(self) -> bool:
        """Available, nothing failed, and nothing that could have failed passed (every feature
        unsupported or an expected failure): neither conformant nor not. A report over many
        implementations lists it as such and leaves it out of the overall verdict."""
        return self.unavailable is None and not self.failures and self.evidence == 0

    @property
    def failures(self) -> list:
        """What breaks conformance: failures, errors, and declared failures that passed (forward or backward)."""
        return [r for r in self.all_results if not self.outcome(r).accepted]

    @property
    def expected_failures(self) -> list:
        return [r for r in self.all_results if self.outcome(r) == Status.XFAIL]


def adapter_run(adapter, ref: str, results: list, expected: dict) -> AdapterRun:
    """An implementation's row, with what its capabilities say about how to read it."""
    from ..builtins import BY_NAME
    from ..contract import graph_summary

    try:
        caps = adapter.capabilities()
    except Exception:  # noqa: BLE001 - then every result is already an error
        caps = None
    entry = BY_NAME.get(ref)
    return AdapterRun(adapter.name, ref, results, expected=expected, graph_summary=graph_summary(adapter),
                      self_check=bool(entry and entry.self_check), padding=caps.padding if caps else "zeros",
                      size_padding=caps.size_padding if caps else "")


def evaluated(runs: list) -> list:
    """The runs that count as evidence: available, with a verdict, and not a self-check of the oracle."""
    return [r for r in runs if r.unavailable is None and not r.self_check and not r.no_verdict]


def overall_conformant(runs: list) -> bool:
    """Every evaluated implementation conforms, none is broken, and at least one was evaluated. An
    implementation with no verdict (every feature unsupported) neither counts for nor against."""
    ev = evaluated(runs)
    return bool(ev) and all(r.conformant for r in ev) and not any(r.broken for r in runs) \
        and all(r.conformant for r in runs if r.self_check and r.unavailable is None)


def overall_verdict(runs: list) -> str:
    """The report's verdict in words, naming what breaks it and what has no verdict."""
    bad = [r.name for r in runs if (r.unavailable is None and not r.conformant and not r.no_verdict) or r.broken]
    silent = [r.name for r in runs if r.no_verdict and not r.self_check]
    if bad:
        verdict = "not conformant: " + ", ".join(f"`{n}`" for n in bad)
    elif not evaluated(runs):
        verdict = "no verdict: no implementation could be checked"
    else:
        verdict = "every implementation conforms"
    if silent:
        verdict += "; no verdict for " + ", ".join(f"`{n}`" for n in silent) + " (every feature unsupported)"
    return verdict


def error_result(name: str, feature: str, exc: BaseException) -> FeatureResult:
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-4)).rstrip()
    return FeatureResult(name, feature, Status.ERROR, reason=f"{type(exc).__name__}: {exc}", notes=[trace])


def run_checks(adapter, features=None, profile: Profile | str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
               ref: str | None = None, on_start: Callable[[str], None] | None = None,
               on_result: Callable[[FeatureResult], None] | None = None, case_dir=None) -> list:
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
            r = check_feature(adapter, f, profile, timeout=timeout, ref=ref, capabilities=caps, case_dir=case_dir)
        except Exception as e:  # noqa: BLE001 - reported as an error cell, the run goes on
            r = error_result(name, f, e)
        out.append(r)
        if on_result:
            on_result(r)
    return out


def _num(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def result_dict(r: FeatureResult, expected: str | None = None) -> dict:
    v = r.verdict
    d = dict(status=str(r.status), cell=cell(r, expected), examples=r.examples, uninformative=r.uninformative,
             max_ulp=_num(r.max_ulp), max_error_over_tolerance=_num(r.max_ratio), reason=r.reason or None,
             bug_classes=[str(b) for b in r.bug_classes])
    if expected:
        d.update(outcome=str(outcome(r, expected)), expected_failure=expected)
    if r.backward is not None:
        d["backward"] = result_dict(r.backward)
    if r.status in OK:
        return d
    d.update(report=describe(r, expected), notes=list(r.notes), case_file=r.case_file, replay=r.replay,
             diagnosis=str(r.diagnosis) if r.diagnosis else None,
             explanations=[dict(name=e.name, bug_class=str(e.bug_class), description=e.description)
                           for e in (r.diagnosis.explanations if r.diagnosis else [])])
    if v is not None:
        d.update(minimal_case=v.case.describe(),
                 fault=dict(kind=v.fault.kind, detail=v.fault.detail) if v.fault else None,
                 comparison=str(v.comparison) if v.comparison else None)
    return d


def to_dict(runs: list, profile: Profile) -> dict:
    return dict(
        tool="gru-conformance", version=__version__, profile=profile.name, examples_per_check=profile.max_examples,
        conformant=overall_conformant(runs),
        features=[f.name for f in FEATURES],
        adapters=[dict(name=r.name, ref=r.ref, available=r.unavailable is None, unavailable=r.unavailable,
                       broken=r.broken, self_check=r.self_check, padding=r.padding, size_padding=r.size_padding,
                       evidence=r.evidence,
                       conformant=r.conformant if r.unavailable is None and not r.no_verdict else None,
                       graph_summary=r.graph_summary, plot=r.plot, plot_note=r.plot_note,
                       seconds=None if r.seconds is None else round(r.seconds, 1),
                       builds=None if r.builds is None else dict(
                           from_cache=r.builds.hits, made=r.builds.built, kept=r.builds.kept,
                           seconds_saved=round(r.builds.saved_seconds, 1)),
                       expected_failed_checks=dict(r.expected),
                       features={x.feature: result_dict(x, r.expected.get(x.feature)) for x in r.results})
                  for r in runs],
    )


def write_json(runs: list, profile: Profile, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_dict(runs, profile), indent=2, allow_nan=False) + "\n")
    return path
