"""The scenario engine: packets with the vantages that see them and the truth
labels they carry, written out for one vantage with the chosen link layer, and
the truth resolved against the frame numbers that resulted.

A scenario produces `Packet`s, each with the vantages that see it (small scenarios build a list
and sort it per vantage with `for_vantage`; `fleet` streams them in order).
`write_packets` numbers what the chosen vantage sees as frames and returns a `Ledger`:
for every label, the frames, first/last timestamps and packet/byte counts of the
packets that carried it. The truth file is a JSON-ready structure in which
`Ref`-style placeholders are replaced by what the ledger says (`resolve`), so a
truth entry about a packet the vantage cannot see becomes null, never a guess.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..capture.frame import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)
from .build import link_frame
from .writer import CaptureWriter

VANTAGES = ("all", "mn", "ha", "cn")
LINKTYPES = {"ethernet": LINKTYPE_ETHERNET, "sll": LINKTYPE_LINUX_SLL,
             "sll2": LINKTYPE_LINUX_SLL2, "raw": LINKTYPE_RAW, "null": LINKTYPE_NULL}
MAX_REFS_PER_LABEL = 10_000  # frame lists stay bounded whatever the capture size


@dataclass(frozen=True, slots=True)
class Sighting:
    """When, and behind which MAC addresses, one vantage's probe sees a packet."""

    ts: float
    src_mac: str
    dst_mac: str


@dataclass(frozen=True, slots=True)
class Packet:
    """One packet and the probes that see it.

    ``sent`` is the sighting at the sender's link (what the "all" vantage, a
    probe that sees every packet once, records). ``seen_at`` maps "mn", "ha"
    and "cn" to the sighting of the probe at that point, for those that see it.
    ``labels`` name the packet for the truth file (e.g. "mn1/bu/3",
    "tunnel/ha1/2001:db8:2::100/to_mn"); a packet may carry several.
    """

    data: bytes
    sent: Sighting
    seen_at: dict[str, Sighting]
    labels: tuple[str, ...] = ()
    caplen: int | None = None  # cut the frame here (malformed scenarios)

    def sighting(self, vantage: str) -> Sighting | None:
        """The sighting for a vantage ("all" is the sender's), or None."""
        return self.sent if vantage == "all" else self.seen_at.get(vantage)


def for_vantage(packets: Iterable[Packet], vantage: str) -> list[tuple[Sighting, Packet]]:
    """The packets a vantage sees, in the order its probe sees them (stable for
    equal timestamps). For small scenarios; a streaming scenario yields the
    pairs in order itself."""
    seen = [(s, p) for p in packets if (s := p.sighting(vantage)) is not None]
    seen.sort(key=lambda pair: pair[0].ts)
    return seen


@dataclass(slots=True)
class LabelStats:
    """What the written capture holds of one label."""

    frames: list[int] = field(default_factory=list)
    packets: int = 0
    bytes: int = 0
    first_ts: float | None = None
    last_ts: float | None = None


@dataclass
class Ledger:
    """Label -> LabelStats for one written capture, plus its frame count."""

    labels: dict[str, LabelStats] = field(default_factory=dict)
    frames: int = 0
    last_ts: float | None = None  # the last written frame's time: the capture's end

    def get(self, label: str) -> LabelStats | None:
        """The stats of a label, or None when no written packet carried it."""
        return self.labels.get(label)


@dataclass(frozen=True)
class CaptureOptions:
    """How a scenario is written: the options every scenario takes."""

    linktype: str = "ethernet"
    fmt: str = "pcap"
    vlan: int | None = None
    snaplen: int = 65535
    vantage: str = "all"
    esp_null: bool = False


