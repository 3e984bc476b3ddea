"""The checks every built-in gets, generated from its row in conformance.builtins.

Each framework's test module (test_torch.py, ...) instantiates these for its built-ins, so
that pytest-xdist keeps a framework's cached models on one worker (``--dist loadfile``):

* the adapter declares exactly the features its row expects (a capabilities regression
  fails here, not silently);
* each feature it supports passes (or fails, where the row declares an expected failure);
* each feature it lacks is reported unsupported with the adapter's own stated reason.

Built-ins that need another process set-up (a Keras backend other than KERAS_BACKEND's) are
not collected here: .ci/run runs this module once per backend. A built-in whose framework is
not installed is skipped with that reason; tests/builtins/test_registry.py makes sure a
built-in whose framework *is* installed loads.
"""

from __future__ import annotations

import functools
import os

import pytest

from conformance.builtins import BUILTINS, BY_NAME
from conformance.features import FEATURES
from conformance.loader import load
from conformance.testing import assert_declares, assert_feature


@functools.lru_cache(maxsize=None)
def _entry(name: str):
    return load(name)  # one adapter per built-in and process: its cached models serve every test


def adapter(name: str):
    entry = _entry(name)
    if not entry.available:
        pytest.skip(f"{name} is unavailable here: {entry.reason}")
    return entry.adapter


def _this_process(b) -> bool:
    return all(os.environ.get(k, v) == v for k, v in b.environ.items())


def names(prefixes: tuple) -> list:
    """The built-ins named by ``prefixes`` that this process is set up for."""
    return [b.name for b in BUILTINS if b.name.startswith(prefixes) and _this_process(b)]


def declared_test(prefixes: tuple):
    @pytest.mark.parametrize("name", names(prefixes))
    def test_declares_the_expected_features(name):
        a = adapter(name)
        assert_declares(a, BY_NAME[name].supported)
        caps = a.capabilities()
        assert caps.gradients == BY_NAME[name].gradients, caps.gradients  # a backward regression fails here
        assert caps.gradients or caps.gradients_reason, "no gradients, and no reason given"
    return test_declares_the_expected_features


def feature_test(prefixes: tuple):
    params = [pytest.param(n, f.name, id=f"{n}-{f.name}") for n in names(prefixes) for f in FEATURES]

    @pytest.mark.parametrize("name, feature", params)
    def test_feature(name, feature):
        entry = BY_NAME[name]
        result = assert_feature(adapter(name), feature, supported=feature in entry.supported,
                                expected_failure=entry.expected_failures.get(feature), profile=entry.test_profile)
        assert result.feature == feature
    return test_feature
