"""Home agent <-> care-of address tunnels (RFC 6275 10.4.5, 11.3.1), per
(home agent, care-of address, home address).

Every IPv6-in-IPv6 packet whose inner header names a home address is one
tunnel leg: HA -> CoA with the inner destination the home address is
``to_mn``, CoA -> HA with the inner source the home address is ``from_mn``.

Everything the tunnel carries counts in its packet and byte totals, data or
not: the home agent tunnels every packet for the home address (RFC 6275
10.4.2), its own included, and the node reverse-tunnels what it sends from
it (10.4.5, 11.3.1). So besides data (`tunnelled_data`), a tunnelled
signalling frame (`events.TunnelledPacket`) counts: the HoTI and HoT of
return routability (5.2.5), a Binding Refresh Request the home agent sends to
the home address (6.1.2, 9.5.5: Mobility Header messages bypass the binding
cache, 6.1, so it is not sent with a type 2 routing header and goes through
the tunnel), a Binding Error to the home address, ICMPv6, ESP.

Bytes are the outermost IPv6 packet's length, header included (what
`synth.engine.Bytes` counts), read from its Payload Length.

A mobile router (NEMO, RFC 3963) that registered no Mobile Network Prefix
(implicit mode, 5.2) owns every packet between its home agent and the
care-of address of its home binding there, whatever the inner addresses
(5.5, 6.3).

Packets the home agent tunnels to a care-of address, or receives
reverse-tunnelled from one, while the bindings analyzer holds no valid home
binding of the home address to that care-of address at that home agent are
``outside_binding`` (with up to `MAX_OUTSIDE_FRAMES` frame numbers): RFC 6275
10.4.1, a home agent tunnels to the care-of address of its own Binding Cache
entry (a node may hold home bindings at two home agents at once), and 10.4.5
(paraphrase), it accepts reverse-tunnelled packets only from the registered
care-of address of the inner source's home address. A home address the
bindings analyzer knows nothing about (e.g. every registration hidden in ESP)
is not judged.

A packet on the old path less than INITIAL_BINDACK_TIMEOUT after the BA that
moved the binding elsewhere (another care-of address, or home), a BA which
went another way, is outside only where the capture's timestamps are the
home agent's: vantage "ha", or "all" (every packet at its sender). Anywhere
else a probe sees the two paths with their own delays, so the BA and a packet
the home agent sent (or the node sent to it) before it can come in either
order; the protocol's own timer says a round trip takes less than
INITIAL_BINDACK_TIMEOUT (11.8: the node retransmits after it), so past that
the order is proven. ``vantage`` (a callable giving the capture's vantage,
the handoff analyzer's, given where the analyzers are made) is read when
the results are made; without it every such packet is outside. A binding that
ran out of lifetime, or was deleted by a BA to the same care-of address, went
the same way as the packet and is proven everywhere. A packet the node
reverse-tunnels from a care-of address after a BU from it to the home agent
and before the BA that accepts it is inside the binding (the home agent
updated its cache on the BU, which it got first, 10.3.1); if no accepted BU
covers it, it is outside (`TunnelAnalyzer._outside_of`).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import Any, Protocol

from .. import events as ev
from ..report.builder import ReportBuilder
from ..report.model import Counter, InnerFlow, OutsideBinding, TrafficSeries, Tunnel
from .base import DataAnalyzer
from .bindings import BindingsAnalyzer
from .routes import Route
from .series import Series
from .settings import DEFAULT_SETTINGS

TOP_FLOWS = 50            # inner flows reported per tunnel; the rest are summed into one
MAX_TRACKED_FLOWS = 2000  # distinct flows tracked per tunnel; later new ones go to "other"
MAX_OUTSIDE_FRAMES = 1000  # outside-binding frame numbers kept per tunnel
FLOWS_SCANNED = 8         # a tunnel's flows are scanned up to this many, then indexed by ports
OTHER_FLOW_ADDRESS = IPv6Address("::")
OTHER_FLOW_PROTO = -1     # marks the summed "other flows" entry

TO_MN, FROM_MN = "to_mn", "from_mn"
_NOTHING, _NO_OUTSIDE = Counter(), OutsideBinding()  # shared by the tunnels they describe
_NO_MEMO: dict = {}  # stands in when the bindings analyzer remembers no answers
_OUTSIDE, _ASK = object(), object()  # `TunnelAnalyzer._judgement`'s answers
_NO_TUNNEL = (None, None, None, None)  # what a route remembers of a packet in no tunnel
PROVEN_VANTAGES = frozenset({"ha", "all"})  # where the BA and a packet on the old path keep their order
MOVED_BY_BA = frozenset({"new_care_of", "deregistration"})


class HomeBindings(Protocol):
    """What the tunnel analyzer needs from the bindings analyzer."""

    def home_binding_at(self, hoa: IPv6Address, ts: float) -> IPv6Address | None:
        """The care-of address of the valid home binding of ``hoa`` at ``ts``."""


def _same_64(a: IPv6Address, b: IPv6Address) -> bool:
    return a._ip >> 64 == b._ip >> 64  # noqa: SLF001 - the /64s of the packed forms


def _memo_of(bindings: Any) -> dict:
    """The bindings analyzer's remembered `home_binding_at` answers
    (home address -> (from ts, until ts, answer)), when its
    ``home_binding_at`` is the one that keeps them; else an empty dict."""
    memo = getattr(bindings, "_home_memo", None)
    if (isinstance(bindings, BindingsAnalyzer) and isinstance(memo, dict)
            and type(bindings).home_binding_at is BindingsAnalyzer.home_binding_at
            and "home_binding_at" not in vars(bindings)):
        return memo
    return _NO_MEMO


def _nodes_of(bindings: Any) -> dict | None:
    """The bindings analyzer's nodes (home address -> node, never removed) when its
    ``care_of_addresses`` is the one that reads them; else None."""
    if (isinstance(bindings, BindingsAnalyzer)
            and type(bindings).care_of_addresses is BindingsAnalyzer.care_of_addresses
            and "care_of_addresses" not in vars(bindings)):
        return bindings.nodes
    return None


class _NoPrefixes:
    """Stands in for the mobile network prefixes when there are none: never changes."""

    version = 0


class TunnelLegs:
    """Attributes tunnelled packets to (home agent, care-of, home address, direction).

    Uses, in order: the bindings analyzer's current home binding (at the
    tunnel's own home agent, `bound_to`), its ``home_agent_of`` when it has
    one, the home addresses already seen in attributed legs, a mobile router
    in implicit mode whose home binding at the home agent is to the care-of
    address (`_implicit_mode`), and finally the home link rule that a home
    address shares its /64 with its home agent. Before those last rules, an
    inner address in a mobile router's registered prefix names the router
    (`_mobile_network`).
    """

    def __init__(self, bindings: Any | None) -> None:
        self.bindings = bindings
        self.home_agent: dict[IPv6Address, IPv6Address] = {}  # hoa -> ha, learnt
        self.care_of_home: dict[IPv6Address, IPv6Address] = {}  # coa -> hoa, learnt
        self._ha_of = getattr(bindings, "home_agent_of", None)
        self._home_binding_at = getattr(bindings, "home_binding_at", None) if bindings is not None else None
        self._home_memo: dict | None = None
        self._mnp = getattr(bindings, "mobile_network_prefixes", None)  # identity.MobileNetworkPrefixes
        # the last packet `packet_leg` (or `TunnelAnalyzer.tunnelled_data`, which does its
        # work inline) answered and its answer: an analyzer sharing this object may read them
        # for the packet in hand instead of calling it
        self.last_packet: tuple | None = None
        # what `_unbound` reads besides the bindings' memo entries changes only when a home
        # agent is learnt (counted here) or a prefix registered (counted by the prefixes)
        self._learnt_version = 0
        self._prefixes = self._mnp if self._mnp is not None else _NoPrefixes()
        self.last_leg: tuple[IPv6Address, IPv6Address, IPv6Address, str, bool] | None = None

    def packet_leg(self, t: tuple) -> tuple[IPv6Address, IPv6Address, IPv6Address, str, bool] | None:
        """`leg` of a fast-path field tuple (see `classify.FastPath.fields`).
        The analyzers sharing this object get the same tuple in turn, so the
        last answer is kept for it (the reference held makes ``is`` exact).

        The answer is also remembered in the packet's route, with the bindings
        analyzer's memo entries it rests on and their answers then: while those
        entries hold at the packet's time with the same answers (they are
        updated in place, so a recomputed entry shows its new answer) and, for
        the rules after the home bindings, nothing else they read has changed,
        the answer is the same."""
        if t is self.last_packet:
            return self.last_leg
        ts = t[0]
        memo = t[15].get(self)
        if memo is not None:
            at_dst, answer_dst, at_src, answer_src, found, version = memo
            # the test `TunnelAnalyzer.tunnelled_data` repeats inline
            if (at_dst[0] <= ts < at_dst[1] and at_dst[2] is answer_dst
                    and (at_src is None or (at_src[0] <= ts < at_src[1] and at_src[2] is answer_src))
                    and (version is None or version == self._learnt_version + self._prefixes.version)):
                if found is not None:
                    self.care_of_home[found[1]] = found[2]
                self.last_packet, self.last_leg = t, found
                return found
        found = self.leg(t[3], t[4], t[5], t[6], ts)
        memo = self.rests_on(t, found)
        if memo is not None:
            t[15][self] = memo
        self.last_packet, self.last_leg = t, found
        return found

    def rests_on(self, t: tuple, found: tuple | None) -> tuple | None:
        """What ``found``, `leg`'s answer for the packet ``t``, rests on, to be
        remembered with it: (the destination's home binding memo entry, its
        answer, the source's unless the destination's answered, its answer,
        ``found``, and, unless the home bindings answered alone (``found``'s
        bound), the sum of the versions of what `_unbound` reads: each only
        grows, so the sum stays only while both do). None when an entry does
        not hold at the packet's time (an answer from history)."""
        memo = self._home_memo
        if not memo:
            return None  # no bindings analyzer whose memo entries can be watched
        ts = t[0]
        at_dst = memo.get(t[6])
        if at_dst is None or not at_dst[0] <= ts < at_dst[1]:
            return None
        at_src = None
        if found is None or not (found[3] == TO_MN and found[4]):
            at_src = memo.get(t[5])
            if at_src is None or not at_src[0] <= ts < at_src[1]:
                return None
        return (at_dst, at_dst[2], at_src, at_src[2] if at_src is not None else None, found,
                None if found is not None and found[4] else self._learnt_version + self._prefixes.version)

    def _binding(self, hoa: IPv6Address, ts: float) -> IPv6Address | None:
        if self.bindings is None:
            return None
        return self.bindings.home_binding_at(hoa, ts)

    def bound_to(self, bound: IPv6Address | None, hoa: IPv6Address, ha: IPv6Address, coa: IPv6Address,
                 ts: float) -> bool:
        """Whether ``hoa``'s home binding at the home agent ``ha`` is to ``coa``
        at ``ts``, ``bound`` being `home_binding_at`'s answer (the first home
        agent's care-of address, None: no home binding at all). With bindings
        at two home agents each tunnels to the care-of address of its own entry
        (RFC 6275 10.4.1), so another answer asks ``ha``'s. Depends only on the
        home bindings of ``hoa``, so the answer holds while `home_binding_at`'s does."""
        if bound is None:
            return False
        if bound is coa or bound == coa:
            return True
        care_of_at = getattr(self.bindings, "home_care_of_at", None)
        if care_of_at is None:
            return False
        care_of = care_of_at(hoa, ha, ts)
        return care_of is not None and care_of == coa

    def _is_ha(self, hoa: IPv6Address, ha: IPv6Address) -> bool:
        known = self.home_agent.get(hoa)
        if known is not None:
            return known == ha
        return bool(self._ha_of is not None and self._ha_of(hoa) == ha)

    def leg(self, outer_src: IPv6Address, outer_dst: IPv6Address, src: IPv6Address,
            dst: IPv6Address, ts: float) -> tuple[IPv6Address, IPv6Address, IPv6Address, str, bool] | None:
        """(home agent, care-of, home address, "to_mn"|"from_mn", bound) of a
        tunnelled packet with these outer and inner addresses, or None when it
        is not a home agent tunnel as far as can be told; ``bound`` says whether
        the home binding of the home address at ``ts`` is to that care-of
        address (known for free when the leg was found from it)."""
        binding_at = self._home_binding_at
        if binding_at is None and self.bindings is not None:
            binding_at = self._home_binding_at = self.bindings.home_binding_at
        if binding_at is not None:
            # the bindings analyzer's remembered answers, read without a call
            memo = self._home_memo
            if memo is None:
                memo = self._home_memo = _memo_of(self.bindings)
            m = memo.get(dst)
            bound = m[2] if m is not None and m[0] <= ts < m[1] else binding_at(dst, ts)
            if self.bound_to(bound, dst, outer_src, outer_dst, ts):
                found = (outer_src, outer_dst, dst, TO_MN, True)
            else:
                m = memo.get(src)
                bound = m[2] if m is not None and m[0] <= ts < m[1] else binding_at(src, ts)
                if self.bound_to(bound, src, outer_dst, outer_src, ts):
                    found = (outer_dst, outer_src, src, FROM_MN, True)
                else:
                    found = self._unbound(outer_src, outer_dst, src, dst, ts)
        else:
            found = self._unbound(outer_src, outer_dst, src, dst, ts)
        if found is None:
            return None
        hoa = found[2]
        if hoa not in self.home_agent:
            self.home_agent[hoa] = found[0]
            self._learnt_version += 1
        self.care_of_home[found[1]] = hoa
        return found

    def _unbound(self, outer_src: IPv6Address, outer_dst: IPv6Address, src: IPv6Address,
                 dst: IPv6Address, ts: float) -> tuple[IPv6Address, IPv6Address, IPv6Address, str, bool] | None:
        """The rules of `leg` after the home binding ones."""
        if self._mnp is not None and self._mnp.by_length:
            found = self._mobile_network(outer_src, outer_dst, src, dst)
            if found is not None:
                return found
        if self._is_ha(dst, outer_src):
            found = (outer_src, outer_dst, dst, TO_MN, False)
        elif self._is_ha(src, outer_dst):
            found = (outer_dst, outer_src, src, FROM_MN, False)
        elif self._mnp is not None and self._mnp.bound_routers and (
                implicit := self._implicit_mode(outer_src, outer_dst, ts)) is not None:
            found = implicit
        elif _same_64(dst, outer_src) and not _same_64(dst, outer_dst):
            found = (outer_src, outer_dst, dst, TO_MN, False)
        elif _same_64(src, outer_dst) and not _same_64(src, outer_src):
            found = (outer_dst, outer_src, src, FROM_MN, False)
        else:
            return None
        return found

    def _mobile_network(self, outer_src: IPv6Address, outer_dst: IPv6Address, src: IPv6Address,
                        dst: IPv6Address) -> tuple[IPv6Address, IPv6Address, IPv6Address, str, bool] | None:
        """NEMO (RFC 3963 5.5, 6.3): a packet to or from an address in a
        registered Mobile Network Prefix travels its mobile router's tunnel,
        attributed to the router's home address."""
        router = self._mnp.router_of(dst)
        if router is not None:
            return (outer_src, outer_dst, router, TO_MN, False)
        router = self._mnp.router_of(src)
        if router is not None:
            return (outer_dst, outer_src, router, FROM_MN, False)
        return None

    def _implicit_mode(self, outer_src: IPv6Address, outer_dst: IPv6Address,
                       ts: float) -> tuple[IPv6Address, IPv6Address, IPv6Address, str, bool] | None:
        """NEMO implicit mode (RFC 3963 5.2, 5.5, 6.3): a packet between a home
        agent and the care-of address of a mobile router's home binding there,
        the router having registered no prefix, travels the router's tunnel,
        whatever its inner addresses. The answer rests on the routers' home
        bindings: `MobileNetworkPrefixes.version` counts their registrations."""
        router_at = getattr(self.bindings, "implicit_router_at", None)
        if router_at is None:
            return None
        router = router_at(outer_dst, outer_src, ts)
        if router is not None:
            return (outer_src, outer_dst, router, TO_MN, False)
        router = router_at(outer_src, outer_dst, ts)
        if router is not None:
            return (outer_dst, outer_src, router, FROM_MN, False)
        return None


