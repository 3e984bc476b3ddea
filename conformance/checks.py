"""The checks: one case against the oracle (verify), and one feature by Hypothesis search.

A feature check draws cases with that feature inside the adapter's capabilities, stops
at the first failure, lets Hypothesis shrink it to a minimal case, then diagnoses that
case, saves it, and prints the command that replays it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable

from .backward import gradient_kinds, verify_backward
from .bugclasses import BugClass
from .canonical import oracle
from .case import GRUCase, GRUResult
from .casefile import save_case
from .compare import Comparison, compare, ratio_per_step
from .contract import Capabilities, adapter_ref
from .diagnosis import Diagnosis, Observation, diagnose
from .execute import DEFAULT_TIMEOUT, Fault, run_safely
from .features import FEATURES, Feature, size_limit, unsupported_reason
from .features import feature as get_feature
from .profiles import Profile, get_profile
from .reproducible import seed_only_draws
from .status import Status
from .strategies import gru_cases, probe_case
from .tolerance import Tolerance, tolerance, trivial_answer

#: where minimal failing cases are saved when the caller names no directory; this variable overrides it
CASE_DIR_ENV = "GRU_CONFORMANCE_CASE_DIR"
#: how many passing cases per check keep their per-step ratios for the report's plot (the longest)
STEPS_KEPT = 3


@dataclass
class CaseVerdict:
    """The outcome of one case: a fault, or a comparison with the oracle."""

    case: GRUCase
    fault: Optional[Fault] = None
    comparison: Optional[Comparison] = None
    expected: Optional[GRUResult] = None
    actual: Optional[GRUResult] = None
    tol: Optional[Tolerance] = None
    padding: str = "zeros"
    trivial: Optional[str] = None  # the trivial answer that would pass too: the case tests nothing

    @property
    def passed(self) -> bool:
        return self.fault is None and self.comparison is not None and self.comparison.passed

    @property
    def observation(self) -> Optional[Observation]:
        if self.comparison is None or self.passed:
            return None
        return Observation(self.case, self.expected, self.actual, self.tol)

    def diagnose(self, *more: "CaseVerdict") -> Optional[Diagnosis]:
        """Diagnose this failure, weighing further failing verdicts of the same structure."""
        if self.observation is None:
            return None
        extra = [v.observation for v in more if v.observation is not None]
        return diagnose([self.observation, *extra], self.padding)

    @property
    def message(self) -> str:
        if self.fault:
            return f"adapter fault: {self.fault}"
        return str(self.comparison)


def verify(adapter, case: GRUCase, *, capabilities: Capabilities | None = None,
           timeout: float = DEFAULT_TIMEOUT) -> CaseVerdict:
    """Run one case through ``adapter`` and compare with the oracle."""
    caps = capabilities or adapter.capabilities()
    result, fault = run_safely(adapter, case, timeout)
    if fault:
        return CaseVerdict(case, fault=fault, padding=caps.padding)
    expected = oracle(case)
    tol = tolerance(case)
    return CaseVerdict(case, comparison=compare(case, expected, result, tol, caps.padding),
                       expected=expected, actual=result, tol=tol, padding=caps.padding,
                       trivial=trivial_answer(case, expected, tol))


@dataclass
class FeatureResult:
    adapter: str
    feature: str
    status: Status
    examples: int = 0  # examples run, shrinking included
    uninformative: int = 0  # passing examples redrawn because a trivial answer would have passed too
    first_failure_at: Optional[int] = None  # examples run up to the first failure
    max_ulp: float = 0.0
    max_ratio: float = 0.0  # max observed error / tolerance
    reason: str = ""  # why unsupported
    verdict: Optional[CaseVerdict] = None  # the minimal failing case
    diagnosis: Optional[Diagnosis] = None
    case_file: Optional[str] = None
    replay: Optional[str] = None
    notes: list = field(default_factory=list)
    #: "forward", or "backward" for the gradient check of the same feature
    kind: str = "forward"
    #: the backward result of this feature (a FeatureResult of kind "backward"); None for a backward result
    backward: Optional["FeatureResult"] = None
    #: (dtype, error / tolerance per time step) of the longest cases the check judged, its minimal failure
    #: included: what the report plots, so that drawing it runs nothing again
    steps: list = field(default_factory=list)

    def keep_steps(self, v: "CaseVerdict", n: int = STEPS_KEPT) -> None:
        """Keep ``v``'s per-step ratios if its case is among the ``n`` longest (a failure: always)."""
        passing = [x for x in self.steps if not x[2]]
        if v.comparison is None or (v.passed and len(passing) >= n and v.case.T <= min(len(x[1]) for x in passing)):
            return  # no comparison, or shorter than every case kept: not computed at all
        self.steps.append((v.case.dtype, ratio_per_step(v.case, v.expected, v.actual, v.tol), not v.passed))
        passing = sorted((x for x in self.steps if not x[2]), key=lambda x: -len(x[1]))[:n]
        self.steps = passing + [x for x in self.steps if x[2]]

    @property
    def label(self) -> str:
        """The feature's name, with " (backward)" for a gradient check."""
        return self.feature + (" (backward)" if self.kind == "backward" else "")

    @property
    def bug_classes(self) -> list:
        if self.verdict and self.verdict.fault:
            return [f"{BugClass.ADAPTER_FAULT} ({self.verdict.fault.kind})"]
        return self.diagnosis.bug_classes if self.diagnosis else []

    def report(self) -> str:
        """The full text of this result (conformance.report.text.describe)."""
        from .report.text import describe  # the renderer reads results: imported when used

        return describe(self)


