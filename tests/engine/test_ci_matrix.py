"""The CI workflow runs every env of tox.ini's matrix, one job each, and nothing else."""

from __future__ import annotations

import configparser
import itertools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _expand(pattern: str) -> list:
    """tox's brace expansion: py3{10,11}-x -> py310-x, py311-x."""
    parts = re.split(r"\{([^}]*)\}", pattern)
    choices = [[p] if k % 2 == 0 else p.split(",") for k, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def tox_envs() -> list:
    ini = configparser.ConfigParser()
    ini.read(ROOT / "tox.ini")
    return [e for line in ini["tox"]["env_list"].split() for e in _expand(line)]


def workflow_envs() -> list:
    return re.findall(r"-\s*\{env:\s*([\w.-]+)", (ROOT / ".github/workflows/ci.yml").read_text())


def test_brace_expansion():
    assert _expand("py3{10,11}-k-{a,b}") == ["py310-k-a", "py310-k-b", "py311-k-a", "py311-k-b"]


def test_every_tox_env_is_a_ci_job():
    envs = tox_envs()
    assert "py311-openvino" in envs and "lint" in envs
    assert sorted(workflow_envs()) == sorted(envs)
