"""`decode.checksum.upper_layer_checksum` (modular arithmetic over the bytes as
one number) gives dpkt's ``in_cksum`` over the pseudo-header and the data with
its checksum field zeroed, including the sums that fold to 0xFFFF."""

from __future__ import annotations

import struct
from ipaddress import IPv6Address

import dpkt
from hypothesis import given, settings
from hypothesis import strategies as st

from mipv6scope.decode.checksum import upper_layer_checksum
from mipv6scope.decode.mh import mh_checksum_between

addresses = st.one_of(st.binary(min_size=16, max_size=16), st.just(b"\0" * 16), st.just(b"\xff" * 16))


def dpkt_checksum(src: bytes, dst: bytes, nh: int, data: bytes, offset: int) -> int:
    body = bytearray(data)
    if len(body) >= offset + 2:
        body[offset:offset + 2] = b"\0\0"
    return dpkt.in_cksum(src + dst + struct.pack("!I3xB", len(body), nh) + bytes(body))


@settings(max_examples=2000, deadline=None)
@given(addresses, addresses, st.sampled_from([6, 17, 58, 135]),
       st.one_of(st.binary(max_size=300), st.integers(0, 80).map(lambda n: b"\xff" * n)),
       st.sampled_from([2, 4, 6, 16]))
def test_as_dpkt(src: bytes, dst: bytes, nh: int, data: bytes, offset: int) -> None:
    assert upper_layer_checksum(src, dst, nh, data, offset) == dpkt_checksum(src, dst, nh, data, offset)


@settings(max_examples=500, deadline=None)
@given(addresses, addresses, st.binary(min_size=14, max_size=14))
def test_a_sum_folding_to_all_ones_gives_zero(src: bytes, dst: bytes, head: bytes) -> None:
    # choose the last word so that the pseudo-header and data sum to 0xFFFF
    data = bytearray(head[:4] + b"\0\0" + head[6:] + b"\0\0")
    partial = dpkt_checksum(src, dst, 135, bytes(data), 4)  # ~sum of everything but the last word
    data[14:16] = struct.pack("!H", partial)
    assert dpkt_checksum(src, dst, 135, bytes(data), 4) == 0
    assert upper_layer_checksum(src, dst, 135, bytes(data), 4) == 0


@settings(max_examples=1000, deadline=None)
@given(addresses, addresses, st.one_of(st.binary(max_size=120), st.integers(0, 40).map(lambda n: b"\xff" * n)))
def test_mh_checksum_between_address_objects_as_dpkt(src: bytes, dst: bytes, data: bytes) -> None:
    # the decoder's form: the pseudo-header's addresses as objects, summed as numbers
    assert mh_checksum_between(IPv6Address(src), IPv6Address(dst), data) == dpkt_checksum(src, dst, 135, data, 4)
