"""Rules a review found wrong, on captures written with Scapy (an encoder that
is not ours). Each expected answer was worked out by hand from the RFC 6275
sentence quoted in the test's docstring, before the fix.
"""

from __future__ import annotations

from ipaddress import IPv6Address
from pathlib import Path

from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptBindingAuthData,
    MIP6OptNonceIndices,
)
from scapy.layers.l2 import Ether
from scapy.packet import Packet
from timed_pcap import write_timed

from mipv6scope.analysis.engine import analyze
from mipv6scope.report.model import Finding, Report, RouteOptimization

A = IPv6Address
HA, HOA, CN = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:9::9"
COA1, COA2 = "2001:db8:2::100", "2001:db8:3::100"
T0 = 1000.0


def eth() -> Ether:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def bu(seq: int, coa: str = COA1, dst: str = HA, units: int = 25, flags: str = "AH",
       options: list[Packet] | None = None) -> Packet:
    """A BU from ``coa`` (with a HAO unless ``coa`` is the home address); lifetime in 4 s units."""
    mh = MIP6MH_BU(seq=seq, flags=flags, mhtime=units, options=options or [])
    if coa == HOA:
        return eth() / IPv6(src=HOA, dst=dst) / mh
    return eth() / IPv6(src=coa, dst=dst) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / mh


def ba(seq: int, coa: str = COA1, src: str = HA, units: int = 25, status: int = 0) -> Packet:
    """The BA to ``coa`` (with a type 2 routing header unless ``coa`` is the home address)."""
    mh = MIP6MH_BA(seq=seq, status=status, mhtime=units)
    if coa == HOA:
        return eth() / IPv6(src=src, dst=HOA) / mh
    return eth() / IPv6(src=src, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1) / mh


def tunnelled_down(coa: str = COA1, n: int = 0) -> Packet:
    """CN -> HoA tunnelled by the home agent to ``coa``."""
    return eth() / IPv6(src=HA, dst=coa) / IPv6(src=CN, dst=HOA) / ICMPv6EchoRequest(seq=n)


def cn_bu(seq: int, units: int, coa: str = COA1) -> Packet:
    """A correspondent BU (A only) with Nonce Indices and Binding Authorization Data."""
    return bu(seq, coa, CN, units, "A", [MIP6OptNonceIndices(olen=4, hni=1, coni=1),
                                         MIP6OptBindingAuthData(olen=12, authenticator=0x1234)])


def return_routability(start: float) -> list[tuple[float, Packet]]:
    """HoTI (reverse-tunnelled), CoTI, CoT, HoT (tunnelled) for COA1."""
    return [
        (start, eth() / IPv6(src=COA1, dst=HA) / IPv6(src=HOA, dst=CN) / MIP6MH_HoTI(cookie=b"H" * 8)),
        (start + 0.001, eth() / IPv6(src=COA1, dst=CN) / MIP6MH_CoTI(cookie=b"C" * 8)),
        (start + 0.05, eth() / IPv6(src=CN, dst=COA1) / MIP6MH_CoT(index=1, cookie=b"C" * 8, token=b"c" * 8)),
        (start + 0.06, eth() / IPv6(src=HA, dst=COA1) / IPv6(src=CN, dst=HOA)
         / MIP6MH_HoT(index=1, cookie=b"H" * 8, token=b"h" * 8)),
    ]


def write(tmp_path: Path, name: str, timed: list[tuple[float, Packet]]) -> Path:
    return write_timed(tmp_path / name, timed, T0)


def route_optimization(report: Report) -> RouteOptimization:
    [node] = report.mobile_nodes
    [ro] = node.route_optimization
    return ro


