"""Handoff rules from RFC 6275 on captures written with Scapy (not our
encoder), with the answers counted by hand from the rules, not from our output.

RFC 6275 10.4.1 / 11.5.1 and seed 3.2.4 (figure 3-5): the home agent tunnels
to the old care-of address until the BU from the new one reaches it. A packet
tunnelled to the old address after the node was seen sending from the new one
cannot reach it (lost); one tunnelled between the node's last packet from the
old address (less the allowed delay, 2 x 25 ms at a tap or the home agent)
and its first from the new one may or may not have (possibly lost).
RFC 6275 11.7.3 / 11.8: a BA with status >= 128 rejects the chain; a chain
nobody answers ends with no answer; a BU for another address supersedes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6ND_RS,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import Ether
from timed_pcap import write_timed

from mipv6scope.analysis.engine import analyze
from mipv6scope.cli.main import cli

HA, HOA, CN = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:9::9"
COA1, COA2, COA3 = "2001:db8:2::100", "2001:db8:3::100", "2001:db8:4::100"
T0 = 1000.0


def eth():  # explicit MACs: Scapy would otherwise try to resolve them on this host
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def bu(coa: str, seq: int, lifetime_units: int = 105):
    if coa == HOA:  # from home: no Home Address option
        return eth() / IPv6(src=HOA, dst=HA) / MIP6MH_BU(seq=seq, flags="AH", mhtime=lifetime_units)
    return (eth() / IPv6(src=coa, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
            / MIP6MH_BU(seq=seq, flags="AH", mhtime=lifetime_units))


def ba(coa: str, seq: int, status: int = 0, lifetime_units: int = 105):
    if coa == HOA:
        return eth() / IPv6(src=HA, dst=HOA) / MIP6MH_BA(seq=seq, status=status, mhtime=lifetime_units)
    return (eth() / IPv6(src=HA, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
            / MIP6MH_BA(seq=seq, status=status, mhtime=0 if status >= 128 else lifetime_units))


def down(coa: str):
    """CN -> home address, tunnelled by the home agent to ``coa``."""
    return eth() / IPv6(src=HA, dst=coa) / IPv6(src=CN, dst=HOA) / UDP(sport=5004, dport=5004) / bytes(40)


def up(coa: str):
    """Home address -> CN, reverse-tunnelled from ``coa``."""
    return eth() / IPv6(src=coa, dst=HA) / IPv6(src=HOA, dst=CN) / UDP(sport=5004, dport=5004) / bytes(40)


def plain_from(address: str):
    """A packet the node sends plainly from ``address`` (not through its home agent)."""
    return eth() / IPv6(src=address, dst=CN) / UDP(sport=4000, dport=53) / bytes(20)


def plain_to_home():
    return eth() / IPv6(src=CN, dst=HOA) / UDP(sport=5004, dport=5004) / bytes(40)


def write(tmp_path: Path, timed: list[tuple[float, object]], name: str = "c.pcap") -> Path:
    return write_timed(tmp_path / name, timed, T0)


def frame_at(timed: list[tuple[float, object]], t: float) -> int:
    return 1 + [ts for ts, _ in timed].index(t)


def registered_at_coa1() -> list[tuple[float, object]]:
    """Boot registration at COA1 (BU -> BA 20 ms: not a handoff), then data."""
    return [(0.0, bu(COA1, 10)), (0.02, ba(COA1, 10)), (0.5, down(COA1)), (0.6, up(COA1)),
            (0.7, down(COA1))]


def move_seen_by_a_tap(first_from_new: bool) -> list[tuple[float, object]]:
    """A tap on the home agent's foreign side and the access links: tunnels and
    signalling, never the home agent's untunnelled ingress (no CN -> HoA plain)."""
    timed = registered_at_coa1() + [
        (0.9, down(COA1)),    # L - 50 ms or earlier: arrived while the node was there
        (0.97, down(COA1)),   # within 50 ms before L: possibly lost
        (1.0, up(COA1)),      # L: the node's last packet from COA1
        (1.2, down(COA1)),    # possibly lost
        (1.4, down(COA1)),    # possibly lost
        (1.6, down(COA1)),    # after F when the node sent from COA2 at 1.5: lost; else possibly
        (1.7, bu(COA2, 11)),  # the BU from the new address
        (1.75, down(COA1)),   # after the BU: lost
        (1.8, ba(COA2, 11)),  # accepted
        (1.85, down(COA1)),   # after the BA: lost too (10.3.1: the cache held COA2 before the BA)
        (1.9, down(COA2)),    # first data on the new path
        (1.95, up(COA2)),
    ]
    if first_from_new:
        timed.append((1.5, plain_from(COA2)))  # F: the node sends from its new address
    return sorted(timed, key=lambda p: p[0])


