"""`packets -w OUT` with several captures: time order and exact timestamps
across resolutions (micro- and nanosecond pcap, pcapng with if_tsresol and
if_tsoffset), checked by tshark reading the output."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli

TSHARK = shutil.which("tshark")
pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
PAYLOAD = bytes([0x60, 0, 0, 0, 0, 0, 59, 64]) + bytes(32)  # IPv6, no next header


def pcap(magic: int, records: list[tuple[int, int, bytes]]) -> bytes:
    """A raw-IPv6 pcap (link type 101) of (seconds, fraction, data) records."""
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, 101)
    for sec, frac, data in records:
        out += struct.pack("<IIII", sec, frac, len(data), len(data)) + data
    return out


def _block(btype: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def pcapng_ns_offset(offset_s: int, stamps_ns: list[int], data: bytes) -> bytes:
    """A pcapng, one raw-IPv6 interface with if_tsresol=9 and if_tsoffset."""
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    options = (struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HHq", 14, 8, offset_s)
               + struct.pack("<HH", 0, 0))
    idb = _block(1, struct.pack("<HHI", 101, 0, 65535) + options)
    epbs = b"".join(_block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data),
                                          len(data)) + data) for ts in stamps_ns)
    return shb + idb + epbs


def epoch_times(path: Path) -> list[str]:
    assert TSHARK is not None
    return subprocess.run([TSHARK, "-r", str(path), "-T", "fields", "-e", "frame.time_epoch"],
                          capture_output=True, text=True, check=True).stdout.split()


def test_micro_and_nanosecond_inputs_merge_into_a_nanosecond_pcap(tmp_path: Path):
    micro = tmp_path / "us.pcap"
    nano = tmp_path / "ns.pcap"
    micro.write_bytes(pcap(0xA1B2C3D4, [(1_700_000_000, 100, PAYLOAD), (1_700_000_002, 5, PAYLOAD)]))
    nano.write_bytes(pcap(0xA1B23C4D, [(1_700_000_000, 100_001, PAYLOAD),
                                       (1_700_000_001, 999_999_999, PAYLOAD)]))
    out = tmp_path / "out.pcap"
    result = CliRunner().invoke(cli, ["packets", "-w", str(out), str(micro), str(nano)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == struct.pack("<I", 0xA1B23C4D)  # nanosecond pcap
    assert epoch_times(out) == ["1700000000.000100000", "1700000000.000100001",
                                "1700000001.999999999", "1700000002.000005000"]


def test_pcapng_offset_and_resolution_are_applied(tmp_path: Path):
    ng = tmp_path / "in.pcapng"
    # if_tsoffset 1,700,000,000 s; stamps in ns since then
    ng.write_bytes(pcapng_ns_offset(1_700_000_000, [1_500_000_001, 3_000_000_000], PAYLOAD))
    micro = tmp_path / "us.pcap"
    micro.write_bytes(pcap(0xA1B2C3D4, [(1_700_000_002, 0, PAYLOAD)]))
    assert epoch_times(ng) == ["1700000001.500000001", "1700000003.000000000"]  # tshark agrees
    out = tmp_path / "out.pcap"
    result = CliRunner().invoke(cli, ["packets", "-w", str(out), str(ng), str(micro)])
    assert result.exit_code == 0, result.output
    assert epoch_times(out) == ["1700000001.500000001", "1700000002.000000000",
                                "1700000003.000000000"]
