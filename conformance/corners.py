"""Probes of the corners of the spec: what an implementation does there, measured, never assumed.

Zero-length sequences (lengths[b] = 0) have a canonical answer (y zero for that row,
h_n = h0), but the ONNX spec leaves Y_h undefined there (onnx #1674) and implementations
differ: some refuse, some return zeros for h_n. An adapter declares
``Capabilities.zero_lengths`` from ``zero_length_finding``: None when the implementation
gives the canonical answer on a probe case, else the finding, in the implementation's own
words where it refuses.

Per-direction activations: ``per_direction_finding`` runs a bidirectional GRU with a
different (f, g) per direction and says whether the runtime ignores the second pair (or the
first): an output bit-identical to one with either pair shared by both directions.

Non-finite inputs (inf in x or h0) are outside the contract (a case holds finite values only),
so ``nonfinite_behaviour`` only records what an implementation returns there: documented
behaviour, not a conformance verdict (benchmarks/probe_corners.py prints it for every built-in).
"""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np

from .canonical import oracle
from .case import GRUCase, GRUResult, GRUSpec
from .compare import valid_mask
from .values import case_values

Run = Callable[[GRUCase], GRUResult]


def _words(e: Exception) -> str:
    return f"{type(e).__name__}: {' '.join(str(e).split())}"


def zero_length_case(dtype: str, direction: str = "forward", reset_after: bool = True) -> GRUCase:
    """Three sequences of lengths 3, 0 and 2, with an h0 (so h_n = h0 is told apart from zeros)."""
    spec = GRUSpec(2, 3, 1, direction, reset_after, True)
    weights, x, h0 = case_values(spec, 3, 3, dtype, seed=5, h0=True, saturating=False)
    return GRUCase(spec, weights, x, h0, np.array([3, 0, 2]), dtype)


def withdrawn(feature: str, finding: str | None) -> dict:
    """{feature: finding} for ``Capabilities.unsupported``, or {} when there is no finding."""
    return {feature: finding} if finding else {}


def zero_length_finding(run: Run, who: str, dtype: str, *, direction: str = "forward",
                        reset_after: bool = True, padding: str = "zeros") -> str | None:
    """None if ``run`` gives an empty sequence zeros in y and its h0 as h_n, else what it does.

    ``who`` names the implementation and its version, as the finding is quoted in reports.
    Only the empty row is judged here (exactly: h0 is representable, and keeping it is a copy);
    the other rows are the feature check's business. y is judged only where the adapter
    declares zeros past a length (``padding``), as the checks do.
    """
    case = zero_length_case(dtype, direction, reset_after)
    try:
        r = run(case)
    except Exception as e:  # noqa: BLE001 - the refusal is the finding
        return f"{who} refuses a zero-length sequence: {_words(e)}"
    y, h_n, h0 = np.asarray(r.y, np.float64)[:, 1], np.asarray(r.h_n, np.float64)[:, 1], case.h0[:, 1]
    found = []
    if padding == "zeros" and not np.all(y == 0):
        found.append("y not zero for it")
    if np.array_equal(h_n, h0):
        pass
    elif np.all(h_n == 0):
        found.append("h_n = 0 for it, not its h0 (the ONNX spec leaves Y_h undefined there, onnx #1674)")
    else:
        found.append(f"h_n neither its h0 nor zeros (got {h_n.ravel()[:3].tolist()}, h0 {h0.ravel()[:3].tolist()})")
    return f"{who} on a zero-length sequence returns {'; '.join(found)}" if found else None


def per_direction_finding(run: Run, who: str, dtype: str, pairs: tuple) -> str | None:
    """None if a bidirectional GRU with (f, g) = pairs[0] forward and pairs[1] reverse honours both.

    The runtime ignores the per-direction pairs if its output is bit-identical to the output
    with either pair shared by both directions; a refusal is quoted.
    """
    f0, f1 = pairs

    def case(acts):
        spec = GRUSpec(2, 2, 1, "bidirectional", True, True, acts)
        weights, x, _ = case_values(spec, 3, 2, dtype, seed=7, h0=False, saturating=True)
        return GRUCase(spec, weights, x, None, None, dtype)

    try:
        both = run(case((*f0, *f1)))
    except Exception as e:  # noqa: BLE001
        return f"{who} refuses activations per direction: {_words(e)}"
    for shared, which in ((f0, "forward"), (f1, "reverse")):
        try:
            r = run(case(shared))
        except Exception:  # noqa: BLE001 - a refused baseline tells nothing
            continue
        if np.array_equal(r.y, both.y) and np.array_equal(r.h_n, both.h_n):
            return (f"{who} ignores activations per direction: the output is bit-identical to the output "
                    f"with the {which} pair for both directions")
    return None


