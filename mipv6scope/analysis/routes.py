"""What the analyzers remember per route, so a flow's packets skip repeated lookups.

The fast path (`classify.data_fields`) hands each data packet to the
analyzers as a field tuple whose last element is a `Route`: one object per
distinct run of the header bytes it read (so per flow and packet size), shared
by every packet with those bytes. An analyzer files what it derived from the
packet's addresses (the tunnel it counts in, the node it belongs to) under its
own key in the route, and checks on the next packet that the entry is still
valid instead of hashing the addresses again. Entries must only hold what
depends on the route's header bytes and on state the analyzer can check
cheaply; a packet built from a decoded event gets a fresh, empty route.
"""

from __future__ import annotations


class Route(dict):
    """Per-route memo: analyzer (or any key it picks) -> what it remembers.
    Hashes and compares by identity, so a field tuple holding one stays hashable."""

    __slots__ = ()
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __repr__(self) -> str:
        return f"<Route {id(self):#x}: {len(self)} entries>"
