"""GRUs exported by PyTorch (dynamo and TorchScript exporters) and by Keras, run on onnxruntime:
what each exporter builds, and whether it computes the GRU it was given.

An export costs seconds (dynamo, Keras), so their feature checks draw a few small cases
each (EXPORT_PROFILE); the adapters export once per structure and keep it for the module.
"""

from __future__ import annotations

import keras
import numpy as np
import onnxruntime as ort
import pytest
import torch

from conformance.buildcache import ENV_VAR
from conformance.case import GRUCase, GRUSpec
from conformance.features import FEATURES
from conformance.frameworks.onnx.export_keras import KerasExportGRU
from conformance.frameworks.onnx.export_torch import TorchExportGRU
from conformance.frameworks.onnx.exported import _quiet
from conformance.frameworks.onnx.graph import summarize
from conformance.profiles import Profile
from conformance.values import case_values

EXPORT_PROFILE = Profile("export", max_examples=5, max_T=4, max_B=3, max_size=4, max_layers=2, derandomize=True)
ADAPTERS = {"torch": TorchExportGRU(), "torchscript": TorchExportGRU(dynamo=False), "keras": KerasExportGRU()}
PROFILES = {"torch": EXPORT_PROFILE, "torchscript": None, "keras": EXPORT_PROFILE}
SUPPORTED = {
    "torch": ["float32", "reset_after", "no_bias", "bidirectional", "stacked", "initial_state"],
    "torchscript": ["float32", "reset_after", "no_bias", "bidirectional", "stacked", "initial_state", "lengths"],
    "keras": ["float32", "reset_after", "reset_before", "no_bias", "reverse", "bidirectional", "stacked",
              "initial_state", "lengths"],
}
ALL = [f.name for f in FEATURES]


def test_dynamo_refuses_packed_sequences_in_its_own_words():
    reason = ADAPTERS["torch"].capabilities().unsupported["lengths"]
    assert reason.startswith(f"torch {torch.__version__} torch.onnx.export(dynamo=True) cannot export nn.GRU on a "
                             "PackedSequence")


# -- what the exporters build ----------------------------------------------------------------


@pytest.mark.parametrize("key", ["torch", "torchscript"])
def test_torch_exports_one_fused_gru_node_per_layer_with_linear_before_reset_1(key):
    summary = ADAPTERS[key].graph_facts(GRUSpec(3, 4, 2, "bidirectional"))
    assert summary["implementation"] == "fused ONNX GRU op"
    assert [(g["direction"], g["linear_before_reset"], g["layout"]) for g in summary["gru_nodes"]] == \
           [("bidirectional", 1, 0)] * 2
    assert summary["unused_weights"] == 0


@pytest.mark.parametrize("reset_after", [True, False])
def test_keras_exports_a_loop_of_elementary_ops_not_a_gru_node(reset_after):
    summary = ADAPTERS["keras"].graph_facts(GRUSpec(3, 4, 1, "forward", reset_after))
    assert summary["implementation"] == "Loop/Scan of elementary ops"
    assert summary["gru_nodes"] == [] and summary["ops"]["Loop"] == 1
    # the reset before the recurrent matmul needs a third matmul: (r * h) @ U_n
    assert summary["ops"]["MatMul"] == (2 if reset_after else 3)
    assert summary["unused_weights"] == 0


@pytest.mark.filterwarnings("ignore")
@pytest.mark.xfail(strict=True, raises=(AssertionError, ort.capi.onnxruntime_pybind11_state.Fail), reason=(
    f"torch {torch.__version__}: torch.export specializes nn.GRU's sequence length ('You marked T as dynamic "
    "but your code specialized it to be a constant (3)'): depending on what the process exported before, the "
    "graph declares T static (AssertionError here) or dynamic while onnxruntime fails its Reshape on any other T"))
def test_dynamo_export_with_a_dynamic_sequence_length():
    torch.manual_seed(0)

    class Wrapper(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(4, 4, 2, bidirectional=True)

        def forward(self, x, h0):
            return self.gru(x, h0)

    m = Wrapper().eval()
    T, B = torch.export.Dim("T"), torch.export.Dim("B")
    with _quiet():
        prog = torch.onnx.export(m, (torch.zeros(3, 2, 4), torch.zeros(4, 2, 4)), dynamo=True,
                                 dynamic_shapes={"x": {0: T, 1: B}, "h0": {1: B}})
    model = prog.model_proto
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # declared dynamic
    assert summarize(model)["implementation"] == "fused ONNX GRU op"
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x, h0 = torch.randn(5, 2, 4), torch.randn(4, 2, 4)
    y, h_n = sess.run(None, {"x": x.numpy(), "h0": h0.numpy()})
    with torch.no_grad():
        y_ref, h_ref = m(x, h0)
    assert np.allclose(y, y_ref.numpy(), atol=1e-5) and np.allclose(h_n, h_ref.numpy(), atol=1e-5)


def test_keras_backend_is_the_one_exported():
    assert keras.backend.backend() in ADAPTERS["keras"].version


# -- exports kept on disk (conformance.buildcache) -----------------------------------------------


def test_an_export_read_back_from_the_build_cache_computes_what_a_fresh_export_does(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    spec = GRUSpec(3, 4, 2, "bidirectional")
    weights, x, h0 = case_values(spec, 5, 2, "float32", 0, h0=True, saturating=False)
    case = GRUCase(spec, weights, x, h0, np.array([5, 2]), "float32")
    fresh, again = TorchExportGRU(dynamo=False), TorchExportGRU(dynamo=False)
    a, b = fresh.run(case), again.run(case)
    (key,) = fresh.exports
    assert not fresh.exports[key].cached and again.exports[key].cached
    assert again.exports[key].seconds == fresh.exports[key].seconds
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.h_n, b.h_n)
    fresh.graph_summary()
    assert "(read from the build cache)" in again.graph_summary()
