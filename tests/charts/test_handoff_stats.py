"""Handoff statistics (`charts.handoff_stats`): the plotted values are the
`handoffs` view's, the ECDFs reach 1, failed handoffs are counted apart."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from mipv6scope.charts.handoff_stats import METRICS, handoff_stats_figure
from mipv6scope.charts.options import ChartInputError, ChartOptions
from tests.charts.figure_data import SCENARIOS, arr, cli_rows, report_of


def traces(fig: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in fig["data"] if t["type"] == kind}


@pytest.mark.parametrize("name", SCENARIOS)
def test_plotted_values_are_the_handoffs_view(name: str) -> None:
    fig = handoff_stats_figure(report_of(name), ChartOptions(kind="handoffs")).to_dict()
    rows = [r for r in cli_rows("handoffs", name) if r["registration_ms"] is not None]
    ecdfs, boxes = traces(fig, "scatter"), traces(fig, "box")
    for attribute, title, _axis, _colour in METRICS:
        want = sorted(r[attribute] for r in rows if r[attribute] is not None)
        if not want:
            assert title not in ecdfs and title not in boxes
            continue
        assert arr(ecdfs[title]["x"]).tolist() == want  # exactly, not rounded
        assert sorted(arr(boxes[title]["y"]).tolist()) == want
        y = arr(ecdfs[title]["y"])
        assert y[-1] == 1.0 and np.all(np.diff(y) > 0) and len(y) == len(want)
    assert fig["layout"]["meta"]["plotted"] == len(rows)


def test_hover_names_node_and_bu_frame() -> None:
    fig = handoff_stats_figure(report_of("scenario-handoff"), ChartOptions(kind="handoffs")).to_dict()
    registrations = {round(r["first_bu_ts"], 6): r["bu_frames"][0]
                     for r in cli_rows("bindings", "scenario-handoff", "--registrations")
                     if r["record"] == "registration"}
    handoffs = sorted(cli_rows("handoffs", "scenario-handoff"), key=lambda r: r["registration_ms"])
    ecdf = traces(fig, "scatter")["registration time"]
    frames = [c[1] for c in ecdf["customdata"]]
    assert frames == [registrations[round(r["bu_ts"], 6)] for r in handoffs]
    assert {c[0] for c in ecdf["customdata"]} == {"2001:db8:1::100"}


def test_recovery_rejection_is_a_failed_handoff() -> None:
    # recovery's BU to ha2 is answered 133 (RFC 6275 11.7.3: the attempt is rejected) and
    # retried with ha1: a rejected handoff, then a completed one (the old rule folded the
    # rejection into the completed handoff)
    fig = handoff_stats_figure(report_of("scenario-recovery"), ChartOptions(kind="handoffs")).to_dict()
    assert [r["outcome"] for r in cli_rows("handoffs", "scenario-recovery")] == ["rejected", "completed"]
    assert fig["layout"]["meta"]["failed"] == 1 and fig["layout"]["meta"]["plotted"] == 1
    assert "failed: 1 rejected" in fig["layout"]["annotations"][-1]["text"]


def test_failed_handoffs_are_counted_not_plotted() -> None:
    report = report_of("scenario-handoff")
    node = report.mobile_nodes[0]
    failed = dataclasses.replace(node.handoffs[1], ba_ts=None, registration_ms=None, disruption_ms=None)
    broken = dataclasses.replace(report, mobile_nodes=(
        dataclasses.replace(node, handoffs=(node.handoffs[0], failed, node.handoffs[2])),))
    fig = handoff_stats_figure(broken, ChartOptions(kind="handoffs")).to_dict()
    assert "1 handoff without an accepting BA, not plotted" in fig["layout"]["annotations"][-1]["text"]
    assert fig["layout"]["meta"]["failed"] == 1 and fig["layout"]["meta"]["plotted"] == 2
    lost = arr(traces(fig, "scatter")["packets lost"]["x"]).tolist()
    assert lost == sorted([node.handoffs[0].lost_to_old_care_of, node.handoffs[2].lost_to_old_care_of])


def test_mn_selection_determinism_and_bad_input() -> None:
    report = report_of("scenario-fleet")
    one = handoff_stats_figure(report, ChartOptions(kind="handoffs", mn=("2001:db8:a000:0:1::3",)))
    assert one.to_dict()["layout"]["meta"]["handoffs"] == len(report.mobile_nodes[2].handoffs)
    options = ChartOptions(kind="handoffs", title="T", width=900, height=500)
    fig = handoff_stats_figure(report, options)
    assert fig.to_json() == handoff_stats_figure(report, options).to_json()
    assert fig.layout.title.text == "T" and fig.layout.width == 900 and fig.layout.height == 500
    with pytest.raises(ChartInputError):
        handoff_stats_figure(report, ChartOptions(kind="handoffs", mn=("nobody",)))
