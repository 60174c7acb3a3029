"""Writing Scapy packets at chosen times to a pcap file, for the RFC tests."""

from __future__ import annotations

from pathlib import Path

from scapy.utils import wrpcap


def write_timed(path: Path, timed: list[tuple[float, object]], t0: float) -> Path:
    """The packets of ``timed`` ((offset, packet) pairs, in the order given),
    each stamped ``t0 + offset``, written to ``path``."""
    for offset, packet in timed:
        packet.time = t0 + offset
    wrpcap(str(path), [packet for _offset, packet in timed])
    return path
