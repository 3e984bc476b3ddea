"""pytest plugin: ``pytest --gru-adapter MODULE:ATTR`` runs every shipped check on an adapter.

Each (adapter, feature) becomes one test item named ``gru[<adapter>-<feature>]``, collected
under a ``GRUConformance`` node so that ``-k`` selects them and JUnit (``--junitxml``) gives
them a classname. Features outside the capabilities are skipped with the adapter's reason:
reported, never passed.

Expected failures are declared by the adapter, in the spirit of scikit-learn's
``expected_failed_checks`` (see conformance.contract.OPTIONAL_MEMBERS). Each becomes a strict
xfail; a reason is required, and entries that match no feature are warned about.

The plugin is loaded into every pytest run of an environment where the package is installed,
so it stays light: nothing of the engine (numpy, Hypothesis) is imported until a
``--gru-adapter`` option is given.
"""

from __future__ import annotations

import re

import pytest

#: the same names as conformance.profiles.PROFILES and conformance.execute.DEFAULT_TIMEOUT
#: (tests/engine/test_plugin.py keeps them equal), so that adding the options imports nothing
PROFILE_NAMES = ("ci", "dev", "thorough")
DEFAULT_TIMEOUT = 60.0


def pytest_addoption(parser):
    group = parser.getgroup("gru-conformance")
    group.addoption("--gru-adapter", action="append", default=[], metavar="MODULE:ATTR",
                    help="run the GRU conformance checks on this adapter (a built-in name or MODULE:ATTR); repeatable")
    group.addoption("--gru-profile", choices=list(PROFILE_NAMES), default=None,
                    help="case profile (default: $GRU_CONFORMANCE_PROFILE or ci)")
    group.addoption("--gru-timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="per-example timeout in seconds for an adapter's run()")


class GRUCheckFailure(Exception):
    pass


class GRUConformance(pytest.Collector):
    """The checks of one adapter: a node of its own, so each item has a classname."""

    def __init__(self, *, adapter, xfails, **kw):
        super().__init__(**kw)
        self.adapter, self.xfails = adapter, xfails

    def collect(self):
        from .features import FEATURES

        for f in FEATURES:
            item = GRUCheckItem.from_parent(self, name=f"gru[{self.adapter.name}-{f.name}]", adapter=self.adapter,
                                            feature=f.name)
            if f.name in self.xfails:
                item.add_marker(pytest.mark.xfail(reason=self.xfails[f.name], strict=True, raises=GRUCheckFailure))
            yield item


class GRUCheckItem(pytest.Item):
    def __init__(self, *, adapter, feature, **kw):
        super().__init__(**kw)
        self.adapter, self.feature = adapter, feature

    def runtest(self):
        from .checks import check_feature
        from .status import Status

        result = check_feature(self.adapter, self.feature, self.config.getoption("--gru-profile"),
                               timeout=self.config.getoption("--gru-timeout"))
        self.user_properties.append(("gru_result", str(result.status)))
        if result.status == Status.UNSUPPORTED:
            pytest.skip(f"not supported: {result.reason}")
        if result.status != Status.PASS:
            raise GRUCheckFailure(result.report())
        backward = result.backward  # the gradients, where the adapter declares them (pass or unsupported: fine)
        declared = self.parent.xfails.get(f"{self.feature} (backward)")
        if backward is not None and declared and backward.status == Status.PASS:
            raise GRUCheckFailure(f"{backward.label}: XPASS (strict): declared to fail ({declared}) but passed")
        if backward is not None and backward.status not in (Status.PASS, Status.UNSUPPORTED):
            if declared and backward.status == Status.FAIL:
                pytest.xfail(f"{declared}\n{backward.report()}")
            raise GRUCheckFailure(backward.report())

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, GRUCheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, self.name


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    refs = config.getoption("--gru-adapter")
    if not refs:
        return
    from .expected import expected_failures
    from .loader import AdapterLoadError, load_adapter

    for ref in refs:
        try:
            adapter = load_adapter(ref)
            xfails = expected_failures(adapter)
        except AdapterLoadError as e:
            raise pytest.UsageError(str(e)) from None
        # JUnit reads the part of a node id before the first "[" as the classname: none in it
        name = "gru_conformance." + re.sub(r"[^\w.-]", "_", adapter.name)
        node = GRUConformance.from_parent(session, name=name, nodeid=name, adapter=adapter, xfails=xfails)
        items.extend(node.collect())