class _Direction(Series):
    """One direction of a tunnel: its packets and bytes, and their packets over
    time (the `Series` rides along the packet count, see series.py)."""

    __slots__ = ("packets", "bytes")

    def __init__(self, start: float) -> None:
        super().__init__(start)
        self.packets = 0
        self.bytes = 0


class _Flow:
    """One inner flow's counters (or the summed ones past MAX_TRACKED_FLOWS)."""

    __slots__ = ("packets", "bytes", "first_ts", "last_ts", "proto", "src", "dst", "sport", "dport")

    def __init__(self, ts: float, proto: int, src: IPv6Address, dst: IPv6Address,
                 sport: int | None, dport: int | None) -> None:
        self.packets = self.bytes = 0
        self.first_ts = self.last_ts = ts
        self.proto, self.src, self.dst, self.sport, self.dport = proto, src, dst, sport, dport


class _Packets:
    """Some of a tunnel's packets: how many, the first time, and the frame
    numbers of the first MAX_OUTSIDE_FRAMES (8 bytes each)."""

    __slots__ = ("count", "first_ts", "frames")

    def __init__(self, ts: float, frame: int) -> None:
        self.count, self.first_ts, self.frames = 1, ts, array("q", (frame,))

    def add(self, frame: int) -> None:
        self.count += 1
        if len(self.frames) < MAX_OUTSIDE_FRAMES:
            self.frames.append(frame)


