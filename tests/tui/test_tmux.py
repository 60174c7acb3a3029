"""End to end in a real terminal: `mipv6scope tui` in a detached tmux session
of fixed size; keys sent with send-keys, the screen read with capture-pane,
the exit status read from a file the shell writes after the command."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("textual")

REPO = Path(__file__).resolve().parents[2]
HOA = "2001:db8:1::100"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_tui_in_tmux(tmp_path):
    session = f"mipv6scope-test-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "status"
    command = (f"cd {REPO} && TERM=xterm-256color {sys.executable} -m mipv6scope tui "
               f"sample_captures/scenario-handoff.pcap; echo EXIT=$? > {status}")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    "sh", "-c", command], check=True)
    try:
        assert wait_for(lambda: HOA in screen(session) and "4,006 frames (0 malformed" in screen(session)), \
            screen(session)
        tmux("send-keys", "-t", session, "?")
        assert wait_for(lambda: "every key" in screen(session)), screen(session)
        tmux("send-keys", "-t", session, "Escape")
        assert wait_for(lambda: "every key" not in screen(session)), screen(session)
        tmux("send-keys", "-t", session, "f")
        assert wait_for(lambda: "lost_to_old_care_of" in screen(session)
                        and "Enter: go to its node" in screen(session)), screen(session)
        tmux("send-keys", "-t", session, "Escape")
        time.sleep(0.5)
        tmux("send-keys", "-t", session, "q")
        assert wait_for(lambda: status.exists() and "EXIT=" in status.read_text()), screen(session)
        assert status.read_text().strip() == "EXIT=0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
