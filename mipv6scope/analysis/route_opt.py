"""Route optimisation per (mobile node home address, correspondent), RFC 6275
5.2, 9.4-9.5, 11.6-11.7.

States and what moves between them (each transition carries the ts and frame
of the packet that caused it):

- ``tunnelled``: the first data packet between the home address and the
  correspondent through the home agent tunnel, either direction.
- ``rr_started``: the first HoTI or CoTI of a return routability round.
- ``rr_done``: the round's replies are in: a HoT and a CoT whose cookies match
  the round's inits (a care-of-only round after a movement needs only the CoT
  when a HoT was seen before, RFC 6275 11.6.1). A CoTI names no home address
  (6.1.4): one the capture cannot place yet (at a correspondent's vantage no
  home BU or tunnel shows which node uses the care-of address) is kept with
  its CoT by (care-of address, correspondent), and the node's BU to that
  correspondent from that care-of address, which names both (it carries the
  care-of nonce index, 5.2.5, 6.2.6), completes its round with them, back
  at the CoT's time. A reply seen twice (the HoT on
  the CN -> home link leg and again inside the tunnel) counts at its last
  copy, so the transition is the reply that reached the node last.
- ``bu_sent``: a BU without H to the correspondent. Its Nonce Indices are
  checked against the last HoT/CoT nonce indices (``nonce_mismatches``).
- ``ro_active``: the correspondent's BA with status < 128, or the first
  route-optimised data (HAO from the node, RH2 to it) after the BU, or with
  no history at all for the pair (capture started mid-way) when the capture
  shows no correspondent BU on that path (care-of address, correspondent)
  for any home address. Route-optimised data of a pair seen only tunnelled
  is counted but changes nothing: the BU that would have made it so is not
  in the capture (RFC 6275 9.3.1, 9.3.2: HAO and RH2 follow a binding).
- ``fallback`` with reason ``binding_error`` (BE status 1 for that home
  address from that correspondent), ``expiry`` (the granted lifetime ran out;
  ts is the expiry instant, frame the first frame seen after it, or
  the last frame of the capture),
  ``movement`` (a home BU from a care-of address other than the one
  registered with the correspondent; the truth files mark the BU, not its
  BA), ``rejected`` (a BA status >= 128 answering the BU), or
  ``deregistration`` (the correspondent accepted a BU with lifetime 0 or
  care-of = home address, or granted lifetime 0: it deletes its Binding Cache
  entry, RFC 6275 6.1.7, 9.5.1; so a pair with no binding before never
  becomes ``ro_active`` by it). A deregistration BU without the A flag is
  ``fallback`` ``deregistration`` at the BU itself, whatever the state: RFC
  6275 9.5.4, "If the node accepts the Binding Update, the Binding
  Acknowledgement SHOULD NOT be sent", while a rejection for an expired
  nonce index, a sequence number out of window or insufficient resources
  MUST be answered. A rejecting BA answering it (status >= 128, before any
  other transition of the pair) withdraws that fallback: the transition and
  the end of the active interval are taken back, as if the BU had not been
  sent (the correspondent kept its entry).

A new round while RO is active (refreshing tokens) and a refresh BU/BA do not
change the state. Only pairs with some return routability, correspondent
registration or route-optimised data are reported.

Active intervals: each ``ro_active`` period ends at the transition that left
it. One still active when the capture ends is reported ``open``, up to the
capture's end (``ended_by`` "capture_end"): the correspondent's binding holds
until its lifetime runs out or something ends it (RFC 6275 9.5.2, 11.7.2), so
what the capture shows of it is active time.

Pairs are (home address, correspondent): the correspondent of a tunnelled
packet is its inner end that is not the node (the source of a packet to the
node, the destination of one from it). A mobile router's tunnel also carries
its mobile network nodes' packets (NEMO, RFC 3963 5.5, 6.3); those are the
router's tunnel traffic (`tunnels`), not its home address's, and make no pair:
NEMO basic support has no route optimisation for them (RFC 3963 1, 3). A
home address is route-optimised only by what names it: its own correspondent
BU/BA, or route-optimised data carrying it (HAO/RH2); another home address of
the same node, or the router's prefixes, never make it so.
"""

