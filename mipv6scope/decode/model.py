"""DecodedFrame: everything the decoder learnt about one captured frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import Any

from .issues import ISSUE_KINDS, Issue

DECODED = "decoded"
SKIPPED = "skipped"
MALFORMED = "malformed"


@dataclass(slots=True)
class IP6Header:
    """One IPv6 header of the frame (outermost first), as on the wire.

    ``nh`` is the header's own Next Header field. ``hao`` and ``rh2`` are the
    Home Address option and type 2 routing header address that belong to this
    header's extension chain, if any.
    """

    src: IPv6Address
    dst: IPv6Address
    nh: int
    payload_len: int
    hao: IPv6Address | None = None
    rh2: IPv6Address | None = None

    @property
    def upper_src(self) -> IPv6Address:
        """The source the upper layer sees: the home address when a HAO is present."""
        return self.hao if self.hao is not None else self.src

    @property
    def upper_dst(self) -> IPv6Address:
        """The destination the upper layer sees: the RH2 home address when present."""
        return self.rh2 if self.rh2 is not None else self.dst


@dataclass(slots=True)
class Transport:
    """The upper-layer protocol reached after the last IPv6 header.

    ``length`` counts the captured bytes from its first octet; ``payload_len``
    is what tshark's ``Len=`` shows for TCP and UDP: the data after the header
    as the packet states it (TCP: the IPv6 payload left minus the Data Offset;
    UDP: its Length field minus 8), None where those fields were not captured.
    """

    proto: int
    sport: int | None = None
    dport: int | None = None
    length: int = 0
    payload_len: int | None = None


@dataclass(slots=True)
class DecodedFrame:
    """The decoder's view of one frame. Plain data: no analysis state."""

    number: int
    ts: float
    caplen: int
    wirelen: int
    linktype: int
    status: str = DECODED
    skip_reason: str | None = None
    vlan_ids: tuple[int, ...] = ()
    ip6: list[IP6Header] = field(default_factory=list)
    mh: dict[str, Any] | None = None
    icmp6: dict[str, Any] | None = None
    # {spi, seq}; an ESP payload read as NULL encryption adds null (True),
    # icv_len, pad_len and next_header, and what it carries is decoded (mh).
    # One an --esp-sa SA opened adds decrypted (True), sa_line, icv_len, iv_len,
    # pad_len, next_header and icv_ok (absent when the SA checks none); one
    # nothing opened adds no_key (True).
    esp: dict[str, int] | None = None
    ah: dict[str, int] | None = None
    transport: Transport | None = None
    issues: list[Issue] = field(default_factory=list)
    file: str | None = None

    @property
    def hao(self) -> IPv6Address | None:
        """The home address from the innermost header that carries a HAO."""
        for hdr in reversed(self.ip6):
            if hdr.hao is not None:
                return hdr.hao
        return None

    @property
    def rh2(self) -> IPv6Address | None:
        """The home address from the innermost header that carries an RH2."""
        for hdr in reversed(self.ip6):
            if hdr.rh2 is not None:
                return hdr.rh2
        return None

    @property
    def outer_src(self) -> IPv6Address | None:
        """Source of the outermost IPv6 header, as on the wire."""
        return self.ip6[0].src if self.ip6 else None

    @property
    def outer_dst(self) -> IPv6Address | None:
        """Destination of the outermost IPv6 header, as on the wire."""
        return self.ip6[0].dst if self.ip6 else None

    @property
    def src(self) -> IPv6Address | None:
        """Source of the innermost IPv6 header after applying the HAO."""
        return self.ip6[-1].upper_src if self.ip6 else None

    @property
    def dst(self) -> IPv6Address | None:
        """Destination of the innermost IPv6 header after applying the RH2."""
        return self.ip6[-1].upper_dst if self.ip6 else None

    @property
    def tunnel_depth(self) -> int:
        """How many IPv6 headers encapsulate the innermost one."""
        return max(0, len(self.ip6) - 1)

    def finish(self) -> DecodedFrame:
        """Set ``status`` from the issues: any error-severity issue makes the frame malformed."""
        if self.issues and self.status != SKIPPED and any(
            ISSUE_KINDS[i.code].severity == "error" for i in self.issues
        ):
            self.status = MALFORMED
        return self
