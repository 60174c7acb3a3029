"""Rules a review of the analysis against RFC 6275 found wrong (its items 2, 3
and 8), on captures written with Scapy. Each expected answer is worked out by
hand from the packets the test writes and the RFC sentence its docstring
quotes or paraphrases."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.inet import UDP
from scapy.layers.inet6 import HAO, MIP6MH_BA, MIP6MH_BU, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting
from scapy.layers.l2 import Ether
from timed_pcap import write_timed

from mipv6scope.analysis.engine import analyze

HA, HA2, HOA, CN = "2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::100", "2001:db8:9::9"
COA1, COA2, COA3 = "2001:db8:2::100", "2001:db8:3::100", "2001:db8:4::100"
T0 = 1000.0


def eth():  # explicit MACs: Scapy would otherwise try to resolve them on this host
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def bu(coa: str, seq: int, lifetime_units: int = 105, ha: str = HA):
    """A home registration BU (A and H) from ``coa`` with a Home Address option."""
    if coa == HOA:  # from home: no Home Address option
        return eth() / IPv6(src=HOA, dst=ha) / MIP6MH_BU(seq=seq, flags="AH", mhtime=lifetime_units)
    return (eth() / IPv6(src=coa, dst=ha) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
            / MIP6MH_BU(seq=seq, flags="AH", mhtime=lifetime_units))


def ba(coa: str, seq: int, lifetime_units: int = 105, ha: str = HA):
    """An accepting BA to ``coa`` with a type 2 routing header."""
    if coa == HOA:
        return eth() / IPv6(src=ha, dst=HOA) / MIP6MH_BA(seq=seq, status=0, mhtime=lifetime_units)
    return (eth() / IPv6(src=ha, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
            / MIP6MH_BA(seq=seq, status=0, mhtime=lifetime_units))


def down(coa: str, ha: str = HA):
    """CN -> home address, tunnelled by ``ha`` to ``coa`` (RFC 6275 10.4.2)."""
    return eth() / IPv6(src=ha, dst=coa) / IPv6(src=CN, dst=HOA) / UDP(sport=5004, dport=5004) / bytes(40)


def up(coa: str, ha: str = HA):
    """Home address -> CN, reverse-tunnelled from ``coa`` to ``ha`` (RFC 6275 11.3.1)."""
    return eth() / IPv6(src=coa, dst=ha) / IPv6(src=HOA, dst=CN) / UDP(sport=5004, dport=5004) / bytes(40)


def write(tmp_path: Path, timed: list[tuple[float, object]], name: str = "c.pcap") -> Path:
    return write_timed(tmp_path / name, timed, T0)


def outside(report) -> dict[tuple[str, str], tuple[int, ...]]:
    """(home agent, care-of) -> frames tunnelled outside a binding, of the tunnels that have any."""
    return {(str(t.home_agent), str(t.care_of)): t.outside_binding.frames
            for t in report.tunnels if t.outside_binding.packets}


# -- item 2: home bindings at two home agents ------------------------------------------------

def test_each_home_agent_tunnels_to_the_care_of_of_its_own_binding(tmp_path: Path):
    """RFC 6275 10.4.1: a home agent intercepts packets for the home address
    and tunnels them "to the mobile node's primary care-of address", the one
    in the Binding Cache entry it holds for that home address (10.4.2: "using
    the care-of address from its Binding Cache entry"). With home bindings at
    two home agents, HA -> COA1 and HA2 -> COA2, both valid, each home agent's
    tunnel to its own entry's care-of address (and the node's reverse tunnel to
    it) is inside a binding; a tunnel from HA to COA2, which only HA2 bound,
    is not: frames 9 and 10 (the down() packets at 53 and 54 s)."""
    timed = [(0.0, bu(COA1, 10)), (0.05, ba(COA1, 10)), (1.0, down(COA1)),
             (50.1, bu(COA2, 11, ha=HA2)), (50.15, ba(COA2, 11, ha=HA2)), (51.0, down(COA2, ha=HA2)),
             (51.5, up(COA2, ha=HA2)), (52.0, down(COA1)), (53.0, down(COA2)), (54.0, down(COA2)),
             (55.0, down(COA2, ha=HA2))]
    report = analyze([write(tmp_path, timed)])
    assert outside(report) == {(HA, COA2): (9, 10)}
    [finding] = [f for f in report.findings if f.code == "tunnel_without_binding"]
    assert finding.frames == (9, 10)


# -- item 3: handoff rows made up from BAs --------------------------------------------------

def registered_at_coa1() -> list[tuple[float, object]]:
    """Boot registration at COA1 (not a handoff: nothing shows the node at home before), then data."""
    return [(0.0, bu(COA1, 10)), (0.05, ba(COA1, 10)), (1.0, down(COA1)), (1.5, up(COA1))]


def test_a_deregistration_sent_from_the_care_of_address_is_no_handoff(tmp_path: Path):
    """Returning home (RFC 6275 11.5.4; seed 3.2.5, verbatim): "the mobile node
    must send a binding update to the home agent with a lifetime of zero and a
    care-of address (source address) equal to the mobile node's home address".
    A lifetime-0 BU from the care-of address (6.1.7: "A value of zero indicates
    that the Binding Cache entry for the mobile node MUST be deleted") deletes
    the binding while the node stays where it is, as its later packet from
    COA1 shows: it moves nowhere, so no handoff, and the binding ends by
    deregistration at the BA."""
    timed = registered_at_coa1() + [(50.0, bu(COA1, 11, lifetime_units=0)),
                                    (50.05, ba(COA1, 11, lifetime_units=0)),
                                    (60.0, eth() / IPv6(src=COA1, dst=CN) / UDP(sport=4000, dport=53))]
    report = analyze([write(tmp_path, timed)])
    [node] = report.mobile_nodes
    assert node.handoffs == ()
    assert [(b.ended_by, b.end_ts) for b in node.bindings] == [("deregistration", T0 + 50.05)]


def test_a_late_ba_for_a_superseded_chain_makes_no_rows_of_its_own(tmp_path: Path):
    """RFC 6275 11.7.3 / 11.8: the node moved to COA2 (BU at 50), then to COA3
    (BU at 51) before any BA; the home agent then answers both, COA2's at
    51.01, COA3's at 51.05. Two moves were made, so two rows: the move to COA2
    superseded (its BA came after the node had moved on), the move to COA3
    completed by its own BA, registration 51.05 - 51.0 = 50 ms. The late BA
    neither ends the attempt to COA3 nor makes a row without a BU."""
    timed = registered_at_coa1() + [(50.0, bu(COA2, 11)), (51.0, bu(COA3, 12)),
                                    (51.01, ba(COA2, 11)), (51.05, ba(COA3, 12)), (52.0, down(COA3))]
    report = analyze([write(tmp_path, timed)])
    rows = [(str(h.from_care_of), str(h.to_care_of), h.bu_ts, h.outcome, h.registration_ms)
            for h in report.mobile_nodes[0].handoffs]
    assert rows == [(COA1, COA2, T0 + 50.0, "superseded", None),
                    (COA1, COA3, T0 + 51.0, "completed", 50.0)]


# -- item 8: NEMO implicit mode ----------------------------------------------------------------

MNN = "2001:db8:5:1::20"  # a mobile network node behind the router, outside the home /64


def test_implicit_mode_mobile_router_tunnel_carries_its_network(tmp_path: Path):
    """RFC 3963 5.2 (paraphrase): in implicit mode the mobile router's BU
    (R flag) carries no Mobile Network Prefix option; the home agent learns
    the prefixes otherwise. 5.5, 6.3 (paraphrase): the home agent tunnels the
    mobile network's packets to the router's care-of address, the router
    reverse-tunnels them to the home agent. So the packets HA <-> COA1 while
    the router's home binding at HA is to COA1 are its tunnel's, whatever
    their inner addresses: to_mn 2 (the one to MNN, the one to the home
    address), from_mn 1 (from MNN); no node is made of MNN."""
    mnn_down = eth() / IPv6(src=HA, dst=COA1) / IPv6(src=CN, dst=MNN) / UDP(sport=5004, dport=5004) / bytes(40)
    mnn_up = eth() / IPv6(src=COA1, dst=HA) / IPv6(src=MNN, dst=CN) / UDP(sport=5004, dport=5004) / bytes(40)
    router_bu = (eth() / IPv6(src=COA1, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
                 / MIP6MH_BU(seq=10, flags="AHR", mhtime=105))
    timed = [(0.0, router_bu), (0.05, ba(COA1, 10)), (1.0, mnn_down), (1.1, mnn_up), (2.0, down(COA1))]
    report = analyze([write(tmp_path, timed)])
    [node] = report.mobile_nodes
    assert str(node.home_address) == HOA and node.mobile_router
    [tunnel] = report.tunnels
    assert (str(tunnel.home_agent), str(tunnel.care_of), str(tunnel.home_address)) == (HA, COA1, HOA)
    assert (tunnel.to_mn.packets, tunnel.from_mn.packets, tunnel.outside_binding.packets) == (2, 1, 0)


def test_a_ba_for_a_superseded_chain_after_the_move_completed_makes_no_row(tmp_path: Path):
    """As above, but the home agent answers COA2's chain (BU at 50) only
    after COA3's (BU at 51, BA at 51.05): the node moved to COA2, then to
    COA3, and sent nothing for COA2 since; the late BA answers a chain older
    than the one that installed COA3, so it is no move back to COA2 (no row
    without a BU)."""
    timed = registered_at_coa1() + [(50.0, bu(COA2, 11)), (51.0, bu(COA3, 12)),
                                    (51.05, ba(COA3, 12)), (51.2, ba(COA2, 11)), (52.0, down(COA3))]
    report = analyze([write(tmp_path, timed)])
    rows = [(str(h.from_care_of), str(h.to_care_of), h.bu_ts, h.outcome, h.registration_ms)
            for h in report.mobile_nodes[0].handoffs]
    assert rows == [(COA1, COA2, T0 + 50.0, "superseded", None),
                    (COA1, COA3, T0 + 51.0, "completed", 50.0)]


def test_a_ba_for_a_chain_abandoned_by_a_refresh_makes_no_row(tmp_path: Path):
    """The node sends a BU for COA2 at 50, then one for COA1, where its
    binding is, at 51 (it came back: the move to COA2 is superseded); the
    home agent answers COA2's chain late, at 51.1. The node sent nothing for
    COA2 since, so the BA makes no move to COA2 of its own."""
    timed = registered_at_coa1() + [(50.0, bu(COA2, 11)), (51.0, bu(COA1, 12)),
                                    (51.1, ba(COA2, 11)), (51.2, ba(COA1, 12)), (52.0, down(COA1))]
    report = analyze([write(tmp_path, timed)])
    rows = [(str(h.from_care_of), str(h.to_care_of), h.bu_ts, h.outcome)
            for h in report.mobile_nodes[0].handoffs]
    assert rows == [(COA1, COA2, T0 + 50.0, "superseded")]
