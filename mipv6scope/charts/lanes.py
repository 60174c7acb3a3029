"""The lanes of a node's ladder (sequence chart, Mermaid): one per role, in
role order, and which lane each signalling message leaves and reaches.

Order: the mobile node (its home addresses and every care-of address on one
lane), the access routers, the home agent(s), the correspondents, then any
other address a message names (the home agents' anycast address of a DHAAD
request, a multicast group). A message to a multicast group is drawn toward
the node when someone else sent it (an RA to ff02::1 on the node's link);
the node's own multicast NA (returning home) goes to its home agent, which
is on the home link and is who listens for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Network

from ..report.model import MobileNode, Report, SignallingMessage
from .options import node_label

ROLE_ORDER = ("MN", "AR", "HA", "CN", "other")
_ROLE_WORDS = {"MN": "mobile node", "AR": "access router", "HA": "home agent",
               "CN": "correspondent", "other": ""}
_ANYCAST_IID = 0xFDFFFFFFFFFFFFFE  # RFC 2526: Mobile IPv6 Home-Agents anycast, /64 prefix


@dataclass(frozen=True)
class Lane:
    """One vertical lane: its role, its main address (and every address that
    maps to it), its name if known, and a short alias (``MN``, ``AR1``,
    ``HA1``, ``CN1``, ``X1``) that Mermaid uses as participant id."""

    index: int
    role: str  # MN | AR | HA | CN | other
    address: IPv6Address
    addresses: tuple[IPv6Address, ...]
    name: str | None
    alias: str
    detail: tuple[str, ...] = ()  # further title lines: home addresses, prefixes

    @property
    def heading(self) -> str:
        """The first title line: role and name (``HA ha-east``, ``MN car-17``)."""
        if self.role == "other":
            return self.name or "other"
        return f"{self.role} {self.name}" if self.name else self.role

    @property
    def title_lines(self) -> tuple[str, ...]:
        """The lane's title, line by line (role + name, then addresses)."""
        if self.role == "MN":
            return (self.heading, *self.detail)
        return (self.heading, str(self.address), *self.detail)

    @property
    def role_words(self) -> str:
        """The role spelled out (``home agent``)."""
        return _ROLE_WORDS[self.role]


@dataclass(frozen=True)
class LaneMap:
    """The lanes in order and where each address goes."""

    lanes: tuple[Lane, ...]
    lane_index: dict[IPv6Address, int]
    node_home_agent: int | None  # the lane of the node's home agent, if drawn

    def lane_of(self, address: IPv6Address) -> int | None:
        """The lane an address is drawn on, None if it has none."""
        return self.lane_index.get(address)

    def path(self, message: SignallingMessage) -> tuple[int, ...]:
        """The lanes a message's arrow passes: (from, to), or (from, home
        agent, to) when it crossed the home agent's tunnel."""
        src = self._src_lane(message.src)
        dst = self._dst_lane(message, src)
        if message.tunnel is not None:
            for end in message.tunnel:
                via = self.lane_index.get(end)
                if via is not None and self.lanes[via].role == "HA" and via not in (src, dst):
                    return (src, via, dst)
        return (src, dst)

    def _src_lane(self, address: IPv6Address) -> int:
        lane = self.lane_index.get(address)
        return 0 if lane is None else lane

    def _dst_lane(self, message: SignallingMessage, src: int) -> int:
        lane = self.lane_index.get(message.dst)
        if message.dst.is_multicast:
            if src != 0:
                return 0
            if message.kind == "NA" and self.node_home_agent is not None:
                return self.node_home_agent
        return 0 if lane is None else lane


def _networks(prefixes: tuple[str, ...]) -> list[IPv6Network]:
    nets = []
    for prefix in prefixes:
        try:
            nets.append(IPv6Network(prefix, strict=False))
        except ValueError:
            continue
    return nets


def _overlaps(start: float | None, end: float | None, window: tuple[float, float] | None) -> bool:
    if window is None:
        return True
    lo = start if start is not None else end
    hi = end if end is not None else float("inf")
    return lo is None or (lo <= window[1] and hi >= window[0])


def node_addresses(node: MobileNode) -> list[IPv6Address]:
    """Every address of the node's lane: home addresses, then care-of addresses."""
    found: dict[IPv6Address, None] = {}
    for address in (*(node.home_addresses or (node.home_address,)), *node.care_of_addresses,
                    *(b.care_of for b in node.bindings), *(r.care_of for r in node.registrations)):
        found.setdefault(address, None)
    return list(found)


def _other_name(address: IPv6Address) -> str:
    if address.is_multicast:
        return "multicast"
    if int(address) & 0xFFFFFFFFFFFFFFFF == _ANYCAST_IID:
        return "HA anycast"
    return ""


def _short_list(items: list[str], keep: int = 2) -> str:
    more = f" +{len(items) - keep}" if len(items) > keep else ""
    return ", ".join(items[:keep]) + more


