"""The overview (`charts.overview`): series totals kept on the common grid,
signalling, handoffs and findings counted exactly, determinism, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mipv6scope.charts.options import ChartInputError, ChartOptions
from mipv6scope.charts.overview import GRID_BINS, overview_figure, spread
from mipv6scope.report.model import TrafficSeries
from tests.charts.figure_data import SCENARIOS, arr, cli_rows, report_of


def totals(fig: dict[str, Any], group: str) -> dict[str, float]:
    """Trace name -> sum of y * bin width (s) over the bars of a legend group."""
    return {t["name"]: float(arr(t["y"]).astype(np.float64).sum()) * t["width"] / 1000.0
            for t in fig["data"] if t["legendgroup"] == group}


def counts(fig: dict[str, Any], group: str) -> dict[str, float]:
    return {t["name"]: float(arr(t["y"]).sum()) for t in fig["data"] if t["legendgroup"] == group}


@pytest.mark.parametrize("name", SCENARIOS)
def test_series_totals_are_the_reports(name: str) -> None:
    report = report_of(name)
    fig = overview_figure(report, ChartOptions(kind="overview")).to_dict()
    data = totals(fig, "data")
    assert all(len(arr(t["y"])) == GRID_BINS for t in fig["data"] if t["legendgroup"] == "data")
    to_mn = sum(r["to_mn_packets"] for r in cli_rows("tunnels", name))
    from_mn = sum(r["from_mn_packets"] for r in cli_rows("tunnels", name))
    assert data.get("tunnelled to MN", 0.0) == pytest.approx(to_mn, abs=1e-6)
    assert data.get("tunnelled from MN", 0.0) == pytest.approx(from_mn, abs=1e-6)
    assert to_mn == sum(sum(t.to_mn_series.counts) for t in report.tunnels if t.to_mn_series)
    direct = sum(sum(ro.direct_series.counts) for n in report.mobile_nodes for ro in n.route_optimization
                 if ro.direct_series)
    assert data.get("route-optimised (direct)", 0.0) == pytest.approx(direct, abs=1e-6)
    assert sum(totals(fig, "signalling").values()) == pytest.approx(len(report.signalling), abs=1e-6)
    assert sum(counts(fig, "handoffs").values()) == len(cli_rows("handoffs", name))
    assert sum(counts(fig, "findings").values()) == len(cli_rows("findings", name))
    if name == "scenario-route-optimization":
        assert direct > 0 and "return routability (HoTI, CoTI, HoT, CoT)" in totals(fig, "signalling")


def test_spread_keeps_totals_whatever_the_widths() -> None:
    edges = np.linspace(100.0, 110.0, 11)
    series = [TrafficSeries(100.0, 0.05, (1, 0, 3, 7)),          # fine bins
              TrafficSeries(101.3, 3.7, (5, 0, 9)),              # wide bins, the last past the end
              TrafficSeries(110.0, 2.0, (4,))]                   # a bin starting at the very end
    packets = spread(series, edges, (100.0, 110.0))
    assert packets.sum() == pytest.approx(1 + 3 + 7 + 5 + 9 + 4)
    assert packets[0] == pytest.approx(11)                        # all of the 50 ms bins
    assert packets[1] == pytest.approx(5 * 0.7 / 3.7)             # the 3.7 s bin's overlap share
    assert packets[-1] >= 4                                       # the end instant counts in the last bin


def test_mn_selection_counts_only_that_node() -> None:
    report = report_of("scenario-fleet")
    node = report.mobile_nodes[0]
    fig = overview_figure(report, ChartOptions(kind="overview", mn=(str(node.home_address),))).to_dict()
    mine = [t for t in report.tunnels if t.home_address == node.home_address]
    assert totals(fig, "data").get("tunnelled to MN", 0.0) == pytest.approx(sum(t.to_mn.packets for t in mine))
    assert sum(totals(fig, "signalling").values()) == pytest.approx(len(report.signalling_of(node)))


def test_determinism_options_and_bad_input() -> None:
    report = report_of("scenario-handoff")
    options = ChartOptions(kind="overview", width=1000, height=600)
    fig = overview_figure(report, options)
    assert fig.to_json() == overview_figure(report, options).to_json()
    assert fig.layout.width == 1000 and fig.layout.height == 600
    assert "scenario-handoff.pcap" in fig.layout.title.text
    with pytest.raises(ChartInputError):
        overview_figure(report, ChartOptions(kind="overview", mn=("2001:db8::dead",)))
    with pytest.raises(ChartInputError):
        overview_figure(report, ChartOptions(kind="overview", from_ts=1.0, to_ts=2.0))
