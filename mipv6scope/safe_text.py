"""Text from a capture or a user file made safe to print.

Names from ``--names``, finding messages, signalling labels, file names: any
of them may hold characters that act on a terminal or a reader rather than
show (an ESC sequence that recolours or clears the screen or sets the window
title, BEL, the C1 CSI 0x9b, a bidi override that reverses what follows).
`visible` writes each such character out as ``\\xNN`` / ``\\uNNNN``, so it
shows and cannot act. Every text output (CLI text views, summary, chart
labels, the HTML report, csv cells) passes its capture- or user-derived text
through it; JSON keeps the original (JSON escapes control characters itself).

* ``visible(text)``: the escaped text (idempotent: the escapes are printable).
* ``visible_lines(text)``: the same, but newlines kept (for whole rendered
  outputs, whose own line breaks are ours).
* ``shorten(text, limit)``: at most ``limit`` characters, an ellipsis at the
  end when cut (long names in text views).
* ``safe_report(report)``: a copy of a Report whose names, finding messages
  and signalling labels/Info are `visible` (for renderers that take a Report).
"""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report.model import Report

# C0 controls (ESC, BEL, CR, LF, TAB ...), DEL, C1 controls (0x80-0x9f, CSI 0x9b),
# the Arabic letter mark, LRM/RLM, line/paragraph separators, bidi embeddings and
# overrides (U+202A-U+202E), isolates (U+2066-U+2069) and lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                     "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                                 "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
ELLIPSIS = "\u2026"
NAME_SHOWN = 64  # characters of a name a text view shows (then an ellipsis)


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with control, bidi and separator characters written out as
    ``\\xNN`` (below U+0100) or ``\\uNNNN``, so none can act on the reader."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def visible_lines(text: str) -> str:
    """`visible`, but line feeds kept: for a whole rendered text whose line
    breaks are the renderer's own (any a name brought were escaped before)."""
    if _UNSAFE_BUT_NEWLINE.search(text) is None:
        return text
    return _UNSAFE_BUT_NEWLINE.sub(_escape, text)


def shorten(text: str, limit: int = NAME_SHOWN) -> str:
    """``text`` cut to at most ``limit`` characters, the last an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[:max(0, limit - 1)] + ELLIPSIS


def shown_name(name: str | None, limit: int = NAME_SHOWN) -> str | None:
    """A name as a text view shows it: `visible`, then `shorten`; None stays None."""
    return None if name is None else shorten(visible(name), limit)


def raw_seconds(ts: float) -> str:
    """A time that cannot be a date, as raw epoch seconds (``-5s``, ``nan s``)."""
    if math.isfinite(ts):
        return f"{ts:.6f}".rstrip("0").rstrip(".") + "s"
    return f"{ts} s"


def utc_moment(ts: float) -> datetime | None:
    """``ts`` (epoch seconds) as an aware UTC datetime, or None when no date
    can show it (negative, past year 9999, nan/inf, or the platform refuses it)."""
    try:
        if not math.isfinite(ts) or ts < 0:
            return None
        return datetime.fromtimestamp(ts, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def format_utc(ts: float, fmt: str, trim: int = 0) -> str:
    """``ts`` formatted with ``fmt`` in UTC (the last ``trim`` characters
    dropped, e.g. 3 to turn microseconds into milliseconds), or raw seconds
    (`raw_seconds`) when it cannot be a date. Never raises."""
    moment = utc_moment(ts)
    if moment is None:
        return raw_seconds(ts)
    text = moment.strftime(fmt)
    return text[:-trim] if trim else text


def _clean(text: str | None) -> str | None:
    return None if text is None else visible(text)


def safe_report(report: Report) -> Report:
    """A copy of ``report`` whose names (mobile nodes' and ``report.names``),
    finding messages, signalling labels and Info lines and capture file names
    and issues are `visible`; ``report`` itself when nothing needed it."""
    changed = False

    def fix(text: str | None) -> str | None:
        nonlocal changed
        out = _clean(text)
        if out != text:
            changed = True
        return out

    nodes = tuple(node if fix(node.name) == node.name
                  else dataclasses.replace(node, name=fix(node.name)) for node in report.mobile_nodes)
    names = {address: visible(name) for address, name in report.names.items()}
    if names != report.names:
        changed = True
    findings = tuple(f if fix(f.message) == f.message
                     else dataclasses.replace(f, message=visible(f.message)) for f in report.findings)
    signalling = tuple(m if fix(m.label) == m.label and fix(m.info) == m.info
                       else dataclasses.replace(m, label=visible(m.label), info=visible(m.info))
                       for m in report.signalling)
    cap = report.capture
    files = tuple(visible(f) for f in cap.files)
    issues = tuple(visible(i) for i in cap.capture_issues)
    if files != cap.files or issues != cap.capture_issues:
        changed = True
        cap = dataclasses.replace(cap, files=files, capture_issues=issues)
    if not changed:
        return report
    return dataclasses.replace(report, capture=cap, mobile_nodes=nodes, names=names,
                               findings=findings, signalling=signalling)
