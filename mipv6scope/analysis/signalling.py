"""The signalling messages of a capture, kept for the ladders (the `chart`
command's sequence chart, the TUI's Ladder tab).

Every Mobility Header message, ICMPv6 mobility message (DHAAD, MPS/MPA) and
the Neighbor Advertisements for a home address become one
`report.model.SignallingMessage` with its `packets` Info line. Router
Advertisements are periodic (RFC 4861 6.2.4: every few seconds per link), so
an RA is kept only where it tells a story: the latest RA advertising a prefix
of a node's new care-of address (or of its home address, returning home)
before the Binding Update from there, i.e. its movement hint, the RA the
handoff analyzer takes for ``movement_ts``.

Which node a message concerns (``node``): a BU's or BA's or BE's home address,
the home address of a HoTI/HoT (inner header) or a BRR (its RH2), of an MPS
(its HAO) or an MPA (its RH2), the owner of the care-of address of a CoTI/CoT,
DHAAD or MPS/MPA (the bindings analyzer knows it once a binding used it; a
DHAAD request usually comes before the first BU from that care-of address, so
what is still unknown is looked up again at the end), the target of an NA.

Memory: at most `MAX_PER_NODE` messages per node and `MAX_MESSAGES` in all, the
first ones kept; the rest are counted in ``signalling_dropped``. Messages with
the same arrow label share its text.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from ipaddress import IPv6Address, IPv6Network
from typing import Any

from .. import events as ev
from ..decode.addresses import network
from ..decode.model import DecodedFrame
from ..decode.packet_list import packet_info
from ..report.builder import ReportBuilder
from ..report.model import SignallingMessage
from .base import Analyzer

MAX_MESSAGES = 100_000
MAX_PER_NODE = 10_000
MAX_LABELS = 4096  # distinct arrow labels shared between messages (most repeat across nodes)

_ICMP_KINDS = {144: "DHAAD request", 145: "DHAAD reply", 146: "MPS", 147: "MPA"}
_MH_KINDS = {0: "BRR", 1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA", 7: "BE"}
# kinds attributed by their care-of address: True when it is the source, False the destination
_BY_CARE_OF = {"DHAAD request": True, "DHAAD reply": False, "MPS": True, "MPA": False,
               "CoTI": True, "CoT": False}


@lru_cache(maxsize=MAX_LABELS)  # few distinct flag sets
def _flags(flags: frozenset[str]) -> str:
    return " ".join(sorted(flags, key="AHLKMRPFTBSXCIO".find))


class SignallingAnalyzer(Analyzer):
    """Collects the signalling messages (see the module docstring)."""

    def __init__(self, bindings: Any | None = None) -> None:
        self.bindings = bindings
        self.messages: list[SignallingMessage] = []
        self.dropped = 0
        self._per_node: dict[IPv6Address | None, int] = {}  # messages kept, by node (else source)
        self._decoded: DecodedFrame | None = None  # the frame the next events come from
        self._last_ra: dict[IPv6Address, SignallingMessage] = {}  # router -> its latest RA
        self._ra_networks: dict[IPv6Address, tuple[IPv6Network, ...]] = {}
        self._kept_ra: set[tuple[int, int]] = set()  # (file, frame) of the RAs kept
        self._last_care_of: dict[IPv6Address, IPv6Address] = {}  # node -> care-of of its last BU
        self._home_addresses: set[IPv6Address] = set()
        self._labels: dict[str, str] = {}  # one copy of each label text (bounded)

    def on_decoded_frame(self, decoded: DecodedFrame, _file: int) -> None:
        """The engine hands every fully decoded frame before its events."""
        self._decoded = decoded

    # -- messages ------------------------------------------------------------------------

    def on_binding_update(self, e: ev.BindingUpdate) -> None:
        """BU: kept, after the movement-hint RA when its care-of address is new."""
        self._home_addresses.add(e.home_address)
        moved_to = e.home_address if e.lifetime_s == 0 else e.care_of
        if self._last_care_of.get(e.home_address) != moved_to:
            self._last_care_of[e.home_address] = moved_to
            if self._last_ra:  # none in a capture of signalling alone
                self._movement_hints(e.home_address, moved_to, e.ts)
        label = f"BU seq={e.seq} {_flags(e.flags)} {e.lifetime_s}s".replace("  ", " ")
        self._keep(e, "BU", e.wire_src, e.wire_dst, e.home_address, label, seq=e.seq)

    def on_binding_ack(self, e: ev.BindingAck) -> None:
        """BA, labelled with its status name."""
        status = "accepted" if e.status < 128 else e.status_name
        label = f"BA seq={e.seq} {status} {e.lifetime_s}s"
        self._keep(e, "BA", e.wire_src, e.wire_dst, e.home_address, label, seq=e.seq, status=e.status)

    def on_binding_error(self, e: ev.BindingError) -> None:
        """BE, labelled with its status name."""
        self._keep(e, "BE", e.wire_src, e.wire_dst, e.home_address, f"BE {e.status_name}",
                   status=e.status)

    def on_binding_refresh_request(self, e: ev.BindingRefreshRequest) -> None:
        """BRR: to the home address (RH2)."""
        self._keep(e, "BRR", e.wire_src, e.wire_dst, e.dst, "BRR")

    def on_test_init(self, e: ev.TestInit) -> None:
        """HoTI (from the home address, through the tunnel) or CoTI (from the care-of address)."""
        kind = "HoTI" if e.home else "CoTI"
        node = e.src if e.home else self._owner(e.src)
        self._keep(e, kind, e.wire_src, e.wire_dst, node, kind)

    def on_test(self, e: ev.Test) -> None:
        """HoT (to the home address) or CoT (to the care-of address)."""
        kind = "HoT" if e.home else "CoT"
        node = e.dst if e.home else self._owner(e.dst)
        self._keep(e, kind, e.wire_src, e.wire_dst, node, f"{kind} nonce={e.nonce_index}")

    def on_other_mobility_message(self, e: ev.OtherMobilityMessage) -> None:
        """Any other MH type, by name."""
        self._keep(e, _MH_KINDS.get(e.mh_type, e.name), e.wire_src, e.wire_dst, None, e.name)

    def on_icmp_mobility(self, e: ev.IcmpMobility) -> None:
        """DHAAD request/reply, MPS/MPA."""
        kind = _ICMP_KINDS[e.icmp_type]
        node = e.hao or (e.dst if e.dst in self._home_addresses else None) \
            or self._owner(e.src if e.icmp_type in (144, 146) else e.dst)
        label = kind
        if e.icmp_type == 145 and e.home_agents:
            label += " " + ", ".join(str(a) for a in e.home_agents[:3])
        elif e.icmp_type == 147 and e.prefixes:
            label += " " + ", ".join(e.prefixes[:3])
        src = e.src if e.hao is None else self._wire_src(e.src)
        self._keep(e, kind, src, e.dst, node, label)

    def on_neighbor_advertisement(self, e: ev.NeighborAdvertisement) -> None:
        """An NA for a home address some BU named (the home agent defending it,
        or the node back at home with the O flag)."""
        if e.target not in self._home_addresses:
            return
        label = f"NA {e.target} {_flags(e.flags)}".strip()
        self._keep(e, "NA", e.src, e.dst, e.target, label)

    def on_router_advertisement(self, e: ev.RouterAdvertisement) -> None:
        """Remember the router's latest RA; it is kept only as a movement hint."""
        prefixes = " ".join(e.prefixes[:3]) or "(no prefix)"
        dst = self._decoded.ip6[-1].dst if self._decoded is not None and self._decoded.ip6 else e.router
        self._last_ra[e.router] = self._message(e, "RA", e.router, dst, None, f"RA {prefixes}")
        networks = []
        for prefix in e.prefixes:
            try:
                networks.append(network(prefix))
            except ValueError:
                continue  # a prefix length the decoder let through; not a hint
        self._ra_networks[e.router] = tuple(networks)

    # -- the end -------------------------------------------------------------------------

    def contribute(self, builder: ReportBuilder) -> None:
        """The messages in time order, and how many were not kept."""
        self._attribute_late()
        builder.signalling = sorted(self.messages, key=lambda m: (m.ts, m.file, m.frame))
        builder.signalling_dropped = self.dropped

    # -- helpers -------------------------------------------------------------------------

    def _attribute_late(self) -> None:
        """Messages sent from (or to) a care-of address before any binding used
        it (a DHAAD request and reply, a CoTI), given to the node whose binding
        used that address later in the capture, within its `MAX_PER_NODE`."""
        for i, m in enumerate(self.messages):
            if m.node is None and m.kind in _BY_CARE_OF:
                owner = self._owner(m.src if _BY_CARE_OF[m.kind] else m.dst)
                per_node = self._per_node
                if owner is not None and per_node.get(owner, 0) < MAX_PER_NODE:
                    per_node[owner] = per_node.get(owner, 0) + 1
                    per_node[m.src] -= 1
                    self.messages[i] = replace(m, node=owner)

    def _movement_hints(self, node: IPv6Address, address: IPv6Address, ts: float) -> None:
        """Keep the latest RA of each router advertising a prefix of ``address``."""
        for router, message in self._last_ra.items():
            key = (message.file, message.frame)
            if (message.ts <= ts and key not in self._kept_ra
                    and any(address in net for net in self._ra_networks.get(router, ()))):
                self._kept_ra.add(key)
                self._add(SignallingMessage(message.ts, message.frame, message.file, "RA", message.src,
                                            message.dst, node, message.label, message.info))

    def _owner(self, care_of: IPv6Address) -> IPv6Address | None:
        if self.bindings is None:
            return None
        return self.bindings.home_address_of(care_of)

    def _wire_src(self, fallback: IPv6Address) -> IPv6Address:
        decoded = self._decoded
        return decoded.ip6[-1].src if decoded is not None and decoded.ip6 else fallback

    def _message(self, e: ev.Event, kind: str, src: IPv6Address, dst: IPv6Address,
                 node: IPv6Address | None, label: str, seq: int | None = None,
                 status: int | None = None) -> SignallingMessage:
        decoded = self._decoded
        info = ("" if decoded is None or decoded.number != e.frame or decoded.ts != e.ts
                else packet_info(decoded))
        mobility = isinstance(e, ev.MobilityMessage)  # the events with outer addresses and ESP
        tunnel = (e.outer_src, e.outer_dst) if mobility and e.tunnelled else None
        return SignallingMessage(e.ts, e.frame, e.file, kind, src, dst, node, self._label(label),
                                 info, tunnel, seq, status, mobility and bool(e.esp))

    def _label(self, label: str) -> str:
        """The shared copy of ``label``: "BU seq=1 A H 4000s" is the same text for many nodes."""
        labels = self._labels
        shared = labels.get(label)
        if shared is None:
            if len(labels) >= MAX_LABELS:
                labels.clear()
            shared = labels[label] = label
        return shared

    def _keep(self, e: ev.Event, kind: str, src: IPv6Address, dst: IPv6Address,
              node: IPv6Address | None, label: str, seq: int | None = None,
              status: int | None = None) -> None:
        if self._room(node if node is not None else src):  # before the Info text is made
            self.messages.append(self._message(e, kind, src, dst, node, label, seq, status))

    def _add(self, message: SignallingMessage) -> None:
        if self._room(message.node if message.node is not None else message.src):
            self.messages.append(message)

    def _room(self, key: IPv6Address) -> bool:
        """Whether a message of ``key`` (its node, else its source) is kept:
        counted against the limits if so, as dropped if not."""
        kept = self._per_node.get(key, 0)
        if kept >= MAX_PER_NODE or len(self.messages) >= MAX_MESSAGES:
            self.dropped += 1
            return False
        self._per_node[key] = kept + 1
        return True
