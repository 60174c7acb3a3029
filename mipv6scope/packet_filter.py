"""Which decoded frames a packet listing keeps (the `packets` command's filters)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address

from .decode.model import DecodedFrame

MOBILITY_ICMP6_TYPES = frozenset({134, 135, 136, 144, 145, 146, 147})


def is_mobility(frame: DecodedFrame) -> bool:
    """True for frames carrying MH, HAO, RH2, ICMPv6 144-147, RA or NS/NA."""
    if frame.mh is not None:
        return True
    if frame.icmp6 is not None and frame.icmp6.get("type") in MOBILITY_ICMP6_TYPES:
        return True
    return any(h.hao is not None or h.rh2 is not None for h in frame.ip6)


@dataclass(frozen=True)
class FrameFilter:
    """A conjunction of the user's filters; an empty filter keeps everything."""

    mobility_only: bool = False
    mh_types: frozenset[int] = frozenset()
    address: IPv6Address | None = None
    with_issues: bool = False
    include_skipped: bool = True

    def keeps(self, frame: DecodedFrame) -> bool:
        """Does this frame pass every filter?"""
        if self.mobility_only and not is_mobility(frame):
            return False
        if self.mh_types and (frame.mh is None or frame.mh.get("type") not in self.mh_types):
            return False
        if self.with_issues and not frame.issues:
            return False
        if not self.include_skipped and frame.status == "skipped":
            return False
        return self.address is None or _mentions(frame, self.address)


def _mentions(frame: DecodedFrame, address: IPv6Address) -> bool:
    for h in frame.ip6:
        if address in (h.src, h.dst, h.hao, h.rh2):
            return True
    if frame.mh is not None:
        text = str(address)
        if frame.mh.get("home_address") == text:
            return True
        if any(o.get("address") == text for o in frame.mh.get("options") or []):
            return True
    return False
