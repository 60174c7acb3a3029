"""The world a scenario plays in: nodes with MACs and addresses, links, paths
with delays, and the packet exchanges every scenario uses, each emitted as a
`Packet` with the sightings of the probes that would see it.

Probe placement (the --vantage option):
- "mn": on the mobile node's current access link (or the home link when it is
  home): everything the node sends and receives, plus that link's RAs.
- "ha": on the home agent's link: everything the home agent sends and
  receives (tunnels, home signalling, plain traffic to and from home addresses),
  and the home link's RAs. Not foreign links' RAs, not route-optimised traffic.
- "cn": on the correspondent's link: everything it sends and receives.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .engine import Jitter, Packet, Sighting

DEFAULT_DELAYS_MS = {"mn-ha": 20.0, "mn-cn": 15.0, "ha-cn": 10.0, "link": 0.3}


@dataclass(frozen=True)
class Node:
    """A fixed node: home agent, correspondent or access router."""

    name: str
    role: str  # "ha" | "cn" | "ar"
    address: str
    mac: str
    link_local: str
    upstream_mac: str  # the router its link leads to (what a probe there sees as peer)
    prefix: str = ""   # the link's /64 prefix, e.g. "2001:db8:2::"


@dataclass
class MobileNode:
    """A mobile node and its changing state as the story unfolds."""

    name: str
    home_address: str
    mac: str
    link_local: str
    home_agent: Node
    interface_id: str  # the low 64 bits as text, e.g. "::100"
    care_of: str | None = None
    access_router: Node | None = None  # None while at home
    seq: int = 0

    def next_seq(self) -> int:
        """The next Binding Update sequence number (mod 2**16)."""
        self.seq = (self.seq + 1) & 0xFFFF
        return self.seq

    def care_of_on(self, router: Node) -> str:
        """The care-of address the node forms on a router's prefix."""
        return router.prefix.rstrip(":") + self.interface_id


def mac_for(index: int, role_byte: int) -> str:
    """A locally administered MAC: 02:<role>:00:<index>."""
    return f"02:{role_byte:02x}:00:{(index >> 16) & 0xFF:02x}:{(index >> 8) & 0xFF:02x}:{index & 0xFF:02x}"


