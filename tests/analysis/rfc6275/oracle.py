"""What the tests ask of the world: mipv6scope's JSON (as a user runs it) and
tshark's reading of the same capture (to prove the capture holds what its
builder meant)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .captures import T0

REPO_ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m mipv6scope ARGS`` with this worktree first on the path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "mipv6scope", *args], capture_output=True,
                          text=True, timeout=120, env=env, check=False)


def report(path: Path, *options: str) -> dict[str, Any]:
    """``mipv6scope report --format json PATH OPTIONS``, parsed; exit code 0 required."""
    done = run_cli("report", "--format", "json", str(path), *options)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr.strip()}"
    return json.loads(done.stdout)


def summary(path: Path, *options: str) -> list[dict[str, Any]]:
    """``mipv6scope summary --format json PATH``: one row per mobile node."""
    done = run_cli("summary", "--format", "json", str(path), *options)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr.strip()}"
    return json.loads(done.stdout)


def tshark(path: Path, *fields: str) -> list[dict[str, str]]:
    """tshark's value of each field, one dict per frame (several occurrences
    joined with ','), with default preferences."""
    exe = shutil.which("tshark")
    if exe is None:
        pytest.skip("tshark is not installed: the capture cannot be checked independently")
    cmd = [exe, "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=,", "-E", "separator=/t"]
    for field in fields:
        cmd += ["-e", field]
    env = {**os.environ, "WIRESHARK_CONFIG_DIR": str(path.parent / ".no-wireshark-profile")}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60,
                         env=env).stdout
    return [dict(zip(fields, line.split("\t"), strict=True)) for line in out.splitlines()]


def column(rows: list[dict[str, str]], field: str) -> list[str]:
    """One field of every frame."""
    return [row[field] for row in rows]


def ts(offset: float) -> float:
    """The capture timestamp of ``offset`` seconds after T0."""
    return T0 + offset


def only_node(rep: dict[str, Any]) -> dict[str, Any]:
    """The one mobile node of ``rep`` (the test fails if there are more or none)."""
    nodes = rep["mobile_nodes"]
    assert len(nodes) == 1, [n["home_address"] for n in nodes]
    return nodes[0]


def findings(rep: dict[str, Any], code: str) -> list[dict[str, Any]]:
    """The findings of ``rep`` with ``code``."""
    return [f for f in rep["findings"] if f["code"] == code]


def findings_on(rep: dict[str, Any], *frames: int) -> list[dict[str, Any]]:
    """The findings that name any of ``frames``."""
    wanted = set(frames)
    return [f for f in rep["findings"] if wanted & set(f["frames"])]


def rfc1071(data: bytes) -> int:
    """The Internet checksum (RFC 1071), written out here, not the project's."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mh_checksum_ok(src: bytes, dst: bytes, mh: bytes) -> bool:
    """Whether ``mh`` (checksum included) verifies with the IPv6 pseudo-header
    (RFC 8200 8.1: src, dst, upper-layer length, next header 135)."""
    pseudo = src + dst + len(mh).to_bytes(4, "big") + b"\x00\x00\x00\x87"
    return rfc1071(pseudo + mh) == 0


def pcap_frames(path: Path) -> list[bytes]:
    """The captured bytes of every record of a little-endian microsecond pcap
    (what ``captures.write`` and Scapy's wrpcap write)."""
    data = path.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "not a little-endian microsecond pcap"
    out, at = [], 24
    while at < len(data):
        caplen = int.from_bytes(data[at + 8:at + 12], "little")
        out.append(data[at + 16:at + 16 + caplen])
        at += 16 + caplen
    return out
