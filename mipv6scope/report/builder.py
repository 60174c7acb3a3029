"""ReportBuilder: the mutable staging area analyzers contribute to at the end of
a pass; ``build()`` freezes it into a `Report`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv6Address

from .model import (
    AccessRouter,
    Binding,
    CaptureInfo,
    Finding,
    Handoff,
    MobileNode,
    Registration,
    Report,
    RouteOptimization,
    SignallingMessage,
    Tunnel,
)


@dataclass(slots=True)
class NodeParts:
    """What the analyzers know of one mobile node, before freezing."""

    home_address: IPv6Address
    home_agent: IPv6Address | None = None
    home_agents: dict[IPv6Address, IPv6Address] = field(default_factory=dict)  # home address -> HA
    care_of_addresses: list[IPv6Address] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    route_optimization: list[RouteOptimization] = field(default_factory=list)
    name: str | None = None
    other_home_addresses: list[IPv6Address] = field(default_factory=list)
    identified_by: set[str] = field(default_factory=set)
    mobile_router: bool = False
    mobile_network_prefixes: list[str] = field(default_factory=list)

    @property
    def home_addresses(self) -> list[IPv6Address]:
        """All the node's home addresses, the first seen first."""
        return [self.home_address, *self.other_home_addresses]

    def freeze(self) -> MobileNode:
        """The immutable MobileNode."""
        agents = dict(self.home_agents)
        if self.home_agent is not None:
            agents.setdefault(self.home_address, self.home_agent)
        return MobileNode(self.home_address, self.home_agent, tuple(self.care_of_addresses),
                          tuple(self.bindings), tuple(self.registrations), tuple(self.handoffs),
                          tuple(self.route_optimization), self.name, tuple(self.other_home_addresses),
                          tuple(self.home_addresses), tuple(sorted(self.identified_by)),
                          self.mobile_router, tuple(self.mobile_network_prefixes),
                          {a: agents[a] for a in self.home_addresses if a in agents})

    def absorb(self, other: NodeParts) -> None:
        """Take in the parts of another home address of the same node: lists
        are joined in time order; each home address keeps its own home agent
        (``home_agents``) and ``home_agent`` stays the primary home address's
        (RFC 6275 11.5.1: a home address is registered with its own home agent)."""
        for hoa in other.home_addresses:
            if hoa != self.home_address and hoa not in self.other_home_addresses:
                self.other_home_addresses.append(hoa)
        self.bindings = sorted(self.bindings + other.bindings, key=_binding_time)
        self.registrations = sorted(self.registrations + other.registrations, key=lambda r: r.first_bu_ts)
        self.handoffs = sorted(self.handoffs + other.handoffs, key=_handoff_time)
        self.route_optimization = self.route_optimization + other.route_optimization
        started = [b for b in self.bindings if b.start_ts is not None]
        self.care_of_addresses = list(dict.fromkeys(
            [b.care_of for b in started] + self.care_of_addresses + other.care_of_addresses))
        if self.home_agent is not None:
            self.home_agents.setdefault(self.home_address, self.home_agent)
        if other.home_agent is not None:
            self.home_agents.setdefault(other.home_address, other.home_agent)
        for hoa, agent in other.home_agents.items():
            self.home_agents.setdefault(hoa, agent)
        self.home_agent = self.home_agents.get(self.home_address)
        self.name = self.name or other.name
        self.identified_by |= other.identified_by
        self.mobile_router = self.mobile_router or other.mobile_router
        self.mobile_network_prefixes += [p for p in other.mobile_network_prefixes
                                         if p not in self.mobile_network_prefixes]


def _binding_time(b: Binding) -> float:
    """When a binding started (its end for a start-less one from an older report)."""
    ts = b.start_ts if b.start_ts is not None else b.end_ts
    return ts if ts is not None else 0.0


def _handoff_time(h: Handoff) -> float:
    for ts in (h.bu_ts, h.movement_ts, h.ba_ts, h.first_data_ts):
        if ts is not None:
            return ts
    return 0.0


@dataclass(slots=True)
class ReportBuilder:
    """Collects the analyzers' contributions."""

    nodes: dict[IPv6Address, NodeParts] = field(default_factory=dict)
    tunnels: list[Tunnel] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    home_agents: set[IPv6Address] = field(default_factory=set)
    correspondents: set[IPv6Address] = field(default_factory=set)
    access_routers: set[IPv6Address] = field(default_factory=set)
    access_router_prefixes: list[AccessRouter] = field(default_factory=list)
    names: dict[IPv6Address, str] = field(default_factory=dict)  # the other roles' names
    signalling: list[SignallingMessage] = field(default_factory=list)
    signalling_dropped: int = 0

    def node(self, home_address: IPv6Address) -> NodeParts:
        """The parts of one mobile node, created on first use."""
        parts = self.nodes.get(home_address)
        if parts is None:
            parts = self.nodes[home_address] = NodeParts(home_address)
        return parts

    def merge_nodes(self, home_addresses: Sequence[IPv6Address]) -> None:
        """Make the nodes of ``home_addresses`` one node, keyed by the first."""
        primary = self.node(home_addresses[0])
        for hoa in home_addresses[1:]:
            parts = self.nodes.pop(hoa, None)
            primary.absorb(parts if parts is not None else NodeParts(hoa))

    def name_nodes(self, names: Mapping[IPv6Address, str]) -> None:
        """Name each unnamed mobile node by the first of its home addresses
        ``names`` knows, and each home agent, correspondent and access router
        ``names`` knows."""
        for parts in self.nodes.values():
            if parts.name is None:
                parts.name = next((names[h] for h in parts.home_addresses if h in names), None)
        for address in self.home_agents | self.correspondents | self.access_routers:
            if address in names:
                self.names[address] = names[address]

    def build(self, capture: CaptureInfo) -> Report:
        """Freeze into a Report; nodes, tunnels and findings in a stable order.
        Once: each node's parts are let go as it is frozen (they would
        otherwise sit beside the report at its largest), so the builder has no
        nodes left after."""
        # int(address) orders as the addresses do, without a Python __lt__ a comparison
        nodes = tuple(self.nodes.pop(k).freeze() for k in sorted(self.nodes, key=int))
        tunnels = tuple(sorted(self.tunnels, key=lambda t: (t.home_address, t.start_ts, t.care_of)))
        findings = tuple(sorted(self.findings, key=lambda f: (f.ts, f.code)))
        return Report(capture, nodes, tunnels, findings, tuple(sorted(self.home_agents)),
                      tuple(sorted(self.correspondents)), tuple(sorted(self.access_routers)),
                      tuple(sorted(self.access_router_prefixes, key=lambda r: r.address)),
                      dict(sorted(self.names.items())), tuple(self.signalling),
                      self.signalling_dropped)
