"""Neighbor Discovery as Mobile IPv6 uses it (RFC 4861 4.1-4.6, RFC 6275 7.1-7.4).

Hand-written hex from the RFC diagrams, Scapy as an independent encoder and
tshark as an independent decoder.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

import dpkt
import dpkt.icmp6
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipv6scope.decode import icmp6 as m
from mipv6scope.decode import nd_options as nd
from mipv6scope.decode.icmp6 import build_icmp6, icmp6_checksum_ok, parse_icmp6
from tests.conftest import a16, h

scapy_all = pytest.importorskip("scapy.all")
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptAdvInterval,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptHAInfo,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)

HA_LL = "fe80::211:22ff:fe33:4455"
HA1 = "2001:db8:1::1"
MN_LL = "fe80::6677:88ff:fe99:aabb"






# ---------------------------------------------------------------- literals

# RFC 4861 4.2 + RFC 6275 7.1: hop limit 64, flags 0x28 = H (0x20) and
# Prf=01 high (0x08), router lifetime 1800 s, reachable 1000 ms, retrans 500 ms.
RA_HA = h("""
    86 00 0102
    40 28 0708  0000 03e8  0000 01f4
    03 04 40 e0  0027 8d00  0009 3a80  0000 0000
    2001 0db8 0001 0000 0000 0000 0000 0001
    07 01 0000 0000 05dc
    08 01 0000 fffe 0e10
    01 01 0011 2233 4455
""")
# Prefix information: /64, L A R, valid 2592000 s, preferred 604800 s, the
# router's own address 2001:db8:1::1 (R set, RFC 6275 7.2); Advertisement
# Interval 1500 ms (7.3); Home Agent Information preference -2, lifetime
# 3600 s (7.4); Source link-layer address 00:11:22:33:44:55.
RA_HA_PREFIX = {"prefix": HA1, "prefix_len": 64, "flags": ["L", "A", "R"],
                "valid_lifetime_s": 2592000, "preferred_lifetime_s": 604800}

# Flags 0xdc = M O, Prf 11 (low), P; no options.
RA_MOP = h("86 00 0000  ff dc 0000  0000 0000  0000 0000")
# RFC 4861 4.1 with a Source link-layer address option.
RS = h("85 00 0000  0000 0000  01 01 6677 8899 aabb")
# RFC 4861 4.3: reserved, target, Source link-layer address option.
NS = h("""
    87 00 0303  0000 0000
    fe80 0000 0000 0000 0211 22ff fe33 4455
    01 01 6677 8899 aabb
""")
# RFC 4861 4.4: R S O = 0xe0, target 2001:db8:1::1, Target link-layer address.
NA = h("""
    88 00 0404  e000 0000
    2001 0db8 0001 0000 0000 0000 0000 0001
    02 01 0011 2233 4455
