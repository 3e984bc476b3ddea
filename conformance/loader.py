"""Load an adapter named as a built-in or as MODULE:ATTR (a class, an instance or a factory)."""

from __future__ import annotations

import importlib
import inspect

from .adapter import Capabilities
from .adapters import BUILTINS


class AdapterLoadError(ValueError):
    """The adapter named by the user cannot be used; the message says why."""


def _resolve(ref: str):
    if ":" not in ref:
        raise AdapterLoadError(f"{ref!r}: expected a built-in name ({', '.join(BUILTINS)}) or MODULE:ATTR")
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
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
