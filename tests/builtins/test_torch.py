"""The generic built-in checks (generic.py) for PyTorch's nn.GRU and nn.GRUCell."""

from tests.builtins.generic import declared_test, feature_test

PREFIXES = ("torch.nn.",)  # torch.compile[...]: test_torch_compile.py (slow)
test_declares_the_expected_features = declared_test(PREFIXES)
test_feature = feature_test(PREFIXES)
