"""IPv6 extension headers Mobile IPv6 adds: the Home Address destination option
(RFC 6275 6.3) and the type 2 routing header (RFC 6275 6.4), as dpkt layers,
plus the walk over a Destination Options header's TLVs.
"""

from __future__ import annotations

import dpkt

from .issues import Issue

HAO_OPTION_TYPE = 201
RH2_ROUTING_TYPE = 2


class HAO(dpkt.Packet):
    """Home Address option, carried in a Destination Options header.

         0                   1                   2                   3
         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
                                        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
                                        |  Option Type  | Option Length |
        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
        +                          Home Address (128 bits)              +
        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    """

    __hdr__ = (
        ("type", "B", HAO_OPTION_TYPE),
        ("len", "B", 16),
        ("addr", "16s", b"\x00" * 16),
    )


class RH2(dpkt.Packet):
    """Type 2 Routing Header: exactly one address, the mobile node's home address.

        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
        |  Next Header  | Hdr Ext Len=2 | Routing Type=2|Segments Left=1|
        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
        |                            Reserved                           |
        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
        +                         Home Address                          +
        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    """

    __hdr__ = (
        ("nxt", "B", 59),
        ("len", "B", 2),
        ("type", "B", RH2_ROUTING_TYPE),
        ("segs_left", "B", 1),
        ("rsvd", "I", 0),
        ("addr", "16s", b"\x00" * 16),
    )


def build_dest_opts_with_hao(nxt: int, home_address: bytes) -> bytes:
    """A Destination Options header holding only a HAO, padded so the HAO sits
    at the 8n+6 alignment RFC 6275 6.3 requires (PadN of 4 bytes first)."""
    hao = bytes(HAO(addr=home_address))
    body = b"\x01\x02\x00\x00" + hao  # PadN(2 data bytes) + HAO = 22 bytes
    return bytes([nxt, (2 + len(body)) // 8 - 1]) + body


def walk_dest_options(buf: bytes, start: int, end: int) -> tuple[list[bytes], list[Issue]]:
    """Walk the TLV options of one Destination Options header.

    ``buf[start:end]`` is the option area (after Next Header and Hdr Ext Len).
    Returns the Home Address values found (16-byte strings; a HAO whose length
    is not 16 is reported and not returned) and the issues seen.
    """
    addresses: list[bytes] = []
    issues: list[Issue] = []
    pos = start
    while pos < end:
        opt_type = buf[pos]
        if opt_type == 0:  # Pad1
            pos += 1
            continue
        if pos + 2 > end:
            issues.append(Issue("bad_ipv6_dest_opt_len", "dstopts",
                                f"option type {opt_type} at offset {pos - start + 2} has no length byte"))
            break
        opt_len = buf[pos + 1]
        if pos + 2 + opt_len > end:
            issues.append(Issue("bad_ipv6_dest_opt_len", "dstopts",
                                f"option type {opt_type} length {opt_len} runs {pos + 2 + opt_len - end} "
                                "bytes past the header"))
            break
        if opt_type == HAO_OPTION_TYPE:
            if opt_len != 16:
                issues.append(Issue("bad_home_addr_len", "hao",
                                    f"Home Address option length {opt_len}, expected 16"))
            else:
                if (pos - start + 2) % 8 != 6:
                    issues.append(Issue("hao_misaligned", "hao",
                                        f"HAO at header offset {pos - start + 2}, expected 8n+6"))
                addresses.append(bytes(buf[pos + 2:pos + 18]))
        pos += 2 + opt_len
    return addresses, issues
