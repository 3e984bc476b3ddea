"""torch.compile (inductor, CPU) of nn.GRU and of an nn.GRUCell stepped in a Python loop.

Why it is built this way:

* ``fullgraph=True``: by default torch.compile does not compile nn.GRU at all. Dynamo skips RNN
  modules ("Attempted to wrap RNN, GRU, or LSTM ... Set torch._dynamo.config.allow_rnn=True to
  enable experimental support", ``default_refusal()``) and, without fullgraph, silently runs the
  eager kernel, so a check would pass on eager code and say nothing about inductor. With
  fullgraph any graph break is an error, never a silent fallback.
* nn.GRU is compiled under ``torch._dynamo.config.allow_rnn=True``, the experimental support
  that message points to (``torch.compile[nn.GRU]``); the GRUCell loop needs nothing special.
* Weights are runtime inputs: inductor takes parameters as graph inputs (no freezing), so each
  example's weights are copied into the module's parameters and nothing recompiles.
* A compile costs 10-50 s cold (seconds with inductor's on-disk FX graph cache). So: sizes
  padded exactly to one square size (conformance.frameworks.padding), ``dynamic=True`` keeps B
  symbolic, one module per (padded spec, dtype); T is specialized (the GRU decomposition and the
  loop unroll over time), so each new T recompiles. float16/bfloat16 and nn.GRU's lengths
  (PackedSequence) are left out to keep the pool of compiles small (reasons below). These
  built-ins stay out of the default test run (tests/builtins/test_torch_compile.py is ``slow``).
* Dynamo's config is thread-local in torch 2.13, and the checks run the adapter in a worker
  thread, so the limits are patched around every call (``_config``), in the calling thread.
* What is not specific to compiling (loading weights, the cell loop itself, results, reasons)
  is the eager adapters' own (adapters.py), so the two differ in the compile only.
"""

from __future__ import annotations

import time

import torch

from ...case import GRUCase, GRUResult
from ...contract import Capabilities
from ..padding import SQUARE_PADDING, pad_last, pad_weights, padded_spec, square_size, unpad_y
from .adapters import TORCH_DTYPES, cell_loop, load, running, to_numpy, unsupported
from .convert import cell_to_torch, gru_to_torch, torch_gru_kwargs

DTYPES = ("float64", "float32")
#: T is specialized and unrolled into the graph: a compile grows with T (over 60 s at 32 steps and two layers
#: on a loaded machine, past the per-example timeout),
#: so the "long" check draws up to this many steps here, and its result says so
MAX_T = 17
COST = "not compiled: each dtype is another compile per structure and T (10-50 s each, cold)"
TORCH = f"torch {torch.__version__}"


def _config(**more):
    """A conformance run compiles tens of variants of one frame (nn.GRU.forward, cell_loop) on purpose;
    past recompile_limit (8) Dynamo stops compiling (with fullgraph: FailOnRecompileLimitHit)."""
    return torch._dynamo.config.patch(recompile_limit=512, accumulated_recompile_limit=4096, **more)


def _graphs() -> int:
    from torch._dynamo.utils import counters

    return int(counters["stats"].get("unique_graphs", 0))


def default_refusal() -> str:
    """What torch.compile(nn.GRU, fullgraph=True) says without allow_rnn ("" if it compiles)."""
    g = torch.nn.GRU(2, 2).eval()
    with _config(allow_rnn=False):
        try:
            torch.compile(g, fullgraph=True)(torch.zeros(1, 1, 2))
            return ""
        except Exception as e:  # noqa: BLE001 - the refusal is the finding
            return f"{TORCH}: {' '.join(str(e).split('from user code')[0].split())}"


#: why the compiled adapters check no gradients
COMPILED_FORWARD = ("the compiled forward is checked; a compiled backward (AOTAutograd) costs another compile "
                    "per structure, so it is left to the eager torch adapters' backward checks")


