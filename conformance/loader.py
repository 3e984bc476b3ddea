"""Load an adapter named as a built-in or as MODULE:ATTR (a class, an instance or a factory).

MODULE is a dotted module name, looked up on sys.path and then in the current directory
(as ``python -m`` would), or a path to a .py file, so ``examples/my_gru.py:MyAdapter``
works from the command line and from pytest without installing anything.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path

from .adapter import Capabilities
from .adapters import BUILTINS


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
        raise AdapterLoadError(f"{ref!r}: expected a built-in name ({', '.join(BUILTINS)}), MODULE:ATTR "
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


def load_adapter(ref: str):
    """The adapter instance for ``ref``; raises AdapterLoadError with the reason otherwise."""
    obj = _resolve(BUILTINS.get(ref, ref))
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
