"""The on-disk build cache: a stored build is returned only for the same kind, key and fingerprint, a
damaged entry is rebuilt, a failed build is never stored, and turning it off builds every time."""

from __future__ import annotations

import sys

import pytest

from conformance import buildcache
from conformance.buildcache import ENV_VAR, cached_build, cached_finding


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "builds"))
    monkeypatch.setattr(buildcache, "STATS", buildcache.Stats())
    return tmp_path / "builds"


class Builder:
    """A build that counts its calls and returns distinct bytes each time."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return f"payload {self.calls}".encode(), {"weights": 7}


def test_a_build_is_made_once_and_read_back_with_its_metadata(cache):
    b = Builder()
    first = cached_build("onnx.export[x]", ("spec", True, 3), b)
    second = cached_build("onnx.export[x]", ("spec", True, 3), b)
    assert b.calls == 1
    assert first[0] == second[0] == b"payload 1"
    assert first[1]["weights"] == second[1]["weights"] == 7
    assert (first[1]["cached"], second[1]["cached"]) == (False, True)
    assert second[1]["seconds"] == first[1]["seconds"] >= 0
    assert (buildcache.STATS.hits, buildcache.STATS.built) == (1, 1)
    assert buildcache.usage(cache)[0] == 1


def test_another_key_kind_or_fingerprint_is_another_build(cache, monkeypatch):
    b = Builder()
    cached_build("k", (1,), b)
    cached_build("k", (2,), b)
    cached_build("other", (1,), b)
    assert b.calls == 3
    monkeypatch.setattr(buildcache, "fingerprint", lambda: "torch 9.9, other sources")
    assert cached_build("k", (1,), b)[0] == b"payload 4"


def test_the_fingerprint_covers_framework_versions_and_this_package_s_sources(monkeypatch):
    from importlib import metadata

    before = buildcache.fingerprint()
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "0.0.1" if name == "onnx" else real(name))
    buildcache.fingerprint.cache_clear()
    try:
        assert buildcache.fingerprint() != before
    finally:
        monkeypatch.undo()
        buildcache.fingerprint.cache_clear()
    assert buildcache.fingerprint() == before


def test_the_sources_digest_changes_with_any_source_file(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "frameworks").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "frameworks" / "b.py").write_text("y = 2\n")
    (pkg / "notes.txt").write_text("not source")
    before = buildcache.sources_digest(pkg)
    (pkg / "notes.txt").write_text("still not source")
    assert buildcache.sources_digest(pkg) == before
    (pkg / "frameworks" / "b.py").write_text("y = 3\n")
    assert buildcache.sources_digest(pkg) != before


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "other_key"])
def test_a_damaged_entry_is_rebuilt_and_replaced(cache, damage):
    b = Builder()
    cached_build("k", (1,), b)
    (path,) = cache.rglob("*.build")
    raw = path.read_bytes()
    damaged = {"truncate": raw[:-3], "flip": raw[:-1] + bytes([raw[-1] ^ 1]), "empty": b"",
               # a file that names another build (a hash collision, a copied file)
               "other_key": raw.replace(b'"k\\u0000(1,)', b'"k\\u0000(2,)')}[damage]
    assert damaged != raw
    path.write_bytes(damaged)
    payload, meta = cached_build("k", (1,), b)
    assert (payload, meta["cached"], b.calls) == (b"payload 2", False, 2)
    assert cached_build("k", (1,), b)[0] == b"payload 2" and b.calls == 2


def test_a_failed_build_is_not_stored(cache):
    calls = []

    def fails():
        calls.append(1)
        raise RuntimeError("the exporter refused")

    for _ in range(2):
        with pytest.raises(RuntimeError, match="refused"):
            cached_build("k", (1,), fails)
    assert len(calls) == 2 and buildcache.usage(cache) == (0, 0, 0)


@pytest.mark.parametrize("off", ["off", "0", ""])
def test_turned_off_it_builds_every_time_and_writes_nothing(tmp_path, monkeypatch, off):
    monkeypatch.setenv(ENV_VAR, off)
    assert buildcache.location() is None
    b = Builder()
    cached_build("k", (1,), b)
    assert cached_build("k", (1,), b)[1]["cached"] is False and b.calls == 2


def test_an_unwritable_cache_still_returns_the_build(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(ENV_VAR, str(blocker / "builds"))
    b = Builder()
    assert cached_build("k", (1,), b)[0] == b"payload 1"
    assert cached_build("k", (1,), b)[0] == b"payload 2"


def test_an_oversized_build_is_returned_but_not_stored(cache, monkeypatch):
    monkeypatch.setattr(buildcache, "MAX_BYTES", 4)
    b = Builder()
    cached_build("k", (1,), b)
    cached_build("k", (1,), b)
    assert b.calls == 2 and buildcache.usage(cache) == (0, 0, 0)


def test_a_finding_is_probed_once(cache):
    probes = []

    def probe():
        probes.append(1)
        return "the converter refuses float16: 'tf.Foo' op is neither a custom op nor a flex op"

    assert cached_finding("litert", "float16", probe) == cached_finding("litert", "float16", probe)
    assert len(probes) == 1
    assert (buildcache.STATS.hits, buildcache.STATS.built) == (0, 0)  # a probe is not a build


def test_clear_deletes_every_stored_build(cache):
    for k in range(3):
        cached_build("k", (k,), Builder())
    entries, size, stale = buildcache.usage(cache)
    assert (entries, stale) == (3, 0) and size > 0
    assert buildcache.clear(cache) == 3 and buildcache.usage(cache) == (0, 0, 0)


def test_prune_deletes_only_the_builds_of_other_versions_or_sources(cache, monkeypatch):
    cached_build("k", (1,), Builder())
    monkeypatch.setattr(buildcache, "fingerprint", lambda: "keras 9.9")
    for k in range(2):
        cached_build("k", (k,), Builder())
    assert buildcache.usage(cache)[::2] == (3, 1)  # stale: made under the other fingerprint
    (cache / "ab").mkdir(exist_ok=True)
    (cache / "ab" / ("ab" + "0" * 62 + ".build")).write_bytes(b"not a build")
    (cache / "mine.build").write_bytes(b"not in the cache's layout: never counted or deleted")
    assert buildcache.usage(cache)[::2] == (4, 2)
    assert buildcache.clear(cache, stale_only=True) == 2
    assert buildcache.usage(cache)[::2] == (2, 0) and (cache / "mine.build").exists()
    b = Builder()
    assert cached_build("k", (1,), b)[1]["cached"] and b.calls == 0


def test_the_default_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert buildcache.location() == tmp_path / "gru-conformance" / "builds"


USER_CODE = """
class Exporter:
    def export(self):
        return b"v1", {}

