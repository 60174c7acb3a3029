"""Conformance, tunnel and route-optimisation rules review 2 found wrong, on
captures written with Scapy inside each test. Each expected answer was worked
out by hand from RFC 6275 (the sentence quoted, or paraphrased where no copy
of the text was at hand) before the fix; every test failed on the code before
it (main at 276ebd9). Every capture is analysed by both engines, which must
give the same report.
"""

from __future__ import annotations

from ipaddress import IPv6Address
from pathlib import Path

from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptBindingAuthData,
    MIP6OptBRAdvice,
    MIP6OptNonceIndices,
)
from scapy.layers.l2 import Ether
from scapy.packet import Packet
from timed_pcap import write_timed

from mipv6scope.analysis.engine import analyze
from mipv6scope.report.json_text import json_chunks
from mipv6scope.report.model import Finding, Report

A = IPv6Address
HA, HOA, CN = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:9::9"
COA1, COA2 = "2001:db8:a::100", "2001:db8:b::100"
T0 = 1000.0


def eth() -> Ether:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def bu(seq: int, coa: str = COA1, dst: str = HA, units: int = 100, flags: str = "AH",
       options: list[Packet] | None = None) -> Packet:
    """A BU from ``coa`` with a Home Address option (none from the home address); lifetime in 4 s units."""
    mh = MIP6MH_BU(seq=seq, flags=flags, mhtime=units, options=options or [])
    if coa == HOA:
        return eth() / IPv6(src=HOA, dst=dst) / mh
    return eth() / IPv6(src=coa, dst=dst) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / mh


def ba(seq: int, coa: str = COA1, src: str = HA, units: int = 25,
       options: list[Packet] | None = None, status: int = 0) -> Packet:
    """A BA to ``coa`` (with a type 2 routing header unless it is the home address)."""
    mh = MIP6MH_BA(seq=seq, status=status, mhtime=units, options=options or [])
    if coa == HOA:
        return eth() / IPv6(src=src, dst=HOA) / mh
    return eth() / IPv6(src=src, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1) / mh


def down(coa: str = COA1, n: int = 0) -> Packet:
    """CN -> HoA, tunnelled by the home agent to ``coa``."""
    return eth() / IPv6(src=HA, dst=coa) / IPv6(src=CN, dst=HOA) / ICMPv6EchoRequest(seq=n)


def up(coa: str = COA1, n: int = 0) -> Packet:
    """HoA -> CN, reverse-tunnelled by the node from ``coa`` to the home agent."""
    return eth() / IPv6(src=coa, dst=HA) / IPv6(src=HOA, dst=CN) / ICMPv6EchoReply(seq=n)


def report(tmp_path: Path, timed: list[tuple[float, Packet]], vantage: str = "auto") -> Report:
    """The report of the capture ``timed`` (offsets from T0), the same from both engines."""
    path = write_timed(tmp_path / "c.pcap", timed, T0)
    columnar = analyze([path], vantage=vantage, engine="columnar")
    reference = analyze([path], vantage=vantage, engine="reference")
    assert "".join(json_chunks(columnar)) == "".join(json_chunks(reference))
    return columnar


def findings(rep: Report, code: str) -> list[Finding]:
    return [f for f in rep.findings if f.code == code]


# -- item 7: a refresh sent before the expiry, acknowledged at or after it -------------------------

def refresh_at(ba_offset: float) -> list[tuple[float, Packet]]:
    """BA at 0.05 grants 25 units = 100 s (expiry 100.05); the refresh BU goes out at 100.0,
    its BA at ``ba_offset``."""
    return [(0.0, bu(10)), (0.05, ba(10)), (50.0, down()),
            (100.0, bu(11)), (ba_offset, ba(11)), (101.0, down(n=1))]