def node_lanes(report: Report, node: MobileNode, messages: list[SignallingMessage],
               window: tuple[float, float] | None = None) -> LaneMap:
    """The lanes of ``node``'s ladder for ``messages`` (the ones to draw) in
    ``window`` (None: the whole capture): the node; the access routers whose
    RAs are among the messages or whose prefixes hold a care-of address the
    node used in the window; the home agents and correspondents the messages,
    bindings, registrations, tunnels or route optimisation involve in the
    window (the node's own home agent always); then every other address the
    messages name. See the module docstring for multicast."""
    names = report.node_names()
    mine = node_addresses(node)
    mine_set = set(mine)
    endpoints: dict[IPv6Address, None] = {}
    for m in messages:
        for address in (m.src, m.dst, *(m.tunnel or ())):
            endpoints.setdefault(address, None)

    # access routers
    used_coas = {b.care_of for b in node.bindings if _overlaps(b.start_ts, b.end_ts, window)}
    used_coas |= {a for a in endpoints if a in mine_set}
    if window is None:
        used_coas |= set(node.care_of_addresses)
    prefixes = {ar.address: ar.prefixes for ar in report.access_router_prefixes}
    ra_senders = [m.src for m in messages if m.kind == "RA"]
    ar_order = list(dict.fromkeys([*report.access_routers, *prefixes, *ra_senders]))
    routers = [ar for ar in ar_order
               if ar in ra_senders or any(c in net for net in _networks(prefixes.get(ar, ()))
                                          for c in used_coas)]

    # home agents
    involved: dict[IPv6Address, None] = dict(endpoints)
    for b in node.bindings:
        if _overlaps(b.start_ts, b.end_ts, window):
            involved.setdefault(b.peer, None)
    for r in node.registrations:
        if _overlaps(r.first_bu_ts, r.ba_ts or r.first_bu_ts, window):
            involved.setdefault(r.peer, None)
    homes = set(node.home_addresses or (node.home_address,))
    for t in report.tunnels:
        if t.home_address in homes and _overlaps(t.start_ts, t.end_ts, window):
            involved.setdefault(t.home_agent, None)
    for ro in node.route_optimization:
        series = ro.direct_series
        if series is not None and any(_overlaps(ts, ts + series.width_s, window)
                                      for ts, _n in series.bins()):
            involved.setdefault(ro.correspondent, None)
    ha_order = list(dict.fromkeys([*report.home_agents,
                                   *([node.home_agent] if node.home_agent else [])]))
    agents = [a for a in ha_order if a in involved or a == node.home_agent]
    agents = [a for a in agents if a not in mine_set and a not in routers]
    peers = [c for c in report.correspondents
             if c in involved and c not in mine_set and c not in routers and c not in agents]

    lanes: list[Lane] = []
    lane_index: dict[IPv6Address, int] = {}
    homes_text = [f"HoA {h}" for h in (node.home_addresses or (node.home_address,))]
    lanes.append(Lane(0, "MN", node.home_address, tuple(mine), node.name, "MN",
                      (_short_list(homes_text),)))
    for address in mine:
        lane_index[address] = 0

    def add(role: str, address: IPv6Address, alias: str, name: str | None,
            detail: tuple[str, ...] = ()) -> None:
        lane_index[address] = len(lanes)
        lanes.append(Lane(len(lanes), role, address, (address,), name, alias, detail))

    for i, ar in enumerate(routers, 1):
        pre = list(prefixes.get(ar, ()))
        add("AR", ar, f"AR{i}", names.get(ar), (_short_list(pre),) if pre else ())
    for i, ha in enumerate(agents, 1):
        add("HA", ha, f"HA{i}", names.get(ha))
    for i, cn in enumerate(peers, 1):
        add("CN", cn, f"CN{i}", names.get(cn))
    others = 0
    ha_lane = lane_index.get(node.home_agent) if node.home_agent else None
    for m in messages:
        wanted = [m.src]
        if not m.dst.is_multicast or (lane_index.get(m.src, 0) == 0
                                      and not (m.kind == "NA" and ha_lane is not None)):
            wanted.append(m.dst)
        for address in wanted:
            if address not in lane_index:
                others += 1
                add("other", address, f"X{others}", names.get(address) or _other_name(address) or None)
    return LaneMap(tuple(lanes), lane_index,
                   lane_index.get(node.home_agent) if node.home_agent else None)


def lane_description(lane: Lane, node: MobileNode | None = None) -> str:
    """One line naming a lane: ``home agent ha-east 2001:db8:1::1``; the node's
    lane names the node and its home address(es)."""
    if lane.role == "MN" and node is not None:
        return " ".join(["mobile node", node_label(node), *lane.detail]) if node.name else \
            " ".join(["mobile node", *lane.detail])
    role = lane.role_words or ("" if lane.name else "other")
    words = [w for w in (role, lane.name, str(lane.address)) if w]
    if lane.role == "AR" and lane.detail:
        words.append(f"({lane.detail[0]})")
    return " ".join(words)
