"""The mobile node list: always on the left; sortable, searchable.

Columns: the node (name or home address), where it is now (care-of address
or ``home``), handoffs, median registration time, packets lost to the old
care-of address, and a findings badge whose symbol says the worst severity
(``x`` error, ``!`` warning, ``i`` info), so nothing depends on colour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input

from ...render.summary_text import node_record
from ...report.model import MobileNode, Report

SEVERITY_SYMBOLS = {"error": "x", "warning": "!", "info": "i"}
COLUMNS = ("node", "now", "ho", "p50", "lost", "!")
# the keys that stay commands when the node table has the focus (others start a search)
COMMAND_KEYS = set("q?/gatefpjkos[]") | {"O"}


def current_care_of(node: MobileNode) -> str:
    """Where the node is at the end of the capture: its care-of address, or "home"."""
    homes = set(node.home_addresses or (node.home_address,))
    where = None
    if node.handoffs:
        where = node.handoffs[-1].to_care_of
    elif node.bindings:
        last = node.bindings[-1]
        where = None if last.ended_by == "deregistration" else last.care_of
    elif node.care_of_addresses:
        where = node.care_of_addresses[-1]
    return "home" if where is None or where in homes else str(where)


def short_care_of(now: str, node: MobileNode) -> str:
    """``now`` without the leading groups it shares with the home address
    (``2001:db8:3::100`` -> ``…:3::100``); ``home`` as is."""
    if now == "home":
        return now
    home = str(node.home_address).split(":")
    groups = now.split(":")
    same = 0
    while same < min(len(home), len(groups)) - 1 and groups[same] == home[same] and groups[same]:
        same += 1
    return "…:" + ":".join(groups[same:]) if same >= 2 else now


def findings_badge(node: MobileNode, report: Report) -> str:
    """``!3``: the worst severity's symbol and how many findings; ``-`` for none."""
    mine = set(node.home_addresses or (node.home_address,))
    found = [f.severity for f in report.findings if f.node in mine]
    for severity, symbol in SEVERITY_SYMBOLS.items():
        if severity in found:
            return f"{symbol}{len(found)}"
    return "-"


@dataclass(frozen=True)
class NodeRow:
    """One row of the node list, with sortable values."""

    node: MobileNode
    label: str
    now: str
    handoffs: int
    median_ms: float | None
    lost: int
    badge: str

    def cells(self) -> tuple[str, ...]:
        """The row's text, one cell a column."""
        return (self.label, short_care_of(self.now, self.node), str(self.handoffs),
                "-" if self.median_ms is None else f"{self.median_ms:.0f}", str(self.lost), self.badge)

    def sort_key(self, column: int) -> Any:
        """The value column ``column`` sorts by."""
        values = (self.label, self.now, self.handoffs,
                  -1.0 if self.median_ms is None else self.median_ms, self.lost,
                  (" xi!".find(self.badge[:1]) if self.badge != "-" else 0, self.badge))
        return values[column]

    def matches(self, text: str) -> bool:
        """Whether the search ``text`` is in the label, a home or care-of address."""
        text = text.lower()
        where = [self.label, self.now, *map(str, self.node.home_addresses or (self.node.home_address,)),
                 *map(str, self.node.care_of_addresses)]
        return any(text in w.lower() for w in where)


def node_rows(report: Report) -> list[NodeRow]:
    """The node list's rows, in the report's order."""
    rows = []
    for node in report.mobile_nodes:
        record = node_record(node, report)
        rows.append(NodeRow(node, node.name or str(node.home_address), current_care_of(node),
                            record["handoffs"], record["median_registration_ms"],
                            record["lost_to_old_care_of"], findings_badge(node, report)))
    return rows