def test_refresh_acknowledged_exactly_at_expiry_is_not_without_refresh(tmp_path: Path):
    """RFC 6275 6.1.7, Lifetime: "The number of time units remaining before the
    binding MUST be considered expired." Counted from the BA (1000.05), 100 s
    run out at 1100.05: at that instant the binding is expired, so the BA of
    the refresh at exactly 1100.05 opens a new binding (bindings: "expiry" at
    1100.05, then a binding from 1100.05). But the refresh BU went out at
    1100.0, before the expiry, and was accepted; the home agent updates its
    entry when it processes the BU, before sending the BA (10.3.1,
    paraphrase), at a time the wire does not show. So the binding was not left
    "without refresh": no binding_expired_without_refresh warning, one info
    binding_refreshed_at_expiry on the granting BA (2), the refresh BU (4) and
    its BA (5), dated at the expiry."""
    rep = report(tmp_path, refresh_at(100.05))
    [node] = rep.mobile_nodes
    assert [(b.start_ts, b.end_ts, b.ended_by) for b in node.bindings] == [
        (T0 + 0.05, T0 + 100.05, "expiry"), (T0 + 100.05, None, "capture_end")]
    assert findings(rep, "binding_expired_without_refresh") == []
    [info] = findings(rep, "binding_refreshed_at_expiry")
    assert (info.severity, info.frames, info.ts) == ("info", (2, 4, 5), T0 + 100.05)


def test_refresh_acknowledged_after_expiry_is_not_without_refresh(tmp_path: Path):
    """The same with the refresh BA 10 ms after the expiry (1100.06): the
    binding counted from its BA ran out at 1100.05 (6.1.7), the new one starts
    at 1100.06; the refresh BU still went out 50 ms before the expiry, so the
    info, not the warning."""
    rep = report(tmp_path, refresh_at(100.06))
    [node] = rep.mobile_nodes
    assert [(b.start_ts, b.end_ts, b.ended_by) for b in node.bindings] == [
        (T0 + 0.05, T0 + 100.05, "expiry"), (T0 + 100.06, None, "capture_end")]
    assert findings(rep, "binding_expired_without_refresh") == []
    [info] = findings(rep, "binding_refreshed_at_expiry")
    assert info.frames == (2, 4, 5) and "0.010 s after" in info.message


def test_refresh_sent_after_expiry_is_without_refresh(tmp_path: Path):
    """Control: the refresh BU goes out at 1100.1, after the expiry at 1100.05:
    the binding ran out with no refresh sent in time (6.1.7), the warning stays."""
    timed = refresh_at(100.15)
    timed[3] = (100.1, bu(11))
    rep = report(tmp_path, timed)
    [warning] = findings(rep, "binding_expired_without_refresh")
    assert warning.frames == (2,) and warning.ts == T0 + 100.05
    assert findings(rep, "binding_refreshed_at_expiry") == []


# -- item 10: a Binding Refresh Advice not shorter than the lifetime -------------------------------

def test_refresh_advice_at_or_above_the_lifetime(tmp_path: Path):
    """RFC 6275 6.2.4: "The Refresh Interval MUST be set to indicate a smaller
    time interval than the Lifetime value of the Binding Acknowledgement."
    The first BA grants 25 units = 100 s with a Refresh Advice of 30 units =
    120 s: a finding on that BA (frame 2). The second grants 100 s with an
    advice of 25 units = 100 s, not smaller either (frame 4). The third, an
    advice of 20 units = 80 s, is right."""
    rep = report(tmp_path, [
        (0.0, bu(10)), (0.05, ba(10, options=[MIP6OptBRAdvice(rinter=30)])),
        (50.0, bu(11)), (50.05, ba(11, options=[MIP6OptBRAdvice(rinter=25)])),
        (90.0, bu(12)), (90.05, ba(12, options=[MIP6OptBRAdvice(rinter=20)])),
    ])
    [f] = findings(rep, "refresh_advice_not_below_lifetime")
    assert (f.severity, f.frames, f.ts, f.rfc) == ("warning", (2, 4), T0 + 0.05, "RFC 6275 6.2.4")
    assert "120 s, lifetime 100 s" in f.message


# -- items 9 and 3: packets outside the binding, both ways, and in flight at a tap -----------------

def outside(rep: Report) -> dict[str, tuple[int, ...]]:
    """Each tunnel's outside-binding frames, by care-of address."""
    return {str(t.care_of): t.outside_binding.frames for t in rep.tunnels}