class _Compiled:
    """Compile counting, shared by both adapters."""

    def __init__(self):
        self.modules: dict = {}
        self.build_seconds: list = []  # one entry per call that compiled (new structure or new T)
        # inductor's first compile in a process also starts its machinery (imports, the C++ toolchain
        # check): seconds that would otherwise count against the first case's timeout (60 s by default)
        torch.compile(lambda a: torch.sigmoid(a) * 2, fullgraph=True)(torch.zeros(2))

    def _call(self, fn, *args, **config):
        n, t = _graphs(), time.perf_counter()
        with _config(**config), running():
            out = fn(*args)
        if _graphs() > n:
            self.build_seconds.append(time.perf_counter() - t)
        return out


class TorchCompileGRU(_Compiled):
    """torch.compile(nn.GRU, dynamic=True, fullgraph=True) on inductor, with allow_rnn."""

    name = "torch.compile[nn.GRU]"

    def run(self, case: GRUCase) -> GRUResult:
        s = case.spec
        S = square_size(s)
        spec = padded_spec(s, S)
        key = (spec, case.dtype)
        if key not in self.modules:
            gru = torch.nn.GRU(**torch_gru_kwargs(spec), dtype=TORCH_DTYPES[case.dtype]).eval()
            self.modules[key] = (gru, torch.compile(gru, dynamic=True, fullgraph=True))
        gru, compiled = self.modules[key]
        load(gru, gru_to_torch(spec, pad_weights(s, case.weights, S)))
        dt = TORCH_DTYPES[case.dtype]
        x = torch.tensor(pad_last(case.x, S), dtype=dt)
        h0 = None if case.h0 is None else torch.tensor(pad_last(case.h0, S), dtype=dt)
        y, h_n = self._call(compiled, x, h0, allow_rnn=True)
        return GRUResult(y=unpad_y(to_numpy(y), s.num_directions, s.hidden_size, S),
                         h_n=to_numpy(h_n[..., :s.hidden_size]))

    def capabilities(self) -> Capabilities:
        return Capabilities(
            dtypes=DTYPES, directions=("forward", "bidirectional"), max_layers=2, bias=(True, False),
            size_padding=SQUARE_PADDING, max_T=MAX_T,
            unsupported={**unsupported("torch.nn.GRU"), "reverse": "torch.nn.GRU has no reverse-only direction",
                         "float16": COST, "bfloat16": COST,
                         "lengths": "not compiled: a PackedSequence's batch sizes are one more specialized "
                                    "structure per set of lengths"},
            gradients_reason=COMPILED_FORWARD)


class TorchCompileGRUCellLoop(_Compiled):
    """torch.compile(cell_loop, dynamic=True, fullgraph=True): an nn.GRUCell stepped over time."""

    name = "torch.compile[nn.GRUCell loop]"

    def __init__(self):
        super().__init__()
        self.compiled = torch.compile(cell_loop, dynamic=True, fullgraph=True)

    def run(self, case: GRUCase) -> GRUResult:
        s = case.spec
        S = square_size(s)
        key = (S, s.bias, case.dtype)
        if key not in self.modules:
            self.modules[key] = torch.nn.GRUCell(S, S, bias=s.bias, dtype=TORCH_DTYPES[case.dtype]).eval()
        cell = self.modules[key]
        load(cell, cell_to_torch(padded_spec(s, S), pad_weights(s, case.weights, S)))
        dt = TORCH_DTYPES[case.dtype]
        x = torch.tensor(pad_last(case.x, S), dtype=dt)
        h = torch.tensor(pad_last(case.h0_or_zeros()[0], S), dtype=dt)
        active = None
        if case.lengths is not None:
            active = (torch.arange(case.T)[:, None] < torch.tensor(case.lengths)[None, :])[:, :, None]
        y, h_n = self._call(self.compiled, cell, x, h, active)
        return GRUResult(y=to_numpy(y[..., :s.hidden_size]), h_n=to_numpy(h_n[None, :, :s.hidden_size]))

    def capabilities(self) -> Capabilities:
        forward_only = "a GRUCell loop, stepped forward only"
        return Capabilities(
            dtypes=DTYPES, bias=(True, False), lengths=True, size_padding=SQUARE_PADDING, max_T=MAX_T,
            unsupported={**unsupported("torch.nn.GRUCell"), "reverse": forward_only, "bidirectional": forward_only,
                         "stacked": "a single GRUCell", "float16": COST, "bfloat16": COST},
            gradients_reason=COMPILED_FORWARD)
