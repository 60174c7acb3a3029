"""Mobility Header messages: literal bytes, round trips, truncation, checks.

Literal messages are written by hand from the RFC 6275 section 6.1 diagrams;
expected values come from those bytes, never from running the decoder.
"""

from __future__ import annotations

import struct

import dpkt
import dpkt.ip6
import pytest

from mipv6scope.decode import mh as mhmod
from mipv6scope.decode.issues import ISSUE_KINDS
from mipv6scope.decode.mh import (
    BA,
    BE,
    BRR,
    BU,
    MH,
    CoT,
    CoTI,
    HoT,
    HoTI,
    MHGeneric,
    build_mh,
    mh_checksum,
    mh_minimum_length,
    parse_mh,
)
from mipv6scope.decode.mh_options import (
    AccessTechnologyType,
    AlternateCoA,
    BindingAuthData,
    BindingRefreshAdvice,
    HandoffIndicator,
    HomeNetworkPrefix,
    IPv4AddressAcknowledgement,
    LinkLocalAddress,
    MNIdentifier,
    NonceIndices,
    Timestamp,
)
from tests.conftest import a16

H = bytes.fromhex
COMMON_KEYS = ["type", "name", "abbrev", "payload_proto", "header_len", "length",
               "checksum", "checksum_ok", "checksum_form", "options"]


def codes(issues):
    return [i.code for i in issues]




def ones_sum_ok(src: bytes, dst: bytes, mh_bytes: bytes) -> bool:
    """Independent check: the one's complement sum over pseudo-header and MH
    (checksum included) must be 0xFFFF."""
    data = src + dst + len(mh_bytes).to_bytes(4, "big") + b"\x00\x00\x00\x87" + mh_bytes
    if len(data) % 2:
        data += b"\x00"
    s = 0
    for i in range(0, len(data), 2):
        s += (data[i] << 8) | data[i + 1]
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


# ---------------------------------------------------------------- literals
LITERALS = {
    # Payload Proto 59, Header Len 0, Type 0, Reserved, Checksum 0x1234, Reserved
    "BRR": ("3b000000" "1234" "0000", {
        "type": 0, "name": "Binding Refresh Request", "abbrev": "BRR", "header_len": 0,
        "length": 8, "checksum": 0x1234}),
    "HoTI": ("3b010100" "abcd" "0000" "0102030405060708", {
        "type": 1, "name": "Home Test Init", "abbrev": "HoTI", "header_len": 1,
        "length": 16, "checksum": 0xABCD, "cookie": "0102030405060708"}),
    "CoTI": ("3b010200" "0001" "0000" "1122334455667788", {
        "type": 2, "name": "Care-of Test Init", "abbrev": "CoTI", "header_len": 1,
        "length": 16, "checksum": 1, "cookie": "1122334455667788"}),
    "HoT": ("3b020300" "ffff" "002a" "c1c2c3c4c5c6c7c8" "d1d2d3d4d5d6d7d8", {
        "type": 3, "name": "Home Test", "abbrev": "HoT", "header_len": 2, "length": 24,
        "checksum": 0xFFFF, "home_nonce_index": 42, "cookie": "c1c2c3c4c5c6c7c8",
        "keygen_token": "d1d2d3d4d5d6d7d8"}),
    "CoT": ("3b020400" "0000" "0100" "e1e2e3e4e5e6e7e8" "f1f2f3f4f5f6f7f8", {
        "type": 4, "name": "Care-of Test", "abbrev": "CoT", "header_len": 2, "length": 24,
        "checksum": 0, "careof_nonce_index": 256, "cookie": "e1e2e3e4e5e6e7e8",
        "keygen_token": "f1f2f3f4f5f6f7f8"}),
    # seq 0x1234, flags A H K (0xd000), lifetime 150; PadN(0) then Alternate
    # CoA 2001:db8:2::100 at offset 14 (8n+6)
    "BU": ("3b030500" "5555" "1234" "d000" "0096" "0100"
           "0310" "20010db8000200000000000000000100", {
               "type": 5, "name": "Binding Update", "abbrev": "BU", "header_len": 3,
               "length": 32, "checksum": 0x5555, "seq": 0x1234, "flags": ["A", "H", "K"],
               "lifetime_units": 150, "lifetime_s": 600,
               "options": [{"type": 1, "name": "PadN", "length": 0},
                           {"type": 3, "name": "Alternate Care-of Address", "length": 16,
                            "address": "2001:db8:2::100"}]}),
    # status 0, K, seq 0x1234, lifetime 15; PadN(2)
    "BA": ("3b010600" "0102" "00" "80" "1234" "000f" "01020000", {
        "type": 6, "name": "Binding Acknowledgement", "abbrev": "BA", "header_len": 1,
        "length": 16, "checksum": 0x0102, "status": 0,
        "status_name": "Binding Update accepted/Proxy Binding Update accepted",
        "flags": ["K"], "seq": 0x1234, "lifetime_units": 15, "lifetime_s": 60,
        "options": [{"type": 1, "name": "PadN", "length": 2}]}),
    "BE": ("3b020700" "beef" "01" "00" "20010db8000100000000000000000100", {
        "type": 7, "name": "Binding Error", "abbrev": "BE", "header_len": 2, "length": 24,
        "checksum": 0xBEEF, "status": 1,
        "status_name": "Unknown binding for Home Address destination option",
        "home_address": "2001:db8:1::100"}),
}


