"""Roles and identity (`analysis.identity`) on captures our encoder did not
write: Scapy packets built here, and a bundled sample with every Mobility
Header frame dropped by tshark, checked against that sample's truth file."""

from __future__ import annotations

import json
import shutil
import subprocess
from ipaddress import IPv6Address
from pathlib import Path

import pytest
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6HAADReply,
    ICMPv6ND_RA,
    ICMPv6NDOptPrefixInfo,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6OptUnknown,
)
from scapy.layers.l2 import Ether as _Ether
from scapy.utils import wrpcap

from mipv6scope.analysis.engine import analyze

REPO = Path(__file__).resolve().parents[2]
HANDOFF = REPO / "sample_captures" / "scenario-handoff.pcap"

HA, HA2, CN = "2001:db8:1::1", "2001:db8:4::1", "2001:db8:9::9"
HOA, HOA2 = "2001:db8:1::100", "2001:db8:4::100"
COA1, COA2 = "2001:db8:3::100", "2001:db8:2::100"  # first used first, though it sorts last


def A(text: str) -> IPv6Address:
    return IPv6Address(text)


def Ether() -> _Ether:
    """Fixed MAC addresses, so Scapy does not look up a neighbour for each packet."""
    return _Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def bu(coa: str, ha: str, hoa: str, seq: int, flags: str = "AH", options: list | None = None):
    return (Ether() / IPv6(src=coa, dst=ha) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
            / MIP6MH_BU(seq=seq, flags=flags, mhtime=105, options=options or []))


def ba(coa: str, ha: str, hoa: str, seq: int):
    return (Ether() / IPv6(src=ha, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)
            / MIP6MH_BA(seq=seq, status=0, mhtime=105))


def down(ha: str, coa: str, src: str, dst: str, n: int = 100):
    return Ether() / IPv6(src=ha, dst=coa) / IPv6(src=src, dst=dst) / UDP(sport=5004, dport=5004) / bytes(n)


def up(coa: str, ha: str, src: str, dst: str, n: int = 100):
    return Ether() / IPv6(src=coa, dst=ha) / IPv6(src=src, dst=dst) / UDP(sport=5004, dport=5004) / bytes(n)


def write(tmp_path: Path, packets: list, name: str = "scapy.pcap") -> Path:
    for i, pkt in enumerate(packets):
        pkt.time = 1000.0 + i * 0.5
    path = tmp_path / name
    wrpcap(str(path), packets)
    return path


# -- nodes seen only through the tunnel ------------------------------------------------------------

def test_tunnel_only_node_from_the_handoff_sample_without_its_mobility_headers(tmp_path: Path):
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark not installed")
    stripped = tmp_path / "no-mh.pcap"
    subprocess.run([tshark, "-r", str(HANDOFF), "-Y", "not mipv6", "-F", "pcap", "-w", str(stripped)],
                   check=True, capture_output=True, timeout=60)

    def mh_frames(path: Path) -> int:
        return len(subprocess.run([tshark, "-r", str(path), "-Y", "mipv6"], check=True, capture_output=True,
                                  text=True, timeout=60).stdout.splitlines())
    assert mh_frames(HANDOFF) > 0 and mh_frames(stripped) == 0
    truth = json.loads(HANDOFF.with_name(HANDOFF.name + ".truth.json").read_text())
    [expected] = truth["mobile_nodes"]

    report = analyze([stripped])
    [node] = report.mobile_nodes
    assert str(node.home_address) == expected["home_address"]
    assert str(node.home_agent) == expected["home_agent"]
    assert [str(c) for c in node.care_of_addresses] == expected["care_of_addresses"]
    assert node.bindings == () and node.registrations == () and node.handoffs == ()
    assert node.identified_by == ("tunnel",)
    assert {(str(t.home_agent), str(t.care_of), str(t.home_address)) for t in report.tunnels} == {
        (t["home_agent"], t["care_of"], t["home_address"]) for t in truth["tunnels"]}
    assert expected["home_agent"] in {str(a) for a in report.home_agents}
    assert report.to_dict()["mobile_nodes"][0]["identified_by"] == ["tunnel"]


def test_tunnel_only_node_from_scapy_keeps_care_of_order_of_first_tunnel_packet(tmp_path: Path):
    path = write(tmp_path, [down(HA, COA1, CN, HOA), up(COA1, HA, HOA, CN), down(HA, COA1, CN, HOA),
                            down(HA, COA2, CN, HOA), up(COA2, HA, HOA, CN)])
    report = analyze([path])
    [node] = report.mobile_nodes
    assert node.home_address == A(HOA) and node.home_agent == A(HA)
    assert node.care_of_addresses == (A(COA1), A(COA2))
    assert (node.bindings, node.registrations, node.handoffs) == ((), (), ())
    assert node.identified_by == ("tunnel",)
    packets = {str(t.care_of): (t.to_mn.packets, t.from_mn.packets) for t in report.tunnels}
    assert packets == {COA1: (2, 1), COA2: (1, 1)}
    # the signalling is unseen: nothing is judged outside a binding
    assert all(t.outside_binding.packets == 0 for t in report.tunnels)


