"""Index-coded wiring: find where an exporter put each weight, so the weights can be fed as inputs.

An export costs seconds, so a structure is exported once with every framework weight set
to a distinct code (1 + k * 2**-22, exact in float32). Each float constant of the exported
graph (initializer or Constant node) holding codes is read as a gather map (code k ->
weight k, 0 -> 0; anything else is an error, never a guess). Those constants become graph
inputs, and each example feeds its framework weights through the exporter's own map, so
one onnxruntime session serves every weight draw and the exporter's own conversions
(gate order, bias packing, direction packing) are what gets tested.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

CODE_STEP = 2.0**-22


def codes(shapes) -> list:
    """Distinct float32-exact values, one per weight element, in order."""
    n = sum(int(np.prod(s)) for s in shapes)
    flat = 1.0 + CODE_STEP * np.arange(1, n + 1)
    out, k = [], 0
    for s in shapes:
        m = int(np.prod(s))
        out.append(flat[k:k + m].reshape(s).astype(np.float32))
        k += m
    return out


class WiringError(RuntimeError):
    """The exported graph holds the weights in a form that is not a gather of them."""


def _gather_map(a: np.ndarray, n_weights: int, name: str):
    """The weight index of each element of ``a`` (-1 for 0), or None if it holds no code."""
    if a.dtype.kind != "f" or a.size == 0:
        return None
    v = a.astype(np.float64)
    k = np.rint((v - 1.0) / CODE_STEP).astype(np.int64) - 1
    is_code = (k >= 0) & (k < n_weights) & (v == 1.0 + CODE_STEP * (k + 1))
    if not is_code.any():
        return None
    if not np.all(is_code | (v == 0)):
        raise WiringError(f"{name!r} mixes weights with other values: not a plain gather of them")
    return np.where(is_code, k, -1)


def _subgraph_constants(graph):
    """(name, tensor) of every constant inside the bodies (Loop, Scan, If) of a graph's nodes."""
    for node in graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from ((i.name, i) for i in a.g.initializer)
                yield from ((n.output[0], at.t) for n in a.g.node for at in n.attribute
                            if n.op_type == "Constant" and at.name == "value")
                yield from _subgraph_constants(a.g)


def wire(model: onnx.ModelProto, n_weights: int) -> tuple:
    """Turn the coded constants into graph inputs; return (model, {input: gather map}, unused weights).

    Coded initializers and Constant nodes of the main graph become inputs; a code anywhere
    else (inside a Loop body) cannot be fed and is an error.
    """
    graph = model.graph
    for name, tensor in _subgraph_constants(graph):
        if _gather_map(numpy_helper.to_array(tensor), n_weights, name) is not None:
            raise WiringError(f"{name!r} holds weights inside a subgraph, where they cannot be fed")
    wiring, used = {}, np.zeros(n_weights, bool)

    def take(name, tensor) -> bool:
        a = numpy_helper.to_array(tensor)
        idx = _gather_map(a, n_weights, name)
        if idx is None:
            return False
        used[idx[idx >= 0]] = True
        wiring[name] = (idx, a.dtype)
        return True

    inits = [i for i in graph.initializer if not take(i.name, i)]
    is_value = lambda n: n.op_type == "Constant" and n.attribute[0].name == "value"  # noqa: E731
    nodes = [n for n in graph.node if not (is_value(n) and take(n.output[0], n.attribute[0].t))]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.node[:]
    graph.node.extend(nodes)
    for name, (idx, dt) in wiring.items():
        graph.input.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(dt), list(idx.shape)))
    return model, wiring, int((~used).sum())


def wired_feeds(wiring: dict, flat: np.ndarray) -> dict:
    return {name: np.where(idx >= 0, flat[np.maximum(idx, 0)], 0).astype(dt) for name, (idx, dt) in wiring.items()}
