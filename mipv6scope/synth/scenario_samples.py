"""The generated part of sample_captures/: one capture per scenario (small
settings, seed 1) and the `--vantage`, link-type, pcapng/VLAN and ESP variants
of `handoff`, each with its truth file. `samples.write_samples` calls this."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine import CaptureOptions

# -- one capture per scenario, and the handoff variants -----------------------------

SCENARIO_SAMPLE_SCALE = {"mobile_nodes": 3, "home_agents": 1, "correspondents": 2,
                         "duration": 30.0, "data_rate": 5.0}
HANDOFF_VARIANTS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("scenario-handoff-vantage-mn.pcap", {"vantage": "mn"},
     "`handoff` as a probe on the mobile node's current link sees it: no home agent-"
     "correspondent leg, no packets lost to an old care-of address."),
    ("scenario-handoff-vantage-ha.pcap", {"vantage": "ha"},
     "`handoff` from the home agent's link: no foreign-link RA, but the packets "
     "still tunnelled to the old care-of address."),
    ("scenario-handoff-vantage-cn.pcap", {"vantage": "cn"},
     "`handoff` from the correspondent's link: plain traffic only."),
    ("scenario-handoff-sll.pcap", {"linktype": "sll"}, "`handoff` with Linux cooked (SLL) headers."),
    ("scenario-handoff-sll2.pcap", {"linktype": "sll2"}, "`handoff` with Linux cooked v2 (SLL2) headers."),
    ("scenario-handoff-raw.pcap", {"linktype": "raw"}, "`handoff` as raw IPv6 (link type 101)."),
    ("scenario-handoff-null.pcap", {"linktype": "null"}, "`handoff` with BSD loopback (null) headers."),
    ("scenario-handoff-vlan.pcapng", {"fmt": "pcapng", "vlan": 42},
     "`handoff` as pcapng, every frame tagged 802.1Q VLAN 42."),
    ("scenario-handoff-esp.pcap", {"esp_null": True},
     "`handoff` with home BU/BA in ESP transport mode (NULL encryption), HAO before ESP."),
)


@dataclass
class ScenarioSample:
    """A generated scenario capture written into the samples (with its truth file)."""

    name: str
    description: str
    frames: int = 0


def _scenario_description(module: str) -> str:
    doc = (importlib.import_module(f"{__package__}.scenarios.{module}").__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split()) + " Truth in the `.truth.json` beside it."


def write_scenario_samples(out: Path) -> tuple[list[Path], list[ScenarioSample]]:
    """Write one capture per available scenario (seed 1, small settings) and the
    handoff variants, each with its truth file. A scenario whose module does not
    exist yet is skipped and picked up once it does."""
    from .run import run_scenario
    from .scenarios import SCENARIOS, ScenarioParams

    jobs: list[tuple[str, str, CaptureOptions, str]] = []
    for name, module in SCENARIOS.items():
        try:
            description = _scenario_description(module)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.scenarios.{module}":
                continue
            raise
        jobs.append((name, f"scenario-{name}.pcap", CaptureOptions(), description))
        if name == "handoff":
            jobs += [("handoff", file, CaptureOptions(**opts), text)
                     for file, opts, text in HANDOFF_VARIANTS]
    paths: list[Path] = []
    written: list[ScenarioSample] = []
    for name, file, options, description in jobs:
        params = ScenarioParams(seed=1, options=options, **SCENARIO_SAMPLE_SCALE)
        frames, truth = run_scenario(name, params, out / file)
        paths += [out / file, truth]
        written.append(ScenarioSample(file, description, frames))
    return paths, written
