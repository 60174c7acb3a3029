"""The IPv6 upper-layer checksum (RFC 8200 8.1), shared by MH and ICMPv6.

The one's complement sum is taken modulo 2^16 - 1 over the bytes read as one
big-endian number (`words_sum`): since 2^16 is 1 modulo 2^16 - 1, that is the
sum of the 16-bit words, at C speed.
"""

from __future__ import annotations

import struct

_PSEUDO_TAIL = struct.Struct("!I3xB")


def upper_layer_checksum(src16: bytes, dst16: bytes, next_header: int, data: bytes,
                         checksum_offset: int) -> int:
    """The checksum ``data`` should carry at ``checksum_offset``, computed over
    the pseudo-header (src16, dst16, len(data), next_header) and ``data`` with
    its checksum field taken as zero."""
    return checksum_over(int.from_bytes(src16, "big") + int.from_bytes(dst16, "big"), next_header,
                         data, checksum_offset)


def checksum_over(addresses: int, next_header: int, data: bytes, checksum_offset: int) -> int:
    """`upper_layer_checksum` with the pseudo-header's source and destination
    given as the sum of their 128-bit values (``int(src) + int(dst)`` of two
    addresses: nothing to pack)."""
    # the pseudo-header and the data as 16-bit words, summed modulo 0xFFFF (see
    # `words_sum`: 2^16 is 1 modulo 0xFFFF, so each field adds its value), less the
    # checksum field's word, which is taken as zero
    size = len(data)
    total = addresses + size + next_header + (int.from_bytes(data, "big") << (size & 1) * 8)
    if size >= checksum_offset + 2:
        total -= data[checksum_offset] << 8 | data[checksum_offset + 1]
    total %= ONES_MODULUS
    # The folded sum is never zero (the pseudo-header's next header is not), so a
    # multiple of 0xFFFF is the sum 0xFFFF, whose complement is 0.
    return ONES_MODULUS - total if total else 0


ONES_MODULUS = 0xFFFF
"""2^16 - 1: a sum of 16-bit words taken modulo it is their one's complement sum."""


def pseudo_header_sum(src16: bytes, dst16: bytes, length: int, next_header: int) -> int:
    """The IPv6 pseudo-header (RFC 8200 8.1) as a number modulo ``ONES_MODULUS``,
    to add to `words_sum` of the upper-layer bytes."""
    return int.from_bytes(bytes(src16) + bytes(dst16) + _PSEUDO_TAIL.pack(length, next_header),
                          "big") % ONES_MODULUS


def words_sum(buf: bytes, start: int, stop: int) -> int:
    """``buf[start:stop]`` read as big-endian 16-bit words (an odd last byte
    padded with zero), summed modulo ``ONES_MODULUS``. Since 2^16 is 1 modulo
    2^16 - 1, the whole slice read as one number gives that sum at C speed."""
    value = int.from_bytes(buf[start:stop], "big")
    if (stop - start) & 1:
        value <<= 8
    return value % ONES_MODULUS


def checksum_verifies(pseudo: int, buf: bytes, start: int, stop: int) -> bool:
    """Whether the upper-layer bytes ``buf[start:stop]``, checksum field
    included, verify against the pseudo-header sum ``pseudo``: their one's
    complement sum is all ones (it is never zero, the pseudo-header's next
    header being non-zero), i.e. 0 modulo ``ONES_MODULUS``."""
    return (pseudo + words_sum(buf, start, stop)) % ONES_MODULUS == 0