def findings(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


# -- item 1: route optimisation ends with a deregistration to the correspondent ------------------

def test_correspondent_deregistration_ends_route_optimisation(tmp_path: Path):
    """RFC 6275 6.1.7: "A value of zero indicates that the Binding Cache entry for
    the mobile node MUST be deleted." 9.5.1: a BU whose lifetime is zero (or whose
    care-of address is the home address) is a request to delete the cached binding.

    Frames: 1 home BU, 2 BA, 3 tunnelled data, 4-7 RR, 8 BU to CN (50 s... 200 s),
    9 BA from CN at 2.15 (RO active), 10 RH2 data, 11 BU to CN lifetime 0 at 20,
    12 its BA at 20.05, 13 tunnelled data at 21. RO is active from 2.15 to 20.05,
    ended by the deregistration; the pair falls back."""
    path = write(tmp_path, "cn-dereg.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        *return_routability(2.0),
        (2.1, cn_bu(1, 50)), (2.15, ba(1, src=CN, units=50)),
        (3.0, eth() / IPv6(src=CN, dst=COA1) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
         / ICMPv6EchoRequest(seq=1)),
        (20.0, cn_bu(2, 0)), (20.05, ba(2, src=CN, units=0)),
        (21.0, tunnelled_down(n=7)),
    ])
    ro = route_optimization(analyze([path]))
    assert ro.correspondent == A(CN)
    assert [(t.state, t.reason) for t in ro.transitions][-2:] == [("ro_active", None),
                                                                   ("fallback", "deregistration")]
    assert ro.transitions[-1].frame == 12
    [interval] = ro.active_intervals
    assert (interval.start_ts, interval.end_ts, interval.ended_by, interval.open) == (
        T0 + 2.15, T0 + 20.05, "deregistration", False)


def test_first_correspondent_deregistration_from_home_is_no_active_time(tmp_path: Path):
    """At home, a node sends a correspondent a BU from its home address with
    lifetime 0 (9.5.1: "a request to delete the cached binding for the home
    address"), accepted. No binding was made: route optimisation was never
    active (no ro_active, no active interval)."""
    path = write(tmp_path, "home-dereg.pcap", [
        (0.0, eth() / IPv6(src=CN, dst=HOA) / ICMPv6EchoRequest()),
        (1.0, cn_bu(5, 0, coa=HOA)), (1.05, ba(5, HOA, CN, units=0)),
        (2.0, eth() / IPv6(src=CN, dst=HOA) / ICMPv6EchoRequest(seq=2)),
        (100.0, eth() / IPv6(src=CN, dst=HOA) / ICMPv6EchoRequest(seq=3)),
    ])
    ro = route_optimization(analyze([path]))
    assert "ro_active" not in [t.state for t in ro.transitions]
    assert ro.active_intervals == ()


# -- item 10: the sequence number reference ----------------------------------------------------

def test_any_sequence_number_after_the_binding_was_deleted(tmp_path: Path):
    """RFC 6275 9.5.1: "If the receiving node has no Binding Cache entry for the
    indicated home address, it MUST accept any Sequence Number value in a received
    Binding Update from this mobile node." Seq 1000 registered, seq 1001 deregisters
    from home (accepted: the entry is deleted), 50 min later seq 5 from COA2: no
    bu_sequence_not_increasing."""
    path = write(tmp_path, "seq-after-dereg.pcap", [
        (0.0, bu(1000)), (0.05, ba(1000)),
        (50.0, bu(1001, HOA, units=0)), (50.05, ba(1001, HOA, units=0)),
        (3000.0, bu(5, COA2)), (3000.05, ba(5, COA2)),
    ])
    assert findings(analyze([path]), "bu_sequence_not_increasing") == []


def test_any_sequence_number_after_the_binding_expired(tmp_path: Path):
    """The same sentence of 9.5.1, after the binding's lifetime ran out (100 s
    granted at 0.05; the next BU at 500): seq 5 after 1000 is no finding."""
    path = write(tmp_path, "seq-after-expiry.pcap", [
        (0.0, bu(1000)), (0.05, ba(1000)),
        (500.0, bu(5, COA2)), (500.05, ba(5, COA2)),
    ])
    assert findings(analyze([path]), "bu_sequence_not_increasing") == []


def test_a_lower_number_while_the_binding_holds_is_still_a_finding(tmp_path: Path):
    """9.5.1 while the entry exists: seq 5 after the accepted 1000 (binding valid
    until 100.05) is not greater: one finding on frame 3."""
    path = write(tmp_path, "seq-lower.pcap", [
        (0.0, bu(1000)), (0.05, ba(1000)),
        (50.0, bu(5, COA2)), (50.05, ba(5, COA2)),
    ])
    [finding] = findings(analyze([path]), "bu_sequence_not_increasing")
    assert finding.frames == (3,)


def test_the_reference_is_the_number_the_peer_accepted(tmp_path: Path):
    """9.5.1: a BU is valid when its number is greater than "the Sequence Number
    received in the previous valid Binding Update for this home address". Seq 0
    registered; seq 32768 (exactly 2^15 ahead: not greater) is a finding, but the
    home agent accepts it, so its cache holds 32768; seq 5 next is not greater
    than 32768 (5 - 32768 mod 2^16 = 32773 >= 2^15): a second finding."""
    path = write(tmp_path, "seq-accepted.pcap", [
        (0.0, bu(0)), (0.05, ba(0)),
        (50.0, bu(32768, COA2)), (50.05, ba(32768, COA2)),
        (90.0, bu(5)), (90.05, ba(5)),
    ])
    [finding] = findings(analyze([path]), "bu_sequence_not_increasing")
    assert finding.frames == (3, 5)


