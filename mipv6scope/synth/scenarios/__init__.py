"""Scenario registry: name -> module that builds it.

Each scenario module has ``build(params: ScenarioParams) -> Built``. The
registry imports modules lazily so a scenario's cost is paid only when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..engine import CaptureOptions, Packet, Sighting

SCENARIOS = {
    "handoff": "handoff",
    "route-optimization": "route_optimization",
    "recovery": "recovery",
    "fleet": "fleet",
    "malformed": "malformed",
}


@dataclass(frozen=True)
class ScenarioParams:
    """Everything a scenario may be asked for. Scenarios ignore what they do not use."""

    seed: int = 1
    options: CaptureOptions = field(default_factory=CaptureOptions)
    mobile_nodes: int = 20
    home_agents: int = 2
    correspondents: int = 5
    duration: float = 600.0        # seconds
    handoff_rate: float = 1 / 120  # handoffs per MN per second
    loss: float = 0.0              # probability a packet is lost on the way
    ro_share: float = 0.5          # share of MN-CN pairs that use route optimisation
    esp_share: float = 0.0         # share of MNs protecting home signalling with ESP
    data_rate: float = 50.0        # data packets per second per MN


@dataclass
class Built:
    """A built scenario: its packets for any vantage, the truth body (with
    placeholders), and the parameters worth recording in the truth file."""

    sightings: Callable[[str], Iterable[tuple[Sighting, Packet]]]
    truth: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)


def build_scenario(name: str, params: ScenarioParams) -> Built:
    """Build the named scenario; KeyError for an unknown name."""
    module = importlib.import_module(f"{__name__}.{SCENARIOS[name]}")
    return module.build(params)