class NodeTable(DataTable):
    """The node table: j/k move; other printable keys start a search."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("o", "sort_next", "Sort", tooltip="Sort by the next column"),
        Binding("O", "sort_reverse", "Reverse sort", show=False),
    ]

    class SearchStarted(Message):
        """A printable key was typed in the table: search for it."""

        def __init__(self, character: str) -> None:
            super().__init__()
            self.character = character

    def on_key(self, event: Any) -> None:
        """Printable keys that are not commands start the search."""
        if event.is_printable and event.character and event.character not in COMMAND_KEYS:
            event.stop()
            event.prevent_default()
            self.post_message(self.SearchStarted(event.character))

    def action_sort_next(self) -> None:
        """Sort by the next column."""
        parent = self.parent
        if isinstance(parent, NodeList):
            parent.sort_by((parent.sort_column + 1) % len(COLUMNS))

    def action_sort_reverse(self) -> None:
        """Reverse the sort order."""
        parent = self.parent
        if isinstance(parent, NodeList):
            parent.sort_by(parent.sort_column)


class NodeList(Vertical):
    """The search box and the node table; posts NodeList.NodeChosen as the cursor moves."""

    DEFAULT_CSS = """
    NodeList { border: round $primary; border-title-align: left; }
    NodeList > Input, NodeList > Input:focus { height: 1; border: none; padding: 0 1; background: $boost; }
    NodeList > NodeTable { height: 1fr; }
    """

    class NodeChosen(Message):
        """The user moved to (or searched for) ``node``."""

        def __init__(self, node: MobileNode) -> None:
            super().__init__()
            self.node = node

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.rows: list[NodeRow] = []
        self.sort_column = -1
        self.sort_reverse = False
        self.border_title = "Mobile nodes"

    def compose(self) -> ComposeResult:
        yield Input(placeholder="type to search", id="node-search", select_on_focus=False)
        table = NodeTable(cursor_type="row", zebra_stripes=False, id="node-table")
        table.add_columns(*COLUMNS)
        yield table

    @property
    def table(self) -> NodeTable:
        """The node table."""
        return self.query_one(NodeTable)

    def show_report(self, report: Report) -> None:
        """Fill the table from ``report`` (again as interim reports come:
        the search, the sort order and the node under the cursor are kept)."""
        rows = node_rows(report)
        same = [r.cells() for r in rows] == [r.cells() for r in self.rows]
        chosen = self.chosen()
        self.rows = rows
        self.border_title = f"Mobile nodes {len(self.rows):,}"
        if same and self.table.row_count:
            return  # nothing to redraw; the rows now hold the newer report's nodes
        self._fill(self._visible())
        if chosen is not None:
            self.select(chosen)

    def _visible(self) -> list[NodeRow]:
        text = self.query_one(Input).value.strip()
        rows = [r for r in self.rows if r.matches(text)] if text else list(self.rows)
        if self.sort_column >= 0:
            rows.sort(key=lambda r: r.sort_key(self.sort_column), reverse=self.sort_reverse)
        return rows

    def _fill(self, rows: Iterable[NodeRow]) -> None:
        table = self.table
        table.clear()
        number = {id(row): i for i, row in enumerate(self.rows)}
        for i, row in enumerate(rows):
            table.add_row(*row.cells(), key=str(number.get(id(row), i)))
        labels = list(COLUMNS)
        if self.sort_column >= 0:
            labels[self.sort_column] += " v" if self.sort_reverse else " ^"
        for column, label in zip(table.columns.values(), labels, strict=False):
            column.label = label  # type: ignore[assignment]
        table.refresh()

    def sort_by(self, column: int) -> None:
        """Sort by ``column`` (0-based); the same column again reverses the order."""
        self.sort_reverse = not self.sort_reverse if column == self.sort_column else False
        self.sort_column = column
        chosen = self.chosen()
        self._fill(self._visible())
        if chosen is not None:
            self.select(chosen)

    def chosen(self) -> MobileNode | None:
        """The node under the cursor."""
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows[int(key)].node if key is not None else None

    def select(self, node: MobileNode) -> bool:
        """Put the cursor on ``node`` (if shown)."""
        for i, row in enumerate(self.rows):
            if row.node is node or row.node.home_address == node.home_address:
                try:
                    index = self.table.get_row_index(str(i))
                except Exception:  # noqa: BLE001 - not shown under the current search
                    return False
                self.table.move_cursor(row=index)
                return True
        return False

    @on(DataTable.RowHighlighted, "#node-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.NodeChosen(self.rows[int(event.row_key.value)].node))

    @on(DataTable.HeaderSelected, "#node-table")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(event.column_index)

    @on(NodeTable.SearchStarted)
    def _search_started(self, event: NodeTable.SearchStarted) -> None:
        search = self.query_one(Input)
        search.value += event.character
        search.cursor_position = len(search.value)
        search.focus()

    @on(Input.Changed, "#node-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._fill(self._visible())

    @on(Input.Submitted, "#node-search")
    def _search_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()
