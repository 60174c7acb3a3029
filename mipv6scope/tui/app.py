"""MobilityApp: the terminal UI of `mipv6scope tui`.

The app only holds the command's arguments and the cancel event the
background workers watch; the main screen does the work (see
`screens.main`). ``q`` quits (exit status 0), Ctrl-C too (130); both stop
the workers first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ..capture.index_store import IndexStore
from ..cli.output import AnalysisOptions
from .screens.help import KEYS, HelpScreen
from .screens.main import MainScreen

EXIT_INTERRUPTED = 130


class MobilityApp(App[None]):
    """Browse Mobile IPv6 captures by mobile node."""

    CSS_PATH = "app.tcss"
    TITLE = "mipv6scope"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, paths: list[str], options: AnalysisOptions | None = None,
                 index_store: IndexStore | None = None, save_index: bool = True) -> None:
        """``index_store``: where the captures' stored frame indexes are looked
        for (None: every capture is indexed from its file, nothing is stored);
        ``save_index``: store there the indexes built (large captures only)."""
        super().__init__()
        self.paths = [str(p) for p in paths]
        self.options = options or AnalysisOptions(None, None, {})
        self.index_store = index_store
        self.save_index = save_index
        self.cancel = threading.Event()
        self.sub_title = Path(self.paths[0]).name

    def get_default_screen(self) -> Screen:
        """The main screen is the first (and bottom) screen."""
        return MainScreen(self.paths, self.options, self.cancel, self.index_store, self.save_index)

    @property
    def main(self) -> MainScreen:
        """The main screen."""
        return self.screen_stack[0]  # type: ignore[return-value]

    async def action_quit(self) -> None:
        """Stop the background work and quit (exit status 0)."""
        self.cancel.set()
        self.exit(return_code=0)

    def action_interrupt(self) -> None:
        """Ctrl-C: stop the background work and quit with exit status 130."""
        self.cancel.set()
        self.exit(return_code=EXIT_INTERRUPTED)

    def action_help(self) -> None:
        """The help screen (every key)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def run_main_action(self, action: str) -> None:
        """Run ``action`` on the main screen (from the command palette), over
        any screen above it."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, MainScreen):
            self.pop_screen()
        await self.main.run_action(action)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's commands, then every action of the UI with its key."""
        yield from super().get_system_commands(screen)
        for key in KEYS:
            if not key.action or key.action in ("quit", "help"):
                continue
            yield SystemCommand(f"{key.title} ({key.keys})", key.help,
                                lambda action=key.action: self.run_main_action(action))
        yield SystemCommand("Help (?)", "every key", self.action_help)
