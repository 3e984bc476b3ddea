"""PyTorch adapters: ``nn.GRU`` (whole sequences, packed for ragged lengths) and ``nn.GRUCell``.

Both have a backward check too (``vjp``): torch autograd's vector-Jacobian product
(``torch.autograd.grad`` with the cotangents as ``grad_outputs``) through the very forward that
``run`` computes, packed sequences included; the parameter gradients come back through the
converter's inverse (gru_from_torch, cell_from_torch), like a state dict.

One module is built per structure and dtype and kept; each example only copies its
weights in (``torch.no_grad`` + ``copy_``), which is what makes hundreds of examples per
second possible. Runs are under ``torch.inference_mode`` on one intra-op thread: a case's
matrices are tiny, and waking a thread pool for each of them costs more than it saves
(several times more on a busy machine). Every dtype runs on the CPU.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cached_property

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ...case import GRUCase, GRUResult
from ...contract import Capabilities
from ...corners import withdrawn, zero_length_finding
from ...dtypes import DTYPES, result_array
from ...gradients import Gradients
from .convert import cell_from_torch, cell_to_torch, gru_from_torch, gru_to_torch, torch_gru_kwargs

#: torch names its dtypes as the cases do
TORCH_DTYPES = {d: getattr(torch, d) for d in DTYPES}

def unsupported(what: str) -> dict:
    """Why the canonical features that torch lacks are unsupported, for module ``what``."""
    return {
        "reset_before": f"{what} only applies the reset after the recurrent matmul (reset_after=True)",
        "activations": f"{what} has fixed activations (Sigmoid, Tanh)",
        "clip": f"{what} has no pre-activation clip",
        "per_direction_activations": f"{what} has fixed activations (Sigmoid, Tanh) in both directions",
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
def running(grad: bool = False):
    """``torch.inference_mode`` (or, with ``grad``, autograd on) on one intra-op thread; the
    caller's thread count is restored."""
    n = torch.get_num_threads()
    if n != 1:
        torch.set_num_threads(1)
    try:
        with torch.enable_grad() if grad else torch.inference_mode():
            yield
    finally:
        if n != 1:
            torch.set_num_threads(n)


#: what both adapters compute gradients of, in every dtype they run
GRADIENTS = dict(gradients=("x", "h0", "weights"), gradient_dtypes=tuple(TORCH_DTYPES))


def autograd_vjp(module, case: GRUCase, y_bar, hn_bar, forward, from_torch) -> Gradients:
    """torch autograd's VJP of ``forward(x, h0) -> (y, h_n)`` (time-major), in canonical layout.

    x and h0 (zeros where the case has none) are leaves that require grad; the parameters'
    gradients are mapped back by ``from_torch`` (the converter's inverse), as a state dict would be.
    """
    dt = TORCH_DTYPES[case.dtype]
    x = torch.tensor(case.x, dtype=dt, requires_grad=True)
    h0 = torch.tensor(case.h0_or_zeros(), dtype=dt, requires_grad=True)
    params = dict(module.named_parameters())
    with running(grad=True):
        y, h_n = forward(x, h0)
        grads = torch.autograd.grad((y, h_n), [x, h0, *params.values()],
                                    grad_outputs=(torch.tensor(y_bar, dtype=dt), torch.tensor(hn_bar, dtype=dt)),
                                    allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip([x, h0, *params.values()], grads, strict=True)]
    _, weights = from_torch(dict(zip(params, grads[2:], strict=True)))
    return Gradients(dx=to_numpy(grads[0]), dh0=to_numpy(grads[1]),
                     dweights=[tuple(result_array(a, case.dtype) for a in w) for w in weights])


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

    @cached_property
    def zero_length(self) -> str | None:
        """What nn.GRU does with an empty sequence, through pack_padded_sequence (probed once)."""
        return zero_length_finding(self.run, f"torch {torch.__version__} (pack_padded_sequence)", "float32")

    def capabilities(self) -> Capabilities:
        return Capabilities(
            dtypes=tuple(TORCH_DTYPES), directions=("forward", "bidirectional"), max_layers=4,
            reset_after=(True,), bias=(True, False), initial_state=True, lengths=True,
            zero_lengths=self.zero_length is None, activations=(), clip=False, padding="zeros",
            unsupported={**unsupported("torch.nn.GRU"),
                         "reverse": "torch.nn.GRU has no reverse-only direction (bidirectional=True runs both)",
                         **withdrawn("zero_length", self.zero_length)},
            **GRADIENTS,
        )

    def _build(self, kwargs: tuple, dtype: str) -> torch.nn.GRU:
        return torch.nn.GRU(**dict(kwargs), batch_first=self.batch_first, dtype=TORCH_DTYPES[dtype]).eval()

    def _module(self, case: GRUCase) -> torch.nn.GRU:
        kwargs = torch_gru_kwargs(case.spec)  # ValueError for what torch cannot express
        gru = self._cache.get((tuple(sorted(kwargs.items())), case.dtype))
        load(gru, gru_to_torch(case.spec, case.weights))
        return gru

    def _forward(self, gru, case: GRUCase, x, h0):
        """x (T, B, I) time-major, h0 or None -> y (T, B, D*H), h_n, through the module's own layout."""
        if self.batch_first:
            x = x.transpose(0, 1)
        if case.lengths is None:
            y, h_n = gru(x, h0)
        else:
            lengths = torch.tensor(case.lengths, dtype=torch.int64)
            packed = pack_padded_sequence(x, lengths, batch_first=self.batch_first, enforce_sorted=False)
            out, h_n = gru(packed, h0)
            # pad_packed_sequence fills positions past each length with zeros (padding_value=0)
            y, _ = pad_packed_sequence(out, batch_first=self.batch_first, total_length=case.T)
        return (y.transpose(0, 1) if self.batch_first else y), h_n

    def run(self, case: GRUCase) -> GRUResult:
        gru = self._module(case)
        dt = TORCH_DTYPES[case.dtype]
        x = torch.tensor(case.x, dtype=dt)
        h0 = None if case.h0 is None else torch.tensor(case.h0, dtype=dt)
        with running():
            y, h_n = self._forward(gru, case, x, h0)
            return GRUResult(y=to_numpy(y), h_n=to_numpy(h_n))

    def vjp(self, case: GRUCase, y_bar, hn_bar) -> Gradients:
        gru = self._module(case)
        return autograd_vjp(gru, case, y_bar, hn_bar, lambda x, h0: self._forward(gru, case, x, h0), gru_from_torch)


