"""gru-conformance: is this GRU right?

Importing this package needs only numpy; each framework is imported inside its own
package (conformance.frameworks), when one of its adapters is built. The names below are
imported on first use, so that the pytest plugin (conformance.pytest_plugin), loaded into
every pytest run of an environment where the package is installed, costs nothing.
"""

from importlib import import_module

_EXPORTS = {
    "Activation": "case", "GateWeights": "case", "GRUCase": "case", "GRUResult": "case", "GRUSpec": "case",
    "PADDING": "contract", "Adapter": "contract", "Capabilities": "contract",
    "DTYPES": "dtypes", "ReferenceAdapter": "frameworks.reference", "oracle": "canonical", "Status": "status",
    "BugClass": "bugclasses", "Gradients": "gradients",
}
__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
