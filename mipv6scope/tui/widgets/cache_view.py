"""The binding caches and binding update lists at one instant, as UMIP's
``bc``/``bul`` consoles show them, for the selected node: it follows the
timeline cursor, and ``t`` sets the instant to the selected frame's time."""

from __future__ import annotations

from ipaddress import IPv6Address

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from ...analysis.cache import BINDING_CACHE, CacheEntry, CacheSnapshot
from ...render.tabular import clock
from ...report.model import MobileNode

CACHE_COLUMNS = ("table", "home address", "care-of", "life left", "seq", "flags", "state", "retx",
                 "held by")


def node_entries(snapshot: CacheSnapshot, node: MobileNode) -> list[CacheEntry]:
    """The entries about ``node``: its bindings in any cache and its own update list."""
    homes = set(node.home_addresses or (node.home_address,))
    return [e for e in snapshot.entries if e.home_address in homes or e.owner in homes]


def entry_cells(entry: CacheEntry, names: dict[IPv6Address, str]) -> tuple[str, ...]:
    """One entry as the table's cells."""
    def who(address: IPv6Address) -> str:
        return names.get(address) or str(address)

    granted = entry.lifetime_granted_s
    left = f"{entry.lifetime_remaining_s:,.1f}/" + (f"{granted}" if granted is not None
                                                    else f"({entry.lifetime_requested_s})")
    table = "cache" if entry.table == BINDING_CACHE else "BUL"
    return (table, who(entry.home_address), str(entry.care_of), left, str(entry.seq),
            entry.flags or "-", entry.state, str(entry.resend_count), who(entry.owner))


class CacheView(Vertical):
    """A title with the instant, then one row per cache or list entry."""

    DEFAULT_CSS = """
    CacheView > #cache-title { height: 1; padding: 0 1; background: $boost; }
    CacheView > DataTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.at_ts: float | None = None

    def compose(self) -> ComposeResult:
        yield Static("no instant yet: move the timeline cursor or press t", id="cache-title")
        table = DataTable(cursor_type="row", id="cache-table")
        table.add_columns(*CACHE_COLUMNS)
        yield table

    def waiting(self, at_ts: float) -> None:
        """Say the caches at ``at_ts`` are being computed."""
        self.at_ts = at_ts
        self.query_one("#cache-title", Static).update(
            f"At {clock(at_ts)} UTC: reading the capture up to this instant...")

    def show(self, snapshot: CacheSnapshot, node: MobileNode | None,
             names: dict[IPv6Address, str]) -> None:
        """Show ``snapshot``'s entries about ``node`` (all when None)."""
        self.at_ts = snapshot.at_ts
        entries = list(snapshot.entries) if node is None else node_entries(snapshot, node)
        end = " (after the end of the capture)" if snapshot.reached_end else ""
        self.query_one("#cache-title", Static).update(
            f"At {clock(snapshot.at_ts)} UTC{end}: {len(entries)} entries  "
            "(cache: an HA's or CN's; BUL: the node's update list)")
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns(*CACHE_COLUMNS)
        for entry in entries:
            table.add_row(*entry_cells(entry, names))
        if not entries:
            table.add_row("-", "none held", *([""] * (len(CACHE_COLUMNS) - 2)))
