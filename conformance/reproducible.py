"""Draws that depend on the seed alone, not on which modules a process happened to import.

Hypothesis (since 6.131) draws, at a small rate, numbers it found as literals in the source of
every "local" module loaded at that moment (``hypothesis.internal.constants_ast``: modules
outside site-packages and the standard library, so this package when installed editable, the
user's adapter, test modules). The same derandomized check, or the same soak seed, then drew
other cases in a process that had imported other modules first: a report worker after another
adapter, a pytest session, an editable install against a wheel. Measured on the reference
adapter (features activations, no_bias, zero_length, ci profile): 87 cases in a bare process,
92 other ones after three framework packages of this project had been imported; two reports in a row
differed in a third of onnx.export[torch]'s structures.

Hypothesis has no setting for it, so while a check draws, the pool of local constants is an
empty one (Hypothesis's global constants, the same everywhere, stay), by replacing the
module-level function that its provider calls for the pool, and emptying the provider's cache
of permitted constants on the way in and out. Where a Hypothesis release has moved them, nothing
is patched and the checks run as before; tests/engine/test_reproducible.py then fails, since
draws depend on the loaded modules again. The patch is process-wide: a Hypothesis test running in
another thread meanwhile would draw without local constants too (this package draws in the calling
thread and runs adapters in worker threads that draw nothing).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_saved = None  # Hypothesis's own function, while patched


def _internals():
    """(providers module, an empty Constants) or None where this Hypothesis has no local constants."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:
        return None
    if not callable(getattr(providers, "_get_local_constants", None)) or \
            not hasattr(getattr(providers, "CONSTANTS_CACHE", None), "cache"):
        return None
    return providers, Constants()


@contextmanager
def seed_only_draws():
    """Within: Hypothesis draws no constant from the source of loaded modules. Re-entrant."""
    global _depth, _saved
    found = _internals()
    if found is None:
        yield
        return
    providers, empty = found
    with _lock:
        _depth += 1
        if _depth == 1:
            _saved = providers._get_local_constants
            providers._get_local_constants = lambda: empty
            providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                providers._get_local_constants = _saved
                providers.CONSTANTS_CACHE.cache.clear()
