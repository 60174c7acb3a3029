"""Three analysis errors a review left open, on captures written with Scapy.
Each expected answer was worked out by hand from the RFC 6275 sentence quoted
in the test's docstring before the fix; every capture is analysed by both
engines, which must agree.
"""

from __future__ import annotations

from pathlib import Path

from scapy.layers.inet6 import (
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrRouting,
    MIP6OptBindingAuthData,
    MIP6OptNonceIndices,
)
from scapy.packet import Packet
from test_rfc_review_rules import (
    CN,
    COA1,
    COA2,
    HOA,
    T0,
    A,
    ba,
    bu,
    cn_bu,
    eth,
    findings,
    return_routability,
    route_optimization,
    tunnelled_down,
    write,
)

from mipv6scope.analysis.engine import analyze
from mipv6scope.report.model import Binding, Report

HA2 = "2001:db8:1::2"


def analyze_both(path: Path) -> Report:
    """The reference engine's report, after checking the columnar engine's agrees."""
    reference, columnar = (analyze([path], engine=engine) for engine in ("reference", "columnar"))
    assert reference.mobile_nodes == columnar.mobile_nodes
    assert reference.findings == columnar.findings
    return reference


def correspondent_bindings(report: Report) -> list[Binding]:
    [node] = report.mobile_nodes
    return [b for b in node.bindings if b.peer == A(CN)]


# -- 1: a second home agent is no move; a new care-of address is -----------------------------------

def test_same_care_of_registered_with_a_second_home_agent_is_no_handoff(tmp_path: Path):
    """RFC 6275 11.5.1: "The primary goal of movement detection is to detect L3
    handovers"; after one the node forms a new care-of address and (11.7.1)
    registers it with its home agent. The node registers COA1 with
    HA (frame 2) and then the same COA1 with a second home agent HA2 (frames
    4, 5): it did not move. No handoff row, and nothing lost or possibly lost
    (HA's frame 3 and 7, HA2's frame 6 and 8 all go to the address it is at)."""
    path = write(tmp_path, "same-coa-ha2.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (50.1, bu(11, dst=HA2)), (50.15, ba(11, src=HA2)),
        (51.0, eth() / IPv6(src=HA2, dst=COA1) / IPv6(src=CN, dst=HOA) / ICMPv6EchoRequest(seq=1)),
        (52.0, tunnelled_down(n=2)),
        (80.0, eth() / IPv6(src=HA2, dst=COA1) / IPv6(src=CN, dst=HOA) / ICMPv6EchoRequest(seq=3)),
    ])
    report = analyze_both(path)
    [node] = report.mobile_nodes
    assert node.handoffs == ()
    assert findings(report, "lost_to_old_care_of") == findings(report, "possibly_lost_to_old_care_of") == []


def test_new_care_of_at_a_second_home_agent_is_a_handoff(tmp_path: Path):
    """The review's s06_ha2.pcap: after COA1 at HA (frames 1, 2, HA tunnels
    frame 3 there at 1), the node sends from COA2 (its BU to HA2 at 50.1,
    frame 4): a new care-of address, so it moved (11.5.1), whichever home agent
    it then registers with. One handoff COA1 -> COA2, completed at 50.15; frame
    3 came after its last packet from COA1 (its BU at 0) and before its first
    from COA2: possibly lost (the handoffs module's rule)."""
    path = write(tmp_path, "new-coa-ha2.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (50.1, bu(11, COA2, HA2)), (50.15, ba(11, COA2, HA2)),
        (51.0, eth() / IPv6(src=HA2, dst=COA2) / IPv6(src=CN, dst=HOA) / ICMPv6EchoRequest(seq=1)),
    ])
    report = analyze_both(path)
    [node] = report.mobile_nodes
    [handoff] = node.handoffs
    assert (handoff.from_care_of, handoff.to_care_of, handoff.outcome) == (A(COA1), A(COA2), "completed")
    assert (handoff.bu_ts, handoff.ba_ts) == (T0 + 50.1, T0 + 50.15)
    [possibly] = findings(report, "possibly_lost_to_old_care_of")
    assert possibly.frames == (3,)


# -- 2: a second BA for an answered registration is information, not a warning ----------------------

def test_ba_answering_no_bu_stays_a_warning(tmp_path: Path):
    """RFC 6275 6.1.8: "The Sequence Number in the Binding Acknowledgement is
    copied from the Sequence Number field in the Binding Update." A BA whose
    number no BU to that peer carried (seq 99, frame 3)
    answers no registration at all: still ba_without_matching_bu (warning),
    not ba_for_answered_registration (the answered BAs are in
    test_rfc_review_rules, item 5)."""
    path = write(tmp_path, "stray-ba.pcap", [(0.0, bu(10)), (0.05, ba(10)), (0.06, ba(99))])
    report = analyze_both(path)
    assert findings(report, "ba_for_answered_registration") == []
    [finding] = findings(report, "ba_without_matching_bu")
    assert (finding.frames, finding.severity) == ((3,), "warning")


# -- 3: a correspondent deregistration without the A flag ends route optimisation at its BU --------

