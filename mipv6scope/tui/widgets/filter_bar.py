"""The display filter bar over the packet list (``/``), in the CLI's ``-Y``
language (`mipv6scope.filter`). A bad expression shows its error with a caret
under the position, never an exception."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from ...report.model import Report


def check_expression(text: str, report: Report | None = None) -> str | None:
    """None when ``text`` compiles (or is empty) and every ``mn`` value names a
    node of ``report``; else the error and, on the next lines, the expression
    with a caret under the position."""
    if not text.strip():
        return None
    from ...filter import FilterContext, FilterError, compile_filter

    try:
        compiled = compile_filter(text)
        if report is not None and compiled.needs_analysis:
            compiled.check_nodes(FilterContext.from_report(report))
    except FilterError as exc:
        return f"{exc}\n{exc.caret(text)}"
    return None


class FilterBar(Vertical):
    """``filter: [expression]  what it shows``, and an error line when the
    expression is bad. Posts FilterBar.Applied with a valid expression."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar > Horizontal { height: 1; }
    FilterBar #filter-prompt { width: auto; padding: 0 1; background: $boost; }
    FilterBar Input, FilterBar Input:focus { height: 1; border: none; padding: 0 1; width: 1fr; }
    FilterBar Input.-bad { background: $error 30%; }
    FilterBar #filter-status { width: auto; padding: 0 1; }
    FilterBar #filter-error { height: auto; color: $text-error; padding: 0 1; display: none; }
    FilterBar.-error #filter-error { display: block; }
    """

    report: Report | None = None  # set by the screen once the analysis is done

    class Applied(Message):
        """The user applied the valid expression ``text`` ('' clears the filter)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("Packets  filter:", id="filter-prompt")
            yield Input(placeholder="/ to filter: mip6.mhtype == 5, ipv6.addr == ..., mn == ..., tunnel",
                        id="filter-input")
            yield Label("", id="filter-status")
        yield Static("", id="filter-error")

    @property
    def input(self) -> Input:
        """The expression input."""
        return self.query_one("#filter-input", Input)

    def show_status(self, text: str) -> None:
        """What the list shows (``412 of 3,956 frames  node 2001:db8:1::100``)."""
        self.query_one("#filter-status", Label).update(text)

    def show_error(self, error: str | None) -> None:
        """Show ``error`` under the bar (None hides it)."""
        self.set_class(error is not None, "-error")
        self.input.set_class(error is not None, "-bad")
        if error is not None:  # the expression and its caret line up under the input's text
            first, *rest = error.split("\n")
            indent = " " * (len(str(self.query_one("#filter-prompt", Label).render())) + 1)
            error = "\n".join([f"x bad filter: {first}", *(indent + line for line in rest)])
        self.query_one("#filter-error", Static).update("" if error is None else error)

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = check_expression(event.value, self.report)
        self.show_error(error)
        if error is None:
            self.post_message(self.Applied(event.value.strip()))