# -- item 4: the NA with the O flag is owed only by a node back on its home link ----------------

def test_deregistration_from_the_care_of_address_owes_no_na(tmp_path: Path):
    """RFC 6275 11.5.4 (Returning Home): the node sends its home agent a BU whose
    care-of address is the home address (lifetime zero), and after its BA
    multicasts onto the home link a Neighbor Advertisement with the Override flag.
    A lifetime-0 BU sent from the care-of address (the node stays away) is no
    return home: no dereg_without_na_o."""
    path = write(tmp_path, "away-dereg.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (50.0, bu(11, units=0)), (50.05, ba(11, units=0)),
        (60.0, eth() / IPv6(src=COA1, dst=CN) / ICMPv6EchoRequest()),
    ])
    assert findings(analyze([path]), "dereg_without_na_o") == []


def test_deregistration_from_home_without_na_is_a_finding(tmp_path: Path):
    """The other side of 11.5.4: back home (BU from the home address, lifetime 0,
    accepted at 50.05) and no NA with the O flag by the end (60): the finding, on
    the BA's frame 5."""
    path = write(tmp_path, "home-dereg-no-na.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (50.0, bu(11, HOA, units=0)), (50.05, ba(11, HOA, units=0)),
        (60.0, eth() / IPv6(src=HOA, dst=CN) / ICMPv6EchoRequest()),
    ])
    [finding] = findings(analyze([path]), "dereg_without_na_o")
    assert (finding.frames, finding.ts) == ((5,), T0 + 50.05)


def test_deregistration_from_home_with_na_is_no_finding(tmp_path: Path):
    """11.5.4 followed: the NA with the O flag 0.1 s after the BA."""
    path = write(tmp_path, "home-dereg-na.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (50.0, bu(11, HOA, units=0)), (50.05, ba(11, HOA, units=0)),
        (50.15, eth() / IPv6(src=HOA, dst="ff02::1") / ICMPv6ND_NA(tgt=HOA, R=0, S=0, O=1)),
        (60.0, eth() / IPv6(src=HOA, dst=CN) / ICMPv6EchoRequest()),
    ])
    assert findings(analyze([path]), "dereg_without_na_o") == []


# -- item 5: a BA for a BU of a chain already answered names that BU -----------------------------

def test_ba_for_a_retransmission_of_an_answered_chain_names_its_bu(tmp_path: Path):
    """RFC 6275 10.3.1: a home agent answers every BU with the A flag; 9.5.4:
    "If the Acknowledge (A) bit set is set in the Binding Update, a Binding
    Acknowledgement MUST be sent." The node retransmits (seq 11 at 50, seq 12 at
    51, frames 4 and 5); the BA for 11 (frame 6) answers the registration, then
    the home agent's BA for 12 (frame 7), owed to frame 5, comes. It is
    ba_for_answered_registration (info) on frame 7, naming BU seq 12, frame 5,
    and the BA of frame 6; no ba_without_matching_bu."""
    path = write(tmp_path, "late-ba.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (50.0, bu(11, COA2)), (51.0, bu(12, COA2)),
        (51.02, ba(11, COA2)), (51.05, ba(12, COA2)), (52.0, tunnelled_down(COA2)),
    ])
    report = analyze([path])
    assert findings(report, "ba_without_matching_bu") == []
    [finding] = findings(report, "ba_for_answered_registration")
    assert (finding.frames, finding.severity) == ((7,), "info")
    assert "answers no BU seen" not in finding.message
    assert "BU seq 12 (frame 5)" in finding.message and "frame 6" in finding.message


def test_a_duplicate_ba_names_the_ba_it_repeats(tmp_path: Path):
    """The home agent sends the BA for seq 65535 twice (frames 2 and 3): the second
    answers BU seq 65535 (frame 1), which frame 2 answered already: the same
    ba_for_answered_registration (info), not ba_without_matching_bu."""
    path = write(tmp_path, "duplicate-ba.pcap", [
        (0.0, bu(65535)), (0.05, ba(65535)), (0.06, ba(65535)),
    ])
    report = analyze([path])
    assert findings(report, "ba_without_matching_bu") == []
    [finding] = findings(report, "ba_for_answered_registration")
    assert (finding.frames, finding.severity) == ((3,), "info")
    assert "answers no BU seen" not in finding.message
    assert "BU seq 65535 (frame 1)" in finding.message and "frame 2" in finding.message


