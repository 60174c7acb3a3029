"""What a chart is asked for, and which mobile nodes that selects.

The builders (`sequence`, `timeline`, `handoffs`, `overview`, `mermaid`) are
pure functions of a `Report` and a `ChartOptions`; they raise `ChartInputError`
(one line, the CLI's exit 2) when the report cannot give what was asked:
no mobile node at all, a ``--mn`` that matches nothing, a ``--handoff`` the
node does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address

from ..report.model import MobileNode, Report

KINDS = ("sequence", "timeline", "handoffs", "overview")
DEFAULT_WINDOW_S = 3.0


class ChartInputError(ValueError):
    """The report cannot give the chart that was asked for (one-line message)."""


@dataclass(frozen=True)
class ChartOptions:
    """A chart request. ``mn`` holds home addresses or names as the user typed
    them; ``handoff`` is 1-based; times are epoch seconds."""

    kind: str = "sequence"
    mn: tuple[str, ...] = ()
    handoff: int | None = None
    window_s: float = DEFAULT_WINDOW_S
    from_ts: float | None = None
    to_ts: float | None = None
    width: int | None = None
    height: int | None = None
    title: str | None = None


def node_label(node: MobileNode) -> str:
    """A node as charts name it: its name, else its first home address."""
    return node.name or str(node.home_address)


def _matches(node: MobileNode, wanted: str) -> bool:
    if node.name is not None and node.name == wanted:
        return True
    try:
        address = IPv6Address(wanted.split("%", 1)[0])
    except ValueError:
        return False
    return address in (node.home_addresses or (node.home_address,))


def select_nodes(report: Report, options: ChartOptions) -> list[MobileNode]:
    """The nodes ``options.mn`` names (by home address or name), in the
    report's order; all nodes when it names none. Raises `ChartInputError`
    when the report has no mobile node or a name matches none."""
    if not report.mobile_nodes:
        raise ChartInputError("no mobile node in the capture: nothing to chart "
                              "(no Mobility Header, tunnel or home address option seen)")
    if not options.mn:
        return list(report.mobile_nodes)
    chosen: list[MobileNode] = []
    for wanted in options.mn:
        found = [n for n in report.mobile_nodes if _matches(n, wanted)]
        if not found:
            known = ", ".join(node_label(n) for n in report.mobile_nodes[:5])
            more = ", ..." if len(report.mobile_nodes) > 5 else ""
            raise ChartInputError(f"--mn {wanted}: no mobile node has this home address or name "
                                  f"(the capture has {known}{more})")
        chosen.extend(n for n in found if n not in chosen)
    return [n for n in report.mobile_nodes if n in chosen]
