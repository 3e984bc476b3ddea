"""Save and load a case as .npz, so that any failure can be replayed exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .case import Activation, GRUCase, GRUSpec


def save_case(case: GRUCase, path) -> Path:
    s = case.spec
    meta = dict(input_size=s.input_size, hidden_size=s.hidden_size, num_layers=s.num_layers,
                direction=s.direction, reset_after=bool(s.reset_after), bias=bool(s.bias),
                bias_structure=s.bias_structure,
                activations=[[a.name, a.alpha, a.beta] for a in s.activations], clip=s.clip,
                dtype=case.dtype, seed=case.seed)
    arrays = {"x": case.x, "meta": np.array(json.dumps(meta))}
    if case.h0 is not None:
        arrays["h0"] = case.h0
    if case.lengths is not None:
        arrays["lengths"] = case.lengths
    for i, w in enumerate(case.weights):
        for k in ("W", "U", "bW", "bU"):
            arrays[f"{k}_{i}"] = getattr(w, k)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


def load_case(path) -> GRUCase:
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        acts = tuple(Activation(*a) for a in meta.pop("activations"))
        dtype, seed = meta.pop("dtype"), meta.pop("seed")
        spec = GRUSpec(activations=acts, **meta)
        n = spec.num_layers * spec.num_directions
        weights = [tuple(f[f"{k}_{i}"] for k in ("W", "U", "bW", "bU")) for i in range(n)]
        return GRUCase(spec, weights, f["x"], f["h0"] if "h0" in f else None,
                       f["lengths"] if "lengths" in f else None, dtype, seed=seed)
