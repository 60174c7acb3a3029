"""The selected node's title line: name, home address, home agent, where it is now."""

from __future__ import annotations

from textual.widgets import Static

from ...report.model import MobileNode, Report
from .node_list import current_care_of, findings_badge


def node_title(node: MobileNode, report: Report) -> str:
    """``car-17  2001:db8:100::17  HA 2001:db8:100::1  now 2001:db8:307::17  !2``."""
    names = report.node_names()
    parts = [node.name or "", str(node.home_address)]
    if node.other_home_addresses:
        parts.append("+ " + ", ".join(map(str, node.other_home_addresses)))
    if node.home_agent is not None:
        ha = names.get(node.home_agent)
        parts.append(f"HA {ha + ' ' if ha else ''}{node.home_agent}")
    parts.append(f"now {current_care_of(node)}")
    parts.append(f"{len(node.handoffs)} handoffs")
    badge = findings_badge(node, report)
    if badge != "-":
        parts.append(f"findings {badge}")
    return "  ".join(p for p in parts if p)


class NodeHeader(Static):
    """One line naming the selected node (or saying none is)."""

    DEFAULT_CSS = """
    NodeHeader { height: 1; padding: 0 1; background: $primary-background; text-style: bold; }
    """

    def show(self, node: MobileNode | None, report: Report | None, so_far: bool = False) -> None:
        """Name ``node`` (None: no node selected yet); ``so_far``: ``report``
        is an interim report, the node's tabs wait for the final one."""
        if node is None or report is None:
            self.update("no mobile node selected" if report is not None and not so_far
                        else "analysing...")
        else:
            self.update(node_title(node, report) + ("  (so far; its tabs fill in when the "
                                                    "analysis is done)" if so_far else ""))
