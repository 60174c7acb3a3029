"""ICMPv6 Mobile IPv6 messages (RFC 6275 6.5-6.8): types 144-147.

Three independent sources of truth: hex written by hand from the RFC
diagrams, Scapy as an encoder, and tshark as a second decoder.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

import dpkt
import dpkt.icmp6
import pytest

from mipv6scope.decode import icmp6 as m
from mipv6scope.decode.icmp6 import build_icmp6, icmp6_checksum_ok, parse_icmp6
from mipv6scope.decode.nd_options import PrefixInformation
from tests.conftest import a16, h

scapy_all = pytest.importorskip("scapy.all")
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6HAADReply,
    ICMPv6HAADRequest,
    ICMPv6MPAdv,
    ICMPv6MPSol,
    ICMPv6NDOptPrefixInfo,
    IPv6,
)

MN = "2001:db8:2::100"  # care-of address
HA_ANYCAST = "2001:db8:1::fdff:ffff:ffff:fffe"  # RFC 2526 home-agents anycast, /64
HA1 = "2001:db8:1::1"
HA2 = "2001:db8:1::2"






# ---------------------------------------------------------------- literals

# RFC 6275 6.5: | Type=144 | Code | Checksum | Identifier | Reserved |
HAAD_REQUEST = h("90 00 1234  abcd 0000")
# Same with the NEMO Mobile Router flag (RFC 3963 6.1.1), top reserved bit.
HAAD_REQUEST_R = h("90 00 0000  0001 8000")
# RFC 6275 6.6: ... | Identifier | Reserved | Home Agent Addresses ...
HAAD_REPLY = h("""
    91 00 5678  abcd 0000
    2001 0db8 0001 0000 0000 0000 0000 0001
    2001 0db8 0001 0000 0000 0000 0000 0002
""")
# RFC 6275 6.7
MPS = h("92 00 9abc  0042 0000")
# RFC 6275 6.8: | Identifier |M|O| Reserved | options: Prefix Information
# (type 3, len 4, /64, L+A, valid 3600 s, preferred 1800 s, 2001:db8:1::)
MPA = h("""
    93 00 def0  0042 c000
    03 04 40 c0  0000 0e10  0000 0708  0000 0000
    2001 0db8 0001 0000 0000 0000 0000 0000
