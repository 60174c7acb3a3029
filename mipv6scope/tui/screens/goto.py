"""Go to a frame: a one-line input for the frame number."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class GotoFrameScreen(ModalScreen[int | None]):
    """Ask for a frame number (1 to ``last``); dismisses with it, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    GotoFrameScreen { align: center middle; }
    GotoFrameScreen > Vertical { width: 50; height: auto; border: round $accent;
                                 background: $surface; padding: 0 1; }
    GotoFrameScreen Label { width: 100%; }
    """

    def __init__(self, last: int) -> None:
        super().__init__()
        self.last = last

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Go to frame (1 to {self.last:,}), Enter to go, Esc to cancel")
            yield Input(placeholder="frame number", type="integer", id="goto-input")
            yield Label("", id="goto-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            number = int(event.value)
        except ValueError:
            number = 0
        if not 1 <= number <= self.last:
            self.query_one("#goto-error", Label).update(f"x no frame {event.value!r}: 1 to {self.last:,}")
            return
        self.dismiss(number)

    def action_cancel(self) -> None:
        """Close without going anywhere."""
        self.dismiss(None)
