"""A catalogue of realistic broken GRUs, for measuring what the suite catches.

Each mutant is a textbook NumPy GRU, written independently of the oracle (weights
stacked (3H, in) like ONNX, a plain loop over time), with exactly one bug switched on,
the kind of bug seen in real ports. They run through the public adapter contract, so
the suite must kill each one and its diagnosis must name the mutant's bug class.

Most declare float64 and float32. The low-precision ones declare one dtype only, as a
half-precision kernel with its own code path does: they compute in float32 and round
their outputs to the case dtype (the tolerance must still catch their bug there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bugclasses import BugClass
from .case import GRUCase, GRUResult
from .contract import Capabilities
from .dtypes import round_to


@dataclass(frozen=True)
class Bug:
    name: str
    bug_class: BugClass
    story: str
    dtypes: tuple = ("float64", "float32")


#: the sizes of the size-dependent mutants: a chunked scan, a tiled matmul, a batch-blocked kernel
CHUNK, TILE, BLOCK = 64, 32, 16

BUGS = (
    Bug("gates-rz", BugClass.GATE_ORDER, "PyTorch's r,z,n blocks read as z,r,n"),
    Bug("gates-nzr", BugClass.GATE_ORDER, "gate blocks read in a rotated order n,z,r"),
    Bug("gates-zn", BugClass.GATE_ORDER, "the z and n blocks swapped"),
    Bug("bUn-folded", BugClass.BIAS_PLACEMENT, "b_Un added with the input bias, outside the reset"),
    Bug("bU-dropped", BugClass.BIAS_PLACEMENT, "the recurrent biases never loaded"),
    Bug("bW-dropped", BugClass.BIAS_PLACEMENT, "the input biases never loaded"),
    Bug("reset-before", BugClass.RESET_POSITION, "always resets before the recurrent matmul"),
    Bug("reset-after", BugClass.RESET_POSITION, "always resets after the recurrent matmul"),
    Bug("update-1-z", BugClass.UPDATE_CONVENTION, "h' = (1-z)*h + z*n"),
    Bug("state-not-carried", BugClass.STATE_CARRY, "h starts from zeros at every step"),
    Bug("h0-ignored", BugClass.INITIAL_STATE, "h0 accepted but never used"),
    Bug("layers-share-h0", BugClass.STACKED_LAYERS, "every layer starts from layer 0's h0"),
    Bug("reverse-ignores-lengths", BugClass.REVERSE_AND_PADDING, "reverse starts at T-1 for every row"),
    Bug("padding-carried", BugClass.REVERSE_AND_PADDING, "y past a length repeats the last output"),
    Bug("reverse-not-realigned", BugClass.TIME_ALIGNMENT, "reverse outputs stored in processing order"),
    Bug("outputs-shifted", BugClass.TIME_ALIGNMENT, "y[t] is written before the step instead of after"),
    Bug("hn-last-step", BugClass.FINAL_STATE, "h_n read from y at t=T-1, padding included"),
    Bug("hn-direction-major", BugClass.FINAL_STATE, "h_n stacked direction-major"),
    Bug("halves-swapped", BugClass.OUTPUT_LAYOUT, "y concatenated [reverse, forward]"),
    Bug("row0-length", BugClass.BATCHING, "lengths[0] used for the whole batch"),
    Bug("U-transposed", BugClass.WEIGHT_LAYOUT, "h @ U instead of h @ U.T"),
    Bug("fg-swapped", BugClass.ACTIVATIONS, "tanh on the gates and sigmoid on the candidate"),
    Bug("hard-sigmoid", BugClass.ACTIVATIONS, "Keras 2's hard_sigmoid on the gates"),
    Bug("float16-compute", BugClass.PRECISION, "all arithmetic in float16"),
    Bug("tanh-float16", BugClass.PRECISION, "a low-accuracy tanh (evaluated in float16)"),
    Bug("bias-off", BugClass.WEIGHTS, "one recurrent bias off by 0.1%"),
    Bug("weight-off", BugClass.WEIGHTS, "one recurrent weight off by 0.1%"),
    # bugs that show only above a size: they pass every small case
    Bug("chunk-state-lost", BugClass.STATE_CARRY, f"a scan in chunks of {CHUNK} steps restarting each chunk from h0"),
    Bug("remainder-tile-dropped", BugClass.TILING,
        f"a recurrent matmul tiled {TILE} units wide that drops the remainder tile"),
    Bug("batch-block-state", BugClass.BATCHING,
        f"a kernel in batch blocks of {BLOCK} rows whose later blocks step from the first block's state"),
    Bug("bfloat16-hard-sigmoid", BugClass.ACTIVATIONS, "a bfloat16 kernel with Keras 2's hard_sigmoid on the gates",
        dtypes=("bfloat16",)),
    Bug("float16-bUn-folded", BugClass.BIAS_PLACEMENT, "a float16 kernel adding b_Un outside the reset",
        dtypes=("float16",)),
)
_LOW = {"bfloat16-hard-sigmoid": "hard-sigmoid", "float16-bUn-folded": "bUn-folded"}  # their bug, in float32

BY_NAME = {b.name: b for b in BUGS}
_BLOCKS = {"gates-rz": [1, 0, 2], "gates-nzr": [2, 0, 1], "gates-zn": [2, 1, 0]}


def _sigmoid(a):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-a))


def _hard_sigmoid(a):
    return np.clip(0.2 * a + 0.5, 0.0, 1.0)


class MutantGRU:
    """A GRU with one named bug (see BUGS)."""

    def __init__(self, bug: str):
        self.bug = BY_NAME[bug]
        self.name = f"mutant[{bug}]"
        self.ref = f"conformance.mutants:{bug}"

    def capabilities(self) -> Capabilities:
        return Capabilities(dtypes=self.bug.dtypes, directions=("forward", "reverse", "bidirectional"),
                            max_layers=3, reset_after=(True, False), bias=(True, False), initial_state=True,
                            lengths=True)

    # -- one step ---------------------------------------------------------------------------
    def _step(self, x, h, W, U, bW, bU, reset_after, H):
        b = _LOW.get(self.bug.name, self.bug.name)
        act = (lambda a: a.astype(np.float16)) if b == "float16-compute" else (lambda a: a)
        if self.bug.name in _LOW:
            act = lambda a: a.astype(np.float32)  # noqa: E731
        x, h, W, U, bW, bU = (act(a) for a in (x, h, W, U, bW, bU))
        f = _hard_sigmoid if b == "hard-sigmoid" else _sigmoid
        g = np.tanh
        if b == "fg-swapped":
            f, g = g, f
        if b == "tanh-float16":
            g = lambda a: np.tanh(a.astype(np.float16)).astype(a.dtype)  # noqa: E731
        # U.T is (H, 3H) with gate block k equal to U_k.T; the bug uses U_k itself in each block
        Ut = np.concatenate(np.split(U, 3), axis=1) if b == "U-transposed" else U.T
        if b == "remainder-tile-dropped" and H > TILE:  # only whole tiles of h's units are summed
            Ut = Ut.copy()
            Ut[H // TILE * TILE:] = 0
        blocks = _BLOCKS.get(b, [0, 1, 2])
        sl = [slice(k * H, (k + 1) * H) for k in blocks]
        gi = x @ W.T + (0 if b == "bW-dropped" else bW)
        gh = h @ Ut + (0 if b == "bU-dropped" else bU)
        z, r = f(gi[:, sl[0]] + gh[:, sl[0]]), f(gi[:, sl[1]] + gh[:, sl[1]])
        if b == "reset-before":
            reset_after = False
        if b == "reset-after":
            reset_after = True
        if b == "bUn-folded":
            n = g(gi[:, sl[2]] + bU[sl[2]] + r * (h @ Ut[:, sl[2]]))
        elif reset_after:
            n = g(gi[:, sl[2]] + r * gh[:, sl[2]])
        else:
            n = g(gi[:, sl[2]] + (r * h) @ Ut[:, sl[2]] + (0 if b == "bU-dropped" else bU[sl[2]]))
        if b == "update-1-z":
            return ((1 - z) * h + z * n).astype(np.float64)
        return (z * h + (1 - z) * n).astype(np.float64)

    # -- one direction of one layer ----------------------------------------------------------
    def _direction(self, x, w, h0, lengths, reverse, reset_after, first=True):
        b = self.bug.name
        T, B, _ = x.shape
        H = w.U.shape[1]
        W, U = w.W.reshape(3 * H, -1).copy(), w.U.reshape(3 * H, H).copy()
        bW, bU = w.bW.reshape(-1).copy(), w.bU.reshape(-1).copy()
        if b == "bias-off" and first:  # one parameter: layer 0, direction 0 only
            bU[H] *= 1.001  # b_Ur, unit 0
        if b == "weight-off" and first:
            U[0, 0] *= 1.001  # U_z[0, 0]
        if reverse and b == "reverse-ignores-lengths":
            lengths = np.full(B, T)
        h = np.zeros((B, H)) if b == "h0-ignored" else h0.copy()
        y = np.zeros((T, B, H))
        for k in range(T):
            t = T - 1 - k if reverse else k
            active = (t < lengths)[:, None]
            if b == "chunk-state-lost" and ((t % CHUNK == 0 and 0 < t) if not reverse else
                                            ((t + 1) % CHUNK == 0 and t + 1 < T)):
                h = np.where(active, h0, h)  # a new chunk starts from the initial state again
            prev = np.zeros_like(h) if b == "state-not-carried" else h
            if b == "batch-block-state":
                prev = h[np.arange(B) % BLOCK]
            new = self._step(x[t], prev, W, U, bW, bU, reset_after, H)
            if b == "outputs-shifted":
                y[t] = np.where(active, h, 0)
            h = np.where(active, new, h)
            if b != "outputs-shifted":
                y[t] = np.where(active, h, 0)
        if reverse and b == "reverse-not-realigned":
            for row, n in enumerate(lengths):
                y[:n, row] = y[n - 1::-1, row].copy()
        if not reverse and b == "padding-carried":
            for row, n in enumerate(lengths):
                y[n:, row] = y[n - 1, row]
        return y, h

    def run(self, case: GRUCase) -> GRUResult:
        b, s = self.bug.name, case.spec
        D, L, T = s.num_directions, s.num_layers, case.T
        lengths = case.lengths if case.lengths is not None else np.full(case.B, T)
        if b == "row0-length":
            lengths = np.full(case.B, lengths[0])
        true_lengths = case.lengths if case.lengths is not None else np.full(case.B, T)
        h0 = case.h0_or_zeros()
        layer_in, h_n = case.x, np.zeros((L * D, case.B, s.hidden_size))
        for layer in range(L):
            outs = []
            for d in range(D):
                i = layer * D + d
                start = h0[d] if b == "layers-share-h0" else h0[i]
                reverse = s.direction == "reverse" or d == 1
                y, h_n[i] = self._direction(layer_in, case.weights[i], start, lengths, reverse, s.reset_after, i == 0)
                if b == "reverse-ignores-lengths":
                    y = y * (np.arange(T)[:, None] < true_lengths[None, :])[:, :, None]
                outs.append(y)
            if b == "halves-swapped" and D == 2:
                outs.reverse()
            layer_in = np.concatenate(outs, axis=2)
        if b == "hn-last-step":
            H = s.hidden_size
            for d in range(D):
                reverse = s.direction == "reverse" or d == 1
                h_n[(L - 1) * D + d] = layer_in[0 if reverse else -1, :, d * H:(d + 1) * H]
        if b == "hn-direction-major":
            h_n = h_n[[l * D + d for d in range(D) for l in range(L)]]  # noqa: E741
        dt = case.dtype
        if dt in ("float16", "bfloat16"):  # bfloat16 values travel as float32
            out = np.float16 if dt == "float16" else np.float32
            return GRUResult(round_to(layer_in, dt).astype(out), round_to(h_n, dt).astype(out))
        return GRUResult(layer_in.astype(dt), h_n.astype(dt))


def mutants() -> list:
    return [MutantGRU(b.name) for b in BUGS]


def __getattr__(name):  # ``conformance.mutants:gates-rz`` names one mutant as MODULE:ATTR
    if name in BY_NAME:
        return MutantGRU(name)
    raise AttributeError(name)
