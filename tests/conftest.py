"""Shared test helpers: where shared/ lives, frames from raw bytes."""

from __future__ import annotations

import json
import os
from ipaddress import IPv6Address
from pathlib import Path

import pytest

from mipv6scope.capture.frame import LINKTYPE_RAW, Frame
from mipv6scope.synth.engine import CaptureOptions
from mipv6scope.synth.run import run_scenario
from mipv6scope.synth.scenarios import ScenarioParams

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = REPO_ROOT / "sample_captures"


@pytest.fixture(autouse=True)
def _samples_left_as_they_were():
    """Fail the test that leaves a file among the samples (an index stored next
    to one, say): later tests that list the samples would take it for one."""
    before = set(os.listdir(SAMPLES_DIR))
    yield
    left = sorted(set(os.listdir(SAMPLES_DIR)) - before)
    if left:
        pytest.fail(f"the test left {', '.join(left)} in sample_captures/")


def shared_dir() -> Path:
    """The workplace's read-only shared/ folder (MIPV6SCOPE_SHARED overrides)."""
    env = os.environ.get("MIPV6SCOPE_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


def external_captures() -> Path:
    """shared/captures/external, or skip the test with the reason."""
    path = shared_dir() / "captures" / "external"
    if not path.is_dir():
        pytest.skip(f"external captures not found at {path} (set MIPV6SCOPE_SHARED)")
    return path


def raw_frame(data: bytes, number: int = 1, wirelen: int | None = None,
              linktype: int = LINKTYPE_RAW) -> Frame:
    """A Frame of raw IPv6 bytes, as a capture with link type 101 would hold it."""
    return Frame(number=number, ts=1000.0 + number, caplen=len(data),
                 wirelen=len(data) if wirelen is None else wirelen,
                 linktype=linktype, data=data)


def a16(text: str) -> bytes:
    """The 16 bytes of an IPv6 address written as text."""
    return IPv6Address(text).packed


def h(text: str) -> bytes:
    """Bytes from hex written with any spacing (RFC-diagram style literals)."""
    return bytes.fromhex("".join(text.split()))


def rfc1071(data: bytes) -> int:
    """The Internet checksum (RFC 1071), written out here so tests that check
    checksums do not use the project's own code."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def synth_with_truth(scenario: str, out: Path, seed: int, vantage: str = "all",
                     **options: object) -> tuple[Path, dict]:
    """Write ``scenario`` to ``out`` with our generator; (capture path, truth dict)."""
    params = ScenarioParams(seed=seed, options=CaptureOptions(vantage=vantage, **options))
    _, truth = run_scenario(scenario, params, out)
    return out, json.loads(truth.read_text())
