"""pytest plugin: ``pytest --gru-adapter MODULE:ATTR`` runs every shipped check on an adapter.

Each (adapter, feature) becomes one test item named ``gru[<adapter>-<feature>]`` so that
``-k`` selects them and JUnit (``--junitxml``) reports them. Features outside the
capabilities are skipped with the adapter's reason: reported, never passed.

Expected failures are declared by the adapter, in the spirit of scikit-learn's
``expected_failed_checks``: an ``expected_failed_checks`` attribute or method returning
``{feature: reason}``. Each becomes a strict xfail; a reason is required, and entries
that match no feature are warned about.
"""

from __future__ import annotations

import os

import pytest

from .checks import check_feature
from .execute import DEFAULT_TIMEOUT
from .expected import GRUConformanceWarning, expected_failures  # noqa: F401 - re-exported
from .features import FEATURES
from .loader import AdapterLoadError, load_adapter
from .profiles import ENV_VAR, PROFILES


def pytest_addoption(parser):
    group = parser.getgroup("gru-conformance")
    group.addoption("--gru-adapter", action="append", default=[], metavar="MODULE:ATTR",
                    help="run the GRU conformance checks on this adapter (a built-in name or MODULE:ATTR); repeatable")
    group.addoption("--gru-profile", choices=list(PROFILES), default=None,
                    help=f"case profile (default: ${ENV_VAR} or ci)")
    group.addoption("--gru-timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="per-example timeout in seconds for an adapter's run()")


def pytest_configure(config):
    profile = config.getoption("--gru-profile")
    if profile:
        os.environ[ENV_VAR] = profile


class GRUCheckFailure(Exception):
    pass


class GRUCheckItem(pytest.Item):
    def __init__(self, *, adapter, feature, **kw):
        super().__init__(**kw)
        self.adapter, self.feature = adapter, feature

    def runtest(self):
        timeout = self.config.getoption("--gru-timeout")
        result = check_feature(self.adapter, self.feature, timeout=timeout)
        self.user_properties.append(("gru_result", result.status))
        if result.status == "unsupported":
            pytest.skip(f"not supported: {result.reason}")
        if result.status != "pass":
            raise GRUCheckFailure(result.report())

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, GRUCheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, self.name


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    for ref in config.getoption("--gru-adapter"):
        try:
            adapter = load_adapter(ref)
            xfails = expected_failures(adapter)
        except AdapterLoadError as e:
            raise pytest.UsageError(str(e)) from None
        for f in FEATURES:
            item = GRUCheckItem.from_parent(session, name=f"gru[{adapter.name}-{f.name}]", adapter=adapter,
                                            feature=f.name)
            if f.name in xfails:
                item.add_marker(pytest.mark.xfail(reason=xfails[f.name], strict=True, raises=GRUCheckFailure))
            items.append(item)
