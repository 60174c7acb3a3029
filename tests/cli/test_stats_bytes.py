"""`stats` conversation bytes: the wire lengths of the frames carrying each
(node, peer) conversation's Mobility Header messages, checked against tshark.

tshark 4.0's ``-z conv,ipv6`` leaves Mobility Header frames out of its IPv6
conversations (its table is empty for ``-z conv,ipv6,mipv6``), so the oracle
is tshark's ``-Y mipv6 -T fields -e ipv6.src -e ipv6.dst -e frame.len``, grouped
here by the peer (the home agent) of each frame."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
TSHARK = shutil.which("tshark")
pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")


def tshark_by_peer(path: Path, peers: set[str]) -> tuple[Counter[str], Counter[str]]:
    """(frames, bytes) of the MH frames per peer address among ``peers``."""
    assert TSHARK is not None
    text = subprocess.run([TSHARK, "-r", str(path), "-Y", "mipv6", "-T", "fields", "-e", "ipv6.src",
                           "-e", "ipv6.dst", "-e", "frame.len"], capture_output=True, text=True,
                          check=True).stdout
    frames: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for line in text.splitlines():
        src, dst, length = line.split("\t")
        # a tunnelled message (a BRR to the home address) lists every header's address
        (peer,) = {*src.split(","), *dst.split(",")} & peers
        frames[peer] += 1
        sizes[peer] += int(length)
    return frames, sizes


@pytest.mark.parametrize("name", ["scenario-recovery.pcap", "scenario-handoff.pcap",
                                  "scenario-handoff-vlan.pcapng"])
def test_conversation_bytes_equal_tshark_frame_lengths(name: str):
    path = SAMPLES / name
    result = CliRunner().invoke(cli, ["stats", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    conversations = json.loads(result.stdout)["conversations"]
    peers = {c["peer"] for c in conversations}
    frames, sizes = tshark_by_peer(path, peers)
    assert {c["peer"]: c["bytes"] for c in conversations} == dict(sizes)
    assert {c["peer"]: c["frames"] for c in conversations} == dict(frames)
    assert all(c["bytes"] > 0 for c in conversations)


def test_text_and_csv_show_the_bytes():
    path = str(SAMPLES / "scenario-recovery.pcap")
    text = CliRunner().invoke(cli, ["stats", path]).stdout
    assert "Bytes" in text.split("Conversations")[1].splitlines()[1]
    rows = CliRunner().invoke(cli, ["stats", "--format", "csv", path]).stdout.splitlines()
    header = rows[0].split(",")
    conv = [r.split(",") for r in rows if r.startswith("conversation,")]
    assert conv and all(r[header.index("bytes")].isdigit() for r in conv)
