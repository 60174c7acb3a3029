"""Read-only tables of a node's rows (tunnels, route optimisation) from
`render.views_text`, so the terminal shows the same figures as the CLI views."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv6Address
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable

from ...render.tabular import clock
from ...render.views_text import ro_rows, tunnel_rows
from ...report.model import MobileNode, Report

Row = dict[str, Any]


@dataclass(frozen=True)
class Col:
    """One column: the row key, its header and how a value shows."""

    key: str
    label: str
    show: Callable[[Any], str] = str


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _n(value: Any) -> str:
    return f"{value:,}"


TUNNEL_COLUMNS = (Col("home_agent", "home agent"), Col("care_of", "care-of"),
                  Col("start_ts", "start", clock), Col("end_ts", "end", clock),
                  Col("to_mn_packets", "to MN", _n), Col("to_mn_bytes", "bytes", _n),
                  Col("from_mn_packets", "from MN", _n), Col("from_mn_bytes", "bytes", _n),
                  Col("outside_binding_packets", "outside binding", _n),
                  Col("inner_flows", "flows", _n))
RO_COLUMNS = (Col("correspondent", "correspondent"), Col("state", "state now"),
              Col("transitions", "transitions", lambda v: str(len(v))),
              Col("rr_latency_ms", "RR ms", _ms), Col("packets_direct", "direct", _n),
              Col("packets_tunnelled", "via HA", _n),
              Col("transitions", "last change", lambda v: f"{clock(v[-1]['ts'])} {v[-1]['state']}"
                  if v else "-"))


def _homes(node: MobileNode) -> set[str]:
    return {str(a) for a in node.home_addresses or (node.home_address,)}


def node_tunnel_rows(report: Report, node: MobileNode) -> list[Row]:
    """The `tunnels` rows of ``node`` (any of its home addresses)."""
    homes = _homes(node)
    return [r for r in tunnel_rows(report) if r["home_address"] in homes]


def node_ro_rows(report: Report, node: MobileNode) -> list[Row]:
    """The `ro` rows of ``node``."""
    homes = _homes(node)
    return [r for r in ro_rows(report) if r["node"] in homes]


def named(address: str | None, names: dict[IPv6Address, str]) -> str:
    """``name (address)`` when ``address`` is named, else the address."""
    if address is None:
        return "-"
    name = names.get(IPv6Address(address))
    return f"{name} ({address})" if name else address


class RowsTable(DataTable):
    """A DataTable filled from view rows and column specs; j/k move."""

    BINDINGS = [Binding("j", "cursor_down", "Down", show=False),
                Binding("k", "cursor_up", "Up", show=False)]

    def __init__(self, columns: Sequence[Col], empty: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(cursor_type="row", id=id)
        self.specs = tuple(columns)
        self.empty = empty

    def show_rows(self, rows: Iterable[Row], names: dict[IPv6Address, str] | None = None) -> None:
        """Replace the rows; addresses named by ``names``."""
        names = names or {}
        self.clear(columns=True)
        self.add_columns(*(c.label for c in self.specs))
        count = 0
        for row in rows:
            cells = []
            for col in self.specs:
                value = row.get(col.key)
                if col.key in ("home_agent", "care_of", "correspondent"):
                    cells.append(named(value, names))
                else:
                    cells.append(col.show(value) if value is not None else "-")
            self.add_row(*cells)
            count += 1
        if not count:
            self.add_row(self.empty, *([""] * (len(self.specs) - 1)))
