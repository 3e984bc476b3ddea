"""No false failures: the oracle behind its adapter, and an honest float32 GRU, soaked over seeds;
and soak campaigns cut into shards, merged into the same counts as one run."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conformance import Capabilities, GRUResult, ReferenceAdapter
from conformance.casefile import load_case
from conformance.cli import main
from conformance.features import FEATURES
from conformance.profiles import Profile, get_profile
from conformance.soak import merge, parse_seeds, parse_shard, run_shard, shard_seeds, soak, totals


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
    assert r.failures == [] and r.checks == 2 * 15 and r.max_ratio == 0


def test_an_honest_float32_gru_never_fails():
    r = soak(Float32Oracle(), range(3))
    assert r.failures == [], "\n".join(f.report() for f in r.failures)
    assert 0 < r.max_ratio <= 0.5


# shards and merge: a campaign cut into shards gives the same checks as one run over its seeds

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = f"{EXAMPLES / 'seed_numpy_gru.py'}:SeedGRUAdapter"


def test_shards_partition_the_seed_range():
    seeds = range(3, 14)
    parts = [list(shard_seeds(seeds, i, 4)) for i in range(1, 5)]
    assert sorted(s for p in parts for s in p) == list(seeds) and parts[0] == [3, 7, 11]


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "a/b", "2/-1"])
def test_a_bad_shard_says_what_is_expected(text):
    with pytest.raises(ValueError, match="i/n with 1 <= i <= n"):
        parse_shard(text)


def test_seed_ranges():
    assert parse_seeds("5") == range(5) and parse_seeds("10:20") == range(10, 20)
    with pytest.raises(ValueError, match="non-empty seed range"):
        parse_seeds("7:7")


def _adapters():
    sys.path.insert(0, str(EXAMPLES))
    try:
        from seed_numpy_gru import SeedGRUAdapter
    finally:
        sys.path.remove(str(EXAMPLES))
    return [("reference", ReferenceAdapter()), (SEED, SeedGRUAdapter())]


#: the checks of the small cases, few examples each: what is tested here is the bookkeeping of shards
SMALL = [f.name for f in FEATURES if f.name not in ("large", "long")]
FEW = Profile("shards", max_examples=5, max_T=4, max_B=3, max_size=4, max_layers=2, derandomize=True,
              max_backward_examples=2)


def test_merged_shards_equal_one_unsharded_run():
    seeds = range(0, 3)
    whole = run_shard(_adapters(), seeds, (1, 1), FEW, features=SMALL)
    shards = [run_shard(_adapters(), seeds, (i, 2), FEW, features=SMALL) for i in (2, 1)]
    merged = merge(shards)
    assert merged["checks"] == sorted(whole["checks"], key=lambda c: (c["adapter"], c["seed"], c["feature"]))
    assert totals(merged) == totals(whole)
    # the seed GRU fails float64, reset_before and no_bias; the oracle passes its 13 small checks
    assert totals(merged)[SEED]["failures"] == 3 * 3 and totals(merged)["reference"]["checks"] == 3 * 13
    in_order = sorted(whole["failures"], key=lambda f: (f["seed"], f["feature"]))
    assert [f["case"] for f in merged["failures"]] == [f["case"] for f in in_order]


def test_merge_refuses_an_incomplete_or_mixed_campaign():
    one = run_shard(_adapters()[:1], range(2), (1, 2), FEW, features=["float64"])
    two = run_shard(_adapters()[:1], range(2), (2, 2), FEW, features=["float64"])
    with pytest.raises(ValueError, match="missing 2/2"):
        merge([one])
    with pytest.raises(ValueError, match="twice 1/2"):
        merge([one, one, two])
    with pytest.raises(ValueError, match="another campaign: seeds"):
        merge([one, dict(two, seeds=[0, 4])])


def test_soak_and_merge_commands_replay_every_failure(tmp_path, capsys):
    files = [tmp_path / f"shard-{i}.json" for i in (1, 2)]
    for i, f in enumerate(files, 1):
        assert main(["soak", SEED, "--seeds", "0:2", "--shard", f"{i}/2", "--out", str(f)]) == 1
    out_dir = tmp_path / "merged"
    assert main(["merge", *map(str, files), "--out", str(out_dir)]) == 1
    doc = json.loads((out_dir / "merged.json").read_text())
    assert doc["shards"] == 2 and len(doc["failures"]) == 2 * 5
    md = (out_dir / "report.md").read_text()
    for f in doc["failures"]:
        assert f["replay"] == f"gru-conformance replay {SEED} {f['case_file']}" and f["replay"] in md
        assert load_case(f["case_file"]).spec.hidden_size == 1  # shrunk
    capsys.readouterr()
    assert main(["replay", SEED, doc["failures"][0]["case_file"]]) == 1
    assert "state carry" in capsys.readouterr().out
    assert main(["merge", str(files[0]), "--out", str(tmp_path / "m2")]) == 2
    assert "missing 2/2" in capsys.readouterr().err


def test_a_soak_of_the_size_checks_runs_only_those(tmp_path):
    out = tmp_path / "sizes.json"
    assert main(["soak", "reference", "--seeds", "2", "--feature", "large", "long", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["features"] == ["large", "long"]
    assert sorted((c["seed"], c["feature"]) for c in doc["checks"]) == [(0, "large"), (0, "long"), (1, "large"),
                                                                       (1, "long")]
    assert all(c["status"] == "pass" and c["examples"] >= get_profile("ci").size_examples for c in doc["checks"])
