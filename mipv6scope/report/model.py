"""The one immutable report model every view renders. ``Report.to_dict()`` is
what `report --format json` prints; its keys are a contract other tools read
(the issue that introduced them lists them), so rename nothing.

Times are epoch seconds (float), latencies in ms, frame numbers 1-based.
Addresses are text in ``to_dict()`` and ``ipaddress.IPv6Address`` inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from ipaddress import IPv6Address
from typing import Any

from ..frozen_init import fast_frozen_inits

SCHEMA_VERSION = 2


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    """What was read: files, frame counts, time span, whether the pass was cut short."""

    files: tuple[str, ...]
    frames: int
    decoded: int
    malformed: int
    skipped: int
    first_ts: float | None
    last_ts: float | None
    partial: bool = False
    skip_reasons: dict[str, int] = field(default_factory=dict)
    capture_issues: tuple[str, ...] = ()
    esp_no_key: int = 0  # ESP frames no --esp-sa SA opened (and not NULL encryption)
    # where the capture was taken ("all" | "ha" | "mn" | "cn" | "tap" | "unknown"), as given
    # with --vantage or inferred from the wire, and why (one sentence)
    vantage: str = "unknown"
    vantage_reason: str = ""


@dataclass(frozen=True, slots=True)
class TrafficSeries:
    """Packets over time in equal bins: bin ``i`` counts the packets seen in
    [start_ts + i * width_s, start_ts + (i + 1) * width_s). The width doubles
    as the series grows, so a series never holds more than
    `analysis.series.MAX_BINS` bins, whatever the capture's length."""

    start_ts: float
    width_s: float
    counts: tuple[int, ...]

    def bins(self) -> list[tuple[float, int]]:
        """(bin start ts, packets) for every non-empty bin."""
        return [(self.start_ts + i * self.width_s, n) for i, n in enumerate(self.counts) if n]


@dataclass(frozen=True, slots=True)
class SignallingMessage:
    """One signalling message as a ladder draws it (`analysis.signalling`).

    ``kind`` is the message's short name (BU, BA, BE, BRR, HoTI, CoTI, HoT,
    CoT, DHAAD request, DHAAD reply, MPS, MPA, RA, NA, or the MH type's name);
    ``src``/``dst`` are the addresses of the IPv6 header that carried it (the
    care-of address for a BU with a HAO); ``tunnel`` the outer header's
    (source, destination) when it crossed an IPv6-in-IPv6 tunnel; ``node`` the
    home address it concerns, where the analysis could tell; ``label`` a short
    arrow text and ``info`` the `packets` Info line of its frame."""

    ts: float
    frame: int
    file: int
    kind: str
    src: IPv6Address
    dst: IPv6Address
    node: IPv6Address | None
    label: str
    info: str
    tunnel: tuple[IPv6Address, IPv6Address] | None = None
    seq: int | None = None
    status: int | None = None
    esp: bool = False


@dataclass(frozen=True, slots=True)
class Binding:
    """One interval in which a binding between a mobile node and a peer (HA or
    CN) was in force, from the accepting BA. A rejected registration is not a
    binding (it is in `MobileNode.registrations`)."""

    peer: IPv6Address
    kind: str  # "home" | "correspondent"
    care_of: IPv6Address
    start_ts: float | None  # the accepting BA (None only in reports from before schema 2)
    end_ts: float | None
    start_frame: int | None
    seq: int
    requested_lifetime_s: int
    granted_lifetime_s: int
    ended_by: str  # refresh|new_care_of|deregistration|expiry|binding_error|capture_end
    home_address: IPv6Address | None = None  # which of the node's home addresses was bound
    clipped: bool = False  # cut to the --from/--to window (set only by that filter)