""")


def test_registered_in_dpkt():
    for buf, cls in ((RS, m.RouterSolicitation), (RA_HA, m.RouterAdvertisement),
                     (NS, m.NeighborSolicitation), (NA, m.NeighborAdvertisement)):
        assert type(dpkt.icmp6.ICMP6(buf).data) is cls
    ra = dpkt.icmp6.ICMP6(RA_HA).data
    assert (ra.hop_limit, ra.m, ra.o, ra.h, ra.prf, ra.p) == (64, 0, 0, 1, 1, 0)
    assert (ra.router_lifetime, ra.reachable_time, ra.retrans_timer) == (1800, 1000, 500)
    assert [type(o) for o in ra.options] == [nd.PrefixInformation, nd.AdvertisementInterval,
                                             nd.HomeAgentInformation, nd.SourceLinkLayerAddress]
    hai = ra.options[2]
    assert (hai.preference, hai.lifetime) == (-2, 3600)
    na = dpkt.icmp6.ICMP6(NA).data
    assert (na.r, na.s, na.o, na.target) == (1, 1, 1, a16(HA1))


def test_ra_home_agent_literal():
    d, issues = parse_icmp6(RA_HA)
    assert issues == []
    assert d == {
        "type": 134, "code": 0, "name": "Router Advertisement", "checksum": 0x0102,
        "hop_limit": 64, "flags": ["H"], "preference": "high", "home_agent": True,
        "router_lifetime_s": 1800, "reachable_ms": 1000, "retrans_ms": 500,
        "prefixes": [RA_HA_PREFIX],
        "options": [
            {"type": 3, "name": "Prefix information", "length": 4, **RA_HA_PREFIX},
            {"type": 7, "name": "Advertisement Interval", "length": 1, "interval_ms": 1500},
            {"type": 8, "name": "Home Agent Information", "length": 1,
             "preference": -2, "lifetime_s": 3600},
            {"type": 1, "name": "Source link-layer address", "length": 1,
             "address": "00:11:22:33:44:55"},
        ],
    }


def test_ra_other_flags_and_preferences():
    d, issues = parse_icmp6(RA_MOP)
    assert issues == []
    assert d["hop_limit"] == 255
    assert d["flags"] == ["M", "O", "P"]
    assert d["preference"] == "low"
    assert d["home_agent"] is False
    assert d["router_lifetime_s"] == 0 and d["prefixes"] == [] and d["options"] == []
    for byte, pref in ((0x00, "medium"), (0x08, "high"), (0x10, "reserved"), (0x18, "low")):
        buf = bytearray(RA_MOP)
        buf[5] = byte
        got = parse_icmp6(bytes(buf))[0]
        assert (got["preference"], got["flags"]) == (pref, []), hex(byte)


def test_rs_ns_na_literals():
    d, issues = parse_icmp6(RS)
    assert issues == []
    assert d == {"type": 133, "code": 0, "name": "Router Solicitation", "checksum": 0,
                 "options": [{"type": 1, "name": "Source link-layer address", "length": 1,
                              "address": "66:77:88:99:aa:bb"}]}
    d, issues = parse_icmp6(NS)
    assert issues == []
    assert d == {"type": 135, "code": 0, "name": "Neighbor Solicitation", "checksum": 0x0303,
                 "target": HA_LL,
                 "options": [{"type": 1, "name": "Source link-layer address", "length": 1,
                              "address": "66:77:88:99:aa:bb"}]}
    d, issues = parse_icmp6(NA)
    assert issues == []
    assert d == {"type": 136, "code": 0, "name": "Neighbor Advertisement", "checksum": 0x0404,
                 "flags": ["R", "S", "O"], "target": HA1,
                 "options": [{"type": 2, "name": "Target link-layer address", "length": 1,
                              "address": "00:11:22:33:44:55"}]}


def test_na_single_flags():
    for byte, flags in ((0x80, ["R"]), (0x40, ["S"]), (0x20, ["O"]), (0x1f, [])):
        buf = bytearray(NA)
        buf[4] = byte
        assert parse_icmp6(bytes(buf))[0]["flags"] == flags


# ------------------------------------------------------------ option problems

RA_HDR = h("86 00 0000  40 00 0708  0000 0000  0000 0000")
SLLA = h("01 01 0011 2233 4455")


def _codes(issues):
    return [(i.code, i.layer) for i in issues]


def test_zero_length_option_stops_the_walk():
    d, issues = parse_icmp6(RA_HDR + SLLA + h("07 00 0000 0000 05dc") + SLLA)
    assert _codes(issues) == [("nd_option_zero_length", "nd_option")]
    assert [o["type"] for o in d["options"]] == [1]


def test_option_running_past_the_end():
    d, issues = parse_icmp6(RA_HDR + SLLA + h("03 04 40 c0 0000 0000"))
    assert _codes(issues) == [("nd_option_overrun", "nd_option")]
    assert [o["type"] for o in d["options"]] == [1] and d["prefixes"] == []
    _, issues = parse_icmp6(RA_HDR + SLLA + h("03 04 40 c0 0000 0000"), snap_cut=True)
    assert _codes(issues) == [("truncated_by_snaplen", "nd_option")]
    # one stray byte cannot hold an option header
    _, issues = parse_icmp6(RA_HDR + SLLA + h("07"))
    assert _codes(issues) == [("nd_option_overrun", "nd_option")]


@pytest.mark.parametrize("opt, want", [
    (h("03 03 40 c0 0000 0e10 0000 0708 0000 0000 2001 0db8 0001 0000"), 4),  # PI, 24 bytes
    (h("07 02 0000 0000 05dc 0000 0000 0000 0000"), 1),  # Advertisement Interval
    (h("08 02 0000 0001 0e10 0000 0000 0000 0000"), 1),  # Home Agent Information
    (h("05 02 0000 0000 0500 0000 0000 0000 0000"), 1),  # MTU
], ids=["prefix_information", "advertisement_interval", "home_agent_information", "mtu"])
def test_wrong_length_kept_raw(opt, want):
    d, issues = parse_icmp6(RA_HDR + opt + SLLA)
    assert _codes(issues) == [("nd_option_bad_length", "nd_option")]
    assert f"must be {want}" in issues[0].detail
    assert d["prefixes"] == []
    raw, slla = d["options"]
    assert raw == {"type": opt[0], "name": nd.nd_option_name(opt[0]), "length": opt[1],
                   "data": opt[2:].hex()}
    assert slla["address"] == "00:11:22:33:44:55"  # the walk went on


def test_mtu_and_unknown_options():
    d, issues = parse_icmp6(RA_HDR + h("05 01 0000 0000 05dc") + h("c8 01 0102 0304 0506")
                            + h("19 01 0000 0000 0000"))
    assert issues == []
    assert d["options"] == [
        {"type": 5, "name": "MTU", "length": 1, "mtu": 1500},
        {"type": 200, "name": "Unknown", "length": 1, "data": "010203040506"},
        {"type": 25, "name": "Recursive DNS Server", "length": 1, "data": "000000000000"},
    ]


def test_short_ra_decodes_what_fits():
    d, issues = parse_icmp6(RA_HA[:10])
    assert _codes(issues) == [("icmp6_too_short", "icmp6")]
    assert (d["hop_limit"], d["flags"], d["preference"], d["home_agent"]) == (64, ["H"], "high", True)
    assert d["router_lifetime_s"] == 1800
    assert d["reachable_ms"] is None and d["retrans_ms"] is None
    assert d["prefixes"] == [] and d["options"] == []
    d, issues = parse_icmp6(RA_HA[:5], snap_cut=True)
    assert _codes(issues) == [("truncated_by_snaplen", "icmp6")]
    assert d["hop_limit"] == 64 and d["flags"] is None and d["home_agent"] is None
    d, _ = parse_icmp6(NA[:20])
    assert d["flags"] == ["R", "S", "O"] and d["target"] is None


# ------------------------------------------------------------- Scapy encoder

def scapy_packets() -> list:
    """ND messages built by Scapy, each inside IPv6."""
    return [
        IPv6(src=HA_LL, dst="ff02::1") / ICMPv6ND_RA(
            chlim=64, H=1, M=0, O=0, prf=0, routerlifetime=1800, reachabletime=30000,
            retranstimer=1000)
        / ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, R=1, validlifetime=86400,
                                preferredlifetime=14400, prefix=HA1)
        / ICMPv6NDOptAdvInterval(advint=1000)
        / ICMPv6NDOptHAInfo(pref=10, lifetime=1800)
        / ICMPv6NDOptSrcLLAddr(lladdr="00:11:22:33:44:55"),
        IPv6(src=HA_LL, dst="ff02::1") / ICMPv6ND_RA(
            chlim=0, H=1, M=1, O=1, P=1, prf=3, routerlifetime=0)
        / ICMPv6NDOptMTU(mtu=1400)
        / ICMPv6NDOptHAInfo(pref=0xFFFF, lifetime=65535),  # preference -1 on the wire
        IPv6(src="::", dst="ff02::2") / ICMPv6ND_RS(),
        IPv6(src=MN_LL, dst="ff02::1:ff33:4455") / ICMPv6ND_NS(tgt=HA_LL)
        / ICMPv6NDOptSrcLLAddr(lladdr="66:77:88:99:aa:bb"),
        IPv6(src=HA_LL, dst=MN_LL) / ICMPv6ND_NA(R=1, S=1, O=0, tgt=HA_LL)
        / ICMPv6NDOptDstLLAddr(lladdr="00:11:22:33:44:55"),
        IPv6(src=HA_LL, dst="ff02::1") / ICMPv6ND_NA(R=0, S=0, O=1, tgt="2001:db8:1::100"),
    ]


def _layers(pkt):
    layer = pkt
    while layer:
        yield layer
        layer = layer.payload


def _signed16(v: int) -> int:
    return v - 0x10000 if v & 0x8000 else v


def _expected_option(opt) -> dict:
    """What our decoder must say about one Scapy option layer."""
    base = {"type": opt.type, "name": nd.nd_option_name(opt.type), "length": opt.len}
    if isinstance(opt, ICMPv6NDOptPrefixInfo):
        return {**base, "prefix": str(ipaddress.IPv6Address(opt.prefix)),
                "prefix_len": opt.prefixlen,
                "flags": [f for f in "LAR" if getattr(opt, f)],
                "valid_lifetime_s": opt.validlifetime,
                "preferred_lifetime_s": opt.preferredlifetime}
    if isinstance(opt, ICMPv6NDOptAdvInterval):
        return {**base, "interval_ms": opt.advint}
    if isinstance(opt, ICMPv6NDOptHAInfo):
        # Scapy declares the preference unsigned; RFC 6275 7.4 says signed.
        return {**base, "preference": _signed16(opt.pref), "lifetime_s": opt.lifetime}
    if isinstance(opt, ICMPv6NDOptMTU):
        return {**base, "mtu": opt.mtu}
    if isinstance(opt, ICMPv6NDOptSrcLLAddr):  # also DstLLAddr
        return {**base, "address": opt.lladdr}
    raise AssertionError(f"no expectation for {opt!r}")


@pytest.mark.parametrize("pkt", scapy_packets(), ids=lambda p: p[1].name.split(" - ")[-1])
def test_scapy_encoded(pkt):
    raw = bytes(pkt)
    msg = raw[40:]
    src, dst = a16(pkt[IPv6].src), a16(pkt[IPv6].dst)
    icmp = pkt[1]
    d, issues = parse_icmp6(msg)
    assert issues == []
    assert (d["type"], d["code"]) == (icmp.type, icmp.code)
    assert d["checksum"] == IPv6(raw)[1].cksum
    assert icmp6_checksum_ok(msg, src, dst)
    assert build_icmp6(icmp.type, icmp.code, msg[4:], src, dst) == msg
    opts = list(_layers(icmp.payload))
    assert d["options"] == [_expected_option(o) for o in opts]
    if icmp.type == 134:
        assert d["hop_limit"] == icmp.chlim
        assert d["flags"] == [f for f in "MOHP" if getattr(icmp, f)]
        assert d["home_agent"] is bool(icmp.H)
        assert d["preference"] == {0: "medium", 1: "high", 2: "reserved", 3: "low"}[icmp.prf]
        assert d["router_lifetime_s"] == icmp.routerlifetime
        assert d["reachable_ms"] == icmp.reachabletime
        assert d["retrans_ms"] == icmp.retranstimer
        assert d["prefixes"] == [
            {k: v for k, v in _expected_option(o).items() if k not in ("type", "name", "length")}
            for o in opts if isinstance(o, ICMPv6NDOptPrefixInfo)]
    if icmp.type in (135, 136):
        assert d["target"] == str(ipaddress.IPv6Address(icmp.tgt))
    if icmp.type == 136:
        assert d["flags"] == [f for f in "RSO" if getattr(icmp, f)]


def test_our_layers_match_scapy_bytes():
    """Packing with our dpkt layers gives Scapy's bytes for the first RA."""
    pkt = scapy_packets()[0]
    ra = m.RouterAdvertisement(
        hop_limit=64, h=1, router_lifetime=1800, reachable_time=30000, retrans_timer=1000,
        options=[nd.PrefixInformation(prefix_len=64, l=1, a=1, r=1, valid_lifetime=86400,
                                      preferred_lifetime=14400, prefix=a16(HA1)),
                 nd.AdvertisementInterval(interval=1000),
                 nd.HomeAgentInformation(preference=10, lifetime=1800),
                 nd.SourceLinkLayerAddress(data=h("0011 2233 4455"))])
    src, dst = a16(HA_LL), a16("ff02::1")
    assert build_icmp6(134, 0, bytes(ra), src, dst) == bytes(pkt)[40:]
    na = m.NeighborAdvertisement(r=1, s=1, target=a16(HA_LL),
                                 options=[nd.TargetLinkLayerAddress(data=h("0011 2233 4455"))])
    assert build_icmp6(136, 0, bytes(na), a16(HA_LL), a16(MN_LL)) == bytes(scapy_packets()[4])[40:]


