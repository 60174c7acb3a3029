"""BU retransmission chains (RFC 6275 11.8, 12, 13; seed 3.2.1), expected by hand.

RFC 6275 11.8: "If the mobile node fails to receive a valid matching response
within the selected initial retransmission interval, the mobile node SHOULD
retransmit the message until a response is received."
RFC 6275 11.8: "Retransmitted Binding Updates MUST use a Sequence Number value
greater than that used for the previous transmission of this Binding Update."
Seed 3.2.1: "Mobile nodes continue to retransmit the binding update (increasing
the sequence number for each retransmission) to the home agent until an
acknowledgment is received."
RFC 6275 11.8: "The retransmissions by the mobile node MUST use an exponential
back-off process in which the timeout period is doubled upon each
retransmission, until either the node receives a response or the timeout period
reaches the value MAX_BINDACK_TIMEOUT."  (12: MAX_BINDACK_TIMEOUT 32 s,
INITIAL_BINDACK_TIMEOUT 1 s; 13: InitialBindackTimeoutFirstReg 1.5 s, used
when the node "does not have an existing binding at the home agent".)
"""

from __future__ import annotations

from ipaddress import IPv6Address
from pathlib import Path

import pytest

from . import captures as cap
from .oracle import column, findings, findings_on, mh_checksum_ok, only_node, report, ts, tshark

A = pytest.approx


def _times(path: Path) -> list[float]:
    return [float(t) - cap.T0 for t in column(tshark(path, "frame.time_epoch"),
                                               "frame.time_epoch")]


# --- first registration answered after 4 retransmissions --------------------------------


@pytest.fixture(scope="module")
def backoff(tmp_path_factory) -> Path:
    return cap.first_registration_backoff(tmp_path_factory.mktemp("backoff") / "backoff.pcap")


def test_backoff_capture_is_what_was_built(backoff: Path):
    rows = tshark(backoff, "mip6.mhtype", "mip6.bu.seqnr", "mip6.bu.a_flag", "mip6.bu.h_flag",
                  "mip6.ba.seqnr", "mip6.ba.status", "ipv6.src", "ipv6.opt.mipv6.home_address")
    assert column(rows, "mip6.mhtype") == ["5"] * 5 + ["6", "", "", ""]
    assert column(rows, "mip6.bu.seqnr")[:5] == ["100", "101", "102", "103", "104"]
    assert column(rows, "mip6.ba.seqnr")[5] == "104" and column(rows, "mip6.ba.status")[5] == "0"
    assert all(r["ipv6.opt.mipv6.home_address"] == cap.HOA for r in rows[:5])
    assert all(r["ipv6.src"] == cap.COA1 for r in rows[:5])
    assert _times(backoff) == A([0.0, 1.5, 4.5, 10.5, 22.5, 22.6, 23.0, 23.2, 23.5], abs=1e-6)


def test_backoff_is_one_registration_with_four_retransmissions(backoff: Path):
    node = only_node(report(backoff))
    # 11.8 + seed 3.2.1: the five BUs (seq 100..104, each greater than the last) are one
    # registration attempt retransmitted until the BA (which answers seq 104) came.
    [reg] = node["registrations"]
    assert reg["bu_frames"] == [1, 2, 3, 4, 5]
    assert reg["retransmissions"] == 4
    assert reg["bu_seqs"] == [100, 101, 102, 103, 104]
    assert reg["bu_gaps_ms"] == A([1500.0, 3000.0, 6000.0, 12000.0], abs=0.01)
    assert reg["ba_frame"] == 6 and reg["status"] == 0 and reg["seq"] == 104
    # names.md: latency_ms = answering BA - the chain's first BU (22.6 s - 0 s).
    assert reg["first_bu_ts"] == A(ts(0.0), abs=1e-6)
    assert reg["latency_ms"] == A(22600.0, abs=0.01)
    # 10.3.1 / 11.7.3: the accepted BA creates one binding, for the answered seq.
    assert [(b["care_of"], b["seq"]) for b in node["bindings"]] == [(cap.COA1, 104)]


