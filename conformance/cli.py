"""gru-conformance: check a GRU implementation against the oracle from the command line.

    gru-conformance list                              the built-in adapters, and why any is unavailable
    gru-conformance cache [--prune|--clear]           the exports and conversions kept between runs
    gru-conformance check MODULE:ATTR|BUILTIN         every feature check on one adapter
    gru-conformance replay MODULE:ATTR|BUILTIN F.npz  one saved case, with its diagnosis
    gru-conformance report [--out DIR] [--jobs N]     the matrix of every built-in adapter, as
                                                      report.json, report.md and error plots
    gru-conformance soak A [B ...] --seeds 0:1000 --shard 2/4 --out shard-2.json
                                                      one shard of a seeded soak campaign
    gru-conformance merge shard-*.json --out DIR      the shards folded into one report

Exit status: 0 conformant, 1 not conformant, 2 usage or loading error.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import warnings

from . import __version__, buildcache
from .builtins import BY_NAME as BUILTINS
from .casefile import load_case
from .checks import verify
from .execute import DEFAULT_TIMEOUT
from .expected import GRUConformanceWarning, expected_failures
from .features import FEATURES
from .loader import AdapterLoadError, builtins, load, load_adapter
from .profiles import PROFILES, get_profile
from .report.command import build_cache_note, cmd_report
from .report.console import Output
from .report.markdown import write_markdown
from .report.run import adapter_run, run_checks, write_json
from .report.text import cell, summary_rows, verdict_line
from .soak import parse_seeds, parse_shard

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
        q.add_argument("--no-build-cache", action="store_true",
                       help="make every export and conversion afresh, neither reading nor storing builds on disk "
                            f"(also: {buildcache.ENV_VAR}=off; `gru-conformance cache` shows where they are)")

    sub.add_parser("list", help="the built-in adapters available here").set_defaults(func=cmd_list)

    q = sub.add_parser("cache", help="where the builds kept between runs are, and how many (exports, conversions)")
    q.add_argument("--clear", action="store_true", help="delete every stored build")
    q.add_argument("--prune", action="store_true",
                   help="delete the builds made under other framework versions or other sources of this package")
    q.set_defaults(func=cmd_cache)

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
    q.add_argument("--jobs", "-j", type=_arg(_jobs), default=os.cpu_count() or 1, metavar="N",
                   help="worker processes running adapters side by side (default: the cores, %(default)s)")
    q.add_argument("--verbose", "-v", action="store_true",
                   help="show the frameworks' own warnings and logs (default: into OUT/logs/)")
    q.set_defaults(func=cmd_report)

    q = sub.add_parser("soak", help="one shard of a seeded soak campaign, written as a result file")
    q.add_argument("adapters", nargs="+", metavar="ADAPTER", help=adapter_help)
    q.add_argument("--seeds", type=_arg(parse_seeds), default=parse_seeds("100"), metavar="N|A:B",
                   help="the campaign's seeds: N (0..N-1) or A:B (A..B-1); each runs every supported check "
                        "(default: 100)")
    q.add_argument("--shard", type=_arg(parse_shard), default=(1, 1), metavar="I/N",
                   help="run shard I of N: every N-th seed from the I-th (default: 1/1, all)")
    q.add_argument("--feature", action="extend", nargs="+", choices=FEATURE_NAMES, metavar="F",
                   help="only these features (default: every supported one), e.g. --feature large long")
    common(q)
    q.add_argument("--out", metavar="PATH", help="the result file (default: soak-shard-I-of-N.json)")
    q.set_defaults(func=cmd_soak)

    q = sub.add_parser("merge", help="fold soak result files into one report")
    q.add_argument("files", nargs="+", metavar="SHARD.json")
    q.add_argument("--out", default="gru-conformance-soak", metavar="DIR",
                   help="where merged.json, report.md and the failing cases go (default: %(default)s)")
    q.set_defaults(func=cmd_merge)
    return p


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"expected a positive number of worker processes, got {text!r}")
    return n


def _arg(parse):
    """An argparse type from a parser that raises ValueError with the message to show."""
    def convert(text):
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return convert


#: framework start-up chatter that says nothing about a GRU's conformance; a user's own
#: setting wins.
QUIET_FRAMEWORKS = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def main(argv=None) -> int:
    for k, v in QUIET_FRAMEWORKS.items():
        os.environ.setdefault(k, v)
    args = build_parser().parse_args(argv)
    if getattr(args, "no_build_cache", False):  # in the environment, so that worker processes see it too
        os.environ[buildcache.ENV_VAR] = "off"
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


def cmd_cache(args, out: Output) -> int:
    folder = buildcache.location()
    if folder is None:
        out.print(f"the build cache is off ({buildcache.ENV_VAR}={os.environ[buildcache.ENV_VAR]!r})")
        return CONFORMANT
    if args.clear or args.prune:
        n = buildcache.clear(folder, stale_only=not args.clear)
        out.print(f"deleted {n} {'stored' if args.clear else 'stale'} builds from {folder}")
        return CONFORMANT
    entries, size, stale = buildcache.usage(folder)
    out.print(f"{folder}: {entries} stored builds, {size / 2**20:.1f} MiB, {stale} of them stale (made under "
              f"other framework versions or sources; --prune deletes those, --clear all; {buildcache.ENV_VAR} "
              "moves the folder or turns it off)")
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
    run = adapter_run(adapter, args.adapter, results, expected)
    run.builds = dataclasses.replace(buildcache.STATS)
    for r in run.failures:
        out.print(run.describe(r))
        out.print()
    cached = build_cache_note([run])
    if cached:
        out.note(cached)
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


def cmd_soak(args, out: Output) -> int:
    from .soak import SUMMARY_HEADER, run_shard, shard_seeds, summary_rows, write_shard

    profile, (i, n) = get_profile(args.profile), args.shard
    entries = [load(name) for name in args.adapters]
    missing = [e for e in entries if not e.available]
    for e in missing:
        print(f"gru-conformance soak: error: {e.name} is unavailable: {e.reason}", file=out.err)
    if missing:
        return USAGE
    seeds = shard_seeds(args.seeds, i, n)
    adapters = [(e.name, e.adapter) for e in entries]
    wanted = [f for f in FEATURES if not args.feature or f.name in args.feature]
    total = sum(len(seeds) * sum(f.supported(a.capabilities()) for f in wanted) for _, a in adapters)
    out.note(f"soak shard {i}/{n}: {len(seeds)} of the seeds {args.seeds.start}..{args.seeds.stop - 1}, "
             f"profile {profile.name}, {total} checks")
    with out.progress(total) as step:
        doc = run_shard(adapters, args.seeds, (i, n), profile, timeout=args.timeout, features=args.feature,
                        on_check=lambda ref, s, f, r: step(f"{ref} / {f} / seed {s}: {r.status}", done=True))
    for f in doc["failures"]:
        out.print(f"seed {f['seed']}: {f['report']}")
        out.print()
    out.table(f"Soak shard {i}/{n}", SUMMARY_HEADER, summary_rows(doc))
    path = write_shard(doc, args.out or f"soak-shard-{i}-of-{n}.json")
    out.note(f"wrote {path}; fold the shards with: gru-conformance merge FILE... --out DIR")
    return NOT_CONFORMANT if doc["failures"] else CONFORMANT


def cmd_merge(args, out: Output) -> int:
    from .soak import SUMMARY_HEADER, merge, read_shard, summary_rows, write_merged

    try:
        doc = merge([read_shard(f) for f in args.files], names=list(args.files))
    except ValueError as e:
        print(f"gru-conformance merge: error: {e}", file=out.err)
        return USAGE
    written = write_merged(doc, args.out)
    lo, hi = doc["seeds"]
    out.table(f"Soak over seeds {lo}..{hi - 1}, {doc['shards']} shards, profile {doc['profile']}", SUMMARY_HEADER,
              summary_rows(doc))
    for f in doc["failures"]:
        out.print(f"seed {f['seed']}: {f['report']}")
        out.print(f"  replay: {f['replay']}" if f.get("replay") else "")
        out.print()
    out.note(f"wrote {written['json']} and {written['markdown']}")
    return NOT_CONFORMANT if doc["failures"] else CONFORMANT


if __name__ == "__main__":
    sys.exit(main())