# ------------------------------------------------------------ tshark as judge

TSHARK_FIELDS = [
    "icmpv6.type", "icmpv6.checksum", "icmpv6.checksum.status",
    "icmpv6.nd.ra.cur_hop_limit", "icmpv6.nd.ra.flag.m", "icmpv6.nd.ra.flag.o",
    "icmpv6.nd.ra.flag.h", "icmpv6.nd.ra.flag.prf", "icmpv6.nd.ra.flag.p",
    "icmpv6.nd.ra.router_lifetime", "icmpv6.nd.ra.reachable_time", "icmpv6.nd.ra.retrans_timer",
    "icmpv6.opt.type", "icmpv6.opt.length",
    "icmpv6.opt.prefix", "icmpv6.opt.prefix.length", "icmpv6.opt.prefix.flag.l",
    "icmpv6.opt.prefix.flag.a", "icmpv6.opt.prefix.flag.r",
    "icmpv6.opt.prefix.valid_lifetime", "icmpv6.opt.prefix.preferred_lifetime",
    "icmpv6.opt.advertisement_interval", "icmpv6.opt.home_agent_preference",
    "icmpv6.opt.home_agent_lifetime", "icmpv6.opt.mtu", "icmpv6.opt.linkaddr",
    "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address",
    "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o",
]


