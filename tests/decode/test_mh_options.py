"""Mobility options: hand-written bytes from the RFC layouts, parsed through
parse_mh, plus the length checks of parse_options.

Each literal is a whole Mobility Header (common header, message data, options,
padding) written out by hand; Header Len is counted by hand as well.
"""

from __future__ import annotations

import ipaddress

import pytest

from mipv6scope.decode.mh import parse_mh
from mipv6scope.decode.mh_options import (
    OPTION_CLASSES,
    AccessTechnologyType,
    AlternateCoA,
    BindingAuthData,
    BindingRefreshAdvice,
    GREKey,
    HandoffIndicator,
    HomeNetworkPrefix,
    IPv4AddressAcknowledgement,
    IPv4CareOfAddress,
    IPv4HomeAddress,
    LinkLocalAddress,
    MNIdentifier,
    MNLinkLayerIdentifier,
    MobileNetworkPrefix,
    NonceIndices,
    Pad1,
    PadN,
    Timestamp,
    UnknownOption,
    align_options,
    parse_options,
)

H = bytes.fromhex
BU12 = "3b{hl}0500" "0000" "0001" "8000" "0004"  # BU: seq 1, A, lifetime 4
BA12 = "3b{hl}0600" "0000" "00" "80" "0001" "0004"  # BA: accepted, K, seq 1, lifetime 4


def opts_of(hexstr: str) -> tuple[list[dict], list[str]]:
    mh, d, issues = parse_mh(H(hexstr))
    assert d["length"] == len(H(hexstr)), "hand-counted Header Len is wrong"
    if mh is not None:
        assert bytes(mh) == H(hexstr)
    return d["options"], [i.code for i in issues]


def real(options):
    return [o for o in options if o["type"] not in (0, 1)]


def test_binding_refresh_advice():
    opts, issues = opts_of(BA12.format(hl="01") + "0202003c")
    assert issues == []
    assert opts == [{"type": 2, "name": "Binding Refresh Advice", "length": 2,
                     "refresh_units": 60, "refresh_s": 240}]


def test_alternate_coa():
    opts, issues = opts_of(BU12.format(hl="03") + "0100" "0310" "20010db8000200000000000000000100")
    assert issues == []
    assert opts[1] == {"type": 3, "name": "Alternate Care-of Address", "length": 16,
                       "address": "2001:db8:2::100"}


def test_nonce_indices_and_binding_auth_data():
    # correspondent registration: Nonce Indices at 12 (2n), BAD at 18 (8n+2)
    opts, issues = opts_of(BU12.format(hl="03") + "040400050006"
                           "050c" "a0a1a2a3a4a5a6a7a8a9aaab")
    assert issues == []
    assert opts == [
        {"type": 4, "name": "Nonce Indices", "length": 4,
         "home_nonce_index": 5, "careof_nonce_index": 6},
        {"type": 5, "name": "Authorization Data", "length": 12,
         "authenticator": "a0a1a2a3a4a5a6a7a8a9aaab"},
    ]


def test_mobile_network_prefix():
    opts, issues = opts_of(BU12.format(hl="03") + "0612" "00" "30"
                           "20010db8010000000000000000000000")
    assert issues == []
    assert opts == [{"type": 6, "name": "Mobile Network Prefix", "length": 18,
                     "prefix": "2001:db8:100::", "prefix_len": 48}]


def test_mn_identifier_text_and_binary():
    nai = b"mn1@example.com".hex()
    opts, issues = opts_of(BU12.format(hl="03") + "081001" + nai + "0100")
    assert issues == []
    assert opts[0] == {"type": 8, "name": "Mobile Node Identifier", "length": 16,
                       "subtype": 1, "subtype_name": "NAI", "identifier": "mn1@example.com"}
    # an EUI-48 (subtype 5) is not printable text: hex
    opts, issues = opts_of(BU12.format(hl="02") + "080705001122334455" "010100")
    assert issues == []
    assert opts[0] == {"type": 8, "name": "Mobile Node Identifier", "length": 7,
                       "subtype": 5, "subtype_name": "EUI-48 address",
                       "identifier": "001122334455"}
    # invalid UTF-8 and an unassigned subtype
    opts, _ = opts_of(BU12.format(hl="01") + "0802c8ff")
    assert opts[0]["identifier"] == "ff" and opts[0]["subtype_name"] == "Unknown (200)"


