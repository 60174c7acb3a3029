"""Hypothesis: parse_mh never raises, on garbage and on mutated valid messages;
the decoder's parse_mh_fields (struct-read fixed fields, remembered option
areas) gives parse_mh's dict and issues, and every message's fixed fields
equal what the dpkt message classes read."""

from __future__ import annotations

import dpkt
import dpkt.ip6
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.decode.issues import ISSUE_KINDS, Issue
from mipv6scope.decode.mh import MESSAGE_CLASSES, MH, MH_COMMON_LEN, parse_mh, parse_mh_fields
from mipv6scope.decode.mh_options import parse_options, walk_options

H = bytes.fromhex
VALID = [  # one of each message, most with options (hand-written, see test_mh_messages)
    H("3b0000001234" "0000"),
    H("3b010100abcd" "0000" "0102030405060708"),
    H("3b0102000001" "0000" "1122334455667788"),
    H("3b020300ffff" "002a" "c1c2c3c4c5c6c7c8" "d1d2d3d4d5d6d7d8"),
    H("3b0204000000" "0100" "e1e2e3e4e5e6e7e8" "f1f2f3f4f5f6f7f8"),
    H("3b0305005555" "1234d0000096" "0100" "031020010db8000200000000000000000100"),
    H("3b0106000102" "00801234000f" "0202003c"),
    H("3b020700beef" "0100" "20010db8000100000000000000000100"),
    H("3b0305000000" "000180000004" "040400050006" "050ca0a1a2a3a4a5a6a7a8a9aaab"),
    H("3b0a05000000" "00018200012c" "1612004020010db8aaaabbbb0000000000000000" "17020001"
      "18020004" "0100" "19080000021122334455" "010400000000" "1b0800004c044d804000"
      "0100" "1a10fe800000000000000211" "22fffe334455"),
    H("3b0108000000" "00018000000501020000"),
]
SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def dpkt_fields(buf: bytes) -> dict:
    """The fixed fields of a message as its dpkt class reads them."""
    cls = MESSAGE_CLASSES[buf[2]]
    msg = cls(bytes(buf[MH_COMMON_LEN:cls.data_end]))
    return {key: getter(msg) for key, _field, getter in cls.dict_fields}


def check(buf: bytes, snap_cut: bool) -> None:
    mh, d, issues = parse_mh(buf, snap_cut=snap_cut)
    for _ in range(2):  # the second time from the remembered option area
        assert parse_mh_fields(buf, snap_cut=snap_cut) == (d, issues)
    if (d is not None and d["type"] in MESSAGE_CLASSES
            and min(len(buf), d["length"]) >= MESSAGE_CLASSES[d["type"]].data_end):
        fixed = dpkt_fields(buf)
        assert {k: d[k] for k in fixed} == fixed
    assert isinstance(issues, list)
    assert all(isinstance(i, Issue) and i.code in ISSUE_KINDS for i in issues)
    assert all(i.code != "decoder_error" for i in issues), issues
    assert (d is None) == (len(buf) < 3)
    if d is not None:
        assert d["type"] == buf[2]
        assert isinstance(d["options"], list)
        assert all(isinstance(o["type"], int) and isinstance(o["name"], str)
                   for o in d["options"])
    if mh is not None:
        assert isinstance(mh, MH)
        assert bytes(mh) == buf  # a parsed header packs back to what was read
    if (d is not None and len(buf) >= (buf[1] + 1) * 8 and buf[0] == 59
            and not any(i.code == "mh_len_below_minimum" for i in issues)):
        assert mh is not None


@SETTINGS
@given(st.binary(max_size=300), st.booleans())
def test_arbitrary_bytes(buf, snap_cut):
    check(buf, snap_cut)


@SETTINGS
@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=2100), st.booleans())
def test_arbitrary_common_header(hlen, mtype, rest, snap_cut):
    # a plausible common header in front of random bytes: reaches every message parser
    check(bytes([59, hlen, mtype, 0, 0, 0]) + rest, snap_cut)


@SETTINGS
@given(st.sampled_from(sorted(MESSAGE_CLASSES)), st.integers(0, 4), st.binary(min_size=0, max_size=40),
       st.booleans())
def test_message_fields(mtype, hlen, rest, snap_cut):
    # every flag pattern, status, sequence number, lifetime, cookie, cut or whole
    check(bytes([59, hlen, mtype, 0, 0, 0]) + rest, snap_cut)


@st.composite
def mutated(draw):
    buf = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and buf:
            buf[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and buf:
            del buf[pos]
    return bytes(buf)


@SETTINGS
@given(mutated(), st.booleans())
def test_mutated_valid_messages(buf, snap_cut):
    check(buf, snap_cut)


@SETTINGS
@given(st.binary(max_size=64), st.integers(0, 300))
def test_parse_options_never_raises(buf, wire_len):
    opts, issues = parse_options(buf, wire_len=wire_len)
    assert b"".join(bytes(o) for o in opts) == buf[:sum(len(bytes(o)) for o in opts)]
    assert all(i.code in ("mh_option_overrun", "mh_option_bad_length") for i in issues)


@SETTINGS
@given(mutated())
def test_dpkt_ip6_with_mh_never_raises(mh_bytes):
    ip6 = (H("60000000") + len(mh_bytes).to_bytes(2, "big") + bytes([135, 64])
           + bytes(32) + mh_bytes)
    pkt = dpkt.ip6.IP6(ip6)  # IP6 keeps raw bytes when MH raises UnpackError
    assert isinstance(pkt.data, (MH, bytes))
    if isinstance(pkt.data, MH):
        assert bytes(pkt.data) == mh_bytes


@SETTINGS
@given(st.binary(max_size=64), st.integers(0, 300))
def test_walk_options_tells_the_octets_the_options_took(buf, wire_len):
    """The consumed length `_Message.unpack` cuts ``data`` at is what the
    options give back when serialised, and the rest is not an option."""
    opts, issues, used = walk_options(buf, wire_len=wire_len)
    parsed, parse_issues = parse_options(buf, wire_len=wire_len)
    assert [bytes(o) for o in opts] == [bytes(o) for o in parsed] and issues == parse_issues
    assert b"".join(bytes(o) for o in opts) == buf[:used]
