"""Build a scenario, write its capture for one vantage, and write the truth beside it.

Both files are written all or nothing (`outfile.atomic_path`: a temporary
file beside each, renamed when complete), never through a symlink, and with
``force=False`` never over an existing file; both targets are checked before
the scenario is built, so a refusal costs nothing and leaves nothing behind.
"""

from __future__ import annotations

from pathlib import Path

from ..outfile import atomic_path, check_target
from .engine import write_packets
from .scenarios import ScenarioParams, build_scenario
from .truth import truth_document, write_truth


def truth_path(capture: str | Path) -> Path:
    """FILE -> FILE.truth.json"""
    return Path(f"{capture}.truth.json")


def check_outputs(out: str | Path, force: bool = True) -> None:
    """Raise `outfile.SymlinkRefused` / `outfile.ExistsRefused` when the
    capture ``out`` or its truth file may not be written."""
    check_target(out, force)
    check_target(truth_path(out), force)


def run_scenario(name: str, params: ScenarioParams, out: str | Path,
                 force: bool = True) -> tuple[int, Path]:
    """Write the capture and its truth file; returns (frames written, truth path).

    ``force=False`` refuses to replace an existing capture or truth file."""
    path = truth_path(out)
    check_outputs(out, force)
    built = build_scenario(name, params)
    with atomic_path(out, force) as capture_tmp:
        ledger = write_packets(built.sightings(params.options.vantage), capture_tmp, params.options)
        document = truth_document(name, params.seed, params.options, built.parameters, built.truth, ledger)
        with atomic_path(path, force) as truth_tmp:
            write_truth(truth_tmp, document)
    return ledger.frames, path