class _Failed(Exception):
    pass


class _Hung(BaseException):
    """Not an Exception: Hypothesis must stop at once rather than shrink a hang."""


def default_case_dir() -> Path:
    return Path(os.environ.get(CASE_DIR_ENV) or Path(tempfile.gettempdir()) / "gru-conformance-cases")


def _save(result: FeatureResult, ref: str, case: GRUCase, case_dir):
    suffix = "-backward" if result.kind == "backward" else ""
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in f"{ref}-{result.feature}{suffix}")
    path = save_case(case, Path(case_dir or default_case_dir()) / f"{name}.npz")
    result.case_file = str(path)
    result.replay = f"gru-conformance replay {ref} {path}"


def _deterministic(adapter, case, first: CaseVerdict, timeout) -> Optional[Fault]:
    again, fault = run_safely(adapter, case, timeout)
    if fault is not None:
        return Fault(fault.kind, f"the second run of a case that had passed: {fault.detail}")
    if first.actual is None:
        return None
    for name in ("y", "h_n"):
        a, b = getattr(first.actual, name), getattr(again, name)
        if not np.array_equal(a, b):
            return Fault("non-deterministic", f"two runs of the same case gave different {name} "
                                              f"(max difference {np.max(np.abs(a - b)):.3g})")
    return None


