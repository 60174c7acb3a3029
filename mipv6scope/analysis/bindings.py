"""Roles, identity, registrations and binding intervals (issue 4, parts 2-3).

Mobile nodes are keyed by home address: the BU's (HAO, else source; the
deregistration BU from the home address), the BA's (RH2, else destination) and
the Binding Error's. A peer that answers an H-flag BU is a home agent, one
that gets BUs without H a correspondent; RA senders are access routers.
Which home addresses are one node, the mobile routers' prefixes and the
other identity rules are in `identity` (this analyzer records what they need
as the messages pass: `same_node`, `mobile_network_prefixes`).

Per (mobile node, peer):

* registrations (RFC 6275 11.8): a registration attempt is the chain of BUs
  the node sends to one peer for one care-of address, with the same H and A
  flags and the same requested lifetime, until a BA answers one of them.
  Retransmitted BUs carry a greater sequence number each time ("Retransmitted
  Binding Updates MUST use a Sequence Number value greater than that used for
  the previous transmission of this Binding Update", 11.8), so the chain is
  recognised by its parameters, not by its number; a BU repeating a number is
  still grouped into the chain (conformance reports it). The BA from that
  peer to that node with the number of any BU of the chain (usually the
  latest) answers it. Only a BU with the A flag asks for a BA (6.1.7), so
  only those are retransmitted: a BU without it is an attempt of its own. A
  rejecting BA whose number matches no BU (status 135
  carries the last *accepted* number, 6.1.8) answers the latest pending
  chain. A BU with another care-of address, flags or lifetime, or sent after
  the BA, starts a new chain; an older chain nobody answered stays in the
  registrations unanswered (BA fields null).
* binding intervals: opened by an accepting BA (status < 128, lifetime > 0) at
  the BA's time and frame, with the chain's care-of address; closed by the
  next accepting BA ("refresh" same care-of, "new_care_of" another, lifetime
  0 or care-of = home address "deregistration"), by running out of lifetime
  ("expiry", end = start + granted lifetime), by a Binding Error with status
  1 from that correspondent ("binding_error"; status 2, an unrecognised MH
  type, says nothing about the binding: RFC 6275 9.3.3, 11.3.6), or open at
  the end ("capture_end", end null). A rejected registration is not a
  binding: it stays in the registrations and does not end the binding in
  force. A correspondent deregistration without the A flag ends the binding
  at the BU ("deregistration"): RFC 6275 9.5.4, "If the node accepts the
  Binding Update, the Binding Acknowledgement SHOULD NOT be sent", while a
  rejection for an expired nonce index, a sequence number out of window or
  insufficient resources MUST be answered; a rejecting BA answering it
  reopens the binding it ended (the correspondent kept its entry).

Home agent of a node: the peer of its latest accepted home registration; a
node never accepted shows the peer its H-flag BUs went to, unless that peer
answered 131 (home registration not supported), 132 (not home subnet) or 133
(not home agent for this mobile node), the statuses by which a peer says it
is not this node's home agent (RFC 6275 6.1.8, 10.3.1, 10.3.2).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv6Address

from .. import events as ev
from ..frozen_init import fast_frozen_init
from ..report.builder import ReportBuilder
from ..report.model import Binding, Registration
from .base import Analyzer
from .identity import (
    BINDING_ACK,
    BINDING_ERROR,
    BINDING_UPDATE,
    HomeAddressGroups,
    MobileNetworkPrefixes,
)
from .settings import DEFAULT_SETTINGS, Settings

HOME, CORRESPONDENT = "home", "correspondent"
NOT_HOME_AGENT_STATUSES = frozenset({131})  # home registration not supported: no home agent at all
NOT_THIS_NODES_HOME_AGENT = frozenset({131, 132, 133})  # RFC 6275 6.1.8: not this node's home agent
CHAIN_FLAGS = frozenset({"H", "A"})  # the flags a retransmission keeps
BE_UNKNOWN_BINDING = 1  # Binding Error status (RFC 6275 6.1.9): the peer has no binding
PEERS_SCANNED = 8  # a node's peers are found by scanning up to this many, then by a dict
MAX_UNMATCHED_KEPT = 1000  # unmatched BA events kept; their home addresses are all kept
_INF, _NEG_INF = float("inf"), float("-inf")


@dataclass(slots=True)
class _Pending:
    """A registration attempt (a chain of BUs) waiting for its BA."""

    care_of: IPv6Address
    kind: str
    requested: int
    flags: frozenset[str]
    first_registration: bool
    order: int
    seqs: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)

    @property
    def seq(self) -> int:
        """The latest BU's sequence number."""
        return self.seqs[-1]

    @property
    def first_ts(self) -> float:
        """When the chain's first BU was sent."""
        return self.times[0]

    def add(self, e: ev.BindingUpdate) -> None:
        """One more BU of the chain."""
        self.seqs.append(e.seq)
        self.times.append(e.ts)
        self.frames.append(e.frame)

    def gaps_ms(self) -> tuple[float, ...]:
        """The gaps between consecutive BUs, in ms."""
        times = self.times
        if len(times) < 2:
            return ()
        return tuple(round((b - a) * 1000, 3) for a, b in zip(times, times[1:], strict=False))

    def registration(self, peer: IPv6Address, hoa: IPv6Address, e: ev.BindingAck | None = None,
                     seq: int | None = None, granted: int | None = None) -> Registration:
        """This chain as a Registration, answered by ``e`` (None: unanswered)."""
        first_ts = self.first_ts
        if e is None:
            ba_frame = ba_ts = status = status_name = latency_ms = None
        else:
            ba_frame, ba_ts, status, status_name = e.frame, e.ts, e.status, e.status_name
            latency_ms = round((e.ts - first_ts) * 1000, 3)
        return Registration(peer, self.care_of, tuple(self.frames), ba_frame, first_ts, ba_ts, status,
                            status_name, len(self.frames) - 1, latency_ms,
                            self.seq if seq is None else seq, self.requested, granted, hoa,
                            tuple(self.seqs), self.gaps_ms())


