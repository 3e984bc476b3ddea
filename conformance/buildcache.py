"""Builds kept on disk between runs: an export, a conversion, once made, serves every later run.

Why: a report's time goes to per-structure builds (an ONNX export or a TFLite conversion costs
about a second each, and a ci report makes some 250 of them; benchmarks/bench_report.py). The
in-memory caches of the adapters already serve every case of a structure within a process; this
one serves the next process and the next run (report workers, pytest-xdist workers, a CI job
with its cache restored).

What a build is keyed by, so that a stored build is only ever the build the code would make now:
the adapter's kind and its structure key (repr), the versions of the frameworks that could take
part in a build (``DISTRIBUTIONS``), the Python version and machine, and a digest of every source
file of this package (a change in any adapter's build code misses), or of the module that defines
the build function where that is a user's own. A build that raised is never
stored: the failure is met again, as it would be.

A stored entry is a small JSON header (its key, the build's own metadata, the payload's SHA-256)
and the payload bytes; a file that does not read back whole and intact is rebuilt and replaced,
never trusted. Writes go to a temporary file renamed into place, so concurrent workers never see
half a file.

Where: ``$GRU_CONFORMANCE_BUILD_CACHE`` (a folder; "off" turns the cache off), else
``$XDG_CACHE_HOME/gru-conformance/builds``, else ``~/.cache/gru-conformance/builds``. No framework
import here: adapters hand it bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import astuple, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

ENV_VAR = "GRU_CONFORMANCE_BUILD_CACHE"
OFF = ("off", "0", "no", "false", "none")
#: the distributions whose version can change a build (absent ones count as absent)
DISTRIBUTIONS = ("torch", "onnx", "onnxscript", "onnxruntime", "onnx-ir", "tensorflow", "tensorflow-cpu", "keras",
                 "tf2onnx", "ai-edge-litert", "jax", "jaxlib", "numpy", "protobuf", "openvino")
#: a payload larger than this is built each time rather than stored
MAX_BYTES = 256 * 2**20
MAGIC = b"GRUBUILD1\n"
TMP_PREFIX = ".tmp-"


@dataclass
class Stats:
    """What the cache did in this process."""

    hits: int = 0
    built: int = 0
    kept: int = 0  # of those built, how many were stored (not: too large, or an unwritable folder)
    saved_seconds: float = 0.0  # the build time that hits did not spend (as recorded when built)

    def __add__(self, other: "Stats") -> "Stats":
        return Stats(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def __sub__(self, other: "Stats") -> "Stats":
        return Stats(*(a - b for a, b in zip(astuple(self), astuple(other), strict=True)))


STATS = Stats()


def location() -> Path | None:
    """The cache folder, or None when the user turned the cache off."""
    v = os.environ.get(ENV_VAR)
    if v is not None:
        return None if v.strip().lower() in OFF or not v.strip() else Path(v).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gru-conformance" / "builds"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """What every build depends on besides its own key: framework versions, Python, this package's sources."""
    from importlib import metadata

    versions = {}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    text = json.dumps([versions, sys.version, platform.machine(), sources_digest(Path(__file__).resolve().parent)])
    return hashlib.sha256(text.encode()).hexdigest()


def sources_digest(root: Path) -> str:
    """A digest of every .py file under ``root``, names and contents."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _origin_digest(origin) -> str | None:
    """The source digest of the module defining ``origin`` (a function, a partial, a class or an instance
    of one) when it lies outside this package (a user's adapter or a subclass of a built-in: a change in
    its build code must miss too); "" inside it (covered by the fingerprint); None when its source
    cannot be found (a REPL, ``python -c``): such a build is made every time, never stored."""
    while hasattr(origin, "func"):  # functools.partial
        origin = origin.func
    module = sys.modules.get(getattr(origin, "__module__", None) or "")
    path = getattr(module, "__file__", None)
    if not path:
        return None
    if Path(path).resolve().is_relative_to(Path(__file__).resolve().parent):
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _entry(folder: Path, kind: str, key, origins: tuple) -> tuple[Path | None, str]:
    digests = [_origin_digest(o) for o in origins]
    if None in digests:
        return None, ""
    ident = "\0".join([kind, repr(key), *digests])
    digest = hashlib.sha256(f"{fingerprint()}\0{ident}".encode()).hexdigest()
    return folder / f"{digest[:2]}" / f"{digest}.build", ident


def _parse(raw: bytes) -> tuple[dict | None, bytes]:
    """(header, payload) of an entry's bytes (the payload may be cut short: only the header read); header
    None if it has none."""
    if not raw.startswith(MAGIC):
        return None, b""
    head, _, payload = raw[len(MAGIC):].partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        return None, b""
    ok = isinstance(header, dict) and isinstance(header.get("meta", {}), dict)
    return (header, payload) if ok else (None, b"")


def _owned(path: Path) -> bool:
    """Written by this user (POSIX): a file that another user wrote might hold a forged build."""
    try:
        return not hasattr(os, "geteuid") or path.stat().st_uid == os.geteuid()
    except OSError:
        return False


def _read(path: Path, ident: str) -> tuple[bytes, dict] | None:
    """The entry's (payload, meta), or None if it is not there whole, intact and the user's own."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    header, payload = _parse(raw)
    if header is None or not _owned(path):
        return None
    if header.get("key") != ident or header.get("sha256") != hashlib.sha256(payload).hexdigest():
        return None
    return payload, header.get("meta", {})


