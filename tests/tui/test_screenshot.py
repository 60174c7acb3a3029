"""The README's screenshot of the terminal UI (`tui-main.svg`), which
`mipv6scope samples` writes and `samples --check` checks by the screen it shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("textual")

from mipv6scope.tui import screenshot  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"

TINY = """<svg><g clip-path="url(#terminal-clip-terminal)">
<text class="terminal-r1" x="0" y="20" textLength="24.4" clip-path="url(#terminal-123-line-0)">&#160;a</text>
<text class="terminal-r2" x="24.4" y="20" textLength="12.2" clip-path="url(#terminal-123-line-0)">&gt;</text>
<text class="terminal-r1" x="0" y="44" textLength="12.2" clip-path="url(#terminal-123-line-2)">b&#160;</text>
</g></svg>"""


def test_screen_text_reads_the_lines_back():
    assert screenshot.screen_text(TINY) == " a>\n\nb"


def test_the_committed_screenshot_shows_the_main_screen():
    text = screenshot.screen_text((SAMPLES / screenshot.SVG).read_text()).splitlines()
    assert len(text) == screenshot.SIZE[1]
    assert text[0].startswith(" mipv6scope  scenario-handoff.pcap  4,006 frames (0 malformed, 0 skipped)")
    assert "Mobile nodes 1" in text[1] and "Timeline" in text[2]
    assert any("Binding Update seq=1" in line and "▶S" in line for line in text)


def test_the_check_compares_the_screen(tmp_path):
    shutil.copy(SAMPLES / screenshot.SOURCE, tmp_path)
    assert screenshot.tui_sample_stale(tmp_path)  # no screenshot yet
    svg = (SAMPLES / screenshot.SVG).read_text()
    (tmp_path / screenshot.SVG).write_text(svg)
    assert not screenshot.tui_sample_stale(tmp_path)
    (tmp_path / screenshot.SVG).write_text(svg.replace("4,006&#160;frames", "3,957&#160;frames", 1))
    assert screenshot.tui_sample_stale(tmp_path)
