"""The generic built-in checks (generic.py) for the ONNX GRU node on onnxruntime and onnx.reference, and the ONNX
exporters."""

from tests.builtins.generic import declared_test, feature_test

PREFIXES = ("onnx.",)
test_declares_the_expected_features = declared_test(PREFIXES)
test_feature = feature_test(PREFIXES)