""")


def test_types_registered_in_dpkt():
    for buf, cls in ((HAAD_REQUEST, m.HAADRequest), (HAAD_REPLY, m.HAADReply),
                     (MPS, m.MobilePrefixSolicitation), (MPA, m.MobilePrefixAdvertisement)):
        pkt = dpkt.icmp6.ICMP6(buf)
        assert type(pkt.data) is cls
    reply = dpkt.icmp6.ICMP6(HAAD_REPLY).data
    assert reply.identifier == 0xABCD
    assert reply.addresses == [a16(HA1), a16(HA2)]
    mpa = dpkt.icmp6.ICMP6(MPA).data
    assert (mpa.m, mpa.o, mpa.reserved) == (1, 1, 0)
    assert [type(o) for o in mpa.options] == [PrefixInformation]


def test_haad_request_literal():
    d, issues = parse_icmp6(HAAD_REQUEST)
    assert issues == []
    assert d == {"type": 144, "code": 0, "name": "Home Agent Address Discovery Request Message",
                 "checksum": 0x1234, "identifier": 0xABCD, "flags": []}
    d, issues = parse_icmp6(HAAD_REQUEST_R)
    assert issues == [] and d["flags"] == ["R"] and d["identifier"] == 1


def test_haad_reply_literal():
    d, issues = parse_icmp6(HAAD_REPLY)
    assert issues == []
    assert d == {"type": 145, "code": 0, "name": "Home Agent Address Discovery Reply Message",
                 "checksum": 0x5678, "identifier": 0xABCD, "flags": [],
                 "home_agents": [HA1, HA2]}


def test_haad_reply_empty_list_is_fine():
    d, issues = parse_icmp6(HAAD_REPLY[:8])
    assert issues == [] and d["home_agents"] == []


def test_haad_reply_partial_address():
    d, issues = parse_icmp6(HAAD_REPLY[:8 + 16 + 5])
    assert d["home_agents"] == [HA1]
    assert [i.code for i in issues] == ["icmp6_too_short"]
    assert "multiple of 16" in issues[0].detail
    _, issues = parse_icmp6(HAAD_REPLY[:8 + 16 + 5], snap_cut=True)
    assert [i.code for i in issues] == ["truncated_by_snaplen"]


def test_mps_literal():
    d, issues = parse_icmp6(MPS)
    assert issues == []
    assert d == {"type": 146, "code": 0, "name": "Mobile Prefix Solicitation",
                 "checksum": 0x9ABC, "identifier": 0x42}


def test_mpa_literal():
    d, issues = parse_icmp6(MPA)
    assert issues == []
    prefix = {"prefix": "2001:db8:1::", "prefix_len": 64, "flags": ["L", "A"],
              "valid_lifetime_s": 3600, "preferred_lifetime_s": 1800}
    assert d == {"type": 147, "code": 0, "name": "Mobile Prefix Advertisement",
                 "checksum": 0xDEF0, "identifier": 0x42, "flags": ["M", "O"],
                 "prefixes": [prefix],
                 "options": [{"type": 3, "name": "Prefix information", "length": 4, **prefix}]}


def test_mpa_only_o_flag():
    buf = bytearray(MPA)
    buf[6] = 0x40
    assert parse_icmp6(bytes(buf))[0]["flags"] == ["O"]
    buf[6] = 0x3F  # reserved bits only
    buf[7] = 0xFF
    assert parse_icmp6(bytes(buf))[0]["flags"] == []


def test_short_fixed_part_decodes_what_fits():
    d, issues = parse_icmp6(MPA[:7])
    assert [i.code for i in issues] == ["icmp6_too_short"]
    assert d["identifier"] == 0x42 and d["flags"] is None and d["prefixes"] == []
    d, issues = parse_icmp6(HAAD_REQUEST[:5], snap_cut=True)
    assert [i.code for i in issues] == ["truncated_by_snaplen"]
    assert d["identifier"] is None and d["checksum"] == 0x1234


def test_builders_pack_the_literals():
    src, dst = a16(MN), a16(HA_ANYCAST)
    body = bytes(m.HAADReply(identifier=0xABCD, addresses=[a16(HA1), a16(HA2)]))
    assert body == HAAD_REPLY[4:]
    assert bytes(m.HAADRequest(identifier=1, r=1)) == HAAD_REQUEST_R[4:]
    assert bytes(m.MobilePrefixSolicitation(identifier=0x42)) == MPS[4:]
    mpa = m.MobilePrefixAdvertisement(identifier=0x42, m=1, o=1, options=[PrefixInformation(
        prefix_len=64, l=1, a=1, valid_lifetime=3600, preferred_lifetime=1800,
        prefix=a16("2001:db8:1::"))])
    assert bytes(mpa) == MPA[4:]
    msg = build_icmp6(145, 0, body, src, dst)
    assert msg[:2] == b"\x91\x00" and msg[4:] == HAAD_REPLY[4:]
    assert icmp6_checksum_ok(msg, src, dst)
    assert not icmp6_checksum_ok(msg, dst, src[:15] + b"\x01")


# ------------------------------------------------------------- Scapy encoder

def scapy_packets() -> list:
    """Mobility ICMPv6 messages built by Scapy, each inside IPv6."""
    hoa_prefix = "2001:db8:1::"
    return [
        IPv6(src=MN, dst=HA_ANYCAST) / ICMPv6HAADRequest(id=0x1111, R=0),
        IPv6(src=MN, dst=HA_ANYCAST) / ICMPv6HAADRequest(id=0x2222, R=1),
        IPv6(src=HA1, dst=MN) / ICMPv6HAADReply(id=0x1111, R=0, addresses=[HA1, HA2]),
        IPv6(src=HA1, dst=MN) / ICMPv6HAADReply(id=0x3333, R=0, addresses=[]),
        IPv6(src=MN, dst=HA1) / ICMPv6MPSol(id=0x4444),
        IPv6(src=HA1, dst=MN) / ICMPv6MPAdv(id=0x4444, flags=2)
        / ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, R=1, validlifetime=7200,
                                preferredlifetime=3600, prefix=HA1),
        IPv6(src=HA1, dst=MN) / ICMPv6MPAdv(id=0x5555, flags=1)
        / ICMPv6NDOptPrefixInfo(prefixlen=64, L=0, A=1, prefix=hoa_prefix)
        / ICMPv6NDOptPrefixInfo(prefixlen=48, L=1, A=0, validlifetime=0, preferredlifetime=0,
                                prefix="2001:db8:ff::"),
    ]


def _flags_from(pkt, names: str) -> list[str]:
    return [n for n in names if getattr(pkt, n)]


@pytest.mark.parametrize("pkt", scapy_packets(), ids=lambda p: f"{p[1].type}-{p[1].id:x}")
def test_scapy_encoded(pkt):
    raw = bytes(pkt)
    msg = raw[40:]
    ip = pkt[IPv6]
    src, dst = a16(ip.src), a16(ip.dst)
    icmp = pkt[1]
    d, issues = parse_icmp6(msg)
    assert issues == []
    assert d["type"] == icmp.type and d["code"] == icmp.code
    assert d["checksum"] == IPv6(raw)[1].cksum
    assert icmp6_checksum_ok(msg, src, dst)
    # build_icmp6 must produce exactly Scapy's bytes, checksum included.
    assert build_icmp6(icmp.type, icmp.code, msg[4:], src, dst) == msg
    assert d["identifier"] == icmp.id
    if icmp.type in (144, 145):
        assert d["flags"] == (["R"] if icmp.R else [])
    if icmp.type == 145:
        assert d["home_agents"] == [str(ipaddress.IPv6Address(x)) for x in icmp.addresses]
    if icmp.type == 147:
        assert d["flags"] == [n for n, bit in (("M", 2), ("O", 1)) if icmp.flags & bit]
        pis = [p for p in _layers(pkt) if isinstance(p, ICMPv6NDOptPrefixInfo)]
        assert [(p["prefix"], p["prefix_len"], p["flags"], p["valid_lifetime_s"],
                 p["preferred_lifetime_s"]) for p in d["prefixes"]] == [
            (str(ipaddress.IPv6Address(p.prefix)), p.prefixlen, _flags_from(p, "LAR"),
             p.validlifetime, p.preferredlifetime) for p in pis]
        assert [o["type"] for o in d["options"]] == [3] * len(pis)


def _layers(pkt):
    layer = pkt
    while layer:
        yield layer
        layer = layer.payload


def test_checksum_disagrees_after_corruption():
    pkt = scapy_packets()[2]
    msg = bytearray(bytes(pkt)[40:])
    msg[-1] ^= 0x01
    assert not icmp6_checksum_ok(bytes(msg), a16(HA1), a16(MN))


# ------------------------------------------------------------ tshark as judge

TSHARK_FIELDS = [
    "icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.mip6.identifier",
    "icmpv6.mip6.home_agent_address", "icmpv6.mip6.flag.m", "icmpv6.mip6.flag.o",
    "icmpv6.opt.prefix", "icmpv6.opt.prefix.length", "icmpv6.opt.prefix.flag.l",
    "icmpv6.opt.prefix.flag.a", "icmpv6.opt.prefix.flag.r",
    "icmpv6.opt.prefix.valid_lifetime", "icmpv6.opt.prefix.preferred_lifetime",
    "icmpv6.checksum.status",
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
    rows = [line.split("\t") for line in out.splitlines()]
    return [dict(zip(fields, row, strict=True)) for row in rows]


def _bools(text: str) -> list[bool]:
    return [v in ("1", "True") for v in text.split(",")] if text else []


def test_tshark_agrees(tmp_path):
    pkts = scapy_packets()
    pcap = tmp_path / "mip6_icmp.pcap"
    scapy_all.wrpcap(str(pcap), pkts)
    rows = run_tshark(pcap, TSHARK_FIELDS)
    assert len(rows) == len(pkts)
    for n, (pkt, row) in enumerate(zip(pkts, rows, strict=True), start=1):
        d, _ = parse_icmp6(bytes(pkt)[40:])
        where = f"frame {n}"
        assert int(row["icmpv6.type"]) == d["type"], where
        assert int(row["icmpv6.code"]) == d["code"], where
        assert int(row["icmpv6.checksum"], 16) == d["checksum"], where
        assert row["icmpv6.checksum.status"] == "1", where  # Good, so our builder's checksum too
        assert int(row["icmpv6.mip6.identifier"], 0) == d["identifier"], where
        if d["type"] == 145:
            got = row["icmpv6.mip6.home_agent_address"]
            assert (got.split(",") if got else []) == d["home_agents"], where
        if d["type"] == 147:
            assert _bools(row["icmpv6.mip6.flag.m"]) == ["M" in d["flags"]], where
            assert _bools(row["icmpv6.mip6.flag.o"]) == ["O" in d["flags"]], where
            assert row["icmpv6.opt.prefix"].split(",") == [p["prefix"] for p in d["prefixes"]]
            assert [int(x) for x in row["icmpv6.opt.prefix.length"].split(",")] == [
                p["prefix_len"] for p in d["prefixes"]]
            for letter in "LAR":
                col = _bools(row[f"icmpv6.opt.prefix.flag.{letter.lower()}"])
                assert col == [letter in p["flags"] for p in d["prefixes"]], (where, letter)
            assert [int(x) for x in row["icmpv6.opt.prefix.valid_lifetime"].split(",")] == [
                p["valid_lifetime_s"] for p in d["prefixes"]]
            assert [int(x) for x in row["icmpv6.opt.prefix.preferred_lifetime"].split(",")] == [
                p["preferred_lifetime_s"] for p in d["prefixes"]]


def test_tshark_names_vs_iana():
    """We name types after the IANA registry; Wireshark drops "Message" from
    144/145. Pin both so a change in either shows up here."""
    exe = shutil.which("tshark")
    if exe is None:
        pytest.skip("tshark is not installed: cannot read Wireshark's value strings")
    out = subprocess.run([exe, "-G", "values"], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    ws = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] == "V" and parts[1] == "icmpv6.type":
            ws[int(parts[2])] = parts[3]
    assert ws[144] == "Home Agent Address Discovery Request"
    assert ws[145] == "Home Agent Address Discovery Reply"
    for t in (146, 147):
        assert ws[t] == m.icmp6_type_name(t)
    for t in (144, 145):
        assert m.icmp6_type_name(t) == ws[t] + " Message"
