"""Soak: run adapters through many seeded searches; on a correct adapter any failure is a false alarm.

The ci profile is derandomized, so one run always draws the same cases; a soak draws
fresh ones per seed, to show that the tolerance does not flake on correct implementations and
to dig for rare bugs. A campaign of millions of examples outgrows one machine, so a seed range
is cut into shards (``--shard i/n``: every n-th seed, starting at the i-th), each run anywhere
(a CI job matrix), each writing a result file; ``merge`` folds them into one report.

Determinism: a check with seed s runs Hypothesis with ``seed(s)``, no example database and no
deadline, so the same shard of the same seed range draws the same cases on any machine (with
the same versions of Hypothesis and of this package, which the result file records). A failing
check's minimal case travels inside the result file, so that the merged report can name a case
file and the command that replays it, wherever the shard ran.
"""

from __future__ import annotations

import base64
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .casefile import load_case
from .checks import check_feature, supported_features

FORMAT = 1  # of the result files


@dataclass
class SoakResult:
    adapter: str
    seeds: int
    checks: int = 0
    examples: int = 0
    max_ratio: float = 0.0
    failures: list = field(default_factory=list)  # FeatureResult of every failing check


def soak(adapter, seeds, profile="ci") -> SoakResult:
    caps = adapter.capabilities()
    seeds = list(seeds)
    out = SoakResult(adapter.name, len(seeds))
    for s in seeds:
        for feature in supported_features(caps):
            r = check_feature(adapter, feature, profile, capabilities=caps, seed=s)
            out.checks += 1
            out.examples += r.examples
            if r.status == "pass":
                out.max_ratio = max(out.max_ratio, r.max_ratio)
            else:
                out.failures.append(r)
    return out


# -- shards --

def parse_shard(text: str) -> tuple:
    """"i/n" with 1 <= i <= n -> (i, n); a ValueError that says what is expected otherwise."""
    i, sep, n = text.partition("/")
    try:
        i, n = int(i), int(n)
    except ValueError:
        i = n = 0
    if not sep or not 1 <= i <= n:
        raise ValueError(f"expected a shard as i/n with 1 <= i <= n (e.g. 2/4), got {text!r}")
    return i, n


def parse_seeds(text: str) -> range:
    """"N" (seeds 0 .. N-1) or "A:B" (seeds A .. B-1), not empty."""
    a, sep, b = text.partition(":")
    try:
        r = range(int(a), int(b)) if sep else range(int(a))
    except ValueError:
        r = range(0)
    if not r:
        raise ValueError(f"expected a non-empty seed range, N or START:STOP (e.g. 1000 or 0:1000), got {text!r}")
    return r


def shard_seeds(seeds: range, i: int, n: int) -> range:
    """The seeds of shard i of n: every n-th, starting at the i-th; the n shards partition ``seeds``."""
    return seeds[i - 1::n]


def _case_bytes(path: str) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


def run_shard(adapters: list, seeds: range, shard: tuple, profile, *, unavailable: dict | None = None,
              on_check=None, timeout: float | None = None, features: list | None = None) -> dict:
    """The result document of one shard: every check's counts, and every failure with its minimal case.

    ``adapters``: (ref, adapter) pairs, the ref being what replays it (a built-in name or MODULE:ATTR);
    ``features``: only these checks (default: every supported one), e.g. a soak of the size checks.
    """
    from hypothesis import __version__ as hypothesis_version

    from . import __version__
    from .profiles import get_profile

    p = get_profile(profile) if not hasattr(profile, "name") else profile
    i, n = shard
    checks, failures = [], []
    kw = {} if timeout is None else {"timeout": timeout}
    with tempfile.TemporaryDirectory() as tmp:
        for ref, adapter in adapters:
            caps = adapter.capabilities()
            for s in shard_seeds(seeds, i, n):
                for feature in (f for f in supported_features(caps) if features is None or f in features):
                    r = check_feature(adapter, feature, p, capabilities=caps, seed=s, ref=ref, case_dir=tmp, **kw)
                    checks.append(dict(adapter=ref, seed=s, feature=feature, status=str(r.status),
                                       examples=r.examples, max_ratio=r.max_ratio if r.status == "pass" else None))
                    if r.status != "pass":
                        r.replay = None  # its case file is temporary: the merged report names the case's new place
                        failures.append(dict(adapter=ref, name=r.adapter, seed=s, feature=feature,
                                             status=str(r.status), report=r.report(),
                                             case=_case_bytes(r.case_file) if r.case_file else None))
                    if on_check:
                        on_check(ref, s, feature, r)
    return dict(tool="gru-conformance", kind="soak-shard", format=FORMAT, version=__version__,
                hypothesis=hypothesis_version, profile=p.name, seeds=[seeds.start, seeds.stop], shard=[i, n],
                adapters=[ref for ref, _ in adapters], unavailable=dict(unavailable or {}),
                features=None if features is None else list(features),
                checks=checks, failures=failures)


