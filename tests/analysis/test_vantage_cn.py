"""The correspondent's vantage of the handoff scenario: the probe at the CN sees
only plain traffic between the CN and the home address (through the home
agent, no route optimisation), so nothing on its wire says that the home
address is a mobile node. The truth file says so by leaving every time and
frame null and every tunnel count 0; the report must not guess either."""

from __future__ import annotations

import json
from pathlib import Path

from mipv6scope.analysis.engine import analyze

SAMPLE = Path(__file__).resolve().parents[2] / "sample_captures" / "scenario-handoff-vantage-cn.pcap"


def _truth() -> dict:
    return json.loads(SAMPLE.with_name(SAMPLE.name + ".truth.json").read_text())


def test_truth_shows_nothing_the_cn_could_see():
    truth = _truth()
    assert truth["vantage"] == "cn"
    for mn in truth["mobile_nodes"]:
        for b in mn["bindings"]:
            assert (b["start_ts"], b["end_ts"], b["start_frame"], b["ba_frame"], b["bu_frames"]) == (
                None, None, None, None, [])
        for h in mn["handoffs"]:
            assert (h["movement_ts"], h["bu_ts"], h["ba_ts"]) == (None,) * 3
            assert h["lost_to_old_care_of"] == 0
            if h["to_care_of"] != mn["home_address"]:
                assert h["first_data_ts"] is None
            # Returning home, the first data is the CN's own packet to the home
            # address: on this wire, but with no BA seen nothing marks it as a handoff.
        assert mn["route_optimization"] == []
    for t in truth["tunnels"]:
        assert t["to_mn"]["packets"] == t["from_mn"]["packets"] == t["outside_binding"]["packets"] == 0
    assert all(f["frames"] == [] for f in truth["findings"])  # none on a frame this probe saw


def test_report_guesses_nothing():
    report = analyze([SAMPLE])
    info = report.capture
    assert info.frames == _truth()["frames"] == info.decoded  # every frame read, none malformed
    assert report.mobile_nodes == () and report.tunnels == () and report.findings == ()
    assert report.home_agents == () and report.correspondents == ()
