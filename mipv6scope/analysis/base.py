"""The analyzer interface and event dispatch.

An analyzer is a class with handlers named after the events it wants, in
snake case: ``on_binding_update(self, event)`` receives `events.BindingUpdate`,
``on_data_packet`` receives `events.DataPacket`, and so on. At the end of the
pass the engine calls ``finish(end_ts)`` on every analyzer in order, then
``contribute(builder)``. Analyzers run in the order given, so a later one may
read an earlier one's state (handoffs read bindings and tunnels).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .. import events as ev
from ..report.builder import ReportBuilder


class Analyzer:
    """Base class: no handlers, nothing to contribute."""

    def finish(self, end_ts: float | None) -> None:
        """Close what is still open at the end of the capture (``end_ts``)."""

    def contribute(self, builder: ReportBuilder) -> None:
        """Add this analyzer's results to the report."""


def handler_name(event_class: type) -> str:
    """``BindingUpdate`` -> ``on_binding_update``."""
    return "on_" + re.sub(r"(?<!^)(?=[A-Z])", "_", event_class.__name__).lower()


EVENT_CLASSES: tuple[type, ...] = tuple(
    cls for cls in vars(ev).values()
    if isinstance(cls, type) and issubclass(cls, ev.Event) and cls not in (ev.Event, ev.MobilityMessage)
)


def dispatch_table(analyzers: Sequence[Analyzer]) -> dict[type, tuple[Callable[[ev.Event], None], ...]]:
    """Event class -> the bound handlers that want it, in analyzer order."""
    table: dict[type, tuple[Callable[[ev.Event], None], ...]] = {}
    for cls in EVENT_CLASSES:
        name = handler_name(cls)
        handlers = tuple(getattr(a, name) for a in analyzers if hasattr(a, name))
        if handlers:
            table[cls] = handlers
    return table