@dataclass(slots=True)
class _TunnelState:
    home_agent: IPv6Address
    care_of: IPv6Address
    home_address: IPv6Address
    start_ts: float
    end_ts: float
    to_mn: _Direction | None = None  # made by its first packet
    from_mn: _Direction | None = None
    outside: _Packets | None = None  # made by the first one
    # the outside packets on the old path that may have crossed the BA (module docstring)
    in_flight: _Packets | None = None
    reverse_outside: bool = False  # some of them (outside or in flight) were from the node
    # (ts, frame) of the node's packets from the care-of address after a BU from it to this
    # home agent and before its answer: outside unless that BU is accepted (`_outside_of`)
    awaiting: list[tuple[float, int]] | None = None
    # every flow, first seen first; past FLOWS_SCANNED of them also found by (proto, sport,
    # dport): integers hash in C, addresses in Python (most tunnels carry a flow or two: an
    # index would cost more than it saves)
    flows: list[_Flow] = field(default_factory=list)
    by_ports: dict[tuple[int, int | None, int | None], list[_Flow]] | None = None
    other: _Flow | None = None  # the flows past MAX_TRACKED_FLOWS, summed


class TunnelAnalyzer(DataAnalyzer):
    """Counts the home agent tunnels; see the module docstring."""

    def __init__(self, bindings: Any | None = None, vantage: Callable[[], str] | None = None) -> None:
        self.bindings = bindings
        self.legs = TunnelLegs(bindings)  # shared with the route optimisation analyzer
        self.tunnels: list[_TunnelState] = []  # first seen first
        # care-of -> its tunnel, or a list of them when it has several: one address hash
        # per packet, not three
        self._by_care_of: dict[IPv6Address, _TunnelState | list[_TunnelState]] = {}
        self._coas_of = getattr(bindings, "care_of_addresses", None)
        self._nodes = _nodes_of(bindings)
        self._in_flight_s = getattr(bindings, "settings", DEFAULT_SETTINGS).INITIAL_BINDACK_TIMEOUT
        # where the capture was taken ("ha", "tap", ...), asked for the results; None: the senders
        self.vantage = vantage

    # -- handlers ------------------------------------------------------------------------

    def tunnelled_data(self, t: tuple) -> None:
        ts = t[0]
        legs = self.legs
        # remembered per route: what the packet's leg rests on (`TunnelLegs.rests_on`),
        # the leg, and while it holds, its tunnel, direction, the packet's flow and the
        # leg's `_judgement` (or Nones: no tunnel)
        memo = t[15].get(self)
        if memo is not None:
            at_dst, answer_dst, at_src, answer_src, leg, version, state, direction, flow, judged = memo
            # `packet_leg`'s test, inline: this is the path of most packets
            if (at_dst[0] <= ts < at_dst[1] and at_dst[2] is answer_dst
                    and (at_src is None or (at_src[0] <= ts < at_src[1] and at_src[2] is answer_src))
                    and (version is None or version == legs._learnt_version + legs._prefixes.version)):
                legs.last_packet, legs.last_leg = t, leg
                if leg is None:
                    return
                legs.care_of_home[leg[1]] = leg[2]
            else:
                memo = None
        if memo is None:
            leg = legs.leg(t[3], t[4], t[5], t[6], ts)
            legs.last_packet, legs.last_leg = t, leg
            state, direction, flow, judged = self._file(t, legs.rests_on(t, leg), leg)
            if leg is None:
                return
        if ts < state.start_ts:
            state.start_ts = ts
        if ts > state.end_ts:
            state.end_ts = ts
        if ts >= direction.end:  # past the open bin of the packets-over-time series
            direction.advance(ts, direction.packets)
        length = t[13]
        direction.packets += 1
        direction.bytes += length
        flow.packets += 1
        flow.bytes += length
        flow.last_ts = ts
        if judged is None:
            return
        if judged is _OUTSIDE:
            self._outside(state, t[1], ts, leg[3])
        elif judged is _ASK:
            self._judge(state, leg, ts, t[1])
        elif ((judged[1] or len(self._nodes) != judged[0])
              and self._file(t, legs.rests_on(t, leg), leg)[3] is _OUTSIDE):
            self._outside(state, t[1], ts, leg[3])  # the node was not known, and now is

    def _file(self, t: tuple, rests_on: tuple | None, leg: tuple | None) -> tuple:
        """(tunnel state, direction, flow, `_judgement`) of ``leg`` for the packet
        ``t`` (Nones when it is no tunnel's), remembered in its route after what
        the leg rests on, if anything."""
        found = _NO_TUNNEL if leg is None else (*self._counters(t, leg), self._judgement(t, leg))
        if rests_on is not None:
            t[15][self] = rests_on + found
        return found

    def _judgement(self, t: tuple, leg: tuple) -> Any:
        """How to judge the packets of ``leg`` (`_judge`) while the route keeps
        ``leg``: None, never (bound, no bindings);
        `_OUTSIDE`, always; `_ASK`, call `_judge`; (number of nodes, the care-of
        addresses of the node): not, while they stay as they are.

        When the home address is the inner destination (to the node) or source
        (from it), `TunnelLegs.leg` found
        ``leg`` unbound from ``home_binding_at(hoa, ts)`` itself, and the
        route keeps the leg only while that answer stands (`rests_on`): so
        `_judge`'s first test fails while the leg holds, and its answer rests
        on ``care_of_addresses(hoa)`` alone. That is empty until the node has
        been created (the bindings analyzer never removes one: the count of its
        nodes changes first) and then its `care_of_order`, which is only
        appended to: while empty, the node is not judged, rechecked on every
        packet by the number of nodes and whether the list is still empty;
        once not empty, the packets are outside for as long as the leg holds.
        A BA may add a care-of address without changing the home binding's
        answer (an accepted correspondent registration): the leg then holds,
        and the node's list is what tells."""
        if leg[4] or self.bindings is None:
            return None
        nodes = self._nodes
        if nodes is None or leg[2] is not (t[6] if leg[3] == TO_MN else t[5]):
            return _ASK  # a mobile router's prefix, or another bindings analyzer
        node = nodes.get(leg[2])
        if node is None:
            return (len(nodes), ())
        return _OUTSIDE if node.care_of_order else (len(nodes), node.care_of_order)

    def _counters(self, t: tuple, leg: tuple) -> tuple[_TunnelState, _Direction, _Flow]:
        """The tunnel state of ``leg``, its direction's counters and the
        counters of the packet's inner flow (created as needed)."""
        ts, src, dst, proto, sport, dport = t[0], t[5], t[6], t[10], t[11], t[12]
        ha, coa, hoa, way, _bound = leg
        state = None
        found = self._by_care_of.get(coa)
        for s in (found,) if type(found) is _TunnelState else found or ():
            if (s.home_agent is ha or s.home_agent == ha) and (s.home_address is hoa or s.home_address == hoa):
                state = s
                break
        if state is None:
            state = self._new_state(ha, coa, hoa, ts)
        if way == TO_MN:
            direction = state.to_mn
            if direction is None:
                direction = state.to_mn = _Direction(ts)
        else:
            direction = state.from_mn
            if direction is None:
                direction = state.from_mn = _Direction(ts)
        flow = None
        by_ports = state.by_ports
        for f in state.flows if by_ports is None else by_ports.get((proto, sport, dport), ()):
            if (f.proto == proto and f.sport == sport and f.dport == dport
                    and (f.src is src or f.src == src) and (f.dst is dst or f.dst == dst)):
                flow = f
                break
        if flow is None:
            flow = self._new_flow(state, proto, src, dst, sport, dport, ts)
        return state, direction, flow

    def on_tunnelled_packet(self, event: ev.TunnelledPacket) -> None:
        """A tunnelled frame that is not data (signalling, ICMPv6, ESP) counts
        like a tunnelled data packet, its inner flow keyed by protocol alone."""
        self.tunnelled_data((event.ts, event.frame, event.file, event.outer_src, event.outer_dst,
                             event.src, event.dst, True, None, None, event.proto, None, None,
                             event.length, event.inner_length, Route()))

    # -- internals ---------------------------------------------------------------------------

    def _new_state(self, ha: IPv6Address, coa: IPv6Address, hoa: IPv6Address, ts: float) -> _TunnelState:
        state = _TunnelState(ha, coa, hoa, ts, ts)
        self.tunnels.append(state)
        known = self._by_care_of.get(coa)
        if known is None:
            self._by_care_of[coa] = state
        elif type(known) is _TunnelState:
            self._by_care_of[coa] = [known, state]
        else:
            known.append(state)
        return state

    @staticmethod
    def _new_flow(state: _TunnelState, proto: int, src: IPv6Address, dst: IPv6Address,
                  sport: int | None, dport: int | None, ts: float) -> _Flow:
        """A new flow's counters, or the summed "other" ones past MAX_TRACKED_FLOWS."""
        if len(state.flows) >= MAX_TRACKED_FLOWS:
            if state.other is None:
                state.other = _Flow(ts, OTHER_FLOW_PROTO, OTHER_FLOW_ADDRESS, OTHER_FLOW_ADDRESS, None, None)
            return state.other
        flow = _Flow(ts, proto, src, dst, sport, dport)
        flows = state.flows
        flows.append(flow)
        if state.by_ports is not None:
            state.by_ports.setdefault((proto, sport, dport), []).append(flow)
        elif len(flows) > FLOWS_SCANNED:
            state.by_ports = {}
            for f in flows:
                state.by_ports.setdefault((f.proto, f.sport, f.dport), []).append(f)
        return flow

    def _judge(self, state: _TunnelState, leg: tuple, ts: float, frame: int) -> None:
        """Count a packet of ``leg`` as outside_binding when no valid home binding
        of its home address to its care-of address holds at ``ts`` (and the
        bindings analyzer knows the home address)."""
        if self.bindings is None:
            return
        coa, hoa = leg[1], leg[2]
        bound = self.bindings.home_binding_at(hoa, ts)
        if self.legs.bound_to(bound, hoa, state.home_agent, coa, ts):
            return
        if self._coas_of is not None and not self._coas_of(hoa):
            return  # nothing known about this node's registrations: do not guess
        self._outside(state, frame, ts, leg[3])

    def _outside(self, state: _TunnelState, frame: int, ts: float, way: str) -> None:
        """Count one packet (``frame`` at ``ts``, direction ``way``) of
        ``state``'s tunnel outside any binding, or, on the old path shortly
        after the BA that moved the binding, in flight (see the module docstring)."""
        if way == FROM_MN:
            if self._after_pending_bu(state, ts) and (state.awaiting is None
                                                      or len(state.awaiting) < MAX_OUTSIDE_FRAMES):
                if state.awaiting is None:
                    state.awaiting = []
                state.awaiting.append((ts, frame))
                return
            state.reverse_outside = True
        if self._in_flight(state, ts):
            if state.in_flight is None:
                state.in_flight = _Packets(ts, frame)
            else:
                state.in_flight.add(frame)
        elif state.outside is None:
            state.outside = _Packets(ts, frame)
        else:
            state.outside.add(frame)

    def _in_flight(self, state: _TunnelState, ts: float) -> bool:
        """Whether the latest accepted home registration of ``state``'s node at
        its home agent, answered less than INITIAL_BINDACK_TIMEOUT before
        ``ts``, moved the binding from ``state``'s care-of address to another
        address (new care-of address, or home): its BA went another way than
        this packet. Registrations are kept in answer order."""
        nodes = self._nodes
        node = nodes.get(state.home_address) if nodes is not None else None
        if node is None:
            return False
        ha, coa = state.home_agent, state.care_of
        for r in reversed(node.registrations):
            if r.ba_ts is None or ts - r.ba_ts >= self._in_flight_s:
                return False
            if r.peer == ha and r.status is not None and r.status < 128:
                return r.care_of != coa and any(
                    b.care_of == coa and b.end_ts == r.ba_ts and b.ended_by in MOVED_BY_BA
                    for b in self.bindings.bindings(state.home_address, ha))
        return False

    def _after_pending_bu(self, state: _TunnelState, ts: float) -> bool:
        """Whether a BU from ``state``'s care-of address to its home agent, sent
        by ``ts``, waits for its answer. The home agent updates its Binding
        Cache when it processes the BU, before its BA (RFC 6275 10.3.1,
        paraphrase), and the node's reverse-tunnelled packet takes the BU's
        path to it, after the BU: once that BU is accepted, the packet was
        inside the binding at every vantage."""
        waiting_since = getattr(self.bindings, "waiting_since", None)
        since = (waiting_since(state.home_address, state.home_agent, state.care_of)
                 if waiting_since is not None else None)
        return since is not None and since <= ts

    def _refused(self, state: _TunnelState) -> list[tuple[float, int]]:
        """The awaiting packets (`_after_pending_bu`) that no BU from the
        care-of address accepted later covers (sent from its first BU on,
        before its BA): outside."""
        if not state.awaiting:
            return []
        accepted = [(r.first_bu_ts, r.ba_ts) for r in self.bindings.registrations(state.home_address)
                    if r.peer == state.home_agent and r.care_of == state.care_of
                    and r.status is not None and r.status < 128 and r.ba_ts is not None]
        return [(ts, frame) for ts, frame in state.awaiting
                if not any(start <= ts < ba_ts for start, ba_ts in accepted)]

    def _outside_of(self, state: _TunnelState) -> tuple[int, tuple[int, ...], float, bool]:
        """(packets, frames, first time, whether any was from the node) of
        ``state``'s packets outside any binding at the capture's vantage: the
        in-flight ones count where the capture's timestamps are the home
        agent's (or no vantage is known), the awaiting ones unless their BU was
        accepted."""
        outside = state.outside
        packets, frames, firsts = ((outside.count, tuple(outside.frames), [outside.first_ts])
                                   if outside is not None else (0, (), []))
        refused = self._refused(state)
        in_flight = state.in_flight
        if in_flight is not None and self.vantage is not None and self.vantage() not in PROVEN_VANTAGES:
            in_flight = None
        if in_flight is None and not refused:
            return packets, frames, firsts[0] if firsts else 0.0, state.reverse_outside
        if in_flight is not None:
            packets += in_flight.count
            frames += tuple(in_flight.frames)
            firsts.append(in_flight.first_ts)
        if refused:
            packets += len(refused)
            frames += tuple(frame for _ts, frame in refused)
            firsts.append(refused[0][0])
        return (packets, tuple(sorted(frames))[:MAX_OUTSIDE_FRAMES], min(firsts),
                state.reverse_outside or bool(refused))

    # -- results -----------------------------------------------------------------------------

    def outside_bindings(self) -> list[tuple[IPv6Address, IPv6Address, IPv6Address, float, int,
                                             tuple[int, ...], bool]]:
        """(home agent, care-of, home address, the first outside packet's time,
        packets, their frames, whether any was from the node) of each tunnel
        with packets outside any binding, without building the report's
        Tunnels (for the conformance analyzer's finding)."""
        found = []
        for s in self.tunnels:
            packets, frames, first_ts, reverse = self._outside_of(s)
            if packets:
                found.append((s.home_agent, s.care_of, s.home_address, first_ts, packets, frames, reverse))
        return found

    def results(self) -> list[Tunnel]:
        """The tunnels seen so far, as report models."""
        tunnels = []
        for s in self.tunnels:
            packets, frames, _first_ts, _reverse = self._outside_of(s)
            tunnels.append(Tunnel(s.home_agent, s.care_of, s.home_address, s.start_ts, s.end_ts,
                                  _counter(s.to_mn), _counter(s.from_mn),
                                  OutsideBinding(packets, frames) if packets else _NO_OUTSIDE,
                                  _top_flows(s), _frozen(s.to_mn), _frozen(s.from_mn)))
        return tunnels

    def contribute(self, builder: ReportBuilder) -> None:
        """Add the tunnels and the home agents they reveal."""
        for tunnel in self.results():
            builder.tunnels.append(tunnel)
            builder.home_agents.add(tunnel.home_agent)