def check_feature(adapter, feature: str | Feature, profile: Profile | str | None = None, *,
                  timeout: float = DEFAULT_TIMEOUT, ref: str | None = None,
                  capabilities: Capabilities | None = None, seed: int | None = None,
                  case_dir=None) -> FeatureResult:
    """Search for a case with ``feature`` on which ``adapter`` disagrees with the oracle.

    ``seed`` replaces the profile's derandomized search with a seeded random one (soak runs);
    the minimal failing case is saved in ``case_dir`` (default: default_case_dir()).
    """
    feat = feature if isinstance(feature, Feature) else get_feature(feature)
    p = profile if isinstance(profile, Profile) else get_profile(profile)
    caps = capabilities or adapter.capabilities()
    ref = ref or adapter_ref(adapter)
    name = getattr(adapter, "name", ref)
    if not feat.supported(caps):
        reason = unsupported_reason(caps, feat)
        backward = FeatureResult(name, feat.name, Status.UNSUPPORTED, reason=reason, kind="backward")
        return FeatureResult(name, feat.name, Status.UNSUPPORTED, reason=reason, backward=backward)
    res = FeatureResult(name, feat.name, Status.PASS)
    if size_limit(feat, caps, p):  # nothing is dropped silently
        res.notes.append(size_limit(feat, caps, p))
    res.backward = backward_result(adapter, caps, feat, name)
    bres = res.backward if res.backward.status == Status.PASS else None
    failures: list = []
    backward_failures: list = []
    ill = [0]  # backward examples not compared: ill-conditioned

    examples = p.size_examples if feat.size else p.max_examples
    backward_examples = p.size_backward_examples if feat.size else p.max_backward_examples

    @settings(max_examples=examples, derandomize=p.derandomize and seed is None, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False, report_multiple_bugs=False,
              phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
    @given(gru_cases(caps, p, **feat.constraints))
    def search(case):
        v = verify(adapter, case, capabilities=caps, timeout=timeout)
        res.examples += 1
        if v.passed and res.examples == 1:
            fault = _deterministic(adapter, case, v, timeout)
            if fault:
                v = CaseVerdict(case, fault=fault, padding=caps.padding)
        if v.passed and v.trivial:  # not a pass: zeros (or x, or h0) would have passed as well
            res.uninformative += 1
            assume(False)
        if v.passed:
            res.max_ulp = max(res.max_ulp, v.comparison.max_ulp)
            res.max_ratio = max(res.max_ratio, v.comparison.ratio)
            res.keep_steps(v)
            if bres is not None and gradient_kinds(caps, case) and (
                    bres.examples < backward_examples or backward_failures):
                bv = verify_backward(adapter, case, capabilities=caps, timeout=timeout)
                if bv.ill_conditioned:  # neither a pass nor a failure: counted apart
                    ill[0] += 1
                    return
                bres.examples += 1
                if bv.passed:
                    bres.max_ulp = max(bres.max_ulp, bv.comparison.max_ulp)
                    bres.max_ratio = max(bres.max_ratio, bv.comparison.ratio)
                    return
                backward_failures.append(bv)
                if bres.first_failure_at is None:
                    bres.first_failure_at = bres.examples
                if failures:  # a forward failure takes precedence: Hypothesis shrinks that one
                    return
                if bv.fault and bv.fault.kind == "hangs":
                    raise _Hung()
                raise _Failed(bv.message)
            return
        failures.append(v)
        if res.first_failure_at is None:
            res.first_failure_at = res.examples
        if v.fault and v.fault.kind in ("hangs", "non-deterministic"):
            raise _Hung()
        raise _Failed(v.message)

    if seed is not None:
        search = hypothesis_seed(seed)(search)
    try:
        with seed_only_draws():
            search()
    except (_Failed, _Hung):
        pass
    except Unsatisfiable:  # every drawn case was uninformative: nothing was tested
        return FeatureResult(name, feat.name, Status.ERROR, examples=res.examples, uninformative=res.uninformative,
                             reason="no informative case: a trivial answer passed every drawn case")
    if bres is not None and ill[0]:
        bres.notes.append(f"{ill[0]} example(s) not compared: ill-conditioned (rounding in {caps.gradient_dtypes} "
                          f"changes the forward trajectory; conformance.tolerance.ILL_CONDITIONED)")
    if bres is not None:
        _finish_backward(bres, adapter, caps, ref, case_dir, timeout, backward_failures, bool(failures))
    if failures:
        _settle_failure(res, failures[-1], verify, adapter, caps, ref, case_dir, timeout)
    return res


def _settle_failure(res: FeatureResult, minimal, verify_fn, adapter, caps, ref, case_dir, timeout) -> None:
    """Record the minimal failure (Hypothesis replays it last), diagnose it with a richer probe case of
    its structure (run by ``verify_fn``: the forward's or the backward's), and save it for replay."""
    res.status, res.verdict = Status.FAIL, minimal
    if res.kind == "forward":
        res.keep_steps(minimal)
    res.max_ulp = minimal.comparison.max_ulp if minimal.comparison else float("nan")
    res.max_ratio = minimal.comparison.ratio if minimal.comparison else float("nan")
    if minimal.fault is None:
        probe = verify_fn(adapter, probe_case(minimal.case, caps), capabilities=caps, timeout=timeout)
        res.diagnosis = minimal.diagnose(probe)
    _save(res, ref, minimal.case, case_dir)


def backward_result(adapter, caps: Capabilities, feat: Feature, name: str) -> FeatureResult:
    """The backward result of a feature before its search: PASS (to be run), UNSUPPORTED or ERROR."""
    def result(status, reason=""):
        return FeatureResult(name, feat.name, status, reason=reason, kind="backward")
    if not caps.gradients:
        return result(Status.UNSUPPORTED, caps.gradients_reason or "the adapter declares no gradients "
                                                                   "(Capabilities.gradients)")
    if not callable(getattr(adapter, "vjp", None)):
        return result(Status.ERROR, "the adapter declares gradients but has no vjp(case, y_bar, hn_bar) member")
    dtype = feat.constraints.get("dtype")
    if dtype is not None and dtype not in caps.gradient_dtypes:
        return result(Status.UNSUPPORTED, caps.gradients_reason or f"no {dtype} gradients declared "
                                                                   f"(Capabilities.gradient_dtypes)")
    return result(Status.PASS)


def _finish_backward(bres: FeatureResult, adapter, caps, ref, case_dir, timeout, failures, forward_failed):
    """Settle the backward result after the search: its minimal failure, diagnosis and replay."""
    if forward_failed:
        bres.status = Status.UNSUPPORTED
        bres.reason = "not checked: the forward fails on this feature"
        if failures:
            bres.notes.append(f"the backward also failed on {len(failures)} example(s) before the forward did")
        return
    if not failures:
        if bres.examples == 0:
            bres.status = Status.UNSUPPORTED
            bres.reason = f"no drawn case was in a dtype with gradients ({', '.join(caps.gradient_dtypes)})"
        return
    _settle_failure(bres, failures[-1], verify_backward, adapter, caps, ref, case_dir, timeout)


def supported_features(caps: Capabilities) -> list:
    return [f.name for f in FEATURES if f.supported(caps)]
