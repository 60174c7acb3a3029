"""A large capture (written by the test: 200,000 frames) opens in the terminal
UI and its last frame is reachable from the packet list."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

pytest.importorskip("textual")

from mipv6scope.synth.story import write_story_capture  # noqa: E402
from mipv6scope.tui.app import MobilityApp  # noqa: E402
from mipv6scope.tui.screenshot import until  # noqa: E402
from mipv6scope.tui.widgets.packet_panes import PacketPanes  # noqa: E402

FRAMES = 200_000
SIZE = (120, 40)


def test_a_large_capture_opens_and_its_last_frame_is_reachable(tmp_path: Path) -> None:
    started = time.monotonic()
    capture = tmp_path / "large.pcap"
    write_story_capture(capture, FRAMES)

    async def run() -> None:
        app = MobilityApp([str(capture)])
        async with app.run_test(size=SIZE) as pilot:
            main = app.main

            def indexed() -> bool:
                return main.source is not None and bool(main.query(PacketPanes))

            def settled() -> bool:  # the analysis done, its node chosen, its frames shown
                report = main.report
                return (report is not None and (main.node is not None or not report.mobile_nodes)
                        and main.view is not None and main.shown == main.view)

            await until(pilot, indexed)
            assert len(main.source) == FRAMES  # type: ignore[arg-type]
            await until(pilot, settled)
            panes = main.query_one(PacketPanes)
            panes.packet_list.focus()
            await pilot.pause()
            if main.view is not None and main.view.node is not None:
                await pilot.press("a")  # every frame
            await until(pilot, settled)
            assert main.view is not None and main.view.node is None
            assert panes.positions is None
            await pilot.press("end")

            def at_last() -> bool:
                return (main.selected is not None and main.selected[0] == FRAMES
                        and panes.shown == FRAMES - 1 and panes.packet_list.pending == 0)

            await until(pilot, at_last)
            assert panes.packet_list.current_frame == FRAMES
            assert panes.detail.detail[0].label.startswith(f"Frame {FRAMES}:")
            assert panes.hex_view is not None
            await pilot.press("q")
        assert app.return_code == 0

    asyncio.run(run())
    assert time.monotonic() - started < 60
