"""How fast is the oracle? Compared with torch's float64 nn.GRU in the same process.

The oracle runs inside every check, so it should not be the slow side of a comparison.
Run: python benchmarks/bench_oracle.py [--reps N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import torch

import references

T, B, N_IN, H = 256, 32, 128, 128


def _medians(fns: dict, reps: int, rounds: int = 3) -> dict:
    """Median seconds of each function over ``rounds`` blocks of ``reps`` runs.

    Each block starts with a warm-up run: the two thread pools (OpenBLAS's and torch's)
    spin for a while after use, so a call right after the other library's is unfairly slow.
    Blocks alternate, so that load changes on the machine hit every function alike.
    """
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            fn()
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _torch_gru(x: np.ndarray, h0: np.ndarray, params: references.Params):
    """nn.GRU with the canonical weights (torch gate order r, z, n; reset after)."""
    gru = torch.nn.GRU(N_IN, H, dtype=torch.float64)
    order = [1, 0, 2]
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.from_numpy(params.W[order].reshape(3 * H, N_IN)))
        gru.weight_hh_l0.copy_(torch.from_numpy(params.U[order].reshape(3 * H, H)))
        gru.bias_ih_l0.copy_(torch.from_numpy(params.bW[order].reshape(3 * H)))
        gru.bias_hh_l0.copy_(torch.from_numpy(params.bU[order].reshape(3 * H)))
    xt, ht = torch.from_numpy(x), torch.from_numpy(h0[None])

    def run():
        with torch.no_grad():
            return gru(xt, ht)

    return run


def main(argv: list | None = None) -> float:
    """Print the table; return the headline ratio. argv None (a caller such as run_all.py): the defaults."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10, help="runs per block (3 blocks)")
    args = ap.parse_args([] if argv is None else argv)

    rng = np.random.default_rng(0)
    s = 1 / np.sqrt(H)
    params = references.Params(rng.uniform(-s, s, (3, H, N_IN)), rng.uniform(-s, s, (3, H, H)),
                               rng.uniform(-s, s, (3, H)), rng.uniform(-s, s, (3, H)))
    x = rng.standard_normal((T, B, N_IN))
    h0 = rng.standard_normal((B, H))
    lengths = rng.integers(1, T + 1, B)

    torch_run = _torch_gru(x, h0, params)
    y_t, h_t = torch_run()
    y_o, h_o = references.gru(x, [params], h0=h0[None])
    err = max(np.abs(y_t.numpy() - y_o).max(), np.abs(h_t.numpy() - h_o).max())
    assert err < 1e-12, f"oracle and torch disagree by {err:.2e}: the timings would compare different things"

    cases = {"torch nn.GRU float64": torch_run}
    for label, kw in [("oracle reset_after=True", {}),
                      ("oracle reset_after=False", {"reset_after": False}),
                      ("oracle with lengths", {"lengths": lengths}),
                      ("oracle reverse with lengths", {"lengths": lengths, "direction": "reverse"})]:
        cases[label] = lambda kw=kw: references.gru(x, [params], h0=h0[None], **kw)
    med = _medians(cases, args.reps)
    t_torch = med["torch nn.GRU float64"]

    print(f"T={T} B={B} I={N_IN} H={H}, median of 3x{args.reps} runs, torch threads={torch.get_num_threads()}, "
          f"max |oracle - torch| = {err:.1e}\n")
    print("| run | ms | / torch |")
    print("|---|---:|---:|")
    for label, t in med.items():
        print(f"| {label} | {t * 1e3:.2f} | {t / t_torch:.2f} |")
    ratio = med["oracle reset_after=True"] / t_torch
    print(f"\noracle / torch (same computation, reset_after=True, no lengths): {ratio:.2f}")
    return ratio


if __name__ == "__main__":
    main(sys.argv[1:])
