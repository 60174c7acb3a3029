"""Statistics of a Report, as Wireshark's Statistics menus give them: Mobility
Header messages by type, BA/BE statuses by name, conversations per (node,
peer) and signalling/tunnelled packets per minute.

A pure function of the `report.model.Report` (`capture_stats`): nothing here
reads or decodes a capture. Messages come from ``report.signalling`` (at most
`analysis.signalling.MAX_MESSAGES`; ``signalling_dropped`` says how many more
there were), tunnelled packets from the tunnels' traffic series.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from ipaddress import IPv6Address

from ..decode.names import BA_STATUS_NAMES, BE_STATUS_NAMES, MH_TYPE_NAMES, name_or_unknown
from ..report.model import Report, SignallingMessage, TrafficSeries

MINUTE_S = 60.0
# The signalling kinds that are Mobility Header messages, by MH type (`analysis.signalling`).
MH_KIND_TYPES = {"BRR": 0, "HoTI": 1, "CoTI": 2, "HoT": 3, "CoT": 4, "BU": 5, "BA": 6, "BE": 7}
STATUS_KINDS = {"BA": BA_STATUS_NAMES, "BE": BE_STATUS_NAMES}


@dataclass(frozen=True)
class TypeCount:
    """How many Mobility Header messages of one type."""

    mh_type: int
    name: str
    kind: str
    count: int


@dataclass(frozen=True)
class StatusCount:
    """How many BAs (or BEs) carried one status."""

    kind: str  # "BA" | "BE"
    status: int
    name: str
    count: int


@dataclass(frozen=True)
class Conversation:
    """The signalling between one node and one peer."""

    node: IPv6Address
    peer: IPv6Address
    frames: int
    first_ts: float
    last_ts: float
    kinds: tuple[str, ...]
    bytes: int | None = None  # signalling messages do not carry their length


@dataclass(frozen=True)
class Minute:
    """One minute of the capture (``index`` minutes after its first frame)."""

    index: int
    start_ts: float
    signalling: int
    tunnelled: int


@dataclass(frozen=True)
class CaptureStats:
    """Everything `mipv6scope stats` shows."""

    mh_types: tuple[TypeCount, ...]
    statuses: tuple[StatusCount, ...]
    conversations: tuple[Conversation, ...]
    minutes: tuple[Minute, ...]
    signalling_dropped: int = 0


def _mh_type(message: SignallingMessage, by_name: dict[str, int]) -> int | None:
    """The MH type of a signalling message, None when it is not a Mobility Header message."""
    if message.kind in MH_KIND_TYPES:
        return MH_KIND_TYPES[message.kind]
    if message.kind in by_name:
        return by_name[message.kind]
    if message.kind.startswith("Unknown (") and message.kind[9:-1].isdigit():
        return int(message.kind[9:-1])
    return None


def _peer(report: Report, message: SignallingMessage,
          addresses: dict[IPv6Address, frozenset[IPv6Address]]) -> tuple[IPv6Address, IPv6Address]:
    """(node, peer) of a message: its node and the endpoint that is not one of
    the node's addresses; without a node, its two endpoints in order."""
    node = message.node
    if node is None:
        return (min(message.src, message.dst), max(message.src, message.dst))
    mine = addresses.get(node, frozenset((node,)))
    return node, (message.dst if message.src in mine else message.src)


def _minute_of(ts: float, origin: float) -> int:
    return max(0, int((ts - origin) // MINUTE_S))


def _series_minutes(series: TrafficSeries | None, origin: float, into: Counter[int]) -> None:
    """Add a series' packets to the minutes their bins start in."""
    if series is None:
        return
    for start, count in series.bins():
        into[_minute_of(start, origin)] += count


def capture_stats(report: Report) -> CaptureStats:
    """The statistics of ``report`` (see the module docstring)."""
    by_name = {name: number for number, name in MH_TYPE_NAMES.items()}
    addresses: dict[IPv6Address, frozenset[IPv6Address]] = {}
    for node in report.mobile_nodes:
        hoas = node.home_addresses or (node.home_address,)
        mine = frozenset((*hoas, *node.care_of_addresses))
        for hoa in hoas:
            addresses[hoa] = mine
    types: Counter[int] = Counter()
    kinds: dict[int, str] = {}
    statuses: Counter[tuple[str, int]] = Counter()
    convs: dict[tuple[IPv6Address, IPv6Address], list[SignallingMessage]] = {}
    signalling_minutes: Counter[int] = Counter()
    tunnel_minutes: Counter[int] = Counter()
    origin = report.capture.first_ts
    if origin is None:
        origin = min((m.ts for m in report.signalling), default=0.0)
    for message in report.signalling:
        mh_type = _mh_type(message, by_name)
        if mh_type is None:
            continue
        types[mh_type] += 1
        kinds.setdefault(mh_type, message.kind)
        if message.kind in STATUS_KINDS and message.status is not None:
            statuses[(message.kind, message.status)] += 1
        convs.setdefault(_peer(report, message, addresses), []).append(message)
        signalling_minutes[_minute_of(message.ts, origin)] += 1
    for tunnel in report.tunnels:
        _series_minutes(tunnel.to_mn_series, origin, tunnel_minutes)
        _series_minutes(tunnel.from_mn_series, origin, tunnel_minutes)
    minutes = sorted(set(signalling_minutes) | set(tunnel_minutes))
    return CaptureStats(
        mh_types=tuple(TypeCount(t, name_or_unknown(MH_TYPE_NAMES, t), kinds[t], n)
                       for t, n in sorted(types.items())),
        statuses=tuple(StatusCount(kind, status, name_or_unknown(STATUS_KINDS[kind], status), n)
                       for (kind, status), n in sorted(statuses.items())),
        conversations=tuple(
            Conversation(node, peer, len(ms), min(m.ts for m in ms), max(m.ts for m in ms),
                         tuple(sorted({m.kind for m in ms})))
            for (node, peer), ms in sorted(convs.items(), key=lambda kv: (-len(kv[1]), kv[0]))),
        minutes=tuple(Minute(i, origin + i * MINUTE_S, signalling_minutes[i], tunnel_minutes[i])
                      for i in minutes),
        signalling_dropped=report.signalling_dropped,
    )
