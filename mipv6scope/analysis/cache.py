"""Binding caches and binding update lists at one instant (issue 4, part 3).

``cache_at(paths, at_ts=...)`` or ``cache_at(paths, at_frame=N)`` runs the
engine only up to the instant and asks the analyzers' public snapshot methods
(`BindingsAnalyzer.binding_in_force`, ``unanswered``, ``registrations``,
``peer_kinds``; `RouteOptAnalyzer.rr_state`) what held there, giving what
UMIP's ``bc`` and ``bul`` consoles would have shown:

* each home agent's and correspondent's **binding cache**: one entry per
  home address whose binding is valid at the instant (HoA, CoA, BU flags, seq,
  lifetime granted and remaining, state, the BU's nonce indices for a
  correspondent entry);
* each mobile node's **binding update list**: one entry per peer it last sent
  a BU to, either waiting for the BA (``waiting_ack`` / ``deregistering``,
  with the resend count so far) or ``bound``; correspondent entries carry the
  return routability state and the last HoT/CoT nonce indices.

How it stops: a `_Cutoff` analyzer goes first in the analyzer list; at the
first event past the instant it raises the private `_StopAnalysis`, which
`engine.analyze` does not catch (it closes the readers in a ``finally`` and
lets the exception through), so the other analyzers never see that event and
their state is the state at the instant. No engine change is needed. A
binding whose lifetime ran out by the instant is not listed, and a
correspondent pair whose binding ran out shows ``fallback``, even when the
analyzer has not yet noticed (it expires lazily on the next event).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv6Address
from typing import Any

from .. import events as ev
from ..capture.reader import open_capture
from ..report.model import CaptureInfo
from .base import Analyzer
from .bindings import HOME, BindingsAnalyzer
from .engine import analyze, default_analyzers
from .route_opt import RouteOptAnalyzer

BINDING_CACHE, BINDING_UPDATE_LIST = "binding_cache", "binding_update_list"
FLAG_ORDER = "AHLKMRPFT"


class _StopAnalysis(Exception):
    """Raised by `_Cutoff` at the first event past the instant."""


@dataclass(frozen=True)
class _SentBU:
    """What a BU said that the bindings analyzer does not keep."""

    flags: str
    home_nonce_index: int | None
    careof_nonce_index: int | None


class _Cutoff(Analyzer):
    """First analyzer of the pass: stops it past the instant; remembers BU flags."""

    def __init__(self, at_ts: float, at_frame: int | None) -> None:
        self.at_ts = at_ts
        self.at_frame = at_frame
        self.sent: dict[tuple[IPv6Address, IPv6Address, int], _SentBU] = {}
        self.stopped = False

    def check(self, event: ev.Event) -> None:
        """Stop at an event after the instant (frame N of the first file, or ts)."""
        if self.at_frame is not None and event.file == 0:
            past = event.frame > self.at_frame
        else:
            past = event.ts > self.at_ts
        if past:
            self.stopped = True
            raise _StopAnalysis

    def on_binding_update(self, event: ev.BindingUpdate) -> None:
        """Check, then keep the BU's flags and nonce indices by (HoA, peer, seq)."""
        self.check(event)
        flags = "".join(sorted(event.flags, key=lambda f: (FLAG_ORDER.find(f) % 100, f)))
        self.sent[(event.home_address, event.dst, event.seq)] = _SentBU(
            flags, event.home_nonce_index, event.careof_nonce_index)

    def __getattr__(self, name: str) -> Any:
        # Every other event handler the dispatch table asks for is `check`.
        if name.startswith("on_"):
            return self.check
        raise AttributeError(name)


@dataclass(frozen=True)
class CacheEntry:
    """One binding cache or binding update list entry at the instant."""

    table: str                      # binding_cache | binding_update_list
    owner: IPv6Address              # the HA/CN holding the cache, or the MN (HoA) holding the list
    peer: IPv6Address               # the other end: the MN's HoA (cache) or the HA/CN (list)
    kind: str                       # home | correspondent
    home_address: IPv6Address
    care_of: IPv6Address
    flags: str
    seq: int
    lifetime_requested_s: int
    lifetime_granted_s: int | None  # None while waiting for the BA
    lifetime_remaining_s: float
    state: str                      # home_registration | cached | bound | waiting_ack | deregistering
    resend_count: int
    since_ts: float                 # binding start (BA) or first BU of the pending attempt
    since_frame: int | None
    rr_state: str | None = None
    home_nonce_index: int | None = None
    careof_nonce_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: addresses as text."""
        return {k: str(v) if isinstance(v, IPv6Address) else v for k, v in vars(self).items()}


@dataclass(frozen=True)
class CacheSnapshot:
    """Every cache and list entry at ``at_ts`` (``at_frame`` when asked by frame)."""

    at_ts: float
    at_frame: int | None
    entries: tuple[CacheEntry, ...]
    reached_end: bool  # the capture ended before the instant
    # what the pass met when it read to the end or was interrupted (truncation,
    # Ctrl-C); None when it stopped at the instant, having read nothing after it
    capture: CaptureInfo | None = None

    def binding_cache(self, owner: IPv6Address) -> list[CacheEntry]:
        """The entries of ``owner``'s binding cache."""
        return [e for e in self.entries if e.table == BINDING_CACHE and e.owner == owner]

    def update_list(self, home_address: IPv6Address) -> list[CacheEntry]:
        """The entries of the mobile node's binding update list."""
        return [e for e in self.entries if e.table == BINDING_UPDATE_LIST and e.owner == home_address]


