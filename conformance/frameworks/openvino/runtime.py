"""What every OpenVINO adapter shares: the version in messages, the compile settings, and the
one place where bfloat16 crosses the Python API.

Why these settings:

* ``INFERENCE_PRECISION_HINT`` is always given. The CPU plugin's default is bf16 on CPUs with
  AVX512-BF16 or AMX (``default_precision()``; bf16 on the machine these adapters were written
  on, an AMD EPYC with avx512_bf16), and then a float32 model is computed in bfloat16 without a
  word: errors of ~1e-3 where float32 gives ~1e-7 (tests/frameworks/openvino keeps that as a
  strict xfail). The adapters run with "f32" so that a check tests the GRU, not the hint.
* One inference thread: deterministic reductions, and a shared machine.
* bfloat16 arrays: OpenVINO 2026.4's ``ov.Tensor(array)`` refuses an ml_dtypes bfloat16 array
  ("Unsupported data type: bfloat16"), and ``infer({name: array})`` accepts one but misreads it
  silently (measured: the GRU then returned h0 unchanged); bf16 outputs come back as NumPy
  float16 arrays holding bfloat16 bits. ``to_ov`` / ``from_ov`` copy the bits both ways.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: the precision every adapter here asks for; None keeps the plugin's default (to measure it)
PRECISION = "f32"


def version() -> str:
    """"openvino 2026.4.1", as messages quote it."""
    import openvino as ov

    return f"openvino {ov.__version__.split('-')[0]}"


@lru_cache(maxsize=None)
def core():
    """One ov.Core per process: it holds the loaded plugins."""
    import openvino as ov

    return ov.Core()


def default_precision() -> str:
    """The CPU plugin's INFERENCE_PRECISION_HINT when none is given: "bf16" where the CPU has bf16."""
    return core().get_property("CPU", "INFERENCE_PRECISION_HINT").to_string()


def compile_config(precision: str | None = PRECISION) -> dict:
    cfg = {"INFERENCE_NUM_THREADS": 1}
    if precision is not None:
        cfg["INFERENCE_PRECISION_HINT"] = precision
    return cfg


def precision_text(precision: str | None) -> str:
    """What an adapter's capabilities say about its precision setting."""
    default = default_precision()
    if precision is None:
        return f"run with the CPU plugin's default INFERENCE_PRECISION_HINT ({default} here)"
    return f"run with INFERENCE_PRECISION_HINT={precision} (the CPU plugin's default here is {default})"


def to_ov(a: np.ndarray):
    """A NumPy array as infer() must receive it: bfloat16 copied bit for bit into an ov.Type.bf16 tensor."""
    if a.dtype.name != "bfloat16":
        return a
    import openvino as ov

    t = ov.Tensor(ov.Type.bf16, list(a.shape))
    t.data.view(np.uint16)[...] = np.ascontiguousarray(a).view(np.uint16)
    return t


def from_ov(t) -> np.ndarray:
    """An output tensor as a new NumPy array; bf16 outputs (labelled float16) re-viewed as bfloat16."""
    import openvino as ov

    a = np.array(t.data)
    if t.element_type == ov.Type.bf16:
        import ml_dtypes

        return a.view(np.uint16).view(ml_dtypes.bfloat16)
    return a


def runner(model, precision: str | None = PRECISION):
    """compile_model on the CPU plugin; a callable feeds -> list of NumPy outputs."""
    compiled = core().compile_model(model, "CPU", compile_config(precision))
    request = compiled.create_infer_request()
    n_out = len(compiled.outputs)

    def run(feeds: dict) -> list:
        request.infer({k: to_ov(v) for k, v in feeds.items()})
        return [from_ov(request.get_output_tensor(i)) for i in range(n_out)]

    return run