from __future__ import annotations

import heapq
import math
import statistics
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import Any

from .. import events as ev
from ..report.builder import ReportBuilder
from ..report.model import Interval, RouteOptimization, Transition
from .base import DataAnalyzer
from .series import Series
from .tunnels import TO_MN, TunnelLegs

TUNNELLED, RR_STARTED, RR_DONE, BU_SENT, RO_ACTIVE, FALLBACK = (
    "tunnelled", "rr_started", "rr_done", "bu_sent", "ro_active", "fallback")
MAX_COOKIES = 8        # outstanding init cookies remembered per pair and kind
MAX_MISMATCHES = 100   # frames kept per mismatch list
BE_NO_BINDING = 1
IN_PROGRESS = frozenset((RR_STARTED, RR_DONE, BU_SENT, RO_ACTIVE))

Pair = tuple[IPv6Address, IPv6Address]  # (home address, correspondent)


@dataclass(slots=True)
class _Round:
    """One return routability round."""

    start_ts: float
    home_cookies: list[str] = field(default_factory=list)
    careof_cookies: list[str] = field(default_factory=list)
    home_reply: tuple[float, int] | None = None
    careof_reply: tuple[float, int] | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class _Before:
    """A pair's state before a transition that a later BA may take back."""

    state: str | None
    transitions: int
    intervals: int
    active_start: float | None
    expiry: float | None


@dataclass(slots=True)
class PairState:
    """Route optimisation state of one (home address, correspondent) pair."""

    state: str | None = None
    transitions: list[Transition] = field(default_factory=list)
    signalled: bool = False
    round: _Round | None = None
    home_nonce: int | None = None
    careof_nonce: int | None = None
    care_of: IPv6Address | None = None
    active_start: float | None = None
    intervals: list[Interval] = field(default_factory=list)
    expiry: float | None = None
    rr_latencies_ms: list[float] = field(default_factory=list)
    packets_direct: int = 0
    packets_tunnelled: int = 0
    direct_series: Series | None = None
    direct_bin_end: float = -math.inf  # the end of its open bin
    nonce_mismatches: list[int] = field(default_factory=list)
    cookie_mismatches: list[int] = field(default_factory=list)
    tunnel_home_agent: IPv6Address | None = None  # of the last tunnelled packet
    deregistering: bool = False  # the last correspondent BU asked to delete the binding
    withdrawable: _Before | None = None  # the pair before a deregistration BU without A ended RO

    def go(self, state: str, ts: float, frame: int, reason: str | None = None) -> None:
        """Record a transition to ``state``; open or close the active interval."""
        if self.state == RO_ACTIVE and state != RO_ACTIVE and self.active_start is not None:
            self.intervals.append(Interval(self.active_start, ts, reason or state))
            self.active_start = None
        if state == RO_ACTIVE:
            self.active_start = ts
        if state != RO_ACTIVE:
            self.expiry = None
        self.state = state
        self.transitions.append(Transition(ts, frame, state, reason))


class _Tunnelled:
    """A pair seen only in the home agent tunnel so far (most pairs, and never
    reported as they are): what its `PairState` would hold, in a fraction of
    its memory, until something else names the pair (`RouteOptAnalyzer._pair`
    then makes the PairState from it and leaves it in ``pair``)."""

    __slots__ = ("ts", "frame", "packets", "home_agent", "pair")

    def __init__(self, ts: float, frame: int) -> None:
        self.ts, self.frame = ts, frame  # the first tunnelled packet: the "tunnelled" transition
        self.packets = 0
        self.home_agent: IPv6Address | None = None  # of the last tunnelled packet
        self.pair: PairState | None = None


def _push(kept: list, item: object) -> None:
    """Add ``item`` to ``kept`` unless it is there; ``kept`` holds the latest MAX_COOKIES."""
    if item not in kept:
        kept.append(item)
        del kept[:-MAX_COOKIES]