def frame_ts(path: str | os.PathLike[str], number: int) -> float:
    """The timestamp of frame ``number`` (1-based) of the capture at ``path``;
    ValueError when the capture has fewer frames."""
    with open_capture(path) as reader:
        for frame in reader:
            if frame.number == number:
                return frame.ts
    raise ValueError(f"{os.fspath(path)} has no frame {number}")


def cache_at(paths: Iterable[str | os.PathLike[str]], at_ts: float | None = None,
             at_frame: int | None = None) -> CacheSnapshot:
    """The binding caches and update lists at ``at_ts`` (epoch seconds) or
    just after frame ``at_frame`` of the first capture. Raises CaptureError
    for an unreadable capture, ValueError for a frame the capture lacks."""
    path_list = list(paths)
    if (at_ts is None) == (at_frame is None):
        raise ValueError("give exactly one of at_ts and at_frame")
    if at_frame is not None:
        at_ts = frame_ts(path_list[0], at_frame)
    assert at_ts is not None
    cutoff = _Cutoff(at_ts, at_frame)
    analyzers: list[Analyzer] = [cutoff, *default_analyzers()]
    report = None
    with contextlib.suppress(_StopAnalysis):
        report = analyze(path_list, analyzers=analyzers)
    bindings = next(a for a in analyzers if isinstance(a, BindingsAnalyzer))
    route_opt = next((a for a in analyzers if isinstance(a, RouteOptAnalyzer)), None)
    entries = _entries(bindings, route_opt, cutoff, at_ts)
    return CacheSnapshot(at_ts, at_frame, tuple(entries), not cutoff.stopped,
                         None if report is None else report.capture)


def _entries(bindings: BindingsAnalyzer, route_opt: RouteOptAnalyzer | None, cutoff: _Cutoff,
             at: float) -> list[CacheEntry]:
    caches: list[CacheEntry] = []
    lists: list[CacheEntry] = []
    for hoa in bindings.home_addresses():
        registrations = bindings.registrations(hoa)
        answered = {(r.peer, r.seq): r for r in registrations}
        last_answer: dict[IPv6Address, float] = {}
        for r in registrations:
            if r.ba_ts is not None:
                last_answer[r.peer] = max(last_answer.get(r.peer, r.ba_ts), r.ba_ts)
        for peer, kind in bindings.peer_kinds(hoa).items():
            rr = route_opt.rr_state(hoa, peer, at) if kind != HOME and route_opt is not None else None
            rr_state = rr.state if rr else None
            home_ni = rr.home_nonce_index if rr else None
            careof_ni = rr.careof_nonce_index if rr else None
            sent_flags = ""
            bound = bindings.binding_in_force(hoa, peer, at)
            if bound is not None:
                sent = cutoff.sent.get((hoa, peer, bound.seq))
                sent_flags = sent.flags if sent else ""
                reg = answered.get((peer, bound.seq))
                resends = reg.retransmissions if reg is not None else 0
                assert bound.start_ts is not None
                remaining = round(bound.granted_lifetime_s - (at - bound.start_ts), 6)
                caches.append(CacheEntry(
                    BINDING_CACHE, peer, hoa, kind, hoa, bound.care_of, sent_flags, bound.seq,
                    bound.requested_lifetime_s, bound.granted_lifetime_s, remaining,
                    "home_registration" if kind == HOME else "cached", resends,
                    bound.start_ts, bound.start_frame, None,
                    sent.home_nonce_index if sent else None, sent.careof_nonce_index if sent else None))
            waiting = [p for p in bindings.unanswered(hoa, peer)
                       if p.first_bu_ts <= at and p.first_bu_ts > last_answer.get(peer, float("-inf"))]
            if waiting:
                p = waiting[-1]
                sent = cutoff.sent.get((hoa, peer, p.seq))
                dereg = p.requested_lifetime_s == 0 or p.care_of == hoa
                lists.append(CacheEntry(
                    BINDING_UPDATE_LIST, hoa, peer, kind, hoa, p.care_of, sent.flags if sent else "",
                    p.seq, p.requested_lifetime_s, None,
                    round(max(0.0, p.requested_lifetime_s - (at - p.first_bu_ts)), 6),
                    "deregistering" if dereg else "waiting_ack", p.retransmissions, p.first_bu_ts,
                    p.bu_frames[0], rr_state, home_ni, careof_ni))
            elif bound is not None:
                assert bound.start_ts is not None
                lists.append(CacheEntry(
                    BINDING_UPDATE_LIST, hoa, peer, kind, hoa, bound.care_of, sent_flags, bound.seq,
                    bound.requested_lifetime_s, bound.granted_lifetime_s,
                    round(bound.granted_lifetime_s - (at - bound.start_ts), 6),
                    "bound", caches[-1].resend_count, bound.start_ts, bound.start_frame,
                    rr_state, home_ni, careof_ni))
    return caches + lists


def filter_entries(entries: Sequence[CacheEntry], node: IPv6Address | None = None,
                   mn: IPv6Address | None = None) -> list[CacheEntry]:
    """Entries held by ``node`` (a cache owner or an MN's list) and/or about home address ``mn``."""
    return [e for e in entries if (node is None or e.owner == node)
            and (mn is None or e.home_address == mn)]
