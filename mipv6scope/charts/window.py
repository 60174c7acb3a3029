"""The time window a per-node chart covers (`--handoff N --window S`,
`--from/--to`, or the whole capture), and how charts write its times."""

from __future__ import annotations

from ..report.model import Handoff, MobileNode, Report
from ..safe_text import format_utc
from .options import ChartInputError, ChartOptions, node_label


def handoff_span(handoff: Handoff) -> tuple[float, float] | None:
    """From the handoff's earliest known time among its movement hint and BU to
    its latest among BA and first data; None when it has no time at all."""
    starts = [t for t in (handoff.movement_ts, handoff.bu_ts) if t is not None]
    ends = [t for t in (handoff.ba_ts, handoff.first_data_ts) if t is not None]
    if not starts and not ends:
        return None
    start = min(starts) if starts else min(ends)
    end = max(ends) if ends else max(starts)
    return start, max(start, end)


def _capture_span(report: Report) -> tuple[float, float]:
    first, last = report.capture.first_ts, report.capture.last_ts
    if first is None or last is None:
        raise ChartInputError("the capture holds no packet with a time: nothing to chart")
    return first, max(first, last)


def chart_window(report: Report, node: MobileNode, options: ChartOptions) -> tuple[float, float]:
    """The (start, end) epoch seconds of a chart of ``node``.

    ``options.handoff`` N (1-based) wins: the span of the node's Nth handoff
    (see `handoff_span`) widened by ``options.window_s`` on each side, kept
    inside the capture. Else ``--from/--to`` clipped to the capture, else the
    whole capture. Raises `ChartInputError` for a handoff the node does not
    have or a ``--from/--to`` range outside the capture."""
    first, last = _capture_span(report)
    if options.handoff is not None:
        n = options.handoff
        count = len(node.handoffs)
        if n < 1:
            raise ChartInputError(f"--handoff {n}: handoffs are numbered from 1")
        if n > count:
            if count == 0:
                raise ChartInputError(f"--handoff {n}: {node_label(node)} has no handoffs")
            plural = "handoff" if count == 1 else "handoffs"
            raise ChartInputError(f"--handoff {n}: {node_label(node)} has {count} {plural} (1-{count})")
        span = handoff_span(node.handoffs[n - 1])
        if span is None:
            raise ChartInputError(f"--handoff {n}: the capture gives no time for this handoff "
                                  f"of {node_label(node)}")
        margin = max(0.0, options.window_s)
        return max(first, span[0] - margin), min(last, span[1] + margin)
    start = first if options.from_ts is None else max(first, options.from_ts)
    end = last if options.to_ts is None else min(last, options.to_ts)
    if start > end:
        raise ChartInputError(f"--from/--to: {time_of_day(start)} - {time_of_day(end)} is outside "
                              f"the capture ({time_of_day(first)} - {time_of_day(last)})")
    return start, end


def time_of_day(ts: float) -> str:
    """UTC time of day with milliseconds: ``12:03:14.201``."""
    return format_utc(ts, "%H:%M:%S.%f", 3)  # raw seconds when ts is not a date


def utc_date(ts: float) -> str:
    """The UTC date of ``ts``: ``2023-11-14``."""
    return format_utc(ts, "%Y-%m-%d")


def duration_text(seconds: float) -> str:
    """A duration as people read it: ``850 ms``, ``4.2 s``, ``4 min 12 s``, ``2 h 3 min``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(int(round(seconds)), 60)
        return f"{minutes} min {rest} s"
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours} h {rest // 60} min"