PBU = (BU12.format(hl="0a").replace("8000", "8200", 1)  # A and P flags
       + "1612" "00" "40" "20010db8aaaabbbb0000000000000000"  # HNP at 12 (8n+4)
       + "17020001"                                            # Handoff Indicator at 32
       + "18020004"                                            # ATT at 36
       + "0100" "1908" "0000" "021122334455"                   # MN LL-ID at 42 (8n+2)
       + "010400000000" "1b08" "00004c044d804000"              # Timestamp at 58 (8n+2)
       + "0100" "1a10" "fe800000000000000211" "22fffe334455")  # LLA at 70 (8n+6)


def test_pmipv6_options():
    mh, d, issues = parse_mh(H(PBU))
    assert issues == [] and d["length"] == 88 and bytes(mh) == H(PBU)
    assert d["flags"] == ["A", "P"]
    hnp, hi, att, mnlli, ts, lla = real(d["options"])
    assert hnp == {"type": 22, "name": "Home Network Prefix", "length": 18,
                   "prefix": "2001:db8:aaaa:bbbb::", "prefix_len": 64}
    assert hi == {"type": 23, "name": "Handoff Indicator", "length": 2, "handoff_indicator": 1,
                  "handoff_indicator_name": "Attachment over a new interface"}
    assert att == {"type": 24, "name": "Access Technology Type", "length": 2,
                   "access_technology": 4, "access_technology_name": "IEEE 802.11a/b/g"}
    assert mnlli == {"type": 25, "name": "Mobile Node Link-layer Identifier", "length": 8,
                     "identifier": "021122334455"}
    # RFC 5213 8.8: 48 bits of seconds since 1970, 0x4c044d80 = 1275350400 =
    # 2010-06-01T00:00:00Z, then 16 bits of 1/65536 s: 0x4000 = 0.25 s
    assert ts == {"type": 27, "name": "Timestamp", "length": 8,
                  "timestamp": 1275350400.25, "raw": "00004c044d804000"}
    assert lla == {"type": 26, "name": "Link-local Address", "length": 16,
                   "address": "fe80::211:22ff:fe33:4455"}
    assert [o["type"] for o in d["options"]] == [22, 23, 24, 1, 25, 1, 27, 1, 26]


def test_ipv4_home_address():
    # Prefix-len 24 (011000), P 1, Reserved 0: 0110 0010 0000 0000 = 0x6200
    opts, issues = opts_of(BU12.format(hl="02") + "1d06" "6200" "c0000201" "01020000")
    assert issues == []
    assert opts[0] == {"type": 29, "name": "IPv4 Home Address", "length": 6,
                       "address": "192.0.2.1", "prefix_len": 24, "p_flag": True}
    # Prefix-len 32 (100000), P 0, and reserved bits set (ignored): 0x807f
    opts, _ = opts_of(BU12.format(hl="02") + "1d06" "807f" "00000000" "01020000")
    assert (opts[0]["prefix_len"], opts[0]["p_flag"], opts[0]["address"]) == (32, False, "0.0.0.0")


def test_ipv4_address_acknowledgement():
    # Status 128, Pref-len 24 << 2 = 0x60
    opts, issues = opts_of(BA12.format(hl="02") + "1e06" "80" "60" "c0000201" "01020000")
    assert issues == []
    assert opts[0] == {"type": 30, "name": "IPv4 Address Acknowledgement", "length": 6,
                       "status": 128, "status_name": "Failure, reason unspecified",
                       "prefix_len": 24, "address": "192.0.2.1"}
    opts, _ = opts_of(BA12.format(hl="02") + "1e06" "00" "7f" "c6336407" "01020000")
    assert (opts[0]["status_name"], opts[0]["prefix_len"]) == ("Success", 31)


def test_ipv4_care_of_address():
    opts, issues = opts_of(BU12.format(hl="02") + "2006" "0000" "c6336407" "01020000")
    assert issues == []
    assert opts[0] == {"type": 32, "name": "IPv4 Care-of Address", "length": 6,
                       "address": "198.51.100.7"}


