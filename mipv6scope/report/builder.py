"""ReportBuilder: the mutable staging area analyzers contribute to at the end of
a pass; ``build()`` freezes it into a `Report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv6Address

from .model import (
    Binding,
    CaptureInfo,
    Finding,
    Handoff,
    MobileNode,
    Registration,
    Report,
    RouteOptimization,
    Tunnel,
)


@dataclass
class NodeParts:
    """What the analyzers know of one mobile node, before freezing."""

    home_address: IPv6Address
    home_agent: IPv6Address | None = None
    care_of_addresses: list[IPv6Address] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    route_optimization: list[RouteOptimization] = field(default_factory=list)
    name: str | None = None
    other_home_addresses: list[IPv6Address] = field(default_factory=list)

    def freeze(self) -> MobileNode:
        """The immutable MobileNode."""
        return MobileNode(self.home_address, self.home_agent, tuple(self.care_of_addresses),
                          tuple(self.bindings), tuple(self.registrations), tuple(self.handoffs),
                          tuple(self.route_optimization), self.name, tuple(self.other_home_addresses))


@dataclass
class ReportBuilder:
    """Collects the analyzers' contributions."""

    nodes: dict[IPv6Address, NodeParts] = field(default_factory=dict)
    tunnels: list[Tunnel] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    home_agents: set[IPv6Address] = field(default_factory=set)
    correspondents: set[IPv6Address] = field(default_factory=set)
    access_routers: set[IPv6Address] = field(default_factory=set)

    def node(self, home_address: IPv6Address) -> NodeParts:
        """The parts of one mobile node, created on first use."""
        parts = self.nodes.get(home_address)
        if parts is None:
            parts = self.nodes[home_address] = NodeParts(home_address)
        return parts

    def build(self, capture: CaptureInfo) -> Report:
        """Freeze into a Report; nodes, tunnels and findings in a stable order."""
        nodes = tuple(self.nodes[k].freeze() for k in sorted(self.nodes))
        tunnels = tuple(sorted(self.tunnels, key=lambda t: (t.home_address, t.start_ts, t.care_of)))
        findings = tuple(sorted(self.findings, key=lambda f: (f.ts, f.code)))
        return Report(capture, nodes, tunnels, findings, tuple(sorted(self.home_agents)),
                      tuple(sorted(self.correspondents)), tuple(sorted(self.access_routers)))
