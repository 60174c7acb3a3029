"""ICMPv6 error messages (RFC 4443 3.1-3.4) quoting Mobile IPv6 packets.

The decoder reports the invoking packet's addresses, its upper-layer protocol
after the extension headers, and the Mobility Header type when there is one.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mipv6scope.decode.icmp6 import (
    build_icmp6,
    icmp6_checksum_ok,
    invoking_packet_summary,
    parse_icmp6,
)
from tests.conftest import a16, h

scapy_all = pytest.importorskip("scapy.all")
from scapy.layers.inet6 import (  # noqa: E402
    HAO,
    MIP6MH_BA,
    MIP6MH_BRR,
    MIP6MH_BU,
    ICMPv6DestUnreach,
    ICMPv6PacketTooBig,
    ICMPv6ParamProblem,
    ICMPv6TimeExceeded,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrRouting,
    MIP6MH_HoTI,
)

HA = "2001:db8:1::1"
HOA = "2001:db8:1::100"
COA = "2001:db8:2::100"
CN = "2001:db8:3::1"






# ----------------------------------------------- invoking packets, by hand

# Home registration BU, MN -> HA (RFC 6275 6.1.7, 6.3):
# IPv6 (payload 40, next header 60 Destination Options) CoA -> HA;
# Destination Options: next 135, len 2 (24 bytes), PadN(2), HAO at 8n+6 = HoA;
# MH: proto 59, len 1 (16 bytes), type 5, checksum, seq 1, flags A H, lifetime 150, PadN(2).
IPV6_BU_HDR = h("""
    6000 0000 0028 3c 40
    2001 0db8 0002 0000 0000 0000 0000 0100
    2001 0db8 0001 0000 0000 0000 0000 0001
""")
DSTOPT_HAO = h("87 02  01 02 0000  c9 10  2001 0db8 0001 0000 0000 0000 0000 0100")
MH_BU = h("3b 01 05 00  1f2e  0001  c000  0096  01 02 0000")
INNER_BU = IPV6_BU_HDR + DSTOPT_HAO + MH_BU

# Binding Ack, HA -> CoA with a type 2 routing header (RFC 6275 6.4):
# RH2: next 135, len 2, type 2, segments left 1, reserved, HoA.
INNER_BA = h("""
    6000 0000 0028 2b 40
    2001 0db8 0001 0000 0000 0000 0000 0001
    2001 0db8 0002 0000 0000 0000 0000 0100
    87 02 02 01  0000 0000
    2001 0db8 0001 0000 0000 0000 0000 0100
    3b 01 06 00  0000  00 00  0001  0096  01 02 0000
""")

# Binding Refresh Request (MH type 0), CN -> HoA, MH right after IPv6.
INNER_BRR = h("""
    6000 0000 0008 87 40
    2001 0db8 0003 0000 0000 0000 0000 0001
    2001 0db8 0001 0000 0000 0000 0000 0100
    3b 00 00 00  0000  0000
""")

# HoTI sent with the draft-era next header 62.
INNER_HOTI_62 = h("""
    6000 0000 0010 3e 40
    2001 0db8 0001 0000 0000 0000 0000 0100
    2001 0db8 0003 0000 0000 0000 0000 0001
    3b 01 01 00  0000  0000  0102 0304 0506 0708
