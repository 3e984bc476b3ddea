"""gru-conformance: is this GRU right?

Importing this package needs only numpy and hypothesis; each framework is imported
inside its own adapter module, when that adapter is built.
"""

from .adapter import PADDING, Adapter, Capabilities
from .adapters.reference import ReferenceAdapter, oracle
from .case import Activation, GateWeights, GRUCase, GRUResult, GRUSpec
from .dtypes import DTYPES

__all__ = [
    "DTYPES", "PADDING", "Activation", "Adapter", "Capabilities", "GateWeights",
    "GRUCase", "GRUResult", "GRUSpec", "ReferenceAdapter", "oracle",
]
__version__ = "0.1.0"
