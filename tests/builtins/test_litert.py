"""The generic built-in checks (generic.py) for a Keras GRU converted by the TFLite converter and run by LiteRT."""

from tests.builtins.generic import declared_test, feature_test

PREFIXES = ("litert[",)
test_declares_the_expected_features = declared_test(PREFIXES)
test_feature = feature_test(PREFIXES)
