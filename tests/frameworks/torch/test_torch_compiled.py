"""torch.compile (inductor) of nn.GRU: what the default does, and that weights are runtime inputs."""

from __future__ import annotations

import pytest
import torch

from conformance.case import GRUCase, GRUSpec
from conformance.checks import verify
from conformance.frameworks.torch.compiled import TorchCompileGRU, default_refusal
from conformance.values import case_values


def test_by_default_torch_compile_does_not_compile_nn_gru():
    """Without allow_rnn Dynamo refuses nn.GRU (with fullgraph; without it, it silently runs the eager kernel),
    which is why torch.compile[nn.GRU] compiles under torch._dynamo.config.allow_rnn=True."""
    why = default_refusal()
    assert why.startswith(f"torch {torch.__version__}: Attempted to wrap RNN, GRU, or LSTM"), why
    assert "allow_rnn=True" in why


@pytest.mark.slow
def test_new_weights_do_not_recompile():
    adapter = TorchCompileGRU()
    spec = GRUSpec(3, 4, 2, "bidirectional")
    for seed in range(3):
        weights, x, h0 = case_values(spec, 3, 2, "float32", seed, h0=True, saturating=False)
        assert verify(adapter, GRUCase(spec, weights, x, h0, None, "float32"), timeout=600).passed
    assert len(adapter.build_seconds) == 1
