"""gru-conformance: check a GRU implementation against the oracle from the command line.

    gru-conformance list                              the built-in adapters, and why any is unavailable
    gru-conformance check MODULE:ATTR|BUILTIN         every feature check on one adapter
    gru-conformance replay MODULE:ATTR|BUILTIN F.npz  one saved case, with its diagnosis
    gru-conformance report [--out DIR]                the matrix of every built-in adapter, as
                                                      report.json, report.md and error plots

Exit status: 0 conformant, 1 not conformant, 2 usage or loading error.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from . import __version__
from .builtins import BY_NAME as BUILTINS
from .casefile import load_case
from .checks import CASE_DIR_ENV, verify
from .contract import graph_summary
from .execute import DEFAULT_TIMEOUT
from .expected import GRUConformanceWarning, expected_failures
from .features import FEATURES
from .loader import AdapterLoadError, builtins, load, load_adapter
from .profiles import PROFILES, get_profile
from .report.console import Output
from .report.markdown import write_markdown
from .report.run import AdapterRun, overall_conformant, run_checks, write_json
from .report.text import cell, matrix_notes, matrix_rows, summary_rows, verdict_line

CONFORMANT, NOT_CONFORMANT, USAGE = 0, 1, 2
FEATURE_NAMES = [f.name for f in FEATURES]


def _timeout(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gru-conformance", description="Is this GRU right? Checks a GRU "
                                "implementation against a float64 reference, feature by feature.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    adapter_help = f"a built-in adapter ({', '.join(BUILTINS)}), MODULE:ATTR or path/to/file.py:ATTR"

    def common(q, profile=True):
        if profile:
            q.add_argument("--profile", choices=list(PROFILES), default=None,
                           help="case sizes and examples per check (default: $GRU_CONFORMANCE_PROFILE or ci)")
        q.add_argument("--timeout", type=_timeout, default=DEFAULT_TIMEOUT, metavar="S",
                       help=f"seconds one run() may take before it counts as hanging (default {DEFAULT_TIMEOUT:g})")

    sub.add_parser("list", help="the built-in adapters available here").set_defaults(func=cmd_list)

    q = sub.add_parser("check", help="run every feature check on one adapter")
    q.add_argument("adapter", help=adapter_help)
    common(q)
    q.add_argument("--feature", action="extend", nargs="+", choices=FEATURE_NAMES, metavar="F",
                   help=f"only these features (of: {', '.join(FEATURE_NAMES)})")
    q.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    q.add_argument("--markdown", metavar="PATH", help="also write the results as Markdown")
    q.set_defaults(func=cmd_check)

    q = sub.add_parser("replay", help="run one saved case (.npz) and diagnose it")
    q.add_argument("adapter", help=adapter_help)
    q.add_argument("case_file", metavar="CASEFILE.npz")
    common(q, profile=False)
    q.set_defaults(func=cmd_replay)

    q = sub.add_parser("report", help="the conformance matrix of the built-in adapters")
    common(q)
    q.add_argument("--out", default="gru-conformance-report", metavar="DIR",
                   help="where report.json, report.md, the plots and failing cases go (default: %(default)s)")
    q.add_argument("--adapters", metavar="A,B", help="only these adapters (built-in names or MODULE:ATTR)")
    q.add_argument("--no-plots", action="store_true", help="skip the error-against-time plots")
    q.set_defaults(func=cmd_report)
    return p


#: framework start-up chatter that says nothing about a GRU's conformance; a user's own
#: setting wins.
QUIET_FRAMEWORKS = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def main(argv=None) -> int:
    for k, v in QUIET_FRAMEWORKS.items():
        os.environ.setdefault(k, v)
    args = build_parser().parse_args(argv)
    return args.func(args, Output())


def _load(ref: str, out: Output):
    try:
        return load_adapter(ref)
    except AdapterLoadError as e:
        print(f"gru-conformance: error: {e}", file=out.err)
        return None


def _caps_text(caps) -> str:
    layers = f"up to {caps.max_layers} layers" if caps.max_layers > 1 else "1 layer"
    return f"{', '.join(caps.dtypes)}; {', '.join(caps.directions)}; {layers}"


def cmd_list(args, out: Output) -> int:
    rows = []
    for e in builtins():
        rows.append([e.name, e.adapter.name, "available", _caps_text(e.adapter.capabilities())] if e.available
                    else [e.name, e.ref, "unavailable", e.reason])
    out.table("Built-in adapters", ["name", "adapter", "status", "supports / why not"], rows)
    if out.plain:
        out.note("rich is not installed: plain output (pip install 'gru-conformance[report]')")
    return CONFORMANT


def _progress_callbacks(step, name: str, expected: dict):
    return dict(on_start=lambda f: step(f"{name} / {f}"),
                on_result=lambda r: step(f"{name} / {r.feature}: {cell(r, expected.get(r.feature))}", done=True))


def _expected(adapter, out: Output):
    """The declared expected failures, warnings as notes; None (after saying why) if invalid."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GRUConformanceWarning)
        try:
            declared = expected_failures(adapter)
        except AdapterLoadError as e:
            print(f"gru-conformance: error: {e}", file=out.err)
            return None
    for w in caught:
        out.note(str(w.message))
    return declared


