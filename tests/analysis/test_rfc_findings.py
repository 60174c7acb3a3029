"""Malformed frames and the decode-level findings, end to end: captures written
with Scapy (not our encoder), expected answers written by hand from the RFCs.

The rules (RFC 6275 9.2, RFC 8200 4, and the project's "malformed frames feed
no state machine"): a frame with an error-severity decode issue is counted as
malformed and becomes a finding on its frame, nothing else (no node, no BU, no
retransmission); warnings (a TCP/UDP checksum, a snap-length cut, an unknown
MH Type) are findings and the frame still counts.
"""

from __future__ import annotations

import shutil
import subprocess
from ipaddress import IPv6Address
from pathlib import Path

import pytest
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    MIP6MH_BU,
    ICMPv6HAADReply,
    ICMPv6HAADRequest,
    ICMPv6MPAdv,
    ICMPv6MPSol,
    ICMPv6NDOptPrefixInfo,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_Generic,
    PadN,
)
from scapy.layers.l2 import Ether
from timed_pcap import write_timed

from mipv6scope.analysis.engine import analyze
from mipv6scope.render.summary_text import render_summary, summary_records
from mipv6scope.report.model import Report

HA, HOA, CN = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:9::9"
COA, COA2 = "2001:db8:2::100", "2001:db8:3::100"
HA_ANYCAST = "2001:db8:1:0:fdff:ffff:ffff:fffe"  # RFC 2526 home agents anycast, prefix 2001:db8:1::/64
T0 = 1_700_000_000.0
EDITCAP = shutil.which("editcap")
TSHARK = shutil.which("tshark")


def write(tmp_path: Path, name: str, timed: list[tuple[float, object]]) -> Path:
    return write_timed(tmp_path / name, timed, T0)


def bu(seq: int, coa: str = COA, **kw):
    return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=coa, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
            / MIP6MH_BU(seq=seq, flags="AH", mhtime=25, **kw))  # 100 s


def ba(seq: int, coa: str = COA):
    return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
            / MIP6MH_BA(seq=seq, status=0, mhtime=25))


def down(n: int = 100, coa: str = COA, **udp):
    return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=coa) / IPv6(src=CN, dst=HOA)
            / UDP(sport=5004, dport=5004, **udp) / bytes(n))


def care_of_checksum(seq: int, coa: str = COA) -> int:
    """The BU checksum computed with the care-of address as pseudo-header source."""
    return IPv6(bytes(IPv6(src=coa, dst=HA) / MIP6MH_BU(seq=seq, flags="AH", mhtime=25)))[MIP6MH_BU].cksum


def by_code(report: Report) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in report.findings:
        out.setdefault(f.code, []).append(f)
    return out


def test_bu_checksummed_over_the_care_of_address_registers_nothing(tmp_path: Path):
    """The first BU's checksum is over the care-of address (RFC 6275 6.1.1 wants the
    home address): a home agent discards it (9.2), and so does the analysis. The
    node sends seq 11 correctly 1.5 s later and that is the registration:
    one BU, no retransmission, answered 20 ms later."""
    path = write(tmp_path, "care-of.pcap", [
        (0.0, bu(10, cksum=care_of_checksum(10))),
        (1.5, bu(11)),
        (1.52, ba(11)),
        (2.0, down()),
    ])
    report = analyze([path])
    assert report.capture.malformed == 1 and report.capture.decoded == 3
    [finding] = by_code(report)["mh_checksum_over_care_of"]
    assert (finding.frames, finding.severity) == ((1,), "error")
    assert finding.rfc.startswith("RFC 6275 6.1.1")
    [node] = report.mobile_nodes
    assert node.home_address == IPv6Address(HOA)
    [reg] = node.registrations
    assert (reg.bu_frames, reg.retransmissions, reg.seq, reg.ba_frame) == ((2,), 0, 11, 3)
    assert reg.latency_ms == pytest.approx(20.0, abs=0.01)
    assert "bu_sequence_not_increasing" not in by_code(report)


