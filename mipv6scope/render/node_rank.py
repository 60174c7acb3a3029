"""Which mobile nodes a summary shows, and in what order: ``--top N``,
``--all`` and ``--sort handoffs|lost|findings|registration``.

Works on `summary_text.node_record` dicts. Every order is worst first (most
handoffs, most packets lost to an old care-of, most findings, slowest median
registration; a node with no registration last) and keeps the report's order
among equals, so the same capture always lists the same nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_TOP = 20
DEFAULT_SORT = "findings"
Record = dict[str, Any]

_KEYS: dict[str, Callable[[Record], float]] = {
    "handoffs": lambda r: r["handoffs"],
    "lost": lambda r: r["lost_to_old_care_of"],
    "findings": lambda r: r["findings"],
    "registration": lambda r: (r["median_registration_ms"]
                               if r["median_registration_ms"] is not None else float("-inf")),
}
SORT_KEYS = tuple(_KEYS)


@dataclass(frozen=True)
class NodeSelection:
    """The records to show, worst first, and how many were left out."""

    records: tuple[Record, ...]
    more: int
    sort: str


def select_nodes(records: Sequence[Record], top: int | None = DEFAULT_TOP,
                 sort: str = DEFAULT_SORT) -> NodeSelection:
    """The first ``top`` of ``records`` by ``sort`` (all of them when ``top`` is
    None). Raises ValueError for a sort key not in `SORT_KEYS`."""
    if sort not in _KEYS:
        raise ValueError(f"not a sort key: {sort!r} (one of {', '.join(SORT_KEYS)})")
    key = _KEYS[sort]
    ranked = sorted(records, key=lambda r: -key(r))  # sorted() is stable: report order among equals
    shown = ranked if top is None else ranked[:top]
    return NodeSelection(tuple(shown), len(ranked) - len(shown), sort)
