"""Hypothesis fuzzing of decode_frame at the frame level.

Three sources of input: random bytes on every supported link type; IPv6
header chains assembled from random parts (extension headers, HAO, RH2,
tunnels, Mobility Header, ICMPv6, ESP, with consistent or corrupted lengths);
and mutations (byte flips, truncations, insertions, length-field corruption,
snap-length cuts) of every frame of every sample capture.

For every input: decode_frame does not raise, reports no decoder_error, gives
one of the three statuses consistently with its issues, and frame_record is
JSON (no custom encoder) with every key of the jsonl schema. The budget keeps
the whole file under ~30 s on two cores.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.capture.frame import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    Frame,
)
from mipv6scope.capture.reader import open_capture
from mipv6scope.decode.frame_decoder import decode_frame
from mipv6scope.decode.issues import ISSUE_KINDS
from mipv6scope.decode.model import DECODED, MALFORMED, SKIPPED, DecodedFrame
from mipv6scope.render.packet_record import frame_record
from tests.conftest import REPO_ROOT

LINKTYPES = [LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP, LINKTYPE_LINUX_SLL,
             LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2]

# The jsonl schema (mipv6scope/render/packet_record.py): every key, always present.
RECORD_KEYS = {"frame", "ts", "caplen", "wirelen", "linktype", "file", "status", "skip_reason",
               "vlan", "ip6", "hao", "rh2", "mh", "icmp6", "esp", "ah", "transport", "issues"}
MH_KEYS = {"type", "name", "abbrev", "payload_proto", "header_len", "length", "checksum",
           "checksum_ok", "checksum_form", "options"}
ICMP6_KEYS = {"type", "code", "name", "checksum"}
ISSUE_KEYS = {"code", "layer", "detail"}


def _sample_frames() -> list[Frame]:
    frames = []
    for path in sorted((REPO_ROOT / "sample_captures").glob("*.pcap")):
        with open_capture(path) as reader:
            frames.extend(reader)
    return frames


SAMPLE_FRAMES = _sample_frames()

SETTINGS = settings(max_examples=600, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(frame: Frame) -> DecodedFrame:
    """Decode ``frame`` and check every property the decoder promises."""
    out = decode_frame(frame)  # must not raise
    codes = [i.code for i in out.issues]
    assert "decoder_error" not in codes, (frame, out.issues)
    assert all(c in ISSUE_KINDS for c in codes), codes
    assert out.status in (DECODED, SKIPPED, MALFORMED)
    has_error = any(ISSUE_KINDS[c].severity == "error" for c in codes)
    if out.status == SKIPPED:
        assert out.skip_reason and out.ip6 == [] and out.mh is None and out.icmp6 is None
    else:
        assert out.status == (MALFORMED if has_error else DECODED), (out.status, codes)
    record = frame_record(out)
    text = json.dumps(record, allow_nan=False)  # no default=: must be plain JSON types
    assert set(json.loads(text)) == RECORD_KEYS
    assert record["frame"] == frame.number and record["caplen"] == frame.caplen
    for issue in record["issues"]:
        assert set(issue) == ISSUE_KEYS
    if record["mh"] is not None:
        assert set(record["mh"]) >= MH_KEYS, record["mh"]
        assert isinstance(record["mh"]["options"], list)
    if record["icmp6"] is not None:
        assert set(record["icmp6"]) >= ICMP6_KEYS, record["icmp6"]
    for hdr in record["ip6"]:
        assert set(hdr) == {"src", "dst", "nh"}
    return out


def _frame(data: bytes, linktype: int, wirelen: int | None = None) -> Frame:
    return Frame(number=1, ts=1_700_000_000.0, caplen=len(data),
                 wirelen=len(data) if wirelen is None else max(wirelen, len(data)),
                 linktype=linktype, data=data)


# ------------------------------------------------------------------ random bytes


@SETTINGS
@given(st.sampled_from(LINKTYPES), st.binary(max_size=400), st.integers(0, 64))
def test_random_bytes_on_every_link_type(linktype: int, data: bytes, extra: int) -> None:
    """Arbitrary bytes, sometimes announced longer on the wire (a snap-length cut)."""
    check(_frame(data, linktype, len(data) + extra if extra > 32 else None))


@SETTINGS
@given(st.sampled_from(LINKTYPES), st.integers(0, 255), st.binary(max_size=400),
       st.integers(0, 64))
def test_random_bytes_behind_a_valid_link_header(linktype: int, nh: int, tail: bytes,
                                                 extra: int) -> None:
    """Random bytes after a correct link header and the first octets of IPv6, so the
    walk gets past the link layer into the header chain."""
    ip = bytes([0x60, 0, 0, 0]) + struct.pack("!HB", len(tail), nh) + tail
    check(_frame(_link(linktype, ip), linktype, None if extra < 40 else len(ip) + extra))


def _link(linktype: int, packet: bytes) -> bytes:
    """``packet`` behind a minimal header of ``linktype`` that announces IPv6."""
    if linktype == LINKTYPE_ETHERNET:
        return bytes(12) + b"\x86\xdd" + packet
    if linktype == LINKTYPE_LINUX_SLL:
        return bytes(14) + b"\x86\xdd" + packet
    if linktype == LINKTYPE_LINUX_SLL2:
        return b"\x86\xdd" + bytes(18) + packet
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        return struct.pack("<I", 24) + packet
    return packet  # RAW, IPV6, IPV4 (an IPv6 packet there is skipped or rejected)


# ------------------------------------------------------------------ assembled chains

HAO = bytes([0xC9, 16]) + bytes.fromhex("20010db8000100000000000000000100")
MH_TYPES = [*range(0, 24), 42, 255]
# octets of fixed message data after the 6-octet MH common part (RFC 6275 6.1.2-6.1.9)
MH_FIXED = {0: 2, 1: 10, 2: 10, 3: 18, 4: 18, 5: 6, 6: 6, 7: 18}
# octets of fixed message body after the 4-octet ICMPv6 header (RFC 4861 4.1-4.4, RFC 6275 6.5-6.8)
ICMP6_FIXED = {133: 4, 134: 12, 135: 20, 136: 20, 144: 4, 145: 4, 146: 4, 147: 4}
ICMP6_TYPES = [1, 2, 3, 4, 128, 133, 134, 135, 136, 144, 145, 146, 147, 255]
MH_OPTION_TYPES = [0, 1, 2, 3, 4, 5, 6, 8, 22, 23, 24, 25, 26, 27, 29, 30, 32, 33, 99]
ND_OPTION_TYPES = [1, 2, 3, 4, 5, 7, 8, 99]


@st.composite
def _length(draw: st.DrawFn, right: int, top: int = 255) -> int:
    """Mostly the right value for a length field, sometimes anything."""
    return draw(st.one_of(st.just(right), st.just(right), st.just(right),
                          st.integers(0, top), st.sampled_from([0, 1, max(0, right - 1),
                                                                min(top, right + 1), top])))


@st.composite
def mobility_options(draw: st.DrawFn) -> bytes:
    out = b""
    for otype in draw(st.lists(st.sampled_from(MH_OPTION_TYPES), max_size=6)):
        if otype == 0:
            out += b"\x00"
            continue
        body = draw(st.binary(max_size=24))
        out += bytes([otype, draw(_length(len(body)))]) + body
    return out


@st.composite
def mobility_header(draw: st.DrawFn) -> bytes:
    mtype = draw(st.sampled_from(MH_TYPES))
    right = MH_FIXED.get(mtype)
    size = draw(st.integers(0, 26)) if right is None or draw(st.integers(0, 3)) == 0 else right
    fixed = draw(st.binary(min_size=size, max_size=size))
    body = fixed + draw(mobility_options())
    body += bytes(-(6 + len(body)) % 8)
    hlen = draw(_length((6 + len(body)) // 8 - 1))
    proto = draw(st.sampled_from([59, 59, 59, 6, 2, 48]))
    return bytes([proto, hlen, mtype, 0]) + draw(st.binary(min_size=2, max_size=2)) + body


@st.composite
def icmp6_message(draw: st.DrawFn) -> bytes:
    itype = draw(st.sampled_from(ICMP6_TYPES))
    right = ICMP6_FIXED.get(itype)
    size = draw(st.integers(0, 24)) if right is None or draw(st.integers(0, 3)) == 0 else right
    fixed = draw(st.binary(min_size=size, max_size=size))
    opts = b""
    for otype in draw(st.lists(st.sampled_from(ND_OPTION_TYPES), max_size=4)):
        units = draw(st.integers(1, 4))
        opts += bytes([otype, draw(_length(units, 8))]) + draw(
            st.binary(min_size=units * 8 - 2, max_size=units * 8 - 2))
    return bytes([itype, draw(st.integers(0, 255))]) + draw(st.binary(min_size=2, max_size=2)) \
        + fixed + opts


@st.composite
def ipv6_packet(draw: st.DrawFn, depth: int = 0) -> bytes:
    """An IPv6 packet: random extension headers, then an upper layer or a tunnel."""
    finals = [135, 62, 58, 50, 17, 6, 59, 4] + ([41] if depth < 2 else [])
    nh = draw(st.sampled_from(finals))
    if nh == 41:
        payload = draw(ipv6_packet(depth + 1))
    elif nh in (135, 62):
        payload = draw(mobility_header())
    elif nh == 58:
        payload = draw(icmp6_message())
    else:
        payload = draw(st.binary(max_size=40))
    for ext in draw(st.lists(st.sampled_from([0, 60, 43, 44, 51, 60, 43]), max_size=4)):
        if ext == 44:
            payload = bytes([nh, 0]) + draw(st.binary(min_size=6, max_size=6)) + payload
        elif ext == 51:
            icv = draw(st.binary(max_size=16))
            words = (12 + len(icv)) // 4 - 2
            payload = bytes([nh, draw(_length(words))]) + bytes(2) + draw(
                st.binary(min_size=8, max_size=8)) + icv + payload
        else:
            if ext == 43:
                rtype = draw(st.sampled_from([2, 2, 0, 4]))
                addrs = draw(st.integers(0, 2))
                body = bytes([rtype, draw(st.integers(0, 2))]) + bytes(4) + draw(
                    st.binary(min_size=16 * addrs, max_size=16 * addrs))
            else:
                opts = draw(st.sampled_from([b"\x01\x02\x00\x00" + HAO, HAO + HAO, b"",
                                             bytes([0xC9, draw(st.integers(0, 20))])]))
                body = opts + draw(st.binary(max_size=10))
            body += bytes(-(2 + len(body)) % 8)
            payload = bytes([nh, draw(_length((2 + len(body)) // 8 - 1))]) + body + payload
        nh = ext
    plen = draw(st.one_of(st.just(len(payload)), st.just(len(payload)), st.integers(0, 0xFFFF)))
    version = draw(st.sampled_from([6, 6, 6, 6, 4, 0]))
    return struct.pack("!IHBB", version << 28, plen, nh, 64) + draw(
        st.binary(min_size=32, max_size=32)) + payload


@settings(max_examples=1200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from([LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL]),
       ipv6_packet(), st.integers(0, 100), st.booleans())
def test_assembled_header_chains(linktype: int, packet: bytes, cut: int, snap: bool) -> None:
    """Chains of extension headers, HAOs, RH2s, tunnels, MH and ICMPv6 messages with
    mostly right and sometimes wrong lengths, whole or cut (as a snap length or not)."""
    data = _link(linktype, packet)
    if cut < 30 and data:
        keep = len(data) * cut // 30
        check(_frame(data[:keep], linktype, len(data) if snap else None))
    else:
        check(_frame(data, linktype))


def test_header_chains_longer_than_the_decoder_follows() -> None:
    """70 Destination Options headers, and IPv6 tunnelled in IPv6 70 deep: the walk
    stops with too_many_headers, not with an exception or a recursion error."""
    chain = b""
    for _ in range(70):
        chain = bytes([60 if chain else 59, 0]) + bytes(6) + chain
    deep_opts = struct.pack("!IHBB", 6 << 28, len(chain), 60, 64) + bytes(32) + chain
    tunnel = struct.pack("!IHBB", 6 << 28, 0, 59, 64) + bytes(32)
    for _ in range(70):
        tunnel = struct.pack("!IHBB", 6 << 28, len(tunnel), 41, 64) + bytes(32) + tunnel
    for packet in (deep_opts, tunnel):
        out = check(_frame(packet, LINKTYPE_RAW))
        assert [i.code for i in out.issues] == ["too_many_headers"]
        assert out.status == MALFORMED


# ------------------------------------------------------------------ mutated samples

INTERESTING = [0, 1, 2, 7, 8, 15, 16, 17, 0x3B, 0x7F, 0x80, 0xC9, 0xFE, 0xFF]


@st.composite
def mutated_sample(draw: st.DrawFn) -> Frame:
    """A frame of a sample capture after a few mutations."""
    frame = draw(st.sampled_from(SAMPLE_FRAMES))
    data = bytearray(frame.data)
    wirelen = frame.wirelen
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "truncate", "snapcut", "insert", "delete",
                                   "plen", "word"]))
        if not data and op not in ("insert",):
            continue
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":  # length fields and type octets live everywhere: try them all
            data[at] = draw(st.sampled_from(INTERESTING))
        elif op == "truncate":
            del data[at:]
            wirelen = len(data)
        elif op == "snapcut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        elif op == "plen":  # the first IPv6 Payload Length, wherever the link puts it
            off = {LINKTYPE_ETHERNET: 14, LINKTYPE_RAW: 0, LINKTYPE_IPV6: 0}.get(frame.linktype, 0)
            if len(data) >= off + 6:
                data[off + 4:off + 6] = struct.pack("!H", draw(st.integers(0, 0xFFFF)))
        elif op == "word" and at + 2 <= len(data):
            data[at:at + 2] = struct.pack("!H", draw(st.sampled_from([0, 8, 16, 0xFFFF])))
    data_bytes = bytes(data)
    return Frame(number=frame.number, ts=frame.ts, caplen=len(data_bytes),
                 wirelen=max(wirelen, len(data_bytes)), linktype=frame.linktype,
                 data=data_bytes)


def test_the_samples_themselves() -> None:
    """Every unmutated sample frame passes the same checks (and there are frames)."""
    assert len(SAMPLE_FRAMES) > 100
    for frame in SAMPLE_FRAMES:
        check(frame)


@settings(max_examples=2500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_sample())
def test_mutated_sample_frames(frame: Frame) -> None:
    """Byte flips, truncations, snap-length cuts, insertions, deletions and corrupted
    length fields in every frame of every sample capture."""
    check(frame)


@SETTINGS
@given(st.sampled_from(SAMPLE_FRAMES), st.data())
def test_every_prefix_of_a_sample_frame(frame: Frame, data: Any) -> None:
    """A sample frame cut anywhere, as a snap length (wire length kept) and as a short
    packet (wire length = what is left)."""
    keep = data.draw(st.integers(0, len(frame.data)))
    for wirelen in (frame.wirelen, keep):
        check(Frame(frame.number, frame.ts, keep, max(wirelen, keep), frame.linktype,
                    frame.data[:keep]))
