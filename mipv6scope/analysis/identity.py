"""Roles and identity (issue 4, part 2): which home addresses are one mobile
node, which nodes are mobile routers, and how each node was identified.

A mobile node is keyed by home address. The sources, reported per node in
``identified_by`` (sorted; these names are stable):

* ``binding_update``: a BU named it (HAO, else the source; the
  deregistration BU from the home address);
* ``binding_ack``: a BA named it (RH2, else the destination), answering a BU
  or not;
* ``binding_error``: a Binding Error carried it;
* ``tunnel``: the inner header of a home agent <-> care-of tunnel packet
  (`tunnels.TunnelLegs`);
* ``route_optimization``: return routability or route-optimised data
  (HoTI/HoT, HAO/RH2) named it.

A node seen only through its tunnel (signalling in ESP, capture started after
the registration, a probe that missed it) gets its home agent and care-of
addresses from the tunnels (care-of addresses in the order of their first
tunnel packet, the home agent of the latest tunnel to start) and empty
bindings, registrations and handoffs: nothing is guessed. A node whose
signalling shows no accepted home registration takes its home agent and
care-of addresses from its tunnels the same way.

Several home addresses, one node: when a BA accepts a binding of home
address B to care-of address C while another home address A holds an
accepted binding to exactly C that is still in force (not ended, not
expired), A and B are one node (RFC 6275 11.5.1: a care-of address is an
address of the mobile node's own interface; two home addresses bound to it
at the same time are one node's). The node's ``home_address`` is the home
address seen first; ``home_addresses`` lists all of them in the order first
seen (``other_home_addresses`` all but the first). Each home address keeps
its own home agent (``home_agents``: home address -> home agent, RFC 6275
11.5.1: a home address is registered with the home agent on its home link);
``home_agent`` is the first home address's, never another's. Only the full 128-bit
care-of address counts: nodes that merely share a link prefix, or use one
care-of address one after the other, stay apart. Tunnels alone never merge
home addresses.

Mobile routers (NEMO, RFC 3963): a BU with the R flag makes its home address
a mobile router (``mobile_router``); the Mobile Network Prefix options of its
BUs are ``mobile_network_prefixes`` (none in implicit mode). A tunnelled
packet whose inner address lies in a registered prefix is the router's tunnel
traffic (`MobileNetworkPrefixes.router_of`), so it creates no node; so is, in
implicit mode (RFC 3963 5.2: the home agent learns the prefixes otherwise),
one between the home agent and the care-of address of the router's home
binding there (`BindingsAnalyzer.implicit_router_at`).

Also roles: a DHAAD reply's source and listed addresses are home agents; RA
senders are access routers, with the prefixes they advertise
(``access_router_prefixes``).
"""

from __future__ import annotations

from ipaddress import IPv6Address, IPv6Network
from typing import Any

from .. import events as ev
from ..decode.addresses import network
from ..report.builder import ReportBuilder
from ..report.model import AccessRouter
from .base import Analyzer

BINDING_UPDATE, BINDING_ACK, BINDING_ERROR = "binding_update", "binding_ack", "binding_error"
TUNNEL, ROUTE_OPTIMIZATION = "tunnel", "route_optimization"
IDENTIFIED_BY = (BINDING_ACK, BINDING_ERROR, BINDING_UPDATE, ROUTE_OPTIMIZATION, TUNNEL)
DHAAD_REPLY = 145
MAX_PREFIX_MEMO = 1 << 16  # remembered router_of answers (addresses), then start afresh


class MobileNetworkPrefixes:
    """The Mobile Network Prefixes mobile routers registered, and longest-prefix
    lookups of an address in them."""

    def __init__(self) -> None:
        # prefix length -> {address bits above the prefix length: router's home address}
        self.by_length: dict[int, dict[int, IPv6Address]] = {}
        self.prefixes: dict[IPv6Address, list[str]] = {}  # router -> prefixes, in order first seen
        self._lengths: list[int] = []  # longest first
        self._memo: dict[IPv6Address, IPv6Address | None] = {}  # bounded by MAX_PREFIX_MEMO
        self.version = 0  # counts the changes (prefixes, routers registered): answers hold while it stays
        self.bound_routers = 0  # mobile routers' accepted home registrations (implicit mode)

    def add(self, router: IPv6Address, prefix: str) -> None:
        """Register ``prefix`` ("addr/len") for the mobile router ``router``;
        text that is not an IPv6 prefix is ignored."""
        try:
            net = IPv6Network(prefix, strict=False)
        except ValueError:
            return
        text = str(net)
        known = self.prefixes.setdefault(router, [])
        if text not in known:
            known.append(text)
        plen = net.prefixlen
        self.by_length.setdefault(plen, {})[int(net.network_address) >> (128 - plen)] = router
        self._lengths = sorted(self.by_length, reverse=True)
        self._memo.clear()
        self.version += 1

    def router_bound(self) -> None:
        """A mobile router's home registration was accepted: what rests on the
        routers' bindings (implicit mode, `BindingsAnalyzer.implicit_router_at`)
        may change with it."""
        self.bound_routers += 1
        self.version += 1

    def router_of(self, address: IPv6Address) -> IPv6Address | None:
        """The mobile router whose registered prefix holds ``address`` (the
        longest match), or None."""
        memo = self._memo
        if address in memo:
            return memo[address]
        value = int(address)
        found = None
        for plen in self._lengths:
            found = self.by_length[plen].get(value >> (128 - plen))
            if found is not None:
                break
        if len(memo) >= MAX_PREFIX_MEMO:
            memo.clear()
        memo[address] = found
        return found


