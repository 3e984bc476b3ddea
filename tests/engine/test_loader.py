"""Loading an adapter named on the command line: built-in, MODULE:ATTR or path/to/file.py:ATTR."""

import sys
from pathlib import Path

import pytest

from conformance import Capabilities
from conformance.builtins import BY_NAME as BUILTINS
from conformance.builtins import Builtin
from conformance.loader import AdapterLoadError, builtins, load, load_adapter, unavailable_reason

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _restore_sys_path(monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))


def write(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return path


ADAPTER = """
from conformance import Capabilities, oracle

class A:
    name = "a"
    def capabilities(self):
        return Capabilities()
    def run(self, case):
        return oracle(case)

instance = A()

def factory():
    return A()
"""


def test_builtin_name():
    a = load_adapter("reference")
    assert a.name == "reference" and a.ref == "reference"


@pytest.mark.parametrize("attr", ["A", "instance", "factory"])
def test_class_instance_or_factory_from_a_file(attr, tmp_path):
    path = write(tmp_path, "adapter_forms", ADAPTER)
    a = load_adapter(f"{path}:{attr}")
    assert a.name == "a" and isinstance(a.capabilities(), Capabilities)
    assert a.ref == f"{path}:{attr}"


def test_a_file_can_import_its_siblings():
    a = load_adapter(f"{EXAMPLES / 'seed_numpy_gru_fixed.py'}:FixedSeedGRUAdapter")
    assert a.name == "seed-numpy-gru-fixed" and a.capabilities().initial_state


def test_a_module_is_found_in_the_current_directory(tmp_path, monkeypatch):
    write(tmp_path, "cwd_only_adapter_mod", ADAPTER)
    monkeypatch.chdir(tmp_path)
    for entry in ("", str(tmp_path)):
        while entry in sys.path:
            sys.path.remove(entry)
    assert load_adapter("cwd_only_adapter_mod:A").name == "a"


def test_dotted_attribute_path(tmp_path):
    path = write(tmp_path, "dotted_mod", ADAPTER + "\nclass Box:\n    inner = A\n")
    assert load_adapter(f"{path}:Box.inner").name == "a"


@pytest.mark.parametrize("source, attr, message", [
    (None, None, "expected a built-in name"),
    ("raise ImportError('needs cuda')", "A", "cannot import module"),
    (ADAPTER, "Missing", "has no attribute 'Missing'"),
    ("x = 3", "x", "is a int, not an adapter"),
    ("def f():\n    raise ValueError('no device')", "f", "constructing the adapter failed: ValueError: no device"),
    ("class A:\n    name = 'a'\n    def run(self, case): pass", "A", "needs a name, capabilities() and run(case)"),
    ("class A:\n    name = 'a'\n    def run(self, case): pass\n    def capabilities(self):\n        raise KeyError(1)",
     "A", "capabilities() raised KeyError"),
    ("class A:\n    name = 'a'\n    def run(self, case): pass\n    def capabilities(self):\n        return {}",
     "A", "returned dict, expected Capabilities"),
])
def test_unusable_references_say_why(source, attr, message, tmp_path):
    ref = "no_colon_here" if source is None else f"{write(tmp_path, 'bad_adapter_mod', source)}:{attr}"
    with pytest.raises(AdapterLoadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_adapter(ref)


def test_missing_file_and_missing_module():
    with pytest.raises(AdapterLoadError, match="no such file"):
        load_adapter("no/such/file.py:A")
    with pytest.raises(AdapterLoadError, match="No module named 'no_such_module_xyz'"):
        load_adapter("no_such_module_xyz:A")


def test_registry_names_the_missing_framework(monkeypatch):
    monkeypatch.setitem(BUILTINS, "ghost", Builtin("ghost", "ghost_framework_abc.gru:GhostGRU"))
    entry = load("ghost")
    assert not entry.available and entry.reason == "ghost_framework_abc is not installed"
    assert entry.ref == "ghost_framework_abc.gru:GhostGRU"
    assert {e.name: e.available for e in builtins(["reference", "ghost"])} == {"reference": True, "ghost": False}


def test_registry_keeps_the_loader_message_for_user_references():
    entry = load("no_such_user_module_q:A")
    assert entry.reason.startswith("'no_such_user_module_q:A': cannot import module")


def test_unavailable_reason_follows_the_cause_chain():
    try:
        try:
            import tensorflow_not_here_xyz.keras  # noqa: F401
        except ImportError as e:
            raise AdapterLoadError("cannot load") from e
    except AdapterLoadError as e:
        assert unavailable_reason(e) == "tensorflow_not_here_xyz is not installed"
    assert unavailable_reason(AdapterLoadError("plain")) == "plain"
