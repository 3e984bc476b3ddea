"""Test helpers for anyone's test suite: assert that an adapter declares what you expect and
that each feature check comes out as you expect, with the suite's report as the message.

The project tests every built-in with these (tests/builtins), from the data in
conformance.builtins; a third party can do the same for its own adapter::

    import pytest
    from conformance.features import FEATURES
    from conformance.testing import assert_declares, assert_feature

    SUPPORTED = ["float32", "reset_after", "initial_state"]

    def test_declared():
        assert_declares(MyAdapter(), SUPPORTED)

    @pytest.mark.parametrize("feature", [f.name for f in FEATURES])
    def test_feature(feature):
        assert_feature(MyAdapter(), feature, supported=feature in SUPPORTED)

``expected_failure`` makes a check strict: it must fail, and a pass is an error telling you
to remove the declaration.
"""

from __future__ import annotations

from typing import Sequence

from .checks import FeatureResult, check_feature
from .features import FEATURES
from .features import feature as get_feature
from .profiles import Profile
from .status import Status


def declared_features(adapter) -> list:
    """The features the adapter's capabilities admit, in FEATURES order."""
    caps = adapter.capabilities()
    return [f.name for f in FEATURES if f.supported(caps)]


def assert_declares(adapter, supported: Sequence[str]) -> None:
    """The adapter declares exactly ``supported``: a capabilities regression fails here, not silently."""
    got, want = declared_features(adapter), [f.name for f in FEATURES if f.name in set(supported)]
    if got != want:
        raise AssertionError(f"{adapter.name} declares {got}, expected {want} "
                             f"(newly supported: {sorted(set(got) - set(want))}; "
                             f"newly unsupported: {sorted(set(want) - set(got))})")


def assert_feature(adapter, feature: str, *, supported: bool | None = None, expected_failure: str | None = None,
                   profile: Profile | str | None = None) -> FeatureResult:
    """Run one feature check and assert its outcome; returns the result.

    - unsupported: must be reported unsupported with the adapter's own stated reason (or the
      generic one), and ``supported`` (when given) must be False;
    - supported: must pass on at least one example, or, with ``expected_failure``, must fail.
    """
    feat = get_feature(feature)
    caps = adapter.capabilities()
    result = check_feature(adapter, feat, profile, capabilities=caps)
    if supported is not None and (result.status != Status.UNSUPPORTED) != supported:
        raise AssertionError(f"{adapter.name} / {feature}: expected {'supported' if supported else 'unsupported'}, "
                             f"got {result.status}: {result.report()}")
    if result.status == Status.UNSUPPORTED:
        stated = caps.unsupported.get(feat.name)
        if stated is not None and result.reason != stated:
            raise AssertionError(f"{adapter.name} / {feature}: reported {result.reason!r}, "
                                 f"not the adapter's stated reason {stated!r}")
        return result
    if expected_failure:
        if result.status != Status.FAIL:
            raise AssertionError(f"{adapter.name} / {feature}: declared to fail ({expected_failure}) but "
                                 f"{result.status} on {result.examples} examples: remove the declaration")
        return result
    if result.status != Status.PASS or result.examples < 1:
        raise AssertionError(result.report())
    backward = result.backward  # the gradients: pass, or unsupported with a reason; never fail or error
    if backward is not None and backward.status in (Status.FAIL, Status.ERROR):
        raise AssertionError(backward.report())
    return result
