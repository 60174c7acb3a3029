"""Registrations as RFC 6275 defines them, on captures written with Scapy (an
encoder that is not ours). Every expected answer below was worked out by hand
from the RFC, before running the analysis:

* 11.8: a retransmitted BU carries a sequence number greater than the previous
  transmission's; retransmissions back off from InitialBindackTimeoutFirstReg
  (1.5 s, a home registration with no binding at the home agent) or
  INITIAL_BINDACK_TIMEOUT (1 s), doubling, up to MAX_BINDACK_TIMEOUT (32 s).
  A registration attempt is the chain of BUs to one peer for one care-of
  address (same flags and lifetime) until a BA answers one of them.
* 6.1.8: a BA with status >= 128 rejects the registration: no binding; 135
  carries the last accepted sequence number; 131/132/133 say the peer is not
  the node's home agent.
* 11.5.1: each home address of a node has its own home agent.
* 9.3.3 / 11.3.6: a Binding Error with status 2 (unrecognised MH type) says
  nothing about the binding; status 1 (no binding) ends it.
"""

from __future__ import annotations

from ipaddress import IPv6Address
from pathlib import Path

import pytest
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BU,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from mipv6scope.analysis.engine import analyze
from mipv6scope.report.model import Report

A = IPv6Address
HA, HA2, HOA, HOA2 = "2001:db8:1::1", "2001:db8:4::1", "2001:db8:1::100", "2001:db8:4::100"
CN, COA1, COA2 = "2001:db8:9::9", "2001:db8:2::100", "2001:db8:3::100"
T0 = 1000.0
RETRANSMISSION_CODES = {"bu_retransmission_reused_sequence", "bu_retransmission_schedule",
                        "bu_sequence_not_increasing", "bu_rate_exceeded"}


def bu(seq: int, coa: str = COA1, ha: str = HA, hoa: str = HOA, units: int = 105, flags: str = "AH"):
    """A BU from ``coa`` with a HAO; lifetime in 4 s units (105 = 420 s)."""
    return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=coa, dst=ha) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
            / MIP6MH_BU(seq=seq, flags=flags, mhtime=units))


def ba(seq: int, coa: str = COA1, ha: str = HA, hoa: str = HOA, status: int = 0, units: int = 105):
    """The BA to ``coa`` with a type 2 routing header (lifetime 0 when rejecting)."""
    return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=ha, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)
            / MIP6MH_BA(seq=seq, status=status, mhtime=units if status < 128 else 0))


def be(status: int, src: str = CN, coa: str = COA1, hoa: str = HOA):
    """A Binding Error from ``src`` about ``hoa``."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=src, dst=coa) / MIP6MH_BE(status=status, ha=hoa)


def ping(t_label: str = "end"):
    """Any later frame: it only moves the capture's end."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src=CN, dst="2001:db8:9::1") / ICMPv6EchoRequest(id=1, data=t_label.encode())


def capture(tmp_path: Path, timed: list[tuple[float, object]]) -> Report:
    """Write (seconds after T0, packet) with Scapy and analyse it; frames are 1-based in this order."""
    packets = []
    for offset, pkt in timed:
        pkt.time = T0 + offset
        packets.append(pkt)
    path = tmp_path / "rfc.pcap"
    wrpcap(str(path), packets)
    return analyze([path])


def codes(report: Report) -> dict[str, tuple[int, ...]]:
    return {f.code: f.frames for f in report.findings}


# -- 11.8: retransmission chains -------------------------------------------------------------

def test_back_off_chain_with_new_numbers_answered_after_four_retransmissions(tmp_path: Path):
    # A binding at COA1 is in force, so the chain from COA2 is not a first registration: the
    # timer starts at INITIAL_BINDACK_TIMEOUT 1 s and doubles: 1, 2, 4, 8 s -> BUs at 20, 21, 23,
    # 27, 35 s, seq 11..15; the home agent answers the last one 50 ms later.
    report = capture(tmp_path, [(0.0, bu(10)), (0.05, ba(10)),
                                (20.0, bu(11, COA2)), (21.0, bu(12, COA2)), (23.0, bu(13, COA2)),
                                (27.0, bu(14, COA2)), (35.0, bu(15, COA2)), (35.05, ba(15, COA2))])
    [node] = report.mobile_nodes
    first, chain = node.registrations
    assert (first.bu_frames, first.retransmissions, first.ba_frame) == ((1,), 0, 2)
    assert chain.bu_frames == (3, 4, 5, 6, 7) and chain.retransmissions == 4
    assert chain.bu_seqs == (11, 12, 13, 14, 15) and chain.seq == 15
    assert chain.bu_gaps_ms == (1000.0, 2000.0, 4000.0, 8000.0)
    assert chain.first_bu_ts == pytest.approx(T0 + 20.0) and chain.ba_frame == 8 and chain.status == 0
    assert chain.latency_ms == pytest.approx(15050.0, abs=0.01)
    assert [(str(b.care_of), b.seq, b.ended_by, b.start_frame) for b in node.bindings] == [
        (COA1, 10, "new_care_of", 2), (COA2, 15, "capture_end", 8)]
    assert not RETRANSMISSION_CODES & set(codes(report))
    assert "a_flag_bu_unacknowledged" not in codes(report)
    d = report.to_dict()["mobile_nodes"][0]["registrations"][1]
    assert d["bu_seqs"] == [11, 12, 13, 14, 15] and d["bu_gaps_ms"] == [1000.0, 2000.0, 4000.0, 8000.0]


