"""Handoffs per mobile node, read from the bindings analyzer's state plus
Router Advertisements, home Binding Updates and data packets.

A handoff is an attempt to change the care-of address the home binding holds,
leaving home (home address -> care-of) and returning home (care-of -> home
address) included: the home address stands for "at home", as in the truth
files. Leaving home is reported for a node's first home registration only
when the capture shows the node at home before it; otherwise the first
registration is a boot (or, when the capture starts mid-binding, a refresh).
The evidence is either

* a packet whose outermost source is the home address (data, or a Neighbor
  Advertisement, Neighbor Solicitation or Router Solicitation the node
  sent), seen before the BU and before any packet
  reverse-tunnelled from the home address: away from home the node sends
  from its home address only through the tunnel or under a Home Address
  option, both with the care-of address outside (RFC 6275 11.3.1), and what
  the home agent forwards after decapsulating (10.4.5) follows a tunnelled
  copy; or
* an RA with the home prefix seen before the BU, at every vantage except
  where the probe sees the home agent's side ("ha", "all"): routers send
  unsolicited RAs periodically (RFC 4861 6.2.4), so a probe on the home link
  sees the home agent's whether the node is there or not, while a probe that
  travels with the node ("mn") sees them only at home. The vantage is known
  at the end of the pass, so such a leaving home is kept until then
  (``home_by_ra``) and left out of the report when the vantage is "ha" or
  "all".

Each handoff is one chain of home BUs (RFC 6275 11.7.1, 11.8; seed 3.2.1:
retransmissions carry increasing sequence numbers) for one new care-of
address, sent before a BA answers any of them, whatever their sequence
numbers and whichever home agent they went to:

* ``bu_ts`` the chain's first BU, ``bu_frames`` all of them,
  ``bu_retransmissions`` = len(bu_frames) - 1; ``ba_ts`` the answering BA;
  ``registration_ms`` = accepting BA - first BU.
* ``outcome`` (RFC 6275 11.7.3): ``completed`` (a BA with status < 128
  accepted it), ``rejected`` (status >= 128; ``status`` and ``status_name``
  say which; a next chain for the same address is a new handoff),
  ``superseded`` (a home BU for another address - the node moved again, went
  home or came back - while the chain was still being retransmitted, i.e.
  within MAX_BINDACK_TIMEOUT of its last BU; a BA answering it, or any
  chain older than the node's latest home BU, changes neither its row nor
  the next chain's, and makes no row of its own), ``no_answer`` (the
  capture ended, or the node stopped retransmitting, without a BA).
* ``movement_ts``: the latest RA advertising the new address's prefix seen
  after the old address was installed and before the first BU
  (``MOVEMENT_FROM_FIRST_PACKET``: the first packet from the new address when
  no such RA was seen). ``first_data_ts``: the first data packet tunnelled or
  route-optimised to the new care-of address after the accepting BA
  (returning home: the first plain packet to the home address).

A registration with another home agent is a handoff only when its care-of
address is a new one: the node moved (RFC 6275 11.5.1, "The primary goal of
movement detection is to detect L3 handovers"; a new link, a new care-of
address). Registering the care-of address the node is at with a second home
agent is no movement: no handoff, nothing lost to an old address.

Returning home is the home registration with care-of address = home address
(RFC 6275 11.5.4; seed 3.2.5: "a lifetime of zero and a care-of address
(source address) equal to the mobile node's home address"). A lifetime-0 BU
from a care-of address deletes the binding (6.1.7) while the node stays
where it is: it is no handoff.

Packets lost to the old care-of address (RFC 6275 10.4.1, 11.5.1; seed
3.2.4, figure 3-5: the home agent tunnels to the old address until the BU
reaches it; 9.3.2: a correspondent with a binding sends to the care-of
address of its Binding Cache entry, with a type 2 routing header, until the
node's BU to it updates it). They are the packets sent to that address,
tunnelled by the home agent or route-optimised by a correspondent: the node
receives neither once it has left. The node's departure from its old link is
on no wire; what the capture shows are the node's last packet from its old
address (``L``, any packet: data in a tunnel, route-optimised data with a
Home Address option, a BU) and its first from the new one (``F``: its first
BU, or any packet seen earlier from that address after the old one was
installed; returning home, the BU only, since the home agent forwards the
node's packets from the home address while it is away). A packet seen sent
to the old care-of address at ``T`` is

* ``lost_to_old_care_of`` when F < T, up to the handoff's first data on the
  new path (when its row is recorded; later ones are in no count): the node
  was sending from elsewhere, so it cannot have received it on the old link.
  This holds at every vantage (where a probe sees the node's packet late and
  the tunnelled one early, the rule only errs towards counting fewer), and
  after the accepting BA too: the home agent updates its Binding Cache
  before it sends the BA (RFC 6275 10.3.1) and tunnels to the cache's
  care-of address (10.4.1), and a correspondent keeps sending to the old one
  until its own binding moves, so a packet to the old address then is lost
  whatever its sender's reason.
* ``possibly_lost_to_old_care_of`` when L - reach < T <= F: the node left at
  some time in that window; the packet may or may not have reached it. It is
  reported, never folded into a silent zero. ``reach`` allows for where the
  capture saw the two packets: at the senders (vantage "all") d, the home
  agent -> care-of delay (the least BU -> BA time of the old address's
  registrations without retransmission, else HANDOFF_PATH_DELAY_S); at the
  home agent ("ha") the node's packet arrives d late and the tunnelled one
  needs d more, so 2 x HANDOFF_PATH_DELAY_S; at an unknown tap ("tap",
  "cn") the larger of the two. At the mobile node's own link ("mn", given
  with --vantage only: no wire proves it) a packet the probe saw going to the
  node arrived, so none is possibly lost.
* neither otherwise (received while the node was still there).

Packets lost after a rejection count in the next attempt (or the rejected
one, when none follows); possibly lost ones in the first attempt. The
disruption reads all of them, whichever attempt counts them (below).

Vantage (``vantage``, the --vantage option): "auto" infers it from the wire,
per node: data to the home address seen untunnelled while a care-of binding
holds (the home agent's ingress) together with an RA from the old care-of's
link is "all"; the ingress without that link is "ha"; no ingress is "tap"
(the probe is somewhere between; nothing on the wire proves it is the node's
own link, which the old rule assumed, counting nothing). Given, it applies
to every node.
``capture_vantage()`` gives the capture's vantage and the reason for the
report (``capture.vantage``, ``capture.vantage_reason``).

Disruption (``disruption_ms``): the time the node could not receive (seed
3.2.4 and its figure 3-5: packets are lost from the movement until the
binding ack; RFC 6275 11.5.1: the node is unreachable at its old address
once it left, and 10.4.1: reachable at the new one once the home agent's
cache holds it). It runs from the node's last packet on the old path, in
either direction, to its first on the new one, in either direction:

* start: the later of ``L`` (at vantage "mn" also the last packet seen
  arriving at the old address) and the first packet sent there that it
  may have missed (the first lost or possibly lost one): before that packet
  the application had nothing to deliver, and idle time is not disruption;
* end: the first data packet to or from the new address after the accepting
  BA (``first_data_ts`` or the node's first reverse-tunnelled packet).

When the window from start to end holds a silence longer than
``Settings.DISRUPTION_IDLE_GAP_S`` (no packet to or from the node on either
path: no missed packet of any of the move's attempts, no BU, BA or data),
the application was idle there and the window measures its idleness, not the
cut (issue 10: "time when the application simply sent nothing is not
disruption"); so does a move whose window cannot be measured. The disruption
is then measured from the node's first packet from its new address (``F``:
it had left by then) to the accepting BA (its home agent reaches it from
then), a lower bound without the idle time, and
``disruption_bounded_by_idle`` is true.

Memory per node: a few timestamps and counters, and at most MAX_FRAMES_KEPT
(ts, frame) pairs per count: the packets sent to the current care-of
address since the node's last packet from it (less ``reach``), the lost ones
of the attempt in progress (for the findings, which keep no more). The
times of all of them, kept or not, are kept as runs without a silence
(`activity.Runs`), over the whole move, so the disruption's start and its silences do not depend
on which frames were kept. Across nodes: the first packet seen from each of
at most NETWORKS_KEPT addresses.
"""

