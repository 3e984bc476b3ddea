"""The size checks: which sizes they draw, what an adapter's declared maximum does, and the oracle's size bugs."""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import references
from conformance import Capabilities
from conformance.canonical import oracle
from conformance.case import GRUCase, GRUSpec
from conformance.checks import check_feature
from conformance.features import BY_NAME, unsupported_reason
from conformance.frameworks.reference import ReferenceAdapter
from conformance.profiles import get_profile
from conformance.sizes import boundary_sizes
from conformance.strategies import gru_cases
from conformance.values import case_values
from conformance.variants import SIZE_VARIANTS

CI = get_profile("ci")
WIDE = Capabilities(dtypes=("float64", "float32"), directions=("forward", "reverse", "bidirectional"), max_layers=3,
                    reset_after=(True, False), bias=(True, False), lengths=True)


def test_boundary_sizes_are_the_neighbours_of_powers_of_two_and_real_sizes():
    assert boundary_sizes(33) == (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33)
    assert boundary_sizes(300, 2)[:3] == (2, 3, 4)
    assert boundary_sizes(300, 2)[-7:] == (128, 129, 200, 255, 256, 257, 300)
    assert 50 in boundary_sizes(257) and 100 in boundary_sizes(257) and 768 not in boundary_sizes(257)
    assert boundary_sizes(20) == (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 20)  # the cap itself, off the ladder
    with pytest.raises(ValueError, match="cap 1 is below the smallest size 2"):
        boundary_sizes(1, 2)


def draws(caps, n=40, **kw) -> list:
    out = []

    @settings(max_examples=n, derandomize=True, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(gru_cases(caps, CI, **kw))
    def collect(case):
        out.append(case)
    collect()
    return out


def test_large_draws_every_width_from_the_ladder_up_to_the_caps():
    cases = draws(WIDE, size="large")
    for c in cases:
        assert {c.spec.input_size, c.spec.hidden_size} <= set(boundary_sizes(CI.large_size))
        assert c.B in boundary_sizes(CI.large_B) and c.T <= CI.max_T
    assert max(c.spec.hidden_size for c in cases) == CI.large_size == 257
    assert max(c.spec.input_size for c in cases) == 257 and max(c.B for c in cases) == CI.large_B == 33
    assert min(c.spec.hidden_size for c in cases) < 17  # not only the cap


def test_long_draws_sequences_from_the_ladder_ragged_or_not():
    cases = draws(WIDE, size="long")
    assert all(c.T in boundary_sizes(CI.long_T) and c.spec.hidden_size <= CI.max_size for c in cases)
    assert max(c.T for c in cases) == CI.long_T == 300
    assert {c.lengths is None for c in cases} == {True, False}
    assert any(c.T > 64 and c.lengths is not None and c.spec.direction != "forward" for c in cases)


def test_a_declared_maximum_caps_the_draws_and_the_result_says_so():
    caps = Capabilities(dtypes=("float64",), max_size=40, max_T=20, max_batch=9)
    assert all(max(c.spec.input_size, c.spec.hidden_size) <= 40 and c.B <= 9 for c in draws(caps, 20, size="large"))
    assert max(c.T for c in draws(caps, 20, size="long")) == 20
    adapter = ReferenceAdapter()
    adapter.capabilities = lambda: caps
    result = check_feature(adapter, "large", "ci")
    assert result.status == "pass"
    assert result.notes == ["drawn up to the adapter's declared max_size=40 (the profile goes to 257), "
                            "max_batch=9 (the profile goes to 33)"]
    assert check_feature(adapter, "long", "ci").notes == [
        "drawn up to the adapter's declared max_T=20 (the profile goes to 300)"]


def test_a_maximum_below_a_16_wide_tile_makes_the_size_check_unsupported():
    caps = Capabilities(max_size=16, max_T=8)
    for name, field in (("large", "max_size=16"), ("long", "max_T=8")):
        assert not BY_NAME[name].supported(caps)
        assert unsupported_reason(caps, BY_NAME[name]).startswith(f"the adapter declares {field}, below 17")
    assert BY_NAME["large"].supported(Capabilities(max_size=17))


def _case(spec, T, B, seed=5, lengths=None):
    w, x, h0 = case_values(spec, T, B, "float64", seed, h0=True, saturating=False)
    return GRUCase(spec, w, x, h0, lengths, "float64")


@pytest.mark.parametrize("reset_after", [True, False])
def test_a_chunk_restart_is_the_reference_run_again_from_h0_on_each_chunk(reset_after):
    """Metamorphic: restarting every C steps equals running the reference on each chunk from h0."""
    spec = GRUSpec(3, 4, 1, "forward", reset_after, True)
    case = _case(spec, 10, 2)
    p = references.Params(*case.weights[0])
    parts = [references.gru(case.x[a:a + 4], [p], h0=case.h0, reset_after=reset_after) for a in (0, 4, 8)]
    got = oracle(case, restart_every=4)
    np.testing.assert_allclose(got.y, np.concatenate([y for y, _ in parts]), rtol=0, atol=1e-15)
    np.testing.assert_allclose(got.h_n, parts[-1][1], rtol=0, atol=1e-15)


def test_a_reverse_chunk_restart_restarts_at_the_same_time_boundaries():
    spec = GRUSpec(2, 3, 1, "reverse", True, True)
    case = _case(spec, 7, 1)
    p = references.Params(*case.weights[0])
    late = references.gru(case.x[4:], [p], h0=case.h0, direction="reverse")  # t = 6, 5, 4 from h0
    early = references.gru(case.x[:4], [p], h0=case.h0, direction="reverse")  # t = 3 .. 0 from h0 again
    got = oracle(case, restart_every=4)
    np.testing.assert_allclose(got.y, np.concatenate([early[0], late[0]]), rtol=0, atol=1e-15)


def test_state_rows_make_a_row_step_from_another_rows_state():
    spec = GRUSpec(2, 3, 1, "forward", True, True)
    case = _case(spec, 1, 3)
    got = oracle(case, state_rows=np.array([0, 1, 0]))
    p = references.Params(*case.weights[0])
    alone = references.gru(case.x[:, 2:3], [p], h0=case.h0[:, 0:1])  # row 2's input, row 0's state
    np.testing.assert_allclose(got.y[:, 2:3], alone[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(got.y[:, :2], oracle(case).y[:, :2], rtol=0, atol=1e-15)


@given(st.sampled_from([17, 33, 50, 65, 100]))
def test_one_remainder_tile_variant_names_each_dropped_column_range(H):
    """Tiles that drop the same columns (8, 16 and 32 at H=33) are one explanation, named by the largest."""
    case = _case(GRUSpec(2, H, 1, "forward", True, True), 2, 1)
    applied = [v.name for v in SIZE_VARIANTS if v.name.startswith("U-remainder") and v.run(case) is not None]
    kept = {H // t * t for t in (8, 16, 32, 64, 128) if H > t and H % t}
    assert len(applied) == len(kept)
