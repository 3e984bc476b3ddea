"""PyTorch adapters: ``nn.GRU`` (whole sequences, packed for ragged lengths) and ``nn.GRUCell``.

One module is built per structure and dtype and kept; each example only copies its
weights in (``torch.no_grad`` + ``copy_``), which is what makes hundreds of examples per
second possible. Runs are under ``torch.inference_mode`` on one intra-op thread: a case's
matrices are tiny, and waking a thread pool for each of them costs more than it saves
(several times more on a busy machine). Every dtype runs on the CPU.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ...case import GRUCase, GRUResult
from ...contract import Capabilities
from ...dtypes import DTYPES, result_array
from .convert import cell_to_torch, gru_to_torch, torch_gru_kwargs

#: torch names its dtypes as the cases do
TORCH_DTYPES = {d: getattr(torch, d) for d in DTYPES}

def unsupported(what: str) -> dict:
    """Why the canonical features that torch lacks are unsupported, for module ``what``."""
    return {
        "reset_before": f"{what} only applies the reset after the recurrent matmul (reset_after=True)",
        "activations": f"{what} has fixed activations (Sigmoid, Tanh)",
        "clip": f"{what} has no pre-activation clip",
    }


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A new NumPy array in the case's result dtype (conformance.dtypes.RESULT_DTYPE)."""
    dtype = str(t.dtype).removeprefix("torch.")
    return result_array((t.float() if t.dtype == torch.bfloat16 else t).numpy(), dtype)


def load(module: torch.nn.Module, state: dict) -> None:
    """Copy a converter state dict (float64 arrays) into ``module``'s parameters, in place."""
    params = dict(module.named_parameters())
    if params.keys() != state.keys():
        raise ValueError(f"state dict keys {sorted(state)} do not match the module's {sorted(params)}")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(torch.from_numpy(state[name]))


@contextmanager
def running():
    """``torch.inference_mode`` on one intra-op thread; the caller's thread count is restored."""
    n = torch.get_num_threads()
    if n != 1:
        torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            yield
    finally:
        if n != 1:
            torch.set_num_threads(n)


class _Cache:
    """Modules by structure key; ``enabled=False`` builds a fresh one every time (for benchmarks)."""

    def __init__(self, build, enabled: bool = True):
        self.build, self.enabled, self.modules = build, enabled, {}

    def get(self, key):
        if not self.enabled:
            return self.build(*key)
        if key not in self.modules:
            self.modules[key] = self.build(*key)
        return self.modules[key]


class TorchGRU:
    """``torch.nn.GRU``, time-major by default or ``batch_first=True``."""

    def __init__(self, batch_first: bool = False, cache: bool = True):
        self.batch_first = bool(batch_first)
        self.name = "torch.nn.GRU[batch_first]" if self.batch_first else "torch.nn.GRU"
        self._cache = _Cache(self._build, enabled=cache)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            dtypes=tuple(TORCH_DTYPES), directions=("forward", "bidirectional"), max_layers=4,
            reset_after=(True,), bias=(True, False), initial_state=True, lengths=True,
            activations=(), clip=False, padding="zeros",
            unsupported={**unsupported("torch.nn.GRU"),
                         "reverse": "torch.nn.GRU has no reverse-only direction (bidirectional=True runs both)"},
        )

    def _build(self, kwargs: tuple, dtype: str) -> torch.nn.GRU:
        return torch.nn.GRU(**dict(kwargs), batch_first=self.batch_first, dtype=TORCH_DTYPES[dtype]).eval()

    def run(self, case: GRUCase) -> GRUResult:
        kwargs = torch_gru_kwargs(case.spec)  # ValueError for what torch cannot express
        gru = self._cache.get((tuple(sorted(kwargs.items())), case.dtype))
        load(gru, gru_to_torch(case.spec, case.weights))
        dt = TORCH_DTYPES[case.dtype]
        x = torch.tensor(case.x, dtype=dt)
        if self.batch_first:
            x = x.transpose(0, 1)
        h0 = None if case.h0 is None else torch.tensor(case.h0, dtype=dt)
        with running():
            if case.lengths is None:
                y, h_n = gru(x, h0)
            else:
                lengths = torch.tensor(case.lengths, dtype=torch.int64)
                packed = pack_padded_sequence(x, lengths, batch_first=self.batch_first, enforce_sorted=False)
                out, h_n = gru(packed, h0)
                # pad_packed_sequence fills positions past each length with zeros (padding_value=0)
                y, _ = pad_packed_sequence(out, batch_first=self.batch_first, total_length=case.T)
            if self.batch_first:
                y = y.transpose(0, 1)
            return GRUResult(y=to_numpy(y), h_n=to_numpy(h_n))


class TorchGRUCell:
    """``torch.nn.GRUCell`` stepped over time here; lengths freeze the state (torch.where)."""

    name = "torch.nn.GRUCell"

    def __init__(self, cache: bool = True):
        self._cache = _Cache(self._build, enabled=cache)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            dtypes=tuple(TORCH_DTYPES), directions=("forward",), max_layers=1,
            reset_after=(True,), bias=(True, False), initial_state=True, lengths=True,
            activations=(), clip=False, padding="zeros",
            unsupported={**unsupported("torch.nn.GRUCell"),
                         "reverse": "torch.nn.GRUCell is one step; this adapter steps it forward only",
                         "bidirectional": "torch.nn.GRUCell is one step; this adapter steps it forward only",
                         "stacked": "torch.nn.GRUCell is a single layer"},
        )

    @staticmethod
    def _build(input_size: int, hidden_size: int, bias: bool, dtype: str) -> torch.nn.GRUCell:
        return torch.nn.GRUCell(input_size, hidden_size, bias=bias, dtype=TORCH_DTYPES[dtype]).eval()

    def run(self, case: GRUCase) -> GRUResult:
        s = case.spec
        state = cell_to_torch(s, case.weights)  # ValueError for what a cell cannot express
        cell = self._cache.get((s.input_size, s.hidden_size, s.bias, case.dtype))
        load(cell, state)
        dt = TORCH_DTYPES[case.dtype]
        x = torch.tensor(case.x, dtype=dt)
        h = torch.tensor(case.h0_or_zeros()[0], dtype=dt)
        active = None
        if case.lengths is not None:  # (T, B, 1): is sequence b still running at step t
            active = (torch.arange(case.T)[:, None] < torch.tensor(case.lengths)[None, :])[:, :, None]
        with running():
            y, h = cell_loop(cell, x, h, active)
            return GRUResult(y=to_numpy(y), h_n=to_numpy(h[None]))


def cell_loop(cell, x, h, active):
    """The user's loop: h = cell(x[t], h) for each t; ``active`` (T, B, 1) freezes finished rows and
    zeroes their outputs. torch.compile[nn.GRUCell loop] compiles this very function."""
    ys = []
    for t in range(x.shape[0]):
        h_new = cell(x[t], h)
        if active is None:
            h = h_new
            ys.append(h_new)
        else:
            h = torch.where(active[t], h_new, h)
            ys.append(torch.where(active[t], h_new, torch.zeros_like(h_new)))
    return torch.stack(ys), h

