"""One PNG per implementation: error over tolerance against the time step, one panel per dtype.

It shows what a single pass/fail cell hides: whether error stays at rounding level or
grows along the sequence (a state-carry or reset bug grows; precision loss stays flat).
Each case's error is divided by that case's own tolerance, so the failure line is at 1 for
every case and feature: a point above it is a failure, one below it a pass, as the check
judged it. Only valid positions are drawn (t < the sequence's length); a step where every
sequence has ended is left out, not drawn as an exact zero.
The report draws the cases its checks judged: each check keeps the per-step ratios of its
longest cases and of its minimal failure (FeatureResult.steps), so plotting runs nothing again
(it used to draw and run cases of its own: for an exporter, a dozen more exports), and the long
check puts hundreds of steps on the time axis. Under the derandomized ci profile the figure is
the same from run to run. Called without results, it draws a few cases per supported feature
by the feature's own strategy, derandomized, and runs them.
Needs matplotlib (the ``report`` extra; Agg, no display); without it, no plots and a note saying so.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

from ..canonical import oracle
from ..compare import ratio_per_step as compare_steps
from ..execute import run_safely
from ..features import FEATURES
from ..profiles import Profile
from ..reproducible import seed_only_draws
from ..strategies import gru_cases
from ..tolerance import tolerance

#: longer sequences than the ci profile draws, so the time axis means something
PLOT_PROFILE = Profile("plot", max_examples=12, max_T=24, max_B=3, max_size=6, max_layers=2, derandomize=True)
FLOOR = 1e-4  # error/tolerance below this (exact results included) is drawn here, on the log scale


def matplotlib_missing() -> str | None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not installed (pip install 'gru-conformance[report]')"
    return None


def example_cases(caps, feature, n: int = 3) -> list:
    """The ``n`` longest of a fixed, derandomized draw of cases with ``feature``."""
    drawn = []

    @settings(max_examples=PLOT_PROFILE.max_examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(gru_cases(caps, PLOT_PROFILE, **feature.constraints))
    def draw(case):
        drawn.append(case)

    with seed_only_draws():
        draw()
    return sorted(drawn, key=lambda c: -c.T)[:n]


def ratio_per_step(case, actual) -> np.ndarray:
    """max over batch and units of |y - oracle| / tolerance at each t, over valid positions only;
    NaN at a step where no sequence is valid (matplotlib leaves it out)."""
    return compare_steps(case, oracle(case), actual, tolerance(case))


def judged_series(results) -> list:
    """(dtype, feature, per-step ratios) of the cases the checks judged (FeatureResult.steps)."""
    return [(dtype, r.feature, ratios) for r in results for dtype, ratios, _ in r.steps]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "adapter"


def plot_errors(adapter, out_dir, *, results=None, cases_per_feature: int = 3, timeout: float = 10.0) -> tuple:
    """Draw the plot; return (path or None, note). ``results``: the checks' FeatureResults, whose judged
    cases are drawn (nothing runs again); without them, cases are sampled and run. A hang stops the
    sampling at once."""
    missing = matplotlib_missing()
    if missing:
        return None, missing
    from matplotlib import colormaps
    from matplotlib.figure import Figure  # no pyplot: no global backend state, renders with Agg

    caps = adapter.capabilities()
    series, note = judged_series(results or []), None
    for f in (f for f in FEATURES if f.supported(caps) and results is None):
        for case in example_cases(caps, f, cases_per_feature):
            result, fault = run_safely(adapter, case, timeout)
            if fault:
                note = f"some cases skipped: {fault.kind}"
                if fault.kind == "hangs":
                    break
                continue
            series.append((case.dtype, f.name, ratio_per_step(case, result)))
        if note and "hangs" in note:
            break
    if not series and results is not None:
        faults = sorted({r.verdict.fault.kind for r in results if r.verdict is not None and r.verdict.fault})
        return None, "no case to draw: " + (f"the checks met adapter faults ({', '.join(faults)})" if faults
                                            else "no check judged a case")
    if not series:
        return None, note or "no case ran"
    dtypes = [d for d in caps.dtypes if any(d == s[0] for s in series)]
    cols = min(2, len(dtypes))
    rows = -(-len(dtypes) // cols)
    fig = Figure(figsize=(5.5 * cols, 4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(dtypes):]:
        ax.set_visible(False)
    colors = {f.name: colormaps["tab20"](i % 20) for i, f in enumerate(FEATURES)}
    for ax, dtype in zip(axes, dtypes, strict=False):
        seen = set()
        for d, feat, err in series:
            if d == dtype:
                ax.plot(np.arange(len(err)), np.fmax(err, FLOOR), marker=".", lw=1, color=colors[feat],
                        label=None if feat in seen else feat)
                seen.add(feat)
        ax.axhline(1.0, ls="--", color="red", lw=1, label="tolerance: fails above")
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 2, max(10.0, ax.get_ylim()[1]))
        ax.set_title(f"{adapter.name}: {dtype}")
        ax.set_xlabel("time step t")
        ax.set_ylabel("max |y - oracle| / tolerance")
        ax.text(0.01, 0.01, f"below {FLOOR:g} (exact included): drawn at {FLOOR:g}; ended sequences: not drawn",
                transform=ax.transAxes, fontsize="x-small", color="grey")
        ax.legend(fontsize="x-small")
    fig.tight_layout()
    path = Path(out_dir) / f"{_safe(adapter.name)}-errors.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    return str(path), note