def test_signalled_node_lists_every_source(tmp_path: Path):
    path = write(tmp_path, [bu(COA1, HA, HOA, 1), ba(COA1, HA, HOA, 1), down(HA, COA1, CN, HOA)])
    [node] = analyze([path]).mobile_nodes
    assert node.identified_by == ("binding_ack", "binding_update", "tunnel")


def test_a_binding_ack_alone_names_a_node_without_guessing_a_binding(tmp_path: Path):
    [node] = analyze([write(tmp_path, [ba(COA1, HA, HOA, 5)])]).mobile_nodes
    assert node.home_address == A(HOA) and node.identified_by == ("binding_ack",)
    assert (node.bindings, node.registrations, node.care_of_addresses) == ((), (), ())


# -- roles: DHAAD replies and access routers -------------------------------------------------------

def test_dhaad_reply_names_home_agents(tmp_path: Path):
    reply = (Ether() / IPv6(src=HA, dst=COA1)
             / ICMPv6HAADReply(id=7, addresses=[HA, "2001:db8:1::2"]))
    report = analyze([write(tmp_path, [reply])])
    assert set(report.home_agents) == {A(HA), A("2001:db8:1::2")}
    assert report.mobile_nodes == ()


def test_access_routers_with_their_prefixes_from_scapy(tmp_path: Path):
    ra = (Ether() / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA()
          / ICMPv6NDOptPrefixInfo(prefix="2001:db8:2::", prefixlen=64)
          / ICMPv6NDOptPrefixInfo(prefix="2001:db8:5::", prefixlen=48))
    report = analyze([write(tmp_path, [ra, ra])])
    assert report.access_routers == (A("fe80::1"),)  # the existing key keeps its shape
    assert report.to_dict()["access_router_prefixes"] == [
        {"address": "fe80::1", "prefixes": ["2001:db8:2::/64", "2001:db8:5::/48"]}]