def _silent_deregistration(chain: _Pending, hoa: IPv6Address) -> bool:
    """Whether ``chain`` is a correspondent deregistration (lifetime 0, or
    care-of = home address) without the A flag: accepted without a BA."""
    return (chain.kind == CORRESPONDENT and "A" not in chain.flags
            and (chain.requested == 0 or chain.care_of == hoa))


@dataclass(slots=True)
class _Open:
    """The binding in force for one (node, peer)."""

    care_of: IPv6Address
    start_ts: float
    start_frame: int
    seq: int
    requested: int
    granted: int
    kind: str
    order: int
    home_address: IPv6Address

    @property
    def expires(self) -> float:
        """When the binding's lifetime runs out."""
        return self.start_ts + self.granted


@dataclass(slots=True)
class _Peer:
    """State of one (node, peer) pair."""

    peer: IPv6Address
    kind: str
    # pending and closed are () while empty (most pairs most of the time; an empty list is 56 bytes)
    pending: list[_Pending] | tuple[()] = ()  # oldest first
    open: _Pending | None = None  # the chain the next matching BU extends
    current: _Open | None = None
    closed: list[tuple[int, Binding]] | tuple[()] = ()  # (order, binding)


@dataclass(slots=True)
class _Node:
    """What the bindings analyzer keeps for one mobile node."""

    home_address: IPv6Address
    peers: list[_Peer] = field(default_factory=list)  # in order of appearance
    # the peers by address, made past PEERS_SCANNED of them (most nodes have one or two: a
    # dict of one is 232 bytes, and scanning them compares an address or two)
    peer_index: dict[IPv6Address, _Peer] | None = None
    registrations: list[Registration] = field(default_factory=list)
    care_of_order: list[IPv6Address] = field(default_factory=list)
    home_agent: IPv6Address | None = None
    tried_home_agent: IPv6Address | None = None  # peer of the latest H-flag BU not refused as HA
    # peers that said they are not its HA, and the identity.IDENTIFIED_BY names of what named it:
    # tuples, mostly empty or of one to three (an empty set costs 216 bytes)
    refused_by: tuple[IPv6Address, ...] = ()
    sources: tuple[str, ...] = ()

    mobile_router: bool = False

    def identified_by(self, source: str) -> None:
        """Add ``source`` (an identity.IDENTIFIED_BY name) to `sources`."""
        if source not in self.sources:
            self.sources += (source,)

    def peer(self, address: IPv6Address) -> _Peer | None:
        """The state of the pair with ``address``, None if there is none yet."""
        index = self.peer_index
        if index is not None:
            return index.get(address)
        for state in self.peers:
            if state.peer == address:
                return state
        return None

    def add_peer(self, state: _Peer) -> None:
        """Add a new peer's ``state``."""
        peers = self.peers
        peers.append(state)
        if self.peer_index is not None:
            self.peer_index[state.peer] = state
        elif len(peers) > PEERS_SCANNED:
            self.peer_index = {s.peer: s for s in peers}


