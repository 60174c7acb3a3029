"""ESP read as NULL encryption (decode/esp_null.py through decode_frame).

The ESP packets come from Scapy's IPsec layer (SecurityAssociation with
NULL encryption and NULL integrity: its own trailer, padding and alignment),
with an ICV of the wanted length appended by hand where a test needs one. A
guess that fails must leave the frame exactly as the decoder gives it with
the heuristic off: opaque ESP, no new issue.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
)
from scapy.layers.ipsec import ESP, SecurityAssociation

from mipv6scope.analysis.events_from_frames import events_from_decoded
from mipv6scope.decode import frame_decoder
from mipv6scope.decode.esp_null import ICV_LENGTHS
from mipv6scope.decode.frame_decoder import decode_frame
from mipv6scope.events import BindingAck, BindingUpdate
from tests.conftest import raw_frame

HA = "2001:db8:1::1"
HOA = "2001:db8:1::100"
COA = "2001:db8:2::100"
SPI = 0x1234
IP6_AND_OPTS = 40 + 24  # IPv6 header + Destination Options (PadN + HAO) or RH2


def seal(inner, seq: int = 1) -> bytes:
    """Scapy's ESP transport mode with NULL encryption and no integrity."""
    sa = SecurityAssociation(ESP, spi=SPI, seq_num=seq, crypt_algo="NULL", crypt_key=None,
                             auth_algo="NULL", auth_key=None)
    return bytes(sa.encrypt(inner))


def bu_packet(**bu) -> IPv6:
    return (IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
            / MIP6MH_BU(**({"seq": 7, "mhtime": 15, "flags": "HA"} | bu)))


def ba_packet() -> IPv6:
    return (IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
            / MIP6MH_BA(seq=7, mhtime=15))


def with_icv(packet: bytes, icv: bytes) -> bytes:
    """``packet`` with ``icv`` appended and the IPv6 payload length fixed."""
    out = bytearray(packet + icv)
    struct.pack_into("!H", out, 4, len(out) - 40)
    return bytes(out)


def esp_payload(packet: bytes) -> bytes:
    """The ESP header and everything after it (the options/RH2 are 24 octets here)."""
    return packet[IP6_AND_OPTS:]


def rebuild(packet: bytes, esp: bytes) -> bytes:
    """``packet`` with its ESP part replaced and the payload length fixed."""
    return with_icv(packet[:IP6_AND_OPTS] + esp, b"")


