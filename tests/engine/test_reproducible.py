"""A derandomized check draws the same cases whatever modules the process has imported
(conformance.reproducible): Hypothesis would otherwise draw literals from the source of every
local module loaded, the user's adapter and test modules included."""

from __future__ import annotations

import hashlib
import importlib
import sys

from conformance import ReferenceAdapter
from conformance.checks import check_feature
from conformance.features import feature
from conformance.profiles import get_profile
from conformance.reproducible import seed_only_draws

#: a local module full of literals inside the ranges the strategies draw from (under the 1,024 per module
#: past which Hypothesis takes none of a module's)
LITERALS = "VALUES = [" + ", ".join(f"{k / 97:.6f}, {k * 7919 + 113}" for k in range(1, 300)) + "]\n"


class Recording(ReferenceAdapter):
    def __init__(self):
        self.seen = []

    def run(self, case):
        w = b"".join(a.tobytes() for layer in case.weights for a in layer if a is not None)
        self.seen.append(hashlib.sha256(repr(case.spec).encode() + case.x.tobytes() + w).hexdigest())
        return super().run(case)


def draws(features=("activations", "no_bias", "zero_length")) -> list:
    a = Recording()
    for f in features:
        check_feature(a, feature(f), get_profile("ci"))
    return a.seen


def test_the_same_check_draws_the_same_cases_after_a_module_full_of_literals_is_imported(tmp_path, monkeypatch):
    before = draws()
    (tmp_path / "user_adapter_with_literals.py").write_text(LITERALS)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("user_adapter_with_literals")
    try:
        assert draws() == before
    finally:
        sys.modules.pop("user_adapter_with_literals", None)


def test_the_patch_is_undone_and_reentrant():
    from hypothesis.internal.conjecture import providers

    original = providers._get_local_constants
    with seed_only_draws():
        inside = providers._get_local_constants
        assert inside is not original and len(inside()) == 0
        with seed_only_draws():
            assert providers._get_local_constants is inside
        assert providers._get_local_constants is inside
    assert providers._get_local_constants is original
