"""The main screen: the node list on the left, the selected node's tabs on
the right, the display filter bar and Wireshark's three packet panes below.

It starts the background work (index, analysis, the node's frames, the
caches at an instant, chart export) as thread workers that report with the
typed messages of `messages`, and passes what they found down to the
widgets. Selection flows one way: a node, a ladder row, a finding or a frame
number selects a frame in the packet panes, and the detail and bytes follow.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.screen import Screen
from textual.widget import MountError
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from ...analysis.cache import CacheSnapshot
from ...capture.index import IndexCancelled
from ...capture.index_store import IndexStore
from ...charts.window import handoff_span
from ...cli.output import AnalysisOptions
from ...report.model import Finding, MobileNode, Report
from .. import workers
from ..messages import (
    AnalysisProgress,
    AnalysisReady,
    AnalysisSnapshot,
    CacheReady,
    ExportDone,
    FilterProgress,
    IndexProgress,
    IndexReady,
    PacketView,
    PositionsReady,
)
from ..widgets.cache_view import CacheView
from ..widgets.capture_header import CaptureHeader
from ..widgets.filter_bar import FilterBar
from ..widgets.findings_table import FindingsTable
from ..widgets.ladder import Ladder
from ..widgets.node_header import NodeHeader
from ..widgets.node_list import NodeList, NodeTable
from ..widgets.overview import Overview
from ..widgets.packet_panes import PacketPanes
from ..widgets.progress import LoadProgress
from ..widgets.tables import RO_COLUMNS, TUNNEL_COLUMNS, RowsTable, node_ro_rows, node_tunnel_rows
from ..widgets.timeline import NodeTimeline
from .findings import FindingsScreen
from .goto import GotoFrameScreen


class Selected(NamedTuple):
    """The frame selected in the packet list: its number in its file, ts and file (0-based)."""

    number: int
    ts: float
    file: int = 0


TABS = ("overview", "timeline", "ladder", "cache", "tunnels", "ro", "node-findings")
CACHE_DELAY_S = 0.25  # the cursor settles this long before the caches are recomputed
QUIET = (IndexCancelled, workers.WorkCancelled)


class MainScreen(Screen[None]):
    """Nodes, the node's tabs and the packet panes over one analysis."""

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("g", "goto", "Frame"),
        Binding("a", "toggle_all", "All/node"),
        Binding("t", "cache_time", "Cache time"),
        Binding("e", "export", "Chart"),
        Binding("f", "findings", "Findings"),
        Binding("p", "packets", "Packets", show=False),
        Binding("s", "search", "Search", show=False),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, paths: list[str], options: AnalysisOptions, cancel: threading.Event,
                 index_store: IndexStore | None = None, save_index: bool = True) -> None:
        super().__init__()
        self.paths = paths
        self.options = options
        self.cancel = cancel
        self.index_store = index_store  # where stored frame indexes are read (None: always built)
        self.save_index = save_index    # whether the indexes built are stored there
        self.report: Report | None = None
        self.interim: Report | None = None         # the latest report so far, until `report`
        self.snapshots: list[float] = []           # what each interim report cost the analysis (s)
        self.source: object | None = None
        self.node: MobileNode | None = None
        self.show_all = False
        self.filter_text = ""
        self.view: PacketView | None = None        # what the packet list shows (or is computing)
        self.shown: PacketView | None = None       # what it shows now
        self.selected: Selected | None = None      # the frame selected in the packet list
        self.pending_frame: tuple[int, int] | None = None  # (number, file): select it once shown
        self.cache_ts: float | None = None
        self._cache_timer = None
        self.indexed = 0

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield CaptureHeader(id="header")
        yield LoadProgress(id="progress")
        with Horizontal(id="top"):
            yield NodeList(id="nodes")
            with Vertical(id="node-area"):
                yield NodeHeader("analysing...", id="node-header")
                with TabbedContent(initial="overview", id="tabs"):
                    with TabPane("Overview", id="overview"):
                        yield Overview(id="overview-view")
                    with TabPane("Timeline", id="timeline"):
                        yield Static("the timeline appears when the analysis is done", id="timeline-wait")
                    with TabPane("Ladder", id="ladder"):
                        yield Static("the ladder appears when the analysis is done", id="ladder-wait")
                    with TabPane("Cache", id="cache"):
                        yield CacheView(id="cache-view")
                    with TabPane("Tunnels", id="tunnels"):
                        yield RowsTable(TUNNEL_COLUMNS, "no tunnel for this node", id="tunnels-table")
                    with TabPane("RO", id="ro"):
                        yield RowsTable(RO_COLUMNS, "no route optimisation for this node", id="ro-table")
                    with TabPane("Findings", id="node-findings"):
                        yield FindingsTable(id="node-findings-table")
        with Vertical(id="packets-area"):
            yield FilterBar(id="filter")
            with Container(id="packets-box"):
                yield Static("indexing the capture...", id="packets-wait")
        yield Footer()

    def on_mount(self) -> None:
        """Start the background work; the screen is already up."""
        self.query_one(CaptureHeader).show(self.paths, None, None)
        self.query_one(NodeList).table.focus()
        self._index()
        self._analyse()

    def on_unmount(self) -> None:
        """Stop the workers and close the capture."""
        self.cancel.set()
        if self.source is not None:
            self.source.close()  # type: ignore[attr-defined]

    # -- background work ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def _index(self) -> None:
        workers.build_source(self.paths, self.post_message, self.cancel, self.index_store,
                             self.save_index)

    @work(thread=True, exclusive=True, group="analysis", exit_on_error=False)
    def _analyse(self) -> None:
        workers.run_analysis(self.paths, self.options, self.post_message, self.cancel)

    @work(thread=True, exclusive=True, group="positions", exit_on_error=False)
    def _positions(self, view: PacketView) -> None:
        worker = get_current_worker()
        workers.frame_positions(self.source, view, self.report, self.post_message,
                                lambda: worker.is_cancelled or self.cancel.is_set())

    @work(thread=True, exclusive=True, group="cache", exit_on_error=False)
    def _cache(self, at_ts: float) -> None:
        worker = get_current_worker()
        workers.cache_snapshot(self.paths, at_ts, self.post_message,
                               lambda: worker.is_cancelled or self.cancel.is_set())

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, node: MobileNode, handoff: int | None) -> None:
        assert self.report is not None
        workers.export_chart(self.report, self.paths[0], node, handoff, self.post_message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed job says so in a notification (a cancelled one says nothing)."""
        if event.state != WorkerState.ERROR or isinstance(event.worker.error, QUIET):
            return
        what = event.worker.group
        self.notify(f"{what}: {event.worker.error}", title="mipv6scope", severity="error", timeout=10)
        if what == "positions":
            self.query_one(FilterBar).show_status("filter failed")

    # -- results, as they come -------------------------------------------------------------------

    def on_index_progress(self, message: IndexProgress) -> None:
        """The index grows: progress, header and overview counts."""
        self.indexed = message.frames
        self.query_one(LoadProgress).index_progress(message.frames, message.bytes_done,
                                                    message.bytes_total, message.elapsed_s)
        if self.report is None:
            self.query_one(CaptureHeader).show(self.paths, message.frames, None)
            self.query_one(Overview).show_progress(message.frames, self.paths)

    async def on_index_ready(self, message: IndexReady) -> None:
        """The capture is indexed: the packet panes can show it."""
        if self.cancel.is_set():
            message.source.close()
            return
        self.source = message.source
        self.indexed = len(message.source)
        self.query_one(LoadProgress).index_done(self.indexed, message.elapsed_s, message.loaded)
        if self.report is None:
            self.query_one(CaptureHeader).show(self.paths, self.indexed, None)
            self.query_one(Overview).show_progress(self.indexed, self.paths)
        box = self.query_one("#packets-box")
        try:
            await box.remove_children()
            await box.mount(PacketPanes(message.source, id="panes"))
        except MountError:  # the app is closing
            return
        self._mark_lost()
        self._update_view()

    def on_analysis_progress(self, message: AnalysisProgress) -> None:
        """The analysis moves on."""
        self.query_one(LoadProgress).analysis_progress(message.bytes_done, message.bytes_total,
                                                       message.elapsed_s)

    def on_analysis_snapshot(self, message: AnalysisSnapshot) -> None:
        """A report of the frames analysed so far: the node list, the overview
        and the findings show it until the final report comes."""
        if self.report is not None or self.cancel.is_set():
            return
        self.interim = message.report
        self.snapshots.append(message.cost_s)
        self.query_one(Overview).show_report(message.report, so_far=True)
        self.query_one(NodeList).show_report(message.report)
        if self.node is None:
            chosen = self.query_one(NodeList).chosen()
            self.query_one(NodeHeader).show(chosen, message.report, so_far=True)

    async def on_analysis_ready(self, message: AnalysisReady) -> None:
        """The report is here: fill in everything that depends on it."""
        report = self.report = message.report
        self.query_one(LoadProgress).analysis_done(message.elapsed_s)
        self.query_one(CaptureHeader).show(self.paths, self.indexed, report)
        self.query_one(Overview).show_report(report)
        self.query_one(FilterBar).report = report
        self.query_one(NodeHeader).show(None, report)
        self._mark_lost()
        nodes = self.query_one(NodeList)
        nodes.show_report(report)
        if not report.mobile_nodes:
            self.query_one(NodeHeader).update("no mobile node in this capture")
            self._update_view()
            return
        # the node under the cursor was chosen while only an interim report
        # was there (show_node waits for the final one); when the final rows
        # are the same, the list does not redraw and nothing chooses it again
        chosen = nodes.chosen()
        if self.node is None and chosen is not None:
            await self.show_node(chosen)

    def _mark_lost(self) -> None:
        if self.source is None or self.report is None:
            return
        lost = {n for f in self.report.findings if f.code == "lost_to_old_care_of" for n in f.frames}
        self.source.set_lost(lost)  # type: ignore[attr-defined]

    # -- the node ----------------------------------------------------------------------------

    @on(NodeList.NodeChosen)
    async def _node_chosen(self, event: NodeList.NodeChosen) -> None:
        if self.report is None and self.interim is not None:
            self.query_one(NodeHeader).show(event.node, self.interim, so_far=True)
        await self.show_node(event.node)

    async def show_node(self, node: MobileNode) -> None:
        """Make ``node`` the selected node: its header, tabs and frames."""
        report = self.report
        if report is None or node is self.node or self.cancel.is_set():
            return
        self.node = node
        self.query_one(NodeHeader).show(node, report)
        await self._node_widget("timeline", NodeTimeline, report, node)
        await self._node_widget("ladder", Ladder, report, node)
        names = report.node_names()
        self.query_one("#tunnels-table", RowsTable).show_rows(node_tunnel_rows(report, node), names)
        self.query_one("#ro-table", RowsTable).show_rows(node_ro_rows(report, node), names)
        homes = set(node.home_addresses or (node.home_address,))
        self.query_one("#node-findings-table", FindingsTable).show_report(report, homes)
        if self.cache_ts is None:
            timelines = self.query(NodeTimeline)
            self.cache_ts = timelines.first().cursor_ts if timelines else report.capture.first_ts
        if self.cache_ts is not None:
            self._schedule_cache(self.cache_ts, at_once=True)
        self._update_view()

    async def _node_widget(self, pane: str, cls: type, report: Report, node: MobileNode) -> None:
        """Mount ``cls(report, node)`` in tab ``pane`` the first time, then ``set_node``."""
        found = self.query(cls)
        if found:
            found.first().set_node(report, node)
            return
        container = self.query_one(f"#{pane}", TabPane)
        try:
            await container.remove_children()
            await container.mount(cls(report, node, id=f"{pane}-view"))
        except MountError:  # the app is closing
            return

    @on(DataTable.RowSelected, "#node-table")
    def _node_entered(self, event: DataTable.RowSelected) -> None:
        """Enter on a node: into its tabs."""
        event.stop()
        tabs = self.query_one(TabbedContent)
        if tabs.active == "overview":
            tabs.active = "timeline"
        self.call_after_refresh(self._focus_tab)

    def _focus_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        pane = tabs.get_pane(tabs.active)
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    # -- the packet list ---------------------------------------------------------------------

    def _update_view(self) -> None:
        """Show the frames the node toggle and the filter select (in a worker)."""
        if self.source is None:
            return
        node = None if self.show_all or self.node is None else str(self.node.home_address)
        if node is not None and self.report is None:
            return
        view = PacketView(node, self.filter_text)
        if view == self.view:
            return
        self.view = view
        bar = self.query_one(FilterBar)
        if not view.expression():
            self._show_positions(view, None)
            return
        bar.show_status("filtering...")
        self._positions(view)

    def on_filter_progress(self, message: FilterProgress) -> None:
        """Filtering moves on."""
        if message.view == self.view:
            self.query_one(FilterBar).show_status(f"filtering {100 * message.done // max(message.total, 1)}%")

    def on_positions_ready(self, message: PositionsReady) -> None:
        """The frames of the current view are known."""
        if message.view == self.view:
            self._show_positions(message.view, message.positions)

    def _show_positions(self, view: PacketView, positions: list[int] | None) -> None:
        panes = self.query_one(PacketPanes)
        panes.show_positions(positions)
        self.shown = view
        if view.node is None:
            what = "all frames (a: the node's)" if self.node is not None else "all frames"
        else:
            what = f"node {self.node.name or view.node if self.node else view.node} (a: all frames)"
        self.query_one(FilterBar).show_status(what)
        if self.pending_frame is not None:
            (number, file), self.pending_frame = self.pending_frame, None
            self.select_frame(number, file)

    def select_frame(self, number: int, file: int = 0) -> None:
        """Select frame ``number`` of ``file`` (0-based) in the packet list,
        showing all frames if the current view leaves it out."""
        if self.source is None:
            self.pending_frame = (number, file)
            return
        if self.query_one(PacketPanes).select_frame(number, file):
            return
        if self.shown is not None and (self.shown.node is not None or self.shown.filter_text):
            where = f" of file {file + 1}" if len(self.paths) > 1 else ""
            self.notify(f"frame {number}{where} is not in this view: showing all frames")
            self.pending_frame = (number, file)
            self.show_all, self.filter_text = True, ""
            self.query_one(FilterBar).input.value = ""
            self._update_view()
        elif self.view != self.shown:
            self.pending_frame = (number, file)  # the list is still being filtered

    @on(PacketPanes.FrameSelected)
    def _frame_selected(self, event: PacketPanes.FrameSelected) -> None:
        self.selected = Selected(event.number, event.ts, event.file)

    @on(FilterBar.Applied)
    def _filter_applied(self, event: FilterBar.Applied) -> None:
        self.filter_text = event.text
        self._update_view()
        if self.source is not None:
            self.query_one(PacketPanes).packet_list.focus()

    # -- ladder, timeline, cache, findings ------------------------------------------------------

    @on(Ladder.MessageSelected)
    def _ladder_message(self, event: Ladder.MessageSelected) -> None:
        # the user's moves on the ladder only: not the cursor it starts with
        # (that frame may lie outside the node's frames, and would switch to all frames)
        ladders = self.query(Ladder)
        if ladders and ladders.first().has_focus:
            self.select_frame(event.frame, event.file)

    @on(NodeTimeline.CursorMoved)
    def _cursor_moved(self, event: NodeTimeline.CursorMoved) -> None:
        self._schedule_cache(event.ts)

    def _schedule_cache(self, ts: float, at_once: bool = False) -> None:
        """Recompute the caches at ``ts`` once the cursor has settled."""
        self.cache_ts = ts
        self.query_one(CacheView).waiting(ts)
        if self._cache_timer is not None:
            self._cache_timer.stop()
        self._cache_timer = self.set_timer(0.01 if at_once else CACHE_DELAY_S, lambda: self._cache(ts))

    def on_cache_ready(self, message: CacheReady) -> None:
        """The caches at the latest instant asked for."""
        if message.snapshot.at_ts == self.cache_ts and self.report is not None:
            self.show_cache(message.snapshot)

    def show_cache(self, snapshot: CacheSnapshot) -> None:
        """Show ``snapshot`` for the selected node."""
        assert self.report is not None
        self.query_one(CacheView).show(snapshot, self.node, self.report.node_names())

    @on(FindingsTable.Chosen)
    async def _finding_chosen(self, event: FindingsTable.Chosen) -> None:
        event.stop()
        await self.go_to_finding(event.finding)

    async def go_to_finding(self, finding: Finding | None) -> None:
        """Select the finding's node and its first frame (from an interim
        report too: the node's tabs wait for the final one)."""
        report = self.report or self.interim
        if finding is None or report is None:
            return
        node = next((n for n in report.mobile_nodes
                     if finding.node in (n.home_addresses or (n.home_address,))), None)
        if node is not None:
            self.query_one(NodeList).select(node)
            await self.show_node(node)
        if not finding.frames:
            return
        if self.source is None:
            self.select_frame(finding.frames[0])
            return
        # a finding lists frame numbers without their file: the source finds which
        position = self.source.finding_position(finding.frames, finding.ts)  # type: ignore[attr-defined]
        if position is not None:
            file, number = self.source.locate(position)  # type: ignore[attr-defined]
            self.select_frame(number, file)
            self.query_one(PacketPanes).packet_list.focus()

    def on_export_done(self, message: ExportDone) -> None:
        """Say where the chart went."""
        self.notify(f"chart written to {message.path}", title="export")

    # -- actions -----------------------------------------------------------------------------

    def action_filter(self) -> None:
        """Focus the display filter bar."""
        self.query_one(FilterBar).input.focus()

    def action_goto(self) -> None:
        """Ask for a frame number and select it."""
        if self.source is None:
            self.notify("the capture is still being indexed")
            return

        def go(target: tuple[int, int] | None) -> None:
            if target is not None:
                self.select_frame(*target)
                self.query_one(PacketPanes).packet_list.focus()
        counts = [len(index) for index in self.source.indexes]  # type: ignore[attr-defined]
        self.app.push_screen(GotoFrameScreen(counts), go)

    def action_toggle_all(self) -> None:
        """Toggle the packet list between the node's frames and all frames."""
        self.show_all = not self.show_all
        self._update_view()

    def action_cache_time(self) -> None:
        """Set the cache's instant to the selected frame's time (and the timeline cursor)."""
        if self.selected is None:
            self.notify("select a frame first")
            return
        ts = self.selected[1]
        timelines = self.query(NodeTimeline)
        if timelines:
            timelines.first().set_cursor(ts)
        self._schedule_cache(ts, at_once=True)
        self.notify(f"cache at frame {self.selected.number}")

    def action_export(self) -> None:
        """Export the node's (or the cursor's handoff's) sequence chart as html."""
        if self.report is None or self.node is None:
            self.notify("no node selected yet")
            return
        handoff = self._handoff_at(self.cache_ts)
        self.notify("writing the chart...")
        self._export(self.node, handoff)

    def _handoff_at(self, ts: float | None) -> int | None:
        """The 1-based number of the node's handoff around ``ts`` (1 s either side)."""
        if ts is None or self.node is None:
            return None
        for number, h in enumerate(self.node.handoffs, 1):
            span = handoff_span(h)
            if span is not None and span[0] - 1 <= ts <= span[1] + 1:
                return number
        return None

    def action_findings(self) -> None:
        """The findings screen."""
        report = self.report or self.interim
        if report is None:
            self.notify("the analysis is still running")
            return
        self.app.push_screen(FindingsScreen(report, so_far=self.report is None), self._findings_closed)

    async def _findings_closed(self, finding: Finding | None) -> None:
        await self.go_to_finding(finding)

    def action_packets(self) -> None:
        """The packet panes full screen (or back)."""
        if self.maximized is not None:
            self.minimize()
        elif self.source is not None:
            # the filter bar and the three panes together (a container Screen.maximize refuses)
            self.maximized = self.query_one("#packets-area")
            self.query_one(PacketPanes).packet_list.focus()

    def action_search(self) -> None:
        """Focus the node search box."""
        self.query_one("#node-search", Input).focus()

    def action_tab(self, step: int) -> None:
        """Switch to the previous or next tab."""
        tabs = self.query_one(TabbedContent)
        tabs.active = TABS[(TABS.index(tabs.active) + step) % len(TABS)]
        focused = self.focused
        if focused is not None and tabs in focused.ancestors:
            self.call_after_refresh(self._focus_tab)  # the focus goes along to the new tab

    def action_back(self) -> None:
        """Back: out of a maximized view, out of the filter bar, else to the node list."""
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        if isinstance(focused, Input) and focused.id == "filter-input" and self.source is not None:
            self.query_one(PacketPanes).packet_list.focus()
        else:
            self.query_one(NodeTable).focus()
