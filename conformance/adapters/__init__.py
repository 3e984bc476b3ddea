"""The built-in adapters, by name. Each is imported only when it is loaded, so that a
missing framework makes that adapter unavailable rather than breaking the package."""

BUILTINS = {
    "reference": "conformance.adapters.reference:ReferenceAdapter",
    "torch.nn.GRU": "conformance.adapters.torch_gru:TorchGRU",
    "torch.nn.GRU[batch_first]": "conformance.adapters.torch_gru:TorchGRUBatchFirst",
    "torch.nn.GRUCell": "conformance.adapters.torch_gru:TorchGRUCell",
    "keras.GRU": "conformance.adapters.keras_gru:KerasGRU",
    "keras.GRUCell": "conformance.adapters.keras_gru:KerasGRUCell",
    "onnx.GRU[onnxruntime]": "conformance.adapters.onnx_node:OnnxRuntimeGRU",
    "onnx.GRU[onnxruntime][layout=1]": "conformance.adapters.onnx_node:OnnxRuntimeGRULayout1",
    "onnx.reference": "conformance.adapters.onnx_reference:OnnxReferenceGRU",
    "onnx.reference[layout=1]": "conformance.adapters.onnx_reference:OnnxReferenceGRULayout1",
    "onnx.export[torch]": "conformance.adapters.onnx_export:TorchExportGRU",
    "onnx.export[torchscript]": "conformance.adapters.onnx_export:TorchScriptExportGRU",
    "onnx.export[keras]": "conformance.adapters.onnx_export:KerasExportGRU",
}
