"""Mobility events: what the analyzers consume, one frozen dataclass per message
or observation. The event builder (analysis/events_from_frames.py) turns decoded
frames, or raw data frames classified on the fast path, into these.

Every event has ``ts`` (epoch seconds), ``frame`` (1-based number in its file)
and ``file`` (index of the capture in the engine's list, 0 for one file).
Addresses are ``ipaddress.IPv6Address``. ``src``/``dst`` are the innermost
IPv6 header's addresses as the upper layer sees them (HAO applied to the
source, RH2 to the destination); ``outer_src``/``outer_dst`` are the outermost
header's, as on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address

from .frozen_init import fast_frozen_inits


@dataclass(frozen=True, slots=True)
class Event:
    """Fields every event has."""

    ts: float
    frame: int
    file: int


@dataclass(frozen=True, slots=True)
class MobilityMessage(Event):
    """A Mobility Header message; the subclasses add the message's fields.

    ``wire_src``/``wire_dst`` are the addresses of the IPv6 header carrying the
    MH, as on the wire (the CoA for a BU with a HAO); ``src``/``dst`` have the
    HAO and RH2 applied. ``tunnelled`` says whether the MH came through an
    IPv6-in-IPv6 tunnel (HoTI/HoT through the home agent), with the tunnel
    endpoints in ``outer_src``/``outer_dst``.
    """

    src: IPv6Address
    dst: IPv6Address
    wire_src: IPv6Address
    wire_dst: IPv6Address
    outer_src: IPv6Address
    outer_dst: IPv6Address
    tunnelled: bool
    esp: bool  # carried inside ESP, read as NULL encryption (decode/esp_null.py)
    hao: IPv6Address | None
    rh2: IPv6Address | None


@dataclass(frozen=True, slots=True)
class BindingUpdate(MobilityMessage):
    """BU (MH 5). ``care_of`` is the Alternate CoA option's address, else the
    wire source; ``home_address`` is the HAO's, else the source."""

    seq: int
    flags: frozenset[str]
    lifetime_s: int
    home_address: IPv6Address
    care_of: IPv6Address
    home_nonce_index: int | None
    careof_nonce_index: int | None
    mobile_network_prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BindingAck(MobilityMessage):
    """BA (MH 6). ``home_address`` is the RH2's, else the destination."""

    seq: int
    status: int
    status_name: str
    flags: frozenset[str]
    lifetime_s: int
    refresh_s: int | None
    home_address: IPv6Address


@dataclass(frozen=True, slots=True)
class BindingError(MobilityMessage):
    """BE (MH 7)."""

    status: int
    status_name: str
    home_address: IPv6Address


@dataclass(frozen=True, slots=True)
class BindingRefreshRequest(MobilityMessage):
    """BRR (MH 0)."""


@dataclass(frozen=True, slots=True)
class TestInit(MobilityMessage):
    """HoTI (MH 1, ``home`` True) or CoTI (MH 2)."""

    home: bool
    cookie: str


@dataclass(frozen=True, slots=True)
class Test(MobilityMessage):
    """HoT (MH 3, ``home`` True) or CoT (MH 4)."""

    home: bool
    cookie: str
    nonce_index: int
    keygen_token: str


@dataclass(frozen=True, slots=True)
class OtherMobilityMessage(MobilityMessage):
    """Any other MH type, named."""

    mh_type: int
    name: str


@dataclass(frozen=True, slots=True)
class RouterAdvertisement(Event):
    """RA: the router's link-local source, whether it is a home agent (H), and
    its prefixes (text "prefix/len") with the R flag's router addresses."""

    router: IPv6Address
    home_agent: bool
    prefixes: tuple[str, ...]
    router_addresses: tuple[IPv6Address, ...]
    src_mac: bytes | None


@dataclass(frozen=True, slots=True)
class NeighborAdvertisement(Event):
    """NA: target and flags (R S O), source and destination; ``plain``: the
    source is the outermost header's, neither tunnelled nor under a Home
    Address option (a packet the source sent on the link the capture saw)."""

    src: IPv6Address
    dst: IPv6Address
    target: IPv6Address
    flags: frozenset[str]
    plain: bool = False


@dataclass(frozen=True, slots=True)
class NeighborSolicitation(Event):
    """NS: target, source and destination; ``plain`` as for an NA. The
    unspecified source is Duplicate Address Detection's (RFC 4862 5.4.2)."""

    src: IPv6Address
    dst: IPv6Address
    target: IPv6Address
    plain: bool


@dataclass(frozen=True, slots=True)
class RouterSolicitation(Event):
    """RS: source and destination; ``plain`` as for an NA. The unspecified
    source is a host with no address yet (RFC 4861 6.3.7)."""

    src: IPv6Address
    dst: IPv6Address
    plain: bool


@dataclass(frozen=True, slots=True)
class IcmpMobility(Event):
    """ICMPv6 144-147 (DHAAD request/reply, MPS/MPA): type, identifier,
    addresses, the home agents a reply lists and the prefixes an MPA carries."""

    icmp_type: int
    identifier: int | None
    src: IPv6Address
    dst: IPv6Address
    hao: IPv6Address | None
    home_agents: tuple[IPv6Address, ...]
    prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DataPacket(Event):
    """A data packet (anything but signalling), from the fast path or a full decode.

    ``outer_src``/``outer_dst`` are the tunnel endpoints when ``tunnelled``
    (otherwise equal to ``src``/``dst`` as on the wire). ``src``/``dst`` are
    the innermost header's with HAO/RH2 applied; ``hao``/``rh2`` mark
    route-optimised packets. ``proto`` is the upper-layer protocol, ``length``
    the outermost IPv6 packet's length in bytes (header included), ``inner_length``
    the innermost packet's.
    """

    outer_src: IPv6Address
    outer_dst: IPv6Address
    src: IPv6Address
    dst: IPv6Address
    tunnelled: bool
    hao: IPv6Address | None
    rh2: IPv6Address | None
    proto: int
    sport: int | None
    dport: int | None
    length: int
    inner_length: int


@dataclass(frozen=True, slots=True)
class TunnelledPacket(Event):
    """A frame that crossed an IPv6-in-IPv6 tunnel carrying anything but data:
    a mobility message (HoTI, HoT, BRR, BE ...), ICMPv6 that is not a
    DataPacket, ESP. It follows the frame's message event, if any, so the
    tunnel counts it (RFC 6275 10.4.2, 10.4.5: the tunnel carries every packet
    for or from the home address). Fields as in `DataPacket`; ``proto`` is the
    innermost header's upper-layer protocol (135 for a Mobility Header)."""

    outer_src: IPv6Address
    outer_dst: IPv6Address
    src: IPv6Address
    dst: IPv6Address
    proto: int
    length: int
    inner_length: int


@dataclass(frozen=True, slots=True)
class FrameIssues(Event):
    """The decode issues of one frame (code, layer, detail), with its addresses."""

    issues: tuple[tuple[str, str, str], ...]
    src: IPv6Address | None
    dst: IPv6Address | None


fast_frozen_inits(globals())  # every record above: a faster __init__, the same objects
