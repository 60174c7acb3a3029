"""A report's mobile nodes seen through a time window (``--from``/``--to``).

What lasts (a binding, a route optimisation interval, a handoff) is kept when
it overlaps the window, not only when it starts in it, and is marked
``clipped`` when it reaches outside:

* a binding or an RO interval is cut to the window: its start and end become
  the window's edges where it crossed them. ``ended_by`` and ``open`` keep
  what really ended it (so ``clipped`` says the end shown is the window's);
* a handoff (movement or first BU to accepting BA or first data) is kept
  whole, its times being measurements (``registration_ms`` needs both ends),
  and marked ``clipped`` when it reaches outside the window;
* a registration attempt (first BU to its BA) is kept when it overlaps;
* an RO record keeps its transitions inside the window and its clipped
  intervals, and is dropped when nothing of it is left; its packet counts are
  the whole capture's.

An interval [start, end] overlaps when it starts at or before ``--to`` and
ends after ``--from``: a binding replaced exactly at ``--from`` (its
successor's BA) is not in the window, its successor is, whole. An instant
(start = end) overlaps when it lies in the window, edges included. A binding
still in force at the capture's end (``end_ts`` null) lasts to the end of
time here.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .model import Binding, Handoff, Interval, MobileNode, Registration, RouteOptimization


class Window:
    """A closed time window; an edge that is None is unbounded."""

    def __init__(self, from_ts: float | None, to_ts: float | None) -> None:
        self.lo = -math.inf if from_ts is None else from_ts
        self.hi = math.inf if to_ts is None else to_ts

    def holds(self, ts: float | None) -> bool:
        """Whether the instant ``ts`` is in the window (an unknown one is)."""
        return ts is None or self.lo <= ts <= self.hi

    def overlaps(self, start: float, end: float | None) -> bool:
        """Whether [start, end] meets the window (``end`` None: never ended);
        see the module docstring for the edges."""
        if end == start:
            return self.holds(start)
        return start <= self.hi and (end is None or end > self.lo)

    def clip(self, start: float, end: float | None) -> tuple[float, float | None, bool]:
        """(start, end, clipped) of [start, end] cut to the window."""
        new_start = max(start, self.lo)
        new_end = end
        if self.hi != math.inf and (end is None or end > self.hi):
            new_end = self.hi
        return new_start, new_end, (new_start, new_end) != (start, end)


def _binding(b: Binding, w: Window) -> Binding | None:
    if b.start_ts is None:  # a registration that never started: no interval to cut
        return b
    if not w.overlaps(b.start_ts, b.end_ts):
        return None
    start, end, clipped = w.clip(b.start_ts, b.end_ts)
    return replace(b, start_ts=start, end_ts=end, clipped=True) if clipped else b


def _span(*times: float | None) -> tuple[float, float] | None:
    known = [t for t in times if t is not None]
    return (min(known), max(known)) if known else None


def _handoff(h: Handoff, w: Window) -> Handoff | None:
    span = _span(h.movement_ts, h.bu_ts, h.ba_ts, h.first_data_ts)
    if span is None:
        return h
    if not w.overlaps(*span):
        return None
    inside = w.lo <= span[0] and span[1] <= w.hi
    return h if inside else replace(h, clipped=True)


def _registration(r: Registration, w: Window) -> bool:
    return w.overlaps(r.first_bu_ts, r.ba_ts if r.ba_ts is not None else r.first_bu_ts)


def _interval(i: Interval, w: Window) -> Interval | None:
    if not w.overlaps(i.start_ts, i.end_ts):
        return None
    start, end, clipped = w.clip(i.start_ts, i.end_ts)
    return replace(i, start_ts=start, end_ts=end, clipped=True) if clipped else i


def _route_optimization(ro: RouteOptimization, w: Window) -> RouteOptimization | None:
    intervals = tuple(x for x in (_interval(i, w) for i in ro.active_intervals) if x is not None)
    transitions = tuple(t for t in ro.transitions if w.holds(t.ts))
    if not intervals and not transitions:
        return None
    return replace(ro, active_intervals=intervals, transitions=transitions)


def node_in_window(node: MobileNode, from_ts: float | None, to_ts: float | None) -> MobileNode:
    """``node`` with only what overlaps [from_ts, to_ts], clipped to it (see
    the module docstring)."""
    w = Window(from_ts, to_ts)
    return replace(
        node,
        bindings=tuple(x for x in (_binding(b, w) for b in node.bindings) if x is not None),
        handoffs=tuple(x for x in (_handoff(h, w) for h in node.handoffs) if x is not None),
        registrations=tuple(r for r in node.registrations if _registration(r, w)),
        route_optimization=tuple(x for x in (_route_optimization(ro, w) for ro in node.route_optimization)
                                 if x is not None))