@pytest.mark.parametrize("first_from_new", [True, False])
def test_lost_and_possibly_lost_at_a_tap_without_home_agent_ingress(tmp_path: Path, first_from_new: bool):
    timed = move_seen_by_a_tap(first_from_new)
    report = analyze([write(tmp_path, timed)])
    assert report.capture.vantage == "tap" and report.capture.vantage_reason
    [node] = report.mobile_nodes
    [h] = node.handoffs
    assert (str(h.from_care_of), str(h.to_care_of), h.outcome) == (COA1, COA2, "completed")
    lost_ts = [1.6, 1.75, 1.85] if first_from_new else [1.75, 1.85]
    possibly_ts = [0.97, 1.2, 1.4] if first_from_new else [0.97, 1.2, 1.4, 1.6]
    assert h.lost_to_old_care_of == len(lost_ts)
    assert h.possibly_lost_to_old_care_of == len(possibly_ts)
    assert h.bu_ts == T0 + 1.7 and h.ba_ts == T0 + 1.8
    assert h.registration_ms == pytest.approx(100.0)
    assert h.bu_retransmissions == 0 and h.bu_frames == (frame_at(timed, 1.7),)
    # from the later of L (1.0) and the first possibly lost packet (0.97) to the first data at COA2
    assert h.disruption_ms == pytest.approx(900.0) and not h.disruption_bounded_by_idle
    findings = {f.code: f for f in report.findings}
    assert findings["lost_to_old_care_of"].frames == tuple(frame_at(timed, t) for t in lost_ts)
    assert findings["possibly_lost_to_old_care_of"].frames == tuple(frame_at(timed, t) for t in possibly_ts)


def test_vantage_given_explicitly(tmp_path: Path):
    path = write(tmp_path, move_seen_by_a_tap(True))
    at_ha = analyze([path], vantage="ha")
    assert (at_ha.capture.vantage, at_ha.capture.vantage_reason) == ("ha", "given with --vantage ha")
    [h] = at_ha.mobile_nodes[0].handoffs
    # at the home agent the allowance is also 2 x 25 ms: the same counts
    assert (h.lost_to_old_care_of, h.possibly_lost_to_old_care_of) == (3, 3)
    at_mn = analyze([path], vantage="mn")
    [h] = at_mn.mobile_nodes[0].handoffs
    # on the node's own link a packet seen going to it arrived: nothing possibly lost;
    # what went to COA1 after the node sent from COA2 is still lost
    assert (h.lost_to_old_care_of, h.possibly_lost_to_old_care_of) == (3, 0)
    assert "possibly_lost_to_old_care_of" not in {f.code for f in at_mn.findings}


