"""The TUI widgets, each in a tiny App driven by Textual's Pilot: the packet
panes over scenario-handoff.pcap and a generated 200,000-frame capture, the
node timeline and the ladder against the report; SVG snapshots at 100x30."""

from __future__ import annotations

import asyncio
import functools
import time
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget

from mipv6scope.analysis.engine import analyze
from mipv6scope.browse import FrameSource
from mipv6scope.report.model import MobileNode, Report
from mipv6scope.synth.story import write_story_capture
from mipv6scope.tui.screenshot import until
from mipv6scope.tui.widgets import (
    HexView,
    Ladder,
    NodeTimeline,
    PacketDetail,
    PacketList,
    PacketPanes,
)
from mipv6scope.tui.widgets.timeline import LABEL_WIDTH

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
HANDOFF = SAMPLES / "scenario-handoff.pcap"
BIG_FRAMES = 200_000


class Harness(App):
    """One widget, full screen, and every message it posts."""

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget
        self.seen: list = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_mount(self) -> None:
        self.widget.focus()

    def on_packet_list_frame_selected(self, message: PacketList.FrameSelected) -> None:
        self.seen.append(message)

    def on_packet_panes_frame_selected(self, message: PacketPanes.FrameSelected) -> None:
        self.seen.append(message)

    def on_node_timeline_cursor_moved(self, message: NodeTimeline.CursorMoved) -> None:
        self.seen.append(message)

    def on_ladder_message_selected(self, message: Ladder.MessageSelected) -> None:
        self.seen.append(message)


@pytest.fixture(scope="module")
def report() -> Report:
    return analyze([str(HANDOFF)])


@pytest.fixture(scope="module")
def node(report: Report) -> MobileNode:
    return report.mobile_nodes[0]


@pytest.fixture()
def source():
    with FrameSource.open(HANDOFF) as src:
        yield src


@pytest.fixture(scope="module")
def big_source(tmp_path_factory):
    """A 200,000-frame capture: the home-registration story repeated."""
    path = tmp_path_factory.mktemp("big") / "big.pcap"
    write_story_capture(path, BIG_FRAMES)
    with FrameSource.open(path) as src:
        yield src


