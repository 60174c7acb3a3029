"""The Overview: the capture, roles, handoff statistics, findings by
severity, and sparklines of signalling and tunnelled traffic over time.

The text and the series are pure functions of the Report (``overview_text``,
``traffic_series``); the widget only shows them. Before the analysis is done
the counts come from the frame index as it grows.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv6Address
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Sparkline, Static

from ...render.tabular import clock
from ...render.views_text import handoff_stats
from ...report.model import Report, TrafficSeries
from .node_list import SEVERITY_SYMBOLS

BINS = 60


def _ms(value: float | int | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _named(address: IPv6Address, names: dict[IPv6Address, str]) -> str:
    name = names.get(address)
    return f"{name} ({address})" if name else str(address)


def _list(addresses: Iterable[IPv6Address], names: dict[IPv6Address, str], most: int = 4) -> str:
    items = list(addresses)
    shown = ", ".join(_named(a, names) for a in items[:most])
    return (shown + (f", +{len(items) - most} more" if len(items) > most else "")) or "-"


def overview_text(report: Report) -> str:
    """The overview's text for ``report``: handoffs and findings, roles, the capture."""
    left, right = overview_columns(report)
    return right + "\n" + left


def _role(n: int, one: str, many: str, addresses: str) -> str:
    return f"  {n:>4} {one if n == 1 else many:<15}" + (f" {addresses}" if n else "")


def overview_columns(report: Report, so_far: bool = False) -> tuple[str, str]:
    """The overview's two parts: (capture and roles, handoffs and findings);
    ``so_far``: ``report`` is an interim report of the analysis still running."""
    info = report.capture
    names = report.node_names()
    files = ", ".join(Path(f).name for f in info.files)
    left = [f"Capture  {files}",
            f"  {info.frames:,} frames: {info.malformed:,} malformed, {info.skipped:,} skipped"
            + ("  so far: analysing..." if so_far else "  PARTIAL" if info.partial else "")]
    if info.first_ts is not None and info.last_ts is not None:
        left.append(f"  {clock(info.first_ts)} -> {clock(info.last_ts)} UTC "
                    f"({info.last_ts - info.first_ts:,.1f} s)")
    vantage = getattr(info, "vantage", None)
    if vantage:
        left.append(f"  vantage {vantage}")
    left += [f"  ! {issue}" for issue in info.capture_issues]
    mns = [n.name or str(n.home_address) for n in report.mobile_nodes]
    left += ["Roles",
             _role(len(mns), "mobile node", "mobile nodes", ", ".join(mns[:2]) + (", ..." if len(mns) > 2 else "")),
             _role(len(report.home_agents), "home agent", "home agents", _list(report.home_agents, names, 1)),
             _role(len(report.correspondents), "correspondent", "correspondents",
                   _list(report.correspondents, names, 1)),
             _role(len(report.access_routers), "access router", "access routers", "")]
    handoffs = [h for n in report.mobile_nodes for h in n.handoffs]
    done = [h for h in handoffs if getattr(h, "outcome", "completed") == "completed"]
    failed = len(handoffs) - len(done)
    right = [f"Handoffs {len(handoffs):<10,}  n   p50   p95   max"]
    for label, values in (("registration ms", [h.registration_ms for h in done]),
                          ("disruption ms", [h.disruption_ms for h in done])):
        st = handoff_stats([v for v in values if v is not None])
        right.append(f"  {label:<15}{st['count']:>5} {_ms(st['median']):>5} {_ms(st['p95']):>5} "
                     f"{_ms(st['max']):>5}")
    if failed:
        right.append(f"  failed (not in the statistics): {failed:,}")
    lost = sum(h.lost_to_old_care_of for h in handoffs)
    maybe = sum(getattr(h, "possibly_lost_to_old_care_of", 0) for h in handoffs)
    right.append(f"  lost to the old care-of: {lost:,}" + (f", possibly {maybe:,}" if maybe else ""))
    counts = {sev: sum(1 for f in report.findings if f.severity == sev) for sev in SEVERITY_SYMBOLS}
    right.append(f"Findings {len(report.findings):,}  " + "  ".join(
        f"{SEVERITY_SYMBOLS[sev]} {sev} {n}" for sev, n in counts.items()))
    codes: dict[str, int] = {}
    for f in report.findings:
        codes[f.code] = codes.get(f.code, 0) + 1
    for code, n in sorted(codes.items(), key=lambda kv: -kv[1])[:4]:
        right.append(f"  {n:>4} {code}")
    return "\n".join(left), "\n".join(right)


