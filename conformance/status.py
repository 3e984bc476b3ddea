"""The outcome of one check, as one enum used by the checks, the report, the CLI and the plugin.

It is a ``str`` enum, so a status compares equal to its value ("pass") and is written to
JSON as that value; the meanings are fixed here, once.
"""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    PASS = "pass"  # no case in the search disagreed with the oracle
    FAIL = "fail"  # a case disagreed (or the adapter faulted on it)
    UNSUPPORTED = "unsupported"  # outside the capabilities: reported with the reason, never passed
    ERROR = "error"  # the check itself could not run (a crash outside any case)
    XFAIL = "xfail"  # failed, as the adapter declared it would (expected_failed_checks)
    XPASS = "xpass"  # passed although declared to fail: the declaration is out of date

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__

    @property
    def accepted(self) -> bool:
        """Whether this outcome leaves an implementation conformant."""
        return self in (Status.PASS, Status.UNSUPPORTED, Status.XFAIL)