def sync(test):
    """Run an async test function to completion (no async pytest plugin needed)."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))
    return run


def strip_text(strip) -> str:
    return "".join(seg.text for seg in strip)


# -- packet list ---------------------------------------------------------------

@sync
async def test_packet_list_end_selects_the_last_frame(source):
    app = Harness(PacketList(source))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("end")
        await pilot.pause()
        plist = app.widget
        assert plist.current_frame == len(source) == 4006
        last = app.seen[-1]
        assert isinstance(last, PacketList.FrameSelected)
        assert (last.position, last.number, last.ts) == (4005, 4006, source.ts(4005))
        await pilot.press("home", "down", "j", "j", "k")
        await pilot.pause()
        assert plist.current_frame == 3
        await pilot.press("pagedown")
        assert plist.current_frame == 3 + plist.page_rows
        assert plist.select_frame(1500) and plist.current_frame == 1500
        await pilot.pause()
        assert app.seen[-1].number == 1500
        assert not plist.select_frame(999_999)


@sync
async def test_packet_list_click_selects_a_row(source):
    app = Harness(PacketList(source))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.seen.clear()
        # line 0 is the column header: line 4 is the fourth row, frame 4
        assert await pilot.click(PacketList, offset=(20, 4))
        await pilot.pause()
        assert app.widget.current_frame == 4
        assert app.seen and app.seen[-1].number == 4


@sync
async def test_packet_list_rows_carry_marker_and_colour_by_kind(source, report):
    lost = sorted({f for finding in report.findings if finding.code == "lost_to_old_care_of"
                   for f in finding.frames})
    source.set_lost(lost)
    plist = PacketList(source)
    app = Harness(plist)
    async with app.run_test(size=(120, 30)) as pilot:
        tunnelled = next(i for i in range(len(source))
                         if source.kind(i) == "tunnelled")
        data = next(i for i in range(len(source)) if source.kind(i) == "data")
        expect = {64: ("S", "signalling"), lost[0] - 1: ("L", "lost"),
                  tunnelled: ("T", "tunnelled"), data: (" ", "data")}
        styles = {}
        for position, (marker, kind) in expect.items():
            plist.move_cursor(position)  # on screen: the row worker decodes it
            await until(pilot, lambda: plist.pending == 0)
            strip = plist.render_row(position, 118, False)
            text = strip_text(strip)
            assert text[1] == marker, (position, text)
            row = source.row(position)
            assert f" {row.number} " in text and row.protocol in text
            assert row.info[:20] in text
            styles[kind] = list(strip)[0].style
        # each kind its own colour, and the plain data rows the widget's own
        colours = {kind: style.color for kind, style in styles.items()}
        assert len(set(colours.values())) == 4
        selected = strip_text(plist.render_row(64, 118, True))
        assert selected.startswith("▶S")
        header = strip_text(plist.render_header(0, 118))
        for title in ("No.", "Time", "Source", "Destination", "Proto", "Info"):
            assert title in header


@sync
async def test_packet_list_shows_only_given_positions(source):
    app = Harness(PacketList(source))
    async with app.run_test(size=(100, 30)) as pilot:
        plist = app.widget
        plist.select_frame(16)
        plist.show_positions([4, 14, 15, 1191, 1192])
        await pilot.pause()
        assert plist.row_count == 5
        assert plist.current_frame == 16  # kept: it is among them
        await pilot.press("end")
        assert plist.current_frame == 1193
        plist.show_positions([0, 1])
        assert plist.current_frame == 1
        plist.show_positions(None)
        assert plist.row_count == len(source)


@sync
async def test_a_200k_frame_capture_reaches_its_last_frame_quickly(big_source):
    app = Harness(PacketList(big_source))
    async with app.run_test(size=(100, 30)) as pilot:
        start = time.perf_counter()
        await pilot.press("end")
        await pilot.pause()
        elapsed = time.perf_counter() - start
        plist = app.widget
        assert plist.current_frame == BIG_FRAMES
        assert app.seen[-1].number == BIG_FRAMES
        assert elapsed < 5.0
        # only what was on screen got decoded
        assert big_source.cached < 200
        await pilot.press("home")
        await pilot.pause()
        assert plist.current_frame == 1


# -- detail and bytes ----------------------------------------------------------

@sync
async def test_detail_shows_the_mh_fields_and_highlights_their_bytes(source):
    panes = PacketPanes(source)
    app = Harness(panes)
    async with app.run_test(size=(100, 30)) as pilot:
        assert panes.select_frame(65)  # the first Binding Update, after the home call
        await until(pilot, lambda: panes.shown == 64)  # decoded in a worker
        assert app.seen[-1].number == 65
        detail = panes.query_one(PacketDetail)
        hex_view = panes.query_one(HexView)
        labels = [n.data.label for n in detail.root.children]
        assert "Mobile IPv6 (Binding Update)" in labels
        assert hex_view.data == source.raw(64)
        seq = detail.find_node("Sequence number")
        assert seq is not None and seq.data.label == "Sequence number: 1"
        detail.select_detail_node(seq)
        await pilot.pause()
        await pilot.pause()
        assert detail.cursor_node is seq
        start, length = seq.data.start, seq.data.length
        assert (start, length) == (84, 2)
        assert hex_view.highlighted_offsets == [84, 85]
        # the highlighted line is marked in the gutter, so it shows without colour
        marked = [strip_text(hex_view.render_line(y)) for y in range(hex_view.size.height)]
        assert any(line.startswith("» ") for line in marked)
        # moving in the tree moves the highlight
        await pilot.press("down")
        await pilot.pause()
        nxt = detail.cursor_node.data
        assert hex_view.highlighted_offsets == list(range(nxt.start, nxt.end))


@sync
async def test_panes_header_counts_shown_frames(source):
    panes = PacketPanes(source)
    app = Harness(panes)
    async with app.run_test(size=(80, 24)) as pilot:
        header = panes.query_one("#packets-header")
        assert str(header.render()).startswith("4,006 of 4,006 frames")
        panes.show_positions([14, 15])
        await pilot.pause()
        assert str(header.render()).startswith("2 of 4,006 frames")
        assert not panes.select_frame(1)
        assert panes.select_frame(16)


# -- timeline ------------------------------------------------------------------

@sync
async def test_timeline_cursor_zoom_and_bands(report, node):
    timeline = NodeTimeline(report, node)
    app = Harness(timeline)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        first = report.capture.first_ts
        assert timeline.cursor_ts == first
        step = timeline.seconds_per_column
        await pilot.press("right")
        await pilot.pause()
        assert app.seen[-1].ts == pytest.approx(first + step)
        await pilot.press("right", "right", "left")
        await pilot.pause()
        assert app.seen[-1].ts == pytest.approx(first + 2 * step)
        assert timeline.column_of(app.seen[-1].ts) == 2
        span = timeline.view[1] - timeline.view[0]
        await pilot.press("plus")
        assert timeline.view[1] - timeline.view[0] == pytest.approx(span / 2)
        assert timeline.seconds_per_column == pytest.approx(step / 2)
        await pilot.press("minus")
        assert timeline.view[1] - timeline.view[0] == pytest.approx(span)
        # one band per care-of address the home agent bound
        bound = list(dict.fromkeys(b.care_of for b in node.bindings if b.kind == "home"))
        assert timeline.band_addresses() == bound
        lines = [strip_text(s) for s in timeline.render_lines_list()]
        for care_of in bound:
            band = next(line for line in lines if line.startswith(str(care_of) + " "))
            assert "█" in band
        moves = next(line for line in lines if line.startswith("moves"))
        assert "▲1" in moves and "▲2" in moves
        assert any(line.startswith("findings") and "!" in line for line in lines)
        # set_cursor: attributes down, no message unless asked
        count = len(app.seen)
        ba = node.handoffs[1].ba_ts
        timeline.set_cursor(ba)
        assert timeline.cursor_ts == ba and len(app.seen) == count
        assert "2001:db8:3::100" in timeline.status_text()


@sync
async def test_timeline_click_moves_the_cursor(report, node):
    timeline = NodeTimeline(report, node)
    app = Harness(timeline)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click(NodeTimeline, offset=(LABEL_WIDTH + 30, 3))
        await pilot.pause()
        assert timeline.column_of(timeline.cursor_ts) == 30
        assert app.seen[-1].ts == timeline.cursor_ts


# -- ladder --------------------------------------------------------------------

@sync
async def test_ladder_one_row_per_message_and_selection(report, node):
    ladder = Ladder(report, node)
    app = Harness(ladder)
    messages = report.signalling_of(node)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert ladder.row_count == len(messages) == 18
        assert app.seen[-1].frame == messages[0].frame
        await pilot.press("down", "down", "down")
        await pilot.pause()
        selected = app.seen[-1]
        assert isinstance(selected, Ladder.MessageSelected)
        assert (selected.frame, selected.file, selected.ts) == (
            messages[3].frame, messages[3].file, messages[3].ts)
        assert messages[3].kind == "BU"
        await pilot.press("end")
        await pilot.pause()
        assert app.seen[-1].frame == messages[-1].frame
        assert await pilot.click(Ladder, offset=(30, 1 + 4))
        await pilot.pause()
        assert app.seen[-1].frame == messages[4].frame
        assert ladder.select_frame(messages[7].frame)
        await pilot.pause()
        assert app.seen[-1].frame == messages[7].frame
        width = ladder.scrollable_content_region.width
        bu = strip_text(ladder.render_row(3, width, False))
        ba = strip_text(ladder.render_row(4, width, False))
        assert "──▶" in bu and "BU seq=1" in bu
        assert "◀──" in ba and "BA seq=1 accepted" in ba
        header = strip_text(ladder.render_header(0, width))
        assert "MN" in header and "HA1" in header
        footer = strip_text(ladder.render_footer(0, width))
        assert f"frame {messages[7].frame}" in footer


# -- snapshots (100x30, scenario-handoff.pcap) ---------------------------------

def test_snapshot_packet_panes(snap_compare, source):
    async def select(pilot) -> None:
        panes = pilot.app.widget
        panes.select_frame(65)
        await until(pilot, lambda: panes.shown == 64 and panes.packet_list.pending == 0)
        detail = panes.query_one(PacketDetail)
        detail.select_detail_node(detail.find_node("Sequence number"))
        detail.focus()
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(Harness(PacketPanes(source)), terminal_size=(100, 30), run_before=select)


def test_snapshot_node_timeline(snap_compare, report, node):
    async def move(pilot) -> None:
        await pilot.press(*["right"] * 40, "plus")
        await pilot.pause()

    assert snap_compare(Harness(NodeTimeline(report, node)), terminal_size=(100, 30),
                        run_before=move)


def test_snapshot_ladder(snap_compare, report, node):
    async def move(pilot) -> None:
        await pilot.press("down", "down", "down")
        await pilot.pause()

    assert snap_compare(Harness(Ladder(report, node)), terminal_size=(100, 30), run_before=move)
