"""The report's adapters in worker processes, so that one framework's slow builds do not hold up
the others, and so that every Keras backend is covered (a process runs the one Keras backend
that KERAS_BACKEND named when Keras was imported; each backend's built-ins get workers of their own).

A worker (multiprocessing, spawn: no framework state is inherited) serves one environment
(its KERAS_BACKEND) and runs whole adapters one after another: it loads one, runs its checks,
draws its plot and reads its graph summary, and sends the outcome back as an AdapterRun,
announcing each feature as it starts and ends. Workers of the same environment are reused, so
torch or TensorFlow is imported once per worker, not once per adapter; at most ``jobs`` are
alive at once. Unless ``verbose``, a worker's stdout and stderr (framework warnings, C++ logs)
go to a log file instead of the terminal. Adapters start in order of their expected cost
(COST, measured with benchmarks/bench_report.py), the slowest first, so that the run ends
with the short ones.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
import traceback
import warnings
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Callable

from .. import buildcache
from ..builtins import BY_NAME

#: seconds per built-in (checks + plot + graph, ci profile), as a full report on 2 busy cores recorded them
#: (report.json "seconds"); only their order matters. Every built-in is listed: one left out counts as
#: DEFAULT_COST and starts among the last, and a slow one started last is the run's tail (torch.compile[nn.GRU]
#: and litert[keras.GRU], the two slowest, were unlisted). Adapters not listed (a user's own) count as DEFAULT_COST.
#: The torch.compile figures are with inductor's on-disk cache warm; cold (a fresh CI machine) its float32
#: check alone took 100 s instead of 10 s, so there it is the slowest by far, and first either way.
COST = {
    "torch.compile[nn.GRU]": 415, "litert[keras.GRU]": 310, "onnx.export[torch]": 210, "onnx.export[keras]": 200,
    "keras.GRU[jax]": 120, "torch.compile[nn.GRUCell loop]": 95, "keras.GRU[tensorflow]": 75,
    "openvino[onnx.GRU]": 55, "keras.GRU[torch]": 55, "openvino[torch.nn.GRU]": 30, "keras.GRUCell[torch]": 25,
    "onnx.export[torchscript]": 16, "torch.nn.GRU[batch_first]": 14, "keras.GRUCell[jax]": 13,
    "keras.GRUCell[tensorflow]": 12, "torch.nn.GRU": 11, "onnx.GRU[onnxruntime]": 11, "reference": 9,
    "onnx.reference": 8, "onnx.reference[layout=1]": 6, "torch.nn.GRUCell": 6,
    "onnx.GRU[onnxruntime][layout=1]": 1, "openvino[onnx.GRU][layout=1]": 1,
}
DEFAULT_COST = 5
#: seconds a worker spends switching environment: a new process importing its frameworks again
SWITCH_COST = 10


def environment(name: str, builtin=None) -> dict:
    """What a worker must have set before it imports anything: the adapter's KERAS_BACKEND (its
    own for a Keras built-in, else the caller's, else Keras's default), so that adapters sharing it
    can share a worker."""
    entry = builtin or BY_NAME.get(name)
    own = dict(entry.environ) if entry is not None else {}
    return {"KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"), **own}


@dataclass
class Task:
    name: str
    builtin: object = None  # the Builtin entry, when ``name`` is one (a worker does not see a patched registry)
    env: dict = field(default_factory=dict)

    @property
    def cost(self) -> float:
        return COST.get(self.name, DEFAULT_COST)


@dataclass
class Settings:
    """What every worker needs to run an adapter as the report does."""

    profile: object
    timeout: float
    case_dir: object
    out_dir: str
    plots: bool  # draw the plots (matplotlib is there and the user did not say --no-plots)
    log_dir: str | None  # where stdout and stderr go; None: the terminal (-v)


def _quiet(log_path: str):
    """Send this process's stdout and stderr, including what C++ code writes, to ``log_path``;
    Python's warnings are logged once each, not shown."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    warnings.simplefilter("default")