# -- non-finite and very large inputs: recorded, not judged --------------------------------------


def _nonfinite_case(dtype: str, where: str, value: float) -> GRUCase:
    """A one-input, two-unit forward GRU whose x[1] (``where="x"``) or h0 (``"h0"``) is ``value``.

    One input, so that W x never adds +inf to -inf: the canonical answer is then defined
    by IEEE arithmetic for x = inf (gates saturate), though not for h0 = inf (z * h with z in (0, 1)
    keeps the inf, and 0 * inf is NaN where z saturates to 0). ``where="padding"``: x[1] = value
    past the sequence's length 1, where the canonical answer never reads it (an implementation that
    masks by multiplying by 0 turns it into NaN).
    The case is built finite and then altered, since a GRUCase rejects non-finite values.
    """
    spec = GRUSpec(1, 2, 1, "forward", True, True)
    weights, x, h0 = case_values(spec, 3, 1, dtype, seed=11, h0=True, saturating=False)
    case = GRUCase(spec, weights, x, h0, np.array([1]) if where == "padding" else None, dtype)
    case = copy.copy(case)
    if where in ("x", "padding"):  # x[1] is past the length 1 in the padding probe: never read
        a = np.array(case.x)
        a[1] = value
        object.__setattr__(case, "x", a)
    else:
        a = np.array(case.h0)
        a[0, 0, 0] = value
        object.__setattr__(case, "h0", a)
    return case


def _summary(a: np.ndarray) -> str:
    a = np.asarray(a, np.float64)
    if np.all(np.isfinite(a)):
        return "finite"
    kinds = [k for k, m in (("NaN", np.isnan(a)), ("inf", np.isinf(a))) if m.any()]
    return "+".join(kinds)


PROBES = (("x = +inf", "x", np.inf), ("h0 = +inf", "h0", np.inf), ("x = 1e30", "x", 1e30),
          ("x = +inf past the length", "padding", np.inf))


def nonfinite_behaviour(run: Run, dtype: str, lengths: bool = True) -> dict:
    """{probe: what ``run`` returns}: "raises ...", or y (at valid positions, as the checks compare it
    where padding is "undefined") and h_n each finite, NaN or inf, and for finite answers whether they
    agree with the oracle's float64 IEEE answer to 1e-3. Without
    ``lengths`` (the implementation takes none) the padding probe is "-"."""
    out = {}
    for label, where, value in PROBES:
        if where == "padding" and not lengths:
            out[label] = "-"
            continue
        if label == "x = 1e30" and dtype in ("float16",):
            value = 6e4  # the largest magnitude of the order, in float16
        case = _nonfinite_case(dtype, where, value)
        with np.errstate(all="ignore"):
            expected = oracle(case)
        try:
            with np.errstate(all="ignore"):
                r = run(case)
        except Exception as e:  # noqa: BLE001 - recorded
            out[label] = "raises " + _words(e)[:160]
            continue
        valid = np.broadcast_to(valid_mask(case), expected.y.shape)  # past a length, y is the adapter's padding
        got_y, exp_y = np.asarray(r.y, np.float64)[valid], expected.y[valid]
        y, h = _summary(got_y), _summary(r.h_n)
        text = f"y {y}, h_n {h}"
        if y == h == "finite" and _summary(exp_y) == "finite":
            same = np.allclose(got_y, exp_y, atol=1e-3) and np.allclose(r.h_n, expected.h_n, atol=1e-3)
            text += ", as the oracle" if same else ", not the oracle's"
        out[label] = text
    return out


def oracle_nonfinite(dtype: str = "float64") -> dict:
    """What the oracle itself returns on the same probes (the IEEE answer of the canonical equations)."""
    return nonfinite_behaviour(oracle, dtype)
