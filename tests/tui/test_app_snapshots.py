"""SVG snapshots of the main screens on the bundled handoff capture
(pytest-textual-snapshot; `pytest --snapshot-update` accepts new ones after
looking at them). Every screen is taken once the background work is done,
so nothing on it depends on timing."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytest_textual_snapshot")

from mipv6scope.tui.app import MobilityApp  # noqa: E402
from mipv6scope.tui.screenshot import settled, until  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HANDOFF = str(REPO / "sample_captures" / "scenario-handoff.pcap")


async def wait_ready(pilot, timeout: float = 20.0) -> None:
    """Until the index, the analysis, the node's frames, the caches, the rows
    on screen and the selected frame's tree are done (`screenshot.settled`)."""
    await until(pilot, lambda: settled(pilot.app), timeout)
    await pilot.pause()


async def timeline_with_cursor(pilot) -> None:
    """The node's timeline, its cursor moved into the first care-of binding."""
    await wait_ready(pilot)
    await pilot.press("enter")
    for _ in range(20):
        await pilot.press("right")
    await wait_ready(pilot)


async def findings_screen(pilot) -> None:
    await wait_ready(pilot)
    await pilot.press("f")
    await pilot.pause()


async def help_screen(pilot) -> None:
    await wait_ready(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


def test_main_screen(snap_compare):
    assert snap_compare(MobilityApp([HANDOFF]), terminal_size=(120, 40),
                        run_before=timeline_with_cursor)


def test_findings_screen(snap_compare):
    assert snap_compare(MobilityApp([HANDOFF]), terminal_size=(120, 40), run_before=findings_screen)


def test_help_screen(snap_compare):
    assert snap_compare(MobilityApp([HANDOFF]), terminal_size=(120, 40), run_before=help_screen)


def test_main_screen_80x24(snap_compare):
    assert snap_compare(MobilityApp([HANDOFF]), terminal_size=(80, 24),
                        run_before=timeline_with_cursor)
