"""`-Y EXPR` on the analysis views: the nodes and rows whose frames match,
and a bad expression as one line with a caret and exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
FLEET = str(SAMPLES / "scenario-fleet.pcap")
RECOVERY = str(SAMPLES / "scenario-recovery.pcap")


def run(*args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result


def as_json(*args: str) -> Any:
    return json.loads(run(*args, "--format", "json").stdout)


def test_mn_keeps_one_node_of_the_fleet() -> None:
    everyone = as_json("summary", FLEET)
    assert len(everyone) >= 2
    hoa = everyone[1]["home_address"]
    kept = as_json("summary", FLEET, "-Y", f"mn == {hoa}")
    assert [r["home_address"] for r in kept] == [hoa]
    assert kept[0] == everyone[1]


def test_mn_in_every_view_keeps_only_that_node() -> None:
    hoa = as_json("summary", FLEET)[0]["home_address"]
    for view in ("bindings", "handoffs", "tunnels", "ro"):
        rows = as_json(view, FLEET, "-Y", f"mn == {hoa}")
        assert rows == as_json(view, FLEET, "--mn", hoa), view
        assert {r.get("node") or r.get("home_address") for r in rows} <= {hoa}, view
    assert as_json("bindings", FLEET, "-Y", f"mn == {hoa}")
    document = as_json("report", FLEET, "-Y", f"mn == {hoa}")
    assert [n["home_address"] for n in document["mobile_nodes"]] == [hoa]


def test_ba_status_keeps_the_rejected_registrations() -> None:
    rows = as_json("bindings", RECOVERY, "--registrations", "-Y", "mip6.ba.status >= 128")
    registrations = [r for r in rows if r["record"] == "registration"]
    assert sorted(r["status"] for r in registrations) == [133, 135]
    everything = as_json("bindings", RECOVERY, "--registrations")
    assert any(r["record"] == "registration" and r["status"] == 0 for r in everything)
    # a rejected registration is not a binding (RFC 6275 6.1.8): no binding row starts on those BAs
    assert [r for r in rows if r["record"] == "binding"] == []


def test_issue_keeps_its_findings() -> None:
    every = as_json("findings", RECOVERY)
    lost = [f for f in every if f["code"] == "lost_to_old_care_of"]
    assert lost
    kept = as_json("findings", RECOVERY, "-Y", "issue == lost_to_old_care_of")
    assert [f for f in kept if f["code"] == "lost_to_old_care_of"] == lost
    lost_frames = {n for f in lost for n in f["frames"]}
    assert all(lost_frames.intersection(f["frames"]) for f in kept)
    assert len(kept) < len(every)


def test_a_filter_matching_nothing_empties_the_views() -> None:
    assert as_json("summary", RECOVERY, "-Y", "frame.number == 0") == []
    assert as_json("findings", RECOVERY, "-Y", "frame.number == 0") == []


def test_stats_follows_the_filter() -> None:
    document = as_json("stats", RECOVERY, "-Y", "mip6.mhtype == 6")
    assert [t["mh_type"] for t in document["mh_types"]] == [6]


@pytest.mark.parametrize("view", ("summary", "bindings", "tunnels", "ro", "handoffs", "findings",
                                  "report", "stats"))
def test_bad_expression_is_one_caret_and_exit_2(view: str) -> None:
    result = run(view, RECOVERY, "-Y", "mip6.mhtype == ", code=2)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("mipv6scope: -Y: ")
    assert lines[1].strip() == "mip6.mhtype ==" and lines[2].strip() == "^"
    assert result.stdout == ""


def test_unknown_node_is_exit_2_with_the_closest() -> None:
    result = run("summary", FLEET, "-Y", "mn == 2001:db8:a000:0:1::9", code=2)
    assert "closest" in result.stderr and "^" in result.stderr


def test_cache_bad_filter_is_exit_2() -> None:
    run("cache", RECOVERY, "--at", "#10", "-Y", "mip6.mhtype ==", code=2)


def _fleet_truth() -> list[dict[str, Any]]:
    return json.loads(Path(f"{FLEET}.truth.json").read_text())["mobile_nodes"]


def _cache(*args: str) -> list[dict[str, Any]]:
    return as_json("cache", FLEET, "--at", "#1400", *args)


def test_cache_filter_keeps_the_entries_of_the_nodes_with_a_matching_frame() -> None:
    truth = {n["name"]: n for n in _fleet_truth()}
    mn3 = truth["mn3"]
    everything = _cache()
    assert {e["home_address"] for e in everything} == {n["home_address"] for n in truth.values()}
    by_coa = _cache("-Y", f"ipv6.addr == {mn3['care_of_addresses'][0]}")
    assert by_coa and {e["home_address"] for e in by_coa} == {mn3["home_address"]}
    assert by_coa == _cache("--mn", mn3["home_address"])
    assert _cache("-Y", f"mn == {mn3['home_address']}") == by_coa
    # mn3 asks 240 s: 60 in the BU's 4-second units (RFC 6275 6.1.7); mn1 60 s, mn2 120 s
    assert mn3["bindings"][0]["requested_lifetime_s"] == 240
    assert _cache("-Y", "mip6.bu.lifetime == 60") == by_coa
    assert _cache("-Y", "mip6.bu.lifetime == 1") == []
