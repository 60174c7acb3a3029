"""Conformance findings (issue 4, part 7): RFC 6275 rules checked against the
mobility events, reported as `Finding` objects with codes from
`mipv6scope.report.registry`.

The analyzer runs after the bindings analyzer (and, when given, the handoff
and tunnel analyzers) and reads their state: which BU a BA answered
(``BindingsAnalyzer.last_answered``), the binding intervals, the packets the
handoff analyzer counts as lost to an old care-of address, the packets the
tunnel analyzer saw outside any binding.

Every decode issue (`events.FrameIssues`) becomes a finding with its code.
Repeated occurrences of one code on one node are grouped into one Finding
(frames capped at ``MAX_FRAMES``; ``ts`` is the first occurrence's).

Per-event work is a few dict lookups; state grows with nodes, peers and
bindings, never with the number of frames. ``lost_to_old_care_of`` and
``possibly_lost_to_old_care_of`` are the handoff analyzer's counts, with the
frames it kept (see `analysis.handoffs`).
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from ipaddress import IPv6Address
from types import MappingProxyType
from typing import Any

from .. import events as ev
from ..report.builder import ReportBuilder
from ..report.model import Binding, Finding, Registration
from ..report.registry import kind
from .base import DataAnalyzer
from .bindings import CORRESPONDENT, HOME, BindingsAnalyzer
from .routes import Route
from .settings import DEFAULT_SETTINGS, Settings

MAX_FRAMES = 1000          # frames kept per grouped finding
MAX_MESSAGES = 5           # distinct messages kept per grouped finding
SEQ_MOD = 1 << 16
SEQ_WINDOW = 1 << 15
DEREG_NA_WAIT_S = 3.0      # how long after the deregistration BA the NA (O flag) may come
REPLY_WAIT_S = 3.0         # DHAAD / MPS: RFC 6275 INITIAL_DHAAD_TIMEOUT, INITIAL_SOLICIT_TIMER
RECENT_TESTS = 4           # HoTI/CoTI cookies and HoT/CoT nonce indices kept per pair
STATUS_OUT_OF_WINDOW = 135
BE_UNKNOWN_BINDING = 1     # Binding Error status 1 (RFC 6275 6.1.9); 2 (MH type) leaves bindings alone
NO_BINDING = float("-inf")  # `_PeerState.expiry` of a peer with no binding known
HOME_FLAGS = frozenset({"H", "L", "K"})
ICMP_DHAAD_REQUEST, ICMP_DHAAD_REPLY, ICMP_MPS, ICMP_MPA = 144, 145, 146, 147


def seq_greater(a: int, b: int) -> bool:
    """Whether sequence number ``a`` is greater than ``b`` modulo 2^16 (RFC 6275 9.5.1)."""
    return 0 < (a - b) % SEQ_MOD < SEQ_WINDOW


@dataclass(slots=True)
class _Group:
    """One finding being collected: a code on a node."""

    code: str
    node: IPv6Address | None
    ts: float
    frames: array = field(default_factory=partial(array, "q"))  # frame numbers, 8 bytes each
    messages: list[str] = field(default_factory=list)
    count: int = 0


@dataclass(slots=True)
class _Attempt:
    """A registration attempt to one peer (the bindings analyzer's BU chain,
    ``order`` its number) waiting for its BA."""

    seq: int                 # the latest BU's
    care_of: IPv6Address
    lifetime: int
    a_flag: bool
    first_ts: float
    last_ts: float
    frames: list[int]
    order: int
    timeout: float           # the retransmission timer the next gap should reach (RFC 6275 11.8)
    # bu_sequence_not_increasing occurrences (ts, frame, message): reported when the chain is
    # settled, unless a status 135 answers it (then bu_sequence_out_of_window says it once)
    deferred: list[tuple[float, int, str]] = field(default_factory=list)


_NO_ATTEMPTS: MappingProxyType[int, _Attempt] = MappingProxyType({})


@dataclass(slots=True)
class _PeerState:
    """What the analyzer keeps per (home address, peer)."""

    # the unsettled attempts by order: the shared empty one while there is none (an empty dict is 64 bytes)
    attempts: dict[int, _Attempt] | MappingProxyType[int, _Attempt] = field(default_factory=lambda: _NO_ATTEMPTS)
    last_seq: int | None = None            # the reference of bu_sequence_not_increasing
    recent_bus: tuple[float, ...] = ()  # the latest MAX_UPDATE_RATE + 1 (a tuple: 40 bytes less than a list)
    brr: tuple[float, int] | None = None   # unanswered BRR (ts, frame)
    expiry: float = NO_BINDING             # the peer's binding for the home address holds until
    care_of: IPv6Address | None = None     # that binding's care-of address
    ro_waiting_ba: bool = False            # BU with A sent to the CN, no BA yet


class ConformanceAnalyzer(DataAnalyzer):
    """RFC 6275 conformance findings over the mobility events.

    ``bindings`` is the engine's `BindingsAnalyzer` (must run before this
    analyzer); ``handoffs`` (a `HandoffAnalyzer`, optional) enables
    ``lost_to_old_care_of``; ``tunnels`` (a `TunnelAnalyzer`, optional)
    enables ``tunnel_without_binding``. ``require_ipsec`` turns on
    ``home_registration_not_protected`` (off by default: the sample scenarios
    register in clear text).
    """

    def __init__(self, bindings: BindingsAnalyzer, settings: Settings = DEFAULT_SETTINGS,
                 handoffs: Any | None = None, tunnels: Any | None = None,
                 require_ipsec: bool = False) -> None:
        self.bindings = bindings
        self.settings = settings
        self.handoffs = handoffs
        self.tunnels = tunnels
        self.require_ipsec = require_ipsec
        self.groups: dict[tuple[str, IPv6Address | None], _Group] = {}
        self._peers: dict[tuple[IPv6Address, IPv6Address], _PeerState] = {}
        self._order = 0
        self._init_cookies: dict[tuple[IPv6Address, IPv6Address, bool], deque[str]] = {}
        self._nonces: dict[tuple[IPv6Address, IPv6Address, bool], dict[int, float]] = {}
        self._dereg: dict[IPv6Address, tuple[float, int]] = {}
        # (ICMP type, identifier) -> (ts, frame, home address option, source)
        self._solicits: dict[tuple[int, int | None], tuple[float, int, IPv6Address | None, IPv6Address]] = {}
        self._peer_memo = object()  # this analyzer's key for peer states in a Route (`self` holds the rest)
        self._end_ts: float | None = None

    # -- recording -----------------------------------------------------------------------

    def add(self, code: str, node: IPv6Address | None, ts: float, frames: tuple[int, ...] | list[int],
            message: str = "") -> None:
        """Record one occurrence of ``code`` on ``node`` (grouped per code and node)."""
        key = (code, node)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(code, node, ts)
        elif ts < group.ts:
            group.ts = ts
        group.count += 1
        room = MAX_FRAMES - len(group.frames)
        if room > 0:
            group.frames.extend(frames[:room])
        if message and len(group.messages) < MAX_MESSAGES and message not in group.messages:
            group.messages.append(message)

    def findings(self) -> list[Finding]:
        """The grouped findings collected so far."""
        out = []
        for g in self.groups.values():
            k = kind(g.code)
            text = "; ".join(g.messages) if g.messages else k.explanation
            if g.count > 1:
                text = f"{text} ({g.count} occurrences)"
            out.append(Finding(g.code, k.severity, tuple(sorted(set(g.frames))), g.ts, g.node, text, k.rfc))
        return out

    def _peer(self, hoa: IPv6Address, peer: IPv6Address) -> _PeerState:
        key = (hoa, peer)
        state = self._peers.get(key)
        if state is None:
            state = self._peers[key] = _PeerState()
        return state

    # -- decode issues ---------------------------------------------------------------------

    def on_frame_issues(self, e: ev.FrameIssues) -> None:
        """Every decode issue becomes a finding with its own code."""
        for code, layer, detail in e.issues:
            self.add(code, e.src, e.ts, (e.frame,), f"{layer}: {detail}" if detail else layer)

    # -- Binding Updates -------------------------------------------------------------------

    def on_binding_update(self, e: ev.BindingUpdate) -> None:
        """Sequence numbers, retransmissions and their schedule, rate, flags, RR checks.

        Retransmissions are the BUs after the first of a registration attempt
        (`BindingsAnalyzer.last_bu`: the chain the BU joined). RFC 6275 11.8:
        each carries a greater sequence number than the previous transmission
        (a repeat is ``bu_retransmission_reused_sequence``), and they back off
        from InitialBindackTimeoutFirstReg (first home registration) or
        INITIAL_BINDACK_TIMEOUT, doubling, up to MAX_BINDACK_TIMEOUT
        (``bu_retransmission_schedule``); a correct back-off chain is no finding.

        A new attempt's number must be greater (mod 2^16) than the reference
        (``bu_sequence_not_increasing``): the number the peer last accepted, or
        a greater one sent since. While the peer has no binding for the home
        address (deleted by a deregistration or a Binding Error status 1, or run
        out) there is none: it accepts any number (RFC 6275 9.5.1)."""
        hoa, peer, s = e.home_address, e.dst, self.settings
        state = self._peer(hoa, peer)
        home = "H" in e.flags
        # a BRR from this peer is answered
        state.brr = None
        # rate: more than MAX_UPDATE_RATE BUs within one second to one destination (RFC 6275 11.8)
        old = state.recent_bus
        recent = state.recent_bus = (*old[max(0, len(old) - s.MAX_UPDATE_RATE):], e.ts)
        if len(recent) > s.MAX_UPDATE_RATE and e.ts - recent[0] < 1.0:
            self.add("bu_rate_exceeded", hoa, e.ts, (e.frame,),
                     f"{len(recent)} BUs to {peer} within {e.ts - recent[0]:.3f} s")
        if NO_BINDING < state.expiry <= e.ts:
            # the binding ran out: the peer has no entry and accepts any number (RFC 6275 9.5.1)
            state.last_seq, state.expiry = None, NO_BINDING
        step = self.bindings.last_bu
        if step is not None and (step.home_address != hoa or step.peer != peer):
            step = None
        attempt = state.attempts.get(step.order) if step is not None else None
        if step is not None and step.index > 0 and attempt is not None:
            self._retransmission(peer, attempt, step, e)
        else:
            first_reg = step is not None and step.first_registration
            self._order += 1
            order = step.order if step is not None else -self._order
            attempt = _Attempt(e.seq, e.care_of, e.lifetime_s, "A" in e.flags, e.ts, e.ts, [e.frame], order,
                               s.INITIAL_BINDACK_TIMEOUT_FIRST_REG if first_reg else s.INITIAL_BINDACK_TIMEOUT)
            if state.last_seq is not None and not seq_greater(e.seq, state.last_seq):
                attempt.deferred.append((e.ts, e.frame, f"BU seq {e.seq} to {peer} after seq {state.last_seq}"))
            if state.attempts:
                state.attempts[order] = attempt  # type: ignore[index]
            else:
                state.attempts = {order: attempt}
        if state.last_seq is None or seq_greater(e.seq, state.last_seq):
            state.last_seq = e.seq
        is_cn = (not home or peer in self.bindings.correspondents or e.home_nonce_index is not None) \
            and peer not in self.bindings.home_agents
        if is_cn:
            self._correspondent_bu(hoa, peer, state, e)
        elif home and self.require_ipsec and not e.esp:
            self.add("home_registration_not_protected", hoa, e.ts, (e.frame,),
                     f"home BU to {peer} not inside ESP")

    def _retransmission(self, peer: IPv6Address, attempt: _Attempt, step: Any, e: ev.BindingUpdate) -> None:
        """One more BU of a registration attempt: its number and its gap (RFC 6275 11.8)."""
        s, hoa = self.settings, e.home_address
        gap = step.gap_s
        if e.seq == step.previous_seq:
            self.add("bu_retransmission_reused_sequence", hoa, e.ts, (e.frame,),
                     f"BU to {peer} retransmitted with the same sequence number {e.seq}")
        elif not seq_greater(e.seq, step.previous_seq):
            attempt.deferred.append((e.ts, e.frame, f"BU seq {e.seq} to {peer} after seq {step.previous_seq}"))
        expected, tolerance = attempt.timeout, s.RETRANSMISSION_TOLERANCE
        if gap < expected * (1 - tolerance):
            timer = ("InitialBindackTimeoutFirstReg" if len(attempt.frames) == 1
                     and expected == s.INITIAL_BINDACK_TIMEOUT_FIRST_REG else
                     "INITIAL_BINDACK_TIMEOUT" if len(attempt.frames) == 1 else "the doubled timeout")
            self.add("bu_retransmission_schedule", hoa, e.ts, (e.frame,),
                     f"BU seq {e.seq} to {peer} {gap:.3f} s after the previous one, expected at least "
                     f"{expected:.3f} s ({timer})")
        elif gap > s.MAX_BINDACK_TIMEOUT * (1 + tolerance):
            self.add("bu_retransmission_schedule", hoa, e.ts, (e.frame,),
                     f"BU seq {e.seq} to {peer} {gap:.3f} s after the previous one, beyond "
                     f"MAX_BINDACK_TIMEOUT {s.MAX_BINDACK_TIMEOUT:g} s")
        attempt.timeout = min(2 * expected, s.MAX_BINDACK_TIMEOUT)
        attempt.seq, attempt.last_ts = e.seq, e.ts
        attempt.frames.append(e.frame)

    def _settle(self, hoa: IPv6Address, attempt: _Attempt, out_of_window: bool = False) -> None:
        """An attempt is over: its deferred sequence findings are reported, unless
        the peer answered status 135 (then that one finding says it)."""
        if out_of_window:
            return
        for ts, frame, message in attempt.deferred:
            self.add("bu_sequence_not_increasing", hoa, ts, (frame,), message)

    def _correspondent_bu(self, hoa: IPv6Address, peer: IPv6Address, state: _PeerState,
                          e: ev.BindingUpdate) -> None:
        s = self.settings
        bad = sorted(HOME_FLAGS & e.flags)
        if bad:
            self.add("bu_to_cn_with_home_flags", hoa, e.ts, (e.frame,),
                     f"BU to correspondent {peer} with {''.join(bad)} set")
        if e.lifetime_s > s.MAX_RR_BINDING_LIFETIME:
            self.add("cn_binding_too_long", hoa, e.ts, (e.frame,),
                     f"BU to {peer} asks {e.lifetime_s} s > MAX_RR_BINDING_LIFETIME "
                     f"{s.MAX_RR_BINDING_LIFETIME:g} s")
        dereg = e.lifetime_s == 0 or e.care_of == hoa
        if dereg:
            state.expiry = NO_BINDING
        elif "A" in e.flags:
            state.ro_waiting_ba = True
        else:
            state.expiry, state.care_of = e.ts + e.lifetime_s, e.care_of
        for home, index, address in ((True, e.home_nonce_index, hoa), (False, e.careof_nonce_index, e.care_of)):
            if index is None or (not home and dereg):
                continue
            seen = self._nonces.get((address, peer, home))
            if seen is None:
                if not home:
                    self._careof_index_elsewhere(hoa, peer, index, e)
                continue  # no Home/Care-of Test seen: nothing to compare with
            label = "home" if home else "care-of"
            received = seen.get(index)
            if received is None:
                self.add("nonce_index_mismatch", hoa, e.ts, (e.frame,),
                         f"BU to {peer}: {label} nonce index {index} not given by a {label} test "
                         f"(seen {sorted(seen)})")
            elif e.ts - received > s.MAX_TOKEN_LIFETIME:
                self.add("keygen_token_too_old", hoa, e.ts, (e.frame,),
                         f"BU to {peer}: {label} keygen token {e.ts - received:.1f} s old "
                         f"> MAX_TOKEN_LIFETIME {s.MAX_TOKEN_LIFETIME:g} s")

    def _careof_index_elsewhere(self, hoa: IPv6Address, peer: IPv6Address, index: int,
                                e: ev.BindingUpdate) -> None:
        """A correspondent BU from a care-of address no Care-of Test went to,
        with the nonce index of one that went to another care-of address of the
        node: RFC 6275 5.2.5, "Care-of keygen token := First (64, HMAC_SHA1
        (Kcn, (care-of address | nonce | 1)))", so that token authorises a BU
        from that address only; after a move the node needs a new Care-of Test
        (11.7.2, paraphrase). Claimed only when no Care-of Test Init from the
        BU's care-of address to the correspondent is on the wire either: it
        takes the BU's own path, so the capture shows the BU's round if there
        was one (a correspondent gives every care-of address of one period the
        same nonce index, so a CoT the probe missed would look the same)."""
        if (e.care_of, peer, False) in self._init_cookies:
            return
        for other in self.bindings.care_of_addresses(hoa):
            seen = self._nonces.get((other, peer, False))
            if other != e.care_of and seen is not None and index in seen:
                self.add("nonce_index_mismatch", hoa, e.ts, (e.frame,),
                         f"BU to {peer} from {e.care_of}: care-of nonce index {index} was given "
                         f"to {other}, not to the BU's care-of address")
                return

    # -- Binding Acknowledgements, errors, refresh requests -----------------------------

    def on_binding_ack(self, e: ev.BindingAck) -> None:
        """Matching, status, granted lifetime; read after the bindings analyzer."""
        answered = self.bindings.last_answered
        hoa, peer = e.home_address, e.src
        if answered is None or answered.home_address != hoa or answered.peer != peer:
            if e.status >= 128:
                self.add("ba_status_failure", hoa, e.ts, (e.frame,),
                         f"BA from {peer}: status {e.status} {e.status_name}")
            self._unmatched(e, hoa, peer)
            return
        state = self._peer(hoa, peer)
        attempt = state.attempts.get(answered.order)
        out_of_window = e.status == STATUS_OUT_OF_WINDOW
        # the answered attempt and every older one to this peer are settled
        if attempt is not None:
            for order in [q for q, a in state.attempts.items() if a.order <= attempt.order]:
                self._settle(hoa, state.attempts.pop(order), out_of_window and order == attempt.order)
            if not state.attempts:
                state.attempts = _NO_ATTEMPTS  # a dict emptied by pop keeps its table (224 bytes)
        # one rejection, one finding: status 135 is the out-of-window finding, the others ba_status_failure
        if out_of_window:
            frames = [*(attempt.frames if attempt is not None else answered.bu_frames), e.frame]
            self.add("bu_sequence_out_of_window", hoa, answered.first_bu_ts, frames,
                     f"BU seq {answered.seq} to {peer} out of window: BA status 135 "
                     f"{e.status_name} (last accepted {e.seq})")
        elif e.status >= 128:
            self.add("ba_status_failure", hoa, e.ts, (e.frame,),
                     f"BA from {peer}: status {e.status} {e.status_name} (BU seq {answered.seq})")
        if not answered.accepted:
            if answered.kind == CORRESPONDENT:
                state.ro_waiting_ba = False
            return
        requested = attempt.lifetime if attempt is not None else None
        state.ro_waiting_ba = False
        if answered.deregistration:
            # the peer deleted its entry: it accepts any number next (RFC 6275 9.5.1)
            state.last_seq, state.expiry = None, NO_BINDING
            if answered.kind == HOME and answered.care_of == hoa:
                # back on the home link: the NA with the O flag is owed (RFC 6275 11.5.4);
                # a deregistration from a care-of address (still away) owes none
                self._dereg[hoa] = (e.ts, e.frame)
            return
        # the peer's entry holds this number (a greater one sent since stays the reference)
        if state.last_seq is None or not seq_greater(state.last_seq, answered.seq):
            state.last_seq = answered.seq
        state.expiry, state.care_of = e.ts + e.lifetime_s, answered.care_of
        if requested is not None and e.lifetime_s > requested:
            self.add("ba_grants_more_than_asked", hoa, e.ts, (e.frame,),
                     f"BA from {peer} grants {e.lifetime_s} s, BU asked {requested} s")
        elif requested is not None and e.lifetime_s < requested:
            self.add("ba_lifetime_reduced", hoa, e.ts, (e.frame,),
                     f"BA from {peer} grants {e.lifetime_s} s of {requested} s asked")
        if e.refresh_s is not None and e.refresh_s >= e.lifetime_s:
            # RFC 6275 6.2.4: "The Refresh Interval MUST be set to indicate a smaller time
            # interval than the Lifetime value of the Binding Acknowledgement."
            self.add("refresh_advice_not_below_lifetime", hoa, e.ts, (e.frame,),
                     f"BA from {peer}: Binding Refresh Advice {e.refresh_s} s, lifetime {e.lifetime_s} s")
        if answered.kind == CORRESPONDENT and e.lifetime_s > self.settings.MAX_RR_BINDING_LIFETIME:
            self.add("cn_binding_too_long", hoa, e.ts, (e.frame,),
                     f"correspondent {peer} grants {e.lifetime_s} s > MAX_RR_BINDING_LIFETIME "
                     f"{self.settings.MAX_RR_BINDING_LIFETIME:g} s")

    def _unmatched(self, e: ev.BindingAck, hoa: IPv6Address, peer: IPv6Address) -> None:
        """A BA no pending BU waits for. When it answers a BU of the latest
        registration to ``peer`` a BA already answered, it is
        ``ba_for_answered_registration`` (info): RFC 6275 9.5.4, "If the
        Acknowledge (A) bit set is set in the Binding Update, a Binding
        Acknowledgement MUST be sent", so a home agent answers a retransmission
        too (10.3.1), or the same BU's answer came twice. Otherwise it answers
        no BU seen: ``ba_without_matching_bu``."""
        head = f"BA seq {e.seq} status {e.status} from {peer}"
        node = self.bindings.nodes.get(hoa)
        answered = next((r for r in reversed(node.registrations)
                         if r.peer == peer and r.ba_frame is not None), None) if node is not None else None
        frames = [] if answered is None else [f for seq, f in zip(answered.bu_seqs, answered.bu_frames,
                                                                   strict=True) if seq == e.seq]
        if answered is None or not frames:
            self.add("ba_without_matching_bu", hoa, e.ts, (e.frame,), f"{head} answers no BU seen")
            return
        self.add("ba_for_answered_registration", hoa, e.ts, (e.frame,),
                 f"{head} answers BU seq {e.seq} (frame {frames[-1]}), of a registration the BA "
                 f"in frame {answered.ba_frame} answered already")

    def on_binding_error(self, e: ev.BindingError) -> None:
        """A Binding Error is a finding; status 1 (no binding) ends the
        correspondent binding, status 2 (MH type not recognised) does not
        (RFC 6275 9.3.3, 11.3.6)."""
        self.add("binding_error_received", e.home_address, e.ts, (e.frame,),
                 f"Binding Error from {e.src}: status {e.status} {e.status_name}")
        state = self._peers.get((e.home_address, e.src))
        if state is not None and e.status == BE_UNKNOWN_BINDING:
            state.ro_waiting_ba = False
            state.last_seq, state.expiry = None, NO_BINDING  # no entry: any number next (9.5.1)

    def on_binding_refresh_request(self, e: ev.BindingRefreshRequest) -> None:
        """Remember the BRR until a BU to its sender answers it."""
        self._peer(e.dst, e.src).brr = (e.ts, e.frame)

    # -- return routability -----------------------------------------------------------------

    def on_test_init(self, e: ev.TestInit) -> None:
        """Remember the last few cookies per (MN address, CN, home/care-of)."""
        cookies = self._init_cookies.setdefault((e.src, e.dst, e.home), deque(maxlen=RECENT_TESTS))
        cookies.append(e.cookie)

    def on_test(self, e: ev.Test) -> None:
        """HoT/CoT cookie must echo a Test Init; remember its nonce index."""
        key = (e.dst, e.src, e.home)
        cookies = self._init_cookies.get(key)
        if cookies is not None and e.cookie not in cookies:
            node = e.dst if e.home else (self.bindings.home_address_of(e.dst) or e.dst)
            label = "HoT" if e.home else "CoT"
            self.add("rr_cookie_mismatch", node, e.ts, (e.frame,),
                     f"{label} from {e.src} with cookie {e.cookie} matching no init cookie")
        nonces = self._nonces.setdefault(key, {})
        nonces[e.nonce_index] = e.ts
        if len(nonces) > RECENT_TESTS:
            del nonces[min(nonces, key=nonces.__getitem__)]

    # -- data ------------------------------------------------------------------------------

    def route_optimised_data(self, t: tuple) -> None:
        """Route-optimised data (fast-path field tuple) without a binding."""
        hao = t[8]
        if hao is not None:
            state = t[15].get(self._peer_memo)
            if state is None or t[0] >= state.expiry or (t[3] is not state.care_of and t[3] != state.care_of):
                self._hao_data(t[0], t[1], hao, t[3], t[6], t[15])
            # else bound to its source: nothing to say

    def tunnelled_data(self, t: tuple) -> None:
        """Tunnelled data (fast-path field tuple) with a Home Address option inside."""
        if t[8] is not None:
            self._hao_data(t[0], t[1], t[8], None, t[6], t[15])

    def _hao_data(self, ts: float, frame: int, hao: IPv6Address, src: IPv6Address | None,
                  dst: IPv6Address, route: Route) -> None:
        """HAO data from ``src`` (None: not checked) to ``dst`` needs ``dst``'s
        binding for ``hao``, home or correspondent, with ``src`` as its care-of
        address (RFC 6275 9.3.1)."""
        # the peer state, remembered per route once it exists (never replaced)
        state = route.get(self._peer_memo)
        if state is None:
            state = self._peers.get((hao, dst))
            if state is not None:
                route[self._peer_memo] = state
        bound = state is not None and ts < state.expiry
        if bound and (src is None or src == state.care_of):
            return
        if state is not None and state.ro_waiting_ba:
            self.add("ro_data_before_ba", hao, ts, (frame,), f"HAO data to {dst} before its BA")
        elif bound:
            self.add("hao_without_binding", hao, ts, (frame,),
                     f"HAO data to {dst} from {src}, whose binding for {hao} is to {state.care_of}")
        else:
            self.add("hao_without_binding", hao, ts, (frame,),
                     f"HAO data to {dst}, which has no binding for {hao}")

    # -- neighbour discovery and ICMPv6 mobility ----------------------------------------------

    def on_neighbor_advertisement(self, e: ev.NeighborAdvertisement) -> None:
        """An NA with the O flag for the home address completes a deregistration
        from home (care-of = home address, RFC 6275 11.5.4)."""
        pending = self._dereg.get(e.target)
        if pending is None or "O" not in e.flags:
            return
        del self._dereg[e.target]
        if e.ts - pending[0] > DEREG_NA_WAIT_S:
            self.add("dereg_without_na_o", e.target, pending[0], (pending[1],),
                     f"NA with O flag {e.ts - pending[0]:.3f} s after the deregistration BA")

    def on_icmp_mobility(self, e: ev.IcmpMobility) -> None:
        """DHAAD requests and MPS wait for their reply (matched by identifier)."""
        if e.icmp_type in (ICMP_DHAAD_REQUEST, ICMP_MPS):
            self._solicits[(e.icmp_type, e.identifier)] = (e.ts, e.frame, e.hao, e.src)
        elif e.icmp_type in (ICMP_DHAAD_REPLY, ICMP_MPA):
            self._solicits.pop((e.icmp_type - 1, e.identifier), None)

    # -- end of pass -----------------------------------------------------------------------------

    def finish(self, end_ts: float | None) -> None:
        """Findings that need the whole capture: unanswered BUs, BRRs, solicitations,
        deregistrations without NA, expired bindings, tunnels outside bindings."""
        end = end_ts if end_ts is not None else float("inf")
        s = self.settings
        for (hoa, peer), state in self._peers.items():
            for attempt in state.attempts.values():
                self._settle(hoa, attempt)
                if attempt.a_flag and attempt.last_ts + s.INITIAL_BINDACK_TIMEOUT <= end:
                    self.add("a_flag_bu_unacknowledged", hoa, attempt.first_ts, attempt.frames,
                             f"BU seq {attempt.seq} to {peer} ({len(attempt.frames)} sent) never acknowledged")
            if state.brr is not None and state.brr[0] + s.INITIAL_BINDACK_TIMEOUT <= end:
                self.add("brr_unanswered", hoa, state.brr[0], (state.brr[1],),
                         f"Binding Refresh Request from {peer} not followed by a BU")
        for hoa, (ts, frame) in self._dereg.items():
            if ts + DEREG_NA_WAIT_S <= end:
                self.add("dereg_without_na_o", hoa, ts, (frame,), "no NA with the O flag after deregistration")
        for (icmp_type, ident), (ts, frame, hao, src) in self._solicits.items():
            if ts + REPLY_WAIT_S <= end:
                # the node: its home address, named or bound to the source (a DHAAD
                # request comes from the care-of address, RFC 6275 11.4.1)
                node = hao or self.bindings.home_address_of(src) or src
                code = "dhaad_without_reply" if icmp_type == ICMP_DHAAD_REQUEST else "mps_without_reply"
                self.add(code, node, ts, (frame,), f"identifier {ident} unanswered")
        for hoa, peer, b in self.bindings.expired():
            self._expired(hoa, peer, b)
        self._losses()
        if self.tunnels is not None:
            for ha, coa, hoa, first_ts, packets, frames, reverse in self.tunnels.outside_bindings():
                way = f"between {ha} and" if reverse else f"by {ha} to"
                self.add("tunnel_without_binding", hoa, first_ts, frames,
                         f"{packets} packets tunnelled {way} {coa} outside any binding")

    def _expired(self, hoa: IPv6Address, peer: IPv6Address, b: Binding) -> None:
        """A binding whose lifetime ran out (counted from its BA): dated when it
        ran out, on the frame of the BA that granted it.

        RFC 6275 6.1.7: the Lifetime is "the number of time units remaining
        before the binding MUST be considered expired", so a BA at or after
        that instant opens a new binding (the bindings analyzer's "expiry").
        But when the BU that BA answers went out before that instant, the
        binding was not left "without refresh": the peer updates its entry
        when it processes the BU, before its BA (10.3.1, paraphrase), at a
        moment the wire does not show. That is the info
        ``binding_refreshed_at_expiry``; otherwise ``binding_expired_without_refresh``."""
        end = b.end_ts
        frames = (b.start_frame,) if b.start_frame is not None else ()
        refresh = self._refresh_across(hoa, peer, end) if end is not None else None
        if refresh is None:
            self.add("binding_expired_without_refresh", hoa, end, frames,
                     f"{b.kind} binding with {peer} (care-of {b.care_of}) expired "
                     f"after {b.granted_lifetime_s} s")
            return
        registration, bu_ts, bu_frame = refresh  # answered: its BA's fields are set
        self.add("binding_refreshed_at_expiry", hoa, end, (*frames, bu_frame, registration.ba_frame),
                 f"{b.kind} binding with {peer} (care-of {b.care_of}) ran out {b.granted_lifetime_s} s "
                 f"after its BA; the refresh BU sent {end - bu_ts:.3f} s before was "
                 f"acknowledged {registration.ba_ts - end:.3f} s after")

    def _refresh_across(self, hoa: IPv6Address, peer: IPv6Address,
                        end: float) -> tuple[Registration, float, int] | None:
        """(registration, time, frame of the BU its BA answers) of the node's
        first registration with ``peer`` answered at or after ``end``
        (registrations are kept in answer order), if it was accepted and that
        BU went out before ``end``; else None."""
        node = self.bindings.nodes.get(hoa)
        if node is None:
            return None
        registrations = node.registrations
        i = bisect_left(registrations, end, key=lambda r: r.ba_ts)
        r = next((r for r in itertools.islice(registrations, i, None) if r.peer == peer), None)
        if r is None or r.status >= 128:  # node.registrations holds answered ones only
            return None
        # the answered BU: the last of the chain with the answered number (the latest if none)
        k = max((k for k, seq in enumerate(r.bu_seqs) if seq == r.seq), default=len(r.bu_frames) - 1)
        bu_ts = r.first_bu_ts + sum(r.bu_gaps_ms[:k]) / 1000
        return (r, bu_ts, r.bu_frames[k]) if bu_ts < end else None

    def _losses(self) -> None:
        """``lost_to_old_care_of`` and ``possibly_lost_to_old_care_of``, one
        per handoff with packets in the count, on the frames the handoff
        analyzer kept (its docstring defines both; RFC 6275 11.5.1)."""
        if self.handoffs is None:
            return
        for certain, hoa, ts, frames, message in getattr(self.handoffs, "losses", ()):
            if certain:
                self.add("lost_to_old_care_of", hoa, ts, frames, message)
            else:
                self.add("possibly_lost_to_old_care_of", hoa, ts, frames, message)

    def contribute(self, builder: ReportBuilder) -> None:
        """Add the grouped findings to the report."""
        builder.findings.extend(self.findings())