def test_gre_key_with_and_without_identifier():
    opts, issues = opts_of(BU12.format(hl="02") + "2106" "0000" "0001e240" "01020000")
    assert issues == []
    assert opts[0] == {"type": 33, "name": "GRE Key", "length": 6, "gre_key": 123456}
    opts, issues = opts_of(BU12.format(hl="01") + "21020000")
    assert issues == []
    assert opts[0] == {"type": 33, "name": "GRE Key", "length": 2, "gre_key": None}


def test_pad1_padn_and_unknown():
    opts, issues = opts_of(BU12.format(hl="01") + "00000000")
    assert issues == [] and opts == [{"type": 0, "name": "Pad1"}] * 4
    opts, issues = opts_of(BU12.format(hl="02") + "c803aabbcc" "07020255" "00" "0100")
    assert issues == []
    assert opts == [
        {"type": 200, "name": "Unknown (200)", "length": 3, "data": "aabbcc"},
        {"type": 7, "name": "Mobility Header Link-Layer Address", "length": 2, "data": "0255"},
        {"type": 0, "name": "Pad1"},
        {"type": 1, "name": "PadN", "length": 0},
    ]


def test_bad_length_kept_as_unknown():
    # Nonce Indices with length 16 (Scapy's default): wrong, kept as bytes
    opts, issues = opts_of(BU12.format(hl="03") + "0410" + "00" * 16 + "0100")
    assert issues == ["mh_option_bad_length"]
    assert opts[0] == {"type": 4, "name": "Nonce Indices", "length": 16, "data": "00" * 16}
    _, _, iss = parse_mh(H(BU12.format(hl="03") + "0410" + "00" * 16 + "0100"))
    assert iss[0].layer == "mh_option" and "offset 12" in iss[0].detail
    assert "type 4" in iss[0].detail
    # too short for its Reserved field
    opts, issues = opts_of(BU12.format(hl="01") + "19020000")
    assert issues == [] and opts[0]["identifier"] == ""
    opts, issues = opts_of(BU12.format(hl="01") + "190100" "00")
    assert issues == ["mh_option_bad_length"] and opts[0]["data"] == "00"
    opts, issues = opts_of(BU12.format(hl="01") + "08000000")
    assert issues == ["mh_option_bad_length"]


def test_overrun_stops_the_walk():
    # an Alternate CoA (length 16) in a header that ends 8 octets early
    hexstr = BU12.format(hl="02") + "0100" "0310" "20010db800020000"
    mh, d, issues = parse_mh(H(hexstr))
    assert [i.code for i in issues] == ["mh_option_overrun"]
    assert issues[0].layer == "mh_option" and "offset 14" in issues[0].detail
    assert d["options"] == [{"type": 1, "name": "PadN", "length": 0}]
    assert mh is not None and bytes(mh) == H(hexstr)
    # one octet too long: a PadN of length 3 at offset 12 of a 16-octet header
    _, d, issues = parse_mh(H(BU12.format(hl="01") + "01030000"))
    assert [i.code for i in issues] == ["mh_option_overrun"] and d["options"] == []
    assert "runs 1 octet(s) past" in issues[0].detail
    # the same with the capture cut inside the header: the cut is not an overrun
    opts, issues = parse_options(H("010300"), wire_len=5)
    assert (opts, issues) == ([], [])
    opts, issues = parse_options(H("010300"), wire_len=4)
    assert [i.code for i in issues] == ["mh_option_overrun"]
    # the last octet of the header is an option type: no room for its length
    hexstr = BU12.format(hl="01") + "010100" "05"
    _, d, issues = parse_mh(H(hexstr))
    assert [i.code for i in issues] == ["mh_option_overrun"]
    assert d["options"] == [{"type": 1, "name": "PadN", "length": 1}]


def test_options_stop_at_header_len_not_buffer_end():
    # Header Len 1 (16 octets); the octets after it are not options
    hexstr = BU12.format(hl="01") + "01020000" + "0310" + "00" * 16
    mh, d, issues = parse_mh(H(hexstr))
    assert issues == [] and d["options"] == [{"type": 1, "name": "PadN", "length": 2}]
    assert mh.trailer == H("0310" + "00" * 16)


def test_parse_options_wire_len():
    acoa = H("0310") + bytes(16)
    assert parse_options(acoa[:10])[1][0].code == "mh_option_overrun"
    opts, issues = parse_options(acoa[:10], wire_len=18)
    assert opts == [] and issues == []
    opts, issues = parse_options(acoa[:10], wire_len=12)
    assert [i.code for i in issues] == ["mh_option_overrun"]
    opts, issues = parse_options(b"\x01", wire_len=4)
    assert opts == [] and issues == []
    opts, issues = parse_options(b"\x00\x01", base_offset=20)
    assert len(opts) == 1 and "offset 21" in issues[0].detail


