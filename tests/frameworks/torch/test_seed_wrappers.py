"""The blog's PyTorch wrappers: the nn.GRU one conforms, the GRUcell one (state dropped) does not."""

from __future__ import annotations

import pytest
import torch  # noqa: F401 - a missing torch is an error here, not a skip

from conformance.checks import check_feature
from conformance.features import FEATURES
from examples.seed_torch_wrappers import SeedGRU, SeedGRUcell

SUPPORTED = ["float64", "float32", "reset_after", "large", "long"]
UNSUPPORTED = [f.name for f in FEATURES if f.name not in SUPPORTED]


@pytest.mark.parametrize("adapter", [SeedGRU(), SeedGRUcell()], ids=lambda a: a.name)
def test_declared_features(adapter):
    caps = adapter.capabilities()
    assert [f.name for f in FEATURES if f.supported(caps)] == SUPPORTED


@pytest.mark.parametrize("feature", SUPPORTED)
def test_the_nn_gru_wrapper_conforms(feature):
    result = check_feature(SeedGRU(), feature)
    assert result.status == "pass", result.report()


@pytest.mark.parametrize("feature", SUPPORTED)
def test_the_gru_cell_wrapper_is_non_conformant(feature):
    result = check_feature(SeedGRUcell(), feature)
    assert result.status == "fail", result.report()
    assert result.verdict.case.T >= 2  # one step from zeros is right; the second step shows the dropped state
    assert result.verdict.fault is None  # a wrong answer, not a crash
    assert result.bug_classes == ["state carry"], result.report()


@pytest.mark.parametrize("adapter", [SeedGRU(), SeedGRUcell()], ids=lambda a: a.name)
@pytest.mark.parametrize("feature", UNSUPPORTED)
def test_features_the_wrappers_lack_are_unsupported(adapter, feature):
    result = check_feature(adapter, feature)
    assert result.status == "unsupported", result.report()
    assert result.reason == adapter.capabilities().unsupported[feature]