# -- item 6: tunnel_without_binding's ts is its first outside packet's -------------------------

def test_tunnel_without_binding_carries_the_first_outside_packets_time(tmp_path: Path):
    """Findings carry the first occurrence's time (conformance's docstring). The
    binding (100 s granted at 0.05) runs out at 100.05; the home agent tunnels
    frames 3 (1.0, inside), 4 (150.05) and 5 (200.0) to the care-of address: the
    finding is on frames 4 and 5, ts 150.05, not the tunnel's start 1.0."""
    path = write(tmp_path, "outside.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (150.05, tunnelled_down(n=1)), (200.0, tunnelled_down(n=2)),
    ])
    [finding] = findings(analyze([path]), "tunnel_without_binding")
    assert (finding.frames, finding.ts) == ((4, 5), T0 + 150.05)


# -- item 7: HAO data and the binding it needs ------------------------------------------------

def hao_data(coa: str, dst: str = CN, n: int = 0) -> Packet:
    """Route-optimised data from ``coa`` with a Home Address option."""
    return eth() / IPv6(src=coa, dst=dst) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / ICMPv6EchoRequest(seq=n)


def test_hao_data_from_another_care_of_than_the_bound_one(tmp_path: Path):
    """RFC 6275 9.3.1: "Packets containing a Home Address option MUST also be
    dropped if there is no corresponding Binding Cache entry for the given home
    address. A corresponding Binding Cache entry MUST have the currently
    registered care-of address equal to the source address of the packet."
    The correspondent binds COA1 (BA at 2.15, 200 s); the node moves to COA2
    (home BA at 20.05) and sends HAO data from COA2 at 21 (frame 13) with no new
    correspondent BU: the binding's care-of is COA1, not the source. HAO data
    from COA1 at 3 (frame 10) is bound. One finding, on frame 13."""
    path = write(tmp_path, "hao-new-coa.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        *return_routability(2.0),
        (2.1, cn_bu(1, 50)), (2.15, ba(1, src=CN, units=50)),
        (3.0, hao_data(COA1)),
        (20.0, bu(11, COA2)), (20.05, ba(11, COA2)),
        (21.0, hao_data(COA2, n=2)),
    ])
    [finding] = findings(analyze([path]), "hao_without_binding")
    assert finding.frames == (13,)


def test_hao_data_to_the_home_agent_with_a_home_binding(tmp_path: Path):
    """The same 9.3.1 sentence at the home agent: its binding HoA -> COA1 is valid
    (BA at 0.05, 100 s), so HAO data from COA1 to the home agent at 11 has its
    Binding Cache entry. No finding."""
    path = write(tmp_path, "hao-to-ha.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (11.0, hao_data(COA1, HA, 1)),
        (20.0, tunnelled_down(n=2)),
    ])
    assert findings(analyze([path]), "hao_without_binding") == []


def test_hao_data_to_the_home_agent_after_the_binding_ran_out(tmp_path: Path):
    """The same at 150, after the home binding ran out at 100.05: no entry, one finding."""
    path = write(tmp_path, "hao-to-ha-late.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (150.0, hao_data(COA1, HA, 1)),
    ])
    [finding] = findings(analyze([path]), "hao_without_binding")
    assert finding.frames == (4,)


# -- item 9: an unanswered DHAAD request is its home address's -----------------------------------

def test_unanswered_dhaad_is_the_node_of_its_care_of_address(tmp_path: Path):
    """RFC 6275 11.4.1: the node sends the DHAAD request from its care-of address
    (no Home Address option). COA1 is bound to HOA (BA at 0.05); the request from
    COA1 at 50 has no reply: the finding is the node's, HOA, not COA1's."""
    from scapy.layers.inet6 import ICMPv6HAADRequest
    anycast = "2001:db8:1:0:fdff:ffff:ffff:fffe"
    path = write(tmp_path, "dhaad.pcap", [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, tunnelled_down()),
        (50.0, eth() / IPv6(src=COA1, dst=anycast) / ICMPv6HAADRequest(id=7)),
        (60.0, tunnelled_down(n=1)),
    ])
    [finding] = findings(analyze([path]), "dhaad_without_reply")
    assert finding.node == A(HOA)
