"""Robustness of the ICMPv6 decoder: truncation, random and mutated input,
round trips through Scapy, and a malformed capture that once crashed tcpdump.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import dpkt
import dpkt.icmp6
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.decode import icmp6 as m
from mipv6scope.decode.icmp6 import build_icmp6, icmp6_checksum_ok, parse_icmp6
from mipv6scope.decode.issues import ISSUE_KINDS, Issue
from tests.conftest import external_captures

scapy_all = pytest.importorskip("scapy.all")
from scapy.layers.inet6 import (  # noqa: E402
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6DestUnreach,
    ICMPv6EchoRequest,
    ICMPv6HAADReply,
    ICMPv6HAADRequest,
    ICMPv6MPAdv,
    ICMPv6MPSol,
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
    ICMPv6NDOptUnknown,
    ICMPv6PacketTooBig,
    ICMPv6ParamProblem,
    ICMPv6TimeExceeded,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
)

HA = "2001:db8:1::1"
HOA = "2001:db8:1::100"
COA = "2001:db8:2::100"

# Fixed part of each type, header included (RFC 4861 4.1-4.4, RFC 6275
# 6.5-6.8, RFC 4443 3.1-3.4), written down here independently of the code.
FIXED = {1: 8, 2: 8, 3: 8, 4: 8, 133: 8, 134: 16, 135: 24, 136: 24,
         144: 8, 145: 8, 146: 8, 147: 8}
ND_WITH_OPTIONS = {133, 134, 135, 136, 147}
SHORT_CODES = {"icmp6_too_short", "truncated_by_snaplen"}


def _bu():
    return (IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
            / MIP6MH_BU(seq=3, flags="AH", mhtime=100))


def valid_packets() -> list:
    """One well-formed packet of every type the decoder knows, built by Scapy."""
    return [
        IPv6(src=COA, dst=HA) / ICMPv6HAADRequest(id=1),
        IPv6(src=HA, dst=COA) / ICMPv6HAADReply(id=1, addresses=[HA, "2001:db8:1::2"]),
        IPv6(src=COA, dst=HA) / ICMPv6MPSol(id=2),
        IPv6(src=HA, dst=COA) / ICMPv6MPAdv(id=2, flags=3)
        / ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", R=1)
        / ICMPv6NDOptPrefixInfo(prefix="2001:db8:5::"),
        IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA(H=1, prf=1)
        / ICMPv6NDOptPrefixInfo(prefix=HA, R=1) / ICMPv6NDOptAdvInterval(advint=3000)
        / ICMPv6NDOptHAInfo(pref=5, lifetime=1200) / ICMPv6NDOptMTU(mtu=1500)
        / ICMPv6NDOptSrcLLAddr(lladdr="00:11:22:33:44:55")
        / ICMPv6NDOptUnknown(type=200, data=b"\x00" * 14),
        IPv6(src="::", dst="ff02::2") / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr="00:00:5e:00:53:01"),
        IPv6(src="fe80::2", dst="ff02::1:ff00:1") / ICMPv6ND_NS(tgt="fe80::1")
        / ICMPv6NDOptSrcLLAddr(lladdr="66:77:88:99:aa:bb"),
        IPv6(src="fe80::1", dst="fe80::2") / ICMPv6ND_NA(tgt="fe80::1", R=1, S=1, O=1)
        / ICMPv6NDOptDstLLAddr(lladdr="00:11:22:33:44:55"),
        IPv6(src=HA, dst=COA) / ICMPv6DestUnreach(code=4) / _bu(),
        IPv6(src=HA, dst=COA) / ICMPv6PacketTooBig(mtu=1300) / _bu(),
        IPv6(src=HA, dst=COA) / ICMPv6TimeExceeded()
        / IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
        / MIP6MH_BA(seq=3, mhtime=100),
        IPv6(src=HA, dst=COA) / ICMPv6ParamProblem(code=1, ptr=6) / _bu(),
        IPv6(src=HA, dst=COA) / ICMPv6EchoRequest(id=1, seq=1, data=b"ping"),
    ]


def _messages() -> list[bytes]:
    return [bytes(p)[40:] for p in valid_packets()]


def _option_boundaries(pkt) -> set[int]:
    """Offsets (from the ICMPv6 type byte) at which an ND option may start or
    the message may end cleanly, from Scapy's own layer lengths."""
    built = IPv6(bytes(pkt))  # lengths Scapy left to compute are filled in
    pos = FIXED[built[1].type]
    cuts = {pos}
    layer = built[1].payload
    while layer:
        pos += layer.len * 8
        cuts.add(pos)
        layer = layer.payload
    return cuts