from __future__ import annotations

import statistics
from array import array
from dataclasses import dataclass, field, replace
from functools import partial
from ipaddress import IPv6Address, IPv6Network

from .. import events as ev
from ..decode.addresses import network
from ..report.builder import ReportBuilder
from ..report.model import Handoff
from .activity import Runs, silent
from .base import DataAnalyzer
from .bindings import HOME, BindingsAnalyzer
from .settings import DEFAULT_SETTINGS, Settings

VANTAGES = ("auto", "mn", "ha", "cn", "tap")
MAX_REACH_S = 2.0  # the longest reach allowed (a slow home agent's BU -> BA time)
MAX_FRAMES_KEPT = 1000  # frame numbers kept per count for the findings
NETWORKS_KEPT = 1 << 14  # addresses whose candidate networks (or first packet) are remembered
COMPLETED, REJECTED, NO_ANSWER, SUPERSEDED = "completed", "rejected", "no_answer", "superseded"


@dataclass(slots=True)
class _Attempt:
    """One chain of home BUs for the move's new address."""

    bu_ts: float
    frames: list[int]
    last_ts: float
    lost: int = 0
    lost_frames: list[tuple[float, int]] = field(default_factory=list)  # the first MAX_FRAMES_KEPT


@dataclass(slots=True)
class _Move:
    """A move away from ``from_care_of`` in progress (first BU seen, accepting
    BA or first data still to come); its attempts are recorded as they end."""

    from_care_of: IPv6Address
    to_care_of: IPv6Address
    movement_ts: float | None
    first_new: float | None  # F: the node's first packet from the new address
    last_old: float | None   # L (at vantage mn: or the last packet seen arriving there)
    attempt: _Attempt | None = None  # the chain being retransmitted (None after a rejection)
    possibly: int = 0
    possibly_frames: list[tuple[float, int]] = field(default_factory=list)  # the newest MAX_FRAMES_KEPT
    possibly_runs: Runs | None = None  # the times of all of them (kept over the whole move)
    missed: int = 0  # lost + possibly lost (+ arrivals at vantage mn) over the whole move
    first_missed: float | None = None  # the first of those
    lost_pending: int = 0  # lost after a rejection, for the next attempt
    lost_pending_frames: list[tuple[float, int]] = field(default_factory=list)
    lost_runs: Runs | None = None  # the times of every lost one, over the whole move (all its attempts)
    ba_ts: float | None = None
    first_from_new: float | None = None  # first data from the new address after the BA