def _run(adapter, ref: str, results: list, expected: dict) -> AdapterRun:
    """An implementation's row, with what its capabilities say about how to read it."""
    try:
        caps = adapter.capabilities()
    except Exception:  # noqa: BLE001 - then every result is already an error
        caps = None
    entry = BUILTINS.get(ref)
    return AdapterRun(adapter.name, ref, results, expected=expected, graph_summary=graph_summary(adapter),
                      self_check=bool(entry and entry.self_check), padding=caps.padding if caps else "zeros",
                      size_padding=caps.size_padding if caps else "")


def cmd_check(args, out: Output) -> int:
    adapter = _load(args.adapter, out)
    if adapter is None:
        return USAGE
    expected = _expected(adapter, out)
    if expected is None:
        return USAGE
    profile = get_profile(args.profile)
    features = args.feature or FEATURE_NAMES
    out.note(f"checking {adapter.name} ({args.adapter}), profile {profile.name}: "
             f"up to {profile.max_examples} examples per feature")
    with out.progress(len(features)) as step:
        results = run_checks(adapter, features, profile, timeout=args.timeout, ref=args.adapter,
                             **_progress_callbacks(step, adapter.name, expected))
    run = _run(adapter, args.adapter, results, expected)
    for r in run.failures:
        out.print(run.describe(r))
        out.print()
    out.table(f"{run.name}: conformance summary", ["feature", "result", "examples", "minimal case / reason"],
              summary_rows(run))
    out.print(verdict_line(run))
    if args.json:
        out.note(f"wrote {write_json([run], profile, args.json)}")
    if args.markdown:
        out.note(f"wrote {write_markdown([run], profile, args.markdown, title=f'GRU conformance: {run.name}')}")
    if out.plain:
        out.note("rich is not installed: plain output (pip install 'gru-conformance[report]')")
    return CONFORMANT if run.conformant else NOT_CONFORMANT


def cmd_replay(args, out: Output) -> int:
    adapter = _load(args.adapter, out)
    if adapter is None:
        return USAGE
    try:
        case = load_case(args.case_file)
    except Exception as e:  # noqa: BLE001 - any unreadable file is a usage error
        print(f"gru-conformance: error: cannot read the case file {args.case_file}: {type(e).__name__}: {e}",
              file=out.err)
        return USAGE
    caps = adapter.capabilities()
    outside = caps.admits(case)
    if outside:
        out.note(f"this case lies outside {adapter.name}'s capabilities ({outside}); running it anyway")
    out.print(f"{adapter.name} on {case.describe()}")
    v = verify(adapter, case, capabilities=caps, timeout=args.timeout)
    out.print(("PASS" if v.passed else "FAIL") + (f" (tolerance {v.tol:.3g})" if v.comparison is not None else ""))
    out.print(v.message)
    if not v.passed and v.comparison is not None:
        out.print("diagnosis:")
        out.print("\n".join("  " + line for line in str(v.diagnose()).splitlines()))
    passed = v.passed and _replay_backward(adapter, case, caps, args.timeout, out)
    return CONFORMANT if passed else NOT_CONFORMANT