def test_reverse_tunnelled_packets_after_the_binding_are_outside(tmp_path: Path):
    """RFC 6275 10.4.5 (paraphrase): the home agent accepts a reverse-tunnelled
    packet only from the registered care-of address of the inner source's home
    address. The node deregisters from its care-of address (BU lifetime 0 from
    COA1, frame 5; BA to COA1, frame 6, 9.5.1: the entry is deleted) and stays
    there: the home agent's packet to COA1 (frame 7) and the node's packet from
    COA1 (frame 8), a second later, are both outside any binding. The BA went
    down the same path as both, so this holds at every vantage (the inferred
    one here is "tap"): one tunnel_without_binding on frames 7 and 8."""
    rep = report(tmp_path, [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, down()), (1.1, up()),
        (50.0, bu(11, units=0)), (50.05, ba(11, units=0)),
        (51.0, down(n=5)), (51.1, up(n=5)),
    ])
    assert outside(rep) == {COA1: (7, 8)}
    [f] = findings(rep, "tunnel_without_binding")
    assert f.frames == (7, 8) and f.ts == T0 + 51.0 and f"between {HA} and {COA1}" in f.message


def moved_with_old_path_after_the_ba() -> list[tuple[float, Packet]]:
    """COA1 bound; the move to COA2 (BU frame 5, BA frame 6 at 20.05); then the
    old path: the home agent to COA1 100 ms after the BA (7), the node from
    COA1 150 ms after (8), new path data (9), and the home agent to COA1 again
    1.45 s after the BA (10)."""
    return [(0.0, bu(10)), (0.05, ba(10)), (1.0, down()), (1.01, up()),
            (20.0, bu(11, COA2)), (20.05, ba(11, COA2)),
            (20.15, down(n=1)), (20.2, up(n=1)), (20.3, down(COA2, n=2)), (21.5, down(n=3))]


def test_old_path_packets_in_flight_at_a_tap_are_not_outside(tmp_path: Path):
    """The home agent updates its Binding Cache entry, then sends the BA (10.3.1,
    paraphrase), and tunnels to the care-of address of its entry (10.4.1): a
    packet it sent to COA1 after the BA is outside the binding. But a probe
    between it and the node (vantage "tap") sees the BA on the path to COA2 and
    a packet on the path to COA1 with the two paths' delays: the packet may
    have left before the BA, so frames 7 and 8 (100 and 150 ms after the BA)
    prove nothing there. The protocol expects a round trip within
    INITIAL_BINDACK_TIMEOUT, 1 s (11.8: the node retransmits after it), so frame
    10, 1.45 s after, is outside at every vantage: the error on frame 10 only."""
    rep = report(tmp_path, moved_with_old_path_after_the_ba(), vantage="tap")
    assert outside(rep) == {COA1: (10,), COA2: ()}
    [f] = findings(rep, "tunnel_without_binding")
    assert (f.frames, f.ts) == ((10,), T0 + 21.5)


def test_old_path_packets_after_the_ba_at_the_home_agent_are_outside(tmp_path: Path):
    """At the home agent's own vantage ("ha") the timestamps are its own: the
    packet it tunnelled to COA1 after sending the BA (frame 7) and the one it
    received from COA1 after it (frame 8, 10.4.5) are outside the binding, as is
    frame 10."""
    rep = report(tmp_path, moved_with_old_path_after_the_ba(), vantage="ha")
    assert outside(rep) == {COA1: (7, 8, 10), COA2: ()}
    [f] = findings(rep, "tunnel_without_binding")
    assert (f.frames, f.ts) == ((7, 8, 10), T0 + 20.15)


