"""Handoffs per mobile node (issue 4, part 6), read from the bindings
analyzer's state plus Router Advertisements and data packets.

A handoff is a change of the care-of address the home binding holds, leaving
home (home address -> care-of) and returning home (care-of -> home address)
included: the home address stands for "at home", as in the truth files.
Leaving home is reported for a node's first home registration only when an RA
with its home prefix was seen before it (the node was at home as far as the
capture shows); otherwise the first registration is a boot, not a handoff.

For each handoff:

* ``bu_ts``: the first home BU carrying the new care-of address (to any home
  agent: a rejected attempt to another one counts), ``bu_retransmissions``
  the repeats of its sequence numbers; ``ba_ts`` the accepting BA.
* ``movement_ts``: the latest RA advertising the new address's prefix seen
  after the old address was installed and before that BU (the solicited RA
  on arrival; periodic RAs from the new link heard earlier by an "all" probe
  are older). With ``MOVEMENT_FROM_FIRST_PACKET`` the first packet from the
  new address stands in when no such RA was seen.
* ``first_data_ts``: the first data packet tunnelled to the new care-of
  address after the BA (returning home: the first plain packet to the home
  address); ``registration_ms`` = BA - BU; ``disruption_ms`` = first data at
  the new address - last data the node sent from the old one.
* ``lost_to_old_care_of``: packets the home agent tunnelled to the old care-of
  address that reached it after the node had left, until the accepting BA.
  Departure is not on the wire: the node was still there when it last sent
  from the old address (time L as the capture shows it) and gone when it sent
  the BU from the new one. A packet seen tunnelled at T is counted when it
  would reach the old address after L, i.e. T > L - reach, where ``reach``
  depends on where the capture saw the two packets, which the wire tells:

  - the capture shows the home agent's ingress (data to the home address
    arriving untunnelled while a care-of binding holds) and the old access
    link (an RA with the old address's prefix): every packet is seen where it
    was sent, as in a merged capture of the senders (vantage "all"). reach =
    d, the HA -> care-of delay: the least BU -> BA time of the old address's
    registrations without retransmission (the capture sees the BU leave the
    node and the BA leave the home agent, so that is d plus the home agent's
    processing); HANDOFF_PATH_DELAY_S when none was measurable.
  - the home agent's ingress but not the old access link: a probe at the home
    agent (vantage "ha") sees the node's packets d after they were sent and
    the tunnelled ones as they leave, so reach = 2d. Such a probe sees the BA
    leave within the home agent's processing time of the BU, so d cannot be
    measured there: HANDOFF_PATH_DELAY_S stands for it (see the limits).
  - no home agent ingress: the capture does not sit at the home agent, so a
    packet it shows going to the care-of address was seen where it arrived
    (vantage "mn": the node's own link), i.e. received: none is counted.

  The window never opens earlier than movement hint - HANDOFF_LOOKBACK_S
  (the node was on its old link shortly before the new link's RA), which
  matters only when the node sent nothing for a while before moving.

  Limits: the real departure is on no wire, so the count is what can have
  been lost after the node's last sign of life (an upper bound: a packet that
  arrived between that sign and the departure counts too). At the home agent
  it also rests on an assumed one-way delay (what was tunnelled within
  2 x HANDOFF_PATH_DELAY_S before the node's last packet arrived counts), and
  a node whose own traffic bypasses the home agent (route optimisation) shows
  it no recent sign of life. A probe on the path between the two, or a
  capture filtered to tunnel traffic only (no home agent ingress), counts
  nothing lost.

Memory per node: a few timestamps, counters and flags, plus the timestamps
of the packets tunnelled to the current care-of address in the last few
seconds.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from ipaddress import IPv6Address, IPv6Network, ip_network

from .. import events as ev
from ..report.builder import ReportBuilder
from ..report.model import Handoff
from .base import DataAnalyzer
from .bindings import HOME, BindingsAnalyzer
from .settings import DEFAULT_SETTINGS, Settings

KEEP_S = 5.0  # how far back the per-node tunnel timestamps reach
NETWORKS_KEPT = 1 << 14  # addresses whose candidate networks are remembered


@dataclass
class _Move:
    """A handoff in progress (BU seen, BA or first data still to come)."""

    from_care_of: IPv6Address
    to_care_of: IPv6Address
    movement_ts: float | None
    bu_ts: float | None
    seqs: set[int] = field(default_factory=set)
    retransmissions: int = 0
    lost: int = 0
    last_old_data: float | None = None
    ba_ts: float | None = None


@dataclass
class _Node:
    """Per mobile node: where it is, signs of life at the current address."""

    home_address: IPv6Address
    current: IPv6Address | None = None
    installed_ts: float | None = None
    last_from: float | None = None
    recent: deque[float] = field(default_factory=deque)
    older: int = 0  # tunnelled to current, pruned from ``recent``, after last_from - reach
    booted: bool = False  # its first home BU was seen (leaving home or not decided)
    ha_ingress: bool = False  # data to the home address seen untunnelled while away
    path_delay: float | None = None  # least BU -> BA time of the current care-of's registrations
    reach: float | None = None  # `_reach` for the current care-of; None: to be worked out
    reach_without_link: bool = False  # ``reach`` was worked out before its link was seen
    move: _Move | None = None
    waiting: _Move | None = None  # BA seen, first data not yet
    handoffs: list[Handoff] = field(default_factory=list)


class HandoffAnalyzer(DataAnalyzer):
    """Care-of address changes with their timing and losses."""

    def __init__(self, bindings: BindingsAnalyzer, settings: Settings = DEFAULT_SETTINGS) -> None:
        self.bindings = bindings
        self.settings = settings
        self._first_packet_moves = settings.MOVEMENT_FROM_FIRST_PACKET  # read per packet
        self.nodes: dict[IPv6Address, _Node] = {}
        self._last_ra: dict[IPv6Network, float] = {}
        self._first_ra: dict[IPv6Network, float] = {}
        self._prefix_lengths: set[int] = {64}
        self._networks_of: dict[IPv6Address, list[IPv6Network]] = {}  # for _prefix_lengths
        self._first_from: dict[IPv6Address, float] = {}

    # -- events -------------------------------------------------------------------------

    def on_router_advertisement(self, e: ev.RouterAdvertisement) -> None:
        """Remember when each prefix was last (and first) advertised."""
        for text in e.prefixes:
            try:
                net = ip_network(text, strict=False)
            except ValueError:
                continue  # flagged by the decoder on its frame; events_from_frames skips it
            self._last_ra[net] = e.ts
            if net not in self._first_ra:
                self._first_ra[net] = e.ts
                if net.prefixlen not in self._prefix_lengths:
                    self._prefix_lengths.add(net.prefixlen)
                    self._networks_of.clear()
                for node in self.nodes.values():
                    if node.reach_without_link:
                        node.reach = None  # a link newly in view may be this node's

    def on_binding_update(self, e: ev.BindingUpdate) -> None:
        """A home BU from a new address starts (or retransmits within) a handoff."""
        if "H" not in e.flags:
            return
        node = self._node(e.home_address)
        care_of = e.care_of
        move = node.move
        if move is not None and move.to_care_of == care_of:
            if e.seq in move.seqs:
                move.retransmissions += 1
            move.seqs.add(e.seq)
            return
        if care_of == node.current:
            return
        if node.current is None and move is None:
            first, node.booted = not node.booted, True
            if not first or care_of == node.home_address or not self._was_home(node.home_address, e.ts):
                return  # the first registration after boot: no handoff
            old = node.home_address
        else:
            old = node.current if move is None else move.from_care_of
        node.move = _Move(old, care_of, self._movement_ts(node, care_of, e.ts), e.ts, {e.seq})
        node.move.lost = self._lost_so_far(node, node.move.movement_ts)
        node.move.last_old_data = node.last_from

    def on_binding_ack(self, e: ev.BindingAck) -> None:
        """An accepting home BA completes the handoff in progress."""
        answered = self.bindings.last_answered
        if answered is None or answered.kind != HOME or not answered.accepted:
            return
        node = self._node(answered.home_address)
        care_of = answered.home_address if answered.deregistration else answered.care_of
        move = node.move
        if node.waiting is not None and care_of != node.current:
            self._done(node, node.waiting, None)  # moved on before any data arrived
        gap = e.ts - answered.first_bu_ts if answered.retransmissions == 0 else None
        if move is not None and move.to_care_of == care_of:
            move.ba_ts = e.ts
            node.move, node.waiting = None, move
        elif care_of != node.current and node.current is not None:
            node.waiting = _Move(node.current, care_of, None, None, ba_ts=e.ts,
                                 last_old_data=node.last_from)
        elif care_of == node.current:
            if gap is not None and (node.path_delay is None or gap < node.path_delay):
                node.path_delay, node.reach = gap, None
            return
        node.current, node.installed_ts, node.path_delay, node.reach = care_of, e.ts, gap, None
        node.last_from, node.older = None, 0
        node.recent.clear()

    def finish(self, end_ts: float | None) -> None:
        """Close handoffs still waiting for data or for their BA."""
        for node in self.nodes.values():
            if node.waiting is not None:
                self._done(node, node.waiting, None)
            if node.move is not None:
                self._done(node, node.move, None)

    def contribute(self, builder: ReportBuilder) -> None:
        """Each node's handoffs, in time order."""
        for hoa, node in self.nodes.items():
            if node.handoffs:
                builder.node(hoa).handoffs = list(node.handoffs)

    # -- data ---------------------------------------------------------------------------------

    def _route_nodes(self, t: tuple) -> tuple:
        """(nodes then, node, source) for the packet's route, remembered in it:
        ``node`` is the destination's node when the packet can say something
        about where it is (tunnelled to an address other than its home
        address, or sent to it without a type 2 routing header), ``source``
        the source's node when the packet left it from where it is (tunnelled,
        or sent without a Home Address option); None otherwise. Nodes are
        only ever added, so the answer holds while their number stays."""
        nodes = self.nodes
        outer_dst, src, dst, tunnelled, hao, rh2 = t[4], t[5], t[6], t[7], t[8], t[9]
        node = nodes.get(dst)
        if node is not None and (outer_dst == dst if tunnelled else rh2 is not None):
            node = None
        source = nodes.get(src)
        if source is not None and not tunnelled and hao is not None:
            source = None
        memo = t[15][self] = (len(nodes), node, source)
        return memo

    def tunnelled_data(self, t: tuple) -> None:
        if self.nodes:
            memo = t[15].get(self)
            if memo is None or memo[0] != len(self.nodes):
                memo = self._route_nodes(t)
            node, source = memo[1], memo[2]
            if node is not None:
                ts, outer_dst = t[0], t[4]
                if node.waiting is not None and outer_dst == node.waiting.to_care_of:
                    self._done(node, node.waiting, ts)
                if node.move is not None and outer_dst == node.move.from_care_of:
                    if node.ha_ingress:
                        node.move.lost += 1
                elif outer_dst is node.current or outer_dst == node.current:
                    recent = node.recent
                    recent.append(ts)
                    if recent[0] < ts - KEEP_S:
                        self._prune(node, ts)
            if source is not None and (t[3] is source.current or t[3] == source.current):
                self._alive(source, t[0])
        if self._first_packet_moves and t[3] not in self._first_from:
            self._first_from[t[3]] = t[0]

    def plain_data(self, t: tuple) -> None:
        if self.nodes:
            memo = t[15].get(self)
            if memo is None or memo[0] != len(self.nodes):
                memo = self._route_nodes(t)
            node, source = memo[1], memo[2]
            if node is not None:
                if node.waiting is not None and node.waiting.to_care_of == node.home_address:
                    self._done(node, node.waiting, t[0])
                if (not node.ha_ingress and node.current is not None and t[4] == node.home_address
                        and node.current != node.home_address):
                    node.ha_ingress = True
            if source is not None and (source.current is source.home_address
                                       or source.current == source.home_address):
                self._alive(source, t[0])
        if self._first_packet_moves and t[3] not in self._first_from:
            self._first_from[t[3]] = t[0]

    def _prune(self, node: _Node, now: float) -> None:
        """Forget timestamps older than KEEP_S, counting those that may still be lost."""
        floor = node.last_from - self._reach(node) if node.last_from is not None else float("-inf")
        recent = node.recent
        while recent and recent[0] < now - KEEP_S:
            if recent.popleft() > floor:
                node.older += 1

    def _alive(self, node: _Node, ts: float) -> None:
        """A packet from the node's current address: it was still there at ``ts``."""
        node.last_from, node.older = ts, 0
        recent = node.recent
        if recent:
            # `_reach` is worked out from the node's state whenever it is first needed
            # (and dropped whenever that state changes), so asking only now changes nothing
            floor = ts - (node.reach if node.reach is not None else self._reach(node))
            while recent and recent[0] <= floor:
                recent.popleft()

    def _reach(self, node: _Node) -> float:
        """How much earlier than the node's last packet from its current address
        (as the capture shows it) a packet can be seen tunnelled there and still
        arrive after it (see the module docstring)."""
        if node.reach is None:
            assumed = self.settings.HANDOFF_PATH_DELAY_S
            if node.current is None or self._link_seen(node.current):
                node.reach = node.path_delay if node.path_delay is not None else assumed
                node.reach_without_link = False
            else:
                node.reach = 2 * assumed
                node.reach_without_link = True
        return node.reach

    def _link_seen(self, address: IPv6Address) -> bool:
        """Whether an RA advertising ``address``'s prefix was seen."""
        return any(net in self._first_ra for net in self._networks(address))

    def _lost_so_far(self, node: _Node, hint: float | None) -> int:
        """Packets tunnelled to the current address since the node seems to have left."""
        if not node.ha_ingress:
            return 0  # the capture shows packets where they arrive: received
        s = self.settings
        starts = []
        if node.last_from is not None:
            starts.append(node.last_from - self._reach(node))
        if hint is not None:
            starts.append(hint - s.HANDOFF_LOOKBACK_S)
        start = max(starts) if starts else None
        if start is None:
            return node.older + len(node.recent)
        count = sum(1 for ts in node.recent if ts > start)
        if node.recent and start < node.recent[0]:
            count += node.older
        return count

    # -- helpers ----------------------------------------------------------------------------------

    def _node(self, hoa: IPv6Address) -> _Node:
        node = self.nodes.get(hoa)
        if node is None:
            node = self.nodes[hoa] = _Node(hoa)
        return node

    def _networks(self, address: IPv6Address) -> list[IPv6Network]:
        """The networks of ``address`` for every prefix length advertised so
        far, longest first (remembered per address)."""
        nets = self._networks_of.get(address)
        if nets is None:
            if len(self._networks_of) >= NETWORKS_KEPT:
                self._networks_of.clear()
            ip = int(address)
            nets = self._networks_of[address] = [
                IPv6Network((ip >> (128 - n) << (128 - n), n))
                for n in sorted(self._prefix_lengths, reverse=True)]
        return nets

    def _was_home(self, hoa: IPv6Address, before: float) -> bool:
        """Whether an RA with the home prefix was seen before ``before``."""
        return any(self._first_ra.get(net, before) < before for net in self._networks(hoa))

    def _movement_ts(self, node: _Node, care_of: IPv6Address, bu_ts: float) -> float | None:
        after = node.installed_ts if node.installed_ts is not None else float("-inf")
        hints = [ts for net in self._networks(care_of)
                 if (ts := self._last_ra.get(net)) is not None and after < ts <= bu_ts]
        if hints:
            return max(hints)
        first = self._first_from.get(care_of)
        if self.settings.MOVEMENT_FROM_FIRST_PACKET and first is not None and after < first <= bu_ts:
            return first
        return None

    def _done(self, node: _Node, move: _Move, first_data: float | None) -> None:
        registration = (None if move.ba_ts is None or move.bu_ts is None
                        else round((move.ba_ts - move.bu_ts) * 1000, 3))
        disruption = (None if first_data is None or move.last_old_data is None
                      else round((first_data - move.last_old_data) * 1000, 3))
        node.handoffs.append(Handoff(move.from_care_of, move.to_care_of, move.movement_ts, move.bu_ts,
                                     move.ba_ts, first_data, registration, disruption,
                                     move.retransmissions, move.lost))
        if node.waiting is move:
            node.waiting = None
        if node.move is move:
            node.move = None


def handoff_stats(handoffs: list[Handoff]) -> dict[str, float | int | None]:
    """Count, median, p95 and max of the registration latency (ms) over handoffs."""
    values = sorted(h.registration_ms for h in handoffs if h.registration_ms is not None)
    if not values:
        return {"count": len(handoffs), "median_ms": None, "p95_ms": None, "max_ms": None}
    p95 = values[min(len(values) - 1, max(0, -(-95 * len(values) // 100) - 1))]
    return {"count": len(handoffs), "median_ms": statistics.median(values), "p95_ms": p95,
            "max_ms": values[-1]}
