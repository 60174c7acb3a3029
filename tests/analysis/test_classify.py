"""The fast path (analysis.classify) against the full decoder: same DataPacket
events on every frame it takes, and every frame of every sample counted."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.analysis.classify import classify, make_data_packet
from mipv6scope.analysis.engine import analyze
from mipv6scope.analysis.events_from_frames import events_from_decoded
from mipv6scope.capture import open_capture
from mipv6scope.capture.frame import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)
from mipv6scope.decode.frame_decoder import decode_frame
from mipv6scope.decode.model import DECODED
from mipv6scope.decode.stream import DecodeStream
from mipv6scope.events import DataPacket
from tests.conftest import raw_frame

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
CAPTURES = sorted(p for p in SAMPLES.iterdir() if ".pcap" in p.name and not p.name.endswith(".json"))

A = bytes.fromhex("20010db8000100000000000000000001")
B = bytes.fromhex("20010db8000200000000000000000100")
C = bytes.fromhex("20010db8000900000000000000000009")
H = bytes.fromhex("20010db8000100000000000000000100")


def ip6(nh: int, payload: bytes, src: bytes = A, dst: bytes = B, plen: int | None = None) -> bytes:
    """An IPv6 header (hop limit 64) followed by ``payload``."""
    length = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 6 << 28, length, nh, 64) + src + dst + payload


UDP = struct.pack("!HHHH", 5000, 53, 12, 0) + b"abcd"  # checksum 0: not allowed over IPv6


def segment(src: bytes, dst: bytes, proto: int = 17) -> bytes:
    """A UDP (or TCP) segment whose checksum Scapy computed over the pseudo-header
    (src, dst): what the fast path takes."""
    from ipaddress import IPv6Address

    from scapy.layers.inet import TCP as ScapyTCP
    from scapy.layers.inet import UDP as ScapyUDP
    from scapy.layers.inet6 import IPv6
    layer = ScapyUDP(sport=5000, dport=53) if proto == 17 else ScapyTCP(sport=80, dport=4242)
    packet = IPv6(src=str(IPv6Address(src)), dst=str(IPv6Address(dst))) / layer / b"abcd"
    return bytes(packet)[40:]


def test_captures_found():
    assert len(CAPTURES) > 20


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_fast_path_equals_full_decoder(path: Path):
    fast_frames = 0
    with open_capture(path) as reader:
        for frame in reader:
            decoded = decode_frame(frame)
            full = [e for e in events_from_decoded(decoded) if isinstance(e, DataPacket)]
            fast = classify(frame)
            if fast is None:
                continue
            fast_frames += 1
            assert full == [fast], f"frame {frame.number}"
            # the engine counts fast frames as decoded: so must the decoder
            assert decoded.status == DECODED and not decoded.issues, f"frame {frame.number}"
    if path.name.startswith("scenario-"):
        assert fast_frames > 0


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_engine_counts_every_frame_like_the_decoder(path: Path):
    stream = DecodeStream([path])
    for _ in stream:
        pass
    info = analyze([path], analyzers=[]).capture
    counts = stream.counts
    assert (info.frames, info.decoded, info.malformed, info.skipped) == (
        counts.frames, counts.decoded, counts.malformed, counts.skipped)
    assert info.skip_reasons == dict(counts.skip_reasons)
    assert info.frames == info.decoded + info.malformed + info.skipped


@pytest.mark.parametrize("data", [
    ip6(41, ip6(17, segment(C, H), C, H), A, B),           # tunnelled UDP
    ip6(41, ip6(6, segment(C, H, 6), C, H)),               # tunnelled TCP
    ip6(41, ip6(132, b"sctp-ish", C, H)),                  # tunnelled other data
    ip6(17, segment(A, B)),                                # plain UDP
    ip6(6, segment(A, B, 6)),                              # plain TCP
    # the pseudo-header holds the home address: HAO source, RH2 destination (RFC 8200 8.1)
    ip6(60, bytes([17, 2, 1, 2, 0, 0, 0xC9, 16]) + H + segment(H, B)),  # HAO
    ip6(43, bytes([17, 2, 2, 1, 0, 0, 0, 0]) + H + segment(A, H)),     # RH2
])
def test_fast_path_takes_plain_data(data: bytes):
    frame = raw_frame(data)
    fast = classify(frame, 3)
    assert fast is not None and fast.file == 3
    assert [e for e in events_from_decoded(decode_frame(frame), 3) if isinstance(e, DataPacket)] == [fast]


@pytest.mark.parametrize("data", [
    b"",                                                    # nothing
    ip6(17, UDP)[:39],                                      # cut IPv6 header
    ip6(17, UDP, plen=200),                                 # payload length beyond the frame
    ip6(17, UDP, plen=0),                                   # jumbogram
    ip6(17, b"ab"),                                         # UDP without ports
    ip6(41, ip6(58, b"\x80\x00\x00\x00", C, H)),            # tunnelled ICMPv6
    ip6(41, ip6(135, bytes(16), C, H)),                     # tunnelled MH
    ip6(41, ip6(41, ip6(17, UDP), C, H)),                   # tunnel in a tunnel
    ip6(41, ip6(17, UDP, C, H, plen=500)),                  # inner length too big
    ip6(41, b"\x45" + bytes(39)),                           # inner not IPv6
    ip6(58, b"\x80\x00\x00\x00"),                           # ICMPv6
    ip6(50, bytes(16)),                                     # ESP
    ip6(60, bytes([17, 2, 1, 2, 0, 0, 0xC9, 15]) + H + UDP),  # odd HAO
    ip6(43, bytes([17, 2, 2, 2, 0, 0, 0, 0]) + H + UDP),     # RH2 segments left 2
    b"\x45" + bytes(40),                                    # IPv4
    ip6(6, struct.pack("!HH", 80, 4242) + bytes(8)),        # TCP shorter than its header
])
def test_fast_path_leaves_the_rest_to_the_decoder(data: bytes):
    assert classify(raw_frame(data)) is None


# Segments whose checksum does not verify (RFC 8200 8.1) go to the decoder, which
# reports them on their frame and still gives the packet's DataPacket.
_GOOD_UDP = segment(C, H)
_BAD = [
    (ip6(17, UDP), "bad_udp_checksum"),                                   # zero UDP checksum
    (ip6(41, ip6(17, _GOOD_UDP[:6] + bytes([_GOOD_UDP[6] ^ 1]) + _GOOD_UDP[7:], C, H)),
     "bad_udp_checksum"),                                                 # tunnelled, one bit off
    (ip6(41, ip6(6, segment(C, A, 6), C, H)), "bad_tcp_checksum"),        # over the wrong address
    (ip6(60, bytes([17, 2, 1, 2, 0, 0, 0xC9, 16]) + H + segment(A, B)),  # care-of, not home
     "bad_udp_checksum"),
    (ip6(17, _GOOD_UDP[:4] + b"\x00\x0d" + _GOOD_UDP[6:]), "bad_udp_checksum"),  # UDP length
]


@pytest.mark.parametrize(("data", "code"), _BAD)
def test_bad_checksums_go_to_the_decoder(data: bytes, code: str):
    frame = raw_frame(data)
    assert classify(frame) is None
    decoded = decode_frame(frame)
    assert [i.code for i in decoded.issues] == [code]
    assert decoded.status == DECODED  # a warning: the packet still counts
    assert [type(e).__name__ for e in events_from_decoded(decoded)] == ["DataPacket", "FrameIssues"]


def test_snaplen_cut_frames_go_to_the_decoder():
    data = ip6(41, ip6(17, segment(C, H), C, H))
    assert classify(raw_frame(data, wirelen=len(data) + 10)) is None


def test_make_data_packet_equals_the_dataclass_constructor():
    from ipaddress import IPv6Address
    a, b = IPv6Address(A), IPv6Address(B)
    args = (1.5, 7, 1, a, b, b, a, True, None, b, 17, 1, 2, 100, 60)
    made = make_data_packet(*args)
    assert made == DataPacket(*args) and type(made) is DataPacket
    assert hash(made) == hash(DataPacket(*args))


# -- the remembered header templates -----------------------------------------------------------

PLAIN_DATA_KINDS = ["tunnelled-udp", "tunnelled-tcp", "plain-udp", "hao", "rh2"]
PLAIN_DATA = [  # checksums right over the pseudo-header (RFC 8200 8.1), else the decoder takes them
    ip6(41, ip6(17, segment(C, H), C, H), A, B),
    ip6(41, ip6(6, segment(C, H, 6), C, H)),
    ip6(17, segment(A, B)),
    ip6(60, bytes([17, 2, 1, 2, 0, 0, 0xC9, 16]) + H + segment(H, B)),
    ip6(43, bytes([17, 2, 2, 1, 0, 0, 0, 0]) + H + segment(A, H)),
]
ETH_HEAD = bytes(6) + b"\x02\x00\x00\x00\x00\x01" + b"\x86\xdd"
# link type -> what comes before the IPv6 header
LINK_HEADS = {LINKTYPE_RAW: b"", LINKTYPE_ETHERNET: ETH_HEAD, LINKTYPE_NULL: struct.pack("<I", 24),
              LINKTYPE_LINUX_SLL: struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x86DD)}


def _full(frame) -> list[DataPacket]:
    return [e for e in events_from_decoded(decode_frame(frame), 2) if isinstance(e, DataPacket)]


@pytest.mark.parametrize("data", PLAIN_DATA, ids=PLAIN_DATA_KINDS)
def test_remembered_header_keeps_each_frames_own_time_number_and_file(data: bytes):
    first, second = raw_frame(data, number=1), raw_frame(data, number=9)
    assert classify(first, 1).frame == 1
    again = classify(second, 2)
    assert (again.ts, again.frame, again.file) == (second.ts, 9, 2)
    assert _full(second) == [again]


@pytest.mark.parametrize("data", PLAIN_DATA, ids=PLAIN_DATA_KINDS)
def test_remembered_header_does_not_take_a_shorter_or_cut_frame(data: bytes):
    frame = raw_frame(data)
    assert classify(frame) is not None
    # the same leading bytes, but the frame ends before the payload length says
    short = data[:-1]
    assert classify(raw_frame(short)) is None
    assert classify(raw_frame(data, wirelen=len(data) + 1)) is None


def test_same_bytes_under_another_link_type_are_not_confused():
    data = ip6(41, ip6(17, segment(C, H), C, H))
    assert classify(raw_frame(data)) is not None
    # raw IPv6 bytes read as Ethernet: not IPv6 at all
    assert classify(raw_frame(data, linktype=LINKTYPE_ETHERNET)) is None
    eth = ETH_HEAD + data
    assert classify(raw_frame(eth, linktype=LINKTYPE_ETHERNET)) is not None
    assert classify(raw_frame(eth)) is None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(PLAIN_DATA), linktype=st.sampled_from(sorted(LINK_HEADS)),
       flips=st.lists(st.tuples(st.integers(0, 140), st.integers(0, 255)), max_size=3),
       cut=st.integers(0, 8), longer=st.booleans())
def test_fast_path_after_a_remembered_header_equals_the_decoder(base, linktype, flips, cut, longer):
    """A header seen once is remembered; whatever a frame changes after that
    (bytes anywhere, a shorter frame, a snap-length cut), the fast path still
    gives what the full decoder gives, or None."""
    data = LINK_HEADS[linktype] + base
    assert classify(raw_frame(data, linktype=linktype)) is not None
    mutated = bytearray(data)
    for pos, value in flips:
        if pos < len(mutated):
            mutated[pos] = value
    mutated = bytes(mutated[:len(mutated) - cut])
    frame = raw_frame(mutated, number=5, linktype=linktype,
                      wirelen=len(mutated) + 1 if longer else None)
    fast = classify(frame, 2)
    if fast is not None:
        assert _full(frame) == [fast]