def test_reverse_tunnelled_after_the_bu_before_its_ba(tmp_path: Path):
    """10.3.1 (paraphrase): the home agent updates its Binding Cache when it
    processes the BU, then sends the BA. The node's packet reverse-tunnelled
    from COA2 10 ms after its BU from COA2 (frame 6) reaches the home agent
    after that BU (same path), so once the BA accepts the BU (frame 7) the
    packet was inside the binding (10.4.5), at every vantage: nothing outside.
    A rejected BU (status 129) from COA2 covers nothing: the node's packet
    after it (frame 10) is outside, the error on it alone."""
    rep = report(tmp_path, [
        (0.0, bu(10)), (0.05, ba(10)), (1.0, down()), (1.01, up()),
        (20.0, bu(11, COA2)), (20.01, up(COA2, 1)), (20.05, ba(11, COA2)),
        (30.0, down(COA2, 2)),
        (40.0, bu(12, COA1)), (40.01, up(COA1, 3)), (40.05, ba(12, COA1, status=129)),
    ])
    assert outside(rep) == {COA1: (10,), COA2: ()}
    [f] = findings(rep, "tunnel_without_binding")
    assert f.frames == (10,) and f"between {HA} and {COA1}" in f.message


# -- item 4: the care-of keygen token of the old care-of address after a move ---------------------

def rr_round(start: float, coa: str = COA1, home: bool = True) -> list[tuple[float, Packet]]:
    """A return routability round with ``CN`` from ``coa`` (HoTI/HoT through the
    tunnel, when ``home``): cookies H/C, nonce index 1 both."""
    out = [(start + 0.001, eth() / IPv6(src=coa, dst=CN) / MIP6MH_CoTI(cookie=b"C" * 8)),
           (start + 0.05, eth() / IPv6(src=CN, dst=coa) / MIP6MH_CoT(index=1, cookie=b"C" * 8, token=b"c" * 8))]
    if home:
        out += [(start, eth() / IPv6(src=coa, dst=HA) / IPv6(src=HOA, dst=CN) / MIP6MH_HoTI(cookie=b"H" * 8)),
                (start + 0.06, eth() / IPv6(src=HA, dst=coa) / IPv6(src=CN, dst=HOA)
                 / MIP6MH_HoT(index=1, cookie=b"H" * 8, token=b"h" * 8))]
    return sorted(out, key=lambda x: x[0])


def cn_bu(seq: int, coa: str = COA1, units: int = 12) -> Packet:
    """A correspondent BU (A only) from ``coa`` with nonce indices 1 and 1."""
    return bu(seq, coa, CN, units, "A", [MIP6OptNonceIndices(olen=4, hni=1, coni=1),
                                         MIP6OptBindingAuthData(olen=12, authenticator=0x1234)])


def test_old_care_of_keygen_token_after_a_move(tmp_path: Path):
    """RFC 6275 5.2.5: "Care-of keygen token := First (64, HMAC_SHA1 (Kcn,
    (care-of address | nonce | 1)))": the token is bound to the care-of address
    the Care-of Test went to. After a move the node needs a new care-of keygen
    token (11.7.2, 5.2.7, paraphrase; the home keygen token may be reused while
    fresh). The only CoT (index 1) went to COA1; after the home move to COA2
    the node sends the correspondent a BU from COA2 with care-of nonce index 1
    (frame 13) and no CoTI/CoT from COA2: nonce_index_mismatch on frame 13,
    naming COA1. The BU from COA1 (frame 8) was right."""
    timed = [(0.0, bu(10)), (0.05, ba(10)), (1.0, down()), *rr_round(2.0),
             (2.1, cn_bu(1)), (2.15, ba(1, COA1, CN, units=12)),
             (20.0, bu(11, COA2)), (20.05, ba(11, COA2)), (21.0, down(COA2)),
             (22.1, cn_bu(2, COA2)), (22.15, ba(2, COA2, CN, units=12))]
    rep = report(tmp_path, timed)
    [f] = findings(rep, "nonce_index_mismatch")
    assert f.frames == (13,) and f"index 1 was given to {COA1}" in f.message


def test_new_care_of_test_after_a_move_is_right(tmp_path: Path):
    """Control: a care-of-only round from COA2 (CoTI/CoT, index 1 again) before
    the BU from COA2: the care-of keygen token is COA2's own; no finding."""
    timed = [(0.0, bu(10)), (0.05, ba(10)), (1.0, down()), *rr_round(2.0),
             (2.1, cn_bu(1)), (2.15, ba(1, COA1, CN, units=12)),
             (20.0, bu(11, COA2)), (20.05, ba(11, COA2)), (21.0, down(COA2)),
             *rr_round(22.0, COA2, home=False),
             (22.1, cn_bu(2, COA2)), (22.15, ba(2, COA2, CN, units=12))]
    rep = report(tmp_path, timed)
    assert findings(rep, "nonce_index_mismatch") == []


