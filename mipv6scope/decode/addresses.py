"""Shared IPv6 address objects: one per distinct address, with its hash kept.

A capture holds few distinct addresses but every frame names several, and the
analyzers hash them per packet (dict keys). `address` returns the same
`Address` object for the same 16 bytes (bounded cache), so lookups mostly hit
the identity shortcut, and `Address.__hash__` and its text are computed
once. An `Address` is an `ipaddress.IPv6Address`: equal to, and hashing like,
a plain one, and its text is the same (the C library's ``inet_ntop``, several
times faster, except where that writes a dotted IPv4 tail, which
``ipaddress`` does not: there ``ipaddress``'s). `network` does the same for
the prefixes Router Advertisements repeat ("addr/len" text -> one shared
`IPv6Network`).
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv6Address, IPv6Network
from socket import AF_INET6, inet_ntop
from sys import getrefcount


class Address(IPv6Address):
    """An IPv6Address whose hash and text are computed once."""

    __slots__ = ("_hash", "_text")

    def __init__(self, address: object) -> None:
        if type(address) is bytes and len(address) == 16:  # what the decoder gives
            self._ip = int.from_bytes(address, "big")  # as IPv6Address.__init__ reads it
            self._scope_id = None
        else:
            super().__init__(address)
        self._hash = hash((self._ip, self._scope_id))  # IPv6Address.__hash__
        self._text: str | None = None

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = inet_ntop(AF_INET6, self._ip.to_bytes(16, "big"))
            if "." in text or self._scope_id is not None:
                text = IPv6Address.__str__(self)
            self._text = text
        return text

    def __eq__(self, other: object) -> bool:
        # IPv6Address.__eq__ (via _BaseAddress.__eq__) inlined: one frame, not three.
        if self is other:
            return True
        if other is None:  # no exception to catch for an absent address
            return NotImplemented
        try:
            if self._ip != other._ip or self._version != other._version:  # type: ignore[attr-defined]
                return False
        except AttributeError:
            return NotImplemented
        return self._scope_id == getattr(other, "_scope_id", None)


UNHELD_MAX = 1 << 16  # addresses the cache may hold that nothing else holds
_made: dict[int, Address] = {}  # by the address's integer, which the Address shares
_prune_at = UNHELD_MAX  # the cache's size at which `_prune` runs next


def address(packed: bytes) -> Address:
    """The shared `Address` of 16 bytes (``Address(packed)`` for anything else).

    Remembered by its integer value, so the key costs nothing beside the
    object (a least-recently-used cache kept the bytes, a one-tuple and a
    link besides, about 170 bytes an address). Bounded by `_prune`: an
    address held elsewhere (by the analyzers' state, the report) stays the
    same object however many others come between two of its frames."""
    if type(packed) is not bytes or len(packed) != 16:
        return Address(packed)
    ip = int.from_bytes(packed, "big")
    made = _made.get(ip)
    if made is None:
        if len(_made) >= _prune_at:
            _prune()
        made = _made[ip] = Address(ip)
    return made


def _prune() -> None:
    """Forget the addresses that only the cache holds, and run again once
    `UNHELD_MAX` more are made: the cache holds the addresses held elsewhere
    (a dict entry each beside them) and at most `UNHELD_MAX` others, and its
    scans cost at most a few steps an address made."""
    global _prune_at
    _made[-1] = Address(0)  # held by the cache alone: its count is the yardstick
    entries = list(_made.items())  # at once: a pass in another thread may add to the cache
    counts = [(ip, getrefcount(made)) for ip, made in entries]
    alone = next(count for ip, count in reversed(counts) if ip == -1)  # last, or nearly
    for ip, count in counts:
        if count <= alone:
            _made.pop(ip, None)
    _prune_at = len(_made) + UNHELD_MAX


@lru_cache(maxsize=1 << 12)
def network(prefix: str) -> IPv6Network:
    """``IPv6Network(prefix, strict=False)``, one shared object per text
    (bounded cache); raises ValueError as that does (nothing is remembered)."""
    return IPv6Network(prefix, strict=False)
