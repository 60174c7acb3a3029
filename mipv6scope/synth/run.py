"""Build a scenario, write its capture for one vantage, and write the truth beside it."""

from __future__ import annotations

from pathlib import Path

from .engine import write_packets
from .scenarios import ScenarioParams, build_scenario
from .truth import truth_document, write_truth


def truth_path(capture: str | Path) -> Path:
    """FILE -> FILE.truth.json"""
    return Path(f"{capture}.truth.json")


def run_scenario(name: str, params: ScenarioParams, out: str | Path) -> tuple[int, Path]:
    """Write the capture and its truth file; returns (frames written, truth path)."""
    built = build_scenario(name, params)
    ledger = write_packets(built.sightings(params.options.vantage), out, params.options)
    document = truth_document(name, params.seed, params.options, built.parameters, built.truth, ledger)
    path = truth_path(out)
    write_truth(path, document)
    return ledger.frames, path
