"""The project's own tests: Hypothesis profiles from the one source, conformance.profiles.

The property tests of the oracle and the engine run as many examples as a conformance check
of the same profile (GRU_CONFORMANCE_PROFILE: ci, dev, thorough); ci is derandomized.
Keras's backend defaults to TensorFlow here, as in Keras itself: the built-ins of the other
backends then report themselves unavailable, and .ci/run runs the Keras tests once per backend.
"""

import os

from hypothesis import HealthCheck, settings

from conformance.profiles import PROFILES, get_profile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

for _p in PROFILES.values():
    settings.register_profile(_p.name, max_examples=_p.max_examples, derandomize=_p.derandomize, deadline=None,
                              database=None if _p.derandomize else settings.default.database,
                              suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(get_profile().name)
