"""The generic built-in checks (generic.py) for the oracle itself, behind the adapter contract: a self-check of
the contract's plumbing, not evidence about any implementation."""

from tests.builtins.generic import declared_test, feature_test

PREFIXES = ("reference",)
test_declares_the_expected_features = declared_test(PREFIXES)
test_feature = feature_test(PREFIXES)