@dataclass(slots=True)
class _Node:
    """Per mobile node: where it is, signs of life at the current address."""

    home_address: IPv6Address
    current: IPv6Address | None = None
    installed_ts: float | None = None
    last_chain: int = 0  # the node's latest home BU chain (`bindings.BuStep.order`)
    last_from: float | None = None  # L at the current address
    last_to: float | None = None    # last packet seen tunnelled to the current address
    # (ts, frame) tunnelled to the current address after last_from - reach (possibly lost if
    # the node moves now), the newest MAX_FRAMES_KEPT; ``overflow`` counts the older ones.
    # Flat, ts then frame (ts, frame, ts, frame, ...) as doubles (a frame number is exact
    # below 2^53): 16 bytes a packet, not a tuple, a float and an int (a node that only
    # receives keeps all MAX_FRAMES_KEPT)
    candidates: array = field(default_factory=partial(array, "d"))
    overflow: int = 0
    overflow_runs: Runs | None = None  # the times of the ``overflow`` older ones (their first too)
    booted: bool = False
    home_by_ra: bool = False  # leaving home rests on an RA alone (module docstring)
    ha_ingress: bool = False
    path_delay: float | None = None
    reach: float | None = None
    reach_without_link: bool = False
    move: _Move | None = None
    waiting: _Move | None = None  # accepting BA seen, first data not yet
    handoffs: list[Handoff] | tuple[()] = ()  # () until the first (most nodes never move)