def test_chain_never_answered_through_max_bindack_timeout(tmp_path: Path):
    # First home registration (no binding): 1.5, 3, 6, 12, 24 s, then capped at 32 s, 32 s, 32 s.
    gaps = [1.5, 3.0, 6.0, 12.0, 24.0, 32.0, 32.0, 32.0]
    times = [0.0]
    for g in gaps:
        times.append(times[-1] + g)
    timed = [(t, bu(100 + i)) for i, t in enumerate(times)] + [(times[-1] + 5.0, ping())]
    report = capture(tmp_path, timed)
    [node] = report.mobile_nodes
    [reg] = node.registrations
    assert reg.bu_frames == tuple(range(1, 10)) and reg.retransmissions == 8
    assert reg.bu_seqs == tuple(range(100, 109)) and reg.seq == 108
    assert reg.bu_gaps_ms == tuple(g * 1000 for g in gaps)
    assert (reg.ba_frame, reg.ba_ts, reg.status, reg.latency_ms) == (None, None, None, None)
    assert node.bindings == ()
    found = codes(report)
    assert not RETRANSMISSION_CODES & set(found)
    assert found["a_flag_bu_unacknowledged"] == tuple(range(1, 10))  # RFC 6275 11.7.1
    assert node.home_agent == A(HA)  # never accepted: the home agent it tried


def test_reused_sequence_number_is_grouped_and_is_a_finding(tmp_path: Path):
    report = capture(tmp_path, [(0.0, bu(20)), (1.5, bu(20)), (4.5, bu(21)), (4.55, ba(21))])
    [reg] = report.mobile_nodes[0].registrations
    assert (reg.bu_frames, reg.bu_seqs, reg.retransmissions, reg.ba_frame) == ((1, 2, 3), (20, 20, 21), 2, 4)
    found = codes(report)
    assert found["bu_retransmission_reused_sequence"] == (2,)
    assert not {"bu_sequence_not_increasing", "bu_retransmission_schedule"} & set(found)


def test_too_fast_schedule(tmp_path: Path):
    # First home registration retransmitted every 0.5 s: the first retransmission comes before
    # InitialBindackTimeoutFirstReg (1.5 s), the second before the doubled 3 s.
    report = capture(tmp_path, [(0.0, bu(30)), (0.5, bu(31)), (1.0, bu(32)), (1.05, ba(32))])
    [reg] = report.mobile_nodes[0].registrations
    assert reg.retransmissions == 2 and reg.bu_gaps_ms == (500.0, 500.0)
    found = codes(report)
    assert found["bu_retransmission_schedule"] == (2, 3)
    assert "bu_retransmission_reused_sequence" not in found and "bu_rate_exceeded" not in found


def test_another_care_of_starts_a_new_chain_and_the_old_stays_unanswered(tmp_path: Path):
    report = capture(tmp_path, [(0.0, bu(40)), (1.5, bu(41)), (2.0, bu(42, COA2)), (2.05, ba(42, COA2))])
    regs = report.mobile_nodes[0].registrations
    assert [(r.bu_frames, str(r.care_of), r.ba_frame) for r in regs] == [
        ((1, 2), COA1, None), ((3,), COA2, 4)]


# -- 6.1.8: rejections -------------------------------------------------------------------------

@pytest.mark.parametrize("status", [s for s in range(128, 140) if s != 135])
def test_rejected_registration_then_accepted(tmp_path: Path, status: int):
    report = capture(tmp_path, [(0.0, bu(40)), (0.05, ba(40, status=status)),
                                (2.0, bu(41)), (2.05, ba(41))])
    [node] = report.mobile_nodes
    assert [(r.seq, r.status, r.bu_frames, r.ba_frame) for r in node.registrations] == [
        (40, status, (1,), 2), (41, 0, (3,), 4)]
    # not a binding: the only binding starts at the accepting BA
    assert [(b.seq, b.start_frame, b.ended_by) for b in node.bindings] == [(41, 4, "capture_end")]
    # one problem, one finding, naming the status
    on_rejection = {f.code: f for f in report.findings if {1, 2} & set(f.frames)}
    assert list(on_rejection) == ["ba_status_failure"]
    assert on_rejection["ba_status_failure"].frames == (2,) and str(status) in on_rejection["ba_status_failure"].message
    assert node.home_agent == A(HA)


