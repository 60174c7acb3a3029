"""What the chart tests share: the sample reports, the CLI views' rows (the
independent reading a figure is checked against), and figure arrays."""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner

from mipv6scope.analysis.engine import analyze
from mipv6scope.cli.main import cli
from mipv6scope.report.model import Report

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
SCENARIOS = ("scenario-handoff", "scenario-route-optimization", "scenario-recovery", "scenario-fleet")


@cache
def report_of(name: str) -> Report:
    """The analysis of the sample ``name`` (without .pcap)."""
    return analyze([str(SAMPLES / f"{name}.pcap")])


@cache
def cli_rows(view: str, name: str, *extra: str) -> list[dict[str, Any]]:
    """The rows `mipv6scope VIEW --format json` prints for the sample ``name``."""
    result = CliRunner().invoke(cli, [view, *extra, "--format", "json", str(SAMPLES / f"{name}.pcap")])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def arr(value: Any) -> np.ndarray:
    """A figure array as numpy: plain lists, or Plotly's typed-array spec."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)