def _counter(direction: _Direction | None) -> Counter:
    """The report's Counter of one direction (one shared when it has no packets)."""
    return Counter(direction.packets, direction.bytes) if direction is not None else _NOTHING


def _frozen(direction: _Direction | None) -> TrafficSeries | None:
    """The packets-over-time series of one direction."""
    return None if direction is None else direction.freeze(direction.packets)


def _top_flows(state: _TunnelState) -> tuple[InnerFlow, ...]:
    """The TOP_FLOWS busiest flows, then one summed entry (proto -1, addresses ::)
    for all the others, if any."""
    ranked = sorted(state.flows, key=lambda v: (-v.packets, v.first_ts))
    flows = [InnerFlow(v.proto, v.src, v.dst, v.sport, v.dport, v.packets, v.bytes, v.first_ts, v.last_ts)
             for v in ranked[:TOP_FLOWS]]
    rest = ranked[TOP_FLOWS:]
    if state.other is not None:
        rest.append(state.other)
    if rest:
        flows.append(InnerFlow(OTHER_FLOW_PROTO, OTHER_FLOW_ADDRESS, OTHER_FLOW_ADDRESS, None, None,
                               sum(v.packets for v in rest), sum(v.bytes for v in rest),
                               min(v.first_ts for v in rest), max(v.last_ts for v in rest)))
    return tuple(flows)
