"""Every finding: severity (with its symbol), code, RFC section, node,
frames and message; Enter chooses one."""

from __future__ import annotations

from ipaddress import IPv6Address

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from ...render.tabular import clock
from ...report.model import Finding, Report
from .node_list import SEVERITY_SYMBOLS

FINDING_COLUMNS = ("time", "severity", "code", "RFC", "node", "frames", "message")


def frames_text(frames: tuple[int, ...], most: int = 4) -> str:
    """``12,15,18...`` (at most ``most`` numbers)."""
    if not frames:
        return "-"
    return ",".join(map(str, frames[:most])) + ("..." if len(frames) > most else "")


def sorted_findings(report: Report) -> list[Finding]:
    """The findings by time, then code (as `mipv6scope findings` lists them)."""
    return sorted(report.findings, key=lambda f: (f.ts, f.code))


class FindingsTable(DataTable):
    """The findings, one a row; posts FindingsTable.Chosen on Enter or click."""

    BINDINGS = [Binding("j", "cursor_down", "Down", show=False),
                Binding("k", "cursor_up", "Up", show=False)]

    class Chosen(Message):
        """The user chose ``finding``."""

        def __init__(self, finding: Finding) -> None:
            super().__init__()
            self.finding = finding

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(cursor_type="row", id=id)
        self.findings: list[Finding] = []

    def on_mount(self) -> None:
        """Add the columns."""
        self.add_columns(*FINDING_COLUMNS)

    def show_report(self, report: Report, only: set[IPv6Address] | None = None) -> None:
        """The report's findings (only those about the addresses ``only`` when given)."""
        names = report.node_names()
        self.findings = [f for f in sorted_findings(report) if only is None or f.node in only]
        self.clear()
        for i, f in enumerate(self.findings):
            node = "-" if f.node is None else names.get(f.node) or str(f.node)
            self.add_row(clock(f.ts), f"{SEVERITY_SYMBOLS.get(f.severity, '?')} {f.severity}", f.code,
                         f.rfc, node, frames_text(f.frames), f.message, key=str(i))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click on the selected row) chooses the finding."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(self.findings[int(event.row_key.value)]))
