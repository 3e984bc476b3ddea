"""What an exporter built: the op types of an ONNX graph (Loop and Scan bodies included) and
every GRU node's attributes, as data (``summarize``) and as the text a report shows
(``format_summary``)."""

from __future__ import annotations

from collections import Counter

import onnx
from onnx import helper


def _ops(graph, counter: Counter, grus: list, path: str = ""):
    for node in graph.node:
        counter[node.op_type] += 1
        if node.op_type == "GRU":
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            grus.append({"node": path + (node.name or "GRU"),
                         "direction": (attrs.get("direction") or b"forward").decode(),
                         "linear_before_reset": int(attrs.get("linear_before_reset", 0)),
                         "layout": int(attrs.get("layout", 0)), "hidden_size": attrs.get("hidden_size"),
                         "activations": [a.decode() for a in attrs.get("activations", [])],
                         "inputs": [i or "-" for i in node.input]})
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                _ops(a.g, counter, grus, f"{path}{node.op_type}.{a.name}/")


def summarize(model: onnx.ModelProto) -> dict:
    """The ops implementing the model (nested bodies included) and its GRU nodes' attributes."""
    counter, grus = Counter(), []
    _ops(model.graph, counter, grus)
    loops = counter["Loop"] + counter["Scan"]
    how = "fused ONNX GRU op" if grus and not loops else "Loop/Scan of elementary ops" if loops and not grus \
        else "fused GRU ops and loops" if grus else "unrolled elementary ops"
    return {"implementation": how, "ops": dict(sorted(counter.items())), "gru_nodes": grus}


def format_summary(summary: dict) -> str:
    lines = [f"implementation: {summary['implementation']}",
             "ops: " + ", ".join(f"{k} x{v}" for k, v in summary["ops"].items())]
    lines += [f"GRU node {g['node']}: direction={g['direction']} linear_before_reset={g['linear_before_reset']} "
              f"layout={g['layout']}" for g in summary["gru_nodes"]]
    return "\n".join(lines)
