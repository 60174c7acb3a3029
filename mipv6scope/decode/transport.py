"""TCP and UDP checksums over the IPv6 pseudo-header (RFC 8200 8.1).

The pseudo-header takes the addresses the upper layer sees: the home address
of a Home Address option as the source (RFC 6275 6.3) and the final
destination of a routing header, the home address of a type 2 one, as the
destination (RFC 8200 8.1, RFC 6275 6.4). UDP's length is its own Length
field (RFC 8200 8.1), and a zero UDP checksum is not allowed over IPv6 (RFC
8200 8.1: receivers discard it), as tshark reports it ("Illegal checksum value").

Verified only when the whole segment was captured and is not one fragment
of a larger packet; a segment shorter than its header is left alone.
"""

from __future__ import annotations

from .checksum import checksum_verifies, pseudo_header_sum
from .issues import Issue
from .model import IP6Header

NH_TCP = 6
NH_UDP = 17
TCP_HEADER_LEN = 20
UDP_HEADER_LEN = 8
TCP_CHECKSUM_AT = 16
UDP_CHECKSUM_AT = 6


def checked_span(data: bytes, pos: int, end: int, proto: int) -> int | None:
    """Where the checksummed bytes of the TCP or UDP segment at ``data[pos:end]``
    end (UDP: its Length field, when it fits), or None when the segment is too
    short to hold its header."""
    if proto == NH_TCP:
        return end if end - pos >= TCP_HEADER_LEN else None
    if end - pos < UDP_HEADER_LEN:
        return None
    length = int.from_bytes(data[pos + 4:pos + 6], "big")
    return pos + length if UDP_HEADER_LEN <= length <= end - pos else end


def transport_checksum_issue(data: bytes, pos: int, end: int, proto: int, hdr: IP6Header,
                             tunnelled: bool = False) -> Issue | None:
    """``bad_tcp_checksum`` / ``bad_udp_checksum`` for the segment at
    ``data[pos:end]`` carried by ``hdr`` (an inner header when ``tunnelled``),
    or None when it verifies or cannot be checked (see the module docstring)."""
    stop = checked_span(data, pos, end, proto)
    if stop is None:
        return None
    at = pos + (TCP_CHECKSUM_AT if proto == NH_TCP else UDP_CHECKSUM_AT)
    value = int.from_bytes(data[at:at + 2], "big")
    name = "tcp" if proto == NH_TCP else "udp"
    where = "tunnelled " if tunnelled else ""
    if proto == NH_UDP and value == 0:
        return Issue("bad_udp_checksum", name,
                     f"{where}UDP checksum 0x0000: not allowed over IPv6 (RFC 8200 8.1)")
    pseudo = pseudo_header_sum(hdr.upper_src.packed, hdr.upper_dst.packed, stop - pos, proto)
    if checksum_verifies(pseudo, data, pos, stop):
        return None
    return Issue(f"bad_{name}_checksum", name,
                 f"{where}{name.upper()} checksum 0x{value:04x} does not verify over "
                 f"{hdr.upper_src} → {hdr.upper_dst}")
