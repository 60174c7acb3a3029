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
from dataclasses import fields
from operator import attrgetter

from .. import events as ev
from ..report.builder import ReportBuilder
from .routes import Route


class Analyzer:
    """Base class: no handlers, nothing to contribute."""

    def finish(self, end_ts: float | None) -> None:
        """Close what is still open at the end of the capture (``end_ts``)."""

    def contribute(self, builder: ReportBuilder) -> None:
        """Add this analyzer's results to the report."""

    def capture_vantage(self) -> tuple[str, str] | None:
        """(where the capture was taken, why) if this analyzer tells it, else None."""
        return None


DataHandler = Callable[[tuple], None]

# A DataPacket's fields as the tuple the engine's fast path hands out
# (the order of the dataclass fields; `classify.data_fields` builds the same,
# and appends the packet's `routes.Route`).
data_packet_fields = attrgetter(*(f.name for f in fields(ev.DataPacket)))


class DataAnalyzer(Analyzer):
    """An analyzer that takes data packets as field tuples, the engine's fast
    path: subclasses define ``tunnelled_data(t)`` (IPv6-in-IPv6),
    ``route_optimised_data(t)`` (a Home Address option or a type 2 routing
    header) and/or ``plain_data(t)`` (the rest); route-optimised packets go to
    ``plain_data`` when there is no ``route_optimised_data``. A DataPacket
    event (from the full decoder, or a test) reaches the same methods through
    ``on_data_packet``."""

    tunnelled_data: DataHandler | None = None
    route_optimised_data: DataHandler | None = None
    plain_data: DataHandler | None = None

    def on_data_packet(self, event: ev.DataPacket) -> None:
        """Hand the event's fields to the handler for its kind."""
        handler = data_handler(self, event.tunnelled, event.hao is not None or event.rh2 is not None)
        if handler is not None:
            handler(data_packet_fields(event) + (Route(),))


def data_handler(analyzer: DataAnalyzer, tunnelled: bool, route_optimised: bool) -> DataHandler | None:
    """The handler of ``analyzer`` for one kind of data packet, or None."""
    if tunnelled:
        return analyzer.tunnelled_data
    if route_optimised and analyzer.route_optimised_data is not None:
        return analyzer.route_optimised_data
    return analyzer.plain_data


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