def opaque(frame_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """The frame decodes exactly as with the heuristic turned off."""
    got = decode_frame(raw_frame(frame_bytes))
    with monkeypatch.context() as m:
        m.setattr(frame_decoder, "read_esp_null", lambda _esp, _hdr: None)
        today = decode_frame(raw_frame(frame_bytes))
    assert got == today
    assert got.mh is None and (got.esp is None or "null" not in got.esp)


def test_scapy_bu_with_hao_in_esp_null_decodes():
    packet = seal(bu_packet())
    out = decode_frame(raw_frame(packet))
    assert out.status == "decoded" and out.issues == []
    sealed = IPv6(packet)[ESP]
    trailer = sealed.data[-2:]
    assert out.esp == {"spi": SPI, "seq": sealed.seq, "null": True, "icv_len": 0,
                       "pad_len": trailer[0], "next_header": 135}
    mh_bytes = bytes(bu_packet()[MIP6MH_BU])
    assert out.mh is not None and out.mh["type"] == 5 and out.mh["seq"] == 7
    assert out.mh["lifetime_units"] == 15 and out.mh["flags"] == ["A", "H"]
    assert out.mh["checksum"] == int.from_bytes(mh_bytes[4:6], "big")
    assert (out.mh["checksum_ok"], out.mh["checksum_form"]) == (True, "upper-layer")
    assert str(out.src) == HOA and str(out.outer_src) == COA
    (event,) = events_from_decoded(out)
    assert isinstance(event, BindingUpdate) and event.esp is True
    assert str(event.home_address) == HOA and str(event.care_of) == COA


@pytest.mark.parametrize("icv_len", ICV_LENGTHS)
def test_each_icv_length_is_found(icv_len: int):
    packet = with_icv(seal(ba_packet()), bytes([0xA5]) * icv_len)
    out = decode_frame(raw_frame(packet))
    assert out.issues == [] and out.mh is not None and out.mh["type"] == 6
    assert out.esp is not None and out.esp["icv_len"] == icv_len
    assert str(out.dst) == HOA and out.mh["checksum_ok"] is True
    (event,) = events_from_decoded(out)
    assert isinstance(event, BindingAck) and event.esp is True


def test_an_unknown_icv_length_stays_opaque(monkeypatch):
    opaque(with_icv(seal(ba_packet()), bytes([0xA5]) * 20), monkeypatch)


def test_every_cut_of_the_trailer_is_opaque(monkeypatch):
    """ESP payloads shortened by 1 .. all octets (payload length fixed): the
    trailer is gone or misplaced, nothing validates, nothing raises."""
    packet = seal(bu_packet())
    esp = esp_payload(packet)
    for cut in range(1, len(esp) + 1):
        opaque(rebuild(packet, esp[:-cut]), monkeypatch)


def test_snap_length_cut_is_opaque(monkeypatch):
    """A frame cut by the snap length: the trailer was not captured, no guess."""
    packet = with_icv(seal(bu_packet()), bytes(12))
    for caplen in range(IP6_AND_OPTS + 8, len(packet)):
        frame = raw_frame(packet[:caplen], wirelen=len(packet))
        got = decode_frame(frame)
        assert got.mh is None and got.esp is not None and "null" not in got.esp
    opaque(packet[:-3], monkeypatch)  # payload length says more than the frame holds


def test_bad_pad_bytes_are_opaque(monkeypatch):
    packet = seal(bu_packet())
    esp = bytearray(esp_payload(packet))
    pad_len = esp[-2]
    assert pad_len >= 1, "the BU needs padding for this test"
    for wrong in (0, pad_len + 1, 0xFF):
        bad = bytearray(esp)
        bad[-3] = wrong
        opaque(rebuild(packet, bytes(bad)), monkeypatch)


def test_misaligned_trailer_is_opaque(monkeypatch):
    """RFC 4303 2.4: Pad Length and Next Header end on a 4-octet boundary."""
    mh_bytes = bytes(bu_packet()[MIP6MH_BU])
    esp = struct.pack("!II", SPI, 1) + mh_bytes + bytes([1, 1, 135])
    opaque(rebuild(seal(bu_packet()), esp), monkeypatch)


def test_wrong_checksum_is_opaque_without_a_finding(monkeypatch):
    packet = seal(bu_packet(cksum=0xBEEF))
    opaque(packet, monkeypatch)
    assert decode_frame(raw_frame(packet)).issues == []


def test_header_len_not_the_payload_is_opaque(monkeypatch):
    """Eight octets more in the payload than Header Len covers."""
    mh_bytes = bytes(bu_packet()[MIP6MH_BU])
    body = mh_bytes + bytes(8)
    esp = struct.pack("!II", SPI, 1) + body + bytes([1, 2, 2, 135])
    opaque(rebuild(seal(bu_packet()), esp), monkeypatch)


@pytest.mark.parametrize("inner", [
    UDP(sport=5004, dport=5004) / b"voice",
    ICMPv6EchoRequest(id=1, seq=1),
], ids=["udp", "icmpv6"])
def test_other_next_headers_stay_opaque(inner, monkeypatch):
    packet = seal(IPv6(src=COA, dst=HA) / inner)
    assert IPv6(packet)[ESP].data[-1] in (17, 58)
    opaque(packet, monkeypatch)


def test_mh_draft_next_header_stays_opaque(monkeypatch):
    packet = bytearray(seal(bu_packet()))
    assert packet[-1] == 135
    packet[-1] = 62
    opaque(bytes(packet), monkeypatch)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.binary(min_size=0, max_size=160), with_hao=st.booleans())
def test_random_esp_bytes_are_opaque(payload: bytes, with_hao: bool):
    """Random ESP (SPI, sequence and payload): never raises, never a new issue,
    never read as NULL encryption."""
    inner = IPv6(src=COA, dst=HA)
    if with_hao:
        inner = inner / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)], nh=50)
    else:
        inner.nh = 50
    packet = bytes(inner / payload)
    got = decode_frame(raw_frame(packet))
    assert got.mh is None
    assert [i.code for i in got.issues] in ([], ["esp_too_short"])
    if got.esp is not None:
        assert "null" not in got.esp


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seq=st.integers(0, 0xFFFF), lifetime=st.integers(0, 0xFFFF),
       icv_len=st.sampled_from(ICV_LENGTHS), icv=st.binary(min_size=32, max_size=32))
def test_any_sealed_bu_is_read_back(seq: int, lifetime: int, icv_len: int, icv: bytes):
    packet = with_icv(seal(bu_packet(seq=seq, mhtime=lifetime)), icv[:icv_len])
    got = decode_frame(raw_frame(packet))
    assert got.issues == [] and got.mh is not None
    assert (got.mh["seq"], got.mh["lifetime_units"]) == (seq, lifetime)
    assert got.esp is not None and got.esp["icv_len"] == icv_len
