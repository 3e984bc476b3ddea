"""Run profiles: how big the drawn cases get and how many are drawn per feature.

Selected by ``--gru-profile`` (pytest, CLI ``--profile``) or the environment variable
``GRU_CONFORMANCE_PROFILE``; ``ci`` is the default because it is derandomized.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_VAR = "GRU_CONFORMANCE_PROFILE"


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int  # per (adapter, feature)
    max_T: int
    max_B: int
    max_size: int  # input_size and hidden_size
    max_layers: int
    derandomize: bool
    #: per (adapter, feature): how many of the drawn cases also run the backward check (the gradients).
    #: A backward example costs 2-5 forward ones (benchmarks/bench_backward_speed.py); every backward
    #: mutant dies within 4 (tests/frameworks/torch/test_backward_mutants.py). Shrinking a backward
    #: failure runs it on every candidate, whatever this says.
    max_backward_examples: int = 10
    #: the size checks ("large", "long"; conformance.sizes): I and H up to large_size and B up to large_B
    #: in "large", T up to long_T in "long". A large example costs tens of small ones, and the size
    #: mutants die within size_examples (tests/engine/test_size_mutants.py), so fewer are drawn.
    large_size: int = 257
    large_B: int = 33
    long_T: int = 300
    size_examples: int = 6
    #: of those, how many also run the backward: an eager backward through 300 steps costs seconds
    #: (Keras on TensorFlow: ~8 s), and the backward mutants die on small cases (max_backward_examples)
    size_backward_examples: int = 2


PROFILES = {
    "ci": Profile("ci", max_examples=25, max_T=6, max_B=4, max_size=5, max_layers=3, derandomize=True),
    "dev": Profile("dev", max_examples=100, max_T=12, max_B=6, max_size=8, max_layers=3, derandomize=False,
                   max_backward_examples=50, long_T=512, size_examples=20, size_backward_examples=10),
    "thorough": Profile("thorough", max_examples=2000, max_T=32, max_B=8, max_size=16, max_layers=4,
                        derandomize=False, max_backward_examples=1000, large_size=1025, large_B=65, long_T=1025,
                        size_examples=200, size_backward_examples=100),
}


def get_profile(name: str | None = None) -> Profile:
    """The named profile, else $GRU_CONFORMANCE_PROFILE, else ``ci``."""
    name = name or os.environ.get(ENV_VAR) or "ci"
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"profile: expected one of {list(PROFILES)}, got {name!r}") from None