class HomeAddressGroups:
    """Home addresses known to be one node (union-find); each group's
    representative is the home address seen first."""

    def __init__(self) -> None:
        self._order: dict[IPv6Address, int] = {}
        self._parent: dict[IPv6Address, IPv6Address] = {}

    def seen(self, hoa: IPv6Address) -> None:
        """Note ``hoa`` (its first call fixes its place in the order)."""
        if hoa not in self._order:
            self._order[hoa] = len(self._order)

    def primary(self, hoa: IPv6Address) -> IPv6Address:
        """The first-seen home address of ``hoa``'s node."""
        parent = self._parent
        while hoa in parent:
            hoa = parent[hoa]
        return hoa

    def join(self, a: IPv6Address, b: IPv6Address) -> None:
        """Record that ``a`` and ``b`` are home addresses of one node."""
        self.seen(a)
        self.seen(b)
        ra, rb = self.primary(a), self.primary(b)
        if ra == rb:
            return
        if self._order[rb] < self._order[ra]:
            ra, rb = rb, ra
        self._parent[rb] = ra

    def groups(self) -> list[list[IPv6Address]]:
        """Every group of more than one home address, each in first-seen order."""
        out: dict[IPv6Address, list[IPv6Address]] = {}
        for hoa in self._parent:
            out.setdefault(self.primary(hoa), []).append(hoa)
        return [sorted([root, *rest], key=self._order.__getitem__) for root, rest in out.items()]


class IdentityAnalyzer(Analyzer):
    """Runs last: completes the nodes the other analyzers contributed (see the
    module docstring). ``bindings`` is the `BindingsAnalyzer` (or None)."""

    def __init__(self, bindings: Any | None = None) -> None:
        self.bindings = bindings
        self.home_agents: set[IPv6Address] = set()
        self.router_prefixes: dict[IPv6Address, list[str]] = {}
        self._advertised: set[tuple[IPv6Address, str]] = set()  # (router, prefix as the RA gave it)

    def on_router_advertisement(self, e: ev.RouterAdvertisement) -> None:
        """Keep each access router's advertised prefixes (as networks)."""
        known = self.router_prefixes.setdefault(e.router, [])
        advertised = self._advertised
        for prefix in e.prefixes:
            key = (e.router, prefix)
            if key in advertised:
                continue  # routers repeat their RAs
            advertised.add(key)
            try:
                text = str(network(prefix))
            except ValueError:
                continue
            if text not in known:
                known.append(text)

    def on_icmp_mobility(self, e: ev.IcmpMobility) -> None:
        """A DHAAD reply's source and the addresses it lists are home agents."""
        if e.icmp_type == DHAAD_REPLY:
            self.home_agents.add(e.src)
            self.home_agents.update(e.home_agents)

    def contribute(self, builder: ReportBuilder) -> None:
        """Add tunnel-only and BA-only nodes, roles, ``identified_by``, mobile
        routers, then merge the home addresses of one node."""
        sources: dict[IPv6Address, set[str]] = {}
        bindings = self.bindings
        if bindings is not None:
            for hoa, node in bindings.nodes.items():
                sources[hoa] = set(node.sources)
            for hoa in bindings.unmatched_ack_homes:
                sources.setdefault(hoa, set()).add(BINDING_ACK)
        for hoa, parts in builder.nodes.items():
            if parts.route_optimization:
                sources.setdefault(hoa, set()).add(ROUTE_OPTIMIZATION)
        self._from_tunnels(builder, sources)
        for hoa, names in sources.items():
            builder.node(hoa).identified_by.update(names)
        if bindings is not None:
            for hoa, node in bindings.nodes.items():
                if node.mobile_router:
                    parts = builder.node(hoa)
                    parts.mobile_router = True
                    parts.mobile_network_prefixes = list(bindings.mobile_network_prefixes.prefixes.get(hoa, ()))
            for group in bindings.same_node.groups():
                builder.merge_nodes(group)
        builder.home_agents.update(self.home_agents)
        builder.access_router_prefixes.extend(
            AccessRouter(router, tuple(prefixes)) for router, prefixes in self.router_prefixes.items())

    @staticmethod
    def _from_tunnels(builder: ReportBuilder, sources: dict[IPv6Address, set[str]]) -> None:
        """Nodes named by tunnels; the home agent and care-of addresses of nodes
        whose signalling gave none."""
        by_hoa: dict[IPv6Address, list[Any]] = {}
        for tunnel in builder.tunnels:
            by_hoa.setdefault(tunnel.home_address, []).append(tunnel)
        for hoa, tunnels in by_hoa.items():
            sources.setdefault(hoa, set()).add(TUNNEL)
            tunnels.sort(key=lambda t: (t.start_ts, t.care_of))
            parts = builder.node(hoa)
            if parts.home_agent is None:
                parts.home_agent = tunnels[-1].home_agent
            if not parts.care_of_addresses:
                parts.care_of_addresses = list(dict.fromkeys(t.care_of for t in tunnels))