def _write(path: Path, ident: str, payload: bytes, meta: dict) -> bool:
    """Store an entry; False if it could not be (a read-only or full disk)."""
    header = json.dumps({"key": ident, "meta": meta, "sha256": hashlib.sha256(payload).hexdigest(),
                         "fingerprint": fingerprint()})
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + header.encode() + b"\n" + payload)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False


def cached_build(kind: str, key, build: Callable[[], tuple[bytes, dict]], origin=None,
                 count: bool = True) -> tuple[bytes, dict]:
    """(payload, meta) of the build of ``key`` by ``kind`` (an adapter's name): read from the cache when
    stored, else ``build()`` (bytes and a JSON-able dict), stored, and returned. ``meta`` gains
    ``seconds`` (the build's time when it was made) and ``cached`` (True when read back).

    ``origin``: what ``build`` runs (the adapter whose methods it calls, a probe); with ``build`` itself,
    its module's source keys the entry where it lies outside this package (a user's adapter, a subclass
    of a built-in overriding how it builds). ``count``: whether STATS counts it (probes are not builds)."""
    folder = location()
    origins = (build,) + ((origin,) if origin is not None else ())
    path, ident = _entry(folder, kind, key, origins) if folder is not None else (None, "")
    if path is not None:
        hit = _read(path, ident)
        if hit is not None:
            payload, meta = hit
            if count:
                STATS.hits += 1
                STATS.saved_seconds += float(meta.get("seconds", 0.0))
            return payload, {**meta, "cached": True}
    t = time.perf_counter()
    payload, meta = build()
    meta = {**meta, "seconds": time.perf_counter() - t}
    kept = path is not None and len(payload) <= MAX_BYTES and _write(path, ident, bytes(payload), meta)
    if count:
        STATS.built += 1
        STATS.kept += int(kept)
    return payload, {**meta, "cached": False}


def cached_finding(kind: str, key, probe: Callable[[], str]) -> str:
    """A probe's finding (text, "" for none: what a framework refuses, probed by trying it), kept like a
    build: a probe that costs seconds of failing conversions at every load is tried once per fingerprint."""
    payload, _ = cached_build(kind, ("finding", key), lambda: (probe().encode(), {}), origin=probe, count=False)
    return payload.decode()


def _entries(folder: Path | None) -> list:
    """The files of the cache's own layout (ab/abcd....build, and temporary files of killed writers)."""
    folder = folder or location()
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("??/*") if p.name.startswith(TMP_PREFIX) or (
        p.name.endswith(".build") and len(p.name) == 70 and p.name[:2] == p.parent.name))


def _stale(path: Path) -> bool:
    """Made by other framework versions or other sources (never read again here), unreadable, or a
    temporary file older than an hour (its writer was killed)."""
    try:
        if path.name.startswith(TMP_PREFIX):
            return time.time() - path.stat().st_mtime > 3600
        with open(path, "rb") as f:
            header, _ = _parse(f.readline() + f.readline())  # the magic line, then the header's
    except OSError:
        return True
    return header is None or header.get("fingerprint") != fingerprint()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # deleted meanwhile (another process pruning)
        return 0


def usage(folder: Path | None = None) -> tuple[int, int, int]:
    """(entries, bytes, stale entries) of the cache folder. A stale entry was made under other framework
    versions or other sources: another environment sharing the folder may still read it."""
    files = _entries(folder)
    return len(files), sum(map(_size, files)), sum(map(_stale, files))


def clear(folder: Path | None = None, stale_only: bool = False) -> int:
    """Delete every stored build (or only the stale ones); how many were deleted."""
    n = 0
    for p in _entries(folder):
        if not stale_only or _stale(p):
            p.unlink(missing_ok=True)
            n += 1
    return n
