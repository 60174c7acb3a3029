"""The README's screenshot of the terminal UI, which `mipv6scope samples` writes
beside the sample captures (``tui-main.svg``) and ``samples --check`` checks.

The app runs headless (`App.run_test`) at a fixed size on the handoff sample,
is driven like a user (into the node's timeline, the cursor moved on, a BU
chosen on the ladder, back to the timeline) and waits until every background
job is done and every row on screen is decoded, so nothing on the picture
depends on timing. Textual writes the SVG; what `screen_text` reads back from
it (the characters of each screen line) is what --check compares, since the
SVG's styling varies with the Textual version while the screen does not.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..outfile import write_atomic

SOURCE = "scenario-handoff.pcap"
SVG = "tui-main.svg"
SIZE = (120, 40)
TITLE = "mipv6scope tui scenario-handoff.pcap"
TIMEOUT_S = 60.0

_TEXT = re.compile(r'<text [^>]*clip-path="url\(#terminal-(?:[0-9a-z]+-)?line-(\d+)\)"[^>]*>([^<]*)</text>')


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
    """Let the app run until ``condition()`` holds (RuntimeError after ``timeout`` s);
    the Pilot tests wait with it too."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise RuntimeError(f"the terminal UI did not settle in {timeout:g} s: waiting for "
                               f"{getattr(condition, '__qualname__', condition)}")
        await pilot.pause(0.02)


def settled(app: Any) -> bool:
    """Everything the main screen waits for is on screen: the report, the
    node and its frames, the caches at the cursor, the packet rows on screen
    and the selected frame's tree and bytes."""
    main = app.main
    if not (main.report is not None and main.source is not None and main.node is not None
            and main.view is not None and main.view.node is not None and main.shown == main.view):
        return False
    cache = main.query("CacheView")
    if not cache or cache.first().at_ts != main.cache_ts or \
            "entries" not in str(cache.first().query_one("#cache-title").render()):
        return False
    panes = main.query("PacketPanes")
    if not panes:
        return False
    packet_list = panes.first().packet_list
    return packet_list.pending == 0 and panes.first().shown == packet_list.current_position


async def main_screen_scene(pilot: Any) -> None:
    """The README's scene: the node's timeline with its cursor in the first
    care-of binding, and a Binding Update chosen on the ladder below it."""
    app = pilot.app
    await until(pilot, lambda: settled(app))
    await pilot.press("enter")                       # into the node's tabs: the timeline
    for _ in range(20):
        await pilot.press("right")                   # the cursor into the first binding
    await pilot.press("right_square_bracket")        # the ladder
    app.main.query_one("Ladder").focus()
    for _ in range(3):
        await pilot.press("down")                    # its first BU, selected below
    await pilot.press("left_square_bracket")         # back to the timeline
    await pilot.pause()
    await until(pilot, lambda: settled(app))
    await pilot.pause()


async def _render(capture: str) -> str:
    from .app import MobilityApp

    app = MobilityApp([capture])
    async with app.run_test(size=SIZE) as pilot:
        await main_screen_scene(pilot)
        svg = app.export_screenshot(title=TITLE)
        await pilot.press("q")
    return svg


def render_main_svg(capture: str | Path) -> str:
    """The main screen on ``capture`` as Textual's SVG screenshot (OSError
    when the capture is missing, RuntimeError when the UI does not settle)."""
    if not Path(capture).is_file():
        raise FileNotFoundError(f"{capture} is missing (the screenshot is drawn from it)")
    return asyncio.run(_render(str(capture)))


def write_tui_sample(out_dir: str | Path) -> Path:
    """Write ``tui-main.svg`` (needs the handoff sample in ``out_dir``)."""
    out = Path(out_dir)
    path = out / SVG
    write_atomic(path, render_main_svg(out / SOURCE).encode("utf-8"))
    return path


def screen_text(svg: str) -> str:
    """The screen an SVG screenshot shows, as text: one line per terminal line."""
    lines: dict[int, list[str]] = {}
    for line, text in _TEXT.findall(svg):
        lines.setdefault(int(line), []).append(html.unescape(text).replace("\xa0", " "))
    return "\n".join("".join(lines.get(i, [])).rstrip() for i in range(max(lines, default=-1) + 1))


def tui_sample_stale(out_dir: str | Path) -> bool:
    """Whether ``tui-main.svg`` in ``out_dir`` is missing or shows another screen
    than the one the UI draws now."""
    path = Path(out_dir) / SVG
    if not path.is_file():
        return True
    now = render_main_svg(Path(out_dir) / SOURCE)
    return screen_text(path.read_text(encoding="utf-8", errors="replace")) != screen_text(now)