@pytest.mark.parametrize("name", list(LITERALS))
def test_literal_message(name):
    hexstr, expected = LITERALS[name]
    buf = H(hexstr)
    mh, d, issues = parse_mh(buf)
    assert issues == []
    want = {"payload_proto": 59, "checksum_ok": None, "checksum_form": None, "options": []}
    want.update(expected)
    assert d == want
    assert list(d)[:len(COMMON_KEYS)] == COMMON_KEYS
    assert mh is not None and bytes(mh) == buf
    assert mh.type == want["type"] and mh.len == want["header_len"] and mh.sum == want["checksum"]
    assert type(mh.data).__name__ == name


def test_bu_flags_bit_order():
    base = "3b010500000000010000000001020000"
    for word, letters in [(0x8000, ["A"]), (0x4000, ["H"]), (0x2000, ["L"]), (0x1000, ["K"]),
                          (0x0800, ["M"]), (0x0400, ["R"]), (0x0200, ["P"]), (0x0100, ["F"]),
                          (0x0080, ["T"]), (0x0040, ["B"]), (0x003F, []),
                          (0xFFC0, list("AHLKMRPFTB"))]:
        buf = bytearray(H(base))
        buf[8:10] = word.to_bytes(2, "big")
        mh, d, _ = parse_mh(bytes(buf))
        assert d["flags"] == letters, hex(word)
        assert (mh.data.a, mh.data.b) == (word >> 15 & 1, word >> 6 & 1)


def test_ba_flags_bit_order_and_status():
    for byte, letters in [(0x80, ["K"]), (0x40, ["R"]), (0x20, ["P"]), (0x10, ["T"]),
                          (0x08, ["B"]), (0x07, []), (0xF8, list("KRPTB"))]:
        buf = H("3b010600000087") + bytes([byte]) + H("0001000001020000")
        _, d, _ = parse_mh(buf)
        assert d["flags"] == letters
        assert d["status"] == 135 and d["status_name"] == "Sequence number out of window"


def test_generic_type_keeps_body():
    # Fast Binding Update (8): its body is kept, not decoded
    buf = H("3b010800abcd" "000180000005" "01020000")
    mh, d, issues = parse_mh(buf)
    assert issues == []
    assert d["name"] == "Fast Binding Update" and d["abbrev"] == "FBU"
    assert d["body"] == "00018000000501020000" and d["options"] == []
    assert isinstance(mh.data, MHGeneric) and bytes(mh) == buf


def test_unassigned_type_names():
    # RFC 6275 9.2: a type nobody defined is reported (a warning: still decoded)
    _, d, issues = parse_mh(H("3b00c8000000cafe"))
    assert [i.code for i in issues] == ["mh_type_unknown"]
    assert d["name"] == "Unknown (200)" and d["abbrev"] == "Unknown (200)"
    assert d["body"] == "cafe"


def test_minimum_lengths():
    # RFC 6275 6.1.2-6.1.9: header lengths of each message without options
    assert {t: mh_minimum_length(t) for t in range(9)} == {
        0: 0, 1: 1, 2: 1, 3: 2, 4: 2, 5: 1, 6: 1, 7: 2, 8: 0}
    assert mh_minimum_length(255) == 0
    assert (mhmod.BRR_DATA_END, mhmod.HOTI_DATA_END, mhmod.COTI_DATA_END, mhmod.HOT_DATA_END,
            mhmod.COT_DATA_END, mhmod.BU_DATA_END, mhmod.BA_DATA_END,
            mhmod.BE_DATA_END) == (8, 16, 16, 24, 24, 12, 12, 24)


