"""No false failures: the oracle behind its adapter, and an honest float32 GRU, soaked over seeds."""

import numpy as np

from conformance import Capabilities, GRUResult, ReferenceAdapter
from conformance.soak import soak


class Float32Oracle:
    """The canonical GRU computed honestly in float32, step by step: real rounding, no bug."""

    name = "float32-numpy"

    def capabilities(self):
        return Capabilities(dtypes=("float32",), directions=("forward", "reverse", "bidirectional"), max_layers=3,
                            reset_after=(True, False), bias=(True, False), lengths=True)

    def run(self, case):
        f32 = np.float32
        s, T = case.spec, case.T
        D, H = s.num_directions, s.hidden_size
        lengths = case.lengths if case.lengths is not None else np.full(case.B, T)
        layer_in, h_n = case.x.astype(f32), np.zeros((s.num_layers * D, case.B, H), f32)
        for layer in range(s.num_layers):
            outs = []
            for d in range(D):
                i = layer * D + d
                W, U, bW, bU = (a.astype(f32) for a in case.weights[i])
                h = case.h0_or_zeros()[i].astype(f32)
                y = np.zeros((T, case.B, H), f32)
                reverse = s.direction == "reverse" or d == 1
                for t in (range(T - 1, -1, -1) if reverse else range(T)):
                    gx = np.einsum("ghi,bi->gbh", W, layer_in[t]) + bW[:, None]
                    gh = np.einsum("ghk,bk->gbh", U, h) + bU[:, None]
                    z, r = 1 / (1 + np.exp(-(gx[0] + gh[0]))), 1 / (1 + np.exp(-(gx[1] + gh[1])))
                    if s.reset_after:
                        n = np.tanh(gx[2] + r * gh[2])
                    else:
                        n = np.tanh(gx[2] + (r * h) @ U[2].T + bU[2])
                    active = (t < lengths)[:, None]
                    h = np.where(active, z * h + (1 - z) * n, h)
                    y[t] = np.where(active, h, 0)
                h_n[i] = h
                outs.append(y)
            layer_in = np.concatenate(outs, axis=2)
        return GRUResult(layer_in, h_n)


def test_reference_adapter_never_fails():
    r = soak(ReferenceAdapter(), range(2))
    assert r.failures == [] and r.checks == 2 * 13 and r.max_ratio == 0


def test_an_honest_float32_gru_never_fails():
    r = soak(Float32Oracle(), range(3))
    assert r.failures == [], "\n".join(f.report() for f in r.failures)
    assert 0 < r.max_ratio <= 0.5
