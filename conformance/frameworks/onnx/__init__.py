"""onnx: converter, adapters and upstream facts."""
