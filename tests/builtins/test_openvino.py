"""The generic built-in checks (generic.py) for OpenVINO: the ONNX GRU node through its ONNX frontend
(layout 0 and 1) and torch nn.GRU through openvino.convert_model."""

from tests.builtins.generic import declared_test, feature_test

PREFIXES = ("openvino[",)
test_declares_the_expected_features = declared_test(PREFIXES)
test_feature = feature_test(PREFIXES)
