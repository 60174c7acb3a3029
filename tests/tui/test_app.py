"""The terminal UI through Textual's Pilot: every path a user takes, on the
bundled handoff capture, plus the command's checks before the UI starts and
the proof that the core never loads textual."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("textual")

from mipv6scope.cli.main import cli  # noqa: E402
from mipv6scope.tui.app import MobilityApp  # noqa: E402
from mipv6scope.tui.screens.findings import FindingsScreen  # noqa: E402
from mipv6scope.tui.screens.help import KEYS, HelpScreen, help_text  # noqa: E402
from mipv6scope.tui.screens.main import MainScreen  # noqa: E402
from mipv6scope.tui.screenshot import until  # noqa: E402
from mipv6scope.tui.widgets.cache_view import CacheView  # noqa: E402
from mipv6scope.tui.widgets.filter_bar import FilterBar  # noqa: E402
from mipv6scope.tui.widgets.ladder import Ladder  # noqa: E402
from mipv6scope.tui.widgets.node_list import NodeList  # noqa: E402
from mipv6scope.tui.widgets.packet_panes import PacketPanes  # noqa: E402
from mipv6scope.tui.widgets.timeline import NodeTimeline  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HANDOFF = str(REPO / "sample_captures" / "scenario-handoff.pcap")
HOA = "2001:db8:1::100"
SIZE = (120, 40)


def ready(app: MobilityApp) -> Callable[[], bool]:
    """The index and the analysis are done, a node is selected and the packet
    list shows its frames."""
    def check() -> bool:
        main = app.main
        return (main.report is not None and main.source is not None and main.node is not None
                and main.view is not None and main.view.node is not None and main.shown == main.view)
    return check


async def open_app(pilot) -> MainScreen:
    await until(pilot, ready(pilot.app))
    return pilot.app.main


def test_the_app_opens_at_once_and_fills_in():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            assert isinstance(app.screen, MainScreen)  # up before any result
            main = await open_app(pilot)
            assert str(main.node.home_address) == HOA
            assert "4,006 frames" in str(main.query_one("#header").render())
            nodes = main.query_one(NodeList)
            assert nodes.table.row_count == 1
            assert [str(c) for c in nodes.table.get_row_at(0)][:3] == [HOA, "home", "3"]
            assert main.query_one("#progress").has_class("-done")
            # the packet list shows the node's frames: fewer than all of them
            panes = main.query_one(PacketPanes)
            assert panes.positions is not None and 0 < len(panes.positions) < len(main.source)
            await pilot.press("q")
        assert app.return_code == 0
    asyncio.run(run())


def test_node_timeline_ladder_frame_detail_hex():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            main = await open_app(pilot)
            await pilot.press("enter")  # into the node's tabs: the timeline
            assert main.query_one("#tabs").active == "timeline"
            assert isinstance(app.focused, NodeTimeline)
            await pilot.press("right_square_bracket")  # the ladder, the focus goes along
            ladder = main.query_one(Ladder)
            await until(pilot, lambda: app.focused is ladder)
            for _ in range(3):
                await pilot.press("down")
            message = ladder.messages[ladder.cursor]
            assert message.kind == "BU"
            await until(pilot, lambda: main.selected is not None and main.selected[0] == message.frame)
            panes = main.query_one(PacketPanes)
            assert panes.packet_list.positions[panes.packet_list.cursor] == message.frame - 1
            # the detail tree shows that frame (decoded in a worker); choosing a
            # field highlights its bytes
            detail = panes.detail
            await until(pilot, lambda: panes.shown == message.frame - 1)
            assert detail.find_node(f"Frame {message.frame}") is not None
            field = detail.find_node("Mobility Header")
            assert field is not None
            detail.focus()
            detail.select_detail_node(field)
            start, length = field.data.start, field.data.length
            await until(pilot, lambda: panes.hex_view.highlighted_offsets
                        == list(range(start, start + length)))
    asyncio.run(run())


def test_a_finding_jumps_to_its_node_and_frame():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            main = await open_app(pilot)
            await pilot.press("f")
            assert isinstance(app.screen, FindingsScreen)
            finding = app.screen.query_one("#findings-table").findings[0]
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, MainScreen))
            await until(pilot, lambda: main.selected is not None
                        and main.selected[0] == finding.frames[0])
            assert finding.node in main.node.home_addresses
    asyncio.run(run())


def test_moving_the_timeline_cursor_moves_the_cache():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            main = await open_app(pilot)
            cache = main.query_one(CacheView)
            await until(pilot, lambda: cache.at_ts is not None and cache.at_ts == main.cache_ts
                        and "entries" in str(cache.query_one("#cache-title").render()))
            before = cache.at_ts
            await pilot.press("enter")
            timeline = main.query_one(NodeTimeline)
            for _ in range(25):
                await pilot.press("right")
            assert timeline.cursor_ts > before
            await until(pilot, lambda: cache.at_ts == timeline.cursor_ts
                        and "entries" in str(cache.query_one("#cache-title").render()))
            table = cache.query_one("#cache-table")
            cells = [str(c) for c in table.get_row_at(0)]
            assert cells[0] == "cache" and cells[1] == HOA and cells[2] == "2001:db8:2::100"
            # t: the cache's instant becomes the selected frame's time
            ts = main.selected[1]
            await pilot.press("t")
            await until(pilot, lambda: cache.at_ts == ts)
            assert timeline.cursor_ts == ts
    asyncio.run(run())


def test_the_filter_narrows_the_list_and_a_bad_one_shows_an_error():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            main = await open_app(pilot)
            panes = main.query_one(PacketPanes)
            node_frames = len(panes.positions)
            await pilot.press("slash")
            await pilot.press(*"mip6.mhtype == 5")
            await pilot.press("enter")
            await until(pilot, lambda: main.shown is not None and main.shown.filter_text != "")
            kept = panes.positions
            assert 0 < len(kept) < node_frames
            assert all(main.source.decoded(i).mh["type"] == 5 for i in kept)
            # a bad expression: an error with a caret, nothing changes, no crash
            bar = main.query_one(FilterBar)
            bar.input.value = "mip6.mhtype == "
            bar.input.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert bar.has_class("-error")
            error = str(bar.query_one("#filter-error").render())
            assert "bad filter" in error and "^" in error
            assert panes.positions == kept
            # an empty filter shows the node's frames again; a shows all frames
            bar.input.value = ""
            await pilot.press("enter")
            await until(pilot, lambda: main.shown.filter_text == "")
            assert not bar.has_class("-error") and len(panes.positions) == node_frames
            await pilot.press("escape", "a")
            await until(pilot, lambda: main.shown.node is None)
            assert panes.positions is None
    asyncio.run(run())


def test_go_to_a_frame_outside_the_node_shows_all_frames():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            main = await open_app(pilot)
            outside = next(i + 1 for i in range(len(main.source))
                           if i not in set(main.query_one(PacketPanes).positions))
            await pilot.press("g")
            await pilot.press(*str(outside), "enter")
            await until(pilot, lambda: main.selected is not None and main.selected[0] == outside)
            assert main.shown.node is None
    asyncio.run(run())


def test_help_lists_every_key_and_closes():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            await open_app(pilot)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert isinstance(app.screen, MainScreen)
    asyncio.run(run())
    text = help_text()
    for key in ("/", "g", "t", "e", "q", "?", "Tab", "Enter", "Esc", "a", "f"):
        assert any(k.keys.startswith(key) or f" {key}" in f" {k.keys}" for k in KEYS), key
        assert key in text


def test_every_action_is_in_the_command_palette():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            await open_app(pilot)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            for key in KEYS:
                if key.action:
                    assert any(t.startswith(key.title) for t in titles), key.title
            # a palette command runs its action on the main screen
            command = next(c for c in app.get_system_commands(app.screen)
                           if c.title.startswith("Findings"))
            await command.callback()
            await pilot.pause()
            assert isinstance(app.screen, FindingsScreen)
    asyncio.run(run())


def test_export_writes_the_node_chart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            await open_app(pilot)
            await pilot.press("e")
            target = tmp_path / "scenario-handoff-2001_db8_1__100.html"
            await until(pilot, target.exists, timeout=60)
            assert "plotly" in target.read_text()[:5000].lower()
    asyncio.run(run())


def test_ctrl_c_quits_with_130_even_while_working():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+c")
        assert app.return_code == 130 and app.cancel.is_set()
    asyncio.run(run())


@pytest.mark.parametrize(("args", "code", "text"), [
    (["tui", "no-such-file.pcap"], 3, "no-such-file.pcap"),
    (["tui", str(REPO / "README.md")], 3, "README.md"),
    (["tui"], 2, "Missing argument"),
    (["tui", HANDOFF, "--from", "yesterday"], 2, "--from"),
])
def test_bad_input_fails_before_the_ui(args, code, text):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code
    assert text in result.output
    if code == 3:
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mipv6scope: ")


def test_help_documents_the_exit_codes():
    result = CliRunner().invoke(cli, ["tui", "--help"])
    assert result.exit_code == 0
    for code in ("0 ok", "2 usage", "3 unreadable", "130"):
        assert code in result.output


def test_the_core_imports_no_textual():
    code = ("import sys, mipv6scope.analysis.engine, mipv6scope.analysis.cache, mipv6scope.decode.stream,"
            "mipv6scope.capture.index, mipv6scope.report.model, mipv6scope.browse, mipv6scope.filter,"
            "mipv6scope.cli.main;"
            "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')];"
            "print(bad[:3]); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_type_to_search_sort_and_full_screen_packets():
    async def run() -> None:
        app = MobilityApp([HANDOFF])
        async with app.run_test(size=SIZE) as pilot:
            main = await open_app(pilot)
            nodes = main.query_one(NodeList)
            nodes.table.focus()
            await pilot.press("2", "0", "0", "1")  # typing in the list starts the search
            assert nodes.query_one("#node-search").value == "2001"
            assert nodes.table.row_count == 1
            await pilot.press("9")
            assert nodes.table.row_count == 0
            await pilot.press("backspace", "enter")
            assert nodes.table.row_count == 1 and app.focused is nodes.table
            await pilot.press("o")  # sort by the first column
            assert nodes.sort_column == 0 and "^" in str(nodes.table.ordered_columns[0].label)
            await pilot.press("p")
            assert main.maximized is not None
            await pilot.press("escape")
            assert main.maximized is None
    asyncio.run(run())
