"""The generic built-in checks (generic.py) for torch.compile (inductor) of nn.GRU and a GRUCell loop.

Marked slow: a compile costs 10-50 s per structure and sequence length, too much for the default
run (.ci/run deselects slow; `pytest -m slow tests/builtins/test_torch_compile.py` runs them, and
`gru-conformance report` and the soak cover them)."""

import pytest

from tests.builtins.generic import declared_test, feature_test

pytestmark = pytest.mark.slow

PREFIXES = ("torch.compile[",)
test_declares_the_expected_features = declared_test(PREFIXES)
test_feature = feature_test(PREFIXES)