def test_payload_proto_not_59_still_decoded():
    buf = H("06000000" "0000" "0000")
    mh, d, issues = parse_mh(buf)
    assert codes(issues) == ["mh_payload_proto_not_59"]
    assert issues[0].layer == "mh"
    assert d["payload_proto"] == 6 and d["type"] == 0 and mh is not None


def test_len_below_minimum():
    # a BU claiming Header Len 0 (8 octets): only the sequence number is inside
    buf = H("3b0005000000" "0007") + H("c0000064" "01020000")  # octets after the header
    mh, d, issues = parse_mh(buf)
    assert codes(issues) == ["mh_len_below_minimum"]
    assert mh is None
    assert d["seq"] == 7 and d["flags"] is None and d["lifetime_units"] is None
    assert d["lifetime_s"] is None and d["options"] == []
    # a BE with Header Len 1: status is there, the home address is not
    _, d, issues = parse_mh(H("3b0107000000" "0200" "2001000000000000"))
    assert codes(issues) == ["mh_len_below_minimum"]
    assert d["status"] == 2 and d["status_name"] == "Unrecognized MH Type value"
    assert d["home_address"] is None


@pytest.mark.parametrize("snap_cut,code", [(True, "truncated_by_snaplen"),
                                           (False, "mh_len_beyond_packet")])
def test_len_beyond_packet(snap_cut, code):
    full = H(LITERALS["BU"][0])
    mh, d, issues = parse_mh(full[:16], snap_cut=snap_cut)
    assert codes(issues) == [code]
    assert mh is None
    assert d["seq"] == 0x1234 and d["flags"] == ["A", "H", "K"] and d["lifetime_s"] == 600
    assert d["length"] == 32
    # the PadN is inside the capture, the Alternate CoA is cut: no overrun issue
    assert d["options"] == [{"type": 1, "name": "PadN", "length": 0}]


def test_tiny_buffers():
    for buf, snap, code in [(b"", False, "truncated_header"), (b"\x3b", True, "truncated_by_snaplen"),
                            (b"\x3b\x01", False, "mh_len_beyond_packet")]:
        mh, d, issues = parse_mh(buf, snap_cut=snap)
        assert mh is None and d is None and codes(issues) == [code]
    mh, d, issues = parse_mh(b"\x3b\x01\x05")
    assert d["type"] == 5 and d["checksum"] is None and d["seq"] is None
    assert codes(issues) == ["mh_len_beyond_packet"]


def test_trailer_after_header_kept():
    buf = H("06000000" "0000" "0000") + b"piggyback"
    mh, d, issues = parse_mh(buf)
    assert mh.trailer == b"piggyback" and bytes(mh) == buf
    assert codes(issues) == ["mh_payload_proto_not_59"]


def test_issue_codes_registered():
    for name in LITERALS:
        buf = H(LITERALS[name][0])
        for k in range(len(buf)):
            for i in parse_mh(buf[:k])[2]:
                assert i.code in ISSUE_KINDS


# ---------------------------------------------------------------- dpkt
def test_registered_with_dpkt_ip6():
    mh_bytes = H(LITERALS["BU"][0])
    ip6 = (H("60000000") + len(mh_bytes).to_bytes(2, "big") + bytes([135, 64])
           + a16("2001:db8:2::100") + a16("2001:db8:1::1") + mh_bytes)
    pkt = dpkt.ip6.IP6(ip6)
    assert isinstance(pkt.data, MH)
    assert isinstance(pkt.data.data, BU) and pkt.data.data.seq == 0x1234
    assert pkt.mh is pkt.data and pkt.data.bu is pkt.data.data
    assert dpkt.ip6.IP6.get_proto(135) is MH
    assert bytes(pkt) == ip6


def test_dpkt_errors():
    with pytest.raises(dpkt.NeedData):
        MH(H("3b0105000000"))
    with pytest.raises(dpkt.NeedData):
        MH(H("3b01050000000000"))  # Header Len 1: 16 octets, 8 present
    with pytest.raises(dpkt.UnpackError) as exc:
        MH(H("3b0007000000" "0000"))  # a BE in 8 octets: malformed, not truncated
    assert not isinstance(exc.value, dpkt.NeedData)


# ---------------------------------------------------------------- building
SRC = a16("2001:db8:2::100")
DST = a16("2001:db8:1::1")