def _well_formed(d, issues, buf: bytes) -> None:
    assert all(isinstance(i, Issue) and i.code in ISSUE_KINDS for i in issues), issues
    assert all(i.layer in ("icmp6", "nd_option") for i in issues), issues
    if not buf:
        assert d is None and len(issues) == 1
        return
    assert isinstance(d, dict)
    assert {"type", "code", "name", "checksum"} <= d.keys()
    assert d["type"] == buf[0]
    assert isinstance(d["name"], str) and d["name"]
    json.dumps(d)  # the dict goes into jsonl records as it is


# ------------------------------------------------------------ every prefix

@pytest.mark.parametrize("pkt", valid_packets(), ids=lambda p: f"type{p[1].type}")
def test_every_truncated_prefix(pkt):
    msg = bytes(pkt)[40:]
    t = msg[0]
    full, full_issues = parse_icmp6(msg)
    assert full_issues == []
    for cut in range(len(msg) + 1):
        buf = msg[:cut]
        for snap_cut in (False, True):
            d, issues = parse_icmp6(buf, snap_cut=snap_cut)
            _well_formed(d, issues, buf)
            codes = [i.code for i in issues]
            where = (cut, snap_cut, codes)
            if snap_cut:
                assert not {"icmp6_too_short", "nd_option_overrun"} & set(codes), where
            else:
                assert "truncated_by_snaplen" not in codes, where
            if cut == 0:
                continue
            need = FIXED.get(t, 4)
            if cut < need:
                assert len(codes) == 1 and codes[0] in SHORT_CODES, where
                assert issues[0].layer == "icmp6", where
                continue
            if t in ND_WITH_OPTIONS:
                if cut in _option_boundaries(pkt):
                    assert codes == [], where
                    assert d["options"] == full["options"][:len(d["options"])], where
                else:
                    want = "truncated_by_snaplen" if snap_cut else "nd_option_overrun"
                    assert codes == [want], where
                    assert issues[0].layer == "nd_option", where
            elif t == 145:
                assert codes == ([] if (cut - 8) % 16 == 0 else
                                 ["truncated_by_snaplen" if snap_cut else "icmp6_too_short"])
                assert d["home_agents"] == full["home_agents"][:(cut - 8) // 16]
            else:
                assert codes == [], where  # errors: a short quote is normal


def test_short_error_fields_are_none():
    msg = _messages()[9]  # Packet Too Big
    d, _ = parse_icmp6(msg[:7])
    assert d["mtu"] is None
    assert d["invoking"] == {"src": None, "dst": None, "nh": None, "mh_type": None}


# -------------------------------------------------------------- hypothesis

INTERESTING_TYPES = [0, 1, 2, 3, 4, 127, 128, 133, 134, 135, 136, 137, 144, 145, 146, 147, 255]


@settings(max_examples=600, deadline=None)
@given(st.binary(max_size=200), st.booleans())
def test_random_bytes_never_raise(buf, snap_cut):
    d, issues = parse_icmp6(buf, snap_cut=snap_cut)
    _well_formed(d, issues, buf)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(INTERESTING_TYPES), st.binary(max_size=120), st.booleans())