""")


def _ipv6(nh: int, payload: bytes, src: str = COA, dst: str = HA) -> bytes:
    return (h("6000 0000") + len(payload).to_bytes(2, "big") + bytes([nh, 64])
            + a16(src) + a16(dst) + payload)


# First fragment (offset 0, M=1) and a later one (offset 16 units, M=0).
INNER_FRAG_FIRST = _ipv6(44, h("87 00 0001 1234 5678") + MH_BU)
INNER_FRAG_LATER = _ipv6(44, h("87 00 0080 1234 5678") + MH_BU[:8])
# AH (next 135, payload len 4: (4+2)*4 = 24 bytes) then the BU.
INNER_AH = _ipv6(51, h("87 04 0000  0000 0100  0000 0001") + bytes(12) + MH_BU)
# Hop-by-hop (8 bytes, PadN) -> Destination Options with HAO -> BU.
INNER_HBH = _ipv6(0, h("3c 00 01 04 0000 0000") + DSTOPT_HAO + MH_BU)
# ESP after the IPv6 header: the decoder cannot look inside.
INNER_ESP = _ipv6(50, h("0000 0100 0000 0001") + bytes(16))


# ------------------------------------------------------------------ errors

def test_destination_unreachable_literal():
    buf = h("01 03 0a0b 0000 0000") + INNER_BU
    d, issues = parse_icmp6(buf)
    assert issues == []
    assert d == {"type": 1, "code": 3, "name": "Destination Unreachable", "checksum": 0x0A0B,
                 "invoking": {"src": COA, "dst": HA, "nh": 135, "mh_type": 5}}


def test_packet_too_big_literal_with_cut_quote():
    # The quote ends right after the MH type byte: still enough for mh_type.
    buf = h("02 00 0c0d 0000 0500") + INNER_BU[:40 + 24 + 3]
    d, issues = parse_icmp6(buf)
    assert issues == []
    assert d == {"type": 2, "code": 0, "name": "Packet Too Big", "checksum": 0x0C0D,
                 "mtu": 1280,
                 "invoking": {"src": COA, "dst": HA, "nh": 135, "mh_type": 5}}


def test_time_exceeded_literal_rh2():
    buf = h("03 00 0e0f 0000 0000") + INNER_BA
    d, issues = parse_icmp6(buf)
    assert issues == []
    assert d == {"type": 3, "code": 0, "name": "Time Exceeded", "checksum": 0x0E0F,
                 "invoking": {"src": HA, "dst": COA, "nh": 135, "mh_type": 6}}


def test_parameter_problem_literal():
    # Code 1 (unrecognized Next Header) pointing at the inner next header field:
    # how a correspondent without Mobile IPv6 support answers (RFC 6275 9.2).
    buf = h("04 01 1011 0000 0006") + INNER_BRR
    d, issues = parse_icmp6(buf)
    assert issues == []
    assert d == {"type": 4, "code": 1, "name": "Parameter Problem", "checksum": 0x1011,
                 "pointer": 6,
                 "invoking": {"src": CN, "dst": HOA, "nh": 135, "mh_type": 0}}


def test_parameter_problem_draft_protocol_62():
    d, issues = parse_icmp6(h("04 01 0000 0000 0006") + INNER_HOTI_62)
    assert issues == []
    assert d["invoking"] == {"src": HOA, "dst": CN, "nh": 62, "mh_type": 1}


@pytest.mark.parametrize("inner, nh, mh_type", [
    (INNER_FRAG_FIRST, 135, 5),
    (INNER_FRAG_LATER, 135, None),  # a later fragment carries no MH header
    (INNER_AH, 135, 5),
    (INNER_HBH, 135, 5),
    (INNER_ESP, 50, None),
], ids=["fragment_first", "fragment_later", "ah", "hop_by_hop", "esp"])
def test_extension_header_chains(inner, nh, mh_type):
    d, issues = parse_icmp6(h("01 00 0000 0000 0000") + inner)
    assert issues == []
    assert d["invoking"] == {"src": COA, "dst": HA, "nh": nh, "mh_type": mh_type}


@pytest.mark.parametrize("cut, want", [
    (0, {"src": None, "dst": None, "nh": None, "mh_type": None}),
    (7, {"src": None, "dst": None, "nh": None, "mh_type": None}),  # nh 60 needs its header
    (20, {"src": None, "dst": None, "nh": None, "mh_type": None}),
    (24, {"src": COA, "dst": None, "nh": None, "mh_type": None}),
    (40, {"src": COA, "dst": HA, "nh": None, "mh_type": None}),
    (41, {"src": COA, "dst": HA, "nh": 135, "mh_type": None}),  # next header byte read
    (66, {"src": COA, "dst": HA, "nh": 135, "mh_type": None}),
    (67, {"src": COA, "dst": HA, "nh": 135, "mh_type": 5}),
])
def test_invoking_cut_short_gives_what_could_be_read(cut, want):
    d, issues = parse_icmp6(h("01 00 0000 0000 0000") + INNER_BU[:cut])
    assert issues == []  # a short quote is normal
    assert d["invoking"] == want


def test_invoking_mh_directly_after_short_ipv6_header():
    assert invoking_packet_summary(INNER_BRR[:30]) == {
        "src": CN, "dst": None, "nh": 135, "mh_type": None}


def test_error_shorter_than_8_bytes():
    d, issues = parse_icmp6(h("02 00 1234 0000"))
    assert [(i.code, i.layer) for i in issues] == [("icmp6_too_short", "icmp6")]
    assert d["mtu"] is None and d["checksum"] == 0x1234
    assert d["invoking"] == {"src": None, "dst": None, "nh": None, "mh_type": None}
    d, issues = parse_icmp6(h("04 00 12"), snap_cut=True)
    assert [i.code for i in issues] == ["truncated_by_snaplen"]
    assert d["checksum"] is None and d["pointer"] is None


def test_long_extension_chain_is_not_followed_forever():
    chain = b"".join(h("3c 00 01 04 0000 0000") for _ in range(40))
    d, _ = parse_icmp6(h("01 00 0000 0000 0000") + _ipv6(60, chain))
    assert d["invoking"]["nh"] is None and d["invoking"]["src"] == COA


# ------------------------------------------------------------- Scapy encoder

def scapy_packets() -> list:
    """Errors quoting MIPv6 packets, built by Scapy, each inside IPv6."""
    bu = (IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
          / MIP6MH_BU(seq=7, flags="AH", mhtime=150))
    ba = (IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
          / MIP6MH_BA(seq=7, mhtime=150))
    brr = IPv6(src=CN, dst=HOA) / MIP6MH_BRR()
    hoti = IPv6(src=HOA, dst=CN) / MIP6MH_HoTI(cookie=b"\x01" * 8)
    frag = IPv6(src=COA, dst=HA) / IPv6ExtHdrFragment(offset=0, m=1, id=9) / MIP6MH_BU(seq=8)
    return [
        IPv6(src="2001:db8:9::1", dst=COA) / ICMPv6DestUnreach(code=3) / bu,
        IPv6(src="2001:db8:9::1", dst=COA) / ICMPv6PacketTooBig(mtu=1280) / bu,
        IPv6(src="2001:db8:9::1", dst=HA) / ICMPv6TimeExceeded(code=0) / ba,
        IPv6(src=HOA, dst=CN) / ICMPv6ParamProblem(code=1, ptr=6) / brr,
        IPv6(src=CN, dst=HOA) / ICMPv6ParamProblem(code=1, ptr=6) / hoti,
        IPv6(src="2001:db8:9::1", dst=COA) / ICMPv6DestUnreach(code=1) / frag,
    ]


def _mh_layer(pkt):
    layer = pkt
    while layer:
        if layer.__class__.__name__.startswith("MIP6MH_"):
            return layer
        layer = layer.payload
    raise AssertionError("no MH in packet")


@pytest.mark.parametrize("pkt", scapy_packets(), ids=lambda p: f"{p[1].type}-{p[1].code}")
def test_scapy_encoded(pkt):
    raw = bytes(pkt)
    msg = raw[40:]
    outer = pkt[IPv6]
    icmp = pkt[1]
    inner = icmp.payload
    d, issues = parse_icmp6(msg)
    assert issues == []
    assert (d["type"], d["code"]) == (icmp.type, icmp.code)
    assert d["checksum"] == IPv6(raw)[1].cksum
    assert icmp6_checksum_ok(msg, a16(outer.src), a16(outer.dst))
    assert build_icmp6(icmp.type, icmp.code, msg[4:], a16(outer.src), a16(outer.dst)) == msg
    if icmp.type == 2:
        assert d["mtu"] == icmp.mtu
    if icmp.type == 4:
        assert d["pointer"] == icmp.ptr
    assert d["invoking"] == {"src": inner.src, "dst": inner.dst, "nh": 135,
                             "mh_type": _mh_layer(inner).mhtype}


# ------------------------------------------------------------ tshark as judge

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


def test_tshark_agrees(tmp_path):
    pkts = scapy_packets()
    # Also a Packet Too Big whose quote stops right after the MH type byte.
    cut = bytes(pkts[1][ICMPv6PacketTooBig].payload)[:40 + 24 + 3]
    pkts.append(IPv6(src="2001:db8:9::1", dst=COA) / ICMPv6PacketTooBig(mtu=1400)
                / scapy_all.Raw(cut))
    pcap = tmp_path / "errors.pcap"
    scapy_all.wrpcap(str(pcap), pkts)
    fields = ["icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.mtu", "icmpv6.pointer",
              "ipv6.src", "ipv6.dst", "mip6.mhtype", "data.data"]
    rows = run_tshark(pcap, fields)
    assert len(rows) == len(pkts)
    for n, (pkt, row) in enumerate(zip(pkts, rows, strict=True), start=1):
        d, _ = parse_icmp6(bytes(pkt)[40:])
        where = f"frame {n}"
        assert int(row["icmpv6.type"]) == d["type"], where
        assert int(row["icmpv6.code"]) == d["code"], where
        assert int(row["icmpv6.checksum"], 16) == d["checksum"], where
        if d["type"] == 2:
            assert int(row["icmpv6.mtu"]) == d["mtu"], where
        if d["type"] == 4:
            assert int(row["icmpv6.pointer"]) == d["pointer"], where
        # outer header first, then the quoted one
        assert row["ipv6.src"].split(",")[1] == d["invoking"]["src"], where
        assert row["ipv6.dst"].split(",")[1] == d["invoking"]["dst"], where
        if row["mip6.mhtype"]:
            assert int(row["mip6.mhtype"]) == d["invoking"]["mh_type"], where
        else:
            # tshark does not dissect what follows a fragment header without
            # reassembly; it shows the MH as data, whose byte 2 is the MH type.
            assert int(row["data.data"][4:6], 16) == d["invoking"]["mh_type"], where
