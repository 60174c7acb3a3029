"""The binding timeline (`charts.timeline`): rows, bars and markers checked
against the CLI's own views of the same capture, the trace count at scale,
the size of a 1,000-node figure, determinism and bad input."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from mipv6scope.analysis.engine import analyze
from mipv6scope.charts.options import ChartInputError, ChartOptions
from mipv6scope.charts.timeline import (
    BINDING_Y,
    HANDOFF_Y,
    MAX_TRACES,
    VISIBLE_ROWS,
    timeline_figure,
)
from mipv6scope.report.model import Report
from mipv6scope.synth.run import run_scenario
from mipv6scope.synth.scenarios import ScenarioParams
from tests.charts.figure_data import SCENARIOS, arr, cli_rows, report_of


def figure(name: str, **options: Any) -> dict[str, Any]:
    return timeline_figure(report_of(name), ChartOptions(kind="timeline", **options)).to_dict()


def rows_of(fig: dict[str, Any]) -> list[str]:
    return list(fig["layout"]["yaxis"]["ticktext"])


def bars(fig: dict[str, Any], group: str) -> list[tuple[str, int, float, float]]:
    """(trace name, row, start s, end s) of every bar of a legend group."""
    out = []
    for trace in fig["data"]:
        if trace["type"] == "bar" and trace["legendgroup"] == group:
            base = arr(trace["base"]).astype(np.float64)
            length = arr(trace["x"]).astype(np.float64)
            for b, x, y in zip(base, length, arr(trace["y"]), strict=True):
                out.append((trace["name"], int(round(float(y))), b / 1000, (b + x) / 1000))
    return out


def markers(fig: dict[str, Any], prefix: str, offset: float) -> list[tuple[str, int, float]]:
    """(trace name, row, ts) of the markers of traces named ``prefix...``."""
    return [(t["name"], int(round(float(y) - offset)), float(x) / 1000)
            for t in fig["data"] if t["type"] == "scatter" and t["name"].startswith(prefix)
            for x, y in zip(arr(t["x"]), arr(t["y"]), strict=True)]


def label(row: dict[str, Any]) -> str:
    return row["node_name"] or row["node"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_one_row_per_node_in_first_activity_order(name: str) -> None:
    first: dict[str, float] = {}

    def seen(node: str, ts: float | None) -> None:
        if ts is not None:
            first[node] = min(ts, first.get(node, ts))

    for r in cli_rows("bindings", name, "--registrations"):
        seen(label(r), r.get("start_ts") if r.get("start_ts") is not None else r.get("end_ts"))
        seen(label(r), r.get("first_bu_ts"))
    for r in cli_rows("handoffs", name):
        for key in ("movement_ts", "bu_ts", "ba_ts", "first_data_ts"):
            seen(label(r), r[key])
    for r in cli_rows("ro", name):
        for t in r["transitions"]:
            seen(label(r), t["ts"])
    for r in cli_rows("tunnels", name):
        seen(r["node_name"] or r["home_address"], r["start_ts"])
    nodes = [n.name or str(n.home_address) for n in report_of(name).mobile_nodes]
    expected = sorted(nodes, key=lambda n: (n not in first, first.get(n, 0.0), nodes.index(n)))
    assert rows_of(figure(name)) == expected


@pytest.mark.parametrize("name", SCENARIOS)
def test_binding_bars_are_the_home_bindings(name: str) -> None:
    fig = figure(name)
    rows = rows_of(fig)
    last = report_of(name).capture.last_ts
    want = sorted((label(r), round(r["start_ts"], 3), round(r["end_ts"] if r["end_ts"] is not None else last, 3))
                  for r in cli_rows("bindings", name)
                  if r["kind"] == "home" and r["start_ts"] is not None)
    got = sorted((rows[row], round(s, 3), round(e, 3)) for trace, row, s, e
                 in bars(fig, "binding with home agent") if trace != "at home")
    assert len(got) == len(want) and [g[0] for g in got] == [w[0] for w in want]
    assert np.allclose([g[1:] for g in got], [w[1:] for w in want], atol=1.5e-3)


@pytest.mark.parametrize("name", SCENARIOS)
def test_route_optimisation_bars_are_the_transitions(name: str) -> None:
    fig = figure(name)
    rows = rows_of(fig)
    last = report_of(name).capture.last_ts
    want = []
    for r in cli_rows("ro", name):
        ts = [t["ts"] for t in r["transitions"]]
        for t, end in zip(r["transitions"], ts[1:] + [last], strict=True):
            want.append((label(r), t["state"], round(t["ts"], 3), round(end, 3)))
    got = [(rows[row], state, round(s, 3), round(e, 3)) for state, row, s, e in bars(fig, "route optimisation")]
    assert sorted(g[:2] for g in got) == sorted(w[:2] for w in want)
    assert np.allclose(sorted(g[2:] for g in got), sorted(w[2:] for w in want), atol=1.5e-3)
    if name == "scenario-route-optimization":
        assert {g[1] for g in got} >= {"tunnelled", "rr_started", "ro_active", "fallback"}


@pytest.mark.parametrize("name", SCENARIOS)
def test_handoff_and_finding_markers_per_node(name: str) -> None:
    fig = figure(name)
    rows = rows_of(fig)
    handoffs = markers(fig, "handoff", HANDOFF_Y)
    assert Counter(rows[r] for _n, r, _t in handoffs) == Counter(label(r) for r in cli_rows("handoffs", name))
    accepted = sorted(round(r["ba_ts"], 3) for r in cli_rows("handoffs", name) if r["ba_ts"] is not None)
    assert sorted(round(t, 3) for n, _r, t in handoffs if n.startswith("handoff (at BA)")) == accepted
    names = {str(n.home_address): n.name or str(n.home_address) for n in report_of(name).mobile_nodes}
    found = markers(fig, "finding", BINDING_Y)
    want = Counter((names[r["node"]], r["severity"], round(r["ts"], 3)) for r in cli_rows("findings", name))
    assert Counter((rows[r], n.split(": ")[1], round(t, 3)) for n, r, t in found) == want
    codes = sorted(c[0] for t in fig["data"] if t["name"].startswith("finding") for c in t["customdata"])
    assert codes == sorted(r["code"] for r in cli_rows("findings", name))


def test_window_clips_bars_and_drops_markers_outside() -> None:
    report = report_of("scenario-handoff")
    start, end = report.capture.first_ts + 60, report.capture.first_ts + 100
    fig = figure("scenario-handoff", from_ts=start, to_ts=end)
    spans = bars(fig, "binding with home agent")
    assert spans and all(start - 1e-3 <= s <= e <= end + 1e-3 for _n, _r, s, e in spans)
    assert all(start <= t <= end for _n, _r, t in markers(fig, "handoff", HANDOFF_Y))
    assert len(markers(fig, "handoff", HANDOFF_Y)) == 1


def test_unknown_mn_is_a_chart_input_error() -> None:
    with pytest.raises(ChartInputError, match="2001:db8::dead"):
        timeline_figure(report_of("scenario-handoff"), ChartOptions(kind="timeline", mn=("2001:db8::dead",)))
    fig = figure("scenario-fleet", mn=("2001:db8:a000:0:1::2",))
    assert rows_of(fig) == ["2001:db8:a000:0:1::2"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_same_input_same_json(name: str) -> None:
    options = ChartOptions(kind="timeline")
    assert timeline_figure(report_of(name), options).to_json() == timeline_figure(report_of(name), options).to_json()


@pytest.fixture(scope="module")
def fleet_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    out = tmp_path_factory.mktemp("fleet") / "fleet1000.pcap"
    params = ScenarioParams(seed=1, mobile_nodes=1000, home_agents=2, correspondents=3, duration=20.0,
                            handoff_rate=1 / 8, loss=0.0, ro_share=0.5, data_rate=0.5)
    run_scenario("fleet", params, out)
    return analyze([str(out)])


def test_thousand_nodes_one_trace_per_category_and_lean(fleet_report: Report) -> None:
    small = figure("scenario-fleet")
    fig = timeline_figure(fleet_report, ChartOptions(kind="timeline"))
    text = fig.to_json()
    assert len(fleet_report.mobile_nodes) == 1000
    assert len(rows_of(fig.to_dict())) == 1000
    assert len(small["data"]) <= MAX_TRACES and len(fig.data) <= MAX_TRACES
    assert len(text) < 5_000_000
    bindings = sum(1 for n in fleet_report.mobile_nodes for b in n.bindings
                   if b.kind == "home" and b.start_ts is not None)
    assert len(bars(fig.to_dict(), "binding with home agent")) - sum(
        1 for name, *_ in bars(fig.to_dict(), "binding with home agent") if name == "at home") == bindings
    layout = fig.to_dict()["layout"]
    assert layout["yaxis"]["range"] == [VISIBLE_ROWS - 0.5, -0.5] and layout["dragmode"] == "pan"
    assert layout["height"] < 1200