def test_bu_with_a_bad_checksum_is_no_retransmission(tmp_path: Path):
    """seq 10, then a copy of it with checksum 0xdead 1 s later, then the BA: the
    copy is malformed (bad_mh_checksum) and does not count: one BU, 0
    retransmissions, no retransmission findings."""
    path = write(tmp_path, "bad-checksum.pcap", [
        (0.0, bu(10)),
        (1.0, bu(10, cksum=0xDEAD)),
        (1.05, ba(10)),
    ])
    report = analyze([path])
    assert report.capture.malformed == 1
    codes = by_code(report)
    assert [f.frames for f in codes["bad_mh_checksum"]] == [(2,)]
    [reg] = report.mobile_nodes[0].registrations
    assert (reg.bu_frames, reg.retransmissions, reg.ba_frame) == ((1,), 0, 3)
    assert not {"bu_retransmission", "bu_retransmission_reused_sequence",
                "bu_retransmission_schedule"} & codes.keys()


def test_bad_hao_makes_no_phantom_node(tmp_path: Path):
    """A BU from a second care-of address whose HAO has length 8 (RFC 6275 6.3: 16):
    the home address cannot be read. Before, the BU's source became a second
    mobile node; now it is a finding (bad_home_addr_len) on frame 3 and nothing else."""
    bad_hao = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA2, dst=HA)
               / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00\x00"), HAO(optlen=8, hoa=HOA)])
               / MIP6MH_BU(seq=12, flags="AH", mhtime=25))
    path = write(tmp_path, "bad-hao.pcap", [(0.0, bu(11)), (0.02, ba(11)), (1.0, bad_hao),
                                            (2.0, down())])
    report = analyze([path])
    assert [str(n.home_address) for n in report.mobile_nodes] == [HOA]
    [node] = report.mobile_nodes
    assert node.care_of_addresses == (IPv6Address(COA),)
    assert [r.bu_frames for r in node.registrations] == [(1,)]
    assert report.capture.malformed == 1
    [finding] = by_code(report)["bad_home_addr_len"]
    assert finding.frames == (3,) and finding.severity == "error"
    assert IPv6Address(COA2) not in {b.peer for b in node.bindings}


def test_mh_type_200_answered_by_binding_error_status_2(tmp_path: Path):
    """RFC 6275 9.2: an unknown MH Type is discarded and answered with a Binding
    Error, status 2; 9.3.3: its Home Address is the unspecified address when the
    offending packet had no HAO. By hand: mh_type_unknown (warning) on frame 3,
    binding_error_received on frame 4, the frame counted as decoded, and no
    node for "::". A missing BE is not flagged: 9.3.3 rate-limits Binding
    Errors like ICMPv6 errors, so silence is allowed."""
    path = write(tmp_path, "type-200.pcap", [
        (0.0, bu(11)), (0.02, ba(11)),
        (1.0, Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=HA) / MIP6MH_Generic(mhtype=200, msg=b"\x00" * 10)),
        (1.01, Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / MIP6MH_BE(status=2, ha="::")),
        (2.0, Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=HA) / MIP6MH_Generic(mhtype=201, msg=b"\x00" * 10)),
    ])
    report = analyze([path])
    assert report.capture.malformed == 0
    codes = by_code(report)
    [unknown] = codes["mh_type_unknown"]
    assert unknown.frames == (3, 5) and unknown.severity == "warning" and unknown.rfc == "RFC 6275 9.2"
    [be] = codes["binding_error_received"]
    assert be.frames == (4,) and "status 2" in be.message
    assert [str(n.home_address) for n in report.mobile_nodes] == [HOA]