def built_messages():
    """Each message built from fields, with options, and the values it was given."""
    return {
        "BRR": (BRR(), [MNIdentifier(subtype=1, data=b"mn@example.com")],
                {"type": 0}),
        "HoTI": (HoTI(home_init_cookie=H("0102030405060708")),
                 [Timestamp(timestamp=(1275350400 << 16) | 0x8000)],
                 {"type": 1, "cookie": "0102030405060708"}),
        "CoTI": (CoTI(careof_init_cookie=H("a1a2a3a4a5a6a7a8")),
                 [LinkLocalAddress(address=a16("fe80::1"))],
                 {"type": 2, "cookie": "a1a2a3a4a5a6a7a8"}),
        "HoT": (HoT(home_nonce_index=7, home_init_cookie=H("0102030405060708"),
                    home_keygen_token=H("1112131415161718")),
                [HandoffIndicator(hi=4)],
                {"type": 3, "home_nonce_index": 7, "cookie": "0102030405060708",
                 "keygen_token": "1112131415161718"}),
        "CoT": (CoT(careof_nonce_index=65535, careof_init_cookie=H("a1a2a3a4a5a6a7a8"),
                    careof_keygen_token=H("b1b2b3b4b5b6b7b8")),
                [AccessTechnologyType(att=8)],
                {"type": 4, "careof_nonce_index": 65535, "cookie": "a1a2a3a4a5a6a7a8",
                 "keygen_token": "b1b2b3b4b5b6b7b8"}),
        "BU": (BU(seq=65000, a=1, k=1, lifetime=0xFFFF),
               [AlternateCoA(alternate_coa=a16("2001:db8:2::100")),
                NonceIndices(home_nonce_index=1, careof_nonce_index=2),
                BindingAuthData(data=bytes(range(12)))],
               {"type": 5, "seq": 65000, "flags": ["A", "K"], "lifetime_units": 0xFFFF,
                "lifetime_s": 0xFFFF * 4}),
        "BA": (BA(status=129, k=1, r=1, seq=3, lifetime=10),
               [BindingRefreshAdvice(refresh_interval=5),
                IPv4AddressAcknowledgement(status=0, prefix_len=24, address=b"\xc0\x00\x02\x01")],
               {"type": 6, "status": 129, "status_name": "Administratively prohibited",
                "flags": ["K", "R"], "seq": 3, "lifetime_units": 10, "lifetime_s": 40}),
        "BE": (BE(status=2, home_address=a16("2001:db8:1::100")),
               [HomeNetworkPrefix(prefix_len=64, prefix=a16("2001:db8:1::"))],
               {"type": 7, "status": 2, "status_name": "Unrecognized MH Type value",
                "home_address": "2001:db8:1::100"}),
    }


OPTION_EXPECT = {
    "BRR": {"type": 8, "subtype": 1, "subtype_name": "NAI", "identifier": "mn@example.com"},
    "HoTI": {"type": 27, "timestamp": 1275350400.5, "raw": "00004c044d808000"},
    "CoTI": {"type": 26, "address": "fe80::1"},
    "HoT": {"type": 23, "handoff_indicator": 4, "handoff_indicator_name": "Handoff state unknown"},
    "CoT": {"type": 24, "access_technology": 8, "access_technology_name": "3GPP E-UTRAN"},
    "BE": {"type": 22, "prefix": "2001:db8:1::", "prefix_len": 64},
}


def real_options(d):
    return [o for o in d["options"] if o["type"] not in (0, 1)]


@pytest.mark.parametrize("name", list(built_messages()))
def test_round_trip(name):
    msg, opts, expected = built_messages()[name]
    buf = build_mh(msg, opts, SRC, DST)
    assert len(buf) % 8 == 0
    assert ones_sum_ok(SRC, DST, buf)
    mh, d, issues = parse_mh(buf)
    assert issues == []
    assert d["length"] == len(buf) and d["header_len"] == len(buf) // 8 - 1
    assert d["payload_proto"] == 59
    for key, value in expected.items():
        assert d[key] == value, key
    assert mh_checksum(SRC, DST, buf) == d["checksum"]
    assert bytes(mh) == buf
    assert bytes(MH(buf)) == buf
    assert mh.to_dict() == d
    got = real_options(d)
    assert len(got) == len(opts)
    if name in OPTION_EXPECT:
        for key, value in OPTION_EXPECT[name].items():
            assert got[0][key] == value, key


def test_round_trip_option_values_bu_ba():
    _, d, _ = parse_mh(build_mh(*built_messages()["BU"][:2], SRC, DST))
    acoa, ni, bad = real_options(d)
    assert acoa["address"] == "2001:db8:2::100"
    assert (ni["home_nonce_index"], ni["careof_nonce_index"]) == (1, 2)
    assert bad["authenticator"] == "000102030405060708090a0b" and bad["length"] == 12
    _, d, _ = parse_mh(build_mh(*built_messages()["BA"][:2], SRC, DST))
    bra, ack = real_options(d)
    assert (bra["refresh_units"], bra["refresh_s"]) == (5, 20)
    assert (ack["status"], ack["prefix_len"], ack["address"]) == (0, 24, "192.0.2.1")