def cn_bu_without_a(seq: int, units: int, coa: str = COA1) -> Packet:
    """A correspondent BU without the A flag (Nonce Indices, Authorization Data)."""
    return bu(seq, coa, CN, units, "", [MIP6OptNonceIndices(olen=4, hni=1, coni=1),
                                       MIP6OptBindingAuthData(olen=12, authenticator=0x1234)])


def rh2_data(at: float, n: int) -> tuple[float, Packet]:
    """Route-optimised data from the correspondent to COA1 at ``at``."""
    return at, (eth() / IPv6(src=CN, dst=COA1) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
                / ICMPv6EchoRequest(seq=n))


def ro_then(tmp_path: Path, name: str, *after: tuple[float, Packet]) -> Path:
    """Frames 1-10: home registration, tunnelled data, RR, correspondent BU with
    A (2.1) and its BA (2.15: RO active, 200 s), RH2 data (3); then ``after``."""
    return write(tmp_path, name, [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        *return_routability(2.0),
        (2.1, cn_bu(1, 50)), (2.15, ba(1, src=CN, units=50)),
        rh2_data(3.0, 1),
        *after,
    ])


def test_correspondent_deregistration_without_a_ends_route_optimisation_at_the_bu(tmp_path: Path):
    """RFC 6275 9.5.4: "If the node accepts the Binding Update, the Binding
    Acknowledgement SHOULD NOT be sent" when the A bit is clear; rejections for
    an expired nonce index, a sequence number out of window or insufficient
    resources MUST be answered. So the lifetime-0 BU without A at 20 (frame
    11), answered by nothing, was accepted: the correspondent deleted its entry
    (6.1.7: "A value of zero indicates that the Binding Cache entry for the
    mobile node MUST be deleted") at the BU. RO active from 2.15 to 20.0,
    ended by the deregistration (fallback on frame 11); the correspondent
    binding ends at 20.0 with deregistration; the RH2 data at 21 makes RO
    active no more."""
    path = ro_then(tmp_path, "cn-dereg-no-a.pcap",
                   (20.0, cn_bu_without_a(2, 0)), (21.0, tunnelled_down(n=7)), rh2_data(22.0, 8))
    report = analyze_both(path)
    ro = route_optimization(report)
    assert [(t.state, t.reason, t.frame) for t in ro.transitions][-2:] == [
        ("ro_active", None, 9), ("fallback", "deregistration", 11)]
    [interval] = ro.active_intervals
    assert (interval.start_ts, interval.end_ts, interval.ended_by, interval.open) == (
        T0 + 2.15, T0 + 20.0, "deregistration", False)
    [binding] = correspondent_bindings(report)
    assert (binding.end_ts, binding.ended_by) == (T0 + 20.0, "deregistration")


def test_care_of_equal_to_home_address_without_a_is_a_deregistration_too(tmp_path: Path):
    """9.5.1: a BU whose care-of address is the home address deletes the entry,
    whatever its lifetime. Back home, the node sends the correspondent such a
    BU (from the home address, lifetime 200 s, no A) at 20 (frame 11): RO ends
    there, and so does the correspondent binding."""
    path = ro_then(tmp_path, "cn-dereg-home-no-a.pcap",
                   (20.0, cn_bu_without_a(2, 50, HOA)))
    report = analyze_both(path)
    ro = route_optimization(report)
    assert (ro.transitions[-1].state, ro.transitions[-1].reason, ro.transitions[-1].frame) == (
        "fallback", "deregistration", 11)
    [binding] = correspondent_bindings(report)
    assert (binding.end_ts, binding.ended_by) == (T0 + 20.0, "deregistration")


def test_a_rejected_deregistration_without_a_leaves_route_optimisation_as_it_was(tmp_path: Path):
    """9.5.4: a BU rejected for a sequence number out of window MUST be answered
    (status 135). The deregistration at 20 (frame 11) is answered so at 20.05
    (frame 12): the correspondent kept its entry, so nothing ended. RO stays
    active from 2.15 (one open interval, no fallback); the correspondent binding
    is still in force at the end (capture_end)."""
    path = ro_then(tmp_path, "cn-dereg-no-a-rejected.pcap",
                   (20.0, cn_bu_without_a(2, 0)), (20.05, ba(1, src=CN, units=0, status=135)),
                   rh2_data(21.0, 8))
    report = analyze_both(path)
    ro = route_optimization(report)
    assert "fallback" not in [t.state for t in ro.transitions]
    [interval] = ro.active_intervals
    assert (interval.start_ts, interval.ended_by, interval.open) == (T0 + 2.15, "capture_end", True)
    [binding] = correspondent_bindings(report)
    assert (binding.end_ts, binding.ended_by) == (None, "capture_end")


def test_a_correspondent_bu_without_a_that_keeps_the_binding_changes_nothing(tmp_path: Path):
    """The rule is narrow: a BU without A that is no deregistration (lifetime
    200 s, care-of COA1) is out of scope and ends nothing."""
    path = ro_then(tmp_path, "cn-refresh-no-a.pcap",
                   (20.0, cn_bu_without_a(2, 50)))
    report = analyze_both(path)
    ro = route_optimization(report)
    assert ro.transitions[-1].state == "ro_active"
    assert [b.ended_by for b in correspondent_bindings(report)] == ["capture_end"]
