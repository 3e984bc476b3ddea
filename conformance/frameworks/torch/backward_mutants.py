"""GRUs with a correct forward and a wrong backward, written as a user writes a custom kernel.

Each is a ``torch.autograd.Function`` per (layer, direction): a plain forward loop over time
(canonical weights, reset after the recurrent matmul, lengths freezing the state) and a
hand-written backward through time, with exactly one bug switched on: the kind of bug a custom
CUDA or Triton kernel, a fused cell or a port to a new framework ships with. The forward is
the same for all of them, and correct, so only the backward check can kill them; the suite
must kill each in the ci profile and its diagnosis must name the bug's class
(tests/frameworks/torch/test_backward_mutants.py, benchmarks/bench_backward_mutants.py).

This hand-written backward is independent of the reference VJP (another derivation, in torch,
per step rather than vectorised over time), so the correct one (``bug=None``) passing is
evidence, not a tautology.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...bugclasses import BugClass
from ...case import GRUCase, GRUResult
from ...contract import Capabilities
from ...gradients import Gradients
from .adapters import TORCH_DTYPES, running, to_numpy


@dataclass(frozen=True)
class BackwardBug:
    name: str
    bug_class: BugClass
    story: str


BACKWARD_BUGS = (
    BackwardBug("h0-grad-dropped", BugClass.INITIAL_STATE, "returns None for h0's gradient (h0 'is only a buffer')"),
    BackwardBug("reset-grad-blocked", BugClass.GRADIENT_FLOW, "treats r as a constant: no gradient into a_r"),
    BackwardBug("zh-grad-blocked", BugClass.GRADIENT_FLOW, "dh_prev forgets the direct z * dh term"),
    BackwardBug("bUn-outside-reset", BugClass.BIAS_PLACEMENT, "dbU_n summed like dbW_n, without the factor r"),
    BackwardBug("bptt-chunks-of-2", BugClass.STATE_CARRY, "a chunked kernel that drops dh between chunks of 2 steps"),
    BackwardBug("padding-leak", BugClass.REVERSE_AND_PADDING, "adds y_bar at padding positions to dh (no mask)"),
    BackwardBug("reverse-misaligned", BugClass.TIME_ALIGNMENT,
                "the reverse direction reads y_bar in processing order, not time order"),
    BackwardBug("dU-transposed", BugClass.WEIGHT_LAYOUT, "dU accumulated as h^T da instead of da^T h per gate"),
    BackwardBug("grad-gates-zr", BugClass.GATE_ORDER, "the z and r blocks of the weight gradients swapped on write"),
    BackwardBug("dW-half-accumulator", BugClass.PRECISION, "dW and dU accumulated over time in float16"),
)
BY_NAME = {b.name: b for b in BACKWARD_BUGS}
CHUNK = 2  # the chunk length of bptt-chunks-of-2


class _Direction(torch.autograd.Function):
    """One direction of one layer: x (T, B, I), h0 (B, H), W (3, H, I), U (3, H, H), bW, bU (3, H)."""

    @staticmethod
    def forward(ctx, x, h0, W, U, bW, bU, active, reverse, bug):
        T, B, _ = x.shape
        H = U.shape[1]
        Wf, Uf, bWf, bUf = W.reshape(3 * H, -1), U.reshape(3 * H, H), bW.reshape(-1), bU.reshape(-1)
        h = h0
        y = x.new_zeros((T, B, H))
        saved = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            gx = x[t] @ Wf.T + bWf
            gh = h @ Uf.T + bUf
            z = torch.sigmoid(gx[:, :H] + gh[:, :H])
            r = torch.sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = torch.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            h_new = z * h + (1 - z) * n
            saved[t] = (h, z, r, n, gh[:, 2 * H:])
            a = active[t][:, None]
            y[t] = torch.where(a, h_new, torch.zeros_like(h_new))
            h = torch.where(a, h_new, h)
        ctx.saved = saved
        ctx.save_for_backward(x, W, U)
        ctx.active, ctx.reverse, ctx.bug = active, reverse, bug
        return y, h

    @staticmethod
    def backward(ctx, y_bar, hn_bar):
        x, W, U = ctx.saved_tensors
        active, reverse, bug = ctx.active, ctx.reverse, ctx.bug
        T, B, _ = x.shape
        H = U.shape[1]
        Wf, Uf = W.reshape(3 * H, -1), U.reshape(3 * H, H)
        acc = torch.float16 if bug == "dW-half-accumulator" else x.dtype
        dW, dU = torch.zeros_like(Wf, dtype=acc), torch.zeros_like(Uf, dtype=acc)
        dbW, dbU = x.new_zeros(3 * H), x.new_zeros(3 * H)
        dx = torch.zeros_like(x)
        if reverse and bug == "reverse-misaligned":
            lengths = active.sum(axis=0)
            flipped = y_bar.clone()
            for b, n in enumerate(lengths.tolist()):
                flipped[:n, b] = y_bar[:n, b].flip(0)
            y_bar = flipped
        dh = hn_bar.clone()
        for t in (range(T) if reverse else range(T - 1, -1, -1)):
            step = T - 1 - t if reverse else t
            if bug == "bptt-chunks-of-2" and step % CHUNK == CHUNK - 1 and step != T - 1:
                dh = torch.zeros_like(dh)
            a = active[t][:, None]
            dh = dh + (y_bar[t] if bug == "padding-leak" else torch.where(a, y_bar[t], torch.zeros_like(dh)))
            h, z, r, n, ghn = ctx.saved[t]
            keep = torch.where(a, torch.zeros_like(dh), dh)
            d = torch.where(a, dh, torch.zeros_like(dh))
            da_z = d * (h - n) * z * (1 - z)
            da_n = d * (1 - z) * (1 - n * n)
            da_r = torch.zeros_like(da_n) if bug == "reset-grad-blocked" else da_n * ghn * r * (1 - r)
            da = torch.cat([da_z, da_r, da_n], dim=1)
            dgh = torch.cat([da_z, da_r, da_n * r], dim=1)
            direct = torch.zeros_like(d) if bug == "zh-grad-blocked" else d * z
            dh = direct + dgh @ Uf + keep
            dx[t] = da @ Wf
            if bug == "dU-transposed":
                dU += torch.cat([(h.T @ dgh[:, g * H:(g + 1) * H]) for g in range(3)]).to(acc)
            else:
                dU += (dgh.T @ h).to(acc)
            dW += (da.T @ x[t]).to(acc)
            dbW += da.sum(0)
            dbU += (da if bug == "bUn-outside-reset" else dgh).sum(0)
        grads = [dW.to(x.dtype).reshape(W.shape), dU.to(x.dtype).reshape(U.shape), dbW.reshape(3, H),
                 dbU.reshape(3, H)]
        if bug == "grad-gates-zr":
            grads = [g[[1, 0, 2]] for g in grads]
        dh0 = None if bug == "h0-grad-dropped" else dh
        return (dx, dh0, *grads, None, None, None)


class BackwardMutantGRU:
    """A hand-written-backward GRU (see the module docstring); ``bug=None`` is the correct one."""

    def __init__(self, bug: str | None = None):
        if bug is not None and bug not in BY_NAME:
            raise ValueError(f"bug: expected one of {list(BY_NAME)} or None, got {bug!r}")
        self.bug = bug
        self.name = f"backward-mutant[{bug}]" if bug else "hand-written-backward"
        self.ref = f"conformance.frameworks.torch.backward_mutants:{bug or 'correct'}"

    def capabilities(self) -> Capabilities:
        return Capabilities(dtypes=("float64", "float32"), directions=("forward", "reverse", "bidirectional"),
                            max_layers=2, reset_after=(True,), bias=(True, False), initial_state=True,
                            lengths=True, padding="zeros", gradients=("x", "h0", "weights"),
                            unsupported={"reset_before": "the hand-written kernel resets after the matmul only"})

    def _forward(self, case: GRUCase, x, h0, weights):
        s = case.spec
        D, T = s.num_directions, case.T
        lengths = torch.tensor(case.lengths if case.lengths is not None else [T] * case.B)
        active = torch.arange(T)[:, None] < lengths[None, :]
        layer_in, h_n = x, []
        for layer in range(s.num_layers):
            outs = []
            for d in range(D):
                i = layer * D + d
                reverse = s.direction == "reverse" or d == 1
                y, h = _Direction.apply(layer_in, h0[i], *weights[i], active, reverse, self.bug)
                outs.append(y)
                h_n.append(h)
            layer_in = torch.cat(outs, dim=2)
        return layer_in, torch.stack(h_n)

    def _tensors(self, case: GRUCase, grad: bool):
        dt = TORCH_DTYPES[case.dtype]
        x = torch.tensor(case.x, dtype=dt, requires_grad=grad)
        h0 = torch.tensor(case.h0_or_zeros(), dtype=dt, requires_grad=grad)
        weights = [[torch.tensor(a, dtype=dt, requires_grad=grad) for a in w] for w in case.weights]
        return x, h0, weights

    def run(self, case: GRUCase) -> GRUResult:
        x, h0, weights = self._tensors(case, grad=False)
        with torch.no_grad():
            y, h_n = self._forward(case, x, h0, weights)
        return GRUResult(y=to_numpy(y), h_n=to_numpy(h_n))

    def vjp(self, case: GRUCase, y_bar, hn_bar) -> Gradients:
        x, h0, weights = self._tensors(case, grad=True)
        dt = TORCH_DTYPES[case.dtype]
        with running(grad=True):
            y, h_n = self._forward(case, x, h0, weights)
            leaves = [x, h0, *(a for w in weights for a in w)]
            grads = torch.autograd.grad((y, h_n), leaves, (torch.tensor(y_bar, dtype=dt),
                                                           torch.tensor(hn_bar, dtype=dt)), allow_unused=True)
        grads = [torch.zeros_like(leaf) if g is None else g for leaf, g in zip(leaves, grads, strict=True)]
        dw = [tuple(to_numpy(g) for g in grads[2 + 4 * i:6 + 4 * i]) for i in range(len(weights))]
        return Gradients(dx=to_numpy(grads[0]), dh0=to_numpy(grads[1]), dweights=dw)


def mutants() -> list:
    return [BackwardMutantGRU(b.name) for b in BACKWARD_BUGS]


def __getattr__(name):  # ``conformance.frameworks.torch.backward_mutants:h0-grad-dropped`` as MODULE:ATTR
    if name == "correct":
        return BackwardMutantGRU(None)
    if name in BY_NAME:
        return BackwardMutantGRU(name)
    raise AttributeError(name)