def test_vantage_option_on_the_command_line(tmp_path: Path):
    path = write(tmp_path, move_seen_by_a_tap(True))
    result = CliRunner().invoke(cli, ["report", "--format", "json", "--vantage", "mn", str(path)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["capture"]["vantage"] == "mn"
    [h] = doc["mobile_nodes"][0]["handoffs"]
    assert (h["lost_to_old_care_of"], h["possibly_lost_to_old_care_of"], h["outcome"]) == (3, 0, "completed")
    bad = CliRunner().invoke(cli, ["handoffs", "--vantage", "moon", str(path)])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_rejected_then_completed(tmp_path: Path):
    timed = registered_at_coa1() + [
        (1.0, up(COA1)), (2.0, bu(COA2, 11)), (2.02, ba(COA2, 11, status=129)),
        (2.5, bu(COA2, 12)), (2.52, ba(COA2, 12)), (2.6, down(COA2))]
    report = analyze([write(tmp_path, timed)])
    rejected, completed = report.mobile_nodes[0].handoffs
    assert (rejected.outcome, rejected.status, rejected.status_name) == (
        "rejected", 129, "Administratively prohibited")
    assert rejected.bu_frames == (frame_at(timed, 2.0),) and rejected.ba_ts == T0 + 2.02
    assert rejected.registration_ms is None  # no accepting BA
    assert (completed.outcome, completed.status) == ("completed", None)
    assert completed.bu_ts == T0 + 2.5 and completed.registration_ms == pytest.approx(20.0)
    assert completed.bu_frames == (frame_at(timed, 2.5),)


def test_chain_never_answered(tmp_path: Path):
    # RFC 6275 11.8: retransmissions with increasing sequence numbers, 1 s doubling
    chain = [2.0, 3.0, 5.0, 9.0, 17.0]
    timed = registered_at_coa1() + [(1.0, up(COA1))] + [
        (t, bu(COA2, 11 + i)) for i, t in enumerate(chain)]
    report = analyze([write(tmp_path, timed)])
    [h] = report.mobile_nodes[0].handoffs
    assert h.outcome == "no_answer" and h.ba_ts is None and h.registration_ms is None
    assert h.bu_ts == T0 + 2.0
    assert h.bu_frames == tuple(frame_at(timed, t) for t in chain) and h.bu_retransmissions == 4


def test_move_superseded_by_another(tmp_path: Path):
    timed = registered_at_coa1() + [
        (1.0, up(COA1)), (2.0, bu(COA2, 11)), (2.5, bu(COA3, 12)), (2.52, ba(COA3, 12)),
        (2.6, down(COA3))]
    report = analyze([write(tmp_path, timed)])
    superseded, completed = report.mobile_nodes[0].handoffs
    assert (str(superseded.to_care_of), superseded.outcome, superseded.ba_ts) == (COA2, "superseded", None)
    assert (str(completed.from_care_of), str(completed.to_care_of), completed.outcome) == (
        COA1, COA3, "completed")
    assert completed.bu_ts == T0 + 2.5


def test_a_chain_that_stopped_is_no_answer_not_superseded(tmp_path: Path):
    # the node gave up on COA2 (no BU for more than MAX_BINDACK_TIMEOUT 32 s), then went home
    timed = registered_at_coa1() + [
        (1.0, up(COA1)), (2.0, bu(COA2, 11)), (3.0, bu(COA2, 12)),
        (40.0, bu(HOA, 13, lifetime_units=0)), (40.001, ba(HOA, 13, lifetime_units=0))]
    report = analyze([write(tmp_path, timed)])
    gave_up, home = report.mobile_nodes[0].handoffs
    assert (str(gave_up.to_care_of), gave_up.outcome, gave_up.bu_retransmissions) == (COA2, "no_answer", 1)
    assert (str(home.from_care_of), str(home.to_care_of), home.outcome) == (COA1, HOA, "completed")


def test_failed_handoffs_in_summary_and_view(tmp_path: Path):
    timed = registered_at_coa1() + [
        (1.0, up(COA1)), (2.0, bu(COA2, 11)), (2.02, ba(COA2, 11, status=129)),
        (2.5, bu(COA2, 12)), (2.52, ba(COA2, 12)), (2.6, down(COA2))]
    path = write(tmp_path, timed)
    summary = CliRunner().invoke(cli, ["summary", str(path)])
    assert "2 handoffs (1 failed: 1 rejected 129)" in summary.output
    assert "rejected 129 Administratively prohibited" in summary.output
    view = CliRunner().invoke(cli, ["handoffs", str(path)])
    assert "rejected 129 Administratively prohibited" in view.output
    assert "statistics over completed handoffs" in view.output


def test_return_home_after_an_idle_application(tmp_path: Path):
    # the application is idle for 34 s before the node goes home: nothing was
    # tunnelled to COA1 after its last packet, so idle time is not disruption
    timed = registered_at_coa1() + [
        (1.0, up(COA1)),
        (35.1, bu(HOA, 11, lifetime_units=0)), (35.101, ba(HOA, 11, lifetime_units=0)),
        (36.0, plain_to_home())]
    report = analyze([write(tmp_path, timed)])
    [h] = report.mobile_nodes[0].handoffs
    assert (str(h.from_care_of), str(h.to_care_of), h.outcome) == (COA1, HOA, "completed")
    assert (h.lost_to_old_care_of, h.possibly_lost_to_old_care_of) == (0, 0)
    # measured from the first packet from home (the BU) to the accepting BA
    assert h.disruption_ms == pytest.approx(1.0) and h.disruption_bounded_by_idle
    assert h.first_data_ts == T0 + 36.0



def test_packets_filter_follows_the_vantage(tmp_path: Path):
    """`packets --vantage` reaches the analysis behind the filter's analysis fields: the
    possibly lost frames exist at a tap, not on the node's own link (same rule as above)."""
    timed = move_seen_by_a_tap(True)
    path = write(tmp_path, timed)
    expr = "issue == possibly_lost_to_old_care_of"
    wanted = [str(frame_at(timed, t)) for t in (0.97, 1.2, 1.4)]
    for vantage, frames in (("auto", wanted), ("tap", wanted), ("mn", [])):
        result = CliRunner().invoke(cli, ["packets", "--no-pager", "--vantage", vantage, "-Y", expr,
                                          "-T", "fields", "-e", "frame.number", str(path)])
        assert result.exit_code == 0, result.output
        assert result.stdout.split() == frames, vantage
    lost = CliRunner().invoke(cli, ["packets", "--no-pager", "--vantage", "mn", "-Y", "lost",
                                    "-T", "fields", "-e", "frame.number", str(path)])
    assert lost.stdout.split() == [str(frame_at(timed, t)) for t in (1.6, 1.75, 1.85)]


# -- leaving home needs the node at home on the wire -------------------------------------------
# RFC 4861 6.2.4: a router (the home agent, on the home link) sends unsolicited RAs
# periodically, so a probe on the home link sees them wherever the node is. RFC 6275
# 11.3.1: away from home the node sends from its home address only reverse-tunnelled or
# under a Home Address option (outer source: the care-of address); 10.4.5: the home agent
# forwards what it decapsulates. Expected answers written from those rules.

def home_ra():
    from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6NDOptPrefixInfo
    return (Ether(src="02:00:00:00:00:02", dst="33:33:00:00:00:01") / IPv6(src="fe80::1", dst="ff02::1")
            / ICMPv6ND_RA(H=1) / ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64))


def forwarded_from_home():
    """What the home agent sends on after decapsulating the node's ``up`` packet."""
    return eth() / IPv6(src=HOA, dst=CN) / UDP(sport=5004, dport=5004) / bytes(40)


def at_the_home_agent(before_bu: list[tuple[float, object]]) -> list[tuple[float, object]]:
    """The home agent's RAs every 3 s, the node's first home BU seen at 7.0 from COA1, the
    home agent's untunnelled ingress and the tunnel both ways."""
    timed = [(t, home_ra()) for t in (0.0, 3.0, 6.0, 9.0)] + before_bu + [
        (7.0, bu(COA1, 10)), (7.02, ba(COA1, 10)), (7.5, plain_to_home()), (7.5002, down(COA1)),
        (7.6, up(COA1)), (7.6002, forwarded_from_home())]
    return sorted(timed, key=lambda p: p[0])


def test_home_agent_ras_alone_make_no_leaving_home_at_the_home_agent(tmp_path: Path):
    report = analyze([write(tmp_path, at_the_home_agent([]))])
    assert report.capture.vantage == "ha"
    [node] = report.mobile_nodes
    assert node.handoffs == ()  # the node booted away, or was already away when the capture began


def test_capture_begun_mid_binding_at_the_home_agent_is_no_leaving_home(tmp_path: Path):
    # already registered at COA1 before the capture: its traffic through the home agent,
    # then the refresh
    before = [(1.0, up(COA1)), (1.0002, forwarded_from_home()), (1.5, plain_to_home()),
              (1.5002, down(COA1))]
    report = analyze([write(tmp_path, at_the_home_agent(before))])
    [node] = report.mobile_nodes
    assert node.handoffs == ()


def test_the_node_sending_at_home_makes_a_leaving_home_at_the_home_agent(tmp_path: Path):
    before = [(1.0, forwarded_from_home()), (2.0, plain_to_home())]  # plain from the home link
    report = analyze([write(tmp_path, at_the_home_agent(before))])
    [node] = report.mobile_nodes
    [h] = node.handoffs
    assert (str(h.from_care_of), str(h.to_care_of), h.outcome) == (HOA, COA1, "completed")
    assert (h.bu_ts, h.ba_ts, h.first_data_ts) == (T0 + 7.0, T0 + 7.02, T0 + 7.5002)


def test_home_ra_is_enough_where_the_probe_is_the_nodes_link(tmp_path: Path):
    # the same capture told --vantage mn: the RA reached the node's own link
    report = analyze([write(tmp_path, at_the_home_agent([]))], vantage="mn")
    [node] = report.mobile_nodes
    assert [(str(h.from_care_of), str(h.to_care_of)) for h in node.handoffs] == [(HOA, COA1)]


def neighbor_advertisement(src: str, target: str):
    """An NA on the home link (RFC 4861 4.4), as Scapy builds it."""
    from scapy.layers.inet6 import ICMPv6ND_NA
    return eth() / IPv6(src=src, dst="ff02::1") / ICMPv6ND_NA(tgt=target, R=0, S=0, O=1)


def neighbor_solicitation(src: str, target: str):
    """An NS for ``target`` (RFC 4861 4.3; from :: it is Duplicate Address Detection)."""
    from scapy.layers.inet6 import ICMPv6ND_NS
    return eth() / IPv6(src=src, dst="ff02::1:ff00:1") / ICMPv6ND_NS(tgt=target)


def router_solicitation(src: str):
    """An RS (RFC 4861 4.1; from :: it is a host with no address yet, 6.3.7)."""
    return eth() / IPv6(src=src, dst="ff02::2") / ICMPv6ND_RS()


@pytest.mark.parametrize("nd", [neighbor_advertisement(HOA, HOA), neighbor_solicitation(HOA, HA),
                                router_solicitation(HOA)],
                         ids=["NA", "NS", "RS"])
def test_the_node_doing_neighbor_discovery_at_home_makes_a_leaving_home(tmp_path: Path, nd):
    # an NA or NS from the home address, on the wire at 2.0: only the node itself sends from
    # it outside a tunnel (RFC 6275 11.3.1), so it was at home before its BU from COA1 at 7.0
    report = analyze([write(tmp_path, at_the_home_agent([(2.0, nd)]))])
    assert report.capture.vantage == "ha"
    [h] = report.mobile_nodes[0].handoffs
    assert (str(h.from_care_of), str(h.to_care_of), h.outcome) == (HOA, COA1, "completed")
    assert (h.bu_ts, h.ba_ts) == (T0 + 7.0, T0 + 7.02)


@pytest.mark.parametrize("nd", [neighbor_advertisement(HA, HOA), neighbor_advertisement("::", HOA),
                                neighbor_solicitation("::", HOA), router_solicitation("::"),
                                eth() / IPv6(src=COA1, dst=HA) / IPv6(src=HOA, dst="ff02::2")
                                / ICMPv6ND_RS()],
                         ids=["proxy NA of the home agent", "NA from ::", "DAD for the home address",
                              "RS from ::", "RS from the home address in a tunnel"])
def test_neighbor_discovery_for_the_home_address_by_others_makes_no_leaving_home(tmp_path: Path, nd):
    # RFC 6275 10.4.1: the home agent defends the home address with NAs of its own (source:
    # the home agent) and may run DAD for it (source ::, RFC 4862 5.4.2): no sender named
    report = analyze([write(tmp_path, at_the_home_agent([(2.0, nd)]))])
    assert report.mobile_nodes[0].handoffs == ()


def stream_to_coa1(times: list[float]) -> list[tuple[float, object]]:
    """Boot at COA1 (the node's last packet from it at 0.6 s), then a packet
    tunnelled to COA1 at 0.7 s and at each of ``times``, none from the node;
    then the move to COA2: BU at F, a packet to COA1 after it, the BA, and the
    first data at COA2."""
    last = max(times)
    return registered_at_coa1() + [(t, down(COA1)) for t in times] + [
        (last + 0.51, bu(COA2, 11)), (last + 0.52, down(COA1)), (last + 0.53, ba(COA2, 11)),
        (last + 0.61, down(COA2))]


def test_disruption_of_a_node_that_only_receives_more_than_the_frames_kept(tmp_path: Path):
    """The disruption starts at the first packet tunnelled to the old address
    that the node may have missed ("Disruption" in handoffs.py, from seed
    3.2.4 / RFC 6275 11.5.1), also when more of them came than the analyzer
    keeps frames of (1,000): here 1,501 from 0.7 s on, every 10 ms from 1.0 s
    to 15.99 s. The node's last packet from COA1 is at 0.6 s (L); with the
    tap's reach of 50 ms all 1,501 fall after L - reach and before F (16.5 s):
    possibly lost; the one at 16.51 s, after F and before the BA, is lost.
    Start 0.7 s, end 16.6 s (first data at COA2), no silence over 1 s:
    15,900 ms."""
    stream = [round(1.0 + 0.01 * i, 2) for i in range(1500)]
    timed = stream_to_coa1(stream)
    report = analyze([write(tmp_path, timed)])
    assert report.capture.vantage == "tap"
    [h] = report.mobile_nodes[0].handoffs
    assert (h.outcome, h.lost_to_old_care_of, h.possibly_lost_to_old_care_of) == ("completed", 1, 1501)
    assert h.first_data_ts == T0 + 16.6
    assert h.disruption_ms == pytest.approx(15900.0) and not h.disruption_bounded_by_idle
    possibly = next(f for f in report.findings if f.code == "possibly_lost_to_old_care_of")
    assert possibly.ts == T0 + 0.7  # the first of them, though its frames are the newest 1,000
    assert len(possibly.frames) == 1000 and possibly.frames[0] == frame_at(timed, 6.0)


def test_a_silence_among_more_packets_than_the_frames_kept_bounds_the_disruption(tmp_path: Path):
    """As above, but the stream pauses from 1.99 s to 5.0 s: the window from
    0.7 s (first possibly lost) to the first data holds a silence of 3 s, over
    DISRUPTION_IDLE_GAP_S (1 s), among the oldest packets, of which no frame is
    kept. The application was idle: the disruption is bounded by F -> BA
    (20 ms), and says so."""
    stream = [round(1.0 + 0.01 * i, 2) for i in range(100)] + [round(5.0 + 0.01 * i, 2) for i in range(1400)]
    timed = stream_to_coa1(stream)
    report = analyze([write(tmp_path, timed)])
    [h] = report.mobile_nodes[0].handoffs
    assert (h.outcome, h.lost_to_old_care_of, h.possibly_lost_to_old_care_of) == ("completed", 1, 1501)
    assert h.disruption_ms == pytest.approx(20.0) and h.disruption_bounded_by_idle
