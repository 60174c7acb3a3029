"""The help screen: every key, and what runs in the background."""

from __future__ import annotations

from typing import NamedTuple

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static


class Key(NamedTuple):
    """One key: what to press, the action it runs (``""``: a widget's own key) and what it does."""

    keys: str
    action: str
    title: str
    help: str


# Every key of the UI. Entries with an action are also the command palette's commands.
KEYS: tuple[Key, ...] = (
    Key("?", "help", "Help", "this screen: every key"),
    Key("q", "quit", "Quit", "quit (Ctrl-C too: exit status 130)"),
    Key("/", "filter", "Display filter", "edit the packet list's display filter (Enter applies, "
        "an empty filter clears it; same language as the CLI's -Y)"),
    Key("g", "goto", "Go to frame", "go to a frame number (FILE:N with several captures)"),
    Key("a", "toggle_all", "All frames / node's frames",
        "packet list: the selected node's frames, or all frames"),
    Key("t", "cache_time", "Cache at frame time", "set the cache's instant to the selected frame's time"),
    Key("e", "export", "Export chart", "write the node's sequence chart (its handoff's, when the "
        "timeline cursor is on one) to <capture>-<node>.html in the current directory"),
    Key("f", "findings", "Findings", "every finding; Enter jumps to its node and first frame"),
    Key("p", "packets", "Packets full screen", "the three packet panes full screen (again or Esc: back)"),
    Key("[ ]", "", "Previous / next tab", "switch the node's tab (Overview, Timeline, Ladder, Cache, "
        "Tunnels, RO, Findings)"),
    Key("o / O", "", "Sort nodes", "node list: sort by the next column / reverse (or click a header)"),
    Key("s", "search", "Search nodes", "node list: search by name or address (typing in the list "
        "starts a search too)"),
    Key("Tab / Shift-Tab", "", "Next / previous pane", "move between the panes"),
    Key("Enter", "", "Drill in", "node list: to its tabs; ladder row: its frame in the packet "
        "list; finding: its node and frame; detail tree: open/close"),
    Key("Esc", "back", "Back", "back: close this screen, leave the filter bar, restore the panes"),
    Key("arrows j k PgUp PgDn Home End", "", "Move",
        "move in lists and tables; in the timeline left/right move the cursor"),
    Key("+ / -", "", "Zoom", "timeline: zoom in / out"),
    Key("Ctrl-P", "", "Command palette", "every action by name"),
)

BACKGROUND = """\
In the background (the screen stays live; Ctrl-C or q quits at any time):
  - the captures are indexed (offset, length, time per frame), so the
    packet list can show any frame at once; the rows on screen and the
    selected frame are read and decoded by workers (rows show ... meanwhile);
  - all captures are analysed once (the same pass as mipv6scope report);
    the node list, overview and findings show the results so far about
    every second, the node's tabs fill in when it is done;
  - the node's frames are found with the display filter `mn == HOA`;
  - the binding caches are recomputed up to the timeline cursor's instant."""


def help_table() -> Table:
    """The keys as a two-column table (the description wraps in its column)."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column("key", style="bold", no_wrap=False, width=18)
    table.add_column("what it does", ratio=1)
    for key in KEYS:
        table.add_row(key.keys, key.help)
    return table


def help_text() -> str:
    """The help screen's text: the keys, one a line, then the background work."""
    width = max(len(k.keys) for k in KEYS)
    lines = ["Keys", ""] + [f"  {k.keys:<{width}}  {k.help}" for k in KEYS]
    return "\n".join(lines) + "\n\n" + BACKGROUND


class HelpScreen(ModalScreen[None]):
    """Every key; Esc, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss_help", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; max-width: 100%; height: auto; max-height: 90%;
                                  border: round $accent; background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "mipv6scope tui: help"
            yield Static("Keys\n")
            yield Static(help_table())
            yield Static("\n" + BACKGROUND, markup=False)
        yield Footer()

    def action_dismiss_help(self) -> None:
        """Close the help."""
        self.dismiss(None)