class World:
    """Delays, the packet list, and the exchanges between nodes."""

    def __init__(self, seed: int, delays_ms: dict[str, float] | None = None) -> None:
        self.rng = random.Random(seed)
        self.jitter = Jitter(self.rng, dict(delays_ms or DEFAULT_DELAYS_MS))
        self.packets: list[Packet] = []
        self.counters: dict[str, int] = {}

    def counter(self, key: str, start: int = 1) -> int:
        """The next value of a named counter (ESP sequence numbers, ND and
        DHAAD identifiers ...): ``start`` the first time, then one more each call."""
        value = self.counters.get(key, start - 1) + 1
        self.counters[key] = value
        return value

    def delay(self, path: str) -> float:
        """One jittered one-way delay on a path, in seconds."""
        return self.jitter.delay(path)

    # -- where the mobile node's traffic is seen ---------------------------------------

    @staticmethod
    def _mn_side(mn: MobileNode, ts: float, outbound: bool) -> Sighting:
        peer = mn.access_router.mac if mn.access_router else mn.home_agent.mac
        return Sighting(ts, mn.mac, peer) if outbound else Sighting(ts, peer, mn.mac)

    @staticmethod
    def _node_side(node: Node, ts: float, outbound: bool) -> Sighting:
        return Sighting(ts, node.mac, node.upstream_mac) if outbound else Sighting(ts, node.upstream_mac, node.mac)

    def emit(self, data: bytes, sent: Sighting, seen_at: dict[str, Sighting],
             labels: tuple[str, ...] = (), caplen: int | None = None) -> Packet:
        """Record one packet; returns it."""
        packet = Packet(data, sent, seen_at, labels, caplen)
        self.packets.append(packet)
        return packet

    def mn_to_ha(self, ts: float, mn: MobileNode, data: bytes, labels: tuple[str, ...] = ()) -> float:
        """MN -> HA (signalling or reverse tunnel); returns the arrival time at the HA.
        At home the two share a link."""
        arrive = ts + (self.delay("link") if mn.access_router is None else self.delay("mn-ha"))
        sent = self._mn_side(mn, ts, True)
        self.emit(data, sent, {"mn": sent, "ha": self._node_side(mn.home_agent, arrive, False)}, labels)
        return arrive

    def ha_to_mn(self, ts: float, mn: MobileNode, data: bytes, labels: tuple[str, ...] = (),
                 reaches_mn: bool = True) -> float:
        """HA -> MN (signalling or tunnel); returns the arrival time at the MN.
        With ``reaches_mn`` False (the node has left that care-of address) only
        the home agent's probe sees it."""
        arrive = ts + (self.delay("link") if mn.access_router is None else self.delay("mn-ha"))
        sent = self._node_side(mn.home_agent, ts, True)
        seen = {"ha": sent}
        if reaches_mn:
            seen["mn"] = self._mn_side(mn, arrive, False)
        self.emit(data, sent, seen, labels)
        return arrive

    def mn_to_cn(self, ts: float, mn: MobileNode, cn: Node, data: bytes,
                 labels: tuple[str, ...] = ()) -> float:
        """MN -> CN directly (CoTI, BU to CN, route-optimised data)."""
        arrive = ts + self.delay("mn-cn")
        sent = self._mn_side(mn, ts, True)
        self.emit(data, sent, {"mn": sent, "cn": self._node_side(cn, arrive, False)}, labels)
        return arrive

    def cn_to_mn(self, ts: float, mn: MobileNode, cn: Node, data: bytes,
                 labels: tuple[str, ...] = ()) -> float:
        """CN -> MN directly (CoT, BA, BE, route-optimised data)."""
        arrive = ts + self.delay("mn-cn")
        sent = self._node_side(cn, ts, True)
        self.emit(data, sent, {"cn": sent, "mn": self._mn_side(mn, arrive, False)}, labels)
        return arrive

    def cn_to_ha(self, ts: float, ha: Node, cn: Node, data: bytes, labels: tuple[str, ...] = ()) -> float:
        """CN -> home address, intercepted at the home agent's link."""
        arrive = ts + self.delay("ha-cn")
        sent = self._node_side(cn, ts, True)
        self.emit(data, sent, {"cn": sent, "ha": self._node_side(ha, arrive, False)}, labels)
        return arrive

    def ha_to_cn(self, ts: float, ha: Node, cn: Node, data: bytes, labels: tuple[str, ...] = ()) -> float:
        """Home address -> CN, forwarded by the home agent after decapsulation."""
        arrive = ts + self.delay("ha-cn")
        sent = self._node_side(ha, ts, True)
        self.emit(data, sent, {"ha": sent, "cn": self._node_side(cn, arrive, False)}, labels)
        return arrive

    def on_link(self, ts: float, router: Node, data: bytes, mn: MobileNode | None,
                labels: tuple[str, ...] = (), dst_mac: str = "33:33:00:00:00:01") -> None:
        """A packet on an access or home link from its router (RA, NA): seen by
        the MN probe when the node is on that link, by the HA probe when it is
        the home link."""
        sent = Sighting(ts, router.mac, dst_mac)
        seen: dict[str, Sighting] = {}
        if mn is not None and (mn.access_router is router
                               or (mn.access_router is None and router is mn.home_agent)):
            seen["mn"] = sent
        if router.role == "ha":
            seen["ha"] = sent
        self.emit(data, sent, seen, labels)

    def from_mn_on_link(self, ts: float, mn: MobileNode, data: bytes, dst_mac: str,
                        labels: tuple[str, ...] = ()) -> None:
        """A packet the MN sends onto its own link (RS, NS, NA): the home link's
        packets are also seen by the HA probe."""
        sent = Sighting(ts, mn.mac, dst_mac)
        seen = {"mn": sent}
        if mn.access_router is None:
            seen["ha"] = sent
        self.emit(data, sent, seen, labels)
