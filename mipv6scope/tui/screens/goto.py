"""Go to a frame: a one-line input for the frame number (``FILE:N`` with several files)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


def parse_target(text: str, counts: list[int]) -> tuple[int, int] | str:
    """(frame number, 0-based file) for ``N`` (the first file) or ``FILE:N``
    (files count from 1), given each file's frame count; else the error text."""
    text = text.strip()
    file_text, _, number_text = text.rpartition(":")
    try:
        file = int(file_text) - 1 if file_text else 0
        number = int(number_text)
    except ValueError:
        return f"x not a frame number: {text!r}"
    if not 0 <= file < len(counts):
        return f"x no file {file + 1}: 1 to {len(counts)}"
    if not 1 <= number <= counts[file]:
        where = f" in file {file + 1}" if len(counts) > 1 else ""
        return f"x no frame {number}{where}: 1 to {counts[file]:,}"
    return number, file


class GotoFrameScreen(ModalScreen[tuple[int, int] | None]):
    """Ask for a frame; dismisses with (number, file), or None. ``counts``:
    the frames of each file (one file: a plain number)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    GotoFrameScreen { align: center middle; }
    GotoFrameScreen > Vertical { width: 54; height: auto; border: round $accent;
                                 background: $surface; padding: 0 1; }
    GotoFrameScreen Label { width: 100%; }
    """

    def __init__(self, counts: list[int] | int) -> None:
        super().__init__()
        self.counts = [counts] if isinstance(counts, int) else list(counts)

    def compose(self) -> ComposeResult:
        with Vertical():
            if len(self.counts) == 1:
                yield Label(f"Go to frame (1 to {self.counts[0]:,}), Enter to go, Esc to cancel")
                yield Input(placeholder="frame number", restrict=r"[0-9]*", id="goto-input")
            else:
                yield Label(f"Go to frame: N (file 1) or FILE:N (files 1 to {len(self.counts)}), "
                            "Enter to go, Esc to cancel")
                yield Input(placeholder="frame number or FILE:N", restrict=r"[0-9:]*", id="goto-input")
            yield Label("", id="goto-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        target = parse_target(event.value, self.counts)
        if isinstance(target, str):
            self.query_one("#goto-error", Label).update(target)
            return
        self.dismiss(target)

    def action_cancel(self) -> None:
        """Close without going anywhere."""
        self.dismiss(None)