def test_random_body_for_each_type_never_raises(icmp_type, body, snap_cut):
    buf = bytes([icmp_type]) + body
    d, issues = parse_icmp6(buf, snap_cut=snap_cut)
    _well_formed(d, issues, buf)
    if icmp_type in m.MESSAGE_CLASSES and len(buf) >= 4:
        try:
            pkt = dpkt.icmp6.ICMP6(buf)
        except dpkt.UnpackError:
            return
        if len(buf) >= FIXED[icmp_type]:
            assert isinstance(pkt.data, m.MESSAGE_CLASSES[icmp_type])
            getattr(pkt.data, "options", None)  # the lazy option walk must not raise either


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_messages()), st.data(), st.booleans())
def test_mutated_messages_never_raise(msg, data, snap_cut):
    buf = bytearray(msg)
    for _ in range(data.draw(st.integers(0, 6))):
        i = data.draw(st.integers(0, len(buf) - 1))
        buf[i] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        buf = buf[:data.draw(st.integers(0, len(buf)))]
    if data.draw(st.booleans()):
        buf += data.draw(st.binary(max_size=40))
    d, issues = parse_icmp6(bytes(buf), snap_cut=snap_cut)
    _well_formed(d, issues, bytes(buf))


# ------------------------------------------------- round trips with Scapy

addresses = st.binary(min_size=16, max_size=16).map(lambda b: str(ipaddress.IPv6Address(b)))
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 255), st.integers(0, 1), st.integers(0, 1), st.integers(0, 1),
       st.integers(0, 3), st.integers(0, 1), u16, u32, u32,
       st.lists(st.tuples(addresses, st.integers(0, 128), st.integers(0, 7), u32, u32),
                max_size=3),
       st.lists(st.tuples(u16, u16), max_size=2), st.lists(u32, max_size=2))
def test_ra_round_trip_with_scapy(chlim, mf, of, hf, prf, pf, life, reach, retrans,
                                  prefixes, hainfos, intervals):
    opts = [ICMPv6NDOptPrefixInfo(prefix=p, prefixlen=plen, L=fl >> 2, A=(fl >> 1) & 1, R=fl & 1,
                                  validlifetime=v, preferredlifetime=pr)
            for p, plen, fl, v, pr in prefixes]
    opts += [ICMPv6NDOptHAInfo(pref=pref, lifetime=hl) for pref, hl in hainfos]
    opts += [ICMPv6NDOptAdvInterval(advint=i) for i in intervals]
    pkt = IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA(
        chlim=chlim, M=mf, O=of, H=hf, prf=prf, P=pf, routerlifetime=life,
        reachabletime=reach, retranstimer=retrans)
    for o in opts:
        pkt = pkt / o
    msg = bytes(pkt)[40:]
    d, issues = parse_icmp6(msg)
    assert issues == []
    assert d["hop_limit"] == chlim
    assert d["flags"] == [n for n, v in (("M", mf), ("O", of), ("H", hf), ("P", pf)) if v]
    assert d["home_agent"] is bool(hf)
    assert d["preference"] == ["medium", "high", "reserved", "low"][prf]
    assert (d["router_lifetime_s"], d["reachable_ms"], d["retrans_ms"]) == (life, reach, retrans)
    assert [(p["prefix"], p["prefix_len"], p["valid_lifetime_s"], p["preferred_lifetime_s"])
            for p in d["prefixes"]] == [
        (str(ipaddress.IPv6Address(p)), plen, v, pr) for p, plen, _, v, pr in prefixes]
    assert [p["flags"] for p in d["prefixes"]] == [
        [n for n, bit in (("L", 4), ("A", 2), ("R", 1)) if fl & bit] for _, _, fl, _, _ in prefixes]
    hai = [o for o in d["options"] if o["type"] == 8]
    assert [(o["preference"] & 0xFFFF, o["lifetime_s"]) for o in hai] == hainfos
    assert [o["interval_ms"] for o in d["options"] if o["type"] == 7] == intervals
    src, dst = ipaddress.IPv6Address("fe80::1").packed, ipaddress.IPv6Address("ff02::1").packed
    assert icmp6_checksum_ok(msg, src, dst)


@settings(max_examples=150, deadline=None)
@given(addresses, addresses, u16, st.integers(0, 1), st.lists(addresses, max_size=6))
def test_haad_reply_round_trip_and_checksum(src, dst, ident, r, has):
    pkt = IPv6(src=src, dst=dst) / ICMPv6HAADReply(id=ident, R=r, addresses=has)
    msg = bytes(pkt)[40:]
    d, issues = parse_icmp6(msg)
    assert issues == []
    assert d["identifier"] == ident
    assert d["flags"] == (["R"] if r else [])
    assert d["home_agents"] == [str(ipaddress.IPv6Address(a)) for a in has]
    s16, d16 = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    assert build_icmp6(145, 0, msg[4:], s16, d16) == msg
    assert icmp6_checksum_ok(msg, s16, d16)


