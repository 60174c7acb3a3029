"""The findings screen: every finding; Enter jumps to its node and first frame."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...report.model import Finding, Report
from ..widgets.findings_table import FindingsTable
from ..widgets.node_list import SEVERITY_SYMBOLS


class FindingsScreen(Screen[Finding | None]):
    """All findings of the report; dismisses with the chosen one (or None on Esc)."""

    BINDINGS = [Binding("escape", "back", "Back"), Binding("f", "back", "Back", show=False)]
    DEFAULT_CSS = """
    FindingsScreen > #findings-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    FindingsScreen > FindingsTable { height: 1fr; }
    FindingsScreen > #finding-message { height: auto; max-height: 6; padding: 0 1;
                                        border-top: solid $primary; }
    """

    def __init__(self, report: Report, so_far: bool = False) -> None:
        super().__init__()
        self.report = report
        self.so_far = so_far  # an interim report: the analysis is still running

    def compose(self) -> ComposeResult:
        counts = "  ".join(f"{symbol} {sev} {sum(1 for f in self.report.findings if f.severity == sev)}"
                           for sev, symbol in SEVERITY_SYMBOLS.items())
        yield Static(f" Findings {len(self.report.findings):,}{' so far' if self.so_far else ''}"
                     f"   {counts}   "
                     "Enter: go to its node and first frame   Esc: back", id="findings-title")
        yield FindingsTable(id="findings-table")
        yield Static("", id="finding-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table and focus it."""
        table = self.query_one(FindingsTable)
        table.show_report(self.report)
        table.focus()

    @on(FindingsTable.RowHighlighted)
    def _highlighted(self, event: FindingsTable.RowHighlighted) -> None:
        table = self.query_one(FindingsTable)
        if event.row_key.value is not None:
            f = table.findings[int(event.row_key.value)]
            frames = ", ".join(map(str, f.frames[:20])) + (" ..." if len(f.frames) > 20 else "")
            self.query_one("#finding-message", Static).update(
                f"{f.code} ({f.severity}, {f.rfc}): {f.message}\nframes: {frames or '-'}")

    @on(FindingsTable.Chosen)
    def _chosen(self, event: FindingsTable.Chosen) -> None:
        event.stop()
        self.dismiss(event.finding)

    def action_back(self) -> None:
        """Back to the main screen."""
        self.dismiss(None)