def _run_one(task: Task, settings: Settings, send: Callable) -> tuple:
    """(AdapterRun, notes) of one adapter, in this worker."""
    from ..expected import GRUConformanceWarning, expected_failures
    from ..loader import AdapterLoadError, load
    from .run import AdapterRun, adapter_run, run_checks

    if task.builtin is not None:
        BY_NAME[task.name] = task.builtin
    t0, before = time.perf_counter(), dataclasses.replace(buildcache.STATS)
    e = load(task.name)
    if not e.available:
        return AdapterRun(e.name, e.ref, unavailable=e.reason, broken=e.broken), [], None
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GRUConformanceWarning)
        try:
            expected = expected_failures(e.adapter)
        except AdapterLoadError as err:
            return None, notes, str(err)
    notes += [str(w.message) for w in caught]
    a = e.adapter
    results = run_checks(a, None, settings.profile, timeout=settings.timeout, ref=e.name, case_dir=settings.case_dir,
                         on_start=lambda f: send(("start", task.name, f, a.name)),
                         on_result=lambda r: send(("result", task.name, r.feature, r.status,
                                                   AdapterRun(a.name, e.name, expected=expected).cell(r), a.name)))
    run = adapter_run(a, e.name, results, expected)
    if settings.plots:
        from .plots import plot_errors

        send(("start", task.name, "plot", a.name))
        run.plot, run.plot_note = plot_errors(a, settings.out_dir, results=results)
    run.seconds = time.perf_counter() - t0
    run.builds = buildcache.STATS - before
    return run, notes, None


def worker_main(conn, env: dict, settings: Settings, number: int):
    """A worker's life: set its environment, then run the adapters it is sent until it gets None."""
    os.environ.update(env)
    if settings.log_dir:
        _quiet(str(Path(settings.log_dir) / f"worker-{number}.log"))
    while True:
        task = conn.recv()
        if task is None:
            return
        try:
            run, notes, usage_error = _run_one(task, settings, conn.send)
            conn.send(("done", task.name, run, notes, usage_error))
        except BaseException as e:  # noqa: BLE001 - reported as this adapter's error, the worker goes on
            conn.send(("crashed", task.name, f"{type(e).__name__}: {e}", traceback.format_exc(limit=-6)))


class _Worker:
    def __init__(self, ctx, env: dict, settings: Settings, number: int):
        self.env, self.number, self.task = env, number, None
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, env, settings, number), daemon=True,
                                name=f"gru-conformance-worker-{number}")
        self.proc.start()
        child.close()

    def stop(self, wait_s: float = 5.0):
        try:
            self.conn.send(None)
        except (OSError, EOFError):
            pass
        self.proc.join(wait_s)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(wait_s)


def next_task(pending: list, idle_env: dict | None, busy_envs: list) -> Task:
    """The task to start next, from ``pending`` (costliest first), on an idle worker of ``idle_env``
    (None: a new worker), while workers of ``busy_envs`` run.

    The costliest, so that the run ends with the short ones; but switching a worker's environment
    costs a new process and its frameworks imported again (SWITCH_COST), so a task of the environment
    a busy worker already has is left to that worker, and a task of the idle worker's own environment
    is preferred to a costlier one of another when the difference is under SWITCH_COST.
    """
    if idle_env is None:
        return pending[0]
    fits = [t for t in pending if t.env == idle_env or t.env not in busy_envs] or pending
    own = next((t for t in fits if t.env == idle_env), None)
    return own if own is not None and own.cost >= fits[0].cost - SWITCH_COST else fits[0]


def run_parallel(tasks: list, settings: Settings, jobs: int, on_event: Callable) -> None:
    """Run every task in worker processes, at most ``jobs`` at once; each message a worker sends
    goes to ``on_event`` (("start", name, feature, adapter name), ("result", name, feature, status, cell,
    adapter name),
    ("done", name, run, notes, usage_error), ("crashed", name, error, trace))."""
    ctx = multiprocessing.get_context("spawn")
    pending = sorted(tasks, key=lambda t: -t.cost)
    workers: list = []
    numbers = iter(range(1, 10**6))
    try:
        while pending or any(w.task for w in workers):
            while pending and sum(1 for w in workers if w.task) < jobs:
                idle = next((w for w in workers if not w.task), None)
                task = next_task(pending, idle.env if idle else None, [w.env for w in workers if w.task])
                pending.remove(task)
                w = next((w for w in workers if not w.task and w.env == task.env), None)
                if w is None:
                    idle = [w for w in workers if not w.task]
                    if len(workers) >= jobs and idle:  # make room: an idle worker of another environment goes
                        idle[0].stop()
                        workers.remove(idle[0])
                    w = _Worker(ctx, task.env, settings, next(numbers))
                    workers.append(w)
                w.task = task
                w.conn.send(task)
            busy = {w.conn: w for w in workers if w.task}
            for conn in wait(list(busy)):
                w = busy[conn]
                try:
                    msg = conn.recv()
                except (EOFError, OSError):  # the worker died (a crash in native code, killed for memory)
                    w.proc.join(1)
                    msg = ("crashed", w.task.name, f"the worker process died (exit code {w.proc.exitcode})", "")
                    workers.remove(w)
                if msg[0] in ("done", "crashed"):
                    w.task = None
                on_event(msg)
    finally:
        for w in workers:
            w.stop()
