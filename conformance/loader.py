"""Load an adapter named as a built-in or as MODULE:ATTR (a class, an instance or a factory),
and tell which built-ins this environment can run, and why the others cannot.

MODULE is a dotted module name, looked up on sys.path and then in the current directory
(as ``python -m`` would), or a path to a .py file, so ``examples/my_gru.py:MyAdapter``
works from the command line and from pytest without installing anything.

A built-in is unavailable when its framework is missing or fails to import, or when the
process is set up for another one (Keras's backend); that is a fact about the environment,
reported next to the results, never a failure of the GRU.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .builtins import BY_NAME, Builtin
from .contract import Capabilities, NotInThisProcess


class AdapterLoadError(ValueError):
    """The adapter named by the user cannot be used; the message says why."""


def _import_file(path: Path):
    """Import a .py file as a module named after it (reused if that file is already loaded).

    Its directory goes first on sys.path, as for ``python file.py``, so it can import its siblings.
    """
    path = path.resolve()
    name = path.stem
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    known = sys.modules.get(name)
    if known is not None and getattr(known, "__file__", None) and Path(known.__file__).resolve() == path:
        return known
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import(module_name: str):
    if module_name.endswith(".py") or os.sep in module_name or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {module_name}")
        return _import_file(path)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        cwd = os.getcwd()
        top = module_name.partition(".")[0]
        if e.name != top or cwd in sys.path or "" in sys.path:
            raise
        sys.path.append(cwd)
        return importlib.import_module(module_name)


def _resolve(ref: str):
    if ":" not in ref:
        raise AdapterLoadError(f"{ref!r}: expected a built-in name ({', '.join(BY_NAME)}), MODULE:ATTR "
                               f"or path/to/file.py:ATTR")
    module_name, _, attr = ref.rpartition(":")
    try:
        module = _import(module_name)
    except Exception as e:  # noqa: BLE001 - report any import failure of foreign code
        raise AdapterLoadError(f"{ref!r}: cannot import module {module_name!r}: {type(e).__name__}: {e}") from e
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AdapterLoadError(f"{ref!r}: module {module_name!r} has no attribute {attr!r}") from None
    return obj


def _is_adapter(obj) -> bool:
    return all(hasattr(obj, a) for a in ("name", "capabilities", "run")) and not inspect.isclass(obj)


def _builtin(entry: Builtin):
    for k, v in entry.environ.items():
        os.environ.setdefault(k, v)
    cls = _resolve(entry.target)
    try:
        return cls(**entry.kwargs)
    except Exception as e:  # noqa: BLE001
        raise AdapterLoadError(f"{entry.name!r}: {type(e).__name__}: {e}") from e


def load_adapter(ref: str):
    """The adapter instance for ``ref``; raises AdapterLoadError with the reason otherwise."""
    obj = _builtin(BY_NAME[ref]) if ref in BY_NAME else _resolve(ref)
    if ref in BY_NAME and getattr(obj, "name", ref) != ref:
        raise AdapterLoadError(f"built-in {ref!r} built an adapter named {obj.name!r}: one name is required")
    if not _is_adapter(obj):
        if not callable(obj):
            raise AdapterLoadError(f"{ref!r} is a {type(obj).__name__}, not an adapter, class or factory")
        try:
            obj = obj()
        except Exception as e:  # noqa: BLE001
            raise AdapterLoadError(f"{ref!r}: constructing the adapter failed: {type(e).__name__}: {e}") from e
    if not _is_adapter(obj):
        raise AdapterLoadError(f"{ref!r} does not give an adapter: it needs a name, capabilities() and run(case)")
    try:
        caps = obj.capabilities()
    except Exception as e:  # noqa: BLE001
        raise AdapterLoadError(f"{ref!r}: capabilities() raised {type(e).__name__}: {e}") from e
    if not isinstance(caps, Capabilities):
        raise AdapterLoadError(f"{ref!r}: capabilities() returned {type(caps).__name__}, expected Capabilities")
    if not getattr(obj, "ref", None):
        try:
            obj.ref = ref
        except AttributeError:
            pass
    return obj


@dataclass
class Entry:
    """A name given by the user, loaded where possible."""

    name: str  # the name given on the command line
    ref: str  # "module:Class" of a built-in, or the MODULE:ATTR given
    adapter: Optional[object] = None
    reason: Optional[str] = None  # why it is unavailable
    #: it could not be built although its framework is here (a crash, not a missing install)
    broken: bool = False

    @property
    def available(self) -> bool:
        return self.adapter is not None


def _not_here(e: BaseException) -> bool:
    """Whether a load failure is about this environment (missing module, another backend)."""
    while e is not None:
        if isinstance(e, (ModuleNotFoundError, NotInThisProcess)):
            return True
        e = e.__cause__ or e.__context__
    return False


def _missing_module(e: BaseException) -> Optional[str]:
    while e is not None:
        if isinstance(e, ModuleNotFoundError) and e.name:
            return e.name.partition(".")[0]
        e = e.__cause__ or e.__context__
    return None


def unavailable_reason(e: BaseException) -> str:
    """A short reason: "torch is not installed", or the loader's own message."""
    missing = _missing_module(e)
    return f"{missing} is not installed" if missing else str(e)


def load(name: str) -> Entry:
    """Load a built-in name or MODULE:ATTR; an Entry with the reason if it cannot be loaded."""
    ref = BY_NAME[name].target if name in BY_NAME else name
    try:
        return Entry(name, ref, adapter=load_adapter(name))
    except AdapterLoadError as e:
        if name not in BY_NAME:
            return Entry(name, ref, reason=str(e))
        return Entry(name, ref, reason=unavailable_reason(e), broken=not _not_here(e))


def builtins(names=None) -> list:
    """Every built-in adapter (or those named), loaded where possible."""
    return [load(n) for n in (names or list(BY_NAME))]
