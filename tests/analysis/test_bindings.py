"""BindingsAnalyzer on hand-built event sequences: one test per rule."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from builders import AR2, CN, COA2, COA3, HA, HA_LL, HOA, A, ba, be, bu, ra
from decoded_events import run
from hypothesis import given, settings
from hypothesis import strategies as st

from mipv6scope.analysis.bindings import BindingsAnalyzer
from mipv6scope.analysis.engine import analyze
from mipv6scope.analysis.settings import Settings
from mipv6scope.report.builder import ReportBuilder


def analyse(events, end_ts=None):
    b = BindingsAnalyzer()
    run([b], events, end_ts)
    builder = ReportBuilder()
    b.contribute(builder)
    return b, builder


def ended(builder):
    return [(str(x.care_of), x.ended_by) for x in builder.nodes[HOA].bindings]


def test_refresh_then_new_care_of_then_deregistration():
    b, rb = analyse([bu(10, 1, 1), ba(10.02, 2, 1), bu(50, 3, 2), ba(50.02, 4, 2),
                     bu(80, 5, 3, COA3), ba(80.02, 6, 3, COA3),
                     bu(100, 7, 4, HOA, lifetime=0), ba(100.001, 8, 4, HOA, lifetime=0)])
    assert ended(rb) == [(str(COA2), "refresh"), (str(COA2), "new_care_of"),
                         (str(COA3), "deregistration")]
    first = rb.nodes[HOA].bindings[0]
    assert (first.start_ts, first.start_frame, first.end_ts, first.seq) == (10.02, 2, 50.02, 1)
    assert (first.peer, first.kind, first.requested_lifetime_s, first.granted_lifetime_s) == (HA, "home", 60, 60)
    assert rb.nodes[HOA].bindings[-1].end_ts == 100.001
    assert rb.nodes[HOA].care_of_addresses == [COA2, COA3]
    assert rb.nodes[HOA].home_agent == HA and b.home_agent_of(HOA) == HA


def test_capture_end_keeps_end_null():
    _, rb = analyse([bu(10, 1, 1), ba(10.02, 2, 1)], end_ts=30)
    (only,) = rb.nodes[HOA].bindings
    assert (only.ended_by, only.end_ts) == ("capture_end", None)


def test_expiry_at_start_plus_granted_lifetime():
    _, rb = analyse([bu(10, 1, 1, lifetime=600), ba(10.5, 2, 1, lifetime=120)], end_ts=400)
    (only,) = rb.nodes[HOA].bindings
    assert (only.ended_by, only.end_ts, only.requested_lifetime_s, only.granted_lifetime_s) == (
        "expiry", pytest.approx(130.5), 600, 120)


def test_expiry_found_before_a_late_refresh():
    _, rb = analyse([bu(10, 1, 1), ba(10, 2, 1), bu(80, 3, 2), ba(80, 4, 2)])
    assert ended(rb) == [(str(COA2), "expiry"), (str(COA2), "capture_end")]
    assert rb.nodes[HOA].bindings[0].end_ts == 70


def test_rejection_is_a_registration_not_a_binding():
    # RFC 6275 6.1.8: a status >= 128 BA refuses the registration; no binding is created and the
    # one in force stays (the next accepted BA refreshes it).
    _, rb = analyse([bu(10, 1, 1), ba(10.02, 2, 1), bu(20, 3, 9000), ba(20.01, 4, 1, status=135),
                     bu(20.05, 5, 2), ba(20.07, 6, 2)])
    rows = rb.nodes[HOA].bindings
    assert [(x.seq, x.ended_by, x.end_ts) for x in rows] == [(1, "refresh", 20.07), (2, "capture_end", None)]
    regs = rb.nodes[HOA].registrations
    assert [(r.seq, r.status, r.ba_frame) for r in regs] == [(1, 0, 2), (9000, 135, 4), (2, 0, 6)]


def test_rejection_by_another_home_agent_keeps_its_peer():
    other = A("2001:db8:1::2")
    _, rb = analyse([bu(10, 1, 1), ba(10.02, 2, 1), bu(20, 3, 2, COA3, peer=other),
                     ba(20.01, 4, 2, COA3, status=133, peer=other), bu(20.1, 5, 3, COA3), ba(20.12, 6, 3, COA3)])
    assert [(x.peer, x.ended_by) for x in rb.nodes[HOA].bindings] == [(HA, "new_care_of"), (HA, "capture_end")]
    assert [(r.peer, r.status) for r in rb.nodes[HOA].registrations] == [(HA, 0), (other, 133), (HA, 0)]
    assert rb.nodes[HOA].home_agent == HA


def test_retransmissions_with_new_numbers_form_one_chain_latency_from_first_bu():
    # RFC 6275 11.8: each retransmission carries a greater sequence number; the BA answers the latest
    b, rb = analyse([bu(1.0, 1, 7), bu(2.5, 2, 8), bu(5.5, 3, 9), ba(5.52, 4, 9)])
    (reg,) = rb.nodes[HOA].registrations
    assert reg.bu_frames == (1, 2, 3) and reg.retransmissions == 2 and reg.seq == 9
    assert reg.bu_seqs == (7, 8, 9) and reg.bu_gaps_ms == (1500.0, 3000.0)
    assert reg.latency_ms == pytest.approx(4520.0)
    assert (reg.first_bu_ts, reg.ba_ts, reg.status, reg.care_of) == (1.0, 5.52, 0, COA2)
    assert b.pending(HOA) == []
    assert (b.last_answered.first_bu_ts, b.last_answered.retransmissions) == (1.0, 2)


def test_a_repeated_number_is_grouped_too():
    _, rb = analyse([bu(1.0, 1, 7), bu(2.0, 2, 7), ba(2.02, 3, 7)])
    (reg,) = rb.nodes[HOA].registrations
    assert (reg.bu_frames, reg.bu_seqs, reg.retransmissions) == ((1, 2), (7, 7), 1)


def test_the_ba_may_answer_an_earlier_bu_of_the_chain():
    _, rb = analyse([bu(1.0, 1, 7), bu(2.0, 2, 8), ba(2.01, 3, 7)])
    (reg,) = rb.nodes[HOA].registrations
    assert (reg.bu_frames, reg.seq, reg.status) == ((1, 2), 7, 0)
    assert rb.nodes[HOA].bindings[0].seq == 7


def test_another_care_of_flags_or_lifetime_starts_a_new_chain():
    _, rb = analyse([bu(1.0, 1, 7), bu(2.0, 2, 8, COA3), bu(3.0, 3, 9, COA3, flags="H"),
                     bu(4.0, 4, 10, COA3, flags="H", lifetime=120), ba(4.01, 5, 10, COA3, lifetime=120)])
    regs = rb.nodes[HOA].registrations
    assert [(r.bu_frames, r.ba_frame) for r in regs] == [((1,), None), ((2,), None), ((3,), None), ((4,), 5)]


def test_a_bu_without_the_a_flag_is_never_retransmitted():
    # RFC 6275 6.1.7 / 11.8: no BA is asked for, so each BU is an attempt of its own
    _, rb = analyse([bu(1.0, 1, 7, peer=CN, flags=""), bu(300.0, 2, 8, peer=CN, flags="")])
    assert [(r.bu_frames, r.retransmissions) for r in rb.nodes[HOA].registrations] == [((1,), 0), ((2,), 0)]


def test_unanswered_and_unmatched():
    b, rb = analyse([bu(1, 1, 5), ba(2, 2, 6)])
    assert b.pending(HOA) == [(HA, 5, (1,))]
    assert [a.frame for a in b.unmatched_acks] == [2] and b.unmatched_ack_homes == {HOA}
    assert rb.nodes[HOA].bindings == []
    (waiting,) = rb.nodes[HOA].registrations  # unanswered: listed, BA fields null
    assert (waiting.bu_frames, waiting.ba_frame, waiting.status, waiting.latency_ms) == ((1,), None, None, None)


def test_binding_error_ends_correspondent_binding():
    _, rb = analyse([bu(1, 1, 1, peer=CN, flags="A", lifetime=420), ba(1.1, 2, 1, peer=CN, lifetime=420),
                     be(3, 3)])
    (only,) = rb.nodes[HOA].bindings
    assert (only.kind, only.ended_by, only.end_ts) == ("correspondent", "binding_error", 3)


def test_roles():
    _, rb = analyse([ra(0.5, 1, AR2, "2001:db8:2::/64"), ra(0.6, 2, HA_LL, "2001:db8:1::1/64", True, HA),
                     bu(1, 3, 1), ba(1.1, 4, 1), bu(2, 5, 1, peer=CN, flags="A"),
                     ba(2.1, 6, 1, peer=CN)])
    assert rb.home_agents == {HA}
    assert rb.correspondents == {CN}
    assert rb.access_routers == {AR2, HA_LL}
    assert set(rb.nodes) == {HOA}


def test_queries():
    b, _ = analyse([bu(10, 1, 1), ba(10, 2, 1), bu(40, 3, 2, COA3), ba(40, 4, 2, COA3)], end_ts=200)
    assert b.home_binding_at(HOA, 5) is None
    assert b.home_binding_at(HOA, 20) == COA2
    assert b.home_binding_at(HOA, 50) == COA3
    assert b.home_binding_at(HOA, 150) is None  # expired at 100
    assert b.binding_at(HOA, HA, 20).seq == 1
    assert b.care_of_addresses(HOA) == [COA2, COA3]
    assert b.is_care_of(COA3) and not b.is_care_of(HOA)
    assert b.home_address_of(COA2) == HOA
    assert len(b.registrations(HOA)) == 2 == len(b.registrations())


def test_settings_are_overridable():
    s = replace(Settings(), MAX_BINDACK_TIMEOUT=256.0)
    assert s.MAX_BINDACK_TIMEOUT == 256.0 and Settings().MAX_BINDACK_TIMEOUT == 32.0
    assert BindingsAnalyzer(s).settings is s


SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"


@pytest.mark.parametrize("name", ["scenario-handoff.pcap", "scenario-handoff-esp.pcap",
                                  "scenario-recovery.pcap"])
def test_registrations_name_the_truth_frames(name: str):
    """Through the engine (decoder, events, analyzers): each binding of the truth
    file comes from a registration with its BU frames, BA frame and status; in
    scenario-handoff-esp.pcap those BU/BA travel in ESP (NULL)."""
    truth = json.loads((SAMPLES / f"{name}.truth.json").read_text())
    report = analyze([SAMPLES / name])
    by_node = {str(n.home_address): n for n in report.mobile_nodes}
    assert sorted(by_node) == sorted(mn["home_address"] for mn in truth["mobile_nodes"])
    for mn in truth["mobile_nodes"]:
        got = {(tuple(r.bu_frames), r.ba_frame, r.status, r.seq)
               for r in by_node[mn["home_address"]].registrations}
        for b in mn["bindings"]:
            assert (tuple(b["bu_frames"]), b["ba_frame"], b["status"], b["seq"]) in got, b


def test_snapshot_methods_answer_for_the_instant():
    b, _ = analyse([bu(10, 1, 1), ba(10.02, 2, 1, lifetime=60), bu(50, 3, 2, COA3), bu(51, 4, 2, COA3),
                    bu(52, 5, 3, COA3, peer=CN, flags="A")])
    assert b.home_addresses() == [HOA]
    assert b.peer_kinds(HOA) == {HA: "home", CN: "correspondent"}
    bound = b.binding_in_force(HOA, HA, 60.0)
    assert (bound.care_of, bound.seq, bound.start_ts, bound.end_ts) == (COA2, 1, 10.02, None)
    assert b.binding_in_force(HOA, HA, 70.02) is None   # 60 s granted: ran out, no event yet
    assert b.binding_in_force(HOA, HA, 10.0) is None    # before its BA
    (waiting,) = b.unanswered(HOA, HA)
    assert (waiting.seq, waiting.care_of, waiting.bu_frames, waiting.retransmissions) == (2, COA3, (3, 4), 1)
    assert waiting.first_bu_ts == 50 and waiting.ba_frame is None and waiting.status is None
    assert [r.seq for r in b.unanswered(HOA, CN)] == [3]
    assert b.peer_kinds(CN) == {} and b.unanswered(CN, HA) == [] and b.binding_in_force(CN, HA, 1) is None


HOA2 = A("2001:db8:1::200")
registration = st.tuples(st.sampled_from([HOA, HOA2]), st.sampled_from([HA, CN]), st.sampled_from([COA2, COA3]),
                         st.integers(min_value=0, max_value=200), st.sampled_from([0, 5, 30, 60]),
                         st.sampled_from([0, 0, 0, 135]))


@settings(max_examples=200, deadline=None)
@given(st.lists(registration, max_size=12), st.integers(min_value=0, max_value=400))
def test_expired_lists_what_the_bindings_say_ran_out(registrations, end):
    """`expired()` gives the bindings `bindings()` lists as ended by expiry, in its order."""
    events, ts = [], 0.0
    for i, (hoa, peer, coa, gap, lifetime, status) in enumerate(registrations):
        ts += gap
        flags = "AH" if peer == HA else "A"
        events += [bu(ts, 2 * i + 1, i, coa, lifetime, peer, flags, hoa),
                   ba(ts + 0.01, 2 * i + 2, i, coa, lifetime, status, peer, hoa)]
    b, _ = analyse(events, end_ts=ts + end)
    expected = [(hoa, peer, x) for hoa in b.home_addresses() for peer in b.peer_kinds(hoa)
                for x in b.bindings(hoa, peer) if x.ended_by == "expiry" and x.end_ts is not None]
    assert list(b.expired()) == expected


def test_many_correspondents_each_keep_their_own_bindings():
    # past bindings.PEERS_SCANNED peers a node's peers are found by a dict, not a scan
    from mipv6scope.analysis.bindings import PEERS_SCANNED
    peers = [A(f"2001:db8:c::{i + 1:x}") for i in range(PEERS_SCANNED + 4)]
    events = []
    for i, peer in enumerate(peers):
        events += [bu(10 + i, 2 * i + 1, 1, peer=peer, flags="A", lifetime=400),
                   ba(10.5 + i, 2 * i + 2, 1, peer=peer, lifetime=400)]
    for i, peer in enumerate(reversed(peers)):  # each refreshed, the last first
        events += [bu(100 + i, 100 + 2 * i, 2, COA3, peer=peer, flags="A", lifetime=400),
                   ba(100.5 + i, 101 + 2 * i, 2, COA3, peer=peer, lifetime=400)]
    b, rb = analyse(events)
    assert list(b.peer_kinds(HOA)) == peers
    for i, peer in enumerate(peers):
        first, second = b.bindings(HOA, peer)
        assert (first.start_ts, first.end_ts, first.ended_by) == (10.5 + i, second.start_ts, "new_care_of")
        assert (second.care_of, second.seq, second.ended_by) == (COA3, 2, "capture_end")
    assert len(rb.nodes[HOA].bindings) == 2 * len(peers)