def read_shard(path) -> dict:
    """A shard's result file, or a ValueError saying why it is not one."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable soak result file ({type(e).__name__}: {e})") from None
    if not isinstance(doc, dict) or doc.get("kind") != "soak-shard" or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a soak result file of format {FORMAT} (written by gru-conformance soak)")
    return doc


# -- merge --

#: what every shard of one campaign must share
CAMPAIGN = ("profile", "seeds", "adapters", "features", "version", "hypothesis")


def merge(docs: list, names: list | None = None) -> dict:
    """Fold the shard documents of one campaign into one: a ValueError if they are not exactly its
    n shards (one missing, one twice, or from another campaign)."""
    if not docs:
        raise ValueError("no shard result files to merge")
    names = names or [f"file {k + 1}" for k in range(len(docs))]
    first = docs[0]
    for doc, name in zip(docs, names, strict=True):
        for k in CAMPAIGN:
            if doc.get(k) != first.get(k):
                raise ValueError(f"{name} is from another campaign: {k} {doc.get(k)!r}, "
                                 f"but {names[0]} has {first.get(k)!r}")
    n = first["shard"][1]
    seen = [doc["shard"] for doc in docs]
    if any(s[1] != n for s in seen):
        raise ValueError(f"the files split the seeds differently: shards {', '.join(f'{i}/{m}' for i, m in seen)}")
    got = sorted(s[0] for s in seen)
    missing = sorted(set(range(1, n + 1)) - set(got))
    twice = sorted({i for i in got if got.count(i) > 1})
    if missing or twice:
        raise ValueError(f"expected each of the {n} shards once: "
                         + "; ".join(([f"missing {', '.join(f'{i}/{n}' for i in missing)}"] if missing else [])
                                     + ([f"twice {', '.join(f'{i}/{n}' for i in twice)}"] if twice else [])))
    checks = sorted((c for d in docs for c in d["checks"]), key=lambda c: (c["adapter"], c["seed"], c["feature"]))
    failures = sorted((f for d in docs for f in d["failures"]), key=lambda f: (f["adapter"], f["seed"], f["feature"]))
    unavailable = {k: v for d in docs for k, v in d.get("unavailable", {}).items()}
    return dict(first, kind="soak", shard=[1, 1], shards=n, checks=checks, failures=failures, unavailable=unavailable)


def totals(doc: dict) -> dict:
    """Per adapter: seeds, checks, examples, the largest error/tolerance of a passing check, failures."""
    out = {ref: dict(seeds=set(), checks=0, examples=0, max_ratio=0.0, failures=0) for ref in doc["adapters"]}
    for c in doc["checks"]:
        t = out[c["adapter"]]
        t["seeds"].add(c["seed"])
        t["checks"] += 1
        t["examples"] += c["examples"]
        t["failures"] += c["status"] != "pass"
        if c["max_ratio"] is not None:
            t["max_ratio"] = max(t["max_ratio"], c["max_ratio"])
    return {ref: dict(t, seeds=len(t["seeds"])) for ref, t in out.items()}


def _case_name(f: dict) -> str:
    text = f"{f['adapter']}-{f['feature']}-seed{f['seed']}"
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)


def write_merged(doc: dict, out_dir) -> dict:
    """merged.json, report.md and cases/*.npz (each failure's minimal case) in ``out_dir``;
    returns {"json": path, "markdown": path, "replays": [command, ...]}."""
    out_dir = Path(out_dir)
    (out_dir / "cases").mkdir(parents=True, exist_ok=True)
    replays = []
    for f in doc["failures"]:
        f["replay"] = None
        if f.get("case"):
            path = out_dir / "cases" / f"{_case_name(f)}.npz"
            data = base64.b64decode(f["case"])
            load_case(io.BytesIO(data))  # a corrupt case fails here, not at replay time
            path.write_bytes(data)
            f["case_file"] = str(path)
            f["replay"] = f"gru-conformance replay {f['adapter']} {path}"
            replays.append(f["replay"])
    stored = dict(doc, failures=[{k: v for k, v in f.items() if k != "case"} for f in doc["failures"]])
    (out_dir / "merged.json").write_text(json.dumps(stored, indent=1) + "\n")
    (out_dir / "report.md").write_text(to_markdown(doc))
    return {"json": out_dir / "merged.json", "markdown": out_dir / "report.md", "replays": replays}


def summary_rows(doc: dict) -> list:
    return [[ref, t["seeds"], t["checks"], t["examples"], f"{t['max_ratio']:.3f}", t["failures"]]
            for ref, t in totals(doc).items()]


SUMMARY_HEADER = ["adapter", "seeds", "checks", "examples", "max error/tolerance", "failures"]


def to_markdown(doc: dict) -> str:
    lo, hi = doc["seeds"]
    n_fail = len(doc["failures"])
    lines = ["# GRU conformance soak", "",
             f"**{'No failure' if not n_fail else f'{n_fail} failing checks'}** over seeds {lo}..{hi - 1}, "
             f"profile `{doc['profile']}`, in {doc.get('shards', 1)} shards (gru-conformance {doc['version']}, "
             f"Hypothesis {doc['hypothesis']}).", "",
             "| " + " | ".join(SUMMARY_HEADER) + " |", "|---|" + "---:|" * (len(SUMMARY_HEADER) - 1)]
    lines += ["| " + " | ".join(f"`{c}`" if k == 0 else str(c) for k, c in enumerate(row)) + " |"
              for row in summary_rows(doc)]
    if doc.get("unavailable"):
        lines += ["", "## Unavailable", ""] + [f"- `{k}`: {v}" for k, v in doc["unavailable"].items()]
    if n_fail:
        lines += ["", "## Failures", ""]
        for f in doc["failures"]:
            lines += [f"### `{f['adapter']}` / {f['feature']}, seed {f['seed']}", "", "```text", f["report"], "```", ""]
            if f.get("replay"):
                lines += ["```sh", f["replay"], "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_shard(doc: dict, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) + "\n")
    return path