def test_backoff_following_the_schedule_is_not_a_finding(backoff: Path):
    rep = report(backoff)
    # Gaps 1.5, 3, 6, 12 s: InitialBindackTimeoutFirstReg doubling, exactly 11.8's schedule;
    # sequence numbers all differ, as 11.8 requires.
    assert findings(rep, "bu_retransmission_schedule") == []
    assert findings(rep, "bu_retransmission_reused_sequence") == []
    assert findings(rep, "bu_sequence_not_increasing") == []


# --- a handoff's chain: INITIAL_BINDACK_TIMEOUT (1 s), the binding exists ---------------


@pytest.fixture(scope="module")
def handoff_chain(tmp_path_factory) -> Path:
    return cap.handoff_backoff(tmp_path_factory.mktemp("hchain") / "handoff_chain.pcap")


def test_handoff_chain_capture_is_what_was_built(handoff_chain: Path):
    rows = tshark(handoff_chain, "mip6.mhtype", "mip6.bu.seqnr", "mip6.ba.seqnr", "ipv6.src")
    assert column(rows, "mip6.mhtype") == ["5", "6", "", "", "", "5", "5", "5", "5", "6", "", ""]
    assert column(rows, "mip6.bu.seqnr")[5:9] == ["11", "12", "13", "14"]
    assert column(rows, "mip6.ba.seqnr")[9] == "14"
    assert {rows[i]["ipv6.src"] for i in range(5, 9)} == {cap.COA2}
    assert _times(handoff_chain) == A(
        [0.0, 0.02, 0.5, 0.6, 1.0, 5.0, 6.0, 8.0, 12.0, 12.05, 12.1, 12.2], abs=1e-6)


def test_handoff_is_measured_from_the_chains_first_bu(handoff_chain: Path):
    rep = report(handoff_chain)
    node = only_node(rep)
    [handoff] = node["handoffs"]
    assert (handoff["from_care_of"], handoff["to_care_of"]) == (cap.COA1, cap.COA2)
    # names.md / issue 10 section 1: bu_ts = the chain's first BU, registration_ms =
    # accepting BA - first BU = 12.05 - 5.0 s, bu_retransmissions = chain length - 1.
    assert handoff["bu_ts"] == A(ts(5.0), abs=1e-6)
    assert handoff["ba_ts"] == A(ts(12.05), abs=1e-6)
    assert handoff["registration_ms"] == A(7050.0, abs=0.01)
    assert handoff["bu_retransmissions"] == 3
    assert handoff["bu_frames"] == [6, 7, 8, 9]
    assert handoff["outcome"] == "completed"
    reg = [r for r in node["registrations"] if r["care_of"] == cap.COA2]
    assert len(reg) == 1
    assert reg[0]["bu_seqs"] == [11, 12, 13, 14]
    assert reg[0]["bu_gaps_ms"] == A([1000.0, 2000.0, 4000.0], abs=0.01)
    # 11.8: a binding exists at the home agent, so INITIAL_BINDACK_TIMEOUT (1 s) doubling
    # is the schedule; 1, 2, 4 s follows it.
    assert findings(rep, "bu_retransmission_schedule") == []


# --- a first registration never answered, through MAX_BINDACK_TIMEOUT --------------------


@pytest.fixture(scope="module")
def unanswered(tmp_path_factory) -> Path:
    return cap.first_registration_unanswered(tmp_path_factory.mktemp("unans") / "unanswered.pcap")


def test_unanswered_capture_is_what_was_built(unanswered: Path):
    rows = tshark(unanswered, "mip6.mhtype", "mip6.bu.seqnr", "mip6.bu.h_flag")
    assert column(rows, "mip6.mhtype") == ["5"] * 8
    assert column(rows, "mip6.bu.seqnr") == [str(s) for s in range(200, 208)]
    assert _times(unanswered) == A(list(cap.UNANSWERED_FIRST_REG_OFFSETS), abs=1e-6)


