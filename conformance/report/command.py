"""``gru-conformance report``: every feature check of several adapters (default: every built-in),
run in worker processes (report/workers.py), then the matrix on the terminal, report.json,
report.md and one plot per implementation in the output folder.

The output folder is the report's own: a new one is made, a previous report in it is replaced
(and the user told so), and a folder holding anything else is refused, so that no file of the
user's is deleted. Framework chatter goes to logs/ in it unless ``-v``.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

from .. import buildcache
from ..builtins import BY_NAME as BUILTINS
from ..checks import CASE_DIR_ENV
from ..features import FEATURES
from ..profiles import get_profile
from .console import Output
from .markdown import write_markdown
from .run import AdapterRun, error_result, overall_conformant, overall_verdict, write_json
from .text import SHORT_LEGEND, matrix_by_adapter, matrix_notes
from .workers import Settings, Task, environment, run_parallel

CONFORMANT, NOT_CONFORMANT, USAGE = 0, 1, 2


def _is_report_file(p: Path) -> bool:
    """What a previous report left in its folder (and nothing else)."""
    if p.is_dir():
        return p.name in ("cases", "logs")
    return p.name in ("report.json", "report.md") or p.name.endswith("-errors.png")


def prepare_out_dir(out_dir: Path, out: Output) -> bool:
    """Make ``out_dir`` a fresh folder for the report; False (after saying why) if it holds other files."""
    if out_dir.exists() and not out_dir.is_dir():
        print(f"gru-conformance report: error: --out {out_dir} is a file, not a folder", file=out.err)
        return False
    old = sorted(out_dir.iterdir()) if out_dir.is_dir() else []
    foreign = [p.name for p in old if not _is_report_file(p)]
    if foreign:
        print(f"gru-conformance report: error: --out {out_dir} holds files that are not a report "
              f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}); choose another folder or empty it",
              file=out.err)
        return False
    if old:
        out.note(f"replacing the previous report in {out_dir}")
        for p in old:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    return True


def print_matrix(out: Output, runs: list):
    tables = matrix_by_adapter(runs, out.width)
    for k, (header, rows) in enumerate(tables, 1):
        title = "Conformance matrix" + (f" ({k}/{len(tables)})" if len(tables) > 1 else "")
        out.table(title, header, [[row[0]] + [t for t, _ in row[1:]] for row in rows])
    if tables and tables[0][1]:
        out.print(SHORT_LEGEND)
    for note in matrix_notes(runs):
        for line in textwrap.wrap(note, out.width, subsequent_indent="  "):
            out.print(line)
    for r in runs:
        if r.unavailable is not None:
            out.print(f"{r.name}: {'BROKEN' if r.broken else 'unavailable'} ({r.unavailable})")
    out.print(f"Verdict: {overall_verdict(runs).replace('`', '')}.")


def _running(running: dict) -> str:
    return "  ·  ".join(running.values()) or "waiting for the workers"


def cmd_report(args, out: Output) -> int:
    names = [n.strip() for n in args.adapters.split(",") if n.strip()] if args.adapters else list(BUILTINS)
    bad = [n for n in names if n not in BUILTINS and ":" not in n]
    if bad or not names:
        print(f"gru-conformance report: error: --adapters: unknown adapter {', '.join(bad) or '(none)'} "
              f"(built-ins: {', '.join(BUILTINS)}; or MODULE:ATTR)", file=out.err)
        return USAGE
    profile, out_dir = get_profile(args.profile), Path(args.out)
    if not prepare_out_dir(out_dir, out):
        return USAGE
    plots, plot_note = not args.no_plots, None
    if plots:
        from .plots import matplotlib_missing

        plot_note = matplotlib_missing()
        if plot_note:
            out.note(f"{plot_note}: no plots")
            plots = False
    log_dir = None if args.verbose else out_dir / "logs"
    if log_dir:
        log_dir.mkdir()
    # the minimal failing cases go inside the report directory, unless the user chose a place
    case_dir = None if os.environ.get(CASE_DIR_ENV) else out_dir / "cases"
    settings = Settings(profile, args.timeout, case_dir, str(out_dir), plots, log_dir and str(log_dir))
    tasks = [Task(n, BUILTINS.get(n), environment(n)) for n in names]
    jobs = max(1, min(args.jobs, len(tasks)))
    out.note(f"{len(tasks)} implementation(s), profile {profile.name}, {jobs} worker processes"
             + ("" if args.verbose else f"; framework messages go to {log_dir}/ (-v shows them)"))
    runs, usage_errors, running, counted = {}, [], {}, {n: 0 for n in names}

    with out.progress(len(names) * len(FEATURES)) as step:
        def on_event(msg):
            kind, name = msg[0], msg[1]
            if kind == "start":
                running[name] = f"{msg[3]} / {msg[2]}"
                step(_running(running))
                return
            if kind == "result":
                counted[name] += 1
                step(_running(running), done=True, line=f"{msg[5]} / {msg[2]}: {msg[4]}")
                return
            if kind == "done":
                run, notes, usage = msg[2:]
                for n in notes:
                    out.note(n)
                if usage:
                    usage_errors.append(usage)
                runs[name] = run or AdapterRun(name, name, unavailable=usage)
            else:  # crashed: every check not yet reported is an error cell
                error = RuntimeError(f"{msg[2]}\n{msg[3]}".rstrip())
                runs[name] = AdapterRun(name, name, [error_result(name, f.name, error) for f in FEATURES])
            running.pop(name, None)
            left = len(FEATURES) - counted[name]
            step(_running(running), done=left > 0, count=left,
                 line=f"{name}: {'unavailable' if runs[name].unavailable else 'done'}")

        run_parallel(tasks, settings, jobs, on_event)
    for e in usage_errors:
        print(f"gru-conformance: error: {e}", file=out.err)
    if usage_errors:
        return USAGE
    ordered = [runs[n] for n in names]
    for r in ordered:
        if r.unavailable is not None:
            out.note(f"{r.name} is {'BROKEN' if r.broken else 'unavailable'}: {r.unavailable}")
        if plot_note and r.unavailable is None:
            r.plot_note = plot_note
    for r in ordered:
        for x in r.failures:
            out.print(r.describe(x))
            out.print()
    print_matrix(out, ordered)
    cached = build_cache_note(ordered)
    if cached:
        out.note(cached)
    out.note(f"wrote {write_json(ordered, profile, out_dir / 'report.json')}")
    out.note(f"wrote {write_markdown(ordered, profile, out_dir / 'report.md')}")
    if log_dir:
        _tidy_logs(log_dir, out)
    if out.plain:
        out.note("rich is not installed: plain output (pip install 'gru-conformance[report]')")
    if args.adapters and any(r.unavailable is not None for r in ordered):
        return USAGE
    return CONFORMANT if overall_conformant(ordered) else NOT_CONFORMANT


def build_cache_note(runs: list) -> str:
    """What the on-disk build cache did for this report, or "" if it built nothing."""
    total = sum((r.builds for r in runs if r.builds is not None), buildcache.Stats())
    hits, made, saved, kept = total.hits, total.built, total.saved_seconds, total.kept
    if not hits + made:
        return ""
    folder = buildcache.location()
    if folder is None:
        return f"{made} exports and conversions made afresh (the build cache is off)"
    read = f"{hits} of {hits + made} exports and conversions read from the build cache in {folder}" + (
        f" ({saved:.0f} s of building saved)" if hits else "")
    stored = "" if not made else f"; {kept} of the {made} made kept for the next run" if kept < made else \
        "; those made are kept for the next run"
    return f"{read}{stored} (--no-build-cache: neither read nor kept)"


def _tidy_logs(log_dir: Path, out: Output):
    """Remove empty worker logs (and the folder if all are); say where the others are."""
    kept = []
    for p in sorted(log_dir.glob("*.log")):
        if p.stat().st_size == 0:
            p.unlink()
        else:
            kept.append(p)
    if kept:
        out.note(f"framework messages (warnings, logs) are in {log_dir}/; -v shows them on the terminal")
    else:
        log_dir.rmdir()
