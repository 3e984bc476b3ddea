"""Which built-in adapters this environment can run, and why the others cannot.

A built-in is unavailable when its framework is missing or fails to import; that is a
fact about the environment, reported next to the results, never a failure of the GRU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .adapters import BUILTINS
from .loader import AdapterLoadError, load_adapter


@dataclass
class Entry:
    name: str  # the name given on the command line
    ref: str  # "module:Class"
    adapter: Optional[object] = None
    reason: Optional[str] = None  # why it is unavailable

    @property
    def available(self) -> bool:
        return self.adapter is not None


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
    ref = BUILTINS.get(name, name)
    try:
        return Entry(name, ref, adapter=load_adapter(name))
    except AdapterLoadError as e:
        return Entry(name, ref, reason=unavailable_reason(e) if name in BUILTINS else str(e))


def builtins(names=None) -> list:
    """Every built-in adapter (or those named), loaded where possible."""
    return [load(n) for n in (names or BUILTINS)]
