"""The generic built-in checks (generic.py) for Keras 3's GRU and GRUCell, on the backend KERAS_BACKEND names
(the others are skipped as unavailable)."""

from tests.builtins.generic import declared_test, feature_test

PREFIXES = ("keras.",)
test_declares_the_expected_features = declared_test(PREFIXES)
test_feature = feature_test(PREFIXES)
