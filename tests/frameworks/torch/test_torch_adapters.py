"""The torch adapters beyond the generic checks (tests/builtins): cached modules, packing, the
bfloat16 hand-over, and a misuse the lengths check must catch."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from conformance.case import GRUCase, GRUSpec
from conformance.checks import check_feature, verify
from conformance.frameworks.torch.adapters import TorchGRU, TorchGRUCell
from conformance.strategies import gru_cases
from conformance.values import case_values

TorchGRUBatchFirst = partial(TorchGRU, batch_first=True)


def _case(spec, T=4, B=3, seed=0, dtype="float64", h0=True, lengths=None):
    weights, x, h = case_values(spec, T, B, dtype, seed, h0=h0, saturating=False)
    return GRUCase(spec, weights, x, h, lengths, dtype)


@pytest.mark.parametrize("adapter", [TorchGRU(), TorchGRUCell()], ids=lambda a: a.name)
def test_unrepresentable_case_raises_instead_of_approximating(adapter):
    with pytest.raises(ValueError, match=r"only applies the reset after the recurrent matmul \(reset_after=True\)"):
        adapter.run(_case(GRUSpec(2, 3, reset_after=False)))


@pytest.mark.parametrize("make", [TorchGRU, TorchGRUBatchFirst, TorchGRUCell])
@settings(max_examples=30, deadline=None)
@given(case=gru_cases(replace(TorchGRUCell().capabilities(), lengths=True)))
def test_cached_modules_give_the_same_bits_as_fresh_ones(make, case):
    """Weights are swapped into a reused module: nothing from an earlier example may leak."""
    cached, fresh = make(), make(cache=False)
    other = _case(case.spec, T=case.T, B=case.B, seed=1, dtype=case.dtype, h0=True)
    cached.run(other)  # the same structure, other weights and h0, run first
    a, b = cached.run(case), fresh.run(case)
    assert np.array_equal(a.y, b.y) and np.array_equal(a.h_n, b.h_n)
    assert len(cached._cache.modules) == 1 and not fresh._cache.modules


def test_padding_is_zeros_and_h_n_is_taken_at_each_length():
    case = _case(GRUSpec(2, 3, 2, "bidirectional"), T=5, B=3, lengths=np.array([5, 1, 3]))
    for adapter in (TorchGRU(), TorchGRUBatchFirst()):
        r = adapter.run(case)
        assert np.all(r.y[1:, 1] == 0) and np.all(r.y[3:, 2] == 0), adapter.name
        assert verify(adapter, case).passed, adapter.name


def test_bfloat16_results_are_float32_arrays_holding_bfloat16_values():
    r = TorchGRU().run(_case(GRUSpec(2, 3), dtype="bfloat16"))
    assert r.y.dtype == np.float32
    assert np.array_equal(torch.from_numpy(r.y).bfloat16().float().numpy(), r.y)


class UnpackedGRU(TorchGRU):
    """A common misuse: padded batches fed to nn.GRU without packing (lengths ignored)."""

    def run(self, case):
        r = super().run(GRUCase(case.spec, case.weights, case.x, case.h0, None, case.dtype))
        if case.lengths is not None:
            r.y[np.arange(case.T)[:, None] >= case.lengths[None, :]] = 0
        return r


def test_the_lengths_check_catches_an_unpacked_gru():
    result = check_feature(UnpackedGRU(), "lengths")
    assert result.status == "fail", result.report()