def _replay_backward(adapter, case, caps, timeout, out: Output) -> bool:
    """The backward check of a replayed case, where the adapter declares gradients in its dtype."""
    from .backward import gradient_kinds, verify_backward

    if not (gradient_kinds(caps, case) and callable(getattr(adapter, "vjp", None))):
        return True
    b = verify_backward(adapter, case, capabilities=caps, timeout=timeout)
    out.print("backward: " + ("PASS" if b.passed else "FAIL"))
    out.print(b.message)
    if not b.passed and b.comparison is not None:
        out.print("diagnosis:")
        out.print("\n".join("  " + line for line in str(b.diagnose()).splitlines()))
    return b.passed


def _matrix(out: Output, runs: list):
    header, rows = matrix_rows(runs)
    out.table("Conformance matrix", header, [[feature] + [t for t, _ in cells] for feature, cells in rows])
    for note in matrix_notes(runs):
        out.print(note)
    for r in runs:
        if r.unavailable is not None:
            out.print(f"{r.name}: {'BROKEN' if r.broken else 'unavailable'} ({r.unavailable})")


def cmd_report(args, out: Output) -> int:
    names = [n.strip() for n in args.adapters.split(",") if n.strip()] if args.adapters else list(BUILTINS)
    bad = [n for n in names if n not in BUILTINS and ":" not in n]
    if bad or not names:
        print(f"gru-conformance report: error: --adapters: unknown adapter {', '.join(bad) or '(none)'} "
              f"(built-ins: {', '.join(BUILTINS)}; or MODULE:ATTR)", file=out.err)
        return USAGE
    profile, out_dir = get_profile(args.profile), Path(args.out)
    entries = [load(n) for n in names]
    for e in entries:
        if not e.available:
            out.note(f"{e.name} is {'BROKEN' if e.broken else 'unavailable'}: {e.reason}")
    expected = {e.name: _expected(e.adapter, out) for e in entries if e.available}
    if None in expected.values():
        return USAGE
    ready = [e for e in entries if e.available]
    runs = []
    # the minimal failing cases go inside the report directory, unless the user chose a place
    case_dir = None if os.environ.get(CASE_DIR_ENV) else out_dir / "cases"
    with out.progress(len(ready) * len(FEATURES)) as step:
        for e in entries:
            if not e.available:
                runs.append(AdapterRun(e.name, e.ref, unavailable=e.reason, broken=e.broken))
                continue
            a = e.adapter
            results = run_checks(a, None, profile, timeout=args.timeout, ref=e.name, case_dir=case_dir,
                                 **_progress_callbacks(step, a.name, expected[e.name]))
            runs.append(_run(a, e.name, results, expected[e.name]))
    _plots(args, out, runs, entries, out_dir)
    for r in runs:
        for x in r.failures:
            out.print(r.describe(x))
            out.print()
    _matrix(out, runs)
    out.note(f"wrote {write_json(runs, profile, out_dir / 'report.json')}")
    out.note(f"wrote {write_markdown(runs, profile, out_dir / 'report.md')}")
    if out.plain:
        out.note("rich is not installed: plain output (pip install 'gru-conformance[report]')")
    if args.adapters and len(ready) < len(entries):
        return USAGE
    return CONFORMANT if overall_conformant(runs) else NOT_CONFORMANT


def _plots(args, out: Output, runs, entries, out_dir: Path):
    from .report.plots import matplotlib_missing, plot_errors

    if args.no_plots:
        return
    missing = matplotlib_missing()
    if missing:
        out.note(f"{missing}: no plots")
        for r in runs:
            r.plot_note = None if r.unavailable else missing
        return
    adapters = {e.name: e.adapter for e in entries if e.available}
    for r in runs:
        if r.unavailable is None:
            out.note(f"plotting {r.name}")
            r.plot, r.plot_note = plot_errors(adapters[r.ref], out_dir, timeout=min(args.timeout, 10.0))


if __name__ == "__main__":
    sys.exit(main())
