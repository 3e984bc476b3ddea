"""Soak: run a correct adapter through many seeded searches; any failure is a false alarm.

The ci profile is derandomized, so one run always draws the same cases; a soak draws
fresh ones per seed to show the tolerance does not flake on correct implementations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .checks import check_feature, supported_features


@dataclass
class SoakResult:
    adapter: str
    seeds: int
    checks: int = 0
    examples: int = 0
    max_ratio: float = 0.0
    failures: list = field(default_factory=list)  # FeatureResult of every failing check


def soak(adapter, seeds, profile="ci") -> SoakResult:
    caps = adapter.capabilities()
    seeds = list(seeds)
    out = SoakResult(adapter.name, len(seeds))
    for s in seeds:
        for feature in supported_features(caps):
            r = check_feature(adapter, feature, profile, capabilities=caps, seed=s)
            out.checks += 1
            out.examples += r.examples
            if r.status == "pass":
                out.max_ratio = max(out.max_ratio, r.max_ratio)
            else:
                out.failures.append(r)
    return out
