"""Expected failures an adapter declares, in the spirit of scikit-learn's ``expected_failed_checks``.

An adapter may carry ``expected_failed_checks`` (an attribute, or a method returning it):
``{feature: reason}``. The pytest plugin makes each a strict xfail; the CLI and the reports
show it as "xfail" and do not count it against conformance, but a declared failure that
passes does count (it is strict: the declaration is out of date). A reason is required;
an entry naming no feature is warned about and ignored.
"""

from __future__ import annotations

import warnings

from .contract import expected_failed_checks
from .features import BY_NAME
from .loader import AdapterLoadError

#: the suffix that names a feature's backward (gradient) check, as in the report's rows
BACKWARD = " (backward)"


class GRUConformanceWarning(UserWarning):
    pass


def expected_failures(adapter) -> dict:
    """The adapter's declared expected failures, validated: {feature: reason}."""
    out = {}
    for feature, reason in expected_failed_checks(adapter).items():
        if not isinstance(reason, str) or not reason.strip():
            raise AdapterLoadError(f"{adapter.name}: expected failure {feature!r} needs a reason (a non-empty string)")
        if feature.removesuffix(BACKWARD) not in BY_NAME:  # "lengths (backward)" declares the gradient check
            warnings.warn(f"{adapter.name}: expected failure {feature!r} matches no check "
                          f"(known: {', '.join(BY_NAME)})", GRUConformanceWarning, stacklevel=1)
            continue
        out[feature] = reason
    return out
