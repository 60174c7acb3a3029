"""A home registration and one handoff written with Scapy (an encoder that is
not ours), and the answers its author expects from the analysis."""

from __future__ import annotations

from ipaddress import IPv6Address
from pathlib import Path

from scapy.layers.inet import UDP
from scapy.layers.inet6 import HAO, MIP6MH_BA, MIP6MH_BU, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from mipv6scope.analysis.engine import analyze

HA, HOA, CN = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:9::9"
COA1, COA2 = "2001:db8:2::100", "2001:db8:3::100"


def bu(coa: str, seq: int):
    return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=coa, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
            / MIP6MH_BU(seq=seq, flags="AH", mhtime=105))


def ba(coa: str, seq: int):
    return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
            / MIP6MH_BA(seq=seq, status=0, mhtime=105))


def down(coa: str, n: int):
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=HA, dst=coa) / IPv6(src=CN, dst=HOA) / UDP(sport=5004, dport=5004) / bytes(n)


def up(coa: str, n: int):
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=coa, dst=HA) / IPv6(src=HOA, dst=CN) / UDP(sport=5004, dport=5004) / bytes(n)


def test_scapy_registration_and_handoff(tmp_path: Path):
    packets = [bu(COA1, 10), ba(COA1, 10), down(COA1, 100), up(COA1, 100), down(COA1, 100),
               down(COA1, 100), up(COA1, 100),
               bu(COA2, 11), ba(COA2, 11), down(COA2, 100), down(COA2, 100)]
    for i, pkt in enumerate(packets):
        pkt.time = 1000.0 + i * 0.5
    path = tmp_path / "scapy.pcap"
    wrpcap(str(path), packets)

    report = analyze([path])
    [node] = report.mobile_nodes
    assert node.home_address == IPv6Address(HOA)
    assert node.home_agent == IPv6Address(HA)
    assert node.care_of_addresses == (IPv6Address(COA1), IPv6Address(COA2))
    assert [(str(b.care_of), b.seq, b.ended_by) for b in node.bindings] == [
        (COA1, 10, "new_care_of"), (COA2, 11, "capture_end")]
    assert [b.granted_lifetime_s for b in node.bindings] == [420, 420]
    assert node.bindings[0].start_frame == 2 and node.bindings[1].start_frame == 9
    [handoff] = node.handoffs
    assert (str(handoff.from_care_of), str(handoff.to_care_of)) == (COA1, COA2)
    assert handoff.bu_ts == 1003.5 and handoff.ba_ts == 1004.0
    tunnels = {str(t.care_of): t for t in report.tunnels}
    assert tunnels[COA1].to_mn.packets == 3 and tunnels[COA1].from_mn.packets == 2
    assert tunnels[COA2].to_mn.packets == 2 and tunnels[COA2].from_mn.packets == 0
    # each tunnelled packet: 40 outer + 40 inner + 8 UDP + 100 payload
    assert tunnels[COA1].to_mn.bytes == 3 * 188