def run_tshark(pcap: Path, fields: list[str]) -> list[dict[str, str]]:
    exe = shutil.which("tshark")
    if exe is None:
        pytest.skip("tshark is not installed: differential test against Wireshark skipped")
    cmd = [exe, "-n", "-r", str(pcap), "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=,", "-E", "separator=/t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60).stdout
    return [dict(zip(fields, line.split("\t"), strict=True)) for line in out.splitlines()]


def _ints(text: str) -> list[int]:
    return [int(x, 0) for x in text.split(",")] if text else []


def _bool(text: str) -> bool:
    assert text in ("0", "1", "True", "False"), text
    return text in ("1", "True")


def test_tshark_agrees(tmp_path):
    pkts = scapy_packets()
    pcap = tmp_path / "nd.pcap"
    scapy_all.wrpcap(str(pcap), pkts)
    rows = run_tshark(pcap, TSHARK_FIELDS)
    assert len(rows) == len(pkts)
    for n, (pkt, row) in enumerate(zip(pkts, rows, strict=True), start=1):
        d, _ = parse_icmp6(bytes(pkt)[40:])
        where = f"frame {n}"
        assert int(row["icmpv6.type"]) == d["type"], where
        assert int(row["icmpv6.checksum"], 16) == d["checksum"], where
        assert row["icmpv6.checksum.status"] == "1", where
        assert _ints(row["icmpv6.opt.type"]) == [o["type"] for o in d["options"]], where
        assert _ints(row["icmpv6.opt.length"]) == [o["length"] for o in d["options"]], where
        by_type: dict[int, list[dict]] = {}
        for o in d["options"]:
            by_type.setdefault(o["type"], []).append(o)
        pis = by_type.get(3, [])
        assert (row["icmpv6.opt.prefix"].split(",") if pis else [""]) == (
            [p["prefix"] for p in pis] or [""]), where
        assert _ints(row["icmpv6.opt.prefix.length"]) == [p["prefix_len"] for p in pis]
        for letter in "LAR":
            col = row[f"icmpv6.opt.prefix.flag.{letter.lower()}"]
            assert [_bool(x) for x in col.split(",") if x] == [letter in p["flags"] for p in pis]
        assert _ints(row["icmpv6.opt.prefix.valid_lifetime"]) == [
            p["valid_lifetime_s"] for p in pis]
        assert _ints(row["icmpv6.opt.prefix.preferred_lifetime"]) == [
            p["preferred_lifetime_s"] for p in pis]
        assert _ints(row["icmpv6.opt.advertisement_interval"]) == [
            o["interval_ms"] for o in by_type.get(7, [])], where
        # Wireshark shows the Home Agent Preference unsigned (FT_UINT16);
        # RFC 6275 7.4 makes it signed, so compare modulo 2**16.
        assert _ints(row["icmpv6.opt.home_agent_preference"]) == [
            o["preference"] & 0xFFFF for o in by_type.get(8, [])], where
        assert _ints(row["icmpv6.opt.home_agent_lifetime"]) == [
            o["lifetime_s"] for o in by_type.get(8, [])], where
        assert _ints(row["icmpv6.opt.mtu"]) == [o["mtu"] for o in by_type.get(5, [])], where
        lla = [o["address"] for t in (1, 2) for o in by_type.get(t, [])]
        assert (row["icmpv6.opt.linkaddr"].split(",") if lla else [""]) == (lla or [""]), where
        if d["type"] == 134:
            assert int(row["icmpv6.nd.ra.cur_hop_limit"]) == d["hop_limit"]
            for letter in "MOHP":
                assert _bool(row[f"icmpv6.nd.ra.flag.{letter.lower()}"]) == (letter in d["flags"])
            assert {0: "medium", 1: "high", 2: "reserved", 3: "low"}[
                int(row["icmpv6.nd.ra.flag.prf"])] == d["preference"]
            assert int(row["icmpv6.nd.ra.router_lifetime"]) == d["router_lifetime_s"]
            assert int(row["icmpv6.nd.ra.reachable_time"]) == d["reachable_ms"]
            assert int(row["icmpv6.nd.ra.retrans_timer"]) == d["retrans_ms"]
        if d["type"] == 135:
            assert row["icmpv6.nd.ns.target_address"] == d["target"]
        if d["type"] == 136:
            assert row["icmpv6.nd.na.target_address"] == d["target"]
            for letter in "RSO":
                assert _bool(row[f"icmpv6.nd.na.flag.{letter.lower()}"]) == (letter in d["flags"])


def test_home_agent_preference_signedness_disagreement(tmp_path):
    """RFC 6275 7.4: preference is signed. Scapy (ShortField) and Wireshark
    (FT_UINT16) both treat it as unsigned; we follow the RFC."""
    pkt = IPv6(src=HA_LL, dst="ff02::1") / ICMPv6ND_RA(H=1) / ICMPv6NDOptHAInfo(pref=0xFFF6,
                                                                               lifetime=60)
    d, _ = parse_icmp6(bytes(pkt)[40:])
    assert d["options"][0]["preference"] == -10
    assert pkt[ICMPv6NDOptHAInfo].pref == 65526
    pcap = tmp_path / "hai.pcap"
    scapy_all.wrpcap(str(pcap), [pkt])
    (row,) = run_tshark(pcap, ["icmpv6.opt.home_agent_preference"])
    assert row["icmpv6.opt.home_agent_preference"] == "65526"


# ------------------------------------------------- the dpkt layers as judge

def _layer_prefix(opt: nd.PrefixInformation) -> dict:
    return {"prefix": str(ipaddress.IPv6Address(opt.prefix)), "prefix_len": opt.prefix_len,
            "flags": [f for f, bit in (("L", opt.l), ("A", opt.a), ("R", opt.r)) if bit],
            "valid_lifetime_s": opt.valid_lifetime, "preferred_lifetime_s": opt.preferred_lifetime}


def _layer_option(opt: dpkt.Packet) -> dict:
    """What our dpkt option layer reads, in the decoder's dict shape."""
    out = {"type": opt.type, "name": nd.nd_option_name(opt.type), "length": opt.len}
    if isinstance(opt, nd.SourceLinkLayerAddress):  # also the target's
        out["address"] = ":".join(f"{b:02x}" for b in opt.address)
    elif isinstance(opt, nd.PrefixInformation):
        out.update(_layer_prefix(opt))
    elif isinstance(opt, nd.MTU):
        out["mtu"] = opt.mtu
    elif isinstance(opt, nd.AdvertisementInterval):
        out["interval_ms"] = opt.interval
    elif isinstance(opt, nd.HomeAgentInformation):
        out.update(preference=opt.preference, lifetime_s=opt.lifetime)
    else:  # Redirected Header (after its reserved bytes), unknown, a wrong length
        out["data"] = bytes(opt.data).hex()
    return out


def _layer_fields(icmp_type: int, layer: dpkt.Packet) -> dict:
    """The fixed fields our dpkt message layer reads, in the decoder's dict shape."""
    def letters(*pairs: tuple[str, str]) -> list[str]:
        return [label for label, attr in pairs if getattr(layer, attr)]
    if icmp_type == 134:
        return {"hop_limit": layer.hop_limit, "flags": letters(("M", "m"), ("O", "o"), ("H", "h"), ("P", "p")),
                "preference": ["medium", "high", "reserved", "low"][layer.prf],
                "home_agent": bool(layer.h), "router_lifetime_s": layer.router_lifetime,
                "reachable_ms": layer.reachable_time, "retrans_ms": layer.retrans_timer}
    if icmp_type == 135:
        return {"target": str(ipaddress.IPv6Address(layer.target))}
    if icmp_type == 136:
        return {"flags": letters(("R", "r"), ("S", "s"), ("O", "o")),
                "target": str(ipaddress.IPv6Address(layer.target))}
    if icmp_type == 147:
        return {"identifier": layer.identifier, "flags": letters(("M", "m"), ("O", "o"))}
    return {}


_option_bytes = st.one_of(
    # a type the decoder reads, with its fixed length or another
    st.tuples(st.sampled_from([1, 2, 3, 4, 5, 7, 8]), st.integers(1, 5)).flatmap(
        lambda tl: st.binary(min_size=tl[1] * 8 - 2, max_size=tl[1] * 8 - 2).map(
            lambda rest: bytes(tl) + rest)),
    # any type, any length
    st.tuples(st.integers(0, 255), st.integers(1, 3)).flatmap(
        lambda tl: st.binary(min_size=tl[1] * 8 - 2, max_size=tl[1] * 8 - 2).map(
            lambda rest: bytes(tl) + rest)),
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([133, 134, 135, 136, 147]), st.data(),
       st.lists(_option_bytes, max_size=5), st.binary(max_size=9), st.booleans())
def test_decoder_reads_what_the_dpkt_layers_read(icmp_type, data, options, tail, snap_cut):
    """The decoder reads fields with struct, not through the layers: both must agree
    on every field of every message and option, and on the options walk's issues."""
    cls = m.MESSAGE_CLASSES[icmp_type]
    fixed = data.draw(st.binary(min_size=cls.__hdr_len__, max_size=cls.__hdr_len__))
    msg = bytes([icmp_type, 0, 0, 0]) + fixed + b"".join(options) + tail
    d, issues = parse_icmp6(msg, snap_cut)
    layer = cls(msg[4:])
    layer_options, layer_issues = nd.parse_nd_options(bytes(layer.data), snap_cut)
    assert [(i.code, i.layer, i.detail) for i in issues] == [
        (i.code, i.layer, i.detail) for i in layer_issues]
    expected = {"type": icmp_type, "code": 0, "name": m.icmp6_type_name(icmp_type), "checksum": 0,
                **_layer_fields(icmp_type, layer)}
    if icmp_type in (134, 147):
        expected["prefixes"] = [_layer_prefix(o) for o in layer_options
                                if isinstance(o, nd.PrefixInformation)]
    expected["options"] = [_layer_option(o) for o in layer_options]
    assert d == expected
    assert list(d) == list(expected)  # the keys' order too: jsonl records keep it