# -- item 6: a full return routability round seen at the correspondent -----------------------------

def test_round_seen_at_the_correspondent_completes_at_the_bu(tmp_path: Path):
    """At a correspondent's vantage the HoTI and HoT travel between it and the
    home address (the home agent's tunnel is elsewhere), and no home BU shows
    which node uses COA1. RFC 6275 5.2.5 (paraphrase): the node sends HoTI and
    CoTI together and, with both tokens, the BU; 6.1.4: the CoTI carries no home
    address, but the BU from COA1 names the home address (its Home Address
    option) and its care-of nonce index is the CoT's. HoTI 0.0, CoTI 0.001, CoT
    0.05, HoT 0.06, BU 0.1, BA 0.15: rr_started 0.0, rr_done 0.06 (the last
    reply), bu_sent 0.1, ro_active 0.15, round latency 60 ms."""
    rep = report(tmp_path, [
        (0.0, eth() / IPv6(src=HOA, dst=CN) / MIP6MH_HoTI(cookie=b"H" * 8)),
        (0.001, eth() / IPv6(src=COA1, dst=CN) / MIP6MH_CoTI(cookie=b"C" * 8)),
        (0.05, eth() / IPv6(src=CN, dst=COA1) / MIP6MH_CoT(index=1, cookie=b"C" * 8, token=b"c" * 8)),
        (0.06, eth() / IPv6(src=CN, dst=HOA) / MIP6MH_HoT(index=1, cookie=b"H" * 8, token=b"h" * 8)),
        (0.1, cn_bu(1)), (0.15, ba(1, COA1, CN, units=12)),
    ])
    [node] = rep.mobile_nodes
    [ro] = node.route_optimization
    assert [(round(t.ts - T0, 3), t.state) for t in ro.transitions] == [
        (0.0, "rr_started"), (0.06, "rr_done"), (0.1, "bu_sent"), (0.15, "ro_active")]
    assert ro.rr_latency_ms == 60.0
    assert findings(rep, "nonce_index_mismatch") == []


def test_refresh_answered_for_a_retransmission_after_expiry_is_without_refresh(tmp_path: Path):
    """The refresh BU seq 11 goes out at 1099.0, before the expiry (1100.05), and
    is lost; its retransmission seq 12 at 1101.0 (11.8), after the expiry, is
    the one the BA at 1101.05 answers. The home agent processed that BU after
    the binding had run out (its lifetime counts from no later than its BA,
    6.1.7, 10.3.1), so the binding did lapse: the warning stays, no info."""
    rep = report(tmp_path, [(0.0, bu(10)), (0.05, ba(10)), (50.0, down()),
                            (99.0, bu(11)), (101.0, bu(12)), (101.05, ba(12)), (102.0, down(n=1))])
    [warning] = findings(rep, "binding_expired_without_refresh")
    assert warning.frames == (2,) and warning.ts == T0 + 100.05
    assert findings(rep, "binding_refreshed_at_expiry") == []


def test_care_of_round_with_its_cot_unseen_is_no_mismatch(tmp_path: Path):
    """Control: after the move the node sends a CoTI from COA2 (the BU's own
    path, so the probe sees it) whose CoT the probe misses. A correspondent
    gives every care-of address of one nonce period the same index, so the BU
    from COA2 with index 1 may carry COA2's own token: no finding."""
    timed = [(0.0, bu(10)), (0.05, ba(10)), (1.0, down()), *rr_round(2.0),
             (2.1, cn_bu(1)), (2.15, ba(1, COA1, CN, units=12)),
             (20.0, bu(11, COA2)), (20.05, ba(11, COA2)), (21.0, down(COA2)),
             (22.0, eth() / IPv6(src=COA2, dst=CN) / MIP6MH_CoTI(cookie=b"D" * 8)),
             (22.1, cn_bu(2, COA2)), (22.15, ba(2, COA2, CN, units=12))]
    rep = report(tmp_path, timed)
    assert findings(rep, "nonce_index_mismatch") == []