class TorchGRUCell:
    """``torch.nn.GRUCell`` stepped over time here; lengths freeze the state (torch.where)."""

    name = "torch.nn.GRUCell"

    def __init__(self, cache: bool = True):
        self._cache = _Cache(self._build, enabled=cache)

    @cached_property
    def zero_length(self) -> str | None:
        """The adapter's own masking (the cell never sees lengths), probed like any implementation's."""
        return zero_length_finding(self.run, "the torch.nn.GRUCell adapter", "float32")

    def capabilities(self) -> Capabilities:
        one = "torch.nn.GRUCell is one step; this adapter steps it forward only"
        return Capabilities(
            dtypes=tuple(TORCH_DTYPES), directions=("forward",), max_layers=1,
            reset_after=(True,), bias=(True, False), initial_state=True, lengths=True,
            zero_lengths=self.zero_length is None, activations=(), clip=False, padding="zeros",
            unsupported={**unsupported("torch.nn.GRUCell"), "reverse": one, "bidirectional": one,
                         "per_direction_activations": one, "stacked": "torch.nn.GRUCell is a single layer",
                         **withdrawn("zero_length", self.zero_length)},
            **GRADIENTS,
        )

    @staticmethod
    def _build(input_size: int, hidden_size: int, bias: bool, dtype: str) -> torch.nn.GRUCell:
        return torch.nn.GRUCell(input_size, hidden_size, bias=bias, dtype=TORCH_DTYPES[dtype]).eval()

    def _module(self, case: GRUCase) -> torch.nn.GRUCell:
        s = case.spec
        state = cell_to_torch(s, case.weights)  # ValueError for what a cell cannot express
        cell = self._cache.get((s.input_size, s.hidden_size, s.bias, case.dtype))
        load(cell, state)
        return cell

    @staticmethod
    def _forward(cell, case: GRUCase, x, h0):
        """The cell stepped over x (T, B, I) from h0 (1, B, H) -> y (T, B, H), h_n (1, B, H)."""
        h = h0[0]
        active = None
        if case.lengths is not None:  # (T, B, 1): is sequence b still running at step t
            active = (torch.arange(case.T)[:, None] < torch.tensor(case.lengths)[None, :])[:, :, None]
        y, h = cell_loop(cell, x, h, active)
        return y, h[None]

    def run(self, case: GRUCase) -> GRUResult:
        cell = self._module(case)
        dt = TORCH_DTYPES[case.dtype]
        with running():
            y, h_n = self._forward(cell, case, torch.tensor(case.x, dtype=dt),
                                   torch.tensor(case.h0_or_zeros(), dtype=dt))
            return GRUResult(y=to_numpy(y), h_n=to_numpy(h_n))

    def vjp(self, case: GRUCase, y_bar, hn_bar) -> Gradients:
        cell = self._module(case)
        return autograd_vjp(cell, case, y_bar, hn_bar, lambda x, h0: self._forward(cell, case, x, h0),
                            cell_from_torch)


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