def _rebin(series: TrafficSeries, start: float, width: float, bins: list[float]) -> None:
    """Add ``series`` into ``bins`` (each ``width`` seconds from ``start``)."""
    for ts, n in series.bins():
        i = int((ts + series.width_s / 2 - start) // width)
        bins[min(max(i, 0), len(bins) - 1)] += n


def traffic_series(report: Report, bins: int = BINS) -> tuple[list[float], list[float]]:
    """(signalling messages, tunnelled packets) per time bin over the capture's span."""
    info = report.capture
    if info.first_ts is None or info.last_ts is None:
        return [0.0], [0.0]
    start = info.first_ts
    width = max((info.last_ts - start) / bins, 1e-6)
    signalling = [0.0] * bins
    for message in report.signalling:
        signalling[min(max(int((message.ts - start) // width), 0), bins - 1)] += 1
    tunnelled = [0.0] * bins
    for tunnel in report.tunnels:
        for series in (tunnel.to_mn_series, tunnel.from_mn_series):
            if series is not None:
                _rebin(series, start, width, tunnelled)
    return signalling, tunnelled


class Overview(VerticalScroll):
    """The capture at a glance: two sparklines, handoffs and findings, roles, the capture."""

    DEFAULT_CSS = """
    Overview { padding: 0 1; }
    Overview > #overview-left, Overview > #overview-right { height: auto; }
    Overview .spark-row { height: 1; }
    Overview .spark-row > Label { width: 18; }
    Overview .spark-row > Sparkline { width: 1fr; height: 1; }
    Overview > #spark-span { height: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(classes="spark-row"):
            yield Label("signalling", id="spark-signalling-label")
            yield Sparkline([0], summary_function=max, id="spark-signalling")
        with Horizontal(classes="spark-row"):
            yield Label("tunnelled", id="spark-tunnelled-label")
            yield Sparkline([0], summary_function=max, id="spark-tunnelled")
        yield Static("", id="spark-span")
        yield Static("Reading the capture...", id="overview-right")
        yield Static("", id="overview-left")

    def show_progress(self, frames: int, files: list[str]) -> None:
        """Counts while the index grows (before the report)."""
        self.query_one("#overview-right", Static).update(
            f"Capture\n  files     {', '.join(Path(f).name for f in files)}\n"
            f"  frames    {frames:,} indexed so far; analysing...")

    def show_report(self, report: Report, so_far: bool = False) -> None:
        """Everything, from ``report`` (``so_far``: an interim report)."""
        left, right = overview_columns(report, so_far)
        self.query_one("#overview-left", Static).update(left)
        self.query_one("#overview-right", Static).update(right)
        signalling, tunnelled = traffic_series(report)
        self.query_one("#spark-signalling", Sparkline).data = signalling
        self.query_one("#spark-tunnelled", Sparkline).data = tunnelled
        self.query_one("#spark-signalling-label", Label).update(
            f"signalling {max(signalling):>5,.0f}")
        self.query_one("#spark-tunnelled-label", Label).update(f"tunnelled {max(tunnelled):>6,.0f}")
        first, last = report.capture.first_ts, report.capture.last_ts
        if first is not None and last is not None:
            self.query_one("#spark-span", Static).update(
                f"{'':18}{clock(first)} -> {clock(last)} UTC (number: the busiest bin)")