class RouteOptAnalyzer(DataAnalyzer):
    """Route optimisation per (MN, CN); see the module docstring.

    ``bindings`` (optional) is the bindings analyzer, used to attribute tunnel
    packets to home addresses (`tunnels.TunnelLegs`); ``legs`` an existing
    `TunnelLegs` to share (the tunnel analyzer's: each packet's leg is then
    worked out once).
    """

    def __init__(self, bindings: Any | None = None, legs: TunnelLegs | None = None) -> None:
        self.legs = legs if legs is not None else TunnelLegs(bindings)
        self.pairs: dict[Pair, PairState] = {}
        self._tunnelled: dict[Pair, _Tunnelled] = {}  # pairs seen only in the tunnel, not in ``pairs``
        self._pairs_of: dict[IPv6Address, list[PairState]] = {}  # home address -> its pairs
        self.home_agents: set[IPv6Address] = set()
        self._expiries: list[tuple[float, Pair]] = []
        self._last_frame = 0
        self._end_ts: float | None = None  # the capture's end, from `finish`
        self._bu_paths: set[tuple[IPv6Address, IPv6Address]] = set()  # (care-of, CN) of correspondent BUs
        # care-of address -> the home addresses seen using it (first first)
        self._homes_at: dict[IPv6Address, list[IPv6Address]] = {}
        # CoTIs (ts, frame, cookie) and CoTs (ts, frame, cookie, nonce index) no home address
        # was found for, by (care-of address, correspondent): a BU from there places them
        self._unplaced_cotis: dict[tuple[IPv6Address, IPv6Address], list[tuple[float, int, str]]] = {}
        self._unplaced_cots: dict[tuple[IPv6Address, IPv6Address], list[tuple[float, int, str, int]]] = {}

    def _pair(self, hoa: IPv6Address, cn: IPv6Address) -> PairState:
        key = (hoa, cn)
        pair = self.pairs.get(key)
        if pair is None:
            pair = self._new_pair(key)
            seen = self._tunnelled.pop(key, None)
            if seen is not None:
                pair.packets_tunnelled, pair.tunnel_home_agent = seen.packets, seen.home_agent
                pair.go(TUNNELLED, seen.ts, seen.frame)
                seen.pair = pair
        return pair

    def _tunnel_pair(self, hoa: IPv6Address, cn: IPv6Address, ts: float, frame: int
                     ) -> PairState | _Tunnelled:
        """The pair of a tunnelled packet: its PairState, else its `_Tunnelled`
        (made by its first tunnelled packet)."""
        key = (hoa, cn)
        pair = self.pairs.get(key)
        if pair is not None:
            return pair
        seen = self._tunnelled.get(key)
        if seen is None:
            seen = self._tunnelled[key] = _Tunnelled(ts, frame)
        return seen

    def _new_pair(self, key: Pair) -> PairState:
        pair = self.pairs[key] = PairState()
        self._pairs_of.setdefault(key[0], []).append(pair)
        return pair

    def _tick(self, ts: float, frame: int) -> None:
        """Fall back pairs whose correspondent binding expired before ``ts``."""
        self._last_frame = frame
        while self._expiries and self._expiries[0][0] < ts:
            expiry, key = heapq.heappop(self._expiries)
            pair = self.pairs[key]
            if pair.state == RO_ACTIVE and pair.expiry == expiry:
                pair.go(FALLBACK, expiry, frame, "expiry")

    # -- data --------------------------------------------------------------------------------

    def tunnelled_data(self, t: tuple) -> None:
        ts, frame = t[0], t[1]
        self._last_frame = frame
        expiries = self._expiries
        if expiries and expiries[0][0] < ts:
            self._tick(ts, frame)
        legs = self.legs
        leg = legs.last_leg if t is legs.last_packet else legs.packet_leg(t)
        if leg is None:
            return
        hoa = leg[2]
        # (home address, its PairState, its `_Tunnelled` or None): a PairState is never
        # replaced, a `_Tunnelled` is followed to the PairState made from it
        memo = t[15].get(self)
        if memo is not None and memo[0] is hoa:
            pair = memo[1]
        else:
            # the correspondent is the inner end that is not the node: the source of a
            # packet to it, the destination of one from it
            own, cn = (t[6], t[5]) if leg[3] == TO_MN else (t[5], t[6])
            # a mobile network node's packet (NEMO, RFC 3963 5.5) is the router's tunnel
            # traffic, not its home address's: no pair
            pair = self._tunnel_pair(hoa, cn, ts, frame) if own == hoa else None
            t[15][self] = (hoa, pair)
        if pair is None:
            return
        if type(pair) is _Tunnelled:
            if pair.pair is None:
                pair.packets += 1
                if leg[0] is not pair.home_agent:
                    pair.home_agent = leg[0]
                    self.home_agents.add(leg[0])
                return
            pair = pair.pair
            t[15][self] = (hoa, pair)
        if leg[0] is not pair.tunnel_home_agent:
            pair.tunnel_home_agent = leg[0]
            self.home_agents.add(leg[0])
        pair.packets_tunnelled += 1
        if pair.state is None:
            pair.go(TUNNELLED, ts, frame)

    def plain_data(self, t: tuple) -> None:
        """Neither tunnelled nor route-optimised: only the clock moves."""
        ts, frame = t[0], t[1]
        self._last_frame = frame
        expiries = self._expiries
        if expiries and expiries[0][0] < ts:
            self._tick(ts, frame)

    def route_optimised_data(self, t: tuple) -> None:
        """Data with a Home Address option or a type 2 routing header: direct
        between the node and its correspondent."""
        ts, frame = t[0], t[1]
        self._last_frame = frame
        expiries = self._expiries
        if expiries and expiries[0][0] < ts:
            self._tick(ts, frame)
        pair = t[15].get(self)  # pairs are never replaced
        if pair is None:
            hao = t[8]
            if hao is not None:
                pair = self._pair(hao, t[6])
            else:
                rh2 = t[9]
                if rh2 is None:
                    return
                pair = self._pair(rh2, t[5])
            t[15][self] = pair
        if ts >= pair.direct_bin_end:  # past the open bin of the packets-over-time series
            series = pair.direct_series
            if series is None:
                series = pair.direct_series = Series(ts)
            pair.direct_bin_end = series.advance(ts, pair.packets_direct)
        pair.packets_direct += 1
        state = pair.state
        if state == BU_SENT or (state is None and not self._registers_on_path(t)):
            pair.signalled = True
            pair.go(RO_ACTIVE, ts, frame)

    def _registers_on_path(self, t: tuple) -> bool:
        """Whether the capture showed a correspondent BU on the path of this
        route-optimised packet (its care-of address and correspondent), for any
        home address: then it shows that path's registrations, and a home
        address without a BU of its own is not route-optimised (RFC 6275 9.3.1:
        a correspondent accepts a HAO only with a binding)."""
        if t[8] is not None:
            return (t[3], t[6]) in self._bu_paths
        return (t[4], t[5]) in self._bu_paths

    # -- return routability ------------------------------------------------------------------

    def _home_at(self, coa: IPv6Address, hoa: IPv6Address) -> None:
        homes = self._homes_at.setdefault(coa, [])
        if hoa not in homes:
            homes.append(hoa)

    def _home_of_care_of(self, coa: IPv6Address) -> IPv6Address | None:
        return self.legs.care_of_home.get(coa)

    def _coti_home(self, coa: IPv6Address, cn: IPv6Address) -> IPv6Address | None:
        """The home address a CoTI from ``coa`` to ``cn`` belongs to. A CoTI
        names none (RFC 6275 6.1.4); it goes with the HoTI of the same round
        (5.2.5), so a home address at ``coa`` whose round with ``cn`` waits for
        its care-of half comes first, then one whose pair already uses ``coa``,
        then the home address last seen at ``coa``."""
        homes = self._homes_at.get(coa, ())
        pairs = [(h, p) for h, p in ((h, self.pairs.get((h, cn))) for h in homes) if p is not None]
        waiting = [(p.round.start_ts, h) for h, p in pairs
                   if p.round is not None and not p.round.done and p.round.home_cookies
                   and not p.round.careof_cookies]
        if waiting:
            return max(waiting)[1]
        for h, p in pairs:
            if p.care_of == coa:
                return h
        return self._home_of_care_of(coa)

    def _cot_home(self, coa: IPv6Address, cn: IPv6Address, cookie: str) -> IPv6Address | None:
        """The home address a CoT to ``coa`` from ``cn`` answers: the one whose
        round sent its cookie (RFC 6275 6.1.6), else as `_coti_home`."""
        for h in self._homes_at.get(coa, ()):
            p = self.pairs.get((h, cn))
            if p is not None and p.round is not None and cookie in p.round.careof_cookies:
                return h
        return self._coti_home(coa, cn)

    def on_test_init(self, event: ev.TestInit) -> None:
        """HoTI (src = home address) or CoTI (src = care-of address)."""
        self._tick(event.ts, event.frame)
        if event.home:
            hoa = event.src
            if event.tunnelled:
                self._home_at(event.outer_src, hoa)
        else:
            hoa = self._coti_home(event.wire_src, event.dst)
        if hoa is None:
            if not event.home:
                _push(self._unplaced_cotis.setdefault((event.wire_src, event.dst), []),
                      (event.ts, event.frame, event.cookie))
            return
        pair = self._pair(hoa, event.dst)
        pair.signalled = True
        rnd = pair.round
        if rnd is None or rnd.done:
            rnd = pair.round = _Round(event.ts)
            if pair.state != RO_ACTIVE:
                pair.go(RR_STARTED, event.ts, event.frame)
        _push(rnd.home_cookies if event.home else rnd.careof_cookies, event.cookie)
        if not event.home:
            pair.care_of = event.wire_src

    def on_test(self, event: ev.Test) -> None:
        """HoT (dst = home address) or CoT (dst = care-of address)."""
        self._tick(event.ts, event.frame)
        hoa = event.dst if event.home else self._cot_home(event.wire_dst, event.src, event.cookie)
        if hoa is None:
            if not event.home:
                _push(self._unplaced_cots.setdefault((event.wire_dst, event.src), []),
                      (event.ts, event.frame, event.cookie, event.nonce_index))
            return
        pair = self.pairs.get((hoa, event.src))
        if pair is None or pair.round is None:
            return
        rnd = pair.round
        cookies = rnd.home_cookies if event.home else rnd.careof_cookies
        if event.cookie not in cookies:
            if len(pair.cookie_mismatches) < MAX_MISMATCHES:
                pair.cookie_mismatches.append(event.frame)
            return
        if event.home:
            rnd.home_reply = (event.ts, event.frame)
            pair.home_nonce = event.nonce_index
        else:
            rnd.careof_reply = (event.ts, event.frame)
            pair.careof_nonce = event.nonce_index
        self._check_done(pair, rnd)

    def _check_done(self, pair: PairState, rnd: _Round) -> None:
        if rnd.careof_reply is None:
            return
        if rnd.home_reply is None and (rnd.home_cookies or pair.home_nonce is None):
            return
        last = max(r for r in (rnd.home_reply, rnd.careof_reply) if r is not None)
        latency = round((last[0] - rnd.start_ts) * 1000.0, 3)
        if not rnd.done:
            rnd.done = True
            pair.rr_latencies_ms.append(latency)
            if pair.state == RR_STARTED:
                pair.go(RR_DONE, last[0], last[1])
        elif pair.state == RR_DONE and pair.transitions[-1].state == RR_DONE:
            # a later copy of a reply (the HoT inside the tunnel): it completes the round
            pair.transitions[-1] = Transition(last[0], last[1], RR_DONE, None)
            pair.rr_latencies_ms[-1] = latency

    def _place_care_of_half(self, pair: PairState, coa: IPv6Address, cn: IPv6Address) -> None:
        """The CoTIs from ``coa`` to ``cn`` and their CoTs that no home address
        was found for belong to ``pair``, whose BU to ``cn`` comes from ``coa``
        (see the module docstring): when its round waits for its care-of half,
        they complete it."""
        cotis = self._unplaced_cotis.pop((coa, cn), None)
        cots = self._unplaced_cots.pop((coa, cn), ())
        rnd = pair.round
        if cotis is None or rnd is None or rnd.done or rnd.careof_cookies:
            return
        for _ts, _frame, cookie in cotis:
            _push(rnd.careof_cookies, cookie)
        for ts, frame, cookie, nonce in cots:
            if cookie in rnd.careof_cookies:
                rnd.careof_reply, pair.careof_nonce = (ts, frame), nonce
        pair.care_of = coa
        self._check_done(pair, rnd)

    # -- registration ------------------------------------------------------------------------

    def on_binding_update(self, event: ev.BindingUpdate) -> None:
        """A correspondent BU (no H) moves to bu_sent; a home BU from a new
        care-of address is a movement."""
        self._tick(event.ts, event.frame)
        hoa = event.home_address
        if "H" in event.flags:
            self.home_agents.add(event.dst)
            if event.care_of != hoa:
                self.legs.care_of_home[event.care_of] = hoa
                self._home_at(event.care_of, hoa)
            for pair in self._pairs_of.get(hoa, ()):
                if (pair.state in IN_PROGRESS and pair.care_of is not None
                        and pair.care_of != event.care_of):
                    pair.round = None
                    pair.go(FALLBACK, event.ts, event.frame, "movement")
            return
        pair = self._pair(hoa, event.dst)
        pair.signalled = True
        self.legs.care_of_home.setdefault(event.care_of, hoa)
        self._home_at(event.care_of, hoa)
        self._bu_paths.add((event.wire_src, event.dst))
        self._bu_paths.add((event.care_of, event.dst))
        if self._unplaced_cotis:
            self._place_care_of_half(pair, event.care_of, event.dst)
        home_bad = (event.home_nonce_index is not None and pair.home_nonce is not None
                    and event.home_nonce_index != pair.home_nonce)
        careof_bad = (event.careof_nonce_index is not None and pair.careof_nonce is not None
                      and event.careof_nonce_index != pair.careof_nonce)
        if (home_bad or careof_bad) and len(pair.nonce_mismatches) < MAX_MISMATCHES:
            pair.nonce_mismatches.append(event.frame)
        pair.care_of = event.care_of
        pair.deregistering = event.lifetime_s == 0 or event.care_of == hoa
        pair.withdrawable = None
        if pair.deregistering and "A" not in event.flags:
            # accepted unless a rejecting BA answers it (RFC 6275 9.5.4): RO ends here
            pair.withdrawable = _Before(pair.state, len(pair.transitions), len(pair.intervals),
                                        pair.active_start, pair.expiry)
            pair.go(FALLBACK, event.ts, event.frame, "deregistration")
        elif pair.state != RO_ACTIVE and pair.state != BU_SENT:
            pair.go(BU_SENT, event.ts, event.frame)

    def on_binding_ack(self, event: ev.BindingAck) -> None:
        """The correspondent's BA: accepted -> ro_active (or a refresh), rejected
        -> fallback, a deregistration accepted -> fallback (RFC 6275 9.5.1: the
        correspondent deletes its Binding Cache entry)."""
        self._tick(event.ts, event.frame)
        key = (event.home_address, event.src)
        pair = self.pairs.get(key)
        if pair is None:
            return
        before, pair.withdrawable = pair.withdrawable, None
        if before is not None and event.status >= 128 and len(pair.transitions) == before.transitions + 1:
            self._withdraw(key, pair, before)
            return
        if pair.state not in (BU_SENT, RO_ACTIVE):
            return
        if event.status >= 128:
            if pair.state == BU_SENT:
                pair.go(FALLBACK, event.ts, event.frame, "rejected")
            return
        if pair.deregistering or event.lifetime_s == 0:
            pair.go(FALLBACK, event.ts, event.frame, "deregistration")
            return
        if pair.state == BU_SENT:
            pair.go(RO_ACTIVE, event.ts, event.frame)
        pair.expiry = event.ts + event.lifetime_s
        heapq.heappush(self._expiries, (pair.expiry, (event.home_address, event.src)))

    def _withdraw(self, key: Pair, pair: PairState, before: _Before) -> None:
        """A rejecting BA answered the deregistration without A that ended RO:
        the pair is as it was before that BU (the correspondent kept its entry)."""
        del pair.transitions[before.transitions:]
        del pair.intervals[before.intervals:]
        pair.state, pair.active_start, pair.expiry = before.state, before.active_start, before.expiry
        if pair.expiry is not None:
            heapq.heappush(self._expiries, (pair.expiry, key))  # its entry may have been dropped meanwhile

    def on_binding_error(self, event: ev.BindingError) -> None:
        """BE status 1 from the correspondent for that home address: fallback."""
        self._tick(event.ts, event.frame)
        if event.status != BE_NO_BINDING:
            return
        pair = self.pairs.get((event.home_address, event.src))
        if pair is not None and pair.state in (BU_SENT, RO_ACTIVE):
            pair.go(FALLBACK, event.ts, event.frame, "binding_error")

    # -- end -----------------------------------------------------------------------------------

    def finish(self, end_ts: float | None) -> None:
        """Expire what ran out before the end; nothing else closes here (open
        intervals are reported up to ``end_ts``, ended_by capture_end)."""
        self._end_ts = end_ts
        if end_ts is not None:
            while self._expiries and self._expiries[0][0] <= end_ts:
                expiry, key = heapq.heappop(self._expiries)
                pair = self.pairs[key]
                if pair.state == RO_ACTIVE and pair.expiry == expiry:
                    pair.go(FALLBACK, expiry, self._last_frame, "expiry")

    def results(self) -> dict[IPv6Address, list[RouteOptimization]]:
        """Home address -> its route optimisation records, by correspondent."""
        out: dict[IPv6Address, list[RouteOptimization]] = {}
        for (hoa, cn), pair in sorted(self.pairs.items()):
            if not pair.signalled or cn in self.home_agents:
                continue
            intervals = list(pair.intervals)
            if pair.state == RO_ACTIVE and pair.active_start is not None:
                end = pair.active_start if self._end_ts is None else max(self._end_ts, pair.active_start)
                intervals.append(Interval(pair.active_start, end, "capture_end", open=True))
            latency = statistics.median(pair.rr_latencies_ms) if pair.rr_latencies_ms else None
            out.setdefault(hoa, []).append(RouteOptimization(
                cn, tuple(pair.transitions), tuple(intervals), latency,
                pair.packets_direct, pair.packets_tunnelled,
                None if pair.direct_series is None else pair.direct_series.freeze(pair.packets_direct),
                home_address=hoa))
        return out

    def contribute(self, builder: ReportBuilder) -> None:
        """Add each node's route optimisation records and the correspondents."""
        for hoa, records in self.results().items():
            builder.node(hoa).route_optimization.extend(records)
            builder.correspondents.update(r.correspondent for r in records)

    # -- snapshots (the cache view) -------------------------------------------------------------

    def rr_state(self, hoa: IPv6Address, cn: IPv6Address, at: float) -> RRState | None:
        """The pair's state and last HoT/CoT nonce indices at ``at`` (no later
        than the last event seen), or None for a pair never seen. A binding
        whose lifetime ran out by ``at`` has fallen back, even before an event
        has expired it."""
        pair = self.pairs.get((hoa, cn))
        if pair is None:
            return RRState(TUNNELLED, None, None) if (hoa, cn) in self._tunnelled else None
        state = pair.state
        if state == RO_ACTIVE and pair.expiry is not None and pair.expiry < at:
            state = FALLBACK
        return RRState(state, pair.home_nonce, pair.careof_nonce)


@dataclass(frozen=True, slots=True)
class RRState:
    """What `RouteOptAnalyzer.rr_state` answers for one (home address, correspondent)."""

    state: str | None
    home_nonce_index: int | None
    careof_nonce_index: int | None