class HandoffAnalyzer(DataAnalyzer):
    """Care-of address changes with their timing, outcome and losses.

    ``vantage`` is where the capture was taken ("auto": inferred from the
    wire; "mn", "ha", "cn", "tap": as the user says, see the module docstring)."""

    def __init__(self, bindings: BindingsAnalyzer, settings: Settings = DEFAULT_SETTINGS,
                 vantage: str = "auto") -> None:
        if vantage not in VANTAGES:
            raise ValueError(f"vantage {vantage!r} is not one of {', '.join(VANTAGES)}")
        self.bindings = bindings
        self.settings = settings
        self.vantage = vantage
        self.nodes: dict[IPv6Address, _Node] = {}
        # (certainly lost?, home address, first ts, frames, message) per handoff, for the findings
        self.losses: list[tuple[bool, IPv6Address, float, array, str]] = []
        self._frames_left: dict[tuple[bool, IPv6Address], int] = {}  # MAX_FRAMES_KEPT per node and count
        self._tunnels_seen = False
        self._care_ofs: set[IPv6Address] = set()  # every care-of address bound (for capture_vantage)
        self._last_ra: dict[IPv6Network, float] = {}
        self._first_ra: dict[IPv6Network, float] = {}
        self._prefix_lengths: set[int] = {64}
        self._networks_of: dict[IPv6Address, list[IPv6Network]] = {}
        self._first_from: dict[IPv6Address, float] = {}
        self._first_tunnelled_from: dict[IPv6Address, float] = {}  # by the inner source

    # -- events -------------------------------------------------------------------------

    def on_router_advertisement(self, e: ev.RouterAdvertisement) -> None:
        """Remember when each prefix was last (and first) advertised."""
        for text in e.prefixes:
            try:
                net = network(text)
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

    def on_neighbor_advertisement(self, e: ev.NeighborAdvertisement | ev.NeighborSolicitation
                                  | ev.RouterSolicitation) -> None:
        """An NA, NS or RS the node sent is a packet from its source address like
        any other (``_first_from``): from the home address, it shows the node
        at home (module docstring; RFC 6275 11.3.1: away, the node sends from
        its home address only tunnelled or under a Home Address option).
        A home agent's proxy NA for the home address (10.4.1) has the home
        agent's own address as its source, and the unspecified source of
        Duplicate Address Detection (which the home agent may do for the
        home address too) names nobody."""
        if e.plain and not e.src.is_unspecified and len(self._first_from) < NETWORKS_KEPT:
            self._first_from.setdefault(e.src, e.ts)

    on_neighbor_solicitation = on_neighbor_advertisement
    on_router_solicitation = on_neighbor_advertisement

    def on_binding_update(self, e: ev.BindingUpdate) -> None:
        """A BU is a sign of life at its care-of address; a home BU from a new
        address starts, retransmits or supersedes a handoff."""
        care_of = e.care_of
        node = self.nodes.get(e.home_address)
        if node is not None and care_of == node.current and care_of != node.home_address:
            self._alive(node, e.ts)
        elif len(self._first_from) < NETWORKS_KEPT:
            self._first_from.setdefault(care_of, e.ts)
        if "H" not in e.flags:
            return
        node = self._node(e.home_address)
        if self.bindings.last_bu is not None:
            node.last_chain = self.bindings.last_bu.order
        if node.waiting is not None and care_of != node.waiting.to_care_of:
            self._done(node, node.waiting, None)  # moved on before any data arrived
        move = node.move
        if move is not None:
            if care_of == move.to_care_of:
                if move.attempt is None:
                    move.attempt = _Attempt(e.ts, [e.frame], e.ts)
                else:
                    move.attempt.frames.append(e.frame)
                    move.attempt.last_ts = e.ts
                return
            self._end_attempt(node, move, e.ts)
            node.move = None
            if care_of == node.current:
                return  # back where the binding is: a refresh
            self._open(node, move.from_care_of, care_of, e, carried=move)
            return
        if care_of == node.current:
            return
        if node.current is None:
            first, node.booted = not node.booted, True
            evidence = self._was_home(node.home_address, e.ts) if first else None
            if evidence is None or care_of == node.home_address:
                return  # the first registration after boot: no handoff
            node.home_by_ra = evidence == "ra"
            self._open(node, node.home_address, care_of, e)
            return
        self._open(node, node.current, care_of, e)

    def on_binding_ack(self, e: ev.BindingAck) -> None:
        """A home BA answers the handoff's chain: accepted or rejected."""
        answered = self.bindings.last_answered
        if answered is None or answered.kind != HOME:
            return
        if answered.deregistration and answered.care_of != answered.home_address:
            return  # deleted from away, not returning home (module docstring)
        node = self._node(answered.home_address)
        care_of = answered.home_address if answered.deregistration else answered.care_of
        move = node.move
        if move is not None and move.to_care_of == care_of and move.attempt is not None:
            if not answered.accepted:
                self._record(node, move, REJECTED, e.ts, e.status, e.status_name)
                move.attempt = None
                return
            move.ba_ts = e.ts
            node.move, node.waiting = None, move
        elif not answered.accepted:
            return
        elif care_of != node.current and node.current is not None:
            if answered.order < node.last_chain:
                return  # a late BA for a chain a later one superseded (recorded when it was)
            if node.waiting is not None:
                self._done(node, node.waiting, None)
            # a registration whose BUs the capture did not show
            node.waiting = _Move(node.current, care_of, None, None, self._last_old(node), ba_ts=e.ts)
        elif care_of == node.current:
            gap = e.ts - answered.first_bu_ts if answered.retransmissions == 0 else None
            if gap is not None and (node.path_delay is None or gap < node.path_delay):
                node.path_delay, node.reach = gap, None
            return
        gap = e.ts - answered.first_bu_ts if answered.retransmissions == 0 else None
        if care_of != node.home_address and len(self._care_ofs) < NETWORKS_KEPT:
            self._care_ofs.add(care_of)
        node.current, node.installed_ts, node.path_delay, node.reach = care_of, e.ts, gap, None
        node.last_from = node.last_to = None
        del node.candidates[:]
        node.overflow, node.overflow_runs = 0, None

    def finish(self, end_ts: float | None) -> None:
        """Close handoffs still waiting for data or for their BA."""
        for node in self.nodes.values():
            if node.waiting is not None:
                self._done(node, node.waiting, None)
            if node.move is not None:
                self._end_attempt(node, node.move, None)
                node.move = None

    def contribute(self, builder: ReportBuilder) -> None:
        """Each node's handoffs, in time order (without a leaving home that
        rests on an RA a probe at the home agent sees anyway: module docstring)."""
        ra_is_no_sign = self.capture_vantage()[0] in ("ha", "all")
        for hoa, node in self.nodes.items():
            handoffs = node.handoffs
            if ra_is_no_sign and node.home_by_ra:
                skip = next((i for i, h in enumerate(handoffs) if h.from_care_of != hoa), len(handoffs))
                handoffs = handoffs[skip:]
            if handoffs:
                builder.node(hoa).handoffs = list(handoffs)

    def capture_vantage(self) -> tuple[str, str]:
        """(vantage, one-sentence reason) for the report's capture info."""
        if self.vantage != "auto":
            return self.vantage, f"given with --vantage {self.vantage}"
        if not self.nodes:
            return "unknown", "no mobile node's home registration is on the wire"
        ingress = any(n.ha_ingress for n in self.nodes.values())
        if ingress and any(self._link_seen(care_of) for care_of in self._care_ofs):
            return "all", ("the home agent's untunnelled ingress and an RA from a care-of address's "
                           "link are both on the wire (a capture of the senders)")
        if ingress:
            return "ha", ("data to a home address arrives untunnelled while its care-of binding holds, "
                          "and no care-of link's RA is seen (a probe at the home agent)")
        if self._tunnels_seen:
            return "tap", ("tunnelled packets but no home agent ingress: the probe is between the home "
                           "agent and the nodes (lost packets counted at every vantage)")
        return "unknown", "no tunnelled data to tell where the probe was"

    # -- data ---------------------------------------------------------------------------------

    def _route_nodes(self, t: tuple) -> tuple:
        """(nodes then, node, source) for the packet's route, remembered in it:
        ``node`` the destination's node when the packet is tunnelled to an
        address other than its home address, or sent to it plainly or
        route-optimised (a type 2 routing header, to a care-of address); ``source``
        the source's node (the sender's address is the outer source: a
        tunnel's care-of address, the care-of address under a Home Address
        option, the home address itself); None otherwise. Nodes are only
        ever added, so the answer holds while their number stays. Also notes
        each address's first packet, and that a tunnel was seen (a route's
        first packet is enough for both)."""
        nodes = self.nodes
        outer_dst, src, dst, tunnelled = t[4], t[5], t[6], t[7]
        node = nodes.get(dst)
        if node is not None and tunnelled and outer_dst == dst:
            node = None
        source = nodes.get(src)
        if len(self._first_from) < NETWORKS_KEPT:
            self._first_from.setdefault(t[3], t[0])
        if tunnelled:
            self._tunnels_seen = True
            if len(self._first_tunnelled_from) < NETWORKS_KEPT:
                self._first_tunnelled_from.setdefault(src, t[0])
        memo = t[15][self] = (len(nodes), node, source)
        return memo

    def tunnelled_data(self, t: tuple) -> None:
        """A packet to the node at a care-of address (``t[4]``), tunnelled by
        its home agent (RFC 6275 10.4.1), or route-optimised by a
        correspondent (9.3.2; `plain_data` hands those on): lost or possibly
        lost at the address it left (module docstring), the first data on the
        new path, or a candidate at the current one."""
        memo = t[15].get(self)
        if memo is None or memo[0] != len(self.nodes):
            memo = self._route_nodes(t)
        node, source = memo[1], memo[2]
        if node is not None:
            ts, outer_dst = t[0], t[4]
            waiting = node.waiting
            if waiting is not None and outer_dst == waiting.to_care_of:
                self._done(node, waiting, ts)
            move = node.move
            if move is not None and outer_dst == move.from_care_of:
                self._lost(move, ts, t[1])
            elif waiting is not None and outer_dst == waiting.from_care_of:
                self._lost(waiting, ts, t[1])  # after the accepting BA: the node left (10.3.1)
            elif outer_dst is node.current or outer_dst == node.current:
                node.last_to = ts
                candidates = node.candidates
                candidates.append(ts)
                candidates.append(t[1])
                if len(candidates) > 2 * MAX_FRAMES_KEPT:
                    self._overflow(node)
        if source is not None:
            self._from_node(source, t)

    def plain_data(self, t: tuple) -> None:
        if t[9] is not None:  # a type 2 routing header: to the node's care-of address
            self.tunnelled_data(t)
            return
        memo = t[15].get(self)
        if memo is None or memo[0] != len(self.nodes):
            memo = self._route_nodes(t)
        node, source = memo[1], memo[2]
        if node is not None:
            if node.waiting is not None and node.waiting.to_care_of == node.home_address:
                self._done(node, node.waiting, t[0])
            if (not node.ha_ingress and node.current is not None and t[4] == node.home_address
                    and node.current != node.home_address):
                node.ha_ingress, node.reach = True, None
        if source is not None:
            self._from_node(source, t)

    def _from_node(self, node: _Node, t: tuple) -> None:
        """A packet whose sender's address (``t[3]``) is one of the node's."""
        sender = t[3]
        waiting = node.waiting
        # the BA made the new address current: its first packet is also the move's end
        if waiting is not None and waiting.first_from_new is None and sender == waiting.to_care_of:
            waiting.first_from_new = t[0]
        if sender is node.current or sender == node.current:
            self._alive(node, t[0])

    def _lost(self, move: _Move, ts: float, frame: int) -> None:
        """A packet sent to the old address after the node sent from the new one."""
        move.missed += 1
        if move.first_missed is None:
            move.first_missed = ts
        attempt = move.attempt
        if attempt is not None:
            attempt.lost += 1
            kept = attempt.lost_frames
        else:
            move.lost_pending += 1
            kept = move.lost_pending_frames
        runs = move.lost_runs = move.lost_runs or self._runs()
        runs.add(ts)
        if len(kept) < MAX_FRAMES_KEPT:
            kept.append((ts, frame))

    def _runs(self) -> Runs:
        """New runs of missed packets' times, split at the idle gap (`_disruption`)."""
        return Runs(self.settings.DISRUPTION_IDLE_GAP_S)

    def _overflow(self, node: _Node) -> None:
        """The node's candidates are more than MAX_FRAMES_KEPT: the oldest is
        only counted (``overflow``) and its time kept in ``overflow_runs``."""
        node.overflow_runs = node.overflow_runs or self._runs()
        node.overflow_runs.add(node.candidates[0])
        del node.candidates[:2]
        node.overflow += 1

    def _alive(self, node: _Node, ts: float) -> None:
        """A packet from the node's current address: it was still there at ``ts``."""
        node.last_from = ts
        candidates = node.candidates
        if candidates:
            floor = ts - (node.reach if node.reach is not None else self._reach(node))
            if candidates[0] <= floor:
                node.overflow, node.overflow_runs = 0, None  # older than the oldest kept: below the floor too
                kept = next((i for i in range(0, len(candidates), 2) if candidates[i] > floor),
                            len(candidates))
                del candidates[:kept]

    def _vantage_of(self, node: _Node) -> str:
        """The vantage for ``node``'s counts: as given, else inferred (module docstring)."""
        if self.vantage != "auto":
            return self.vantage
        if node.ha_ingress:
            return "all" if node.current is None or self._link_seen(node.current) else "ha"
        return "tap"

    def _reach(self, node: _Node) -> float:
        """How much earlier than the node's last packet from its current address
        (as the capture shows it) a packet can be seen tunnelled there and still
        arrive after it (see the module docstring)."""
        if node.reach is None:
            assumed = self.settings.HANDOFF_PATH_DELAY_S
            vantage = self._vantage_of(node)
            measured = node.path_delay if node.path_delay is not None else assumed
            if vantage == "all":
                reach = measured
            elif vantage in ("ha", "mn"):
                reach = 2 * assumed
            else:
                reach = max(measured, 2 * assumed)
            node.reach = min(reach, MAX_REACH_S)
            node.reach_without_link = self.vantage == "auto" and not (
                node.current is None or self._link_seen(node.current))
        return node.reach

    def _link_seen(self, address: IPv6Address) -> bool:
        """Whether an RA advertising ``address``'s prefix was seen."""
        first_ra = self._first_ra
        return bool(first_ra) and any(net in first_ra for net in self._networks(address))

    # -- moves and attempts -------------------------------------------------------------------

    def _last_old(self, node: _Node) -> float | None:
        """The node's last packet on its current path (at vantage mn: either way)."""
        if self.vantage == "mn" and node.last_to is not None:
            return max(node.last_to, node.last_from if node.last_from is not None else node.last_to)
        return node.last_from

    def _open(self, node: _Node, old: IPv6Address, care_of: IPv6Address, e: ev.BindingUpdate,
              carried: _Move | None = None) -> None:
        """A first home BU for ``care_of``: a move from ``old`` (``carried``: the
        move it supersedes, whose departure and losses it continues)."""
        if carried is not None:
            first_new, last_old = carried.first_new, carried.last_old
            move = _Move(old, care_of, self._movement_ts(node, care_of, e.ts), first_new, last_old,
                         _Attempt(e.ts, [e.frame], e.ts), possibly_runs=carried.possibly_runs,
                         missed=carried.missed, first_missed=carried.first_missed,
                         lost_runs=carried.lost_runs)
            node.move = move
            return
        first_new = e.ts
        # the home address is no sign: the home agent forwards the node's reverse-tunnelled
        # packets from it while the node is away
        seen = self._first_from.get(care_of) if care_of != node.home_address else None
        installed = node.installed_ts if node.installed_ts is not None else float("-inf")
        if seen is not None and installed < seen < first_new:
            first_new = seen
        move = _Move(old, care_of, self._movement_ts(node, care_of, e.ts), first_new, self._last_old(node),
                     _Attempt(e.ts, [e.frame], e.ts))
        if node.candidates and old == node.current:
            # what was tunnelled to the old address since L - reach: lost after F, else possibly
            # (those past the newest MAX_FRAMES_KEPT were older still: possibly lost)
            possibly = move.possibly_runs = node.overflow_runs or self._runs()
            move.first_missed = node.candidates[0] if possibly.first is None else possibly.first
            for ts, frame in zip(node.candidates[::2], map(int, node.candidates[1::2]), strict=True):
                if ts > first_new:
                    self._lost(move, ts, frame)
                else:
                    move.possibly_frames.append((ts, frame))
                    possibly.add(ts)
            move.possibly = len(move.possibly_frames) + node.overflow
            move.missed += move.possibly
        if self.vantage == "mn":  # what the node's link showed, arrived
            move.possibly_frames, move.possibly, move.possibly_runs = [], 0, None
        node.move = move
        del node.candidates[:]
        node.overflow, node.overflow_runs = 0, None

    def _end_attempt(self, node: _Node, move: _Move, now: float | None) -> None:
        """The chain in progress ends without a BA: superseded by a BU for
        another address at ``now``, or no answer (capture end, or retransmissions
        had stopped)."""
        if move.attempt is None:
            if move.lost_pending and node.handoffs:  # lost after the last rejection
                last = node.handoffs[-1]
                node.handoffs[-1] = replace(last, lost_to_old_care_of=last.lost_to_old_care_of
                                            + move.lost_pending)
                self._loss_finding(node, move, move.lost_pending_frames, move.lost_pending)
            return
        stopped = now is None or now - move.attempt.last_ts > self.settings.MAX_BINDACK_TIMEOUT
        self._record(node, move, NO_ANSWER if stopped else SUPERSEDED, None, None, None)

    def _record(self, node: _Node, move: _Move, outcome: str, ba_ts: float | None, status: int | None,
                status_name: str | None, first_data: float | None = None) -> None:
        """Append the attempt in progress as a Handoff, with its losses."""
        attempt = move.attempt
        assert attempt is not None
        lost = attempt.lost + move.lost_pending
        lost_frames = move.lost_pending_frames + attempt.lost_frames
        move.lost_pending, move.lost_pending_frames = 0, []
        possibly, possibly_frames, possibly_runs = move.possibly, move.possibly_frames, move.possibly_runs
        move.possibly, move.possibly_frames = 0, []
        registration = (round((ba_ts - attempt.bu_ts) * 1000, 3)
                        if ba_ts is not None and outcome == COMPLETED else None)
        disruption, idle = (self._disruption(move, first_data, attempt)
                            if outcome == COMPLETED else (None, False))
        handoff = Handoff(
            move.from_care_of, move.to_care_of, move.movement_ts, attempt.bu_ts, ba_ts, first_data,
            registration, disruption, len(attempt.frames) - 1, lost, outcome, status, status_name,
            tuple(attempt.frames), possibly, idle)
        if node.handoffs:
            node.handoffs.append(handoff)
        else:
            node.handoffs = [handoff]
        self._loss_finding(node, move, lost_frames, lost)
        if possibly:
            self.losses.append((
                False, node.home_address,
                possibly_runs.first if possibly_runs is not None and possibly_runs.first is not None
                else attempt.bu_ts,
                self._kept_frames(False, node.home_address, possibly_frames),
                f"{_packets(possibly)} tunnelled to old care-of {move.from_care_of} between the node's last "
                f"packet from it and its first from {move.to_care_of}: they may not have reached it"))

    def _loss_finding(self, node: _Node, move: _Move, frames: list[tuple[float, int]], count: int) -> None:
        if count:
            self.losses.append((
                True, node.home_address, frames[0][0] if frames else 0.0,
                self._kept_frames(True, node.home_address, frames),
                f"{_packets(count)} tunnelled to old care-of {move.from_care_of} after the node sent from "
                f"{move.to_care_of}"))

    def _kept_frames(self, certain: bool, hoa: IPv6Address, frames: list[tuple[float, int]]) -> array:
        """The frame numbers of ``frames`` within the node's budget for the count
        (the findings keep no more than that either)."""
        left = self._frames_left.get((certain, hoa), MAX_FRAMES_KEPT)
        kept = array("q", [f for _, f in frames[:left]])  # 8 bytes a frame number
        self._frames_left[(certain, hoa)] = left - len(kept)
        return kept

    def _disruption(self, move: _Move, first_data: float | None,
                    attempt: _Attempt) -> tuple[float | None, bool]:
        """(disruption ms, bounded by idle) of a completed move (module docstring).
        The silences are read from the lost and possibly lost packets of the
        whole move, every attempt's: seed 3.2.4, figure 3-5, packets are lost
        from the movement until the binding ack, whichever BU it answers."""
        start = max((ts for ts in (move.last_old, move.first_missed) if ts is not None), default=None)
        # a packet the node missed after it had sent from the new address (the home agent
        # still tunnelling to the old one): the disruption ends at data after that packet
        end = min((ts for ts in (first_data, move.first_from_new)
                   if ts is not None and start is not None and ts >= start), default=None)
        if end is not None:
            signs = (attempt.bu_ts, *(ts for ts in (move.first_new, move.ba_ts) if ts is not None))
            if not silent(signs, (move.lost_runs, move.possibly_runs), start, end,
                          self.settings.DISRUPTION_IDLE_GAP_S):
                return round((end - start) * 1000, 3), False
        if move.first_new is None or move.ba_ts is None:
            return None, False
        return round(max(0.0, move.ba_ts - move.first_new) * 1000, 3), True

    def _done(self, node: _Node, move: _Move, first_data: float | None) -> None:
        """The accepted move's first data arrived (or never will): record it."""
        if move.attempt is None:  # accepted without its BUs in view
            move.attempt = _Attempt(move.ba_ts if move.ba_ts is not None else 0.0, [], 0.0)
            handoff_bu_ts = None
        else:
            handoff_bu_ts = move.attempt.bu_ts
        self._record(node, move, COMPLETED, move.ba_ts, None, None, first_data)
        if handoff_bu_ts is None:
            last = node.handoffs[-1]
            node.handoffs[-1] = replace(last, bu_ts=None, registration_ms=None, bu_retransmissions=0)
        if node.waiting is move:
            node.waiting = None

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

    def _was_home(self, hoa: IPv6Address, before: float) -> str | None:
        """What shows the node at home before ``before`` (module docstring):
        "own" (a packet from the home address, not after the tunnel's), "ra"
        (an RA with the home prefix), or None."""
        sent = self._first_from.get(hoa)
        if sent is not None and sent < before and sent < self._first_tunnelled_from.get(hoa, before):
            return "own"
        first_ra = self._first_ra
        if first_ra and any(first_ra.get(net, before) < before for net in self._networks(hoa)):
            return "ra"
        return None

    def _movement_ts(self, node: _Node, care_of: IPv6Address, bu_ts: float) -> float | None:
        after = node.installed_ts if node.installed_ts is not None else float("-inf")
        last_ra = self._last_ra
        hints = [ts for net in (self._networks(care_of) if last_ra else ())
                 if (ts := last_ra.get(net)) is not None and after < ts <= bu_ts]
        if hints:
            return max(hints)
        first = self._first_from.get(care_of)
        if self.settings.MOVEMENT_FROM_FIRST_PACKET and first is not None and after < first <= bu_ts:
            return first
        return None


def _packets(n: int) -> str:
    return f"{n} packet" if n == 1 else f"{n} packets"


def handoff_stats(handoffs: list[Handoff]) -> dict[str, float | int | None]:
    """Count, median, p95 and max of the registration latency (ms) over the
    completed handoffs, and how many failed (any other outcome)."""
    completed = [h for h in handoffs if h.outcome == COMPLETED]
    values = sorted(h.registration_ms for h in completed if h.registration_ms is not None)
    failed = len(handoffs) - len(completed)
    if not values:
        return {"count": len(handoffs), "completed": len(completed), "failed": failed,
                "median_ms": None, "p95_ms": None, "max_ms": None}
    p95 = values[min(len(values) - 1, max(0, -(-95 * len(values) // 100) - 1))]
    return {"count": len(handoffs), "completed": len(completed), "failed": failed,
            "median_ms": statistics.median(values), "p95_ms": p95, "max_ms": values[-1]}