@dataclass(frozen=True, slots=True)
class Registration:
    """One registration attempt (RFC 6275 11.8): the chain of BUs a node sent to
    one peer for one care-of address (same H/A flags and requested lifetime)
    until a BA answered one of them, and that BA, if any (unanswered: the BA
    fields are None). ``bu_frames``/``bu_seqs`` are every BU of the chain in
    order, ``bu_gaps_ms`` the gaps between consecutive ones, ``retransmissions``
    = len(bu_frames) - 1; ``first_bu_ts`` and ``latency_ms`` count from the
    chain's first BU; ``seq`` is the number the BA answered (else the chain's
    last)."""

    peer: IPv6Address
    care_of: IPv6Address
    bu_frames: tuple[int, ...]
    ba_frame: int | None
    first_bu_ts: float
    ba_ts: float | None
    status: int | None
    status_name: str | None
    retransmissions: int
    latency_ms: float | None
    seq: int = 0
    requested_lifetime_s: int = 0
    granted_lifetime_s: int | None = None
    home_address: IPv6Address | None = None  # which of the node's home addresses registered
    bu_seqs: tuple[int, ...] = ()
    bu_gaps_ms: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Handoff:
    """One attempt to change the care-of address of the home binding (leaving
    home and returning home included), with how it ended: ``outcome`` is
    "completed", "rejected" (``status``/``status_name`` of the rejecting BA),
    "no_answer" or "superseded"; ``bu_frames`` are its chain of BUs
    (`analysis.handoffs` defines every count)."""

    from_care_of: IPv6Address
    to_care_of: IPv6Address
    movement_ts: float | None
    bu_ts: float | None
    ba_ts: float | None
    first_data_ts: float | None
    registration_ms: float | None
    disruption_ms: float | None
    bu_retransmissions: int
    lost_to_old_care_of: int
    outcome: str = "completed"  # completed|rejected|no_answer|superseded
    status: int | None = None
    status_name: str | None = None
    bu_frames: tuple[int, ...] = ()
    possibly_lost_to_old_care_of: int = 0
    disruption_bounded_by_idle: bool = False
    clipped: bool = False  # set only by --from/--to


@dataclass(frozen=True, slots=True)
class Transition:
    """One route-optimisation state change for an (MN, CN) pair."""

    ts: float
    frame: int
    state: str  # tunnelled|rr_started|rr_done|bu_sent|ro_active|fallback
    reason: str | None


@dataclass(frozen=True, slots=True)
class Interval:
    """A period route optimisation was active.

    One still active when the capture ends is ``open``: its ``end_ts`` is the
    capture's end (the last frame's time) and ``ended_by`` "capture_end", so
    active-time sums include it. ``clipped`` marks an interval cut to the
    ``--from``/``--to`` window."""

    start_ts: float
    end_ts: float | None
    ended_by: str
    open: bool = False
    clipped: bool = False


@dataclass(frozen=True, slots=True)
class RouteOptimization:
    """Route optimisation between one mobile node and one correspondent."""

    correspondent: IPv6Address
    transitions: tuple[Transition, ...]
    active_intervals: tuple[Interval, ...]
    rr_latency_ms: float | None
    packets_direct: int
    packets_tunnelled: int
    direct_series: TrafficSeries | None = None  # route-optimised packets over time
    home_address: IPv6Address | None = None  # which of the node's home addresses it is about


