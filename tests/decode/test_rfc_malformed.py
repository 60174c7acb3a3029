"""Decode issues RFC 6275 and RFC 8200 call for, on packets Scapy built (not our
encoder), each checked against what tshark reads from the same bytes.

- an MH checksum computed over the care-of address where the home address
  belongs (RFC 6275 6.1.1, RFC 8200 8.1): ``mh_checksum_over_care_of``, an
  error (RFC 6275 9.2: the receiver discards it), so the frame is malformed;
- an MH Type nobody defined (200): ``mh_type_unknown`` (RFC 6275 9.2), a
  warning (the frame is still decoded);
- TCP and UDP checksums, outer and tunnelled, with the HAO/RH2 home address in
  the pseudo-header: ``bad_tcp_checksum`` / ``bad_udp_checksum`` exactly where
  ``tshark -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE`` says "bad"
  or "illegal", warnings (the packet still counts);
- a capture cut to 96 bytes (editcap -s 96): ``truncated_by_snaplen`` where a
  header we need (tunnelled ports, BU options) is cut, nothing where only data is;
- the `packets` Info line: ``len=`` is tshark's ``Len=``; ``HoA=`` only for a
  Home Address option on the wire.

The tshark fields used: ``mip6.csum``, ``mip6.type``, ``mip6.bu.seqnr``,
``tcp.checksum.status`` / ``udp.checksum.status`` (0 bad, 1 good, 2 unverified,
4 illegal), ``frame.cap_len`` / ``frame.len`` and ``_ws.col.Info``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import TCP, UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_Generic,
    MIP6OptAltCoA,
)
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from mipv6scope.decode.model import DecodedFrame
from mipv6scope.decode.packet_list import packet_row
from mipv6scope.decode.stream import DecodeStream

TSHARK = shutil.which("tshark")
EDITCAP = shutil.which("editcap")
pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")

HA, HOA, CN = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:9::9"
COA = "2001:db8:2::100"
BAD, GOOD, UNVERIFIED, ILLEGAL = "0", "1", "2", "4"  # tshark's checksum status values


def write(tmp_path: Path, name: str, packets: list) -> Path:
    """``packets`` (Scapy) as an Ethernet pcap, 0.1 s apart."""
    for i, packet in enumerate(packets):
        packet.time = 1_700_000_000.0 + i / 10
    path = tmp_path / name
    wrpcap(str(path), packets)
    return path


def ours(path: Path) -> dict[int, DecodedFrame]:
    return {f.number: f for f in DecodeStream([path])}


def tshark(path: Path, *fields: str) -> dict[int, dict[str, str]]:
    """frame number -> {field: value (all occurrences, comma-joined)}."""
    args = [TSHARK, "-r", str(path), "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
            "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.number"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        number, *values = line.split("\t")
        rows[int(number)] = dict(zip(fields, values, strict=True))
    return rows


def codes(frame: DecodedFrame) -> list[str]:
    return [i.code for i in frame.issues]


def scapy_mh_checksum(packet, layer) -> int:
    """The checksum Scapy writes into ``layer`` of ``packet`` once built."""
    return IPv6(bytes(packet[IPv6]))[layer].cksum


# -- the MH checksum over the care-of address ------------------------------------------------

def test_bu_checksum_over_the_care_of_address_is_refused(tmp_path: Path):
    """RFC 6275 6.1.1 / RFC 8200 8.1: a BU with a HAO is checksummed with the home
    address as the pseudo-header source. One computed with the care-of address
    (the IPv6 source) verifies only that way: mh_checksum_over_care_of, and the
    frame is malformed (RFC 6275 9.2: a receiver silently discards it)."""
    right = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) \
        / MIP6MH_BU(seq=7, flags="AH", mhtime=100)
    over_care_of = scapy_mh_checksum(IPv6(src=COA, dst=HA) / MIP6MH_BU(seq=7, flags="AH", mhtime=100),
                                     MIP6MH_BU)
    wrong = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) \
        / MIP6MH_BU(seq=7, flags="AH", mhtime=100, cksum=over_care_of)
    assert scapy_mh_checksum(right, MIP6MH_BU) != over_care_of  # the HAO changes the sum
    path = write(tmp_path, "care-of-checksum.pcap", [right, wrong])
    frames, ts = ours(path), tshark(path, "mip6.csum", "mip6.bu.seqnr")
    assert codes(frames[1]) == [] and frames[1].status == "decoded"
    assert frames[1].mh["checksum_form"] == "upper-layer"
    assert codes(frames[2]) == ["mh_checksum_over_care_of"] and frames[2].status == "malformed"
    assert (frames[2].mh["checksum_ok"], frames[2].mh["checksum_form"]) == (False, "on-wire")
    # tshark 4.0 shows the checksum without judging it: the same value, the same BU
    assert int(ts[2]["mip6.csum"], 16) == frames[2].mh["checksum"] == over_care_of
    assert ts[2]["mip6.bu.seqnr"] == "7" == str(frames[2].mh["seq"])


def test_ba_checksum_over_the_care_of_destination_is_refused(tmp_path: Path):
    """A BA to the care-of address with a type 2 routing header: the pseudo-header's
    destination is the final one, the home address (RFC 8200 8.1). Checksummed
    over the care-of address instead: mh_checksum_over_care_of."""
    over_care_of = scapy_mh_checksum(IPv6(src=HA, dst=COA) / MIP6MH_BA(seq=7, mhtime=100), MIP6MH_BA)
    ba = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1) \
        / MIP6MH_BA(seq=7, mhtime=100, cksum=over_care_of)
    path = write(tmp_path, "care-of-ba.pcap", [ba])
    (frame,) = ours(path).values()
    assert codes(frame) == ["mh_checksum_over_care_of"] and frame.status == "malformed"
    assert int(tshark(path, "mip6.csum")[1]["mip6.csum"], 16) == over_care_of


# -- an unknown MH type ------------------------------------------------------------------------

def test_mh_type_200_is_reported_and_still_decoded(tmp_path: Path):
    """RFC 6275 9.2: an MH Type the receiver does not know gets a Binding Error,
    status 2. Type 200 is in no registry: mh_type_unknown, a warning."""
    packet = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=HA) / MIP6MH_Generic(mhtype=200, msg=b"\x00" * 10)
    path = write(tmp_path, "type-200.pcap", [packet])
    (frame,) = ours(path).values()
    assert codes(frame) == ["mh_type_unknown"] and frame.status == "decoded"
    assert frame.mh["type"] == 200 and frame.mh["checksum_ok"] is True
    assert tshark(path, "mip6.mhtype")[1]["mip6.mhtype"] == "200"


# -- TCP and UDP checksums, outer and tunnelled --------------------------------------------------

def _checksum_packets() -> list[tuple[object, str | None]]:
    """(packet, the issue we expect) in frame order."""
    def down(l4):
        return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=HOA) / l4
    return [
        (down(UDP(sport=5004, dport=5004) / bytes(100)), None),
        (down(UDP(sport=5004, dport=5004, chksum=0x1234) / bytes(100)), "bad_udp_checksum"),
        (down(UDP(sport=5004, dport=5004, chksum=0) / bytes(100)), "bad_udp_checksum"),
        (down(TCP(sport=80, dport=4242) / bytes(33)), None),
        (down(TCP(sport=80, dport=4242, chksum=0xBEEF) / bytes(33)), "bad_tcp_checksum"),
        (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst=HOA) / TCP(sport=80, dport=4242, chksum=1) / b"x", "bad_tcp_checksum"),
        (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst=HOA) / UDP(sport=53, dport=53) / b"abc", None),
        # route-optimised: Scapy puts the HAO / RH2 home address in the pseudo-header
        (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
         / TCP(sport=4242, dport=80) / bytes(7), None),
        (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
         / UDP(sport=5004, dport=5004) / bytes(9), None),
        # the same with the care-of address in the pseudo-header: wrong
        (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
         / UDP(sport=4242, dport=80,
               chksum=IPv6(bytes(IPv6(src=COA, dst=CN) / UDP(sport=4242, dport=80) / bytes(7)))[UDP].chksum)
         / bytes(7), "bad_udp_checksum"),
    ]


def test_tcp_and_udp_checksums_agree_with_tshark(tmp_path: Path):
    cases = _checksum_packets()
    path = write(tmp_path, "checksums.pcap", [p for p, _ in cases])
    frames = ours(path)
    ts = tshark(path, "tcp.checksum.status", "udp.checksum.status")
    for number, (_packet, expected) in enumerate(cases, start=1):
        frame = frames[number]
        assert codes(frame) == ([] if expected is None else [expected]), number
        assert frame.status == "decoded", number  # a warning: the packet still counts
        status = ts[number]["tcp.checksum.status"] or ts[number]["udp.checksum.status"]
        assert (status in (BAD, ILLEGAL)) is (expected is not None), (number, status)
        assert status in (GOOD, BAD, ILLEGAL), (number, status)


def test_inner_checksum_issue_names_the_tunnel(tmp_path: Path):
    packet, _ = _checksum_packets()[1]
    (frame,) = ours(write(tmp_path, "inner.pcap", [packet])).values()
    (issue,) = frame.issues
    assert issue.layer == "udp" and issue.detail.startswith("tunnelled UDP checksum 0x1234")


def test_a_first_fragment_is_not_checked(tmp_path: Path):
    """The checksum of a fragmented segment covers bytes of later fragments."""
    from scapy.layers.inet6 import IPv6ExtHdrFragment
    packet = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst=HOA) / IPv6ExtHdrFragment(m=1, offset=0, id=7) \
        / UDP(sport=1, dport=2, chksum=0x1111, len=500) / bytes(40)
    (frame,) = ours(write(tmp_path, "frag.pcap", [packet])).values()
    assert codes(frame) == []


# -- a capture cut to 96 bytes -------------------------------------------------------------------

@pytest.mark.skipif(EDITCAP is None, reason="editcap is not installed")
def test_snaplen_96(tmp_path: Path):
    """editcap -s 96 keeps 14 Ethernet + 82 IPv6 bytes of each frame. By hand:

    1. tunnelled UDP: outer (40) and inner (40) headers, 2 of the UDP header's
       8 bytes: the packet counts in its tunnel, its ports (flow) are lost ->
       truncated_by_snaplen on "udp".
    2. BU with a HAO (40 + 24) and an Alternate Care-of Address option: the BU's
       fixed part (12) is there, the option (at MH offset 14, 18 bytes) is not:
       truncated_by_snaplen on "mh"; seq, flags and lifetime still read.
    3. plain TCP of 340 bytes: headers whole, data cut: nothing we count is
       missing, no issue; the checksum cannot be verified (tshark: unverified).
    4. tunnelled TCP with a bad checksum: cut inside the inner TCP header: ports
       lost (truncated_by_snaplen), the checksum cannot be judged, so no
       bad_tcp_checksum (tshark: no checksum status at all).
    """
    packets = [
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=HOA) / UDP(sport=5004, dport=5004) / bytes(100),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
        / MIP6MH_BU(seq=9, flags="AH", mhtime=100, options=[MIP6OptAltCoA(acoa=COA)]),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst=HOA) / TCP(sport=80, dport=4242) / bytes(300),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=HOA) / TCP(sport=80, dport=4242, chksum=7) / bytes(9),
    ]
    full = write(tmp_path, "full.pcap", packets)
    cut = tmp_path / "cut.pcap"
    subprocess.run([EDITCAP, "-s", "96", str(full), str(cut)], check=True, capture_output=True)
    frames = ours(cut)
    ts = tshark(cut, "frame.cap_len", "frame.len", "mip6.bu.seqnr", "tcp.checksum.status",
                "udp.srcport")
    assert all(ts[n]["frame.cap_len"] == "96" for n in (1, 2, 3, 4))
    assert [f.status for f in frames.values()] == ["decoded"] * 4  # cut is not malformed

    assert codes(frames[1]) == ["truncated_by_snaplen"] and frames[1].issues[0].layer == "udp"
    assert frames[1].transport.proto == 17 and frames[1].transport.sport is None
    assert ts[1]["udp.srcport"] == ""  # tshark has no port either
    assert [str(h.dst) for h in frames[1].ip6] == [COA, HOA]  # the tunnel is still known

    assert codes(frames[2]) == ["truncated_by_snaplen"] and frames[2].issues[0].layer == "mh"
    assert (frames[2].mh["seq"], frames[2].mh["lifetime_s"]) == (9, 400)
    assert [o["type"] for o in frames[2].mh["options"] if o["type"] > 1] == []  # alt-CoA cut
    assert ts[2]["mip6.bu.seqnr"] == "9"

    assert codes(frames[3]) == [] and ts[3]["tcp.checksum.status"] == UNVERIFIED
    assert codes(frames[4]) == ["truncated_by_snaplen"] and ts[4]["tcp.checksum.status"] == ""
    # the same frames whole: the bad inner checksum is seen
    whole = ours(full)
    assert [codes(f) for f in whole.values()] == [[], [], [], ["bad_tcp_checksum"]]


# -- the Info line ---------------------------------------------------------------------------------

def test_len_is_tsharks_len(tmp_path: Path):
    """tshark's Len=: UDP payload (Length - 8), TCP payload (segment - Data Offset),
    tunnelled or not, TCP with options too."""
    packets = [
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst=HOA) / UDP(sport=1, dport=2) / bytes(17),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=HOA) / UDP(sport=1, dport=2) / bytes(172),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst=HOA) / TCP(sport=80, dport=4242) / bytes(5),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=HOA)
        / TCP(sport=80, dport=4242, options=[("MSS", 1400), ("NOP", None), ("WScale", 7)]) / bytes(11),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
        / TCP(sport=80, dport=4242, flags="A"),
    ]
    path = write(tmp_path, "len.pcap", packets)
    frames = ours(path)
    info = tshark(path, "_ws.col.Info")
    for number, frame in frames.items():
        theirs = re.search(r"Len=(\d+)", info[number]["_ws.col.Info"])
        mine = re.search(r"len=(\d+)", packet_row(frame, 0.0).info)
        assert theirs and mine and theirs[1] == mine[1], (number, info[number], packet_row(frame, 0.0).info)
    assert [frames[n].transport.payload_len for n in frames] == [17, 172, 5, 11, 0]


def test_hoa_means_a_home_address_option(tmp_path: Path):
    """HoA= only where a Home Address option is on the wire; a BU without one
    (at home, deregistering) names its home address as the source; a BA's type
    2 routing header is RH2=, a Binding Error's own field home=."""
    from scapy.layers.inet6 import MIP6MH_BE
    packets = [
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
        / MIP6MH_BU(seq=1, flags="AH", mhtime=100),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HOA, dst=HA) / MIP6MH_BU(seq=2, flags="AH", mhtime=0),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
        / MIP6MH_BA(seq=1, mhtime=100),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst=COA) / MIP6MH_BE(status=1, ha=HOA),
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
        / UDP(sport=1, dport=2) / b"x",
    ]
    rows = [packet_row(f, 0.0).info for f in ours(write(tmp_path, "hoa.pcap", packets)).values()]
    assert f"HoA={HOA} CoA={COA}" in rows[0]
    assert "HoA=" not in rows[1] and f"home={HOA} (source, no HAO) CoA={HOA}" in rows[1]
    assert "HoA=" not in rows[2] and rows[2].endswith(f"RH2={HOA}")
    assert "HoA=" not in rows[3] and f"home={HOA}" in rows[3]
    assert rows[4].endswith(f"len=1 HoA={HOA}")