@settings(max_examples=200, deadline=None)
@given(addresses, addresses, st.binary(max_size=61), st.integers(0, 0xFFFF))
def test_checksum_agrees_with_scapy_on_odd_lengths(src, dst, payload, flip):
    pkt = IPv6(src=src, dst=dst) / ICMPv6EchoRequest(id=7, seq=9, data=payload)
    msg = bytes(pkt)[40:]
    s16, d16 = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    assert icmp6_checksum_ok(msg, s16, d16)
    assert build_icmp6(128, 0, msg[4:], s16, d16) == msg
    # a different checksum value (other than its ones'-complement twin) must fail
    bad = (int.from_bytes(msg[2:4], "big") + 1 + flip % 0xFFFD) & 0xFFFF
    if bad not in (0, 0xFFFF):
        wrong = msg[:2] + bad.to_bytes(2, "big") + msg[4:]
        assert not icmp6_checksum_ok(wrong, s16, d16)


@settings(max_examples=100, deadline=None)
@given(u16, st.integers(0, 3), st.lists(st.tuples(addresses, st.integers(0, 128)), max_size=3))
def test_mpa_round_trip_with_scapy(ident, flags, prefixes):
    pkt = IPv6(src=HA, dst=COA) / ICMPv6MPAdv(id=ident, flags=flags)
    for p, plen in prefixes:
        pkt = pkt / ICMPv6NDOptPrefixInfo(prefix=p, prefixlen=plen)
    d, issues = parse_icmp6(bytes(pkt)[40:])
    assert issues == []
    assert d["identifier"] == ident
    assert d["flags"] == [n for n, bit in (("M", 2), ("O", 1)) if flags & bit]
    assert [(p["prefix"], p["prefix_len"]) for p in d["prefixes"]] == [
        (str(ipaddress.IPv6Address(p)), plen) for p, plen in prefixes]


# ------------------------------------------------ external malformed capture



def _tcpdump_capture(name: str) -> Path:
    path = external_captures() / "tcpdump" / name
    if not path.is_file():
        pytest.skip(f"external capture {path} not found (set MIPV6SCOPE_SHARED to shared/)")
    return path


def test_tcpdump_mobileprefix_asan_capture():
    """A Mobile Prefix Advertisement cut after 6 bytes (snap length 60 of a
    98358-byte frame) that once made tcpdump read out of bounds."""
    path = _tcpdump_capture("icmp6_mobileprefix_asan.pcap")
    expected_out = path.with_suffix(".out").read_text()
    ident = int(re.search(r"id 0x([0-9a-f]+)", expected_out).group(1), 16)
    reader = scapy_all.RawPcapReader(str(path))
    assert reader.linktype == 1, "expected an Ethernet capture"
    decoded = 0
    for data, meta in reader:
        if len(data) < 14 + 40 or data[12:14] != b"\x86\xdd" or data[14 + 6] != 58:
            continue  # the file's second record is empty
        icmp = data[14 + 40:]
        snap_cut = meta.caplen < meta.wirelen
        assert snap_cut
        d, issues = parse_icmp6(icmp, snap_cut=snap_cut)
        assert d["type"] == 147 and d["name"] == "Mobile Prefix Advertisement"
        assert d["identifier"] == ident  # what tcpdump's expected output says
        assert d["flags"] is None and d["prefixes"] == [] and d["options"] == []
        assert [(i.code, i.layer) for i in issues] == [("truncated_by_snaplen", "icmp6")]
        # The same bytes seen as a complete packet are simply too short.
        _, issues = parse_icmp6(icmp)
        assert [i.code for i in issues] == ["icmp6_too_short"]
        # dpkt with our registry must not raise either.
        dpkt.icmp6.ICMP6(icmp)
        decoded += 1
    reader.close()
    assert decoded == 1
