"""The header-chain walk: HAO, RH2, tunnels, IPsec, truncation, non-IPv6 frames.
Packets are built with Scapy, an encoder independent of ours."""

from __future__ import annotations

from ipaddress import IPv6Address

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_HoTI,
)
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import ARP, Ether

from mipv6scope.capture.frame import LINKTYPE_ETHERNET
from mipv6scope.decode.frame_decoder import decode_frame
from tests.conftest import raw_frame

HA = "2001:db8:1::1"
HOA = "2001:db8:1::100"
COA = "2001:db8:2::100"
CN = "2001:db8:9::9"


def codes(frame) -> list[str]:
    return [i.code for i in frame.issues]


def test_bu_with_hao_decodes_home_address_and_checksum():
    pkt = (IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
           / MIP6MH_BU(seq=1000, mhtime=105))
    out = decode_frame(raw_frame(bytes(pkt)))
    assert out.status == "decoded", out.issues
    assert [str(h.src) for h in out.ip6] == [COA]
    assert out.hao == IPv6Address(HOA)
    assert out.src == IPv6Address(HOA) and out.outer_src == IPv6Address(COA)
    assert out.mh["type"] == 5 and out.mh["seq"] == 1000 and out.mh["lifetime_s"] == 420
    assert out.mh["checksum"] == IPv6(bytes(pkt))[MIP6MH_BU].cksum
    assert out.mh["checksum_ok"] is True
    # Scapy computes the MH checksum with the HAO's home address as source,
    # as RFC 6275 6.1.1 says (the upper-layer form).
    assert out.mh["checksum_form"] == "upper-layer"


def test_ba_with_rh2_decodes_final_destination():
    pkt = (IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
           / MIP6MH_BA(seq=1000, mhtime=105))
    out = decode_frame(raw_frame(bytes(pkt)))
    assert out.status == "decoded", out.issues
    assert out.rh2 == IPv6Address(HOA)
    assert out.dst == IPv6Address(HOA) and out.outer_dst == IPv6Address(COA)
    assert out.mh["type"] == 6 and out.mh["seq"] == 1000 and out.mh["status"] == 0
    assert out.mh["checksum_ok"] is True


def test_corrupted_mh_checksum_is_reported():
    pkt = bytearray(bytes(IPv6(src=COA, dst=HA) / MIP6MH_BU(seq=7, mhtime=1)))
    pkt[40 + 4] ^= 0xFF
    out = decode_frame(raw_frame(bytes(pkt)))
    assert "bad_mh_checksum" in codes(out)
    assert out.mh["checksum_ok"] is False and out.mh["checksum_form"] is None
    assert out.status == "malformed"


def test_on_wire_checksum_form_is_recognised_and_refused():
    """A checksum built over the on-wire source (the care-of address) instead of
    the HAO's home address is recognised, and is wrong: RFC 6275 6.1.1 / RFC 8200
    8.1 put the home address in the pseudo-header, and RFC 6275 9.2 has the
    receiver discard the message (this test used to accept it as correct)."""
    wire = IPv6(src=COA, dst=HA) / MIP6MH_BU(seq=9, mhtime=1)
    wire_sum = IPv6(bytes(wire))[MIP6MH_BU].cksum
    pkt = (IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
           / MIP6MH_BU(seq=9, mhtime=1, cksum=wire_sum))
    out = decode_frame(raw_frame(bytes(pkt)))
    assert out.mh["checksum_ok"] is False
    assert out.mh["checksum_form"] == "on-wire"
    assert [i.code for i in out.issues] == ["mh_checksum_over_care_of"]
    assert out.status == "malformed"


def test_tunnel_three_levels_keeps_every_header():
    pkt = (IPv6(src=HA, dst=COA) / IPv6(src="2001:db8:5::1", dst="2001:db8:6::1")
           / IPv6(src=CN, dst=HOA) / UDP(sport=5000, dport=6000) / b"abcd")
    out = decode_frame(raw_frame(bytes(pkt)))
    assert out.status == "decoded"
    assert [(str(h.src), str(h.dst), h.nh) for h in out.ip6] == [
        (HA, COA, 41), ("2001:db8:5::1", "2001:db8:6::1", 41), (CN, HOA, 17)]
    assert out.tunnel_depth == 2
    assert (out.transport.proto, out.transport.sport, out.transport.dport) == (17, 5000, 6000)


def test_hoti_through_reverse_tunnel():
    pkt = IPv6(src=COA, dst=HA) / IPv6(src=HOA, dst=CN) / MIP6MH_HoTI(cookie=b"\x01" * 8)
    out = decode_frame(raw_frame(bytes(pkt)))
    assert out.mh["type"] == 1 and out.mh["cookie"] == "01" * 8
    assert out.mh["checksum_ok"] is True
    assert str(out.src) == HOA and str(out.outer_src) == COA


def test_esp_is_opaque_with_spi_and_sequence():
    pkt = IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / ESP(spi=0x1234, seq=5, data=b"\x00" * 24)
    out = decode_frame(raw_frame(bytes(pkt)))
    assert out.esp == {"spi": 0x1234, "seq": 5, "no_key": True}  # no SA opens it: counted
    assert out.mh is None and out.hao == IPv6Address(HOA)


def test_rh2_rules():
    two = IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA, CN], segleft=1) / MIP6MH_BA()
    assert "bad_routing2_len" in codes(decode_frame(raw_frame(bytes(two))))
    zero = IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=0) / MIP6MH_BA()
    out = decode_frame(raw_frame(bytes(zero)))
    assert "rh2_segs_left_not_one" in codes(out) and out.status == "malformed"


def test_hao_rules():
    double = IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA), HAO(hoa=CN)]) / UDP()
    out = decode_frame(raw_frame(bytes(double)))
    assert "multiple_home_addr_opts" in codes(out)
    assert out.hao == IPv6Address(HOA)
    short = bytearray(bytes(IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / UDP()))
    hao_at = bytes(short).index(bytes([201, 16]))
    short[hao_at + 1] = 8  # HAO length 8 instead of 16
    assert "bad_home_addr_len" in codes(decode_frame(raw_frame(bytes(short))))


def test_snaplen_cut_versus_short_packet():
    pkt = bytes(IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / MIP6MH_BU(seq=1))
    cut = decode_frame(raw_frame(pkt[:50], wirelen=len(pkt)))
    assert "truncated_by_snaplen" in codes(cut)
    assert cut.status == "decoded"
    short = decode_frame(raw_frame(pkt[:50]))
    assert "ip6_payload_length_mismatch" in codes(short) or "truncated_header" in codes(short)


def test_every_prefix_of_a_signalling_packet_never_raises():
    pkt = bytes(IPv6(src=HA, dst=COA) / IPv6(src=COA, dst=HA)
                / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / MIP6MH_BU(seq=1))
    for n in range(len(pkt)):
        out = decode_frame(raw_frame(pkt[:n], wirelen=len(pkt)))
        assert all(i.code != "decoder_error" for i in out.issues), (n, out.issues)
        if n < len(pkt):
            assert out.issues or out.status == "skipped", n


def test_ipv4_and_arp_are_skipped_with_reason():
    v4 = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(dst="192.0.2.1") / UDP())
    out = decode_frame(raw_frame(v4, linktype=LINKTYPE_ETHERNET))
    assert out.status == "skipped" and out.skip_reason == "IPv4"
    arp = decode_frame(raw_frame(bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ARP()), linktype=LINKTYPE_ETHERNET))
    assert arp.status == "skipped" and "ARP" in arp.skip_reason
