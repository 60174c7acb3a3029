"""What the terminal UI does in the background, through Textual's Pilot: the
packet list draws placeholder rows that a worker fills in (the UI thread never
reads the capture, and scrolling on cancels the stale request); the node list
fills in from interim reports before the analysis ends; several captures are
browsed together, and the ladder and the findings reach frames of the second."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("textual")

from textual.app import App, ComposeResult  # noqa: E402

from mipv6scope.analysis import engine  # noqa: E402
from mipv6scope.browse import FrameSource  # noqa: E402
from mipv6scope.capture.index import FrameIndex  # noqa: E402
from mipv6scope.tui import workers  # noqa: E402
from mipv6scope.tui.app import MobilityApp  # noqa: E402
from mipv6scope.tui.screens.findings import FindingsScreen  # noqa: E402
from mipv6scope.tui.screens.main import MainScreen  # noqa: E402
from mipv6scope.tui.screenshot import until  # noqa: E402
from mipv6scope.tui.widgets.ladder import Ladder  # noqa: E402
from mipv6scope.tui.widgets.node_list import NodeList  # noqa: E402
from mipv6scope.tui.widgets.overview import Overview  # noqa: E402
from mipv6scope.tui.widgets.packet_list import PENDING, PacketList  # noqa: E402
from mipv6scope.tui.widgets.packet_panes import PacketPanes  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
HANDOFF = str(SAMPLES / "scenario-handoff.pcap")
AT_HA = str(SAMPLES / "scenario-handoff-vantage-ha.pcap")
AT_MN = str(SAMPLES / "scenario-handoff-vantage-mn.pcap")
SIZE = (120, 40)


class ListApp(App):
    """A packet list alone, full screen."""

    def __init__(self, source: FrameSource) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield PacketList(self.source)

    def on_mount(self) -> None:
        self.query_one(PacketList).focus()


def line_text(packet_list: PacketList, row: int) -> str:
    """The text drawn for ``row`` (the list's first rows are on screen)."""
    return packet_list.render_line(packet_list.header_lines + row - round(packet_list.scroll_offset.y)).text


class GatedReads:
    """FrameIndex.read_frame held until ``open`` is set; records who read what."""

    def __init__(self, index: FrameIndex) -> None:
        self.open = threading.Event()
        self.read: list[int] = []
        self.threads: set[threading.Thread] = set()
        self._real = index.read_frame
        index.read_frame = self  # type: ignore[method-assign]

    def __call__(self, i: int):
        self.threads.add(threading.current_thread())
        self.read.append(i)
        assert self.open.wait(20), "the test never let the read go"
        return self._real(i)


def test_a_row_is_a_placeholder_until_the_worker_has_decoded_it():
    async def run() -> None:
        with FrameSource.open(HANDOFF) as source:
            gate = GatedReads(source.index)
            app = ListApp(source)
            async with app.run_test(size=SIZE) as pilot:
                packet_list = app.query_one(PacketList)
                await until(pilot, lambda: gate.read)  # the worker is reading the first row
                first = line_text(packet_list, 0)
                # number and time come from the index; the rest waits for the decoder
                assert first.split()[1:4] == ["1", "0.000000", PENDING]
                assert packet_list.pending == packet_list.page_rows
                gate.open.set()
                await until(pilot, lambda: packet_list.pending == 0)
                row = source.row(0)
                text = line_text(packet_list, 0)
                assert text.split()[:4] == ["▶S", "1", "0.000000", row.source] and row.protocol in text
            assert threading.main_thread() not in gate.threads and gate.threads
    asyncio.run(run())


def test_scrolling_on_cancels_the_stale_request():
    async def run() -> None:
        with FrameSource.open(HANDOFF) as source:
            gate = GatedReads(source.index)
            app = ListApp(source)
            async with app.run_test(size=SIZE) as pilot:
                packet_list = app.query_one(PacketList)
                first_page = set(packet_list.visible_positions())
                await until(pilot, lambda: gate.read)  # held on the first row
                await pilot.press("end")
                await until(pilot, lambda: packet_list.requests >= 2)
                last_page = set(packet_list.visible_positions())
                assert len(source) - 1 in last_page and not first_page & last_page
                gate.open.set()
                await until(pilot, lambda: packet_list.pending == 0)
                # the first request stopped after the row it was reading
                assert set(gate.read) & first_page == {0}
                assert last_page <= set(gate.read)
    asyncio.run(run())


def test_the_ui_thread_never_reads_the_capture(monkeypatch):
    readers: set[threading.Thread] = set()
    real = FrameIndex.read_frame

    def read_frame(self, i):
        readers.add(threading.current_thread())
        return real(self, i)
    monkeypatch.setattr(FrameIndex, "read_frame", read_frame)

    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            await until(pilot, lambda: main.report is not None and main.view is not None
                        and main.view.node is not None and main.shown == main.view)
            panes = main.query_one(PacketPanes)
            panes.packet_list.focus()
            await pilot.press("a", "end", "up", "pageup")
            await until(pilot, lambda: panes.packet_list.pending == 0 and panes.shown is not None
                        and panes.shown == panes.packet_list.current_position)
    asyncio.run(run())
    assert readers and threading.main_thread() not in readers


def test_the_node_list_fills_in_before_the_analysis_ends(monkeypatch):
    """The analysis is held after its first interim report that has a node,
    until the test has seen that node on screen."""
    monkeypatch.setattr(engine, "PROGRESS_EVERY", 200)
    monkeypatch.setattr(workers, "SNAPSHOT_EVERY_S", 0.0)
    release = threading.Event()
    real = workers.analyze

    def held_analyze(paths, analyzers, progress=None, names=None, interim=None, vantage="auto"):
        def held(build):
            interim(build)
            if build().mobile_nodes:
                release.wait(30)
        return real(paths, analyzers, progress=progress, names=names, interim=held, vantage=vantage)
    monkeypatch.setattr(workers, "analyze", held_analyze)

    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            nodes = main.query_one(NodeList)
            try:
                await until(pilot, lambda: nodes.table.row_count == 1)
                assert main.report is None and main.interim is not None and main.snapshots
                # by frame 200 the node is bound to its first care-of address
                # (the truth file: BU frame 15, BA frame 16, next move at frame 1737)
                assert [str(c) for c in nodes.table.get_row_at(0)][:2] == ["2001:db8:1::100", "…:2::100"]
                overview = str(main.query_one(Overview).query_one("#overview-left").render())
                assert "so far: analysing" in overview
                assert not main.query_one("#progress").has_class("-done")
                assert "so far" in str(main.query_one("#node-header").render())
            finally:
                release.set()
            await until(pilot, lambda: main.report is not None and main.node is not None)
            assert nodes.table.row_count == 1
            assert [str(c) for c in nodes.table.get_row_at(0)][:3] == ["2001:db8:1::100", "home", "3"]
            assert "so far" not in str(main.query_one(Overview).query_one("#overview-left").render())
    asyncio.run(run())


def test_the_node_is_shown_when_the_final_report_has_the_interim_reports_rows(monkeypatch):
    """The node list keeps its rows when the final report's equal the last
    interim report's (no redraw, no new highlight): the node under the cursor,
    highlighted while only the interim report was there, is shown all the same."""
    monkeypatch.setattr(workers, "SNAPSHOT_EVERY_S", 0.0)
    release = threading.Event()
    real = workers.analyze

    def analyze_then_hold(paths, analyzers, progress=None, names=None, interim=None,
                          vantage="auto"):
        report = real(paths, analyzers, progress=progress, names=names, vantage=vantage)
        interim(lambda: report)  # an interim report with the final rows
        release.wait(30)
        return report
    monkeypatch.setattr(workers, "analyze", analyze_then_hold)

    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            try:
                await until(pilot, lambda: main.query_one(NodeList).chosen() is not None)
                await pilot.pause(0.2)  # the highlight's NodeChosen comes and goes
                assert main.report is None and main.node is None
            finally:
                release.set()
            await until(pilot, lambda: main.report is not None and main.node is not None)
            await until(pilot, lambda: main.view is not None and main.view.node is not None
                        and main.shown == main.view)
    asyncio.run(run())


def two_captures_ready(app: MobilityApp) -> Callable[[], bool]:
    def check() -> bool:
        main = app.main
        return (main.report is not None and main.source is not None and main.node is not None
                and main.view is not None and main.view.node is not None and main.shown == main.view)
    return check


def test_two_captures_a_ladder_row_of_the_second_file_shows_its_frame():
    async def run() -> None:
        app = MobilityApp([AT_HA, AT_MN])
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            await until(pilot, two_captures_ready(app))
            source = main.source
            with FrameIndex.build(AT_HA) as ha, FrameIndex.build(AT_MN) as mn:
                assert source.files == 2 and len(source) == len(ha) + len(mn)
                panes = main.query_one(PacketPanes)
                assert "5,882 frames" in str(panes.query_one("#packets-header").render())
                await pilot.press("enter", "right_square_bracket")
                ladder = main.query_one(Ladder)
                ladder.focus()
                row = next(i for i, m in enumerate(ladder.messages) if m.file == 1 and m.kind == "BU")
                message = ladder.messages[row]
                ladder.move_cursor(row)
                await until(pilot, lambda: main.selected is not None
                            and main.selected[::2] == (message.frame, 1))
                position = len(ha) + message.frame - 1
                assert source.position_of(message.frame, 1) == position
                assert panes.packet_list.current_position == position
                await until(pilot, lambda: panes.shown == position)
                assert panes.detail.find_node(f"Frame {message.frame}:") is not None
                assert panes.hex_view.data == mn.read_frame(message.frame - 1).data
                assert main.selected.ts == mn.ts[message.frame - 1]
                await until(pilot, lambda: panes.packet_list.pending == 0)
                text = line_text(panes.packet_list, panes.packet_list.cursor)
                assert f"2:{message.frame} " in text and "Binding Update" in text
    asyncio.run(run())


def test_two_captures_a_finding_in_the_second_file_jumps_there():
    # the home agent's capture second: its lost packets are frames of file 2
    async def run() -> None:
        app = MobilityApp([AT_MN, AT_HA])
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            await until(pilot, two_captures_ready(app))
            await pilot.press("f")
            assert isinstance(app.screen, FindingsScreen)
            finding = next(f for f in app.screen.query_one("#findings-table").findings
                           if f.code == "lost_to_old_care_of")
            table = app.screen.query_one("#findings-table")
            table.move_cursor(row=table.findings.index(finding))
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, MainScreen))
            await until(pilot, lambda: main.selected is not None and main.selected.file == 1)
            with FrameIndex.build(AT_HA) as ha:
                number = main.selected.number
                assert number in finding.frames and ha.ts[number - 1] == finding.ts
                panes = main.query_one(PacketPanes)
                await until(pilot, lambda: panes.shown == panes.packet_list.current_position)
                assert panes.hex_view.data == ha.read_frame(number - 1).data
    asyncio.run(run())


def test_go_to_a_frame_of_the_second_file():
    async def run() -> None:
        app = MobilityApp([AT_HA, AT_MN])
        async with app.run_test(size=SIZE) as pilot:
            main = app.main
            await until(pilot, two_captures_ready(app))
            await pilot.press("g", *"2:15", "enter")
            await until(pilot, lambda: main.selected is not None and main.selected[::2] == (15, 1))
            await pilot.press("g", *"3:1", "enter")
            error = str(app.screen.query_one("#goto-error").render())
            assert "no file 3" in error
    asyncio.run(run())