def write_packets(sightings: Iterable[tuple[Sighting, Packet]], path: str | Path,
                  options: CaptureOptions) -> Ledger:
    """Write (sighting, packet) pairs, already in timestamp order for the chosen
    vantage, and account every label the written packets carry."""
    linktype = LINKTYPES[options.linktype]
    vlan_ids = (options.vlan,) if options.vlan is not None else ()
    ledger = Ledger()
    labels = ledger.labels
    with open(path, "wb") as fh:
        writer = CaptureWriter(fh, linktype, options.fmt, options.snaplen)
        for seen, packet in sightings:
            frame = link_frame(linktype, packet.data, seen.src_mac, seen.dst_mac, vlan_ids)
            caplen = None
            if packet.caplen is not None:
                caplen = packet.caplen + len(frame) - len(packet.data)
            ts = round(seen.ts, 6)  # what the capture can hold
            writer.write(ts, frame, caplen)
            number = writer.count
            for label in packet.labels:
                stats = labels.get(label)
                if stats is None:
                    stats = labels[label] = LabelStats(first_ts=ts)
                if len(stats.frames) < MAX_REFS_PER_LABEL:
                    stats.frames.append(number)
                stats.packets += 1
                stats.bytes += len(packet.data)
                stats.last_ts = ts
            ledger.last_ts = ts
        ledger.frames = writer.count
    return ledger


# -- truth placeholders ----------------------------------------------------------------

@dataclass(frozen=True)
class Placeholder:
    """A truth value that depends on the written frames: ``what`` of ``label``."""

    label: str
    what: str  # first_frame | first_ts | last_ts | frames | count | bytes | capture_end


def FirstFrame(label: str) -> Placeholder:  # noqa: N802 - reads as a value in truth bodies
    """The frame number of the first written packet with this label, or null."""
    return Placeholder(label, "first_frame")


def FirstTs(label: str) -> Placeholder:  # noqa: N802
    """The timestamp of the first written packet with this label, or null."""
    return Placeholder(label, "first_ts")


def LastTs(label: str) -> Placeholder:  # noqa: N802
    """The timestamp of the last written packet with this label, or null."""
    return Placeholder(label, "last_ts")


def CaptureEnd() -> Placeholder:  # noqa: N802
    """The timestamp of the capture's last written frame (the capture's end), or null."""
    return Placeholder("", "capture_end")


def Frames(label: str) -> Placeholder:  # noqa: N802
    """Every frame number that carried this label (empty list if none)."""
    return Placeholder(label, "frames")


def Count(label: str) -> Placeholder:  # noqa: N802
    """How many written packets carried this label (0 if none)."""
    return Placeholder(label, "count")


def Bytes(label: str) -> Placeholder:  # noqa: N802
    """How many network-layer bytes the written packets with this label had."""
    return Placeholder(label, "bytes")


_EMPTY = {"first_frame": None, "first_ts": None, "last_ts": None, "count": 0, "bytes": 0}


def _placeholder_value(ref: Placeholder, ledger: Ledger) -> Any:
    if ref.what == "capture_end":
        return ledger.last_ts
    stats = ledger.get(ref.label)
    if ref.what == "frames":
        return list(stats.frames) if stats else []
    if stats is None:
        return _EMPTY[ref.what]
    return {"first_frame": stats.frames[0] if stats.frames else None, "first_ts": stats.first_ts,
            "last_ts": stats.last_ts, "count": stats.packets, "bytes": stats.bytes}[ref.what]


def resolve(value: Any, ledger: Ledger) -> Any:
    """Replace every placeholder in a nested dict/list structure with what the
    ledger says; everything else is returned as is."""
    if isinstance(value, dict):
        return {k: resolve(v, ledger) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(v, ledger) for v in value]
    if isinstance(value, Placeholder):
        return _placeholder_value(value, ledger)
    return value


class Jitter:
    """Per-path delays with jitter, from one seeded random generator."""

    def __init__(self, rng: random.Random, base_ms: dict[str, float], jitter_ms: float = 2.0) -> None:
        self.rng, self.base_ms, self.jitter_ms = rng, base_ms, jitter_ms

    def delay(self, path: str) -> float:
        """Seconds a packet takes on ``path`` ("mn-ha", "mn-cn", "ha-cn", "link")."""
        base = self.base_ms[path]
        return round((base + self.rng.uniform(-self.jitter_ms, self.jitter_ms) * base / 20) / 1000, 6)