def probe():
    return "refused: v1"
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A user's module of build code, and a way to edit it."""
    import importlib

    monkeypatch.syspath_prepend(str(tmp_path))
    source = tmp_path / "user_builds_xyz.py"
    source.write_text(USER_CODE)

    def edit():
        source.write_text(USER_CODE.replace("v1", "v2") + "# the user's build code changed\n")
        return importlib.reload(module)

    module = importlib.import_module("user_builds_xyz")
    yield module, edit
    sys.modules.pop("user_builds_xyz", None)


@pytest.mark.parametrize("how", ["method", "partial", "origin", "finding"])
def test_a_user_s_build_code_keys_its_entries_too(cache, user_module, how):
    """Through the build function itself, a partial of it, the adapter it calls (a subclass of a built-in
    overriding how it builds, called from the package's own code), or a probe."""
    import functools

    module, edit = user_module

    def run(m):
        ex = m.Exporter()
        if how == "method":
            return cached_build("user", (1,), ex.export)[0]
        if how == "partial":
            return cached_build("user", (1,), functools.partial(ex.export))[0]
        if how == "origin":
            return cached_build("user", (1,), lambda: ex.export(), origin=ex)[0]
        return cached_finding("user", 1, m.probe).encode()

    first = run(module)
    assert b"v1" in first and run(module) == first and buildcache.usage(cache)[0] == 1
    assert b"v2" in run(edit())


def test_build_code_without_a_source_file_is_built_every_time_and_never_stored(cache):
    import types

    module = types.ModuleType("typed_at_a_prompt")  # as in a REPL or python -c: no __file__
    exec("def build():\n    return b'x', {}\n", module.__dict__)
    sys.modules["typed_at_a_prompt"] = module
    try:
        assert not cached_build("k", (1,), module.build)[1]["cached"]
        assert not cached_build("k", (1,), module.build)[1]["cached"]
        assert buildcache.usage(cache)[0] == 0
    finally:
        sys.modules.pop("typed_at_a_prompt")


def test_a_long_header_is_read_whole_and_an_odd_one_is_stale_not_a_crash(cache):
    key = ("x" * 9000,)  # a header past any fixed read size
    cached_build("k", key, Builder())
    assert buildcache.usage(cache)[::2] == (1, 0)
    assert cached_build("k", key, Builder())[1]["cached"]
    odd = cache / "cd" / ("cd" + "1" * 62 + ".build")
    odd.parent.mkdir()
    odd.write_bytes(buildcache.MAGIC + b"[1]\npayload")
    assert buildcache.usage(cache)[::2] == (2, 1)


def test_an_entry_someone_else_wrote_is_not_read(cache, monkeypatch):
    b = Builder()
    cached_build("k", (1,), b)
    monkeypatch.setattr(buildcache.os, "geteuid", lambda: 4242)
    assert not cached_build("k", (1,), b)[1]["cached"] and b.calls == 2
