"""The built-in adapters, by name. Each is imported only when it is loaded, so that a
missing framework makes that adapter unavailable rather than breaking the package."""

BUILTINS = {
    "reference": "conformance.adapters.reference:ReferenceAdapter",
    "torch.nn.GRU": "conformance.adapters.torch_gru:TorchGRU",
    "torch.nn.GRU[batch_first]": "conformance.adapters.torch_gru:TorchGRUBatchFirst",
    "torch.nn.GRUCell": "conformance.adapters.torch_gru:TorchGRUCell",
}