# ---------------------------------------------------------------- building
A6 = ipaddress.IPv6Address


@pytest.mark.parametrize("opt,hexstr", [
    (Pad1(), "00"),
    (PadN(data=b"\x00\x00\x00"), "0103000000"),
    (BindingRefreshAdvice(refresh_interval=60), "0202003c"),
    (AlternateCoA(alternate_coa=A6("2001:db8::1").packed), "031020010db8000000000000000000000001"),
    (NonceIndices(home_nonce_index=5, careof_nonce_index=6), "040400050006"),
    (BindingAuthData(data=H("a0a1a2a3a4a5a6a7a8a9aaab")), "050ca0a1a2a3a4a5a6a7a8a9aaab"),
    (MobileNetworkPrefix(prefix_len=48, prefix=A6("2001:db8:100::").packed),
     "0612003020010db8010000000000000000000000"),
    (MNIdentifier(subtype=1, data=b"mn"), "0803016d6e"),
    (HomeNetworkPrefix(prefix_len=64, prefix=A6("2001:db8:aaaa:bbbb::").packed),
     "1612004020010db8aaaabbbb0000000000000000"),
    (HandoffIndicator(hi=1), "17020001"),
    (AccessTechnologyType(att=4), "18020004"),
    (MNLinkLayerIdentifier(data=H("021122334455")), "19080000021122334455"),
    (LinkLocalAddress(address=A6("fe80::1").packed), "1a10fe800000000000000000000000000001"),
    (Timestamp(timestamp=0x00004C044D804000), "1b0800004c044d804000"),
    (IPv4HomeAddress(prefix_len=24, p=1, address=bytes([192, 0, 2, 1])), "1d066200c0000201"),
    (IPv4AddressAcknowledgement(status=128, prefix_len=24, address=bytes([192, 0, 2, 1])),
     "1e068060c0000201"),
    (IPv4CareOfAddress(address=bytes([198, 51, 100, 7])), "20060000c6336407"),
    (GREKey(data=(123456).to_bytes(4, "big")), "210600000001e240"),
    (GREKey(data=b""), "21020000"),
    (UnknownOption(type=200, data=H("aabbcc")), "c803aabbcc"),
])
def test_option_encoding(opt, hexstr):
    assert bytes(opt) == H(hexstr)
    assert bytes(parse_options(H(hexstr))[0][0]) == H(hexstr)


def test_option_table_types():
    # type numbers from the IANA registry, as each class declares them
    assert {n: c.__name__ for n, c in OPTION_CLASSES.items()} == {
        0: "Pad1", 1: "PadN", 2: "BindingRefreshAdvice", 3: "AlternateCoA",
        4: "NonceIndices", 5: "BindingAuthData", 6: "MobileNetworkPrefix",
        8: "MNIdentifier", 22: "HomeNetworkPrefix", 23: "HandoffIndicator",
        24: "AccessTechnologyType", 25: "MNLinkLayerIdentifier", 26: "LinkLocalAddress",
        27: "Timestamp", 29: "IPv4HomeAddress", 30: "IPv4AddressAcknowledgement",
        32: "IPv4CareOfAddress", 33: "GREKey"}


def test_align_options():
    acoa = AlternateCoA()
    ni = NonceIndices()
    bad = BindingAuthData(data=bytes(12))
    # from offset 12: PadN(0) before the CoA (8n+6), NI at 32 (2n), BAD needs 8n+2
    out = align_options([acoa, ni, bad], 12)
    assert [type(o).__name__ for o in out] == [
        "PadN", "AlternateCoA", "NonceIndices", "PadN", "BindingAuthData"]
    assert b"".join(bytes(o) for o in out)[:2] == H("0100")
    assert bytes(out[3]) == H("01020000")  # 32 + 6 = 38 -> 42
    assert [type(o).__name__ for o in align_options([HandoffIndicator()], 13)] == [
        "HandoffIndicator"]
    assert [type(o).__name__ for o in align_options([BindingRefreshAdvice()], 13)] == [
        "Pad1", "BindingRefreshAdvice"]
