"""What the analysis charts share: colours (route-optimisation states as the
`ro` view names them, finding severities, care-of epochs, signalling
families), how a time is written for Plotly's date axes, the default title
and the time window a whole-capture chart covers.

Pure data and pure functions: nothing here builds a figure.
"""

from __future__ import annotations

from pathlib import PurePath

from ..report.model import Report
from ..safe_text import format_utc, visible
from .options import ChartInputError, ChartOptions

# Route-optimisation states in the order a pair goes through them (`ro`).
RO_STATES = ("tunnelled", "rr_started", "rr_done", "bu_sent", "ro_active", "fallback")
RO_STATE_COLOURS: dict[str, str] = {
    "tunnelled": "#b0b0b0",   # grey: data through the home agent
    "rr_started": "#9ecae1",  # light blue: HoTI/CoTI out
    "rr_done": "#4292c6",     # blue: HoT and CoT back
    "bu_sent": "#8e6bbf",     # purple: BU to the correspondent
    "ro_active": "#2ca02c",   # green: route optimised
    "fallback": "#e6550d",    # orange: back to the tunnel (binding error, movement)
}
RO_OTHER_COLOUR = "#555555"   # a state this build does not know

SEVERITIES = ("error", "warning", "info")  # worst first
SEVERITY_COLOURS: dict[str, str] = {"error": "#d62728", "warning": "#ff9f1c", "info": "#1f77b4"}

# Care-of epochs: one colour per care-of address (or care-of prefix); "at home" distinct.
# pastel hues, apart from the saturated route-optimisation states drawn under them
CARE_OF_PALETTE = ("#8da0cb", "#fc8d62", "#66c2a5", "#e78ac3", "#ffd92f", "#a6d854", "#e5c494", "#c49c94")
HOME_COLOUR = "#d9d9d9"

# Signalling families (the sequence chart uses the same hues).
FAMILIES: dict[str, tuple[str, ...]] = {
    "registration (BU, BA, BE, BRR)": ("BU", "BA", "BE", "BRR"),
    "return routability (HoTI, CoTI, HoT, CoT)": ("HoTI", "CoTI", "HoT", "CoT"),
    "discovery (DHAAD, MPS, MPA)": ("DHAAD request", "DHAAD reply", "MPS", "MPA"),
    "neighbour discovery (RA, NA)": ("RA", "NA"),
}
OTHER_FAMILY = "other mobility messages"
FAMILY_COLOURS: dict[str, str] = {
    "registration (BU, BA, BE, BRR)": "#1f5fbf",
    "return routability (HoTI, CoTI, HoT, CoT)": "#98d98e",  # light: the direct data is green
    "discovery (DHAAD, MPS, MPA)": "#7f7f7f",
    "neighbour discovery (RA, NA)": "#8e44ad",
    OTHER_FAMILY: "#333333",
}
TRAFFIC_COLOURS: dict[str, str] = {
    "tunnelled to MN": "#4c8be0",
    "tunnelled from MN": "#9ecae1",
    "route-optimised (direct)": "#2ca02c",
}

FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 12}


def family_of(kind: str) -> str:
    """The family (a key of `FAMILIES`, or `OTHER_FAMILY`) of a signalling message kind."""
    for family, kinds in FAMILIES.items():
        if kind in kinds:
            return family
    return OTHER_FAMILY


def utc(ts: float) -> str:
    """``ts`` (epoch seconds) as a Plotly date string in UTC, to the millisecond
    (raw seconds when no date can show it: never raises)."""
    return format_utc(round(ts, 3), "%Y-%m-%d %H:%M:%S.%f", trim=3)


def clock(ts: float | None) -> str:
    """``ts`` as a UTC time of day for hover text (``12:03:14.215``); "-" for None."""
    if ts is None:
        return "-"
    return format_utc(round(ts, 3), "%H:%M:%S.%f", trim=3)


def capture_name(report: Report) -> str:
    """The capture file names (basenames), comma-separated, at most three then "+N"."""
    names = [PurePath(f).name for f in report.capture.files]
    shown = ", ".join(names[:3])
    return shown + (f" +{len(names) - 3}" if len(names) > 3 else "")


def chart_title(report: Report, options: ChartOptions, what: str) -> str:
    """``options.title`` or "<what> - <capture files>"."""
    if options.title:
        return visible(options.title)
    name = visible(capture_name(report))
    return f"{what} - {name}" if name else what


def time_window(report: Report, options: ChartOptions) -> tuple[float, float]:
    """(start, end) epoch seconds a whole-capture chart covers: the capture,
    narrowed by ``--from/--to``. `ChartInputError` when the capture has no
    time or the range misses it."""
    first, last = report.capture.first_ts, report.capture.last_ts
    if first is None or last is None:
        raise ChartInputError("the capture holds no packet with a time: nothing to chart")
    last = max(first, last)
    start = first if options.from_ts is None else max(first, options.from_ts)
    end = last if options.to_ts is None else min(last, options.to_ts)
    if start > end:
        raise ChartInputError(f"--from/--to: {clock(start)} - {clock(end)} is outside "
                              f"the capture ({clock(first)} - {clock(last)} UTC)")
    return start, end