@dataclass(frozen=True, slots=True)
class MobileNode:
    """Everything the capture says about one mobile node.

    ``home_address`` is the first home address seen, ``home_addresses`` all of
    them (first first), ``other_home_addresses`` all but the first;
    ``home_agents`` maps each home address to its home agent and
    ``home_agent`` is the primary home address's;
    ``identified_by`` names the kinds of packets that named the node (see
    `analysis.identity`); a mobile router (NEMO) lists the Mobile Network
    Prefixes it registered."""

    home_address: IPv6Address
    home_agent: IPv6Address | None
    care_of_addresses: tuple[IPv6Address, ...]
    bindings: tuple[Binding, ...] = ()
    registrations: tuple[Registration, ...] = ()
    handoffs: tuple[Handoff, ...] = ()
    route_optimization: tuple[RouteOptimization, ...] = ()
    name: str | None = None
    other_home_addresses: tuple[IPv6Address, ...] = ()
    home_addresses: tuple[IPv6Address, ...] = ()
    identified_by: tuple[str, ...] = ()
    mobile_router: bool = False
    mobile_network_prefixes: tuple[str, ...] = ()
    home_agents: dict[IPv6Address, IPv6Address] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccessRouter:
    """A router that sent RAs (its source address) and the prefixes it advertised
    ("network/len", in the order first advertised)."""

    address: IPv6Address
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Counter:
    """Packets and bytes one way through a tunnel."""

    packets: int = 0
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class InnerFlow:
    """One flow inside a tunnel."""

    proto: int
    src: IPv6Address
    dst: IPv6Address
    sport: int | None
    dport: int | None
    packets: int
    bytes: int
    first_ts: float
    last_ts: float


@dataclass(frozen=True, slots=True)
class OutsideBinding:
    """Packets tunnelled to a care-of address with no valid binding."""

    packets: int = 0
    frames: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Tunnel:
    """The HA <-> CoA tunnel for one home address."""

    home_agent: IPv6Address
    care_of: IPv6Address
    home_address: IPv6Address
    start_ts: float
    end_ts: float
    to_mn: Counter
    from_mn: Counter
    outside_binding: OutsideBinding
    inner_flows: tuple[InnerFlow, ...] = ()
    to_mn_series: TrafficSeries | None = None    # packets to the MN over time
    from_mn_series: TrafficSeries | None = None  # packets from the MN over time


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: a registry code seen on some frames of one node."""

    code: str
    severity: str
    frames: tuple[int, ...]
    ts: float
    node: IPv6Address | None
    message: str
    rfc: str


@dataclass(frozen=True, slots=True)
class Report:
    """The whole analysis of one or more captures."""

    capture: CaptureInfo
    mobile_nodes: tuple[MobileNode, ...] = ()
    tunnels: tuple[Tunnel, ...] = ()
    findings: tuple[Finding, ...] = ()
    home_agents: tuple[IPv6Address, ...] = ()
    correspondents: tuple[IPv6Address, ...] = ()
    access_routers: tuple[IPv6Address, ...] = ()
    access_router_prefixes: tuple[AccessRouter, ...] = ()
    # `--names` for the other roles: home agent, correspondent or access router address -> name
    # (a mobile node carries its own name)
    names: dict[IPv6Address, str] = field(default_factory=dict)
    # signalling messages in time order, at most `analysis.signalling.MAX_MESSAGES`
    # (and `MAX_PER_NODE` a node); how many more there were
    signalling: tuple[SignallingMessage, ...] = ()
    signalling_dropped: int = 0
    schema_version: int = SCHEMA_VERSION

    def signalling_of(self, node: MobileNode) -> list[SignallingMessage]:
        """The signalling messages of ``node``: those the analysis attributed
        to one of its home addresses, or sent from or to one of its addresses."""
        mine = set(node.home_addresses or (node.home_address,)) | set(node.care_of_addresses)
        return [m for m in self.signalling
                if m.node in mine or (m.node is None and (m.src in mine or m.dst in mine))]

    def node_names(self) -> dict[IPv6Address, str]:
        """Every named node's address -> its name: each home address of a named
        mobile node, and the named home agents, correspondents and access routers."""
        named = dict(self.names)
        named.update((hoa, node.name) for node in self.mobile_nodes if node.name
                     for hoa in node.home_addresses or (node.home_address,))
        return named

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: addresses as text, tuples as lists."""
        return _jsonable(self)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _jsonable(value: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies, addresses as text."""
    names = _FIELD_NAMES.get(type(value))
    if names is None and hasattr(type(value), "__dataclass_fields__"):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _jsonable(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {str(k) if isinstance(k, IPv6Address) else k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, IPv6Address):
        return str(value)
    return value


fast_frozen_inits(globals())  # every record above: a faster __init__, the same objects
