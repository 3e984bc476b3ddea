"""openvino: the ONNX GRU node through OpenVINO's ONNX frontend (node.py), torch nn.GRU through
openvino.convert_model's PyTorch frontend (torch_frontend.py), on the CPU plugin; runtime.py holds
what both share (version, inference precision, the bfloat16 hand-over)."""
