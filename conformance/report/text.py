"""The one text rendering of results, used by the CLI, the console tables, the Markdown report,
the JSON's "report" field and the pytest plugin: a result's outcome, its matrix cell, its full
description (with the minimal case, the errors, the diagnosis and the replay command), an
implementation's summary rows and verdict line, and the matrix rows.
"""

from __future__ import annotations

from collections import Counter

from ..features import FEATURES
from ..status import Status


def outcome(r, expected: str | None = None) -> Status:
    """The status, with a declared expected failure turned into xfail (failed) or xpass (passed)."""
    if expected and r.status == Status.FAIL:
        return Status.XFAIL
    if expected and r.status == Status.PASS:
        return Status.XPASS
    return Status(r.status)


def cell(r, expected: str | None = None) -> str:
    """One matrix cell: "pass <max ULP>", "FAIL <bug class>", "unsupported", "ERROR", "xfail ...", "XPASS"."""
    bugs = ", ".join(map(str, r.bug_classes)) or "unexplained"
    o = outcome(r, expected)
    if o == Status.XPASS:
        return "XPASS (strict)"
    if o == Status.PASS:
        return f"pass {r.max_ulp:.3g} ULP"
    if o in (Status.FAIL, Status.XFAIL):
        return ("FAIL " if o == Status.FAIL else "xfail ") + bugs
    return "unsupported" if o == Status.UNSUPPORTED else "ERROR"


def describe(r, expected: str | None = None) -> str:
    """Everything a reader needs about one result, on several lines for a failure."""
    head = f"{r.adapter} / {r.feature}: {r.status.upper()}"
    if outcome(r, expected) == Status.XPASS:
        return f"{r.adapter} / {r.feature}: XPASS (strict): declared as an expected failure ({expected}) " \
               f"but passed {r.examples} examples; remove it from expected_failed_checks"
    if r.status == Status.ERROR:
        return f"{r.adapter} / {r.feature}: ERROR (the check itself crashed: {r.reason})\n" + \
            "\n".join("  " + line for n in r.notes for line in n.splitlines())
    if r.status == Status.UNSUPPORTED:
        return f"{head} ({r.reason})"
    if r.status == Status.PASS:
        return f"{head} on {r.examples} examples, max {r.max_ulp:.3g} ULP, max error/tolerance {r.max_ratio:.3g}"
    v = r.verdict
    if v is None:  # an error outside any case: the reason says what happened
        return f"{head} ({r.reason})"
    lines = [head, f"  implementation: {r.adapter}", f"  minimal case: {v.case.describe()}"]
    if v.fault:
        lines.append(f"  adapter fault: {v.fault}")
    else:
        lines += ["  " + line for line in str(v.comparison).splitlines()]
        lines.append("  diagnosis:")
        lines += ["    " + line for line in str(r.diagnosis).splitlines()]
    lines += [f"  found after {r.examples} examples"] + [f"  note: {n}" for n in r.notes]
    if r.replay:
        lines.append(f"  replay: {r.replay}")
    return "\n".join(lines)


def summary_rows(run) -> list:
    """[feature, cell, examples, minimal case / reason] for each result of one implementation."""
    rows = []
    for r in run.results:
        if r.status == Status.PASS:
            detail = f"max error/tolerance {r.max_ratio:.3g}"
        elif r.status == Status.FAIL:
            detail = r.verdict.case.describe() if r.verdict else ""
        else:
            detail = r.reason
        if r.feature in run.expected:
            detail = f"expected failure: {run.expected[r.feature]}"
        rows.append([r.feature, run.cell(r), r.examples, detail])
    return rows


def verdict_line(run) -> str:
    n = Counter(run.outcome(r) for r in run.results)
    if run.conformant:
        xfail = f", {n[Status.XFAIL]} expected failures" if n[Status.XFAIL] else ""
        return f"{run.name}: CONFORMANT ({n[Status.PASS]} supported features pass{xfail}, " \
               f"{n[Status.UNSUPPORTED]} unsupported)"
    return f"{run.name}: NOT CONFORMANT: " + ", ".join(f"{r.feature} ({run.cell(r)})" for r in run.failures)


def matrix_rows(runs: list) -> tuple:
    """(header, rows): one row per feature, one column per available implementation; each cell
    is (text, accepted) so that a renderer can emphasise what breaks conformance."""
    shown = [r for r in runs if r.unavailable is None]
    rows = []
    for f in FEATURES:
        row = []
        for r in shown:
            res = next((x for x in r.results if x.feature == f.name), None)
            row.append(("not run", True) if res is None else (r.cell(res), r.outcome(res).accepted))
        rows.append((f.name, row))
    return ["feature"] + [r.name for r in shown], rows


def short_cell(r, expected: str | None = None) -> str:
    """A cell of the console matrix: "pass <max ULP>" without the unit, "-" for unsupported, else as cell()."""
    o = outcome(r, expected)
    if o == Status.PASS:
        return f"pass {r.max_ulp:.3g}"
    return "-" if o == Status.UNSUPPORTED else cell(r, expected)


#: what the short cells mean, printed under the console matrix
SHORT_LEGEND = "pass N: passes, its largest error N ULP of the dtype; -: unsupported (why: report.md)"


def matrix_by_adapter(runs: list, width: int) -> list:
    """The console matrix with one row per available implementation, its feature columns split into
    as few tables of near-equal size as fit ``width`` columns (a table's border takes 3 characters per
    column, plus 1):
    a list of (header, rows), each row [name, (text, accepted), ...]."""
    shown = [r for r in runs if r.unavailable is None]
    grid = []
    for r in shown:
        by_feature = {x.feature: x for x in r.results}
        grid.append([(short_cell(x, r.expected.get(f.name)), r.outcome(x).accepted) if (x := by_feature.get(f.name))
                     else ("not run", True) for f in FEATURES])
    name_w = max([len("implementation")] + [len(r.name) for r in shown])
    col_w = [max([len(f.name)] + [len(row[j][0]) for row in grid]) for j, f in enumerate(FEATURES)]

    def fits(start, end):
        return end - start == 1 or 1 + name_w + 3 + sum(w + 3 for w in col_w[start:end]) <= width

    n = len(FEATURES)
    for tables in range(1, n + 1):  # the fewest tables of near-equal feature counts that fit
        bounds = [round(k * n / tables) for k in range(tables + 1)]
        spans = list(zip(bounds[:-1], bounds[1:], strict=True))
        if all(fits(a, b) for a, b in spans):
            break
    return [(["implementation"] + [f.name for f in FEATURES[a:b]],
             [[r.name] + row[a:b] for r, row in zip(shown, grid, strict=True)]) for a, b in spans]