def _tshark_bad_checksums(path: Path) -> set[int]:
    out = subprocess.run(
        [TSHARK, "-r", str(path), "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
         "-Y", "tcp.checksum.status == 0 || udp.checksum.status == 0 || udp.checksum.status == 4",
         "-T", "fields", "-e", "frame.number"], capture_output=True, text=True, check=True).stdout
    return {int(n) for n in out.split()}


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
def test_inner_checksum_failures_are_findings_and_still_count(tmp_path: Path):
    """Tunnelled UDP with a wrong checksum (frame 4) and a zero one (frame 6, not
    allowed over IPv6, RFC 8200 8.1): bad_udp_checksum on exactly the frames
    tshark calls bad or illegal, and all 4 packets still count in the tunnel."""
    path = write(tmp_path, "inner.pcap", [
        (0.0, bu(11)), (0.02, ba(11)),
        (1.0, down()), (1.1, down(chksum=0x1234)), (1.2, down()), (1.3, down(chksum=0)),
    ])
    report = analyze([path])
    [finding] = by_code(report)["bad_udp_checksum"]
    assert set(finding.frames) == _tshark_bad_checksums(path) == {4, 6}
    assert finding.severity == "warning" and report.capture.malformed == 0
    [tunnel] = report.tunnels
    assert tunnel.to_mn.packets == 4 and tunnel.to_mn.bytes == 4 * (40 + 40 + 8 + 100)


@pytest.mark.skipif(EDITCAP is None, reason="editcap is not installed")
def test_snaplen_96(tmp_path: Path):
    """The same registration and tunnelled data, cut to 96 bytes (editcap -s 96).
    By hand: BU (14 + 40 + 24 + 16 = 94) and BA (94) are whole, so the
    registration is the same; the tunnelled packets keep both IPv6 headers but
    only 2 bytes of UDP: they count in the tunnel (packets, and bytes from the
    payload lengths), not in a port-based flow, and truncated_by_snaplen names
    them. Nothing is malformed."""
    full = write(tmp_path, "full.pcap", [(0.0, bu(11)), (0.02, ba(11))]
                 + [(1.0 + i / 10, down()) for i in range(3)])
    cut = tmp_path / "cut.pcap"
    subprocess.run([EDITCAP, "-s", "96", str(full), str(cut)], check=True, capture_output=True)
    whole, report = analyze([full]), analyze([cut])
    assert report.capture.malformed == 0 and report.capture.decoded == 5
    [reg] = report.mobile_nodes[0].registrations
    assert (reg.bu_frames, reg.ba_frame, reg.seq) == ((1,), 2, 11)
    [tunnel], [whole_tunnel] = report.tunnels, whole.tunnels
    assert tunnel.to_mn == whole_tunnel.to_mn
    assert (tunnel.to_mn.packets, tunnel.to_mn.bytes) == (3, 3 * 188)
    assert [(f.sport, f.packets) for f in whole_tunnel.inner_flows] == [(5004, 3)]
    assert [(f.sport, f.packets) for f in tunnel.inner_flows] == [(None, 3)]
    [finding] = by_code(report)["truncated_by_snaplen"]
    assert finding.frames == (3, 4, 5) and "ports not captured" in finding.message
    assert "truncated_by_snaplen" not in by_code(whole)


def test_summary_lists_discovery_and_refresh_exchanges_per_node(tmp_path: Path):
    """DHAAD request/reply (RFC 6275 6.5, 6.6) from the care-of address before the
    first BU, MPS/MPA (6.7, 6.8) with the HAO / RH2, a BRR (6.1.2) and the BU
    answering it: all attributed to the node, counted in its summary record."""
    path = write(tmp_path, "discovery.pcap", [
        (0.0, Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=HA_ANYCAST) / ICMPv6HAADRequest(id=7)),
        (0.02, Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / ICMPv6HAADReply(id=7, addresses=[HA])),
        (0.5, bu(11)), (0.52, ba(11)),
        (1.0, Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
         / ICMPv6MPSol(id=8)),
        (1.02, Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
         / ICMPv6MPAdv(id=8) / ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64)),
        (50.0, Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
         / MIP6MH_BRR()),
        (50.1, bu(12)), (50.12, ba(12)),
    ])
    report = analyze([path])
    [record] = summary_records(report)
    assert {k: record[k] for k in ("bu", "ba", "be", "brr", "dhaad_requests", "dhaad_replies",
                                   "mps", "mpa")} == {
        "bu": 2, "ba": 2, "be": 0, "brr": 1, "dhaad_requests": 1, "dhaad_replies": 1,
        "mps": 1, "mpa": 1}
    text = render_summary(report)
    assert "    signalling: 2 BU / 2 BA, 1 DHAAD request / 1 reply, 1 MPS / 1 MPA, 1 BRR\n" in text
