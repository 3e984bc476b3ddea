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
    if getattr(r, "kind", "forward") == "backward" and o == Status.UNSUPPORTED and r.reason.startswith("not checked"):
        return "not checked"
    if o == Status.XPASS:
        return "XPASS (strict)"
    if o == Status.PASS:
        return f"pass {r.max_ulp:.3g} ULP"
    if o in (Status.FAIL, Status.XFAIL):
        return ("FAIL " if o == Status.FAIL else "xfail ") + bugs
    return "unsupported" if o == Status.UNSUPPORTED else "ERROR"


def describe(r, expected: str | None = None) -> str:
    """Everything a reader needs about one result, on several lines for a failure."""
    label = getattr(r, "label", r.feature)
    head = f"{r.adapter} / {label}: {r.status.upper()}"
    if outcome(r, expected) == Status.XPASS:
        return f"{r.adapter} / {label}: XPASS (strict): declared as an expected failure ({expected}) " \
               f"but passed {r.examples} examples; remove it from expected_failed_checks"
    if r.status == Status.ERROR:
        return f"{r.adapter} / {label}: ERROR (the check itself could not run: {r.reason})\n" + \
            "\n".join("  " + line for n in r.notes for line in n.splitlines())
    if r.status == Status.UNSUPPORTED:
        return f"{head} ({r.reason})"
    if r.status == Status.PASS:
        return f"{head} on {r.examples} examples ({r.uninformative} uninformative, redrawn), " \
               f"max {r.max_ulp:.3g} ULP, max error/tolerance {r.max_ratio:.3g}"
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
    lines += [found_after(r)] + [f"  note: {n}" for n in r.notes]
    if r.replay:
        lines.append(f"  replay: {r.replay}")
    return "\n".join(lines)


def found_after(r) -> str:
    """When the first failure came, and how many runs shrinking it took, told apart."""
    if r.first_failure_at is None:
        return f"  found after {r.examples} examples"
    shrink = r.examples - r.first_failure_at
    return f"  first failure at example {r.first_failure_at}; shrinking it took {shrink} more run" + \
        ("s" if shrink != 1 else "")


def summary_rows(run) -> list:
    """[feature, cell, examples, minimal case / reason] for each result of one implementation."""
    rows = []
    for r in run.all_results:
        if r.status == Status.PASS:
            detail = f"max error/tolerance {r.max_ratio:.3g}"
        elif r.status == Status.FAIL:
            detail = r.verdict.case.describe() if r.verdict else ""
        else:
            detail = r.reason
        if r.label in run.expected:
            detail = f"expected failure: {run.expected[r.label]}"
        rows.append([r.label, run.cell(r), r.examples, detail])
    return rows


def verdict_line(run) -> str:
    n = Counter(run.outcome(r) for r in run.results)
    label = " (a self-check of the oracle, not evidence about an implementation)" if run.self_check else ""
    if not run.failures and not run.evidence:
        return f"{run.name}: NO VERDICT: no check that could have failed passed ({n[Status.UNSUPPORTED]} " \
               f"unsupported, {n[Status.XFAIL]} expected failures); nothing backs conformance{label}"
    if run.conformant:
        xfail = f", {n[Status.XFAIL]} expected failures" if n[Status.XFAIL] else ""
        return f"{run.name}: CONFORMANT ({n[Status.PASS]} supported features pass{xfail}, " \
               f"{n[Status.UNSUPPORTED]} unsupported){label}"
    return f"{run.name}: NOT CONFORMANT: " + ", ".join(f"{r.label} ({run.cell(r)})" for r in run.failures)


def matrix_rows(runs: list) -> tuple:
    """(header, rows): one row per feature, then its backward row (the gradients), one column per
    available implementation; each cell is (text, accepted) so that a renderer can emphasise what
    breaks conformance."""
    shown = [r for r in runs if r.unavailable is None]
    rows = []
    for f in FEATURES:
        for backward in (False, True):
            row = []
            for r in shown:
                res = next((x for x in r.results if x.feature == f.name), None)
                if backward and res is not None:
                    res = res.backward
                if res is None:
                    row.append(("not run", True))
                    continue
                mark = UNCOMPARED_PADDING if f.name == "lengths" and r.padding == "undefined" and \
                    res.status == Status.PASS and not backward else ""
                row.append((r.cell(res) + mark, r.outcome(res).accepted))
            rows.append((f"{f.name} (backward)" if backward else f.name, row))
    return ["feature"] + [_column(r) for r in shown], rows


#: footnote marks of the matrix
UNCOMPARED_PADDING, SIZE_PADDING = " ¹", " ²"


def _column(r) -> str:
    return r.name + (SIZE_PADDING if r.size_padding else "") + (" (self-check)" if r.self_check else "")


def matrix_notes(runs: list) -> list:
    """The footnotes of the matrix: what a cell does not show."""
    shown = [r for r in runs if r.unavailable is None]
    notes = []
    undefined = [r.name for r in shown if r.padding == "undefined"]
    if undefined:
        notes.append(f"{UNCOMPARED_PADDING.strip()} y past each sequence's length is not compared for "
                     f"{', '.join(undefined)}: they declare padding 'undefined' (h_n and every valid position are)")
    for r in shown:
        if r.size_padding:
            notes.append(f"{SIZE_PADDING.strip()} {r.name} runs each case embedded in larger sizes: {r.size_padding}")
    selfcheck = [r.name for r in shown if r.self_check]
    if selfcheck:
        notes.append(f"{', '.join(selfcheck)}: the oracle run through the adapter contract, a self-check of the "
                     "suite's plumbing, not evidence about an implementation")
    return notes


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
    # a backward column follows a feature's where some implementation checks its gradients
    cols = []
    for f in FEATURES:
        cols.append((f.name, False))
        if any(x.feature == f.name and x.backward is not None and x.backward.status != Status.UNSUPPORTED
               for r in shown for x in r.results):
            cols.append((f.name, True))
    grid = []
    for r in shown:
        by_feature = {x.feature: x for x in r.results}
        row = []
        for name, backward in cols:
            x = by_feature.get(name)
            x = x.backward if (x is not None and backward) else x
            row.append((short_cell(x, r.expected.get(name)), r.outcome(x).accepted) if x is not None
                       else ("not run", True))
        grid.append(row)
    labels = [f"{name} (bwd)" if backward else name for name, backward in cols]
    name_w = max([len("implementation")] + [len(r.name) for r in shown])
    col_w = [max([len(label)] + [len(row[j][0]) for row in grid]) for j, label in enumerate(labels)]

    def fits(start, end):
        return end - start == 1 or 1 + name_w + 3 + sum(w + 3 for w in col_w[start:end]) <= width

    n = len(cols)
    for tables in range(1, n + 1):  # the fewest tables of near-equal feature counts that fit
        bounds = [round(k * n / tables) for k in range(tables + 1)]
        spans = list(zip(bounds[:-1], bounds[1:], strict=True))
        if all(fits(a, b) for a, b in spans):
            break
    return [(["implementation"] + labels[a:b],
             [[r.name] + row[a:b] for r, row in zip(shown, grid, strict=True)]) for a, b in spans]
