"""What each built-in does at the corners of the spec, as a Markdown table (the README's).

For each built-in loadable in this process: zero-length sequences and per-direction activations
(the adapter's declared support, with its measured finding where unsupported), and what it returns
for inf in x, inf in h0, a very large x, and inf in x past a sequence's length (where the canonical
answer never reads it) (conformance.corners.nonfinite_behaviour). The last three
are records, not verdicts: a case holds finite values only, so no conformance is claimed there.
Keras adapters are run unpadded here (``pad=False``): padded sizes have zero weights, and 0 * inf is
NaN, which would be the adapter's doing. The exporters' square padding cannot be turned off: their
inf cells are what the adapter returns, padding included.

    python benchmarks/probe_corners.py [NAME ...]            # default: every built-in
    KERAS_BACKEND=jax python benchmarks/probe_corners.py keras.GRU[jax]
"""

from __future__ import annotations

import sys

import numpy as np

from conformance.builtins import BUILTINS
from conformance.corners import PROBES, nonfinite_behaviour, oracle_nonfinite
from conformance.features import BY_NAME
from conformance.loader import load


def _cell(caps, feature: str) -> str:
    if BY_NAME[feature].supported(caps):
        return "canonical (checked)"
    return "no: " + caps.unsupported.get(feature, "not declared")


def row(name: str) -> list | None:
    entry = load(name)
    if not entry.available:
        print(f"# {name}: unavailable: {entry.reason}", file=sys.stderr)
        return None
    a = entry.adapter
    if getattr(a, "pad", False):  # Keras: run at the case's own sizes, or the padding's zero weights meet the inf
        a.pad = False
    caps = a.capabilities()
    dtype = "float32" if "float32" in caps.dtypes else caps.dtypes[0]
    if "forward" not in caps.directions or not caps.dtypes or "reset_after" in caps.unsupported:
        rec = {label: "-" for label, _, _ in PROBES}
    else:
        with np.errstate(all="ignore"):
            rec = nonfinite_behaviour(a.run, dtype, lengths=caps.lengths)
    return [f"`{name}`", _cell(caps, "zero_length"), _cell(caps, "per_direction_activations"),
            *(f"{rec[label]} ({dtype})" if rec[label] != "-" else "-" for label, _, _ in PROBES)]


def main(names: list) -> None:
    head = ["built-in", "zero-length sequence", "per-direction activations", *(label for label, _, _ in PROBES)]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    oracle = oracle_nonfinite()
    print("| the oracle's IEEE answer | y = 0, h_n = h0 | each pair on its direction | "
          + " | ".join(oracle[label] for label, _, _ in PROBES) + " |")
    for name in names or [b.name for b in BUILTINS]:
        r = row(name)
        if r:
            print("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