def test_unanswered_chain_is_one_registration_without_a_binding(unanswered: Path):
    rep = report(unanswered)
    node = only_node(rep)
    [reg] = node["registrations"]
    assert reg["bu_frames"] == list(range(1, 9))
    assert reg["retransmissions"] == 7
    assert reg["bu_seqs"] == list(range(200, 208))
    # 1.5 s doubling, then held at MAX_BINDACK_TIMEOUT (32 s): 11.8's schedule exactly.
    assert reg["bu_gaps_ms"] == A([1500.0, 3000.0, 6000.0, 12000.0, 24000.0, 32000.0, 32000.0],
                                  abs=0.01)
    assert reg["ba_frame"] is None and reg["latency_ms"] is None
    assert reg["seq"] == 207       # names.md: no BA, so the chain's last
    assert reg["first_bu_ts"] == A(ts(0.0), abs=1e-6)
    # Issue 10 section 5: no BA accepted, so no binding was ever in force ...
    assert node["bindings"] == []
    # ... but the node still shows the home agent it tried (the peer of its H-flag BUs).
    assert node["home_agent"] == cap.HA
    assert findings(rep, "bu_retransmission_schedule") == []


@pytest.fixture(scope="module")
def unanswered_handoff(tmp_path_factory) -> Path:
    return cap.handoff_unanswered(tmp_path_factory.mktemp("unh") / "unanswered_handoff.pcap")


def test_unanswered_handoff_capture_is_what_was_built(unanswered_handoff: Path):
    rows = tshark(unanswered_handoff, "mip6.mhtype", "mip6.bu.seqnr", "ipv6.src")
    assert column(rows, "mip6.mhtype") == ["5", "6", ""] + ["5"] * 8
    assert column(rows, "mip6.bu.seqnr")[3:] == [str(s) for s in range(21, 29)]
    assert {r["ipv6.src"] for r in rows[3:]} == {cap.COA2}
    assert _times(unanswered_handoff)[3:] == A(list(cap.UNANSWERED_HANDOFF_OFFSETS), abs=1e-6)


def test_unanswered_handoff_outcome_is_no_answer(unanswered_handoff: Path):
    rep = report(unanswered_handoff)
    node = only_node(rep)
    [handoff] = node["handoffs"]
    assert (handoff["from_care_of"], handoff["to_care_of"]) == (cap.COA1, cap.COA2)
    # Issue 10 section 3: "no_answer (the chain ended without a BA)".
    assert handoff["outcome"] == "no_answer"
    assert handoff["bu_frames"] == list(range(4, 12))
    assert handoff["bu_retransmissions"] == 7
    assert handoff["bu_ts"] == A(ts(5.0), abs=1e-6)
    assert handoff["ba_ts"] is None and handoff["registration_ms"] is None
    # The home agent never accepted COA2: the only binding in force is the COA1 one.
    assert [b["care_of"] for b in node["bindings"]] == [cap.COA1]
    # 1 s (a binding exists) doubling, capped at 32 s: on schedule.
    assert findings(rep, "bu_retransmission_schedule") == []


# --- a repeated sequence number ---------------------------------------------------------


@pytest.fixture(scope="module")
def reused(tmp_path_factory) -> Path:
    return cap.reused_sequence(tmp_path_factory.mktemp("reused") / "reused.pcap")


def test_reused_capture_is_what_was_built(reused: Path):
    rows = tshark(reused, "mip6.mhtype", "mip6.bu.seqnr", "mip6.ba.seqnr")
    assert column(rows, "mip6.mhtype") == ["5", "5", "6", ""]
    assert column(rows, "mip6.bu.seqnr")[:2] == ["300", "300"]
    assert _times(reused) == A([0.0, 1.5, 1.6, 2.0], abs=1e-6)


