"""`malformed`: every decode issue code the decoder knows (but decoder_error,
which only a decoder bug produces), each in its own frame, between valid
traffic: a home registration (BU with HAO, BA with RH2) and voice through the
bidirectional tunnel.

Each broken frame is a valid packet with one thing broken; its truth label is
"finding/{code}" for every code the decoder must report on it, so the truth's
findings list, per code, exactly the frames that carry it. Frames cut by the
snap length use Packet.caplen. Every probe sees every frame (one shared link).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from ...decode import icmp6 as icmp
from ...decode import mh
from ...decode import mh_options as opt
from ...decode.checksum import upper_layer_checksum
from ...decode.ext_headers import build_dest_opts_with_hao
from ...decode.issues import ISSUE_KINDS
from ..build import addr, icmp6_packet, ip6, mh_packet, tcp_packet, tunnel, udp_packet
from ..engine import Frames, Packet, Sighting, for_vantage
from . import Built, ScenarioParams

HA, HOA, COA, CN = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:2::100", "2001:db8:9::9"
HA_LL, MN_LL = "fe80::200:ff:fe00:1", "fe80::200:ff:fe00:10"
MN_MAC, AR_MAC = "02:00:00:00:00:10", "02:00:00:00:00:02"
T0 = 1_700_000_000.0
# decoder_error: only a decoder bug gives it; timestamp_out_of_range: a pcap
# record's time (unsigned 32-bit seconds) is always a date from 1970 to 2106;
# esp_icv_mismatch, esp_decrypt_failed: only with --esp-sa keys, which a capture
# does not carry (tests/decode/test_esp_decrypt.py makes them)
SKIPPED_CODES = {"decoder_error", "timestamp_out_of_range", "esp_icv_mismatch", "esp_decrypt_failed"}


def _bu(seq: int, units: int = 105) -> mh.BU:
    bu = mh.BU(seq=seq, lifetime=units)
    bu.a, bu.h = 1, 1
    return bu


def _patched(packet: bytes, offset: int, value: bytes) -> bytes:
    return packet[:offset] + value + packet[offset + len(value):]


def _bu_patched_mh(offset: int, value: bytes, options: list | None = None) -> bytes:
    """A home BU whose MH is patched at ``offset`` and then checksummed again,
    so the patch is its only problem."""
    body = mh.build_mh(_bu(5), options or [], addr(HOA), addr(HA))
    body = _patched(body, offset, value)
    covered = body[:(body[1] + 1) * 8]
    body = _patched(body, 4, struct.pack("!H", mh.mh_checksum(addr(HOA), addr(HA), covered)))
    return ip6(COA, HA, 60, build_dest_opts_with_hao(135, addr(HOA)) + body)


def _voice(seq: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x5EED) + b"\xff" * 160


def broken_frames() -> list[tuple[tuple[str, ...], bytes, int | None]]:
    """(codes, packet, caplen or None) for every broken frame."""
    good = mh_packet(COA, HA, _bu(1), hao=HOA)
    mh_at = 40 + 24
    ba = mh_packet(HA, COA, mh.BA(status=0, seq=1, lifetime=105), rh2=HOA)
    short_udp = ip6(COA, HA, 17, struct.pack("!HHHH", 1, 2, 40, 0))[:-4]
    pad8 = bytes([60, 0, 1, 4, 0, 0, 0, 0])  # a Destination Options header of PadN only
    chain = b"".join(pad8 for _ in range(70))[:-8] + bytes([59, 0, 1, 4, 0, 0, 0, 0])
    hao_at_2 = bytes([59, 2, 201, 16]) + addr(HOA) + bytes([1, 2, 0, 0])
    na_body = bytes(4) + addr(HA)
    ra = icmp.RouterAdvertisement(hop_limit=64, router_lifetime=1800)
    inner_v4 = b"\x45" + ip6(HOA, CN, 17, struct.pack("!HHHH", 1, 2, 8, 0))[1:]
    draft = ip6(COA, HA, 60, build_dest_opts_with_hao(62, addr(HOA))
                + mh.build_mh(_bu(6), [], addr(HOA), addr(HA)))
    return [
        (("bad_mh_checksum",), _patched(good, mh_at + 4, b"\xde\xad"), None),
        (("rh2_segs_left_not_one",), _patched(ba, 43, b"\x00"), None),
        (("bad_routing2_len",), ip6(HA, COA, 43, bytes([135, 4, 2, 1, 0, 0, 0, 0]) + addr(HOA) + addr(CN)
                                    + mh.build_mh(mh.BA(status=0, seq=1, lifetime=105), [], addr(HA),
                                                  addr(HOA))), None),
        # without a usable HAO the checksum fits neither address form: both are reported
        (("bad_home_addr_len", "bad_mh_checksum"), _patched(good, 40 + 7, b"\x08"), None),
        (("multiple_home_addr_opts",), ip6(COA, CN, 60, bytes([17, 5, 1, 2, 0, 0, 201, 16]) + addr(HOA)
                                           + bytes([1, 4, 0, 0, 0, 0, 201, 16]) + addr(CN)
                                           + _udp_segment(HOA, CN)), None),
        (("mh_len_below_minimum",), _bu_patched_mh(1, b"\x00"), None),
        (("mh_len_beyond_packet",), _patched(good, mh_at + 1, b"\x09"), None),
        (("mh_payload_proto_not_59",), _bu_patched_mh(0, b"\x06"), None),
        (("mh_option_overrun",), _bu_patched_mh(12, bytes([77, 40])), None),
        (("mh_option_bad_length",), _bu_patched_mh(15, b"\x08", [opt.AlternateCoA(alternate_coa=addr(COA))]),
         None),
        (("truncated_by_snaplen",), mh_packet(COA, HA, _bu(4), hao=HOA), 40 + 24 + 8),
        (("ip6_payload_length_mismatch",), short_udp[:4] + struct.pack("!H", 40) + short_udp[6:], None),
        (("esp_too_short",), ip6(COA, HA, 50, b"\x00\x00\x10"), None),
        (("ah_too_short",), ip6(COA, HA, 51, bytes([135, 4, 0, 0, 0, 0])), None),
        (("icmp6_too_short",), ip6(HA_LL, MN_LL, 58, b"\x88\x00"), None),
        (("nd_option_zero_length",), icmp6_packet(HA_LL, MN_LL, icmp.ND_NEIGHBOR_ADVERT, 0,
                                                  na_body + b"\x02\x00" + bytes(6)), None),
        (("nd_option_overrun",), icmp6_packet(HA_LL, MN_LL, icmp.ND_NEIGHBOR_ADVERT, 0,
                                              na_body + b"\x02\x02" + bytes(6)), None),
        (("nd_option_bad_length",), icmp6_packet(HA_LL, "ff02::1", icmp.ND_ROUTER_ADVERT, 0,
                                                 bytes(ra) + b"\x05\x02" + bytes(14)), None),
        (("nd_prefix_length_invalid",), icmp6_packet(
            HA_LL, "ff02::1", icmp.ND_ROUTER_ADVERT, 0,
            bytes(ra) + bytes([3, 4, 192, 0xC0]) + struct.pack("!IIi", 2592000, 604800, 0)
            + addr("2001:db8:2::")), None),
        (("mh_prefix_length_invalid",), mh_packet(
            COA, HA, _bu(6), [opt.MobileNetworkPrefix(prefix_len=200, prefix=addr("2001:db8:77::"))],
            hao=HOA), None),
        (("bad_ipv6_dest_opt_len",), ip6(COA, HA, 60, bytes([59, 0, 1, 10, 0, 0, 0, 0])), None),
        (("hao_misaligned",), ip6(COA, CN, 60, hao_at_2), None),
        (("too_many_headers",), ip6(COA, HA, 60, chain), None),
        (("truncated_header",), ip6(COA, HA, 60, b"\x3b"), None),
        (("ext_header_beyond_payload",), good[:4] + struct.pack("!H", 8) + good[6:], None),
        (("bad_ip_version",), tunnel(HA, COA, inner_v4), None),
        (("mh_draft_protocol_number",), draft, None),
        # the MH checksum over the care-of address where the HAO's home address belongs
        (("mh_checksum_over_care_of",), _patched(good, mh_at + 4, struct.pack(
            "!H", mh.mh_checksum(addr(COA), addr(HA), mh.build_mh(_bu(1), [], addr(COA), addr(HA))))),
         None),
        (("mh_type_unknown",), ip6(COA, HA, 135, _mh_of_type(200)), None),
        (("bad_udp_checksum",), tunnel(HA, COA, _patched(udp_packet(CN, HOA, 5004, 40000, _voice(0)),
                                                         40 + 6, b"\x12\x34")), None),
        (("bad_tcp_checksum",), _patched(tcp_packet(CN, HOA, 80, 40000, 1, 0, 0x10, b"data"),
                                         40 + 16, b"\xbe\xef"), None),
    ]


def _udp_segment(src: str, dst: str) -> bytes:
    """An empty UDP datagram from port 1 to 2, checksummed over (src, dst)."""
    seg = struct.pack("!HHHH", 1, 2, 8, 0)
    return seg[:6] + struct.pack("!H", upper_layer_checksum(addr(src), addr(dst), 17, seg, 6) or 0xFFFF)


def _mh_of_type(mh_type: int) -> bytes:
    """A 16-octet Mobility Header of ``mh_type`` from COA to HA, checksummed."""
    body = bytes([59, 1, mh_type, 0, 0, 0]) + bytes(10)
    return _patched(body, 4, struct.pack("!H", mh.mh_checksum(addr(COA), addr(HA), body)))


def build(params: ScenarioParams) -> Built:
    """A home registration, tunnelled voice, and one broken frame every 40 ms."""
    packets: list[Packet] = []

    def add(ts: float, data: bytes, src: str, dst: str, labels: Iterable[str] = (),
            caplen: int | None = None) -> None:
        seen = Sighting(round(T0 + ts, 6), src, dst)
        packets.append(Packet(data, seen, {"mn": seen, "ha": seen, "cn": seen}, tuple(labels), caplen))

    add(0.0, mh_packet(COA, HA, _bu(1), hao=HOA), MN_MAC, AR_MAC)
    add(0.041, mh_packet(HA, COA, mh.BA(status=0, seq=1, lifetime=105), rh2=HOA), AR_MAC, MN_MAC)
    broken = broken_frames()
    for i, (codes, data, caplen) in enumerate(broken):
        ts = 0.06 + i * 0.04
        add(ts, tunnel(HA, COA, udp_packet(CN, HOA, 5004, 40000, _voice(2 * i))), AR_MAC, MN_MAC)
        add(ts + 0.01, tunnel(COA, HA, udp_packet(HOA, CN, 40000, 5004, _voice(2 * i + 1))), MN_MAC, AR_MAC)
        add(ts + 0.02, data, MN_MAC, AR_MAC, [f"finding/{code}" for code in codes], caplen)
    codes = sorted(code for code in ISSUE_KINDS if code not in SKIPPED_CODES)
    findings = [{"code": code, "frames": Frames(f"finding/{code}")} for code in codes]
    missing = set(codes) - {c for cs, _d, _c in broken for c in cs}
    if missing:
        raise RuntimeError(f"malformed scenario lacks a frame for {sorted(missing)}")
    return Built(lambda vantage: for_vantage(packets, vantage), {"findings": findings},
                 {"frames_broken": len(broken)})
