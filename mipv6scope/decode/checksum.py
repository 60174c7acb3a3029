"""The IPv6 upper-layer checksum (RFC 8200 8.1), shared by MH and ICMPv6.

The one's complement arithmetic is dpkt's (``in_cksum``); this module only
adds the IPv6 pseudo-header and the zeroed checksum field.
"""

from __future__ import annotations

import struct

import dpkt

_PSEUDO_TAIL = struct.Struct("!I3xB")


def upper_layer_checksum(src16: bytes, dst16: bytes, next_header: int, data: bytes,
                         checksum_offset: int) -> int:
    """The checksum ``data`` should carry at ``checksum_offset``, computed over
    the pseudo-header (src16, dst16, len(data), next_header) and ``data`` with
    its checksum field taken as zero."""
    body = bytearray(data)
    if len(body) >= checksum_offset + 2:
        body[checksum_offset:checksum_offset + 2] = b"\x00\x00"
    pseudo = bytes(src16) + bytes(dst16) + _PSEUDO_TAIL.pack(len(body), next_header)
    return dpkt.in_cksum(pseudo + bytes(body))
