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
