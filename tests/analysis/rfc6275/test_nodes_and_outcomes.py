"""A node with two home addresses at two home agents, and a rejected handoff
followed by an accepted one, expected by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import captures as cap
from .oracle import column, findings, findings_on, only_node, report, ts, tshark

A = pytest.approx


# --- two home addresses, two home agents --------------------------------------------------


@pytest.fixture(scope="module")
def two_has(tmp_path_factory) -> Path:
    return cap.two_home_agents(tmp_path_factory.mktemp("twoha") / "two_has.pcap")


def test_two_has_capture_is_what_was_built(two_has: Path):
    rows = tshark(two_has, "mip6.mhtype", "ipv6.src", "ipv6.dst", "ipv6.opt.mipv6.home_address",
                  "ipv6.routing.mipv6.home_address", "mip6.ba.status")
    assert column(rows, "mip6.mhtype") == ["5", "6", "5", "6", "", "", "", ""]
    assert [(r["ipv6.dst"], r["ipv6.opt.mipv6.home_address"]) for r in (rows[0], rows[2])] == [
        (cap.HA, cap.HOA), (cap.HA_B, cap.HOA_B)]
    assert [(r["ipv6.src"], r["ipv6.routing.mipv6.home_address"]) for r in (rows[1], rows[3])] == [
        (cap.HA, cap.HOA), (cap.HA_B, cap.HOA_B)]
    assert {r["ipv6.src"] for r in rows[:4] if r["mip6.mhtype"] == "5"} == {cap.COA1}
    assert [rows[n]["ipv6.dst"] for n in range(4, 8)] == [
        f"{cap.COA1},{cap.HOA}", f"{cap.COA1},{cap.HOA_B}", f"{cap.HA},{cap.CN}",
        f"{cap.HA_B},{cap.CN}"]


def test_each_home_address_keeps_its_own_home_agent(two_has: Path):
    rep = report(two_has)
    # Seed 3.2.9 / RFC 6275 11.5.1 (issue 10 section 4): one node, several home
    # addresses, "a binding update for each home address to the corresponding home agent".
    node = only_node(rep)
    assert sorted(node["home_addresses"]) == sorted([cap.HOA, cap.HOA_B])
    assert node["home_agents"] == {cap.HOA: cap.HA, cap.HOA_B: cap.HA_B}
    # names.md: home_agent is the primary home address's home agent, never another's.
    assert node["home_agent"] == node["home_agents"][node["home_address"]]
    assert sorted(rep["home_agents"]) == sorted([cap.HA, cap.HA_B])
    assert sorted((b["home_address"], b["peer"], b["care_of"]) for b in node["bindings"]) == sorted(
        [(cap.HOA, cap.HA, cap.COA1), (cap.HOA_B, cap.HA_B, cap.COA1)])


# --- rejected handoff, then an accepted one -------------------------------------------------


@pytest.fixture(scope="module")
def rejected(tmp_path_factory) -> Path:
    return cap.rejected_then_completed(tmp_path_factory.mktemp("rej") / "rejected.pcap")


def test_rejected_capture_is_what_was_built(rejected: Path):
    rows = tshark(rejected, "frame.time_epoch", "mip6.mhtype", "mip6.bu.seqnr", "mip6.ba.seqnr",
                  "mip6.ba.status", "ipv6.src")
    assert column(rows, "mip6.mhtype") == ["5", "6", "", "", "5", "6", "5", "6", "", ""]
    assert [column(rows, "mip6.bu.seqnr")[i] for i in (0, 4, 6)] == ["1", "2", "3"]
    assert [column(rows, "mip6.ba.status")[i] for i in (1, 5, 7)] == ["0", "129", "0"]
    assert [rows[i]["ipv6.src"] for i in (0, 4, 6)] == [cap.COA1, cap.COA2, cap.COA2]
    assert [round(float(r["frame.time_epoch"]) - cap.T0, 6) for r in rows] == [
        0.0, 0.02, 1.0, 1.1, 10.0, 10.02, 12.0, 12.02, 12.5, 12.6]


def test_rejected_handoff_then_completed_one(rejected: Path):
    rep = report(rejected)
    node = only_node(rep)
    # RFC 6275 6.1.8: status values of 128 and above mean the BU was rejected; issue 10
    # section 3: a failed handoff stays in handoffs with its outcome, status and BU chain.
    handoffs = node["handoffs"]
    assert [(h["to_care_of"], h["outcome"]) for h in handoffs] == [
        (cap.COA2, "rejected"), (cap.COA2, "completed")]
    first, second = handoffs
    assert first["from_care_of"] == cap.COA1
    assert first["status"] == cap.REJECT_STATUS
    assert "prohibited" in first["status_name"].lower()      # 129: administratively prohibited
    assert first["bu_frames"] == [5]
    assert first["bu_ts"] == A(ts(10.0), abs=1e-6)
    assert second["bu_frames"] == [7]
    assert second["bu_ts"] == A(ts(12.0), abs=1e-6)
    assert second["ba_ts"] == A(ts(12.02), abs=1e-6)
    assert second["registration_ms"] == A(20.0, abs=0.01)
    assert second["status_name"] is None                     # names.md: else null


def test_rejection_is_an_attempt_not_a_binding(rejected: Path):
    node = only_node(report(rejected))
    # Issue 10 section 5: "bindings lists intervals in which a binding was in force;
    # rejected attempts are in registrations".
    assert [(r["seq"], r["status"]) for r in node["registrations"]] == [
        (1, 0), (2, cap.REJECT_STATUS), (3, 0)]
    assert [(b["care_of"], b["seq"]) for b in node["bindings"]] == [(cap.COA1, 1), (cap.COA2, 3)]
    # RFC 6275 10.3.1: a rejected BU leaves the cache entry alone, so the COA1 binding
    # stays in force until the BA of seq 3 (12.02 s) replaces it.
    assert node["bindings"][0]["end_ts"] == A(ts(12.02), abs=1e-6)


def test_one_rejection_gives_one_finding(rejected: Path):
    rep = report(rejected)
    # Issue 10 section 6: "a rejected BU is one finding (with the status), not three".
    hits = findings_on(rep, 5, 6)
    assert len(hits) == 1, [h["code"] for h in hits]
    assert "129" in hits[0]["message"]


# --- a binding that expires -------------------------------------------------------------------


@pytest.fixture(scope="module")
def expiring(tmp_path_factory) -> Path:
    return cap.binding_expires(tmp_path_factory.mktemp("exp") / "expiring.pcap")


def test_expiring_capture_is_what_was_built(expiring: Path):
    rows = tshark(expiring, "frame.time_epoch", "mip6.mhtype", "mip6.bu.lifetime",
                  "mip6.ba.lifetime")
    assert column(rows, "mip6.mhtype") == ["5", "6", "", "", "", ""]
    # tshark shows the lifetime field in 4-second units (RFC 6275 6.1.7)
    assert (rows[0]["mip6.bu.lifetime"], rows[1]["mip6.ba.lifetime"]) == ("5", "5")
    assert [round(float(r["frame.time_epoch"]) - cap.T0, 6) for r in rows] == [
        0.0, 0.02, 5.0, 10.0, 30.0, 40.0]


def test_expiry_finding_carries_the_time_the_binding_expired(expiring: Path):
    rep = report(expiring)
    # RFC 6275 6.1.8 / 11.7.3: the BA's lifetime (5 x 4 s = 20 s) is how long the binding
    # lasts; nothing refreshes it, so it expires about 20 s after the registration (20.00 s
    # counted from the BU, 20.02 s from the BA), not at the BA (issue 10 section 6).
    [hit] = findings(rep, "binding_expired_without_refresh")
    assert hit["ts"] == A(ts(20.0), abs=0.05)


# --- nodes never accepted ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def unaccepted(tmp_path_factory) -> Path:
    return cap.never_accepted(tmp_path_factory.mktemp("unacc") / "unaccepted.pcap")


def test_unaccepted_capture_is_what_was_built(unaccepted: Path):
    rows = tshark(unaccepted, "mip6.mhtype", "mip6.ba.status", "ipv6.dst",
                  "ipv6.opt.mipv6.home_address")
    assert column(rows, "mip6.mhtype") == ["5", "5", "6", "5"]
    assert rows[2]["mip6.ba.status"] == "133"
    assert [(rows[i]["ipv6.dst"], rows[i]["ipv6.opt.mipv6.home_address"]) for i in (0, 1, 3)] == [
        (cap.HA, cap.HOA), (cap.HA_B, cap.HOA_B), (cap.HA, cap.HOA)]


def test_unaccepted_node_shows_the_home_agent_it_tried_unless_133(unaccepted: Path):
    nodes = {n["home_address"]: n for n in report(unaccepted)["mobile_nodes"]}
    assert set(nodes) == {cap.HOA, cap.HOA_B}
    # Issue 10 section 5: never accepted, the node still shows the peer of its H-flag BUs ...
    assert nodes[cap.HOA]["home_agent"] == cap.HA
    assert nodes[cap.HOA]["bindings"] == []
    # ... unless that peer answered 133, "Not home agent for this mobile node" (RFC 6275 6.1.8).
    assert nodes[cap.HOA_B]["home_agent"] is None
    assert nodes[cap.HOA_B]["bindings"] == []
