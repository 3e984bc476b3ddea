"""The report as Markdown, fit for a CI step summary ($GITHUB_STEP_SUMMARY).

Order: the verdict and the matrix first (what a reader scans), then each failure with
its diagnosis and the command that replays it, then what is unsupported and why.
"""

from __future__ import annotations

from pathlib import Path

from ..profiles import Profile
from ..status import Status
from .run import overall_verdict
from .text import matrix_notes, matrix_rows


def _esc(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def matrix(runs: list) -> list:
    """Markdown table lines: one row per feature, one column per available implementation."""
    header, rows = matrix_rows(runs)
    lines = ["| feature | " + " | ".join(f"`{_esc(name)}`" for name in header[1:]) + " |",
             "|---|" + "---|" * (len(header) - 1)]
    for feature, cells in rows:
        lines.append(f"| {feature} | " + " | ".join(_esc(t) if ok else f"**{_esc(t)}**" for t, ok in cells) + " |")
    return lines


def _failures(runs: list) -> list:
    out = []
    for r in runs:
        for x in r.failures:
            out += [f"### `{_esc(r.name)}` / {x.label}: {_esc(r.cell(x))}", "", "```text", r.describe(x), "```", ""]
            if x.replay:
                out += ["Replay the minimal case:", "", "```sh", x.replay, "```", ""]
    return out


def _expected(runs: list) -> list:
    return [f"- `{r.name}` / {x.feature}: {r.cell(x)}; declared: {r.expected[x.feature]}"
            for r in runs for x in r.expected_failures]


def _unsupported(runs: list) -> list:
    out = []
    for r in runs:
        by_reason: dict = {}
        for x in r.results:
            if x.status == Status.UNSUPPORTED:
                by_reason.setdefault(x.reason, []).append(x.feature)
        for x in r.results:  # a backward row only where it has its own reason
            b = x.backward
            if b is not None and b.status == Status.UNSUPPORTED and x.status != Status.UNSUPPORTED \
                    and not b.reason.startswith("not checked"):
                by_reason.setdefault(b.reason, []).append(b.label)
        if by_reason:
            out.append(f"- `{r.name}`")
            out += [f"  - {', '.join(features)}: {reason}" for reason, features in by_reason.items()]
    return out


def to_markdown(runs: list, profile: Profile, title: str = "GRU conformance report") -> str:
    verdict = overall_verdict(runs)
    lines = [f"# {title}", "", f"**Verdict: {verdict}.**", "",
             f"Profile `{profile.name}`: up to {profile.max_examples} examples per check. A cell reads "
             "`pass <largest error in ULP>`, `FAIL <bug class>` (the diagnosis), `unsupported` "
             "(outside the implementation's declared capabilities) or `xfail <bug class>` (a failure the "
             "implementation declares as expected). A `(backward)` row checks the gradients (the vector-Jacobian "
             "product against the float64 reference's); `not checked` there means the forward already fails.", ""]
    lines += matrix(runs) + [""]
    notes = matrix_notes(runs)
    if notes:
        lines += [_esc(n) + "  " for n in notes] + [""]
    failures = _failures(runs)
    if failures:
        lines += ["## Failures", ""] + failures
    expected = _expected(runs)
    if expected:
        lines += ["## Expected failures (declared by the adapter)", ""] + expected + [""]
    unsupported = _unsupported(runs)
    if unsupported:
        lines += ["## Unsupported features", ""] + unsupported + [""]
    missing = [r for r in runs if r.unavailable is not None]
    if missing:
        lines += ["## Unavailable implementations", ""] + [f"- `{r.name}` (`{r.ref}`): "
                                                            f"{'**broken**: ' if r.broken else ''}{r.unavailable}"
                                                            for r in missing] + [""]
    graphs = [r for r in runs if r.graph_summary]
    if graphs:
        lines += ["## Exported graphs", ""]
        for r in graphs:
            lines += [f"<details><summary><code>{r.name}</code></summary>", "", "```text", r.graph_summary.rstrip(),
                      "```", "", "</details>", ""]
    plots = [r for r in runs if r.plot or r.plot_note]
    if plots:
        lines += ["## Error over tolerance per time step (fails above 1)", ""]
        for r in plots:
            alt = f"{r.name}: max |y - oracle| / tolerance per time step"
            lines += [f"![{alt}]({Path(r.plot).name})", ""] if r.plot else \
                [f"- `{r.name}`: no plot ({r.plot_note})", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(runs: list, profile: Profile, path, **kw) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_markdown(runs, profile, **kw))
    return path