def test_out_of_window_rejection_is_one_finding_and_ends_no_binding(tmp_path: Path):
    # seq 10 after 50 is behind the window (RFC 6275 9.5.1); the 135 BA carries 50, the last
    # accepted number; the node retries with 51, which refreshes the binding of 50.
    report = capture(tmp_path, [(0.0, bu(50)), (0.05, ba(50)), (30.0, bu(10)), (30.05, ba(50, status=135)),
                                (30.1, bu(51)), (30.15, ba(51))])
    [node] = report.mobile_nodes
    assert [(r.seq, r.status) for r in node.registrations] == [(50, 0), (10, 135), (51, 0)]
    assert [(b.seq, b.ended_by, b.end_ts) for b in node.bindings] == [
        (50, "refresh", pytest.approx(T0 + 30.15)), (51, "capture_end", None)]
    on_rejection = {f.code: f.frames for f in report.findings if {3, 4} & set(f.frames)}
    assert on_rejection == {"bu_sequence_out_of_window": (3, 4)}


@pytest.mark.parametrize("status", [131, 132, 133])
def test_never_accepted_node_keeps_no_home_agent_that_said_it_is_not_its_own(tmp_path: Path, status: int):
    report = capture(tmp_path, [(0.0, bu(60, ha=HA2)), (0.05, ba(60, ha=HA2, status=status))])
    [node] = report.mobile_nodes
    assert node.home_agent is None and node.bindings == ()


def test_never_accepted_node_shows_the_home_agent_it_tried(tmp_path: Path):
    # refused by HA2 (133, not its home agent), then tries HA, which never answers
    report = capture(tmp_path, [(0.0, bu(60, ha=HA2)), (0.05, ba(60, ha=HA2, status=133)),
                                (1.0, bu(61)), (2.5, bu(62)), (10.0, ping())])
    [node] = report.mobile_nodes
    assert node.home_agent == A(HA) and node.home_agents == {A(HOA): A(HA)}
    # refused for another reason (129): still the home agent it tried
    other = capture(tmp_path, [(0.0, bu(70)), (0.05, ba(70, status=129))])
    assert other.mobile_nodes[0].home_agent == A(HA)


# -- 11.5.1: several home addresses ------------------------------------------------------------

def test_two_home_addresses_at_two_home_agents_are_one_node(tmp_path: Path):
    # HOA (at HA) and HOA2 (at HA2) bound to one care-of address at once: one node; HOA2's later
    # refresh does not make HA2 the primary home address's home agent.
    report = capture(tmp_path, [(0.0, bu(1)), (0.05, ba(1)),
                                (1.0, bu(7, ha=HA2, hoa=HOA2)), (1.05, ba(7, ha=HA2, hoa=HOA2)),
                                (60.0, bu(8, ha=HA2, hoa=HOA2)), (60.05, ba(8, ha=HA2, hoa=HOA2))])
    [node] = report.mobile_nodes
    assert node.home_address == A(HOA) and node.home_addresses == (A(HOA), A(HOA2))
    assert node.home_agent == A(HA)
    assert node.home_agents == {A(HOA): A(HA), A(HOA2): A(HA2)}
    assert report.to_dict()["mobile_nodes"][0]["home_agents"] == {HOA: HA, HOA2: HA2}


# -- 9.3.3 / 11.3.6: Binding Errors, and expiry -------------------------------------------------

def test_binding_error_status_2_does_not_end_the_binding(tmp_path: Path):
    cn_bu = bu(5, ha=CN, flags="A", units=100)
    cn_ba = ba(5, ha=CN, units=100)
    kept = capture(tmp_path, [(0.0, cn_bu), (0.05, cn_ba), (5.0, be(2))])
    assert [b.ended_by for b in kept.mobile_nodes[0].bindings] == ["capture_end"]
    ended = capture(tmp_path, [(0.0, bu(5, ha=CN, flags="A", units=100)), (0.05, ba(5, ha=CN, units=100)),
                               (5.0, be(1))])
    assert [(b.ended_by, b.end_ts) for b in ended.mobile_nodes[0].bindings] == [
        ("binding_error", pytest.approx(T0 + 5.0))]


def test_expiry_finding_carries_the_time_the_binding_expired(tmp_path: Path):
    # 2 units = 8 s granted at the BA (0.05 s): expired at 8.05 s
    report = capture(tmp_path, [(0.0, bu(3, units=2)), (0.05, ba(3, units=2)), (30.0, ping())])
    [f] = [f for f in report.findings if f.code == "binding_expired_without_refresh"]
    assert f.ts == pytest.approx(T0 + 8.05) and f.frames == (2,)
    assert report.mobile_nodes[0].bindings[0].end_ts == pytest.approx(T0 + 8.05)