def test_build_alignment_and_padding():
    # BU data ends at 12; the Alternate CoA wants 8n+6, so PadN(0) first,
    # then 32 octets in all: exactly the literal BU above, with a real checksum
    buf = build_mh(BU(seq=0x1234, a=1, h=1, k=1, lifetime=150),
                   [AlternateCoA(alternate_coa=a16("2001:db8:2::100"))], SRC, DST)
    lit = bytearray(H(LITERALS["BU"][0]))
    lit[4:6] = buf[4:6]
    assert buf == bytes(lit)
    # a bare BU gets four octets of PadN and Header Len 1
    assert build_mh(BU(), [], SRC, DST)[12:] == H("01020000")
    # four octets to fill: PadN(2); three: PadN(1); one: Pad1
    assert build_mh(BRR(), [HandoffIndicator(hi=1)], SRC, DST)[8:] == H("17020001" "01020000")
    assert build_mh(BRR(), [MNIdentifier(subtype=1, data=b"ab")], SRC, DST)[8:] == \
        H("0803016162" "010100")
    assert build_mh(BRR(), [MNIdentifier(subtype=1, data=b"abcd")], SRC, DST)[8:] == \
        H("0805016162636400")


def test_checksum_independent():
    buf = build_mh(BE(status=1, home_address=a16("2001:db8:1::100")), [], SRC, DST)
    assert ones_sum_ok(SRC, DST, buf)
    bad = bytearray(buf)
    bad[10] ^= 1
    assert mh_checksum(SRC, DST, bytes(bad)) != struct.unpack(">H", buf[4:6])[0]
    assert not ones_sum_ok(SRC, DST, bytes(bad))
    # the checksum field itself does not enter the computation
    other = bytearray(buf)
    other[4:6] = b"\x12\x34"
    assert mh_checksum(SRC, DST, bytes(other)) == mh_checksum(SRC, DST, buf)


# ---------------------------------------------------------------- truncation
FIELD_ENDS = {  # octet where each dict field ends, from the RFC diagrams
    "payload_proto": 1, "header_len": 2, "length": 2, "type": 3, "name": 3, "abbrev": 3,
    "checksum": 6, "cookie": 16, "home_nonce_index": 8, "careof_nonce_index": 8,
    "keygen_token": 24, "seq": None, "flags": None, "status": 7, "status_name": 7,
    "home_address": 24, "lifetime_units": 12, "lifetime_s": 12,
}
SEQ_FLAG_ENDS = {"BU": {"seq": 8, "flags": 10}, "BA": {"seq": 10, "flags": 8}}


def option_spans(d, start):
    pos = start
    spans = []
    for o in d["options"]:
        size = 1 if o["type"] == 0 else 2 + o["length"]
        spans.append((o, pos + size))
        pos += size
    return spans


DATA_END = {"BRR": 8, "HoTI": 16, "CoTI": 16, "HoT": 24, "CoT": 24, "BU": 12, "BA": 12, "BE": 24}


@pytest.mark.parametrize("name", list(built_messages()))
@pytest.mark.parametrize("snap_cut", [True, False])
def test_every_truncated_prefix(name, snap_cut):
    msg, opts, expected = built_messages()[name]
    buf = build_mh(msg, opts, SRC, DST)
    _, full, _ = parse_mh(buf)
    ends = dict(FIELD_ENDS)
    ends.update(SEQ_FLAG_ENDS.get(name, {}))
    for k in range(len(buf)):
        mh, d, issues = parse_mh(buf[:k], snap_cut=snap_cut)
        assert mh is None
        assert issues, k
        if snap_cut:
            assert codes(issues) == ["truncated_by_snaplen"]
        else:
            assert codes(issues) == ["truncated_header" if k < 2 else "mh_len_beyond_packet"]
        if k < 3:
            assert d is None
            continue
        assert set(d) == set(full)
        for key, value in d.items():
            if key in ("checksum_ok", "checksum_form", "options"):
                continue
            end = ends[key]
            assert value == (full[key] if end <= k else None), (k, key)
        inside = [o for o, end in option_spans(full, DATA_END[name]) if end <= k]
        assert d["options"] == inside, k
    # and the full message against the values it was built from
    for key, value in expected.items():
        assert full[key] == value