def test_access_router_prefixes_match_tshark_on_the_handoff_sample():
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark not installed")
    out = subprocess.run([tshark, "-r", str(HANDOFF), "-Y", "icmpv6.type == 134", "-T", "fields",
                          "-e", "ipv6.src", "-e", "icmpv6.opt.prefix", "-e", "icmpv6.opt.prefix.length"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    expected: dict[str, set[str]] = {}
    for line in out.splitlines():
        src, prefixes, lengths = line.split("\t")
        for prefix, length in zip(prefixes.split(","), lengths.split(","), strict=True):
            net = IPv6Address(int(A(prefix)) >> (128 - int(length)) << (128 - int(length)))
            expected.setdefault(src, set()).add(f"{net}/{length}")
    got = {r["address"]: set(r["prefixes"]) for r in analyze([HANDOFF]).to_dict()["access_router_prefixes"]}
    assert got == expected and len(got) == 3


# -- several home addresses, one node --------------------------------------------------------------

def two_home_addresses(coa_second: str) -> list:
    """HOA registers at HA from COA1; then HOA2 registers at HA2 from ``coa_second``."""
    return [bu(COA1, HA, HOA, 1), ba(COA1, HA, HOA, 1), down(HA, COA1, CN, HOA),
            bu(coa_second, HA2, HOA2, 7), ba(coa_second, HA2, HOA2, 7), down(HA2, coa_second, CN, HOA2),
            up(coa_second, HA2, HOA2, CN)]


def test_two_home_addresses_bound_to_one_care_of_are_one_node(tmp_path: Path):
    path = write(tmp_path, two_home_addresses(COA1))
    report = analyze([path], names={A(HOA2): "laptop"})  # named by its second home address
    [node] = report.mobile_nodes
    assert node.home_address == A(HOA)
    assert node.home_addresses == (A(HOA), A(HOA2)) and node.other_home_addresses == (A(HOA2),)
    assert node.name == "laptop"
    assert [(str(b.home_address), str(b.peer), b.seq) for b in node.bindings] == [(HOA, HA, 1), (HOA2, HA2, 7)]
    assert [(str(r.home_address), r.seq) for r in node.registrations] == [(HOA, 1), (HOA2, 7)]
    assert node.care_of_addresses == (A(COA1),)
    # RFC 6275 11.5.1: each home address has its own home agent; home_agent is the primary's
    assert node.home_agent == A(HA) and node.home_agents == {A(HOA): A(HA), A(HOA2): A(HA2)}
    assert {str(t.home_address) for t in report.tunnels} == {HOA, HOA2}
    d = report.to_dict()["mobile_nodes"][0]
    assert d["home_addresses"] == [HOA, HOA2] and d["bindings"][1]["home_address"] == HOA2


def test_nodes_sharing_only_a_link_prefix_stay_apart(tmp_path: Path):
    path = write(tmp_path, two_home_addresses("2001:db8:3::200"))  # same /64 as COA1
    report = analyze([path])
    assert [n.home_addresses for n in report.mobile_nodes] == [(A(HOA),), (A(HOA2),)]


def test_a_care_of_address_used_one_after_the_other_does_not_merge(tmp_path: Path):
    # HOA moves on to COA2 (its binding to COA1 ends) before HOA2 binds COA1
    packets = [bu(COA1, HA, HOA, 1), ba(COA1, HA, HOA, 1), bu(COA2, HA, HOA, 2), ba(COA2, HA, HOA, 2),
               bu(COA1, HA2, HOA2, 7), ba(COA1, HA2, HOA2, 7)]
    report = analyze([write(tmp_path, packets)])
    assert [n.home_address for n in report.mobile_nodes] == [A(HOA), A(HOA2)]
    assert all(len(n.home_addresses) == 1 for n in report.mobile_nodes)


# -- mobile routers (NEMO, RFC 3963) ---------------------------------------------------------------

MR_HOA, MNP, HOST = "2001:db8:1::200", "2001:db8:1:100::", "2001:db8:1:100::5"


def mobile_network_prefix_option(prefix: str, length: int) -> MIP6OptUnknown:
    """RFC 3963 6.2: type 6, length 18, reserved, prefix length, 16-byte prefix."""
    return MIP6OptUnknown(otype=6, odata=bytes([0, length]) + A(prefix).packed)


def test_mobile_router_owns_the_tunnel_traffic_of_its_prefix(tmp_path: Path):
    option = mobile_network_prefix_option(MNP, 64)
    assert bytes(option)[:4] == bytes([6, 18, 0, 64]) and len(bytes(option)) == 20
    packets = [bu(COA1, HA, MR_HOA, 3, flags="AHR", options=[option]), ba(COA1, HA, MR_HOA, 3),
               down(HA, COA1, CN, HOST, 200), up(COA1, HA, HOST, CN, 100), down(HA, COA1, CN, HOST, 200),
               down(HA, COA1, CN, MR_HOA, 50)]
    report = analyze([write(tmp_path, packets)])
    [node] = report.mobile_nodes
    assert node.home_address == A(MR_HOA)
    assert node.mobile_router is True and node.mobile_network_prefixes == ("2001:db8:1:100::/64",)
    [tunnel] = report.tunnels
    assert (tunnel.home_agent, tunnel.care_of, tunnel.home_address) == (A(HA), A(COA1), A(MR_HOA))
    # 40 outer + 40 inner + 8 UDP + payload
    assert (tunnel.to_mn.packets, tunnel.to_mn.bytes) == (3, 2 * 288 + 138)
    assert (tunnel.from_mn.packets, tunnel.from_mn.bytes) == (1, 188)
    assert tunnel.outside_binding.packets == 0
    flows = {(str(f.src), str(f.dst)): f.packets for f in tunnel.inner_flows}
    assert flows == {(CN, HOST): 2, (HOST, CN): 1, (CN, MR_HOA): 1}
    d = report.to_dict()["mobile_nodes"][0]
    assert d["mobile_router"] is True and d["mobile_network_prefixes"] == ["2001:db8:1:100::/64"]


def test_a_host_is_no_mobile_router_without_the_r_flag(tmp_path: Path):
    packets = [bu(COA1, HA, HOA, 1), ba(COA1, HA, HOA, 1), down(HA, COA1, CN, HOA)]
    [node] = analyze([write(tmp_path, packets)]).mobile_nodes
    assert node.mobile_router is False and node.mobile_network_prefixes == ()


def test_prefix_lookup_takes_the_longest_registered_prefix():
    from mipv6scope.analysis.identity import MobileNetworkPrefixes
    mnp = MobileNetworkPrefixes()
    assert mnp.router_of(A(HOST)) is None
    mnp.add(A(HOA), "2001:db8:1::/48")
    mnp.add(A(MR_HOA), "2001:db8:1:100::5/64")  # host bits are ignored
    mnp.add(A(MR_HOA), "not a prefix")
    assert mnp.prefixes == {A(HOA): ["2001:db8:1::/48"], A(MR_HOA): ["2001:db8:1:100::/64"]}
    assert mnp.router_of(A(HOST)) == A(MR_HOA)
    assert mnp.router_of(A("2001:db8:1:200::5")) == A(HOA)
    assert mnp.router_of(A("2001:db8:2::5")) is None


def test_repeated_ras_list_each_routers_prefix_once_as_a_network():
    from mipv6scope.analysis.identity import IdentityAnalyzer
    from tests.analysis.builders import ra
    identity = IdentityAnalyzer()
    r1, r2 = A("fe80::1"), A("fe80::2")
    for i, prefix in enumerate(["2001:db8:2::1/64", "2001:db8:2::/64", "2001:db8:2::1/64",
                                "2001:db8::/129", "2001:db8:5::/48", "2001:db8::/129"]):
        identity.on_router_advertisement(ra(i, i, r1, prefix))
    identity.on_router_advertisement(ra(9, 9, r2, "2001:db8:2::1/64"))
    assert identity.router_prefixes == {r1: ["2001:db8:2::/64", "2001:db8:5::/48"],
                                        r2: ["2001:db8:2::/64"]}
