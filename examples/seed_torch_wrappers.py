"""The two PyTorch wrappers of a popular blog post, as written, behind the adapter contract.

``GRU`` wraps ``nn.GRU`` over a time-major (T, B, I) batch and returns its output: it
conforms. ``GRUcell`` wraps ``nn.GRUCell`` but calls ``self.gru_cell(x)`` without the
hidden state, so torch starts from zeros at every step and the state is never carried:
the suite flags it. The classes are the blog's code, nothing changed but the layout.

Run them:  gru-conformance check examples/seed_torch_wrappers.py:SeedGRU
           gru-conformance check examples/seed_torch_wrappers.py:SeedGRUcell

The adapters load the canonical weights with the suite's converter into the wrapped
module (``state_dict`` keys prefixed ``gru.`` / ``gru_cell.``) and drive the wrappers
the way the blog does: the whole sequence at once, or one ``x[t]`` at a time. The
wrappers take no initial state and no lengths, and build float32 modules with biases;
the adapters also run them in float64 with ``.to(torch.float64)``, which the wrappers do not prevent.
"""

import numpy as np
import torch
import torch.nn as nn

from conformance import Capabilities, GRUResult
from conformance.frameworks.torch.convert import cell_to_torch, gru_to_torch

# ---- the blog's code -------------------------------------------------------------


class GRUcell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.gru_cell = nn.GRUCell(input_size, hidden_size)

    def forward(self, x):
        h_t = self.gru_cell(x)
        return h_t


class GRU(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.gru = nn.GRU(input_size, hidden_size)

    def forward(self, x):
        out, _ = self.gru(x)
        return out


# ---- the adapters ----------------------------------------------------------------

DTYPES = {"float64": torch.float64, "float32": torch.float32}
NOT_IN_THE_WRAPPERS = {
    "float16": "the wrappers are run in float32 (as built) and float64 only",
    "bfloat16": "the wrappers are run in float32 (as built) and float64 only",
    "reset_before": "nn.GRU and nn.GRUCell only apply the reset after the recurrent matmul",
    "no_bias": "the wrappers build their torch module with the default bias=True",
    "reverse": "the wrappers run forward only",
    "bidirectional": "the wrappers run forward only",
    "stacked": "the wrappers build a single layer",
    "initial_state": "forward(x) takes no initial state",
    "lengths": "forward(x) takes no lengths",
    "zero_length": "forward(x) takes no lengths",
    "activations": "torch's GRU has fixed activations (Sigmoid, Tanh)",
    "per_direction_activations": "the wrappers run forward only",
    "clip": "torch's GRU has no pre-activation clip",
}


def _capabilities() -> Capabilities:
    return Capabilities(dtypes=tuple(DTYPES), directions=("forward",), max_layers=1, reset_after=(True,),
                        bias=(True,), initial_state=False, lengths=False, unsupported=NOT_IN_THE_WRAPPERS)


class _WrapperAdapter:
    wrapper, convert, prefix = None, None, ""

    def __init__(self):
        self._models = {}  # one wrapper per (input_size, hidden_size, dtype); weights swapped per case

    def capabilities(self) -> Capabilities:
        return _capabilities()

    def _model(self, case):
        key = (case.spec.input_size, case.spec.hidden_size, case.dtype)
        if key not in self._models:
            self._models[key] = self.wrapper(case.spec.input_size, case.spec.hidden_size).to(DTYPES[case.dtype]).eval()
        model = self._models[key]
        state = self.convert(case.spec, case.weights, prefix=self.prefix)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        return model

    def run(self, case) -> GRUResult:
        model = self._model(case)
        x = torch.tensor(case.x, dtype=DTYPES[case.dtype])
        with torch.inference_mode():
            out = self.forward(model, x)
        return GRUResult(y=np.array(out.numpy()), h_n=np.array(out[-1:].numpy()))


class SeedGRU(_WrapperAdapter):
    """The blog's ``GRU``: the whole (T, B, I) sequence in one call; h_n is the last output."""

    name = "seed-torch-gru"
    wrapper, convert, prefix = GRU, staticmethod(gru_to_torch), "gru."

    @staticmethod
    def forward(model, x):
        return model(x)


class SeedGRUcell(_WrapperAdapter):
    """The blog's ``GRUcell``, stepped over t as the blog does: ``out = grucell(x[t])``."""

    name = "seed-torch-grucell"
    wrapper, convert, prefix = GRUcell, staticmethod(cell_to_torch), "gru_cell."

    @staticmethod
    def forward(model, x):
        return torch.stack([model(x[t]) for t in range(x.shape[0])])
