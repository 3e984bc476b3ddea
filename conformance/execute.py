"""Run an adapter defensively: whatever it does, the outcome is a named fault, not a crash.

Faults: it raises, hangs past the timeout, returns something that is not a result, the
wrong shape or dtype, NaN or inf, arrays aliasing its inputs, or it mutates its inputs.
The adapter receives a private, writable copy of the case, so mutation is observable
and the caller's case is never touched. A hung call cannot be killed from Python; it
is left behind on a daemon thread and the adapter is reported as hanging.
"""

from __future__ import annotations

import copy
import queue
import threading
import traceback
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .case import GRUCase, GRUResult
from .dtypes import accepted_result_dtypes, is_representable, round_to

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Fault:
    kind: str  # raises, hangs, bad-result, wrong-shape, wrong-dtype, non-finite, aliases-input, mutates-input
    detail: str

    def __str__(self):
        return f"{self.kind}: {self.detail}"


def _private_copy(case: GRUCase) -> GRUCase:
    c = copy.copy(case)  # shallow: then replace every array with a writable copy
    for name in ("x", "h0", "lengths"):
        a = getattr(case, name)
        object.__setattr__(c, name, None if a is None else np.array(a))
    object.__setattr__(c, "weights", tuple(w.replace(**{k: np.array(getattr(w, k)) for k in ("W", "U", "bW", "bU")})
                                          for w in case.weights))
    return c


def _arrays(case: GRUCase):
    yield "x", case.x
    if case.h0 is not None:
        yield "h0", case.h0
    if case.lengths is not None:
        yield "lengths", case.lengths
    for i, w in enumerate(case.weights):
        for k in ("W", "U", "bW", "bU"):
            yield f"weights[{i}].{k}", getattr(w, k)


class _Worker:
    """One daemon thread that runs adapter calls; replaced when a call hangs.

    Reusing the thread saves a thread start per example; a daemon thread never blocks
    interpreter exit, even when foreign code inside it never returns.
    """

    def __init__(self):
        self.jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._loop, daemon=True, name="gru-adapter-worker").start()

    def _loop(self):
        while True:
            fn, box, done = self.jobs.get()
            try:
                box["result"] = fn()
            except BaseException as e:  # noqa: BLE001 - any failure of foreign code is a verdict
                box["error"] = e
                box["trace"] = traceback.format_exc(limit=-3)
            done.set()


_worker: Optional[_Worker] = None
_worker_lock = threading.Lock()


def _call(adapter, case, timeout):
    return call_with_timeout(lambda: adapter.run(case), timeout)


def call_with_timeout(fn, timeout: float):
    """(result, None) or (None, Fault) of ``fn()`` on the worker thread: raises and hangs become faults."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _Worker()
        worker = _worker
    box, done = {}, threading.Event()
    worker.jobs.put((fn, box, done))
    if not done.wait(timeout):
        with _worker_lock:
            if _worker is worker:
                _worker = None  # abandon the hung thread; the next call starts a fresh one
        return None, Fault("hangs", f"no result after {timeout:g} s (per-example timeout)")
    if "error" in box:
        e = box["error"]
        return None, Fault("raises", f"{type(e).__name__}: {e}\n{box['trace'].rstrip()}")
    return box["result"], None


def run_safely(adapter, case: GRUCase, timeout: float = DEFAULT_TIMEOUT) -> tuple[Optional[GRUResult], Optional[Fault]]:
    """Run ``adapter`` on a private copy of ``case``; return (result, None) or (None, fault)."""
    private = _private_copy(case)
    result, fault = _call(adapter, private, timeout)
    if fault:
        return None, fault
    changed = [name for (name, a), (_, b) in zip(_arrays(private), _arrays(case), strict=True)
               if not np.array_equal(a, b)]
    if changed:
        return None, Fault("mutates-input", f"run() changed {', '.join(changed)}")
    if not (hasattr(result, "y") and hasattr(result, "h_n")):
        return None, Fault("bad-result", f"run() returned {type(result).__name__}, expected a GRUResult(y, h_n)")
    s = case.spec
    D, H = s.num_directions, s.hidden_size
    shapes = {"y": (case.T, case.B, D * H), "h_n": (s.num_layers * D, case.B, H)}
    out = {}
    for name, shape in shapes.items():
        raw = getattr(result, name)
        if not isinstance(raw, np.ndarray):
            return None, Fault("bad-result", f"{name} is a {type(raw).__name__}, expected a numpy array")
        if raw.shape != shape:
            return None, Fault("wrong-shape", f"{name} has shape {raw.shape}, expected {shape}")
        if raw.dtype.name not in accepted_result_dtypes(case.dtype):
            return None, Fault("wrong-dtype", f"{name} has dtype {raw.dtype.name}, expected {case.dtype}")
        for input_name, a in _arrays(private):
            if np.shares_memory(raw, a):
                return None, Fault("aliases-input", f"{name} shares memory with the input {input_name}")
        values = raw.astype(np.float64)
        if not np.all(np.isfinite(values)):
            bad = np.argwhere(~np.isfinite(values))[0].tolist()
            return None, Fault("non-finite", f"{name} holds NaN or inf, first at index {bad}")
        if raw.dtype.name != case.dtype and not is_representable(values, case.dtype):
            k = np.argwhere(round_to(values, case.dtype) != values)[0].tolist()
            return None, Fault("wrong-dtype", f"{name} is {raw.dtype.name} holding values that are not {case.dtype} "
                                              f"(first at index {k}: {values[tuple(k)]!r}); round the result to "
                                              f"{case.dtype}, as computing in {case.dtype} does")
        out[name] = values
    return GRUResult(**out), None