@fast_frozen_init  # one a BU or BA: the faster __init__
@dataclass(frozen=True, slots=True)
class Answered:
    """The registration the latest BA answered (read by later analyzers)."""

    home_address: IPv6Address
    peer: IPv6Address
    kind: str
    care_of: IPv6Address
    seq: int
    status: int
    accepted: bool
    deregistration: bool
    first_bu_ts: float      # the chain's first BU
    retransmissions: int    # BUs in the chain - 1
    bu_frames: tuple[int, ...] = ()
    order: int = 0          # the chain's number (`BuStep.order`)


@fast_frozen_init  # one a BU or BA: the faster __init__
@dataclass(frozen=True, slots=True)
class BuStep:
    """Where the latest BU went: its chain (``order``) and its place in it
    (``index`` 0 = the first BU); read by the conformance analyzer."""

    home_address: IPv6Address
    peer: IPv6Address
    kind: str
    order: int
    index: int
    gap_s: float | None          # since the chain's previous BU
    previous_seq: int | None     # the chain's previous BU's number
    first_registration: bool    # a home registration with no binding in force at that peer


class BindingsAnalyzer(Analyzer):
    """Registrations and binding intervals per (mobile node, peer); roles."""

    def __init__(self, settings: Settings = DEFAULT_SETTINGS) -> None:
        self.settings = settings
        self.nodes: dict[IPv6Address, _Node] = {}
        self.home_agents: set[IPv6Address] = set()
        self.correspondents: set[IPv6Address] = set()
        self.access_routers: set[IPv6Address] = set()
        self.unmatched_acks: list[ev.BindingAck] = []  # the first MAX_UNMATCHED_KEPT
        self.unmatched_ack_homes: set[IPv6Address] = set()
        self.last_answered: Answered | None = None
        self.last_bu: BuStep | None = None
        self._care_of_owner: dict[IPv6Address, IPv6Address] = {}
        self.same_node = HomeAddressGroups()
        self.mobile_network_prefixes = MobileNetworkPrefixes()
        self._order = 0
        # home address -> [from ts, until ts, home_binding_at's answer in between]: one
        # list per address, kept and updated in place, so a reader holding it sees every
        # change; a handler that changes a node's bindings invalidates that node's entry
        self._home_memo: dict[IPv6Address, list] = {}

    # -- event handlers ------------------------------------------------------------------

    def on_binding_update(self, e: ev.BindingUpdate) -> None:
        """Group BUs into registration attempts (chains, see the module docstring)."""
        hoa, peer = e.home_address, e.dst
        self._forget_home(hoa)
        kind = HOME if "H" in e.flags else CORRESPONDENT
        state = self._peer(hoa, peer, kind)
        node = self.nodes[hoa]
        node.identified_by(BINDING_UPDATE)
        if "R" in e.flags:  # NEMO mobile router (RFC 3963 6.1.1)
            node.mobile_router = True
            for prefix in e.mobile_network_prefixes:
                self.mobile_network_prefixes.add(hoa, prefix)
        self._expire(hoa, peer, state, e.ts)
        if kind == HOME and peer not in node.refused_by:
            node.tried_home_agent = peer
        flags = CHAIN_FLAGS.intersection(e.flags)
        chain = state.open
        if (chain is not None and chain.care_of == e.care_of and chain.flags == flags
                and chain.requested == e.lifetime_s):
            self.last_bu = BuStep(hoa, peer, kind, chain.order, len(chain.frames), e.ts - chain.times[-1],
                                  chain.seq, chain.first_registration)
            chain.add(e)
            return
        self._order += 1
        first = (kind == HOME and state.current is None and e.lifetime_s > 0 and e.care_of != hoa)
        chain = _Pending(e.care_of, kind, e.lifetime_s, frozenset(flags), first, self._order)
        chain.add(e)
        if state.pending:
            state.pending.append(chain)
        else:
            state.pending = [chain]
        # without the A flag no BA is expected, so nothing is retransmitted (RFC 6275 11.8: the
        # messages "for which it expects a response"): the next BU is a new attempt
        state.open = chain if "A" in flags else None
        self.last_bu = BuStep(hoa, peer, kind, chain.order, 0, None, None, first)
        if kind == CORRESPONDENT:
            self.correspondents.add(peer)
            if _silent_deregistration(chain, hoa) and state.current is not None:
                self._close(state, e.ts, "deregistration")  # accepted unless a BA rejects it (9.5.4)

    def on_binding_ack(self, e: ev.BindingAck) -> None:
        """Answer a registration; open, refresh or end a binding interval."""
        self.last_answered = None
        hoa, peer = e.home_address, e.src
        self._forget_home(hoa)
        node = self.nodes.get(hoa)
        state = node.peer(peer) if node else None
        pending = self._answered_chain(state, e) if state else None
        if node is None or state is None or pending is None:
            if len(self.unmatched_acks) < MAX_UNMATCHED_KEPT:
                self.unmatched_acks.append(e)
            self.unmatched_ack_homes.add(hoa)
            return
        self._expire(hoa, peer, state, e.ts)
        node.identified_by(BINDING_ACK)
        accepted = e.status < 128
        granted = e.lifetime_s if accepted else 0
        seq = e.seq if e.seq in pending.seqs else pending.seq
        node.registrations.append(pending.registration(peer, hoa, e, seq, granted))
        dereg = accepted and (pending.requested == 0 or granted == 0 or pending.care_of == hoa)
        self.last_answered = Answered(hoa, peer, pending.kind, pending.care_of, seq, e.status,
                                      accepted, dereg, pending.first_ts, len(pending.frames) - 1,
                                      tuple(pending.frames), pending.order)
        if pending.kind == HOME and e.status not in NOT_HOME_AGENT_STATUSES:
            self.home_agents.add(peer)
        if pending.kind == HOME and e.status in NOT_THIS_NODES_HOME_AGENT:
            if peer not in node.refused_by:
                node.refused_by += (peer,)
            if node.tried_home_agent == peer:
                node.tried_home_agent = None
        if not accepted:
            if _silent_deregistration(pending, hoa):
                self._reopen(hoa, state, pending.first_ts, e.ts)
            return
        current = state.current
        if current is not None:
            ended_by = ("deregistration" if dereg else
                        "refresh" if current.care_of == pending.care_of else "new_care_of")
            self._close(state, e.ts, ended_by)
        if dereg:
            return
        state.current = _Open(pending.care_of, e.ts, e.frame, seq, pending.requested, granted,
                              pending.kind, pending.order, hoa)
        if pending.care_of not in node.care_of_order:
            node.care_of_order.append(pending.care_of)
        owner = self._care_of_owner.get(pending.care_of)
        if owner is not None and owner != hoa and self._bound_to(owner, pending.care_of, e.ts):
            self.same_node.join(owner, hoa)  # one care-of address, two home addresses at once
        self._care_of_owner[pending.care_of] = hoa
        if pending.kind == HOME:
            node.home_agent = peer
            if node.mobile_router:
                self.mobile_network_prefixes.router_bound()

    def on_binding_error(self, e: ev.BindingError) -> None:
        """A Binding Error with status 1 (the peer has no binding for the home
        address) ends the node's binding with its sender; status 2 (MH type not
        recognised) does not (RFC 6275 9.3.3, 11.3.6). One whose Home Address is
        the unspecified address (9.3.3: the offending packet had no HAO, e.g. an
        unknown MH Type) names no node."""
        if e.home_address.is_unspecified:
            return
        self._forget_home(e.home_address)
        node = self._node(e.home_address)
        node.identified_by(BINDING_ERROR)
        state = node.peer(e.src)
        if state is None or state.current is None or e.status != BE_UNKNOWN_BINDING:
            return
        self._expire(e.home_address, e.src, state, e.ts)
        if state.current is not None:
            self._close(state, e.ts, "binding_error")

    def on_router_advertisement(self, e: ev.RouterAdvertisement) -> None:
        """RA senders are access routers; the R-flag addresses of an H-flag RA home agents."""
        self.access_routers.add(e.router)
        if e.home_agent:
            self.home_agents.update(e.router_addresses)

    def finish(self, end_ts: float | None) -> None:
        """Expire what ran out before the end; the rest stays open (capture_end)."""
        for entry in self._home_memo.values():
            entry[0] = _INF
        if end_ts is None:
            return
        for node in self.nodes.values():
            for state in node.peers:
                self._expire(node.home_address, state.peer, state, end_ts)

    # -- queries for later analyzers -------------------------------------------------------

    def bindings(self, hoa: IPv6Address, peer: IPv6Address) -> list[Binding]:
        """The binding intervals (rejections excluded) with ``peer``, in time order,
        the one still in force last with ``end_ts`` None."""
        node = self.nodes.get(hoa)
        state = node.peer(peer) if node else None
        if state is None:
            return []
        out = [b for _, b in state.closed]
        if state.current is not None:
            out.append(self._as_binding(peer, state.current, None, "capture_end"))
        return sorted(out, key=lambda b: b.start_ts)

    def binding_at(self, hoa: IPv6Address, peer: IPv6Address, ts: float) -> Binding | None:
        """The binding with ``peer`` valid at ``ts`` (start <= ts < end), or None."""
        node = self.nodes.get(hoa)
        state = node.peer(peer) if node else None
        if state is None:
            return None
        current = state.current
        if current is not None and ts >= current.start_ts:  # the common case: now
            if ts < current.expires:
                return self._as_binding(peer, current, None, "capture_end")
            return None
        intervals = self.bindings(hoa, peer)
        i = bisect.bisect_right([b.start_ts for b in intervals], ts) - 1
        if i < 0:
            return None
        b = intervals[i]
        end = b.end_ts if b.end_ts is not None else b.start_ts + b.granted_lifetime_s
        return b if ts < end else None

    def _current_care_of(self, state: _Peer, ts: float) -> IPv6Address | None | bool:
        """The care-of of the binding in force at ``ts`` if it is the current one;
        False when ``ts`` is before the current binding (look in the history)."""
        current = state.current
        if current is None:
            last = state.closed[-1][1] if state.closed else None
            # Nothing bound since the last binding ended: no need for the history.
            return None if last is None or last.end_ts is None or ts >= last.end_ts else False
        if ts < current.start_ts:
            return False
        return current.care_of if ts < current.expires else None

    def home_binding_at(self, hoa: IPv6Address, ts: float) -> IPv6Address | None:
        """The care-of address the home binding held at ``ts``, or None; with
        home bindings at several home agents at once, the first home agent's
        (in order of appearance: `home_care_of_at` asks one home agent).

        Called several times for every tunnelled packet: the answer is
        remembered per home address with the time range over which every home
        agent's binding stays as it is (until the next BU, BA or Binding Error
        changes the state), so most calls are one dict lookup; the current
        binding answers without building the history."""
        memo = self._home_memo.get(hoa)
        if memo is not None and memo[0] <= ts < memo[1]:
            return memo[2]
        node = self.nodes.get(hoa)
        if node is None:
            self._remember_home(hoa, memo, _NEG_INF, _INF, None)  # until a handler creates the node
            return None
        lo, hi, exact = _NEG_INF, _INF, True
        result = None
        for state in node.peers:
            if state.kind != HOME:
                continue
            peer = state.peer
            # _current_care_of, with the range of ts over which its answer holds
            current = state.current
            care_of: IPv6Address | None | bool
            if current is None:
                last = state.closed[-1][1] if state.closed else None
                if last is None or last.end_ts is None:
                    care_of = None
                elif ts >= last.end_ts:
                    care_of = None
                    if last.end_ts > lo:
                        lo = last.end_ts
                else:
                    care_of = False
            elif ts < current.start_ts:
                care_of = False
            else:
                expires = current.expires
                if ts < expires:
                    care_of = current.care_of
                    if current.start_ts > lo:
                        lo = current.start_ts
                    if expires < hi:
                        hi = expires
                else:
                    care_of = None
                    if expires > lo:
                        lo = expires
            if care_of is False:
                exact = False  # from the history: not remembered
                b = self.binding_at(hoa, peer, ts)
                care_of = b.care_of if b is not None else None
            if result is None:
                result = care_of
        if exact:
            self._remember_home(hoa, memo, lo, hi, result)
        return result

    def home_care_of_at(self, hoa: IPv6Address, home_agent: IPv6Address, ts: float) -> IPv6Address | None:
        """The care-of address of ``hoa``'s home binding at ``home_agent`` valid
        at ``ts``, or None: the one that home agent tunnels to (RFC 6275 10.4.1,
        10.4.2: "using the care-of address from its Binding Cache entry")."""
        b = self.binding_at(hoa, home_agent, ts)
        return b.care_of if b is not None and b.kind == HOME else None

    def implicit_router_at(self, care_of: IPv6Address, home_agent: IPv6Address,
                           ts: float) -> IPv6Address | None:
        """The mobile router that registered no Mobile Network Prefix (implicit
        mode, RFC 3963 5.2) whose home binding at ``home_agent`` is to
        ``care_of`` at ``ts``, or None: the home agent tunnels its mobile
        network's packets to that care-of address (5.5, 6.3)."""
        router = self._care_of_owner.get(care_of)
        node = self.nodes.get(router) if router is not None else None
        if (node is None or not node.mobile_router or router in self.mobile_network_prefixes.prefixes
                or self.home_care_of_at(router, home_agent, ts) != care_of):
            return None
        return router

    def _remember_home(self, hoa: IPv6Address, entry: list | None, lo: float, hi: float,
                       care_of: IPv6Address | None) -> None:
        """Set ``hoa``'s `home_binding_at` memo (``entry``, if it has one) in place."""
        if entry is None:
            self._home_memo[hoa] = [lo, hi, care_of]
        else:
            entry[0], entry[1], entry[2] = lo, hi, care_of

    def _forget_home(self, hoa: IPv6Address) -> None:
        """Invalidate ``hoa``'s `home_binding_at` memo: its bindings change."""
        entry = self._home_memo.get(hoa)
        if entry is not None:
            entry[0] = _INF

    def care_of_addresses(self, hoa: IPv6Address) -> list[IPv6Address]:
        """The care-of addresses the node had accepted, in the order first used."""
        node = self.nodes.get(hoa)
        return list(node.care_of_order) if node else []

    def home_agent_of(self, hoa: IPv6Address) -> IPv6Address | None:
        """The peer of the node's latest accepted home registration."""
        node = self.nodes.get(hoa)
        return node.home_agent if node else None

    def is_care_of(self, address: IPv6Address) -> bool:
        """Whether ``address`` was the care-of address of an accepted binding."""
        return address in self._care_of_owner

    def home_address_of(self, care_of: IPv6Address) -> IPv6Address | None:
        """The home address whose accepted binding (latest) used ``care_of``."""
        return self._care_of_owner.get(care_of)

    def registrations(self, hoa: IPv6Address | None = None) -> list[Registration]:
        """Answered registrations of one node (or of all), in answer order
        (`unanswered` has the others)."""
        if hoa is not None:
            node = self.nodes.get(hoa)
            return list(node.registrations) if node else []
        return [r for n in self.nodes.values() for r in n.registrations]

    def pending(self, hoa: IPv6Address) -> list[tuple[IPv6Address, int, tuple[int, ...]]]:
        """Unanswered registrations of one node: (peer, latest seq, BU frames)."""
        node = self.nodes.get(hoa)
        if node is None:
            return []
        return [(s.peer, p.seq, tuple(p.frames)) for s in node.peers for p in s.pending]

    # -- report -----------------------------------------------------------------------------

    def contribute(self, builder: ReportBuilder) -> None:
        """Fill each node's home agent(s), care-of addresses, bindings and
        registrations (answered and unanswered, by first BU)."""
        for hoa, node in self.nodes.items():
            parts = builder.node(hoa)
            parts.home_agent = node.home_agent or node.tried_home_agent  # freeze adds it to home_agents
            parts.care_of_addresses = list(node.care_of_order)
            entries: list[tuple[int, Binding]] = []
            for state in node.peers:
                entries.extend(state.closed)
                if state.current is not None:
                    entries.append((state.current.order,
                                    self._as_binding(state.peer, state.current, None, "capture_end")))
            parts.bindings = [b for _, b in sorted(entries, key=lambda x: x[0])]
            waiting = [p.registration(state.peer, hoa) for state in node.peers for p in state.pending]
            parts.registrations = sorted(node.registrations + waiting, key=lambda r: r.first_bu_ts)
        builder.home_agents.update(self.home_agents)
        builder.correspondents.update(self.correspondents)
        builder.access_routers.update(self.access_routers)

    # -- internals ----------------------------------------------------------------------------

    def _node(self, hoa: IPv6Address) -> _Node:
        node = self.nodes.get(hoa)
        if node is None:
            node = self.nodes[hoa] = _Node(hoa)
            self._forget_home(hoa)
            self.same_node.seen(hoa)
        return node

    def _bound_to(self, hoa: IPv6Address, care_of: IPv6Address, ts: float) -> bool:
        """Whether ``hoa`` holds a binding to ``care_of`` in force at ``ts``."""
        node = self.nodes.get(hoa)
        if node is None:
            return False
        return any(s.current is not None and s.current.care_of == care_of
                   and s.current.start_ts <= ts < s.current.expires for s in node.peers)

    @staticmethod
    def _answered_chain(state: _Peer, e: ev.BindingAck) -> _Pending | None:
        """Take the pending chain ``e`` answers out of ``state`` (None if none):
        the one with a BU of that number, else, for a rejection, the latest."""
        pending = state.pending
        seq, chain = e.seq, None
        for candidate in reversed(pending):
            if seq in candidate.seqs:
                chain = candidate
                break
        if chain is None and e.status >= 128 and pending:
            chain = pending[-1]
        if chain is None:
            return None
        pending.remove(chain)
        if not pending:
            state.pending = ()
        if state.open is chain:
            state.open = None
        return chain

    def _peer(self, hoa: IPv6Address, peer: IPv6Address, kind: str) -> _Peer:
        node = self._node(hoa)
        state = node.peer(peer)
        if state is None:
            state = _Peer(peer, kind)
            node.add_peer(state)
        return state

    @staticmethod
    def _as_binding(peer: IPv6Address, b: _Open, end_ts: float | None, ended_by: str) -> Binding:
        return Binding(peer, b.kind, b.care_of, b.start_ts, end_ts, b.start_frame, b.seq,
                       b.requested, b.granted, ended_by, b.home_address)

    @staticmethod
    def _close(state: _Peer, end_ts: float, ended_by: str) -> None:
        current = state.current
        assert current is not None
        BindingsAnalyzer._closed(state, current.order,
                                 BindingsAnalyzer._as_binding(state.peer, current, end_ts, ended_by))
        state.current = None

    @staticmethod
    def _closed(state: _Peer, order: int, binding: Binding) -> None:
        """Add ``binding`` (its BU chain's ``order``) to the state's closed ones."""
        if state.closed:
            state.closed.append((order, binding))
        else:
            state.closed = [(order, binding)]

    def _reopen(self, hoa: IPv6Address, state: _Peer, bu_ts: float, now: float) -> None:
        """A rejecting BA answered the deregistration without A sent at
        ``bu_ts``: the binding that BU ended is in force again (or ran out)."""
        if state.current is not None or not state.closed:
            return
        order, b = state.closed[-1]
        if b.ended_by != "deregistration" or b.end_ts != bu_ts:
            return
        state.closed.pop()
        state.current = _Open(b.care_of, b.start_ts, b.start_frame, b.seq, b.requested_lifetime_s,
                              b.granted_lifetime_s, b.kind, order, hoa)
        self._expire(hoa, state.peer, state, now)

    def _expire(self, hoa: IPv6Address, peer: IPv6Address, state: _Peer, now: float) -> None:
        current = state.current
        if current is not None and now >= current.expires:
            self._closed(state, current.order, self._as_binding(peer, current, current.expires, "expiry"))
            state.current = None

    def expired(self) -> Iterator[tuple[IPv6Address, IPv6Address, Binding]]:
        """(home address, peer, binding) of every binding that ran out of
        lifetime ("expiry"), by node and peer in order of appearance, each
        peer's in time order (as `bindings` lists them)."""
        for hoa, node in self.nodes.items():
            for state in node.peers:
                ended = [b for _, b in state.closed if b.ended_by == "expiry" and b.end_ts is not None]
                if ended:
                    for b in sorted(ended, key=lambda b: b.start_ts):
                        yield hoa, state.peer, b

    # -- snapshots (the cache view) -----------------------------------------------------------

    def home_addresses(self) -> list[IPv6Address]:
        """Every mobile node seen so far, by home address, in order of appearance."""
        return list(self.nodes)

    def peer_kinds(self, hoa: IPv6Address) -> dict[IPv6Address, str]:
        """The node's peers so far, each ``home`` or ``correspondent``, in order of appearance."""
        node = self.nodes.get(hoa)
        return {state.peer: state.kind for state in node.peers} if node else {}

    def binding_in_force(self, hoa: IPv6Address, peer: IPv6Address, at: float) -> Binding | None:
        """The binding with ``peer`` opened by the latest accepting BA so far, if
        it holds at ``at`` (started, lifetime not run out), as an open Binding
        (``end_ts`` None). Unlike `binding_at` it never looks in the history, and
        a lifetime that ran out counts even before an event has expired it."""
        node = self.nodes.get(hoa)
        state = node.peer(peer) if node else None
        current = state.current if state else None
        if current is None or not current.start_ts <= at < current.expires:
            return None
        return self._as_binding(peer, current, None, "capture_end")

    def waiting_since(self, hoa: IPv6Address, peer: IPv6Address, care_of: IPv6Address) -> float | None:
        """The first BU's time of the oldest registration of ``hoa`` with
        ``peer`` for ``care_of`` still waiting for its BA (None: none waits);
        no record is made (`unanswered` makes them)."""
        node = self.nodes.get(hoa)
        state = node.peer(peer) if node else None
        return min((p.times[0] for p in state.pending if p.care_of == care_of), default=None) \
            if state is not None and state.pending else None

    def unanswered(self, hoa: IPv6Address, peer: IPv6Address) -> list[Registration]:
        """The registrations with ``peer`` still waiting for their BA, oldest
        first (the BA's fields are None)."""
        node = self.nodes.get(hoa)
        state = node.peer(peer) if node else None
        if state is None:
            return []
        return [p.registration(peer, hoa) for p in state.pending]
