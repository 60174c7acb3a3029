"""Heuristic reading of ESP with NULL encryption (RFC 4303, RFC 2410).

With NULL encryption the ESP payload travels in the clear, but an observer
without the security association does not know where it ends: the Integrity
Check Value's length depends on the SA's integrity algorithm. ``read_esp_null``
tries the usual ICV lengths, the same list as Wireshark's
``esp.enable_null_encryption_decode_heuristic``, then none:

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |               Security Parameters Index (SPI)                 |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                      Sequence Number                          |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    .             Payload Data (here: the Mobility Header)          .
    +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |               |     Padding 1, 2, 3, ... (0-255 bytes)        |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                               |  Pad Length   | Next Header   |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    .         Integrity Check Value (ICV_LENGTHS octets)            .
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

A guess is accepted only when all of this holds: the Pad Length and Next
Header end on a 4-octet boundary of the payload (RFC 4303 2.4), the padding
is the default 1, 2, 3, ... (RFC 4303 2.4), the Next Header is a protocol
this module can validate, and the inner message validates completely. For the
Mobility Header (the only one so far): Header Len covers exactly the payload
and the checksum is right over the pseudo-header in the upper-layer or the
on-wire form (as ``frame_decoder`` checks it). Encrypted ESP fails these
checks (a random payload passes with odds far below 1 in 10^9), so it stays
opaque and reports nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .mh import mh_checksum_between
from .model import IP6Header

ESP_HEADER_LEN = 8  # SPI + Sequence Number; NULL encryption has no IV
# HMAC-SHA1-96 / MD5-96 / AES-XCBC-96, HMAC-SHA-256-128, -384-192, -512-256, no integrity.
ICV_LENGTHS = (12, 16, 24, 32, 0)
NH_MH = 135
MH_MIN_LEN = 8

_DEFAULT_PADDING = bytes(range(1, 256))


@dataclass(frozen=True, slots=True)
class NullEsp:
    """An ESP payload read as NULL-encrypted: the inner message and its trailer."""

    icv_len: int
    pad_len: int
    next_header: int
    payload: bytes


def _valid_mh(payload: bytes, hdr: IP6Header) -> bool:
    """A Mobility Header whose Header Len is the payload and whose checksum is right."""
    if len(payload) < MH_MIN_LEN or (payload[1] + 1) * 8 != len(payload):
        return False
    wanted = int.from_bytes(payload[4:6], "big")
    if mh_checksum_between(hdr.upper_src, hdr.upper_dst, payload) == wanted:
        return True
    return mh_checksum_between(hdr.src, hdr.dst, payload) == wanted


_VALIDATORS: dict[int, Callable[[bytes, IP6Header], bool]] = {NH_MH: _valid_mh}


def read_esp_null(esp: bytes, hdr: IP6Header) -> NullEsp | None:
    """``esp`` (from the SPI to the end of the IPv6 payload) read as NULL
    encryption, or None when no ICV length gives a payload that validates.

    ``hdr`` is the IPv6 header carrying the ESP (its HAO and RH2 already
    read), for the pseudo-header of inner checksums. Never raises.
    """
    size = len(esp)
    for icv_len in ICV_LENGTHS:
        trailer = size - icv_len - 2
        if trailer < ESP_HEADER_LEN or (trailer + 2 - ESP_HEADER_LEN) % 4:
            continue
        pad_len, next_header = esp[trailer], esp[trailer + 1]
        validate = _VALIDATORS.get(next_header)
        start = trailer - pad_len
        if validate is None or start < ESP_HEADER_LEN:
            continue
        if esp[start:trailer] != _DEFAULT_PADDING[:pad_len]:
            continue
        payload = bytes(esp[ESP_HEADER_LEN:start])
        if validate(payload, hdr):
            return NullEsp(icv_len, pad_len, next_header, payload)
    return None