def test_reused_sequence_number_is_a_finding(reused: Path):
    rep = report(reused)
    # 11.8: a retransmission MUST use a greater sequence number; frame 2 repeats 300.
    hits = findings(rep, "bu_retransmission_reused_sequence")
    assert len(hits) == 1
    assert 2 in hits[0]["frames"]
    assert hits[0]["rfc"].startswith("RFC 6275")
    # Still recognised as a retransmission of the same attempt (issue 10 section 1).
    [reg] = only_node(rep)["registrations"]
    assert reg["bu_frames"] == [1, 2] and reg["retransmissions"] == 1
    assert reg["bu_seqs"] == [300, 300]


# --- a schedule that does not back off ---------------------------------------------------


@pytest.fixture(scope="module")
def fast(tmp_path_factory) -> Path:
    return cap.fast_schedule(tmp_path_factory.mktemp("fast") / "fast.pcap")


def test_fast_capture_is_what_was_built(fast: Path):
    rows = tshark(fast, "mip6.mhtype", "mip6.bu.seqnr")
    assert column(rows, "mip6.mhtype") == ["5", "5", "5", "5", "6"]
    assert column(rows, "mip6.bu.seqnr")[:4] == ["400", "401", "402", "403"]
    assert _times(fast) == A([0.0, 0.2, 0.4, 0.6, 0.62], abs=1e-6)


def test_retransmitting_every_200_ms_breaks_the_schedule(fast: Path):
    rep = report(fast)
    # 11.8 + 13: a first registration waits InitialBindackTimeoutFirstReg (1.5 s) and then
    # doubles; 0.2 s gaps are far too early.
    hits = findings(rep, "bu_retransmission_schedule")
    assert len(hits) == 1
    assert set(hits[0]["frames"]) & {2, 3, 4}
    [reg] = only_node(rep)["registrations"]
    assert reg["retransmissions"] == 3 and reg["bu_seqs"] == [400, 401, 402, 403]


# --- a BU with a bad checksum is not a transmission of the chain --------------------------


@pytest.fixture(scope="module")
def bad_checksum(tmp_path_factory) -> Path:
    return cap.bad_checksum_bu(tmp_path_factory.mktemp("badck") / "bad_checksum.pcap")


def test_bad_checksum_capture_is_what_was_built(bad_checksum: Path):
    rows = tshark(bad_checksum, "mip6.mhtype", "mip6.bu.seqnr", "mip6.csum")
    assert column(rows, "mip6.mhtype") == ["5", "5", "6"]
    assert int(rows[0]["mip6.csum"], 16) == cap.BAD_CHECKSUM
    mh = bytes(cap.home_bu(cap.COA1, 10, cksum=cap.BAD_CHECKSUM))[14 + 40 + 24:]
    hoa, coa, ha = (IPv6Address(a).packed for a in (cap.HOA, cap.COA1, cap.HA))
    # wrong in both forms: with the home address and with the care-of address
    assert not mh_checksum_ok(hoa, ha, mh)
    assert not mh_checksum_ok(coa, ha, mh)
    # ... while the good BU (frame 2) verifies with the home address (RFC 6275 6.1.1, 11.3.1)
    good = bytes(cap.home_bu(cap.COA1, 11))[14 + 40 + 24:]
    assert mh_checksum_ok(hoa, ha, good)


def test_bu_with_bad_checksum_is_not_a_retransmission(bad_checksum: Path):
    rep = report(bad_checksum)
    # RFC 6275 9.2: a Mobility Header whose checksum fails is silently discarded by its
    # receiver; issue 10 section 6: a malformed frame feeds no state machine. The
    # registration is frame 2 alone, answered 20 ms later.
    [reg] = only_node(rep)["registrations"]
    assert reg["bu_frames"] == [2]
    assert reg["retransmissions"] == 0
    assert reg["first_bu_ts"] == A(ts(1.5), abs=1e-6)
    assert reg["latency_ms"] == A(20.0, abs=0.01)
    codes = [f["code"] for f in findings_on(rep, 1)]
    assert "bad_mh_checksum" in codes
    assert not [c for c in codes if c.startswith("bu_retransmission")]
