"""Shared test helpers: the repository root, scenario paths and a small scenario writer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import settings

# The suite's property tests draw the same examples on every run (CI must be deterministic);
# `pytest --hypothesis-profile=explore` searches with fresh random examples instead.
settings.register_profile("dcsim", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("dcsim")

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHARED = ROOT.parent / "shared"


def ec2_book(name: str, linux: str, suse: str) -> str:
    """Price-book YAML with only EC2 Linux (per second) and SUSE (hourly) on-demand prices.

    `linux` and `suse` are YAML flow mappings, e.g. "{m5.large: 0.096}".
    """
    return (
        f"name: {name}\nversion: 2026-01-01\nregion: us-east-1\ncurrency: USD\nec2:\n"
        "  billing:\n    linux: {granularity: 1 s, minimum: 60 s}\n"
        "    suse: {granularity: 1 h, minimum: 1 h}\n"
        f"  on_demand:\n    linux: {linux}\n    suse: {suse}\n"
    )


def tiny_scenario(**changes) -> dict:
    """A minimal valid scenario mapping (2 × m5.large, Poisson 50/s, 60 s)."""
    data = {
        "name": "tiny",
        "horizon": "60 s",
        "fleets": {"web": {"instance_type": "m5.large", "count": 2}},
        "services": {
            "api": {
                "fleet": "web",
                "arrivals": {"process": "poisson", "rate": "50/s"},
                "service_time": {"dist": "exponential", "mean": "20 ms"},
            }
        },
    }
    data.update(changes)
    return data


@pytest.fixture
def write_scenario(tmp_path):
    """Write a scenario mapping (or raw text) to a file and return its path."""

    def write(data, name="scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path

    return write
