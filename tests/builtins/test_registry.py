"""The registry of built-ins: one name each, and every built-in loads where its framework is installed."""

from __future__ import annotations

import importlib.util

import pytest

from conformance.builtins import BUILTINS, BY_NAME
from conformance.features import BY_NAME as FEATURES
from conformance.loader import load


def _installed(modules) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.mark.parametrize("name", [b.name for b in BUILTINS])
def test_a_builtin_loads_where_its_framework_is_installed(name):
    entry = BY_NAME[name]
    loaded = load(name)
    if loaded.available:
        assert loaded.adapter.name == name  # one name: the command line's is the report's
        return
    if not _installed(entry.requires):
        assert loaded.reason.endswith("is not installed"), loaded.reason
    else:  # installed: only another Keras backend may keep it from loading
        assert "KERAS_BACKEND=" in loaded.reason, loaded.reason


def test_names_are_unique_and_features_known():
    assert len(BY_NAME) == len(BUILTINS)
    for b in BUILTINS:
        assert set(b.supported) <= set(FEATURES), b.name
        assert set(b.expected_failures) <= set(b.supported), b.name


def test_a_user_reference_keeps_the_loaders_message():
    entry = load("no_such_user_module_q:A")
    assert not entry.available and entry.reason.startswith("'no_such_user_module_q:A': cannot import module")
